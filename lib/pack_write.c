/* pack_write.c: compress, encrypt and pack blobs (see pack.h). */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "pack_internal.h"

/*
 * coffre's level 3, the default, is not zstd's: zstd's tables are tuned for
 * streams, coffre compresses each chunk (about 1 MiB) alone.  On the
 * benchmark corpus zstd's fast strategy with a 2^17-entry hash table and
 * 5-byte matches spends 30 % less CPU than zstd's level 3 (double-fast,
 * 2^17 + 2^16 tables) for 0.35 % more bytes (docs/performance.md, section
 * 4).  Other levels are zstd's own.  A reader needs no parameter: every
 * blob is a standard zstd frame.
 */
#define TUNED_LEVEL 3
#define TUNED_HASH_LOG 17
#define TUNED_MIN_MATCH 5

/*
 * The pack is built in one buffer of its own, never through a scratch copy:
 * a blob is compressed straight into the pack (or copied there when it does
 * not compress), then encrypted in place, and so is the header.  The buffer
 * is sized once (cf_pack_writer_reserve) and only grows, by an eighth, for
 * a pack of unusual shape, so that a pack of tens of MiB does not cost twice
 * its size at the moment it grows.
 */
struct cf_pack_writer {
	uint8_t *key;                   /* pack key, then index key; guarded */
	uint8_t repo_pk[CF_BOX_PK_BYTES];
	int level;                      /* zstd level; 0 = store everything */
	ZSTD_CCtx *cctx;                /* reused for every blob */
	uint8_t *buf;                   /* the pack's bytes */
	size_t len, cap;
	size_t touched;                 /* high-water mark: what free wipes */
	struct cf_pack_entry *entries;
	size_t count;
	size_t ecap;
	int finished;
	uint8_t pack_id[CF_HASH_BYTES]; /* valid once finished */
};

/*
 * room(w, need): make w->buf hold at least ${need} more bytes after len,
 * growing to exactly what is needed plus an eighth.  The old block holds
 * ciphertext and plaintext in the making: wiped before it is freed.
 */
static cf_status
room(struct cf_pack_writer *w, size_t need)
{
	size_t want, cap;
	uint8_t *q;

	if (need > CF_PACK_MAX || w->len > CF_PACK_MAX - need)
		return cf_error_set(CF_ERR_NOMEM,
		    "pack would exceed the largest pack size (%u bytes)",
		    CF_PACK_MAX);
	want = w->len + need;
	if (want <= w->cap)
		return CF_OK;
	cap = want + want / 8;
	if (cap > CF_PACK_MAX + (size_t)CF_PACK_MAX / 8)
		cap = want;
	/* Page-aligned, so that a local backend can hand the pack to the
	 * disk without the page cache (backend_local.c, write_object). */
	cap = (cap + CF_PACK_BUF_ALIGN - 1) & ~(size_t)(CF_PACK_BUF_ALIGN - 1);
	if ((q = aligned_alloc(CF_PACK_BUF_ALIGN, cap)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory (%zu bytes)",
		    cap);
	if (w->len > 0)
		memcpy(q, w->buf, w->len);
	if (w->buf != NULL) {
		sodium_memzero(w->buf, w->touched);
		free(w->buf);
	}
	w->buf = q;
	w->cap = cap;
	w->touched = w->len;
	return CF_OK;
}

static void
touch(struct cf_pack_writer *w, size_t end)
{
	if (end > w->touched)
		w->touched = end;
}

void
cf_blob_id(uint8_t out[CF_HASH_BYTES], const uint8_t id_key[CF_KEY_BYTES],
    uint8_t type, const uint8_t *data, size_t n)
{
	cf_mac2(out, id_key, &type, 1, data, n);
}

void
cf_pack_object_name(char out[CF_HASH_BYTES * 2 + 9],
    const uint8_t pack_id[CF_HASH_BYTES])
{
	memcpy(out, "data/", 5);
	cf_hex_encode(out + 5, pack_id, 1);
	out[7] = '/';
	cf_hex_encode(out + 8, pack_id, CF_HASH_BYTES);
}

/*
 * padded_size(body, count): the final size of a pack whose head and blobs
 * take ${body} bytes, with ${count} entries in its header.
 */
static uint64_t
padded_size(uint64_t body, uint64_t count)
{
	return cf_padme(body + CF_AEAD_OVERHEAD + 4 +
	    count * CF_PACK_ENTRY_BYTES + PACK_TRAILER_BYTES);
}

/* head_write(w): a fresh pack key, and the pack's first 96 bytes. */
static void
head_write(struct cf_pack_writer *w)
{
	uint8_t *p = w->buf;

	cf_random(w->key, CF_KEY_BYTES);
	memcpy(p, PACK_MAGIC, PACK_MAGIC_BYTES);
	p[PACK_MAGIC_BYTES] = PACK_VERSION;
	memset(p + PACK_MAGIC_BYTES + 1, 0, PACK_RESERVED_BYTES);
	cf_seal_key(p + CF_PACK_HEAD_BYTES - CF_SEALED_KEY_BYTES, w->key,
	    w->repo_pk);
	w->len = CF_PACK_HEAD_BYTES;
	touch(w, w->len);
	w->count = 0;
	w->finished = 0;
}

cf_status
cf_pack_writer_new(const uint8_t repo_pk[CF_BOX_PK_BYTES],
    const uint8_t index_key[CF_KEY_BYTES], int zstd_level,
    struct cf_pack_writer **out)
{
	struct cf_pack_writer *w;
	cf_status rc;

	*out = NULL;
	if (zstd_level < ZSTD_minCLevel() || zstd_level > ZSTD_maxCLevel())
		return cf_error_set(CF_ERR_INVALID,
		    "compression level %d is out of range (%d to %d)",
		    zstd_level, ZSTD_minCLevel(), ZSTD_maxCLevel());
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	memcpy(w->repo_pk, repo_pk, CF_BOX_PK_BYTES);
	w->level = zstd_level;
	if ((w->key = sodium_malloc(2 * CF_KEY_BYTES)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
		goto err1;
	}
	memcpy(w->key + CF_KEY_BYTES, index_key, CF_KEY_BYTES);
	if (zstd_level != 0) {
		if ((w->cctx = ZSTD_createCCtx()) == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM,
			    "out of memory for compression");
			goto err1;
		}
		if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx,
		    ZSTD_c_compressionLevel, zstd_level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx,
		    ZSTD_c_contentSizeFlag, 1)) ||
		    (zstd_level == TUNED_LEVEL && (
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx,
		    ZSTD_c_strategy, ZSTD_fast)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx,
		    ZSTD_c_hashLog, TUNED_HASH_LOG)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx,
		    ZSTD_c_minMatch, TUNED_MIN_MATCH))))) {
			rc = cf_error_set(CF_ERR_INVALID,
			    "compression level %d is not supported",
			    zstd_level);
			goto err1;
		}
	}
	if ((rc = room(w, CF_PACK_HEAD_BYTES)) != CF_OK)
		goto err1;
	head_write(w);
	*out = w;
	return CF_OK;

