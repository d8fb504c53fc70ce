/* test_identity.c: identities, identity files, public strings, fingerprints. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "identity.h"

/* The cheapest Argon2id costs, so that hundreds of decodes stay fast. */
#define OPS crypto_pwhash_OPSLIMIT_MIN
#define MEM crypto_pwhash_MEMLIMIT_MIN

static const char pass[] = "correct horse battery staple";
#define PASSLEN (sizeof(pass) - 1)

static char tmpdir[64];

static int
same_identity(const struct cf_identity *a, const struct cf_identity *b)
{
	return memcmp(cf_identity_public(a), cf_identity_public(b),
	    CF_SIGN_PK_BYTES) == 0 &&
	    strcmp(cf_identity_name(a), cf_identity_name(b)) == 0;
}

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static void
path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

/*
 * build_file(out, pk, seed, name, ops, mem): an identity file assembled by
 * hand from the format in identity.h, independently of the encoder.
 */
static void
build_file(struct cf_buf *out, const uint8_t pk[32], const uint8_t seed[32],
    const char *name, uint64_t ops, uint64_t mem)
{
	uint8_t salt[16], key[32], box[72];
	size_t n = strlen(name);

	randombytes_buf(salt, sizeof(salt));
	CHECK_OK(cf_buf_append(out, "COFFREID", 8));
	CHECK_OK(cf_buf_add_u8(out, 1));
	CHECK_OK(cf_buf_add_u8(out, 1));
	CHECK_OK(cf_buf_add_u16(out, 0));
	CHECK_OK(cf_buf_add_u64(out, ops));
	CHECK_OK(cf_buf_add_u64(out, mem));
	CHECK_OK(cf_buf_append(out, salt, 16));
	CHECK_OK(cf_buf_add_u8(out, (uint8_t)n));
	CHECK_OK(cf_buf_append(out, name, n));
	CHECK_OK(cf_buf_append(out, pk, 32));
	CHECK(crypto_pwhash(key, 32, pass, PASSLEN, salt, ops, (size_t)mem,
	    crypto_pwhash_ALG_ARGON2ID13) == 0);
	cf_aead_seal(box, key, out->p, out->len, seed, 32);
	CHECK_OK(cf_buf_append(out, box, sizeof(box)));
	sodium_memzero(key, sizeof(key));
}

static void
test_generate_names(void)
{
	static const char *bad[] = {
		"a\x1b[31mred", "tab\there", "new\nline", "del\x7f",
		"c1\xc2\x9b", "\xff", "\xc0\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "trunc\xe2\x82", "\xe0\x80\xaf",
	};
	struct cf_identity *id;
	char longname[CF_NAME_MAX + 2];

	CHECK_OK(cf_identity_generate(NULL, &id));
	CHECK(id != NULL && strcmp(cf_identity_name(id), "") == 0);
	cf_identity_free(id);
	cf_identity_free(NULL);

	CHECK_OK(cf_identity_generate(
	    "Dr \xc3\x89lodie M\xc3\xbcller \xe5\x8c\xbb \xf0\x9f\xa6\xb7", &id));
	CHECK(id != NULL);
	cf_identity_free(id);

	memset(longname, 'x', CF_NAME_MAX);
	longname[CF_NAME_MAX] = '\0';
	CHECK_OK(cf_identity_generate(longname, &id));
	CHECK(id != NULL && strlen(cf_identity_name(id)) == CF_NAME_MAX);
	cf_identity_free(id);
	longname[CF_NAME_MAX] = 'x';
	longname[CF_NAME_MAX + 1] = '\0';
	id = (struct cf_identity *)1;
	CHECK_ERR(cf_identity_generate(longname, &id), CF_ERR_INVALID);
	CHECK(id == NULL);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ERR(cf_identity_generate(bad[i], &id), CF_ERR_INVALID);
		CHECK(id == NULL);
	}
}

