/* test_envelope.c: member key envelopes: roles, MAC, tampering. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "check.h"
#include "envelope.h"
#include "identity.h"
#include "keys.h"

static struct cf_identity *alice, *bob, *mallory;
static struct cf_keys *rk;      /* the repository's keys (a full member's) */

static void
info_for(struct cf_envelope_info *info, const struct cf_identity *id,
    uint8_t role, const char *name)
{
	memset(info, 0, sizeof(*info));
	info->role = role;
	memcpy(info->member, cf_identity_public(id), CF_SIGN_PK_BYTES);
	info->added = 1700000000;
	strcpy(info->name, name);
}

static int
keys_equal_but_sk(const struct cf_keys *a, const struct cf_keys *b)
{
	return memcmp(a->repo_id, b->repo_id, sizeof(a->repo_id)) == 0 &&
	    memcmp(a->config_hash, b->config_hash, CF_HASH_BYTES) == 0 &&
	    memcmp(a->id_key, b->id_key, sizeof(a->id_key)) == 0 &&
	    memcmp(a->gear_key, b->gear_key, sizeof(a->gear_key)) == 0 &&
	    memcmp(a->index_key, b->index_key, sizeof(a->index_key)) == 0 &&
	    memcmp(a->repo_pk, b->repo_pk, sizeof(a->repo_pk)) == 0;
}

static void
test_roundtrip(void)
{
	struct cf_envelope_info info, got;
	struct cf_keys *k;
	struct cf_buf b;
	char name[70], hex[65];
	uint8_t h[CF_HASH_BYTES];

	CHECK_OK(cf_keys_new(&k));
	cf_buf_init(&b, CF_ENVELOPE_MAX);

	/* Full member. */
	info_for(&info, alice, CF_ROLE_FULL, "Dr Alice Martin");
	CHECK_OK(cf_envelope_encode(&info, rk, &b));
	CHECK(b.len == 347 + strlen("Dr Alice Martin"));
	CHECK(memcmp(b.p, "COFFREKY\x01\x01\0\0\0\0\0\0", 16) == 0);
	CHECK_OK(cf_envelope_parse(b.p, b.len, &got));
	CHECK(got.role == CF_ROLE_FULL && got.added == 1700000000);
	CHECK(memcmp(got.member, info.member, 32) == 0);
	CHECK(strcmp(got.name, "Dr Alice Martin") == 0);
	CHECK_OK(cf_envelope_open(b.p, b.len, alice, k));
	CHECK(keys_equal_but_sk(k, rk));
	CHECK(k->has_repo_sk == 1);
	CHECK(memcmp(k->repo_sk, rk->repo_sk, CF_BOX_SK_BYTES) == 0);
	CHECK_OK(cf_envelope_verify(b.p, b.len, rk->repo_sk));
	/* Not anyone else's. */
	CHECK_ERR(cf_envelope_open(b.p, b.len, bob, k), CF_ERR_NOTMEMBER);
	CHECK(sodium_is_zero((const unsigned char *)k, sizeof(*k)));

	/* Write-only member, empty name, negative time. */
	info_for(&info, bob, CF_ROLE_WRITE_ONLY, "");
	info.added = -7;
	cf_buf_reset(&b);
	CHECK_OK(cf_envelope_encode(&info, rk, &b));
	CHECK(b.len == 347);
	CHECK_OK(cf_envelope_parse(b.p, b.len, &got));
	CHECK(got.role == CF_ROLE_WRITE_ONLY && got.added == -7);
	CHECK(got.name[0] == '\0');
	CHECK_OK(cf_envelope_open(b.p, b.len, bob, k));
	CHECK(keys_equal_but_sk(k, rk));
	CHECK(k->has_repo_sk == 0);
	CHECK(sodium_is_zero(k->repo_sk, CF_BOX_SK_BYTES));
	CHECK_OK(cf_envelope_verify(b.p, b.len, rk->repo_sk));
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_NOTMEMBER);

	/* A write-only member cannot add members. */
	CHECK_OK(cf_envelope_open(b.p, b.len, bob, k));
	cf_buf_reset(&b);
	info_for(&info, mallory, CF_ROLE_WRITE_ONLY, "m");
	CHECK_ERR(cf_envelope_encode(&info, k, &b), CF_ERR_ACCESS);
	CHECK(b.len == 0);

	/* Longest name. */
	info_for(&info, alice, CF_ROLE_FULL, "");
	memset(info.name, 'n', CF_NAME_MAX);
	info.name[CF_NAME_MAX] = '\0';
	CHECK_OK(cf_envelope_encode(&info, rk, &b));
	CHECK(b.len == CF_ENVELOPE_MAX);
	CHECK_OK(cf_envelope_open(b.p, b.len, alice, k));
	CHECK_OK(cf_envelope_parse(b.p, b.len, &got));
	CHECK(strlen(got.name) == CF_NAME_MAX);

	/* Object name. */
	cf_envelope_object_name(name, cf_identity_public(alice));
	cf_hash(h, cf_identity_public(alice), 32);
	cf_hex_encode(hex, h, sizeof(h));
	CHECK(strncmp(name, "keys/", 5) == 0 && strcmp(name + 5, hex) == 0);
	CHECK(strlen(name) == 69);

	cf_keys_free(k);
	cf_buf_free(&b);
}

