/* test_bytes.c: little-endian helpers, the bounded reader, cf_buf, hex. */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "check.h"

static void
test_endian(void)
{
	uint8_t b[8];

	cf_put_u16(b, 0x1234);
	CHECK(b[0] == 0x34 && b[1] == 0x12);
	CHECK(cf_get_u16(b) == 0x1234);
	cf_put_u32(b, 0x89abcdefu);
	CHECK(b[0] == 0xef && b[1] == 0xcd && b[2] == 0xab && b[3] == 0x89);
	CHECK(cf_get_u32(b) == 0x89abcdefu);
	cf_put_u64(b, UINT64_C(0x0102030405060708));
	for (int i = 0; i < 8; i++)
		CHECK(b[i] == 8 - i);
	CHECK(cf_get_u64(b) == UINT64_C(0x0102030405060708));
	cf_put_u64(b, UINT64_MAX);
	CHECK(cf_get_u64(b) == UINT64_MAX);
	cf_put_u16(b, 0xffff);
	CHECK(cf_get_u16(b) == 0xffff);
}

static void
test_reader(void)
{
	static const uint8_t in[] = {
		0x01,                                   /* u8 */
		0x02, 0x01,                             /* u16 0x0102 */
		0x04, 0x03, 0x02, 0x01,                 /* u32 0x01020304 */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		'a', 'b', 'c',
	};
	struct cf_reader r;
	uint8_t out[8];
	const uint8_t *q;

	cf_reader_init(&r, in, sizeof(in));
	CHECK(cf_reader_left(&r) == sizeof(in));
	CHECK(cf_read_u8(&r) == 0x01);
	CHECK(cf_read_u16(&r) == 0x0102);
	CHECK(cf_read_u32(&r) == 0x01020304);
	CHECK(cf_read_u64(&r) == UINT64_C(0x0102030405060708));
	CHECK(cf_reader_left(&r) == 3);
	q = cf_read_ref(&r, 0);
	CHECK(q == in + 15);
	q = cf_read_ref(&r, 2);
	CHECK(q == in + 15 && q[0] == 'a');
	cf_read_bytes(&r, out, 1);
	CHECK(out[0] == 'c');
	CHECK(cf_reader_left(&r) == 0);
	CHECK_OK(cf_reader_done(&r, "test record"));
	CHECK(!r.bad);

	/* A short read yields zeros and sets the sticky flag. */
	CHECK(cf_read_u8(&r) == 0);
	CHECK(r.bad);
	CHECK(cf_reader_left(&r) == 0);
	CHECK_ERR(cf_reader_done(&r, "test record"), CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "test record") != NULL);
	CHECK(strstr(cf_error_message(), "truncated") != NULL);

	/* Sticky: once bad, even reads that would fit fail. */
	cf_reader_init(&r, in, sizeof(in));
	CHECK(cf_read_u32(&r) == 0x04010201u);  /* bytes 01 02 01 04 */
	CHECK(cf_read_ref(&r, sizeof(in)) == NULL);
	CHECK(r.bad);
	CHECK(cf_read_u8(&r) == 0);
	CHECK(cf_read_u16(&r) == 0);
	CHECK(cf_read_u64(&r) == 0);
	CHECK(cf_read_ref(&r, 0) == NULL);
	CHECK_ERR(cf_reader_done(&r, "x"), CF_ERR_CORRUPT);

	/* Each width fails on its own at the end, with nothing read. */
	cf_reader_init(&r, in, 1);
	CHECK(cf_read_u16(&r) == 0 && r.bad && r.off == 0);
	cf_reader_init(&r, in, 3);
	CHECK(cf_read_u32(&r) == 0 && r.bad);
	cf_reader_init(&r, in, 7);
	CHECK(cf_read_u64(&r) == 0 && r.bad);

	/* cf_read_bytes zero-fills a short read. */
	cf_reader_init(&r, in, 4);
	memset(out, 0xee, sizeof(out));
	cf_read_bytes(&r, out, 8);
	CHECK(r.bad);
	for (int i = 0; i < 8; i++)
		CHECK(out[i] == 0);

	/* Huge lengths do not wrap around. */
	cf_reader_init(&r, in, sizeof(in));
	cf_read_u8(&r);
	CHECK(cf_read_ref(&r, SIZE_MAX) == NULL && r.bad);
	cf_reader_init(&r, in, sizeof(in));
	cf_read_u8(&r);
	CHECK(cf_read_ref(&r, sizeof(in)) == NULL && r.bad);
	cf_reader_init(&r, in, sizeof(in));
	cf_read_u8(&r);
	CHECK(cf_read_ref(&r, sizeof(in) - 1) == in + 1 && !r.bad);

	/* Trailing bytes are an error too. */
	cf_reader_init(&r, in, sizeof(in));
	cf_read_u8(&r);
	CHECK_ERR(cf_reader_done(&r, "the index"), CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "the index") != NULL);
	CHECK(strstr(cf_error_message(), "17") != NULL);

	/* An empty (even NULL) input. */
	cf_reader_init(&r, NULL, 0);
	CHECK(cf_read_ref(&r, 0) != NULL);
	CHECK(!r.bad);
	CHECK_OK(cf_reader_done(&r, "empty"));
	cf_read_bytes(&r, out, 0);
	CHECK_OK(cf_reader_done(&r, "empty"));
	CHECK(cf_read_u8(&r) == 0 && r.bad);
	CHECK_ERR(cf_reader_done(&r, "empty"), CF_ERR_CORRUPT);
}

