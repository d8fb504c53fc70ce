/*
 * json.c: a small streaming JSON writer for --json output.
 *
 * Names read from a repository are arbitrary bytes; JSON strings must be
 * UTF-8.  Valid UTF-8 passes through, control characters become \uXXXX, and
 * each byte that is not part of valid UTF-8 becomes \u00XX (so such a name
 * is shown, though not byte-exact: the `ls` text output is).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void
json_escape(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;
	size_t len;

	fputc('"', f);
	while (*s != '\0') {
		len = cli_utf8_seq(s, &cp);
		if (len == 0) {
			fprintf(f, "\\u%04x", *s);
			len = 1;
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', f);
			fputc((int)cp, f);
		} else if (cp == '\n') {
			fputs("\\n", f);
		} else if (cp == '\t') {
			fputs("\\t", f);
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			fprintf(f, "\\u%04" PRIx32, cp);
		} else {
			fwrite(s, 1, len, f);
		}
		s += len;
	}
	fputc('"', f);
}

void
json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->after_key = 0;
}

/* value(j): separate a new value from the previous one. */
static void
value(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->count[j->depth - 1]++ > 0)
		fputc(',', j->f);
	/* One element per line in a top-level array, for streamed output. */
	if (j->depth == 1 && j->kind[0] == '[')
		fputc('\n', j->f);
}

static void
begin(struct json *j, char kind)
{
	value(j);
	if (j->depth == JSON_DEPTH_MAX)
		abort();                /* misuse: our documents are shallow */
	j->kind[j->depth] = kind;
	j->count[j->depth] = 0;
	j->depth++;
	fputc(kind, j->f);
}

static void
end(struct json *j, char kind)
{
	if (j->depth == 0 || j->kind[j->depth - 1] != kind)
		abort();
	j->depth--;
	if (kind == '[' && j->depth == 0 && j->count[0] > 0)
		fputc('\n', j->f);
	fputc(kind == '{' ? '}' : ']', j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void
json_object_begin(struct json *j)
{
	begin(j, '{');
}

void
json_object_end(struct json *j)
{
	end(j, '{');
}

void
json_array_begin(struct json *j)
{
	begin(j, '[');
}

void
json_array_end(struct json *j)
{
	end(j, '[');
}

void
json_key(struct json *j, const char *key)
{
	value(j);
	json_escape(j->f, key);
	fputc(':', j->f);
	j->after_key = 1;
}

void
json_str(struct json *j, const char *s)
{
	value(j);
	json_escape(j->f, s);
}

void
json_u64(struct json *j, uint64_t v)
{
	value(j);
	fprintf(j->f, "%" PRIu64, v);
}

void
json_i64(struct json *j, int64_t v)
{
	value(j);
	fprintf(j->f, "%" PRId64, v);
}

void
json_double(struct json *j, double v)
{
	value(j);
	if (isfinite(v))
		fprintf(j->f, "%.3f", v);
	else
		fputs("null", j->f);
}

void
json_bool(struct json *j, int v)
{
	value(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	value(j);
	fputs("null", j->f);
}

void
json_hex(struct json *j, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	value(j);
	fputc('"', j->f);
	for (i = 0; i < n; i++) {
		fputc(digits[p[i] >> 4], j->f);
		fputc(digits[p[i] & 15], j->f);
	}
	fputc('"', j->f);
}

void
json_time(struct json *j, int64_t sec, uint32_t nsec)
{
	char buf[64];

	cli_time_rfc3339(buf, sizeof(buf), sec, nsec);
	json_str(j, buf);
}

void
json_key_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void
json_key_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}
