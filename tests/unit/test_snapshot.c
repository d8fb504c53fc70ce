/* test_snapshot.c: snapshot objects: roundtrip, signature, tampering. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "check.h"
#include "identity.h"
#include "snapshot.h"

static uint8_t repo_pk[CF_BOX_PK_BYTES], repo_sk[CF_BOX_SK_BYTES];
static uint8_t other_pk[CF_BOX_PK_BYTES], other_sk[CF_BOX_SK_BYTES];
static struct cf_identity *alice, *bob;

static char *paths[] = { (char *)(uintptr_t)"/srv/cabinet",
    (char *)(uintptr_t)"/home/secretariat/Documents" };
static char *tags[] = { (char *)(uintptr_t)"nightly",
    (char *)(uintptr_t)"", (char *)(uintptr_t)"\xc3\xa9t\xc3\xa9" };

static void
sample(struct cf_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->time_sec = 1700000000;
	s->time_nsec = 999999999;
	memset(s->tree, 0x11, sizeof(s->tree));
	s->hostname = (char *)(uintptr_t)"cabinet-dr-martin";
	s->username = (char *)(uintptr_t)"backup";
	s->paths = paths;
	s->npaths = 2;
	s->tags = tags;
	s->ntags = 3;
	s->files = 12345;
	s->dirs = 678;
	s->bytes = UINT64_C(0xfedcba9876543210);
}

static void
check_same(const struct cf_snapshot *a, const struct cf_snapshot *b)
{
	CHECK(memcmp(a->id, b->id, CF_HASH_BYTES) == 0);
	CHECK(a->time_sec == b->time_sec && a->time_nsec == b->time_nsec);
	CHECK(memcmp(a->tree, b->tree, CF_HASH_BYTES) == 0);
	CHECK(memcmp(a->author, b->author, CF_SIGN_PK_BYTES) == 0);
	CHECK(strcmp(a->hostname, b->hostname) == 0);
	CHECK(strcmp(a->username, b->username) == 0);
	CHECK(a->npaths == b->npaths && a->ntags == b->ntags);
	for (size_t i = 0; i < a->npaths && i < b->npaths; i++)
		CHECK(strcmp(a->paths[i], b->paths[i]) == 0);
	for (size_t i = 0; i < a->ntags && i < b->ntags; i++)
		CHECK(strcmp(a->tags[i], b->tags[i]) == 0);
	CHECK(a->files == b->files && a->dirs == b->dirs &&
	    a->bytes == b->bytes);
}

static int
is_zeroed(const struct cf_snapshot *s)
{
	static const struct cf_snapshot z;
	return s->hostname == NULL && s->paths == NULL && s->tags == NULL &&
	    s->npaths == 0 && s->ntags == 0 &&
	    memcmp(s->id, z.id, sizeof(z.id)) == 0;
}

/*
 * open_body(p, n, body): decrypt an encoded snapshot with the repository
 * key, as a reader would, and return body || signature in ${body}.
 */
static void
open_plain(const uint8_t *p, size_t n, struct cf_buf *pt)
{
	uint8_t key[CF_KEY_BYTES];

	cf_buf_reset(pt);
	CHECK_OK(cf_unseal_key(key, p + 16, repo_pk, repo_sk));
	CHECK_OK(cf_buf_reserve(pt, n - 136));
	CHECK_OK(cf_aead_open(pt->p, key, p, 16, p + 96, n - 96));
	pt->len = n - 136;
}

/*
 * wrap(body, len, signer, out): a snapshot object around ${body}, signed
 * by ${signer} (or with the signature given in ${sig} if signer is NULL).
 */
