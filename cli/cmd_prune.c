/*
 * cmd_prune.c: `coffre prune [--dry-run]`; cf_prune_run takes the
 * exclusive lock itself.  cli_prune is shared with `forget --prune`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum { OPT_DRY_RUN = 0x200 };

struct prune_opts {
	const struct cli *c;
	int dry_run;
};

/* print_stats(c, j, dry_run, st): the summary line or a JSON object. */
static void
print_stats(const struct cli *c, struct json *j, int dry_run,
    const struct cf_prune_stats *st)
{
	if (c->json) {
		json_object_begin(j);
		json_key(j, "dry_run");
		json_bool(j, dry_run);
		json_key_u64(j, "packs_deleted", st->packs_deleted);
		json_key_u64(j, "packs_repacked", st->packs_repacked);
		json_key_u64(j, "bytes_deleted", st->bytes_deleted);
		json_key_u64(j, "blobs_kept", st->blobs_kept);
		json_key_u64(j, "index_files_replaced",
		    st->index_files_replaced);
		json_object_end(j);
		return;
	}
	if (c->quiet)
		return;
	if (dry_run)
		printf("would remove %" PRIu64 " packs (%" PRIu64 " bytes), "
		    "repack %" PRIu64 " packs\n", st->packs_deleted,
		    st->bytes_deleted, st->packs_repacked);
	else
		printf("removed %" PRIu64 " packs (%" PRIu64 " bytes), "
		    "repacked %" PRIu64 " packs\n", st->packs_deleted,
		    st->bytes_deleted, st->packs_repacked);
}

int
cli_prune(const struct cli *c, struct cli_session *s, struct json *j,
    int dry_run)
{
	struct cf_prune_stats st;
	struct cf_backend *be = cf_repo_backend(s->repo);
	struct cf_dest_status ds;
	cf_status rc;

	/*
	 * With a destination away, its copy would keep what the others drop,
	 * and the next sync would copy it all back: prune everywhere or not.
	 */
	for (size_t i = 0; !dry_run && cf_backend_lagging(be) > 0 &&
	    i < cf_backend_copies(be); i++) {
		cf_backend_copy_status(be, i, &ds);
		if (ds.online)
			continue;
		cli_error("destination %s is not reachable (%s): prune runs "
		    "only when every destination is", ds.location, ds.error);
		cli_hint("bring it back and run `coffre sync`, or leave it "
		    "out of -r / the profile if it is retired");
		return CLI_EXIT_ERROR;
	}
	if (!c->quiet && !c->json && !dry_run && isatty(fileno(stderr)))
		fprintf(stderr, "coffre: removing unused data...\n");
	if ((rc = cf_prune_run(s->repo, dry_run, &st)) != CF_OK)
		return cli_fail(rc, "prune failed");
	print_stats(c, j, dry_run, &st);
	return 0;
}

static int
prune_opt(void *arg, int opt, const char *val)
{
	struct prune_opts *o = arg;

	(void)val;
	if (opt != OPT_DRY_RUN)
		return cli_usage_error(o->c, "unexpected option");
	o->dry_run = 1;
	return 0;
}

int
cmd_prune(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	struct prune_opts o = { c, 0 };
	struct cli_session s;
	struct json j;
	int rc, first;

	if ((rc = cli_parse(c, argc, argv, NULL, longopts, prune_opt, &o,
	    &first)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if (first < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[first]);
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	json_init(&j, stdout);
	rc = cli_prune(c, &s, &j, o.dry_run);
	cli_session_close(&s);
	return rc;
}
