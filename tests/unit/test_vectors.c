/*
 * test_vectors.c: check the test vectors of docs/format.md against the
 * library, so that the format specification and the code cannot drift apart.
 *
 * The test reads docs/format.md (its working directory is the source root),
 * extracts every fenced block whose info string is "vector NAME" (syntax in
 * section 10.1 of that page) and checks it: objects that hold random nonces
 * are decoded with the given keys and compared with the expected values;
 * deterministic functions are recomputed and compared.  Every vector kind
 * below must appear at least once; an unknown kind, a missing key or a key
 * that no check reads is a failure too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "check.h"
#include "chunker.h"
#include "config.h"
#include "crypto.h"
#include "envelope.h"
#include "identity.h"
#include "index.h"
#include "keys.h"
#include "lock.h"
#include "pack.h"
#include "snapshot.h"
#include "tree.h"

#define SPEC_PATH "docs/format.md"
#define SPEC_MAX (4u * 1024 * 1024)
#define KV_MAX 128
#define LIST_MAX 1024

struct kv {
	char *key;
	char *val;
	int used;
};

struct vec {
	char *name;
	int line;               /* line of the opening fence */
	struct kv kv[KV_MAX];
	size_t n;
	int checked;
};

static struct vec *vecs;
static size_t nvecs;

/* The identity of the identity-file vector, for envelope checks. */
static struct cf_identity *vec_identity;

/* ---- reporting ---- */

