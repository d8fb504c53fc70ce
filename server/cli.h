/*
 * cli.h: coffred's command line: the options every command shares, and one
 * function per command (main.c parses, serve.c serves, cli.c holds the
 * operator commands, json.c writes JSON).
 */
#ifndef COFFRED_CLI_H
#define COFFRED_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define CLI_MAX_ARGS 8
#define CLI_MAX_NAMES 16

struct cli {
	struct srv_config cfg;
	const char *config_path;        /* NULL: the default, if present */
	const char *state;              /* --state, overrides the config */
	int json;
	/* Command options (each command says which it takes). */
	const char *quota, *rights, *label, *since, *limit;
	const char *cert, *key, *listen, *port, *days;
	const char *names[CLI_MAX_NAMES];
	int nnames;
	int adopt;
	/* Positional arguments after the command words. */
	const char *args[CLI_MAX_ARGS];
	int nargs;
};

/* Exit statuses. */
#define EXIT_USAGE 2

/* cli_fail(fmt, ...): "coffred: error: ..." on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * cli_state_prepare(cl): make sure the state directory exists (created
 * 0700 if missing) and belongs to the user running us; 0 or an exit status
 * (the message printed).
 */
int cli_state_prepare(const struct cli *cl);

/* cli_parse_size(s, out): bytes with an optional K M G T suffix. */
int cli_parse_size(const char *s, uint64_t *out);

/*
 * The commands (coffred(8) says what each does).  Each takes the parsed
 * command line with the configuration loaded, prints its result (JSON with
 * --json) and returns the exit status: 0, 1 (error, message printed).
 */
int cmd_serve(struct cli *cl);
int cmd_cert(struct cli *cl);
int cmd_fingerprint(struct cli *cl);
int cmd_tenant_add(struct cli *cl);
int cmd_tenant_list(struct cli *cl);
int cmd_tenant_quota(struct cli *cl);
int cmd_tenant_remove(struct cli *cl);
int cmd_identity_add(struct cli *cl);
int cmd_identity_list(struct cli *cl);
int cmd_identity_remove(struct cli *cl);
int cmd_log(struct cli *cl);

/* json.c: JSON output to a stdio stream. */
void json_string(FILE *f, const char *s);
/* json_time(f, t): an RFC 3339 UTC string for ${t}. */
void json_time(FILE *f, int64_t t);
/* fmt_time(buf, size, t): "YYYY-MM-DDTHH:MM:SSZ". */
void fmt_time(char *buf, size_t size, int64_t t);

#endif
