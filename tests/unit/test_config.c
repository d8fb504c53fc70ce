/* test_config.c: repository config encoding, decoding and range checks. */
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "config.h"

static void
sample(struct cf_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = CF_FORMAT_VERSION;
	cf_random(c->repo_id, sizeof(c->repo_id));
	cf_random(c->repo_pk, sizeof(c->repo_pk));
	c->chunker.min = CF_CHUNK_MIN_DEFAULT;
	c->chunker.avg = CF_CHUNK_AVG_DEFAULT;
	c->chunker.max = CF_CHUNK_MAX_DEFAULT;
	c->pack_target = 16u * 1024 * 1024;
	c->zstd_level = 3;
	c->created = 1700000000;
}

static int
same(const struct cf_config *a, const struct cf_config *b)
{
	return a->version == b->version &&
	    memcmp(a->repo_id, b->repo_id, sizeof(a->repo_id)) == 0 &&
	    memcmp(a->repo_pk, b->repo_pk, sizeof(a->repo_pk)) == 0 &&
	    a->chunker.min == b->chunker.min &&
	    a->chunker.avg == b->chunker.avg &&
	    a->chunker.max == b->chunker.max &&
	    a->pack_target == b->pack_target &&
	    a->zstd_level == b->zstd_level && a->created == b->created;
}

static void
test_roundtrip(void)
{
	struct cf_config c, d;
	struct cf_buf b;

	sample(&c);
	cf_buf_init(&b, 1024);
	CHECK_OK(cf_config_encode(&c, &b));
	CHECK(b.len == CF_CONFIG_BYTES);
	CHECK(memcmp(b.p, "COFFRECF\x01\0\0\0\0\0\0\0", 16) == 0);
	CHECK(memcmp(b.p + 16, c.repo_id, 16) == 0);
	CHECK(memcmp(b.p + 32, c.repo_pk, 32) == 0);
	CHECK(cf_get_u32(b.p + 64) == CF_CHUNK_MIN_DEFAULT);
	CHECK(cf_get_u32(b.p + 68) == CF_CHUNK_AVG_DEFAULT);
	CHECK(cf_get_u32(b.p + 72) == CF_CHUNK_MAX_DEFAULT);
	CHECK(cf_get_u32(b.p + 76) == 16u * 1024 * 1024);
	CHECK(b.p[80] == 3);
	CHECK(cf_get_u64(b.p + 81) == 1700000000);
	CHECK_OK(cf_config_decode(b.p, b.len, &d));
	CHECK(same(&c, &d));

	/* Negative creation time and the range limits survive. */
	c.created = -1;
	c.pack_target = 1u * 1024 * 1024;
	c.zstd_level = 0;
	c.chunker.min = 64;
	c.chunker.avg = 128;
	c.chunker.max = CF_CHUNK_MAX_LIMIT;
	cf_buf_reset(&b);
	CHECK_OK(cf_config_encode(&c, &b));
	CHECK_OK(cf_config_decode(b.p, b.len, &d));
	CHECK(same(&c, &d));
	c.pack_target = 128u * 1024 * 1024;
	c.zstd_level = 19;
	cf_buf_reset(&b);
	CHECK_OK(cf_config_encode(&c, &b));
	CHECK_OK(cf_config_decode(b.p, b.len, &d));
	CHECK(same(&c, &d));
	cf_buf_free(&b);
}

static void
test_encode_invalid(void)
{
	struct cf_config c;
	struct cf_buf b;

	cf_buf_init(&b, 1024);
	sample(&c);
	c.pack_target = 1024 * 1024 - 1;
	CHECK_ERR(cf_config_encode(&c, &b), CF_ERR_INVALID);
	c.pack_target = 128u * 1024 * 1024 + 1;
	CHECK_ERR(cf_config_encode(&c, &b), CF_ERR_INVALID);
	sample(&c);
	c.zstd_level = 20;
	CHECK_ERR(cf_config_encode(&c, &b), CF_ERR_INVALID);
	sample(&c);
	c.chunker.avg = 3u * 1024 * 1024;
	CHECK_ERR(cf_config_encode(&c, &b), CF_ERR_INVALID);
	sample(&c);
	c.chunker.min = c.chunker.avg;
	CHECK_ERR(cf_config_encode(&c, &b), CF_ERR_INVALID);
	CHECK(b.len == 0);
	cf_buf_free(&b);
}

