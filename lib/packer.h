/*
 * packer.h: turns blobs into stored packs.
 *
 * The caller (backup, prune) decides which blobs are new; the packer
 * compresses and encrypts them into packs, stores each pack, and then the
 * index file naming its blobs, so a pack is findable as soon as it is
 * durable.  A packer has one or more lanes, each with a pack in progress of
 * its own (one per blob type); a lane is used by one thread at a time, so
 * several threads (the backup's workers) each fill and store packs of their
 * own at once, and a remote backend has several puts in flight.  Memory is
 * one pack buffer per lane and blob type in use, sized once.
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
 * cf_packer_new(r, lanes, index_files, on_pack, arg, out): a packer for
 * ${r} with ${lanes} lanes (0 means 1).  ${index_files}: store an index
 * file after each pack (backup) or not (prune writes one index of its own).
 * ${on_pack} may be NULL.
 */
cf_status cf_packer_new(struct cf_repo *r, unsigned lanes, int index_files,
    cf_packer_pack_fn on_pack, void *arg, struct cf_packer **out);

/*
 * cf_packer_add_lane(p, lane, type, id, data, n): compress, encrypt and
 * append the blob to lane ${lane}'s pack.  The caller then calls
 * cf_packer_store_full, which stores the pack once it reaches the pack
 * size: in between, ${data} may be given back (the packer keeps no
 * reference to it), so that storing does not hold the caller's buffer.
 * Only one thread at a time may use a lane; different lanes may be used
 * at once.
 */
cf_status cf_packer_add_lane(struct cf_packer *p, unsigned lane, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n);

/*
 * cf_packer_store_full(p, lane): store lane ${lane}'s packs that reached
 * the pack size, each followed by its index file.
 */
cf_status cf_packer_store_full(struct cf_packer *p, unsigned lane);

/*
 * cf_packer_add(p, type, id, data, n): cf_packer_add_lane on lane 0, then
 * cf_packer_store_full.
 */
cf_status cf_packer_add(struct cf_packer *p, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n);

/*
 * cf_packer_flush_lane(p, lane): store lane ${lane}'s packs in progress,
 * from the thread that uses the lane (so the last packs of several lanes
 * are stored at once).
 */
cf_status cf_packer_flush_lane(struct cf_packer *p, unsigned lane);

/*
 * cf_packer_finish(p, bytes_stored): store the packs still in progress in
 * any lane (no lane may be in use) and give the bytes stored (packs and
 * index files) by all lanes.
 */
cf_status cf_packer_finish(struct cf_packer *p, uint64_t *bytes_stored);

/* cf_packer_free(p): discard unfinished packs, wipe and release; NULL ok. */
void cf_packer_free(struct cf_packer *p);

/* cf_packer_default_threads(): the worker count to use (online CPUs). */
unsigned cf_packer_default_threads(void);

#endif
