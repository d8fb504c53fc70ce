/*
 * fuzz_profile.c: the config file's profiles (cf_profile_parse).  Whatever
 * the bytes, a profile that parses holds 1..CF_DESTINATIONS_MAX
 * repositories and no value with a control character or an empty value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_value(const char *v)
{
	if (v == NULL)
		return;
	if (v[0] == '\0')
		abort();
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 && *v != '\t')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_profile pr;

	if (cf_profile_parse((const char *)data, size, "a", &pr) == CF_OK) {
		if (pr.nrepositories == 0 ||
		    pr.nrepositories > CF_DESTINATIONS_MAX)
			abort();
		for (size_t i = 0; i < pr.nrepositories; i++)
			check_value(pr.repositories[i]);
		for (size_t i = 0; i < pr.npaths; i++)
			check_value(pr.paths[i]);
		for (size_t i = 0; i < pr.nexcludes; i++)
			check_value(pr.excludes[i]);
		check_value(pr.identity);
		check_value(pr.passphrase_file);
		check_value(pr.cache_dir);
		check_value(pr.s3_credentials);
	}
	cf_profile_free(&pr);
	return 0;
}
