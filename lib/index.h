/*
 * index.h: the map from blob id to where the blob is stored, in memory and
 * in index files.
 *
 * Index file, version 1:
 *   0   8   magic "COFFREIX"
 *   8   1   version = 1
 *   9   7   reserved, zero
 *   16  ... nonce(24) || XChaCha20-Poly1305(index key, ad = bytes [0,16),
 *           plaintext) || tag(16)
 *   plaintext = npacks(u32), then per pack: pack id(32) count(u32) and
 *   count entries of type(1) id(32) offset(u32) length(u32) raw_length(u32).
 * Object name: "index/" + hex(SHA-256 of the whole file).
 * The index key is held by every member, write-only ones included, so that
 * writers deduplicate; it reveals ids and sizes, never content.
 *
 * In memory: an open-addressing hash table keyed by blob id, about 48 bytes
 * per blob, plus 32 bytes per pack.  When an id appears twice, the first
 * location is kept.
 */
#ifndef COFFRE_INDEX_H
#define COFFRE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"
#include "pack.h"

/* Bound on what one index file may declare (allocation limit). */
#define CF_INDEX_FILE_MAX (512u * 1024 * 1024)

struct cf_index_loc {
	uint32_t pack;          /* pack number inside this cf_index */
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
	uint8_t type;
};

struct cf_index;

cf_status cf_index_new(struct cf_index **out);
void cf_index_free(struct cf_index *idx);

/*
 * cf_index_add_pack(idx, pack_id, pack_no): register a pack (or find it if
 * already registered) and give its number.
 */
cf_status cf_index_add_pack(struct cf_index *idx,
    const uint8_t pack_id[CF_HASH_BYTES], uint32_t *pack_no);

/* cf_index_add(idx, pack_no, e): record blob ${e} in pack ${pack_no}. */
cf_status cf_index_add(struct cf_index *idx, uint32_t pack_no,
    const struct cf_pack_entry *e);

/* cf_index_lookup(idx, id, loc): 1 and *loc if known, else 0. */
int cf_index_lookup(const struct cf_index *idx, const uint8_t id[CF_HASH_BYTES],
    struct cf_index_loc *loc);

/* cf_index_pack_id(idx, pack_no): the 32-byte id of pack ${pack_no}. */
const uint8_t *cf_index_pack_id(const struct cf_index *idx, uint32_t pack_no);

/* cf_index_find_pack(idx, pack_id, pack_no): 1 and *pack_no if known. */
int cf_index_find_pack(const struct cf_index *idx,
    const uint8_t pack_id[CF_HASH_BYTES], uint32_t *pack_no);

size_t cf_index_pack_count(const struct cf_index *idx);
size_t cf_index_blob_count(const struct cf_index *idx);

/*
 * cf_index_foreach(idx, fn, arg): call fn for every blob; a non-CF_OK
 * return stops the walk and is returned.
 */
typedef cf_status (*cf_index_fn)(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc);
cf_status cf_index_foreach(const struct cf_index *idx, cf_index_fn fn,
    void *arg);

/*
 * cf_index_file_decode(key, p, n, into): authenticate an index file and add
 * its packs and blobs to ${into}.  CF_ERR_CORRUPT, CF_ERR_VERSION; on error
 * ${into} may hold part of the file's entries.
 */
cf_status cf_index_file_decode(const uint8_t key[CF_KEY_BYTES],
    const uint8_t *p, size_t n, struct cf_index *into);

/* One pack's worth of entries, for writing an index file. */
struct cf_index_pack {
	uint8_t id[CF_HASH_BYTES];
	const struct cf_pack_entry *entries;
	size_t count;
};

/*
 * cf_index_file_encode(key, packs, npacks, out): the index file for these
 * packs, appended to ${out}.
 */
cf_status cf_index_file_encode(const uint8_t key[CF_KEY_BYTES],
    const struct cf_index_pack *packs, size_t npacks, struct cf_buf *out);

/*
 * cf_index_file_encode_filtered(key, idx, keep, arg, out): an index file of
 * every blob of ${idx} whose pack passes keep(arg, pack_no) (prune uses it).
 */
typedef int (*cf_index_keep_fn)(void *arg, uint32_t pack_no);
cf_status cf_index_file_encode_filtered(const uint8_t key[CF_KEY_BYTES],
    const struct cf_index *idx, cf_index_keep_fn keep, void *arg,
    struct cf_buf *out);

#endif
