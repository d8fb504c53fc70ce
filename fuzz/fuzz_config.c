/*
 * fuzz_config.c: repository configs (cf_config_decode).  A config that
 * decodes must re-encode to the same 89 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_config c;
	struct cf_buf b;

	if (cf_config_decode(data, size, &c) != CF_OK)
		return 0;
	cf_buf_init(&b, CF_CONFIG_BYTES);
	if (cf_config_encode(&c, &b) != CF_OK || b.len != size ||
	    memcmp(b.p, data, size) != 0)
		abort();
	cf_buf_free(&b);
	return 0;
}