static void
test_roundtrip(void)
{
	struct cf_identity *id, *back;
	struct cf_buf b;
	const char *name = "Cabinet dentaire";
	size_t n = strlen(name);
	uint8_t pk[CF_SIGN_PK_BYTES];
	char pname[CF_NAME_MAX + 1];
	uint8_t sig[CF_SIG_BYTES];

	CHECK_OK(cf_identity_generate(name, &id));
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_identity_encode(id, pass, PASSLEN, OPS, MEM, &b));
	CHECK(b.len == 149 + n);
	CHECK(memcmp(b.p, "COFFREID", 8) == 0 && b.p[8] == 1 && b.p[9] == 1);
	CHECK(b.p[10] == 0 && b.p[11] == 0);
	CHECK(cf_get_u64(b.p + 12) == OPS && cf_get_u64(b.p + 20) == MEM);
	CHECK(b.p[44] == n && memcmp(b.p + 45, name, n) == 0);
	CHECK(memcmp(b.p + 45 + n, cf_identity_public(id), 32) == 0);

	CHECK_OK(cf_identity_decode(b.p, b.len, pass, PASSLEN, &back));
	CHECK(back != NULL && same_identity(id, back));
	/* The decoded secret key is the original one. */
	cf_identity_sign(back, "hello", 5, sig);
	CHECK_OK(cf_sig_verify(cf_identity_public(id), "hello", 5, sig));
	cf_identity_free(back);

	CHECK_OK(cf_identity_peek(b.p, b.len, pk, pname));
	CHECK(memcmp(pk, cf_identity_public(id), 32) == 0);
	CHECK(strcmp(pname, name) == 0);

	/* Two encodings differ (fresh salt and nonce). */
	{
		struct cf_buf b2;
		cf_buf_init(&b2, CF_IDENTITY_FILE_MAX);
		CHECK_OK(cf_identity_encode(id, pass, PASSLEN, OPS, MEM, &b2));
		CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) != 0);
		cf_buf_free(&b2);
	}

	/* Encode appends. */
	{
		struct cf_buf b2;
		cf_buf_init(&b2, 1000);
		CHECK_OK(cf_buf_append(&b2, "xyz", 3));
		CHECK_OK(cf_identity_encode(id, pass, PASSLEN, OPS, MEM, &b2));
		CHECK(b2.len == 3 + b.len && memcmp(b2.p, "xyz", 3) == 0);
		CHECK_OK(cf_identity_decode(b2.p + 3, b2.len - 3, pass,
		    PASSLEN, &back));
		CHECK(back != NULL && same_identity(id, back));
		cf_identity_free(back);
		cf_buf_free(&b2);
	}

	/* Wrong passphrase: its own code and message, nothing returned. */
	back = (struct cf_identity *)1;
	CHECK_ERR(cf_identity_decode(b.p, b.len, "correct horse battery stapler",
	    PASSLEN + 1, &back), CF_ERR_PASSPHRASE);
	CHECK(back == NULL);
	CHECK(strcmp(cf_error_message(),
	    "wrong passphrase for identity file") == 0);
	CHECK_ERR(cf_identity_decode(b.p, b.len, pass, PASSLEN - 1, &back),
	    CF_ERR_PASSPHRASE);
	CHECK_ERR(cf_identity_decode(b.p, b.len, NULL, 0, &back),
	    CF_ERR_PASSPHRASE);
	cf_buf_free(&b);

	/* An empty passphrase works (and NULL, 0 is the same). */
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_identity_encode(id, "", 0, OPS, MEM, &b));
	CHECK_OK(cf_identity_decode(b.p, b.len, NULL, 0, &back));
	CHECK(back != NULL && same_identity(id, back));
	cf_identity_free(back);
	cf_buf_free(&b);

	/* Out-of-range costs are the caller's error; nothing is written. */
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_ERR(cf_identity_encode(id, pass, PASSLEN, 0, MEM, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_identity_encode(id, pass, PASSLEN, 65, MEM, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_identity_encode(id, pass, PASSLEN, OPS, 8191, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_identity_encode(id, pass, PASSLEN, OPS,
	    UINT64_C(4) * 1024 * 1024 * 1024 + 1, &b), CF_ERR_INVALID);
	CHECK(b.len == 0);
	cf_buf_free(&b);
	/* A buffer too small is refused cleanly, and left as it was. */
	cf_buf_init(&b, 100);
	CHECK_ERR(cf_identity_encode(id, pass, PASSLEN, OPS, MEM, &b),
	    CF_ERR_NOMEM);
	CHECK(b.len == 0);
	cf_buf_free(&b);
	cf_identity_free(id);
}

/* A valid file built by hand decodes; a seed not matching pk is refused. */
static void
test_handmade(void)
{
	struct cf_identity *a, *b, *back;
	struct cf_buf f;
	uint8_t seed[32], pk[32], sk[64];

	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	cf_buf_init(&f, CF_IDENTITY_FILE_MAX);
	build_file(&f, pk, seed, "hand", OPS, MEM);
	CHECK_OK(cf_identity_decode(f.p, f.len, pass, PASSLEN, &back));
	CHECK(back != NULL &&
	    memcmp(cf_identity_public(back), pk, 32) == 0 &&
	    strcmp(cf_identity_name(back), "hand") == 0);
	cf_identity_free(back);
	cf_buf_free(&f);

	/* Authenticated, but the seed belongs to another key. */
	CHECK_OK(cf_identity_generate(NULL, &a));
	CHECK_OK(cf_identity_generate(NULL, &b));
	cf_buf_init(&f, CF_IDENTITY_FILE_MAX);
	build_file(&f, cf_identity_public(b), seed, "", OPS, MEM);
	back = (struct cf_identity *)1;
	CHECK_ERR(cf_identity_decode(f.p, f.len, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	CHECK(back == NULL);
	CHECK(contains(cf_error_message(), "does not match"));
	cf_buf_free(&f);

	/* A name with a control character is refused before any Argon2. */
	cf_buf_init(&f, CF_IDENTITY_FILE_MAX);
	build_file(&f, pk, seed, "a\x01z", OPS, MEM);
	CHECK_ERR(cf_identity_decode(f.p, f.len, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_identity_peek(f.p, f.len, pk, (char[CF_NAME_MAX + 1]){0}),
	    CF_ERR_CORRUPT);
	cf_buf_free(&f);
	cf_buf_init(&f, CF_IDENTITY_FILE_MAX);
	build_file(&f, pk, seed, "bad\xc3(", OPS, MEM);
	CHECK_ERR(cf_identity_decode(f.p, f.len, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	cf_buf_free(&f);

	cf_identity_free(a);
	cf_identity_free(b);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
}

static void
test_tamper(void)
{
	struct cf_identity *id, *back;
	struct cf_buf b;
	uint8_t *q, pk[CF_SIGN_PK_BYTES];
	char name[CF_NAME_MAX + 1];
	int refused = 0, total = 0;

	CHECK_OK(cf_identity_generate("tamper", &id));
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_identity_encode(id, pass, PASSLEN, OPS, MEM, &b));
	q = malloc(b.len + 1);
	CHECK(q != NULL);
	if (q == NULL)
		return;

	/* Every single-byte change is refused. */
	for (size_t i = 0; i < b.len; i++) {
		static const uint8_t masks[] = { 0x01, 0x80, 0xff };
		for (size_t m = 0; m < sizeof(masks); m++) {
			cf_status rc;
			/*
			 * Byte 23 is the top of memlimit's low word: 0x80 or
			 * 0xff there asks for 2-4 GiB, which is allowed but
			 * too slow for a unit test.
			 */
			if (i == 23 && masks[m] != 0x01)
				continue;
			memcpy(q, b.p, b.len);
			q[i] ^= masks[m];
			back = (struct cf_identity *)1;
			rc = cf_identity_decode(q, b.len, pass, PASSLEN, &back);
			total++;
			if (rc != CF_OK && back == NULL &&
			    (rc == CF_ERR_CORRUPT || rc == CF_ERR_VERSION ||
			    rc == CF_ERR_PASSPHRASE))
				refused++;
			else
				fprintf(stderr, "byte %zu ^ 0x%02x: rc %d\n",
				    i, masks[m], rc);
			if (rc == CF_OK)
				cf_identity_free(back);
		}
	}
	CHECK(refused == total);

	/* Truncation at every length, and a trailing byte. */
	refused = 0;
	for (size_t k = 0; k < b.len; k++) {
		back = (struct cf_identity *)1;
		if (cf_identity_decode(b.p, k, pass, PASSLEN, &back) ==
		    CF_ERR_CORRUPT && back == NULL &&
		    cf_identity_peek(b.p, k, pk, name) == CF_ERR_CORRUPT)
			refused++;
	}
	CHECK(refused == (int)b.len);
	memcpy(q, b.p, b.len);
	q[b.len] = 0;
	CHECK_ERR(cf_identity_decode(q, b.len + 1, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_identity_peek(q, b.len + 1, pk, name), CF_ERR_CORRUPT);
	CHECK_ERR(cf_identity_decode(NULL, 0, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);

	/* Not an identity file at all. */
	memcpy(q, b.p, b.len);
	q[0] = 'X';
	CHECK_ERR(cf_identity_decode(q, b.len, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	CHECK(contains(cf_error_message(), "not a coffre identity file"));

	/* Versions and KDFs from the future. */
	memcpy(q, b.p, b.len);
	q[8] = 2;
	CHECK_ERR(cf_identity_decode(q, b.len, pass, PASSLEN, &back),
	    CF_ERR_VERSION);
	CHECK(contains(cf_error_message(), "version 2"));
	CHECK_ERR(cf_identity_peek(q, b.len, pk, name), CF_ERR_VERSION);
	q[8] = 0;
	CHECK_ERR(cf_identity_decode(q, b.len, pass, PASSLEN, &back),
	    CF_ERR_VERSION);
	/* A future version is recognised even if its layout is different. */
	CHECK_ERR(cf_identity_peek(q, 10, pk, name), CF_ERR_VERSION);
	memcpy(q, b.p, b.len);
	q[9] = 2;
	CHECK_ERR(cf_identity_decode(q, b.len, pass, PASSLEN, &back),
	    CF_ERR_VERSION);
	memcpy(q, b.p, b.len);
	q[11] = 1;
	CHECK_ERR(cf_identity_decode(q, b.len, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);

	/* A name length pointing past the end. */
	memcpy(q, b.p, b.len);
	q[44] = 255;
	CHECK_ERR(cf_identity_peek(q, b.len, pk, name), CF_ERR_CORRUPT);
	q[44] = 0;
	CHECK_ERR(cf_identity_peek(q, b.len, pk, name), CF_ERR_CORRUPT);

	free(q);
	cf_buf_free(&b);
	cf_identity_free(id);
}

/*
 * Hostile costs are refused before Argon2 runs: were they not, these would
 * try to allocate terabytes (CF_ERR_NOMEM) or take hours.
 */
static void
test_hostile_costs(void)
{
	static const struct { uint64_t ops, mem; } bad[] = {
		{ 0, MEM }, { 65, MEM }, { UINT64_MAX, MEM },
		{ 1, 0 }, { 1, 8191 },
		{ 1, UINT64_C(4) * 1024 * 1024 * 1024 + 1 },
		{ 1, UINT64_C(5) * 1024 * 1024 * 1024 },
		{ 1, UINT64_MAX }, { 64, UINT64_C(1) << 40 },
	};
	struct cf_identity *id, *back;
	struct cf_buf b;
	uint8_t pk[CF_SIGN_PK_BYTES];
	char name[CF_NAME_MAX + 1];

	CHECK_OK(cf_identity_generate(NULL, &id));
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_identity_encode(id, pass, PASSLEN, OPS, MEM, &b));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf_put_u64(b.p + 12, bad[i].ops);
		cf_put_u64(b.p + 20, bad[i].mem);
		back = (struct cf_identity *)1;
		CHECK_ERR(cf_identity_decode(b.p, b.len, pass, PASSLEN, &back),
		    CF_ERR_CORRUPT);
		CHECK(back == NULL);
		CHECK(contains(cf_error_message(), "cost"));
		CHECK_ERR(cf_identity_peek(b.p, b.len, pk, name),
		    CF_ERR_CORRUPT);
	}
	/* The extremes of the allowed range parse (peek runs no Argon2). */
	cf_put_u64(b.p + 12, 64);
	cf_put_u64(b.p + 20, UINT64_C(4) * 1024 * 1024 * 1024);
	CHECK_OK(cf_identity_peek(b.p, b.len, pk, name));
	cf_put_u64(b.p + 12, 1);
	cf_put_u64(b.p + 20, 8192);
	CHECK_OK(cf_identity_peek(b.p, b.len, pk, name));
	cf_buf_free(&b);
	cf_identity_free(id);
}

static void
test_files(void)
{
	struct cf_identity *id, *back;
	struct cf_buf b;
	struct stat st;
	char path[128], path2[128], link[128], dir[128], fifo[128];
	uint8_t before[CF_IDENTITY_FILE_MAX];
	size_t beforelen;
	mode_t old;
	FILE *f;

	CHECK_OK(cf_identity_generate("files", &id));
	path_in_tmp(path, sizeof(path), "identity");
	old = umask(0);
	CHECK_OK(cf_identity_save(id, path, pass, PASSLEN, OPS, MEM));
	umask(old);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0600);
	CHECK(st.st_size == 149 + 5);

	/* Never replaces an existing file, even with the same identity. */
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_identity_read_file(path, &b));
	CHECK(b.len == 154);
	memcpy(before, b.p, b.len);
	beforelen = b.len;
	cf_buf_free(&b);
	CHECK_ERR(cf_identity_save(id, path, pass, PASSLEN, OPS, MEM),
	    CF_ERR_EXISTS);
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_identity_read_file(path, &b));
	CHECK(b.len == beforelen && memcmp(b.p, before, beforelen) == 0);
	cf_buf_free(&b);

	CHECK_OK(cf_identity_load(path, pass, PASSLEN, &back));
	CHECK(back != NULL && same_identity(id, back));
	cf_identity_free(back);
	back = (struct cf_identity *)1;
	CHECK_ERR(cf_identity_load(path, "nope", 4, &back), CF_ERR_PASSPHRASE);
	CHECK(back == NULL);
	CHECK(!contains(cf_error_message(), tmpdir));

	/* A restrictive umask still gives exactly 0600. */
	path_in_tmp(path2, sizeof(path2), "identity2");
	old = umask(0277);
	CHECK_OK(cf_identity_save(id, path2, pass, PASSLEN, OPS, MEM));
	umask(old);
	CHECK(stat(path2, &st) == 0 && (st.st_mode & 07777) == 0600);

	/* Bad costs: refused before the file is created. */
	path_in_tmp(path2, sizeof(path2), "identity3");
	CHECK_ERR(cf_identity_save(id, path2, pass, PASSLEN, 0, MEM),
	    CF_ERR_INVALID);
	CHECK(access(path2, F_OK) != 0 && errno == ENOENT);

	/* A write that fails part-way leaves no partial file behind. */
	{
		struct rlimit rl, small;
		void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
		CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
		small = rl;
		small.rlim_cur = 100;
		CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
		path_in_tmp(path2, sizeof(path2), "partial");
		CHECK_ERR(cf_identity_save(id, path2, pass, PASSLEN, OPS, MEM),
		    CF_ERR_IO);
		CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
		signal(SIGXFSZ, oldsig);
		CHECK(access(path2, F_OK) != 0 && errno == ENOENT);
	}

	/* A bare file name is saved in the current directory. */
	{
		char cwd[4096];
		CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
		CHECK(chdir(tmpdir) == 0);
		CHECK_OK(cf_identity_save(id, "relative", pass, PASSLEN, OPS,
		    MEM));
		CHECK_OK(cf_identity_load("relative", pass, PASSLEN, &back));
		CHECK(back != NULL && same_identity(id, back));
		cf_identity_free(back);
		CHECK(chdir(cwd) == 0);
	}

	/* No such directory. */
	path_in_tmp(path2, sizeof(path2), "nodir/identity");
	CHECK_ERR(cf_identity_save(id, path2, pass, PASSLEN, OPS, MEM),
	    CF_ERR_IO);

	/* Missing file. */
	path_in_tmp(path2, sizeof(path2), "absent");
	back = (struct cf_identity *)1;
	CHECK_ERR(cf_identity_load(path2, pass, PASSLEN, &back),
	    CF_ERR_NOTFOUND);
	CHECK(back == NULL);

	/* A symlink to a valid identity is not followed, neither way. */
	path_in_tmp(link, sizeof(link), "link");
	CHECK(symlink(path, link) == 0);
	CHECK_ERR(cf_identity_load(link, pass, PASSLEN, &back), CF_ERR_CORRUPT);
	CHECK(contains(cf_error_message(), "symbolic link"));
	cf_buf_init(&b, CF_IDENTITY_FILE_MAX);
	CHECK_OK(cf_buf_append(&b, "ab", 2));
	CHECK_ERR(cf_identity_read_file(link, &b), CF_ERR_CORRUPT);
	CHECK(b.len == 2);
	cf_buf_free(&b);
	path_in_tmp(link, sizeof(link), "dangling");
	path_in_tmp(path2, sizeof(path2), "target");
	CHECK(symlink(path2, link) == 0);
	CHECK_ERR(cf_identity_save(id, link, pass, PASSLEN, OPS, MEM),
	    CF_ERR_EXISTS);
	CHECK(access(path2, F_OK) != 0);

	/* Not a regular file: a directory, a FIFO (must not hang). */
	path_in_tmp(dir, sizeof(dir), "dir");
	CHECK(mkdir(dir, 0700) == 0);
	CHECK_ERR(cf_identity_load(dir, pass, PASSLEN, &back), CF_ERR_CORRUPT);
	path_in_tmp(fifo, sizeof(fifo), "fifo");
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK_ERR(cf_identity_load(fifo, pass, PASSLEN, &back), CF_ERR_CORRUPT);

	/* Too large. */
	path_in_tmp(path2, sizeof(path2), "big");
	CHECK((f = fopen(path2, "wb")) != NULL);
	if (f != NULL) {
		for (int i = 0; i <= CF_IDENTITY_FILE_MAX; i++)
			fputc('A', f);
		fclose(f);
	}
	CHECK_ERR(cf_identity_load(path2, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	CHECK(contains(cf_error_message(), "too large"));

	/* Garbage of a plausible size. */
	path_in_tmp(path2, sizeof(path2), "garbage");
	CHECK((f = fopen(path2, "wb")) != NULL);
	if (f != NULL) {
		fputs("not an identity", f);
		fclose(f);
	}
	CHECK_ERR(cf_identity_load(path2, pass, PASSLEN, &back),
	    CF_ERR_CORRUPT);
	cf_identity_free(id);
}

static void
test_pubid(void)
{
	static const char vector[] =
	    "coffre1aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dyp4wl2r";
	static const char fvector[] =
	    "93987 72639 01531 32342 58012 56849 78205 05413";
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t pk[32], back[32];
	char s[CF_PUBID_LEN + 1], t[CF_PUBID_LEN + 16], fp[CF_FINGERPRINT_LEN + 1];
	struct cf_identity *id;
	int typos = 0, tries = 0;

	/* Vectors computed independently (Python base64 + hashlib). */
	for (int i = 0; i < 32; i++)
		pk[i] = (uint8_t)i;
	cf_pubid_encode(pk, s);
	CHECK(strcmp(s, vector) == 0);
	cf_pubid_fingerprint(pk, fp);
	CHECK(strcmp(fp, fvector) == 0);
	CHECK_OK(cf_pubid_decode(vector, back));
	CHECK(memcmp(pk, back, 32) == 0);

	CHECK_OK(cf_identity_generate(NULL, &id));
	cf_pubid_encode(cf_identity_public(id), s);
	CHECK(strlen(s) == CF_PUBID_LEN && strncmp(s, "coffre1", 7) == 0);
	for (size_t i = 7; i < CF_PUBID_LEN; i++)
		CHECK(strchr(alphabet, s[i]) != NULL);
	CHECK_OK(cf_pubid_decode(s, back));
	CHECK(memcmp(back, cf_identity_public(id), 32) == 0);

	/* Case-insensitive, surrounding whitespace allowed. */
	snprintf(t, sizeof(t), " \t%s\r\n", s);
	for (char *c = t; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	memset(back, 0, 32);
	CHECK_OK(cf_pubid_decode(t, back));
	CHECK(memcmp(back, cf_identity_public(id), 32) == 0);

	/* Each failure says what is wrong. */
	CHECK_ERR(cf_pubid_decode("", back), CF_ERR_INVALID);
	CHECK_ERR(cf_pubid_decode("   ", back), CF_ERR_INVALID);
	CHECK_ERR(cf_pubid_decode(NULL, back), CF_ERR_INVALID);
	memcpy(t, s, sizeof(s));
	t[0] = 'k';
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "start with"));
	CHECK_ERR(cf_pubid_decode("age1qqqq", back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "start with"));
	memcpy(t, s, sizeof(s));
	t[CF_PUBID_LEN - 1] = '\0';
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "62 characters"));
	snprintf(t, sizeof(t), "%sa", s);
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "64 characters"));
	CHECK_ERR(cf_pubid_decode("coffre", back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "characters"));
	memcpy(t, s, sizeof(s));
	t[20] = '0';
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "'0' at position 21"));
	t[20] = '\x01';
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "0x01"));
	t[20] = ' ';
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "invalid character"));

	/* Any one-character typo is caught by the checksum. */
	for (size_t i = 7; i < CF_PUBID_LEN; i++) {
		for (size_t a = 0; a < 32; a++) {
			memcpy(t, vector, sizeof(vector));
			if (alphabet[a] == t[i])
				continue;
			t[i] = alphabet[a];
			tries++;
			if (cf_pubid_decode(t, back) == CF_ERR_INVALID &&
			    contains(cf_error_message(),
			    "checksum mismatch: probably a typo"))
				typos++;
		}
	}
	CHECK(tries > 1000 && typos == tries);
	/* Two swapped neighbours too. */
	memcpy(t, vector, sizeof(vector));
	t[30] = vector[31];
	t[31] = vector[30];
	CHECK(t[30] != t[31]);
	CHECK_ERR(cf_pubid_decode(t, back), CF_ERR_INVALID);
	CHECK(contains(cf_error_message(), "checksum"));

	/* Fingerprint: 8 groups of 5 digits, single spaces. */
	cf_pubid_fingerprint(cf_identity_public(id), fp);
	CHECK(strlen(fp) == CF_FINGERPRINT_LEN);
	for (int i = 0; i < CF_FINGERPRINT_LEN; i++) {
		if (i % 6 == 5)
			CHECK(fp[i] == ' ');
		else
			CHECK(fp[i] >= '0' && fp[i] <= '9');
	}
	cf_identity_free(id);
}

