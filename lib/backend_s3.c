/*
 * backend_s3.c: a repository in an S3-compatible object store (AWS S3,
 * Ceph RGW, OpenStack Swift with s3api, Garage, MinIO).  See backend.h for
 * the contract and docs/destinations.md for users.
 *
 * Location:
 *   s3://HOST[:PORT]/BUCKET[/PREFIX]       HTTPS
 *   s3+http://HOST[:PORT]/BUCKET[/PREFIX]  plain HTTP: only to a loopback
 *       host (a test server), unless COFFRE_S3_ALLOW_HTTP=1
 * HOST is a DNS name, an IPv4 address or a bracketed IPv6 address; no
 * user information ("KEY:SECRET@") is accepted: credentials never go in a
 * location, which appears in messages and process lists.  BUCKET follows
 * S3's rules (3 to 63 of [a-z0-9.-], starting and ending with a letter or
 * digit); PREFIX is segments of [A-Za-z0-9._-] separated by '/' (no "."
 * or ".." segment), at most PREFIX_MAX bytes.  Object "data/ab/ab12..."
 * is stored under the key "PREFIX/data/ab/ab12...".
 *
 * Settings (environment; an empty variable counts as unset):
 *   COFFRE_S3_CREDENTIALS  a file of "key = value" lines: access_key,
 *       secret_key, region ('#' comments and blank lines allowed); it
 *       must not be readable by group or others, and must belong to the
 *       user (or root).  Used first when set.
 *   COFFRE_S3_ACCESS_KEY / COFFRE_S3_SECRET_KEY, else AWS_ACCESS_KEY_ID /
 *       AWS_SECRET_ACCESS_KEY.
 *   COFFRE_S3_REGION       signing region (else the file's, else
 *       us-east-1).
 *   COFFRE_S3_ADDRESSING   "path" (default: https://HOST/BUCKET/KEY) or
 *       "virtual" (https://BUCKET.HOST/KEY).
 *   COFFRE_S3_CA_FILE      a PEM CA bundle (a self-hosted store with a
 *       private CA); else the system store.
 *   COFFRE_S3_ALLOW_HTTP=1 allow s3+http:// to a host that is not
 *       loopback (the credentials' signatures and every object's size and
 *       ciphertext then cross the network in the clear).
 *   COFFRE_S3_MULTIPART_THRESHOLD, COFFRE_S3_PART_SIZE (bytes; default
 *       32 MiB and 16 MiB; a part is at least 5 MiB), COFFRE_S3_LIST_PAGE
 *       (keys per listing page, 1 to 1000, default 1000): tuning, and the
 *       tests lower them to exercise multipart upload and paging.
 *
 * Requests are signed with AWS SigV4 by libcurl (lib/http.c sets
 * CURLOPT_AWS_SIGV4 with the access key and secret as user name and
 * password, so keys holding ':' work).  What curl 7.88 does not do is done
 * here: every request carries x-amz-content-sha256 (the SHA-256 of the
 * body, so the server also checks the body arrived intact), query
 * parameters are written sorted and percent-encoded, and a parameter
 * without a value is written "name=".
 *
 * put-if-absent: S3 has no conditional put everywhere (AWS S3, Ceph RGW
 * and MinIO honour "If-None-Match: *"; Swift 2.30's s3api answers 501
 * NotImplemented).  put is therefore HEAD, then PUT:
 *  - content-named objects (data/, index/, snapshots/, locks/): two
 *    writers racing between HEAD and PUT store the same bytes under the
 *    same name, so the race is harmless;
 *  - config and keys/ are also sent with "If-None-Match: *"; a server that
 *    refuses the header (501) is remembered and then gets plain PUTs.  On
 *    such a server two members writing the same keys/ object, or two
 *    `coffre init` of one location, at the same instant can overwrite one
 *    another (the last PUT wins): the residual race, documented in
 *    docs/destinations.md.  Neither happens in normal use (init runs once;
 *    one member writes its own envelope).
 * Objects above the multipart threshold are uploaded in parts (initiate
 * "?uploads=", "?partNumber=N&uploadId=X" per part, complete with the
 * list of parts; aborted on any failure, so no part lingers).
 *
 * Every byte of a reply is distrusted: bodies go into buffers with a hard
 * maximum (a ranged read may not return more than the range; a listing
 * page at most LIST_REPLY_MAX), XML is read by lib/s3_xml.c, a listed key
 * must be the prefix followed by a valid object name, Content-Range must
 * describe exactly the bytes received.  Messages name the operation, the
 * object and the location, never a credential; text from the server is
 * made printable first.
 *
 * State: the parsed location and settings (read-only after open), the
 * HTTP client (thread-safe) and one atomic flag (does the server take
 * If-None-Match); every operation may run on several threads at once.
 *
 * What lib/http.h lacks, worked around here: nothing needed.  Two notes:
 * a HEAD reply has no body, so a refused HEAD cannot say why (open
 * therefore probes with a one-byte GET, whose error reply names the
 * cause); and a 2xx reply larger than out->max fails with CF_ERR_CORRUPT
 * and no status, so s3_get tells "larger than the caller allows"
 * (CF_ERR_NOMEM, as the local backend) from "more than the range asked
 * for" (CF_ERR_CORRUPT) by which of the two bounds it set.
 */
#include "backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "http.h"
#include "s3_xml.h"

#define HOST_MAX 253
#define BUCKET_MIN 3
#define BUCKET_MAX 63
#define PREFIX_MAX 256
#define REGION_MAX 32
#define KEY_MAX 128             /* access key id or secret */
#define CRED_FILE_MAX 4096
#define URL_MAX 8192
#define SHA256_HEX (2 * crypto_hash_sha256_BYTES + 1)

#define MIB (1024u * 1024u)
#define MP_THRESHOLD_DEFAULT (32ull * MIB)
#define PART_SIZE_DEFAULT (16ull * MIB)
#define PART_SIZE_MIN (5ull * MIB)
#define PART_SIZE_MAX (5ull * 1024 * MIB)
#define PARTS_MAX 10000
#define LIST_PAGE_DEFAULT 1000
#define LIST_PAGE_MAX 1000
#define LIST_PAGES_MAX (1u << 20)
#define LIST_REPLY_MAX (8u * MIB)
#define SMALL_REPLY_MAX (64u * 1024)

/* SHA-256 of the empty string: the payload hash of a request without body. */
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3 {
	struct cf_http *http;
	/* "https://HOST[:PORT]" (path style) or "https://BUCKET.HOST[:PORT]" */
	char origin[16 + HOST_MAX + BUCKET_MAX + 16];
	/* "/BUCKET" (path style) or "" (virtual host) */
	char bucket_path[BUCKET_MAX + 2];
	char bucket[BUCKET_MAX + 1];
	char prefix[PREFIX_MAX + 2];    /* "" or "a/b/" */
	/* "s3://HOST[:PORT]/BUCKET[/PREFIX]", for messages */
	char where[16 + HOST_MAX + BUCKET_MAX + PREFIX_MAX + 16];
	uint64_t mp_threshold, part_size;
	unsigned list_page;
	atomic_int cond_put;    /* 1: send If-None-Match: *; 0: unsupported */
};

