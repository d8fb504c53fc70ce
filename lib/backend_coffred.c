/*
 * backend_coffred.c: a repository on a coffred server (docs/protocol.md),
 * location https://HOST[:PORT]/TENANT[?pin=sha256//BASE64].
 *
 * Each operation is one HTTP request (lib/http.h) signed with the
 * identity (lib/reqsig.h): the signature is made again in the request's
 * prepare hook before every attempt, so a retry carries a fresh time and
 * nonce.  Nothing is shared between calls but the HTTP client (which is
 * thread-safe), so the packer's workers each have a put in flight.
 *
 * Every byte of a reply is distrusted: bodies go into buffers bounded by
 * what was asked for, a listing is checked name by name (valid, under the
 * directory asked for, strictly increasing: a server cannot make the
 * client loop or see a name twice), a range reply must be the range asked
 * for, and a server's error message is parsed strictly and made printable
 * before it reaches a message.
 */
#include "backend.h"
#include "backend_coffred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto.h"
#include "http.h"
#include "identity.h"
#include "reqsig.h"

#define INFO_MAX 4096
/* A listing page: at most 1000 names of at most 128 bytes, each + '\n'. */
#define LIST_BODY_MAX (CF_COFFRED_LIST_MAX * (CF_OBJECT_NAME_MAX + 1))
#define PATH_MAX_LEN 256
#define BASE_MAX (8 + CF_COFFRED_HOST_MAX + 2 + 7)
#define URL_MAX (8 + CF_COFFRED_HOST_MAX + 2 + 6 + PATH_MAX_LEN + \
	CF_REQSIG_QUERY_MAX + 2)

struct coffred {
	struct cf_http *http;
	const struct cf_identity *id;
	struct cf_coffred_loc loc;
	char base[BASE_MAX];                    /* https://host[:port] */
	char where[BASE_MAX + 1 + CF_COFFRED_TENANT_MAX]; /* for messages */
};

/* One signed request being made. */
struct call {
	struct coffred *co;
	const char *method;
	char path[PATH_MAX_LEN];
	char query[CF_REQSIG_QUERY_MAX + 1];
	uint8_t body_hash[CF_HASH_BYTES];
};

static cf_status coffred_put(void *, const char *, const void *, size_t);
static cf_status coffred_get(void *, const char *, uint64_t, uint64_t,
    struct cf_buf *);
static cf_status coffred_stat(void *, const char *, uint64_t *);
static cf_status coffred_list(void *, const char *, cf_backend_list_fn,
    void *);
static cf_status coffred_del(void *, const char *);
static void coffred_close(void *);

static const struct cf_backend_ops coffred_ops = {
	.scheme = "https",
	.put = coffred_put,
	.get = coffred_get,
	.stat = coffred_stat,
	.list = coffred_list,
	.del = coffred_del,
	.close = coffred_close,
};

/* ---- parsers of outside input ---- */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_b64(int c)
{
	return is_alnum(c) || c == '+' || c == '/';
}

/* parse_host(s, out, end): HOST at ${s}; *${end} after it; 0 or -1. */
static int
parse_host(const char *s, struct cf_coffred_loc *out, const char **end)
{
	size_t n = 0, label = 0;
	const char *p = s;

	if (*p == '[') {
		int colon = 0;

		for (p++; *p != ']'; p++, n++) {
			if (!(is_digit(*p) || (*p >= 'a' && *p <= 'f') ||
			    (*p >= 'A' && *p <= 'F') || *p == ':' ||
			    *p == '.') || n >= 45)
				return -1;
			colon |= *p == ':';
		}
		if (n < 2 || !colon)
			return -1;
		p++;
	} else {
		for (; is_alnum(*p) || *p == '-' || *p == '.'; p++, n++) {
			if (n >= CF_COFFRED_HOST_MAX)
				return -1;
			if (*p == '.') {
				if (label == 0 || p[-1] == '-')
					return -1;
				label = 0;
				continue;
			}
			if (*p == '-' && label == 0)
				return -1;
			if (++label > 63)
				return -1;
		}
		if (label == 0 || p[-1] == '-')
			return -1;
	}
	memcpy(out->host, s, (size_t)(p - s));
	out->host[p - s] = '\0';
	*end = p;
	return 0;
}

