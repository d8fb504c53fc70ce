/*
 * main.c: coffred's command line: parse, load the configuration, dispatch.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "cli.h"
#include "crypto.h"

static const char usage_text[] =
"usage: coffred [--config FILE] [--state DIR] [--json] COMMAND ...\n"
"\n"
"Serving:\n"
"  coffred serve [--listen ADDRESS] [--port N]\n"
"  coffred cert [--cert FILE] [--key FILE] [--name HOST]... [--days N]\n"
"                                  (also: coffred --self-signed)\n"
"  coffred fingerprint [--cert FILE]\n"
"Tenants (a practice) and their identities:\n"
"  coffred tenant add NAME [--quota BYTES] [--adopt]\n"
"  coffred tenant list\n"
"  coffred tenant quota NAME BYTES          (0: no quota)\n"
"  coffred tenant remove NAME\n"
"  coffred identity add TENANT PUBID --rights append|read|admin "
"[--label TEXT]\n"
"  coffred identity list TENANT\n"
"  coffred identity remove TENANT PUBID\n"
"Access log:\n"
"  coffred log TENANT [--since WHEN] [--limit N]\n"
"\n"
"The configuration is read from " SRV_CONFIG_DEFAULT_PATH " when it\n"
"exists (or --config FILE); see coffred(8) and docs/server.md.\n";

int
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("coffred: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("coffred: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(coffred --help for the commands)\n", stderr);
	return EXIT_USAGE;
}

int
cli_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t n = strlen(s);

	if (n > 0) {
		switch (s[n - 1]) {
		case 'K': mul = UINT64_C(1) << 10; n--; break;
		case 'M': mul = UINT64_C(1) << 20; n--; break;
		case 'G': mul = UINT64_C(1) << 30; n--; break;
		case 'T': mul = UINT64_C(1) << 40; n--; break;
		default: break;
		}
	}
	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (UINT64_C(1) << 62) / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int
cli_state_prepare(const struct cli *cl)
{
	const char *dir = cl->cfg.state_dir;
	struct stat st;

	if (dir[0] == '\0')
		return cli_fail("no state directory: set state_dir in the "
		    "configuration or pass --state DIR");
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT)
			return cli_fail("cannot examine %s: %s", dir,
			    strerror(errno));
		if (mkdir(dir, 0700) != 0)
			return cli_fail("cannot create the state directory "
			    "%s: %s", dir, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return cli_fail("%s is not a directory", dir);
	if (st.st_uid != geteuid())
		return cli_fail("the state directory %s belongs to user id %u, "
		    "not to you: run coffred as that user (for instance "
		    "`sudo -u coffred coffred ...`), so that the server can "
		    "still read what you change", dir, (unsigned)st.st_uid);
	return 0;
}

/* Options, each with whether it takes a value. */
static const struct opt {
	const char *name;
	int value;
	size_t off;
} opts[] = {
#define O(n, f) { n, 1, offsetof(struct cli, f) }
	O("--quota", quota), O("--rights", rights), O("--label", label),
	O("--since", since), O("--limit", limit), O("--cert", cert),
	O("--key", key), O("--listen", listen), O("--port", port),
	O("--days", days),
#undef O
};

static int
parse_args(struct cli *cl, int argc, char **argv, const char **words,
    int *nwords)
{
	*nwords = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int found = 0;

		if (strcmp(a, "--config") == 0 || strcmp(a, "--state") == 0 ||
		    strcmp(a, "--name") == 0) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			if (a[2] == 'c')
				cl->config_path = argv[++i];
			else if (a[2] == 's')
				cl->state = argv[++i];
			else if (cl->nnames >= CLI_MAX_NAMES)
				return usage_error("too many --name");
			else
				cl->names[cl->nnames++] = argv[++i];
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			cl->json = 1;
			continue;
		}
		if (strcmp(a, "--adopt") == 0) {
			cl->adopt = 1;
			continue;
		}
		if (strcmp(a, "--self-signed") == 0) {
			if (*nwords >= 4)
				return usage_error("too many arguments");
			words[(*nwords)++] = "cert";
			continue;
		}
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			const char **slot;
			if (strcmp(a, opts[k].name) != 0)
				continue;
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			slot = (const char **)(void *)((char *)cl +
			    opts[k].off);
			if (*slot != NULL)
				return usage_error("%s given twice", a);
			*slot = argv[++i];
			found = 1;
			break;
		}
		if (found)
			continue;
		if (a[0] == '-' && a[1] != '\0')
			return usage_error("unknown option %s", a);
		if (*nwords < 2 + CLI_MAX_ARGS)
			words[(*nwords)++] = a;
		else
			return usage_error("too many arguments");
	}
	return 0;
}

