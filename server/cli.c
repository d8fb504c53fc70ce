/*
 * cli.c: coffred's operator commands: certificates, tenants, identities and
 * the access log.  Each opens what it needs, does one thing, says what was
 * done and what to do next.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "identity.h"
#include "store.h"
#include "tls.h"

/* ---------------------------------------------------------------- TLS */

int
cmd_cert(struct cli *cl)
{
	const char *cert = cl->cert != NULL ? cl->cert : cl->cfg.cert_file;
	const char *key = cl->key != NULL ? cl->key : cl->cfg.key_file;
	const char *names[CLI_MAX_NAMES + 4];
	char host[256] = "";
	char pin[SRV_PIN_LEN + 1];
	size_t n = 0;
	unsigned long days = 825;

	if (cert[0] == '\0' || key[0] == '\0')
		return cli_fail("where should the certificate and key go? "
		    "Pass --cert FILE and --key FILE (or set cert_file and "
		    "key_file in the configuration)");
	if (cl->days != NULL) {
		char *end;
		errno = 0;
		days = strtoul(cl->days, &end, 10);
		if (errno != 0 || *end != '\0' || days < 1 || days > 36500 ||
		    cl->days[0] < '0' || cl->days[0] > '9')
			return cli_fail("--days must be 1 to 36500");
	}
	for (int i = 0; i < cl->nnames; i++)
		names[n++] = cl->names[i];
	if (n == 0) {
		if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0')
			names[n++] = host;
		names[n++] = "localhost";
		names[n++] = "127.0.0.1";
		names[n++] = "::1";
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		if (len == 0 || len > 253 || strspn(names[i],
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-:*") != len)
			return cli_fail("--name %s: not a host name or IP "
			    "address", names[i]);
	}
	if (srv_tls_self_signed(cert, key, names, n, (unsigned)days, pin) !=
	    CF_OK)
		return cli_fail("%s", cf_error_message());
	if (cl->json) {
		printf("{\"certificate\":");
		json_string(stdout, cert);
		printf(",\"key\":");
		json_string(stdout, key);
		printf(",\"pin\":");
		json_string(stdout, pin);
		printf(",\"days\":%lu}\n", days);
		return 0;
	}
	printf("created a self-signed certificate %s (valid %lu days) and its "
	    "key %s (0600)\n", cert, days, key);
	printf("pin: %s\n", pin);
	printf("Clients use https://HOST:PORT/TENANT?pin=%s\n", pin);
	return 0;
}

int
cmd_fingerprint(struct cli *cl)
{
	const char *cert = cl->cert != NULL ? cl->cert : cl->cfg.cert_file;
	char pin[SRV_PIN_LEN + 1];

	if (cert[0] == '\0')
		return cli_fail("which certificate? Pass --cert FILE or set "
		    "cert_file in the configuration");
	if (srv_tls_pin_file(cert, pin) != CF_OK)
		return cli_fail("%s", cf_error_message());
	if (cl->json) {
		printf("{\"certificate\":");
		json_string(stdout, cert);
		printf(",\"pin\":");
		json_string(stdout, pin);
		printf("}\n");
	} else {
		printf("%s\n", pin);
	}
	return 0;
}

/* ------------------------------------------------------------ tenants */

static int
open_db(struct cli *cl, struct srv_db **db)
{
	int rc;

	if ((rc = cli_state_prepare(cl)) != 0)
		return rc;
	if (srv_db_open(cl->cfg.state_dir, 0, db) != CF_OK)
		return cli_fail("%s", cf_error_message());
	return 0;
}

static void
print_size(FILE *f, uint64_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		fprintf(f, "%" PRIu64 " B", n);
	else
		fprintf(f, "%.1f %s", v, unit[u]);
}

int
cmd_tenant_add(struct cli *cl)
{
	const char *name = cl->args[0];
	struct srv_store *st = NULL;
	struct srv_db *db = NULL;
	uint64_t quota = 0;
	int rc;

	if (!srv_tenant_ok(name, strlen(name)))
		return cli_fail("%s: a tenant name is 1 to 32 of a-z 0-9 -, "
		    "not starting with -", name);
	if (cl->quota != NULL && cli_parse_size(cl->quota, &quota) != 0)
		return cli_fail("--quota %s: bytes, with an optional K, M, G "
		    "or T suffix (0: none)", cl->quota);
	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (srv_store_open(cl->cfg.state_dir, &st) != CF_OK) {
		rc = cli_fail("%s", cf_error_message());
		goto out;
	}
	if (srv_db_tenant_add(db, name, quota) != CF_OK) {
		rc = cli_fail("%s", cf_error_message());
		goto out;
	}
	if (srv_store_tenant_create(st, name, cl->adopt) != CF_OK) {
		rc = cli_fail("%s", cf_error_message());
		srv_db_tenant_remove(db, name);
		goto out;
	}
	if (cl->json) {
		printf("{\"tenant\":");
		json_string(stdout, name);
		printf(",\"quota\":%" PRIu64 "}\n", quota);
	} else {
		printf("added tenant %s (quota: ", name);
		if (quota == 0)
			printf("none");
		else
			print_size(stdout, quota);
		printf(")\nNext: register its identities, e.g.\n"
		    "  coffred identity add %s coffre1... --rights append   "
		    "(the practice's backup machine)\n"
		    "  coffred identity add %s coffre1... --rights admin    "
		    "(the person who prunes)\n", name, name);
		if (cl->adopt)
			printf("The objects already in its directory count "
			    "towards its usage once the server restarts.\n");
	}
	rc = 0;
out:
	srv_store_close(st);
	srv_db_close(db);
	return rc;
}

struct list_ctx {
	struct cli *cl;
	int n;
};

static cf_status
print_tenant(void *arg, const struct srv_tenant *t)
{
	struct list_ctx *lc = arg;
	char when[64];

	fmt_time(when, sizeof(when), t->created);
	if (lc->cl->json) {
		printf("%s\n  {\"tenant\":", lc->n > 0 ? "," : "");
		json_string(stdout, t->name);
		printf(",\"quota\":%" PRIu64 ",\"used\":%" PRIu64
		    ",\"identities\":%" PRIu64 ",\"created\":", t->quota,
		    t->used, t->identities);
		json_time(stdout, t->created);
		printf("}");
	} else {
		if (lc->n == 0)
			printf("%-32s %12s %12s %10s  %s\n", "TENANT", "QUOTA",
			    "USED", "IDENTITIES", "CREATED");
		printf("%-32s %12" PRIu64 " %12" PRIu64 " %10" PRIu64 "  %s\n",
		    t->name, t->quota, t->used, t->identities, when);
	}
	lc->n++;
	return CF_OK;
}

int
cmd_tenant_list(struct cli *cl)
{
	struct list_ctx lc = { cl, 0 };
	struct srv_db *db;
	int rc;

	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (cl->json)
		printf("[");
	if (srv_db_tenant_list(db, print_tenant, &lc) != CF_OK) {
		if (cl->json)
			printf("]\n");
		rc = cli_fail("%s", cf_error_message());
	} else if (cl->json) {
		printf("%s]\n", lc.n > 0 ? "\n" : "");
	} else if (lc.n == 0) {
		printf("no tenant yet: coffred tenant add NAME\n");
	}
	srv_db_close(db);
	return rc;
}

int
cmd_tenant_quota(struct cli *cl)
{
	struct srv_db *db;
	uint64_t quota;
	int rc;

	if (cli_parse_size(cl->args[1], &quota) != 0)
		return cli_fail("%s: bytes, with an optional K, M, G or T "
		    "suffix (0: none)", cl->args[1]);
	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (srv_db_tenant_set_quota(db, cl->args[0], quota) != CF_OK)
		rc = cli_fail("%s", cf_error_message());
	else if (!cl->json)
		printf("quota of tenant %s set to %" PRIu64 " bytes%s\n",
		    cl->args[0], quota, quota == 0 ? " (none)" : "");
	srv_db_close(db);
	return rc;
}

int
cmd_tenant_remove(struct cli *cl)
{
	struct srv_tenant t;
	struct srv_db *db;
	int rc;

	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (srv_db_tenant_get(db, cl->args[0], &t) != CF_OK ||
	    srv_db_tenant_remove(db, cl->args[0]) != CF_OK) {
		rc = cli_fail("%s", cf_error_message());
	} else if (!cl->json) {
		printf("removed tenant %s and its identities: they can no "
		    "longer connect.\nIts objects are kept in %s/tenants/%s; "
		    "delete that directory once you no longer need them (or "
		    "add the tenant again with --adopt).\n", t.name,
		    cl->cfg.state_dir, t.name);
	}
	srv_db_close(db);
	return rc;
}

/* --------------------------------------------------------- identities */

static int
parse_pubid(const char *s, uint8_t pk[CF_SIGN_PK_BYTES])
{
	if (cf_pubid_decode(s, pk) != CF_OK)
		return cli_fail("%s (a public identity is the coffre1... "
		    "string `coffre id show` prints)", cf_error_message());
	return 0;
}

int
cmd_identity_add(struct cli *cl)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	char fpr[CF_FINGERPRINT_LEN + 1], pubid[CF_PUBID_LEN + 1];
	enum srv_right right;
	struct srv_db *db;
	int rc;

	if (cl->rights == NULL)
		return cli_fail("which rights? --rights append (backups: add, "
		    "never delete), read (restores only) or admin (also "
		    "deletes: prune)");
	if (srv_right_parse(cl->rights, &right) != CF_OK)
		return cli_fail("--rights %s: %s", cl->rights,
		    cf_error_message());
	if (cl->label != NULL && !srv_label_ok(cl->label))
		return cli_fail("--label: at most %d printable ASCII "
		    "characters", SRV_LABEL_MAX);
	if ((rc = parse_pubid(cl->args[1], pk)) != 0)
		return rc;
	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (srv_db_identity_add(db, cl->args[0], pk, right, cl->label) !=
	    CF_OK) {
		rc = cli_fail("%s", cf_error_message());
		goto out;
	}
	cf_pubid_encode(pk, pubid);
	cf_pubid_fingerprint(pk, fpr);
	if (cl->json) {
		printf("{\"tenant\":");
		json_string(stdout, cl->args[0]);
		printf(",\"identity\":\"%s\",\"fingerprint\":\"%s\","
		    "\"rights\":\"%s\"}\n", pubid, fpr, srv_right_name(right));
	} else {
		printf("registered %s for tenant %s with right %s\n"
		    "fingerprint: %s\n"
		    "Check this fingerprint with its owner (`coffre id show` "
		    "on their side) by telephone or in person.\n", pubid,
		    cl->args[0], srv_right_name(right), fpr);
	}
out:
	srv_db_close(db);
	return rc;
}

static cf_status
print_ident(void *arg, const struct srv_ident *id)
{
	struct list_ctx *lc = arg;
	char pubid[CF_PUBID_LEN + 1], fpr[CF_FINGERPRINT_LEN + 1];
	char when[64];

	cf_pubid_encode(id->pk, pubid);
	cf_pubid_fingerprint(id->pk, fpr);
	fmt_time(when, sizeof(when), id->added);
	if (lc->cl->json) {
		printf("%s\n  {\"identity\":\"%s\",\"fingerprint\":\"%s\","
		    "\"rights\":\"%s\",\"label\":", lc->n > 0 ? "," : "",
		    pubid, fpr, srv_right_name(id->right));
		json_string(stdout, id->label);
		printf(",\"added\":");
		json_time(stdout, id->added);
		printf("}");
	} else {
		printf("%s  %-6s  %s  %s\n  fingerprint %s\n", pubid,
		    srv_right_name(id->right), when, id->label, fpr);
	}
	lc->n++;
	return CF_OK;
}

int
cmd_identity_list(struct cli *cl)
{
	struct list_ctx lc = { cl, 0 };
	struct srv_db *db;
	int rc;

	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (cl->json)
		printf("[");
	if (srv_db_identity_list(db, cl->args[0], print_ident, &lc) != CF_OK) {
		if (cl->json)
			printf("]\n");
		rc = cli_fail("%s", cf_error_message());
	} else if (cl->json) {
		printf("%s]\n", lc.n > 0 ? "\n" : "");
	} else if (lc.n == 0) {
		printf("tenant %s has no identity yet: coffred identity add "
		    "%s PUBID --rights append\n", cl->args[0], cl->args[0]);
	}
	srv_db_close(db);
	return rc;
}

int
cmd_identity_remove(struct cli *cl)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	struct srv_db *db;
	int rc;

	if ((rc = parse_pubid(cl->args[1], pk)) != 0)
		return rc;
	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	if (srv_db_identity_remove(db, cl->args[0], pk) != CF_OK)
		rc = cli_fail("%s", cf_error_message());
	else if (!cl->json)
		printf("removed the identity from tenant %s: its requests are "
		    "refused from now on\n", cl->args[0]);
	srv_db_close(db);
	return rc;
}

