/*
 * fuzz_lock.c: lock objects (cf_lock_decode) under a fixed index key.
 *
 * First byte even: the rest is a lock object as read from a backend.
 * First byte odd: the rest is a lock's plaintext, encrypted here with the
 * fixed key so that the parser behind the authentication is reached.
 * A lock that decodes must re-encode to a lock that decodes the same.
 * Seeds in corpus/lock are made with the same key (all bytes 0x4c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"

#define WRAP_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_lock(const uint8_t *p, size_t n, const uint8_t key[CF_KEY_BYTES])
{
	struct cf_lock_info l, m;
	struct cf_buf b;

	if (cf_lock_decode(p, n, key, &l) != CF_OK)
		return;
	cf_buf_init(&b, 4096);
	if (cf_lock_encode(&l, key, &b) != CF_OK ||
	    cf_lock_decode(b.p, b.len, key, &m) != CF_OK ||
	    l.exclusive != m.exclusive || l.time != m.time ||
	    l.pid != m.pid || memcmp(l.author, m.author, sizeof(l.author)) ||
	    strcmp(l.host, m.host) != 0 || b.len != n)
		abort();
	cf_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[CF_KEY_BYTES], obj[16 + CF_AEAD_OVERHEAD + WRAP_MAX];
	static const uint8_t h[16] = "COFFRELK\x01";

	if (cf_crypto_init() != CF_OK || size == 0)
		return 0;
	memset(key, 0x4c, sizeof(key));
	if ((data[0] & 1) == 0) {
		check_lock(data + 1, size - 1, key);
		return 0;
	}
	if (size - 1 > WRAP_MAX)
		return 0;
	memcpy(obj, h, sizeof(h));
	cf_aead_seal(obj + 16, key, h, sizeof(h), data + 1, size - 1);
	check_lock(obj, 16 + CF_AEAD_OVERHEAD + size - 1, key);
	return 0;
}
