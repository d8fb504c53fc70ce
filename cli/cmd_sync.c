/*
 * cmd_sync.c: `coffre sync [--verify]`: copy to each destination what it
 * lacks, from another destination, without decrypting anything (lib/sync.h).
 * A destination given with -r that holds no repository yet is filled: this
 * is how a destination is added.  Exit 0 when every reachable destination is
 * level, 3 when an object has no good copy left anywhere (or two envelopes
 * disagree), 7 when a destination could not be reached.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sync.h"

#define PROBLEMS_MAX 1000

enum { OPT_VERIFY = 0x200 };

struct problem {
	size_t dest;
	char *name, *what;
};

struct sync_cmd {
	const struct cli *c;
	struct cf_backend *be;
	int verify;
	struct progress *p;
	struct problem *problems;       /* JSON: the first PROBLEMS_MAX */
	size_t nproblems;
	uint64_t nreports;
};

static int
sync_opt(void *arg, int opt, const char *val)
{
	struct sync_cmd *k = arg;

	(void)val;
	if (opt != OPT_VERIFY)
		return cli_usage_error(k->c, "unexpected option");
	k->verify = 1;
	return 0;
}

static void
on_report(void *arg, size_t dest, const char *name, const char *what)
{
	struct sync_cmd *k = arg;
	struct cf_dest_status st;
	struct problem *v;

	k->nreports++;
	if (!k->c->json) {
		cf_backend_copy_status(k->be, dest, &st);
		progress_clear(k->p);
		fputs(st.location != NULL ? st.location : "?", stdout);
		fputs(": ", stdout);
		cli_print_escaped(stdout, name);
		fputs(": ", stdout);
		cli_print_escaped(stdout, what);
		putchar('\n');
		fflush(stdout);
		return;
	}
	if (k->nproblems == PROBLEMS_MAX)
		return;
	v = realloc(k->problems, (k->nproblems + 1) * sizeof(*v));
	if (v == NULL)
		return;
	k->problems = v;
	v[k->nproblems].dest = dest;
	v[k->nproblems].name = strdup(name);
	v[k->nproblems].what = strdup(what);
	if (v[k->nproblems].name == NULL || v[k->nproblems].what == NULL) {
		free(v[k->nproblems].name);
		free(v[k->nproblems].what);
		return;
	}
	k->nproblems++;
}

static void
on_progress(void *arg, uint64_t done, uint64_t total, uint64_t bytes)
{
	struct sync_cmd *k = arg;
	struct cf_progress cp = {
		.files_done = done, .files_total = total,
		.bytes_done = bytes, .bytes_total = 0,
	};

	progress_update(k->p, &cp);
}

static void
print_json(const struct sync_cmd *k, const struct cf_sync_stats *st,
    int ok, const char *error)
{
	struct cf_dest_status ds;
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_key(&j, "ok");
	json_bool(&j, ok);
	if (error != NULL)
		json_key_str(&j, "error", error);
	json_key(&j, "verify");
	json_bool(&j, k->verify);
	json_key_u64(&j, "objects", st->objects);
	json_key_u64(&j, "missing", st->missing);
	json_key_u64(&j, "damaged", st->damaged);
	json_key_u64(&j, "copied", st->copied);
	json_key_u64(&j, "copied_bytes", st->copied_bytes);
	json_key_u64(&j, "unrepairable", st->unrepairable);
	json_key_u64(&j, "conflicts", st->conflicts);
	json_key_u64(&j, "failed", st->failed);
	json_key(&j, "destinations");
	json_array_begin(&j);
	for (size_t i = 0; k->be != NULL && i < cf_backend_copies(k->be); i++) {
		cf_backend_copy_status(k->be, i, &ds);
		json_object_begin(&j);
		json_key_str(&j, "location", ds.location);
		json_key(&j, "reachable");
		json_bool(&j, ds.online);
		json_key(&j, "created");
		json_bool(&j, ds.created);
		if (ds.error[0] != '\0')
			json_key_str(&j, "error", ds.error);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "problems");
	json_array_begin(&j);
	for (size_t i = 0; i < k->nproblems; i++) {
		json_object_begin(&j);
		json_key_u64(&j, "destination", k->problems[i].dest);
		json_key_str(&j, "object", k->problems[i].name);
		json_key_str(&j, "problem", k->problems[i].what);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void
print_text(const struct sync_cmd *k, const struct cf_sync_stats *st)
{
	char size[32];

	if (k->c->quiet)
		return;
	cli_human(size, sizeof(size), st->copied_bytes);
	printf("%" PRIu64 " objects compared across %zu destinations: "
	    "%" PRIu64 " copies made (%s)", st->objects,
	    cf_backend_copies(k->be), st->copied, size);
	if (k->verify)
		printf(", %" PRIu64 " damaged copies found", st->damaged);
	printf("\n");
	if (st->unrepairable > 0)
		printf("%" PRIu64 " objects have no good copy left anywhere\n",
		    st->unrepairable);
	if (st->conflicts > 0)
		printf("%" PRIu64 " envelopes differ between destinations\n",
		    st->conflicts);
	if (st->failed > 0)
		printf("%" PRIu64 " copies could not be written\n",
		    st->failed);
}

int
cmd_sync(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ NULL, 0, NULL, 0 },
	};
	struct cf_sync_stats st;
	struct cli_session s;
	struct sync_cmd k;
	cf_status rc2;
	int rc, first, ok;

	memset(&k, 0, sizeof(k));
	memset(&st, 0, sizeof(st));
	k.c = c;
	if ((rc = cli_parse(c, argc, argv, NULL, longopts, sync_opt, &k,
	    &first)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if (first < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[first]);
	if (c->nrepos < 2) {
		cli_error("sync needs the repository's destinations: give -r "
		    "once for each, or a profile that lists them");
		cli_hint("e.g. `coffre sync -r /mnt/nas/coffre -r "
		    "s3://s3.example.org/bucket/cabinet`");
		return CLI_EXIT_USAGE;
	}
	c->open_flags = CF_MULTI_ADOPT_EMPTY;
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((rc = cli_session_lock(&s, 0)) != 0)
		goto out;
	k.be = cf_repo_backend(s.repo);
	if ((k.p = progress_new(c, "sync")) == NULL) {
		cli_error("out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc2 = cf_sync_run(k.be, CF_SYNC_WRITE |
	    (k.verify ? CF_SYNC_VERIFY : 0), cf_repo_config_hash(s.repo),
	    on_report, on_progress, &k, &st);
	progress_free(k.p);
	ok = rc2 == CF_OK && st.unrepairable == 0 && st.conflicts == 0 &&
	    st.failed == 0;
	if (c->json)
		print_json(&k, &st, ok, rc2 == CF_OK ? NULL :
		    cf_error_message());
	else if (rc2 == CF_OK)
		print_text(&k, &st);
	if (rc2 != CF_OK)
		rc = cli_fail(rc2, "sync could not run to its end");
	else if (st.unrepairable > 0 || st.conflicts > 0)
		rc = CLI_EXIT_CORRUPT;
	else if (st.failed > 0)
		rc = CLI_EXIT_ERROR;
out:
	cli_session_close(&s);
	for (size_t i = 0; i < k.nproblems; i++) {
		free(k.problems[i].name);
		free(k.problems[i].what);
	}
	free(k.problems);
	return rc;
}
