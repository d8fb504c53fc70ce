/* bytes.c: bounded reader, bounded buffer, hex (see bytes.h). */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void
cf_reader_init(struct cf_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = 0;
}

const uint8_t *
cf_read_ref(struct cf_reader *r, size_t n)
{
	static const uint8_t empty[1];
	const uint8_t *q;

	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	/* An empty input may be NULL: no arithmetic on it, and no NULL. */
	if (r->p == NULL)
		return empty;
	q = r->p + r->off;
	r->off += n;
	return q;
}

void
cf_read_bytes(struct cf_reader *r, void *out, size_t n)
{
	const uint8_t *q = cf_read_ref(r, n);

	if (q == NULL)
		memset(out, 0, n);
	else if (n > 0)
		memcpy(out, q, n);
}

uint8_t
cf_read_u8(struct cf_reader *r)
{
	const uint8_t *q = cf_read_ref(r, 1);
	return q ? q[0] : 0;
}

uint16_t
cf_read_u16(struct cf_reader *r)
{
	const uint8_t *q = cf_read_ref(r, 2);
	return q ? cf_get_u16(q) : 0;
}

uint32_t
cf_read_u32(struct cf_reader *r)
{
	const uint8_t *q = cf_read_ref(r, 4);
	return q ? cf_get_u32(q) : 0;
}

uint64_t
cf_read_u64(struct cf_reader *r)
{
	const uint8_t *q = cf_read_ref(r, 8);
	return q ? cf_get_u64(q) : 0;
}

size_t
cf_reader_left(const struct cf_reader *r)
{
	return r->bad ? 0 : r->len - r->off;
}

cf_status
cf_reader_done(const struct cf_reader *r, const char *what)
{
	if (r->bad)
		return cf_error_set(CF_ERR_CORRUPT, "%s: truncated", what);
	if (r->off != r->len)
		return cf_error_set(CF_ERR_CORRUPT,
		    "%s: %zu unexpected trailing bytes", what, r->len - r->off);
	return CF_OK;
}

void
cf_buf_init(struct cf_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

cf_status
cf_buf_reserve(struct cf_buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *q;

	if (n > b->max || b->len > b->max - n)
		return cf_error_set(CF_ERR_NOMEM,
		    "buffer would exceed its limit of %zu bytes", b->max);
	want = b->len + n;
	if (want <= b->cap)
		return CF_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if (cap > b->max)
		cap = b->max;
	/* Not realloc: the old block may hold secrets and must be wiped. */
	if ((q = malloc(cap)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory (%zu bytes)", cap);
	if (b->len > 0)
		memcpy(q, b->p, b->len);
	if (b->p != NULL) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = q;
	b->cap = cap;
	return CF_OK;
}

cf_status
cf_buf_append(struct cf_buf *b, const void *p, size_t n)
{
	cf_status rc;

	if (n == 0)
		return CF_OK;
	if ((rc = cf_buf_reserve(b, n)) != CF_OK)
		return rc;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return CF_OK;
}

cf_status
cf_buf_add_u8(struct cf_buf *b, uint8_t v)
{
	return cf_buf_append(b, &v, 1);
}

cf_status
cf_buf_add_u16(struct cf_buf *b, uint16_t v)
{
	uint8_t t[2];
	cf_put_u16(t, v);
	return cf_buf_append(b, t, 2);
}

cf_status
cf_buf_add_u32(struct cf_buf *b, uint32_t v)
{
	uint8_t t[4];
	cf_put_u32(t, v);
	return cf_buf_append(b, t, 4);
}

cf_status
cf_buf_add_u64(struct cf_buf *b, uint64_t v)
{
	uint8_t t[8];
	cf_put_u64(t, v);
	return cf_buf_append(b, t, 8);
}

void
cf_buf_reset(struct cf_buf *b)
{
	b->len = 0;
}

void
cf_buf_free(struct cf_buf *b)
{
	if (b->p != NULL) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void
cf_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

cf_status
cf_hex_decode(uint8_t *out, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (hex[2 * i] == '\0' || hex[2 * i + 1] == '\0')
			return cf_error_set(CF_ERR_INVALID, "hex string too short");
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return cf_error_set(CF_ERR_INVALID, "not a hex string");
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[2 * n] != '\0')
		return cf_error_set(CF_ERR_INVALID, "hex string too long");
	return CF_OK;
}
