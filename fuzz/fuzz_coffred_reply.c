/*
 * fuzz_coffred_reply.c: what a coffred server sends back, as the client
 * parses it.  The first byte picks the parser:
 *   0: a listing page (cf_coffred_parse_list).  Byte 1 picks the directory
 *      (low 3 bits) and whether "after" (bit 3) and Coffre-Next (bit 4)
 *      are given; then "after" and "next" as NUL-terminated strings; the
 *      rest is the body.  An accepted page must hold count valid,
 *      increasing names under the directory.
 *   1: an error body (cf_coffred_parse_error): the code must then be
 *      [a-z_] and the message printable ASCII.
 *   2: a Content-Range value (cf_coffred_parse_range) and a length
 *      (cf_coffred_parse_u64), cut at the first NUL.
 *   3: cf_http_text: the output must be printable and fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "backend_coffred.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const dirs[] = {
	"keys", "data", "index", "snapshots", "locks", "keys", "data", "index",
};

/* cstr(p, n, off, out): the NUL-terminated string at *off, or NULL. */
static const char *
cstr(const uint8_t *p, size_t n, size_t *off)
{
	const uint8_t *z;
	const char *s;

	if (*off >= n || (z = memchr(p + *off, '\0', n - *off)) == NULL)
		return NULL;
	s = (const char *)p + *off;
	*off = (size_t)(z - p) + 1;
	return s;
}

static void
fuzz_list(const uint8_t *p, size_t n)
{
	const char *dir, *after = NULL, *next = NULL, *prev, *name;
	size_t off = 1, count;
	char *body;

	if (n < 1)
		return;
	dir = dirs[p[0] & 7];
	if (p[0] & 8) {
		if ((after = cstr(p, n, &off)) == NULL)
			return;
	}
	if (p[0] & 16) {
		if ((next = cstr(p, n, &off)) == NULL)
			return;
	}
	if ((body = malloc(n - off + 1)) == NULL)
		return;
	memcpy(body, p + off, n - off);
	if (cf_coffred_parse_list(body, n - off, dir, after, next,
	    &count) == CF_OK) {
		name = body;
		prev = after;
		if (count > CF_COFFRED_LIST_MAX)
			abort();
		for (size_t i = 0; i < count; i++) {
			if (!cf_backend_name_ok(name) ||
			    strncmp(name, dir, strlen(dir)) != 0 ||
			    name[strlen(dir)] != '/' ||
			    (prev != NULL && strcmp(name, prev) <= 0) ||
			    name + strlen(name) + 1 > body + (n - off))
				abort();
			prev = name;
			name += strlen(name) + 1;
		}
		if (name != body + (n - off))
			abort();
		if (next != NULL && (prev == NULL || strcmp(prev, next) != 0))
			abort();
	}
	free(body);
}

static void
fuzz_error(const uint8_t *p, size_t n)
{
	char code[CF_COFFRED_CODE_MAX + 1], msg[CF_COFFRED_MESSAGE_MAX];
	uint8_t *copy;

	/* An exact-size copy, so a read past the end is caught. */
	if ((copy = malloc(n + 1)) == NULL)
		return;
	memcpy(copy, p, n);
	if (cf_coffred_parse_error(copy, n, code, msg) == 0) {
		if (code[0] == '\0' || strlen(code) > CF_COFFRED_CODE_MAX ||
		    strlen(msg) >= CF_COFFRED_MESSAGE_MAX)
			abort();
		for (const char *q = code; *q != '\0'; q++)
			if (!((*q >= 'a' && *q <= 'z') || *q == '_'))
				abort();
		for (const char *q = msg; *q != '\0'; q++)
			if (*q < 0x20 || *q > 0x7e)
				abort();
	} else if (code[0] != '\0' || msg[0] != '\0') {
		abort();
	}
	free(copy);
}

static void
fuzz_numbers(const uint8_t *p, size_t n)
{
	uint64_t a, b, t;
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return;
	memcpy(s, p, n);
	s[n] = '\0';
	if (cf_coffred_parse_range(s, &a, &b, &t) == 0 &&
	    !(a <= b && b < t))
		abort();
	(void)cf_coffred_parse_u64(s, &a);
	free(s);
}

static void
fuzz_text(const uint8_t *p, size_t n)
{
	char out[64];
	size_t sz = n > 0 ? 4 + p[0] % 60 : 4;

	cf_http_text(out, sz, p, n);
	if (strlen(out) >= sz)
		abort();
	for (const char *q = out; *q != '\0'; q++)
		if (*q < 0x20 || *q > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 300000)
		return 0;
	switch (data[0] & 3) {
	case 0: fuzz_list(data + 1, size - 1); break;
	case 1: fuzz_error(data + 1, size - 1); break;
	case 2: fuzz_numbers(data + 1, size - 1); break;
	default: fuzz_text(data + 1, size - 1); break;
	}
	return 0;
}
