/*
 * auth.c: request authentication and rights (see auth.h).
 */
#include "auth.h"

#include <string.h>

int
srv_auth_check(struct srv_db *db, const struct srv_route *r,
    const struct srv_sig_headers *h, int64_t now, struct srv_auth *out,
    const char **why)
{
	struct cf_reqsig sig;
	cf_status rc;

	memset(out, 0, sizeof(*out));
	if (h->duplicated) {
		*why = "a Coffre-* header was sent more than once";
		return 401;
	}
	if (cf_reqsig_parse_n(h->key, h->keylen, h->time, h->timelen,
	    h->nonce, h->noncelen, h->body, h->bodylen, h->sig, h->siglen,
	    &sig) != CF_OK) {
		if (h->key == NULL || h->time == NULL || h->nonce == NULL ||
		    h->body == NULL || h->sig == NULL)
			*why = "a Coffre-* header is missing: every request "
			    "must be signed (docs/protocol.md, section 3)";
		else
			*why = "a Coffre-* header is malformed";
		return 401;
	}
	if (now < 0 || !cf_reqsig_time_ok(sig.time, (uint64_t)now,
	    CF_REQSIG_WINDOW)) {
		*why = "the request time is more than 300 seconds from the "
		    "server's clock: check the client's clock";
		return 401;
	}
	if (cf_reqsig_verify(&sig, r->method, r->path, r->query) != CF_OK) {
		*why = "the request signature does not verify";
		return 401;
	}
	rc = srv_db_identity_lookup(db, r->tenant, sig.key, &out->tenant,
	    &out->ident);
	if (rc == CF_ERR_NOTFOUND) {
		memset(out, 0, sizeof(*out));
		*why = "this identity is not registered for this tenant";
		return 401;
	}
	if (rc != CF_OK) {
		memset(out, 0, sizeof(*out));
		*why = "the server cannot read its database";
		return 500;
	}
	memcpy(&out->sig, &sig, sizeof(sig));
	rc = srv_db_nonce_use(db, sig.key, sig.nonce, now);
	if (rc == CF_ERR_EXISTS) {
		*why = "this request was sent before (nonce already used)";
		return 401;
	}
	if (rc != CF_OK) {
		*why = "the server cannot write its database";
		return 500;
	}
	return 0;
}

int
srv_auth_allows(enum srv_right right, const struct srv_route *r)
{
	switch (r->op) {
	case SRV_OP_GET:
	case SRV_OP_HEAD:
	case SRV_OP_LIST:
	case SRV_OP_INFO:
		return right == SRV_RIGHT_READ || right == SRV_RIGHT_APPEND ||
		    right == SRV_RIGHT_ADMIN;
	case SRV_OP_PUT:
		return right == SRV_RIGHT_APPEND || right == SRV_RIGHT_ADMIN;
	case SRV_OP_DELETE:
		return right == SRV_RIGHT_ADMIN || (right == SRV_RIGHT_APPEND &&
		    r->kind == SRV_KIND_LOCKS);
	}
	return 0;
}
