/*
 * cli.h: what the files of the `coffre` command share.
 *
 * The command is a thin layer over the library (lib/repo.h): it parses
 * arguments, asks for the passphrase, opens the identity and repository,
 * calls one library operation and prints its result.  Everything meant for
 * scripts goes to stdout; progress, warnings and errors go to stderr.
 * Functions return an exit code (CLI_EXIT_*) up to main, which alone exits.
 */
#ifndef COFFRE_CLI_H
#define COFFRE_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "backend_multi.h"
#include "identity.h"
#include "profile.h"
#include "repo.h"
#include "snapshot.h"

#define COFFRE_VERSION "0.1.0"

/* Exit codes: the table in docs/cli.md. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CORRUPT 3
#define CLI_EXIT_ACCESS 4
#define CLI_EXIT_LOCKED 5
#define CLI_EXIT_PARTIAL 6
#define CLI_EXIT_LAGGING 7      /* done, but a destination missed some */
/* Returned by cli_parse when --help or --version was handled: exit 0. */
#define CLI_DONE (-1)

struct cli;

/* One subcommand ("backup", or "id new" for the two-word ones). */
struct cli_cmd {
	const char *name;
	const char *args;       /* synopsis after the name */
	const char *summary;    /* one line for `coffre --help` */
	const char *help;       /* the command's own options, one per line */
	int (*run)(struct cli *c, int argc, char **argv);
};

/* Global options and state shared by every command. */
struct cli {
	const char *repo;               /* the first of repos, for messages */
	/* -r (repeatable) / COFFRE_REPOSITORY / the profile's repositories */
	const char *repos[CF_DESTINATIONS_MAX];
	size_t nrepos;
	const char *profile_name;       /* --profile / COFFRE_PROFILE */
	struct cf_profile profile;      /* loaded when profile_name is set */
	int open_flags;                 /* CF_MULTI_* for cli_session_open */
	const char *identity;           /* -i / COFFRE_IDENTITY */
	const char *passphrase_file;    /* --passphrase-file / COFFRE_... */
	const char *cache_dir;          /* --cache-dir / COFFRE_CACHE_DIR */
	int json;
	int quiet;
	int want_help;                  /* -h seen: the caller prints help */
	const struct cli_cmd *cmd;      /* the command running, for messages */
};

/* What a command holds open: identity, repository, maybe a lock. */
struct cli_session {
	struct cf_identity *id;
	struct cf_repo *repo;
	struct cf_lock *lock;
};

/* ---- main.c ---- */

/* cli_print_help(f, cmd): usage of ${cmd} (NULL: of coffre) to ${f}. */
void cli_print_help(FILE *f, const struct cli_cmd *cmd);

/* ---- common.c: messages and exit codes ---- */

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * cli_usage_error(c, fmt, ...): print the error and a hint to see the
 * command's --help; returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_exit_code(st): the exit code for a library status (INVALID -> 1). */
int cli_exit_code(cf_status st);

/*
 * cli_fail(st, context): print "coffre: error: CONTEXT: <library message>"
 * (no "CONTEXT: " if NULL) and a generic hint for ${st}; returns
 * cli_exit_code(st).
 */
int cli_fail(cf_status st, const char *context);

/*
 * cli_identity_fail(st, path): like cli_fail for a failure to read the
 * identity file ${path}; a damaged one (CF_ERR_CORRUPT) gets its own hint
 * and exit code 1, as it is not a repository problem.
 */
int cli_identity_fail(cf_status st, const char *path);

/*
 * cli_parse(c, argc, argv, shortopts, longopts, fn, arg, first): parse the
 * global options and the command's (${shortopts}, ${longopts} terminated by
 * a zero entry; either may be NULL), in any order; ${fn} gets each command
 * option's val and argument and returns 0 or an exit code.  argv[0] is the
 * command name.  *first is set to the index of the first operand.  Returns
 * 0, CLI_DONE (help or version printed), or an exit code.
 */
typedef int cli_opt_fn(void *arg, int opt, const char *optarg);
int cli_parse(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts, cli_opt_fn *fn, void *arg, int *first);

/*
 * cli_parse_no_args(c, argc, argv): cli_parse for a command that takes
 * neither options of its own nor arguments; an argument is a usage error.
 * Returns as cli_parse.
 */
int cli_parse_no_args(struct cli *c, int argc, char **argv);

