/* test_crypto.c: the libsodium wrappers and Padmé (see crypto.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "check.h"
#include "crypto.h"

static void
hex_is(const uint8_t *p, size_t n, const char *want)
{
	char got[2 * 64 + 1];

	if (n > 64)
		abort();
	cf_hex_encode(got, p, n);
	CHECK(strcmp(got, want) == 0);
}

static void
test_aead(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 100, 4096, 65537 };
	uint8_t key[CF_KEY_BYTES], key2[CF_KEY_BYTES];
	static const char ad[] = "chunk id";

	cf_random(key, sizeof(key));
	memcpy(key2, key, sizeof(key));
	key2[31] ^= 1;

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t n = lens[k];
		uint8_t *pt = malloc(n + 1), *out = malloc(n + 1);
		uint8_t *ct = malloc(n + CF_AEAD_OVERHEAD);
		uint8_t *ct2 = malloc(n + CF_AEAD_OVERHEAD);

		if (pt == NULL || ct == NULL || ct2 == NULL || out == NULL)
			abort();
		cf_random(pt, n);
		cf_aead_seal(ct, key, ad, sizeof(ad), pt, n);
		CHECK_OK(cf_aead_open(out, key, ad, sizeof(ad), ct,
		    n + CF_AEAD_OVERHEAD));
		CHECK(n == 0 || memcmp(out, pt, n) == 0);

		/* Fresh nonce each time: same input, different output. */
		cf_aead_seal(ct2, key, ad, sizeof(ad), pt, n);
		CHECK(memcmp(ct, ct2, CF_NONCE_BYTES) != 0);
		CHECK(memcmp(ct, ct2, n + CF_AEAD_OVERHEAD) != 0);

		/* Wrong key, wrong or missing AD, truncation. */
		CHECK_ERR(cf_aead_open(out, key2, ad, sizeof(ad), ct,
		    n + CF_AEAD_OVERHEAD), CF_ERR_CORRUPT);
		CHECK(strstr(cf_error_message(), "authentication failed")
		    != NULL);
		CHECK_ERR(cf_aead_open(out, key, "chunk iD", sizeof(ad), ct,
		    n + CF_AEAD_OVERHEAD), CF_ERR_CORRUPT);
		CHECK_ERR(cf_aead_open(out, key, ad, sizeof(ad) - 1, ct,
		    n + CF_AEAD_OVERHEAD), CF_ERR_CORRUPT);
		CHECK_ERR(cf_aead_open(out, key, NULL, 0, ct,
		    n + CF_AEAD_OVERHEAD), CF_ERR_CORRUPT);
		if (n > 0)
			CHECK_ERR(cf_aead_open(out, key, ad, sizeof(ad), ct,
			    n + CF_AEAD_OVERHEAD - 1), CF_ERR_CORRUPT);
		free(pt);
		free(ct);
		free(ct2);
		free(out);
	}

	/* Shorter than a nonce and a tag. */
	{
		uint8_t ct[CF_AEAD_OVERHEAD], out[1];

		memset(ct, 0, sizeof(ct));
		CHECK_ERR(cf_aead_open(out, key, NULL, 0, ct, 0),
		    CF_ERR_CORRUPT);
		CHECK_ERR(cf_aead_open(out, key, NULL, 0, ct,
		    CF_AEAD_OVERHEAD - 1), CF_ERR_CORRUPT);
		CHECK(strstr(cf_error_message(), "too short") != NULL);
		CHECK_ERR(cf_aead_open(out, key, NULL, 0, ct, CF_AEAD_OVERHEAD),
		    CF_ERR_CORRUPT);
		/* An empty AD is an AD like any other. */
		cf_aead_seal(ct, key, NULL, 0, out, 0);
		CHECK_OK(cf_aead_open(out, key, NULL, 0, ct, CF_AEAD_OVERHEAD));
		CHECK_OK(cf_aead_open(out, key, "", 0, ct, CF_AEAD_OVERHEAD));
		CHECK_ERR(cf_aead_open(out, key, "x", 1, ct, CF_AEAD_OVERHEAD),
		    CF_ERR_CORRUPT);
	}
}