/*
 * parse_pin(p, end): one "sha256//" + 43 base64 + "=" at ${p}, the
 * canonical encoding of 32 bytes (the last character before '=' carries
 * two zero bits); 0 or -1.
 */
static int
parse_pin(const char *p, const char **end)
{
	static const char last_ok[] = "AEIMQUYcgkosw048";

	if (strncmp(p, "sha256//", 8) != 0)
		return -1;
	p += 8;
	for (int i = 0; i < 43; i++)
		if (!is_b64(p[i]))
			return -1;
	if (p[43] != '=' || strchr(last_ok, p[42]) == NULL)
		return -1;
	*end = p + 44;
	return 0;
}

static cf_status parse_location(const char *s, struct cf_coffred_loc *out);

cf_status
cf_coffred_parse_location(const char *s, struct cf_coffred_loc *out)
{
	cf_status rc;

	if ((rc = parse_location(s, out)) != CF_OK)
		sodium_memzero(out, sizeof(*out));
	return rc;
}

static cf_status
parse_location(const char *s, struct cf_coffred_loc *out)
{
	static const char usage[] = "expected https://HOST[:PORT]/TENANT"
	    "[?pin=sha256//BASE64]";
	const char *p;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (s == NULL || strncmp(s, "https://", 8) != 0)
		return cf_error_set(CF_ERR_INVALID,
		    "a coffred location starts with https://");
	p = s + 8;
	if (strchr(p, '@') != NULL)
		return cf_error_set(CF_ERR_INVALID, "a coffred location holds "
		    "no user name or password (the identity signs)");
	if (strchr(p, '%') != NULL)
		return cf_error_set(CF_ERR_INVALID,
		    "a coffred location is not percent-encoded");
	if (parse_host(p, out, &p) != 0)
		return cf_error_set(CF_ERR_INVALID,
		    "invalid server name in the location: %s", usage);
	if (*p == ':') {
		unsigned long port = 0;

		p++;
		for (n = 0; is_digit(p[n]); n++) {
			if (n >= 5)
				break;
			port = port * 10 + (unsigned long)(p[n] - '0');
		}
		if (n == 0 || n > 5 || is_digit(p[n]) || p[0] == '0' ||
		    port > 65535)
			return cf_error_set(CF_ERR_INVALID,
			    "invalid port in the location (1 to 65535)");
		out->port = (unsigned)port;
		p += n;
	}
	if (*p != '/')
		return cf_error_set(CF_ERR_INVALID,
		    "no tenant in the location: %s", usage);
	p++;
	for (n = 0; (p[n] >= 'a' && p[n] <= 'z') || is_digit(p[n]) ||
	    p[n] == '-'; n++)
		if (n >= CF_COFFRED_TENANT_MAX)
			break;
	if (n == 0 || n > CF_COFFRED_TENANT_MAX || p[0] == '-' ||
	    (p[n] != '\0' && p[n] != '?'))
		return cf_error_set(CF_ERR_INVALID, "invalid tenant in the "
		    "location: 1 to 32 of a-z, 0-9 and '-', not starting with "
		    "'-', and nothing after it but ?pin=");
	memcpy(out->tenant, p, n);
	out->tenant[n] = '\0';
	p += n;
	if (*p == '\0')
		return CF_OK;
	if (strncmp(p, "?pin=", 5) != 0)
		return cf_error_set(CF_ERR_INVALID,
		    "the only option of a coffred location is ?pin=");
	p += 5;
	for (int i = 0;; i++) {
		const char *start = p;
		size_t len = strlen(out->pin);

		if (i >= CF_COFFRED_PINS_MAX || parse_pin(p, &p) != 0)
			return cf_error_set(CF_ERR_INVALID, i >=
			    CF_COFFRED_PINS_MAX ? "at most 4 pins" :
			    "invalid pin in the location: sha256// and the "
			    "44-character base64 printed by `coffred "
			    "fingerprint`");
		if (len > 0)
			out->pin[len++] = ';';
		memcpy(out->pin + len, start, (size_t)(p - start));
		out->pin[len + (size_t)(p - start)] = '\0';
		if (*p == '\0')
			return CF_OK;
		if (*p != ';')
			return cf_error_set(CF_ERR_INVALID,
			    "unexpected text after the pin in the location");
		p++;
	}
}