static void fail(const struct vec *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(const struct vec *v, const char *fmt, ...)
{
	va_list ap;

	check_count++;
	check_failures++;
	fprintf(stderr, "%s: vector %s (line %d): ", SPEC_PATH,
	    v != NULL ? v->name : "?", v != NULL ? v->line : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/* VCHECK(v, cond): CHECK that also names the vector. */
#define VCHECK(v, cond) do { \
	check_count++; \
	if (!(cond)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: vector %s (%s line %d): CHECK failed: " \
		    "%s (last error: %s)\n", __FILE__, __LINE__, (v)->name, \
		    SPEC_PATH, (v)->line, #cond, cf_error_message()); \
	} \
} while (0)

/* ---- parsing docs/format.md ---- */

static char *
dup_range(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char *
read_spec(void)
{
	FILE *f = fopen(SPEC_PATH, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s: %s (run from the source "
		    "root)\n", SPEC_PATH, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(SPEC_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, SPEC_MAX, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* add_kv(v, line): parse one logical "key = value" line into ${v}. */
static void
add_kv(struct vec *v, const char *line)
{
	const char *eq = strstr(line, " = ");
	size_t klen, vlen;
	const char *val;

	if (eq == NULL) {
		/* "key =" with an empty value */
		size_t len = strlen(line);
		if (len >= 2 && strcmp(line + len - 2, " =") == 0)
			eq = line + len - 2;
		else {
			fail(v, "line is not KEY = VALUE: %s", line);
			return;
		}
	}
	klen = (size_t)(eq - line);
	val = eq[1] == '=' && eq[2] == ' ' ? eq + 3 : eq + 2;
	vlen = strlen(val);
	while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\r'))
		vlen--;
	if (klen == 0) {
		fail(v, "empty key in: %s", line);
		return;
	}
	if (v->n == KV_MAX) {
		fail(v, "too many keys");
		return;
	}
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->kv[i].key) == klen &&
		    memcmp(v->kv[i].key, line, klen) == 0) {
			char *k = dup_range(line, klen);
			fail(v, "key %s given twice", k);
			free(k);
			return;
		}
	v->kv[v->n].key = dup_range(line, klen);
	v->kv[v->n].val = dup_range(val, vlen);
	v->kv[v->n].used = 0;
	v->n++;
}

/* parse_spec(text): fill vecs[] with every vector block of ${text}. */
static void
parse_spec(const char *text)
{
	const char *p = text;
	int lineno = 0;
	struct vec *cur = NULL;
	char *logical = NULL;   /* a line being continued with '\' */
	size_t llen = 0;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		const char *next = eol != NULL ? eol + 1 : p + len;

		lineno++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (cur == NULL) {
			if (len > 10 && memcmp(p, "```vector ", 10) == 0) {
				struct vec *nv;
				size_t nl = len - 10;

				nv = realloc(vecs, (nvecs + 1) * sizeof(*vecs));
				if (nv == NULL) {
					fprintf(stderr, "out of memory\n");
					exit(2);
				}
				vecs = nv;
				cur = &vecs[nvecs++];
				memset(cur, 0, sizeof(*cur));
				while (nl > 0 && p[10 + nl - 1] == ' ')
					nl--;
				cur->name = dup_range(p + 10, nl);
				cur->line = lineno;
			}
		} else if (len >= 3 && memcmp(p, "```", 3) == 0) {
			if (logical != NULL) {
				fail(cur, "continued line at the end: %s",
				    logical);
				free(logical);
				logical = NULL;
			}
			cur = NULL;
		} else {
			const char *s = p;
			size_t sl = len;
			int cont;
			char *nl;

			if (logical != NULL)    /* drop leading spaces */
				while (sl > 0 && (*s == ' ' || *s == '\t')) {
					s++;
					sl--;
				}
			cont = sl > 0 && s[sl - 1] == '\\';
			if (cont)
				sl--;
			if ((nl = realloc(logical, llen + sl + 1)) == NULL) {
				fprintf(stderr, "out of memory\n");
				exit(2);
			}
			logical = nl;
			memcpy(logical + llen, s, sl);
			llen += sl;
			logical[llen] = '\0';
			if (!cont) {
				if (llen > 0 && logical[0] != '#')
					add_kv(cur, logical);
				free(logical);
				logical = NULL;
				llen = 0;
			}
		}
		p = next;
	}
	if (cur != NULL)
		fail(cur, "block is not closed with ```");
	free(logical);
}

/* ---- typed access to values ---- */

static const char *
get(struct vec *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->kv[i].key, key) == 0) {
			v->kv[i].used = 1;
			return v->kv[i].val;
		}
	fail(v, "missing key %s", key);
	return NULL;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * get_bytes(v, key, len): the bytes of a hex or "text" value, malloc'ed
 * (never NULL on success, even when empty); NULL after a failure.
 */
static uint8_t *
get_bytes(struct vec *v, const char *key, size_t *len)
{
	const char *s = get(v, key);
	size_t n;
	uint8_t *out;

	*len = 0;
	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		out = (uint8_t *)dup_range(s + 1, n - 2);
		*len = n - 2;
		return out;
	}
	if (n % 2 != 0) {
		fail(v, "odd number of hex digits for %s", key);
		return NULL;
	}
	out = malloc(n / 2 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexdigit(s[2 * i]), lo = hexdigit(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fail(v, "not lowercase hex: %s", key);
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* get_fixed(v, key, out, n): exactly ${n} bytes into ${out}; 0 or -1. */
static int
get_fixed(struct vec *v, const char *key, uint8_t *out, size_t n)
{
	size_t len;
	uint8_t *b = get_bytes(v, key, &len);

	if (b == NULL)
		return -1;
	if (len != n) {
		fail(v, "wrong length for %s", key);
		free(b);
		return -1;
	}
	memcpy(out, b, n);
	free(b);
	return 0;
}

/* get_text(v, key): a "text" value as a NUL-terminated string, malloc'ed. */
static char *
get_text(struct vec *v, const char *key)
{
	const char *s = get(v, key);
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
		fail(v, "%s is not a quoted text", key);
		return NULL;
	}
	return dup_range(s + 1, n - 2);
}

static int
parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long x;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)x;
	return 0;
}

static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
	char *e;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &e, 10);
	if (errno != 0)
		return -1;
	*out = (uint64_t)x;
	*end = e;
	return 0;
}

/* get_i64 / get_u64: a decimal value; the default 0 after a failure. */
static int64_t
get_i64(struct vec *v, const char *key)
{
	const char *s = get(v, key);
	int64_t x = 0;

	if (s != NULL && parse_i64(s, &x) != 0)
		fail(v, "not a decimal integer: %s", key);
	return x;
}

static uint64_t
get_u64(struct vec *v, const char *key)
{
	const char *s = get(v, key), *end;
	uint64_t x = 0;

	if (s != NULL && (parse_u64(s, &end, &x) != 0 || *end != '\0')) {
		fail(v, "not an unsigned decimal integer: %s", key);
		x = 0;
	}
	return x;
}

/* get_list(v, key, out, max): decimals separated by spaces; the count. */
static size_t
get_list(struct vec *v, const char *key, uint64_t *out, size_t max)
{
	const char *s = get(v, key), *end;
	size_t n = 0;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		if (n == max || parse_u64(s, &end, &out[n]) != 0) {
			fail(v, "not a list of decimal integers: %s", key);
			return 0;
		}
		n++;
		s = end;
		if (*s == ' ')
			s++;
		else if (*s != '\0') {
			fail(v, "not a list of decimal integers: %s", key);
			return 0;
		}
	}
	return n;
}

/* keyf(buf, n, prefix, i, field): a key name such as "node3.kind". */
static const char *
keyf(char *buf, size_t n, const char *prefix, size_t i, const char *field)
{
	if (snprintf(buf, n, "%s%zu.%s", prefix, i, field) >= (int)n)
		buf[0] = '\0';         /* no such key: reported as missing */
	return buf;
}

static int
same_bytes(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

/* with_version(p, n, off, ver): a copy of ${p} with byte ${off} = ${ver}. */
static uint8_t *
with_byte(const uint8_t *p, size_t n, size_t off, uint8_t val)
{
	uint8_t *q = malloc(n);

	if (q == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(q, p, n);
	if (off < n)
		q[off] = val;
	return q;
}

/* ---- the checks, one per vector kind ---- */

static void
check_padme(struct vec *v)
{
	static uint64_t in[LIST_MAX], out[LIST_MAX];
	size_t n = get_list(v, "in", in, LIST_MAX);
	size_t m = get_list(v, "out", out, LIST_MAX);

	VCHECK(v, n > 0 && n == m);
	for (size_t i = 0; i < n && i < m; i++) {
		VCHECK(v, cf_padme(in[i]) == out[i]);
		VCHECK(v, out[i] >= in[i]);
	}
}

static void
check_chunk_id(struct vec *v)
{
	uint8_t key[CF_KEY_BYTES], want[CF_HASH_BYTES], got[CF_HASH_BYTES];
	uint64_t type = get_u64(v, "type");
	size_t n;
	uint8_t *data = get_bytes(v, "data", &n);

	if (get_fixed(v, "id_key", key, sizeof(key)) == 0 &&
	    get_fixed(v, "id", want, sizeof(want)) == 0 && data != NULL) {
		VCHECK(v, type == CF_BLOB_DATA || type == CF_BLOB_TREE);
		cf_blob_id(got, key, (uint8_t)type, data, n);
		VCHECK(v, same_bytes(got, want, CF_HASH_BYTES));
	}
	free(data);
}

static void
check_object_hash(struct vec *v)
{
	uint8_t want[CF_HASH_BYTES], got[CF_HASH_BYTES];
	size_t n;
	uint8_t *data = get_bytes(v, "data", &n);

	if (get_fixed(v, "hash", want, sizeof(want)) == 0 && data != NULL) {
		cf_name_hash(got, data, n);
		VCHECK(v, same_bytes(got, want, CF_HASH_BYTES));
	}
	free(data);
}

static void
check_kdf(struct vec *v)
{
	uint8_t key[CF_KEY_BYTES], got[64];
	char *label = get_text(v, "label");
	size_t n;
	uint8_t *want = get_bytes(v, "out", &n);

	if (get_fixed(v, "key", key, sizeof(key)) == 0 && label != NULL &&
	    want != NULL) {
		VCHECK(v, n >= 16 && n <= 64);
		if (n >= 16 && n <= 64) {
			cf_kdf(got, n, key, label);
			VCHECK(v, same_bytes(got, want, n));
		}
	}
	free(label);
	free(want);
}

/*
 * The gear table is private to the chunker, so this vector checks the
 * definition (ChaCha20 keystream read as u64le) with libsodium directly;
 * the chunker vector then checks that the library's cut points, which
 * depend on every entry of the table, are the specified ones.
 */
static void
check_gear_table(struct vec *v)
{
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
	uint8_t key[CF_KEY_BYTES], s[2048];
	uint64_t first[8], last[2];
	size_t nf = get_list(v, "first", first, 8);
	size_t nl = get_list(v, "last", last, 2);

	if (get_fixed(v, "gear_key", key, sizeof(key)) != 0)
		return;
	crypto_stream_chacha20_ietf(s, sizeof(s), nonce, key);
	VCHECK(v, nf >= 1 && nl == 1);
	for (size_t i = 0; i < nf; i++)
		VCHECK(v, cf_get_u64(s + 8 * i) == first[i]);
	if (nl == 1)
		VCHECK(v, cf_get_u64(s + 8 * 255) == last[0]);
}

static void
check_chunker(struct vec *v)
{
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
	static uint64_t lens[LIST_MAX];
	uint8_t ikey[CF_KEY_BYTES], gkey[CF_KEY_BYTES], head[16];
	uint8_t hash[CF_HASH_BYTES], got[CF_HASH_BYTES];
	struct cf_chunker_params params;
	struct cf_chunker *c = NULL;
	uint64_t total = get_u64(v, "input_length");
	uint64_t count = get_u64(v, "count");
	size_t nlens = get_list(v, "lengths", lens, LIST_MAX);
	uint8_t *in;
	size_t off = 0, k = 0;

	params.min = (uint32_t)get_u64(v, "min");
	params.avg = (uint32_t)get_u64(v, "avg");
	params.max = (uint32_t)get_u64(v, "max");
	if (get_fixed(v, "input_key", ikey, sizeof(ikey)) != 0 ||
	    get_fixed(v, "gear_key", gkey, sizeof(gkey)) != 0 ||
	    get_fixed(v, "input_head", head, sizeof(head)) != 0 ||
	    get_fixed(v, "input_hash", hash, sizeof(hash)) != 0)
		return;
	VCHECK(v, total >= 16 && total <= 64u * 1024 * 1024);
	if (total < 16 || total > 64u * 1024 * 1024)
		return;
	if ((in = malloc(total)) == NULL)
		return;
	crypto_stream_chacha20_ietf(in, total, nonce, ikey);
	VCHECK(v, same_bytes(in, head, sizeof(head)));
	cf_hash(got, in, total);
	VCHECK(v, same_bytes(got, hash, sizeof(hash)));

	CHECK_OK(cf_chunker_new(&params, gkey, &c));
	if (c != NULL) {
		while (off < total) {
			size_t cut = cf_chunker_cut(c, in + off, total - off);

			VCHECK(v, cut >= 1 && cut <= params.max);
			if (cut == 0)
				break;
			VCHECK(v, k < nlens && lens[k] == cut);
			if (k < nlens && lens[k] != cut)
				fprintf(stderr, "  chunk %zu: %zu, expected "
				    "%llu\n", k, cut,
				    (unsigned long long)lens[k]);
			k++;
			off += cut;
		}
	}
	VCHECK(v, k == nlens);
	VCHECK(v, k == count);
	cf_chunker_free(c);
	free(in);
}

static void
check_public_id(struct vec *v)
{
	uint8_t seed[32], pk[CF_SIGN_PK_BYTES], sk[CF_SIGN_SK_BYTES];
	uint8_t want_pk[CF_SIGN_PK_BYTES], box[CF_BOX_PK_BYTES];
	uint8_t want_box[CF_BOX_PK_BYTES], back[CF_SIGN_PK_BYTES];
	char pub[CF_PUBID_LEN + 1], fpr[CF_FINGERPRINT_LEN + 1];
	char padded[CF_PUBID_LEN + 8];
	char *want_pub = get_text(v, "public_id");
	char *want_fpr = get_text(v, "fingerprint");

	if (get_fixed(v, "seed", seed, sizeof(seed)) != 0 ||
	    get_fixed(v, "public_key", want_pk, sizeof(want_pk)) != 0 ||
	    get_fixed(v, "box_public_key", want_box, sizeof(want_box)) != 0 ||
	    want_pub == NULL || want_fpr == NULL)
		goto out;
	crypto_sign_seed_keypair(pk, sk, seed);
	VCHECK(v, same_bytes(pk, want_pk, sizeof(pk)));

	cf_pubid_encode(want_pk, pub);
	VCHECK(v, strcmp(pub, want_pub) == 0);
	VCHECK(v, strlen(pub) == CF_PUBID_LEN);
	CHECK_OK(cf_pubid_decode(want_pub, back));
	VCHECK(v, same_bytes(back, want_pk, sizeof(back)));
	/* Surrounding white space and any case are accepted. */
	snprintf(padded, sizeof(padded), "  %s\n", want_pub);
	for (char *q = padded; *q != '\0'; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
	memset(back, 0, sizeof(back));
	CHECK_OK(cf_pubid_decode(padded, back));
	VCHECK(v, same_bytes(back, want_pk, sizeof(back)));
	/* A typo is caught by the check bytes. */
	snprintf(padded, sizeof(padded), "%s", want_pub);
	padded[20] = padded[20] == 'a' ? 'b' : 'a';
	CHECK_ERR(cf_pubid_decode(padded, back), CF_ERR_INVALID);

	cf_pubid_fingerprint(want_pk, fpr);
	VCHECK(v, strcmp(fpr, want_fpr) == 0);
	VCHECK(v, strlen(fpr) == CF_FINGERPRINT_LEN);

	CHECK_OK(cf_pubid_box_pk(want_pk, box));
	VCHECK(v, same_bytes(box, want_box, sizeof(box)));
out:
	sodium_memzero(sk, sizeof(sk));
	free(want_pub);
	free(want_fpr);
}

static void
check_identity_file(struct vec *v)
{
	uint8_t want_pk[CF_SIGN_PK_BYTES], pk[CF_SIGN_PK_BYTES];
	char name[CF_NAME_MAX + 1];
	char *pass = get_text(v, "passphrase");
	char *want_name = get_text(v, "name");
	uint64_t ops = get_u64(v, "opslimit"), mem = get_u64(v, "memlimit");
	struct cf_identity *id = NULL;
	size_t n;
	uint8_t *file = get_bytes(v, "file", &n), *bad;

	if (get_fixed(v, "public_key", want_pk, sizeof(want_pk)) != 0 ||
	    pass == NULL || want_name == NULL || file == NULL)
		goto out;
	VCHECK(v, ops == crypto_pwhash_argon2id_OPSLIMIT_MIN);
	VCHECK(v, mem == crypto_pwhash_argon2id_MEMLIMIT_MIN);
	VCHECK(v, n == 149 + strlen(want_name));
	if (n < 149)
		goto out;
	/* The layout: costs at 12 and 20, name at 45, public key after it. */
	VCHECK(v, cf_get_u64(file + 12) == ops);
	VCHECK(v, cf_get_u64(file + 20) == mem);
	VCHECK(v, file[44] == strlen(want_name));
	VCHECK(v, same_bytes(file + 45 + file[44], want_pk, sizeof(want_pk)));

	CHECK_OK(cf_identity_peek(file, n, pk, name));
	VCHECK(v, same_bytes(pk, want_pk, sizeof(pk)));
	VCHECK(v, strcmp(name, want_name) == 0);

	CHECK_OK(cf_identity_decode(file, n, pass, strlen(pass), &id));
	if (id != NULL) {
		VCHECK(v, same_bytes(cf_identity_public(id), want_pk,
		    CF_SIGN_PK_BYTES));
		VCHECK(v, strcmp(cf_identity_name(id), want_name) == 0);
		if (vec_identity == NULL) {
			vec_identity = id;
			id = NULL;
		}
	}
	cf_identity_free(id);
	id = NULL;

	/* The wrong passphrase, and a tampered header, are refused. */
	CHECK_ERR(cf_identity_decode(file, n, "Correct horse battery staple",
	    28, &id), CF_ERR_PASSPHRASE);
	bad = with_byte(file, n, 45, (uint8_t)(file[45] ^ 1));
	CHECK(cf_identity_decode(bad, n, pass, strlen(pass), &id) != CF_OK);
	free(bad);
	bad = with_byte(file, n, 8, 2);
	CHECK_ERR(cf_identity_peek(bad, n, pk, name), CF_ERR_VERSION);
	free(bad);
out:
	cf_identity_free(id);
	free(pass);
	free(want_name);
	free(file);
}

static void
check_config(struct vec *v)
{
	struct cf_config c;
	struct cf_buf b;
	uint8_t id[CF_REPO_ID_BYTES], pk[CF_BOX_PK_BYTES];
	uint8_t want_hash[CF_HASH_BYTES], h[CF_HASH_BYTES];
	size_t n;
	uint8_t *cfg = get_bytes(v, "config", &n), *bad;
	uint64_t version = get_u64(v, "version");
	uint64_t cmin = get_u64(v, "chunk_min"), cavg = get_u64(v, "chunk_avg");
	uint64_t cmax = get_u64(v, "chunk_max");
	uint64_t target = get_u64(v, "pack_target");
	uint64_t level = get_u64(v, "zstd_level");
	int64_t created = get_i64(v, "created");

	cf_buf_init(&b, 4096);
	if (cfg == NULL || get_fixed(v, "repo_id", id, sizeof(id)) != 0 ||
	    get_fixed(v, "repo_pk", pk, sizeof(pk)) != 0 ||
	    get_fixed(v, "hash", want_hash, sizeof(want_hash)) != 0)
		goto out;
	VCHECK(v, n == CF_CONFIG_BYTES);
	CHECK_OK(cf_config_decode(cfg, n, &c));
	VCHECK(v, c.version == version);
	VCHECK(v, same_bytes(c.repo_id, id, sizeof(id)));
	VCHECK(v, same_bytes(c.repo_pk, pk, sizeof(pk)));
	VCHECK(v, c.chunker.min == cmin);
	VCHECK(v, c.chunker.avg == cavg);
	VCHECK(v, c.chunker.max == cmax);
	VCHECK(v, c.pack_target == target);
	VCHECK(v, c.zstd_level == level);
	VCHECK(v, c.created == created);
	cf_hash(h, cfg, n);
	VCHECK(v, same_bytes(h, want_hash, sizeof(h)));
	/* The config is deterministic: encoding gives the same bytes. */
	CHECK_OK(cf_config_encode(&c, &b));
	VCHECK(v, b.len == n && same_bytes(b.p, cfg, n));

	bad = with_byte(cfg, n, 8, 2);
	CHECK_ERR(cf_config_decode(bad, n, &c), CF_ERR_VERSION);
	free(bad);
	bad = with_byte(cfg, n, 9, 1);
	CHECK_ERR(cf_config_decode(bad, n, &c), CF_ERR_CORRUPT);
	free(bad);
out:
	cf_buf_free(&b);
	free(cfg);
}

static void
check_tree(struct vec *v)
{
	struct cf_tree t;
	struct cf_buf b;
	char k[64];
	size_t n;
	uint8_t *enc = get_bytes(v, "tree", &n), *bad;
	uint64_t count = get_u64(v, "count");

	cf_tree_init(&t);
	cf_buf_init(&b, CF_BLOB_MAX);
	if (enc == NULL)
		goto out;
	CHECK_OK(cf_tree_decode(enc, n, &t));
	VCHECK(v, t.count == count);
	for (size_t i = 0; i < t.count && i < count; i++) {
		const struct cf_node *nd = &t.nodes[i];
		char *name = get_text(v, keyf(k, sizeof(k), "node", i, "name"));

		VCHECK(v, nd->kind == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "kind")));
		VCHECK(v, name != NULL && strcmp(nd->name, name) == 0);
		free(name);
		VCHECK(v, nd->mode == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "mode")));
		VCHECK(v, nd->uid == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "uid")));
		VCHECK(v, nd->gid == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "gid")));
		VCHECK(v, nd->mtime_sec == get_i64(v, keyf(k, sizeof(k),
		    "node", i, "mtime_sec")));
		VCHECK(v, nd->mtime_nsec == get_u64(v, keyf(k, sizeof(k),
		    "node", i, "mtime_nsec")));
		VCHECK(v, nd->size == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "size")));
		VCHECK(v, nd->inode == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "inode")));
		VCHECK(v, nd->device == get_u64(v, keyf(k, sizeof(k), "node",
		    i, "device")));
		VCHECK(v, nd->nlink == get_u64(v, keyf(k, sizeof(k), "node", i,
		    "nlink")));
		if (nd->kind == CF_NODE_FILE) {
			size_t cl;
			uint8_t *chunks = get_bytes(v, keyf(k, sizeof(k),
			    "node", i, "chunks"), &cl);

			VCHECK(v, chunks != NULL &&
			    cl == (size_t)nd->nchunks * CF_HASH_BYTES &&
			    same_bytes(nd->chunks, chunks, cl));
			free(chunks);
		} else if (nd->kind == CF_NODE_DIR) {
			uint8_t sub[CF_HASH_BYTES];

			if (get_fixed(v, keyf(k, sizeof(k), "node", i,
			    "subtree"), sub, sizeof(sub)) == 0)
				VCHECK(v, same_bytes(nd->subtree, sub,
				    sizeof(sub)));
		} else {
			char *target = get_text(v, keyf(k, sizeof(k), "node",
			    i, "target"));

			VCHECK(v, target != NULL &&
			    strcmp(nd->target, target) == 0);
			free(target);
		}
	}
	/* Deterministic: the decoded tree encodes to the same bytes. */
	CHECK_OK(cf_tree_encode(&t, &b));
	VCHECK(v, b.len == n && same_bytes(b.p, enc, n));

	bad = with_byte(enc, n, 0, 2);
	cf_tree_free(&t);
	CHECK_ERR(cf_tree_decode(bad, n, &t), CF_ERR_VERSION);
	free(bad);
