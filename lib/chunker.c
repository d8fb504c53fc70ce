/* chunker.c: keyed FastCDC with normalised chunking (see chunker.h). */
#include "chunker.h"

#include <sodium.h>

#include "bytes.h"

#define GEAR_STREAM_BYTES (256 * 8)

/*
 * The gear table is derived from the repository's gear key, so it is kept
 * in guarded memory like the key itself and wiped on free.
 */
struct cf_chunker {
	uint64_t gear[256];
	uint64_t mask_s;        /* before avg: harder to match (bits + 1) */
	uint64_t mask_l;        /* after avg: easier to match (bits - 1) */
	size_t min;
	size_t avg;
	size_t max;
};

cf_status
cf_chunker_params_check(const struct cf_chunker_params *p)
{
	if (p->min < 64 || p->min >= p->avg || p->avg >= p->max ||
	    p->max > CF_CHUNK_MAX_LIMIT)
		return cf_error_set(CF_ERR_CORRUPT,
		    "invalid chunk sizes (min %u, avg %u, max %u): need "
		    "64 <= min < avg < max <= %u", (unsigned)p->min,
		    (unsigned)p->avg, (unsigned)p->max,
		    (unsigned)CF_CHUNK_MAX_LIMIT);
	if ((p->avg & (p->avg - 1)) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "invalid average chunk size %u: not a power of two",
		    (unsigned)p->avg);
	return CF_OK;
}

cf_status
cf_chunker_new(const struct cf_chunker_params *p,
    const uint8_t gear_key[CF_KEY_BYTES], struct cf_chunker **out)
{
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
	uint8_t s[GEAR_STREAM_BYTES];
	struct cf_chunker *c;
	unsigned bits;
	cf_status rc;

	*out = NULL;
	if ((rc = cf_chunker_params_check(p)) != CF_OK)
		return rc;
	if ((c = sodium_malloc(sizeof(*c))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");

	crypto_stream_chacha20_ietf(s, sizeof(s), nonce, gear_key);
	for (size_t i = 0; i < 256; i++)
		c->gear[i] = cf_get_u64(s + 8 * i);
	sodium_memzero(s, sizeof(s));

	/* avg is a power of two >= 128 (min >= 64), so 7 <= bits <= 23. */
	bits = (unsigned)__builtin_ctz(p->avg);
	c->mask_s = ~UINT64_C(0) << (64 - (bits + 1));
	c->mask_l = ~UINT64_C(0) << (64 - (bits - 1));
	c->min = p->min;
	c->avg = p->avg;
	c->max = p->max;
	*out = c;
	return CF_OK;
}

/*
 * scan(gear, p, i, stop, mask, hp): roll the gear hash *hp over p[i..stop)
 * and return the cut (index + 1) of the first byte after which
 * (h & mask) == 0, or 0 if there is none.
 *
 * This is the hot path of a backup.  Two bytes per step: h2 = 4h + (2 g0 +
 * g1) keeps the dependency chain on h at two operations per two bytes, and
 * h1 = 2h + g0 is tested off that chain; the table loads do not depend on
 * h and the only branches are the mask tests.  The cut points are those of
 * the one-byte-at-a-time rule in chunker.h.
 */
static inline size_t
scan(const uint64_t *gear, const uint8_t *p, size_t i, size_t stop,
    uint64_t mask, uint64_t *hp)
{
	uint64_t h = *hp;

	for (; i + 2 <= stop; i += 2) {
		uint64_t g0 = gear[p[i]], g1 = gear[p[i + 1]];
		uint64_t h1 = (h << 1) + g0;

		h = (h << 2) + ((g0 << 1) + g1);
		if ((h1 & mask) == 0)
			return i + 1;
		if ((h & mask) == 0)
			return i + 2;
	}
	if (i < stop) {
		h = (h << 1) + gear[p[i]];
		if ((h & mask) == 0)
			return i + 1;
	}
	*hp = h;
	return 0;
}

size_t
cf_chunker_cut(const struct cf_chunker *c, const uint8_t *p, size_t n)
{
	size_t normal, end, cut;
	uint64_t h = 0;

	if (n <= c->min)
		return n;
	normal = n < c->avg ? n : c->avg;
	end = n < c->max ? n : c->max;
	if ((cut = scan(c->gear, p, c->min, normal, c->mask_s, &h)) != 0)
		return cut;
	if (normal < end &&
	    (cut = scan(c->gear, p, normal, end, c->mask_l, &h)) != 0)
		return cut;
	return end;
}

void
cf_chunker_free(struct cf_chunker *c)
{
	if (c == NULL)
		return;
	sodium_free(c);         /* wipes before releasing */
}
