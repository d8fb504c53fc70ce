/*
 * route.c: request targets, object names and ranges (see route.h).
 *
 * The target is checked as a whole first (length, characters, '%', "..",
 * "//"), then split at its one '?', then taken apart left to right.  Each
 * piece is copied into a fixed field of struct srv_route only after its
 * length has been checked against that field.
 */
#include "route.h"

#include <string.h>

#define HASH_HEX 64

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int
all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(s[i]))
			return 0;
	return 1;
}

static int
target_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_' ||
	    c == '=' || c == '&' || c == '-';
}

/* 1 if the n bytes at p equal the NUL-terminated s. */
static int
eq(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	return n == sl && memcmp(p, s, n) == 0;
}

int
srv_tenant_ok(const char *s, size_t n)
{
	if (n < 1 || n > SRV_TENANT_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
	}
	return 1;
}

static const struct {
	const char *prefix;     /* with its '/' */
	enum srv_kind kind;
} flat_kinds[] = {
	{ "keys/", SRV_KIND_KEYS },
	{ "index/", SRV_KIND_INDEX },
	{ "snapshots/", SRV_KIND_SNAPSHOTS },
	{ "locks/", SRV_KIND_LOCKS },
};

enum srv_kind
srv_name_kind(const char *name, size_t n)
{
	if (eq(name, n, "config"))
		return SRV_KIND_CONFIG;
	for (size_t i = 0; i < sizeof(flat_kinds) / sizeof(flat_kinds[0]);
	    i++) {
		size_t pl = strlen(flat_kinds[i].prefix);
		if (n == pl + HASH_HEX &&
		    memcmp(name, flat_kinds[i].prefix, pl) == 0 &&
		    all_lower_hex(name + pl, HASH_HEX))
			return flat_kinds[i].kind;
	}
	/* data/hh/H */
	if (n == 5 + 3 + HASH_HEX && memcmp(name, "data/", 5) == 0 &&
	    name[7] == '/' && all_lower_hex(name + 8, HASH_HEX) &&
	    name[5] == name[8] && name[6] == name[9])
		return SRV_KIND_DATA;
	return SRV_KIND_NONE;
}

int
srv_kind_content_named(enum srv_kind k)
{
	return k == SRV_KIND_DATA || k == SRV_KIND_INDEX ||
	    k == SRV_KIND_SNAPSHOTS || k == SRV_KIND_LOCKS;
}

static const char *const list_dirs[] = {
	"keys", "data", "index", "snapshots", "locks",
};

/* A decimal 1..SRV_LIST_LIMIT_MAX without leading zero. */
static int
parse_limit(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (n < 1 || n > 4 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > SRV_LIST_LIMIT_MAX)
		return 0;
	*out = v;
	return 1;
}

/* dir=DIR[&after=NAME][&limit=N], each once, any order. */
static int
parse_list_query(const char *q, size_t n, struct srv_route *r)
{
	int have_dir = 0, have_after = 0, have_limit = 0;
	const char *after = NULL;
	size_t afterlen = 0;
	size_t i = 0;

	if (n == 0)
		return 0;
	while (i <= n) {
		const char *p = q + i, *amp, *eqs;
		size_t plen, klen, vlen;

		amp = memchr(p, '&', n - i);
		plen = amp != NULL ? (size_t)(amp - p) : n - i;
		eqs = memchr(p, '=', plen);
		if (eqs == NULL)
			return 0;
		klen = (size_t)(eqs - p);
		vlen = plen - klen - 1;
		if (eq(p, klen, "dir")) {
			int found = 0;
			if (have_dir++)
				return 0;
			for (size_t d = 0; d < sizeof(list_dirs) /
			    sizeof(list_dirs[0]); d++)
				if (eq(eqs + 1, vlen, list_dirs[d])) {
					memcpy(r->dir, list_dirs[d], vlen);
					r->dir[vlen] = '\0';
					found = 1;
				}
			if (!found)
				return 0;
		} else if (eq(p, klen, "after")) {
			if (have_after++)
				return 0;
			after = eqs + 1;
			afterlen = vlen;
		} else if (eq(p, klen, "limit")) {
			if (have_limit++ || !parse_limit(eqs + 1, vlen,
			    &r->limit))
				return 0;
		} else {
			return 0;
		}
		if (amp == NULL)
			break;
		i += plen + 1;
		if (i == n)
			return 0;       /* a trailing '&' */
	}
	if (!have_dir)
		return 0;
	if (have_after) {
		size_t dl = strlen(r->dir);
		if (srv_name_kind(after, afterlen) == SRV_KIND_NONE ||
		    afterlen <= dl || memcmp(after, r->dir, dl) != 0 ||
		    after[dl] != '/')
			return 0;
		memcpy(r->after, after, afterlen);
		r->after[afterlen] = '\0';
	}
	return 1;
}