err1:
	cf_pack_writer_free(w);
	return rc;
}

/*
 * compress(w, data, n, dst, cap, written): try zstd on ${data} into ${dst}
 * (${cap} bytes, at least ZSTD_compressBound(n)); *written is how far into
 * ${dst} anything was written.  Returns the frame's size if it saves at
 * least n/32 bytes, else 0 (store the blob as it is).  Incompressible data
 * (photos, compressed imaging) is not sampled first: zstd gives up on it at
 * about 5 GB/s, so a sample would cost more on compressible data (an extra
 * 64 KiB of every chunk) than it saves.
 */
static size_t
compress(struct cf_pack_writer *w, const uint8_t *data, size_t n,
    uint8_t *dst, size_t cap, size_t *written)
{
	size_t z;

	*written = 0;
	if (w->level == 0 || n == 0)
		return 0;
	z = ZSTD_compress2(w->cctx, dst, cap, data, n);
	*written = ZSTD_isError(z) ? cap : z;
	/* An error here can only be memory: storing is always correct. */
	if (ZSTD_isError(z) || z + n / 32 >= n)
		return 0;
	return z;
}

cf_status
cf_pack_writer_reserve(struct cf_pack_writer *w, size_t bytes)
{
	if (bytes <= w->len)
		return CF_OK;
	return room(w, bytes - w->len);
}