/* Every single-bit change anywhere (nonce, ciphertext, tag) is refused. */
/*
 * test_aead_inplace: in-place sealing gives what cf_aead_open reads, and
 * in-place opening reads what cf_aead_seal wrote; a wrong tag, key or ad
 * is refused.
 */
static void
test_aead_inplace(void)
{
	static const size_t lens[] = { 0, 1, 63, 64, 65, 4096, 100003 };
	static const char ad[] = "blob ad";
	uint8_t key[CF_KEY_BYTES];

	cf_random(key, sizeof(key));
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t n = lens[k], total = n + CF_AEAD_OVERHEAD;
		uint8_t *pt = malloc(n + 1), *msg = malloc(total);
		uint8_t *out = malloc(n + 1), *copy = malloc(total);

		if (pt == NULL || msg == NULL || out == NULL || copy == NULL)
			abort();
		cf_random(pt, n);
		memcpy(msg + CF_NONCE_BYTES, pt, n);
		cf_aead_seal_inplace(msg, key, ad, sizeof(ad), n);
		CHECK(n < 16 || memcmp(msg + CF_NONCE_BYTES, pt, n) != 0);
		CHECK_OK(cf_aead_open(out, key, ad, sizeof(ad), msg, total));
		CHECK(n == 0 || memcmp(out, pt, n) == 0);

		cf_aead_seal(msg, key, ad, sizeof(ad), pt, n);
		memcpy(copy, msg, total);
		msg[total - 1] ^= 1;
		CHECK_ERR(cf_aead_open_inplace(msg, key, ad, sizeof(ad), total),
		    CF_ERR_CORRUPT);
		/* What failed is wiped, never left half decrypted. */
		CHECK(n < 16 || memcmp(msg + CF_NONCE_BYTES, pt, n) != 0);
		memcpy(msg, copy, total);
		CHECK_ERR(cf_aead_open_inplace(msg, key, "blob AD", sizeof(ad),
		    total), CF_ERR_CORRUPT);
		memcpy(msg, copy, total);
		CHECK_OK(cf_aead_open_inplace(msg, key, ad, sizeof(ad), total));
		CHECK(n == 0 || memcmp(msg + CF_NONCE_BYTES, pt, n) == 0);
		CHECK_ERR(cf_aead_open_inplace(msg, key, ad, sizeof(ad),
		    CF_AEAD_OVERHEAD - 1), CF_ERR_CORRUPT);
		free(pt);
		free(msg);
		free(out);
		free(copy);
	}
}

static void
test_aead_bitflips(void)
{
	enum { N = 48, CT = N + CF_AEAD_OVERHEAD };
	uint8_t key[CF_KEY_BYTES], pt[N], ct[CT], out[N];
	int accepted = 0, leaked = 0;

	cf_random(key, sizeof(key));
	for (int i = 0; i < N; i++)
		pt[i] = (uint8_t)(0x41 + i);
	cf_aead_seal(ct, key, "ad", 2, pt, N);
	for (int bit = 0; bit < CT * 8; bit++) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xee, sizeof(out));
		if (cf_aead_open(out, key, "ad", 2, ct, CT) != CF_ERR_CORRUPT)
			accepted++;
		/* Nothing of the plaintext is released on failure. */
		for (int i = 0; i < N; i++)
			leaked += out[i] == pt[i];
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(accepted == 0);
	CHECK(leaked == 0);
	CHECK_OK(cf_aead_open(out, key, "ad", 2, ct, CT));
	CHECK(memcmp(out, pt, N) == 0);
}

