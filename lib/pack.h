/*
 * pack.h: packs, the objects that hold encrypted blobs (file chunks and
 * directory trees).
 *
 * Each pack has its own random 32-byte pack key, sealed to the repository's
 * X25519 public key, so a write-only member can write packs but cannot open
 * any pack once it has forgotten the key (cf_pack_writer_reset wipes it).
 * The pack's header (its list of blobs) is encrypted with the index key
 * instead: it says no more than an index file, which every member reads,
 * and it lets any member re-index a pack whose index file a crash lost.
 *
 * Pack, version 1 (little-endian):
 *   0    8    magic "COFFREPK"
 *   8    1    version = 1
 *   9    7    reserved, zero
 *   16   80   crypto_box_seal(pack key, repository public key)
 *   96   ...  blobs, back to back.  A blob is
 *             nonce(24) || XChaCha20-Poly1305(pack key,
 *                 ad = type(1) || id(32),
 *                 plaintext = compression(1) || data) || tag(16)
 *             compression 0 = stored, 1 = zstd frame (with content size).
 *             The blob id is HMAC-SHA-256 keyed by the id key over
 *             type(1) || uncompressed data; readers check it.
 *   H    L    header: nonce(24) || XChaCha20-Poly1305(index key,
 *                 ad = "COFFREPK header v1" (18 bytes), plaintext) || tag
 *             plaintext = count(u32) || count entries of
 *                 type(1) id(32) offset(u32) length(u32) raw_length(u32)
 *             (45 bytes; offset and length of the stored blob inside the
 *             pack, raw_length of the uncompressed data), then zero bytes
 *             (inside the encrypted plaintext, so authenticated) so that
 *             the whole pack's size is cf_padme(unpadded size).
 *   end-4 4   L (u32): length of the header including nonce and tag.
 * The pack's object name is "data/" + hex(h[0]) + "/" + hex(h), with
 * h = SHA-256 of the whole pack: anyone can verify a pack.
 */
#ifndef COFFRE_PACK_H
#define COFFRE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"

#define CF_BLOB_DATA 1
#define CF_BLOB_TREE 2

#define CF_PACK_HEAD_BYTES 96
#define CF_PACK_ENTRY_BYTES 45
/* Largest blob (uncompressed) any reader accepts: bounds allocations. */
#define CF_BLOB_MAX (64u * 1024 * 1024)
/* Largest pack any reader accepts. */
#define CF_PACK_MAX (256u * 1024 * 1024)
/* A finished pack's bytes start on a boundary of this many bytes (a page). */
#define CF_PACK_BUF_ALIGN 4096u
/*
 * Default size of a pack in a new repository (docs/performance.md): each
 * worker holds one pack in memory until it is stored, so this bounds the
 * memory of a backup; 8 MiB is still few objects (about 130 per GiB).
 */
#define CF_PACK_TARGET_DEFAULT (8u * 1024 * 1024)

struct cf_pack_entry {
	uint8_t type;
	uint8_t id[CF_HASH_BYTES];
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
};

/* cf_blob_id(out, id_key, type, data, n): the keyed id of a blob. */
void cf_blob_id(uint8_t out[CF_HASH_BYTES], const uint8_t id_key[CF_KEY_BYTES],
    uint8_t type, const uint8_t *data, size_t n);

/* cf_pack_object_name(out, pack_id): "data/xx/<64 hex>" (NUL-terminated). */
void cf_pack_object_name(char out[CF_HASH_BYTES * 2 + 9],
    const uint8_t pack_id[CF_HASH_BYTES]);

struct cf_pack_writer;

/*
 * cf_pack_writer_new(repo_pk, index_key, zstd_level, out): a writer with a
 * fresh pack key; headers are encrypted with ${index_key} (copied into
 * guarded memory).  ${zstd_level} 0 disables compression.
 */
cf_status cf_pack_writer_new(const uint8_t repo_pk[CF_BOX_PK_BYTES],
    const uint8_t index_key[CF_KEY_BYTES], int zstd_level,
    struct cf_pack_writer **out);

/*
 * cf_pack_writer_reserve(w, bytes): size the pack buffer for a pack of
 * ${bytes} (header and padding included) once, so it does not grow while
 * the pack fills.  Optional; CF_ERR_NOMEM.
 */
cf_status cf_pack_writer_reserve(struct cf_pack_writer *w, size_t bytes);

/*
 * cf_pack_writer_add(w, type, id, data, n): compress ${data} (kept stored if
 * zstd does not save at least 1/32), encrypt, append.  ${id} must be the
 * blob's id.  CF_ERR_INVALID if n > CF_BLOB_MAX.
 */
cf_status cf_pack_writer_add(struct cf_pack_writer *w, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n);

