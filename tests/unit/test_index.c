/* test_index.c: the in-memory index and index files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "crypto.h"
#include "index.h"

#define NBLOBS 1000000
#define NPACKS 1000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* entry_of(i, e): a made-up but valid entry numbered ${i}. */
static void
entry_of(uint32_t i, const uint8_t *id, struct cf_pack_entry *e)
{
	e->type = (uint8_t)(i % 3 == 0 ? CF_BLOB_TREE : CF_BLOB_DATA);
	memcpy(e->id, id, CF_HASH_BYTES);
	e->offset = 96 + i;
	e->length = 41 + i % 100000;
	e->raw_length = (i * 7u) % (CF_BLOB_MAX + 1);
}

static int
loc_is(const struct cf_index_loc *l, uint32_t pack,
    const struct cf_pack_entry *e)
{
	return l->pack == pack && l->offset == e->offset &&
	    l->length == e->length && l->raw_length == e->raw_length &&
	    l->type == e->type;
}

struct counter {
	size_t n;
	size_t stop_at;
	uint64_t sum;
};

static cf_status
count_fn(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc)
{
	struct counter *c = arg;

	(void)id;
	c->sum += loc->offset;
	if (++c->n == c->stop_at)
		return CF_ERR_CANCELLED;
	return CF_OK;
}

static void
test_basic(void)
{
	struct cf_index *idx;
	struct cf_index_loc loc;
	struct cf_pack_entry e, e2;
	uint8_t p0[CF_HASH_BYTES], p1[CF_HASH_BYTES], id[CF_HASH_BYTES];
	uint32_t no;

	cf_random(p0, sizeof(p0));
	cf_random(p1, sizeof(p1));
	cf_random(id, sizeof(id));
	CHECK_OK(cf_index_new(&idx));
	CHECK(cf_index_pack_count(idx) == 0 && cf_index_blob_count(idx) == 0);
	CHECK(cf_index_lookup(idx, id, &loc) == 0);
	CHECK(cf_index_find_pack(idx, p0, &no) == 0);
	CHECK(cf_index_pack_id(idx, 0) == NULL);

	/* Pack numbering: in order, and the same id gives the same number. */
	CHECK_OK(cf_index_add_pack(idx, p0, &no));
	CHECK(no == 0);
	CHECK_OK(cf_index_add_pack(idx, p1, &no));
	CHECK(no == 1);
	CHECK_OK(cf_index_add_pack(idx, p0, &no));
	CHECK(no == 0);
	CHECK(cf_index_pack_count(idx) == 2);
	CHECK(cf_index_find_pack(idx, p1, &no) == 1 && no == 1);
	CHECK(memcmp(cf_index_pack_id(idx, 1), p1, CF_HASH_BYTES) == 0);
	CHECK(cf_index_pack_id(idx, 2) == NULL);

	/* Duplicates keep the first location. */
	entry_of(5, id, &e);
	CHECK_OK(cf_index_add(idx, 1, &e));
	entry_of(6, id, &e2);
	CHECK_OK(cf_index_add(idx, 0, &e2));
	CHECK(cf_index_blob_count(idx) == 1);
	CHECK(cf_index_lookup(idx, id, &loc) == 1);
	CHECK(loc_is(&loc, 1, &e));

	/* Refused: unknown pack, unknown type, impossible size. */
	id[0] ^= 1;
	entry_of(7, id, &e);
	CHECK_ERR(cf_index_add(idx, 2, &e), CF_ERR_INVALID);
	e.type = 0;
	CHECK_ERR(cf_index_add(idx, 0, &e), CF_ERR_INVALID);
	e.type = 3;
	CHECK_ERR(cf_index_add(idx, 0, &e), CF_ERR_INVALID);
	e.type = CF_BLOB_DATA;
	e.raw_length = CF_BLOB_MAX + 1;
	CHECK_ERR(cf_index_add(idx, 0, &e), CF_ERR_INVALID);
	CHECK(cf_index_blob_count(idx) == 1);
	CHECK(cf_index_lookup(idx, id, &loc) == 0);
	/* The largest raw_length and both types survive the packing. */
	e.raw_length = CF_BLOB_MAX;
	e.type = CF_BLOB_TREE;
	e.offset = 0xffffffffu;
	e.length = 0xfffffffeu;
	CHECK_OK(cf_index_add(idx, 0, &e));
	CHECK(cf_index_lookup(idx, id, &loc) == 1);
	CHECK(loc_is(&loc, 0, &e));
	cf_index_free(idx);
	cf_index_free(NULL);
}

