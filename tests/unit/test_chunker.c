/* test_chunker.c: keyed FastCDC cut points (see chunker.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "chunker.h"
#include "crypto.h"

#define MiB (1024u * 1024)

struct chunk {
	size_t off, len;
	uint8_t hash[CF_HASH_BYTES];
};

/* Deterministic pseudo-random test data (the same on every run). */
static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	uint8_t key[CF_KEY_BYTES] = { seed };
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];

	crypto_stream_chacha20_ietf(p, n, nonce, key);
}

/*
 * The rule of chunker.h written out byte by byte, with its own gear table,
 * to check the optimised implementation against.
 */
static size_t
ref_cut(const uint64_t gear[256], const struct cf_chunker_params *pr,
    const uint8_t *p, size_t n)
{
	unsigned bits = 0;
	uint64_t h = 0, mask_s, mask_l;
	size_t i, lim;

	while ((1u << bits) < pr->avg)
		bits++;
	mask_s = ~UINT64_C(0) << (64 - (bits + 1));
	mask_l = ~UINT64_C(0) << (64 - (bits - 1));
	if (n <= pr->min)
		return n;
	lim = n < pr->avg ? n : pr->avg;
	for (i = pr->min; i < lim; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & mask_s) == 0)
			return i + 1;
	}
	lim = n < pr->max ? n : pr->max;
	for (; i < lim; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & mask_l) == 0)
			return i + 1;
	}
	return lim;
}

static void
ref_gear(uint64_t gear[256], const uint8_t key[CF_KEY_BYTES])
{
	static const uint8_t nonce[12];
	uint8_t s[2048];

	crypto_stream_chacha20_ietf(s, sizeof(s), nonce, key);
	for (int i = 0; i < 256; i++) {
		gear[i] = 0;
		for (int j = 7; j >= 0; j--)
			gear[i] = (gear[i] << 8) | s[8 * i + j];
	}
}

/* Chunk ${p}[0..n) completely; returns the number of chunks. */
static size_t
chunk_all(const struct cf_chunker *c, const struct cf_chunker_params *pr,
    const uint8_t *p, size_t n, struct chunk **out)
{
	size_t cap = n / pr->min + 2, k = 0, off = 0;
	struct chunk *v = calloc(cap, sizeof(*v));

	if (v == NULL)
		abort();
	while (off < n) {
		size_t len = cf_chunker_cut(c, p + off, n - off);
		if (len == 0 || len > n - off || k == cap)
			abort();
		v[k].off = off;
		v[k].len = len;
		cf_hash(v[k].hash, p + off, len);
		off += len;
		k++;
	}
	*out = v;
	return k;
}

static int
has_hash(const struct chunk *v, size_t n, const uint8_t hash[CF_HASH_BYTES])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].hash, hash, CF_HASH_BYTES) == 0)
			return 1;
	return 0;
}

static void
test_params(void)
{
	struct cf_chunker_params p = { CF_CHUNK_MIN_DEFAULT,
	    CF_CHUNK_AVG_DEFAULT, CF_CHUNK_MAX_DEFAULT };
	struct cf_chunker_params bad;
	uint8_t key[CF_KEY_BYTES] = { 0 };
	struct cf_chunker *c = (struct cf_chunker *)1;

	CHECK_OK(cf_chunker_params_check(&p));
	bad = (struct cf_chunker_params){ 64, 128, 129 };
	CHECK_OK(cf_chunker_params_check(&bad));
	bad = (struct cf_chunker_params){ 1024, 4096, CF_CHUNK_MAX_LIMIT };
	CHECK_OK(cf_chunker_params_check(&bad));

	bad = (struct cf_chunker_params){ 63, 128, 256 };
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 0, 0, 0 };
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 4096, 4096, 8192 };   /* min == avg */
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 1024, 4096, 4096 };   /* avg == max */
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 1024, 3000, 8192 };   /* not 2^k */
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 1024, 4096, CF_CHUNK_MAX_LIMIT + 1 };
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 8192, 4096, 65536 };  /* min > avg */
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	bad = (struct cf_chunker_params){ 1024, 1u << 31, UINT32_MAX };
	CHECK_ERR(cf_chunker_params_check(&bad), CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "chunk") != NULL);

	/* cf_chunker_new refuses bad parameters too, and sets *out. */
	bad = (struct cf_chunker_params){ 1024, 3000, 8192 };
	CHECK_ERR(cf_chunker_new(&bad, key, &c), CF_ERR_CORRUPT);
	CHECK(c == NULL);
	cf_chunker_free(NULL);
}

