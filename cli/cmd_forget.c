/*
 * cmd_forget.c: `coffre forget [--keep-* N]... [--dry-run] [--prune]
 * [SNAPSHOT...]`.  Forgets the snapshots named and, with a policy, every
 * snapshot the policy does not keep.  Deletion runs under the exclusive
 * lock, released before prune takes its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_LAST = 0x200, OPT_HOURLY, OPT_DAILY, OPT_WEEKLY, OPT_MONTHLY,
	OPT_YEARLY, OPT_DRY_RUN, OPT_PRUNE,
};

struct forget_opts {
	const struct cli *c;
	struct cf_retention policy;
	int has_policy, dry_run, prune;
};

static int
forget_opt(void *arg, int opt, const char *val)
{
	struct forget_opts *o = arg;
	int *slot, n;

	switch (opt) {
	case OPT_DRY_RUN:
		o->dry_run = 1;
		return 0;
	case OPT_PRUNE:
		o->prune = 1;
		return 0;
	case OPT_LAST: slot = &o->policy.last; break;
	case OPT_HOURLY: slot = &o->policy.hourly; break;
	case OPT_DAILY: slot = &o->policy.daily; break;
	case OPT_WEEKLY: slot = &o->policy.weekly; break;
	case OPT_MONTHLY: slot = &o->policy.monthly; break;
	case OPT_YEARLY: slot = &o->policy.yearly; break;
	default:
		return cli_usage_error(o->c, "unexpected option");
	}
	if (cli_parse_count(val, &n) != 0 || n == 0)
		return cli_usage_error(o->c, "'%s' is not a count (a whole "
		    "number, 1 or more)", val);
	*slot = n;
	o->has_policy = 1;
	return 0;
}

/* profile_policy(pr, o): take the keep-* lines of the profile. */
static void
profile_policy(const struct cf_profile *pr, struct forget_opts *o)
{
	const struct {
		int from;
		int *to;
	} m[] = {
		{ pr->keep_last, &o->policy.last },
		{ pr->keep_hourly, &o->policy.hourly },
		{ pr->keep_daily, &o->policy.daily },
		{ pr->keep_weekly, &o->policy.weekly },
		{ pr->keep_monthly, &o->policy.monthly },
		{ pr->keep_yearly, &o->policy.yearly },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i].from < 0)
			continue;
		*m[i].to = m[i].from;
		o->has_policy = 1;
	}
}

/* print_line(c, j, verb, s): "keep ID DATE TIME HOST PATHS" or JSON. */
static void
print_line(const struct cli *c, struct json *j, const char *verb,
    const struct cf_snapshot *s)
{
	char id[9], when[32];
	size_t k;

	if (c->json) {
		json_object_begin(j);
		json_key(j, "id");
		json_hex(j, s->id, CF_HASH_BYTES);
		json_key(j, "time");
		json_time(j, s->time_sec, s->time_nsec);
		json_key_str(j, "hostname", s->hostname);
		json_key(j, "paths");
		json_array_begin(j);
		for (k = 0; k < s->npaths; k++)
			json_str(j, s->paths[k]);
		json_array_end(j);
		json_object_end(j);
		return;
	}
	cli_short_id(id, s->id);
	cli_time_local(when, sizeof(when), s->time_sec);
	printf("%s %s %s ", verb, id, when);
	cli_print_escaped(stdout, s->hostname);
	for (k = 0; k < s->npaths; k++) {
		putchar(' ');
		cli_print_escaped(stdout, s->paths[k]);
	}
	putchar('\n');
}

/*
 * mark_named(s, argv, n, list, nl, forget): set forget[i] for each snapshot
 * named on the command line.  0 or an exit code.
 */
static int
mark_named(struct cli_session *s, char **names, int n,
    const struct cf_snapshot *list, size_t nl, int *forget)
{
	struct cf_snapshot snap;
	size_t i;
	int k, rc;

	for (k = 0; k < n; k++) {
		if ((rc = cli_find_snapshot(s, names[k], &snap)) != 0)
			return rc;
		for (i = 0; i < nl; i++)
			if (memcmp(list[i].id, snap.id, CF_HASH_BYTES) == 0)
				forget[i] = 1;
		cf_snapshot_free(&snap);
	}
	return 0;
}

