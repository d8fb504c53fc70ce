/*
 * http.c: the HTTP(S) client under the remote backends.  See http.h for the
 * contract and the fixed policy.
 *
 * Each cf_http_do() takes an easy handle from the client's pool (or makes
 * one), resets it and sets every option again, so no state leaks from one
 * request to the next, while curl_easy_reset() keeps the handle's live
 * connections: keep-alive.  DNS answers and TLS sessions are shared
 * between the handles through a CURLSH guarded by one mutex per kind of
 * data.  The handle goes back to the pool after the request (reset again,
 * so it holds no pointer into the finished request).
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

#define DEF_ATTEMPTS 5
#define MAX_ATTEMPTS 20
#define DEF_BACKOFF_MS 250
#define DEF_BACKOFF_MAX_MS 15000
#define MIN_BACKOFF_MS 10
#define DEF_CONNECT_S 20
#define DEF_LOW_SPEED_S 60
#define DEF_LOW_SPEED_B 64
#define DEF_MAX_IDLE 16
#define MAX_IDLE_LIMIT 64
#define RETRY_AFTER_MAX_DIGITS 6

struct cf_http {
	pthread_mutex_t lock;           /* guards idle[], nidle */
	CURL *idle[MAX_IDLE_LIMIT];
	size_t nidle;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	int share_locks_ok;
	char *pin, *cafile, *proxy, *ua, *sigv4, *user, *password;
	int allow_http;
	unsigned attempts, backoff_ms, backoff_max_ms, connect_s;
	unsigned low_speed_s, low_speed_b, max_idle;
};

struct cf_http_hdrs {
	struct curl_slist *list;
	size_t n;
	cf_status err;          /* sticky: an add failed */
};

/* What one attempt's callbacks share. */
struct attempt {
	const struct cf_http_req *req;
	struct cf_http_resp *resp;
	CURL *curl;
	uint64_t body_off;      /* next body byte to send */
	cf_status cb_rc;        /* a callback failed: this, message set */
	int in_final;           /* headers of a final (non-1xx) reply */
	long hdr_status;        /* status of the reply whose headers we see */
	int dup[CF_HTTP_CAPTURE_MAX];
	char retry_after[RETRY_AFTER_MAX_DIGITS + 1];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	if (sodium_init() < 0)
		return;
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ---- */

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* ieq(a, an, b): the ${an} bytes at ${a} equal string ${b}, ignoring case. */
static int
ieq(const char *a, size_t an, const char *b)
{
	size_t i;

	for (i = 0; i < an; i++)
		if (b[i] == '\0' || ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return 0;
	return b[i] == '\0';
}

static int
token_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static int
value_ok(const char *s)
{
	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 0x20 && *s <= 0x7e) || *s == '\t'))
			return 0;
	return 1;
}

static char *
dup_opt(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = 1;
	return d;
}

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/*
 * url_host(url, out, outsz): the host[:port] of ${url} for messages (the
 * part between "://" and the next '/', '?' or '#', without any userinfo),
 * printable, truncated.
 */
static void
url_host(const char *url, char *out, size_t outsz)
{
	const char *p = strstr(url, "://"), *e, *at;

	if (p == NULL) {
		snprintf(out, outsz, "(bad URL)");
		return;
	}
	p += 3;
	e = p + strcspn(p, "/?#");
	for (at = p; at < e; at++)
		if (*at == '@')
			p = at + 1;
	cf_http_text(out, outsz, p, (size_t)(e - p));
}

/* ---- public helpers ---- */