/* The optimised cut matches the rule of chunker.h byte for byte. */
static void
test_reference(void)
{
	static const struct cf_chunker_params ps[] = {
		{ 64, 128, 256 },
		{ 100, 256, 1000 },
		{ 2048, 8192, 65536 },
		{ 2049, 8192, 65535 },
	};
	uint8_t key[CF_KEY_BYTES] = { 7, 1, 2 };
	uint64_t gear[256];
	size_t n = 1 * MiB;
	uint8_t *buf = malloc(n);
	int mismatches = 0;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	fill(buf, n, 3);
	ref_gear(gear, key);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		struct cf_chunker *c;
		size_t off = 0, m;

		CHECK_OK(cf_chunker_new(&ps[k], key, &c));
		if (c == NULL)
			continue;
		/* Every start offset mod 2, every kind of end. */
		while (off < n) {
			size_t len = n - off;
			size_t a = cf_chunker_cut(c, buf + off, len);
			size_t b = ref_cut(gear, &ps[k], buf + off, len);
			if (a != b)
				mismatches++;
			off += a > 0 ? a : 1;
		}
		for (m = 0; m < 3 * ps[k].max; m += 7) {
			if (cf_chunker_cut(c, buf + 1, m) !=
			    ref_cut(gear, &ps[k], buf + 1, m))
				mismatches++;
		}
		CHECK(cf_chunker_cut(c, buf, 0) == 0);
		CHECK(cf_chunker_cut(c, buf, 1) == 1);
		cf_chunker_free(c);
	}
	CHECK(mismatches == 0);
	free(buf);
}

static void
test_keys(void)
{
	struct cf_chunker_params p = { 2048, 8192, 65536 };
	uint8_t k1[CF_KEY_BYTES] = { 1 }, k2[CF_KEY_BYTES] = { 2 };
	struct cf_chunker *a, *a2, *b;
	struct chunk *va, *va2, *vb;
	size_t n = 4 * MiB, na, na2, nb, same = 0;
	uint8_t *buf = malloc(n);

	CHECK(buf != NULL);
	fill(buf, n, 9);
	CHECK_OK(cf_chunker_new(&p, k1, &a));
	CHECK_OK(cf_chunker_new(&p, k1, &a2));
	CHECK_OK(cf_chunker_new(&p, k2, &b));
	if (buf == NULL || a == NULL || a2 == NULL || b == NULL)
		return;
	na = chunk_all(a, &p, buf, n, &va);
	na2 = chunk_all(a2, &p, buf, n, &va2);
	nb = chunk_all(b, &p, buf, n, &vb);

	/* Same key: same cut points. */
	CHECK(na == na2);
	for (size_t i = 0; i < na && i < na2; i++)
		CHECK(va[i].len == va2[i].len);

	/* Other key: (almost) no chunk in common. */
	for (size_t i = 0; i < nb; i++)
		same += has_hash(va, na, vb[i].hash);
	CHECK(na > 100 && nb > 100);
	CHECK(same * 20 < nb);

	free(va);
	free(va2);
	free(vb);
	cf_chunker_free(a);
	cf_chunker_free(a2);
	cf_chunker_free(b);
	free(buf);
}

/* Inserting bytes near the start leaves later boundaries in place. */
static void
shift_case(const struct cf_chunker_params *p, size_t min_chunks)
{
	uint8_t key[CF_KEY_BYTES] = { 42 };
	size_t n = 20 * MiB, ins = 100, at = 1000, n1, n2, found = 0;
	uint8_t *b1 = malloc(n), *b2 = malloc(n + ins);
	struct cf_chunker *c;
	struct chunk *v1, *v2;

	CHECK(b1 != NULL && b2 != NULL);
	CHECK_OK(cf_chunker_new(p, key, &c));
	if (b1 == NULL || b2 == NULL || c == NULL)
		return;
	fill(b1, n, 5);
	memcpy(b2, b1, at);
	fill(b2 + at, ins, 6);
	memcpy(b2 + at + ins, b1 + at, n - at);

	n1 = chunk_all(c, p, b1, n, &v1);
	n2 = chunk_all(c, p, b2, n + ins, &v2);
	CHECK(n2 >= min_chunks);
	for (size_t i = 0; i < n2; i++)
		found += has_hash(v1, n1, v2[i].hash);
	CHECK(found * 100 >= n2 * 80);
	/* Only the chunks around the insertion may differ. */
	CHECK(found + 3 >= n2);

	free(v1);
	free(v2);
	cf_chunker_free(c);
	free(b1);
	free(b2);
}

