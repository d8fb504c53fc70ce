/*
 * repo_internal.h: what the repository's own files (repo.c, members.c,
 * repo_lock.c, backup.c, restore.c, check.c, prune.c) share.  Not API.
 */
#ifndef COFFRE_REPO_INTERNAL_H
#define COFFRE_REPO_INTERNAL_H

#include <time.h>

#include "index.h"
#include "pack.h"
#include "repo.h"

#define PACK_KEY_CACHE 8

struct pack_key_slot {
	uint8_t pack_id[CF_HASH_BYTES];
	int used;
};

struct cf_repo {
	struct cf_backend *be;          /* what operations use: all, or one */
	struct cf_backend *be_all;      /* every destination (owned) */
	struct cf_config cfg;
	uint8_t cfg_hash[CF_HASH_BYTES];
	struct cf_keys *keys;
	const struct cf_identity *id;
	int role;

	struct cf_index *idx;           /* NULL until loaded */
	char **index_names;             /* index objects that were loaded */
	size_t nindex_names;

	struct cf_blob_reader *blob_reader;
	struct cf_buf stored;           /* reused for ranged reads */
	/* A few unsealed pack keys, so that reading many blobs of one pack
	 * does not unseal its key each time; keys in guarded memory. */
	struct pack_key_slot key_slots[PACK_KEY_CACHE];
	uint8_t (*key_cache)[CF_KEY_BYTES];
	unsigned key_next;
};

/* Object names of the content-named kinds: "<dir>/<64 hex>". */
void repo_object_name(char *out, size_t outlen, const char *dir,
    const uint8_t hash[CF_HASH_BYTES]);

/*
 * repo_parse_object_name(name, dir, hash): 1 if ${name} is "<dir>/<64 hex>"
 * (or for "data", "data/xx/<64 hex>" with xx matching) and set ${hash}.
 */
int repo_parse_object_name(const char *name, const char *dir,
    uint8_t hash[CF_HASH_BYTES]);

/*
 * repo_get_verified(r, name, max, out): fetch a content-named object and
 * check that its name is the SHA-256 of its bytes (cf_name_hash).
 */
cf_status repo_get_verified(struct cf_repo *r, const char *name, size_t max,
    struct cf_buf *out);

/*
 * repo_put_named(r, dir, data, n, hash): store a content-named object under
 * "<dir>/<hex(SHA-256(data))>"; an object already there is fine (same
 * content by construction).  Sets ${hash} if not NULL.
 */
cf_status repo_put_named(struct cf_repo *r, const char *dir, const void *data,
    size_t n, uint8_t hash[CF_HASH_BYTES]);

/* repo_pack_key(r, pack_id, key): the unsealed key of a pack (cached). */
cf_status repo_pack_key(struct cf_repo *r, const uint8_t pack_id[CF_HASH_BYTES],
    uint8_t key[CF_KEY_BYTES]);

/*
 * repo_blob_fetch(r, id, loc, stored, br, key, data): read and open the
 * blob ${id} that the loaded index places at ${loc}, with the caller's
 * buffer ${stored}, reader ${br} and guarded ${key} (32 bytes), so that
 * several threads read blobs at once (the index must not change
 * meanwhile).  *data as cf_blob_open (inside ${stored} or ${br}).
 * CF_ERR_CORRUPT when the blob fails verification.
 */
cf_status repo_blob_fetch(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc, struct cf_buf *stored,
    struct cf_blob_reader *br, uint8_t key[CF_KEY_BYTES],
    const uint8_t **data);

/*
 * An id set: a cf_index used only for membership (one dummy pack), for the
 * blobs a backup has sent, the blobs snapshots use, the trees check saw.
 */
cf_status repo_idset_new(struct cf_index **set);
cf_status repo_idset_add(struct cf_index *set, const uint8_t id[CF_HASH_BYTES],
    uint8_t type);
int repo_idset_has(const struct cf_index *set, const uint8_t id[CF_HASH_BYTES]);

/*
 * repo_unindexed_packs(r, idx, ids, n): the packs under data/ that ${idx}
 * does not name (*ids malloc'ed, caller frees): left by a killed backup or
 * prune.
 */
cf_status repo_unindexed_packs(struct cf_repo *r, const struct cf_index *idx,
    uint8_t (**ids)[CF_HASH_BYTES], size_t *n);

/*
 * repo_adopt_unindexed(r, idx): index the packs that a process killed
 * between storing a pack and its index file left behind, reading their
 * headers (under the index key, so any member can), and store one index
 * file for them.  Unreadable packs are left alone.
 */
cf_status repo_adopt_unindexed(struct cf_repo *r, struct cf_index *idx);

/* repo_drop_index(r): forget the in-memory index (reloaded when needed). */
void repo_drop_index(struct cf_repo *r);

/* repo_now(): the time as seconds and nanoseconds (CLOCK_REALTIME). */
struct timespec repo_now(void);

/* repo_elapsed(since): seconds since a CLOCK_MONOTONIC instant. */
double repo_elapsed(const struct timespec *since);

#endif