static cf_status s3_put(void *, const char *, const void *, size_t);
static cf_status s3_get(void *, const char *, uint64_t, uint64_t,
    struct cf_buf *);
static cf_status s3_stat(void *, const char *, uint64_t *);
static cf_status s3_list(void *, const char *, cf_backend_list_fn, void *);
static cf_status s3_del(void *, const char *);
static void s3_close(void *);

static const struct cf_backend_ops s3_ops = {
	.scheme = "s3",
	.put = s3_put,
	.get = s3_get,
	.stat = s3_stat,
	.list = s3_list,
	.del = s3_del,
	.close = s3_close,
};

/* ---- small helpers ---- */

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * env_u64(name, min, max, def, out): a decimal number of the environment,
 * ${def} if unset.  CF_ERR_INVALID if it is not digits within bounds.
 */
static cf_status
env_u64(const char *name, uint64_t min, uint64_t max, uint64_t def,
    uint64_t *out)
{
	const char *v = env(name);
	uint64_t n = 0;

	*out = def;
	if (v == NULL)
		return CF_OK;
	for (const char *p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - v >= 19)
			goto bad;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n < min || n > max)
		goto bad;
	*out = n;
	return CF_OK;
bad:
	return cf_error_set(CF_ERR_INVALID, "%s must be a whole number from "
	    "%llu to %llu", name, (unsigned long long)min,
	    (unsigned long long)max);
}

/* SHA-256 through cf_name_hash: the CPU's SHA instructions where it has
 * them, 4 times libsodium's portable SHA-256 on a pack-sized body. */
static void
sha256_hex(char out[SHA256_HEX], const void *p, size_t n)
{
	uint8_t h[CF_HASH_BYTES];

	cf_name_hash(h, p, n);
	cf_hex_encode(out, h, sizeof(h));
}

/* content_named(name): the name is the hash of the bytes (format.md §4). */
static int
content_named(const char *name)
{
	return strncmp(name, "data/", 5) == 0 ||
	    strncmp(name, "index/", 6) == 0 ||
	    strncmp(name, "snapshots/", 10) == 0 ||
	    strncmp(name, "locks/", 6) == 0;
}

/* object_url(s, name, query, out): the URL of object ${name}. */
static cf_status
object_url(const struct s3 *s, const char *name, const char *query,
    char out[URL_MAX])
{
	int n = snprintf(out, URL_MAX, "%s%s/%s%s%s%s", s->origin,
	    s->bucket_path, s->prefix, name, query != NULL ? "?" : "",
	    query != NULL ? query : "");

	if (n < 0 || n >= URL_MAX)
		return cf_error_set(CF_ERR_INVALID, "S3 request URL too long");
	return CF_OK;
}

/* bucket_url(s, query, out): the URL of the bucket itself. */
static cf_status
bucket_url(const struct s3 *s, const char *query, char out[URL_MAX])
{
	int n = snprintf(out, URL_MAX, "%s%s%s%s", s->origin,
	    s->bucket_path[0] != '\0' ? s->bucket_path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "");

	if (n < 0 || n >= URL_MAX)
		return cf_error_set(CF_ERR_INVALID, "S3 request URL too long");
	return CF_OK;
}

/*
 * fail(s, what, name, r): the error for an unexpected reply ${r} to
 * ${what} ("reading", ...) of object ${name} (NULL: the bucket).
 */