static void
test_seal(void)
{
	uint8_t pk[CF_BOX_PK_BYTES], sk[CF_BOX_SK_BYTES];
	uint8_t pk2[CF_BOX_PK_BYTES], sk2[CF_BOX_SK_BYTES];
	uint8_t key[CF_KEY_BYTES], back[CF_KEY_BYTES];
	uint8_t sealed[CF_SEALED_KEY_BYTES], sealed2[CF_SEALED_KEY_BYTES];
	uint8_t msg[100], box[100 + CF_SEAL_OVERHEAD], out[100];

	crypto_box_keypair(pk, sk);
	crypto_box_keypair(pk2, sk2);
	cf_random(key, sizeof(key));

	cf_seal_key(sealed, key, pk);
	CHECK_OK(cf_unseal_key(back, sealed, pk, sk));
	CHECK(memcmp(back, key, sizeof(key)) == 0);
	cf_seal_key(sealed2, key, pk);
	CHECK(memcmp(sealed, sealed2, sizeof(sealed)) != 0);
	CHECK_ERR(cf_unseal_key(back, sealed, pk2, sk2), CF_ERR_CORRUPT);
	CHECK_ERR(cf_unseal_key(back, sealed, pk, sk2), CF_ERR_CORRUPT);
	for (size_t i = 0; i < sizeof(sealed); i += 7) {
		sealed[i] ^= 0x10;
		CHECK_ERR(cf_unseal_key(back, sealed, pk, sk), CF_ERR_CORRUPT);
		sealed[i] ^= 0x10;
	}
	CHECK_OK(cf_unseal_key(back, sealed, pk, sk));

	cf_random(msg, sizeof(msg));
	cf_seal(box, msg, sizeof(msg), pk);
	CHECK_OK(cf_unseal(out, box, sizeof(box), pk, sk));
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	CHECK_ERR(cf_unseal(out, box, sizeof(box), pk2, sk2), CF_ERR_CORRUPT);
	CHECK_ERR(cf_unseal(out, box, sizeof(box) - 1, pk, sk),
	    CF_ERR_CORRUPT);
	box[CF_SEAL_OVERHEAD + 3] ^= 1;
	CHECK_ERR(cf_unseal(out, box, sizeof(box), pk, sk), CF_ERR_CORRUPT);
	CHECK_ERR(cf_unseal(out, box, CF_SEAL_OVERHEAD - 1, pk, sk),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_unseal(out, box, 0, pk, sk), CF_ERR_CORRUPT);

	/* An empty message seals to exactly the overhead. */
	cf_seal(box, msg, 0, pk);
	CHECK_OK(cf_unseal(out, box, CF_SEAL_OVERHEAD, pk, sk));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

static void
test_hash(void)
{
	uint8_t h[CF_HASH_BYTES], h2[CF_HASH_BYTES], key[CF_KEY_BYTES];
	uint8_t key2[CF_KEY_BYTES], out64[64], out16[16];
	static const uint8_t type = 1;

	/* BLAKE2b-256 known answers (computed independently). */
	cf_hash(h, "abc", 3);
	hex_is(h, sizeof(h), "bddd813c634239723171ef3fee98579b"
	    "94964e3bb1cb3e427262c8c068d52319");
	cf_hash(h, "", 0);
	hex_is(h, sizeof(h), "0e5751c026e543b2e8ab2eb06099daa1"
	    "d1e5df47778f7787faab45cdf12fe3a8");

	/* Keyed: BLAKE2b-256 keyed by key over a || b. */
	for (int i = 0; i < CF_KEY_BYTES; i++)
		key[i] = (uint8_t)i;
	cf_hash_keyed2(h, key, &type, 1, "hello world", 11);
	hex_is(h, sizeof(h), "edffc0b2d14e62f1be4fe8198e840553"
	    "5f1c8b6edaabf974fd51772be2baf7b2");
	crypto_generichash(h2, sizeof(h2),
	    (const uint8_t *)"\001hello world", 12, key, sizeof(key));
	CHECK(memcmp(h, h2, sizeof(h)) == 0);
	/* Only the concatenation counts. */
	cf_hash_keyed2(h2, key, "\001hello", 6, " world", 6);
	CHECK(memcmp(h, h2, sizeof(h)) == 0);
	cf_hash_keyed2(h2, key, "", 0, "\001hello world", 12);
	CHECK(memcmp(h, h2, sizeof(h)) == 0);

	/* A different key, a different id; the unkeyed hash differs too. */
	memcpy(key2, key, sizeof(key));
	key2[0] ^= 0x80;
	cf_hash_keyed2(h2, key2, &type, 1, "hello world", 11);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	cf_hash(h2, "\001hello world", 12);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	/* And a different type byte, a different id. */
	cf_hash_keyed2(h2, key, "\002", 1, "hello world", 11);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);

	/* Names: SHA-256 (FIPS 180-4 known answers), whole and streamed. */
	cf_name_hash(h, "abc", 3);
	hex_is(h, sizeof(h), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	cf_name_hash(h, "", 0);
	hex_is(h, sizeof(h), "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	{
		static uint8_t big[3 * 65536 + 17];
		struct cf_name_hasher st;

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7 + (i >> 9));
		cf_name_hash(h, big, sizeof(big));
		crypto_hash_sha256(h2, big, sizeof(big));
		CHECK(memcmp(h, h2, sizeof(h)) == 0);
		/* Pieces of every size give the same name. */
		for (size_t step = 1; step < sizeof(big); step = step * 3 + 1) {
			cf_name_hash_init(&st);
			for (size_t off = 0; off < sizeof(big); off += step)
				cf_name_hash_update(&st, big + off,
				    sizeof(big) - off < step ?
				    sizeof(big) - off : step);
			cf_name_hash_final(&st, h2);
			CHECK(memcmp(h, h2, sizeof(h)) == 0);
		}
	}

	/* Blob ids: HMAC-SHA-256 keyed by key over a || b (Python's hmac
	 * module gives the same answer), checked against libsodium's. */
	cf_mac2(h, key, &type, 1, "hello world", 11);
	hex_is(h, sizeof(h), "9b9baf1a4d0e31c7a9752e1ff8483751"
	    "1900a1a3cacf76dc4936e6110bfcea31");
	{
		crypto_auth_hmacsha256_state st;

		crypto_auth_hmacsha256_init(&st, key, sizeof(key));
		crypto_auth_hmacsha256_update(&st,
		    (const uint8_t *)"\001hello world", 12);
		crypto_auth_hmacsha256_final(&st, h2);
		CHECK(memcmp(h, h2, sizeof(h)) == 0);
	}
	cf_mac2(h2, key, "\001hello", 6, " world", 6);
	CHECK(memcmp(h, h2, sizeof(h)) == 0);
	cf_mac2(h2, key2, &type, 1, "hello world", 11);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	cf_mac2(h2, key, "\002", 1, "hello world", 11);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	cf_name_hash(h2, "\001hello world", 12);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);

	/* KDF: BLAKE2b keyed by key over the label. */
	cf_kdf(h, sizeof(h), key, "coffre test label");
	hex_is(h, sizeof(h), "f6d558e36186a919c21cb35afa582469"
	    "1f1d7de06e352e6c9340eb14e1767d54");
	cf_kdf(h2, sizeof(h2), key, "coffre test label2");
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	cf_kdf(h2, sizeof(h2), key2, "coffre test label");
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	cf_kdf(out64, sizeof(out64), key, "coffre test label");
	{
		uint8_t want[64];

		crypto_generichash(want, 64,
		    (const uint8_t *)"coffre test label", 17, key, 32);
		CHECK(memcmp(out64, want, 64) == 0);
		cf_kdf(out16, sizeof(out16), key, "coffre test label");
		crypto_generichash(want, 16,
		    (const uint8_t *)"coffre test label", 17, key, 32);
		CHECK(memcmp(out16, want, 16) == 0);
	}

	/* Random bytes are not constant. */
	cf_random(h, sizeof(h));
	cf_random(h2, sizeof(h2));
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
}