static void
wrap(const uint8_t *body, size_t len, const struct cf_identity *signer,
    const uint8_t *sig, struct cf_buf *out)
{
	struct cf_buf m;
	uint8_t key[CF_KEY_BYTES], h[16] = "COFFRESN\x01";

	cf_buf_init(&m, CF_SNAPSHOT_MAX);
	CHECK_OK(cf_buf_append(&m, "COFFRESN body v1", 16));
	CHECK_OK(cf_buf_append(&m, body, len));
	CHECK_OK(cf_buf_reserve(&m, 64));
	if (signer != NULL)
		cf_identity_sign(signer, m.p, m.len, m.p + m.len);
	else
		memcpy(m.p + m.len, sig, 64);
	m.len += 64;

	cf_buf_reset(out);
	CHECK_OK(cf_buf_reserve(out, 136 + m.len - 16));
	memcpy(out->p, h, 16);
	cf_random(key, sizeof(key));
	cf_seal_key(out->p + 16, key, repo_pk);
	cf_aead_seal(out->p + 96, key, h, 16, m.p + 16, m.len - 16);
	out->len = 136 + m.len - 16;
	cf_buf_free(&m);
}

static void
test_roundtrip(void)
{
	struct cf_snapshot s, d;
	struct cf_buf b;
	uint8_t id[CF_HASH_BYTES];

	sample(&s);
	cf_buf_init(&b, CF_SNAPSHOT_MAX);
	CHECK_OK(cf_buf_append(&b, "pre", 3));
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	CHECK(memcmp(s.author, cf_identity_public(alice), 32) == 0);
	cf_name_hash(id, b.p + 3, b.len - 3);
	CHECK(memcmp(id, s.id, sizeof(id)) == 0);
	CHECK(memcmp(b.p + 3, "COFFRESN\x01\0\0\0\0\0\0\0", 16) == 0);
	CHECK(memmem(b.p, b.len, "cabinet", 7) == NULL);
	CHECK_OK(cf_snapshot_decode(b.p + 3, b.len - 3, repo_pk, repo_sk, &d));
	check_same(&s, &d);
	cf_snapshot_free(&d);
	CHECK(is_zeroed(&d));
	cf_snapshot_free(&d);   /* twice is harmless */

	/* Two encodings of one snapshot differ (fresh key and nonce). */
	cf_buf_reset(&b);
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	CHECK(memcmp(id, s.id, sizeof(id)) != 0);

	/* Minimal snapshot: empty strings, one empty path, no tags. */
	memset(&s, 0, sizeof(s));
	s.hostname = (char *)(uintptr_t)"";
	s.username = (char *)(uintptr_t)"";
	s.paths = tags + 1;
	s.npaths = 1;
	s.time_sec = -1;
	cf_buf_reset(&b);
	CHECK_OK(cf_snapshot_encode(&s, bob, repo_pk, &b));
	CHECK_OK(cf_snapshot_decode(b.p, b.len, repo_pk, repo_sk, &d));
	check_same(&s, &d);
	CHECK(d.tags == NULL && d.paths[0][0] == '\0');
	CHECK(memcmp(d.author, cf_identity_public(bob), 32) == 0);
	cf_snapshot_free(&d);
	cf_buf_free(&b);
}

static void
test_limits(void)
{
	struct cf_snapshot s, d;
	struct cf_buf b;
	char *big, **many;

	cf_buf_init(&b, CF_SNAPSHOT_MAX);
	big = malloc(CF_SNAPSHOT_STR_MAX + 2);
	many = calloc(CF_SNAPSHOT_PATHS_MAX + 1, sizeof(*many));
	CHECK(big != NULL && many != NULL);
	if (big == NULL || many == NULL)
		return;
	memset(big, 'p', CF_SNAPSHOT_STR_MAX + 1);
	big[CF_SNAPSHOT_STR_MAX + 1] = '\0';
	for (size_t i = 0; i <= CF_SNAPSHOT_PATHS_MAX; i++)
		many[i] = big + CF_SNAPSHOT_STR_MAX;     /* "p" */

	sample(&s);
	s.hostname = big;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);
	s.hostname = big + 1;   /* exactly the maximum */
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	sample(&s);
	s.username = NULL;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);
	sample(&s);
	s.npaths = 0;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);
	s.paths = many;
	s.npaths = CF_SNAPSHOT_PATHS_MAX + 1;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);
	s.ntags = CF_SNAPSHOT_TAGS_MAX + 1;
	s.tags = many;
	s.npaths = 1;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);
	sample(&s);
	paths[1] = big;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);
	paths[1] = (char *)(uintptr_t)"/home/secretariat/Documents";
	sample(&s);
	s.time_nsec = 1000000000;
	CHECK_ERR(cf_snapshot_encode(&s, alice, repo_pk, &b), CF_ERR_INVALID);

	/* The largest counts roundtrip. */
	sample(&s);
	s.paths = many;
	s.npaths = CF_SNAPSHOT_PATHS_MAX;
	s.tags = many;
	s.ntags = CF_SNAPSHOT_TAGS_MAX;
	cf_buf_reset(&b);
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	CHECK_OK(cf_snapshot_decode(b.p, b.len, repo_pk, repo_sk, &d));
	check_same(&s, &d);
	cf_snapshot_free(&d);

	free(many);
	free(big);
	cf_buf_free(&b);
}

