/*
 * cmd_init.c: `coffre init`: create a repository whose first (full) member
 * is the identity.
 */
#include <stdio.h>

#include "cli.h"

int
cmd_init(struct cli *c, int argc, char **argv)
{
	struct cli_session s;
	char hex[2 * CF_REPO_ID_BYTES + 1];
	struct json j;
	int rc;

	if ((rc = cli_parse_no_args(c, argc, argv)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if ((rc = cli_session_open(c, &s, 1)) != 0)
		return rc;
	cf_hex_encode(hex, cf_repo_config(s.repo)->repo_id, CF_REPO_ID_BYTES);
	if (c->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_str(&j, "id", hex);
		json_key_str(&j, "location", c->repo);
		json_object_end(&j);
	} else {
		printf("created repository %s at ", hex);
		cli_print_escaped(stdout, c->repo);
		putchar('\n');
	}
	cli_session_close(&s);
	return CLI_EXIT_OK;
}
