/*
 * identity.c: identities, identity files, public identity strings and
 * fingerprints (see identity.h for the formats).
 *
 * The whole struct cf_identity lives in one sodium_malloc'ed block (guard
 * pages, mlock'ed, wiped by sodium_free).  The passphrase-derived key is in
 * its own guarded block for the few microseconds it exists.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define ID_MAGIC "COFFREID"
#define ID_MAGIC_LEN 8
#define ID_VERSION 1
#define ID_KDF_ARGON2ID13 1
#define ID_SALT_BYTES 16
#define ID_SEED_BYTES 32
#define ID_HEAD_BYTES 45                        /* up to the name length */
#define ID_BOX_BYTES (ID_SEED_BYTES + CF_AEAD_OVERHEAD)         /* 72 */
#define ID_FILE_BYTES(n) (ID_HEAD_BYTES + (n) + CF_SIGN_PK_BYTES + ID_BOX_BYTES)

#define ID_OPS_MIN 1
#define ID_OPS_MAX 64
#define ID_MEM_MIN (UINT64_C(8) * 1024)
#define ID_MEM_MAX (UINT64_C(4) * 1024 * 1024 * 1024)

#define PUBID_PREFIX "coffre1"
#define PUBID_PREFIX_LEN 7
#define PUBID_CHECK_BYTES 3
#define PUBID_RAW_BYTES (CF_SIGN_PK_BYTES + PUBID_CHECK_BYTES)  /* 35 */
#define PUBID_B32_LEN 56                        /* 35 * 8 / 5, no padding */

#define FPR_LABEL "coffre fingerprint v1"

_Static_assert(ID_FILE_BYTES(CF_NAME_MAX) == CF_IDENTITY_FILE_MAX,
    "identity file size");
