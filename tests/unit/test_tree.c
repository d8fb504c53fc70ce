/* test_tree.c: directory listing encoding, decoding and validation. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "crypto.h"
#include "tree.h"

static uint8_t chunks[3][CF_HASH_BYTES];

static struct cf_node
file_node(const char *name)
{
	struct cf_node n;

	memset(&n, 0, sizeof(n));
	n.kind = CF_NODE_FILE;
	n.name = (char *)(uintptr_t)name;
	n.mode = 0644;
	n.uid = 1000;
	n.gid = 1000;
	n.mtime_sec = 1700000000;
	n.mtime_nsec = 123456789;
	n.size = 3 * 1000;
	n.inode = 42;
	n.device = 7;
	n.nlink = 1;
	n.nchunks = 3;
	n.chunks = chunks;
	return n;
}

/* A tree with a file, a directory and a symlink, added out of order. */
static void
sample_tree(struct cf_tree *t)
{
	struct cf_node n;

	cf_tree_init(t);
	n = file_node("zeta.txt");
	CHECK_OK(cf_tree_add(t, &n));

	memset(&n, 0, sizeof(n));
	n.kind = CF_NODE_DIR;
	n.name = (char *)(uintptr_t)"Patients";
	n.mode = 0755;
	n.mtime_sec = -5;   /* before 1970 */
	n.size = 4096;      /* normalised to 0 */
	memset(n.subtree, 0xab, sizeof(n.subtree));
	CHECK_OK(cf_tree_add(t, &n));

	memset(&n, 0, sizeof(n));
	n.kind = CF_NODE_SYMLINK;
	n.name = (char *)(uintptr_t)"\xc3\xa9t\xc3\xa9";   /* "été" */
	n.mode = 0120777;   /* masked to 0777 */
	n.target = (char *)(uintptr_t)"../x/y";
	CHECK_OK(cf_tree_add(t, &n));

	n = file_node("empty");
	n.nchunks = 0;
	n.chunks = NULL;
	n.size = 0;
	CHECK_OK(cf_tree_add(t, &n));

	n = file_node("a");
	n.nlink = 2;
	CHECK_OK(cf_tree_add(t, &n));
}

static void
test_roundtrip(void)
{
	struct cf_tree t, u;
	struct cf_buf b, b2;
	const struct cf_node *f;

	sample_tree(&t);
	cf_buf_init(&b, 1 << 20);
	CHECK_OK(cf_tree_encode(&t, &b));
	/* Bytewise: "Patients" < "a" < "empty" < "zeta.txt" < "été". */
	CHECK(strcmp(t.nodes[0].name, "Patients") == 0);
	CHECK(strcmp(t.nodes[1].name, "a") == 0);
	CHECK(strcmp(t.nodes[2].name, "empty") == 0);
	CHECK(strcmp(t.nodes[3].name, "zeta.txt") == 0);
	CHECK(strcmp(t.nodes[4].name, "\xc3\xa9t\xc3\xa9") == 0);

	CHECK_OK(cf_tree_decode(b.p, b.len, &u));
	CHECK(u.count == 5);
	f = cf_tree_find(&u, "zeta.txt");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(f->kind == CF_NODE_FILE && f->mode == 0644);
		CHECK(f->uid == 1000 && f->gid == 1000);
		CHECK(f->mtime_sec == 1700000000 && f->mtime_nsec == 123456789);
		CHECK(f->size == 3000 && f->inode == 42 && f->device == 7);
		CHECK(f->nlink == 1 && f->nchunks == 3);
		CHECK(f->chunks != NULL &&
		    memcmp(f->chunks, chunks, sizeof(chunks)) == 0);
	}
	f = cf_tree_find(&u, "Patients");
	CHECK(f != NULL && f->kind == CF_NODE_DIR && f->size == 0);
	CHECK(f != NULL && f->mtime_sec == -5 && f->subtree[31] == 0xab);
	CHECK(f != NULL && f->chunks == NULL && f->target == NULL);
	f = cf_tree_find(&u, "\xc3\xa9t\xc3\xa9");
	CHECK(f != NULL && f->kind == CF_NODE_SYMLINK && f->mode == 0777);
	CHECK(f != NULL && strcmp(f->target, "../x/y") == 0 && f->size == 6);
	f = cf_tree_find(&u, "empty");
	CHECK(f != NULL && f->nchunks == 0 && f->chunks == NULL);
	CHECK(cf_tree_find(&u, "a") != NULL);
	CHECK(cf_tree_find(&u, "b") == NULL);
	CHECK(cf_tree_find(&u, "") == NULL);
	CHECK(cf_tree_find(&u, "zzz") == NULL);
	CHECK(cf_tree_find(&u, "A") == NULL);

	/* Re-encoding the decoded tree gives the same bytes. */
	cf_buf_init(&b2, 1 << 20);
	CHECK_OK(cf_tree_encode(&u, &b2));
	CHECK(b2.len == b.len && memcmp(b2.p, b.p, b.len) == 0);

	cf_buf_free(&b2);
	cf_tree_free(&u);
	cf_tree_free(&t);
	cf_tree_free(&t);   /* twice is harmless */
	cf_buf_free(&b);
}

