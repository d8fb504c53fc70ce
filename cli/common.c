/*
 * common.c: what every command shares: messages and exit codes, global
 * options and environment, default paths, opening the identity and the
 * repository with messages that say what to do next, and formatting.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"

/* ---- messages ---- */

/*
 * vmessage(kind, fmt, ap): "coffre: KIND: MESSAGE" on stderr.  Messages can
 * hold names read from the backed-up data or the repository, so the whole
 * message goes through cli_print_escaped.
 */
static void
vmessage(const char *kind, const char *fmt, va_list ap)
{
	char small[1024], *buf = small;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof(small) &&
	    (buf = malloc((size_t)n + 1)) != NULL)
		vsnprintf(buf, (size_t)n + 1, fmt, ap2);
	else
		buf = small;    /* fits, or the message is cut short */
	va_end(ap2);
	if (n < 0)
		small[0] = '\0';
	fprintf(stderr, "coffre: %s: ", kind);
	cli_print_escaped(stderr, buf);
	fputc('\n', stderr);
	if (buf != small)
		free(buf);
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error", fmt, ap);
	va_end(ap);
}

void
cli_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("hint", fmt, ap);
	va_end(ap);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning", fmt, ap);
	va_end(ap);
}

int
cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error", fmt, ap);
	va_end(ap);
	if (c->cmd != NULL)
		cli_hint("see `coffre %s --help`", c->cmd->name);
	else
		cli_hint("see `coffre --help`");
	return CLI_EXIT_USAGE;
}

int
cli_exit_code(cf_status st)
{
	switch (st) {
	case CF_OK:
		return CLI_EXIT_OK;
	case CF_ERR_CORRUPT:
		return CLI_EXIT_CORRUPT;
	case CF_ERR_PASSPHRASE:
	case CF_ERR_ACCESS:
	case CF_ERR_NOTMEMBER:
		return CLI_EXIT_ACCESS;
	case CF_ERR_LOCKED:
		return CLI_EXIT_LOCKED;
	default:
		return CLI_EXIT_ERROR;
	}
}

int
cli_fail(cf_status st, const char *context)
{
	const char *msg = cf_error_message();

	if (msg[0] == '\0')
		msg = cf_strerror(st);
	if (context != NULL)
		cli_error("%s: %s", context, msg);
	else
		cli_error("%s", msg);
	switch (st) {
	case CF_ERR_LOCKED:
		cli_hint("try again when the other coffre process has "
		    "finished");
		break;
	case CF_ERR_VERSION:
		cli_hint("this was written by a newer version of coffre; "
		    "install the newest coffre to read it");
		break;
	case CF_ERR_CORRUPT:
		cli_hint("the repository may be damaged or tampered with; "
		    "change nothing in it, run `coffre check --read-data` "
		    "and tell the person who looks after your backups");
		break;
	case CF_ERR_NOMEM:
		cli_hint("close other programs and try again");
		break;
	default:
		break;
	}
	return cli_exit_code(st);
}

int
cli_identity_fail(cf_status st, const char *path)
{
	const char *msg = cf_error_message();

	if (st != CF_ERR_CORRUPT)
		return cli_fail(st, path);
	cli_error("%s: %s", path, msg[0] != '\0' ? msg : cf_strerror(st));
	cli_hint("the identity file is damaged or not a regular file: restore "
	    "it from your copy (symbolic links are not followed)");
	return CLI_EXIT_ERROR;
}

/* ---- global options and environment ---- */

enum {
	G_PASSFILE = 0x100,
	G_CACHEDIR,
	G_JSON,
	G_VERSION,
	G_PROFILE,
};

const char cli_global_shortopts[] = "r:i:qh";

const struct option cli_global_longopts[] = {
	{ "repo", required_argument, NULL, 'r' },
	{ "identity", required_argument, NULL, 'i' },
	{ "passphrase-file", required_argument, NULL, G_PASSFILE },
	{ "cache-dir", required_argument, NULL, G_CACHEDIR },
	{ "profile", required_argument, NULL, G_PROFILE },
	{ "json", no_argument, NULL, G_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, G_VERSION },
	{ NULL, 0, NULL, 0 },
};