out:
	cf_tree_free(&t);
	cf_buf_free(&b);
	free(enc);
}

static void
check_pack(struct vec *v)
{
	uint8_t sk[CF_BOX_SK_BYTES], pk[CF_BOX_PK_BYTES], pk2[CF_BOX_PK_BYTES];
	uint8_t idk[CF_KEY_BYTES], ixk[CF_KEY_BYTES], key[CF_KEY_BYTES];
	uint8_t h[CF_HASH_BYTES];
	char name[CF_HASH_BYTES * 2 + 9], k[64];
	struct cf_pack_entry *e = NULL, *te = NULL;
	struct cf_blob_reader *r = NULL;
	struct cf_buf out;
	size_t n, count = 0, tcount = 0;
	uint8_t *pack = get_bytes(v, "pack", &n), *bad;
	char *want_name = get_text(v, "name");
	uint64_t unpadded = get_u64(v, "unpadded_size");
	uint64_t want_count = get_u64(v, "count"), blobs = 0;

	cf_buf_init(&out, CF_BLOB_MAX);
	if (pack == NULL || want_name == NULL ||
	    get_fixed(v, "repo_sk", sk, sizeof(sk)) != 0 ||
	    get_fixed(v, "repo_pk", pk, sizeof(pk)) != 0 ||
	    get_fixed(v, "id_key", idk, sizeof(idk)) != 0 ||
	    get_fixed(v, "index_key", ixk, sizeof(ixk)) != 0)
		goto out;
	VCHECK(v, crypto_scalarmult_base(pk2, sk) == 0 &&
	    same_bytes(pk, pk2, sizeof(pk)));

	/* Name: data/<first byte>/<N = SHA-256 of the whole pack>. */
	cf_name_hash(h, pack, n);
	cf_pack_object_name(name, h);
	VCHECK(v, strcmp(name, want_name) == 0);
	/* Size: Padmé of the unpadded size. */
	VCHECK(v, n == cf_padme(unpadded));

	/* The header opens with the index key; blobs with the pack key. */
	CHECK_OK(cf_pack_open_key(pack, n, pk, sk, key));
	CHECK_OK(cf_pack_parse(pack, n, ixk, &e, &count));
	VCHECK(v, count == want_count);
	/* From the last L + 4 bytes only, as a backup adopts a pack. */
	if (n >= 4 && cf_pack_header_length(pack + n - 4) <= n - 4) {
		size_t tl = (size_t)cf_pack_header_length(pack + n - 4) + 4;
		uint8_t *tail = malloc(tl), *plain = malloc(tl);

		if (tail != NULL && plain != NULL) {
			memcpy(tail, pack + n - tl, tl);
			CHECK_OK(cf_pack_parse_tail(tail, tl, n, ixk, &te,
			    &tcount));
			VCHECK(v, tcount == count);
			for (size_t i = 0; e != NULL && te != NULL &&
			    i < count && i < tcount; i++)
				VCHECK(v, te[i].type == e[i].type &&
				    same_bytes(te[i].id, e[i].id,
				    CF_HASH_BYTES) &&
				    te[i].offset == e[i].offset &&
				    te[i].length == e[i].length &&
				    te[i].raw_length == e[i].raw_length);
			/* By hand: AEAD(index key, "COFFREPK header v1"). */
			VCHECK(v, tl > 4 + CF_AEAD_OVERHEAD &&
			    cf_aead_open(plain, ixk, "COFFREPK header v1", 18,
			    tail, tl - 4) == CF_OK &&
			    cf_get_u32(plain) == want_count);
			VCHECK(v, tl > 4 + CF_AEAD_OVERHEAD &&
			    cf_aead_open(plain, key, "COFFREPK header v1", 18,
			    tail, tl - 4) == CF_ERR_CORRUPT);
		}
		free(tail);
		free(plain);
	}
	/* The pack key does not open the header. */
	{
		struct cf_pack_entry *e2 = NULL;
		size_t c2;

		CHECK_ERR(cf_pack_parse(pack, n, key, &e2, &c2),
		    CF_ERR_CORRUPT);
		free(e2);
	}
	CHECK_OK(cf_blob_reader_new(&r));
	for (size_t i = 0; e != NULL && r != NULL && i < count; i++) {
		uint8_t id[CF_HASH_BYTES], ad[1 + CF_HASH_BYTES], *plain;
		uint64_t comp = get_u64(v, keyf(k, sizeof(k), "blob", i,
		    "compression"));
		size_t dl;
		uint8_t *data = get_bytes(v, keyf(k, sizeof(k), "blob", i,
		    "data"), &dl);

		VCHECK(v, e[i].type == get_u64(v, keyf(k, sizeof(k), "blob",
		    i, "type")));
		if (get_fixed(v, keyf(k, sizeof(k), "blob", i, "id"), id,
		    sizeof(id)) == 0)
			VCHECK(v, same_bytes(e[i].id, id, sizeof(id)));
		VCHECK(v, e[i].offset == get_u64(v, keyf(k, sizeof(k), "blob",
		    i, "offset")));
		VCHECK(v, e[i].length == get_u64(v, keyf(k, sizeof(k), "blob",
		    i, "length")));
		VCHECK(v, e[i].raw_length == get_u64(v, keyf(k, sizeof(k),
		    "blob", i, "raw_length")));
		blobs += e[i].length;
		if (data == NULL)
			continue;
		VCHECK(v, dl == e[i].raw_length);
		/* The id is the keyed hash of type || data. */
		cf_blob_id(id, idk, e[i].type, data, dl);
		VCHECK(v, same_bytes(e[i].id, id, sizeof(id)));
		/* The library reads the blob back. */
		CHECK_OK(cf_blob_read(r, key, idk, &e[i], pack + e[i].offset,
		    &out));
		VCHECK(v, out.len == dl && same_bytes(out.p, data, dl));
		/* By hand: ad = type || id, first plaintext byte = compression. */
		ad[0] = e[i].type;
		memcpy(ad + 1, e[i].id, CF_HASH_BYTES);
		if (e[i].length > CF_AEAD_OVERHEAD &&
		    (plain = malloc(e[i].length)) != NULL) {
			CHECK_OK(cf_aead_open(plain, key, ad, sizeof(ad),
			    pack + e[i].offset, e[i].length));
			VCHECK(v, plain[0] == comp);
			if (comp == 0)
				VCHECK(v, e[i].length == dl + 41 &&
				    same_bytes(plain + 1, data, dl));
			free(plain);
		}
		free(data);
	}
	/* The header follows the blobs; the trailer gives its length. */
	VCHECK(v, unpadded == 96 + blobs + 40 + 4 + 45 * count + 4);
	VCHECK(v, n >= 4 && cf_get_u32(pack + n - 4) == n - 4 - 96 - blobs);

	bad = with_byte(pack, n, 8, 2);
	CHECK_ERR(cf_pack_open_key(bad, n, pk, sk, key), CF_ERR_VERSION);
	free(bad);
out:
	sodium_memzero(key, sizeof(key));
	cf_blob_reader_free(r);
	cf_buf_free(&out);
	free(e);
	free(te);
	free(pack);
	free(want_name);
}

