/*
 * cmd_check.c: `coffre check [--read-data] [--repair] [--threads N]`.
 * Problems are printed as they are found (text) or collected (JSON, at most
 * PROBLEMS_MAX kept, all counted); any problem means exit 3.  With several
 * destinations, they are compared first (every copy read with --read-data;
 * damaged or missing copies replaced from good ones with --repair), then
 * each is checked on its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sync.h"

#define PROBLEMS_MAX 1000

enum { OPT_READ_DATA = 0x200, OPT_THREADS, OPT_REPAIR };

struct check {
	const struct cli *c;
	int read_data;
	int threads;            /* 0: one per CPU */
	int repair;             /* --repair: mend copies from good ones */
	const char *where;      /* the destination checked, for messages */
	uint64_t repaired;
	struct cli_session *s;
	char msg[512];
	struct progress *p;
	char **problems;        /* JSON: the first PROBLEMS_MAX */
	size_t nproblems;
	uint64_t count;         /* all of them */
	int nomem;
};

static int
check_opt(void *arg, int opt, const char *val)
{
	struct check *k = arg;

	if (opt == OPT_THREADS) {
		if (cli_parse_count(val, &k->threads) != 0 || k->threads > 64)
			return cli_usage_error(k->c, "--threads needs a number "
			    "from 0 (one per processor) to 64");
		return 0;
	}
	if (opt == OPT_REPAIR) {
		k->repair = 1;
		return 0;
	}
	if (opt != OPT_READ_DATA)
		return cli_usage_error(k->c, "unexpected option");
	k->read_data = 1;
	return 0;
}

static void
on_progress(void *arg, const struct cf_progress *cp)
{
	struct check *k = arg;

	progress_update(k->p, cp);
}

static void
on_problem(void *arg, const char *text)
{
	struct check *k = arg;
	char **v, full[1024];
	const char *msg = text;

	if (k->where != NULL) {
		snprintf(full, sizeof(full), "%s: %s", k->where, text);
		msg = full;
	}
	k->count++;
	if (!k->c->json) {
		/* Through the progress line, so that it is not garbled. */
		progress_clear(k->p);
		fputs("error: ", stdout);
		cli_print_escaped(stdout, msg);
		putchar('\n');
		fflush(stdout);
		return;
	}
	if (k->nproblems == PROBLEMS_MAX || k->nomem)
		return;
	v = realloc(k->problems, (k->nproblems + 1) * sizeof(*v));
	if (v == NULL) {
		k->nomem = 1;
		return;
	}
	k->problems = v;
	if ((v[k->nproblems] = strdup(msg)) == NULL) {
		k->nomem = 1;
		return;
	}
	k->nproblems++;
}

/* print_json(k, st, error): the result; ${error} is NULL unless it failed. */
static void
print_json(const struct check *k, const struct cf_check_stats *st,
    const char *error)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_key(&j, "ok");
	json_bool(&j, k->count == 0 && error == NULL);
	if (error != NULL) {
		json_key_str(&j, "error", error);
	}
	json_key(&j, "errors");
	json_array_begin(&j);
	for (i = 0; i < k->nproblems; i++)
		json_str(&j, k->problems[i]);
	json_array_end(&j);
	json_key_u64(&j, "error_count", k->count);
	json_key_u64(&j, "repaired", k->repaired);
	json_key_u64(&j, "snapshots", st->snapshots);
	json_key_u64(&j, "packs", st->packs);
	json_key_u64(&j, "blobs", st->blobs);
	json_key(&j, "read_data");
	json_bool(&j, k->read_data);
	json_object_end(&j);
}

/* on_sync_report: a difference between destinations, as a problem. */
static void
on_sync_report(void *arg, size_t dest, const char *name, const char *what)
{
	struct check *k = arg;
	struct cf_dest_status ds;
	char msg[768];

	/* What --repair mended is told, not counted as left wrong. */
	if (k->repair && (strstr(what, "copied") != NULL ||
	    strstr(what, "replaced") != NULL)) {
		k->repaired++;
		if (!k->c->json && !k->c->quiet) {
			progress_clear(k->p);
			printf("repaired: ");
			cli_print_escaped(stdout, name);
			printf(": %s\n", what);
		}
		return;
	}
	if (k->repair && strncmp(what, "damaged: ", 9) == 0)
		return;         /* found before being replaced: told above */
	cf_backend_copy_status(cf_repo_backend(k->s->repo), dest, &ds);
	snprintf(msg, sizeof(msg), "%s: %s: %s", ds.location, name, what);
	k->where = NULL;
	on_problem(k, msg);
}