static void
test_sign_box(void)
{
	struct cf_identity *a, *b;
	uint8_t sig[CF_SIG_BYTES], pk[CF_BOX_PK_BYTES], sk[CF_BOX_SK_BYTES];
	uint8_t pk2[CF_BOX_PK_BYTES], bpk[CF_BOX_PK_BYTES], bsk[CF_BOX_SK_BYTES];
	uint8_t zero[32] = { 0 }, calc[32];
	uint8_t sealed[5 + CF_SEAL_OVERHEAD], opened[5];
	uint8_t key[CF_KEY_BYTES], key2[CF_KEY_BYTES];
	uint8_t sk_key[CF_SEALED_KEY_BYTES];
	const char msg[] = "snapshot 42";

	CHECK_OK(cf_identity_generate("a", &a));
	CHECK_OK(cf_identity_generate("b", &b));

	cf_identity_sign(a, msg, sizeof(msg), sig);
	CHECK_OK(cf_sig_verify(cf_identity_public(a), msg, sizeof(msg), sig));
	CHECK_ERR(cf_sig_verify(cf_identity_public(b), msg, sizeof(msg), sig),
	    CF_ERR_CORRUPT);
	CHECK(strcmp(cf_error_message(), "bad signature") == 0);
	CHECK_ERR(cf_sig_verify(cf_identity_public(a), msg, sizeof(msg) - 1,
	    sig), CF_ERR_CORRUPT);
	sig[10] ^= 4;
	CHECK_ERR(cf_sig_verify(cf_identity_public(a), msg, sizeof(msg), sig),
	    CF_ERR_CORRUPT);
	cf_identity_sign(a, NULL, 0, sig);
	CHECK_OK(cf_sig_verify(cf_identity_public(a), NULL, 0, sig));
	CHECK_OK(cf_sig_verify(cf_identity_public(a), "", 0, sig));
	CHECK_ERR(cf_sig_verify(zero, NULL, 0, sig), CF_ERR_CORRUPT);

	/* The derived X25519 pair works, and matches the public derivation. */
	cf_identity_box_keys(a, pk, sk);
	CHECK_OK(cf_pubid_box_pk(cf_identity_public(a), pk2));
	CHECK(memcmp(pk, pk2, 32) == 0);
	CHECK(crypto_scalarmult_base(calc, sk) == 0 && memcmp(calc, pk, 32) == 0);
	crypto_box_seal(sealed, (const uint8_t *)"hello", 5, pk2);
	CHECK(crypto_box_seal_open(opened, sealed, sizeof(sealed), pk, sk) == 0);
	CHECK(memcmp(opened, "hello", 5) == 0);
	cf_identity_box_keys(b, bpk, bsk);
	CHECK(memcmp(bpk, pk, 32) != 0);
	CHECK(crypto_box_seal_open(opened, sealed, sizeof(sealed), bpk, bsk) !=
	    0);
	randombytes_buf(key, sizeof(key));
	cf_seal_key(sk_key, key, pk2);
	CHECK_OK(cf_unseal_key(key2, sk_key, pk, sk));
	CHECK(memcmp(key, key2, sizeof(key)) == 0);
	CHECK_ERR(cf_unseal_key(key2, sk_key, bpk, bsk), CF_ERR_CORRUPT);

	/* A small-order point is not a usable recipient. */
	CHECK_ERR(cf_pubid_box_pk(zero, pk2), CF_ERR_INVALID);

	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(bsk, sizeof(bsk));
	cf_identity_free(a);
	cf_identity_free(b);
}

int
main(void)
{
	char cmd[128];

	if (cf_crypto_init() != CF_OK)
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/coffre-test-identity.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_generate_names();
	test_roundtrip();
	test_handmade();
	test_tamper();
	test_hostile_costs();
	test_files();
	test_pubid();
	test_sign_box();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_done("identity");
}
