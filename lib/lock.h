/*
 * lock.h: repository locks, objects "locks/<hex(SHA-256 of object)>".
 *
 * Lock, version 1:
 *   0   8   magic "COFFRELK"
 *   8   1   version = 1
 *   9   7   reserved, zero
 *   16  ... nonce(24) || XChaCha20-Poly1305(index key, ad = bytes [0,16),
 *           plaintext) || tag(16)
 *   plaintext = exclusive(u8) time(i64) pid(u32) author(32)
 *               hostlen(u8) host bytes
 * Backups take shared locks, prune takes an exclusive one.  A lock is stale
 * when older than CF_LOCK_STALE_SECONDS or when it names this host and a
 * process that no longer runs; holders refresh theirs well before that.
 */
#ifndef COFFRE_LOCK_H
#define COFFRE_LOCK_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"

#define CF_LOCK_STALE_SECONDS (30 * 60)
#define CF_LOCK_REFRESH_SECONDS (5 * 60)

struct cf_lock_info {
	uint8_t exclusive;
	int64_t time;
	uint32_t pid;
	uint8_t author[CF_SIGN_PK_BYTES];
	char host[256];
};

cf_status cf_lock_encode(const struct cf_lock_info *l,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_buf *out);
cf_status cf_lock_decode(const uint8_t *p, size_t n,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_lock_info *l);

#endif
