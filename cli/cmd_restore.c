/*
 * cmd_restore.c: `coffre restore SNAPSHOT --target DIR [--include PATH]...
 * [--overwrite] [--threads N]`.  The library verifies every blob before writing it and
 * takes the shared lock.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_TARGET = 0x200, OPT_INCLUDE, OPT_OVERWRITE, OPT_THREADS };

struct restore_opts {
	const struct cli *c;
	const char *target;
	char **includes;        /* normalised, malloc'ed */
	size_t nincludes;
	int overwrite;
	int threads;            /* 0: one per CPU */
};

static int
restore_opt(void *arg, int opt, const char *val)
{
	struct restore_opts *o = arg;
	char **v, *abs;
	int rc;

	switch (opt) {
	case OPT_TARGET:
		if (val[0] == '\0')
			return cli_usage_error(o->c, "--target needs a "
			    "directory");
		/* cf_restore_run's limit, checked before the passphrase. */
		if (strlen(val) >= PATH_MAX / 2)
			return cli_usage_error(o->c, "the --target path is "
			    "longer than %d bytes", PATH_MAX / 2 - 1);
		o->target = val;
		return 0;
	case OPT_OVERWRITE:
		o->overwrite = 1;
		return 0;
	case OPT_THREADS:
		if (cli_parse_count(val, &o->threads) != 0 || o->threads > 64)
			return cli_usage_error(o->c, "--threads needs a number "
			    "from 0 (one per processor) to 64");
		return 0;
	case OPT_INCLUDE:
		if ((rc = cli_abspath(val, &abs)) != 0)
			return rc;
		v = realloc(o->includes, (o->nincludes + 1) * sizeof(*v));
		if (v == NULL) {
			free(abs);
			cli_error("out of memory");
			return CLI_EXIT_ERROR;
		}
		o->includes = v;
		o->includes[o->nincludes++] = abs;
		return 0;
	default:
		return cli_usage_error(o->c, "unexpected option");
	}
}

static void
warn(void *arg, const char *path, const char *msg)
{
	progress_warn(arg, path, msg);
}

static void
print_summary(const struct cli *c, const struct cf_restore_stats *st)
{
	struct json j;

	if (c->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_u64(&j, "files", st->files);
		json_key_u64(&j, "dirs", st->dirs);
		json_key_u64(&j, "symlinks", st->symlinks);
		json_key_u64(&j, "bytes", st->bytes);
		json_key(&j, "duration_seconds");
		json_double(&j, st->seconds);
		json_object_end(&j);
		return;
	}
	if (c->quiet)
		return;
	printf("restored %" PRIu64 " files, %" PRIu64 " directories, %"
	    PRIu64 " bytes", st->files, st->dirs, st->bytes);
	if (st->symlinks > 0)
		printf(", %" PRIu64 " symlinks", st->symlinks);
	putchar('\n');
}

/* run(c, o, spec): open, find the snapshot, restore it. */
static int
run(const struct cli *c, const struct restore_opts *o, const char *spec)
{
	struct cf_restore_opts ro;
	struct cf_restore_stats st;
	struct cf_snapshot snap;
	struct cli_session s;
	struct progress *p;
	cf_status rc2;
	int rc;

	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((rc = cli_find_snapshot(&s, spec, &snap)) != 0)
		goto close;
	if ((p = progress_new(c, "restore")) == NULL) {
		cli_error("out of memory");
		rc = CLI_EXIT_ERROR;
		goto free;
	}
	memset(&ro, 0, sizeof(ro));
	ro.target = o->target;
	ro.includes = (const char *const *)o->includes;
	ro.nincludes = o->nincludes;
	ro.overwrite = o->overwrite;
	/* --threads 1 means one thread in all: blobs are written inline. */
	ro.threads = o->threads == 1 ? -1 : o->threads;
	ro.progress = progress_update;
	ro.warn = warn;
	ro.arg = p;
	rc2 = cf_restore_run(s.repo, &snap, &ro, &st);
	progress_free(p);
	if (rc2 == CF_ERR_EXISTS) {
		/* The library's message says what to do. */
		rc = cli_fail(rc2, "restore stopped");
	} else if (rc2 != CF_OK) {
		/* The options were checked above: INVALID is about data. */
		rc = cli_fail(rc2, "restore failed");
	} else {
		print_summary(c, &st);
	}
free:
	cf_snapshot_free(&snap);
close:
	cli_session_close(&s);
	return rc;
}

int
cmd_restore(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "include", required_argument, NULL, OPT_INCLUDE },
		{ "overwrite", no_argument, NULL, OPT_OVERWRITE },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ NULL, 0, NULL, 0 },
	};
	struct restore_opts o;
	size_t i;
	int rc, first;

	memset(&o, 0, sizeof(o));
	o.c = c;
	if ((rc = cli_parse(c, argc, argv, NULL, longopts, restore_opt, &o,
	    &first)) != 0) {
		rc = rc == CLI_DONE ? CLI_EXIT_OK : rc;
		goto out;
	}
	if (first >= argc)
		rc = cli_usage_error(c, "which snapshot? give an id from "
		    "`coffre snapshots`, or \"latest\"");
	else if (argc - first > 1)
		rc = cli_usage_error(c, "unexpected argument '%s'",
		    argv[first + 1]);
	else if (o.target == NULL)
		rc = cli_usage_error(c, "say where to restore with --target "
		    "DIR");
	else if ((rc = cli_snapshot_spec_ok(c, argv[first])) == 0)
		rc = run(c, &o, argv[first]);
out:
	for (i = 0; i < o.nincludes; i++)
		free(o.includes[i]);
	free(o.includes);
	return rc;
}
