/*
 * backend_coffred.h: the parsers of lib/backend_coffred.c, exposed for the
 * unit tests and fuzz targets (tests/unit/test_backend_coffred.c,
 * fuzz/fuzz_location.c, fuzz/fuzz_coffred_reply.c).  Everything they read
 * comes from the user (a location) or from the network (a reply), so each
 * is strict, bounded, and never reads past its input.
 */
#ifndef COFFRE_BACKEND_COFFRED_H
#define COFFRE_BACKEND_COFFRED_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CF_COFFRED_HOST_MAX 253
#define CF_COFFRED_TENANT_MAX 32
#define CF_COFFRED_PINS_MAX 4
/* "sha256//" + 44 base64 characters (a SHA-256, padded). */
#define CF_COFFRED_PIN_LEN 52
#define CF_COFFRED_LIST_MAX 1000        /* names in one listing page */
#define CF_COFFRED_CODE_MAX 32
#define CF_COFFRED_MESSAGE_MAX 256

/* A parsed location https://HOST[:PORT]/TENANT[?pin=PIN[;PIN...]]. */
struct cf_coffred_loc {
	char host[CF_COFFRED_HOST_MAX + 3];  /* IPv6 literal keeps [ ] */
	unsigned port;                       /* 0: none given (443) */
	char tenant[CF_COFFRED_TENANT_MAX + 1];
	/* The pins as curl takes them, ';'-separated; "" if none. */
	char pin[CF_COFFRED_PINS_MAX * (CF_COFFRED_PIN_LEN + 1)];
};

/*
 * cf_coffred_parse_location(s, out): parse ${s} strictly: scheme exactly
 * "https://"; HOST a DNS name ([A-Za-z0-9-] labels of 1 to 63 bytes
 * joined by '.', at most 253 bytes, no leading/trailing '-' in a label),
 * an IPv4 address or a bracketed IPv6 literal (hex digits, ':' and '.'
 * only, no zone); PORT 1 to 65535, no leading zero; TENANT 1 to 32 bytes
 * of [a-z0-9-] not starting with '-'; no userinfo, no trailing '/', no
 * fragment, no percent-encoding; the only query is pin= with 1 to 4
 * "sha256//" + 44-character base64 pins joined by ';'.  CF_ERR_INVALID
 * with a message saying what is wrong (which never quotes ${s}).
 */
cf_status cf_coffred_parse_location(const char *s, struct cf_coffred_loc *out);

/*
 * cf_coffred_parse_list(p, n, dir, after, next, count): check a listing
 * page in place: ${n} bytes at ${p} are names each followed by '\n'; each
 * name must pass cf_backend_name_ok, start with "${dir}/", be greater
 * (bytewise) than the one before and than ${after} (may be NULL); at most
 * CF_COFFRED_LIST_MAX names.  ${next} (the Coffre-Next header, NULL if
 * absent) must, when present, be the last name of a non-empty page.  On
 * CF_OK every '\n' has been replaced by a NUL (the names can be walked
 * with strlen) and *${count} is the number of names.  CF_ERR_CORRUPT with
 * a message on any fault (${p} is then unspecified).
 */
cf_status cf_coffred_parse_list(char *p, size_t n, const char *dir,
    const char *after, const char *next, size_t *count);

/*
 * cf_coffred_parse_error(p, n, code, msg): parse an error body
 * {"error":"CODE","message":"TEXT"}: one JSON object of string members
 * only (others ignored, no nesting, no duplicate), CODE 1 to 32 of
 * [a-z_], TEXT decoded (\" \\ \/ \b \f \n \r \t \uXXXX) to at most
 * CF_COFFRED_MESSAGE_MAX - 1 bytes where anything but printable ASCII
 * becomes '?'.  Both members are required.  Returns 0 and fills ${code}
 * and ${msg}, or -1 (both then "") for anything else.  Sets no error.
 */
int cf_coffred_parse_error(const uint8_t *p, size_t n,
    char code[CF_COFFRED_CODE_MAX + 1], char msg[CF_COFFRED_MESSAGE_MAX]);

/*
 * cf_coffred_parse_range(v, first, last, total): parse a Content-Range
 * value "bytes FIRST-LAST/TOTAL" (TOTAL may be "*": *${total} is then
 * UINT64_MAX): decimal numbers without sign or leading zero, at most
 * 2^64 - 1, FIRST <= LAST, LAST < TOTAL.  Returns 0 or -1.
 */
int cf_coffred_parse_range(const char *v, uint64_t *first, uint64_t *last,
    uint64_t *total);

/*
 * cf_coffred_parse_u64(v, out): a decimal header value (Content-Length):
 * 1 to 20 digits, no sign, no leading zero, no overflow.  0 or -1.
 */
int cf_coffred_parse_u64(const char *v, uint64_t *out);

#endif
