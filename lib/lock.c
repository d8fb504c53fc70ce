/* lock.c: repository lock objects, encoded and parsed (see lock.h). */
#include "lock.h"

#include <string.h>

#include <sodium.h>

#define LOCK_MAGIC "COFFRELK"
#define LOCK_VERSION 1
#define HEADER_BYTES 16
#define HOST_MAX 255
/* exclusive(1) time(8) pid(4) author(32) hostlen(1) */
#define PLAIN_FIXED (1 + 8 + 4 + CF_SIGN_PK_BYTES + 1)
#define PLAIN_MAX (PLAIN_FIXED + HOST_MAX)
#define LOCK_MIN (HEADER_BYTES + CF_AEAD_OVERHEAD + PLAIN_FIXED)
#define LOCK_MAX (HEADER_BYTES + CF_AEAD_OVERHEAD + PLAIN_MAX)

static void
put_header(uint8_t h[HEADER_BYTES])
{
	memset(h, 0, HEADER_BYTES);
	memcpy(h, LOCK_MAGIC, 8);
	h[8] = LOCK_VERSION;
}

cf_status
cf_lock_encode(const struct cf_lock_info *l,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_buf *out)
{
	uint8_t pt[PLAIN_MAX], obj[LOCK_MAX];
	size_t hostlen, ptlen, objlen;
	cf_status rc;

	if (l->exclusive > 1)
		return cf_error_set(CF_ERR_INVALID,
		    "lock: exclusive must be 0 or 1");
	hostlen = strnlen(l->host, sizeof(l->host));
	if (hostlen > HOST_MAX)
		return cf_error_set(CF_ERR_INVALID,
		    "lock: host name longer than %d bytes", HOST_MAX);

	pt[0] = l->exclusive;
	cf_put_u64(pt + 1, (uint64_t)l->time);
	cf_put_u32(pt + 9, l->pid);
	memcpy(pt + 13, l->author, CF_SIGN_PK_BYTES);
	pt[13 + CF_SIGN_PK_BYTES] = (uint8_t)hostlen;
	memcpy(pt + PLAIN_FIXED, l->host, hostlen);
	ptlen = PLAIN_FIXED + hostlen;

	put_header(obj);
	cf_aead_seal(obj + HEADER_BYTES, index_key, obj, HEADER_BYTES, pt,
	    ptlen);
	objlen = HEADER_BYTES + CF_AEAD_OVERHEAD + ptlen;
	rc = cf_buf_append(out, obj, objlen);
	sodium_memzero(pt, sizeof(pt));
	return rc;
}

cf_status
cf_lock_decode(const uint8_t *p, size_t n,
    const uint8_t index_key[CF_KEY_BYTES], struct cf_lock_info *l)
{
	static const uint8_t zero[7];
	uint8_t pt[PLAIN_MAX];
	struct cf_reader r;
	struct cf_lock_info t;
	const uint8_t *host;
	size_t ptlen;
	uint8_t hostlen;
	cf_status rc;

	memset(l, 0, sizeof(*l));
	if (n < 9 || memcmp(p, LOCK_MAGIC, 8) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "not a coffre lock");
	if (p[8] != LOCK_VERSION)
		return cf_error_set(CF_ERR_VERSION, "lock format version %u is "
		    "not supported by this coffre (it reads version %d); "
		    "upgrade coffre", (unsigned)p[8], LOCK_VERSION);
	if (n < LOCK_MIN || n > LOCK_MAX)
		return cf_error_set(CF_ERR_CORRUPT, "lock: invalid size");
	if (memcmp(p + 9, zero, sizeof(zero)) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "lock: reserved bytes are not zero");
	ptlen = n - HEADER_BYTES - CF_AEAD_OVERHEAD;
	if (cf_aead_open(pt, index_key, p, HEADER_BYTES, p + HEADER_BYTES,
	    n - HEADER_BYTES) != CF_OK) {
		rc = cf_error_set(CF_ERR_CORRUPT,
		    "lock is damaged or belongs to another repository");
		goto out;
	}

	memset(&t, 0, sizeof(t));
	cf_reader_init(&r, pt, ptlen);
	t.exclusive = cf_read_u8(&r);
	t.time = (int64_t)cf_read_u64(&r);
	t.pid = cf_read_u32(&r);
	cf_read_bytes(&r, t.author, CF_SIGN_PK_BYTES);
	hostlen = cf_read_u8(&r);
	host = cf_read_ref(&r, hostlen);
	if ((rc = cf_reader_done(&r, "lock")) != CF_OK)
		goto out;
	if (t.exclusive > 1 || memchr(host, '\0', hostlen) != NULL) {
		rc = cf_error_set(CF_ERR_CORRUPT, "lock: invalid contents");
		goto out;
	}
	memcpy(t.host, host, hostlen);
	t.host[hostlen] = '\0';
	*l = t;
	rc = CF_OK;

out:
	sodium_memzero(pt, sizeof(pt));
	return rc;
}