int
cli_global_option(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'r':
	case 'i':
	case G_PASSFILE:
	case G_CACHEDIR:
	case G_PROFILE:
		if (arg[0] == '\0') {
			cli_usage_error(c, "option '--%s' needs a value "
			    "that is not empty", opt == 'r' ? "repo" :
			    opt == 'i' ? "identity" : opt == G_PASSFILE ?
			    "passphrase-file" : opt == G_PROFILE ? "profile" :
			    "cache-dir");
			return CLI_EXIT_USAGE;
		}
		break;
	default:
		break;
	}
	switch (opt) {
	case 'r':
		for (size_t k = 0; k < c->nrepos; k++)
			if (strcmp(c->repos[k], arg) == 0)
				return 1;       /* the same place twice is once */
		if (c->nrepos == CF_DESTINATIONS_MAX) {
			cli_usage_error(c, "at most %d destinations (-r)",
			    CF_DESTINATIONS_MAX);
			return CLI_EXIT_USAGE;
		}
		c->repos[c->nrepos++] = arg;
		c->repo = c->repos[0];
		return 1;
	case G_PROFILE:
		c->profile_name = arg;
		return 1;
	case 'i':
		c->identity = arg;
		return 1;
	case G_PASSFILE:
		c->passphrase_file = arg;
		return 1;
	case G_CACHEDIR:
		c->cache_dir = arg;
		return 1;
	case G_JSON:
		c->json = 1;
		return 1;
	case 'q':
		c->quiet = 1;
		return 1;
	case 'h':
		c->want_help = 1;
		return CLI_DONE;
	case G_VERSION:
		printf("coffre %s\n", COFFRE_VERSION);
		return CLI_DONE;
	default:
		return 0;
	}
}

/* getenv_set(name): the variable's value, or NULL if unset or empty. */
static const char *
getenv_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * load_profile(c): read the profile named by --profile / COFFRE_PROFILE
 * from the config file.  0 or an exit code after an error.
 */