/* cf_pack_writer_size(w): bytes so far; cf_pack_writer_count(w): blobs. */
size_t cf_pack_writer_size(const struct cf_pack_writer *w);
size_t cf_pack_writer_count(const struct cf_pack_writer *w);

/*
 * cf_pack_writer_padding(w): the zero bytes the header would carry if the
 * pack were finished now (its Padmé padding): a writer may close a pack
 * where this is small.
 */
size_t cf_pack_writer_padding(const struct cf_pack_writer *w);

/*
 * cf_pack_writer_finish(w, pack_id, data, len, entries, count): append the
 * header, padding and trailer; return the pack's bytes, its id and its
 * entries.  The pointers stay valid until the next reset or free; *data
 * is aligned on CF_PACK_BUF_ALIGN bytes.  CF_ERR_INVALID if the pack is
 * empty.
 */
cf_status cf_pack_writer_finish(struct cf_pack_writer *w,
    uint8_t pack_id[CF_HASH_BYTES], const uint8_t **data, size_t *len,
    const struct cf_pack_entry **entries, size_t *count);

/* cf_pack_writer_reset(w): wipe the pack key, draw a new one, keep buffers. */
void cf_pack_writer_reset(struct cf_pack_writer *w);

/* cf_pack_writer_free(w): wipe and release; NULL is a no-op. */
void cf_pack_writer_free(struct cf_pack_writer *w);

/*
 * cf_pack_open_key(head, n, repo_pk, repo_sk, pack_key): check magic and
 * version of the first ${n} >= CF_PACK_HEAD_BYTES bytes of a pack and unseal
 * its key.  CF_ERR_CORRUPT, CF_ERR_VERSION.
 */
cf_status cf_pack_open_key(const uint8_t *head, size_t n,
    const uint8_t repo_pk[CF_BOX_PK_BYTES],
    const uint8_t repo_sk[CF_BOX_SK_BYTES], uint8_t pack_key[CF_KEY_BYTES]);

/*
 * cf_pack_parse(pack, n, index_key, entries, count): authenticate and parse
 * the header of the whole pack ${pack}[0..n).  Every entry is checked to lie
 * inside the blob area, not to overlap another, and raw_length <=
 * CF_BLOB_MAX; padding must be zero.  *entries is malloc'ed (caller frees).
 */
cf_status cf_pack_parse(const uint8_t *pack, size_t n,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_pack_entry **entries,
    size_t *count);

/*
 * cf_pack_header_length(trailer): the header length L read from a pack's
 * last 4 bytes; with the pack's size, tells which range to fetch for
 * cf_pack_parse_tail (the last L + 4 bytes).
 */
uint32_t cf_pack_header_length(const uint8_t trailer[4]);

/*
 * cf_pack_parse_tail(tail, n, pack_size, index_key, entries, count): as
 * cf_pack_parse, from the last ${n} bytes of a pack of ${pack_size} bytes
 * (which must hold the whole header and trailer), so a pack can be indexed
 * without reading its blobs.
 */
cf_status cf_pack_parse_tail(const uint8_t *tail, size_t n, uint64_t pack_size,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_pack_entry **entries,
    size_t *count);

struct cf_blob_reader;

/* cf_blob_reader_new(out): decryption and decompression state, reusable. */
cf_status cf_blob_reader_new(struct cf_blob_reader **out);
void cf_blob_reader_free(struct cf_blob_reader *r);

/*
 * cf_blob_read(r, pack_key, id_key, entry, stored, out): decrypt the stored
 * blob ${stored}[0..entry->length), decompress to exactly entry->raw_length
 * bytes, verify that its keyed id is entry->id, and put the data in ${out}
 * (reset first).  No byte reaches ${out} unauthenticated.  CF_ERR_CORRUPT
 * with a message saying which check failed.
 */
cf_status cf_blob_read(struct cf_blob_reader *r,
    const uint8_t pack_key[CF_KEY_BYTES], const uint8_t id_key[CF_KEY_BYTES],
    const struct cf_pack_entry *entry, const uint8_t *stored,
    struct cf_buf *out);

/*
 * cf_blob_open(r, pack_key, id_key, entry, stored, data): as cf_blob_read,
 * without copies: the stored blob ${stored}[0..entry->length) is decrypted
 * in place (it is modified, and zeroed if it does not authenticate), and
 * on CF_OK *data points to the verified
 * entry->raw_length bytes, inside ${stored} for a blob stored uncompressed
 * or inside ${r} for a compressed one, valid until ${stored} changes or the
 * next call on ${r}.  No unauthenticated byte is ever given out.
 */
cf_status cf_blob_open(struct cf_blob_reader *r,
    const uint8_t pack_key[CF_KEY_BYTES], const uint8_t id_key[CF_KEY_BYTES],
    const struct cf_pack_entry *entry, uint8_t *stored, const uint8_t **data);

#endif