static cf_status
fail(const struct s3 *s, const char *what, const char *name,
    const struct cf_http_resp *r)
{
	struct cf_s3_error e;
	char obj[CF_OBJECT_NAME_MAX + 16], msg[300];
	const char *code;

	cf_s3_error_parse(r->errbody, r->errbody_len, &e);
	code = e.code;
	snprintf(obj, sizeof(obj), "%s%s", name != NULL ? " " : "",
	    name != NULL ? name : "");
	if (e.message[0] != '\0')
		snprintf(msg, sizeof(msg), ": %s", e.message);
	else
		msg[0] = '\0';

	if (strcmp(code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(code, "InvalidAccessKeyId") == 0 ||
	    strcmp(code, "InvalidClientTokenId") == 0 ||
	    strcmp(code, "InvalidToken") == 0 ||
	    strcmp(code, "ExpiredToken") == 0)
		return cf_error_set(CF_ERR_ACCESS, "the S3 server refused the "
		    "credentials: check access key and secret (%s%s at %s: "
		    "%s)", what, obj, s->where, code);
	if (strcmp(code, "RequestTimeTooSkewed") == 0)
		return cf_error_set(CF_ERR_ACCESS, "the S3 server at %s "
		    "refused the request because this computer's clock is "
		    "wrong (RequestTimeTooSkewed): set the time, e.g. with "
		    "NTP", s->where);
	if (strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
	    strcmp(code, "AuthorizationQueryParametersError") == 0)
		return cf_error_set(CF_ERR_ACCESS, "the S3 server at %s "
		    "refused the request's signature (%s%s): check "
		    "COFFRE_S3_REGION", s->where, code, msg);
	/* Not "object not found": the whole repository is gone. */
	if (strcmp(code, "NoSuchBucket") == 0)
		return cf_error_set(CF_ERR_IO, "%s%s at %s: the bucket %s does "
		    "not exist (any more)", what, obj, s->where, s->bucket);
	if (r->status == 403)
		return cf_error_set(CF_ERR_ACCESS, "the S3 server denied "
		    "%s%s at %s (HTTP 403%s%s%s): check the access key, the "
		    "secret and the key's rights on the bucket", what, obj,
		    s->where, code[0] != '\0' ? " " : "", code, msg);
	if (r->status == 404)
		return cf_error_set(CF_ERR_NOTFOUND, "%s%s at %s: not found",
		    what, obj, s->where);
	if (r->status == 301 || r->status == 307 ||
	    strcmp(code, "PermanentRedirect") == 0)
		return cf_error_set(CF_ERR_INVALID, "%s%s at %s: the S3 server "
		    "redirects (HTTP %ld): the bucket is in another region or "
		    "behind another endpoint; check the host, "
		    "COFFRE_S3_REGION and COFFRE_S3_ADDRESSING", what, obj,
		    s->where, r->status);
	return cf_error_set(CF_ERR_IO, "%s%s at %s: the S3 server answered "
	    "HTTP %ld%s%s%s%s", what, obj, s->where, r->status,
	    code[0] != '\0' ? " " : "", code, msg,
	    r->attempts > 1 ? " (after retries)" : "");
}

/* do_req(s, req, resp, what, name): cf_http_do with context on failure. */
static cf_status
do_req(const struct s3 *s, const struct cf_http_req *req,
    struct cf_http_resp *resp, const char *what, const char *name)
{
	cf_status rc;

	if ((rc = cf_http_do(s->http, req, resp)) != CF_OK)
		return cf_error_prefix("%s%s%s at %s: ", what,
		    name != NULL ? " " : "", name != NULL ? name : "",
		    s->where);
	return CF_OK;
}

/*
 * head(s, name, exists, size): HEAD object ${name}: *${exists} 1 (and its
 * size in *${size} if not NULL) or 0.  Errors for anything but 200/404.
 */
static cf_status
head(const struct s3 *s, const char *name, int *exists, uint64_t *size)
{
	const struct cf_http_header h[] = {
		{ "x-amz-content-sha256", EMPTY_SHA256 },
	};
	struct cf_http_resp resp;
	struct cf_http_req req;
	char url[URL_MAX];
	cf_status rc;

	*exists = 0;
	if ((rc = object_url(s, name, NULL, url)) != CF_OK)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = "HEAD";
	req.url = url;
	req.headers = h;
	req.nheaders = 1;
	if ((rc = do_req(s, &req, &resp, "examining", name)) != CF_OK)
		return rc;
	if (resp.status == 404)
		return CF_OK;
	if (resp.status != 200)
		return fail(s, "examining", name, &resp);
	if (size != NULL) {
		if (resp.content_length < 0)
			return cf_error_set(CF_ERR_CORRUPT, "examining %s at "
			    "%s: the S3 server gave no size", name, s->where);
		*size = (uint64_t)resp.content_length;
	}
	*exists = 1;
	return CF_OK;
}

/* ---- put ---- */

/*
 * put_single(s, name, data, len, cond, r): one PUT of the whole object,
 * with If-None-Match: * when ${cond}; the reply in ${r}.  Transport
 * errors only: the caller reads r->status.
 */
static cf_status
put_single(const struct s3 *s, const char *name, const void *data,
    size_t len, int cond, struct cf_http_resp *r)
{
	struct cf_http_header h[2];
	char url[URL_MAX], sum[SHA256_HEX];
	struct cf_http_req req;
	cf_status rc;

	if ((rc = object_url(s, name, NULL, url)) != CF_OK)
		return rc;
	sha256_hex(sum, data, len);
	h[0].name = "x-amz-content-sha256";
	h[0].value = sum;
	h[1].name = "If-None-Match";
	h[1].value = "*";
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url;
	req.headers = h;
	req.nheaders = cond ? 2 : 1;
	req.body = data;
	req.body_len = len;
	return do_req(s, &req, r, "storing", name);
}

/* same_bytes(s, name, data, len): 1 if object ${name} holds ${data}. */
static int
same_bytes(struct s3 *s, const char *name, const void *data, size_t len)
{
	struct cf_buf b;
	int same;

	cf_buf_init(&b, len);
	same = s3_get(s, name, 0, CF_BACKEND_TO_END, &b) == CF_OK &&
	    b.len == len && (len == 0 || memcmp(b.p, data, len) == 0);
	cf_buf_free(&b);
	return same;
}

static cf_status
exists_error(const struct s3 *s, const char *name)
{
	return cf_error_set(CF_ERR_EXISTS, "object %s already exists at %s",
	    name, s->where);
}

/* part_etag_ok(v): an ETag we can put back in XML: printable, short. */
static int
part_etag_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 200)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '<' || v[i] == '>' ||
		    v[i] == '&')
			return 0;
	return 1;
}

/* mp_abort(s, name, query_id): abort the upload, keeping the message. */
static void
mp_abort(const struct s3 *s, const char *name, const char *enc_id)
{
	const struct cf_http_header h[] = {
		{ "x-amz-content-sha256", EMPTY_SHA256 },
	};
	char url[URL_MAX], query[16 + 3 * CF_S3_UPLOAD_ID_MAX];
	char saved[512];
	cf_status code = cf_error_code();
	struct cf_http_resp resp;
	struct cf_http_req req;

	snprintf(saved, sizeof(saved), "%s", cf_error_message());
	snprintf(query, sizeof(query), "uploadId=%s", enc_id);
	if (object_url(s, name, query, url) == CF_OK) {
		memset(&req, 0, sizeof(req));
		req.method = "DELETE";
		req.url = url;
		req.headers = h;
		req.nheaders = 1;
		/* Best effort: a lingering upload costs storage, not data. */
		(void)cf_http_do(s->http, &req, &resp);
	}
	cf_error_set(code, "%s", saved);
}

/*
 * put_multipart(s, name, data, len): upload in parts of s->part_size.
 * No condition: multipart is only for large objects, all content-named.
 */