static int
load_profile(struct cli *c)
{
	char path[PATH_MAX];
	struct cf_buf text;
	cf_status st;
	int rc, fd;

	if ((rc = cli_config_path(path, sizeof(path), "config")) != 0)
		return rc;
	cf_buf_init(&text, CF_PROFILE_FILE_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_error("cannot read the config file %s for profile '%s': "
		    "%s", path, c->profile_name, strerror(errno));
		cli_hint("write the profile there (see `man coffre`, section "
		    "PROFILES), or give -r LOCATION instead");
		return CLI_EXIT_USAGE;
	}
	st = CF_OK;
	for (;;) {
		char chunk[4096];
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			st = cf_error_set(CF_ERR_IO, "%s", strerror(errno));
			break;
		}
		if (got == 0)
			break;
		if ((st = cf_buf_append(&text, chunk, (size_t)got)) != CF_OK) {
			cf_error_set(st, "the file is larger than %d bytes",
			    CF_PROFILE_FILE_MAX);
			break;
		}
	}
	close(fd);
	if (st == CF_OK)
		st = cf_profile_parse((const char *)text.p, text.len,
		    c->profile_name, &c->profile);
	cf_buf_free(&text);
	if (st != CF_OK) {
		cli_error("%s: %s", path, cf_error_message());
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int
cli_env(struct cli *c)
{
	const struct cf_profile *pr = &c->profile;
	int rc;

	if (c->profile_name == NULL)
		c->profile_name = getenv_set("COFFRE_PROFILE");
	if (c->profile_name != NULL && pr->nrepositories == 0 &&
	    (rc = load_profile(c)) != 0)
		return rc;
	/*
	 * Options first, then the profile (named on purpose for this run),
	 * then the environment.
	 */
	if (c->nrepos == 0)
		for (size_t k = 0; k < pr->nrepositories; k++)
			c->repos[c->nrepos++] = pr->repositories[k];
	if (c->nrepos == 0 && getenv_set("COFFRE_REPOSITORY") != NULL)
		c->repos[c->nrepos++] = getenv_set("COFFRE_REPOSITORY");
	c->repo = c->nrepos > 0 ? c->repos[0] : NULL;
	if (c->identity == NULL)
		c->identity = pr->identity;
	if (c->identity == NULL)
		c->identity = getenv_set("COFFRE_IDENTITY");
	if (c->passphrase_file == NULL)
		c->passphrase_file = pr->passphrase_file;
	if (c->passphrase_file == NULL)
		c->passphrase_file = getenv_set("COFFRE_PASSPHRASE_FILE");
	if (c->cache_dir == NULL)
		c->cache_dir = pr->cache_dir;
	if (c->cache_dir == NULL)
		c->cache_dir = getenv_set("COFFRE_CACHE_DIR");
	/* The S3 backend reads its credentials file from the environment. */
	if (pr->s3_credentials != NULL &&
	    getenv_set("COFFRE_S3_CREDENTIALS") == NULL &&
	    setenv("COFFRE_S3_CREDENTIALS", pr->s3_credentials, 1) != 0) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	return 0;
}

int
cli_parse(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts, cli_opt_fn *fn, void *arg, int *first)
{
	struct option all[48];
	char sopts[64];
	size_t n = 0;
	const struct option *o;
	int opt, rc;

	for (o = cli_global_longopts; o->name != NULL; o++)
		all[n++] = *o;
	for (o = longopts; o != NULL && o->name != NULL; o++) {
		if (n + 1 >= sizeof(all) / sizeof(all[0]))
			abort();
		all[n++] = *o;
	}
	memset(&all[n], 0, sizeof(all[n]));
	rc = snprintf(sopts, sizeof(sopts), ":%s%s", cli_global_shortopts,
	    shortopts != NULL ? shortopts : "");
	if (rc < 0 || (size_t)rc >= sizeof(sopts))
		abort();

	optind = 0;     /* glibc: full reinitialisation */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, sopts, all, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			char shortname[3] = { '-', (char)optopt, '\0' };
			const char *bad = argv[optind - 1];

			/* A bad letter inside "-lx" is named on its own. */
			if (optopt != 0 && optopt < 0x100 &&
			    strncmp(bad, "--", 2) != 0)
				bad = shortname;
			if (opt == '?')
				return cli_usage_error(c,
				    "unknown option '%s'", bad);
			return cli_usage_error(c,
			    "option '%s' needs an argument", bad);
		}
		rc = cli_global_option(c, opt, optarg);
		if (rc == CLI_EXIT_USAGE)
			return rc;
		if (rc == CLI_DONE) {
			if (c->want_help)
				cli_print_help(stdout, c->cmd);
			return CLI_DONE;
		}
		if (rc == 1)
			continue;
		if (fn == NULL)
			abort();
		if ((rc = fn(arg, opt, optarg)) != 0)
			return rc;
	}
	*first = optind;
	return cli_env(c);
}

/* ---- paths ---- */

/*
 * xdg_path(out, n, var, fallback, leaf, say): $VAR/coffre/LEAF, else
 * $HOME/FALLBACK/coffre/LEAF; without "/LEAF" when ${leaf} is NULL.  A
 * failure is told with ${say} (cli_error, or cli_warn with no hint).
 */
