/*
 * test_backend_coffred.c: the coffred backend's parsers of outside input:
 * locations, listing pages, error bodies, Content-Range and lengths.  The
 * backend against a real server is tested by
 * tests/integration/remote_backup.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "backend_coffred.h"
#include "check.h"

#define PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN2 "sha256//n8BjoPEf3Hxh5A6Ux+Ok9xyY5P6sMaCX1xY4I4pWKxA="
#define HEX64 "0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef"

static void
loc_ok(const char *s, const char *host, unsigned port, const char *tenant,
    const char *pin)
{
	struct cf_coffred_loc l;

	CHECK_OK(cf_coffred_parse_location(s, &l));
	CHECK(strcmp(l.host, host) == 0);
	CHECK(l.port == port);
	CHECK(strcmp(l.tenant, tenant) == 0);
	CHECK(strcmp(l.pin, pin) == 0);
}

static void
loc_bad(const char *s)
{
	struct cf_coffred_loc l;

	if (cf_coffred_parse_location(s, &l) != CF_ERR_INVALID) {
		fprintf(stderr, "accepted: %s\n", s);
		CHECK(0);
	}
	/* Nothing of a refused location is left behind. */
	CHECK(l.host[0] == '\0' || l.tenant[0] == '\0');
	CHECK(l.pin[0] == '\0');
}

