/*
 * log.c: the access log (who did what to which object, when, with what
 * result) and coffred's own messages on stderr (the journal under
 * systemd).
 *
 * An authenticated request goes to its tenant's access log in the
 * database: the identity's key, the action, the object name (a hash, or
 * "config"), the bytes of body moved, the HTTP status (0 if the client went
 * away mid-upload) and the client's address.  Never a request body, never
 * a header value.  A request that did not authenticate is not written to
 * any tenant's log (anyone may send those, and they must not fill the
 * database); it is reported on stderr with the client's address and the
 * server's static reason, never with bytes of the request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "request.h"

void
srv_warn(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "coffred: %s\n", line);
}

static const char *
action_name(enum srv_op op)
{
	switch (op) {
	case SRV_OP_PUT:
		return "put";
	case SRV_OP_GET:
		return "get";
	case SRV_OP_HEAD:
		return "head";
	case SRV_OP_DELETE:
		return "delete";
	case SRV_OP_LIST:
		return "list";
	case SRV_OP_INFO:
		return "info";
	}
	return "other";
}

void
srv_log_request(struct srv_request *rq, unsigned status, uint64_t bytes,
    const char *why)
{
	struct srv_log_entry e;

	if (!rq->authed) {
		srv_warn("refused a request from %s: %u %s",
		    rq->addr[0] != '\0' ? rq->addr : "?", status,
		    why != NULL ? why : "");
		return;
	}
	memset(&e, 0, sizeof(e));
	e.time = (int64_t)time(NULL);
	snprintf(e.tenant, sizeof(e.tenant), "%s", rq->auth.tenant.name);
	memcpy(e.pk, rq->auth.ident.pk, sizeof(e.pk));
	e.has_pk = 1;
	snprintf(e.action, sizeof(e.action), "%s", action_name(rq->route.op));
	if (rq->route.op == SRV_OP_LIST)
		snprintf(e.object, sizeof(e.object), "%s", rq->route.dir);
	else
		snprintf(e.object, sizeof(e.object), "%s", rq->route.name);
	e.bytes = bytes;
	e.status = status;
	snprintf(e.addr, sizeof(e.addr), "%s", rq->addr);
	if (srv_db_log_add(rq->srv->db, &e) != CF_OK)
		srv_warn("access log: %s", cf_error_message());
}