/* ---------------------------------------------------------------- log */

/*
 * parse_since(s, now, out): "@SECONDS", "YYYY-MM-DD" (UTC midnight),
 * "YYYY-MM-DDTHH:MM:SSZ", or a span back from now: "N" + s, m, h or d.
 */
static int
parse_since(const char *s, int64_t now, int64_t *out)
{
	size_t n = strlen(s);
	uint64_t v = 0;

	if (n >= 2 && s[0] == '@') {
		if (cli_parse_size(s + 1, &v) != 0 || strpbrk(s, "KMGT"))
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	if (n == 10 || n == 20) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, n == 10 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ",
		    &tm);
		if (end == NULL || *end != '\0')
			return -1;
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	if (n >= 2) {
		int64_t mul;
		char num[24];

		switch (s[n - 1]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		if (n - 1 >= sizeof(num))
			return -1;
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (cli_parse_size(num, &v) != 0 || strpbrk(num, "KMGT") ||
		    v > (uint64_t)INT64_MAX / 86400)
			return -1;
		*out = now - (int64_t)v * mul;
		return 0;
	}
	return -1;
}

static cf_status
print_log(void *arg, const struct srv_log_entry *e)
{
	struct list_ctx *lc = arg;
	char pubid[CF_PUBID_LEN + 1] = "-", when[64];

	if (e->has_pk)
		cf_pubid_encode(e->pk, pubid);
	fmt_time(when, sizeof(when), e->time);
	if (lc->cl->json) {
		printf("%s\n  {\"time\":\"%s\",\"unix\":%" PRId64 ",\"tenant\":",
		    lc->n > 0 ? "," : "", when, e->time);
		json_string(stdout, e->tenant);
		printf(",\"identity\":");
		if (e->has_pk)
			printf("\"%s\"", pubid);
		else
			printf("null");
		printf(",\"action\":");
		json_string(stdout, e->action);
		printf(",\"object\":");
		json_string(stdout, e->object);
		printf(",\"bytes\":%" PRIu64 ",\"status\":%u,\"address\":",
		    e->bytes, e->status);
		json_string(stdout, e->addr);
		printf("}");
	} else {
		printf("%s  %-6s %3u %10" PRIu64 "  %-72s  %s  %s\n", when,
		    e->action, e->status, e->bytes, e->object[0] != '\0' ?
		    e->object : "-", pubid, e->addr[0] != '\0' ? e->addr : "-");
	}
	lc->n++;
	return CF_OK;
}

int
cmd_log(struct cli *cl)
{
	struct list_ctx lc = { cl, 0 };
	struct srv_tenant t;
	struct srv_db *db;
	int64_t since = 0;
	uint64_t limit = 0;
	int rc;

	if (!srv_tenant_ok(cl->args[0], strlen(cl->args[0])))
		return cli_fail("%s: not a tenant name", cl->args[0]);
	if (cl->since != NULL && parse_since(cl->since, (int64_t)time(NULL),
	    &since) != 0)
		return cli_fail("--since %s: give a date (2024-05-31 or "
		    "2024-05-31T08:00:00Z, UTC), a span back from now (30m, "
		    "24h, 7d) or @SECONDS", cl->since);
	if (cl->limit != NULL && (cli_parse_size(cl->limit, &limit) != 0 ||
	    strpbrk(cl->limit, "KMGT") || limit == 0))
		return cli_fail("--limit must be a positive number");
	if ((rc = open_db(cl, &db)) != 0)
		return rc;
	/* A removed tenant's log is still there: only warn. */
	if (srv_db_tenant_get(db, cl->args[0], &t) != CF_OK)
		fprintf(stderr, "coffred: note: %s\n", cf_error_message());
	if (cl->json)
		printf("[");
	if (srv_db_log_list(db, cl->args[0], since, limit, print_log, &lc) !=
	    CF_OK) {
		if (cl->json)
			printf("]\n");
		rc = cli_fail("%s", cf_error_message());
	} else if (cl->json) {
		printf("%s]\n", lc.n > 0 ? "\n" : "");
	} else if (lc.n == 0) {
		printf("no access recorded for %s%s\n", cl->args[0],
		    cl->since != NULL ? " in that period" : "");
	}
	srv_db_close(db);
	return rc;
}
