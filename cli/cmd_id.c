/*
 * cmd_id.c: `coffre id new` and `coffre id show`.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"

enum { OPT_NAME = 0x200, OPT_KDF };

struct id_new_opts {
	const struct cli *c;
	const char *name;
	uint64_t ops, mem;
};

/* print_identity(c, path, pk, name): the three lines, or the JSON object. */
static void
print_identity(const struct cli *c, const char *path,
    const uint8_t pk[CF_SIGN_PK_BYTES], const char *name)
{
	char pub[CF_PUBID_LEN + 1], fp[CF_FINGERPRINT_LEN + 1];
	struct json j;

	cf_pubid_encode(pk, pub);
	cf_pubid_fingerprint(pk, fp);
	if (c->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_str(&j, "public", pub);
		json_key_str(&j, "fingerprint", fp);
		json_key_str(&j, "name", name);
		json_key_str(&j, "file", path);
		json_object_end(&j);
		return;
	}
	printf("%s\nfingerprint: %s\nname: ", pub, fp);
	cli_print_escaped(stdout, name);
	putchar('\n');
}

static int
id_new_opt(void *arg, int opt, const char *val)
{
	struct id_new_opts *o = arg;
	const unsigned char *p;
	uint32_t cp;
	size_t n;

	switch (opt) {
	case OPT_NAME:
		if (strlen(val) > CF_NAME_MAX)
			return cli_usage_error(o->c, "the name is longer than "
			    "%d bytes", CF_NAME_MAX);
		/* As the library checks it, but before the passphrase. */
		for (p = (const unsigned char *)val; *p != '\0'; p += n)
			if ((n = cli_utf8_seq(p, &cp)) == 0 || cp < 0x20 ||
			    (cp >= 0x7f && cp <= 0x9f))
				return cli_usage_error(o->c, "the name must be "
				    "UTF-8 text without control characters");
		o->name = val;
		return 0;
	case OPT_KDF:
		if (strcmp(val, "interactive") == 0) {
			o->ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
			o->mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		} else if (strcmp(val, "moderate") == 0) {
			o->ops = crypto_pwhash_OPSLIMIT_MODERATE;
			o->mem = crypto_pwhash_MEMLIMIT_MODERATE;
		} else if (strcmp(val, "sensitive") == 0) {
			o->ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
			o->mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		} else {
			return cli_usage_error(o->c, "unknown --kdf '%s' "
			    "(use interactive, moderate or sensitive)", val);
		}
		return 0;
	default:
		return cli_usage_error(o->c, "unexpected option");
	}
}

int
cmd_id_new(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "kdf", required_argument, NULL, OPT_KDF },
		{ NULL, 0, NULL, 0 },
	};
	struct id_new_opts o = { c, NULL, crypto_pwhash_OPSLIMIT_MODERATE,
	    crypto_pwhash_MEMLIMIT_MODERATE };
	struct cf_identity *id = NULL;
	char path[PATH_MAX];
	struct stat sb;
	char *pass = NULL;
	size_t len;
	cf_status st;
	int rc, first;

	if ((rc = cli_parse(c, argc, argv, NULL, longopts, id_new_opt, &o,
	    &first)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if (first < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[first]);
	if ((rc = cli_identity_path(c, path, sizeof(path))) != 0)
		return rc;
	/* Say so before asking for a passphrase; save checks again. */
	if (lstat(path, &sb) == 0) {
		cli_error("an identity already exists at %s", path);
		cli_hint("keep using it (see `coffre id show`), or name "
		    "another file with --identity");
		return CLI_EXIT_ERROR;
	}
	if ((rc = cli_mkdir_parents(path)) != 0)
		return rc;
	if ((rc = cli_passphrase(c, "the new identity", 1, &pass, &len)) != 0)
		return rc;
	if ((st = cf_identity_generate(o.name, &id)) != CF_OK) {
		rc = cli_fail(st, "creating the identity");
		goto done;
	}
	st = cf_identity_save(id, path, pass, len, o.ops, o.mem);
	if (st == CF_ERR_EXISTS) {
		cli_error("an identity already exists at %s", path);
		rc = CLI_EXIT_ERROR;
		goto done;
	} else if (st != CF_OK) {
		rc = cli_fail(st, path);
		goto done;
	}
	print_identity(c, path, cf_identity_public(id), cf_identity_name(id));
	if (!c->json && !c->quiet) {
		fputs("coffre: identity saved in ", stderr);
		cli_print_escaped(stderr, path);
		fputs("; keep a copy of this file and remember its passphrase: "
		    "without both, your backups cannot be read\n", stderr);
	}
done:
	cli_passphrase_free(pass);
	cf_identity_free(id);
	return rc;
}

int
cmd_id_show(struct cli *c, int argc, char **argv)
{
	char path[PATH_MAX], name[CF_NAME_MAX + 1];
	uint8_t pk[CF_SIGN_PK_BYTES];
	struct cf_buf file;
	cf_status st;
	int rc;

	if ((rc = cli_parse_no_args(c, argc, argv)) != 0)
		return rc == CLI_DONE ? CLI_EXIT_OK : rc;
	if ((rc = cli_identity_path(c, path, sizeof(path))) != 0)
		return rc;
	cf_buf_init(&file, CF_IDENTITY_FILE_MAX);
	st = cf_identity_read_file(path, &file);
	if (st == CF_ERR_NOTFOUND) {
		cli_error("no identity file at %s", path);
		cli_hint("create one with `coffre id new`, or name one with "
		    "--identity / COFFRE_IDENTITY");
		rc = CLI_EXIT_ERROR;
	} else if (st == CF_OK &&
	    (st = cf_identity_peek(file.p, file.len, pk, name)) == CF_OK) {
		print_identity(c, path, pk, name);
	} else {
		rc = cli_identity_fail(st, path);
	}
	cf_buf_free(&file);
	return rc;
}
