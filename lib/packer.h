/*
 * packer.h: turns blobs into stored packs, on worker threads.
 *
 * The caller (backup, prune) decides which blobs are new; the packer
 * compresses and encrypts them into packs, stores each pack, and then the
 * index file naming its blobs, so a pack is findable as soon as it is
 * durable.  With N worker threads, each worker fills a pack of its own and
 * cf_packer_add hands blobs over through a queue bounded by a fixed pool of
 * buffers, so memory does not grow with the data.  With 0 threads the same
 * work happens inline, in the caller's thread (the sequential reference).
 */
#ifndef COFFRE_PACKER_H
#define COFFRE_PACKER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "pack.h"

struct cf_repo;
struct cf_packer;

/*
 * Called once per stored pack, with the packer's lock held (so calls never
 * overlap), from whichever thread stored it.
 */
typedef cf_status (*cf_packer_pack_fn)(void *arg,
    const uint8_t pack_id[CF_HASH_BYTES], const struct cf_pack_entry *entries,
    size_t count);

/*
 * cf_packer_new(r, threads, index_files, on_pack, arg, out): a packer for
 * ${r}.  ${index_files}: store an index file after each pack (backup) or
 * not (prune writes one index of its own).  ${on_pack} may be NULL.
 */
cf_status cf_packer_new(struct cf_repo *r, unsigned threads, int index_files,
    cf_packer_pack_fn on_pack, void *arg, struct cf_packer **out);

/*
 * cf_packer_add(p, type, id, data, n): pack a copy of the blob; may block
 * until a buffer is free.  Returns the first error any worker met (message
 * included): the caller stops and calls cf_packer_free.
 */
cf_status cf_packer_add(struct cf_packer *p, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n);

/*
 * cf_packer_finish(p, bytes_stored): store the packs in progress, stop the
 * workers, and give the bytes stored (packs and index files).
 */
cf_status cf_packer_finish(struct cf_packer *p, uint64_t *bytes_stored);

/* cf_packer_free(p): stop workers (discarding unfinished packs); NULL ok. */
void cf_packer_free(struct cf_packer *p);

/* cf_packer_default_threads(): the worker count to use (online CPUs). */
unsigned cf_packer_default_threads(void);

#endif