/* forget_marked(c, s, o, list, n, forget): print, then delete. */
static int
forget_marked(const struct cli *c, struct cli_session *s,
    const struct forget_opts *o, const struct cf_snapshot *list, size_t n,
    const int *forget, struct json *j)
{
	uint64_t done = 0, nforget = 0;
	cf_status st;
	size_t i;
	int rc = 0;

	if (c->json) {
		json_key(j, "keep");
		json_array_begin(j);
		for (i = 0; i < n; i++)
			if (!forget[i])
				print_line(c, j, "keep", &list[i]);
		json_array_end(j);
		json_key(j, "forget");
		json_array_begin(j);
	}
	for (i = 0; i < n; i++) {
		nforget += forget[i] != 0;
		if (forget[i] || (o->has_policy && !c->json))
			print_line(c, j, forget[i] ? "forget" : "keep",
			    &list[i]);
	}
	if (c->json)
		json_array_end(j);
	for (i = 0; i < n && !o->dry_run; i++) {
		if (!forget[i])
			continue;
		if ((st = cf_repo_forget_snapshot(s->repo, list[i].id)) !=
		    CF_OK) {
			rc = cli_fail(st, "forgetting a snapshot");
			break;
		}
		done++;
	}
	if (c->json) {
		json_key_u64(j, "forgotten", done);
	} else if (o->dry_run) {
		printf("would forget %" PRIu64 " snapshots\n", nforget);
	} else {
		printf("forgot %" PRIu64 " snapshots\n", done);
	}
	return rc;
}

/* run(c, o, names, nnames): the command once the arguments are checked. */
static int
run(const struct cli *c, const struct forget_opts *o, char **names,
    int nnames)
{
	struct cf_snapshot *list = NULL;
	struct cli_session s;
	struct json j;
	int *keep = NULL, *forget = NULL;
	char error[512];
	size_t n = 0, i;
	cf_status st;
	int rc;

	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((rc = cli_session_lock(&s, 1)) != 0)
		goto out;
	if ((st = cf_repo_snapshots(s.repo, &list, &n)) != CF_OK) {
		rc = cli_fail(st, "listing the snapshots");
		goto out;
	}
	if ((keep = calloc(n + 1, sizeof(*keep))) == NULL ||
	    (forget = calloc(n + 1, sizeof(*forget))) == NULL) {
		cli_error("out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (o->has_policy) {
		cf_retention_apply(&o->policy, list, n, keep);
		for (i = 0; i < n; i++)
			forget[i] = !keep[i];
	}
	if ((rc = mark_named(&s, names, nnames, list, n, forget)) != 0)
		goto out;
	json_init(&j, stdout);
	if (c->json) {
		json_object_begin(&j);
		json_key(&j, "dry_run");
		json_bool(&j, o->dry_run);
	}
	rc = forget_marked(c, &s, o, list, n, forget, &j);
	snprintf(error, sizeof(error), "%s", cf_error_message());
	cli_session_unlock(&s);
	if (o->prune && o->dry_run) {
		/* A dry prune now would not see what forget would free. */
		if (rc == 0 && !c->json)
			fprintf(stderr, "coffre: no prune in a dry run\n");
	} else if (o->prune) {
		if (c->json)
			json_key(&j, "prune");
		if (rc == 0) {
			rc = cli_prune(c, &s, &j, 0);
			snprintf(error, sizeof(error), "%s",
			    cf_error_message());
		}
		if (rc != 0 && c->json)
			json_null(&j);
	}
	/* Close the object even after a failure, saying what went wrong. */
	if (c->json) {
		if (rc != 0) {
			json_key_str(&j, "error",
			    error[0] != '\0' ? error : "failed");
		}
		json_object_end(&j);
	}
out:
	free(keep);
	free(forget);
	if (list != NULL)
		cf_snapshot_list_free(list, n);
	cli_session_close(&s);
	return rc;
}

int
cmd_forget(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep-last", required_argument, NULL, OPT_LAST },
		{ "keep-hourly", required_argument, NULL, OPT_HOURLY },
		{ "keep-daily", required_argument, NULL, OPT_DAILY },
		{ "keep-weekly", required_argument, NULL, OPT_WEEKLY },
		{ "keep-monthly", required_argument, NULL, OPT_MONTHLY },
		{ "keep-yearly", required_argument, NULL, OPT_YEARLY },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ NULL, 0, NULL, 0 },
	};
	struct forget_opts o;
	int rc, first, i;

	memset(&o, 0, sizeof(o));
	o.c = c;
	if ((rc = cli_parse(c, argc, argv, NULL, longopts, forget_opt, &o,
	    &first)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	/* No policy and no snapshot named: the profile's policy, if any. */
	if (first >= argc && !o.has_policy)
		profile_policy(&c->profile, &o);
	if (first >= argc && !o.has_policy)
		return cli_usage_error(c, "nothing to forget: name snapshots, "
		    "or give a policy such as --keep-daily 7 (or keep-daily "
		    "in a profile)");
	for (i = first; i < argc; i++)
		if ((rc = cli_snapshot_spec_ok(c, argv[i])) != 0)
			return rc;
	return run(c, &o, argv + first, argc - first);
}