char *
cf_http_text(char *out, size_t outsz, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *in = p;
	size_t o = 0, total = 0, reserve;

	if (outsz < 4) {
		if (outsz > 0)
			out[0] = '\0';
		return out;
	}
	for (size_t i = 0; i < n && total < outsz; i++)
		total += (in[i] >= 0x20 && in[i] <= 0x7e && in[i] != '\\') ?
		    1 : (in[i] == '\\' ? 2 : 4);
	/* All of it and the NUL, or a prefix and "..." and the NUL. */
	reserve = total < outsz ? 1 : 4;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		size_t need = (c >= 0x20 && c <= 0x7e && c != '\\') ? 1 :
		    (c == '\\' ? 2 : 4);

		if (o + need + reserve > outsz) {
			if (o + 4 > outsz)
				o = outsz - 4;
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else if (need == 2) {
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

cf_status
cf_http_uri_encode(char *out, size_t outsz, const char *in, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p != '\0';
	    p++) {
		int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
		    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~' ||
		    (keep_slash && *p == '/');

		if (o + (keep ? 1 : 3) >= outsz)
			goto toolong;
		if (keep) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (o >= outsz)
		goto toolong;
	out[o] = '\0';
	return CF_OK;

toolong:
	if (outsz > 0)
		out[0] = '\0';
	return cf_error_set(CF_ERR_INVALID, "name too long to encode in a URL");
}

cf_status
cf_http_hdrs_add(struct cf_http_hdrs *h, const char *name, const char *value)
{
	struct curl_slist *l;
	size_t nlen, vlen;
	char *line;

	if (h->err != CF_OK)
		return h->err;
	if (!token_ok(name) || !value_ok(value))
		return h->err = cf_error_set(CF_ERR_INVALID,
		    "invalid HTTP request header");
	if (h->n >= CF_HTTP_HEADERS_MAX)
		return h->err = cf_error_set(CF_ERR_INVALID,
		    "too many HTTP request headers");
	nlen = strlen(name);
	vlen = strlen(value);
	if ((line = malloc(nlen + vlen + 3)) == NULL)
		return h->err = cf_error_set(CF_ERR_NOMEM, "out of memory");
	memcpy(line, name, nlen);
	if (vlen == 0) {
		/* curl: "Name;" sends an empty header, "Name:" removes it. */
		line[nlen] = ';';
		line[nlen + 1] = '\0';
	} else {
		line[nlen] = ':';
		line[nlen + 1] = ' ';
		memcpy(line + nlen + 2, value, vlen + 1);
	}
	l = curl_slist_append(h->list, line);
	/* The line may hold a signature: wipe our copy. */
	sodium_memzero(line, nlen + vlen + 2);
	free(line);
	if (l == NULL)
		return h->err = cf_error_set(CF_ERR_NOMEM, "out of memory");
	h->list = l;
	h->n++;
	return CF_OK;
}

static void
hdrs_free(struct cf_http_hdrs *h)
{
	for (struct curl_slist *l = h->list; l != NULL; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(h->list);
	h->list = NULL;
	h->n = 0;
}

/* ---- the client ---- */

static void
share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct cf_http *h = arg;

	(void)c;
	(void)access;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->share_lock[data]);
}

static void
share_unlock(CURL *c, curl_lock_data data, void *arg)
{
	struct cf_http *h = arg;

	(void)c;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->share_lock[data]);
}

static unsigned
pick(unsigned v, unsigned def)
{
	return v == 0 ? def : v;
}

cf_status
cf_http_new(const struct cf_http_opts *opts, struct cf_http **out)
{
	static const struct cf_http_opts none;
	struct cf_http *h;
	int fail = 0;

	*out = NULL;
	if (opts == NULL)
		opts = &none;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return cf_error_set(CF_ERR_IO, "cannot initialise libcurl");
	if (opts->pin != NULL && strncmp(opts->pin, "sha256//", 8) != 0)
		return cf_error_set(CF_ERR_INVALID,
		    "a public-key pin must start with \"sha256//\"");
	if (opts->max_attempts > MAX_ATTEMPTS)
		return cf_error_set(CF_ERR_INVALID,
		    "at most %d attempts per request", MAX_ATTEMPTS);
	if ((opts->user == NULL) != (opts->password == NULL) ||
	    (opts->aws_sigv4 != NULL && opts->user == NULL))
		return cf_error_set(CF_ERR_INVALID,
		    "credentials need both a key id and a secret");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return cf_error_set(CF_ERR_NOMEM, "cannot create a mutex");
	}
	h->pin = dup_opt(opts->pin, &fail);
	h->cafile = dup_opt(opts->cafile, &fail);
	h->proxy = dup_opt(opts->proxy, &fail);
	h->ua = dup_opt(opts->user_agent != NULL ? opts->user_agent :
	    "coffre", &fail);
	h->sigv4 = dup_opt(opts->aws_sigv4, &fail);
	h->user = dup_opt(opts->user, &fail);
	h->password = dup_opt(opts->password, &fail);
	h->allow_http = opts->allow_http != 0;
	h->attempts = pick(opts->max_attempts, DEF_ATTEMPTS);
	h->backoff_ms = pick(opts->backoff_ms, DEF_BACKOFF_MS);
	h->backoff_max_ms = pick(opts->backoff_max_ms, DEF_BACKOFF_MAX_MS);
	if (h->backoff_max_ms < h->backoff_ms)
		h->backoff_max_ms = h->backoff_ms;
	h->connect_s = pick(opts->connect_timeout_s, DEF_CONNECT_S);
	h->low_speed_s = pick(opts->low_speed_time_s, DEF_LOW_SPEED_S);
	h->low_speed_b = pick(opts->low_speed_bytes, DEF_LOW_SPEED_B);
	h->max_idle = pick(opts->max_idle, DEF_MAX_IDLE);
	if (h->max_idle > MAX_IDLE_LIMIT)
		h->max_idle = MAX_IDLE_LIMIT;
	if (fail) {
		cf_http_free(h);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}

	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		if (pthread_mutex_init(&h->share_lock[i], NULL) != 0) {
			for (int j = 0; j < i; j++)
				pthread_mutex_destroy(&h->share_lock[j]);
			cf_http_free(h);
			return cf_error_set(CF_ERR_NOMEM,
			    "cannot create a mutex");
		}
	h->share_locks_ok = 1;
	if ((h->share = curl_share_init()) == NULL ||
	    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) !=
	    CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) !=
	    CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
	    CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		cf_http_free(h);
		return cf_error_set(CF_ERR_IO, "cannot set up libcurl sharing");
	}
	*out = h;
	return CF_OK;
}

