/*
 * fuzz_envelope.c: member key envelopes (cf_envelope_parse, _open, _verify)
 * for a fixed identity and fixed repository keys.
 *
 * The identity is the file below (name "fuzz", passphrase "fuzz", Argon2id
 * at the lowest cost), decoded once.  The repository keypair is
 * crypto_box_seed_keypair of 32 bytes 0x52.  The first byte picks a mode:
 *   0  the rest is an envelope as read from a backend;
 *   1  the rest is role(1) || sealed secret (up to 210 bytes, zero-padded):
 *      the secret is sealed here to the identity and MACed with the
 *      repo_sk it carries, so the checks after unsealing run;
 *   2  as 1, but MACed with the fixed repository's repo_sk.
 * Seeds in corpus/envelope are made for the same identity and keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "envelope.h"

#define SECRET_BYTES 210
#define NAME "fuzz"
#define NLEN 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t id_file[] = {
	0x43, 0x4f, 0x46, 0x46, 0x52, 0x45, 0x49, 0x44, 0x01, 0x01, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x90, 0x82, 0x97, 0x81, 0xde, 0x98, 0xde, 0x03,
	0xab, 0xc2, 0x19, 0x54, 0xb4, 0x4f, 0x9d, 0x3f, 0x04, 0x66, 0x75, 0x7a,
	0x7a, 0xef, 0x03, 0x94, 0xb0, 0x80, 0x5e, 0xd5, 0xab, 0x68, 0x9b, 0x1b,
	0x4d, 0xce, 0xf4, 0x53, 0x75, 0x29, 0xf1, 0x7a, 0x57, 0x4d, 0xe1, 0x97,
	0xda, 0x5e, 0x45, 0x8c, 0x9d, 0xd0, 0x82, 0x37, 0x35, 0xdf, 0xe9, 0x4c,
	0xb4, 0xcf, 0x40, 0x83, 0xda, 0x9d, 0x75, 0xcb, 0x34, 0xe8, 0x5b, 0x64,
	0x09, 0xcd, 0xcd, 0x64, 0x58, 0x53, 0x63, 0xb1, 0xf6, 0x6b, 0x46, 0x34,
	0x3e, 0x95, 0x32, 0x64, 0x08, 0xca, 0xf6, 0xfb, 0xcc, 0x13, 0x64, 0xb0,
	0x4a, 0xf8, 0x20, 0x5d, 0x8a, 0xa1, 0xf5, 0xd9, 0xd0, 0x94, 0xd6, 0xc7,
	0xd1, 0x1b, 0x45, 0xc0, 0x6f, 0x61, 0x99, 0xd6, 0xa9, 0x47, 0x77, 0xdf,
	0xa3, 0x24, 0x57, 0x3f, 0x40, 0x17, 0xaf, 0x59, 0x11,
};

static struct cf_identity *id;
static uint8_t repo_pk[CF_BOX_PK_BYTES], repo_sk[CF_BOX_SK_BYTES];

static void
check_envelope(const uint8_t *p, size_t n)
{
	struct cf_envelope_info info;
	struct cf_keys *k;
	int parsed, verified;
	cf_status rc;

	parsed = cf_envelope_parse(p, n, &info) == CF_OK;
	verified = cf_envelope_verify(p, n, repo_sk) == CF_OK;
	if (verified && !parsed)
		abort();
	if (parsed && (strlen(info.name) > CF_NAME_MAX ||
	    (info.role != CF_ROLE_FULL && info.role != CF_ROLE_WRITE_ONLY)))
		abort();
	if (cf_keys_new(&k) != CF_OK)
		return;
	rc = cf_envelope_open(p, n, id, k);
	if (rc == CF_OK) {
		if (!parsed)
			abort();
		if (k->has_repo_sk != (info.role == CF_ROLE_FULL))
			abort();
		if (!k->has_repo_sk &&
		    !sodium_is_zero(k->repo_sk, sizeof(k->repo_sk)))
			abort();
		if (k->has_repo_sk && cf_envelope_verify(p, n, k->repo_sk) !=
		    CF_OK)
			abort();
	} else if (!sodium_is_zero((const unsigned char *)k, sizeof(*k)))
		abort();
	cf_keys_free(k);
}

/* wrap(role, secret, mac_sk): an envelope for the identity, then check it. */
static void
wrap(uint8_t role, const uint8_t secret[SECRET_BYTES], const uint8_t *mac_sk)
{
	uint8_t e[57 + NLEN + SECRET_BYTES + CF_SEAL_OVERHEAD + 32];
	uint8_t box_pk[CF_BOX_PK_BYTES], mac_key[32];
	size_t len = sizeof(e) - 32;

	memset(e, 0, 57);
	memcpy(e, "COFFREKY\x01", 9);
	e[9] = role;
	memcpy(e + 16, cf_identity_public(id), CF_SIGN_PK_BYTES);
	e[56] = NLEN;
	memcpy(e + 57, NAME, NLEN);
	if (cf_pubid_box_pk(cf_identity_public(id), box_pk) != CF_OK)
		abort();
	cf_seal(e + 57 + NLEN, secret, SECRET_BYTES, box_pk);
	cf_kdf(mac_key, sizeof(mac_key), mac_sk, "coffre member mac v1");
	crypto_generichash(e + len, 32, e, len, mac_key, sizeof(mac_key));
	check_envelope(e, sizeof(e));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t seed[32], secret[SECRET_BYTES];

	if (id == NULL) {
		if (cf_crypto_init() != CF_OK ||
		    cf_identity_decode(id_file, sizeof(id_file), "fuzz", 4,
		    &id) != CF_OK)
			abort();
		memset(seed, 0x52, sizeof(seed));
		crypto_box_seed_keypair(repo_pk, repo_sk, seed);
	}
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_envelope(data + 1, size - 1);
		break;
	default:
		if (size < 2 || size - 2 > SECRET_BYTES)
			break;
		memset(secret, 0, sizeof(secret));
		memcpy(secret, data + 2, size - 2);
		wrap(data[1], secret, data[0] % 3 == 1 ?
		    secret + SECRET_BYTES - 32 : repo_sk);
		break;
	}
	return 0;
}
