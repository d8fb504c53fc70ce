/*
 * auth.h: who sent a request, and may they (docs/protocol.md, sections 3
 * and 4).
 *
 * srv_auth_check runs the checks of section 3 in this order, each cheap
 * one before the dearer ones: the five Coffre-* header values parse
 * strictly (cf_reqsig_parse_n); the time is within CF_REQSIG_WINDOW of the
 * server's clock; the signature verifies over the request as received,
 * with the key the request names; that key is registered for the tenant
 * of the path; the (key, nonce) pair is new (recorded only now, so that
 * requests failing an earlier check cannot fill the nonce table).  The
 * signature is checked before the registration so that the answer says
 * nothing about which keys a tenant has to someone who does not hold one
 * of them (and takes the same time either way).  The body hash is checked
 * by the caller once the body has arrived.
 */
#ifndef COFFRED_AUTH_H
#define COFFRED_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "reqsig.h"
#include "route.h"

/* The five header values as received; NULL pointer = missing. */
struct srv_sig_headers {
	const char *key, *time, *nonce, *body, *sig;
	size_t keylen, timelen, noncelen, bodylen, siglen;
	int duplicated;         /* a Coffre-* header was sent twice */
};

struct srv_auth {
	struct srv_tenant tenant;
	struct srv_ident ident;
	struct cf_reqsig sig;   /* parsed: sig.key is the identity's key */
};

/*
 * srv_auth_check(db, r, h, now, out, why): authenticate request ${r}.
 * Returns 0 with ${out} filled, 401 (${why}: a static English reason, no
 * byte of the request in it) or 500 (a database error; ${why} says so).
 * When the signature verified but something after failed, ${out}->sig.key
 * holds the key; ${out} is otherwise zeroed on failure.
 */
int srv_auth_check(struct srv_db *db, const struct srv_route *r,
    const struct srv_sig_headers *h, int64_t now, struct srv_auth *out,
    const char **why);

/*
 * srv_auth_allows(right, r): 1 if an identity with ${right} may do ${r}
 * (section 4: read: GET, HEAD, list, info; append: also PUT, and DELETE
 * of locks/ names; admin: everything), else 0.
 */
int srv_auth_allows(enum srv_right right, const struct srv_route *r);

#endif
