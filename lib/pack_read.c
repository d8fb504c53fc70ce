/* pack_read.c: open, authenticate and parse packs, read blobs (see pack.h). */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "pack_internal.h"

struct cf_blob_reader {
	ZSTD_DCtx *dctx;        /* reused for every blob */
	struct cf_buf plain;    /* scratch: decrypted compression || data */
	struct cf_buf raw;      /* cf_blob_open: decompressed data */
};

cf_status
cf_pack_open_key(const uint8_t *head, size_t n,
    const uint8_t repo_pk[CF_BOX_PK_BYTES],
    const uint8_t repo_sk[CF_BOX_SK_BYTES], uint8_t pack_key[CF_KEY_BYTES])
{
	sodium_memzero(pack_key, CF_KEY_BYTES);
	if (n < CF_PACK_HEAD_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "pack is too short (%zu bytes) to be a coffre pack", n);
	if (memcmp(head, PACK_MAGIC, PACK_MAGIC_BYTES) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "not a coffre pack");
	if (head[PACK_MAGIC_BYTES] != PACK_VERSION)
		return cf_error_set(CF_ERR_VERSION,
		    "pack format version %u is not supported by this coffre "
		    "(it reads version %u); upgrade coffre",
		    (unsigned)head[PACK_MAGIC_BYTES], PACK_VERSION);
	for (size_t i = 0; i < PACK_RESERVED_BYTES; i++)
		if (head[PACK_MAGIC_BYTES + 1 + i] != 0)
			return cf_error_set(CF_ERR_CORRUPT,
			    "pack has non-zero reserved bytes");
	if (cf_unseal_key(pack_key, head + CF_PACK_HEAD_BYTES -
	    CF_SEALED_KEY_BYTES, repo_pk, repo_sk) != CF_OK) {
		sodium_memzero(pack_key, CF_KEY_BYTES);
		return cf_error_set(CF_ERR_CORRUPT,
		    "pack key does not open with this repository's key "
		    "(damaged pack, or a pack of another repository)");
	}
	return CF_OK;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct cf_pack_entry *x = a, *y = b;

	return (x->offset > y->offset) - (x->offset < y->offset);
}

/* entries_check(e, count): CF_OK if no two entries overlap. */
static cf_status
entries_check(const struct cf_pack_entry *e, size_t count)
{
	struct cf_pack_entry *s;
	cf_status rc = CF_OK;

	if ((s = malloc(count * sizeof(*s))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	memcpy(s, e, count * sizeof(*s));
	qsort(s, count, sizeof(*s), entry_cmp);
	for (size_t i = 0; i + 1 < count; i++) {
		if ((uint64_t)s[i].offset + s[i].length > s[i + 1].offset) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "pack header lists overlapping blobs");
			break;
		}
	}
	free(s);
	return rc;
}

uint32_t
cf_pack_header_length(const uint8_t trailer[4])
{
	return cf_get_u32(trailer);
}

/*
 * parse_header(hdr, hlen, hoff, index_key, entries, count): authenticate
 * and parse the ${hlen}-byte encrypted header found at offset ${hoff} of a
 * pack (so blobs must end by ${hoff}).
 */
