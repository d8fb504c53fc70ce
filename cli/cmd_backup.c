/*
 * cmd_backup.c: `coffre backup [--exclude P]... [--tag T]... [--host H]
 * PATH...`.  The paths, tags and host are checked before the passphrase is
 * asked, so a typo costs nothing.  cf_backup_run takes (and refreshes) the
 * shared lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

enum { OPT_EXCLUDE = 0x200, OPT_TAG, OPT_HOST, OPT_THREADS };

/* A growable list of strings (pointers into argv or malloc'ed). */
struct list {
	const char **v;
	size_t n, cap;
};

static int
list_add(struct list *l, const char *s)
{
	const char **nv;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? 2 * l->cap : 8;
		if ((nv = realloc(l->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = s;
	return 0;
}

struct backup_opts {
	const struct cli *c;
	struct list excludes, tags;
	const char *host;
	int threads;    /* 0: one per CPU */
};

static int
backup_opt(void *arg, int opt, const char *val)
{
	struct backup_opts *o = arg;
	struct list *l;

	switch (opt) {
	case OPT_EXCLUDE:
		l = &o->excludes;
		break;
	case OPT_TAG:
		if (val[0] == '\0')
			return cli_usage_error(o->c, "--tag needs a "
			    "non-empty tag");
		if (strlen(val) > CF_SNAPSHOT_STR_MAX)
			return cli_usage_error(o->c, "a tag is longer than %d "
			    "bytes", CF_SNAPSHOT_STR_MAX);
		if (o->tags.n >= CF_SNAPSHOT_TAGS_MAX)
			return cli_usage_error(o->c, "more than %d tags",
			    CF_SNAPSHOT_TAGS_MAX);
		l = &o->tags;
		break;
	case OPT_HOST:
		if (val[0] == '\0')
			return cli_usage_error(o->c, "--host needs a name");
		if (strlen(val) > CF_SNAPSHOT_STR_MAX)
			return cli_usage_error(o->c, "the --host name is "
			    "longer than %d bytes", CF_SNAPSHOT_STR_MAX);
		o->host = val;
		return 0;
	case OPT_THREADS:
		if (cli_parse_count(val, &o->threads) != 0 || o->threads > 64)
			return cli_usage_error(o->c, "--threads needs a number "
			    "from 0 (one per processor) to 64");
		return 0;
	default:
		return cli_usage_error(o->c, "unexpected option");
	}
	if (list_add(l, val) != 0) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	return 0;
}

/* warn(arg, path, msg): a file left out of the backup. */
static void
warn(void *arg, const char *path, const char *msg)
{
	progress_warn(arg, path, msg);
}

/* print_summary(c, st): the four lines, or the JSON object. */
static void
print_summary(const struct cli *c, const struct cf_backup_stats *st)
{
	char id[9], read[32], rate[32], added[32], stored[32];
	struct json j;

	if (c->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "snapshot");
		json_hex(&j, st->snapshot, CF_HASH_BYTES);
		json_key_u64(&j, "files_new", st->files_new);
		json_key_u64(&j, "files_changed", st->files_changed);
		json_key_u64(&j, "files_unchanged", st->files_unchanged);
		json_key_u64(&j, "dirs", st->dirs);
		json_key_u64(&j, "bytes_read", st->bytes_read);
		json_key_u64(&j, "bytes_total", st->bytes_total);
		json_key_u64(&j, "bytes_added", st->bytes_added);
		json_key_u64(&j, "bytes_stored", st->bytes_stored);
		json_key_u64(&j, "errors", st->errors);
		json_key(&j, "duration_seconds");
		json_double(&j, st->seconds);
		json_object_end(&j);
		return;
	}
	if (c->quiet)
		return;
	cli_short_id(id, st->snapshot);
	cli_human(read, sizeof(read), st->bytes_read);
	cli_human(rate, sizeof(rate), st->seconds > 0 ?
	    (uint64_t)((double)st->bytes_read / st->seconds) : 0);
	cli_human(added, sizeof(added), st->bytes_added);
	cli_human(stored, sizeof(stored), st->bytes_stored);
	printf("snapshot %s saved\n", id);
	printf("files: %" PRIu64 " new, %" PRIu64 " changed, %" PRIu64
	    " unchanged; %" PRIu64 " directories\n", st->files_new,
	    st->files_changed, st->files_unchanged, st->dirs);
	printf("read: %s in %.1f s (%s/s)\n", read, st->seconds, rate);
	printf("added: %s (%s stored)\n", added, stored);
}

/*
 * collect_paths(argc, argv, first, paths): the PATH operands made absolute;
 * each must exist.  0 or an exit code.
 */
static int
collect_paths(const struct cli *c, int argc, char **argv, int first,
    struct list *paths)
{
	struct stat sb;
	char *abs;
	int i, rc;

	if (first >= argc)
		return cli_usage_error(c, "nothing to back up: name at least "
		    "one file or directory");
	if (argc - first > CF_SNAPSHOT_PATHS_MAX)
		return cli_usage_error(c, "more than %d paths to back up",
		    CF_SNAPSHOT_PATHS_MAX);
	for (i = first; i < argc; i++) {
		if ((rc = cli_abspath(argv[i], &abs)) != 0)
			return rc;
		if (strlen(abs) > CF_SNAPSHOT_STR_MAX) {
			free(abs);
			return cli_usage_error(c, "%s: the path is longer than "
			    "%d bytes", argv[i], CF_SNAPSHOT_STR_MAX);
		}
		if (list_add(paths, abs) != 0) {
			free(abs);
			cli_error("out of memory");
			return CLI_EXIT_ERROR;
		}
		if (lstat(abs, &sb) != 0) {
			cli_error("%s: %s", argv[i], strerror(errno));
			cli_hint("check the path; nothing was backed up");
			return CLI_EXIT_ERROR;
		}
	}
	return 0;
}

int
cmd_backup(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ NULL, 0, NULL, 0 },
	};
	struct backup_opts o;
	struct list paths = { NULL, 0, 0 };
	struct cf_backup_opts bo;
	struct cf_backup_stats st;
	struct cli_session s;
	struct progress *p = NULL;
	char cache[PATH_MAX];
	cf_status rc2;
	size_t i;
	int rc, first;

	memset(&o, 0, sizeof(o));
	o.c = c;
	if ((rc = cli_parse(c, argc, argv, NULL, longopts, backup_opt, &o,
	    &first)) != 0) {
		rc = rc == CLI_DONE ? CLI_EXIT_OK : rc;
		goto out;
	}
	/* A profile's excludes add to --exclude; its paths are the default. */
	for (i = 0; i < c->profile.nexcludes; i++) {
		if (list_add(&o.excludes, c->profile.excludes[i]) != 0) {
			cli_error("out of memory");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
	}
	if (first >= argc && c->profile.npaths > 0)
		rc = collect_paths(c, (int)c->profile.npaths,
		    c->profile.paths, 0, &paths);
	else
		rc = collect_paths(c, argc, argv, first, &paths);
	if (rc != 0 || (rc = cli_session_open(c, &s, 0)) != 0)
		goto out;
	if ((p = progress_new(c, "backup")) == NULL) {
		cli_error("out of memory");
		rc = CLI_EXIT_ERROR;
		goto close;
	}
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths.v;
	bo.npaths = paths.n;
	bo.excludes = o.excludes.v;
	bo.nexcludes = o.excludes.n;
	bo.tags = o.tags.v;
	bo.ntags = o.tags.n;
	bo.hostname = o.host;
	/* --threads 1 means one thread in all: packing inline. */
	bo.threads = o.threads == 1 ? -1 : o.threads;
	bo.cache_dir = cli_cache_dir(c, cache, sizeof(cache)) == 0 ? cache :
	    NULL;
	bo.scan_first = progress_enabled(p);
	bo.progress = progress_update;
	bo.warn = warn;
	bo.arg = p;
	rc2 = cf_backup_run(s.repo, &bo, &st);
	progress_free(p);
	if (rc2 != CF_OK) {
		/* The options were checked above: INVALID is about data. */
		rc = cli_fail(rc2, "backup failed, no snapshot was saved");
		goto close;
	}
	print_summary(c, &st);
	if (st.errors > 0) {
		cli_warn("%" PRIu64 " file%s or folder%s could not be read "
		    "and %s left out of the snapshot (see the warnings "
		    "above)", st.errors, st.errors == 1 ? "" : "s",
		    st.errors == 1 ? "" : "s", st.errors == 1 ? "was" : "were");
		rc = CLI_EXIT_PARTIAL;
	}
close:
	cli_session_close(&s);
out:
	for (i = 0; i < paths.n; i++)
		free((void *)(uintptr_t)paths.v[i]);
	free(paths.v);
	free(o.excludes.v);
	free(o.tags.v);
	return rc;
}
