/*
 * http.c: coffred's HTTPS front: the libmicrohttpd daemon, and for each
 * request the checks of docs/protocol.md that come before any handler:
 * connection limit (503), header size (431), request target (400, 404,
 * 405), signature (401), rights (403), body on a bodiless method (400).
 *
 * The daemon runs one thread per connection (MHD_USE_THREAD_PER_CONNECTION):
 * handlers block on the disk (fsync before every 201) and on SQLite, and a
 * thread per connection keeps one slow disk write from stalling other
 * clients.  The number of connections is bounded (max_connections, and
 * max_connections_per_ip by MHD), each connection's memory too
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT), and idle connections time out.
 *
 * The request target is taken from MHD's URI log callback, which sees it
 * exactly as received, before any percent-decoding: route.c refuses
 * anything that is not literal, so what is signed, what is routed and what
 * names a file are the same bytes.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "crypto.h"
#include "reqsig.h"
#include "tls.h"

#define MAX_HEADERS 64
/* Connections MHD accepts above max_connections, to answer 503 on. */
#define BUSY_SLACK 16

static int64_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* ------------------------------------------------------------- responses */

/* Static JSON text only: never a byte of the request in a message. */
static int
json_static_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ||
		    (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

enum MHD_Result
srv_reply(struct srv_request *rq, struct MHD_Connection *c, unsigned status,
    struct MHD_Response *resp, uint64_t bytes)
{
	enum MHD_Result r;

	if (resp == NULL)
		return MHD_NO;
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	if (r == MHD_YES && !rq->responded) {
		rq->responded = 1;
		srv_log_request(rq, status, bytes, NULL);
	}
	return r;
}

enum MHD_Result
srv_reply_error(struct srv_request *rq, struct MHD_Connection *c,
    unsigned status, const char *code, const char *msg)
{
	return srv_reply_error_with(rq, c, status, code, msg, NULL, NULL);
}

enum MHD_Result
srv_reply_error_with(struct srv_request *rq, struct MHD_Connection *c,
    unsigned status, const char *code, const char *msg, const char *hname,
    const char *hvalue)
{
	struct MHD_Response *resp;
	char body[512];
	enum MHD_Result r;
	int n;

	if (!json_static_ok(code) || !json_static_ok(msg))
		msg = "error";
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}\n",
	    code, msg);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", code);
	resp = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	if (hname != NULL)
		MHD_add_response_header(resp, hname, hvalue);
	/* A refused upload's body is not read: close the connection after. */
	if (rq->route.op == SRV_OP_PUT && !rq->uploading)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	if (r == MHD_YES && !rq->responded) {
		rq->responded = 1;
		srv_log_request(rq, status, 0, msg);
	}
	return r;
}

/* --------------------------------------------------------------- headers */

struct scan {
	size_t count, bytes;
	struct srv_sig_headers sig;
	unsigned range, length, transfer;
	const char *range_v, *length_v;
	size_t range_len, length_len;
};

static void
take(const char **v, size_t *vl, int *dup, const char *value, size_t len)
{
	if (*v != NULL)
		*dup = 1;
	*v = value;
	*vl = len;
}

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct scan *s = cls;

	(void)kind;
	s->count++;
	s->bytes += key_size + value_size + 4;
	if (key == NULL)
		return MHD_YES;
	if (value == NULL) {
		value = "";
		value_size = 0;
	}
	if (strcasecmp(key, CF_REQSIG_H_KEY) == 0)
		take(&s->sig.key, &s->sig.keylen, &s->sig.duplicated, value,
		    value_size);
	else if (strcasecmp(key, CF_REQSIG_H_TIME) == 0)
		take(&s->sig.time, &s->sig.timelen, &s->sig.duplicated, value,
		    value_size);
	else if (strcasecmp(key, CF_REQSIG_H_NONCE) == 0)
		take(&s->sig.nonce, &s->sig.noncelen, &s->sig.duplicated,
		    value, value_size);
	else if (strcasecmp(key, CF_REQSIG_H_BODY) == 0)
		take(&s->sig.body, &s->sig.bodylen, &s->sig.duplicated, value,
		    value_size);
	else if (strcasecmp(key, CF_REQSIG_H_SIGNATURE) == 0)
		take(&s->sig.sig, &s->sig.siglen, &s->sig.duplicated, value,
		    value_size);
	else if (strcasecmp(key, MHD_HTTP_HEADER_RANGE) == 0) {
		s->range++;
		s->range_v = value;
		s->range_len = value_size;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		s->length++;
		s->length_v = value;
		s->length_len = value_size;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		s->transfer++;
	return MHD_YES;
}