/* keep_even(arg, pack_no): keep even-numbered packs. */
static int
keep_even(void *arg, uint32_t pack_no)
{
	(void)arg;
	return pack_no % 2 == 0;
}

static int
keep_all(void *arg, uint32_t pack_no)
{
	(void)arg;
	(void)pack_no;
	return 1;
}

/* A million random ids: add, look up, foreach, file round trip. */
static void
test_large(const uint8_t key[CF_KEY_BYTES])
{
	struct cf_index *idx, *back, *half;
	struct cf_index_loc loc;
	struct cf_pack_entry e;
	struct counter c = { 0, 0, 0 };
	uint8_t (*ids)[CF_HASH_BYTES], pid[CF_HASH_BYTES];
	uint32_t *pno, no;
	struct cf_buf file;
	uint64_t sum = 0;
	size_t bad = 0, misses = 0;
	double t0, t1, t2, t3;

	ids = malloc((size_t)NBLOBS * CF_HASH_BYTES);
	pno = malloc(NPACKS * sizeof(*pno));
	cf_random(ids, (size_t)NBLOBS * CF_HASH_BYTES);
	CHECK_OK(cf_index_new(&idx));
	for (uint32_t k = 0; k < NPACKS; k++) {
		memset(pid, 0, sizeof(pid));
		cf_put_u32(pid, k);
		CHECK_OK(cf_index_add_pack(idx, pid, &pno[k]));
		CHECK(pno[k] == k);
	}
	t0 = now();
	for (uint32_t i = 0; i < NBLOBS; i++) {
		entry_of(i, ids[i], &e);
		if (cf_index_add(idx, pno[i % NPACKS], &e) != CF_OK)
			bad++;
		sum += e.offset;
	}
	t1 = now();
	CHECK(bad == 0);
	CHECK(cf_index_blob_count(idx) == NBLOBS);
	for (uint32_t i = 0; i < NBLOBS; i++) {
		entry_of(i, ids[i], &e);
		if (cf_index_lookup(idx, ids[i], &loc) != 1 ||
		    !loc_is(&loc, i % NPACKS, &e))
			bad++;
	}
	t2 = now();
	CHECK(bad == 0);
	for (uint32_t i = 0; i < NBLOBS; i++) {
		uint8_t miss[CF_HASH_BYTES];
		memcpy(miss, ids[i], CF_HASH_BYTES);
		miss[31] ^= 0x80;
		if (cf_index_lookup(idx, miss, &loc) != 0)
			misses++;
	}
	t3 = now();
	CHECK(misses == 0);
	printf("index: %d blobs: add %.0f ns, hit %.0f ns, miss %.0f ns "
	    "per blob\n", NBLOBS, (t1 - t0) * 1e9 / NBLOBS,
	    (t2 - t1) * 1e9 / NBLOBS, (t3 - t2) * 1e9 / NBLOBS);

	CHECK_OK(cf_index_foreach(idx, count_fn, &c));
	CHECK(c.n == NBLOBS && c.sum == sum);
	c.n = 0;
	c.stop_at = 10;
	CHECK_ERR(cf_index_foreach(idx, count_fn, &c), CF_ERR_CANCELLED);
	CHECK(c.n == 10);

	/* The whole index through a file. */
	cf_buf_init(&file, CF_INDEX_FILE_MAX);
	t0 = now();
	CHECK_OK(cf_index_file_encode_filtered(key, idx, keep_all, NULL,
	    &file));
	t1 = now();
	CHECK(file.len == 16 + 40 + 4 + (size_t)NPACKS * 36 +
	    (size_t)NBLOBS * 45);
	CHECK_OK(cf_index_new(&back));
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, back));
	t2 = now();
	printf("index: file of %zu bytes: encode %.0f ms, decode %.0f ms\n",
	    file.len, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	CHECK(cf_index_blob_count(back) == NBLOBS);
	CHECK(cf_index_pack_count(back) == NPACKS);
	bad = 0;
	for (uint32_t i = 0; i < NBLOBS; i++) {
		const uint8_t *p;
		entry_of(i, ids[i], &e);
		if (cf_index_lookup(back, ids[i], &loc) != 1) {
			bad++;
			continue;
		}
		p = cf_index_pack_id(back, loc.pack);
		if (p == NULL || cf_get_u32(p) != i % NPACKS ||
		    loc.offset != e.offset || loc.length != e.length ||
		    loc.raw_length != e.raw_length || loc.type != e.type)
			bad++;
	}
	CHECK(bad == 0);

	/* Filtered: only even packs remain, with all their blobs. */
	cf_buf_reset(&file);
	CHECK_OK(cf_index_file_encode_filtered(key, idx, keep_even, NULL,
	    &file));
	CHECK_OK(cf_index_new(&half));
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, half));
	CHECK(cf_index_pack_count(half) == NPACKS / 2);
	CHECK(cf_index_blob_count(half) == NBLOBS / 2);
	bad = 0;
	for (uint32_t i = 0; i < NBLOBS; i++) {
		int found = cf_index_lookup(half, ids[i], &loc);
		if (found != ((i % NPACKS) % 2 == 0))
			bad++;
		else if (found && cf_get_u32(cf_index_pack_id(half,
		    loc.pack)) != i % NPACKS)
			bad++;
	}
	CHECK(bad == 0);
	memset(pid, 0, sizeof(pid));
	cf_put_u32(pid, 1);
	CHECK(cf_index_find_pack(half, pid, &no) == 0);
	cf_put_u32(pid, 2);
	CHECK(cf_index_find_pack(half, pid, &no) == 1);

	/* Decoding into an index that has them already changes nothing. */
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, back));
	CHECK(cf_index_blob_count(back) == NBLOBS);
	CHECK(cf_index_pack_count(back) == NPACKS);

	cf_buf_free(&file);
	cf_index_free(idx);
	cf_index_free(back);
	cf_index_free(half);
	free(ids);
	free(pno);
}