static void
test_shift(void)
{
	struct cf_chunker_params defaults = { CF_CHUNK_MIN_DEFAULT,
	    CF_CHUNK_AVG_DEFAULT, CF_CHUNK_MAX_DEFAULT };
	struct cf_chunker_params small = { 2048, 8192, 65536 };

	shift_case(&defaults, 8);
	shift_case(&small, 1000);
}

/* Every chunk is within [min, max], except a short last one. */
static void
test_bounds(void)
{
	struct cf_chunker_params p = { 2048, 8192, 16384 };
	uint8_t key[CF_KEY_BYTES] = { 3 };
	struct cf_chunker *c;
	size_t n = 8 * MiB, off = 0, bad = 0, at_max = 0, chunks = 0;
	uint8_t *buf = malloc(n);

	CHECK(buf != NULL);
	CHECK_OK(cf_chunker_new(&p, key, &c));
	if (buf == NULL || c == NULL)
		return;
	fill(buf, n, 11);
	while (off < n) {
		size_t len = cf_chunker_cut(c, buf + off, n - off);
		if (len == 0 || len > p.max ||
		    (len < p.min && len != n - off))
			bad++;
		at_max += len == p.max;
		off += len > 0 ? len : 1;
		chunks++;
	}
	CHECK(bad == 0);
	CHECK(at_max > 0);      /* with max = 2 avg, some chunks reach it */
	CHECK(at_max < chunks);

	/* A buffer shorter than min is one chunk; n never exceeded. */
	CHECK(cf_chunker_cut(c, buf, p.min) == p.min);
	CHECK(cf_chunker_cut(c, buf, p.min - 1) == p.min - 1);
	CHECK(cf_chunker_cut(c, buf, p.min + 1) == p.min + 1);
	CHECK(cf_chunker_cut(c, buf, p.avg) <= p.avg);
	cf_chunker_free(c);
	free(buf);
}

/* Runs of zeros (sparse images, empty disk space) are cut at max. */
static void
test_zeros(void)
{
	struct cf_chunker_params p = { CF_CHUNK_MIN_DEFAULT,
	    CF_CHUNK_AVG_DEFAULT, CF_CHUNK_MAX_DEFAULT };
	uint8_t key[CF_KEY_BYTES] = { 42 };
	struct cf_chunker *c;
	size_t n = 3 * CF_CHUNK_MAX_DEFAULT + 5, off = 0, k = 0;
	uint8_t *buf = calloc(1, n);

	CHECK(buf != NULL);
	CHECK_OK(cf_chunker_new(&p, key, &c));
	if (buf == NULL || c == NULL)
		return;
	while (off < n) {
		size_t len = cf_chunker_cut(c, buf + off, n - off);
		if (k < 3)
			CHECK(len == p.max);
		else
			CHECK(len == 5);
		off += len > 0 ? len : 1;
		k++;
	}
	CHECK(k == 4);
	cf_chunker_free(c);
	free(buf);
}

static void
test_average(void)
{
	struct cf_chunker_params p = { CF_CHUNK_MIN_DEFAULT,
	    CF_CHUNK_AVG_DEFAULT, CF_CHUNK_MAX_DEFAULT };
	uint8_t key[CF_KEY_BYTES] = { 99 };
	struct cf_chunker *c;
	size_t n = 64 * MiB, off = 0, k = 0, mean;
	uint8_t *buf = malloc(n);

	CHECK(buf != NULL);
	CHECK_OK(cf_chunker_new(&p, key, &c));
	if (buf == NULL || c == NULL)
		return;
	fill(buf, n, 13);
	while (off < n) {
		off += cf_chunker_cut(c, buf + off, n - off);
		k++;
	}
	mean = n / k;
	CHECK(mean >= p.avg / 2 && mean <= 2 * (size_t)p.avg);
	cf_chunker_free(c);
	free(buf);
}

int
main(void)
{
	if (cf_crypto_init() != CF_OK)
		return 1;
	test_params();
	test_reference();
	test_keys();
	test_shift();
	test_bounds();
	test_zeros();
	test_average();
	return check_done("chunker");
}
