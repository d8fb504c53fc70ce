/*
 * fuzz_pack.c: packs from an untrusted store.  The first input byte picks
 * what the rest is:
 *   0  a whole pack: parse its header with the fixed index key (the same
 *      entries must come from cf_pack_parse_tail on the whole pack and on
 *      its last L + 4 bytes), open its pack key with the fixed repository
 *      key, read every blob;
 *   1  a pack header's plaintext: u16 blob-area size, then the plaintext,
 *      sealed here with the fixed index key so that the parser behind the
 *      authentication gets fuzzed (whole and from the tail);
 *   2  a blob's plaintext: flags(1) type(1) raw_length(u24) id(32), then
 *      compression(1) || data, sealed here with the fixed pack key; with
 *      flag 1 the id is computed from stored data, so reads can succeed;
 *   3  the tail of a pack: u16 d, then the last bytes of a pack of
 *      (bytes that follow) + d bytes, given to cf_pack_parse_tail as a
 *      backup adopting an unindexed pack does.
 * Seeds in fuzz/corpus/pack are made with the same fixed keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_AREA_MAX 4096
#define FUZZ_RAW_MAX (1u << 20)
#define FUZZ_READS_MAX 64

static struct {
	int ready;
	uint8_t repo_pk[CF_BOX_PK_BYTES];
	uint8_t repo_sk[CF_BOX_SK_BYTES];
	uint8_t id_key[CF_KEY_BYTES];
	uint8_t index_key[CF_KEY_BYTES];
	uint8_t pack_key[CF_KEY_BYTES];
	struct cf_blob_reader *reader;
	struct cf_buf out;
	struct cf_buf tmp;
} F;

/* fuzz_init(): the fixed test keys (never used outside fuzzing). */
static int
fuzz_init(void)
{
	uint8_t seed[crypto_box_SEEDBYTES];

	if (F.ready)
		return 0;
	if (cf_crypto_init() != CF_OK)
		return -1;
	memset(seed, 0x5a, sizeof(seed));
	crypto_box_seed_keypair(F.repo_pk, F.repo_sk, seed);
	memset(F.id_key, 0x1d, sizeof(F.id_key));
	memset(F.index_key, 0x4e, sizeof(F.index_key));
	memset(F.pack_key, 0x9c, sizeof(F.pack_key));
	if (cf_blob_reader_new(&F.reader) != CF_OK)
		return -1;
	cf_buf_init(&F.out, CF_BLOB_MAX);
	cf_buf_init(&F.tmp, CF_PACK_MAX);
	F.ready = 1;
	return 0;
}

static void
read_blobs(const uint8_t *pack, const uint8_t *key,
    const struct cf_pack_entry *e, size_t count)
{
	for (size_t i = 0; i < count && i < FUZZ_READS_MAX; i++) {
		/* cf_pack_parse put every entry inside the pack. */
		if (cf_blob_read(F.reader, key, F.id_key, &e[i],
		    pack + e[i].offset, &F.out) == CF_OK &&
		    F.out.len != e[i].raw_length)
			abort();
	}
}

/* same_entries(a, b, n): 1 if the two lists of ${n} entries are equal. */
static int
same_entries(const struct cf_pack_entry *a, const struct cf_pack_entry *b,
    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].type != b[i].type || a[i].offset != b[i].offset ||
		    a[i].length != b[i].length ||
		    a[i].raw_length != b[i].raw_length ||
		    memcmp(a[i].id, b[i].id, CF_HASH_BYTES) != 0)
			return 0;
	return 1;
}

/*
 * check_entries(e, count, size, hlen): abort unless every entry of a
 * parsed header lies in the blob area of a pack of ${size} bytes whose
 * header is ${hlen} bytes long, and the blobs fill it.
 */
static void
check_entries(const struct cf_pack_entry *e, size_t count, uint64_t size,
    uint64_t hlen)
{
	uint64_t end = size - 4 - hlen, sum = 0;

	if (count == 0 || size < CF_PACK_HEAD_BYTES + hlen + 4)
		abort();
	for (size_t i = 0; i < count; i++) {
		if (e[i].offset < CF_PACK_HEAD_BYTES ||
		    (uint64_t)e[i].offset + e[i].length > end ||
		    e[i].raw_length > CF_BLOB_MAX)
			abort();
		sum += e[i].length;
	}
	if (sum != end - CF_PACK_HEAD_BYTES)
		abort();
}

/*
 * parse_both(p, n, e, count): cf_pack_parse of the whole pack ${p}[0..n),
 * checked against cf_pack_parse_tail of the whole pack and of its last
 * L + 4 bytes (copied, so that a read before them is caught).
 */
static cf_status
parse_both(const uint8_t *p, size_t n, struct cf_pack_entry **e,
    size_t *count)
{
	struct cf_pack_entry *t;
	size_t tc;
	cf_status rc, rt;

	rc = cf_pack_parse(p, n, F.index_key, e, count);
	rt = cf_pack_parse_tail(p, n, n, F.index_key, &t, &tc);
	if (rc != rt || (rc == CF_OK && (tc != *count ||
	    !same_entries(*e, t, tc))))
		abort();
	free(t);
	if (rc == CF_OK) {
		uint32_t hlen = cf_pack_header_length(p + n - 4);
		uint8_t *q;

		check_entries(*e, *count, n, hlen);
		if ((q = malloc((size_t)hlen + 4)) == NULL)
			abort();
		memcpy(q, p + n - 4 - hlen, (size_t)hlen + 4);
		if (cf_pack_parse_tail(q, (size_t)hlen + 4, n, F.index_key, &t,
		    &tc) != CF_OK || tc != *count ||
		    !same_entries(*e, t, tc))
			abort();
		free(t);
		free(q);
	} else if (*e != NULL || *count != 0)
		abort();
	return rc;
}

