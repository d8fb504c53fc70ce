/*
 * main.c: `coffre [global options] COMMAND [options] [args]`.
 *
 * Global options may stand anywhere: main reads those before the command
 * (and between "id"/"member" and their subcommand) and the command's own
 * parser (cli_parse) reads the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "crypto.h"

static const struct cli_cmd commands[] = {
	{ "id new", "[--name NAME] [--kdf interactive|moderate|sensitive]",
	  "create your identity (keypair protected by a passphrase)",
	  "  --name NAME      a name shown to other members (e.g. \"Dr Martin, laptop\")\n"
	  "  --kdf COST       passphrase hashing cost: interactive, moderate\n"
	  "                   (default) or sensitive; higher is slower to guess\n",
	  cmd_id_new },
	{ "id show", "",
	  "print your public identity and fingerprint (no passphrase)",
	  "", cmd_id_show },
	{ "init", "",
	  "create a repository at --repo, with you as its first member",
	  "", cmd_init },
	{ "backup", "[--exclude PATTERN]... [--tag TAG]... [--host NAME] "
	  "[--threads N] PATH...",
	  "back up files and directories",
	  "  --exclude PATTERN  skip names or absolute paths matching PATTERN\n"
	  "                     (fnmatch(3), e.g. '*.tmp'); repeatable\n"
	  "  --tag TAG          label the snapshot; repeatable\n"
	  "  --host NAME        record NAME as the host (default: this machine)\n"
	  "  --threads N        compress and encrypt on N threads (default: one\n"
	  "                     per processor; 1: all work in one thread)\n",
	  cmd_backup },
	{ "snapshots", "",
	  "list the snapshots, oldest first", "", cmd_snapshots },
	{ "ls", "[-l] SNAPSHOT [PATH]",
	  "list the files in a snapshot",
	  "  -l, --long         show mode, size and modification time\n",
	  cmd_ls },
	{ "restore", "SNAPSHOT --target DIR [--include PATH]... [--overwrite]\n"
	  "              [--threads N]",
	  "restore a snapshot into a directory",
	  "  --target DIR       where to restore (created if missing); required\n"
	  "  --include PATH     restore only PATH (a directory with its contents);\n"
	  "                     repeatable\n"
	  "  --overwrite        replace files that already exist in DIR\n"
	  "  --threads N        read, verify and write on N threads (default: one\n"
	  "                     per processor; 1: all in one thread)\n",
	  cmd_restore },
	{ "check", "[--read-data] [--repair] [--threads N]",
	  "verify the repository (with --read-data, every stored byte)",
	  "  --read-data        also read and verify every stored byte (slow)\n"
	  "  --repair           with several destinations: replace missing or\n"
	  "                     damaged copies by good ones from another\n"
	  "  --threads N        verify on N threads (default: one per processor)\n",
	  cmd_check },
	{ "forget", "[--keep-last N] [--keep-hourly N] [--keep-daily N]\n"
	  "              [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]\n"
	  "              [--dry-run] [--prune] [SNAPSHOT...]",
	  "delete snapshots by id or by a retention policy",
	  "  --keep-last N      keep the N newest snapshots\n"
	  "  --keep-hourly N    keep the newest snapshot of each of the last N hours\n"
	  "  --keep-daily N     ... of the last N days that have one\n"
	  "  --keep-weekly N    ... of the last N weeks\n"
	  "  --keep-monthly N   ... of the last N months\n"
	  "  --keep-yearly N    ... of the last N years\n"
	  "  --dry-run          only show what would be forgotten\n"
	  "  --prune            then remove the data no snapshot uses any more\n",
	  cmd_forget },
	{ "prune", "[--dry-run]",
	  "remove data that no snapshot references",
	  "  --dry-run          only show what would be removed\n",
	  cmd_prune },
	{ "sync", "[--verify]",
	  "bring every destination of the repository level (-r given several\n"
	  "                  times, or a profile), copying what one lacks from another",
	  "  --verify           also read every copy and replace damaged ones\n",
	  cmd_sync },
	{ "member add", "IDENTITY [--write-only] [--name NAME]",
	  "give an identity (coffre1...) access to the repository",
	  "  --write-only       may add backups but read nothing (for unattended\n"
	  "                     machines)\n"
	  "  --name NAME        the member's name, shown in lists\n",
	  cmd_member_add },
	{ "member list", "",
	  "list the members of the repository", "", cmd_member_list },
	{ "member remove", "IDENTITY",
	  "take a member's access away", "", cmd_member_remove },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char global_help[] =
    "Global options (before or after the command):\n"
    "  -r, --repo LOCATION      the repository (env COFFRE_REPOSITORY): a\n"
    "                           directory, https://HOST:PORT/TENANT (coffred)\n"
    "                           or s3://HOST/BUCKET/PREFIX; repeat it to keep\n"
    "                           the repository at several destinations\n"
    "  --profile NAME           take destinations, identity, paths, excludes\n"
    "                           and retention from [profile NAME] in\n"
    "                           ~/.config/coffre/config (env COFFRE_PROFILE)\n"
    "  -i, --identity FILE      identity file (env COFFRE_IDENTITY; default\n"
    "                           ~/.config/coffre/identity)\n"
    "  --passphrase-file FILE   read the passphrase from the first line of FILE\n"
    "                           (env COFFRE_PASSPHRASE_FILE); otherwise it is\n"
    "                           asked on the terminal\n"
    "  --cache-dir DIR          local cache (env COFFRE_CACHE_DIR; default\n"
    "                           ~/.cache/coffre)\n"
    "  --json                   machine-readable output on stdout\n"
    "  -q, --quiet              no progress, no summary\n"
    "  -h, --help               this help\n"
    "  --version                print the version\n";

static const char exit_help[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  error (input/output, not found, ...)\n"
    "  2  usage error (unknown option, missing argument)\n"
    "  3  the repository has a problem (check found errors, or data failed\n"
    "     verification: tampering or corruption)\n"
    "  4  access refused (wrong passphrase, not a member, write-only member)\n"
    "  5  repository locked by another process\n"
    "  6  backup saved, but some files could not be read (listed on stderr)\n"
    "  7  done, but a destination was unreachable or failed and lags behind\n"
    "     (named on stderr; `coffre sync` brings it level)\n";

void
cli_print_help(FILE *f, const struct cli_cmd *cmd)
{
	size_t i;

	if (cmd == NULL) {
		fprintf(f, "Usage: coffre [global options] COMMAND [options] "
		    "[args]\n\n"
		    "Encrypted, deduplicated backup.\n\nCommands:\n");
		for (i = 0; i < NCOMMANDS; i++)
			fprintf(f, "  %-15s %s\n", commands[i].name,
			    commands[i].summary);
		fprintf(f, "\n%s\n%s\nRun `coffre COMMAND --help` for the "
		    "options of a command.\n", global_help, exit_help);
		return;
	}
	fprintf(f, "Usage: coffre %s%s%s\n\n%s.\n", cmd->name,
	    cmd->args[0] != '\0' ? " " : "", cmd->args, cmd->summary);
	if (cmd->help[0] != '\0')
		fprintf(f, "\nOptions:\n%s", cmd->help);
	fprintf(f, "\n%s\n%s", global_help, exit_help);
}

/* find_command(name): the command called ${name}, or NULL. */
static const struct cli_cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* is_group(word): 1 if ${word} is "id" or "member" (two-word commands). */
static int
is_group(const char *word)
{
	return strcmp(word, "id") == 0 || strcmp(word, "member") == 0;
}