static void
test_damage(void)
{
	struct cf_snapshot s, d;
	struct cf_buf b;
	uint8_t *c;

	sample(&s);
	cf_buf_init(&b, CF_SNAPSHOT_MAX);
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	c = malloc(b.len + 1);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	memcpy(c, b.p, b.len);

	for (size_t len = 0; len < b.len; len++) {
		CHECK_ERR(cf_snapshot_decode(c, len, repo_pk, repo_sk, &d),
		    CF_ERR_CORRUPT);
		CHECK(is_zeroed(&d));
	}
	c[b.len] = 0;
	CHECK_ERR(cf_snapshot_decode(c, b.len + 1, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);

	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			cf_status rc;
			c[i] ^= (uint8_t)(1 << bit);
			rc = cf_snapshot_decode(c, b.len, repo_pk, repo_sk, &d);
			CHECK(rc == (i == 8 ? CF_ERR_VERSION : CF_ERR_CORRUPT));
			CHECK(is_zeroed(&d));
			c[i] ^= (uint8_t)(1 << bit);
		}
	}
	for (int v = 0; v < 256; v++) {
		if (v == 1)
			continue;
		c[8] = (uint8_t)v;
		CHECK_ERR(cf_snapshot_decode(c, b.len, repo_pk, repo_sk, &d),
		    CF_ERR_VERSION);
	}
	c[8] = 1;
	CHECK_OK(cf_snapshot_decode(c, b.len, repo_pk, repo_sk, &d));
	cf_snapshot_free(&d);

	/* Another repository's keys. */
	CHECK_ERR(cf_snapshot_decode(c, b.len, other_pk, other_sk, &d),
	    CF_ERR_CORRUPT);
	CHECK(strcmp(cf_error_message(),
	    "snapshot cannot be opened with this repository's key") == 0);
	CHECK_ERR(cf_snapshot_decode(c, b.len, repo_pk, other_sk, &d),
	    CF_ERR_CORRUPT);
	CHECK(is_zeroed(&d));
	free(c);
	cf_buf_free(&b);
}

static void
test_author(void)
{
	struct cf_snapshot s, d;
	struct cf_buf b, pt, w;
	uint8_t sig[64];
	size_t bodylen;

	sample(&s);
	cf_buf_init(&b, CF_SNAPSHOT_MAX);
	cf_buf_init(&pt, CF_SNAPSHOT_MAX);
	cf_buf_init(&w, CF_SNAPSHOT_MAX);
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	open_plain(b.p, b.len, &pt);
	bodylen = pt.len - 64;
	memcpy(sig, pt.p + bodylen, 64);

	/* Rewrapping the same body and signature still decodes. */
	wrap(pt.p, bodylen, NULL, sig, &w);
	CHECK_OK(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d));
	cf_snapshot_free(&d);

	/* Signed by alice, author field says bob. */
	memcpy(pt.p + 44, cf_identity_public(bob), 32);
	wrap(pt.p, bodylen, NULL, sig, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	CHECK(is_zeroed(&d));
	/* Signed by alice over a body naming bob. */
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	/* Signed by bob over a body naming bob: fine. */
	wrap(pt.p, bodylen, bob, NULL, &w);
	CHECK_OK(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d));
	CHECK(memcmp(d.author, cf_identity_public(bob), 32) == 0);
	cf_snapshot_free(&d);

	/* A body changed after signing. */
	memcpy(pt.p + 44, cf_identity_public(alice), 32);
	pt.p[0] ^= 1;
	wrap(pt.p, bodylen, NULL, sig, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	/* A signature not over the "COFFRESN body v1" prefix. */
	pt.p[0] ^= 1;
	cf_identity_sign(alice, pt.p, bodylen, sig);
	wrap(pt.p, bodylen, NULL, sig, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);

	cf_buf_free(&b);
	cf_buf_free(&pt);
	cf_buf_free(&w);
}