/*
 * cli_global_option(c, opt, optarg): apply a global option; returns 1 if
 * ${opt} was one, 0 if not, CLI_DONE after --version (printed) or --help
 * (c->want_help set; the caller prints the help that fits), CLI_EXIT_USAGE
 * after an error for an empty value.
 */
int cli_global_option(struct cli *c, int opt, const char *optarg);
extern const struct option cli_global_longopts[];
extern const char cli_global_shortopts[];

/*
 * cli_env(c): fill unset global options from the environment, then from
 * the profile (--profile / COFFRE_PROFILE, loaded here).  0 or an exit code
 * after an error.
 */
int cli_env(struct cli *c);

/* ---- common.c: paths ---- */

/*
 * cli_config_path(out, n, leaf): $XDG_CONFIG_HOME/coffre/LEAF, else
 * $HOME/.config/coffre/LEAF.  0, or an exit code after printing an error.
 */
int cli_config_path(char *out, size_t n, const char *leaf);

/* cli_identity_path(c, out, n): --identity or the default path. */
int cli_identity_path(const struct cli *c, char *out, size_t n);

/*
 * cli_cache_dir(c, out, n): the cache directory, created 0700 if missing.
 * Returns 0, or -1 after a warning (the caller goes on without a cache).
 */
int cli_cache_dir(const struct cli *c, char *out, size_t n);

/*
 * cli_mkdir_parents(path): create the missing directories above the file
 * ${path}, mode 0700.  0, or an exit code after printing an error.
 */
int cli_mkdir_parents(const char *path);

/*
 * cli_abspath(in, out): ${in} made absolute (prefixed with the working
 * directory if relative) and normalised: no "." or empty components, ".."
 * resolved lexically, no trailing "/".  *out is malloc'ed.  0 or an exit
 * code after printing an error.
 */
int cli_abspath(const char *in, char **out);

/* ---- common.c: identity and repository ---- */

/*
 * cli_load_identity(c, out): read the identity file, ask its passphrase
 * (terminal or passphrase file), decrypt.  0 or an exit code after printing
 * an error and a hint.
 */
int cli_load_identity(const struct cli *c, struct cf_identity **out);

/*
 * cli_session_open(c, s, create): check --repo, load the identity, then open
 * (or with ${create}, create) the repository.  0 or an exit code; on error
 * ${s} holds nothing.
 */
int cli_session_open(const struct cli *c, struct cli_session *s, int create);

/*
 * cli_session_lock(s, exclusive): take the repository lock for the rest of
 * the session.  0 or an exit code (5 when locked) after printing an error.
 */
int cli_session_lock(struct cli_session *s, int exclusive);

/* cli_session_unlock(s): release the lock, if held. */
void cli_session_unlock(struct cli_session *s);

/*
 * cli_session_close(s): warn about destinations that missed objects in this
 * run (see cli_lagging), release lock, close repository, free identity.
 */
void cli_session_close(struct cli_session *s);

/* cli_lagging(): 1 once a session closed with a destination lagging. */
int cli_lagging(void);

/*
 * cli_find_snapshot(s, spec, out): resolve a SNAPSHOT argument; 0 or an exit
 * code after printing an error.
 */
int cli_find_snapshot(struct cli_session *s, const char *spec,
    struct cf_snapshot *out);

/*
 * cli_snapshot_spec_ok(c, spec): 0 if ${spec} can name a snapshot ("latest"
 * or at least 4 hex digits), else CLI_EXIT_USAGE after an error; checked
 * before the passphrase is asked.
 */
int cli_snapshot_spec_ok(const struct cli *c, const char *spec);

/* ---- common.c: formatting ---- */

/* cli_human(out, n, bytes): "512 B", "1.21 GiB", "45.0 MiB". */
void cli_human(char *out, size_t n, uint64_t bytes);

/* cli_time_local(out, n, sec): "2024-05-01 10:32:05" in local time. */
void cli_time_local(char *out, size_t n, int64_t sec);

/* cli_time_rfc3339(out, n, sec, nsec): "2024-05-01T08:32:05Z" (UTC). */
void cli_time_rfc3339(char *out, size_t n, int64_t sec, uint32_t nsec);

/* cli_short_id(out, id): the first 8 hex digits of ${id}. */
void cli_short_id(char out[9], const uint8_t id[CF_HASH_BYTES]);

/*
 * cli_print_escaped(f, s): ${s} with backslash, control characters and
 * invalid UTF-8 shown as C escapes (\n, \\, \xHH), and invisible or
 * bidi-override characters (U+200B-200F, U+2028/2029, U+202A-202E,
 * U+2066-2069, U+FEFF) as \u{XXXX}, so that no name read from a repository
 * can move the cursor, change the terminal or disguise itself.
 */
