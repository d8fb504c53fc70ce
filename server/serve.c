/*
 * serve.c: `coffred serve`: take the state directory's lock, recount every
 * tenant's usage (removing what interrupted uploads left in tmp/), load the
 * certificate, start the HTTPS daemon, then wait for SIGTERM / SIGINT,
 * purging old nonces once a minute and old access-log entries once an hour.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "http.h"
#include "request.h"
#include "reqsig.h"
#include "store.h"
#include "tls.h"

#define MAINTENANCE_SECONDS 60

/* lock_state(dir): hold STATE/coffred.lock for the life of the process. */
static int
lock_state(const char *dir)
{
	char path[SRV_PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/coffred.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return cli_fail("another coffred serves %s already",
			    dir);
		return cli_fail("cannot lock %s: %s", path, strerror(errno));
	}
	return 0;                       /* fd kept open on purpose */
}

struct tenant_names {
	char (*names)[SRV_TENANT_MAX + 1];
	int64_t *ids;
	size_t n, cap;
};

static cf_status
collect(void *arg, const struct srv_tenant *t)
{
	struct tenant_names *tn = arg;

	if (tn->n == tn->cap) {
		size_t cap = tn->cap ? tn->cap * 2 : 16;
		void *p = realloc(tn->names, cap * sizeof(*tn->names));
		if (p == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		tn->names = p;
		p = realloc(tn->ids, cap * sizeof(*tn->ids));
		if (p == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		tn->ids = p;
		tn->cap = cap;
	}
	memcpy(tn->names[tn->n], t->name, sizeof(tn->names[0]));
	tn->ids[tn->n] = t->id;
	tn->n++;
	return CF_OK;
}

/* recount_all(srv): every tenant's usage from its files; tmp/ cleaned. */
static int
recount_all(struct srv_server *srv)
{
	struct tenant_names tn = { NULL, NULL, 0, 0 };
	int rc = 0;

	if (srv_db_tenant_list(srv->db, collect, &tn) != CF_OK) {
		rc = cli_fail("%s", cf_error_message());
		goto out;
	}
	for (size_t i = 0; i < tn.n; i++) {
		uint64_t bytes;
		if (srv_store_recount(srv->store, tn.names[i], &bytes) !=
		    CF_OK) {
			srv_warn("tenant %s: %s", tn.names[i],
			    cf_error_message());
			continue;
		}
		if (srv_db_usage_set(srv->db, tn.ids[i], bytes) != CF_OK)
			srv_warn("tenant %s: %s", tn.names[i],
			    cf_error_message());
	}
out:
	free(tn.names);
	free(tn.ids);
	return rc;
}

/*
 * maintain(srv, round): forget nonces older than CF_REQSIG_NONCE_TTL (each
 * round: they are indexed by time), and access-log entries older than the
 * retention (every 60th round, an hour: that is a scan of the log).
 */
static void
maintain(struct srv_server *srv, unsigned long round)
{
	int64_t now = (int64_t)time(NULL);

	if (srv_db_nonce_purge(srv->db, now - CF_REQSIG_NONCE_TTL) != CF_OK)
		srv_warn("%s", cf_error_message());
	if (round % 60 == 0 && srv->cfg.log_retention_days > 0 &&
	    srv_db_log_purge(srv->db, now -
	    (int64_t)srv->cfg.log_retention_days * 86400) != CF_OK)
		srv_warn("%s", cf_error_message());
}

int
cmd_serve(struct cli *cl)
{
	struct srv_server *srv;
	struct srv_tls tls;
	unsigned long round = 0;
	sigset_t set;
	int rc = 1, sig;

	if (cl->listen != NULL) {
		char line[SRV_LISTEN_MAX + 16];
		snprintf(line, sizeof(line), "listen = %s", cl->listen);
		if (srv_config_parse(&cl->cfg, line, strlen(line)) != CF_OK)
			return cli_fail("--listen: %s", cf_error_message());
	}
	if (cl->port != NULL) {
		char line[64];
		snprintf(line, sizeof(line), "port = %.40s", cl->port);
		if (srv_config_parse(&cl->cfg, line, strlen(line)) != CF_OK)
			return cli_fail("--port: %s", cf_error_message());
	}
	if ((rc = cli_state_prepare(cl)) != 0)
		return rc;
	if ((rc = lock_state(cl->cfg.state_dir)) != 0)
		return rc;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return cli_fail("out of memory");
	srv->cfg = cl->cfg;
	rc = 1;
	if (srv_db_open(srv->cfg.state_dir, 1, &srv->db) != CF_OK ||
	    srv_store_open(srv->cfg.state_dir, &srv->store) != CF_OK) {
		cli_fail("%s", cf_error_message());
		goto out;
	}
	if (recount_all(srv) != 0)
		goto out;
	maintain(srv, 0);
	if (srv_tls_load(srv->cfg.cert_file, srv->cfg.key_file, &tls) !=
	    CF_OK) {
		cli_fail("%s", cf_error_message());
		goto out;
	}
	snprintf(srv->pin, sizeof(srv->pin), "%s", tls.pin);

	/* Threads started from here inherit the blocked signals. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (srv_http_start(srv, &tls) != CF_OK) {
		srv_tls_free(&tls);
		cli_fail("%s", cf_error_message());
		goto out;
	}
	srv_tls_free(&tls);     /* GnuTLS has its own copy of the key */
	srv_warn("serving %s on %s port %u; certificate pin %s",
	    srv->cfg.state_dir, srv->cfg.listen, srv_http_port(srv),
	    srv->pin);
	fflush(stderr);
	for (;;) {
		struct timespec ts = { MAINTENANCE_SECONDS, 0 };

		sig = sigtimedwait(&set, NULL, &ts);
		if (sig < 0) {
			if (errno == EAGAIN)
				maintain(srv, ++round);
			continue;
		}
		if (sig == SIGHUP)
			continue;       /* nothing to reload; not a stop */
		break;
	}
	srv_warn("stopping (signal %d)", sig);
	srv_http_stop(srv);
	rc = 0;
out:
	srv_store_close(srv->store);
	srv_db_close(srv->db);
	free(srv);
	return rc;
}
