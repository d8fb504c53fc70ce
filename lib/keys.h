/*
 * keys.h: the key set a member holds for one repository.
 *
 *   repo_pk / repo_sk  X25519 repository keypair.  Packs and snapshots are
 *                      sealed to repo_pk; only full members hold repo_sk.
 *   id_key             keys HMAC-SHA-256 blob ids (deduplication)
 *   gear_key           keys the chunker's gear table
 *   index_key          encrypts index files and locks
 * A write-only member has has_repo_sk = 0 and repo_sk all zero: it can add
 * data with full deduplication but open nothing already stored.
 * Always allocate with cf_keys_new (guarded memory) and free with
 * cf_keys_free (wipes).
 */
#ifndef COFFRE_KEYS_H
#define COFFRE_KEYS_H

#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define CF_REPO_ID_BYTES 16

struct cf_keys {
	uint8_t repo_id[CF_REPO_ID_BYTES];
	uint8_t config_hash[CF_HASH_BYTES];
	uint8_t id_key[CF_KEY_BYTES];
	uint8_t gear_key[CF_KEY_BYTES];
	uint8_t index_key[CF_KEY_BYTES];
	uint8_t repo_pk[CF_BOX_PK_BYTES];
	uint8_t repo_sk[CF_BOX_SK_BYTES];
	int has_repo_sk;
};

/* cf_keys_new(out): zeroed keys in sodium_malloc'ed memory. */
cf_status cf_keys_new(struct cf_keys **out);

/* cf_keys_generate(k): fill every key and the repo id at random. */
void cf_keys_generate(struct cf_keys *k);

/* cf_keys_free(k): wipe and release; NULL is a no-op. */
void cf_keys_free(struct cf_keys *k);

#endif