static void
check_index_file(struct vec *v)
{
	uint8_t key[CF_KEY_BYTES], h[CF_HASH_BYTES];
	char name[80], hex[CF_HASH_BYTES * 2 + 1], k[128];
	struct cf_index *idx = NULL;
	size_t n, blobs = 0;
	uint8_t *file = get_bytes(v, "file", &n), *bad;
	char *want_name = get_text(v, "name");
	uint64_t npacks = get_u64(v, "npacks");

	if (file == NULL || want_name == NULL ||
	    get_fixed(v, "index_key", key, sizeof(key)) != 0)
		goto out;
	cf_name_hash(h, file, n);
	cf_hex_encode(hex, h, sizeof(h));
	snprintf(name, sizeof(name), "index/%s", hex);
	VCHECK(v, strcmp(name, want_name) == 0);

	CHECK_OK(cf_index_new(&idx));
	if (idx == NULL)
		goto out;
	CHECK_OK(cf_index_file_decode(key, file, n, idx));
	VCHECK(v, cf_index_pack_count(idx) == npacks);
	for (size_t p = 0; p < npacks && p < cf_index_pack_count(idx); p++) {
		uint8_t pid[CF_HASH_BYTES];
		char pre[32];
		uint64_t count;
		uint32_t pno = UINT32_MAX;

		snprintf(pre, sizeof(pre), "pack%zu.", p);
		snprintf(k, sizeof(k), "%sid", pre);
		if (get_fixed(v, k, pid, sizeof(pid)) != 0)
			continue;
		VCHECK(v, cf_index_find_pack(idx, pid, &pno) == 1);
		snprintf(k, sizeof(k), "%scount", pre);
		count = get_u64(v, k);
		blobs += count;
		for (size_t i = 0; i < count; i++) {
			struct cf_index_loc loc;
			uint8_t id[CF_HASH_BYTES];
			char bp[48];

			snprintf(bp, sizeof(bp), "pack%zu.blob", p);
			if (get_fixed(v, keyf(k, sizeof(k), bp, i, "id"), id,
			    sizeof(id)) != 0)
				continue;
			VCHECK(v, cf_index_lookup(idx, id, &loc) == 1);
			VCHECK(v, loc.pack == pno);
			VCHECK(v, loc.type == get_u64(v, keyf(k, sizeof(k), bp,
			    i, "type")));
			VCHECK(v, loc.offset == get_u64(v, keyf(k, sizeof(k),
			    bp, i, "offset")));
			VCHECK(v, loc.length == get_u64(v, keyf(k, sizeof(k),
			    bp, i, "length")));
			VCHECK(v, loc.raw_length == get_u64(v, keyf(k,
			    sizeof(k), bp, i, "raw_length")));
		}
	}
	VCHECK(v, cf_index_blob_count(idx) == blobs);
	cf_index_free(idx);
	idx = NULL;

	CHECK_OK(cf_index_new(&idx));
	bad = with_byte(file, n, 8, 2);
	CHECK_ERR(cf_index_file_decode(key, bad, n, idx), CF_ERR_VERSION);
	free(bad);
	bad = with_byte(file, n, n - 1, (uint8_t)(file[n - 1] ^ 1));
	CHECK_ERR(cf_index_file_decode(key, bad, n, idx), CF_ERR_CORRUPT);
	free(bad);
out:
	cf_index_free(idx);
	free(file);
	free(want_name);
}