void cli_print_escaped(FILE *f, const char *s);

/*
 * cli_utf8_seq(s, cp): the length (1..4) of the valid UTF-8 sequence at
 * ${s} (NUL-terminated, *s != 0) and its code point in *cp; 0 if the byte
 * at ${s} does not start one (invalid, truncated, overlong, surrogate,
 * above U+10FFFF).
 */
size_t cli_utf8_seq(const unsigned char *s, uint32_t *cp);

/*
 * cli_width(s): the columns cli_print_escaped(s) takes on a terminal,
 * counting characters rather than bytes (for aligning tables).
 */
size_t cli_width(const char *s);

/* cli_parse_count(s, out): a decimal count 0..INT_MAX; 0 ok, -1 invalid. */
int cli_parse_count(const char *s, int *out);

/* ---- passphrase.c ---- */

/*
 * cli_passphrase(c, what, create, pass, len): get a passphrase from
 * --passphrase-file / COFFRE_PASSPHRASE_FILE (first line), or else from the
 * terminal without echo (asked twice and compared when ${create}).  ${what}
 * names what it unlocks in the prompt.  *pass is sodium_malloc'ed; free it
 * with cli_passphrase_free.  An empty passphrase is refused on creation.
 * 0 or an exit code after printing an error.
 */
int cli_passphrase(const struct cli *c, const char *what, int create,
    char **pass, size_t *len);

/* cli_passphrase_free(pass): wipe and free; NULL is a no-op. */
void cli_passphrase_free(char *pass);

/* ---- json.c ---- */

#define JSON_DEPTH_MAX 16

/*
 * A small streaming JSON writer: compact output, one line per element of a
 * top-level array, commas placed automatically.  Strings are escaped with
 * control characters as \uXXXX and bytes that are not valid UTF-8 as \u00XX.
 */
struct json {
	FILE *f;
	int depth;
	int count[JSON_DEPTH_MAX];      /* values written at each level */
	char kind[JSON_DEPTH_MAX];      /* '{' or '[' */
	int after_key;
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* json_hex(j, p, n): ${p} as a string of 2n lowercase hex digits. */
void json_hex(struct json *j, const uint8_t *p, size_t n);
/* json_time(j, sec, nsec): an RFC 3339 UTC string. */
void json_time(struct json *j, int64_t sec, uint32_t nsec);
/* json_escape(f, s): ${s} as a JSON string literal, quotes included. */
void json_escape(FILE *f, const char *s);
/* json_key_u64(j, key, v), json_key_str(j, key, s): one object member. */
void json_key_u64(struct json *j, const char *key, uint64_t v);
void json_key_str(struct json *j, const char *key, const char *s);

/* ---- progress.c ---- */

/*
 * A progress line on stderr, shown only when stderr is a terminal and
 * neither --quiet nor --json was given; redrawn at most 4 times a second.
 * progress_update is a cf_progress_fn whose argument is the struct progress.
 */
struct progress;
struct progress *progress_new(const struct cli *c, const char *verb);
void progress_update(void *arg, const struct cf_progress *p);
/* progress_enabled(p): 1 if the line is shown. */
int progress_enabled(const struct progress *p);
/* progress_warn(p, path, msg): a warning line, without breaking the bar. */
void progress_warn(struct progress *p, const char *path, const char *msg);
/* progress_clear(p): erase the line before printing something else. */
void progress_clear(struct progress *p);
/* progress_free(p): erase the line and free; NULL is a no-op. */
void progress_free(struct progress *p);

/* ---- commands (cmd_*.c) ---- */

/*
 * cli_prune(c, s, j, dry_run): run prune on an open session and print its
 * result (with --json, as the next value of ${j}).  0 or an exit code.
 */
int cli_prune(const struct cli *c, struct cli_session *s, struct json *j,
    int dry_run);

int cmd_id_new(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_id_show(struct cli *c, int argc, char **argv);
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_snapshots(struct cli *c, int argc, char **argv);
int cmd_ls(struct cli *c, int argc, char **argv);
int cmd_restore(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_forget(struct cli *c, int argc, char **argv);
int cmd_prune(struct cli *c, int argc, char **argv);
int cmd_member_add(struct cli *c, int argc, char **argv);
int cmd_member_list(struct cli *c, int argc, char **argv);
int cmd_member_remove(struct cli *c, int argc, char **argv);

#endif