static void
test_empty(void)
{
	struct cf_tree t, u;
	struct cf_buf b;
	static const uint8_t want[] = { 1, 0, 0, 0, 0 };

	cf_tree_init(&t);
	cf_buf_init(&b, 1024);
	CHECK_OK(cf_tree_encode(&t, &b));
	CHECK(b.len == 5 && memcmp(b.p, want, 5) == 0);
	CHECK_OK(cf_tree_decode(b.p, b.len, &u));
	CHECK(u.count == 0 && cf_tree_find(&u, "a") == NULL);
	cf_tree_free(&u);
	cf_buf_free(&b);
}

static void
test_invalid_add(void)
{
	static const char *bad[] = { "", ".", "..", "a/b", "/", };
	struct cf_tree t;
	struct cf_node n;
	char longname[300];

	cf_tree_init(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = file_node(bad[i]);
		CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
	}
	n = file_node(NULL);
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);

	memset(longname, 'x', sizeof(longname));
	longname[256] = '\0';
	n = file_node(longname);
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
	longname[255] = '\0';
	n = file_node(longname);
	CHECK_OK(cf_tree_add(&t, &n));
	n = file_node("...");
	CHECK_OK(cf_tree_add(&t, &n));
	n = file_node(".hidden");
	CHECK_OK(cf_tree_add(&t, &n));

	n = file_node("k");
	n.kind = 0;
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
	n.kind = 4;
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
	n = file_node("nsec");
	n.mtime_nsec = 1000000000;
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
	n = file_node("nochunks");
	n.chunks = NULL;
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);

	memset(&n, 0, sizeof(n));
	n.kind = CF_NODE_SYMLINK;
	n.name = (char *)(uintptr_t)"link";
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);        /* no target */
	n.target = (char *)(uintptr_t)"";
	CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
	{
		char *big = malloc(CF_SYMLINK_MAX + 2);
		CHECK(big != NULL);
		if (big != NULL) {
			memset(big, 'y', CF_SYMLINK_MAX + 1);
			big[CF_SYMLINK_MAX + 1] = '\0';
			n.target = big;
			CHECK_ERR(cf_tree_add(&t, &n), CF_ERR_INVALID);
			big[CF_SYMLINK_MAX] = '\0';
			CHECK_OK(cf_tree_add(&t, &n));
			free(big);
		}
	}
	CHECK(t.count == 4);

	/* A valid tree still encodes after the refused additions. */
	{
		struct cf_buf b;
		struct cf_tree u;

		cf_buf_init(&b, 1 << 20);
		CHECK_OK(cf_tree_encode(&t, &b));
		CHECK_OK(cf_tree_decode(b.p, b.len, &u));
		CHECK(u.count == 4);
		CHECK(cf_tree_find(&u, "link") != NULL &&
		    cf_tree_find(&u, "link")->size == CF_SYMLINK_MAX);
		cf_tree_free(&u);
		cf_buf_free(&b);
	}
	cf_tree_free(&t);
}

static void
test_duplicate(void)
{
	struct cf_tree t;
	struct cf_node n;
	struct cf_buf b;

	cf_tree_init(&t);
	n = file_node("same");
	CHECK_OK(cf_tree_add(&t, &n));
	n = file_node("other");
	CHECK_OK(cf_tree_add(&t, &n));
	n = file_node("same");
	CHECK_OK(cf_tree_add(&t, &n));
	cf_buf_init(&b, 1 << 20);
	CHECK_OK(cf_buf_append(&b, "xy", 2));
	CHECK_ERR(cf_tree_encode(&t, &b), CF_ERR_INVALID);
	CHECK(b.len == 2);  /* nothing appended on failure */
	cf_buf_free(&b);
	cf_tree_free(&t);
}

/* Offsets within the encoding of the first node of a one-node tree. */
#define OFF_KIND 5
#define OFF_NAMELEN 6
#define OFF_NAME 8