static cf_status
parse_header(const uint8_t *hdr, size_t hlen, size_t hoff,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_pack_entry **entries,
    size_t *count)
{
	struct cf_reader rd;
	struct cf_pack_entry *e = NULL;
	uint8_t *plain = NULL;
	size_t plen, cnt = 0;
	cf_status rc;

	plen = hlen - CF_AEAD_OVERHEAD;
	if ((plain = malloc(plen)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((rc = cf_aead_open(plain, index_key, PACK_HEADER_AD,
	    PACK_HEADER_AD_BYTES, hdr, hlen)) != CF_OK) {
		cf_error_prefix("pack header: ");
		goto err1;
	}

	cf_reader_init(&rd, plain, plen);
	cnt = cf_read_u32(&rd);
	if (cnt == 0 || cnt > cf_reader_left(&rd) / CF_PACK_ENTRY_BYTES) {
		rc = cf_error_set(CF_ERR_CORRUPT,
		    "pack header declares %zu blobs, which it cannot hold",
		    cnt);
		goto err1;
	}
	if ((e = malloc(cnt * sizeof(*e))) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err1;
	}
	for (size_t i = 0; i < cnt; i++) {
		e[i].type = cf_read_u8(&rd);
		cf_read_bytes(&rd, e[i].id, CF_HASH_BYTES);
		e[i].offset = cf_read_u32(&rd);
		e[i].length = cf_read_u32(&rd);
		e[i].raw_length = cf_read_u32(&rd);
		if (e[i].type != CF_BLOB_DATA && e[i].type != CF_BLOB_TREE) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "pack header: blob %zu has unknown type %u", i,
			    (unsigned)e[i].type);
			goto err2;
		}
		if (e[i].offset < CF_PACK_HEAD_BYTES || e[i].offset > hoff ||
		    e[i].length < PACK_BLOB_MIN ||
		    e[i].length > hoff - e[i].offset) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "pack header: blob %zu lies outside the blob area",
			    i);
			goto err2;
		}
		if (e[i].raw_length > CF_BLOB_MAX) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "pack header: blob %zu is larger than any coffre "
			    "writes", i);
			goto err2;
		}
	}
	/* The reader cannot fail here: cnt was bounded by what is left. */
	{
		size_t left = cf_reader_left(&rd);
		const uint8_t *pad = cf_read_ref(&rd, left);

		if (left > 0 && !sodium_is_zero(pad, left)) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "pack header: padding is not zero");
			goto err2;
		}
	}
	if ((rc = cf_reader_done(&rd, "pack header")) != CF_OK)
		goto err2;
	if ((rc = entries_check(e, cnt)) != CF_OK)
		goto err2;
	/*
	 * Blobs lie back to back from the fixed head to the header: inside
	 * the area and not overlapping, they must fill it exactly.  This also
	 * refuses a wrong pack size given to cf_pack_parse_tail.
	 */
	{
		uint64_t sum = 0;

		for (size_t i = 0; i < cnt; i++)
			sum += e[i].length;
		if (sum != (uint64_t)hoff - CF_PACK_HEAD_BYTES) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "pack header: its blobs do not fill the blob area "
			    "(wrong pack size, or not this pack's header)");
			goto err2;
		}
	}

	sodium_memzero(plain, plen);
	free(plain);
	*entries = e;
	*count = cnt;
	return CF_OK;

err2:
	free(e);
err1:
	sodium_memzero(plain, plen);
	free(plain);
	return rc;
}

cf_status
cf_blob_reader_new(struct cf_blob_reader **out)
{
	struct cf_blob_reader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((r->dctx = ZSTD_createDCtx()) == NULL) {
		free(r);
		return cf_error_set(CF_ERR_NOMEM,
		    "out of memory for decompression");
	}
	cf_buf_init(&r->plain, 1 + CF_BLOB_MAX);
	cf_buf_init(&r->raw, CF_BLOB_MAX);
	*out = r;
	return CF_OK;
}

void
cf_blob_reader_free(struct cf_blob_reader *r)
{
	if (r == NULL)
		return;
	ZSTD_freeDCtx(r->dctx);
	cf_buf_free(&r->plain);
	cf_buf_free(&r->raw);
	free(r);
}

/* blob_error(e, what): CF_ERR_CORRUPT naming the blob by its id's start. */
static cf_status
blob_error(const struct cf_pack_entry *e, const char *what)
{
	char hex[17];

	cf_hex_encode(hex, e->id, 8);
	return cf_error_set(CF_ERR_CORRUPT, "blob %s: %s", hex, what);
}

