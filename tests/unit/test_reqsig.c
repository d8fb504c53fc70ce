/*
 * test_reqsig.c: signed requests of the coffred protocol (lib/reqsig.c):
 * a known canonical string, sign/verify round trips, every field covered
 * by the signature, strict parsing of each header value.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "crypto.h"
#include "identity.h"
#include "reqsig.h"

static const char *const path = "/v1/clinic-7/o/index/"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
test_empty_body_constant(void)
{
	uint8_t h[CF_HASH_BYTES];
	char hex[2 * CF_HASH_BYTES + 1];

	cf_name_hash(h, "", 0);
	cf_hex_encode(hex, h, sizeof(h));
	CHECK(strcmp(hex, CF_REQSIG_EMPTY_BODY) == 0);
}

static void
test_canonical(void)
{
	struct cf_reqsig rs;
	struct cf_buf b;
	const char *want =
	    "coffre-request-v1\nGET\n/v1/t/list\ndir=data&limit=5\n"
	    "1700000000\n000102030405060708090a0b0c0d0e0f\n"
	    "2020202020202020202020202020202020202020202020202020202020202020\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

	memset(&rs, 0, sizeof(rs));
	memset(rs.key, 0x20, sizeof(rs.key));
	rs.time = 1700000000;
	for (int i = 0; i < 16; i++)
		rs.nonce[i] = (uint8_t)i;
	cf_name_hash(rs.body, "", 0);
	cf_buf_init(&b, CF_REQSIG_CANON_MAX);
	CHECK_OK(cf_reqsig_canonical("GET", "/v1/t/list", "dir=data&limit=5",
	    &rs, &b));
	CHECK(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0);
	/* No query: an empty line. */
	cf_buf_reset(&b);
	CHECK_OK(cf_reqsig_canonical("GET", "/v1/t/info", NULL, &rs, &b));
	CHECK(b.len > 30 && memcmp(b.p, "coffre-request-v1\nGET\n/v1/t/info\n\n"
	    "1700000000\n", 45) == 0);
	/* Fields that could hold the separator are refused. */
	CHECK_ERR(cf_reqsig_canonical("GET", "/v1/t\n/x", NULL, &rs, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_canonical("GET", "/v1/t/x", "a\nb", &rs, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_canonical("get", "/v1/t/x", NULL, &rs, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_canonical("GET", "v1/t/x", NULL, &rs, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_canonical("GET", "/v1/t x", NULL, &rs, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_canonical("", "/v1/t/x", NULL, &rs, &b),
	    CF_ERR_INVALID);
	cf_buf_free(&b);
}

static int
parse_headers(const struct cf_reqsig_headers *h, struct cf_reqsig *rs)
{
	return cf_reqsig_parse(h->key, h->time, h->nonce, h->body,
	    h->signature, rs) == CF_OK;
}

static int
same_headers(const struct cf_reqsig_headers *a,
    const struct cf_reqsig_headers *b)
{
	return strcmp(a->key, b->key) == 0 && strcmp(a->time, b->time) == 0 &&
	    strcmp(a->nonce, b->nonce) == 0 && strcmp(a->body, b->body) == 0 &&
	    strcmp(a->signature, b->signature) == 0;
}

static void
test_sign_verify(void)
{
	struct cf_identity *id = NULL;
	struct cf_reqsig_headers h, h2;
	struct cf_reqsig rs, bad;
	uint8_t body[CF_HASH_BYTES];
	char keyhex[65];

	CHECK_OK(cf_identity_generate("t", &id));
	if (id == NULL)
		return;
	cf_name_hash(body, "hello", 5);
	CHECK_OK(cf_reqsig_sign(id, "PUT", path, NULL, body, 1700000000, &h));
	CHECK(strlen(h.key) == 64 && strlen(h.nonce) == 32 &&
	    strlen(h.body) == 64 && strlen(h.signature) == 128 &&
	    strcmp(h.time, "1700000000") == 0);
	cf_hex_encode(keyhex, cf_identity_public(id), 32);
	CHECK(strcmp(h.key, keyhex) == 0);
	CHECK(parse_headers(&h, &rs));
	CHECK(rs.time == 1700000000);
	CHECK(memcmp(rs.body, body, 32) == 0);
	CHECK_OK(cf_reqsig_verify(&rs, "PUT", path, NULL));
	CHECK_OK(cf_reqsig_verify(&rs, "PUT", path, ""));

	/* Formatting a parsed struct gives back the headers. */
	cf_reqsig_format(&rs, &h2);
	CHECK(same_headers(&h, &h2));

	/* Two signatures never share a nonce. */
	CHECK_OK(cf_reqsig_sign(id, "PUT", path, NULL, body, 1700000000, &h2));
	CHECK(strcmp(h.nonce, h2.nonce) != 0);

	/* Every part is covered. */
	CHECK_ERR(cf_reqsig_verify(&rs, "GET", path, NULL), CF_ERR_CORRUPT);
	CHECK_ERR(cf_reqsig_verify(&rs, "PUT", "/v1/clinic-8/o/index/"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    NULL), CF_ERR_CORRUPT);
	CHECK_ERR(cf_reqsig_verify(&rs, "PUT", path, "x=1"), CF_ERR_CORRUPT);
	bad = rs;
	bad.time++;
	CHECK_ERR(cf_reqsig_verify(&bad, "PUT", path, NULL), CF_ERR_CORRUPT);
	bad = rs;
	bad.nonce[3] ^= 1;
	CHECK_ERR(cf_reqsig_verify(&bad, "PUT", path, NULL), CF_ERR_CORRUPT);
	bad = rs;
	bad.body[31] ^= 1;
	CHECK_ERR(cf_reqsig_verify(&bad, "PUT", path, NULL), CF_ERR_CORRUPT);
	bad = rs;
	bad.key[0] ^= 1;
	CHECK(cf_reqsig_verify(&bad, "PUT", path, NULL) != CF_OK);
	bad = rs;
	bad.sig[63] ^= 0x80;
	CHECK_ERR(cf_reqsig_verify(&bad, "PUT", path, NULL), CF_ERR_CORRUPT);

	/* Query and path are not interchangeable. */
	CHECK_OK(cf_reqsig_sign(id, "GET", "/v1/t/list", "dir=data", body, 5,
	    &h));
	CHECK(parse_headers(&h, &rs));
	CHECK_OK(cf_reqsig_verify(&rs, "GET", "/v1/t/list", "dir=data"));
	CHECK_ERR(cf_reqsig_verify(&rs, "GET", "/v1/t/listdir=data", NULL),
	    CF_ERR_CORRUPT);

	/* A fixed nonce (tests): same inputs, same headers. */
	{
		uint8_t n[16] = { 1, 2, 3 };
		CHECK_OK(cf_reqsig_sign_nonce(id, "GET", "/v1/t/info", NULL,
		    body, 7, n, &h));
		CHECK_OK(cf_reqsig_sign_nonce(id, "GET", "/v1/t/info", NULL,
		    body, 7, n, &h2));
		CHECK(same_headers(&h, &h2));
		CHECK(strcmp(h.nonce, "01020300000000000000000000000000") ==
		    0);
	}
	/* Invalid requests are refused and the output zeroed. */
	CHECK_ERR(cf_reqsig_sign(id, "PUT", "/v1/a b", NULL, body, 1, &h),
	    CF_ERR_INVALID);
	CHECK(h.key[0] == '\0' && h.signature[0] == '\0');
	cf_identity_free(id);
}

static void
test_parse_strict(void)
{
	struct cf_reqsig rs;
	char key[65], nonce[33], body[65], sig[129];

	memset(key, 'a', 64);
	key[64] = '\0';
	memset(nonce, '0', 32);
	nonce[32] = '\0';
	memset(body, 'f', 64);
	body[64] = '\0';
	memset(sig, '9', 128);
	sig[128] = '\0';

	CHECK_OK(cf_reqsig_parse(key, "1", nonce, body, sig, &rs));
	CHECK(rs.time == 1);
	CHECK_OK(cf_reqsig_parse(key, "0", nonce, body, sig, &rs));
	CHECK_OK(cf_reqsig_parse(key, "18446744073709551615", nonce, body, sig,
	    &rs));
	CHECK(rs.time == UINT64_MAX);
	/* Time: overflow, leading zero, sign, spaces, empty, 21 digits. */
	CHECK_ERR(cf_reqsig_parse(key, "18446744073709551616", nonce, body,
	    sig, &rs), CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "01", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "+1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "-1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, " 1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "100000000000000000000", nonce, body,
	    sig, &rs), CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "1e9", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	/* Hex: uppercase, short, long, non-hex. */
	key[5] = 'A';
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	key[5] = 'g';
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	key[5] = 'a';
	key[63] = '\0';
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	key[63] = 'a';
	nonce[0] = ' ';
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	nonce[0] = '0';
	sig[127] = '\0';
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	sig[127] = '9';
	/* Missing headers. */
	CHECK_ERR(cf_reqsig_parse(NULL, "1", nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK(strstr(cf_error_message(), "Coffre-Key") != NULL);
	CHECK_ERR(cf_reqsig_parse(key, NULL, nonce, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "1", NULL, body, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, NULL, sig, &rs),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_reqsig_parse(key, "1", nonce, body, NULL, &rs),
	    CF_ERR_INVALID);
	/* Length-delimited: a NUL inside a value is refused. */
	{
		char k2[64];
		memcpy(k2, key, 64);
		k2[10] = '\0';
		CHECK_ERR(cf_reqsig_parse_n(k2, 64, "1", 1, nonce, 32, body, 64,
		    sig, 128, &rs), CF_ERR_INVALID);
		CHECK_OK(cf_reqsig_parse_n(key, 64, "12", 1, nonce, 32, body,
		    64, sig, 128, &rs));
		CHECK(rs.time == 1);
	}
}

static void
test_time_window(void)
{
	CHECK(cf_reqsig_time_ok(1000, 1000, 300));
	CHECK(cf_reqsig_time_ok(1300, 1000, 300));
	CHECK(cf_reqsig_time_ok(700, 1000, 300));
	CHECK(!cf_reqsig_time_ok(1301, 1000, 300));
	CHECK(!cf_reqsig_time_ok(699, 1000, 300));
	CHECK(!cf_reqsig_time_ok(UINT64_MAX, 0, 300));
	CHECK(!cf_reqsig_time_ok(0, UINT64_MAX, 300));
	CHECK(cf_reqsig_time_ok(UINT64_MAX, UINT64_MAX - 300, 300));
}

int
main(void)
{
	if (cf_crypto_init() != CF_OK)
		return 1;
	test_empty_body_constant();
	test_canonical();
	test_sign_verify();
	test_parse_strict();
	test_time_window();
	return check_done("reqsig");
}
