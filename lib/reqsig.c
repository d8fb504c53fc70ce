/*
 * reqsig.c: signed requests of the coffred protocol (see reqsig.h).
 *
 * The canonical string is built in a fixed stack buffer of
 * CF_REQSIG_CANON_MAX bytes: every field has a maximum, so nothing here
 * allocates and nothing depends on the size of what a peer sends.
 */
#include "reqsig.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"

#define CANON_PREFIX "coffre-request-v1\n"
#define CANON_PREFIX_LEN 18

_Static_assert(sizeof(CANON_PREFIX) - 1 == CANON_PREFIX_LEN, "prefix length");

/* A printable-ASCII field (0x21..0x7e) of minlen..maxlen bytes. */
static int
field_ok(const char *s, size_t minlen, size_t maxlen, size_t *lenp)
{
	size_t n = 0;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= maxlen || c < 0x21 || c > 0x7e)
			return 0;
	}
	if (n < minlen)
		return 0;
	*lenp = n;
	return 1;
}

static cf_status
check_request(const char *method, const char *path, const char *query,
    size_t *mlen, size_t *plen, size_t *qlen)
{
	if (method == NULL || !field_ok(method, 1, CF_REQSIG_METHOD_MAX, mlen))
		return cf_error_set(CF_ERR_INVALID, "request method is not valid");
	for (size_t i = 0; i < *mlen; i++)
		if (method[i] < 'A' || method[i] > 'Z')
			return cf_error_set(CF_ERR_INVALID,
			    "request method is not in capitals");
	if (path == NULL || !field_ok(path, 1, CF_REQSIG_PATH_MAX, plen) ||
	    path[0] != '/')
		return cf_error_set(CF_ERR_INVALID, "request path is not valid");
	if (query == NULL)
		*qlen = 0;
	else if (!field_ok(query, 0, CF_REQSIG_QUERY_MAX, qlen))
		return cf_error_set(CF_ERR_INVALID, "request query is not valid");
	return CF_OK;
}

/* Write the canonical string to ${buf} (CF_REQSIG_CANON_MAX); its length. */
static size_t
canon_build(char *buf, const char *method, size_t mlen, const char *path,
    size_t plen, const char *query, size_t qlen,
    const struct cf_reqsig_headers *h)
{
	size_t off = 0;

#define PUT(p, n) do { memcpy(buf + off, (p), (n)); off += (n); } while (0)
#define PUTS(s) PUT((s), strlen(s))
#define NL() do { buf[off++] = '\n'; } while (0)
	PUT(CANON_PREFIX, CANON_PREFIX_LEN);
	PUT(method, mlen); NL();
	PUT(path, plen); NL();
	if (qlen > 0)
		PUT(query, qlen);
	NL();
	PUTS(h->time); NL();
	PUTS(h->nonce); NL();
	PUTS(h->key); NL();
	PUTS(h->body);
#undef PUT
#undef PUTS
#undef NL
	return off;
}

void
cf_reqsig_format(const struct cf_reqsig *rs, struct cf_reqsig_headers *out)
{
	cf_hex_encode(out->key, rs->key, sizeof(rs->key));
	snprintf(out->time, sizeof(out->time), "%" PRIu64, rs->time);
	cf_hex_encode(out->nonce, rs->nonce, sizeof(rs->nonce));
	cf_hex_encode(out->body, rs->body, sizeof(rs->body));
	cf_hex_encode(out->signature, rs->sig, sizeof(rs->sig));
}

cf_status
cf_reqsig_sign_nonce(const struct cf_identity *id, const char *method,
    const char *path, const char *query,
    const uint8_t body_hash[CF_HASH_BYTES], uint64_t time,
    const uint8_t nonce[CF_REQSIG_NONCE_BYTES],
    struct cf_reqsig_headers *out)
{
	struct cf_reqsig rs;
	char canon[CF_REQSIG_CANON_MAX];
	size_t mlen, plen, qlen, n;
	cf_status st;

	memset(out, 0, sizeof(*out));
	if ((st = check_request(method, path, query, &mlen, &plen, &qlen))
	    != CF_OK)
		return st;
	memset(&rs, 0, sizeof(rs));
	memcpy(rs.key, cf_identity_public(id), sizeof(rs.key));
	rs.time = time;
	memcpy(rs.nonce, nonce, sizeof(rs.nonce));
	memcpy(rs.body, body_hash, sizeof(rs.body));
	cf_reqsig_format(&rs, out);
	n = canon_build(canon, method, mlen, path, plen, query, qlen, out);
	cf_identity_sign(id, canon, n, rs.sig);
	cf_hex_encode(out->signature, rs.sig, sizeof(rs.sig));
	return CF_OK;
}