_Static_assert(ID_SEED_BYTES == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(CF_SIGN_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "sign pk size");
_Static_assert(CF_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "sign sk size");
_Static_assert(CF_BOX_PK_BYTES == crypto_box_PUBLICKEYBYTES, "box pk size");
_Static_assert(CF_BOX_SK_BYTES == crypto_box_SECRETKEYBYTES, "box sk size");
_Static_assert(ID_SALT_BYTES == crypto_pwhash_argon2id_SALTBYTES, "salt size");
_Static_assert(ID_OPS_MIN >= crypto_pwhash_argon2id_OPSLIMIT_MIN, "ops min");
_Static_assert(ID_MEM_MIN >= crypto_pwhash_argon2id_MEMLIMIT_MIN, "mem min");
_Static_assert(PUBID_PREFIX_LEN + PUBID_B32_LEN == CF_PUBID_LEN, "pubid len");
_Static_assert(PUBID_B32_LEN * 5 == PUBID_RAW_BYTES * 8, "pubid bits");

struct cf_identity {
	uint8_t seed[ID_SEED_BYTES];
	uint8_t sk[CF_SIGN_SK_BYTES];
	uint8_t pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	char name[CF_NAME_MAX + 1];
};

/* The fields of an identity file, pointing into the caller's bytes. */
struct id_header {
	uint64_t ops;
	uint64_t mem;
	const uint8_t *salt;
	const uint8_t *name;
	size_t namelen;
	const uint8_t *pk;
	const uint8_t *box;
	size_t adlen;                   /* bytes [0, adlen) are authenticated */
};

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/*
 * name_ok(p, n): 1 if ${p} is at most CF_NAME_MAX bytes of well-formed UTF-8
 * (no overlong forms, no surrogates, nothing above U+10FFFF) without C0 or
 * C1 control characters or DEL, else 0.  Names end up on terminals.
 */
static int
name_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (n > CF_NAME_MAX)
		return 0;
	while (i < n) {
		uint32_t c = p[i], min;
		size_t len;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len > n - i)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    (c >= 0x80 && c <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

static cf_status
check_costs(uint64_t ops, uint64_t mem, cf_status code)
{
	if (ops < ID_OPS_MIN || ops > ID_OPS_MAX)
		return cf_error_set(code, "passphrase key derivation cost out "
		    "of range: %" PRIu64 " passes (allowed %d to %d)", ops,
		    ID_OPS_MIN, ID_OPS_MAX);
	if (mem < ID_MEM_MIN || mem > ID_MEM_MAX || mem > SIZE_MAX)
		return cf_error_set(code, "passphrase key derivation cost out "
		    "of range: %" PRIu64 " bytes of memory (allowed 8 KiB to "
		    "4 GiB)", mem);
	return CF_OK;
}

static struct cf_identity *
identity_alloc(void)
{
	struct cf_identity *id;

	if ((id = sodium_malloc(sizeof(*id))) == NULL)
		return NULL;
	sodium_memzero(id, sizeof(*id));
	return id;
}

/*
 * derive_key(key, pass, passlen, salt, ops, mem): Argon2id into ${key}.
 * The costs have been checked by the caller.
 */
static cf_status
derive_key(uint8_t key[CF_KEY_BYTES], const char *pass, size_t passlen,
    const uint8_t salt[ID_SALT_BYTES], uint64_t ops, uint64_t mem)
{
	if (pass == NULL) {
		if (passlen != 0)
			return cf_error_set(CF_ERR_INVALID, "no passphrase given");
		pass = "";
	}
	if (crypto_pwhash(key, CF_KEY_BYTES, pass, passlen, salt, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return cf_error_set(CF_ERR_NOMEM, "not enough memory to derive "
		    "the key from the passphrase (%" PRIu64 " MiB needed)",
		    mem >> 20);
	return CF_OK;
}

cf_status
cf_identity_generate(const char *name, struct cf_identity **out)
{
	struct cf_identity *id;
	size_t namelen;
	cf_status rc;

	*out = NULL;
	if ((rc = cf_crypto_init()) != CF_OK)
		return rc;
	if (name == NULL)
		name = "";
	namelen = strlen(name);
	if (namelen > CF_NAME_MAX)
		return cf_error_set(CF_ERR_INVALID, "identity name is too long "
		    "(%zu bytes; at most %d)", namelen, CF_NAME_MAX);
	if (!name_ok((const uint8_t *)name, namelen))
		return cf_error_set(CF_ERR_INVALID, "identity name must be "
		    "UTF-8 text without control characters");
	if ((id = identity_alloc()) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	randombytes_buf(id->seed, sizeof(id->seed));
	crypto_sign_seed_keypair(id->pk, id->sk, id->seed);
	if (crypto_sign_ed25519_pk_to_curve25519(id->box_pk, id->pk) != 0) {
		cf_identity_free(id);
		return cf_error_set(CF_ERR_IO, "key generation failed");
	}
	memcpy(id->name, name, namelen);
	*out = id;
	return CF_OK;
}

cf_status
cf_identity_encode(const struct cf_identity *id, const char *pass,
    size_t passlen, uint64_t ops, uint64_t mem, struct cf_buf *out)
{
	uint8_t salt[ID_SALT_BYTES];
	uint8_t *key;
	size_t namelen, start = out->len;
	cf_status rc;

	if ((rc = check_costs(ops, mem, CF_ERR_INVALID)) != CF_OK)
		return rc;
	namelen = strlen(id->name);
	if (!name_ok((const uint8_t *)id->name, namelen))
		return cf_error_set(CF_ERR_INVALID, "identity name must be "
		    "UTF-8 text without control characters");
	/* Reserve everything first: the AEAD output goes straight in. */
	if ((rc = cf_buf_reserve(out, ID_FILE_BYTES(namelen))) != CF_OK)
		return rc;
	if ((key = sodium_malloc(CF_KEY_BYTES)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	randombytes_buf(salt, sizeof(salt));
	if ((rc = derive_key(key, pass, passlen, salt, ops, mem)) != CF_OK)
		goto err;
	if ((rc = cf_buf_append(out, ID_MAGIC, ID_MAGIC_LEN)) != CF_OK ||
	    (rc = cf_buf_add_u8(out, ID_VERSION)) != CF_OK ||
	    (rc = cf_buf_add_u8(out, ID_KDF_ARGON2ID13)) != CF_OK ||
	    (rc = cf_buf_add_u16(out, 0)) != CF_OK ||
	    (rc = cf_buf_add_u64(out, ops)) != CF_OK ||
	    (rc = cf_buf_add_u64(out, mem)) != CF_OK ||
	    (rc = cf_buf_append(out, salt, sizeof(salt))) != CF_OK ||
	    (rc = cf_buf_add_u8(out, (uint8_t)namelen)) != CF_OK ||
	    (rc = cf_buf_append(out, id->name, namelen)) != CF_OK ||
	    (rc = cf_buf_append(out, id->pk, CF_SIGN_PK_BYTES)) != CF_OK)
		goto err;
	cf_aead_seal(out->p + out->len, key, out->p + start, out->len - start,
	    id->seed, ID_SEED_BYTES);
	out->len += ID_BOX_BYTES;
	sodium_free(key);
	return CF_OK;

err:
	sodium_free(key);
	out->len = start;
	return rc;
}

/*
 * parse_header(p, n, h): check the structure of an identity file and point
 * ${h} at its fields.  Refuses costs out of range before anyone derives a
 * key, so a hostile file cannot make us allocate without bound.
 */
static cf_status
parse_header(const uint8_t *p, size_t n, struct id_header *h)
{
	struct cf_reader r;
	const uint8_t *magic;
	unsigned version, kdf;
	cf_status rc;

	cf_reader_init(&r, p, n);
	magic = cf_read_ref(&r, ID_MAGIC_LEN);
	if (magic == NULL || memcmp(magic, ID_MAGIC, ID_MAGIC_LEN) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "not a coffre identity file");
	version = cf_read_u8(&r);
	kdf = cf_read_u8(&r);
	if (r.bad)
		return cf_error_set(CF_ERR_CORRUPT,
		    "identity file is truncated");
	if (version != ID_VERSION)
		return cf_error_set(CF_ERR_VERSION, "identity file has format "
		    "version %u; this build reads version %d", version,
		    ID_VERSION);
	if (kdf != ID_KDF_ARGON2ID13)
		return cf_error_set(CF_ERR_VERSION, "identity file uses an "
		    "unknown passphrase key derivation (%u)", kdf);
	if (cf_read_u16(&r) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "identity file is damaged "
		    "(reserved field is not zero)");
	h->ops = cf_read_u64(&r);
	h->mem = cf_read_u64(&r);
	if (r.bad)
		return cf_error_set(CF_ERR_CORRUPT,
		    "identity file is truncated");
	if ((rc = check_costs(h->ops, h->mem, CF_ERR_CORRUPT)) != CF_OK)
		return cf_error_prefix("identity file is damaged or hostile: ");
	h->salt = cf_read_ref(&r, ID_SALT_BYTES);
	h->namelen = cf_read_u8(&r);
	h->name = cf_read_ref(&r, h->namelen);
	h->pk = cf_read_ref(&r, CF_SIGN_PK_BYTES);
	h->adlen = r.off;
	h->box = cf_read_ref(&r, ID_BOX_BYTES);
	if ((rc = cf_reader_done(&r, "identity file")) != CF_OK)
		return rc;
	if (!name_ok(h->name, h->namelen))
		return cf_error_set(CF_ERR_CORRUPT, "identity file is damaged "
		    "(its name is not UTF-8 text without control characters)");
	return CF_OK;
}

cf_status
cf_identity_decode(const uint8_t *p, size_t n, const char *pass,
    size_t passlen, struct cf_identity **out)
{
	struct id_header h;
	struct cf_identity *id = NULL;
	uint8_t *key = NULL;
	uint8_t pk[CF_SIGN_PK_BYTES];
	cf_status rc;

	*out = NULL;
	if ((rc = cf_crypto_init()) != CF_OK)
		return rc;
	if ((rc = parse_header(p, n, &h)) != CF_OK)
		return rc;
	if ((id = identity_alloc()) == NULL ||
	    (key = sodium_malloc(CF_KEY_BYTES)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
		goto err;
	}
	if ((rc = derive_key(key, pass, passlen, h.salt, h.ops, h.mem)) !=
	    CF_OK)
		goto err;
	if (cf_aead_open(id->seed, key, p, h.adlen, h.box, ID_BOX_BYTES) !=
	    CF_OK) {
		rc = cf_error_set(CF_ERR_PASSPHRASE,
		    "wrong passphrase for identity file");
		goto err;
	}
	crypto_sign_seed_keypair(pk, id->sk, id->seed);
	if (sodium_memcmp(pk, h.pk, CF_SIGN_PK_BYTES) != 0) {
		rc = cf_error_set(CF_ERR_CORRUPT, "identity file is damaged "
		    "(its secret key does not match its public key)");
		goto err;
	}
	memcpy(id->pk, pk, CF_SIGN_PK_BYTES);
	if (crypto_sign_ed25519_pk_to_curve25519(id->box_pk, id->pk) != 0) {
		rc = cf_error_set(CF_ERR_CORRUPT, "identity file is damaged "
		    "(unusable public key)");
		goto err;
	}
	memcpy(id->name, h.name, h.namelen);
	sodium_free(key);
	*out = id;
	return CF_OK;

err:
	if (key != NULL)
		sodium_free(key);
	cf_identity_free(id);
	return rc;
}

cf_status
cf_identity_peek(const uint8_t *p, size_t n,
    uint8_t pk[CF_SIGN_PK_BYTES], char name[CF_NAME_MAX + 1])
{
	struct id_header h;
	cf_status rc;

	if ((rc = parse_header(p, n, &h)) != CF_OK)
		return rc;
	memcpy(pk, h.pk, CF_SIGN_PK_BYTES);
	memcpy(name, h.name, h.namelen);
	name[h.namelen] = '\0';
	return CF_OK;
}

/* write_all(fd, p, n): write every byte, retrying on EINTR; -1 on error. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* fsync_parent(path): make the directory entry of ${path} durable. */
static cf_status
fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	size_t len;
	int fd;

	if (slash == NULL)
		dir = strdup(".");
	else {
		len = slash == path ? 1 : (size_t)(slash - path);
		if ((dir = malloc(len + 1)) != NULL) {
			memcpy(dir, path, len);
			dir[len] = '\0';
		}
	}
	if (dir == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return cf_error_set(CF_ERR_IO, "cannot open the identity "
		    "file's directory: %s", strerror(errno));
	/*
	 * Some filesystems cannot sync a directory (EINVAL, ENOTSUP,
	 * EOPNOTSUPP): nothing to do.
	 */
	if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP &&
	    errno != EOPNOTSUPP) {
		int e = errno;
		close(fd);
		return cf_error_set(CF_ERR_IO, "cannot sync the identity "
		    "file's directory: %s", strerror(e));
	}
	close(fd);
	return CF_OK;
}

cf_status
cf_identity_save(const struct cf_identity *id, const char *path,
    const char *pass, size_t passlen, uint64_t ops, uint64_t mem)
{
	struct cf_buf b;
	cf_status rc;
	int fd;

	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	if ((rc = cf_identity_encode(id, pass, passlen, ops, mem, &b)) !=
	    CF_OK)
		goto done;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		if (errno == EEXIST)
			rc = cf_error_set(CF_ERR_EXISTS,
			    "identity file already exists; not replacing it");
		else
			rc = cf_error_set(CF_ERR_IO,
			    "cannot create identity file: %s", strerror(errno));
		goto done;
	}
	/* Exactly 0600 whatever the umask: the owner must be able to read it. */
	if (fchmod(fd, 0600) != 0 || write_all(fd, b.p, b.len) != 0 ||
	    fsync(fd) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot write identity file: %s",
		    strerror(errno));
		close(fd);
		goto unlink;
	}
	if (close(fd) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot write identity file: %s",
		    strerror(errno));
		goto unlink;
	}
	/* The file is complete: keep it even if its directory cannot sync. */
	if ((rc = fsync_parent(path)) != CF_OK)
		cf_error_prefix("the identity file was written, but ");
	goto done;

unlink:
	unlink(path);
done:
	cf_buf_free(&b);
	return rc;
}

cf_status
cf_identity_read_file(const char *path, struct cf_buf *out)
{
	uint8_t tmp[CF_IDENTITY_FILE_MAX + 1];
	struct stat st;
	size_t got = 0;
	cf_status rc;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not hang; fstat refuses it below. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return cf_error_set(CF_ERR_NOTFOUND,
			    "identity file does not exist");
		if (errno == ELOOP)
			return cf_error_set(CF_ERR_CORRUPT, "identity file is "
			    "a symbolic link, which is not followed");
		return cf_error_set(CF_ERR_IO, "cannot open identity file: %s",
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot examine identity file: %s",
		    strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = cf_error_set(CF_ERR_CORRUPT,
		    "identity file is not a regular file");
		goto done;
	}
	if (st.st_size > CF_IDENTITY_FILE_MAX) {
		rc = cf_error_set(CF_ERR_CORRUPT, "identity file is too large "
		    "(%jd bytes; at most %d expected)", (intmax_t)st.st_size,
		    CF_IDENTITY_FILE_MAX);
		goto done;
	}
	/* Read one byte more than allowed, in case the file grew. */
	while (got < sizeof(tmp)) {
		ssize_t k = read(fd, tmp + got, sizeof(tmp) - got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = cf_error_set(CF_ERR_IO,
			    "cannot read identity file: %s", strerror(errno));
			goto done;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got > CF_IDENTITY_FILE_MAX) {
		rc = cf_error_set(CF_ERR_CORRUPT, "identity file is too large "
		    "(more than %d bytes)", CF_IDENTITY_FILE_MAX);
		goto done;
	}
	rc = cf_buf_append(out, tmp, got);
done:
	close(fd);
	return rc;
}

cf_status
cf_identity_load(const char *path, const char *pass, size_t passlen,
    struct cf_identity **out)
{
	struct cf_buf b;
	cf_status rc;

	*out = NULL;
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	if ((rc = cf_identity_read_file(path, &b)) == CF_OK)
		rc = cf_identity_decode(b.p, b.len, pass, passlen, out);
	cf_buf_free(&b);
	return rc;
}

void
cf_identity_free(struct cf_identity *id)
{
	if (id == NULL)
		return;
	sodium_free(id);        /* sodium_free wipes before releasing */
}

const char *
cf_identity_name(const struct cf_identity *id)
{
	return id->name;
}

const uint8_t *
cf_identity_public(const struct cf_identity *id)
{
	return id->pk;
}

void
cf_identity_sign(const struct cf_identity *id, const void *m, size_t n,
    uint8_t sig[CF_SIG_BYTES])
{
	crypto_sign_detached(sig, NULL, m, n, id->sk);
}

void
cf_identity_box_keys(const struct cf_identity *id,
    uint8_t pk[CF_BOX_PK_BYTES], uint8_t sk[CF_BOX_SK_BYTES])
{
	memcpy(pk, id->box_pk, CF_BOX_PK_BYTES);
	crypto_sign_ed25519_sk_to_curve25519(sk, id->sk);
}

cf_status
cf_sig_verify(const uint8_t pk[CF_SIGN_PK_BYTES], const void *m, size_t n,
    const uint8_t sig[CF_SIG_BYTES])
{
	static const uint8_t empty[1];

	if (m == NULL)          /* libsodium wants a pointer even for n = 0 */
		m = empty;
	if (crypto_sign_verify_detached(sig, m, n, pk) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "bad signature");
	return CF_OK;
}

cf_status
cf_pubid_box_pk(const uint8_t pk[CF_SIGN_PK_BYTES],
    uint8_t box_pk[CF_BOX_PK_BYTES])
{
	if (crypto_sign_ed25519_pk_to_curve25519(box_pk, pk) != 0)
		return cf_error_set(CF_ERR_INVALID,
		    "not a valid public identity key");
	return CF_OK;
}

void
cf_pubid_encode(const uint8_t pk[CF_SIGN_PK_BYTES],
    char out[CF_PUBID_LEN + 1])
{
	uint8_t raw[PUBID_RAW_BYTES], h[CF_HASH_BYTES];
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = PUBID_PREFIX_LEN;

	memcpy(raw, pk, CF_SIGN_PK_BYTES);
	cf_hash(h, pk, CF_SIGN_PK_BYTES);
	memcpy(raw + CF_SIGN_PK_BYTES, h, PUBID_CHECK_BYTES);
	memcpy(out, PUBID_PREFIX, PUBID_PREFIX_LEN);
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
	}
	/* 280 bits: no bits left over, no padding. */
	out[o] = '\0';
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

cf_status
cf_pubid_decode(const char *s, uint8_t pk[CF_SIGN_PK_BYTES])
{
	uint8_t raw[PUBID_RAW_BYTES], h[CF_HASH_BYTES];
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t len, o = 0;

	if (s == NULL)
		return cf_error_set(CF_ERR_INVALID, "no public identity given");
	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len == 0)
		return cf_error_set(CF_ERR_INVALID, "public identity is empty");
	for (size_t i = 0; i < len && i < PUBID_PREFIX_LEN; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != PUBID_PREFIX[i])
			return cf_error_set(CF_ERR_INVALID, "not a coffre "
			    "public identity: it must start with \"%s\"",
			    PUBID_PREFIX);
	}
	if (len != CF_PUBID_LEN)
		return cf_error_set(CF_ERR_INVALID, "public identity has %zu "
		    "characters instead of %d: part of it is missing or extra",
		    len, CF_PUBID_LEN);
	for (size_t i = PUBID_PREFIX_LEN; i < len; i++) {
		int v = b32_value(s[i]);
		if (v < 0) {
			unsigned char c = (unsigned char)s[i];
			if (c > 0x20 && c < 0x7f)
				return cf_error_set(CF_ERR_INVALID, "invalid "
				    "character '%c' at position %zu of the "
				    "public identity (only letters and digits "
				    "2 to 7 are used)", c, i + 1);
			return cf_error_set(CF_ERR_INVALID, "invalid character "
			    "(byte 0x%02x) at position %zu of the public "
			    "identity", c, i + 1);
		}
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
		}
	}
	cf_hash(h, raw, CF_SIGN_PK_BYTES);
	if (sodium_memcmp(h, raw + CF_SIGN_PK_BYTES, PUBID_CHECK_BYTES) != 0)
		return cf_error_set(CF_ERR_INVALID, "public identity checksum "
		    "mismatch: probably a typo");
	memcpy(pk, raw, CF_SIGN_PK_BYTES);
	return CF_OK;
}

void
cf_pubid_fingerprint(const uint8_t pk[CF_SIGN_PK_BYTES],
    char out[CF_FINGERPRINT_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[CF_HASH_BYTES];

	crypto_generichash_init(&st, NULL, 0, CF_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)FPR_LABEL,
	    sizeof(FPR_LABEL) - 1);
	crypto_generichash_update(&st, pk, CF_SIGN_PK_BYTES);
	crypto_generichash_final(&st, h, CF_HASH_BYTES);
	for (int i = 0; i < 8; i++) {
		uint32_t g = cf_get_u32(h + 4 * i) % 100000;
		/* Five digits and a separator; the last one ends the string. */
		for (int k = 4; k >= 0; k--) {
			out[6 * i + k] = (char)('0' + g % 10);
			g /= 10;
		}
		out[6 * i + 5] = i < 7 ? ' ' : '\0';
	}
}
