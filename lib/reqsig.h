/*
 * reqsig.h: signed requests of the coffred protocol (docs/protocol.md,
 * section 3), shared by the client (lib/backend_coffred.c) and the server
 * (server/).
 *
 * Every request carries five headers:
 *
 *   Coffre-Key        64 lowercase hex: the identity's Ed25519 public key
 *   Coffre-Time       decimal seconds since the epoch: 1 to 20 digits, no
 *                     sign, no leading zero (except "0"), at most 2^64 - 1
 *   Coffre-Nonce      32 lowercase hex: 16 random bytes, never reused
 *   Coffre-Body       64 lowercase hex: SHA-256 of the body (of
 *                     the empty string when there is none)
 *   Coffre-Signature  128 lowercase hex: Ed25519 over the canonical string
 *
 * and the canonical string is the bytes
 *
 *   "coffre-request-v1\n" METHOD "\n" PATH "\n" QUERY "\n"
 *   TIME "\n" NONCE "\n" KEY "\n" BODY
 *
 * (no trailing newline).  METHOD is 1 to 16 capitals; PATH and QUERY are
 * the request's path and query string exactly as sent (QUERY without the
 * '?', "" when there is none), made only of printable ASCII (0x21..0x7e),
 * PATH 1 to CF_REQSIG_PATH_MAX bytes starting with '/', QUERY at most
 * CF_REQSIG_QUERY_MAX bytes.  These rules make the string unambiguous:
 * no field can hold the separator.
 *
 * The values are strict (one spelling per value), so parsing then
 * re-encoding gives back the bytes that were signed: the verifier rebuilds
 * the canonical string from a parsed struct cf_reqsig.
 *
 * What this module does not do (the server does it, it owns the clock and
 * the nonce store): the +-CF_REQSIG_WINDOW time check (cf_reqsig_time_ok
 * helps), the replay check, mapping the key to a tenant and a right, and
 * comparing Coffre-Body with the hash of the body that actually arrived.
 */
#ifndef COFFRE_REQSIG_H
#define COFFRE_REQSIG_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"

/* Header names, as sent (HTTP header names compare case-insensitively). */
#define CF_REQSIG_H_KEY "Coffre-Key"
#define CF_REQSIG_H_TIME "Coffre-Time"
#define CF_REQSIG_H_NONCE "Coffre-Nonce"
#define CF_REQSIG_H_BODY "Coffre-Body"
#define CF_REQSIG_H_SIGNATURE "Coffre-Signature"

#define CF_REQSIG_NONCE_BYTES 16
#define CF_REQSIG_KEY_HEX (2 * CF_SIGN_PK_BYTES)         /* 64 */
#define CF_REQSIG_TIME_DIGITS 20
#define CF_REQSIG_NONCE_HEX (2 * CF_REQSIG_NONCE_BYTES)  /* 32 */
#define CF_REQSIG_BODY_HEX (2 * CF_HASH_BYTES)           /* 64 */
#define CF_REQSIG_SIG_HEX (2 * CF_SIG_BYTES)             /* 128 */

#define CF_REQSIG_METHOD_MAX 16
#define CF_REQSIG_PATH_MAX 512
#define CF_REQSIG_QUERY_MAX 512

/* Accepted clock difference (seconds) and how long a nonce is remembered. */
#define CF_REQSIG_WINDOW 300
#define CF_REQSIG_NONCE_TTL 900

/* SHA-256 of the empty string, in hex: Coffre-Body of a bodiless request. */
#define CF_REQSIG_EMPTY_BODY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The five header values, NUL-terminated, ready to send. */
struct cf_reqsig_headers {
	char key[CF_REQSIG_KEY_HEX + 1];
	char time[CF_REQSIG_TIME_DIGITS + 1];
	char nonce[CF_REQSIG_NONCE_HEX + 1];
	char body[CF_REQSIG_BODY_HEX + 1];
	char signature[CF_REQSIG_SIG_HEX + 1];
};

/* The five header values, parsed. */
struct cf_reqsig {
	uint8_t key[CF_SIGN_PK_BYTES];
	uint64_t time;
	uint8_t nonce[CF_REQSIG_NONCE_BYTES];
	uint8_t body[CF_HASH_BYTES];
	uint8_t sig[CF_SIG_BYTES];
};

struct cf_identity;

