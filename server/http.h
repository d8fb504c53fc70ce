/*
 * http.h: the HTTPS daemon (libmicrohttpd + GnuTLS) that serves the coffred
 * protocol; see http.c for what it checks before any handler runs.
 */
#ifndef COFFRED_HTTP_H
#define COFFRED_HTTP_H

#include "error.h"
#include "request.h"
#include "tls.h"

/*
 * srv_http_start(srv, tls): listen on srv->cfg's address and port with the
 * certificate and key of ${tls} (which may be wiped and freed once this
 * returns: GnuTLS holds its own copy), TLS 1.2+ only by the priority
 * string, and serve until srv_http_stop.  CF_ERR_IO if the daemon cannot
 * start.
 */
cf_status srv_http_start(struct srv_server *srv, const struct srv_tls *tls);

/* srv_http_port(srv): the port listened on (useful with port = 0). */
unsigned srv_http_port(struct srv_server *srv);

/* srv_http_stop(srv): stop accepting, finish or drop requests, join. */
void srv_http_stop(struct srv_server *srv);

#endif