static void
test_location(void)
{
	char big[400];

	loc_ok("https://example.org/practice", "example.org", 0, "practice",
	    "");
	loc_ok("https://backup.example.org:8443/cab-1", "backup.example.org",
	    8443, "cab-1", "");
	loc_ok("https://127.0.0.1:1/a", "127.0.0.1", 1, "a", "");
	loc_ok("https://[::1]:65535/t0?pin=" PIN, "[::1]", 65535, "t0", PIN);
	loc_ok("https://h/x?pin=" PIN ";" PIN2, "h", 0, "x", PIN ";" PIN2);
	loc_ok("https://Host-1.Example/abcdefghijklmnopqrstuvwxyz012345",
	    "Host-1.Example", 0, "abcdefghijklmnopqrstuvwxyz012345", "");

	loc_bad("");
	loc_bad("http://example.org/t");
	loc_bad("HTTPS://example.org/t");
	loc_bad("https://");
	loc_bad("https:///t");
	loc_bad("https://example.org");
	loc_bad("https://example.org/");
	loc_bad("https://example.org/t/");
	loc_bad("https://example.org/t/x");
	loc_bad("https://example.org//t");
	loc_bad("https://example.org/-t");
	loc_bad("https://example.org/T");
	loc_bad("https://example.org/t_1");
	loc_bad("https://example.org/abcdefghijklmnopqrstuvwxyz0123456");
	loc_bad("https://user:pw@example.org/t");
	loc_bad("https://example.org/t#frag");
	loc_bad("https://example.org/t?");
	loc_bad("https://example.org/t?pin=");
	loc_bad("https://example.org/t?pin=sha256//abc");
	loc_bad("https://example.org/t?pin=" PIN ";");
	loc_bad("https://example.org/t?pin=" PIN "&x=1");
	loc_bad("https://example.org/t?x=1");
	loc_bad("https://example.org/t?pin=sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	/* Not canonical base64: the last character carries non-zero bits. */
	loc_bad("https://example.org/t?pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=");
	loc_bad("https://h/t?pin=" PIN ";" PIN ";" PIN ";" PIN ";" PIN);
	loc_bad("https://example.org/t%41");
	loc_bad("https://exa%6dple.org/t");
	loc_bad("https://example.org:0/t");
	loc_bad("https://example.org:080/t");
	loc_bad("https://example.org:65536/t");
	loc_bad("https://example.org:123456/t");
	loc_bad("https://example.org:/t");
	loc_bad("https://example.org:99999999999999999999999/t");
	loc_bad("https://-example.org/t");
	loc_bad("https://example-.org/t");
	loc_bad("https://example..org/t");
	loc_bad("https://.example.org/t");
	loc_bad("https://example.org./t");
	loc_bad("https://exa mple.org/t");
	loc_bad("https://exam_ple.org/t");
	loc_bad("https://[::1/t");
	loc_bad("https://[]/t");
	loc_bad("https://[fe80::1%eth0]/t");
	loc_bad("https://[1234]/t");
	loc_bad("https://example.org/t\n");
	loc_bad("https://example.org/t ");
	/* A label of 64 bytes, a host of more than 253. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "https://", 8);
	memcpy(big + 8 + 64, "/t", 3);
	loc_bad(big);
	memset(big, 'a', sizeof(big));
	memcpy(big, "https://", 8);
	for (int i = 8 + 50; i < 8 + 300; i += 51)
		big[i] = '.';
	memcpy(big + 8 + 300, "/t", 3);
	loc_bad(big);
	/* The message never quotes the location. */
	loc_bad("https://example.org/t?pin=SECRETSTUFF");
	CHECK(strstr(cf_error_message(), "SECRETSTUFF") == NULL);
}

static cf_status
list(const char *body, const char *dir, const char *after, const char *next,
    size_t *count)
{
	char buf[8192];
	size_t n = strlen(body);

	if (n >= sizeof(buf))
		return CF_ERR_INVALID;
	memcpy(buf, body, n);
	return cf_coffred_parse_list(buf, n, dir, after, next, count);
}

/* name_line(p, i): writes "keys/%05d\n" (11 bytes, no NUL kept). */
static int
name_line(char *p, int i)
{
	char tmp[16];

	snprintf(tmp, sizeof(tmp), "keys/%05d\n", i);
	memcpy(p, tmp, 11);
	return 11;
}

static void
test_list(void)
{
	char buf[CF_COFFRED_LIST_MAX * 16 + 32], *p;
	size_t count = 99, n;

	CHECK_OK(list("", "keys", NULL, NULL, &count));
	CHECK(count == 0);
	CHECK_OK(list("keys/a\nkeys/b\n", "keys", NULL, NULL, &count));
	CHECK(count == 2);
	CHECK_OK(list("keys/a\nkeys/b\n", "keys", NULL, "keys/b", &count));
	CHECK_OK(list("data/00/" HEX64 "\ndata/01/" HEX64 "\n", "data",
	    "data/00/00", NULL, &count));
	CHECK(count == 2);

	/* The names are NUL-separated afterwards. */
	memcpy(buf, "keys/a\nkeys/bc\n", 15);
	CHECK_OK(cf_coffred_parse_list(buf, 15, "keys", NULL, NULL, &count));
	CHECK(strcmp(buf, "keys/a") == 0 && strcmp(buf + 7, "keys/bc") == 0);

	CHECK_ERR(list("keys/a", "keys", NULL, NULL, &count), CF_ERR_CORRUPT);
	CHECK(count == 0);
	CHECK_ERR(list("keys/b\nkeys/a\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a\nkeys/a\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a\n", "keys", "keys/a", NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a\n", "keys", "keys/b", NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("index/a\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keysx/a\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keys\n", "keys", NULL, NULL, &count), CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/\n", "keys", NULL, NULL, &count), CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/../config\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/A\n", "keys", NULL, NULL, &count), CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a\r\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("\n", "keys", NULL, NULL, &count), CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a/b/c\n", "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	/* Coffre-Next must be the last name of a non-empty page. */
	CHECK_ERR(list("", "keys", NULL, "keys/a", &count), CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a\nkeys/b\n", "keys", NULL, "keys/a", &count),
	    CF_ERR_CORRUPT);
	CHECK_ERR(list("keys/a\n", "keys", NULL, "keys/z", &count),
	    CF_ERR_CORRUPT);
	/* A NUL inside a line. */
	memcpy(buf, "keys/a\0b\n", 9);
	CHECK_ERR(cf_coffred_parse_list(buf, 9, "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);

	/* At most 1000 names. */
	p = buf;
	for (int i = 0; i < CF_COFFRED_LIST_MAX + 1; i++)
		p += name_line(p, i);
	n = (size_t)(p - buf);
	CHECK_ERR(cf_coffred_parse_list(buf, n, "keys", NULL, NULL, &count),
	    CF_ERR_CORRUPT);
	p = buf;    /* parsing replaced the newlines: write them again */
	for (int i = 0; i < CF_COFFRED_LIST_MAX + 1; i++)
		p += name_line(p, i);
	CHECK_OK(cf_coffred_parse_list(buf, n - 11, "keys", NULL, NULL,
	    &count));
	CHECK(count == CF_COFFRED_LIST_MAX);
}

static void
err_ok(const char *s, const char *code, const char *msg)
{
	char c[CF_COFFRED_CODE_MAX + 1], m[CF_COFFRED_MESSAGE_MAX];

	CHECK(cf_coffred_parse_error((const uint8_t *)s, strlen(s), c, m) == 0);
	CHECK(strcmp(c, code) == 0);
	if (strcmp(m, msg) != 0) {
		fprintf(stderr, "message: [%s], expected [%s]\n", m, msg);
		CHECK(0);
	}
}

static void
err_bad(const char *s)
{
	char c[CF_COFFRED_CODE_MAX + 1], m[CF_COFFRED_MESSAGE_MAX];

	if (cf_coffred_parse_error((const uint8_t *)s, strlen(s), c, m) != -1) {
		fprintf(stderr, "accepted: %s\n", s);
		CHECK(0);
	}
	CHECK(c[0] == '\0' && m[0] == '\0');
}

static void
test_error_body(void)
{
	char big[600];

	err_ok("{\"error\":\"forbidden\",\"message\":\"the right does not "
	    "allow it\"}", "forbidden", "the right does not allow it");
	err_ok(" {\n \"message\" : \"a\\\"b\\\\c\\/d\" , \"error\":\"x_y\"}\n",
	    "x_y", "a\"b\\c/d");
	err_ok("{\"error\":\"e\",\"message\":\"\",\"detail\":\"more\"}", "e", "");
	/* Control and non-ASCII characters never reach a terminal. */
	err_ok("{\"error\":\"e\",\"message\":\"a\\u001b[2Jb\\u00e9\\n\"}", "e",
	    "a?[2Jb? ");
	err_ok("{\"error\":\"e\",\"message\":\"caf\xc3\xa9\"}", "e", "caf??");

	err_bad("");
	err_bad("{}");
	err_bad("null");
	err_bad("{\"error\":\"e\"}");
	err_bad("{\"message\":\"m\"}");
	err_bad("{\"error\":\"E\",\"message\":\"m\"}");
	err_bad("{\"error\":\"e-1\",\"message\":\"m\"}");
	err_bad("{\"error\":\"\",\"message\":\"m\"}");
	err_bad("{\"error\":\"e\",\"message\":\"m\"");
	err_bad("{\"error\":\"e\",\"message\":\"m\"}x");
	err_bad("{\"error\":\"e\",\"message\":\"m\",}");
	err_bad("{\"error\":\"e\",\"error\":\"f\",\"message\":\"m\"}");
	err_bad("{\"error\":\"e\",\"message\":\"m\",\"message\":\"n\"}");
	err_bad("{\"error\":\"e\",\"message\":1}");
	err_bad("{\"error\":\"e\",\"message\":\"m\",\"n\":{}}");
	err_bad("{\"error\":\"e\",\"message\":\"m\\x\"}");
	err_bad("{\"error\":\"e\",\"message\":\"m\\u12\"}");
	err_bad("{\"error\":\"e\",\"message\":\"m\n\"}");
	err_bad("{\"error\":\"e\" \"message\":\"m\"}");
	err_bad("{\"error\":\"abcdefghijklmnopqrstuvwxyzabcdefg\","
	    "\"message\":\"m\"}");
	/* A message longer than the limit is refused, not cut. */
	snprintf(big, sizeof(big), "{\"error\":\"e\",\"message\":\"%0*d\"}",
	    CF_COFFRED_MESSAGE_MAX, 0);
	err_bad(big);
	/* Bytes after the given length are not read. */
	{
		const char *s = "{\"error\":\"e\",\"message\":\"m\"}";
		char c[CF_COFFRED_CODE_MAX + 1], m[CF_COFFRED_MESSAGE_MAX];

		CHECK(cf_coffred_parse_error((const uint8_t *)s,
		    strlen(s) - 1, c, m) == -1);
	}
}

static void
test_numbers(void)
{
	uint64_t a, b, t;

	CHECK(cf_coffred_parse_range("bytes 0-9/10", &a, &b, &t) == 0);
	CHECK(a == 0 && b == 9 && t == 10);
	CHECK(cf_coffred_parse_range("bytes 5-5/*", &a, &b, &t) == 0);
	CHECK(a == 5 && b == 5 && t == UINT64_MAX);
	CHECK(cf_coffred_parse_range("bytes 0-18446744073709551614/"
	    "18446744073709551615", &a, &b, &t) == 0);
	CHECK(cf_coffred_parse_range("bytes 0-9/9", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes 9-0/10", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes 00-9/10", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes -1-9/10", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes 0-9/10 ", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes */10", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes=0-9/10", &a, &b, &t) == -1);
	CHECK(cf_coffred_parse_range("bytes 0-18446744073709551616/*", &a,
	    &b, &t) == -1);
	CHECK(cf_coffred_parse_range("", &a, &b, &t) == -1);

	CHECK(cf_coffred_parse_u64("0", &a) == 0 && a == 0);
	CHECK(cf_coffred_parse_u64("18446744073709551615", &a) == 0 &&
	    a == UINT64_MAX);
	CHECK(cf_coffred_parse_u64("18446744073709551616", &a) == -1);
	CHECK(cf_coffred_parse_u64("01", &a) == -1);
	CHECK(cf_coffred_parse_u64("", &a) == -1);
	CHECK(cf_coffred_parse_u64("+1", &a) == -1);
	CHECK(cf_coffred_parse_u64("1 ", &a) == -1);
}

int
main(void)
{
	test_location();
	test_list();
	test_error_body();
	test_numbers();
	return check_done("backend_coffred");
}