/* Strict decimal Content-Length. */
static int
parse_length(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || n == 0 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++) {
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

/* ------------------------------------------------------------- callbacks */

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct srv_request *rq;
	const union MHD_ConnectionInfo *ci;
	size_t n;

	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return NULL;
	rq->srv = cls;
	rq->t_start = mono_now();
	n = uri != NULL ? strlen(uri) : 0;
	if (n > SRV_TARGET_MAX) {
		rq->target_too_long = 1;
	} else {
		memcpy(rq->target, uri, n);
		rq->target_len = n;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, rq->addr,
			    sizeof(rq->addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, rq->addr,
			    sizeof(rq->addr));
	}
	return rq;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv_request *rq = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	if (!rq->responded && rq->authed) {
		rq->responded = 1;
		srv_log_request(rq, 0, rq->uploading ? rq->up.bytes : 0,
		    "aborted");
	}
	srv_handle_cleanup(rq);
	free(rq);
	*req_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct srv_server *srv = cls;

	(void)c;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&srv->connections, 1);
	else
		atomic_fetch_sub(&srv->connections, 1);
}

static enum MHD_Result
start(struct srv_request *rq, struct MHD_Connection *c, const char *method)
{
	struct srv_server *srv = rq->srv;
	struct scan s;
	const char *why = NULL;
	int rc;

	rq->checked = 1;
	if (atomic_load(&srv->connections) > srv->cfg.max_connections)
		return srv_reply_error(rq, c, 503, "busy", "too many "
		    "connections; retry later");

	memset(&s, 0, sizeof(s));
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_header, &s);
	if (s.count > MAX_HEADERS || s.bytes > srv->cfg.max_header_bytes)
		return srv_reply_error(rq, c, 431, "headers_too_large",
		    "the request headers are too large");

	if (rq->target_too_long)
		return srv_reply_error(rq, c, 400, "bad_request",
		    "the request target is too long");
	rc = srv_route_parse(method, strlen(method), rq->target,
	    rq->target_len, &rq->route);
	if (rc == SRV_ROUTE_NOT_FOUND)
		return srv_reply_error(rq, c, 404, "not_found",
		    "no such endpoint");
	if (rc == SRV_ROUTE_METHOD)
		return srv_reply_error(rq, c, 405, "method_not_allowed",
		    "this method is not allowed here");
	if (rc != SRV_ROUTE_OK)
		return srv_reply_error(rq, c, 400, "bad_request",
		    "malformed request path or query (docs/protocol.md, "
		    "section 2)");
	if (s.range > 1 || s.length > 1)
		return srv_reply_error(rq, c, 400, "bad_request",
		    "a header was sent more than once");

	rc = srv_auth_check(srv->db, &rq->route, &s.sig, (int64_t)time(NULL),
	    &rq->auth, &why);
	if (rc == 500)
		return srv_reply_error(rq, c, 500, "internal", why);
	if (rc != 0)
		return srv_reply_error(rq, c, 401, "unauthenticated", why);
	rq->authed = 1;

	if (!srv_auth_allows(rq->auth.ident.right, &rq->route))
		return srv_reply_error(rq, c, 403, "forbidden",
		    rq->route.op == SRV_OP_DELETE ? "this identity may not "
		    "delete this object (append identities delete only "
		    "locks)" : "this identity's rights do not allow it");

	if (rq->route.op == SRV_OP_PUT) {
		if (s.transfer > 0 || s.length == 0)
			return srv_reply_error(rq, c, 411, "length_required",
			    "a PUT needs a Content-Length");
		if (!parse_length(s.length_v, s.length_len, &rq->expected))
			return srv_reply_error(rq, c, 400, "bad_request",
			    "malformed Content-Length");
		if (s.range > 0)
			return srv_reply_error(rq, c, 400, "bad_request",
			    "a PUT takes no Range");
	} else {
		uint8_t empty[CF_HASH_BYTES];
		uint64_t len = 0;

		if (s.transfer > 0 || (s.length > 0 &&
		    (!parse_length(s.length_v, s.length_len, &len) ||
		    len != 0)))
			return srv_reply_error(rq, c, 400, "bad_request",
			    "this request takes no body");
		cf_name_hash(empty, "", 0);
		if (sodium_memcmp(rq->auth.sig.body, empty, sizeof(empty)) != 0)
			return srv_reply_error(rq, c, 401, "unauthenticated",
			    "Coffre-Body is not the hash of the empty body");
		if (s.range > 0 && rq->route.op != SRV_OP_GET)
			return srv_reply_error(rq, c, 400, "bad_request",
			    "Range is for GET only");
		rq->has_range = s.range > 0;
		if (s.range > 0 && srv_range_parse(s.range_v, s.range_len,
		    &rq->range_start, &rq->range_end) != 0)
			return srv_reply_error(rq, c, 400, "bad_request",
			    "malformed Range (bytes=A-B or bytes=A- only)");
	}
	return srv_handle_start(rq, c);
}