static cf_status
put_multipart(struct s3 *s, const char *name, const uint8_t *data,
    size_t len)
{
	struct cf_http_header h[2];
	struct cf_http_capture cap;
	struct cf_http_resp resp;
	struct cf_http_req req;
	struct cf_s3_error e;
	struct cf_buf reply, xml;
	char url[URL_MAX], sum[SHA256_HEX];
	char id[CF_S3_UPLOAD_ID_MAX + 1], enc_id[3 * CF_S3_UPLOAD_ID_MAX + 1];
	char query[64 + sizeof(enc_id)];
	uint64_t nparts = (len + s->part_size - 1) / s->part_size;
	cf_status rc;
	int started = 0;

	enc_id[0] = '\0';
	cf_buf_init(&reply, SMALL_REPLY_MAX);
	/* <Part><PartNumber>N</PartNumber><ETag>...</ETag></Part> each */
	cf_buf_init(&xml, (size_t)PARTS_MAX * 300 + 128);
	if (nparts > PARTS_MAX) {
		rc = cf_error_set(CF_ERR_INVALID, "storing %s at %s: %zu bytes "
		    "need more than %d parts; raise COFFRE_S3_PART_SIZE", name,
		    s->where, len, PARTS_MAX);
		goto out;
	}

	/* Initiate. */
	if ((rc = object_url(s, name, "uploads=", url)) != CF_OK)
		goto out;
	h[0].name = "x-amz-content-sha256";
	h[0].value = EMPTY_SHA256;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = h;
	req.nheaders = 1;
	req.out = &reply;
	if ((rc = do_req(s, &req, &resp, "starting the upload of", name)) !=
	    CF_OK)
		goto out;
	if (resp.status != 200) {
		rc = fail(s, "starting the upload of", name, &resp);
		goto out;
	}
	if ((rc = cf_s3_upload_id_parse(reply.p, reply.len, id)) != CF_OK ||
	    (rc = cf_http_uri_encode(enc_id, sizeof(enc_id), id, 0)) !=
	    CF_OK) {
		cf_error_prefix("storing %s at %s: ", name, s->where);
		goto out;
	}
	started = 1;

	if ((rc = cf_buf_append(&xml, "<CompleteMultipartUpload>", 25)) !=
	    CF_OK)
		goto out;
	for (uint64_t i = 0; i < nparts; i++) {
		uint64_t off = i * s->part_size;
		size_t n = (size_t)(len - off < s->part_size ? len - off :
		    s->part_size);
		char line[300];
		int k;

		snprintf(query, sizeof(query), "partNumber=%llu&uploadId=%s",
		    (unsigned long long)(i + 1), enc_id);
		if ((rc = object_url(s, name, query, url)) != CF_OK)
			goto out;
		sha256_hex(sum, data + off, n);
		h[0].value = sum;
		memset(&cap, 0, sizeof(cap));
		cap.name = "ETag";
		memset(&req, 0, sizeof(req));
		req.method = "PUT";
		req.url = url;
		req.headers = h;
		req.nheaders = 1;
		req.body = data + off;
		req.body_len = n;
		req.capture = &cap;
		req.ncapture = 1;
		if ((rc = do_req(s, &req, &resp, "storing a part of", name)) !=
		    CF_OK)
			goto out;
		if (resp.status != 200) {
			rc = fail(s, "storing a part of", name, &resp);
			goto out;
		}
		if (!cap.found || !part_etag_ok(cap.value)) {
			rc = cf_error_set(CF_ERR_CORRUPT, "storing %s at %s: "
			    "the S3 server gave no valid ETag for part %llu",
			    name, s->where, (unsigned long long)(i + 1));
			goto out;
		}
		k = snprintf(line, sizeof(line), "<Part><PartNumber>%llu"
		    "</PartNumber><ETag>%s</ETag></Part>",
		    (unsigned long long)(i + 1), cap.value);
		if (k < 0 || (size_t)k >= sizeof(line) ||
		    (rc = cf_buf_append(&xml, line, (size_t)k)) != CF_OK) {
			rc = cf_error_set(CF_ERR_NOMEM, "storing %s: part list "
			    "too long", name);
			goto out;
		}
	}
	if ((rc = cf_buf_append(&xml, "</CompleteMultipartUpload>", 26)) !=
	    CF_OK)
		goto out;

	/* Complete. */
	snprintf(query, sizeof(query), "uploadId=%s", enc_id);
	if ((rc = object_url(s, name, query, url)) != CF_OK)
		goto out;
	sha256_hex(sum, xml.p, xml.len);
	h[0].value = sum;
	h[1].name = "Content-Type";
	h[1].value = "application/xml";
	cf_buf_reset(&reply);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = h;
	req.nheaders = 2;
	req.body = xml.p;
	req.body_len = xml.len;
	req.out = &reply;
	if ((rc = do_req(s, &req, &resp, "completing the upload of", name)) !=
	    CF_OK)
		goto out;
	if (resp.status == 404 && resp.maybe_applied) {
		/* An attempt that failed on our side may have completed it. */
		uint64_t size;
		int exists;

		if (head(s, name, &exists, &size) == CF_OK && exists &&
		    size == len) {
			started = 0;
			rc = CF_OK;
			goto out;
		}
	}
	if (resp.status != 200) {
		rc = fail(s, "completing the upload of", name, &resp);
		goto out;
	}
	if ((rc = cf_s3_complete_parse(reply.p, reply.len, &e)) != CF_OK) {
		if (rc == CF_ERR_IO)
			rc = cf_error_set(CF_ERR_IO, "completing the upload of "
			    "%s at %s: the S3 server reported %s%s%s", name,
			    s->where, e.code[0] != '\0' ? e.code : "an error",
			    e.message[0] != '\0' ? ": " : "", e.message);
		else
			cf_error_prefix("storing %s at %s: ", name, s->where);
		goto out;
	}
	started = 0;

out:
	if (rc != CF_OK && started)
		mp_abort(s, name, enc_id);
	cf_buf_free(&reply);
	cf_buf_free(&xml);
	return rc;
}

static cf_status
s3_put(void *ctx, const char *name, const void *data, size_t len)
{
	struct s3 *s = ctx;
	struct cf_http_resp resp;
	cf_status rc;
	int exists, cond;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if ((rc = head(s, name, &exists, NULL)) != CF_OK)
		return rc;
	if (exists)
		return exists_error(s, name);
	if (len > s->mp_threshold)
		return put_multipart(s, name, data, len);

	cond = !content_named(name) && atomic_load(&s->cond_put);
	if ((rc = put_single(s, name, data, len, cond, &resp)) != CF_OK)
		return rc;
	if (cond && resp.status == 501) {
		/* Swift's s3api: "Conditional object PUTs are not
		 * supported". */
		atomic_store(&s->cond_put, 0);
		if ((rc = put_single(s, name, data, len, 0, &resp)) != CF_OK)
			return rc;
	}
	if (resp.status == 200)
		return CF_OK;
	if (cond && resp.status == 412) {
		/* Taken since our HEAD, or by an attempt of ours. */
		if (resp.maybe_applied && same_bytes(s, name, data, len))
			return CF_OK;
		return exists_error(s, name);
	}
	return fail(s, "storing", name, &resp);
}

/* ---- get ---- */

/* parse_u64(p, end, v): decimal digits [p, end) into *${v}, strictly. */
static int
parse_u64(const char *p, const char *end, uint64_t *v)
{
	uint64_t n = 0;

	if (p >= end || end - p > 19 || (*p == '0' && end - p > 1))
		return 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n;
	return 1;
}

/*
 * content_range(v, first, last, total): "bytes FIRST-LAST/TOTAL", or
 * with '*' for an unknown TOTAL (then UINT64_MAX); FIRST <= LAST < TOTAL.
 */
static int
content_range(const char *v, uint64_t *first, uint64_t *last,
    uint64_t *total)
{
	const char *dash, *slash, *end = v + strlen(v);

	if (strncmp(v, "bytes ", 6) != 0)
		return 0;
	v += 6;
	if ((dash = strchr(v, '-')) == NULL ||
	    (slash = strchr(dash, '/')) == NULL)
		return 0;
	if (!parse_u64(v, dash, first) || !parse_u64(dash + 1, slash, last))
		return 0;
	if (strcmp(slash + 1, "*") == 0)
		*total = UINT64_MAX;
	else if (!parse_u64(slash + 1, end, total) || *last >= *total)
		return 0;
	return *first <= *last;
}

