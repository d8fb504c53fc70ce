/*
 * profile.h: named profiles in the user's config file
 * ($XDG_CONFIG_HOME/coffre/config), so that a nightly job is one command:
 * `coffre backup --profile cabinet`.
 *
 * Format: UTF-8 text, at most CF_PROFILE_FILE_MAX bytes, lines of at most
 * 4095 bytes.  Blank lines and lines starting with '#' are ignored.  A
 * section starts with "[profile NAME]" (NAME: [A-Za-z0-9._-], 1 to 64
 * bytes).  Inside a section, "key = value" (spaces around '=' and at both
 * ends are dropped; the value is taken literally, no quoting; control
 * characters are refused):
 *   repository = LOCATION        1 to CF_DESTINATIONS_MAX times
 *   identity = FILE
 *   passphrase-file = FILE
 *   cache-dir = DIR
 *   s3-credentials = FILE
 *   path = PATH                  what `backup` saves when given no paths
 *   exclude = PATTERN
 *   keep-last | keep-hourly | keep-daily | keep-weekly | keep-monthly |
 *   keep-yearly = N              the `forget` policy (0 to 1000000)
 * Keys outside a section, unknown keys, a key given twice where only one is
 * allowed, and a section given twice are errors naming the line: a typo in
 * a backup job's config must not silently back up less.
 */
#ifndef COFFRE_PROFILE_H
#define COFFRE_PROFILE_H

#include <stddef.h>

#include "backend_multi.h"
#include "error.h"

#define CF_PROFILE_FILE_MAX (256 * 1024)
#define CF_PROFILE_PATHS_MAX 64
#define CF_PROFILE_EXCLUDES_MAX 256

struct cf_profile {
	char *repositories[CF_DESTINATIONS_MAX];
	size_t nrepositories;
	char *identity, *passphrase_file, *cache_dir, *s3_credentials;
	char *paths[CF_PROFILE_PATHS_MAX];
	size_t npaths;
	char *excludes[CF_PROFILE_EXCLUDES_MAX];
	size_t nexcludes;
	/* -1: not set */
	int keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,
	    keep_yearly;
};

/*
 * cf_profile_parse(p, n, name, out): find section ${name} in the config
 * file bytes ${p}[0..n) and fill ${out} (the caller frees it with
 * cf_profile_free, also after an error).  The whole file is checked, not
 * only that section.  CF_ERR_NOTFOUND if there is no such profile (the
 * message lists those there are), CF_ERR_INVALID with "line N: ..." for a
 * malformed file, CF_ERR_NOMEM.
 */
cf_status cf_profile_parse(const char *p, size_t n, const char *name,
    struct cf_profile *out);

/* cf_profile_free(pr): release the strings; ${pr} is then empty. */
void cf_profile_free(struct cf_profile *pr);

#endif
