/*
 * request.h: the server and one request in flight, shared by the HTTP
 * layer (http.c), the handlers (handlers.c) and the access log (log.c).
 */
#ifndef COFFRED_REQUEST_H
#define COFFRED_REQUEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "route.h"
#include "store.h"

struct srv_server {
	struct srv_config cfg;
	struct srv_db *db;
	struct srv_store *store;
	struct MHD_Daemon *daemon;
	atomic_uint connections;        /* open connections */
	char pin[64];
};

struct srv_request {
	struct srv_server *srv;
	/* The request target exactly as received (the URI log callback). */
	char target[SRV_TARGET_MAX + 1];
	size_t target_len;
	int target_too_long;
	int started;            /* the access handler was called */
	int checked;            /* start() ran */
	int64_t t_start;        /* monotonic seconds, for request_timeout */
	char addr[64];          /* the client's address, for logs */

	struct srv_route route;
	int has_range;          /* GET with Range: bytes [range_start, range_end] */
	uint64_t range_start, range_end;        /* end UINT64_MAX: to the end */
	int authed;
	struct srv_auth auth;

	/* PUT: the upload under way. */
	int uploading;
	struct srv_upload up;
	uint64_t expected;      /* Content-Length */
	int reserved;           /* quota reserved for ${expected} bytes */
	unsigned fail_status;   /* an error met during the upload: answer it */
	const char *fail_code, *fail_msg;

	int responded;          /* a response was queued (and logged) */
};

/*
 * srv_reply_error(rq, c, status, code, msg): queue a JSON error response
 * {"error":CODE,"message":MSG} (both static text, never request bytes) and
 * log it.  Returns what the MHD access handler returns.
 */
enum MHD_Result srv_reply_error(struct srv_request *rq,
    struct MHD_Connection *c, unsigned status, const char *code,
    const char *msg);
/* srv_reply_error_with(...): the same with one more header (NULL: none). */
enum MHD_Result srv_reply_error_with(struct srv_request *rq,
    struct MHD_Connection *c, unsigned status, const char *code,
    const char *msg, const char *hname, const char *hvalue);

/*
 * srv_reply(rq, c, status, resp, bytes): queue ${resp} (destroyed here) and
 * log the request with ${bytes} of body.
 */
enum MHD_Result srv_reply(struct srv_request *rq, struct MHD_Connection *c,
    unsigned status, struct MHD_Response *resp, uint64_t bytes);

/* handlers.c: the first call for an authenticated, permitted request. */
enum MHD_Result srv_handle_start(struct srv_request *rq,
    struct MHD_Connection *c);
/* handlers.c: a piece of a PUT body (${n} > 0), or its end (${n} == 0). */
enum MHD_Result srv_handle_upload(struct srv_request *rq,
    struct MHD_Connection *c, const char *data, size_t n);
/* handlers.c: release what an unfinished request holds. */
void srv_handle_cleanup(struct srv_request *rq);

/*
 * log.c: srv_log_request(rq, status, bytes): record a request in the
 * tenant's access log when it was authenticated (status 0: aborted), and
 * refusals of unauthenticated requests on stderr (the journal).
 */
void srv_log_request(struct srv_request *rq, unsigned status,
    uint64_t bytes, const char *why);

/* log.c: srv_warn(fmt, ...): a line on stderr, "coffred: " in front. */
void srv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
