/*
 * chunker.h: content-defined chunking (FastCDC with normalised chunking)
 * whose cut points depend on a repository secret.
 *
 * The gear table is keyed: gear[i] = u64le(S[8i .. 8i+7]) for i in 0..255,
 * where S = crypto_stream_chacha20_ietf(2048 bytes, nonce = 12 zero bytes,
 * key = gear_key).  Without the key, chunk sizes of a known file cannot be
 * predicted, so a host cannot confirm the file's presence from sizes.
 *
 * Cut rule on a buffer p[0..n) (n >= max unless the data ends sooner), with
 * bits = log2(avg), mask_s = ~0 << (64 - (bits + 1)),
 * mask_l = ~0 << (64 - (bits - 1)):
 *   if n <= min: cut at n
 *   h = 0; for i from min while i < min(n, avg):  h = (h << 1) + gear[p[i]];
 *       if (h & mask_s) == 0: cut at i + 1
 *   continue for i while i < min(n, max): same with mask_l
 *   else cut at min(n, max)
 */
#ifndef COFFRE_CHUNKER_H
#define COFFRE_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

struct cf_chunker_params {
	uint32_t min;
	uint32_t avg;   /* a power of two */
	uint32_t max;
};

/* Defaults: 256 KiB / 1 MiB / 4 MiB. */
#define CF_CHUNK_MIN_DEFAULT (256u * 1024)
#define CF_CHUNK_AVG_DEFAULT (1024u * 1024)
#define CF_CHUNK_MAX_DEFAULT (4096u * 1024)
/* Hard bound on any chunk size a repository may ask for. */
#define CF_CHUNK_MAX_LIMIT (16u * 1024 * 1024)

struct cf_chunker;

/*
 * cf_chunker_params_check(p): CF_OK if 64 <= min < avg < max <=
 * CF_CHUNK_MAX_LIMIT and avg is a power of two; CF_ERR_CORRUPT otherwise
 * (parameters come from a repository config).
 */
cf_status cf_chunker_params_check(const struct cf_chunker_params *p);

/* cf_chunker_new(p, gear_key, out): a chunker for these parameters and key. */
cf_status cf_chunker_new(const struct cf_chunker_params *p,
    const uint8_t gear_key[CF_KEY_BYTES], struct cf_chunker **out);

/*
 * cf_chunker_cut(c, p, n): length of the next chunk at the start of
 * ${p}[0..n), 1 <= result <= n for n > 0 (0 for n == 0).  The caller passes
 * at least params.max bytes unless the data ends sooner.
 */
size_t cf_chunker_cut(const struct cf_chunker *c, const uint8_t *p, size_t n);

/* cf_chunker_free(c): NULL is a no-op. */
void cf_chunker_free(struct cf_chunker *c);

#endif