/* entry_check(e): the limits every stored blob's entry must respect. */
static cf_status
entry_check(const struct cf_pack_entry *e)
{
	if (e->type != CF_BLOB_DATA && e->type != CF_BLOB_TREE)
		return blob_error(e, "unknown blob type");
	if (e->length < PACK_BLOB_MIN)
		return blob_error(e, "stored blob is too short");
	if (e->raw_length > CF_BLOB_MAX)
		return blob_error(e, "blob is larger than any coffre writes");
	/*
	 * A writer stores a blob compressed only if that makes it smaller, so
	 * no stored blob exceeds its data by more than the fixed overhead.
	 */
	if (e->length > (uint64_t)e->raw_length + PACK_BLOB_MIN)
		return blob_error(e, "stored blob is larger than its data");
	return CF_OK;
}

/*
 * blob_plain(r, e, id_key, plain, plen, zdst, data): from a blob's decrypted
 * plaintext (compression byte, body), its data: the body itself when stored,
 * else decompressed into ${zdst} (raw_length bytes; used only then); checked
 * against its id.  *data points at the data on success; on a mismatch the
 * data is wiped.
 */
static cf_status
blob_plain(struct cf_blob_reader *r, const struct cf_pack_entry *e,
    const uint8_t id_key[CF_KEY_BYTES], uint8_t *plain, size_t plen,
    uint8_t *zdst, uint8_t **data)
{
	uint8_t id[CF_HASH_BYTES], *body = plain + 1, *dst;
	size_t blen = plen - 1, raw = e->raw_length, z;

	switch (plain[0]) {
	case PACK_COMP_STORED:
		if (blen != raw)
			return blob_error(e, "stored data has the wrong length");
		dst = body;
		break;
	case PACK_COMP_ZSTD:
		if (ZSTD_getFrameContentSize(body, blen) != raw)
			return blob_error(e,
			    "compressed data declares the wrong length");
		dst = zdst;
		z = ZSTD_decompressDCtx(r->dctx, dst, raw, body, blen);
		if (ZSTD_isError(z) || z != raw) {
			if (raw > 0)
				sodium_memzero(dst, raw);
			return blob_error(e,
			    "compressed data does not decompress");
		}
		break;
	default:
		return blob_error(e, "unknown compression");
	}
	cf_blob_id(id, id_key, e->type, dst, raw);
	if (sodium_memcmp(id, e->id, CF_HASH_BYTES) != 0) {
		if (raw > 0)
			sodium_memzero(dst, raw);
		return blob_error(e, "blob content does not match its id");
	}
	*data = dst;
	return CF_OK;
}

cf_status
cf_blob_read(struct cf_blob_reader *r,
    const uint8_t pack_key[CF_KEY_BYTES], const uint8_t id_key[CF_KEY_BYTES],
    const struct cf_pack_entry *entry, const uint8_t *stored,
    struct cf_buf *out)
{
	uint8_t ad[PACK_BLOB_AD_BYTES], dummy, *dst, *data;
	size_t plen, raw = entry->raw_length;
	cf_status rc;

	cf_buf_reset(out);
	if ((rc = entry_check(entry)) != CF_OK)
		return rc;
	plen = entry->length - CF_AEAD_OVERHEAD;
	cf_buf_reset(&r->plain);
	if ((rc = cf_buf_reserve(&r->plain, plen)) != CF_OK)
		return rc;
	ad[0] = entry->type;
	memcpy(ad + 1, entry->id, CF_HASH_BYTES);
	if (cf_aead_open(r->plain.p, pack_key, ad, sizeof(ad), stored,
	    entry->length) != CF_OK)
		return blob_error(entry, "authentication failed (damaged or "
		    "tampered with, or not the blob the index names)");
	r->plain.len = plen;

	if ((rc = cf_buf_reserve(out, raw)) != CF_OK)
		return rc;
	/* An empty blob may leave out->p NULL: give zstd a real pointer. */
	dst = out->p != NULL ? out->p : &dummy;
	if ((rc = blob_plain(r, entry, id_key, r->plain.p, plen, dst,
	    &data)) != CF_OK)
		return rc;
	if (data != dst && raw > 0)
		memcpy(dst, data, raw);
	out->len = raw;
	return CF_OK;
}

