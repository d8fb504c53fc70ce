/* snapshot.c: signed, encrypted snapshot objects (see snapshot.h). */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SNAP_MAGIC "COFFRESN"
#define SNAP_VERSION 1
#define HEADER_BYTES 16
#define SEALED_OFF HEADER_BYTES
#define AEAD_OFF (SEALED_OFF + CF_SEALED_KEY_BYTES)    /* 96 */
/* The signed message is this prefix (exactly 16 bytes) and the body. */
#define SIGN_PREFIX "COFFRESN body v1"
#define SIGN_PREFIX_BYTES 16
#define NSEC_PER_SEC 1000000000u

_Static_assert(sizeof(SIGN_PREFIX) - 1 == SIGN_PREFIX_BYTES, "sign prefix");

static void
put_header(uint8_t h[HEADER_BYTES])
{
	memset(h, 0, HEADER_BYTES);
	memcpy(h, SNAP_MAGIC, 8);
	h[8] = SNAP_VERSION;
}

/* str_ok(s, what): CF_OK if ${s} fits a snapshot string. */
static cf_status
str_ok(const char *s, const char *what)
{
	if (s == NULL)
		return cf_error_set(CF_ERR_INVALID, "snapshot: no %s", what);
	if (strnlen(s, CF_SNAPSHOT_STR_MAX + 1) > CF_SNAPSHOT_STR_MAX)
		return cf_error_set(CF_ERR_INVALID,
		    "snapshot: %s longer than %d bytes", what,
		    CF_SNAPSHOT_STR_MAX);
	return CF_OK;
}

static cf_status
check_fields(const struct cf_snapshot *s)
{
	cf_status rc;

	if (s->time_nsec >= NSEC_PER_SEC)
		return cf_error_set(CF_ERR_INVALID, "snapshot: invalid time");
	if ((rc = str_ok(s->hostname, "host name")) != CF_OK ||
	    (rc = str_ok(s->username, "user name")) != CF_OK)
		return rc;
	if (s->npaths < 1 || s->npaths > CF_SNAPSHOT_PATHS_MAX ||
	    s->paths == NULL)
		return cf_error_set(CF_ERR_INVALID,
		    "snapshot: needs 1 to %d paths", CF_SNAPSHOT_PATHS_MAX);
	for (size_t i = 0; i < s->npaths; i++)
		if ((rc = str_ok(s->paths[i], "path")) != CF_OK)
			return rc;
	if (s->ntags > CF_SNAPSHOT_TAGS_MAX ||
	    (s->ntags > 0 && s->tags == NULL))
		return cf_error_set(CF_ERR_INVALID,
		    "snapshot: more than %d tags", CF_SNAPSHOT_TAGS_MAX);
	for (size_t i = 0; i < s->ntags; i++)
		if ((rc = str_ok(s->tags[i], "tag")) != CF_OK)
			return rc;
	return CF_OK;
}

static cf_status
add_str(struct cf_buf *b, const char *s)
{
	size_t len = strlen(s);
	cf_status rc;

	if ((rc = cf_buf_add_u16(b, (uint16_t)len)) != CF_OK)
		return rc;
	return cf_buf_append(b, s, len);
}

/* add_body(s, b): append the body of ${s} to ${b}. */
static cf_status
add_body(const struct cf_snapshot *s, struct cf_buf *b)
{
	cf_status rc;

	if ((rc = cf_buf_add_u64(b, (uint64_t)s->time_sec)) != CF_OK ||
	    (rc = cf_buf_add_u32(b, s->time_nsec)) != CF_OK ||
	    (rc = cf_buf_append(b, s->tree, CF_HASH_BYTES)) != CF_OK ||
	    (rc = cf_buf_append(b, s->author, CF_SIGN_PK_BYTES)) != CF_OK ||
	    (rc = add_str(b, s->hostname)) != CF_OK ||
	    (rc = add_str(b, s->username)) != CF_OK ||
	    (rc = cf_buf_add_u16(b, (uint16_t)s->npaths)) != CF_OK)
		return rc;
	for (size_t i = 0; i < s->npaths; i++)
		if ((rc = add_str(b, s->paths[i])) != CF_OK)
			return rc;
	if ((rc = cf_buf_add_u16(b, (uint16_t)s->ntags)) != CF_OK)
		return rc;
	for (size_t i = 0; i < s->ntags; i++)
		if ((rc = add_str(b, s->tags[i])) != CF_OK)
			return rc;
	if ((rc = cf_buf_add_u64(b, s->files)) != CF_OK ||
	    (rc = cf_buf_add_u64(b, s->dirs)) != CF_OK ||
	    (rc = cf_buf_add_u64(b, s->bytes)) != CF_OK)
		return rc;
	return CF_OK;
}