void
cf_http_free(struct cf_http *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	if (h->share != NULL)
		curl_share_cleanup(h->share);
	if (h->share_locks_ok)
		for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_destroy(&h->share_lock[i]);
	pthread_mutex_destroy(&h->lock);
	free(h->pin);
	free(h->cafile);
	free(h->proxy);
	free(h->ua);
	free(h->sigv4);
	free_secret(h->user);
	free_secret(h->password);
	free(h);
}

static CURL *
handle_get(struct cf_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->nidle > 0)
		c = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->lock);
	if (c == NULL)
		c = curl_easy_init();
	return c;
}

static void
handle_put(struct cf_http *h, CURL *c)
{
	/* Drop every pointer into the finished request; keep connections. */
	curl_easy_reset(c);
	pthread_mutex_lock(&h->lock);
	if (h->nidle < h->max_idle) {
		h->idle[h->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	if (c != NULL)
		curl_easy_cleanup(c);
}

/* ---- callbacks ---- */

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct attempt *a = arg;
	const struct cf_http_req *req = a->req;
	uint64_t left = req->body_len - a->body_off;
	size_t n = size * nitems, got = 0;
	cf_status rc;

	if (a->body_off >= req->body_len)
		return 0;
	if (n > left)
		n = (size_t)left;
	if (req->body_read == NULL) {
		memcpy(buf, (const uint8_t *)req->body + a->body_off, n);
		got = n;
	} else {
		if ((rc = req->body_read(req->body_arg, a->body_off, buf, n,
		    &got)) != CF_OK) {
			a->cb_rc = rc;
			return CURL_READFUNC_ABORT;
		}
		if (got == 0 || got > n) {
			a->cb_rc = cf_error_set(CF_ERR_IO,
			    "request body ended early");
			return CURL_READFUNC_ABORT;
		}
	}
	a->body_off += got;
	return got;
}

/* curl may rewind the body (a reused connection that closed, ...). */
static int
seek_cb(void *arg, curl_off_t off, int origin)
{
	struct attempt *a = arg;

	if (origin != SEEK_SET || off < 0 ||
	    (uint64_t)off > a->req->body_len)
		return CURL_SEEKFUNC_FAIL;
	a->body_off = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct attempt *a = arg;
	struct cf_http_resp *resp = a->resp;
	struct cf_buf *out = a->req->out;
	size_t n = size * nitems;
	long status = 0;

	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299) {
		if (out == NULL || out->len > out->max ||
		    n > out->max - out->len) {
			a->cb_rc = cf_error_set(CF_ERR_CORRUPT,
			    "reply larger than expected");
			return 0;       /* CURLE_WRITE_ERROR */
		}
		if (cf_buf_append(out, p, n) != CF_OK) {
			a->cb_rc = cf_error_code();
			return 0;
		}
		return n;
	}
	/* An error reply: keep its start for the caller's message. */
	if (resp->errbody_len < sizeof(resp->errbody)) {
		size_t room = sizeof(resp->errbody) - resp->errbody_len;
		size_t k = n < room ? n : room;

		memcpy(resp->errbody + resp->errbody_len, p, k);
		resp->errbody_len += k;
	}
	return n;
}

