/* test_lock.c: lock objects: roundtrip, tampering, versions, limits. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "lock.h"

static uint8_t key[CF_KEY_BYTES];

static void
sample(struct cf_lock_info *l)
{
	memset(l, 0, sizeof(*l));
	l->exclusive = 1;
	l->time = 1700000000;
	l->pid = 4242;
	memset(l->author, 0x5a, sizeof(l->author));
	strcpy(l->host, "cabinet-dr-martin");
}

static int
same(const struct cf_lock_info *a, const struct cf_lock_info *b)
{
	return a->exclusive == b->exclusive && a->time == b->time &&
	    a->pid == b->pid &&
	    memcmp(a->author, b->author, sizeof(a->author)) == 0 &&
	    strcmp(a->host, b->host) == 0;
}

static void
test_roundtrip(void)
{
	struct cf_lock_info l, m;
	struct cf_buf b;

	sample(&l);
	cf_buf_init(&b, 4096);
	CHECK_OK(cf_lock_encode(&l, key, &b));
	CHECK(b.len == 16 + 40 + 46 + strlen(l.host));
	CHECK(memcmp(b.p, "COFFRELK\x01\0\0\0\0\0\0\0", 16) == 0);
	CHECK(memmem(b.p, b.len, "cabinet", 7) == NULL);   /* encrypted */
	CHECK_OK(cf_lock_decode(b.p, b.len, key, &m));
	CHECK(same(&l, &m));

	/* Shared lock, empty host, negative time, longest host. */
	l.exclusive = 0;
	l.time = -3;
	l.host[0] = '\0';
	cf_buf_reset(&b);
	CHECK_OK(cf_lock_encode(&l, key, &b));
	CHECK_OK(cf_lock_decode(b.p, b.len, key, &m));
	CHECK(same(&l, &m));
	memset(l.host, 'h', 255);
	l.host[255] = '\0';
	cf_buf_reset(&b);
	CHECK_OK(cf_lock_encode(&l, key, &b));
	CHECK_OK(cf_lock_decode(b.p, b.len, key, &m));
	CHECK(same(&l, &m) && strlen(m.host) == 255);

	/* Refused on encode. */
	l.host[255] = 'h';      /* no terminator in the 256 bytes */
	CHECK_ERR(cf_lock_encode(&l, key, &b), CF_ERR_INVALID);
	sample(&l);
	l.exclusive = 2;
	CHECK_ERR(cf_lock_encode(&l, key, &b), CF_ERR_INVALID);
	cf_buf_free(&b);
}

static void
test_damage(void)
{
	struct cf_lock_info l, m;
	struct cf_buf b;
	uint8_t other[CF_KEY_BYTES];
	uint8_t *c;

	sample(&l);
	cf_buf_init(&b, 4096);
	CHECK_OK(cf_lock_encode(&l, key, &b));
	c = malloc(b.len + 1);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	memcpy(c, b.p, b.len);

	for (size_t len = 0; len < b.len; len++) {
		CHECK_ERR(cf_lock_decode(c, len, key, &m), CF_ERR_CORRUPT);
		CHECK(m.pid == 0 && m.host[0] == '\0');
	}
	c[b.len] = 0;
	CHECK_ERR(cf_lock_decode(c, b.len + 1, key, &m), CF_ERR_CORRUPT);

	/* Every bit flip anywhere is refused. */
	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			cf_status rc;
			c[i] ^= (uint8_t)(1 << bit);
			rc = cf_lock_decode(c, b.len, key, &m);
			CHECK(rc == (i == 8 ? CF_ERR_VERSION : CF_ERR_CORRUPT));
			c[i] ^= (uint8_t)(1 << bit);
		}
	}
	for (int v = 0; v < 256; v++) {
		if (v == 1)
			continue;
		c[8] = (uint8_t)v;
		CHECK_ERR(cf_lock_decode(c, b.len, key, &m), CF_ERR_VERSION);
	}
	c[8] = 1;
	CHECK_OK(cf_lock_decode(c, b.len, key, &m));
	CHECK(same(&l, &m));

	/* Another repository's index key. */
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	CHECK_ERR(cf_lock_decode(c, b.len, other, &m), CF_ERR_CORRUPT);
	free(c);
	cf_buf_free(&b);
}

/* seal(pt, n, b): a lock object around arbitrary plaintext. */
static void
seal(const uint8_t *pt, size_t n, struct cf_buf *b)
{
	uint8_t h[16] = "COFFRELK\x01";

	cf_buf_reset(b);
	CHECK_OK(cf_buf_reserve(b, 16 + CF_AEAD_OVERHEAD + n));
	memcpy(b->p, h, 16);
	cf_aead_seal(b->p + 16, key, h, 16, pt, n);
	b->len = 16 + CF_AEAD_OVERHEAD + n;
}

static void
test_bad_plaintext(void)
{
	struct cf_lock_info m;
	struct cf_buf b;
	uint8_t pt[46 + 300];

	cf_buf_init(&b, 4096);
	memset(pt, 0, sizeof(pt));
	pt[45] = 3;
	memcpy(pt + 46, "abc", 3);
	seal(pt, 49, &b);
	CHECK_OK(cf_lock_decode(b.p, b.len, key, &m));
	CHECK(strcmp(m.host, "abc") == 0);
	seal(pt, 48, &b);       /* host shorter than its length */
	CHECK_ERR(cf_lock_decode(b.p, b.len, key, &m), CF_ERR_CORRUPT);
	seal(pt, 50, &b);       /* trailing byte */
	CHECK_ERR(cf_lock_decode(b.p, b.len, key, &m), CF_ERR_CORRUPT);
	pt[47] = '\0';          /* NUL inside the host */
	seal(pt, 49, &b);
	CHECK_ERR(cf_lock_decode(b.p, b.len, key, &m), CF_ERR_CORRUPT);
	pt[47] = 'b';
	pt[0] = 2;              /* exclusive neither 0 nor 1 */
	seal(pt, 49, &b);
	CHECK_ERR(cf_lock_decode(b.p, b.len, key, &m), CF_ERR_CORRUPT);
	pt[0] = 0;
	seal(pt, 45, &b);       /* no host length */
	CHECK_ERR(cf_lock_decode(b.p, b.len, key, &m), CF_ERR_CORRUPT);
	seal(pt, 46 + 256, &b); /* too large */
	CHECK_ERR(cf_lock_decode(b.p, b.len, key, &m), CF_ERR_CORRUPT);
	cf_buf_free(&b);
}

int
main(void)
{
	CHECK_OK(cf_crypto_init());
	cf_random(key, sizeof(key));
	test_roundtrip();
	test_damage();
	test_bad_plaintext();
	return check_done("lock");
}