static void
test_buf(void)
{
	struct cf_buf b;
	uint8_t big[1000];

	cf_buf_init(&b, 10);
	CHECK(b.len == 0 && b.p == NULL);
	CHECK_OK(cf_buf_append(&b, "0123456789", 10));
	CHECK(b.len == 10 && memcmp(b.p, "0123456789", 10) == 0);
	CHECK(b.cap <= 10);
	CHECK_ERR(cf_buf_append(&b, "x", 1), CF_ERR_NOMEM);
	CHECK(b.len == 10);
	CHECK_ERR(cf_buf_add_u8(&b, 1), CF_ERR_NOMEM);
	CHECK_OK(cf_buf_append(&b, "", 0));
	CHECK_ERR(cf_buf_reserve(&b, SIZE_MAX), CF_ERR_NOMEM);
	CHECK_OK(cf_buf_reserve(&b, 0));
	cf_buf_reset(&b);
	CHECK(b.len == 0 && b.p != NULL);
	CHECK_OK(cf_buf_append(&b, "abc", 3));
	CHECK(memcmp(b.p, "abc", 3) == 0);
	cf_buf_free(&b);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
	cf_buf_free(&b);                /* twice is fine */

	/* An exact fit, then one byte over, with a large max. */
	cf_buf_init(&b, 1000);
	CHECK_ERR(cf_buf_reserve(&b, 1001), CF_ERR_NOMEM);
	CHECK(b.p == NULL);
	for (int i = 0; i < 1000; i++)
		big[i] = (uint8_t)(i * 7);
	for (int i = 0; i < 1000; i += 10)
		CHECK_OK(cf_buf_append(&b, big + i, 10));
	CHECK(b.len == 1000 && b.cap == 1000);
	CHECK(memcmp(b.p, big, 1000) == 0);     /* survives every growth */
	CHECK_ERR(cf_buf_append(&b, big, 1), CF_ERR_NOMEM);
	CHECK(b.len == 1000);
	cf_buf_free(&b);

	/* Little-endian adders. */
	cf_buf_init(&b, 64);
	CHECK_OK(cf_buf_add_u8(&b, 0xaa));
	CHECK_OK(cf_buf_add_u16(&b, 0x0102));
	CHECK_OK(cf_buf_add_u32(&b, 0x01020304));
	CHECK_OK(cf_buf_add_u64(&b, UINT64_C(0x0102030405060708)));
	CHECK(b.len == 15);
	CHECK(b.p[0] == 0xaa && b.p[1] == 0x02 && b.p[2] == 0x01);
	CHECK(cf_get_u32(b.p + 3) == 0x01020304);
	CHECK(cf_get_u64(b.p + 7) == UINT64_C(0x0102030405060708));
	cf_buf_free(&b);

	/* A u64 does not fit in 7 bytes: nothing of it is written. */
	cf_buf_init(&b, 7);
	CHECK_ERR(cf_buf_add_u64(&b, 1), CF_ERR_NOMEM);
	CHECK(b.len == 0);
	CHECK_OK(cf_buf_add_u32(&b, 1));
	CHECK_ERR(cf_buf_add_u32(&b, 1), CF_ERR_NOMEM);
	CHECK_OK(cf_buf_add_u16(&b, 1));
	CHECK_OK(cf_buf_add_u8(&b, 1));
	CHECK(b.len == 7);
	cf_buf_free(&b);

	/* A zeroed struct is a valid (empty, max 0) buffer to free. */
	memset(&b, 0, sizeof(b));
	CHECK_ERR(cf_buf_add_u8(&b, 1), CF_ERR_NOMEM);
	cf_buf_free(&b);
}

static void
test_hex(void)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t out[6];
	char hex[13];

	cf_hex_encode(hex, in, sizeof(in));
	CHECK(strcmp(hex, "00017f80abff") == 0);
	cf_hex_encode(hex, in, 0);
	CHECK(hex[0] == '\0');

	memset(out, 0, sizeof(out));
	CHECK_OK(cf_hex_decode(out, 6, "00017f80abff"));
	CHECK(memcmp(out, in, 6) == 0);
	memset(out, 0, sizeof(out));
	CHECK_OK(cf_hex_decode(out, 6, "00017F80ABFF"));
	CHECK(memcmp(out, in, 6) == 0);
	CHECK_OK(cf_hex_decode(out, 0, ""));

	CHECK_ERR(cf_hex_decode(out, 6, "00017f80abf"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "00017f80ab"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, ""), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "00017f80abff0"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "00017f80abff00"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 0, "a"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "00017g80abff"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "0x017f80abff"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, " 0017f80abff"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "00017f80abf "), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "00017f80ab:f"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 6, "-0017f80abff"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 1, "\xc3\xa9"), CF_ERR_INVALID);
	CHECK_ERR(cf_hex_decode(out, 1, "0\n"), CF_ERR_INVALID);

	/* Round trip of every byte value. */
	{
		uint8_t all[256], back[256];
		char h[513];

		for (int i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		cf_hex_encode(h, all, 256);
		CHECK(strlen(h) == 512);
		CHECK_OK(cf_hex_decode(back, 256, h));
		CHECK(memcmp(all, back, 256) == 0);
	}
}

int
main(void)
{
	test_endian();
	test_reader();
	test_buf();
	test_hex();
	return check_done("bytes");
}