static cf_status
s3_get(void *ctx, const char *name, uint64_t off, uint64_t len,
    struct cf_buf *out)
{
	const struct cf_http_header h[] = {
		{ "x-amz-content-sha256", EMPTY_SHA256 },
	};
	struct s3 *s = ctx;
	struct cf_http_capture cap;
	struct cf_http_resp resp;
	struct cf_http_req req;
	char url[URL_MAX];
	size_t len0 = out->len, max0 = out->max, room;
	uint64_t want, first, last, total, got;
	cf_status rc;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if (len == 0)
		return CF_OK;
	if ((rc = object_url(s, name, NULL, url)) != CF_OK)
		return rc;
	room = out->len <= out->max ? out->max - out->len : 0;
	want = len < room ? len : room;
	memset(&cap, 0, sizeof(cap));
	cap.name = "Content-Range";
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = h;
	req.nheaders = 1;
	/* A whole object from the start needs no range (an empty one has
	 * no satisfiable range at all). */
	if (off != 0 || len != CF_BACKEND_TO_END) {
		req.has_range = 1;
		req.range_off = off;
		req.range_len = len == CF_BACKEND_TO_END ? CF_HTTP_TO_END : len;
	}
	req.out = out;
	req.capture = &cap;
	req.ncapture = 1;
	/* Never more than was asked for: a longer reply fails. */
	out->max = out->len + (size_t)want;
	rc = do_req(s, &req, &resp, "reading", name);
	out->max = max0;
	if (rc != CF_OK) {
		if (rc == CF_ERR_CORRUPT && want < len)
			return cf_error_set(CF_ERR_NOMEM, "reading %s at %s: "
			    "the object is larger than the %zu bytes allowed",
			    name, s->where, room);
		return rc;
	}
	got = out->len - len0;

	switch (resp.status) {
	case 200:
		/* The whole object: asked for, or the range was ignored. */
		if (off != 0)
			goto bad_range;
		return CF_OK;
	case 206:
		if (!cap.found || !content_range(cap.value, &first, &last,
		    &total) || first != off || last - first + 1 != got ||
		    got > len)
			goto bad_range;
		/* Fewer bytes than asked only at the end of the object, and
		 * "to the end" means to the end. */
		if ((got < len || len == CF_BACKEND_TO_END) &&
		    (total == UINT64_MAX || last + 1 != total))
			goto bad_range;
		return CF_OK;
	case 416:
		/* Nothing at or past ${off}: fewer bytes, not an error. */
		out->len = len0;
		return CF_OK;
	default:
		out->len = len0;
		return fail(s, "reading", name, &resp);
	}

bad_range:
	out->len = len0;
	return cf_error_set(CF_ERR_CORRUPT, "reading %s at %s: the S3 server "
	    "did not return the byte range asked for", name, s->where);
}

/* ---- stat, del ---- */

static cf_status
s3_stat(void *ctx, const char *name, uint64_t *size)
{
	struct s3 *s = ctx;
	cf_status rc;
	int exists;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if ((rc = head(s, name, &exists, size)) != CF_OK)
		return rc;
	if (!exists)
		return cf_error_set(CF_ERR_NOTFOUND, "object %s not found at "
		    "%s", name, s->where);
	return CF_OK;
}

static cf_status
s3_del(void *ctx, const char *name)
{
	const struct cf_http_header h[] = {
		{ "x-amz-content-sha256", EMPTY_SHA256 },
	};
	struct s3 *s = ctx;
	struct cf_http_resp resp;
	struct cf_http_req req;
	char url[URL_MAX];
	cf_status rc;
	int exists;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	/* S3 deletes what is absent without complaint: ask first. */
	if ((rc = head(s, name, &exists, NULL)) != CF_OK)
		return rc;
	if (!exists)
		return cf_error_set(CF_ERR_NOTFOUND, "object %s not found at "
		    "%s", name, s->where);
	if ((rc = object_url(s, name, NULL, url)) != CF_OK)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = "DELETE";
	req.url = url;
	req.headers = h;
	req.nheaders = 1;
	if ((rc = do_req(s, &req, &resp, "deleting", name)) != CF_OK)
		return rc;
	if (resp.status == 204 || resp.status == 200)
		return CF_OK;
	if (resp.status == 404)
		return cf_error_set(CF_ERR_NOTFOUND, "object %s not found at "
		    "%s", name, s->where);
	return fail(s, "deleting", name, &resp);
}

/* ---- list ---- */

static cf_status
s3_list(void *ctx, const char *dir, cf_backend_list_fn fn, void *arg)
{
	const struct cf_http_header h[] = {
		{ "x-amz-content-sha256", EMPTY_SHA256 },
	};
	struct s3 *s = ctx;
	struct cf_http_resp resp;
	struct cf_http_req req;
	struct cf_s3_list page;
	struct cf_buf reply;
	char url[URL_MAX], full[PREFIX_MAX + 32];
	char enc_prefix[3 * sizeof(full)], enc_token[3 * CF_S3_TOKEN_MAX + 1];
	char prev[CF_S3_TOKEN_MAX + 1], query[sizeof(enc_token) + 256];
	cf_status rc = CF_OK;
	int n;

	if (!cf_backend_name_ok(dir) || strchr(dir, '/') != NULL)
		return cf_error_set(CF_ERR_INVALID,
		    "invalid object directory name");
	n = snprintf(full, sizeof(full), "%s%s/", s->prefix, dir);
	if (n < 0 || (size_t)n >= sizeof(full))
		return cf_error_set(CF_ERR_INVALID, "S3 prefix too long");
	if ((rc = cf_http_uri_encode(enc_prefix, sizeof(enc_prefix), full,
	    0)) != CF_OK)
		return rc;
	cf_s3_list_init(&page);
	cf_buf_init(&reply, LIST_REPLY_MAX);
	prev[0] = '\0';
	enc_token[0] = '\0';

	for (unsigned pages = 0;; pages++) {
		if (pages >= LIST_PAGES_MAX) {
			rc = cf_error_set(CF_ERR_CORRUPT, "listing %s at %s: "
			    "the S3 server never ends the listing", dir,
			    s->where);
			break;
		}
		/* Parameters sorted by name, as SigV4 wants them. */
		n = snprintf(query, sizeof(query), "%s%s%slist-type=2&"
		    "max-keys=%u&prefix=%s",
		    enc_token[0] != '\0' ? "continuation-token=" : "",
		    enc_token, enc_token[0] != '\0' ? "&" : "",
		    s->list_page, enc_prefix);
		if (n < 0 || (size_t)n >= sizeof(query)) {
			rc = cf_error_set(CF_ERR_CORRUPT, "listing %s at %s: "
			    "continuation token too long", dir, s->where);
			break;
		}
		if ((rc = bucket_url(s, query, url)) != CF_OK)
			break;
		cf_buf_reset(&reply);
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.url = url;
		req.headers = h;
		req.nheaders = 1;
		req.out = &reply;
		if ((rc = do_req(s, &req, &resp, "listing", dir)) != CF_OK)
			break;
		if (resp.status != 200) {
			rc = fail(s, "listing", dir, &resp);
			break;
		}
		if ((rc = cf_s3_list_parse(reply.p, reply.len, s->prefix, dir,
		    &page)) != CF_OK) {
			cf_error_prefix("listing %s at %s: ", dir, s->where);
			break;
		}
		for (size_t i = 0, at = 0; i < page.count && rc == CF_OK;
		    i++) {
			const char *name = (const char *)page.names.p + at;

			rc = fn(arg, name);
			at += strlen(name) + 1;
		}
		if (rc != CF_OK || !page.truncated)
			break;
		if (strcmp(page.token, prev) == 0) {
			rc = cf_error_set(CF_ERR_CORRUPT, "listing %s at %s: "
			    "the S3 server repeats a continuation token", dir,
			    s->where);
			break;
		}
		memcpy(prev, page.token, strlen(page.token) + 1);
		if ((rc = cf_http_uri_encode(enc_token, sizeof(enc_token),
		    page.token, 0)) != CF_OK)
			break;
	}
	cf_s3_list_free(&page);
	cf_buf_free(&reply);
	return rc;
}