static void
check_snapshot(struct vec *v)
{
	uint8_t sk[CF_BOX_SK_BYTES], pk[CF_BOX_PK_BYTES];
	uint8_t tree[CF_HASH_BYTES], author[CF_SIGN_PK_BYTES];
	uint8_t h[CF_HASH_BYTES];
	char hex[CF_HASH_BYTES * 2 + 1], name[96], k[32];
	struct cf_snapshot s;
	size_t n;
	uint8_t *obj = get_bytes(v, "snapshot", &n), *bad;
	char *want_name = get_text(v, "name");
	char *host = get_text(v, "hostname"), *user = get_text(v, "username");
	uint64_t npaths = get_u64(v, "npaths"), ntags = get_u64(v, "ntags");

	memset(&s, 0, sizeof(s));
	if (obj == NULL || want_name == NULL || host == NULL || user == NULL ||
	    get_fixed(v, "repo_sk", sk, sizeof(sk)) != 0 ||
	    get_fixed(v, "repo_pk", pk, sizeof(pk)) != 0 ||
	    get_fixed(v, "tree", tree, sizeof(tree)) != 0 ||
	    get_fixed(v, "author", author, sizeof(author)) != 0)
		goto out;
	CHECK_OK(cf_snapshot_decode(obj, n, pk, sk, &s));
	/* The id (and name) is N of the whole object, as the decoder says. */
	cf_name_hash(h, obj, n);
	VCHECK(v, same_bytes(s.id, h, sizeof(h)));
	cf_hex_encode(hex, s.id, sizeof(s.id));
	snprintf(name, sizeof(name), "snapshots/%s", hex);
	VCHECK(v, strcmp(name, want_name) == 0);
	VCHECK(v, s.time_sec == get_i64(v, "time_sec"));
	VCHECK(v, s.time_nsec == get_u64(v, "time_nsec"));
	VCHECK(v, same_bytes(s.tree, tree, sizeof(tree)));
	VCHECK(v, same_bytes(s.author, author, sizeof(author)));
	VCHECK(v, s.hostname != NULL && strcmp(s.hostname, host) == 0);
	VCHECK(v, s.username != NULL && strcmp(s.username, user) == 0);
	VCHECK(v, s.npaths == npaths);
	for (size_t i = 0; i < npaths && i < s.npaths; i++) {
		char *p;

		snprintf(k, sizeof(k), "path%zu", i);
		p = get_text(v, k);
		VCHECK(v, p != NULL && strcmp(s.paths[i], p) == 0);
		free(p);
	}
	VCHECK(v, s.ntags == ntags);
	for (size_t i = 0; i < ntags && i < s.ntags; i++) {
		char *p;

		snprintf(k, sizeof(k), "tag%zu", i);
		p = get_text(v, k);
		VCHECK(v, p != NULL && strcmp(s.tags[i], p) == 0);
		free(p);
	}
	VCHECK(v, s.files == get_u64(v, "files"));
	VCHECK(v, s.dirs == get_u64(v, "dirs"));
	VCHECK(v, s.bytes == get_u64(v, "bytes"));
	cf_snapshot_free(&s);

	bad = with_byte(obj, n, 8, 2);
	CHECK_ERR(cf_snapshot_decode(bad, n, pk, sk, &s), CF_ERR_VERSION);
	free(bad);
	bad = with_byte(obj, n, n - 1, (uint8_t)(obj[n - 1] ^ 1));
	CHECK_ERR(cf_snapshot_decode(bad, n, pk, sk, &s), CF_ERR_CORRUPT);
	free(bad);
out:
	cf_snapshot_free(&s);
	free(obj);
	free(want_name);
	free(host);
	free(user);
}

