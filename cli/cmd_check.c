/*
 * cmd_check.c: `coffre check [--read-data]`.  Problems are printed as they
 * are found (text) or collected (JSON, at most PROBLEMS_MAX kept, all
 * counted); any problem means exit 3.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PROBLEMS_MAX 1000

enum { OPT_READ_DATA = 0x200 };

struct check {
	const struct cli *c;
	int read_data;
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

	(void)val;
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
on_problem(void *arg, const char *msg)
{
	struct check *k = arg;
	char **v;

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
	json_key_u64(&j, "snapshots", st->snapshots);
	json_key_u64(&j, "packs", st->packs);
	json_key_u64(&j, "blobs", st->blobs);
	json_key(&j, "read_data");
	json_bool(&j, k->read_data);
	json_object_end(&j);
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read-data", no_argument, NULL, OPT_READ_DATA },
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
	rc2 = cf_check_run(s.repo, k.read_data, on_problem, on_progress, &k,
	    &st);
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