static void
s3_close(void *ctx)
{
	struct s3 *s = ctx;

	if (s == NULL)
		return;
	cf_http_free(s->http);
	free(s);
}

/* ---- opening: location, credentials ---- */

struct location {
	int https;
	char host[HOST_MAX + 3];        /* as written, brackets kept */
	char port[8];                   /* "" or digits */
	char bucket[BUCKET_MAX + 1];
	char prefix[PREFIX_MAX + 1];    /* without trailing '/' */
};

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static cf_status
bad_location(const char *why)
{
	return cf_error_set(CF_ERR_INVALID, "invalid S3 location: %s; expected "
	    "s3://HOST[:PORT]/BUCKET[/PREFIX]", why);
}

/* parse_location(loc, l): split and check the parts (see the top). */
static cf_status
parse_location(const char *loc, struct location *l)
{
	const char *p, *auth_end, *host_end, *b, *b_end;
	size_t n;

	memset(l, 0, sizeof(*l));
	if (strncmp(loc, "s3://", 5) == 0) {
		l->https = 1;
		p = loc + 5;
	} else if (strncmp(loc, "s3+http://", 10) == 0) {
		p = loc + 10;
	} else {
		return bad_location("the scheme is not s3:// or s3+http://");
	}
	if (strpbrk(p, "?#") != NULL)
		return bad_location("no query or fragment (?, #) is allowed");
	auth_end = p + strcspn(p, "/");
	if (memchr(p, '@', (size_t)(auth_end - p)) != NULL)
		return cf_error_set(CF_ERR_INVALID, "invalid S3 location: "
		    "credentials do not belong in the location (it appears in "
		    "messages and process lists); give them in "
		    "COFFRE_S3_CREDENTIALS or the environment");
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(auth_end - p));
		if (host_end == NULL)
			return bad_location("unterminated IPv6 address");
		host_end++;
		for (const char *q = p + 1; q < host_end - 1; q++)
			if (!((*q >= '0' && *q <= '9') ||
			    (*q >= 'a' && *q <= 'f') ||
			    (*q >= 'A' && *q <= 'F') || *q == ':' ||
			    *q == '.'))
				return bad_location("invalid IPv6 address");
	} else {
		for (host_end = p; host_end < auth_end && *host_end != ':';
		    host_end++)
			if (!host_char(*host_end))
				return bad_location("invalid host name");
	}
	n = (size_t)(host_end - p);
	if (n == 0 || n > HOST_MAX + 2)
		return bad_location("missing or too long host");
	memcpy(l->host, p, n);
	if (host_end < auth_end) {
		uint64_t port;

		if (*host_end != ':' ||
		    !parse_u64(host_end + 1, auth_end, &port) || port == 0 ||
		    port > 65535)
			return bad_location("invalid port");
		memcpy(l->port, host_end + 1,
		    (size_t)(auth_end - host_end - 1));
	}
	if (*auth_end != '/')
		return bad_location("no bucket");
	b = auth_end + 1;
	b_end = b + strcspn(b, "/");
	n = (size_t)(b_end - b);
	if (n < BUCKET_MIN || n > BUCKET_MAX)
		return bad_location("a bucket name has 3 to 63 characters");
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		    (b[i] >= '0' && b[i] <= '9') || b[i] == '.' || b[i] == '-'))
			return bad_location("a bucket name holds only "
			    "a-z, 0-9, '.' and '-'");
	if (b[0] == '.' || b[0] == '-' || b[n - 1] == '.' || b[n - 1] == '-')
		return bad_location("a bucket name starts and ends with a "
		    "letter or digit");
	memcpy(l->bucket, b, n);
	if (*b_end == '\0')
		return CF_OK;
	/* The prefix: segments, a trailing '/' tolerated. */
	p = b_end + 1;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n > PREFIX_MAX)
		return bad_location("the prefix is longer than 256 bytes");
	for (size_t i = 0, seg = 0; i <= n; i++) {
		char c = i < n ? p[i] : '/';

		if (c == '/') {
			if (seg == 0 ||
			    (seg == 1 && p[i - 1] == '.') ||
			    (seg == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
				return bad_location("empty, \".\" or \"..\" "
				    "segment in the prefix");
			seg = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-') {
			seg++;
		} else {
			return bad_location("a prefix holds only A-Z, "
			    "a-z, 0-9, '.', '_', '-' and '/'");
		}
	}
	memcpy(l->prefix, p, n);
	return CF_OK;
}

/* loopback(host): 127.0.0.0/8, ::1 or localhost. */
static int
loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char v6[HOST_MAX + 3];
	size_t n = strlen(host);

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(v6, host + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

struct creds {
	char access[KEY_MAX + 1];
	char secret[KEY_MAX + 1];
	char region[REGION_MAX + 1];
};

static int
region_ok(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > REGION_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') ||
		    (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return 0;
	return 1;
}

/* key_ok(v): an access key id or secret: 1 to KEY_MAX printable bytes. */
static int
key_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * parse_creds_file(text, path, c): the lines of a credentials file.
 * ${text} is NUL-terminated and modified (values are cut out of it).
 */
static cf_status
parse_creds_file(char *text, const char *path, struct creds *c)
{
	int have_access = 0, have_secret = 0, have_region = 0;
	unsigned lineno = 0;
	char *line = text, *next;

	for (; line != NULL && *line != '\0'; line = next) {
		char *k, *k_end, *v, *v_end;
		int *seen;
		char *dst;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (*k == '\0' || *k == '#')
			continue;
		for (k_end = k; (*k_end >= 'a' && *k_end <= 'z') ||
		    *k_end == '_'; k_end++)
			;
		for (v = k_end; *v == ' ' || *v == '\t'; v++)
			;
		if (k_end == k || *v != '=')
			return cf_error_set(CF_ERR_INVALID, "S3 credentials "
			    "file %s, line %u: expected \"key = value\"", path,
			    lineno);
		*k_end = '\0';
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		v_end = v + strlen(v);
		while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
			v_end--;
		*v_end = '\0';
		if (strcmp(k, "access_key") == 0) {
			seen = &have_access;
			dst = c->access;
		} else if (strcmp(k, "secret_key") == 0) {
			seen = &have_secret;
			dst = c->secret;
		} else if (strcmp(k, "region") == 0) {
			seen = &have_region;
			dst = c->region;
		} else {
			return cf_error_set(CF_ERR_INVALID, "S3 credentials "
			    "file %s, line %u: unknown key \"%.32s\" (known: "
			    "access_key, secret_key, region)", path, lineno, k);
		}
		if (*seen)
			return cf_error_set(CF_ERR_INVALID, "S3 credentials "
			    "file %s, line %u: %s given twice", path, lineno,
			    k);
		*seen = 1;
		if (dst == c->region ? !region_ok(v) : !key_ok(v))
			return cf_error_set(CF_ERR_INVALID, "S3 credentials "
			    "file %s, line %u: invalid value for %s", path,
			    lineno, k);
		/* key_ok and region_ok bound the length to fit. */
		memcpy(dst, v, strlen(v) + 1);
	}
	if (!have_access || !have_secret)
		return cf_error_set(CF_ERR_INVALID, "S3 credentials file %s "
		    "lacks %s", path, have_access ? "secret_key" :
		    "access_key");
	return CF_OK;
}

/* read_creds_file(path, c): the file named by COFFRE_S3_CREDENTIALS. */
static cf_status
read_creds_file(const char *path, struct creds *c)
{
	char buf[CRED_FILE_MAX + 1];
	struct stat st;
	size_t got = 0;
	cf_status rc;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return cf_error_set(errno == ENOENT ? CF_ERR_NOTFOUND :
		    CF_ERR_IO, "cannot open the S3 credentials file %s "
		    "(COFFRE_S3_CREDENTIALS): %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot examine %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = cf_error_set(CF_ERR_INVALID, "the S3 credentials file %s "
		    "is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rc = cf_error_set(CF_ERR_ACCESS, "the S3 credentials file %s "
		    "can be read by others (mode %04o); run: chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		rc = cf_error_set(CF_ERR_ACCESS, "the S3 credentials file %s "
		    "belongs to another user", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cf_error_set(CF_ERR_IO, "cannot read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == sizeof(buf)) {
			rc = cf_error_set(CF_ERR_INVALID, "the S3 credentials "
			    "file %s is larger than %d bytes", path,
			    CRED_FILE_MAX);
			goto out;
		}
	}
	buf[got] = '\0';
	if (memchr(buf, '\0', got) != NULL || memchr(buf, '\r', got) != NULL)
		rc = cf_error_set(CF_ERR_INVALID, "the S3 credentials file %s "
		    "holds NUL or CR bytes", path);
	else
		rc = parse_creds_file(buf, path, c);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* env_pair(id, secret, c): credentials from two environment variables. */
static cf_status
env_pair(const char *id_var, const char *secret_var, struct creds *c,
    int *found)
{
	const char *id = env(id_var), *secret = env(secret_var);

	*found = 0;
	if (id == NULL && secret == NULL)
		return CF_OK;
	if (id == NULL || secret == NULL)
		return cf_error_set(CF_ERR_INVALID, "%s is set but %s is not",
		    id != NULL ? id_var : secret_var,
		    id != NULL ? secret_var : id_var);
	if (!key_ok(id) || !key_ok(secret))
		return cf_error_set(CF_ERR_INVALID, "%s or %s is not a valid "
		    "key (1 to %d printable characters)", id_var, secret_var,
		    KEY_MAX);
	memcpy(c->access, id, strlen(id) + 1);
	memcpy(c->secret, secret, strlen(secret) + 1);
	*found = 1;
	return CF_OK;
}

/* get_creds(c): credentials and region, in the order of the top. */
static cf_status
get_creds(struct creds *c)
{
	const char *file = env("COFFRE_S3_CREDENTIALS"), *region;
	cf_status rc;
	int found = 0;

	memset(c, 0, sizeof(*c));
	if (file != NULL) {
		if ((rc = read_creds_file(file, c)) != CF_OK)
			return rc;
		found = 1;
	}
	if (!found && (rc = env_pair("COFFRE_S3_ACCESS_KEY",
	    "COFFRE_S3_SECRET_KEY", c, &found)) != CF_OK)
		return rc;
	if (!found && (rc = env_pair("AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", c, &found)) != CF_OK)
		return rc;
	if (!found)
		return cf_error_set(CF_ERR_ACCESS, "no S3 credentials: set "
		    "COFFRE_S3_CREDENTIALS to a credentials file, or "
		    "COFFRE_S3_ACCESS_KEY and COFFRE_S3_SECRET_KEY (or "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
	if ((region = env("COFFRE_S3_REGION")) != NULL) {
		if (!region_ok(region))
			return cf_error_set(CF_ERR_INVALID, "COFFRE_S3_REGION "
			    "is not a region name (a-z, 0-9, '-')");
		memcpy(c->region, region, strlen(region) + 1);
	}
	if (c->region[0] == '\0')
		memcpy(c->region, "us-east-1", sizeof("us-east-1"));
	return CF_OK;
}

/* ---- opening: the bucket ---- */

/*
 * probe(s, state): whether the repository's config exists, by reading its
 * first byte (a GET's error reply names the cause, a HEAD's cannot).
 * *${state}: 1 config there, 0 no config, -1 no bucket.
 */
static cf_status
probe(struct s3 *s, int *state)
{
	const struct cf_http_header h[] = {
		{ "x-amz-content-sha256", EMPTY_SHA256 },
	};
	struct cf_http_resp resp;
	struct cf_http_req req;
	struct cf_s3_error e;
	struct cf_buf b;
	char url[URL_MAX];
	cf_status rc;

	*state = 0;
	if ((rc = object_url(s, "config", NULL, url)) != CF_OK)
		return rc;
	cf_buf_init(&b, 1);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = h;
	req.nheaders = 1;
	req.has_range = 1;
	req.range_off = 0;
	req.range_len = 1;
	req.out = &b;
	rc = do_req(s, &req, &resp, "opening the repository:", NULL);
	cf_buf_free(&b);
	if (rc != CF_OK)
		return rc;
	switch (resp.status) {
	case 200:
	case 206:
	case 416:               /* an empty config: there, if broken */
		*state = 1;
		return CF_OK;
	case 404:
		cf_s3_error_parse(resp.errbody, resp.errbody_len, &e);
		*state = strcmp(e.code, "NoSuchBucket") == 0 ? -1 : 0;
		return CF_OK;
	default:
		return fail(s, "reading", "config", &resp);
	}
}

/* make_bucket(s, region): PUT the bucket; one that is ours already is fine. */
static cf_status
make_bucket(struct s3 *s, const char *region)
{
	struct cf_http_header h[1];
	struct cf_http_resp resp;
	struct cf_http_req req;
	struct cf_s3_error e;
	char url[URL_MAX], body[256], sum[SHA256_HEX];
	size_t n = 0;
	cf_status rc;

	if ((rc = bucket_url(s, NULL, url)) != CF_OK)
		return rc;
	/* us-east-1 is the default location: S3 refuses it spelt out. */
	if (strcmp(region, "us-east-1") != 0)
		n = (size_t)snprintf(body, sizeof(body),
		    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws."
		    "com/doc/2006-03-01/\"><LocationConstraint>%s"
		    "</LocationConstraint></CreateBucketConfiguration>",
		    region);
	sha256_hex(sum, body, n);
	h[0].name = "x-amz-content-sha256";
	h[0].value = sum;
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url;
	req.headers = h;
	req.nheaders = 1;
	req.body = body;
	req.body_len = n;
	if ((rc = do_req(s, &req, &resp, "creating the bucket", NULL)) !=
	    CF_OK)
		return rc;
	if (resp.status == 200)
		return CF_OK;
	cf_s3_error_parse(resp.errbody, resp.errbody_len, &e);
	if (resp.status == 409 && strcmp(e.code, "BucketAlreadyOwnedByYou") ==
	    0)
		return CF_OK;
	if (resp.status == 409 && strcmp(e.code, "BucketAlreadyExists") == 0)
		return cf_error_set(CF_ERR_ACCESS, "cannot create the bucket "
		    "%s at %s: the name is taken by another account; choose "
		    "another bucket name", s->bucket, s->where);
	return fail(s, "creating the bucket", NULL, &resp);
}

cf_status
cf_backend_s3_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out)
{
	struct cf_http_opts ho;
	struct cf_backend *b = NULL;
	struct in_addr a4;
	struct location l;
	struct creds c;
	struct s3 *s = NULL;
	char sigv4[64], *e;
	const char *addressing, *allow;
	uint64_t v;
	cf_status rc;
	int virt = 0, state, n;

	(void)opts;             /* S3 signs with its own keys */
	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (location == NULL)
		return bad_location("none given");
	if ((rc = parse_location(location, &l)) != CF_OK)
		return rc;
	allow = env("COFFRE_S3_ALLOW_HTTP");
	if (!l.https && !loopback(l.host) &&
	    !(allow != NULL && strcmp(allow, "1") == 0))
		return cf_error_set(CF_ERR_INVALID, "s3+http:// (plain HTTP) "
		    "is only for a test server on this machine (127.0.0.1, "
		    "::1, localhost): over a network it would show every "
		    "request and let anyone on the way replay or alter "
		    "them; use s3:// (HTTPS), or set COFFRE_S3_ALLOW_HTTP=1 "
		    "on a network you trust");
	if ((addressing = env("COFFRE_S3_ADDRESSING")) != NULL) {
		if (strcmp(addressing, "virtual") == 0)
			virt = 1;
		else if (strcmp(addressing, "path") != 0)
			return cf_error_set(CF_ERR_INVALID,
			    "COFFRE_S3_ADDRESSING must be \"path\" or "
			    "\"virtual\"");
	}
	if (virt && (l.host[0] == '[' || inet_pton(AF_INET, l.host, &a4) == 1))
		return cf_error_set(CF_ERR_INVALID, "virtual-host addressing "
		    "(COFFRE_S3_ADDRESSING=virtual) needs a host name, not an "
		    "IP address");

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	atomic_init(&s->cond_put, 1);
	if ((rc = env_u64("COFFRE_S3_MULTIPART_THRESHOLD", 1, UINT64_MAX,
	    MP_THRESHOLD_DEFAULT, &s->mp_threshold)) != CF_OK ||
	    (rc = env_u64("COFFRE_S3_PART_SIZE", PART_SIZE_MIN, PART_SIZE_MAX,
	    PART_SIZE_DEFAULT, &s->part_size)) != CF_OK ||
	    (rc = env_u64("COFFRE_S3_LIST_PAGE", 1, LIST_PAGE_MAX,
	    LIST_PAGE_DEFAULT, &v)) != CF_OK)
		goto err;
	s->list_page = (unsigned)v;
	memcpy(s->bucket, l.bucket, sizeof(l.bucket));
	if (l.prefix[0] != '\0')
		snprintf(s->prefix, sizeof(s->prefix), "%s/", l.prefix);
	n = snprintf(s->origin, sizeof(s->origin), "%s://%s%s%s%s%s",
	    l.https ? "https" : "http", virt ? l.bucket : "", virt ? "." : "",
	    l.host, l.port[0] != '\0' ? ":" : "", l.port);
	if (n < 0 || (size_t)n >= sizeof(s->origin)) {
		rc = bad_location("host name too long");
		goto err;
	}
	if (!virt)
		snprintf(s->bucket_path, sizeof(s->bucket_path), "/%s",
		    l.bucket);
	snprintf(s->where, sizeof(s->where), "%s://%s%s%s/%s%s%s",
	    l.https ? "s3" : "s3+http", l.host, l.port[0] != '\0' ? ":" : "",
	    l.port, l.bucket, l.prefix[0] != '\0' ? "/" : "", l.prefix);

	if ((rc = get_creds(&c)) != CF_OK)
		goto err;
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", c.region);
	memset(&ho, 0, sizeof(ho));
	ho.allow_http = !l.https;
	ho.cafile = env("COFFRE_S3_CA_FILE");
	ho.aws_sigv4 = sigv4;
	ho.user = c.access;
	ho.password = c.secret;
	rc = cf_http_new(&ho, &s->http);
	if (rc != CF_OK)
		goto err;

	if ((rc = probe(s, &state)) != CF_OK)
		goto err;
	if (create) {
		if (state == 1) {
			rc = cf_error_set(CF_ERR_EXISTS, "a repository already "
			    "exists at %s", s->where);
			goto err;
		}
		if (state == -1 && (rc = make_bucket(s, c.region)) != CF_OK)
			goto err;
	} else if (state != 1) {
		rc = cf_error_set(CF_ERR_NOTFOUND, "no repository at %s%s%s%s",
		    s->where, state == -1 ? ": the bucket " : "",
		    state == -1 ? s->bucket : "",
		    state == -1 ? " does not exist" : "");
		goto err;
	}

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (e = strdup(location)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	b->location = e;
	b->ops = &s3_ops;
	b->ctx = s;
	sodium_memzero(&c, sizeof(c));
	*out = b;
	return CF_OK;

err:
	sodium_memzero(&c, sizeof(c));
	free(b);
	s3_close(s);
	return rc;
}
