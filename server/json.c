/*
 * json.c: the little JSON coffred prints (--json outputs).
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"

void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
fmt_time(char *buf, size_t size, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

void
json_time(FILE *f, int64_t t)
{
	char buf[64];

	fmt_time(buf, sizeof(buf), t);
	json_string(f, buf);
}