/* may_have_body(c): the request announces a body (length > 0 or chunked). */
static int
may_have_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
	    (cl != NULL && strcmp(cl, "0") != 0);
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct srv_request *rq = *req_cls;
	size_t n;

	(void)cls;
	(void)url;
	(void)version;
	if (rq == NULL)
		return MHD_NO;          /* out of memory in on_uri */
	if (!rq->started) {
		rq->started = 1;
		/*
		 * A response queued on this first call makes MHD close the
		 * connection afterwards (it will not read a body it was not
		 * asked for).  That is what a request with a body wants: a
		 * PUT is checked now, before its body is read (and is
		 * answered now if refused); so is a bodiless method that
		 * announces a body (refused).  Other requests are answered
		 * on the next call, and keep their connection.
		 */
		if (strcmp(method, MHD_HTTP_METHOD_PUT) == 0 ||
		    may_have_body(c))
			return start(rq, c, method);
		return MHD_YES;
	}
	if (!rq->uploading) {
		if (rq->responded || rq->checked)
			return MHD_NO;
		*upload_data_size = 0;  /* a body here is refused by start */
		return start(rq, c, method);
	}
	if (mono_now() - rq->t_start > (int64_t)rq->srv->cfg.request_timeout)
		return MHD_NO;          /* too slow: drop the connection */
	n = *upload_data_size;
	*upload_data_size = 0;
	return srv_handle_upload(rq, c, upload_data, n);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >
		    0x7e)
			line[i] = '?';
	srv_warn("http: %s", line);
}

/* ------------------------------------------------------------------ daemon */

cf_status
srv_http_start(struct srv_server *srv, const struct srv_tls *tls)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG;
	size_t mem;

	memset(&ss, 0, sizeof(ss));
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, srv->cfg.listen, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)srv->cfg.port);
		} else if (inet_pton(AF_INET6, srv->cfg.listen,
		    &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)srv->cfg.port);
			flags |= MHD_USE_IPv6;
			if (memcmp(&s6->sin6_addr, &in6addr_any,
			    sizeof(in6addr_any)) == 0)
				flags |= MHD_USE_DUAL_STACK;
		} else {
			return cf_error_set(CF_ERR_INVALID, "listen: %s is not "
			    "an IP address", srv->cfg.listen);
		}
	}
	/* Headers, plus room for MHD's read buffer of the body. */
	mem = (size_t)srv->cfg.max_header_bytes * 2 + 64 * 1024;
	srv->daemon = MHD_start_daemon(flags, (uint16_t)srv->cfg.port,
	    NULL, NULL, on_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_CERT, tls->cert,
	    MHD_OPTION_HTTPS_MEM_KEY, tls->key,
	    MHD_OPTION_HTTPS_PRIORITIES, srv->cfg.tls_priorities,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)(srv->cfg.max_connections + BUSY_SLACK),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)srv->cfg.max_connections_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)srv->cfg.connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)128,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
	    MHD_OPTION_END);
	if (srv->daemon == NULL)
		return cf_error_set(CF_ERR_IO, "cannot start the HTTPS server "
		    "on %s port %u (address in use, a port below 1024 without "
		    "the capability, or TLS settings GnuTLS refuses: see the "
		    "messages above)", srv->cfg.listen, srv->cfg.port);
	return CF_OK;
}

unsigned
srv_http_port(struct srv_server *srv)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return di != NULL ? di->port : 0;
}

void
srv_http_stop(struct srv_server *srv)
{
	if (srv->daemon != NULL)
		MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
}