/* Bodies that authenticate and are signed but break a parsing rule. */
static void
test_bad_body(void)
{
	struct cf_snapshot s, d;
	struct cf_buf b, pt, w, body;
	size_t bodylen, strs;

	sample(&s);
	s.ntags = 0;
	s.npaths = 1;
	cf_buf_init(&b, CF_SNAPSHOT_MAX);
	cf_buf_init(&pt, CF_SNAPSHOT_MAX);
	cf_buf_init(&w, CF_SNAPSHOT_MAX);
	cf_buf_init(&body, CF_SNAPSHOT_MAX);
	CHECK_OK(cf_snapshot_encode(&s, alice, repo_pk, &b));
	open_plain(b.p, b.len, &pt);
	bodylen = pt.len - 64;

	/* Every truncation of the body, and a trailing byte, signed. */
	for (size_t len = 0; len < bodylen; len++) {
		wrap(pt.p, len, alice, NULL, &w);
		CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
		    CF_ERR_CORRUPT);
		CHECK(is_zeroed(&d));
	}
	CHECK_OK(cf_buf_append(&body, pt.p, bodylen));
	CHECK_OK(cf_buf_add_u8(&body, 0));
	wrap(body.p, body.len, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_OK(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d));
	cf_snapshot_free(&d);

	/* time_nsec = 1e9 */
	cf_put_u32(pt.p + 8, 1000000000u);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	cf_put_u32(pt.p + 8, 0);

	/* NUL inside the host name ("cabinet-dr-martin" at 78). */
	strs = 76;
	CHECK(cf_get_u16(pt.p + strs) == 17);
	pt.p[strs + 2 + 3] = '\0';
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	pt.p[strs + 2 + 3] = 'i';
	/* A string length above 4095. */
	cf_put_u16(pt.p + strs, 4096);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	cf_put_u16(pt.p + strs, 17);
	/* npaths = 0, npaths huge, ntags above 256. */
	strs += 2 + 17 + 2 + 6;
	CHECK(cf_get_u16(pt.p + strs) == 1);
	cf_put_u16(pt.p + strs, 0);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	cf_put_u16(pt.p + strs, 0xffff);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	cf_put_u16(pt.p + strs, 1);
	strs += 2 + 2 + strlen(paths[0]);
	CHECK(cf_get_u16(pt.p + strs) == 0);
	cf_put_u16(pt.p + strs, 257);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_ERR(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d),
	    CF_ERR_CORRUPT);
	cf_put_u16(pt.p + strs, 0);
	wrap(pt.p, bodylen, alice, NULL, &w);
	CHECK_OK(cf_snapshot_decode(w.p, w.len, repo_pk, repo_sk, &d));
	cf_snapshot_free(&d);

	cf_buf_free(&b);
	cf_buf_free(&pt);
	cf_buf_free(&w);
	cf_buf_free(&body);
}

int
main(void)
{
	CHECK_OK(cf_crypto_init());
	crypto_box_keypair(repo_pk, repo_sk);
	crypto_box_keypair(other_pk, other_sk);
	CHECK_OK(cf_identity_generate("Alice", &alice));
	CHECK_OK(cf_identity_generate("Bob", &bob));
	if (alice == NULL || bob == NULL)
		return check_done("snapshot");
	test_roundtrip();
	test_limits();
	test_damage();
	test_author();
	test_bad_body();
	cf_identity_free(alice);
	cf_identity_free(bob);
	return check_done("snapshot");
}