static void
fuzz_whole(const uint8_t *p, size_t n)
{
	uint8_t key[CF_KEY_BYTES];
	struct cf_pack_entry *e;
	size_t count;

	/* The header needs only the index key, as a write-only member has. */
	if (parse_both(p, n, &e, &count) != CF_OK)
		return;
	if (cf_pack_open_key(p, n, F.repo_pk, F.repo_sk, key) == CF_OK)
		read_blobs(p, key, e, count);
	free(e);
	sodium_memzero(key, sizeof(key));
}

static void
fuzz_header(const uint8_t *p, size_t n)
{
	struct cf_pack_entry *e;
	size_t area, count, len;
	uint8_t *q;

	if (n < 2)
		return;
	area = cf_get_u16(p) % FUZZ_AREA_MAX;
	p += 2;
	n -= 2;
	len = CF_PACK_HEAD_BYTES + area + n + CF_AEAD_OVERHEAD + 4;
	cf_buf_reset(&F.tmp);
	if (cf_buf_reserve(&F.tmp, len) != CF_OK)
		return;
	q = F.tmp.p;
	memset(q, 0, CF_PACK_HEAD_BYTES + area);
	memcpy(q, "COFFREPK\1", 9);
	cf_aead_seal(q + CF_PACK_HEAD_BYTES + area, F.index_key,
	    "COFFREPK header v1", 18, p, n);
	cf_put_u32(q + len - 4, (uint32_t)(n + CF_AEAD_OVERHEAD));
	F.tmp.len = len;
	if (parse_both(q, len, &e, &count) == CF_OK) {
		for (size_t i = 0; i < count; i++)
			if (e[i].offset < CF_PACK_HEAD_BYTES ||
			    (uint64_t)e[i].offset + e[i].length >
			    CF_PACK_HEAD_BYTES + area)
				abort();
		read_blobs(q, F.pack_key, e, count);
		free(e);
	}
}

static void
fuzz_blob(const uint8_t *p, size_t n)
{
	struct cf_pack_entry e;
	uint8_t ad[1 + CF_HASH_BYTES];
	uint8_t flags;

	if (n < 1 + 1 + 3 + CF_HASH_BYTES)
		return;
	flags = p[0];
	e.type = p[1];
	e.raw_length = (uint32_t)(p[2] | p[3] << 8 | p[4] << 16) %
	    (FUZZ_RAW_MAX + 1);
	memcpy(e.id, p + 5, CF_HASH_BYTES);
	p += 5 + CF_HASH_BYTES;
	n -= 5 + CF_HASH_BYTES;
	if ((flags & 1) && n >= 1)
		cf_blob_id(e.id, F.id_key, e.type, p + 1, n - 1);
	e.offset = CF_PACK_HEAD_BYTES;
	e.length = (uint32_t)(n + CF_AEAD_OVERHEAD);
	ad[0] = e.type;
	memcpy(ad + 1, e.id, CF_HASH_BYTES);
	cf_buf_reset(&F.tmp);
	if (cf_buf_reserve(&F.tmp, n + CF_AEAD_OVERHEAD) != CF_OK)
		return;
	cf_aead_seal(F.tmp.p, F.pack_key, ad, sizeof(ad), p, n);
	if (cf_blob_read(F.reader, F.pack_key, F.id_key, &e, F.tmp.p,
	    &F.out) == CF_OK && F.out.len != e.raw_length)
		abort();
}

static void
fuzz_tail(const uint8_t *p, size_t n)
{
	struct cf_pack_entry *e, *e2;
	size_t count, c2;
	uint64_t size;
	uint8_t *q;
	cf_status rc;

	if (n < 2)
		return;
	size = cf_get_u16(p);
	p += 2;
	n -= 2;
	size += n;
	/* A copy of exactly n bytes: nothing before the tail is readable. */
	if ((q = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	if (n > 0)
		memcpy(q, p, n);
	rc = cf_pack_parse_tail(q, n, size, F.index_key, &e, &count);
	if (rc != CF_OK) {
		if (e != NULL || count != 0)
			abort();
		free(q);
		return;
	}
	if (n < 4)
		abort();
	{
		uint32_t hlen = cf_pack_header_length(q + n - 4);

		if ((uint64_t)hlen + 4 > n)
			abort();
		check_entries(e, count, size, hlen);
		/* The shortest tail gives the same entries. */
		if (cf_pack_parse_tail(q + n - 4 - hlen, (size_t)hlen + 4, size,
		    F.index_key, &e2, &c2) != CF_OK || c2 != count ||
		    !same_entries(e, e2, count))
			abort();
		free(e2);
		/* And so does the whole pack when the tail is all of it. */
		if (size == n && (cf_pack_parse(q, n, F.index_key, &e2,
		    &c2) != CF_OK || c2 != count ||
		    !same_entries(e, e2, count)))
			abort();
		if (size == n)
			free(e2);
	}
	free(e);
	free(q);
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
		fuzz_whole(data + 1, size - 1);
		break;
	case 1:
		fuzz_header(data + 1, size - 1);
		break;
	case 2:
		fuzz_blob(data + 1, size - 1);
		break;
	case 3:
		fuzz_tail(data + 1, size - 1);
		break;
	default:
		break;
	}
	return 0;
}