static void
test_encode_invalid(void)
{
	struct cf_envelope_info info;
	struct cf_buf b;

	cf_buf_init(&b, CF_ENVELOPE_MAX);
	info_for(&info, alice, 0, "x");
	CHECK_ERR(cf_envelope_encode(&info, rk, &b), CF_ERR_INVALID);
	info.role = 3;
	CHECK_ERR(cf_envelope_encode(&info, rk, &b), CF_ERR_INVALID);
	info_for(&info, alice, CF_ROLE_FULL, "tab\there");
	CHECK_ERR(cf_envelope_encode(&info, rk, &b), CF_ERR_INVALID);
	info_for(&info, alice, CF_ROLE_FULL, "del\x7f");
	CHECK_ERR(cf_envelope_encode(&info, rk, &b), CF_ERR_INVALID);
	info_for(&info, alice, CF_ROLE_FULL, "x");
	memset(info.name, 'n', sizeof(info.name));    /* no terminator */
	CHECK_ERR(cf_envelope_encode(&info, rk, &b), CF_ERR_INVALID);
	/* A member key that is not a valid point (small order). */
	info_for(&info, alice, CF_ROLE_FULL, "x");
	memset(info.member, 0, sizeof(info.member));
	info.member[0] = 1;
	CHECK_ERR(cf_envelope_encode(&info, rk, &b), CF_ERR_INVALID);
	CHECK(b.len == 0);
	cf_buf_free(&b);
}

static void
test_damage(uint8_t role)
{
	struct cf_envelope_info info, got;
	struct cf_keys *k;
	struct cf_buf b;
	uint8_t *c;
	size_t n;

	CHECK_OK(cf_keys_new(&k));
	cf_buf_init(&b, CF_ENVELOPE_MAX);
	info_for(&info, alice, role, "Alice");
	CHECK_OK(cf_envelope_encode(&info, rk, &b));
	n = b.len;
	c = malloc(n + 1);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	memcpy(c, b.p, n);

	for (size_t len = 0; len < n; len++) {
		CHECK_ERR(cf_envelope_parse(c, len, &got), CF_ERR_CORRUPT);
		CHECK(got.role == 0);
		CHECK_ERR(cf_envelope_open(c, len, alice, k), CF_ERR_CORRUPT);
		CHECK_ERR(cf_envelope_verify(c, len, rk->repo_sk),
		    CF_ERR_CORRUPT);
	}
	c[n] = 0;
	CHECK_ERR(cf_envelope_parse(c, n + 1, &got), CF_ERR_CORRUPT);
	CHECK_ERR(cf_envelope_open(c, n + 1, alice, k), CF_ERR_CORRUPT);
	CHECK_ERR(cf_envelope_verify(c, n + 1, rk->repo_sk), CF_ERR_CORRUPT);

	/*
	 * Every bit flip: verify refuses all; open refuses all for a full
	 * member (which checks the MAC), and for a write-only member every
	 * flip in the header fields it checks and in the sealed part.
	 */
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			cf_status rc, want;

			c[i] ^= (uint8_t)(1 << bit);
			want = i == 8 ? CF_ERR_VERSION : CF_ERR_CORRUPT;
			CHECK(cf_envelope_verify(c, n, rk->repo_sk) == want);
			rc = cf_envelope_open(c, n, alice, k);
			if (i >= 16 && i < 48 && want != CF_ERR_VERSION)
				want = CF_ERR_NOTMEMBER;
			if (role == CF_ROLE_FULL || i < 48 || i == 56 ||
			    (i >= 62 && i < 62 + 258))
				CHECK(rc == want);
			if (rc != CF_OK)
				CHECK(sodium_is_zero((const unsigned char *)k,
				    sizeof(*k)));
			c[i] ^= (uint8_t)(1 << bit);
		}
	}
	for (int v = 0; v < 256; v++) {
		if (v == 1)
			continue;
		c[8] = (uint8_t)v;
		CHECK_ERR(cf_envelope_parse(c, n, &got), CF_ERR_VERSION);
		CHECK_ERR(cf_envelope_open(c, n, alice, k), CF_ERR_VERSION);
	}
	c[8] = 1;
	for (size_t i = 10; i < 16; i++) {
		c[i] = 1;
		CHECK_ERR(cf_envelope_parse(c, n, &got), CF_ERR_CORRUPT);
		c[i] = 0;
	}
	/* The role byte changed in the public header. */
	c[9] = role == CF_ROLE_FULL ? CF_ROLE_WRITE_ONLY : CF_ROLE_FULL;
	CHECK_OK(cf_envelope_parse(c, n, &got));
	CHECK_ERR(cf_envelope_open(c, n, alice, k), CF_ERR_CORRUPT);
	CHECK_ERR(cf_envelope_verify(c, n, rk->repo_sk), CF_ERR_CORRUPT);
	c[9] = 0;
	CHECK_ERR(cf_envelope_parse(c, n, &got), CF_ERR_CORRUPT);
	c[9] = 3;
	CHECK_ERR(cf_envelope_parse(c, n, &got), CF_ERR_CORRUPT);
	c[9] = role;
	/* A control character in the name. */
	c[57] = '\n';
	CHECK_ERR(cf_envelope_parse(c, n, &got), CF_ERR_CORRUPT);
	c[57] = 'A';
	CHECK_OK(cf_envelope_open(c, n, alice, k));
	CHECK_OK(cf_envelope_verify(c, n, rk->repo_sk));

	free(c);
	cf_keys_free(k);
	cf_buf_free(&b);
}