/* decode_after(b, off, v): decode with byte ${off} set to ${v}. */
static cf_status
decode_after(const uint8_t *good, size_t off, uint8_t v)
{
	uint8_t b[CF_CONFIG_BYTES];
	struct cf_config d;

	memcpy(b, good, sizeof(b));
	b[off] = v;
	return cf_config_decode(b, sizeof(b), &d);
}

static void
test_decode_damage(void)
{
	struct cf_config c, d;
	struct cf_buf b;
	uint8_t big[CF_CONFIG_BYTES + 1], x[CF_CONFIG_BYTES];

	sample(&c);
	cf_buf_init(&b, 1024);
	CHECK_OK(cf_config_encode(&c, &b));

	for (size_t len = 0; len < CF_CONFIG_BYTES; len++) {
		CHECK_ERR(cf_config_decode(b.p, len, &d), CF_ERR_CORRUPT);
		CHECK(d.version == 0 && d.pack_target == 0);
	}
	memcpy(big, b.p, CF_CONFIG_BYTES);
	big[CF_CONFIG_BYTES] = 0;
	CHECK_ERR(cf_config_decode(big, sizeof(big), &d), CF_ERR_CORRUPT);

	for (size_t off = 0; off < 8; off++)
		CHECK_ERR(decode_after(b.p, off, b.p[off] ^ 0x20),
		    CF_ERR_CORRUPT);
	for (int v = 0; v < 256; v++)
		if (v != 1)
			CHECK_ERR(decode_after(b.p, 8, (uint8_t)v),
			    CF_ERR_VERSION);
	CHECK_ERR(decode_after(b.p, 8, 2), CF_ERR_VERSION);
	CHECK(strcmp(cf_error_message(), "repository format version 2 is "
	    "not supported by this coffre (it reads version 1); upgrade "
	    "coffre") == 0);
	/* A future version of another size still says "version". */
	memcpy(big, b.p, CF_CONFIG_BYTES);
	big[8] = 2;
	CHECK_ERR(cf_config_decode(big, sizeof(big), &d), CF_ERR_VERSION);
	CHECK_ERR(cf_config_decode(big, 9, &d), CF_ERR_VERSION);
	for (size_t off = 9; off < 16; off++)
		CHECK_ERR(decode_after(b.p, off, 1), CF_ERR_CORRUPT);

	/* Out-of-range values. */
	memcpy(x, b.p, sizeof(x));
	cf_put_u32(x + 76, 1024 * 1024 - 1);
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	cf_put_u32(x + 76, 128u * 1024 * 1024 + 1);
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	cf_put_u32(x + 76, 0);
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	memcpy(x, b.p, sizeof(x));
	x[80] = 20;
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	x[80] = 255;
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	memcpy(x, b.p, sizeof(x));
	cf_put_u32(x + 64, 32);     /* min < 64 */
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	memcpy(x, b.p, sizeof(x));
	cf_put_u32(x + 68, 1000000);    /* not a power of two */
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	memcpy(x, b.p, sizeof(x));
	cf_put_u32(x + 72, 0xffffffffu);    /* max above the hard limit */
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	memcpy(x, b.p, sizeof(x));
	cf_put_u32(x + 72, CF_CHUNK_AVG_DEFAULT);   /* max == avg */
	CHECK_ERR(cf_config_decode(x, sizeof(x), &d), CF_ERR_CORRUPT);
	CHECK(d.pack_target == 0);  /* nothing left behind on failure */

	/* Unchecked fields may hold anything. */
	memcpy(x, b.p, sizeof(x));
	x[20] ^= 1;
	x[40] ^= 1;
	x[88] ^= 0x80;
	CHECK_OK(cf_config_decode(x, sizeof(x), &d));
	CHECK(d.created < 0);
	cf_buf_free(&b);
}

int
main(void)
{
	CHECK_OK(cf_crypto_init());
	test_roundtrip();
	test_encode_invalid();
	test_decode_damage();
	return check_done("config");
}