cf_status
cf_coffred_parse_list(char *p, size_t n, const char *dir, const char *after,
    const char *next, size_t *count)
{
	size_t dlen = strlen(dir), k = 0, off = 0;
	const char *prev = after;

	*count = 0;
	while (off < n) {
		char *name = p + off, *nl = memchr(name, '\n', n - off);
		size_t len;

		if (nl == NULL)
			return cf_error_set(CF_ERR_CORRUPT, "the server's "
			    "listing does not end with a newline");
		len = (size_t)(nl - name);
		*nl = '\0';
		if (++k > CF_COFFRED_LIST_MAX)
			return cf_error_set(CF_ERR_CORRUPT,
			    "the server's listing holds too many names");
		if (memchr(name, '\0', len) != NULL ||
		    !cf_backend_name_ok(name) || len <= dlen + 1 ||
		    memcmp(name, dir, dlen) != 0 || name[dlen] != '/')
			return cf_error_set(CF_ERR_CORRUPT, "the server's "
			    "listing holds an invalid name");
		if (prev != NULL && strcmp(name, prev) <= 0)
			return cf_error_set(CF_ERR_CORRUPT, "the server's "
			    "listing is not in increasing order");
		prev = name;
		off += len + 1;
	}
	if (next != NULL && (k == 0 || strcmp(next, prev) != 0))
		return cf_error_set(CF_ERR_CORRUPT, "the server's listing "
		    "continuation does not match its last name");
	*count = k;
	return CF_OK;
}

static void
skip_ws(const uint8_t *p, size_t n, size_t *i)
{
	while (*i < n && (p[*i] == ' ' || p[*i] == '\t' || p[*i] == '\n' ||
	    p[*i] == '\r'))
		(*i)++;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * json_string(p, n, i, out, outsz, over): parse a JSON string at p[*i]
 * (the opening quote), decoding into ${out} (NUL-terminated, at most
 * outsz - 1 bytes; non-printable / non-ASCII become '?'); *${over} set if
 * it did not fit.  ${out} may be NULL (skip).  0 or -1.
 */
static int
json_string(const uint8_t *p, size_t n, size_t *i, char *out, size_t outsz,
    int *over)
{
	size_t o = 0;

	if (*i >= n || p[*i] != '"')
		return -1;
	for ((*i)++; *i < n; (*i)++) {
		unsigned c = p[*i];

		if (c == '"') {
			(*i)++;
			if (out != NULL)
				out[o] = '\0';
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++(*i) >= n)
				return -1;
			switch (p[*i]) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': case 'f': case 'n': case 'r': case 't':
				c = ' ';
				break;
			case 'u': {
				unsigned v = 0;

				if (n - *i < 5)
					return -1;
				for (int k = 1; k <= 4; k++) {
					int h = hexval(p[*i + (size_t)k]);

					if (h < 0)
						return -1;
					v = v * 16 + (unsigned)h;
				}
				*i += 4;
				c = v;
				break;
			}
			default:
				return -1;
			}
		}
		if (c < 0x20 || c > 0x7e)
			c = '?';
		if (out != NULL) {
			if (o + 1 >= outsz)
				*over = 1;
			else
				out[o++] = (char)c;
		}
	}
	return -1;
}