/*
 * A non-member (say, the host) writes itself an envelope.  It knows the
 * public parts and maybe even id_key etc. from a write-only member, but not
 * repo_sk, so it has to MAC with a key of its own.
 */
static void
test_forged(void)
{
	struct cf_envelope_info info;
	struct cf_keys *fake, *k;
	struct cf_buf b;

	CHECK_OK(cf_keys_new(&fake));
	CHECK_OK(cf_keys_new(&k));
	memcpy(fake, rk, sizeof(*fake));
	cf_random(fake->repo_sk, sizeof(fake->repo_sk));
	cf_buf_init(&b, CF_ENVELOPE_MAX);

	info_for(&info, mallory, CF_ROLE_WRITE_ONLY, "backup");
	CHECK_OK(cf_envelope_encode(&info, fake, &b));
	CHECK_ERR(cf_envelope_verify(b.p, b.len, rk->repo_sk), CF_ERR_CORRUPT);
	CHECK(strcmp(cf_error_message(),
	    "membership record was not made by a member") == 0);
	CHECK_OK(cf_envelope_verify(b.p, b.len, fake->repo_sk));
	/* A write-only member cannot tell; opening works. */
	CHECK_OK(cf_envelope_open(b.p, b.len, mallory, k));

	/* As a full member: its repo_sk does not match repo_pk. */
	cf_buf_reset(&b);
	info_for(&info, mallory, CF_ROLE_FULL, "admin");
	CHECK_OK(cf_envelope_encode(&info, fake, &b));
	CHECK_ERR(cf_envelope_verify(b.p, b.len, rk->repo_sk), CF_ERR_CORRUPT);
	CHECK_ERR(cf_envelope_open(b.p, b.len, mallory, k), CF_ERR_CORRUPT);
	CHECK(sodium_is_zero((const unsigned char *)k, sizeof(*k)));

	cf_keys_free(fake);
	cf_keys_free(k);
	cf_buf_free(&b);
}

/*
 * craft(role, secret, mac_sk, b): an envelope for alice with public role
 * ${role} around a hand-made 210-byte secret, MACed with ${mac_sk}.
 */
static void
craft(uint8_t role, const uint8_t secret[210], const uint8_t *mac_sk,
    struct cf_buf *b)
{
	uint8_t box_pk[CF_BOX_PK_BYTES], mk[32];

	cf_buf_reset(b);
	CHECK_OK(cf_buf_reserve(b, 347 + 1));
	memset(b->p, 0, 57);
	memcpy(b->p, "COFFREKY\x01", 9);
	b->p[9] = role;
	memcpy(b->p + 16, cf_identity_public(alice), 32);
	b->p[56] = 1;
	b->p[57] = 'c';
	CHECK_OK(cf_pubid_box_pk(cf_identity_public(alice), box_pk));
	cf_seal(b->p + 58, secret, 210, box_pk);
	cf_kdf(mk, sizeof(mk), mac_sk, "coffre member mac v1");
	crypto_generichash(b->p + 58 + 258, 32, b->p, 58 + 258, mk, 32);
	b->len = 348;
}