/*
 * cf_reqsig_sign(id, method, path, query, body_hash, time, out): sign a
 * request with ${id}: a fresh random nonce, ${time} (seconds since the
 * epoch; the caller passes time(NULL) and a new value on every retry),
 * ${body_hash} = cf_hash() of the body (of "" when there is none).
 * ${query} may be NULL or "" for none.  Fills all five values of ${out}.
 * CF_ERR_INVALID if ${method}, ${path} or ${query} break the rules above
 * (${out} is then zeroed).  Thread-safe.
 */
cf_status cf_reqsig_sign(const struct cf_identity *id, const char *method,
    const char *path, const char *query,
    const uint8_t body_hash[CF_HASH_BYTES], uint64_t time,
    struct cf_reqsig_headers *out);

/*
 * cf_reqsig_sign_nonce(id, method, path, query, body_hash, time, nonce,
 * out): as cf_reqsig_sign with a caller-chosen nonce.  For tests only (a
 * reused nonce is a replay the server refuses).
 */
cf_status cf_reqsig_sign_nonce(const struct cf_identity *id,
    const char *method, const char *path, const char *query,
    const uint8_t body_hash[CF_HASH_BYTES], uint64_t time,
    const uint8_t nonce[CF_REQSIG_NONCE_BYTES],
    struct cf_reqsig_headers *out);

/*
 * cf_reqsig_canonical(method, path, query, rs, out): append the canonical
 * string of a request to ${out} (at most CF_REQSIG_CANON_MAX bytes; ${out}
 * initialised by the caller, e.g. cf_buf_init(out, CF_REQSIG_CANON_MAX)).
 * ${query} may be NULL.  CF_ERR_INVALID if ${method}, ${path} or ${query}
 * break the rules above; CF_ERR_NOMEM if ${out} cannot grow.
 */
#define CF_REQSIG_CANON_MAX \
	(18 + CF_REQSIG_METHOD_MAX + 1 + CF_REQSIG_PATH_MAX + 1 + \
	 CF_REQSIG_QUERY_MAX + 1 + CF_REQSIG_TIME_DIGITS + 1 + \
	 CF_REQSIG_NONCE_HEX + 1 + CF_REQSIG_KEY_HEX + 1 + CF_REQSIG_BODY_HEX)
cf_status cf_reqsig_canonical(const char *method, const char *path,
    const char *query, const struct cf_reqsig *rs, struct cf_buf *out);

/*
 * cf_reqsig_parse(key, time, nonce, body, sig, out): parse the five header
 * values (each NUL-terminated, exactly as received; NULL = the header is
 * missing) strictly: exact length, lowercase hex only, time as described
 * above.  CF_ERR_INVALID with a message naming the header on any fault
 * (${out} is then zeroed).  Pure: no I/O, no allocation.
 */
cf_status cf_reqsig_parse(const char *key, const char *time,
    const char *nonce, const char *body, const char *sig,
    struct cf_reqsig *out);

/*
 * cf_reqsig_parse_n(...): as cf_reqsig_parse for values given as
 * (pointer, length) pairs that need not be NUL-terminated (a NUL inside a
 * value is refused).  A NULL pointer = the header is missing.
 */
cf_status cf_reqsig_parse_n(const char *key, size_t keylen,
    const char *time, size_t timelen, const char *nonce, size_t noncelen,
    const char *body, size_t bodylen, const char *sig, size_t siglen,
    struct cf_reqsig *out);

/*
 * cf_reqsig_verify(rs, method, path, query): CF_OK if ${rs}->sig is a valid
 * Ed25519 signature by ${rs}->key of the canonical string of this request;
 * CF_ERR_CORRUPT ("bad signature") if not; CF_ERR_INVALID if ${method},
 * ${path} or ${query} break the rules above.  Does not check the time, the
 * nonce or the key's registration.
 */
cf_status cf_reqsig_verify(const struct cf_reqsig *rs, const char *method,
    const char *path, const char *query);

/*
 * cf_reqsig_time_ok(t, now, window): 1 if |${t} - ${now}| <= ${window}
 * (no overflow for any values), else 0.
 */
int cf_reqsig_time_ok(uint64_t t, uint64_t now, uint64_t window);

/*
 * cf_reqsig_format(rs, out): the header values of a parsed (or built)
 * ${rs}, as they would be sent.
 */
void cf_reqsig_format(const struct cf_reqsig *rs,
    struct cf_reqsig_headers *out);

#endif