/* header_fail(a, msg): abort the transfer over a bad response header. */
static size_t
header_fail(struct attempt *a, const char *msg)
{
	a->cb_rc = cf_error_set(CF_ERR_CORRUPT, "%s", msg);
	return 0;
}

static size_t
header_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct attempt *a = arg;
	const struct cf_http_req *req = a->req;
	size_t n = size * nitems, nlen, vlen;
	const char *colon, *v;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new reply (after a 1xx, or the first): start over. */
		for (size_t i = 0; i < req->ncapture; i++) {
			req->capture[i].found = 0;
			req->capture[i].value[0] = '\0';
			a->dup[i] = 0;
		}
		a->retry_after[0] = '\0';
		return n;
	}
	/* Strip the line end; an empty line ends the headers. */
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0)
		return size * nitems;
	if ((colon = memchr(p, ':', n)) == NULL)
		return size * nitems;   /* not ours to judge: curl parsed it */
	nlen = (size_t)(colon - p);
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;

	if (ieq(p, nlen, "Retry-After")) {
		if (vlen >= 1 && vlen <= RETRY_AFTER_MAX_DIGITS) {
			size_t i;

			for (i = 0; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
				;
			if (i == vlen) {
				memcpy(a->retry_after, v, vlen);
				a->retry_after[vlen] = '\0';
			}
		}
	}
	for (size_t i = 0; i < req->ncapture; i++) {
		struct cf_http_capture *c = &req->capture[i];

		if (!ieq(p, nlen, c->name))
			continue;
		if (a->dup[i])
			return header_fail(a, "a reply header is repeated");
		a->dup[i] = 1;
		if (vlen >= sizeof(c->value))
			return header_fail(a, "a reply header is too long");
		for (size_t k = 0; k < vlen; k++)
			if (!((v[k] >= 0x20 && v[k] <= 0x7e) || v[k] == '\t'))
				return header_fail(a,
				    "a reply header holds a control byte");
		memcpy(c->value, v, vlen);
		c->value[vlen] = '\0';
		c->found = 1;
	}
	return size * nitems;
}

/* ---- one request ---- */

static int
curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* curl_maybe_sent(cc): the request may have reached the server. */
static int
curl_maybe_sent(CURLcode cc)
{
	return cc != CURLE_COULDNT_RESOLVE_HOST &&
	    cc != CURLE_COULDNT_CONNECT && cc != CURLE_SSL_CONNECT_ERROR;
}

static int
status_retryable(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* backoff(h, n, retry_after): how long to wait before attempt n + 1. */
static unsigned
backoff(const struct cf_http *h, unsigned n, const char *retry_after)
{
	uint64_t cap = h->backoff_ms, ms;

	for (unsigned i = 1; i < n && cap < h->backoff_max_ms; i++)
		cap *= 2;
	if (cap > h->backoff_max_ms)
		cap = h->backoff_max_ms;
	/* Full jitter: threads that failed together do not retry together. */
	ms = randombytes_uniform((uint32_t)cap + 1);
	if (retry_after[0] != '\0') {
		uint64_t ra = strtoull(retry_after, NULL, 10) * 1000;

		if (ra > ms)
			ms = ra;
	}
	if (ms > h->backoff_max_ms)
		ms = h->backoff_max_ms;
	if (ms < MIN_BACKOFF_MS)
		ms = MIN_BACKOFF_MS;
	return (unsigned)ms;
}

#define SETOPT(c, o, v) do { \
	if (curl_easy_setopt((c), (o), (v)) != CURLE_OK) \
		goto setopt_fail; \
} while (0)

/*
 * setup(h, a, hdrs, errbuf): set every option of one attempt on a->curl.
 */