/*
 * Padmé as defined in Nikitin et al., "Reducing Metadata Leakage from
 * Encrypted Files and Communication with PURBs" (PETS 2019), written with
 * loops instead of bit tricks: E = floor(log2 L), S = floor(log2 E) + 1,
 * lastBits = E - S, mask = 2^lastBits - 1, result (L + mask) & ~mask.
 */
static uint64_t
ref_padme(uint64_t l)
{
	unsigned e = 0, s = 0;
	uint64_t mask;

	if (l < 2)
		return l;
	while ((l >> e) > 1)
		e++;
	while ((e >> s) > 0)
		s++;                    /* s = floor(log2 e) + 1 */
	mask = (UINT64_C(1) << (e - s)) - 1;
	return (l + mask) & ~mask;
}

static void
test_padme(void)
{
	static const struct {
		uint64_t n, padded;
	} known[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 7, 7 },
		{ 8, 8 }, { 9, 10 }, { 15, 16 }, { 16, 16 }, { 17, 18 },
		{ 33, 36 }, { 100, 104 }, { 1000, 1024 }, { 1023, 1024 },
		{ 1024, 1024 }, { 1025, 1088 }, { 65537, 67584 },
		{ 1000001, 1015808 },
		{ UINT64_C(4294967297), UINT64_C(4362076160) },
		{ UINT64_C(1000000000001), UINT64_C(1005022347264) },
		{ UINT64_C(1) << 63, UINT64_C(1) << 63 },
	};
	uint64_t prev = 0, bad_ref = 0, bad_order = 0, bad_overhead = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		CHECK(cf_padme(known[i].n) == known[i].padded);
		CHECK(ref_padme(known[i].n) == known[i].padded);
	}

	for (uint64_t n = 0; n < (1u << 20); n++) {
		uint64_t p = cf_padme(n);

		bad_ref += p != ref_padme(n);
		bad_order += p < n || p < prev;
		/* overhead <= 12% from 1 KiB on */
		bad_overhead += n >= 1024 && (p - n) * 100 > n * 12;
		prev = p;
	}
	CHECK(bad_ref == 0);
	CHECK(bad_order == 0);
	CHECK(bad_overhead == 0);

	/* Large sizes: random samples, and each side of powers of two. */
	for (int i = 0; i < 200000; i++) {
		uint64_t n, p;
		int shift = 10 + i % 53;

		randombytes_buf(&n, sizeof(n));
		n >>= 64 - shift;
		n |= UINT64_C(1) << (shift - 1);
		p = cf_padme(n);
		bad_ref += p != ref_padme(n);
		bad_order += p < n || cf_padme(n + 1) < p;
		bad_overhead += p - n > n / 25 * 3 + 3;        /* 12% */
	}
	for (int e = 2; e < 63; e++) {
		uint64_t t = UINT64_C(1) << e;

		bad_ref += cf_padme(t - 1) != ref_padme(t - 1);
		bad_ref += cf_padme(t) != t;
		bad_ref += cf_padme(t + 1) != ref_padme(t + 1);
		bad_order += cf_padme(t - 1) > t;
	}
	CHECK(bad_ref == 0);
	CHECK(bad_order == 0);
	CHECK(bad_overhead == 0);

	/* Near 2^64 there is no room to pad: saturate, never wrap below n. */
	CHECK(cf_padme(UINT64_MAX) == UINT64_MAX);
	CHECK(cf_padme(UINT64_MAX - 1) >= UINT64_MAX - 1);
	CHECK(cf_padme((UINT64_C(1) << 63) + 1) >= (UINT64_C(1) << 63) + 1);
}

int
main(void)
{
	if (cf_crypto_init() != CF_OK)
		return 1;
	test_aead();
	test_aead_inplace();
	test_aead_bitflips();
	test_seal();
	test_hash();
	test_padme();
	return check_done("crypto");
}