cf_status
cf_snapshot_encode(struct cf_snapshot *s, const struct cf_identity *author,
    const uint8_t repo_pk[CF_BOX_PK_BYTES], struct cf_buf *out)
{
	uint8_t key[CF_KEY_BYTES];
	struct cf_buf m;
	size_t ptlen, objlen;
	uint8_t *o;
	cf_status rc;

	if ((rc = check_fields(s)) != CF_OK)
		return rc;
	memcpy(s->author, cf_identity_public(author), CF_SIGN_PK_BYTES);

	/* m = prefix || body || signature; the plaintext follows the prefix. */
	cf_buf_init(&m, CF_SNAPSHOT_MAX);
	if ((rc = cf_buf_append(&m, SIGN_PREFIX, SIGN_PREFIX_BYTES)) != CF_OK ||
	    (rc = add_body(s, &m)) != CF_OK ||
	    (rc = cf_buf_reserve(&m, CF_SIG_BYTES)) != CF_OK)
		goto err0;
	cf_identity_sign(author, m.p, m.len, m.p + m.len);
	m.len += CF_SIG_BYTES;
	ptlen = m.len - SIGN_PREFIX_BYTES;
	objlen = AEAD_OFF + CF_AEAD_OVERHEAD + ptlen;
	if (objlen > CF_SNAPSHOT_MAX) {
		rc = cf_error_set(CF_ERR_INVALID, "snapshot too large");
		goto err0;
	}
	if ((rc = cf_buf_reserve(out, objlen)) != CF_OK)
		goto err0;

	o = out->p + out->len;
	put_header(o);
	cf_random(key, sizeof(key));
	cf_seal_key(o + SEALED_OFF, key, repo_pk);
	cf_aead_seal(o + AEAD_OFF, key, o, HEADER_BYTES,
	    m.p + SIGN_PREFIX_BYTES, ptlen);
	sodium_memzero(key, sizeof(key));
	cf_name_hash(s->id, o, objlen);
	out->len += objlen;
	rc = CF_OK;

err0:
	cf_buf_free(&m);
	return rc;
}

