/*
 * cmd_snapshots.c: `coffre snapshots`: a table, oldest first, or a JSON
 * array.  The author is shown by member name; an author whose envelope is
 * gone (or does not verify) is shown as "(not a member)".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Who wrote a snapshot, looked up once per distinct author. */
struct author {
	uint8_t pk[CF_SIGN_PK_BYTES];
	int member;
	char label[CF_NAME_MAX + 32];   /* for the table */
	char name[CF_NAME_MAX + 1];     /* member name, "" if none */
};

/* author_of(r, a, na, pk): the entry for ${pk}, added to ${a} if new. */
static const struct author *
author_of(struct cf_repo *r, struct author *a, size_t *na,
    const uint8_t pk[CF_SIGN_PK_BYTES])
{
	struct cf_envelope_info info;
	char pub[CF_PUBID_LEN + 1];
	struct author *x;
	size_t i;

	for (i = 0; i < *na; i++)
		if (memcmp(a[i].pk, pk, CF_SIGN_PK_BYTES) == 0)
			return &a[i];
	x = &a[(*na)++];
	memcpy(x->pk, pk, CF_SIGN_PK_BYTES);
	x->member = cf_repo_is_member(r, pk, &info);
	x->name[0] = '\0';
	cf_pubid_encode(pk, pub);
	if (x->member && info.name[0] != '\0') {
		memcpy(x->name, info.name, sizeof(x->name));
		snprintf(x->label, sizeof(x->label), "%s", info.name);
	} else {
		/* 8 characters after "coffre1" tell identities apart. */
		snprintf(x->label, sizeof(x->label), "%.8s%s", pub + 7,
		    x->member ? "" : " (not a member)");
	}
	return x;
}

static void
print_json(const struct cf_snapshot *l, size_t n, const struct author **au)
{
	char pub[CF_PUBID_LEN + 1];
	struct json j;
	size_t i, k;

	json_init(&j, stdout);
	json_array_begin(&j);
	for (i = 0; i < n; i++) {
		json_object_begin(&j);
		json_key(&j, "id");
		json_hex(&j, l[i].id, CF_HASH_BYTES);
		json_key(&j, "time");
		json_time(&j, l[i].time_sec, l[i].time_nsec);
		json_key_str(&j, "hostname", l[i].hostname);
		json_key_str(&j, "username", l[i].username);
		json_key(&j, "paths");
		json_array_begin(&j);
		for (k = 0; k < l[i].npaths; k++)
			json_str(&j, l[i].paths[k]);
		json_array_end(&j);
		json_key(&j, "tags");
		json_array_begin(&j);
		for (k = 0; k < l[i].ntags; k++)
			json_str(&j, l[i].tags[k]);
		json_array_end(&j);
		json_key(&j, "tree");
		json_hex(&j, l[i].tree, CF_HASH_BYTES);
		cf_pubid_encode(l[i].author, pub);
		json_key_str(&j, "author", pub);
		json_key_str(&j, "author_name", au[i]->name);
		json_key(&j, "author_member");
		json_bool(&j, au[i]->member);
		json_key_u64(&j, "files", l[i].files);
		json_key_u64(&j, "dirs", l[i].dirs);
		json_key_u64(&j, "bytes", l[i].bytes);
		json_object_end(&j);
	}
	json_array_end(&j);
}

/* pad(f, s, w): ${s} escaped, then spaces up to ${w} columns and two. */
static void
pad(FILE *f, const char *s, size_t w)
{
	size_t n = cli_width(s);

	cli_print_escaped(f, s);
	for (; n < w + 2; n++)
		fputc(' ', f);
}

static void
print_table(const struct cf_snapshot *l, size_t n, const struct author **au)
{
	char id[9], when[32];
	size_t i, k, hw = 4, aw = 6;

	for (i = 0; i < n; i++) {
		if (cli_width(l[i].hostname) > hw)
			hw = cli_width(l[i].hostname);
		if (cli_width(au[i]->label) > aw)
			aw = cli_width(au[i]->label);
	}
	printf("%-8s  %-19s  ", "ID", "DATE TIME");
	pad(stdout, "HOST", hw);
	pad(stdout, "AUTHOR", aw);
	printf("PATHS\n");
	for (i = 0; i < n; i++) {
		cli_short_id(id, l[i].id);
		cli_time_local(when, sizeof(when), l[i].time_sec);
		printf("%-8s  %-19s  ", id, when);
		pad(stdout, l[i].hostname, hw);
		pad(stdout, au[i]->label, aw);
		for (k = 0; k < l[i].npaths; k++) {
			if (k > 0)
				putchar(' ');
			cli_print_escaped(stdout, l[i].paths[k]);
		}
		if (l[i].ntags > 0) {
			fputs("  [", stdout);
			for (k = 0; k < l[i].ntags; k++) {
				if (k > 0)
					putchar(',');
				cli_print_escaped(stdout, l[i].tags[k]);
			}
			putchar(']');
		}
		putchar('\n');
	}
}

int
cmd_snapshots(struct cli *c, int argc, char **argv)
{
	struct cli_session s;
	struct cf_snapshot *list = NULL;
	struct author *authors = NULL;
	const struct author **au = NULL;
	size_t n = 0, na = 0, i;
	cf_status st;
	int rc;

	if ((rc = cli_parse_no_args(c, argc, argv)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if ((rc = cli_session_open(c, &s, 0)) != 0)
		return rc;
	if ((st = cf_repo_snapshots(s.repo, &list, &n)) != CF_OK) {
		rc = cli_fail(st, "listing the snapshots");
		goto out;
	}
	if (n > 0 && ((authors = calloc(n, sizeof(*authors))) == NULL ||
	    (au = calloc(n, sizeof(*au))) == NULL)) {
		cli_error("out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	for (i = 0; i < n; i++)
		au[i] = author_of(s.repo, authors, &na, list[i].author);
	if (c->json)
		print_json(list, n, au);
	else if (n == 0)
		printf("no snapshots yet\n");
	else
		print_table(list, n, au);
out:
	free(au);
	free(authors);
	if (list != NULL)
		cf_snapshot_list_free(list, n);
	cli_session_close(&s);
	return rc;
}
