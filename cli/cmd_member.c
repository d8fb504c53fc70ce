/*
 * cmd_member.c: `coffre member add|list|remove`.  Public identity strings
 * are checked before the passphrase is asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_WRITE_ONLY = 0x200, OPT_NAME };

struct add_opts {
	const struct cli *c;
	int role;
	const char *name;
};

static int
add_opt(void *arg, int opt, const char *val)
{
	struct add_opts *o = arg;

	switch (opt) {
	case OPT_WRITE_ONLY:
		o->role = CF_ROLE_WRITE_ONLY;
		return 0;
	case OPT_NAME:
		if (strlen(val) > CF_NAME_MAX)
			return cli_usage_error(o->c, "the name is longer than "
			    "%d bytes", CF_NAME_MAX);
		o->name = val;
		return 0;
	default:
		return cli_usage_error(o->c, "unexpected option");
	}
}

/* one_identity(c, argc, argv, first, pk): the single IDENTITY operand. */
static int
one_identity(const struct cli *c, int argc, char **argv, int first,
    uint8_t pk[CF_SIGN_PK_BYTES])
{
	if (first >= argc)
		return cli_usage_error(c, "which identity? give its public "
		    "string (coffre1...), as `coffre id show` prints it");
	if (argc - first > 1)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[first + 1]);
	if (cf_pubid_decode(argv[first], pk) != CF_OK) {
		cli_error("%s", cf_error_message());
		cli_hint("copy the first line that `coffre id show` prints on "
		    "the new member's machine");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int
cmd_member_add(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "write-only", no_argument, NULL, OPT_WRITE_ONLY },
		{ "name", required_argument, NULL, OPT_NAME },
		{ NULL, 0, NULL, 0 },
	};
	struct add_opts o = { c, CF_ROLE_FULL, NULL };
	uint8_t pk[CF_SIGN_PK_BYTES];
	char fp[CF_FINGERPRINT_LEN + 1], pub[CF_PUBID_LEN + 1];
	const char *role;
	struct cli_session s;
	struct json j;
	cf_status st;
	int rc, first;

	if ((rc = cli_parse(c, argc, argv, NULL, longopts, add_opt, &o,
	    &first)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if ((rc = one_identity(c, argc, argv, first, pk)) != 0)
		return rc;
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((st = cf_repo_member_add(s.repo, pk, o.role, o.name)) != CF_OK) {
		rc = cli_fail(st, "adding the member");
		if (st == CF_ERR_INVALID)       /* the identity or name given */
			rc = CLI_EXIT_USAGE;
		goto out;
	}
	cf_pubid_encode(pk, pub);
	cf_pubid_fingerprint(pk, fp);
	role = o.role == CF_ROLE_FULL ? "full" : "write-only";
	if (c->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_str(&j, "public", pub);
		json_key_str(&j, "role", role);
		json_key_str(&j, "name", o.name != NULL ? o.name : "");
		json_key_str(&j, "fingerprint", fp);
		json_object_end(&j);
	} else {
		fputs("added member ", stdout);
		cli_print_escaped(stdout, o.name != NULL ? o.name : pub);
		printf(" (%s) as %s\n", fp, role);
		if (!c->quiet)
			fprintf(stderr, "coffre: check that `coffre id show` "
			    "prints this same fingerprint on the new member's "
			    "machine (read it aloud on the phone, for "
			    "instance)\n");
	}
out:
	cli_session_close(&s);
	return rc;
}

static void
print_json(const struct cf_member *m, size_t n)
{
	char pub[CF_PUBID_LEN + 1], fp[CF_FINGERPRINT_LEN + 1];
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_array_begin(&j);
	for (i = 0; i < n; i++) {
		cf_pubid_encode(m[i].info.member, pub);
		cf_pubid_fingerprint(m[i].info.member, fp);
		json_object_begin(&j);
		json_key_str(&j, "public", pub);
		json_key_str(&j, "role",
		    m[i].info.role == CF_ROLE_FULL ? "full" : "write-only");
		json_key_str(&j, "name", m[i].info.name);
		json_key_str(&j, "fingerprint", fp);
		json_key(&j, "added");
		json_time(&j, m[i].info.added, 0);
		json_key(&j, "verified");
		if (m[i].verified < 0)
			json_null(&j);
		else
			json_bool(&j, m[i].verified);
		json_object_end(&j);
	}
	json_array_end(&j);
}

static void
print_table(const struct cf_member *m, size_t n)
{
	char pub[CF_PUBID_LEN + 1], fp[CF_FINGERPRINT_LEN + 1];
	const char *name;
	size_t i, w, nw = 1;

	for (i = 0; i < n; i++)
		if ((w = cli_width(m[i].info.name)) > nw)
			nw = w;
	for (i = 0; i < n; i++) {
		cf_pubid_encode(m[i].info.member, pub);
		cf_pubid_fingerprint(m[i].info.member, fp);
		printf("%s  %-10s  ", pub, m[i].info.role == CF_ROLE_FULL ?
		    "full" : "write-only");
		name = m[i].info.name[0] != '\0' ? m[i].info.name : "-";
		cli_print_escaped(stdout, name);
		for (w = cli_width(name); w < nw; w++)
			putchar(' ');
		printf("  %s%s\n", fp, m[i].verified == 0 ?
		    "  (unverified)" : "");
	}
}

int
cmd_member_list(struct cli *c, int argc, char **argv)
{
	struct cli_session s;
	struct cf_member *list = NULL;
	size_t n = 0, i, bad = 0;
	cf_status st;
	int rc;

	if ((rc = cli_parse_no_args(c, argc, argv)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((st = cf_repo_members(s.repo, &list, &n)) != CF_OK) {
		rc = cli_fail(st, "listing the members");
		goto out;
	}
	if (c->json) {
		print_json(list, n);
		goto out;
	}
	print_table(list, n);
	for (i = 0; i < n; i++)
		bad += list[i].verified == 0;
	if (bad > 0) {
		cli_warn("%zu member%s marked (unverified) %s not added by a "
		    "full member: whoever stores the repository may have "
		    "added %s", bad, bad == 1 ? "" : "s",
		    bad == 1 ? "was" : "were", bad == 1 ? "it" : "them");
		cli_hint("remove %s with `coffre member remove PUBLIC-ID` "
		    "unless you know why %s there", bad == 1 ? "it" : "them",
		    bad == 1 ? "it is" : "they are");
	}
out:
	free(list);
	cli_session_close(&s);
	return rc;
}

int
cmd_member_remove(struct cli *c, int argc, char **argv)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	char fp[CF_FINGERPRINT_LEN + 1], pub[CF_PUBID_LEN + 1];
	struct cli_session s;
	struct json j;
	cf_status st;
	int rc, first;

	if ((rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, &first))
	    != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if ((rc = one_identity(c, argc, argv, first, pk)) != 0)
		return rc;
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((st = cf_repo_member_remove(s.repo, pk)) != CF_OK) {
		rc = cli_fail(st, "removing the member");
		goto out;
	}
	cf_pubid_encode(pk, pub);
	cf_pubid_fingerprint(pk, fp);
	if (c->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_str(&j, "removed", pub);
		json_object_end(&j);
	} else {
		printf("removed member %s (%s)\n", pub, fp);
	}
out:
	cli_session_close(&s);
	return rc;
}