static int
xdg_path(char *out, size_t n, const char *var, const char *fallback,
    const char *leaf, void (*say)(const char *, ...))
{
	const char *base = getenv_set(var);
	const char *home = NULL;
	int rc;

	/* The XDG specification says relative values are to be ignored. */
	if (base == NULL || base[0] != '/') {
		if ((home = getenv_set("HOME")) == NULL) {
			say("cannot find your home directory: HOME is not "
			    "set");
			if (say == cli_error)
				cli_hint("set HOME, or %s", var);
			return CLI_EXIT_ERROR;
		}
		base = fallback;
	}
	rc = snprintf(out, n, "%s%s%s/coffre%s%s", home != NULL ? home : "",
	    home != NULL ? "/" : "", base, leaf != NULL ? "/" : "",
	    leaf != NULL ? leaf : "");
	if (rc < 0 || (size_t)rc >= n) {
		say("path too long: %s", home != NULL ? home : base);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

int
cli_config_path(char *out, size_t n, const char *leaf)
{
	return xdg_path(out, n, "XDG_CONFIG_HOME", ".config", leaf, cli_error);
}

int
cli_identity_path(const struct cli *c, char *out, size_t n)
{
	int rc;

	if (c->identity == NULL)
		return cli_config_path(out, n, "identity");
	rc = snprintf(out, n, "%s", c->identity);
	if (rc < 0 || (size_t)rc >= n) {
		cli_error("identity path too long: %s", c->identity);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* mkdir_one(path): mkdir 0700 unless it is already a directory. */
static int
mkdir_one(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return -1;
}

/*
 * mkdir_parents(path, say): cli_mkdir_parents, with ${say} (cli_error or
 * cli_warn) for the message.
 */
static int
mkdir_parents(const char *path, void (*say)(const char *, ...))
{
	char buf[PATH_MAX];
	char *p;
	int rc;

	if (path[0] == '\0')
		return 0;
	rc = snprintf(buf, sizeof(buf), "%s", path);
	if (rc < 0 || (size_t)rc >= sizeof(buf)) {
		say("path too long: %s", path);
		return CLI_EXIT_ERROR;
	}
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir_one(buf) != 0) {
			say("cannot create the directory %s: %s", buf,
			    strerror(errno));
			return CLI_EXIT_ERROR;
		}
		*p = '/';
	}
	return 0;
}

int
cli_mkdir_parents(const char *path)
{
	return mkdir_parents(path, cli_error);
}

int
cli_cache_dir(const struct cli *c, char *out, size_t n)
{
	int rc;

	if (c->cache_dir != NULL) {
		rc = snprintf(out, n, "%s", c->cache_dir);
		if (rc < 0 || (size_t)rc >= n) {
			cli_warn("cache directory path too long: %s",
			    c->cache_dir);
			goto fail;
		}
	} else if (xdg_path(out, n, "XDG_CACHE_HOME", ".cache", NULL,
	    cli_warn) != 0) {
		goto fail;
	}
	if (mkdir_parents(out, cli_warn) != 0)
		goto fail;
	if (mkdir_one(out) != 0) {
		cli_warn("cannot create the cache directory %s: %s", out,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	cli_warn("the backup runs without the files cache, which makes it "
	    "slower");
	return -1;
}

int
cli_abspath(const char *in, char **out)
{
	char *full = NULL, *res, *p, *seg, *cwd = NULL;
	size_t len = 0, flen;

	*out = NULL;
	if (in[0] == '\0') {
		cli_error("an empty path was given");
		return CLI_EXIT_USAGE;
	}
	if (in[0] != '/') {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			cli_error("cannot find the current directory: %s",
			    strerror(errno));
			return CLI_EXIT_ERROR;
		}
	}
	flen = (cwd != NULL ? strlen(cwd) + 1 : 0) + strlen(in) + 1;
	if ((full = malloc(flen)) == NULL || (res = malloc(flen + 1)) == NULL) {
		free(full);
		free(cwd);
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	if (cwd != NULL)
		snprintf(full, flen, "%s/%s", cwd, in);
	else
		snprintf(full, flen, "%s", in);
	free(cwd);

	/* Walk the components, building "/a/b" in res. */
	for (p = full; *p != '\0'; ) {
		while (*p == '/')
			p++;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (p == seg || (p - seg == 1 && seg[0] == '.'))
			continue;
		if (p - seg == 2 && seg[0] == '.' && seg[1] == '.') {
			while (len > 0 && res[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		res[len++] = '/';
		memcpy(res + len, seg, (size_t)(p - seg));
		len += (size_t)(p - seg);
	}
	if (len == 0)
		res[len++] = '/';
	res[len] = '\0';
	free(full);
	*out = res;
	return 0;
}

/* ---- identity and repository ---- */

/* The terminal allows a few tries; a passphrase file gets one. */
#define PASSPHRASE_TRIES 3

int
cli_load_identity(const struct cli *c, struct cf_identity **out)
{
	char path[PATH_MAX], what[PATH_MAX + 16];
	char name[CF_NAME_MAX + 1];
	uint8_t pk[CF_SIGN_PK_BYTES];
	struct cf_buf file;
	char *pass;
	size_t len;
	cf_status st;
	int rc, tries;

	*out = NULL;
	if ((rc = cli_identity_path(c, path, sizeof(path))) != 0)
		return rc;
	cf_buf_init(&file, CF_IDENTITY_FILE_MAX);
	if ((st = cf_identity_read_file(path, &file)) != CF_OK) {
		if (st == CF_ERR_NOTFOUND) {
			cli_error("no identity file at %s", path);
			cli_hint("create one with `coffre id new`, or name one "
			    "with --identity / COFFRE_IDENTITY");
			rc = CLI_EXIT_ERROR;
		} else {
			rc = cli_identity_fail(st, path);
		}
		goto done;
	}
	/* Check the file before asking for a passphrase. */
	if ((st = cf_identity_peek(file.p, file.len, pk, name)) != CF_OK) {
		rc = cli_identity_fail(st, path);
		goto done;
	}
	snprintf(what, sizeof(what), "identity %s", path);
	for (tries = 1; ; tries++) {
		if ((rc = cli_passphrase(c, what, 0, &pass, &len)) != 0)
			goto done;
		st = cf_identity_decode(file.p, file.len, pass, len, out);
		cli_passphrase_free(pass);
		if (st != CF_ERR_PASSPHRASE || c->passphrase_file != NULL ||
		    tries == PASSPHRASE_TRIES)
			break;
		fprintf(stderr, "coffre: wrong passphrase, try again\n");
	}
	if (st == CF_ERR_PASSPHRASE) {
		cli_error("wrong passphrase for the identity %s", path);
		if (c->passphrase_file != NULL)
			cli_hint("check the first line of the passphrase file "
			    "%s", c->passphrase_file);
		else
			cli_hint("check the passphrase, or use "
			    "--passphrase-file");
		rc = CLI_EXIT_ACCESS;
	} else if (st != CF_OK) {
		rc = cli_identity_fail(st, path);
	}
done:
	cf_buf_free(&file);
	return rc;
}

/*
 * repo_exists(location): 1 if a repository (its config) is at ${location};
 * 0 if not, or if it cannot be known without an identity (a coffred
 * server).  Overwrites the library's error message.
 */
static int
repo_exists(const char *location)
{
	struct cf_backend *b;

	/* Without the identity it needs, a location cannot be looked at. */
	if (cf_backend_needs_identity(location))
		return 0;
	if (cf_backend_open(location, 0, NULL, &b) != CF_OK)
		return 0;
	cf_backend_close(b);
	return 1;
}

/* open_error(c, id, st, create): explain a failed open or init. */
static int
open_error(const struct cli *c, const struct cf_identity *id, cf_status st,
    int create)
{
	char ctx[PATH_MAX + 32], pub[CF_PUBID_LEN + 1], msg[PATH_MAX + 256];

	snprintf(ctx, sizeof(ctx), "%s the repository at %s",
	    create ? "creating" : "opening", c->repo);
	switch (st) {
	case CF_ERR_NOTFOUND:
		cli_fail(st, ctx);
		cli_hint("check the location given with -r / "
		    "COFFRE_REPOSITORY, or create a repository there with "
		    "`coffre init`");
		return CLI_EXIT_ERROR;
	case CF_ERR_EXISTS:
		/* Also returned for a directory that is not empty. */
		snprintf(msg, sizeof(msg), "%s", cf_error_message()[0] != '\0' ?
		    cf_error_message() : cf_strerror(st));
		if (repo_exists(c->repo)) {
			cli_error("there is already a repository at %s",
			    c->repo);
			cli_hint("use it as it is, or choose another location");
		} else {
			cli_error("%s: %s", ctx, msg);
			cli_hint("choose a new or empty directory");
		}
		return CLI_EXIT_ERROR;
	case CF_ERR_NOTMEMBER:
		if (id == NULL)
			return cli_fail(st, ctx);
		cf_pubid_encode(cf_identity_public(id), pub);
		cli_fail(st, ctx);
		cli_hint("ask a full member to run `coffre member add %s`; "
		    "show it with `coffre id show`", pub);
		return CLI_EXIT_ACCESS;
	default:
		return cli_fail(st, ctx);
	}
}

int
cli_session_open(const struct cli *c, struct cli_session *s, int create)
{
	char pin[PATH_MAX];
	cf_status st;
	int rc;

	memset(s, 0, sizeof(*s));
	if (c->repo == NULL) {
		cli_error("no repository given");
		cli_hint("name it with -r LOCATION (--repo LOCATION), or set "
		    "COFFRE_REPOSITORY");
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_config_path(pin, sizeof(pin), "known_repositories")) != 0)
		return rc;
	if ((rc = cli_mkdir_parents(pin)) != 0)
		return rc;
	/*
	 * Find a mistyped location before the passphrase is asked.  A
	 * location that needs an identity to be reached (a coffred server)
	 * only has its syntax checked here: opened without one, it says
	 * CF_ERR_ACCESS once the location parses.
	 */
	if (c->nrepos > 1) {
		/* Several destinations: some may be offline, and that is fine. */
	} else if (create && repo_exists(c->repo)) {
		return open_error(c, NULL, CF_ERR_EXISTS, create);
	} else if (!create || cf_backend_needs_identity(c->repo)) {
		struct cf_backend *b;

		st = cf_backend_open(c->repo, 0, NULL, &b);
		if (st == CF_OK)
			cf_backend_close(b);
		else if (!(st == CF_ERR_ACCESS &&
		    cf_backend_needs_identity(c->repo)))
			return open_error(c, NULL, st, create);
	}
	if ((rc = cli_load_identity(c, &s->id)) != 0)
		return rc;
	if (create)
		st = cf_repo_init_many(c->repos, c->nrepos, s->id, NULL, pin,
		    &s->repo);
	else
		st = cf_repo_open_many(c->repos, c->nrepos, c->open_flags,
		    s->id, pin, &s->repo);
	if (st != CF_OK) {
		rc = open_error(c, s->id, st, create);
		cf_identity_free(s->id);
		s->id = NULL;
		s->repo = NULL;
		return rc;
	}
	return 0;
}

int
cli_session_lock(struct cli_session *s, int exclusive)
{
	cf_status st;

	if ((st = cf_lock_acquire(s->repo, exclusive, &s->lock)) != CF_OK) {
		s->lock = NULL;
		return cli_fail(st, "locking the repository");
	}
	return 0;
}

void
cli_session_unlock(struct cli_session *s)
{
	cf_lock_release(s->lock);
	s->lock = NULL;
}

/*
 * report_lag(c, s): tell which destinations missed objects in this run, and
 * note it for the exit code.
 */
static int lagging;

int
cli_lagging(void)
{
	return lagging;
}

static void
report_lag(struct cli_session *s)
{
	struct cf_backend *be;
	struct cf_dest_status st;
	char size[32], dels[64];

	if (s->repo == NULL)
		return;
	(void)cf_repo_focus(s->repo, CF_REPO_ALL);
	be = cf_repo_backend(s->repo);
	if (cf_backend_copies(be) < 2 || cf_backend_lagging(be) == 0)
		return;
	for (size_t i = 0; i < cf_backend_copies(be); i++) {
		cf_backend_copy_status(be, i, &st);
		if (st.online && st.missed_puts == 0 && st.missed_dels == 0)
			continue;
		lagging = 1;
		cli_human(size, sizeof(size), st.missed_bytes);
		if (st.missed_dels > 0)
			snprintf(dels, sizeof(dels), ", %" PRIu64 " removals "
			    "not made", st.missed_dels);
		else
			dels[0] = '\0';
		cli_warn("destination %s lags: %" PRIu64 " objects (%s) not "
		    "stored%s%s%s", st.location, st.missed_puts, size, dels,
		    st.error[0] != '\0' ? "; " : "", st.error);
	}
	cli_hint("once the cause is fixed (unplugged, full, unreachable), "
	    "run `coffre sync` with the same destinations to bring it level");
}

void
cli_session_close(struct cli_session *s)
{
	report_lag(s);
	cli_session_unlock(s);
	cf_repo_close(s->repo);         /* before the identity it uses */
	s->repo = NULL;
	cf_identity_free(s->id);
	s->id = NULL;
}

int
cli_snapshot_spec_ok(const struct cli *c, const char *spec)
{
	size_t i, n = strlen(spec);

	if (strcmp(spec, "latest") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF", spec[i]) == NULL)
			break;
	if (n >= 4 && n <= 2 * CF_HASH_BYTES && i == n)
		return 0;
	cli_error("'%s' does not name a snapshot", spec);
	cli_hint("give at least 4 hex digits of an id shown by `coffre "
	    "snapshots`, or \"latest\"");
	(void)c;
	return CLI_EXIT_USAGE;
}

int
cli_find_snapshot(struct cli_session *s, const char *spec,
    struct cf_snapshot *out)
{
	char ctx[128], lower[2 * CF_HASH_BYTES + 8];
	cf_status st;
	size_t i;

	/* Ids are printed in lowercase; accept a prefix typed in capitals. */
	for (i = 0; spec[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = spec[i] >= 'A' && spec[i] <= 'F' ?
		    (char)(spec[i] - 'A' + 'a') : spec[i];
	lower[i] = '\0';
	memset(out, 0, sizeof(*out));
	if ((st = cf_repo_find_snapshot(s->repo, lower, out)) == CF_OK)
		return 0;
	snprintf(ctx, sizeof(ctx), "snapshot %s", spec);
	switch (st) {
	case CF_ERR_NOTFOUND:
		cli_fail(st, ctx);
		cli_hint("list the snapshots with `coffre snapshots`");
		return CLI_EXIT_ERROR;
	case CF_ERR_AMBIGUOUS:
		cli_fail(st, ctx);
		cli_hint("give more digits of the id");
		return CLI_EXIT_ERROR;
	case CF_ERR_INVALID:
		cli_fail(st, ctx);
		return CLI_EXIT_USAGE;
	default:
		return cli_fail(st, ctx);
	}
}

/* ---- formatting ---- */

void
cli_human(char *out, size_t n, uint64_t bytes)
{
	static const char *const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, n, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (v < 10.0)
		snprintf(out, n, "%.2f %s", v, units[u]);
	else
		snprintf(out, n, "%.1f %s", v, units[u]);
}

void
cli_time_local(char *out, size_t n, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, n, "@%" PRId64, sec);
}

void
cli_time_rfc3339(char *out, size_t n, int64_t sec, uint32_t nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	size_t len;
	int digits = 9;

	if (gmtime_r(&t, &tm) == NULL ||
	    (len = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, n, "@%" PRId64, sec);
		return;
	}
	if (nsec > 0 && nsec < 1000000000) {
		while (nsec % 10 == 0) {
			nsec /= 10;
			digits--;
		}
		snprintf(out + len, n - len, ".%0*" PRIu32 "Z", digits, nsec);
	} else {
		snprintf(out + len, n - len, "Z");
	}
}

void
cli_short_id(char out[9], const uint8_t id[CF_HASH_BYTES])
{
	cf_hex_encode(out, id, 4);
}

size_t
cli_utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t len, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	/* A NUL is not a continuation byte, so this stops at the end. */
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* invisible(cp): 1 for zero-width, separator and bidi control characters. */
static int
invisible(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || cp == 0x2028 ||
	    cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/*
 * escape_next(s, out, n, len): the escaped form of the character at ${s}
 * into ${out}, or "" if it is printed as it is; *len gets the bytes used.
 */
static void
escape_next(const unsigned char *s, char *out, size_t n, size_t *len)
{
	uint32_t cp;

	out[0] = '\0';
	*len = cli_utf8_seq(s, &cp);
	if (*len == 0) {
		*len = 1;
		snprintf(out, n, "\\x%02x", s[0]);
	} else if (invisible(cp)) {
		snprintf(out, n, "\\u{%04" PRIX32 "}", cp);
	} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == '\\') {
		switch (cp) {
		case '\\': snprintf(out, n, "\\\\"); break;
		case '\n': snprintf(out, n, "\\n"); break;
		case '\t': snprintf(out, n, "\\t"); break;
		case '\r': snprintf(out, n, "\\r"); break;
		default:
			if (*len == 1)
				snprintf(out, n, "\\x%02x", s[0]);
			else    /* C1 controls: both bytes, as before */
				snprintf(out, n, "\\x%02x\\x%02x", s[0], s[1]);
		}
	}
}

void
cli_print_escaped(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[32];
	size_t len;

	while (*s != '\0') {
		escape_next(s, esc, sizeof(esc), &len);
		if (esc[0] != '\0')
			fputs(esc, f);
		else
			fwrite(s, 1, len, f);
		s += len;
	}
}

size_t
cli_width(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[32];
	size_t len, n = 0;

	while (*s != '\0') {
		escape_next(s, esc, sizeof(esc), &len);
		n += esc[0] != '\0' ? strlen(esc) : 1;
		s += len;
	}
	return n;
}

int
cli_parse_count(const char *s, int *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int
cli_parse_no_args(struct cli *c, int argc, char **argv)
{
	int rc, first;

	if ((rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, &first)) != 0)
		return rc;
	if (first < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[first]);
	return 0;
}