/* seal_plain(key, prefix, plain, n, out): an index file around ${plain}. */
static void
seal_plain(const uint8_t key[CF_KEY_BYTES], const uint8_t *prefix,
    const uint8_t *plain, size_t n, struct cf_buf *out)
{
	cf_buf_reset(out);
	CHECK_OK(cf_buf_reserve(out, 16 + CF_AEAD_OVERHEAD + n));
	memcpy(out->p, prefix, 16);
	cf_aead_seal(out->p + 16, key, prefix, 16, plain, n);
	out->len = 16 + CF_AEAD_OVERHEAD + n;
}

static void
test_file(const uint8_t key[CF_KEY_BYTES])
{
	struct cf_index_pack packs[3];
	struct cf_pack_entry ents[7];
	struct cf_index *idx;
	struct cf_index_loc loc;
	struct cf_buf file, tmp;
	uint8_t other[CF_KEY_BYTES], prefix[16], *copy;
	uint8_t plain[4 + 2 * 36 + 4 * 45 + 8];
	uint32_t no;
	size_t pn;

	cf_random(other, sizeof(other));
	cf_buf_init(&file, CF_INDEX_FILE_MAX);
	cf_buf_init(&tmp, CF_INDEX_FILE_MAX);
	for (uint32_t i = 0; i < 7; i++) {
		uint8_t id[CF_HASH_BYTES];
		cf_random(id, sizeof(id));
		entry_of(i, id, &ents[i]);
	}
	/* Pack 2 repeats a blob of pack 0: the first location wins. */
	ents[6] = ents[1];
	ents[6].offset = 5000;
	for (int k = 0; k < 3; k++)
		cf_random(packs[k].id, CF_HASH_BYTES);
	packs[0].entries = ents;
	packs[0].count = 3;
	packs[1].entries = NULL;
	packs[1].count = 0;
	packs[2].entries = ents + 3;
	packs[2].count = 4;

	/* Appends: something already in the buffer stays. */
	CHECK_OK(cf_buf_append(&file, "xy", 2));
	CHECK_OK(cf_index_file_encode(key, packs, 3, &file));
	CHECK(file.len == 2 + 16 + 40 + 4 + 3 * 36 + 7 * 45);
	CHECK(memcmp(file.p, "xy", 2) == 0);
	CHECK(memcmp(file.p + 2, "COFFREIX\1\0\0\0\0\0\0\0", 16) == 0);
	memmove(file.p, file.p + 2, file.len - 2);
	file.len -= 2;

	CHECK_OK(cf_index_new(&idx));
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, idx));
	CHECK(cf_index_pack_count(idx) == 3);
	CHECK(cf_index_blob_count(idx) == 6);
	for (int k = 0; k < 3; k++)
		CHECK(cf_index_find_pack(idx, packs[k].id, &no) == 1 &&
		    no == (uint32_t)k);
	for (int i = 0; i < 6; i++) {
		CHECK(cf_index_lookup(idx, ents[i].id, &loc) == 1);
		CHECK(loc_is(&loc, i < 3 ? 0 : 2, &ents[i]));
	}
	cf_index_free(idx);

	/* Every single flipped bit is refused, and nothing is added. */
	copy = malloc(file.len);
	for (size_t i = 0; i < file.len; i++) {
		cf_status rc;
		memcpy(copy, file.p, file.len);
		copy[i] ^= (uint8_t)(1u << (i % 8));
		CHECK_OK(cf_index_new(&idx));
		rc = cf_index_file_decode(key, copy, file.len, idx);
		CHECK(rc == (i == 8 ? CF_ERR_VERSION : CF_ERR_CORRUPT));
		CHECK(cf_index_blob_count(idx) == 0);
		cf_index_free(idx);
	}
	CHECK_OK(cf_index_new(&idx));
	/* Version. */
	memcpy(copy, file.p, file.len);
	copy[8] = 2;
	CHECK_ERR(cf_index_file_decode(key, copy, file.len, idx),
	    CF_ERR_VERSION);
	CHECK(strstr(cf_error_message(), "version 2") != NULL);
	/* Wrong key, truncation, trailing byte, too large. */
	CHECK_ERR(cf_index_file_decode(other, file.p, file.len, idx),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_index_file_decode(key, file.p, file.len - 1, idx),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_index_file_decode(key, file.p, 16, idx), CF_ERR_CORRUPT);
	CHECK_ERR(cf_index_file_decode(key, file.p, 0, idx), CF_ERR_CORRUPT);
	CHECK_OK(cf_buf_reserve(&file, 1));
	file.p[file.len] = 0;
	CHECK_ERR(cf_index_file_decode(key, file.p, file.len + 1, idx),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_index_file_decode(key, file.p,
	    (size_t)CF_INDEX_FILE_MAX + 1, idx), CF_ERR_CORRUPT);
	CHECK(cf_index_blob_count(idx) == 0);

	/*
	 * Plaintexts that authenticate but are malformed (only an index key
	 * holder can make them).
	 */
	memcpy(prefix, file.p, 16);
	/* Empty index: fine. */
	cf_put_u32(plain, 0);
	seal_plain(key, prefix, plain, 4, &tmp);
	CHECK_OK(cf_index_file_decode(key, tmp.p, tmp.len, idx));
	CHECK_OK(cf_index_file_encode(key, NULL, 0, &tmp));
	/* Too short for npacks. */
	seal_plain(key, prefix, plain, 3, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	/* One pack with two blobs, built by hand. */
	memset(plain, 0, sizeof(plain));
	cf_put_u32(plain, 1);
	memcpy(plain + 4, packs[0].id, 32);
	cf_put_u32(plain + 36, 2);
	for (int i = 0; i < 2; i++) {
		uint8_t *q = plain + 40 + i * 45;
		q[0] = ents[i].type;
		memcpy(q + 1, ents[i].id, 32);
		cf_put_u32(q + 33, ents[i].offset);
		cf_put_u32(q + 37, ents[i].length);
		cf_put_u32(q + 41, ents[i].raw_length);
	}
	pn = 40 + 2 * 45;
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_OK(cf_index_file_decode(key, tmp.p, tmp.len, idx));
	CHECK(cf_index_blob_count(idx) == 2);
	cf_index_free(idx);
	CHECK_OK(cf_index_new(&idx));
	/* Trailing plaintext byte. */
	seal_plain(key, prefix, plain, pn + 1, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	/* Truncated entry. */
	seal_plain(key, prefix, plain, pn - 1, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	/* Count larger than present. */
	cf_put_u32(plain + 36, 3);
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	cf_put_u32(plain + 36, 0xffffffffu);
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	cf_put_u32(plain + 36, 2);
	/* npacks larger than present. */
	cf_put_u32(plain, 2);
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	cf_put_u32(plain, 0xffffffffu);
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	cf_put_u32(plain, 1);
	/* Unknown type, impossible size. */
	plain[40 + 45] = 3;
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	plain[40 + 45] = 0;
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	plain[40 + 45] = CF_BLOB_DATA;
	cf_put_u32(plain + 40 + 45 + 41, CF_BLOB_MAX + 1);
	seal_plain(key, prefix, plain, pn, &tmp);
	CHECK_ERR(cf_index_file_decode(key, tmp.p, tmp.len, idx),
	    CF_ERR_CORRUPT);
	/* Nothing of the refused files was added. */
	CHECK(cf_index_blob_count(idx) == 0 && cf_index_pack_count(idx) == 0);

	/* The encoder refuses what the decoder would. */
	ents[0].type = 7;
	CHECK_ERR(cf_index_file_encode(key, packs, 3, &tmp), CF_ERR_INVALID);
	ents[0].type = CF_BLOB_DATA;
	ents[0].raw_length = CF_BLOB_MAX + 1;
	CHECK_ERR(cf_index_file_encode(key, packs, 3, &tmp), CF_ERR_INVALID);
	ents[0].raw_length = 1;
	packs[0].count = CF_INDEX_FILE_MAX / 45;
	CHECK_ERR(cf_index_file_encode(key, packs, 3, &tmp), CF_ERR_NOMEM);
	packs[0].count = 3;

	cf_index_free(idx);
	free(copy);
	cf_buf_free(&file);
	cf_buf_free(&tmp);
}

/* encode_filtered leaves out packs whose every blob was seen earlier. */
static void
test_filtered(const uint8_t key[CF_KEY_BYTES])
{
	struct cf_index *idx, *back;
	struct cf_pack_entry e;
	struct cf_buf file;
	uint8_t p0[CF_HASH_BYTES], p1[CF_HASH_BYTES], p2[CF_HASH_BYTES];
	uint8_t id[CF_HASH_BYTES];
	uint32_t n0, n1, n2, no;

	cf_buf_init(&file, CF_INDEX_FILE_MAX);
	cf_random(p0, sizeof(p0));
	cf_random(p1, sizeof(p1));
	cf_random(p2, sizeof(p2));
	cf_random(id, sizeof(id));
	CHECK_OK(cf_index_new(&idx));
	CHECK_OK(cf_index_add_pack(idx, p0, &n0));
	CHECK_OK(cf_index_add_pack(idx, p1, &n1));
	CHECK_OK(cf_index_add_pack(idx, p2, &n2));
	entry_of(1, id, &e);
	CHECK_OK(cf_index_add(idx, n0, &e));
	CHECK_OK(cf_index_add(idx, n1, &e));    /* duplicate: ignored */
	id[0] ^= 1;
	entry_of(2, id, &e);
	CHECK_OK(cf_index_add(idx, n2, &e));
	CHECK_OK(cf_index_file_encode_filtered(key, idx, keep_all, NULL,
	    &file));
	CHECK(file.len == 16 + 40 + 4 + 2 * 36 + 2 * 45);
	CHECK_OK(cf_index_new(&back));
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, back));
	CHECK(cf_index_pack_count(back) == 2);
	CHECK(cf_index_find_pack(back, p1, &no) == 0);
	CHECK(cf_index_find_pack(back, p2, &no) == 1 && no == 1);
	cf_index_free(back);
	/* Keep nothing: an empty, valid index file. */
	cf_buf_reset(&file);
	CHECK_OK(cf_index_file_encode_filtered(key, idx, keep_even, NULL,
	    &file));
	CHECK_OK(cf_index_new(&back));
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, back));
	CHECK(cf_index_pack_count(back) == 2);  /* packs 0 and 2 */
	cf_index_free(back);
	cf_index_free(idx);
	/* An empty index. */
	CHECK_OK(cf_index_new(&idx));
	cf_buf_reset(&file);
	CHECK_OK(cf_index_file_encode_filtered(key, idx, keep_all, NULL,
	    &file));
	CHECK(file.len == 16 + 40 + 4);
	CHECK_OK(cf_index_file_decode(key, file.p, file.len, idx));
	CHECK(cf_index_blob_count(idx) == 0);
	cf_index_free(idx);
	cf_buf_free(&file);
}

int
main(void)
{
	uint8_t key[CF_KEY_BYTES];

	CHECK_OK(cf_crypto_init());
	cf_random(key, sizeof(key));
	test_basic();
	test_file(key);
	test_filtered(key);
	test_large(key);
	return check_done("index");
}