cf_status
cf_reqsig_sign(const struct cf_identity *id, const char *method,
    const char *path, const char *query,
    const uint8_t body_hash[CF_HASH_BYTES], uint64_t time,
    struct cf_reqsig_headers *out)
{
	uint8_t nonce[CF_REQSIG_NONCE_BYTES];

	cf_random(nonce, sizeof(nonce));
	return cf_reqsig_sign_nonce(id, method, path, query, body_hash, time,
	    nonce, out);
}

cf_status
cf_reqsig_canonical(const char *method, const char *path, const char *query,
    const struct cf_reqsig *rs, struct cf_buf *out)
{
	struct cf_reqsig_headers h;
	char canon[CF_REQSIG_CANON_MAX];
	size_t mlen, plen, qlen, n;
	cf_status st;

	if ((st = check_request(method, path, query, &mlen, &plen, &qlen))
	    != CF_OK)
		return st;
	cf_reqsig_format(rs, &h);
	n = canon_build(canon, method, mlen, path, plen, query, qlen, &h);
	return cf_buf_append(out, canon, n);
}

/* Exactly 2n lowercase hex digits into ${out}. */
static int
hex_strict(uint8_t *out, size_t n, const char *s, size_t len)
{
	if (s == NULL || len != 2 * n)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned hi = (unsigned)(s[2 * i] <= '9' ? s[2 * i] - '0' :
		    s[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(s[2 * i + 1] <= '9' ?
		    s[2 * i + 1] - '0' : s[2 * i + 1] - 'a' + 10);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

/* 1 to 20 decimal digits, no leading zero unless "0", no overflow. */
static int
time_strict(uint64_t *out, const char *s, size_t len)
{
	uint64_t v = 0;

	if (s == NULL || len == 0 || len > CF_REQSIG_TIME_DIGITS)
		return 0;
	if (s[0] == '0' && len > 1)
		return 0;
	for (size_t i = 0; i < len; i++) {
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

cf_status
cf_reqsig_parse_n(const char *key, size_t keylen, const char *time,
    size_t timelen, const char *nonce, size_t noncelen, const char *body,
    size_t bodylen, const char *sig, size_t siglen, struct cf_reqsig *out)
{
	const char *what;

	memset(out, 0, sizeof(*out));
	if (key == NULL)
		what = CF_REQSIG_H_KEY " is missing";
	else if (time == NULL)
		what = CF_REQSIG_H_TIME " is missing";
	else if (nonce == NULL)
		what = CF_REQSIG_H_NONCE " is missing";
	else if (body == NULL)
		what = CF_REQSIG_H_BODY " is missing";
	else if (sig == NULL)
		what = CF_REQSIG_H_SIGNATURE " is missing";
	else if (!hex_strict(out->key, sizeof(out->key), key, keylen))
		what = CF_REQSIG_H_KEY " is not 64 lowercase hex digits";
	else if (!time_strict(&out->time, time, timelen))
		what = CF_REQSIG_H_TIME " is not a decimal number of seconds";
	else if (!hex_strict(out->nonce, sizeof(out->nonce), nonce, noncelen))
		what = CF_REQSIG_H_NONCE " is not 32 lowercase hex digits";
	else if (!hex_strict(out->body, sizeof(out->body), body, bodylen))
		what = CF_REQSIG_H_BODY " is not 64 lowercase hex digits";
	else if (!hex_strict(out->sig, sizeof(out->sig), sig, siglen))
		what = CF_REQSIG_H_SIGNATURE " is not 128 lowercase hex digits";
	else
		return CF_OK;
	memset(out, 0, sizeof(*out));
	return cf_error_set(CF_ERR_INVALID, "%s", what);
}

static size_t
len_or_zero(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

cf_status
cf_reqsig_parse(const char *key, const char *time, const char *nonce,
    const char *body, const char *sig, struct cf_reqsig *out)
{
	return cf_reqsig_parse_n(key, len_or_zero(key), time,
	    len_or_zero(time), nonce, len_or_zero(nonce), body,
	    len_or_zero(body), sig, len_or_zero(sig), out);
}

cf_status
cf_reqsig_verify(const struct cf_reqsig *rs, const char *method,
    const char *path, const char *query)
{
	struct cf_reqsig_headers h;
	char canon[CF_REQSIG_CANON_MAX];
	size_t mlen, plen, qlen, n;
	cf_status st;

	if ((st = check_request(method, path, query, &mlen, &plen, &qlen))
	    != CF_OK)
		return st;
	cf_reqsig_format(rs, &h);
	n = canon_build(canon, method, mlen, path, plen, query, qlen, &h);
	return cf_sig_verify(rs->key, canon, n, rs->sig);
}

int
cf_reqsig_time_ok(uint64_t t, uint64_t now, uint64_t window)
{
	uint64_t d = t > now ? t - now : now - t;

	return d <= window;
}