/* read_str(r, out): a str field as a new NUL-terminated string. */
static cf_status
read_str(struct cf_reader *r, char **out)
{
	const uint8_t *q;
	uint16_t len;

	len = cf_read_u16(r);
	if (len > CF_SNAPSHOT_STR_MAX)
		return cf_error_set(CF_ERR_CORRUPT,
		    "snapshot: string too long");
	if ((q = cf_read_ref(r, len)) == NULL)
		return cf_error_set(CF_ERR_CORRUPT, "snapshot: truncated");
	if (memchr(q, '\0', len) != NULL)
		return cf_error_set(CF_ERR_CORRUPT,
		    "snapshot: string contains a NUL byte");
	if ((*out = malloc((size_t)len + 1)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	memcpy(*out, q, len);
	(*out)[len] = '\0';
	return CF_OK;
}

/*
 * read_strs(r, min, max, list, count): a u16 count in ${min}..${max} and that
 * many strings.  *count is set before the strings are read, so that
 * cf_snapshot_free releases whatever was read on failure.
 */
static cf_status
read_strs(struct cf_reader *r, size_t min, size_t max, char ***list,
    size_t *count, const char *what)
{
	uint16_t k;
	cf_status rc;

	k = cf_read_u16(r);
	if (r->bad)
		return cf_error_set(CF_ERR_CORRUPT, "snapshot: truncated");
	/* Each string takes at least its 2-byte length. */
	if (k < min || k > max || k > cf_reader_left(r) / 2)
		return cf_error_set(CF_ERR_CORRUPT,
		    "snapshot: invalid number of %s (%u)", what, (unsigned)k);
	if (k == 0)
		return CF_OK;
	if ((*list = calloc(k, sizeof(**list))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	*count = k;
	for (size_t i = 0; i < k; i++)
		if ((rc = read_str(r, &(*list)[i])) != CF_OK)
			return rc;
	return CF_OK;
}

/* parse_body(p, n, s): fill ${s} from a body of exactly ${n} bytes. */
static cf_status
parse_body(const uint8_t *p, size_t n, struct cf_snapshot *s)
{
	struct cf_reader r;
	cf_status rc;

	cf_reader_init(&r, p, n);
	s->time_sec = (int64_t)cf_read_u64(&r);
	s->time_nsec = cf_read_u32(&r);
	cf_read_bytes(&r, s->tree, CF_HASH_BYTES);
	cf_read_bytes(&r, s->author, CF_SIGN_PK_BYTES);
	if (r.bad)
		return cf_error_set(CF_ERR_CORRUPT, "snapshot: truncated");
	if (s->time_nsec >= NSEC_PER_SEC)
		return cf_error_set(CF_ERR_CORRUPT, "snapshot: invalid time");
	if ((rc = read_str(&r, &s->hostname)) != CF_OK ||
	    (rc = read_str(&r, &s->username)) != CF_OK ||
	    (rc = read_strs(&r, 1, CF_SNAPSHOT_PATHS_MAX, &s->paths,
	    &s->npaths, "paths")) != CF_OK ||
	    (rc = read_strs(&r, 0, CF_SNAPSHOT_TAGS_MAX, &s->tags,
	    &s->ntags, "tags")) != CF_OK)
		return rc;
	s->files = cf_read_u64(&r);
	s->dirs = cf_read_u64(&r);
	s->bytes = cf_read_u64(&r);
	return cf_reader_done(&r, "snapshot");
}

cf_status
cf_snapshot_decode(const uint8_t *p, size_t n,
    const uint8_t repo_pk[CF_BOX_PK_BYTES],
    const uint8_t repo_sk[CF_BOX_SK_BYTES], struct cf_snapshot *s)
{
	static const uint8_t zero[7];
	uint8_t key[CF_KEY_BYTES];
	uint8_t *m = NULL;
	size_t ctlen, ptlen, bodylen;
	cf_status rc;

	memset(s, 0, sizeof(*s));
	if (n < 9 || memcmp(p, SNAP_MAGIC, 8) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "not a coffre snapshot");
	if (p[8] != SNAP_VERSION)
		return cf_error_set(CF_ERR_VERSION,
		    "snapshot format version %u is not supported by this "
		    "coffre (it reads version %d); upgrade coffre",
		    (unsigned)p[8], SNAP_VERSION);
	if (n > CF_SNAPSHOT_MAX)
		return cf_error_set(CF_ERR_CORRUPT, "snapshot too large");
	if (n < AEAD_OFF + CF_AEAD_OVERHEAD + CF_SIG_BYTES)
		return cf_error_set(CF_ERR_CORRUPT, "snapshot: truncated");
	if (memcmp(p + 9, zero, sizeof(zero)) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "snapshot: reserved bytes are not zero");

	if (cf_unseal_key(key, p + SEALED_OFF, repo_pk, repo_sk) != CF_OK)
		return cf_error_set(CF_ERR_CORRUPT,
		    "snapshot cannot be opened with this repository's key");
	ctlen = n - AEAD_OFF;
	ptlen = ctlen - CF_AEAD_OVERHEAD;
	/* m = prefix || plaintext, so the signed message is contiguous. */
	if ((m = malloc(SIGN_PREFIX_BYTES + ptlen)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	memcpy(m, SIGN_PREFIX, SIGN_PREFIX_BYTES);
	if (cf_aead_open(m + SIGN_PREFIX_BYTES, key, p, HEADER_BYTES,
	    p + AEAD_OFF, ctlen) != CF_OK) {
		rc = cf_error_set(CF_ERR_CORRUPT,
		    "snapshot is damaged (authentication failed)");
		goto err;
	}
	sodium_memzero(key, sizeof(key));

	bodylen = ptlen - CF_SIG_BYTES;
	if ((rc = parse_body(m + SIGN_PREFIX_BYTES, bodylen, s)) != CF_OK)
		goto err;
	if (cf_sig_verify(s->author, m, SIGN_PREFIX_BYTES + bodylen,
	    m + SIGN_PREFIX_BYTES + bodylen) != CF_OK) {
		rc = cf_error_set(CF_ERR_CORRUPT, "snapshot signature does "
		    "not verify: it was not made by the identity it names");
		goto err;
	}
	cf_name_hash(s->id, p, n);
	sodium_memzero(m, SIGN_PREFIX_BYTES + ptlen);
	free(m);
	return CF_OK;

err:
	sodium_memzero(key, sizeof(key));
	if (m != NULL) {
		sodium_memzero(m, SIGN_PREFIX_BYTES + ptlen);
		free(m);
	}
	cf_snapshot_free(s);
	return rc;
}

void
cf_snapshot_free(struct cf_snapshot *s)
{
	free(s->hostname);
	free(s->username);
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	for (size_t i = 0; i < s->ntags; i++)
		free(s->tags[i]);
	free(s->tags);
	memset(s, 0, sizeof(*s));
}
