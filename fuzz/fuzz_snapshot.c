/*
 * fuzz_snapshot.c: snapshot objects (cf_snapshot_decode) under a fixed
 * repository keypair (crypto_box_seed_keypair of 32 bytes 0x53).
 *
 * Mutated objects rarely authenticate, so the first byte picks a mode:
 *   0  the rest is a snapshot object as read from a backend;
 *   1  the rest is a plaintext (body || signature), sealed and encrypted
 *      here, so the body parser runs behind the authentication;
 *   2  the rest is a body: its author field (if present) is set to a fixed
 *      key (crypto_sign_seed_keypair of 32 bytes 0x41), it is signed with
 *      that key, then sealed and encrypted, so the signature check passes
 *      and whole snapshots are built and freed.
 * Seeds in corpus/snapshot are made with the same repository keypair.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "snapshot.h"

#define WRAP_MAX (64 * 1024)
#define PREFIX "COFFRESN body v1"
#define AUTHOR_OFF 44

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t repo_pk[CF_BOX_PK_BYTES], repo_sk[CF_BOX_SK_BYTES];
static uint8_t author_pk[32], author_sk[64];

static void
check_decode(const uint8_t *p, size_t n, int signed_here)
{
	struct cf_snapshot s;

	if (cf_snapshot_decode(p, n, repo_pk, repo_sk, &s) != CF_OK) {
		if (s.hostname != NULL || s.paths != NULL || s.npaths != 0)
			abort();
		return;
	}
	if (s.npaths < 1 || s.npaths > CF_SNAPSHOT_PATHS_MAX ||
	    s.ntags > CF_SNAPSHOT_TAGS_MAX || s.time_nsec >= 1000000000u ||
	    strlen(s.hostname) > CF_SNAPSHOT_STR_MAX ||
	    strlen(s.username) > CF_SNAPSHOT_STR_MAX)
		abort();
	for (size_t i = 0; i < s.npaths; i++)
		if (strlen(s.paths[i]) > CF_SNAPSHOT_STR_MAX)
			abort();
	for (size_t i = 0; i < s.ntags; i++)
		if (strlen(s.tags[i]) > CF_SNAPSHOT_STR_MAX)
			abort();
	if (signed_here && memcmp(s.author, author_pk, 32) != 0)
		abort();
	cf_snapshot_free(&s);
}

/* wrap(pt, n): seal and encrypt ${pt} as a snapshot object and decode it. */
static void
wrap(const uint8_t *pt, size_t n, int signed_here)
{
	static const uint8_t h[16] = "COFFRESN\x01";
	uint8_t key[CF_KEY_BYTES], *obj;
	size_t len = 16 + CF_SEALED_KEY_BYTES + CF_AEAD_OVERHEAD + n;

	if ((obj = malloc(len)) == NULL)
		return;
	memcpy(obj, h, 16);
	memset(key, 0x6b, sizeof(key));
	cf_seal_key(obj + 16, key, repo_pk);
	cf_aead_seal(obj + 16 + CF_SEALED_KEY_BYTES, key, h, 16, pt, n);
	check_decode(obj, len, signed_here);
	free(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t seed[32], *m;
	size_t n;

	if (!ready) {
		if (cf_crypto_init() != CF_OK)
			return 0;
		memset(seed, 0x53, sizeof(seed));
		crypto_box_seed_keypair(repo_pk, repo_sk, seed);
		memset(seed, 0x41, sizeof(seed));
		crypto_sign_seed_keypair(author_pk, author_sk, seed);
		ready = 1;
	}
	if (size == 0)
		return 0;

	n = size - 1;
	switch (data[0] % 3) {
	case 0:
		check_decode(data + 1, n, 0);
		break;
	case 1:
		if (n <= WRAP_MAX)
			wrap(data + 1, n, 0);
		break;
	default:
		if (n > WRAP_MAX || (m = malloc(16 + n + 64)) == NULL)
			break;
		memcpy(m, PREFIX, 16);
		memcpy(m + 16, data + 1, n);
		if (n >= AUTHOR_OFF + 32)
			memcpy(m + 16 + AUTHOR_OFF, author_pk, 32);
		crypto_sign_detached(m + 16 + n, NULL, m, 16 + n, author_sk);
		wrap(m + 16, n + 64, 1);
		free(m);
		break;
	}
	return 0;
}
