/*
 * http.h: the HTTP(S) client under the remote backends (coffred, S3).
 *
 * One struct cf_http is made per backend and shared by all its threads:
 * cf_http_do() may be called from several threads at once.  The client
 * keeps a small pool of curl easy handles (each keeps its connection alive
 * between requests) and shares the DNS and TLS-session caches between
 * them, so the packer's workers each have a request in flight.
 *
 * Fixed policy, not configurable (the remote backends rely on it):
 *  - TLS 1.2 or newer.  The server is always verified: against the CA
 *    store (system, or ${cafile}) with host-name check, or, when a ${pin}
 *    is given and no ${cafile}, by the pin alone (a self-signed coffred).
 *    With both, both are checked.
 *  - Redirects are never followed (a 3xx is returned as a status).
 *  - Only https:// URLs, unless ${allow_http} (S3 on a trusted LAN
 *    "s3+http://", tests).  No other protocol, ever.
 *  - Proxies from the environment (http_proxy, HTTPS_PROXY, ALL_PROXY...)
 *    are ignored: where backups go is decided by the location alone.  A
 *    proxy is used only if ${proxy} is given explicitly.
 *  - No signals (CURLOPT_NOSIGNAL); a connect timeout and a low-speed
 *    limit bound every stall; no overall timeout (packs are large).
 *  - Messages (cf_error_set) name the method, host and what failed; never
 *    a header value, credential, signature or query string.
 *
 * Retries: cf_http_do() makes up to ${max_attempts} attempts.  It retries
 * after a connection failure, timeout, stall, or a reply with status 429,
 * 500, 502, 503 or 504, sleeping an exponential backoff with full jitter
 * (uniform in [0, min(backoff_max_ms, backoff_ms * 2^(n-1))], at least
 * 10 ms; a reply's "Retry-After: SECONDS" raises it, never above
 * backoff_max_ms).
 * Before each attempt the request's prepare hook is called again, the
 * response buffer is truncated back to its length at the call, and the
 * captures are cleared, so the caller sees exactly one attempt's reply.
 * Everything else (2xx, 3xx, other 4xx) is returned at once.
 *
 * Callers build URLs themselves: percent-encoding, sorted query
 * parameters (SigV4: curl 7.88 does not sort them, and signs a bare
 * "?uploads" wrongly: write "?uploads="), x-amz-content-sha256 (curl 7.88
 * does not add it: pass it as a header).
 */
#ifndef COFFRE_HTTP_H
#define COFFRE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

/* Limits on what a server can make us hold. */
#define CF_HTTP_VALUE_MAX 512       /* a captured header value, with NUL */
#define CF_HTTP_ERRBODY_MAX 4096    /* the kept body of a non-2xx reply */
#define CF_HTTP_HEADERS_MAX 32      /* request headers, static + prepared */
#define CF_HTTP_CAPTURE_MAX 8       /* captured response headers */
#define CF_HTTP_TO_END UINT64_MAX   /* range_len: to the end */

struct cf_http;

/* Options of a client; zero means "default" for every number. */
struct cf_http_opts {
	const char *pin;        /* "sha256//BASE64[;sha256//...]" or NULL */
	const char *cafile;     /* PEM CA bundle, NULL: system store */
	const char *proxy;      /* explicit proxy URL, NULL: no proxy */
	const char *user_agent; /* NULL: "coffre" */
	int allow_http;         /* 1: also plain http:// (never default) */
	unsigned max_attempts;  /* total attempts, default 5, max 20 */
	unsigned backoff_ms;    /* first backoff, default 250 */
	unsigned backoff_max_ms;/* cap of one backoff, default 15000 */
	unsigned connect_timeout_s; /* default 20 */
	unsigned low_speed_time_s;  /* abort below low_speed_bytes/s for */
	unsigned low_speed_bytes;   /*   this long: default 60 s, 64 B/s */
	unsigned max_idle;      /* easy handles kept for reuse, default 16 */
	/*
	 * AWS SigV4 signing by curl (CURLOPT_AWS_SIGV4), e.g.
	 * "aws:amz:eu-west-3:s3", with ${user} = access key id and
	 * ${password} = secret key.  All three NULL: no signing.  The client
	 * copies them; the copies are wiped when it is freed.
	 */
	const char *aws_sigv4;
	const char *user;
	const char *password;
};

/*
 * cf_http_new(opts, out): a client.  ${opts} may be NULL (defaults); its
 * strings are copied.  Calls curl_global_init once per process
 * (pthread_once).  CF_ERR_NOMEM, CF_ERR_INVALID (bad option: pin not
 * "sha256//...", attempts above 20, user without password...), CF_ERR_IO
 * (libcurl failed to initialise).
 */
cf_status cf_http_new(const struct cf_http_opts *opts, struct cf_http **out);

/* cf_http_free(h): close every handle, wipe credentials; NULL is a no-op. */
void cf_http_free(struct cf_http *h);

/* One request header; the value must not hold CR, LF or NUL. */
struct cf_http_header {
	const char *name;       /* a token: [A-Za-z0-9-] */
	const char *value;      /* may be "" (curl then sends "Name;") */
};

