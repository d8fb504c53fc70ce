/* crypto.c: thin, named wrappers around libsodium and Nettle (see crypto.h). */
#include "crypto.h"

#include <string.h>

#include <nettle/hmac.h>
#include <sodium.h>

_Static_assert(CF_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "nonce size");
_Static_assert(CF_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "tag size");
_Static_assert(CF_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(CF_SIG_BYTES == crypto_sign_BYTES, "signature size");

cf_status
cf_crypto_init(void)
{
	if (sodium_init() < 0)
		return cf_error_set(CF_ERR_IO, "libsodium failed to initialise");
	return CF_OK;
}

void
cf_random(void *p, size_t n)
{
	randombytes_buf(p, n);
}

void
cf_aead_seal(uint8_t *out, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, const uint8_t *in, size_t n)
{
	randombytes_buf(out, CF_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + CF_NONCE_BYTES, NULL,
	    in, n, ad, adlen, NULL, out, key);
}

cf_status
cf_aead_open(uint8_t *out, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, const uint8_t *in, size_t n)
{
	if (n < CF_AEAD_OVERHEAD)
		return cf_error_set(CF_ERR_CORRUPT, "ciphertext too short");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    in + CF_NONCE_BYTES, n - CF_NONCE_BYTES, ad, adlen, in, key) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "authentication failed");
	return CF_OK;
}

void
cf_aead_seal_inplace(uint8_t *msg, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, size_t n)
{
	/* libsodium encrypts in place when the message and ciphertext are
	 * the same address; the nonce is read before anything is written. */
	randombytes_buf(msg, CF_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg + CF_NONCE_BYTES, NULL,
	    msg + CF_NONCE_BYTES, n, ad, adlen, NULL, msg, key);
}

cf_status
cf_aead_open_inplace(uint8_t *msg, const uint8_t key[CF_KEY_BYTES],
    const void *ad, size_t adlen, size_t n)
{
	if (n < CF_AEAD_OVERHEAD)
		return cf_error_set(CF_ERR_CORRUPT, "ciphertext too short");
	/* The tag is verified over the ciphertext before any byte of it is
	 * overwritten by plaintext. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(msg + CF_NONCE_BYTES,
	    NULL, NULL, msg + CF_NONCE_BYTES, n - CF_NONCE_BYTES, ad, adlen,
	    msg, key) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "authentication failed");
	return CF_OK;
}

void
cf_hash(uint8_t out[CF_HASH_BYTES], const void *in, size_t n)
{
	crypto_generichash(out, CF_HASH_BYTES, in, n, NULL, 0);
}

_Static_assert(CF_HASH_BYTES == SHA256_DIGEST_SIZE, "name hash size");

void
cf_name_hash(uint8_t out[CF_HASH_BYTES], const void *in, size_t n)
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, n, in);
	sha256_digest(&ctx, CF_HASH_BYTES, out);
}

void
cf_name_hash_init(struct cf_name_hasher *h)
{
	sha256_init(&h->ctx);
}

void
cf_name_hash_update(struct cf_name_hasher *h, const void *p, size_t n)
{
	sha256_update(&h->ctx, n, p);
}

void
cf_name_hash_final(struct cf_name_hasher *h, uint8_t out[CF_HASH_BYTES])
{
	sha256_digest(&h->ctx, CF_HASH_BYTES, out);
}

void
cf_mac2(uint8_t out[CF_HASH_BYTES], const uint8_t key[CF_KEY_BYTES],
    const void *a, size_t alen, const void *b, size_t blen)
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, CF_KEY_BYTES, key);
	hmac_sha256_update(&ctx, alen, a);
	hmac_sha256_update(&ctx, blen, b);
	hmac_sha256_digest(&ctx, CF_HASH_BYTES, out);
	sodium_memzero(&ctx, sizeof(ctx));
}

void
cf_hash_keyed2(uint8_t out[CF_HASH_BYTES], const uint8_t key[CF_KEY_BYTES],
    const void *a, size_t alen, const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, CF_KEY_BYTES, CF_HASH_BYTES);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, CF_HASH_BYTES);
	sodium_memzero(&st, sizeof(st));
}

void
cf_kdf(uint8_t *out, size_t outlen, const uint8_t key[CF_KEY_BYTES],
    const char *label)
{
	crypto_generichash(out, outlen, (const uint8_t *)label, strlen(label),
	    key, CF_KEY_BYTES);
}

void
cf_seal_key(uint8_t out[CF_SEALED_KEY_BYTES],
    const uint8_t key[CF_KEY_BYTES], const uint8_t pk[CF_BOX_PK_BYTES])
{
	crypto_box_seal(out, key, CF_KEY_BYTES, pk);
}

cf_status
cf_unseal_key(uint8_t key[CF_KEY_BYTES],
    const uint8_t sealed[CF_SEALED_KEY_BYTES],
    const uint8_t pk[CF_BOX_PK_BYTES], const uint8_t sk[CF_BOX_SK_BYTES])
{
	if (crypto_box_seal_open(key, sealed, CF_SEALED_KEY_BYTES, pk, sk) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "sealed key does not open");
	return CF_OK;
}

void
cf_seal(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[CF_BOX_PK_BYTES])
{
	crypto_box_seal(out, in, n, pk);
}

cf_status
cf_unseal(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[CF_BOX_PK_BYTES], const uint8_t sk[CF_BOX_SK_BYTES])
{
	if (n < CF_SEAL_OVERHEAD || crypto_box_seal_open(out, in, n, pk, sk) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "sealed data does not open");
	return CF_OK;
}

uint64_t
cf_padme(uint64_t n)
{
	unsigned e, s, lastbits;
	uint64_t mask;

	if (n < 2)
		return n;
	e = 63 - (unsigned)__builtin_clzll(n);          /* floor(log2 n) */
	s = 64 - (unsigned)__builtin_clzll(e);          /* floor(log2 e) + 1 */
	lastbits = e - s;
	mask = (UINT64_C(1) << lastbits) - 1;
	/* Sizes within 2^57 of 2^64 cannot be padded: saturate, never wrap. */
	if (n > UINT64_MAX - mask)
		return UINT64_MAX;
	return (n + mask) & ~mask;
}