/* print_group(f, group): the subcommands of ${group}. */
static void
print_group(FILE *f, const char *group)
{
	size_t i, n = strlen(group);

	fprintf(f, "Usage:\n");
	for (i = 0; i < NCOMMANDS; i++)
		if (strncmp(commands[i].name, group, n) == 0 &&
		    commands[i].name[n] == ' ')
			fprintf(f, "  coffre %s%s%s\n      %s\n",
			    commands[i].name, commands[i].args[0] != '\0' ?
			    " " : "", commands[i].args, commands[i].summary);
}

/*
 * parse_leading(c, argc, argv, from, next): read global options from
 * argv[from] up to the first operand, whose index goes to *next (argc if
 * none).  0, CLI_DONE, or an exit code.
 */
static int
parse_leading(struct cli *c, int argc, char **argv, int from, int *next)
{
	char sopts[16];
	int opt, rc;

	if (snprintf(sopts, sizeof(sopts), "+:%s", cli_global_shortopts) >=
	    (int)sizeof(sopts))
		return CLI_EXIT_ERROR;
	/* getopt skips argv[0]: present argv[from - 1] as the program. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc - from + 1, argv + from - 1, sopts,
	    cli_global_longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			char shortname[3] = { '-', (char)optopt, '\0' };
			const char *bad = argv[from - 1 + optind - 1];

			/* As in cli_parse: a bad letter is named on its own. */
			if (optopt != 0 && optopt < 0x100 &&
			    strncmp(bad, "--", 2) != 0)
				bad = shortname;

			cli_error(opt == '?' ? "unknown option '%s'" :
			    "option '%s' needs an argument", bad);
			cli_hint("see `coffre --help`");
			return CLI_EXIT_USAGE;
		}
		rc = cli_global_option(c, opt, optarg);
		if (rc == CLI_DONE || rc == CLI_EXIT_USAGE)
			return rc;
	}
	*next = from - 1 + optind;
	return 0;
}

