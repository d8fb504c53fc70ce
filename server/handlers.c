/*
 * handlers.c: what each authenticated, permitted request does
 * (docs/protocol.md, section 2).  http.c has checked everything that does
 * not depend on the store: target, signature, rights, headers.
 *
 * PUT is streamed: the first call checks the size (413), the name (409),
 * the quota (507, reserving the declared size so that concurrent uploads
 * cannot overrun it together) and opens a temporary file; each piece of
 * body is written and hashed as it arrives, so memory does not grow with
 * the object; the last call checks the hash against Coffre-Body (401) and,
 * for content-named objects, against the name (422), then commits (fsync,
 * link, directory fsync) and only then answers 201.  GET streams from the
 * file (MHD reads it as the client takes it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "request.h"

static struct MHD_Response *
empty_response(void)
{
	return MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT);
}

/* ------------------------------------------------------------------- PUT */

static enum MHD_Result
put_start(struct srv_request *rq, struct MHD_Connection *c)
{
	struct srv_server *srv = rq->srv;
	cf_status rc;
	int ex;

	if (rq->expected > srv->cfg.max_object_size)
		return srv_reply_error(rq, c, 413, "too_large",
		    "the object is larger than this server accepts "
		    "(max_object_size)");
	ex = srv_store_exists(srv->store, rq->route.tenant, rq->route.name);
	if (ex < 0) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		return srv_reply_error(rq, c, 500, "internal",
		    "the server cannot read its store");
	}
	if (ex > 0)
		return srv_reply_error(rq, c, 409, "exists",
		    "an object of this name exists; it is never replaced");
	rc = srv_db_quota_reserve(srv->db, rq->auth.tenant.id, rq->expected);
	if (rc == CF_ERR_NOMEM)
		return srv_reply_error(rq, c, 507, "quota_exceeded",
		    "the tenant's storage quota would be exceeded");
	if (rc != CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		return srv_reply_error(rq, c, 500, "internal",
		    "the server cannot read its database");
	}
	rq->reserved = 1;
	if (srv_upload_begin(srv->store, rq->route.tenant, &rq->up) !=
	    CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		return srv_reply_error(rq, c, 500, "internal",
		    "the server cannot store objects now");
	}
	rq->uploading = 1;
	return MHD_YES;
}

static void
fail_upload(struct srv_request *rq, unsigned status, const char *code,
    const char *msg)
{
	if (rq->fail_status == 0) {
		rq->fail_status = status;
		rq->fail_code = code;
		rq->fail_msg = msg;
	}
	srv_upload_abort(&rq->up);
}

/* The hash in lowercase hex equals the last segment of the name. */
static int
name_matches(const char *name, const uint8_t h[CF_HASH_BYTES])
{
	char hex[2 * CF_HASH_BYTES + 1];
	size_t n = strlen(name);

	cf_hex_encode(hex, h, CF_HASH_BYTES);
	return n >= 2 * CF_HASH_BYTES && sodium_memcmp(name + n -
	    2 * CF_HASH_BYTES, hex, 2 * CF_HASH_BYTES) == 0;
}

static enum MHD_Result
put_finish(struct srv_request *rq, struct MHD_Connection *c)
{
	struct srv_server *srv = rq->srv;
	uint8_t h[CF_HASH_BYTES];
	uint64_t size = rq->up.bytes;
	cf_status rc;

	if (rq->fail_status != 0)
		return srv_reply_error(rq, c, rq->fail_status, rq->fail_code,
		    rq->fail_msg);
	srv_upload_hash(&rq->up, h);
	if (size != rq->expected) {
		srv_upload_abort(&rq->up);
		return srv_reply_error(rq, c, 400, "bad_request",
		    "the body is not Content-Length bytes long");
	}
	if (sodium_memcmp(h, rq->auth.sig.body, sizeof(h)) != 0) {
		srv_upload_abort(&rq->up);
		return srv_reply_error(rq, c, 401, "unauthenticated",
		    "the body does not match Coffre-Body; nothing was "
		    "stored");
	}
	if (srv_kind_content_named(rq->route.kind) &&
	    !name_matches(rq->route.name, h)) {
		srv_upload_abort(&rq->up);
		return srv_reply_error(rq, c, 422, "content_mismatch",
		    "the body does not hash to the object's name; nothing "
		    "was stored");
	}
	rc = srv_upload_commit(&rq->up, rq->route.name);
	if (rc == CF_ERR_EXISTS)
		return srv_reply_error(rq, c, 409, "exists",
		    "an object of this name exists; it is never replaced");
	if (rc != CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		return srv_reply_error(rq, c, 500, "internal",
		    "the server could not store the object");
	}
	rq->reserved = 0;
	if (srv_db_quota_release(srv->db, rq->auth.tenant.id, rq->expected,
	    1) != CF_OK)
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
	return srv_reply(rq, c, 201, empty_response(), size);
}

enum MHD_Result
srv_handle_upload(struct srv_request *rq, struct MHD_Connection *c,
    const char *data, size_t n)
{
	if (n == 0)
		return put_finish(rq, c);
	if (rq->fail_status != 0)
		return MHD_YES;         /* discard the rest, answer at the end */
	if (n > rq->expected - rq->up.bytes) {
		fail_upload(rq, 400, "bad_request",
		    "the body is longer than Content-Length");
		return MHD_YES;
	}
	if (srv_upload_write(&rq->up, data, n) != CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		fail_upload(rq, 500, "internal",
		    "the server could not store the object");
	}
	return MHD_YES;
}

/* ------------------------------------------------------------ GET, HEAD */