cf_status
cf_pack_writer_add(struct cf_pack_writer *w, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n)
{
	uint8_t ad[PACK_BLOB_AD_BYTES], *slot, *body;
	struct cf_pack_entry *e;
	size_t z, plen, slen, bound, written;
	cf_status rc;

	if (type != CF_BLOB_DATA && type != CF_BLOB_TREE)
		return cf_error_set(CF_ERR_INVALID, "unknown blob type %u",
		    (unsigned)type);
	if (n > CF_BLOB_MAX)
		return cf_error_set(CF_ERR_INVALID,
		    "blob of %zu bytes is larger than the limit of %u bytes",
		    n, CF_BLOB_MAX);
	if (w->finished)
		return cf_error_set(CF_ERR_INVALID,
		    "pack is already finished (reset the writer first)");
	if (w->count == w->ecap) {
		size_t ncap = w->ecap ? w->ecap * 2 : 64;
		struct cf_pack_entry *ne;

		if ((ne = realloc(w->entries, ncap * sizeof(*ne))) == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		w->entries = ne;
		w->ecap = ncap;
	}

	/*
	 * The stored blob, in place at the end of the pack: nonce(24) ||
	 * compression(1) || frame or data || tag(16).  The frame is written
	 * where it will be encrypted; room for the larger of frame and data.
	 */
	bound = w->level == 0 ? n : ZSTD_compressBound(n);
	if (bound < n)
		bound = n;
	if ((rc = room(w, CF_AEAD_OVERHEAD + 1 + bound)) != CF_OK)
		return rc;
	slot = w->buf + w->len;
	body = slot + CF_NONCE_BYTES + 1;
	if ((z = compress(w, data, n, body, bound, &written)) > 0) {
		body[-1] = PACK_COMP_ZSTD;
		plen = 1 + z;
	} else {
		body[-1] = PACK_COMP_STORED;
		if (n > 0)
			memcpy(body, data, n);
		plen = 1 + n;
	}
	slen = plen + CF_AEAD_OVERHEAD;
	touch(w, w->len + CF_AEAD_OVERHEAD + 1 +
	    (written > plen - 1 ? written : plen - 1));

	/* The finished pack, header and padding included, must stay legal. */
	if (padded_size(w->len + slen, w->count + 1) > CF_PACK_MAX) {
		sodium_memzero(slot, slen - CF_TAG_BYTES);
		return cf_error_set(CF_ERR_NOMEM,
		    "pack would exceed the largest pack size (%u bytes)",
		    CF_PACK_MAX);
	}

	ad[0] = type;
	memcpy(ad + 1, id, CF_HASH_BYTES);
	cf_aead_seal_inplace(slot, w->key, ad, sizeof(ad), plen);

	e = &w->entries[w->count++];
	e->type = type;
	memcpy(e->id, id, CF_HASH_BYTES);
	e->offset = (uint32_t)w->len;
	e->length = (uint32_t)slen;
	e->raw_length = (uint32_t)n;
	w->len += slen;
	return CF_OK;
}

size_t
cf_pack_writer_size(const struct cf_pack_writer *w)
{
	return w->len;
}

size_t
cf_pack_writer_padding(const struct cf_pack_writer *w)
{
	uint64_t unpadded = w->len + CF_AEAD_OVERHEAD + 4 +
	    (uint64_t)w->count * CF_PACK_ENTRY_BYTES + PACK_TRAILER_BYTES;

	return (size_t)(padded_size(w->len, w->count) - unpadded);
}

size_t
cf_pack_writer_count(const struct cf_pack_writer *w)
{
	return w->count;
}

cf_status
cf_pack_writer_finish(struct cf_pack_writer *w,
    uint8_t pack_id[CF_HASH_BYTES], const uint8_t **data, size_t *len,
    const struct cf_pack_entry **entries, size_t *count)
{
	uint64_t unpadded, total;
	size_t plen, hlen;
	uint8_t *p;
	cf_status rc;

	if (w->count == 0)
		return cf_error_set(CF_ERR_INVALID,
		    "cannot finish an empty pack");
	if (!w->finished) {
		unpadded = w->len + CF_AEAD_OVERHEAD + 4 +
		    (uint64_t)w->count * CF_PACK_ENTRY_BYTES +
		    PACK_TRAILER_BYTES;
		total = padded_size(w->len, w->count);
		/* cf_pack_writer_add kept total <= CF_PACK_MAX. */
		plen = 4 + w->count * CF_PACK_ENTRY_BYTES +
		    (size_t)(total - unpadded);
		hlen = plen + CF_AEAD_OVERHEAD;

		if ((rc = room(w, hlen + PACK_TRAILER_BYTES)) != CF_OK)
			return rc;
		/* The header's plaintext, in place after its nonce. */
		p = w->buf + w->len + CF_NONCE_BYTES;
		cf_put_u32(p, (uint32_t)w->count);
		p += 4;
		for (size_t i = 0; i < w->count; i++) {
			const struct cf_pack_entry *e = &w->entries[i];

			p[0] = e->type;
			memcpy(p + 1, e->id, CF_HASH_BYTES);
			cf_put_u32(p + 33, e->offset);
			cf_put_u32(p + 37, e->length);
			cf_put_u32(p + 41, e->raw_length);
			p += CF_PACK_ENTRY_BYTES;
		}
		memset(p, 0, (size_t)(total - unpadded));
		cf_aead_seal_inplace(w->buf + w->len, w->key + CF_KEY_BYTES,
		    PACK_HEADER_AD, PACK_HEADER_AD_BYTES, plen);
		w->len += hlen;
		cf_put_u32(w->buf + w->len, (uint32_t)hlen);
		w->len += PACK_TRAILER_BYTES;
		touch(w, w->len);
		cf_name_hash(w->pack_id, w->buf, w->len);
		w->finished = 1;
	}
	memcpy(pack_id, w->pack_id, CF_HASH_BYTES);
	*data = w->buf;
	*len = w->len;
	*entries = w->entries;
	*count = w->count;
	return CF_OK;
}

void
cf_pack_writer_reset(struct cf_pack_writer *w)
{
	sodium_memzero(w->key, CF_KEY_BYTES);
	/* The pack buffer always holds at least the 96-byte head. */
	head_write(w);
}

void
cf_pack_writer_free(struct cf_pack_writer *w)
{
	if (w == NULL)
		return;
	if (w->key != NULL)
		sodium_free(w->key);    /* wipes */
	ZSTD_freeCCtx(w->cctx);
	if (w->buf != NULL) {
		sodium_memzero(w->buf, w->touched);
		free(w->buf);
	}
	free(w->entries);
	free(w);
}