/* run(c, argc, argv): parse up to the command and run it. */
static int
run(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd;
	char name[64];
	int i, rc;

	if ((rc = parse_leading(c, argc, argv, 1, &i)) != 0) {
		if (rc == CLI_DONE && c->want_help)
			cli_print_help(stdout, NULL);
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	}
	if (i >= argc) {
		cli_print_help(stderr, NULL);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			cli_print_help(stdout, NULL);
			return CLI_EXIT_OK;
		}
		if (i + 2 < argc && is_group(argv[i + 1])) {
			snprintf(name, sizeof(name), "%s %s", argv[i + 1],
			    argv[i + 2]);
			if ((cmd = find_command(name)) != NULL) {
				cli_print_help(stdout, cmd);
				return CLI_EXIT_OK;
			}
		} else if (is_group(argv[i + 1])) {
			print_group(stdout, argv[i + 1]);
			return CLI_EXIT_OK;
		} else if ((cmd = find_command(argv[i + 1])) != NULL) {
			cli_print_help(stdout, cmd);
			return CLI_EXIT_OK;
		}
		cli_error("unknown command '%s'", argv[i + 1]);
		cli_hint("see `coffre --help` for the list of commands");
		return CLI_EXIT_USAGE;
	}
	if (is_group(argv[i])) {
		const char *group = argv[i];
		int j;

		if ((rc = parse_leading(c, argc, argv, i + 1, &j)) != 0) {
			if (rc == CLI_DONE) {
				print_group(stdout, group);
				return CLI_EXIT_OK;
			}
			return rc;
		}
		if (j >= argc) {
			cli_error("`coffre %s` needs a subcommand", group);
			print_group(stderr, group);
			return CLI_EXIT_USAGE;
		}
		if (snprintf(name, sizeof(name), "%s %s", group, argv[j]) >=
		    (int)sizeof(name) || (cmd = find_command(name)) == NULL) {
			cli_error("unknown command 'coffre %s %s'", group,
			    argv[j]);
			print_group(stderr, group);
			return CLI_EXIT_USAGE;
		}
		i = j;
	} else if ((cmd = find_command(argv[i])) == NULL) {
		cli_error("unknown command '%s'", argv[i]);
		cli_hint("see `coffre --help` for the list of commands");
		return CLI_EXIT_USAGE;
	}
	c->cmd = cmd;
	return cmd->run(c, argc - i, argv + i);
}

int
main(int argc, char **argv)
{
	struct cli c;
	cf_status st;
	int rc;

	umask(077);
	memset(&c, 0, sizeof(c));
	if ((st = cf_crypto_init()) != CF_OK) {
		cli_error("cannot initialise the cryptographic library: %s",
		    cf_error_message());
		return CLI_EXIT_ERROR;
	}
	rc = run(&c, argc, argv);
	if (rc == CLI_EXIT_OK && cli_lagging())
		rc = CLI_EXIT_LAGGING;
	cf_profile_free(&c.profile);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			cli_error("writing the output: %s", strerror(errno));
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
	}
	return rc;
}