static void
test_decode_damage(void)
{
	struct cf_tree t, u;
	struct cf_buf b;
	struct cf_node n;
	uint8_t *c;

	sample_tree(&t);
	cf_buf_init(&b, 1 << 20);
	CHECK_OK(cf_tree_encode(&t, &b));

	/* Truncation at every length, and a trailing byte. */
	for (size_t len = 0; len < b.len; len++) {
		cf_status rc = cf_tree_decode(b.p, len, &u);
		CHECK(rc == CF_ERR_CORRUPT);
		CHECK(u.count == 0 && u.nodes == NULL);
	}
	c = malloc(b.len + 1);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	memcpy(c, b.p, b.len);
	c[b.len] = 0;
	CHECK_ERR(cf_tree_decode(c, b.len + 1, &u), CF_ERR_CORRUPT);

	/* Versions other than 1. */
	for (int v = 0; v < 256; v++) {
		if (v == 1)
			continue;
		c[0] = (uint8_t)v;
		CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_VERSION);
	}
	c[0] = 1;

	/* A huge count is refused before allocating. */
	cf_put_u32(c + 1, 0xffffffffu);
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u32(c + 1, 6);
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u32(c + 1, 4);
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u32(c + 1, 5);
	CHECK_OK(cf_tree_decode(c, b.len, &u));
	cf_tree_free(&u);
	free(c);
	cf_buf_free(&b);
	cf_tree_free(&t);

	/* Single-node trees with one field damaged. */
	cf_tree_init(&t);
	n = file_node("ab");
	CHECK_OK(cf_tree_add(&t, &n));
	cf_buf_init(&b, 1 << 20);
	CHECK_OK(cf_tree_encode(&t, &b));
	c = b.p;
	CHECK_OK(cf_tree_decode(c, b.len, &u));
	cf_tree_free(&u);
	for (int k = 0; k < 256; k++) {
		if (k == CF_NODE_FILE)
			continue;
		c[OFF_KIND] = (uint8_t)k;
		CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	}
	c[OFF_KIND] = CF_NODE_FILE;
	c[OFF_NAME] = '/';
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	c[OFF_NAME] = '\0';
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	c[OFF_NAME] = '.';
	c[OFF_NAME + 1] = '.';
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	c[OFF_NAME + 1] = 'b';
	CHECK_OK(cf_tree_decode(c, b.len, &u));   /* ".b" is fine */
	cf_tree_free(&u);
	c[OFF_NAME] = 'a';
	/* mode with a file-type bit */
	c[OFF_NAME + 2 + 1] |= 0x10;
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	c[OFF_NAME + 2 + 1] &= (uint8_t)~0x10;
	/* nsec = 1e9 */
	cf_put_u32(c + OFF_NAME + 2 + 12 + 8, 1000000000u);
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u32(c + OFF_NAME + 2 + 12 + 8, 999999999u);
	CHECK_OK(cf_tree_decode(c, b.len, &u));
	cf_tree_free(&u);
	/* nchunks larger than what is left */
	{
		size_t off = OFF_NAME + 2 + 52;
		CHECK(cf_get_u32(c + off) == 3);
		cf_put_u32(c + off, 4);
		CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
		cf_put_u32(c + off, 0x08000000u);
		CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
		cf_put_u32(c + off, 2);
		CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
		cf_put_u32(c + off, 3);
	}
	/* namelen 0 and > 255 */
	cf_put_u16(c + OFF_NAMELEN, 0);
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u16(c + OFF_NAMELEN, 256);
	CHECK_ERR(cf_tree_decode(c, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u16(c + OFF_NAMELEN, 2);
	CHECK_OK(cf_tree_decode(c, b.len, &u));
	cf_tree_free(&u);
	cf_buf_free(&b);
	cf_tree_free(&t);
}

/* Build a two-node encoding by hand from two one-node encodings. */
static void
test_decode_order(void)
{
	struct cf_tree t1, t2, u;
	struct cf_node n;
	struct cf_buf b1, b2, both;

	cf_tree_init(&t1);
	cf_tree_init(&t2);
	n = file_node("b");
	CHECK_OK(cf_tree_add(&t1, &n));
	n = file_node("a");
	CHECK_OK(cf_tree_add(&t2, &n));
	cf_buf_init(&b1, 1 << 20);
	cf_buf_init(&b2, 1 << 20);
	cf_buf_init(&both, 1 << 20);
	CHECK_OK(cf_tree_encode(&t1, &b1));
	CHECK_OK(cf_tree_encode(&t2, &b2));

	/* "b" then "a": out of order. */
	CHECK_OK(cf_buf_add_u8(&both, 1));
	CHECK_OK(cf_buf_add_u32(&both, 2));
	CHECK_OK(cf_buf_append(&both, b1.p + 5, b1.len - 5));
	CHECK_OK(cf_buf_append(&both, b2.p + 5, b2.len - 5));
	CHECK_ERR(cf_tree_decode(both.p, both.len, &u), CF_ERR_CORRUPT);
	CHECK(u.count == 0 && u.nodes == NULL);

	/* "b" twice: repeated. */
	cf_buf_reset(&both);
	CHECK_OK(cf_buf_add_u8(&both, 1));
	CHECK_OK(cf_buf_add_u32(&both, 2));
	CHECK_OK(cf_buf_append(&both, b1.p + 5, b1.len - 5));
	CHECK_OK(cf_buf_append(&both, b1.p + 5, b1.len - 5));
	CHECK_ERR(cf_tree_decode(both.p, both.len, &u), CF_ERR_CORRUPT);

	/* "a" then "b": fine. */
	cf_buf_reset(&both);
	CHECK_OK(cf_buf_add_u8(&both, 1));
	CHECK_OK(cf_buf_add_u32(&both, 2));
	CHECK_OK(cf_buf_append(&both, b2.p + 5, b2.len - 5));
	CHECK_OK(cf_buf_append(&both, b1.p + 5, b1.len - 5));
	CHECK_OK(cf_tree_decode(both.p, both.len, &u));
	CHECK(u.count == 2);
	cf_tree_free(&u);

	cf_buf_free(&b1);
	cf_buf_free(&b2);
	cf_buf_free(&both);
	cf_tree_free(&t1);
	cf_tree_free(&t2);
}

static void
test_symlink_damage(void)
{
	struct cf_tree t, u;
	struct cf_node n;
	struct cf_buf b;
	size_t toff;

	cf_tree_init(&t);
	memset(&n, 0, sizeof(n));
	n.kind = CF_NODE_SYMLINK;
	n.name = (char *)(uintptr_t)"l";
	n.target = (char *)(uintptr_t)"tgt";
	CHECK_OK(cf_tree_add(&t, &n));
	memset(&n, 0, sizeof(n));
	n.kind = CF_NODE_DIR;
	n.name = (char *)(uintptr_t)"m";
	CHECK_OK(cf_tree_add(&t, &n));
	cf_buf_init(&b, 1 << 20);
	CHECK_OK(cf_tree_encode(&t, &b));
	toff = 5 + 1 + 2 + 1 + 12 + 12;     /* size field of "l" */
	CHECK(cf_get_u64(b.p + toff) == 3);
	cf_put_u64(b.p + toff, 4);
	CHECK_ERR(cf_tree_decode(b.p, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u64(b.p + toff, 3);
	toff += 24 + 4;                     /* targetlen */
	cf_put_u16(b.p + toff, 0);
	CHECK_ERR(cf_tree_decode(b.p, b.len, &u), CF_ERR_CORRUPT);
	cf_put_u16(b.p + toff, 3);
	b.p[toff + 2 + 1] = '\0';
	CHECK_ERR(cf_tree_decode(b.p, b.len, &u), CF_ERR_CORRUPT);
	b.p[toff + 2 + 1] = 'g';
	CHECK_OK(cf_tree_decode(b.p, b.len, &u));
	cf_tree_free(&u);
	/* The directory "m" with a size. */
	toff += 2 + 3 + 1 + 2 + 1 + 12 + 12;
	CHECK(cf_get_u64(b.p + toff) == 0);
	b.p[toff] = 1;
	CHECK_ERR(cf_tree_decode(b.p, b.len, &u), CF_ERR_CORRUPT);
	b.p[toff] = 0;
	CHECK_OK(cf_tree_decode(b.p, b.len, &u));
	cf_tree_free(&u);
	cf_buf_free(&b);
	cf_tree_free(&t);
}

static void
test_many(void)
{
	struct cf_tree t, u;
	struct cf_node n;
	struct cf_buf b;
	char name[16];

	cf_tree_init(&t);
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "f%04d", (i * 7919) % 1000);
		n = file_node(name);
		CHECK_OK(cf_tree_add(&t, &n));
	}
	cf_buf_init(&b, 1 << 24);
	CHECK_OK(cf_tree_encode(&t, &b));
	CHECK_OK(cf_tree_decode(b.p, b.len, &u));
	CHECK(u.count == 1000);
	for (int i = 0; i < 1000; i++) {
		const struct cf_node *f;
		snprintf(name, sizeof(name), "f%04d", i);
		f = cf_tree_find(&u, name);
		CHECK(f != NULL && strcmp(f->name, name) == 0);
	}
	CHECK(cf_tree_find(&u, "f1000") == NULL);
	cf_tree_free(&u);
	cf_buf_free(&b);
	cf_tree_free(&t);
}

int
main(void)
{
	CHECK_OK(cf_crypto_init());
	for (size_t i = 0; i < 3; i++)
		cf_random(chunks[i], CF_HASH_BYTES);
	test_roundtrip();
	test_empty();
	test_invalid_add();
	test_duplicate();
	test_decode_damage();
	test_decode_order();
	test_symlink_damage();
	test_many();
	return check_done("tree");
}
