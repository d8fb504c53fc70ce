/*
 * crypto.h: the few primitives coffre uses, from libsodium and Nettle, under
 * names that say what they are for.  No primitive is implemented here.
 *
 *   AEAD      XChaCha20-Poly1305-IETF, 24-byte random nonce, 16-byte tag
 *   names     SHA-256 of the bytes (content-named objects, request bodies)
 *   ids       HMAC-SHA-256 keyed by the chunk-id key (blob ids)
 *   hash      BLAKE2b-256 (small things: fingerprints, derivations, caches)
 *   seal      crypto_box_seal to an X25519 public key (48 bytes overhead)
 *   sign      Ed25519
 *
 * Everything hashed over bulk data (every byte backed up, every pack stored)
 * is SHA-256, because x86 (SHA-NI, AMD since 2017, Intel since 2021) and
 * ARMv8 hash it in hardware at 2-3 times BLAKE2b's speed; Nettle picks the
 * hardware code at run time.  docs/performance.md has the measurements.
 */
#ifndef COFFRE_CRYPTO_H
#define COFFRE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#include "error.h"

#define CF_KEY_BYTES 32
#define CF_HASH_BYTES 32
#define CF_NONCE_BYTES 24
#define CF_TAG_BYTES 16
#define CF_AEAD_OVERHEAD (CF_NONCE_BYTES + CF_TAG_BYTES)
#define CF_SEAL_OVERHEAD 48
#define CF_SEALED_KEY_BYTES (CF_KEY_BYTES + CF_SEAL_OVERHEAD) /* 80 */
#define CF_SIGN_PK_BYTES 32
#define CF_SIGN_SK_BYTES 64
#define CF_SIG_BYTES 64
#define CF_BOX_PK_BYTES 32
#define CF_BOX_SK_BYTES 32

/* cf_crypto_init(): sodium_init once; CF_ERR_IO if the library is unusable. */
cf_status cf_crypto_init(void);

/* cf_random(p, n): ${n} random bytes. */
void cf_random(void *p, size_t n);

/*
 * cf_aead_seal(out, key, ad, adlen, in, n): writes nonce || ciphertext || tag
 * (n + CF_AEAD_OVERHEAD bytes) to ${out}, with a fresh random nonce.
 * ${out} and ${in} must not overlap.
 */
void cf_aead_seal(uint8_t *out, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, const uint8_t *in, size_t n);

/*
 * cf_aead_open(out, key, ad, adlen, in, n): authenticate and decrypt the
 * ${n}-byte nonce || ciphertext || tag at ${in} into ${out}
 * (n - CF_AEAD_OVERHEAD bytes).  Nothing is released unless the tag
 * verifies: CF_ERR_CORRUPT otherwise (message says "authentication failed").
 */
cf_status cf_aead_open(uint8_t *out, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, const uint8_t *in, size_t n);

/*
 * cf_aead_seal_inplace(msg, key, ad, adlen, n): encrypt in place the
 * ${n}-byte plaintext at msg + CF_NONCE_BYTES, writing a fresh random nonce
 * at msg[0 .. CF_NONCE_BYTES) and the tag after the ciphertext: the same
 * nonce || ciphertext || tag as cf_aead_seal, n + CF_AEAD_OVERHEAD bytes at
 * ${msg}, without a second buffer.
 */
void cf_aead_seal_inplace(uint8_t *msg, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, size_t n);

/*
 * cf_aead_open_inplace(msg, key, ad, adlen, n): authenticate the ${n}-byte
 * nonce || ciphertext || tag at ${msg} and decrypt it in place: on CF_OK
 * the n - CF_AEAD_OVERHEAD plaintext bytes are at msg + CF_NONCE_BYTES.
 * Nothing is decrypted unless the tag verifies: on CF_ERR_CORRUPT the
 * ciphertext bytes are zeroed (libsodium clears its output), so a caller
 * that needs them afterwards (to hash them, say) does so first.
 */
cf_status cf_aead_open_inplace(uint8_t *msg, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, size_t n);

/*
 * cf_hash(out, in, n): unkeyed BLAKE2b-256, for small things (identity
 * fingerprints, the config's hash); never for object names.
 */
void cf_hash(uint8_t out[CF_HASH_BYTES], const void *in, size_t n);

/*
 * cf_name_hash(out, in, n): SHA-256 of ${in}: the name of a content-named
 * object (packs, indexes, snapshots) and the body hash of a signed request.
 */
void cf_name_hash(uint8_t out[CF_HASH_BYTES], const void *in, size_t n);

/*
 * Streaming form of cf_name_hash, for bytes that arrive in pieces: init,
 * any number of updates, final (which leaves the hasher to be init again).
 * No allocation, no failure.
 */
struct cf_name_hasher {
	struct sha256_ctx ctx;
};
void cf_name_hash_init(struct cf_name_hasher *h);
void cf_name_hash_update(struct cf_name_hasher *h, const void *p, size_t n);
void cf_name_hash_final(struct cf_name_hasher *h, uint8_t out[CF_HASH_BYTES]);

/*
 * cf_mac2(out, key, a, alen, b, blen): HMAC-SHA-256 keyed by ${key} over
 * a || b (blob ids use a = the one-byte blob type).  The key-derived state
 * is wiped before returning.
 */
void cf_mac2(uint8_t out[CF_HASH_BYTES], const uint8_t key[CF_KEY_BYTES],
    const void *a, size_t alen, const void *b, size_t blen);

/*
 * cf_hash_keyed2(out, key, a, alen, b, blen): BLAKE2b-256 keyed by ${key}
 * over a || b (local cache keys; blob ids use cf_mac2).
 */
void cf_hash_keyed2(uint8_t out[CF_HASH_BYTES], const uint8_t key[CF_KEY_BYTES],
    const void *a, size_t alen, const void *b, size_t blen);

/*
 * cf_kdf(out, outlen, key, label): derive ${outlen} (16..64) bytes from ${key}
 * for the purpose named by the NUL-terminated ${label} (BLAKE2b keyed by
 * ${key} over the label).
 */
void cf_kdf(uint8_t *out, size_t outlen, const uint8_t key[CF_KEY_BYTES],
    const char *label);

/* cf_seal_key(out, key, pk): crypto_box_seal of a 32-byte key (80 bytes). */
void cf_seal_key(uint8_t out[CF_SEALED_KEY_BYTES],
    const uint8_t key[CF_KEY_BYTES], const uint8_t pk[CF_BOX_PK_BYTES]);

/*
 * cf_unseal_key(key, sealed, pk, sk): open a sealed key; CF_ERR_CORRUPT if it
 * does not authenticate under the keypair.
 */
cf_status cf_unseal_key(uint8_t key[CF_KEY_BYTES],
    const uint8_t sealed[CF_SEALED_KEY_BYTES],
    const uint8_t pk[CF_BOX_PK_BYTES], const uint8_t sk[CF_BOX_SK_BYTES]);

/*
 * cf_seal(out, in, n, pk) / cf_unseal(out, in, n, pk, sk): crypto_box_seal of
 * arbitrary bytes (n + CF_SEAL_OVERHEAD out); unseal gives n - overhead bytes
 * or CF_ERR_CORRUPT.
 */
void cf_seal(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[CF_BOX_PK_BYTES]);
cf_status cf_unseal(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[CF_BOX_PK_BYTES], const uint8_t sk[CF_BOX_SK_BYTES]);

/*
 * cf_padme(n): the Padmé padded length of ${n} (>= n, at most ~12% more),
 * which leaks O(log log n) bits of the size instead of all of them.
 */
uint64_t cf_padme(uint64_t n);

#endif
