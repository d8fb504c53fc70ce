/*
 * fuzz_index.c: index files from an untrusted store.  The first input byte
 * picks what the rest is:
 *   0  a whole index file, decoded with the fixed index key;
 *   1  an index plaintext, sealed here with the fixed index key so that the
 *      parser behind the authentication gets fuzzed.
 * Whatever decodes is encoded again and must decode to as many blobs.
 * Seeds in fuzz/corpus/index are made with the same fixed key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	int ready;
	uint8_t key[CF_KEY_BYTES];
	struct cf_buf file;
	struct cf_buf again;
} F;

/* fuzz_init(): the fixed test key (never used outside fuzzing). */
static int
fuzz_init(void)
{
	if (F.ready)
		return 0;
	if (cf_crypto_init() != CF_OK)
		return -1;
	memset(F.key, 0x3e, sizeof(F.key));
	cf_buf_init(&F.file, CF_INDEX_FILE_MAX);
	cf_buf_init(&F.again, CF_INDEX_FILE_MAX);
	F.ready = 1;
	return 0;
}

static int
keep_all(void *arg, uint32_t pack_no)
{
	(void)arg;
	(void)pack_no;
	return 1;
}

static void
fuzz_file(const uint8_t *p, size_t n)
{
	struct cf_index *idx, *back;

	if (cf_index_new(&idx) != CF_OK)
		return;
	if (cf_index_file_decode(F.key, p, n, idx) == CF_OK) {
		cf_buf_reset(&F.again);
		if (cf_index_file_encode_filtered(F.key, idx, keep_all, NULL,
		    &F.again) != CF_OK)
			abort();
		if (cf_index_new(&back) != CF_OK)
			abort();
		if (cf_index_file_decode(F.key, F.again.p, F.again.len,
		    back) != CF_OK ||
		    cf_index_blob_count(back) != cf_index_blob_count(idx))
			abort();
		cf_index_free(back);
	}
	cf_index_free(idx);
}

static void
fuzz_plain(const uint8_t *p, size_t n)
{
	static const uint8_t prefix[16] = "COFFREIX\1";

	cf_buf_reset(&F.file);
	if (cf_buf_reserve(&F.file, 16 + CF_AEAD_OVERHEAD + n) != CF_OK)
		return;
	memcpy(F.file.p, prefix, 16);
	cf_aead_seal(F.file.p + 16, F.key, prefix, 16, p, n);
	F.file.len = 16 + CF_AEAD_OVERHEAD + n;
	fuzz_file(F.file.p, F.file.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_init() != 0)
		abort();
	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		fuzz_file(data + 1, size - 1);
		break;
	case 1:
		fuzz_plain(data + 1, size - 1);
		break;
	default:
		break;
	}
	return 0;
}
