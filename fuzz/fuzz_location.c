/*
 * fuzz_location.c: coffred locations (cf_coffred_parse_location), the
 * user's input.  The input is the location's bytes (cut at the first NUL).
 * A location that parses must have valid parts, and the location rebuilt
 * from them must parse to the same parts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_coffred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_parts(const struct cf_coffred_loc *l)
{
	size_t n = strlen(l->tenant);

	if (l->host[0] == '\0' || n == 0 || n > CF_COFFRED_TENANT_MAX ||
	    l->tenant[0] == '-' || l->port > 65535)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!((l->tenant[i] >= 'a' && l->tenant[i] <= 'z') ||
		    (l->tenant[i] >= '0' && l->tenant[i] <= '9') ||
		    l->tenant[i] == '-'))
			abort();
	for (const char *p = l->host; *p != '\0'; p++)
		if (*p == '/' || *p == '@' || *p == '?' || *p == '%' ||
		    *p <= 0x20 || *p >= 0x7f)
			abort();
	if (l->pin[0] != '\0' && strncmp(l->pin, "sha256//", 8) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_coffred_loc l, m;
	char *s, again[1024];

	if (size > 2048)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cf_coffred_parse_location(s, &l) == CF_OK) {
		check_parts(&l);
		if (l.port != 0)
			snprintf(again, sizeof(again), "https://%s:%u/%s%s%s",
			    l.host, l.port, l.tenant,
			    l.pin[0] != '\0' ? "?pin=" : "", l.pin);
		else
			snprintf(again, sizeof(again), "https://%s/%s%s%s",
			    l.host, l.tenant, l.pin[0] != '\0' ? "?pin=" : "",
			    l.pin);
		if (strcmp(again, s) != 0 ||
		    cf_coffred_parse_location(again, &m) != CF_OK ||
		    memcmp(&l, &m, sizeof(l)) != 0)
			abort();
	} else {
		/* A refusal leaves nothing behind. */
		if (l.host[0] != '\0' || l.tenant[0] != '\0' || l.pin[0] != '\0')
			abort();
	}
	free(s);
	return 0;
}