int
cf_coffred_parse_error(const uint8_t *p, size_t n,
    char code[CF_COFFRED_CODE_MAX + 1], char msg[CF_COFFRED_MESSAGE_MAX])
{
	char key[16];
	size_t i = 0;
	int have_code = 0, have_msg = 0;

	code[0] = msg[0] = '\0';
	skip_ws(p, n, &i);
	if (i >= n || p[i++] != '{')
		goto bad;
	skip_ws(p, n, &i);
	if (i < n && p[i] == '}')
		goto bad;       /* no members: both are required */
	for (;;) {
		int over = 0;

		skip_ws(p, n, &i);
		if (json_string(p, n, &i, key, sizeof(key), &over) != 0)
			goto bad;
		if (over)
			key[0] = '\0';  /* a long key: some other member */
		skip_ws(p, n, &i);
		if (i >= n || p[i++] != ':')
			goto bad;
		skip_ws(p, n, &i);
		over = 0;
		if (strcmp(key, "error") == 0) {
			if (have_code++ || json_string(p, n, &i, code,
			    CF_COFFRED_CODE_MAX + 1, &over) != 0 || over ||
			    code[0] == '\0')
				goto bad;
			for (const char *q = code; *q != '\0'; q++)
				if (!((*q >= 'a' && *q <= 'z') || *q == '_'))
					goto bad;
		} else if (strcmp(key, "message") == 0) {
			if (have_msg++ || json_string(p, n, &i, msg,
			    CF_COFFRED_MESSAGE_MAX, &over) != 0 || over)
				goto bad;
		} else if (json_string(p, n, &i, NULL, 0, &over) != 0) {
			goto bad;
		}
		skip_ws(p, n, &i);
		if (i >= n)
			goto bad;
		if (p[i] == ',') {
			i++;
			continue;
		}
		if (p[i++] != '}')
			goto bad;
		break;
	}
	skip_ws(p, n, &i);
	if (i != n || !have_code || !have_msg)
		goto bad;
	return 0;

bad:
	code[0] = msg[0] = '\0';
	return -1;
}