static cf_status
setup(struct cf_http *h, struct attempt *a, struct cf_http_hdrs *hdrs,
    char *errbuf)
{
	const struct cf_http_req *req = a->req;
	CURL *c = a->curl;
	char range[64];
	int has_body = 0;

	SETOPT(c, CURLOPT_URL, req->url);
	SETOPT(c, CURLOPT_PROTOCOLS_STR, h->allow_http ? "http,https" :
	    "https");
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_PATH_AS_IS, 1L);      /* what is signed is sent */
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->cafile != NULL)
		SETOPT(c, CURLOPT_CAINFO, h->cafile);
	if (h->pin != NULL) {
		SETOPT(c, CURLOPT_PINNEDPUBLICKEY, h->pin);
		if (h->cafile == NULL) {
			/* A self-signed server: the pin is the check. */
			SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
			SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	/* "" disables proxies, including those named in the environment. */
	SETOPT(c, CURLOPT_PROXY, h->proxy != NULL ? h->proxy : "");
	SETOPT(c, CURLOPT_CONNECTTIMEOUT, (long)h->connect_s);
	SETOPT(c, CURLOPT_LOW_SPEED_TIME, (long)h->low_speed_s);
	SETOPT(c, CURLOPT_LOW_SPEED_LIMIT, (long)h->low_speed_b);
	SETOPT(c, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(c, CURLOPT_USERAGENT, h->ua);
	SETOPT(c, CURLOPT_SHARE, h->share);
	SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
	if (h->sigv4 != NULL) {
		SETOPT(c, CURLOPT_AWS_SIGV4, h->sigv4);
		SETOPT(c, CURLOPT_USERNAME, h->user);
		SETOPT(c, CURLOPT_PASSWORD, h->password);
	}
	/* No Accept-Encoding: no decompression of what a server sends. */

	if (strcmp(req->method, "GET") == 0) {
		SETOPT(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		SETOPT(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "DELETE") == 0) {
		SETOPT(c, CURLOPT_HTTPGET, 1L);
		SETOPT(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else if (strcmp(req->method, "PUT") == 0) {
		SETOPT(c, CURLOPT_UPLOAD, 1L);
		SETOPT(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		has_body = 1;
	} else if (strcmp(req->method, "POST") == 0) {
		SETOPT(c, CURLOPT_POST, 1L);
		SETOPT(c, CURLOPT_POSTFIELDS, NULL);
		SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		has_body = 1;
	} else {
		return cf_error_set(CF_ERR_INVALID, "unsupported HTTP method");
	}
	if (has_body) {
		SETOPT(c, CURLOPT_READFUNCTION, read_cb);
		SETOPT(c, CURLOPT_READDATA, a);
		SETOPT(c, CURLOPT_SEEKFUNCTION, seek_cb);
		SETOPT(c, CURLOPT_SEEKDATA, a);
	}
	if (req->has_range) {
		if (req->range_len == CF_HTTP_TO_END)
			snprintf(range, sizeof(range), "%llu-",
			    (unsigned long long)req->range_off);
		else
			snprintf(range, sizeof(range), "%llu-%llu",
			    (unsigned long long)req->range_off,
			    (unsigned long long)(req->range_off +
			    req->range_len - 1));
		SETOPT(c, CURLOPT_RANGE, range);
	}
	/*
	 * Not CURLOPT_MAXFILESIZE: curl applies it to error replies too (a
	 * 404's JSON would become "too large"); write_cb bounds the body.
	 */
	SETOPT(c, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(c, CURLOPT_WRITEDATA, a);
	SETOPT(c, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(c, CURLOPT_HEADERDATA, a);
	SETOPT(c, CURLOPT_HTTPHEADER, hdrs->list);
	return CF_OK;

setopt_fail:
	return cf_error_set(CF_ERR_IO, "cannot set up an HTTP request "
	    "(libcurl too old or built without a needed feature)");
}

static cf_status
check_req(const struct cf_http *h, const struct cf_http_req *req)
{
	if (req->method == NULL || req->url == NULL)
		return cf_error_set(CF_ERR_INVALID, "incomplete HTTP request");
	if (strncmp(req->url, "https://", 8) != 0 &&
	    !(h->allow_http && strncmp(req->url, "http://", 7) == 0))
		return cf_error_set(CF_ERR_INVALID,
		    "only https:// URLs are allowed");
	if (req->ncapture > CF_HTTP_CAPTURE_MAX ||
	    (req->ncapture > 0 && req->capture == NULL))
		return cf_error_set(CF_ERR_INVALID,
		    "too many reply headers to capture");
	if (req->nheaders > 0 && req->headers == NULL)
		return cf_error_set(CF_ERR_INVALID, "missing request headers");
	if (req->body_len > 0 && req->body == NULL && req->body_read == NULL)
		return cf_error_set(CF_ERR_INVALID, "missing request body");
	if (req->has_range && (req->range_len == 0 ||
	    (req->range_len != CF_HTTP_TO_END &&
	    req->range_off + req->range_len < req->range_off)))
		return cf_error_set(CF_ERR_INVALID, "invalid byte range");
	return CF_OK;
}

cf_status
cf_http_do(struct cf_http *h, const struct cf_http_req *req,
    struct cf_http_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE], host[128];
	size_t out_len0 = req->out != NULL ? req->out->len : 0;
	struct attempt a;
	cf_status rc;
	CURLcode cc = CURLE_OK;
	CURL *c;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	for (size_t i = 0; i < req->ncapture && req->capture != NULL; i++) {
		req->capture[i].found = 0;
		req->capture[i].value[0] = '\0';
	}
	if ((rc = check_req(h, req)) != CF_OK)
		return rc;
	if ((c = handle_get(h)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "cannot create an HTTP handle");

	for (unsigned n = 1;; n++) {
		struct cf_http_hdrs hdrs = { NULL, 0, CF_OK };
		curl_off_t cl = -1;
		long status = 0;

		memset(&a, 0, sizeof(a));
		a.req = req;
		a.resp = resp;
		a.curl = c;
		a.cb_rc = CF_OK;
		errbuf[0] = '\0';
		resp->attempts = n;
		resp->status = 0;
		resp->content_length = -1;
		resp->errbody_len = 0;
		if (req->out != NULL) {
			req->out->len = out_len0;
		}
		for (size_t i = 0; i < req->ncapture; i++) {
			req->capture[i].found = 0;
			req->capture[i].value[0] = '\0';
		}

		for (size_t i = 0; i < req->nheaders && rc == CF_OK; i++)
			rc = cf_http_hdrs_add(&hdrs, req->headers[i].name,
			    req->headers[i].value);
		if (rc == CF_OK && req->prepare != NULL)
			rc = req->prepare(req->prepare_arg, &hdrs);
		if (rc == CF_OK && hdrs.err != CF_OK)
			rc = hdrs.err;
		if (rc == CF_OK) {
			curl_easy_reset(c);
			rc = setup(h, &a, &hdrs, errbuf);
		}
		if (rc != CF_OK) {
			hdrs_free(&hdrs);
			break;
		}
		cc = curl_easy_perform(c);
		hdrs_free(&hdrs);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
		    &cl) != CURLE_OK)
			cl = -1;

		if (a.cb_rc != CF_OK) {
			/* A callback failed and said why: not retried. */
			rc = a.cb_rc;
			break;
		}
		if (cc == CURLE_OK) {
			resp->status = status;
			resp->content_length = cl;
			if (!status_retryable(status) || n >= h->attempts)
				break;
			if (status == 500 || status == 502 || status == 504)
				resp->maybe_applied = 1;
		} else {
			if (!curl_retryable(cc) || n >= h->attempts) {
				url_host(req->url, host, sizeof(host));
				/* curl's text names hosts and certificates,
				 * never a header value or credential. */
				errbuf[sizeof(errbuf) - 1] = '\0';
				rc = cf_error_set(CF_ERR_IO, "%s %s: %s%s%s",
				    req->method, host,
				    errbuf[0] != '\0' ? errbuf :
				    curl_easy_strerror(cc),
				    n > 1 ? " (after retries)" : "",
				    cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ?
				    " (the server's key is not the pinned "
				    "one)" : cc == CURLE_PEER_FAILED_VERIFICATION ?
				    " (no trusted authority vouches for the "
				    "server's certificate; a self-signed server "
				    "is reached with its pin)" : "");
				break;
			}
			if (curl_maybe_sent(cc))
				resp->maybe_applied = 1;
		}
		sleep_ms(backoff(h, n, a.retry_after));
	}

	handle_put(h, c);
	if (rc != CF_OK && req->out != NULL)
		req->out->len = out_len0;
	return rc;
}