static void
check_lock(struct vec *v)
{
	uint8_t key[CF_KEY_BYTES], author[CF_SIGN_PK_BYTES];
	struct cf_lock_info l;
	size_t n;
	uint8_t *obj = get_bytes(v, "lock", &n), *bad;
	char *host = get_text(v, "host");

	if (obj == NULL || host == NULL ||
	    get_fixed(v, "index_key", key, sizeof(key)) != 0 ||
	    get_fixed(v, "author", author, sizeof(author)) != 0)
		goto out;
	CHECK_OK(cf_lock_decode(obj, n, key, &l));
	VCHECK(v, l.exclusive == get_u64(v, "exclusive"));
	VCHECK(v, l.time == get_i64(v, "time"));
	VCHECK(v, l.pid == get_u64(v, "pid"));
	VCHECK(v, same_bytes(l.author, author, sizeof(author)));
	VCHECK(v, strcmp(l.host, host) == 0);

	bad = with_byte(obj, n, 8, 2);
	CHECK_ERR(cf_lock_decode(bad, n, key, &l), CF_ERR_VERSION);
	free(bad);
out:
	free(obj);
	free(host);
}

static void
check_envelope(struct vec *v)
{
	uint8_t seed[32], pk[CF_SIGN_PK_BYTES], ssk[CF_SIGN_SK_BYTES];
	uint8_t sk[CF_BOX_SK_BYTES], member[CF_SIGN_PK_BYTES];
	uint8_t b16[CF_REPO_ID_BYTES], b32[32];
	char objname[70];
	struct cf_envelope_info info;
	struct cf_keys *keys = NULL;
	size_t n;
	uint8_t *env = get_bytes(v, "envelope", &n), *bad;
	char *want_name = get_text(v, "name");
	char *mname = get_text(v, "member_name");
	uint64_t role = get_u64(v, "role");
	uint64_t has_sk = get_u64(v, "has_repo_sk");
	int64_t added = get_i64(v, "added");

	if (env == NULL || want_name == NULL || mname == NULL ||
	    get_fixed(v, "member_seed", seed, sizeof(seed)) != 0 ||
	    get_fixed(v, "repo_sk", sk, sizeof(sk)) != 0 ||
	    get_fixed(v, "member", member, sizeof(member)) != 0)
		goto out;
	VCHECK(v, n == 347 + strlen(mname));
	CHECK_OK(cf_envelope_parse(env, n, &info));
	VCHECK(v, info.role == role);
	VCHECK(v, same_bytes(info.member, member, sizeof(member)));
	VCHECK(v, info.added == added);
	VCHECK(v, strcmp(info.name, mname) == 0);
	cf_envelope_object_name(objname, member);
	VCHECK(v, strcmp(objname, want_name) == 0);

	/* The MAC verifies under repo_sk, and covers the public part. */
	CHECK_OK(cf_envelope_verify(env, n, sk));
	bad = with_byte(env, n, 48, (uint8_t)(env[48] ^ 1));
	CHECK_ERR(cf_envelope_verify(bad, n, sk), CF_ERR_CORRUPT);
	free(bad);
	bad = with_byte(env, n, 8, 2);
	CHECK_ERR(cf_envelope_parse(bad, n, &info), CF_ERR_VERSION);
	free(bad);

	/* Opening needs the member's identity: that of identity-file. */
	crypto_sign_seed_keypair(pk, ssk, seed);
	sodium_memzero(ssk, sizeof(ssk));
	VCHECK(v, same_bytes(pk, member, sizeof(pk)));
	VCHECK(v, vec_identity != NULL);
	if (vec_identity == NULL || !same_bytes(cf_identity_public(
	    vec_identity), pk, sizeof(pk))) {
		fail(v, "%s", "the identity-file vector must hold the "
		    "member's seed");
		goto out;
	}
	CHECK_OK(cf_keys_new(&keys));
	if (keys == NULL)
		goto out;
	CHECK_OK(cf_envelope_open(env, n, vec_identity, keys));
	VCHECK(v, (uint64_t)keys->has_repo_sk == has_sk);
	if (get_fixed(v, "repo_id", b16, sizeof(b16)) == 0)
		VCHECK(v, same_bytes(keys->repo_id, b16, sizeof(b16)));
	if (get_fixed(v, "config_hash", b32, sizeof(b32)) == 0)
		VCHECK(v, same_bytes(keys->config_hash, b32, sizeof(b32)));
	if (get_fixed(v, "id_key", b32, sizeof(b32)) == 0)
		VCHECK(v, same_bytes(keys->id_key, b32, sizeof(b32)));
	if (get_fixed(v, "gear_key", b32, sizeof(b32)) == 0)
		VCHECK(v, same_bytes(keys->gear_key, b32, sizeof(b32)));
	if (get_fixed(v, "index_key", b32, sizeof(b32)) == 0)
		VCHECK(v, same_bytes(keys->index_key, b32, sizeof(b32)));
	if (get_fixed(v, "repo_pk", b32, sizeof(b32)) == 0)
		VCHECK(v, same_bytes(keys->repo_pk, b32, sizeof(b32)));
	if (has_sk)
		VCHECK(v, same_bytes(keys->repo_sk, sk, sizeof(sk)));
	else
		VCHECK(v, sodium_is_zero(keys->repo_sk, CF_BOX_SK_BYTES));
out:
	cf_keys_free(keys);
	free(env);
	free(want_name);
	free(mname);
}