/*
 * Headers added by a prepare hook for one attempt.  Filled through
 * cf_http_hdrs_add(), which copies name and value.
 */
struct cf_http_hdrs;

/*
 * cf_http_hdrs_add(h, name, value): add a header for this attempt.
 * CF_ERR_INVALID (name not a token, value with CR/LF, more than
 * CF_HTTP_HEADERS_MAX in all), CF_ERR_NOMEM.
 */
cf_status cf_http_hdrs_add(struct cf_http_hdrs *h, const char *name,
    const char *value);

/*
 * The prepare hook: called before every attempt (the first and each
 * retry), to add headers that must be fresh per attempt (coffred's time,
 * nonce and signature).  Returning non-CF_OK aborts the request with that
 * status (and its message).  Called on the thread of cf_http_do().
 */
typedef cf_status (*cf_http_prepare_fn)(void *arg, struct cf_http_hdrs *h);

/*
 * A streamed request body: read(arg, off, buf, n, got) stores up to ${n}
 * bytes of the body from offset ${off} in ${buf} and sets *${got} (0 only
 * at the end, which must be body_len).  Positional, so a retry simply
 * starts again at offset 0.  Non-CF_OK aborts the request.
 */
typedef cf_status (*cf_http_read_fn)(void *arg, uint64_t off, void *buf,
    size_t n, size_t *got);

/* A response header to capture: fill ${name}, read found/value after. */
struct cf_http_capture {
	const char *name;       /* matched case-insensitively */
	int found;              /* out: 1 if the reply carried it */
	char value[CF_HTTP_VALUE_MAX]; /* out: trimmed value, NUL-terminated */
};

struct cf_http_req {
	const char *method;     /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *url;        /* full URL, already encoded */
	/* Static headers, the same on every attempt (may be NULL/0). */
	const struct cf_http_header *headers;
	size_t nheaders;
	/* Body (PUT, POST): from memory, or streamed when ${body_read}. */
	const void *body;
	uint64_t body_len;      /* bytes sent; also Content-Length */
	cf_http_read_fn body_read;
	void *body_arg;
	/* Range: sends "Range: bytes=off-(off+len-1)" or "bytes=off-". */
	int has_range;
	uint64_t range_off;
	uint64_t range_len;     /* > 0, or CF_HTTP_TO_END */
	/*
	 * The body of a 2xx reply is appended to ${out} (may be NULL: any
	 * body byte is then an error).  A reply that would grow ${out}
	 * beyond out->max fails the request with CF_ERR_CORRUPT ("reply
	 * larger than expected"), not retried.
	 */
	struct cf_buf *out;
	/* Response headers to capture (may be NULL/0, at most 8). */
	struct cf_http_capture *capture;
	size_t ncapture;
	cf_http_prepare_fn prepare;  /* may be NULL */
	void *prepare_arg;
};

struct cf_http_resp {
	long status;            /* the final attempt's HTTP status */
	unsigned attempts;      /* attempts made, >= 1 */
	/*
	 * Whether an earlier attempt may have reached the server without us
	 * seeing its reply (it failed after the request was sent, or got a
	 * 5xx).  A PUT-if-absent that then gets 409 may have been ours.
	 */
	int maybe_applied;
	int64_t content_length; /* from the reply's header, -1 if none */
	/* Body of a non-2xx reply, truncated to CF_HTTP_ERRBODY_MAX. */
	uint8_t errbody[CF_HTTP_ERRBODY_MAX];
	size_t errbody_len;
};

/*
 * cf_http_do(h, req, resp): perform ${req}, with retries as above.
 * CF_OK when a reply was received, whatever its status: the caller maps
 * resp->status (a retryable status that lasted through every attempt is
 * returned as such).  Otherwise CF_ERR_IO (could not connect, TLS or pin
 * failure, timeout, connection lost, after the retries), CF_ERR_CORRUPT
 * (reply larger than out->max, malformed or oversized captured header, a
 * captured header repeated), CF_ERR_INVALID (bad method, URL scheme,
 * header), CF_ERR_NOMEM, or what the prepare hook / body reader returned.
 * On error ${out} is back to its length at the call.
 */
cf_status cf_http_do(struct cf_http *h, const struct cf_http_req *req,
    struct cf_http_resp *resp);

/*
 * cf_http_text(out, outsz, p, n): a copy of untrusted bytes safe to print
 * on a terminal: printable ASCII kept, anything else written as "\xNN",
 * truncated (with "...") to fit ${outsz} (>= 4) bytes with the NUL.
 * Returns ${out}.
 */
char *cf_http_text(char *out, size_t outsz, const void *p, size_t n);

/*
 * cf_http_uri_encode(out, outsz, in, keep_slash): RFC 3986 / SigV4
 * percent-encoding of ${in}: [A-Za-z0-9-._~] kept, '/' kept when
 * ${keep_slash}, every other byte "%XX" (uppercase).  CF_ERR_INVALID if
 * the result with its NUL does not fit ${outsz}.
 */
cf_status cf_http_uri_encode(char *out, size_t outsz, const char *in,
    int keep_slash);

#endif
