/* config.c: the repository's public configuration (see config.h). */
#include "config.h"

#include <string.h>

#define CONFIG_MAGIC "COFFRECF"
#define MAGIC_BYTES 8
#define RESERVED_BYTES 7
#define PACK_TARGET_MIN (1u * 1024 * 1024)
#define PACK_TARGET_MAX (128u * 1024 * 1024)
#define ZSTD_LEVEL_MAX 19

/* check_values(c, code): ${code} with a message if a field is out of range. */
static cf_status
check_values(const struct cf_config *c, cf_status code)
{
	if (cf_chunker_params_check(&c->chunker) != CF_OK)
		return cf_error_set(code, "repository config: invalid chunk "
		    "sizes (min %u, average %u, max %u)",
		    (unsigned)c->chunker.min, (unsigned)c->chunker.avg,
		    (unsigned)c->chunker.max);
	if (c->pack_target < PACK_TARGET_MIN ||
	    c->pack_target > PACK_TARGET_MAX)
		return cf_error_set(code, "repository config: pack size %u "
		    "is outside 1 MiB .. 128 MiB", (unsigned)c->pack_target);
	if (c->zstd_level > ZSTD_LEVEL_MAX)
		return cf_error_set(code, "repository config: compression "
		    "level %u is above %d", (unsigned)c->zstd_level,
		    ZSTD_LEVEL_MAX);
	return CF_OK;
}

/*
 * This build writes only the current format: the encoding always carries
 * CF_FORMAT_VERSION, whatever c->version holds.
 */
cf_status
cf_config_encode(const struct cf_config *c, struct cf_buf *out)
{
	uint8_t b[CF_CONFIG_BYTES];
	cf_status rc;

	if ((rc = check_values(c, CF_ERR_INVALID)) != CF_OK)
		return rc;
	memset(b, 0, sizeof(b));
	memcpy(b, CONFIG_MAGIC, MAGIC_BYTES);
	b[8] = CF_FORMAT_VERSION;
	/* 9..15 reserved, zero */
	memcpy(b + 16, c->repo_id, CF_REPO_ID_BYTES);
	memcpy(b + 32, c->repo_pk, CF_BOX_PK_BYTES);
	cf_put_u32(b + 64, c->chunker.min);
	cf_put_u32(b + 68, c->chunker.avg);
	cf_put_u32(b + 72, c->chunker.max);
	cf_put_u32(b + 76, c->pack_target);
	b[80] = c->zstd_level;
	cf_put_u64(b + 81, (uint64_t)c->created);
	return cf_buf_append(out, b, sizeof(b));
}

cf_status
cf_config_decode(const uint8_t *p, size_t n, struct cf_config *c)
{
	static const uint8_t zero[RESERVED_BYTES];
	struct cf_config t;
	struct cf_reader r;
	const uint8_t *res;
	cf_status rc;

	memset(c, 0, sizeof(*c));
	if (n < MAGIC_BYTES + 1 || memcmp(p, CONFIG_MAGIC, MAGIC_BYTES) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "not a coffre repository config");
	/* The version comes before the size: another version may differ. */
	if (p[8] != CF_FORMAT_VERSION)
		return cf_error_set(CF_ERR_VERSION, "repository format version "
		    "%u is not supported by this coffre (it reads version %d); "
		    "upgrade coffre", (unsigned)p[8], CF_FORMAT_VERSION);
	if (n != CF_CONFIG_BYTES)
		return cf_error_set(CF_ERR_CORRUPT, "repository config has "
		    "%zu bytes instead of %d", n, CF_CONFIG_BYTES);

	memset(&t, 0, sizeof(t));
	cf_reader_init(&r, p + 9, n - 9);
	res = cf_read_ref(&r, RESERVED_BYTES);
	if (res == NULL || memcmp(res, zero, RESERVED_BYTES) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "repository config: reserved bytes are not zero");
	t.version = p[8];
	cf_read_bytes(&r, t.repo_id, CF_REPO_ID_BYTES);
	cf_read_bytes(&r, t.repo_pk, CF_BOX_PK_BYTES);
	t.chunker.min = cf_read_u32(&r);
	t.chunker.avg = cf_read_u32(&r);
	t.chunker.max = cf_read_u32(&r);
	t.pack_target = cf_read_u32(&r);
	t.zstd_level = cf_read_u8(&r);
	t.created = (int64_t)cf_read_u64(&r);
	if ((rc = cf_reader_done(&r, "repository config")) != CF_OK)
		return rc;
	if ((rc = check_values(&t, CF_ERR_CORRUPT)) != CF_OK)
		return rc;
	*c = t;
	return CF_OK;
}
