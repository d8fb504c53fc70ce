/*
 * bytes.h: explicit little-endian encoding, a bounds-checked reader for bytes
 * from outside, and a growable buffer with a hard maximum.
 *
 * Every on-disk and on-wire integer in coffre is little-endian and goes
 * through these helpers.  A cf_reader never reads past its end: a short read
 * sets its sticky `bad` flag and yields zeros, so a parser checks the flag
 * once at the end (cf_reader_done) instead of after every field.
 */
#ifndef COFFRE_BYTES_H
#define COFFRE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

static inline void
cf_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
cf_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
cf_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t
cf_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
cf_get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t
cf_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* A read cursor over untrusted bytes; `bad` is sticky. */
struct cf_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int bad;
};

void cf_reader_init(struct cf_reader *r, const void *p, size_t len);
uint8_t cf_read_u8(struct cf_reader *r);
uint16_t cf_read_u16(struct cf_reader *r);
uint32_t cf_read_u32(struct cf_reader *r);
uint64_t cf_read_u64(struct cf_reader *r);
/* cf_read_bytes(r, out, n): copy n bytes to ${out} (zeros if short). */
void cf_read_bytes(struct cf_reader *r, void *out, size_t n);
/*
 * cf_read_ref(r, n): a pointer to the next ${n} bytes inside the input
 * (no copy), or NULL with `bad` set if fewer remain.
 */
const uint8_t *cf_read_ref(struct cf_reader *r, size_t n);
/* cf_reader_left(r): bytes not yet read. */
size_t cf_reader_left(const struct cf_reader *r);
/*
 * cf_reader_done(r, what): CF_OK if no read was short and every byte was
 * consumed; else CF_ERR_CORRUPT with a message naming ${what}.
 */
cf_status cf_reader_done(const struct cf_reader *r, const char *what);

/*
 * A growable byte buffer that refuses to grow past `max` (CF_ERR_NOMEM).
 * Memory may hold secrets: cf_buf_free wipes before freeing.
 */
struct cf_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

/* cf_buf_init(b, max): an empty buffer that never grows beyond ${max}. */
void cf_buf_init(struct cf_buf *b, size_t max);
/* cf_buf_reserve(b, n): make room for ${n} more bytes. */
cf_status cf_buf_reserve(struct cf_buf *b, size_t n);
cf_status cf_buf_append(struct cf_buf *b, const void *p, size_t n);
cf_status cf_buf_add_u8(struct cf_buf *b, uint8_t v);
cf_status cf_buf_add_u16(struct cf_buf *b, uint16_t v);
cf_status cf_buf_add_u32(struct cf_buf *b, uint32_t v);
cf_status cf_buf_add_u64(struct cf_buf *b, uint64_t v);
/* cf_buf_reset(b): length 0, memory kept for reuse. */
void cf_buf_reset(struct cf_buf *b);
/* cf_buf_free(b): wipe and release; safe on a zeroed or freed buffer. */
void cf_buf_free(struct cf_buf *b);

/* cf_hex_encode(out, in, n): writes 2n hex digits and a NUL to ${out}. */
void cf_hex_encode(char *out, const uint8_t *in, size_t n);
/*
 * cf_hex_decode(out, n, hex): parse exactly 2n lowercase or uppercase hex
 * digits (and nothing more) into ${out}; CF_ERR_INVALID otherwise.
 */
cf_status cf_hex_decode(uint8_t *out, size_t n, const char *hex);

#endif