/* ---- driver ---- */

struct kind {
	const char *name;
	void (*check)(struct vec *v);
};

/* In this order: envelope needs the identity of identity-file. */
static const struct kind kinds[] = {
	{ "padme", check_padme },
	{ "chunk-id", check_chunk_id },
	{ "object-hash", check_object_hash },
	{ "kdf", check_kdf },
	{ "gear-table", check_gear_table },
	{ "chunker", check_chunker },
	{ "public-id", check_public_id },
	{ "identity-file", check_identity_file },
	{ "config", check_config },
	{ "tree", check_tree },
	{ "pack", check_pack },
	{ "index-file", check_index_file },
	{ "snapshot", check_snapshot },
	{ "lock", check_lock },
	{ "envelope", check_envelope },
};

int
main(void)
{
	char *text;
	size_t nkinds = sizeof(kinds) / sizeof(kinds[0]);

	CHECK_OK(cf_crypto_init());
	if ((text = read_spec()) == NULL) {
		CHECK(0);
		return check_done("vectors");
	}
	parse_spec(text);
	free(text);

	for (size_t k = 0; k < nkinds; k++) {
		size_t seen = 0;

		for (size_t i = 0; i < nvecs; i++) {
			if (strcmp(vecs[i].name, kinds[k].name) != 0)
				continue;
			seen++;
			vecs[i].checked = 1;
			kinds[k].check(&vecs[i]);
		}
		if (seen == 0) {
			check_count++;
			check_failures++;
			fprintf(stderr, "%s: no vector %s\n", SPEC_PATH,
			    kinds[k].name);
		} else
			printf("vector %s: %zu block(s) checked\n",
			    kinds[k].name, seen);
	}
	for (size_t i = 0; i < nvecs; i++) {
		if (!vecs[i].checked)
			fail(&vecs[i], "unknown vector kind %s", vecs[i].name);
		for (size_t j = 0; j < vecs[i].n; j++) {
			if (vecs[i].checked && !vecs[i].kv[j].used)
				fail(&vecs[i], "key %s is not checked",
				    vecs[i].kv[j].key);
			free(vecs[i].kv[j].key);
			free(vecs[i].kv[j].val);
		}
		free(vecs[i].name);
	}
	free(vecs);
	cf_identity_free(vec_identity);
	return check_done("vectors");
}