/*
 * check_all(k, s, st): check the repository; with several destinations,
 * compare them (reading every copy with --read-data or --repair; mending
 * with --repair), then check each destination on its own.
 */
static cf_status
check_all(struct check *k, struct cli_session *s, struct cf_check_stats *st)
{
	struct cf_backend *be = cf_repo_backend(s->repo);
	struct cf_sync_stats ss;
	struct cf_dest_status ds;
	struct cf_check_stats one;
	size_t n = cf_backend_copies(be);
	/* --threads 1 means one thread in all: the packs are read inline. */
	int threads = k->threads == 1 ? -1 : k->threads;
	cf_status rc;

	if (n < 2)
		return cf_check_run(s->repo, k->read_data, threads, on_problem,
		    on_progress, k, st);
	k->s = s;
	rc = cf_sync_run(be, (k->read_data || k->repair ? CF_SYNC_VERIFY : 0) |
	    (k->repair ? CF_SYNC_WRITE : 0), cf_repo_config_hash(s->repo),
	    on_sync_report, NULL, k, &ss);
	if (rc != CF_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		cf_backend_copy_status(be, i, &ds);
		if (!ds.online) {
			k->where = NULL;
			snprintf(k->msg, sizeof(k->msg), "%s: not reachable: "
			    "%s", ds.location, ds.error);
			on_problem(k, k->msg);
			continue;
		}
		if ((rc = cf_repo_focus(s->repo, i)) != CF_OK)
			return rc;
		k->where = ds.location;
		memset(&one, 0, sizeof(one));
		rc = cf_check_run(s->repo, k->read_data, threads, on_problem,
		    on_progress, k, &one);
		k->where = NULL;
		if (rc != CF_OK) {
			cf_error_prefix("%s: ", ds.location);
			break;
		}
		st->snapshots = one.snapshots;
		st->trees = one.trees;
		st->packs = one.packs;
		st->blobs = one.blobs;
		st->problems += one.problems;
	}
	(void)cf_repo_focus(s->repo, CF_REPO_ALL);
	return rc;
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read-data", no_argument, NULL, OPT_READ_DATA },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "repair", no_argument, NULL, OPT_REPAIR },
		{ NULL, 0, NULL, 0 },
	};
	struct cf_check_stats st;
	struct cli_session s;
	struct check k;
	cf_status rc2;
	size_t i;
	int rc, first;

	memset(&k, 0, sizeof(k));
	memset(&st, 0, sizeof(st));
	k.c = c;
	if ((rc = cli_parse(c, argc, argv, NULL, longopts, check_opt, &k,
	    &first)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if (first < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[first]);
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((k.p = progress_new(c, "check")) == NULL) {
		cli_error("out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (k.repair && cf_backend_copies(cf_repo_backend(s.repo)) < 2) {
		progress_free(k.p);
		rc = cli_usage_error(c, "--repair mends one destination from "
		    "another: give the repository's destinations (-r several "
		    "times, or a profile)");
		goto out;
	}
	rc2 = check_all(&k, &s, &st);
	progress_free(k.p);
	if (rc2 != CF_OK) {
		if (c->json)
			print_json(&k, &st, cf_error_message()[0] != '\0' ?
			    cf_error_message() : cf_strerror(rc2));
		rc = cli_fail(rc2, "the check could not run to its end");
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
		if (k.count > 0)        /* problems were reported */
			rc = CLI_EXIT_CORRUPT;
		goto out;
	}
	if (k.count > st.problems)
		st.problems = k.count;
	if (c->json)
		print_json(&k, &st, NULL);
	else if (k.count == 0 && k.repaired > 0)
		printf("%" PRIu64 " damaged or missing cop%s repaired; no errors "
		    "left\n", k.repaired, k.repaired == 1 ? "y" : "ies");
	else if (k.count == 0)
		printf("no errors found\n");
	else
		printf("%" PRIu64 " error%s found\n", k.count,
		    k.count == 1 ? "" : "s");
	if (k.count > 0) {
		rc = CLI_EXIT_CORRUPT;
		if (!c->json)
			cli_hint("change nothing in the repository (no "
			    "forget or prune) and tell the person who looks "
			    "after your backups");
	}
out:
	for (i = 0; i < k.nproblems; i++)
		free(k.problems[i]);
	free(k.problems);
	cli_session_close(&s);
	return rc;
}