cf_status
cf_blob_open(struct cf_blob_reader *r,
    const uint8_t pack_key[CF_KEY_BYTES], const uint8_t id_key[CF_KEY_BYTES],
    const struct cf_pack_entry *entry, uint8_t *stored, const uint8_t **data)
{
	uint8_t ad[PACK_BLOB_AD_BYTES], *plain;
	size_t raw = entry->raw_length;
	cf_status rc;

	*data = NULL;
	if ((rc = entry_check(entry)) != CF_OK)
		return rc;
	ad[0] = entry->type;
	memcpy(ad + 1, entry->id, CF_HASH_BYTES);
	if (cf_aead_open_inplace(stored, pack_key, ad, sizeof(ad),
	    entry->length) != CF_OK)
		return blob_error(entry, "authentication failed (damaged or "
		    "tampered with, or not the blob the index names)");
	plain = stored + CF_NONCE_BYTES;
	/* A stored blob is opened where it lies: no buffer for it. */
	cf_buf_reset(&r->raw);
	if (plain[0] == PACK_COMP_ZSTD &&
	    (rc = cf_buf_reserve(&r->raw, raw ? raw : 1)) != CF_OK)
		return rc;
	if ((rc = blob_plain(r, entry, id_key, plain,
	    entry->length - CF_AEAD_OVERHEAD, r->raw.p, &plain)) != CF_OK)
		return rc;
	*data = plain;
	return CF_OK;
}

/* header_bounds(n, hlen): CF_OK if a header of ${hlen} fits a pack of ${n}. */
static cf_status
header_bounds(uint64_t n, size_t hlen)
{
	if (n > CF_PACK_MAX)
		return cf_error_set(CF_ERR_CORRUPT,
		    "pack is larger (%llu bytes) than any coffre writes",
		    (unsigned long long)n);
	if (n < CF_PACK_HEAD_BYTES + PACK_HEADER_MIN + PACK_TRAILER_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "pack is too short (%llu bytes)", (unsigned long long)n);
	if (hlen < PACK_HEADER_MIN ||
	    hlen > n - CF_PACK_HEAD_BYTES - PACK_TRAILER_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "pack trailer gives an impossible header length (%zu)",
		    hlen);
	return CF_OK;
}

cf_status
cf_pack_parse(const uint8_t *pack, size_t n,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_pack_entry **entries,
    size_t *count)
{
	size_t hlen, hoff;
	cf_status rc;

	*entries = NULL;
	*count = 0;
	hlen = n >= PACK_TRAILER_BYTES ?
	    cf_get_u32(pack + n - PACK_TRAILER_BYTES) : 0;
	if ((rc = header_bounds(n, hlen)) != CF_OK)
		return rc;
	hoff = n - PACK_TRAILER_BYTES - hlen;
	return parse_header(pack + hoff, hlen, hoff, index_key, entries, count);
}

cf_status
cf_pack_parse_tail(const uint8_t *tail, size_t n, uint64_t pack_size,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_pack_entry **entries,
    size_t *count)
{
	size_t hlen;
	cf_status rc;

	*entries = NULL;
	*count = 0;
	if (n < PACK_TRAILER_BYTES || n > pack_size)
		return cf_error_set(CF_ERR_CORRUPT, "pack tail is too short");
	hlen = cf_get_u32(tail + n - PACK_TRAILER_BYTES);
	if ((rc = header_bounds(pack_size, hlen)) != CF_OK)
		return rc;
	if (hlen > n - PACK_TRAILER_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "pack tail does not hold the whole header");
	return parse_header(tail + n - PACK_TRAILER_BYTES - hlen, hlen,
	    (size_t)(pack_size - PACK_TRAILER_BYTES - hlen), index_key,
	    entries, count);
}