/* Secrets that unseal and carry a valid MAC but break a rule. */
static void
test_crafted(void)
{
	uint8_t sec[210];
	struct cf_keys *k;
	struct cf_buf b;

	CHECK_OK(cf_keys_new(&k));
	cf_buf_init(&b, CF_ENVELOPE_MAX);
	memcpy(sec, rk->repo_id, 16);
	memcpy(sec + 16, rk->config_hash, 32);
	sec[48] = CF_ROLE_FULL;
	memcpy(sec + 49, rk->id_key, 32);
	memcpy(sec + 81, rk->gear_key, 32);
	memcpy(sec + 113, rk->index_key, 32);
	memcpy(sec + 145, rk->repo_pk, 32);
	sec[177] = 1;
	memcpy(sec + 178, rk->repo_sk, 32);

	/* As encode would make it: opens. */
	craft(CF_ROLE_FULL, sec, rk->repo_sk, &b);
	CHECK_OK(cf_envelope_open(b.p, b.len, alice, k));
	CHECK(keys_equal_but_sk(k, rk) && k->has_repo_sk == 1);
	/* Full, but without repo_sk. */
	sec[177] = 0;
	memset(sec + 178, 0, 32);
	craft(CF_ROLE_FULL, sec, rk->repo_sk, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	/* Public role write-only, sealed role full, no repo_sk. */
	craft(CF_ROLE_WRITE_ONLY, sec, rk->repo_sk, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	/* Write-only as encode would make it: opens. */
	sec[48] = CF_ROLE_WRITE_ONLY;
	craft(CF_ROLE_WRITE_ONLY, sec, rk->repo_sk, &b);
	CHECK_OK(cf_envelope_open(b.p, b.len, alice, k));
	CHECK(k->has_repo_sk == 0);
	/* Write-only with a non-zero repo_sk or has_repo_sk 2. */
	sec[200] = 1;
	craft(CF_ROLE_WRITE_ONLY, sec, rk->repo_sk, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	sec[200] = 0;
	sec[177] = 2;
	craft(CF_ROLE_WRITE_ONLY, sec, rk->repo_sk, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	/* Write-only carrying repo_sk. */
	sec[177] = 1;
	memcpy(sec + 178, rk->repo_sk, 32);
	craft(CF_ROLE_WRITE_ONLY, sec, rk->repo_sk, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	/* Public role full, sealed role write-only, with repo_sk. */
	craft(CF_ROLE_FULL, sec, rk->repo_sk, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	CHECK(sodium_is_zero((const unsigned char *)k, sizeof(*k)));
	/* Full, repo_sk that does not belong to repo_pk (MAC made with it). */
	sec[48] = CF_ROLE_FULL;
	sec[178] ^= 0x40;
	craft(CF_ROLE_FULL, sec, sec + 178, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	/* Full, right keys, MAC made with another key. */
	sec[178] ^= 0x40;
	craft(CF_ROLE_FULL, sec, rk->id_key, &b);
	CHECK_ERR(cf_envelope_open(b.p, b.len, alice, k), CF_ERR_CORRUPT);
	CHECK(strcmp(cf_error_message(),
	    "membership record was not made by a member") == 0);

	sodium_memzero(sec, sizeof(sec));
	cf_keys_free(k);
	cf_buf_free(&b);
}

int
main(void)
{
	CHECK_OK(cf_crypto_init());
	CHECK_OK(cf_identity_generate("Alice", &alice));
	CHECK_OK(cf_identity_generate("Bob", &bob));
	CHECK_OK(cf_identity_generate(NULL, &mallory));
	CHECK_OK(cf_keys_new(&rk));
	if (alice == NULL || bob == NULL || mallory == NULL || rk == NULL)
		return check_done("envelope");
	cf_keys_generate(rk);
	cf_random(rk->config_hash, sizeof(rk->config_hash));
	test_roundtrip();
	test_encode_invalid();
	test_damage(CF_ROLE_FULL);
	test_damage(CF_ROLE_WRITE_ONLY);
	test_forged();
	test_crafted();
	cf_keys_free(rk);
	cf_identity_free(alice);
	cf_identity_free(bob);
	cf_identity_free(mallory);
	return check_done("envelope");
}
