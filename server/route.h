/*
 * route.h: what a coffred request asks for, parsed from its method, its
 * raw request target and its Range header (docs/protocol.md, section 2).
 *
 * Everything here is a pure function over bytes: no I/O, no allocation, no
 * global state, so it is fuzzed as is (fuzz/fuzz_request.c).  Input is
 * (pointer, length) and may hold any byte, NUL included.
 */
#ifndef COFFRED_ROUTE_H
#define COFFRED_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "reqsig.h"

#define SRV_TENANT_MAX 32
#define SRV_LIST_LIMIT_MAX 1000
/* The longest request target: path '?' query. */
#define SRV_TARGET_MAX (CF_REQSIG_PATH_MAX + 1 + CF_REQSIG_QUERY_MAX)

enum srv_op {
	SRV_OP_PUT = 1,
	SRV_OP_GET,
	SRV_OP_HEAD,
	SRV_OP_DELETE,
	SRV_OP_LIST,
	SRV_OP_INFO,
};

/* The kinds of object name (docs/format.md, section 4). */
enum srv_kind {
	SRV_KIND_NONE = 0,
	SRV_KIND_CONFIG,
	SRV_KIND_KEYS,
	SRV_KIND_DATA,
	SRV_KIND_INDEX,
	SRV_KIND_SNAPSHOTS,
	SRV_KIND_LOCKS,
};

struct srv_route {
	enum srv_op op;
	char method[CF_REQSIG_METHOD_MAX + 1];
	char tenant[SRV_TENANT_MAX + 1];
	/* Object operations: the name and its kind. */
	char name[CF_OBJECT_NAME_MAX + 1];
	enum srv_kind kind;
	/* List: the directory, the optional "after" name ("" if none), limit. */
	char dir[16];
	char after[CF_OBJECT_NAME_MAX + 1];
	unsigned limit;
	/* The request target split as signed: path and query ("" if none). */
	char path[CF_REQSIG_PATH_MAX + 1];
	char query[CF_REQSIG_QUERY_MAX + 1];
};

/* Results of srv_route_parse: 0, or an HTTP status to refuse with. */
#define SRV_ROUTE_OK 0
#define SRV_ROUTE_BAD 400        /* malformed target, name or query */
#define SRV_ROUTE_NOT_FOUND 404  /* well-formed, but no such endpoint */
#define SRV_ROUTE_METHOD 405     /* the endpoint exists, not the method */

/*
 * srv_route_parse(method, mlen, target, tlen, out): parse a request.
 * ${target} is the request target exactly as received (before any
 * percent-decoding).  Refused with SRV_ROUTE_BAD: a target longer than
 * SRV_TARGET_MAX, not starting with "/v1/", holding '%', "..", "//", a
 * byte outside [A-Za-z0-9/._=&-] (plus one '?'), an empty query after
 * '?', a tenant outside [a-z0-9-]{1,32} or starting with '-', an object
 * name that is not of a form in docs/format.md section 4 (a pack's
 * directory must be the first byte of its hash), a query on an object or
 * info path, a list query that is not dir=DIR[&after=NAME][&limit=N]
 * (each at most once, any order, DIR one of keys data index snapshots
 * locks, NAME a valid name in DIR, N 1..1000 without leading zero).
 * ${out} is filled on success (limit defaults to 1000) and zeroed
 * otherwise.
 */
int srv_route_parse(const char *method, size_t mlen, const char *target,
    size_t tlen, struct srv_route *out);

/*
 * srv_name_kind(name, n): the kind of the ${n}-byte object name ${name},
 * SRV_KIND_NONE if it is not one of: "config", "keys/H", "data/hh/H"
 * (hh = the first two digits of H), "index/H", "snapshots/H", "locks/H",
 * H = 64 lowercase hex digits.
 */
enum srv_kind srv_name_kind(const char *name, size_t n);

/* srv_kind_content_named(k): 1 if names of kind ${k} are hashes of bodies. */
int srv_kind_content_named(enum srv_kind k);

/* srv_tenant_ok(s, n): 1 if ${s} is a valid tenant name (see above). */
int srv_tenant_ok(const char *s, size_t n);

/*
 * srv_range_parse(s, n, start, end): parse a Range header value
 * "bytes=A-B" (A <= B) or "bytes=A-", A and B decimal of at most 20
 * digits without overflow; ${end} = UINT64_MAX for "A-" (to the end),
 * else B (inclusive).  0 on success, -1 on anything else (several ranges,
 * suffix ranges "bytes=-N", spaces, other units).
 */
int srv_range_parse(const char *s, size_t n, uint64_t *start, uint64_t *end);

#endif
