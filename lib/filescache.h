/*
 * filescache.h: the local files cache, which lets a backup skip reading a
 * file whose path, inode, size, mtime and ctime have not changed since the
 * last backup, reusing its chunk ids.
 *
 * It lives on the practice's machine (cache directory), one SQLite database
 * per repository.  Paths are not stored: the key is BLAKE2b-256 of the path
 * keyed by a key derived from the id key, so the cache holds no file name.
 * A whole backup is one transaction, committed only after its snapshot is
 * stored, so the cache never names chunks that a killed backup did not
 * index.  Entries unused for CF_FILESCACHE_TTL backups are dropped.
 */
#ifndef COFFRE_FILESCACHE_H
#define COFFRE_FILESCACHE_H

#include <stdint.h>
#include <sys/stat.h>

#include "crypto.h"
#include "error.h"
#include "keys.h"

#define CF_FILESCACHE_TTL 20

struct cf_filescache;

/*
 * cf_filescache_open(dir, keys, out): open (creating) the cache of this
 * repository under ${dir}, and begin a transaction.  A damaged cache is
 * deleted and recreated: it only saves time.
 */
cf_status cf_filescache_open(const char *dir, const struct cf_keys *keys,
    struct cf_filescache **out);

/*
 * cf_filescache_lookup(fc, path, st, chunks, n): 1 when ${path} is cached
 * with the same metadata as ${st} (*chunks malloc'ed, caller frees), 2 when
 * it is cached but changed, 0 when not cached.
 */
int cf_filescache_lookup(struct cf_filescache *fc, const char *path,
    const struct stat *st, uint8_t (**chunks)[CF_HASH_BYTES], uint32_t *n);

/* cf_filescache_put(fc, path, st, chunks, n): record a file's chunk ids. */
cf_status cf_filescache_put(struct cf_filescache *fc, const char *path,
    const struct stat *st, const uint8_t (*chunks)[CF_HASH_BYTES], uint32_t n);

/* cf_filescache_commit(fc): expire old entries and commit. */
cf_status cf_filescache_commit(struct cf_filescache *fc);

/* cf_filescache_close(fc): roll back if not committed; NULL is a no-op. */
void cf_filescache_close(struct cf_filescache *fc);

#endif