static enum MHD_Result
get(struct srv_request *rq, struct MHD_Connection *c)
{
	struct srv_server *srv = rq->srv;
	struct MHD_Response *resp;
	uint64_t size, start = 0, len;
	char range[96];
	unsigned status = 200;
	cf_status rc;
	int fd;

	rc = srv_store_open_object(srv->store, rq->route.tenant,
	    rq->route.name, &fd, &size);
	if (rc == CF_ERR_NOTFOUND)
		return srv_reply_error(rq, c, 404, "not_found",
		    "no such object");
	if (rc != CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		return srv_reply_error(rq, c, 500, "internal",
		    "the server cannot read the object");
	}
	len = size;
	if (rq->route.op == SRV_OP_GET && rq->has_range) {
		if (rq->range_start >= size) {
			close(fd);
			snprintf(range, sizeof(range), "bytes */%" PRIu64,
			    size);
			return srv_reply_error_with(rq, c, 416, "bad_range",
			    "the range starts past the end of the object",
			    MHD_HTTP_HEADER_CONTENT_RANGE, range);
		}
		start = rq->range_start;
		len = (rq->range_end >= size - 1 ? size - 1 :
		    rq->range_end) - start + 1;
		snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64
		    "/%" PRIu64, start, start + len - 1, size);
		status = 206;
	}
	/* MHD owns ${fd} from here, and closes it with the response. */
	resp = MHD_create_response_from_fd_at_offset64(len, fd, start);
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/octet-stream");
	if (status == 206)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE,
		    range);
	return srv_reply(rq, c, status, resp,
	    rq->route.op == SRV_OP_HEAD ? 0 : len);
}

/* ---------------------------------------------------------------- DELETE */

static enum MHD_Result
del(struct srv_request *rq, struct MHD_Connection *c)
{
	struct srv_server *srv = rq->srv;
	uint64_t size;
	cf_status rc;

	rc = srv_store_delete(srv->store, rq->route.tenant, rq->route.name,
	    &size);
	if (rc == CF_ERR_NOTFOUND)
		return srv_reply_error(rq, c, 404, "not_found",
		    "no such object");
	if (rc != CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		return srv_reply_error(rq, c, 500, "internal",
		    "the server could not delete the object");
	}
	if (srv_db_usage_sub(srv->db, rq->auth.tenant.id, size) != CF_OK)
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
	return srv_reply(rq, c, 204, empty_response(), size);
}

/* ------------------------------------------------------------------ list */

struct listing {
	struct cf_buf out;
	char last[CF_OBJECT_NAME_MAX + 1];
};

static cf_status
list_one(void *arg, const char *name)
{
	struct listing *l = arg;
	cf_status rc;

	if ((rc = cf_buf_append(&l->out, name, strlen(name))) != CF_OK ||
	    (rc = cf_buf_add_u8(&l->out, '\n')) != CF_OK)
		return rc;
	snprintf(l->last, sizeof(l->last), "%s", name);
	return CF_OK;
}

static enum MHD_Result
list(struct srv_request *rq, struct MHD_Connection *c)
{
	struct srv_server *srv = rq->srv;
	struct MHD_Response *resp;
	struct listing l;
	cf_status rc;
	int more = 0;

	cf_buf_init(&l.out, (size_t)rq->route.limit * (CF_OBJECT_NAME_MAX + 1));
	l.last[0] = '\0';
	rc = srv_store_list(srv->store, rq->route.tenant, rq->route.dir,
	    rq->route.after, rq->route.limit, list_one, &l, &more);
	if (rc != CF_OK) {
		srv_warn("tenant %s: %s", rq->route.tenant,
		    cf_error_message());
		cf_buf_free(&l.out);
		return srv_reply_error(rq, c, 500, "internal",
		    "the server cannot list its store");
	}
	resp = MHD_create_response_from_buffer(l.out.len,
	    l.out.len > 0 ? l.out.p : NULL, MHD_RESPMEM_MUST_COPY);
	cf_buf_free(&l.out);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain");
	if (more && l.last[0] != '\0')
		MHD_add_response_header(resp, "Coffre-Next", l.last);
	return srv_reply(rq, c, 200, resp, 0);
}

/* ------------------------------------------------------------------ info */

static enum MHD_Result
info(struct srv_request *rq, struct MHD_Connection *c)
{
	const struct srv_tenant *t = &rq->auth.tenant;
	struct MHD_Response *resp;
	char body[256];
	int n;

	n = snprintf(body, sizeof(body), "{\"tenant\":\"%s\",\"rights\":"
	    "\"%s\",\"quota\":%" PRIu64 ",\"used\":%" PRIu64 "}\n", t->name,
	    srv_right_name(rq->auth.ident.right), t->quota, t->used);
	if (n < 0 || (size_t)n >= sizeof(body))
		return srv_reply_error(rq, c, 500, "internal", "internal "
		    "error");
	resp = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	return srv_reply(rq, c, 200, resp, 0);
}

enum MHD_Result
srv_handle_start(struct srv_request *rq, struct MHD_Connection *c)
{
	switch (rq->route.op) {
	case SRV_OP_PUT:
		return put_start(rq, c);
	case SRV_OP_GET:
	case SRV_OP_HEAD:
		return get(rq, c);
	case SRV_OP_DELETE:
		return del(rq, c);
	case SRV_OP_LIST:
		return list(rq, c);
	case SRV_OP_INFO:
		return info(rq, c);
	}
	return MHD_NO;
}

void
srv_handle_cleanup(struct srv_request *rq)
{
	if (rq->uploading)
		srv_upload_abort(&rq->up);
	if (rq->reserved) {
		srv_db_quota_release(rq->srv->db, rq->auth.tenant.id,
		    rq->expected, 0);
		rq->reserved = 0;
	}
}
