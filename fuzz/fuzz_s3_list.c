/*
 * fuzz_s3_list.c: the S3 server's XML replies (lib/s3_xml.c): a
 * ListObjectsV2 page, an <Error>, the replies to a multipart upload's
 * start and completion, all read from the same input.
 *
 * The first byte picks the listing's key prefix and directory (so seeds
 * can list with or without a prefix); the rest is the reply.  A page that
 * parses must hold only valid object names under the directory, each
 * NUL-terminated, as many as it says, and a truncated page a token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_list(const uint8_t *p, size_t n, const char *prefix, const char *dir)
{
	struct cf_s3_list l;
	size_t at = 0, dlen = strlen(dir);

	cf_s3_list_init(&l);
	if (cf_s3_list_parse(p, n, prefix, dir, &l) != CF_OK) {
		if (l.count != 0 || l.names.len != 0 || l.token[0] != '\0')
			abort();
		cf_s3_list_free(&l);
		return;
	}
	if (l.truncated && (l.token[0] == '\0' ||
	    strlen(l.token) > CF_S3_TOKEN_MAX))
		abort();
	if (l.count > CF_S3_LIST_KEYS_MAX)
		abort();
	for (size_t i = 0; i < l.count; i++) {
		const char *name = (const char *)l.names.p + at;
		size_t k = strnlen(name, l.names.len - at);

		if (k == l.names.len - at || !cf_backend_name_ok(name) ||
		    strncmp(name, dir, dlen) != 0 || name[dlen] != '/')
			abort();
		at += k + 1;
	}
	if (at != l.names.len)
		abort();
	cf_s3_list_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = { "", "p/", "backups/site-1/" };
	static const char *const dirs[] = { "data", "keys", "index", "locks" };
	char id[CF_S3_UPLOAD_ID_MAX + 1];
	struct cf_s3_error e;

	if (size == 0)
		return 0;
	check_list(data + 1, size - 1, prefixes[data[0] % 3],
	    dirs[(data[0] >> 2) % 4]);

	cf_s3_error_parse(data + 1, size - 1, &e);
	if (strnlen(e.code, sizeof(e.code)) == sizeof(e.code) ||
	    strnlen(e.message, sizeof(e.message)) == sizeof(e.message))
		abort();
	for (const char *c = e.message; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();

	if (cf_s3_upload_id_parse(data + 1, size - 1, id) == CF_OK &&
	    (id[0] == '\0' || strlen(id) > CF_S3_UPLOAD_ID_MAX))
		abort();
	(void)cf_s3_complete_parse(data + 1, size - 1, &e);
	return 0;
}
