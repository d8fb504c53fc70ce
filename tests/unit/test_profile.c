/* test_profile.c: the config file's profiles (profile.c). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "profile.h"

static cf_status
parse(const char *text, const char *name, struct cf_profile *pr)
{
	cf_status rc = cf_profile_parse(text, strlen(text), name, pr);

	return rc;
}

static void
test_good(void)
{
	static const char text[] =
	    "# the practice\n"
	    "[profile other]\n"
	    "repository = /mnt/other\n"
	    "\n"
	    "[profile cabinet]\r\n"
	    "  repository =  /mnt/nas/coffre  \n"
	    "repository = s3://s3.example.org/bucket/cabinet\n"
	    "identity = /etc/coffre/identity\n"
	    "passphrase-file=/etc/coffre/pass\n"
	    "s3-credentials = /etc/coffre/s3 creds\n"
	    "path = /srv/patients\n"
	    "path = /srv/letters\n"
	    "exclude = *.tmp\n"
	    "keep-daily = 7\n"
	    "keep-weekly = 4\n"
	    "keep-monthly = 12\n";
	struct cf_profile pr;

	CHECK_OK(parse(text, "cabinet", &pr));
	CHECK(pr.nrepositories == 2);
	CHECK(pr.nrepositories == 2 &&
	    strcmp(pr.repositories[0], "/mnt/nas/coffre") == 0 &&
	    strcmp(pr.repositories[1],
	    "s3://s3.example.org/bucket/cabinet") == 0);
	CHECK(pr.identity != NULL &&
	    strcmp(pr.identity, "/etc/coffre/identity") == 0);
	CHECK(pr.passphrase_file != NULL &&
	    strcmp(pr.passphrase_file, "/etc/coffre/pass") == 0);
	CHECK(pr.s3_credentials != NULL &&
	    strcmp(pr.s3_credentials, "/etc/coffre/s3 creds") == 0);
	CHECK(pr.npaths == 2 && pr.nexcludes == 1);
	CHECK(pr.keep_daily == 7 && pr.keep_weekly == 4 &&
	    pr.keep_monthly == 12 && pr.keep_last == -1 &&
	    pr.keep_yearly == -1);
	CHECK(pr.cache_dir == NULL);
	cf_profile_free(&pr);
	CHECK_OK(parse(text, "other", &pr));
	CHECK(pr.nrepositories == 1 && pr.npaths == 0);
	cf_profile_free(&pr);
}

static void
test_bad(void)
{
	static const struct {
		const char *text, *msg;
		cf_status rc;
	} cases[] = {
		{ "[profile a]\nrepositry = /x\n", "line 2: unknown key",
		    CF_ERR_INVALID },
		{ "repository = /x\n", "outside a [profile",
		    CF_ERR_INVALID },
		{ "[profile a]\nrepository = /x\n[profile a]\n",
		    "defined twice", CF_ERR_INVALID },
		{ "[profile a]\nrepository = /x\nidentity = a\nidentity = b\n",
		    "given twice", CF_ERR_INVALID },
		{ "[profile a]\nrepository = /x\nkeep-daily = -1\n",
		    "whole number", CF_ERR_INVALID },
		{ "[profile a]\nrepository = /x\nkeep-daily = 99999999\n",
		    "whole number", CF_ERR_INVALID },
		{ "[profile a]\nrepository =\n", "needs a value",
		    CF_ERR_INVALID },
		{ "[profile a]\nidentity = /id\n", "names no repository",
		    CF_ERR_INVALID },
		{ "[profile a b]\n", "profile name", CF_ERR_INVALID },
		{ "[profil a]\n", "section", CF_ERR_INVALID },
		{ "[profile a]\nrepository = /x\x1b[2J\n", "control",
		    CF_ERR_INVALID },
		{ "[profile a]\njust words\n", "key = value",
		    CF_ERR_INVALID },
		{ "[profile b]\nrepository = /x\n", "defines: b",
		    CF_ERR_NOTFOUND },
		{ "# nothing\n", "defines none", CF_ERR_NOTFOUND },
	};
	struct cf_profile pr;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_ERR(parse(cases[i].text, "a", &pr), cases[i].rc);
		CHECK(strstr(cf_error_message(), cases[i].msg) != NULL);
		cf_profile_free(&pr);
	}
	/* More destinations than a repository can have. */
	{
		char text[1024];
		size_t off = (size_t)snprintf(text, sizeof(text),
		    "[profile a]\n");

		for (int i = 0; i <= CF_DESTINATIONS_MAX; i++)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
			    "repository = /x%d\n", i);
		CHECK_ERR(parse(text, "a", &pr), CF_ERR_INVALID);
		cf_profile_free(&pr);
	}
}

int
main(void)
{
	test_good();
	test_bad();
	return check_done("profile");
}
