/*
 * fuzz_request.c: coffred's request parsing (server/route.c): the request
 * target, object names and Range values.
 *
 * Input: one byte choosing the method, then the request target, a '\n',
 * and a Range value.  What is accepted must be what the protocol allows:
 * the signed path and query put back together give the target, and every
 * accepted name is a valid object name of its kind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = {
	"GET", "PUT", "HEAD", "DELETE", "POST", "get", "", "OPTIONS",
};

static void
check_route(const char *method, const char *t, size_t tlen)
{
	struct srv_route r;
	size_t pl, ql;
	int rc;

	rc = srv_route_parse(method, strlen(method), t, tlen, &r);
	if (rc != SRV_ROUTE_OK) {
		if (rc != SRV_ROUTE_BAD && rc != SRV_ROUTE_NOT_FOUND &&
		    rc != SRV_ROUTE_METHOD)
			abort();
		if (r.path[0] != '\0' || r.tenant[0] != '\0')
			abort();        /* zeroed on failure */
		return;
	}
	pl = strlen(r.path);
	ql = strlen(r.query);
	if (pl + (ql > 0 ? 1 + ql : 0) != tlen || memcmp(t, r.path, pl) != 0 ||
	    (ql > 0 && (t[pl] != '?' || memcmp(t + pl + 1, r.query, ql) != 0)))
		abort();
	if (memchr(t, '%', tlen) != NULL || strstr(r.path, "..") != NULL ||
	    strstr(r.path, "//") != NULL || strncmp(r.path, "/v1/", 4) != 0)
		abort();
	if (!srv_tenant_ok(r.tenant, strlen(r.tenant)))
		abort();
	switch (r.op) {
	case SRV_OP_PUT:
	case SRV_OP_GET:
	case SRV_OP_HEAD:
	case SRV_OP_DELETE:
		if (!cf_backend_name_ok(r.name) || r.kind == SRV_KIND_NONE ||
		    srv_name_kind(r.name, strlen(r.name)) != r.kind ||
		    ql != 0 || strchr(r.name, '.') != NULL)
			abort();
		break;
	case SRV_OP_LIST:
		if (r.limit < 1 || r.limit > SRV_LIST_LIMIT_MAX ||
		    strcmp(method, "GET") != 0)
			abort();
		if (r.after[0] != '\0' && (strncmp(r.after, r.dir,
		    strlen(r.dir)) != 0 || !cf_backend_name_ok(r.after)))
			abort();
		break;
	case SRV_OP_INFO:
		if (ql != 0)
			abort();
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *method, *t, *nl;
	size_t tlen;
	uint64_t a, b;

	if (size < 1)
		return 0;
	method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	t = (const char *)data + 1;
	nl = memchr(t, '\n', size - 1);
	tlen = nl != NULL ? (size_t)(nl - t) : size - 1;
	check_route(method, t, tlen);
	(void)srv_name_kind(t, tlen);
	if (nl != NULL) {
		const char *rv = nl + 1;
		size_t rl = size - 1 - tlen - 1;
		if (srv_range_parse(rv, rl, &a, &b) == 0 && b < a)
			abort();
	}
	return 0;
}