static int
route_parse(const char *method, size_t mlen, const char *t, size_t tlen,
    struct srv_route *r)
{
	const char *qmark, *p, *slash, *rest;
	size_t plen, qlen, rlen;
	int has_query;

	/* The target as a whole. */
	if (tlen == 0 || tlen > SRV_TARGET_MAX)
		return SRV_ROUTE_BAD;
	qmark = NULL;
	for (size_t i = 0; i < tlen; i++) {
		if (t[i] == '?' && qmark == NULL)
			qmark = t + i;
		else if (!target_char_ok(t[i]))
			return SRV_ROUTE_BAD;
		if (i + 1 < tlen && ((t[i] == '.' && t[i + 1] == '.') ||
		    (t[i] == '/' && t[i + 1] == '/')))
			return SRV_ROUTE_BAD;
	}
	has_query = qmark != NULL;
	plen = has_query ? (size_t)(qmark - t) : tlen;
	qlen = has_query ? tlen - plen - 1 : 0;
	if (plen > CF_REQSIG_PATH_MAX || qlen > CF_REQSIG_QUERY_MAX ||
	    (has_query && qlen == 0))
		return SRV_ROUTE_BAD;
	if (plen < 4 || memcmp(t, "/v1/", 4) != 0)
		return SRV_ROUTE_BAD;
	memcpy(r->path, t, plen);
	r->path[plen] = '\0';
	memcpy(r->query, t + plen + (has_query ? 1 : 0), qlen);
	r->query[qlen] = '\0';

	/* The tenant. */
	p = t + 4;
	slash = memchr(p, '/', plen - 4);
	if (slash == NULL)
		return SRV_ROUTE_BAD;
	if (!srv_tenant_ok(p, (size_t)(slash - p)))
		return SRV_ROUTE_BAD;
	memcpy(r->tenant, p, (size_t)(slash - p));
	r->tenant[slash - p] = '\0';
	rest = slash + 1;
	rlen = plen - (size_t)(rest - t);

	/* The endpoint. */
	if (rlen > 2 && memcmp(rest, "o/", 2) == 0) {
		r->kind = srv_name_kind(rest + 2, rlen - 2);
		if (r->kind == SRV_KIND_NONE || has_query)
			return SRV_ROUTE_BAD;
		memcpy(r->name, rest + 2, rlen - 2);
		r->name[rlen - 2] = '\0';
		if (!cf_backend_name_ok(r->name))
			return SRV_ROUTE_BAD;
		if (eq(method, mlen, "PUT"))
			r->op = SRV_OP_PUT;
		else if (eq(method, mlen, "GET"))
			r->op = SRV_OP_GET;
		else if (eq(method, mlen, "HEAD"))
			r->op = SRV_OP_HEAD;
		else if (eq(method, mlen, "DELETE"))
			r->op = SRV_OP_DELETE;
		else
			return SRV_ROUTE_METHOD;
	} else if (eq(rest, rlen, "list")) {
		r->limit = SRV_LIST_LIMIT_MAX;
		if (!parse_list_query(r->query, qlen, r))
			return SRV_ROUTE_BAD;
		if (!eq(method, mlen, "GET"))
			return SRV_ROUTE_METHOD;
		r->op = SRV_OP_LIST;
	} else if (eq(rest, rlen, "info")) {
		if (has_query)
			return SRV_ROUTE_BAD;
		if (!eq(method, mlen, "GET"))
			return SRV_ROUTE_METHOD;
		r->op = SRV_OP_INFO;
	} else {
		return SRV_ROUTE_NOT_FOUND;
	}
	memcpy(r->method, method, mlen);
	r->method[mlen] = '\0';
	return SRV_ROUTE_OK;
}

int
srv_route_parse(const char *method, size_t mlen, const char *target,
    size_t tlen, struct srv_route *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (method == NULL || target == NULL)
		return SRV_ROUTE_BAD;
	rc = route_parse(method, mlen, target, tlen, out);
	if (rc != SRV_ROUTE_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* Up to 20 decimal digits (leading zeros allowed), no overflow. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n < 1 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return 1;
}

int
srv_range_parse(const char *s, size_t n, uint64_t *start, uint64_t *end)
{
	const char *dash;
	uint64_t a, b;

	if (s == NULL || n < 8 || memcmp(s, "bytes=", 6) != 0)
		return -1;
	s += 6;
	n -= 6;
	if ((dash = memchr(s, '-', n)) == NULL)
		return -1;
	if (!parse_u64(s, (size_t)(dash - s), &a))
		return -1;
	n -= (size_t)(dash - s) + 1;
	if (n == 0) {
		*start = a;
		*end = UINT64_MAX;
		return 0;
	}
	if (!parse_u64(dash + 1, n, &b) || b < a || b == UINT64_MAX)
		return -1;
	*start = a;
	*end = b;
	return 0;
}