/* parse_num(p, out): digits at *p (no leading zero); advances; 0 or -1. */
static int
parse_num(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n;

	for (n = 0; is_digit(s[n]); n++) {
		unsigned d = (unsigned)(s[n] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	*out = v;
	*p = s + n;
	return 0;
}

int
cf_coffred_parse_u64(const char *v, uint64_t *out)
{
	if (parse_num(&v, out) != 0 || *v != '\0')
		return -1;
	return 0;
}

int
cf_coffred_parse_range(const char *v, uint64_t *first, uint64_t *last,
    uint64_t *total)
{
	if (strncmp(v, "bytes ", 6) != 0)
		return -1;
	v += 6;
	if (parse_num(&v, first) != 0 || *v++ != '-' ||
	    parse_num(&v, last) != 0 || *v++ != '/' || *first > *last)
		return -1;
	if (strcmp(v, "*") == 0) {
		*total = UINT64_MAX;
		return 0;
	}
	if (parse_num(&v, total) != 0 || *v != '\0' || *last >= *total)
		return -1;
	return 0;
}

/* ---- requests ---- */

static cf_status
sign_hook(void *arg, struct cf_http_hdrs *h)
{
	struct call *c = arg;
	struct cf_reqsig_headers sig;
	cf_status rc;

	if ((rc = cf_reqsig_sign(c->co->id, c->method, c->path, c->query,
	    c->body_hash, (uint64_t)time(NULL), &sig)) != CF_OK)
		return rc;
	if ((rc = cf_http_hdrs_add(h, CF_REQSIG_H_KEY, sig.key)) == CF_OK &&
	    (rc = cf_http_hdrs_add(h, CF_REQSIG_H_TIME, sig.time)) == CF_OK &&
	    (rc = cf_http_hdrs_add(h, CF_REQSIG_H_NONCE, sig.nonce)) ==
	    CF_OK &&
	    (rc = cf_http_hdrs_add(h, CF_REQSIG_H_BODY, sig.body)) == CF_OK)
		rc = cf_http_hdrs_add(h, CF_REQSIG_H_SIGNATURE, sig.signature);
	sodium_memzero(&sig, sizeof(sig));
	return rc;
}

/*
 * call_init(c, co, method, what, name, query, body, len): a request for
 * path /v1/TENANT/${what}[/${name}] (name may be NULL).
 */
static cf_status
call_init(struct call *c, struct coffred *co, const char *method,
    const char *what, const char *name, const char *query, const void *body,
    size_t len)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->co = co;
	c->method = method;
	r = snprintf(c->path, sizeof(c->path), "/v1/%s/%s%s%s",
	    co->loc.tenant, what, name != NULL ? "/" : "",
	    name != NULL ? name : "");
	if (r < 0 || (size_t)r >= sizeof(c->path))
		return cf_error_set(CF_ERR_INVALID, "request path too long");
	r = snprintf(c->query, sizeof(c->query), "%s",
	    query != NULL ? query : "");
	if (r < 0 || (size_t)r >= sizeof(c->query))
		return cf_error_set(CF_ERR_INVALID, "request query too long");
	cf_name_hash(c->body_hash, body != NULL ? body : "", body != NULL ? len : 0);
	return CF_OK;
}

/*
 * call_do(c, req, resp, url): fill the URL and signing hook of ${req}
 * from ${c}, and perform it.
 */
static cf_status
call_do(struct call *c, struct cf_http_req *req, struct cf_http_resp *resp)
{
	char url[URL_MAX];
	int r;

	r = snprintf(url, sizeof(url), "%s%s%s%s", c->co->base, c->path,
	    c->query[0] != '\0' ? "?" : "", c->query);
	if (r < 0 || (size_t)r >= sizeof(url))
		return cf_error_set(CF_ERR_INVALID, "request URL too long");
	req->method = c->method;
	req->url = url;
	req->prepare = sign_hook;
	req->prepare_arg = c;
	return cf_http_do(c->co->http, req, resp);
}

/*
 * refusal(co, resp, what, name): the error for a reply whose status the
 * caller does not handle, with the server's message when it sent one.
 */
static cf_status
refusal(const struct coffred *co, const struct cf_http_resp *resp,
    const char *what, const char *name)
{
	char code[CF_COFFRED_CODE_MAX + 1], msg[CF_COFFRED_MESSAGE_MAX];
	char said[CF_COFFRED_MESSAGE_MAX + 16];
	const char *sep = name != NULL ? " " : "";
	long st = resp->status;

	if (name == NULL)
		name = "";
	said[0] = '\0';
	if (cf_coffred_parse_error(resp->errbody, resp->errbody_len, code,
	    msg) == 0 && msg[0] != '\0')
		snprintf(said, sizeof(said), ": %s", msg);

	switch (st) {
	case 401:
		if (said[0] != '\0')
			return cf_error_set(CF_ERR_ACCESS, "%s%s%s: the server "
			    "%s did not accept this identity%s", what, sep,
			    name, co->where, said);
		return cf_error_set(CF_ERR_ACCESS, "%s%s%s: the server %s did "
		    "not accept this identity's signature (is the identity "
		    "registered for this tenant, and the clock right?)",
		    what, sep, name, co->where);
	case 403:
		return cf_error_set(CF_ERR_ACCESS, "%s%s%s: access denied by "
		    "the server %s%s", what, sep, name, co->where, said);
	case 404:
		return cf_error_set(CF_ERR_NOTFOUND, "%s%s%s: not found on %s",
		    what, sep, name, co->where);
	case 409:
		return cf_error_set(CF_ERR_EXISTS, "%s%s%s: already exists on "
		    "%s", what, sep, name, co->where);
	case 413:
		return cf_error_set(CF_ERR_IO, "%s%s%s: the object is larger "
		    "than the server %s accepts%s", what, sep, name,
		    co->where, said);
	case 422:
		return cf_error_set(CF_ERR_CORRUPT, "%s%s%s: the server %s "
		    "says the content does not match the object's name%s",
		    what, sep, name, co->where, said);
	case 507:
		return cf_error_set(CF_ERR_IO, "%s%s%s: the tenant's quota on "
		    "%s is exhausted%s", what, sep, name, co->where, said);
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return cf_error_set(CF_ERR_IO, "%s%s%s: the server %s is "
		    "unavailable (HTTP %ld after %u attempts)%s", what, sep,
		    name, co->where, st, resp->attempts, said);
	default:
		return cf_error_set(CF_ERR_IO, "%s%s%s: unexpected reply from "
		    "%s (HTTP %ld)%s", what, sep, name, co->where, st, said);
	}
}

/*
 * get_whole(co, name, max, out): GET the whole object into ${out}
 * (bounded by ${max} bytes).  CF_OK with status 200 only.
 */
static cf_status
get_whole(struct coffred *co, const char *name, size_t max,
    struct cf_buf *out)
{
	struct cf_http_req req = { 0 };
	struct cf_http_resp resp;
	struct call c;
	cf_status rc;

	cf_buf_init(out, max);
	if ((rc = call_init(&c, co, "GET", "o", name, NULL, NULL, 0)) != CF_OK)
		return rc;
	req.out = out;
	if ((rc = call_do(&c, &req, &resp)) != CF_OK)
		return rc;
	if (resp.status != 200)
		return refusal(co, &resp, "reading", name);
	return CF_OK;
}

/* content_named(name): the server checks this object's hash (protocol §2). */
static int
content_named(const char *name)
{
	return strncmp(name, "data/", 5) == 0 ||
	    strncmp(name, "index/", 6) == 0 ||
	    strncmp(name, "snapshots/", 10) == 0 ||
	    strncmp(name, "locks/", 6) == 0;
}

static cf_status
coffred_put(void *ctx, const char *name, const void *data, size_t len)
{
	struct coffred *co = ctx;
	struct cf_http_req req = { 0 };
	struct cf_http_resp resp;
	struct cf_buf back;
	struct call c;
	cf_status rc;

	if ((rc = call_init(&c, co, "PUT", "o", name, NULL, data, len)) !=
	    CF_OK)
		return rc;
	req.body = data;
	req.body_len = len;
	if ((rc = call_do(&c, &req, &resp)) != CF_OK)
		return cf_error_prefix("storing %s: ", name);
	if (resp.status == 201)
		return CF_OK;
	if (resp.status != 409)
		return refusal(co, &resp, "storing", name);
	/*
	 * 409: the name is taken; CF_ERR_EXISTS, unless an earlier attempt
	 * of ours may have stored the object without our seeing its 201 (the
	 * connection was lost after the request went out).  Then it is ours
	 * if the server holds our bytes: always so for a content-named
	 * object (the server checked its hash), compared for another name
	 * (config, keys/).
	 */
	if (!resp.maybe_applied)
		return refusal(co, &resp, "storing", name);
	if (content_named(name))
		return CF_OK;
	if (len < SIZE_MAX && get_whole(co, name, len + 1, &back) == CF_OK &&
	    back.len == len && (len == 0 || sodium_memcmp(back.p, data,
	    len) == 0)) {
		cf_buf_free(&back);
		cf_error_clear();
		return CF_OK;
	}
	cf_buf_free(&back);
	return cf_error_set(CF_ERR_EXISTS, "storing %s: already exists on %s",
	    name, co->where);
}

static cf_status
coffred_get(void *ctx, const char *name, uint64_t off, uint64_t len,
    struct cf_buf *out)
{
	struct coffred *co = ctx;
	struct cf_http_capture cap[2] = {
		{ .name = "Content-Range" }, { .name = "Content-Length" },
	};
	struct cf_http_req req = { 0 };
	struct cf_http_resp resp;
	uint64_t first, last, total, clen;
	size_t len0 = out->len, max0 = out->max, got;
	struct call c;
	cf_status rc;

	if (len == 0)
		return CF_OK;
	if ((rc = call_init(&c, co, "GET", "o", name, NULL, NULL, 0)) != CF_OK)
		return rc;
	req.has_range = off > 0 || len != CF_BACKEND_TO_END;
	req.range_off = off;
	req.range_len = len;
	req.out = out;
	req.capture = cap;
	req.ncapture = 2;
	/* The reply may not be longer than asked: bound the buffer so. */
	if (len != CF_BACKEND_TO_END && len < out->max - out->len)
		out->max = out->len + (size_t)len;
	rc = call_do(&c, &req, &resp);
	out->max = max0;
	if (rc != CF_OK)
		return cf_error_prefix("reading %s: ", name);
	got = out->len - len0;

	if (resp.status == 416 && req.has_range) {
		/* The range starts past the end: no bytes, not an error. */
		return CF_OK;
	}
	if (resp.status != 200 && resp.status != 206)
		return refusal(co, &resp, "reading", name);
	if (cap[1].found && (cf_coffred_parse_u64(cap[1].value, &clen) != 0 ||
	    clen != got))
		goto bad;
	if (resp.status == 200) {
		/* The whole object: right only if that is what was asked. */
		if (off != 0 || cap[0].found)
			goto bad;
		return CF_OK;
	}
	if (!req.has_range || !cap[0].found ||
	    cf_coffred_parse_range(cap[0].value, &first, &last, &total) != 0 ||
	    first != off || last - first + 1 != got ||
	    (len != CF_BACKEND_TO_END && last - first >= len))
		goto bad;
	return CF_OK;

bad:
	out->len = len0;
	return cf_error_set(CF_ERR_CORRUPT, "reading %s: the server %s sent a "
	    "reply that is not the range asked for", name, co->where);
}

static cf_status
coffred_stat(void *ctx, const char *name, uint64_t *size)
{
	struct coffred *co = ctx;
	struct cf_http_capture cap = { .name = "Content-Length" };
	struct cf_http_req req = { 0 };
	struct cf_http_resp resp;
	struct call c;
	cf_status rc;

	*size = 0;
	if ((rc = call_init(&c, co, "HEAD", "o", name, NULL, NULL, 0)) !=
	    CF_OK)
		return rc;
	req.capture = &cap;
	req.ncapture = 1;
	if ((rc = call_do(&c, &req, &resp)) != CF_OK)
		return cf_error_prefix("examining %s: ", name);
	if (resp.status != 200)
		return refusal(co, &resp, "examining", name);
	if (!cap.found || cf_coffred_parse_u64(cap.value, size) != 0) {
		*size = 0;
		return cf_error_set(CF_ERR_CORRUPT, "examining %s: the server "
		    "%s sent no valid size", name, co->where);
	}
	return CF_OK;
}

static cf_status
coffred_list(void *ctx, const char *dir, cf_backend_list_fn fn, void *arg)
{
	struct coffred *co = ctx;
	struct cf_http_capture cap = { .name = "Coffre-Next" };
	char after[CF_OBJECT_NAME_MAX + 1] = "", query[CF_REQSIG_QUERY_MAX];
	struct cf_buf body;
	cf_status rc = CF_OK;

	cf_buf_init(&body, LIST_BODY_MAX);
	for (;;) {
		struct cf_http_req req = { 0 };
		struct cf_http_resp resp;
		const char *name;
		struct call c;
		size_t count;
		int r;

		r = snprintf(query, sizeof(query), "dir=%s%s%s", dir,
		    after[0] != '\0' ? "&after=" : "", after);
		if (r < 0 || (size_t)r >= sizeof(query)) {
			rc = cf_error_set(CF_ERR_INVALID, "listing query "
			    "too long");
			break;
		}
		if ((rc = call_init(&c, co, "GET", "list", NULL, query, NULL,
		    0)) != CF_OK)
			break;
		cf_buf_reset(&body);
		req.out = &body;
		req.capture = &cap;
		req.ncapture = 1;
		if ((rc = call_do(&c, &req, &resp)) != CF_OK) {
			cf_error_prefix("listing %s: ", dir);
			break;
		}
		if (resp.status != 200) {
			rc = refusal(co, &resp, "listing", dir);
			break;
		}
		if ((rc = cf_coffred_parse_list((char *)body.p, body.len, dir,
		    after[0] != '\0' ? after : NULL, cap.found ? cap.value :
		    NULL, &count)) != CF_OK) {
			cf_error_prefix("listing %s on %s: ", dir, co->where);
			break;
		}
		name = (const char *)body.p;
		for (size_t i = 0; i < count && rc == CF_OK; i++) {
			rc = fn(arg, name);
			name += strlen(name) + 1;
		}
		if (rc != CF_OK || !cap.found)
			break;
		/* Coffre-Next is the last name (checked above): <= 128. */
		if (strlen(cap.value) >= sizeof(after)) {
			rc = cf_error_set(CF_ERR_CORRUPT, "listing %s: bad "
			    "continuation from %s", dir, co->where);
			break;
		}
		memcpy(after, cap.value, strlen(cap.value) + 1);
	}
	cf_buf_free(&body);
	return rc;
}

static cf_status
coffred_del(void *ctx, const char *name)
{
	struct coffred *co = ctx;
	struct cf_http_req req = { 0 };
	struct cf_http_resp resp;
	struct call c;
	cf_status rc;

	if ((rc = call_init(&c, co, "DELETE", "o", name, NULL, NULL, 0)) !=
	    CF_OK)
		return rc;
	if ((rc = call_do(&c, &req, &resp)) != CF_OK)
		return cf_error_prefix("removing %s: ", name);
	if (resp.status == 204 || resp.status == 200)
		return CF_OK;
	/* Gone after an attempt that may have removed it: ours. */
	if (resp.status == 404 && resp.maybe_applied)
		return CF_OK;
	return refusal(co, &resp, "removing", name);
}

static void
coffred_close(void *ctx)
{
	struct coffred *co = ctx;

	if (co == NULL)
		return;
	cf_http_free(co->http);
	free(co);
}

/* check_tenant(co, create): GET info, then whether a config is there. */
static cf_status
check_tenant(struct coffred *co, int create)
{
	struct cf_http_req req = { 0 };
	struct cf_http_resp resp;
	struct cf_buf info;
	uint64_t size;
	struct call c;
	cf_status rc;

	cf_buf_init(&info, INFO_MAX);
	if ((rc = call_init(&c, co, "GET", "info", NULL, NULL, NULL, 0)) !=
	    CF_OK)
		return rc;
	req.out = &info;
	rc = call_do(&c, &req, &resp);
	cf_buf_free(&info);
	if (rc != CF_OK)
		return cf_error_prefix("reaching %s: ", co->where);
	if (resp.status == 404)
		return cf_error_set(CF_ERR_NOTFOUND, "no tenant %s on the "
		    "server %s", co->loc.tenant, co->base);
	if (resp.status != 200)
		return refusal(co, &resp, "reaching", co->loc.tenant);

	rc = coffred_stat(co, "config", &size);
	if (create) {
		if (rc == CF_OK)
			return cf_error_set(CF_ERR_EXISTS,
			    "a repository already exists at %s", co->where);
		if (rc != CF_ERR_NOTFOUND)
			return rc;
		cf_error_clear();
		return CF_OK;
	}
	if (rc == CF_ERR_NOTFOUND)
		return cf_error_set(CF_ERR_NOTFOUND, "no repository at %s",
		    co->where);
	return rc;
}

cf_status
cf_backend_coffred_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out)
{
	struct cf_http_opts hopts = { 0 };
	struct cf_backend *b = NULL;
	struct coffred *co;
	cf_status rc;

	*out = NULL;
	if ((co = calloc(1, sizeof(*co))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((rc = cf_coffred_parse_location(location, &co->loc)) != CF_OK)
		goto err;
	if (opts == NULL || opts->identity == NULL) {
		rc = cf_error_set(CF_ERR_ACCESS,
		    "a coffred server needs an identity");
		goto err;
	}
	co->id = opts->identity;
	if (co->loc.port != 0)
		snprintf(co->base, sizeof(co->base), "https://%s:%u",
		    co->loc.host, co->loc.port);
	else
		snprintf(co->base, sizeof(co->base), "https://%s",
		    co->loc.host);
	snprintf(co->where, sizeof(co->where), "%s/%s", co->base,
	    co->loc.tenant);
	hopts.pin = co->loc.pin[0] != '\0' ? co->loc.pin : NULL;
	if ((rc = cf_http_new(&hopts, &co->http)) != CF_OK)
		goto err;
	if ((rc = check_tenant(co, create)) != CF_OK)
		goto err;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->location = strdup(location)) == NULL) {
		free(b);
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	b->ops = &coffred_ops;
	b->ctx = co;
	*out = b;
	return CF_OK;

err:
	coffred_close(co);
	return rc;
}