static const struct command {
	const char *w1, *w2;
	int (*fn)(struct cli *);
	int nargs;
	const char *allowed;    /* options it takes, space-separated */
} commands[] = {
	{ "serve", NULL, cmd_serve, 0, "--listen --port" },
	{ "cert", NULL, cmd_cert, 0, "--cert --key --name --days" },
	{ "fingerprint", NULL, cmd_fingerprint, 0, "--cert" },
	{ "tenant", "add", cmd_tenant_add, 1, "--quota --adopt" },
	{ "tenant", "list", cmd_tenant_list, 0, "" },
	{ "tenant", "quota", cmd_tenant_quota, 2, "" },
	{ "tenant", "remove", cmd_tenant_remove, 1, "" },
	{ "identity", "add", cmd_identity_add, 2, "--rights --label" },
	{ "identity", "list", cmd_identity_list, 1, "" },
	{ "identity", "remove", cmd_identity_remove, 2, "" },
	{ "log", NULL, cmd_log, 1, "--since --limit" },
};

/* The options given that ${c} does not take, as an error. */
static int
check_options(const struct cli *cl, const struct command *c)
{
	struct { const char *name; int given; } given[] = {
		{ "--quota", cl->quota != NULL },
		{ "--rights", cl->rights != NULL },
		{ "--label", cl->label != NULL },
		{ "--since", cl->since != NULL },
		{ "--limit", cl->limit != NULL },
		{ "--cert", cl->cert != NULL },
		{ "--key", cl->key != NULL },
		{ "--listen", cl->listen != NULL },
		{ "--port", cl->port != NULL },
		{ "--days", cl->days != NULL },
		{ "--name", cl->nnames > 0 },
		{ "--adopt", cl->adopt },
	};

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		const char *p;
		size_t n = strlen(given[i].name);
		int ok = 0;

		if (!given[i].given)
			continue;
		for (p = strstr(c->allowed, given[i].name); p != NULL;
		    p = strstr(p + 1, given[i].name))
			if (p[n] == ' ' || p[n] == '\0')
				ok = 1;
		if (!ok)
			return usage_error("%s does not apply to `coffred %s%s"
			    "%s`", given[i].name, c->w1, c->w2 ? " " : "",
			    c->w2 ? c->w2 : "");
	}
	return 0;
}

static int
load_config(struct cli *cl)
{
	const char *path = cl->config_path != NULL ? cl->config_path :
	    SRV_CONFIG_DEFAULT_PATH;
	cf_status rc;

	srv_config_defaults(&cl->cfg);
	rc = srv_config_load(&cl->cfg, path);
	if (rc == CF_ERR_NOTFOUND && cl->config_path == NULL)
		cf_error_clear();
	else if (rc != CF_OK)
		return cli_fail("%s", cf_error_message());
	if (cl->state != NULL) {
		if (strlen(cl->state) >= sizeof(cl->cfg.state_dir))
			return cli_fail("--state: path too long");
		snprintf(cl->cfg.state_dir, sizeof(cl->cfg.state_dir), "%s",
		    cl->state);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *words[2 + CLI_MAX_ARGS];
	struct cli cl;
	int nwords, rc;

	memset(&cl, 0, sizeof(cl));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "version") == 0) {
			printf("coffred %s (protocol v1)\n", COFFRED_VERSION);
			return 0;
		}
	}
	if ((rc = parse_args(&cl, argc, argv, words, &nwords)) != 0)
		return rc;
	if (nwords == 0) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cf_crypto_init() != CF_OK)
		return cli_fail("%s", cf_error_message());
	if (gnutls_global_init() < 0)
		return cli_fail("cannot initialise GnuTLS");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		int skip = c->w2 != NULL ? 2 : 1;

		if (strcmp(words[0], c->w1) != 0)
			continue;
		if (c->w2 != NULL && (nwords < 2 ||
		    strcmp(words[1], c->w2) != 0))
			continue;
		if (nwords - skip != c->nargs)
			return usage_error("`coffred %s%s%s` takes %d "
			    "argument%s", c->w1, c->w2 ? " " : "",
			    c->w2 ? c->w2 : "", c->nargs,
			    c->nargs == 1 ? "" : "s");
		if ((rc = check_options(&cl, c)) != 0)
			return rc;
		for (int k = skip; k < nwords; k++)
			cl.args[cl.nargs++] = words[k];
		if ((rc = load_config(&cl)) != 0)
			return rc;
		rc = c->fn(&cl);
		gnutls_global_deinit();
		return rc;
	}
	if (strcmp(words[0], "tenant") == 0 || strcmp(words[0], "identity") ==
	    0)
		return usage_error("`coffred %s` needs a subcommand: %s",
		    words[0], strcmp(words[0], "tenant") == 0 ?
		    "add, list, quota or remove" : "add, list or remove");
	return usage_error("unknown command %s", words[0]);
}
