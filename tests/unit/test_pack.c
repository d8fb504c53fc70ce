/* test_pack.c: pack writer and reader, round trips and tampering. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "check.h"
#include "crypto.h"
#include "keys.h"
#include "pack.h"

#define HEADER_AD "COFFREPK header v1"

struct blob {
	uint8_t type;
	uint8_t id[CF_HASH_BYTES];
	uint8_t *data;
	size_t n;
};

static struct cf_keys *keys, *other;

/* Text that compresses: numbered lines with words from a small list. */
static uint8_t *
make_text(size_t n, unsigned seed)
{
	static const char *words[] = { "patient", "dossier", "radiographie",
	    "ordonnance", "consultation", "dent", "molaire", "compte-rendu",
	    "examen", "date" };
	uint8_t *p = malloc(n ? n : 1);
	size_t i = 0;

	while (i < n) {
		char line[128];
		int k = snprintf(line, sizeof(line), "%u %s %s %u\n", seed,
		    words[seed % 10], words[(seed * 7) % 10], seed * 31);
		seed++;
		for (int j = 0; j < k && i < n; j++)
			p[i++] = (uint8_t)line[j];
	}
	return p;
}

static uint8_t *
make_random(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	cf_random(p, n);
	return p;
}

static void
blob_init(struct blob *b, uint8_t type, uint8_t *data, size_t n)
{
	b->type = type;
	b->data = data;
	b->n = n;
	cf_blob_id(b->id, keys->id_key, type, data, n);
}

/* read_one(...): cf_blob_read of entry ${e} of the pack ${p}. */
static cf_status
read_one(struct cf_blob_reader *r, const uint8_t *key, const uint8_t *id_key,
    const struct cf_pack_entry *e, const uint8_t *p, struct cf_buf *out)
{
	return cf_blob_read(r, key, id_key, e, p + e->offset, out);
}

/*
 * reheader(pack, hoff, key, plain, plen, out): the pack's first ${hoff}
 * bytes followed by a header sealing ${plain}, and its trailer.
 */
static void
reheader(const uint8_t *pack, size_t hoff, const uint8_t *key,
    const uint8_t *plain, size_t plen, struct cf_buf *out)
{
	cf_buf_reset(out);
	CHECK_OK(cf_buf_reserve(out, hoff + plen + CF_AEAD_OVERHEAD + 4));
	memcpy(out->p, pack, hoff);
	cf_aead_seal(out->p + hoff, key, HEADER_AD, 18, plain, plen);
	cf_put_u32(out->p + hoff + plen + CF_AEAD_OVERHEAD,
	    (uint32_t)(plen + CF_AEAD_OVERHEAD));
	out->len = hoff + plen + CF_AEAD_OVERHEAD + 4;
}

static size_t
header_plain(uint8_t *p, const struct cf_pack_entry *e, size_t count,
    size_t pad)
{
	cf_put_u32(p, (uint32_t)count);
	for (size_t i = 0; i < count; i++) {
		uint8_t *q = p + 4 + i * CF_PACK_ENTRY_BYTES;
		q[0] = e[i].type;
		memcpy(q + 1, e[i].id, CF_HASH_BYTES);
		cf_put_u32(q + 33, e[i].offset);
		cf_put_u32(q + 37, e[i].length);
		cf_put_u32(q + 41, e[i].raw_length);
	}
	memset(p + 4 + count * CF_PACK_ENTRY_BYTES, 0, pad);
	return 4 + count * CF_PACK_ENTRY_BYTES + pad;
}

static uint64_t
unpadded_size(const struct cf_pack_entry *e, size_t count)
{
	uint64_t u = CF_PACK_HEAD_BYTES + CF_AEAD_OVERHEAD + 4 + 4;

	for (size_t i = 0; i < count; i++)
		u += e[i].length + CF_PACK_ENTRY_BYTES;
	return u;
}

static void
test_roundtrip(void)
{
	const uint8_t *ik = keys->index_key;
	enum { NB = 16 };
	struct blob b[NB];
	struct cf_pack_writer *w;
	struct cf_blob_reader *r;
	const struct cf_pack_entry *we;
	struct cf_pack_entry *pe, bad;
	const uint8_t *data;
	uint8_t *copy, pid[CF_HASH_BYTES], h[CF_HASH_BYTES];
	uint8_t key[CF_KEY_BYTES], key2[CF_KEY_BYTES];
	size_t len, count, pcount, nb = 0;
	struct cf_buf out, tmp;
	uint32_t hlen;

	blob_init(&b[nb++], CF_BLOB_DATA, make_text(5000, 1), 5000);
	blob_init(&b[nb++], CF_BLOB_DATA, make_random(5000), 5000);
	blob_init(&b[nb++], CF_BLOB_DATA, make_text(1, 2), 1);
	blob_init(&b[nb++], CF_BLOB_DATA, make_random(0), 0);
	blob_init(&b[nb++], CF_BLOB_TREE, make_text(700, 3), 700);
	blob_init(&b[nb++], CF_BLOB_DATA, make_text(300000, 4), 300000);
	blob_init(&b[nb++], CF_BLOB_DATA, make_random(300000), 300000);
	blob_init(&b[nb++], CF_BLOB_DATA, make_text(4u << 20, 5), 4u << 20);
	blob_init(&b[nb++], CF_BLOB_DATA, make_random(4u << 20), 4u << 20);
	blob_init(&b[nb++], CF_BLOB_TREE, make_text(40, 6), 40);
	blob_init(&b[nb++], CF_BLOB_DATA, make_random(777), 777);
	blob_init(&b[nb++], CF_BLOB_DATA, make_random(777), 777);
	/* A big blob whose first 64 KiB are random, the rest text: it
	 * compresses (an earlier writer judged blobs by their start). */
	{
		uint8_t *m = make_text(1u << 20, 7);
		cf_random(m, 65536);
		blob_init(&b[nb++], CF_BLOB_DATA, m, 1u << 20);
	}
	/* A 129 KiB blob whose first 64 KiB are text, the rest random. */
	{
		uint8_t *m = make_random(132096);
		uint8_t *t = make_text(65536, 8);
		memcpy(m, t, 65536);
		free(t);
		blob_init(&b[nb++], CF_BLOB_DATA, m, 132096);
	}

	CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 3, &w));
	CHECK(cf_pack_writer_count(w) == 0);
	CHECK(cf_pack_writer_size(w) == CF_PACK_HEAD_BYTES);
	for (size_t i = 0; i < nb; i++)
		CHECK_OK(cf_pack_writer_add(w, b[i].type, b[i].id, b[i].data,
		    b[i].n));
	CHECK(cf_pack_writer_count(w) == nb);
	CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we, &count));
	CHECK(count == nb);
	CHECK(len == cf_padme(unpadded_size(we, count)));
	CHECK(len > unpadded_size(we, count));
	cf_name_hash(h, data, len);
	CHECK(memcmp(h, pid, CF_HASH_BYTES) == 0);
	{
		char name[CF_HASH_BYTES * 2 + 9], hex[65];
		cf_pack_object_name(name, pid);
		cf_hex_encode(hex, pid, CF_HASH_BYTES);
		CHECK(strlen(name) == 72);
		CHECK(memcmp(name, "data/", 5) == 0 && name[7] == '/');
		CHECK(memcmp(name + 5, hex, 2) == 0);
		CHECK(strcmp(name + 8, hex) == 0);
	}

	/* Text was compressed, random data stored. */
	CHECK(we[0].length < 5000 / 2);
	CHECK(we[1].length == 5000 + 41);
	CHECK(we[2].length == 1 + 41);
	CHECK(we[3].length == 41 && we[3].raw_length == 0);
	CHECK(we[5].length < 300000 / 2);
	CHECK(we[6].length == 300000 + 41);
	CHECK(we[7].length < (4u << 20) / 2);
	CHECK(we[8].length == (4u << 20) + 41);
	/* No sampling: the whole blob decides, whatever its start. */
	CHECK(we[12].length < (1u << 20) / 2);
	CHECK(we[13].length < 132096);
	for (size_t i = 0; i < count; i++) {
		CHECK(we[i].type == b[i].type);
		CHECK(memcmp(we[i].id, b[i].id, CF_HASH_BYTES) == 0);
		CHECK(we[i].raw_length == b[i].n);
		CHECK(we[i].length <= b[i].n + 41);
	}

	/* Finish twice gives the same pack; adding to it is refused. */
	{
		const uint8_t *d2;
		const struct cf_pack_entry *e2;
		size_t l2, c2;
		uint8_t p2[CF_HASH_BYTES];
		CHECK_OK(cf_pack_writer_finish(w, p2, &d2, &l2, &e2, &c2));
		CHECK(d2 == data && l2 == len && e2 == we && c2 == count);
		CHECK(memcmp(p2, pid, CF_HASH_BYTES) == 0);
		CHECK_ERR(cf_pack_writer_add(w, CF_BLOB_DATA, b[0].id,
		    b[0].data, b[0].n), CF_ERR_INVALID);
	}

	copy = malloc(len);
	memcpy(copy, data, len);

	/* Open, parse, read everything. */
	CHECK_OK(cf_pack_open_key(copy, len, keys->repo_pk, keys->repo_sk,
	    key));
	CHECK_OK(cf_pack_parse(copy, len, ik, &pe, &pcount));
	CHECK(pcount == nb);
	for (size_t i = 0; i < pcount && i < count; i++) {
		CHECK(pe[i].type == we[i].type);
		CHECK(memcmp(pe[i].id, we[i].id, CF_HASH_BYTES) == 0);
		CHECK(pe[i].offset == we[i].offset);
		CHECK(pe[i].length == we[i].length);
		CHECK(pe[i].raw_length == we[i].raw_length);
	}
	CHECK(pe[0].offset == CF_PACK_HEAD_BYTES);
	CHECK_OK(cf_blob_reader_new(&r));
	cf_buf_init(&out, CF_BLOB_MAX);
	cf_buf_init(&tmp, CF_PACK_MAX);
	for (size_t i = 0; i < pcount; i++) {
		CHECK_OK(read_one(r, key, keys->id_key, &pe[i], copy, &out));
		CHECK(out.len == b[i].n);
		CHECK(b[i].n == 0 || memcmp(out.p, b[i].data, b[i].n) == 0);
	}

	/* Wrong repository key: the pack key does not open. */
	CHECK_ERR(cf_pack_open_key(copy, len, other->repo_pk, other->repo_sk,
	    key2), CF_ERR_CORRUPT);
	CHECK_ERR(cf_pack_open_key(copy, len, keys->repo_pk, other->repo_sk,
	    key2), CF_ERR_CORRUPT);
	/* Head checks. */
	CHECK_ERR(cf_pack_open_key(copy, 95, keys->repo_pk, keys->repo_sk,
	    key2), CF_ERR_CORRUPT);
	copy[8] = 2;
	CHECK_ERR(cf_pack_open_key(copy, len, keys->repo_pk, keys->repo_sk,
	    key2), CF_ERR_VERSION);
	CHECK(strstr(cf_error_message(), "version 2") != NULL);
	CHECK(strstr(cf_error_message(), "upgrade coffre") != NULL);
	copy[8] = 1;
	copy[12] = 1;
	CHECK_ERR(cf_pack_open_key(copy, len, keys->repo_pk, keys->repo_sk,
	    key2), CF_ERR_CORRUPT);
	copy[12] = 0;
	copy[3] ^= 1;
	CHECK_ERR(cf_pack_open_key(copy, len, keys->repo_pk, keys->repo_sk,
	    key2), CF_ERR_CORRUPT);
	copy[3] ^= 1;
	copy[50] ^= 1;
	CHECK_ERR(cf_pack_open_key(copy, len, keys->repo_pk, keys->repo_sk,
	    key2), CF_ERR_CORRUPT);
	copy[50] ^= 1;
	CHECK_OK(cf_pack_open_key(copy, len, keys->repo_pk, keys->repo_sk,
	    key2));
	CHECK(memcmp(key, key2, CF_KEY_BYTES) == 0);

	/* A flipped byte in one blob: that blob fails, the others read. */
	copy[pe[4].offset + pe[4].length / 2] ^= 0x20;
	{
		struct cf_pack_entry *e2;
		size_t c2;
		CHECK_OK(cf_pack_parse(copy, len, ik, &e2, &c2));
		free(e2);
	}
	for (size_t i = 0; i < pcount; i++) {
		cf_status rc = read_one(r, key, keys->id_key, &pe[i], copy,
		    &out);
		if (i == 4) {
			CHECK_ERR(rc, CF_ERR_CORRUPT);
			CHECK(out.len == 0);
		} else {
			CHECK_OK(rc);
			CHECK(out.len == b[i].n);
		}
	}
	copy[pe[4].offset + pe[4].length / 2] ^= 0x20;
	/* Nonce and tag too. */
	copy[pe[1].offset] ^= 1;
	CHECK_ERR(read_one(r, key, keys->id_key, &pe[1], copy, &out),
	    CF_ERR_CORRUPT);
	copy[pe[1].offset] ^= 1;
	copy[pe[1].offset + pe[1].length - 1] ^= 1;
	CHECK_ERR(read_one(r, key, keys->id_key, &pe[1], copy, &out),
	    CF_ERR_CORRUPT);
	copy[pe[1].offset + pe[1].length - 1] ^= 1;
	CHECK_OK(read_one(r, key, keys->id_key, &pe[1], copy, &out));

	/* Swapping two blobs of the same stored length. */
	CHECK(pe[10].length == pe[11].length);
	{
		uint8_t *t = malloc(pe[10].length);
		memcpy(t, copy + pe[10].offset, pe[10].length);
		memcpy(copy + pe[10].offset, copy + pe[11].offset,
		    pe[11].length);
		memcpy(copy + pe[11].offset, t, pe[10].length);
		CHECK_ERR(read_one(r, key, keys->id_key, &pe[10], copy, &out),
		    CF_ERR_CORRUPT);
		CHECK_ERR(read_one(r, key, keys->id_key, &pe[11], copy, &out),
		    CF_ERR_CORRUPT);
		memcpy(copy + pe[11].offset, copy + pe[10].offset,
		    pe[10].length);
		memcpy(copy + pe[10].offset, t, pe[10].length);
		free(t);
		CHECK_OK(read_one(r, key, keys->id_key, &pe[10], copy, &out));
	}

	/* Entry lies: wrong type, id, raw_length, length. */
	bad = pe[0];
	bad.type = CF_BLOB_TREE;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[0];
	bad.id[0] ^= 1;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[0];
	bad.raw_length++;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[1];
	bad.raw_length--;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[1];
	bad.length--;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[1];
	bad.length = 40;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[0];
	bad.type = 3;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	bad = pe[0];
	bad.raw_length = 5;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "larger than its data") != NULL);
	bad = pe[0];
	bad.raw_length = CF_BLOB_MAX + 1;
	CHECK_ERR(read_one(r, key, keys->id_key, &bad, copy, &out),
	    CF_ERR_CORRUPT);
	CHECK(out.len == 0);

	/* Wrong id key: decrypts, but the content does not match. */
	CHECK_ERR(read_one(r, key, other->id_key, &pe[0], copy, &out),
	    CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "does not match its id") != NULL);
	CHECK(out.len == 0);
	/* Wrong pack key. */
	CHECK_ERR(read_one(r, other->id_key, keys->id_key, &pe[0], copy,
	    &out), CF_ERR_CORRUPT);
	/* Output buffer too small for the blob. */
	{
		struct cf_buf small;
		cf_buf_init(&small, 100);
		CHECK_ERR(read_one(r, key, keys->id_key, &pe[5], copy, &small),
		    CF_ERR_NOMEM);
		CHECK(small.len == 0);
		cf_buf_free(&small);
	}

	/* Header and trailer tampering. */
	hlen = cf_get_u32(copy + len - 4);
	{
		size_t hoff = len - 4 - hlen;
		size_t spots[] = { hoff, hoff + 30, hoff + hlen / 2,
		    hoff + hlen - 1 };
		struct cf_pack_entry *e2;
		size_t c2;

		for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
			copy[spots[i]] ^= 4;
			CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
			    CF_ERR_CORRUPT);
			CHECK(e2 == NULL && c2 == 0);
			copy[spots[i]] ^= 4;
		}
		for (int d = 1; d < 4; d++) {
			uint8_t save = copy[len - 4 + d - 1];
			copy[len - 4 + d - 1] ^= (uint8_t)(1u << d);
			CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
			    CF_ERR_CORRUPT);
			copy[len - 4 + d - 1] = save;
		}
		cf_put_u32(copy + len - 4, 0xffffffffu);
		CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		cf_put_u32(copy + len - 4, 43);
		CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		cf_put_u32(copy + len - 4, (uint32_t)(len - 100 + 1));
		CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		cf_put_u32(copy + len - 4, (uint32_t)(len - 3));
		CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		cf_put_u32(copy + len - 4, (uint32_t)len);
		CHECK_ERR(cf_pack_parse(copy, len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		cf_put_u32(copy + len - 4, hlen);
		/* Truncation. */
		CHECK_ERR(cf_pack_parse(copy, len - 1, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK_ERR(cf_pack_parse(copy, len - 4, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK_ERR(cf_pack_parse(copy, 100, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK_ERR(cf_pack_parse(copy, 0, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK_ERR(cf_pack_parse(copy, hoff, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* Larger than any pack. */
		{
			uint8_t *huge = calloc(1, (size_t)CF_PACK_MAX + 1);
			CHECK_ERR(cf_pack_parse(huge, (size_t)CF_PACK_MAX + 1,
			    ik, &e2, &c2), CF_ERR_CORRUPT);
			CHECK(strstr(cf_error_message(), "larger") != NULL);
			free(huge);
		}
		/*
		 * Wrong key: another repository's index key, this one's id
		 * key, or the pack key (which no longer opens the header).
		 */
		CHECK_ERR(cf_pack_parse(copy, len, other->index_key, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK(e2 == NULL && c2 == 0);
		CHECK_ERR(cf_pack_parse(copy, len, keys->id_key, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK_ERR(cf_pack_parse(copy, len, key, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK_OK(cf_pack_parse(copy, len, ik, &e2, &c2));
		free(e2);

		/*
		 * Well-authenticated but lying headers (anyone holding the
		 * index key can make them, as it can make index files).
		 */
		uint8_t *pl = malloc(4 + 64 * CF_PACK_ENTRY_BYTES + 64);
		struct cf_pack_entry le[NB];
		size_t pn, m = pcount;

		memcpy(le, pe, m * sizeof(le[0]));
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_OK(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2));
		CHECK(c2 == m);
		free(e2);
		/* In reverse order: still fine (order is not required). */
		{
			struct cf_pack_entry rev[NB];
			for (size_t i = 0; i < m; i++)
				rev[i] = le[m - 1 - i];
			pn = header_plain(pl, rev, m, 0);
			reheader(copy, hoff, ik, pl, pn, &tmp);
			CHECK_OK(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2));
			CHECK(c2 == m && e2[0].offset == le[m - 1].offset);
			free(e2);
		}
		/*
		 * Blobs that do not fill the blob area (a gap at the end or
		 * in the middle): blobs lie back to back up to the header.
		 */
		pn = header_plain(pl, le, m - 1, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK(strstr(cf_error_message(), "fill") != NULL);
		{
			struct cf_pack_entry gap[NB];
			memcpy(gap, le, sizeof(gap));
			gap[1] = le[m - 1];
			pn = header_plain(pl, gap, m - 1, 0);
			reheader(copy, hoff, ik, pl, pn, &tmp);
			CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
			    CF_ERR_CORRUPT);
		}
		/* Nonzero padding. */
		pn = header_plain(pl, le, m, 10);
		pl[pn - 3] = 1;
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* A zero count. */
		pn = header_plain(pl, le, 0, 45);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* A count larger than the entries present. */
		pn = header_plain(pl, le, m, 44);
		cf_put_u32(pl, (uint32_t)m + 1);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		cf_put_u32(pl, 0xffffffffu);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* Overlap. */
		memcpy(le, pe, m * sizeof(le[0]));
		le[1].offset = le[0].offset + le[0].length - 1;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		CHECK(strstr(cf_error_message(), "overlap") != NULL);
		/* The same blob twice. */
		memcpy(le, pe, m * sizeof(le[0]));
		le[2] = le[0];
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* Into the fixed head. */
		memcpy(le, pe, m * sizeof(le[0]));
		le[0].offset = 95;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* Into the header. */
		memcpy(le, pe, m * sizeof(le[0]));
		le[2].offset = (uint32_t)hoff - le[2].length + 1;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		le[2].offset = 0xfffffff0u;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		le[2].offset = pe[2].offset;
		le[2].length = 0xffffffffu;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* Too short to be a blob, too large, unknown type. */
		memcpy(le, pe, m * sizeof(le[0]));
		le[1].length = 40;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		memcpy(le, pe, m * sizeof(le[0]));
		le[1].raw_length = CF_BLOB_MAX + 1;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		memcpy(le, pe, m * sizeof(le[0]));
		le[1].type = 0;
		pn = header_plain(pl, le, m, 0);
		reheader(copy, hoff, ik, pl, pn, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		/* A truncated entry. */
		memcpy(le, pe, m * sizeof(le[0]));
		pn = header_plain(pl, le, m, 0);
		cf_put_u32(pl, (uint32_t)m);
		reheader(copy, hoff, ik, pl, pn - 1, &tmp);
		CHECK_ERR(cf_pack_parse(tmp.p, tmp.len, ik, &e2, &c2),
		    CF_ERR_CORRUPT);
		free(pl);
	}

	/*
	 * Blob plaintexts that authenticate but lie (only a writer holding
	 * the pack key can make them).
	 */
	{
		uint8_t pl[64], st[64 + CF_AEAD_OVERHEAD], ad[33];
		struct cf_pack_entry fe;

		memset(&fe, 0, sizeof(fe));
		fe.type = CF_BLOB_DATA;
		cf_blob_id(fe.id, keys->id_key, CF_BLOB_DATA,
		    (const uint8_t *)"hello", 5);
		ad[0] = fe.type;
		memcpy(ad + 1, fe.id, 32);
		/* Right: stored "hello". */
		pl[0] = 0;
		memcpy(pl + 1, "hello", 5);
		cf_aead_seal(st, key, ad, 33, pl, 6);
		fe.length = 6 + CF_AEAD_OVERHEAD;
		fe.raw_length = 5;
		CHECK_OK(cf_blob_read(r, key, keys->id_key, &fe, st, &out));
		CHECK(out.len == 5 && memcmp(out.p, "hello", 5) == 0);
		/* Unknown compression. */
		pl[0] = 2;
		cf_aead_seal(st, key, ad, 33, pl, 6);
		CHECK_ERR(cf_blob_read(r, key, keys->id_key, &fe, st, &out),
		    CF_ERR_CORRUPT);
		CHECK(out.len == 0);
		/* "zstd" that is not zstd. */
		pl[0] = 1;
		cf_aead_seal(st, key, ad, 33, pl, 6);
		CHECK_ERR(cf_blob_read(r, key, keys->id_key, &fe, st, &out),
		    CF_ERR_CORRUPT);
		/* Stored, but the raw length disagrees. */
		pl[0] = 0;
		memcpy(pl + 1, "hell", 4);
		cf_aead_seal(st, key, ad, 33, pl, 5);
		fe.length = 5 + CF_AEAD_OVERHEAD;
		CHECK_ERR(cf_blob_read(r, key, keys->id_key, &fe, st, &out),
		    CF_ERR_CORRUPT);
		/* A real zstd frame whose content size is not raw_length. */
		{
			uint8_t aa[1000], zpl[128], zst[128 + CF_AEAD_OVERHEAD];
			size_t zn;

			memset(aa, 'a', sizeof(aa));
			zn = ZSTD_compress(zpl + 1, sizeof(zpl) - 1, aa,
			    sizeof(aa), 3);
			CHECK(!ZSTD_isError(zn) && zn < 100);
			zpl[0] = 1;
			fe.raw_length = 999;
			cf_blob_id(fe.id, keys->id_key, CF_BLOB_DATA, aa, 999);
			ad[0] = fe.type;
			memcpy(ad + 1, fe.id, 32);
			fe.length = (uint32_t)(zn + 1 + CF_AEAD_OVERHEAD);
			cf_aead_seal(zst, key, ad, 33, zpl, zn + 1);
			CHECK_ERR(cf_blob_read(r, key, keys->id_key, &fe, zst,
			    &out), CF_ERR_CORRUPT);
			CHECK(strstr(cf_error_message(), "wrong length") !=
			    NULL);
			fe.raw_length = 1000;
			cf_blob_id(fe.id, keys->id_key, CF_BLOB_DATA, aa, 1000);
			memcpy(ad + 1, fe.id, 32);
			cf_aead_seal(zst, key, ad, 33, zpl, zn + 1);
			CHECK_OK(cf_blob_read(r, key, keys->id_key, &fe, zst,
			    &out));
			CHECK(out.len == 1000 && memcmp(out.p, aa, 1000) == 0);
			cf_blob_id(fe.id, keys->id_key, CF_BLOB_DATA,
			    (const uint8_t *)"hello", 5);
			fe.raw_length = 5;
			ad[0] = fe.type;
			memcpy(ad + 1, fe.id, 32);
		}
		/* Right length, wrong content. */
		memcpy(pl + 1, "hellp", 5);
		cf_aead_seal(st, key, ad, 33, pl, 6);
		fe.length = 6 + CF_AEAD_OVERHEAD;
		CHECK_ERR(cf_blob_read(r, key, keys->id_key, &fe, st, &out),
		    CF_ERR_CORRUPT);
		CHECK(out.len == 0);
	}

	free(copy);
	free(pe);
	cf_buf_free(&out);
	cf_buf_free(&tmp);
	cf_blob_reader_free(r);
	cf_pack_writer_free(w);
	for (size_t i = 0; i < nb; i++)
		free(b[i].data);
}

/*
 * The same blob in two packs: one pack's stored bytes fail in the other; a
 * header moved between packs does not make their blobs readable.
 */
static void
test_cross_pack(void)
{
	const uint8_t *ik = keys->index_key;
	struct cf_pack_writer *w;
	struct cf_blob_reader *r;
	const struct cf_pack_entry *we;
	struct cf_pack_entry e1, e2;
	const uint8_t *data;
	uint8_t *p1, *p1orig, *p2, pid1[CF_HASH_BYTES], pid2[CF_HASH_BYTES];
	uint8_t k1[CF_KEY_BYTES], k2[CF_KEY_BYTES];
	uint8_t *text = make_text(3000, 9), *rnd = make_random(3000);
	uint8_t tid[CF_HASH_BYTES], rid[CF_HASH_BYTES];
	size_t len1, len2, len3, count;
	struct cf_buf out;

	cf_buf_init(&out, CF_BLOB_MAX);
	cf_blob_id(tid, keys->id_key, CF_BLOB_DATA, text, 3000);
	cf_blob_id(rid, keys->id_key, CF_BLOB_DATA, rnd, 3000);
	CHECK_OK(cf_blob_reader_new(&r));
	CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 1, &w));

	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, tid, text, 3000));
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, rid, rnd, 3000));
	CHECK_OK(cf_pack_writer_finish(w, pid1, &data, &len1, &we, &count));
	p1 = malloc(len1);
	memcpy(p1, data, len1);
	p1orig = malloc(len1);
	memcpy(p1orig, data, len1);
	e1 = we[1];

	cf_pack_writer_reset(w);
	CHECK(cf_pack_writer_count(w) == 0);
	CHECK(cf_pack_writer_size(w) == CF_PACK_HEAD_BYTES);
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, tid, text, 3000));
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, rid, rnd, 3000));
	CHECK_OK(cf_pack_writer_finish(w, pid2, &data, &len2, &we, &count));
	p2 = malloc(len2);
	memcpy(p2, data, len2);
	e2 = we[1];
	CHECK(memcmp(pid1, pid2, CF_HASH_BYTES) != 0);
	CHECK(memcmp(p1 + 16, p2 + 16, 80) != 0);

	CHECK_OK(cf_pack_open_key(p1, len1, keys->repo_pk, keys->repo_sk, k1));
	CHECK_OK(cf_pack_open_key(p2, len2, keys->repo_pk, keys->repo_sk, k2));
	CHECK(memcmp(k1, k2, CF_KEY_BYTES) != 0);
	CHECK(e1.offset == e2.offset && e1.length == e2.length);
	CHECK_OK(cf_blob_read(r, k1, keys->id_key, &e1, p1 + e1.offset, &out));
	CHECK_OK(cf_blob_read(r, k2, keys->id_key, &e2, p2 + e2.offset, &out));
	/* Pack 2's stored blob put where pack 1's was. */
	memcpy(p1 + e1.offset, p2 + e2.offset, e2.length);
	CHECK_ERR(cf_blob_read(r, k1, keys->id_key, &e1, p1 + e1.offset, &out),
	    CF_ERR_CORRUPT);
	CHECK(out.len == 0);
	memcpy(p1 + e1.offset, p1orig + e1.offset, e1.length);
	CHECK_OK(cf_blob_read(r, k1, keys->id_key, &e1, p1 + e1.offset, &out));

	/*
	 * Headers are encrypted with the repository's index key, not the pack
	 * key, so a header moved from pack 3 (same blobs in the other order,
	 * same size) onto pack 1 authenticates: what binds a stored blob to
	 * its pack and its entry is the pack key and the blob's ad, so every
	 * read of pack 1 through pack 3's entries fails.
	 */
	cf_pack_writer_reset(w);
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, rid, rnd, 3000));
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, tid, text, 3000));
	CHECK_OK(cf_pack_writer_finish(w, pid2, &data, &len3, &we, &count));
	CHECK(len3 == len1);
	if (len3 == len1) {
		size_t h1 = cf_get_u32(p1 + len1 - 4);
		size_t h3 = cf_get_u32(data + len3 - 4);
		struct cf_pack_entry *pe;
		size_t pc;

		CHECK(h1 == h3);
		memcpy(p1 + len1 - 4 - h3, data + len3 - 4 - h3, h3 + 4);
		CHECK_OK(cf_pack_parse(p1, len1, ik, &pe, &pc));
		CHECK(pc == 2 && pe[0].offset == CF_PACK_HEAD_BYTES &&
		    memcmp(pe[0].id, rid, CF_HASH_BYTES) == 0);
		for (size_t i = 0; i < pc; i++) {
			CHECK_ERR(cf_blob_read(r, k1, keys->id_key, &pe[i],
			    p1 + pe[i].offset, &out), CF_ERR_CORRUPT);
			CHECK(out.len == 0);
		}
		free(pe);
		/* Another repository's header does not open here. */
		CHECK_ERR(cf_pack_parse(p1, len1, other->index_key, &pe, &pc),
		    CF_ERR_CORRUPT);
		/* Pack 1's own header back: its blobs read again. */
		memcpy(p1 + len1 - 4 - h1, p1orig + len1 - 4 - h1, h1 + 4);
		CHECK_OK(cf_pack_parse(p1, len1, ik, &pe, &pc));
		for (size_t i = 0; i < pc; i++)
			CHECK_OK(cf_blob_read(r, k1, keys->id_key, &pe[i],
			    p1 + pe[i].offset, &out));
		free(pe);
	}
	/* Pack 2's header parses on pack 2 with the index key. */
	{
		struct cf_pack_entry *pe;
		size_t pc;
		CHECK_OK(cf_pack_parse(p2, len2, ik, &pe, &pc));
		CHECK(pc == 2);
		free(pe);
	}

	free(p1);
	free(p1orig);
	free(p2);
	free(text);
	free(rnd);
	cf_buf_free(&out);
	cf_blob_reader_free(r);
	cf_pack_writer_free(w);
}

/* same_entries(a, na, b, nb): 1 if the two lists of entries are equal. */
static int
same_entries(const struct cf_pack_entry *a, size_t na,
    const struct cf_pack_entry *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].type != b[i].type || a[i].offset != b[i].offset ||
		    a[i].length != b[i].length ||
		    a[i].raw_length != b[i].raw_length ||
		    memcmp(a[i].id, b[i].id, CF_HASH_BYTES) != 0)
			return 0;
	return 1;
}

/*
 * tail_parse(pack, len, n, size, key, e, c): cf_pack_parse_tail of the last
 * ${n} bytes of ${pack}[0..len), copied into a buffer of exactly ${n}
 * bytes so that the sanitizers see any read outside the tail.
 */
static cf_status
tail_parse(const uint8_t *pack, size_t len, size_t n, uint64_t size,
    const uint8_t *key, struct cf_pack_entry **e, size_t *c)
{
	uint8_t *t = malloc(n > 0 ? n : 1);
	cf_status rc;

	if (n > 0)
		memcpy(t, pack + len - n, n);
	rc = cf_pack_parse_tail(t, n, size, key, e, c);
	free(t);
	return rc;
}

/* A pack indexed from its last bytes only, as a backup adopts orphans. */
static void
test_tail(void)
{
	const uint8_t *ik = keys->index_key;
	struct cf_pack_writer *w;
	struct cf_blob_reader *r;
	const struct cf_pack_entry *we;
	struct cf_pack_entry *pe, *te, dummy;
	const uint8_t *data;
	uint8_t *copy, pid[CF_HASH_BYTES], id[CF_HASH_BYTES];
	uint8_t key[CF_KEY_BYTES];
	uint8_t *text = make_text(50000, 12);
	size_t len, count, pc, tc, hoff;
	uint32_t hlen;
	struct cf_buf out;

	cf_buf_init(&out, CF_BLOB_MAX);
	CHECK_OK(cf_blob_reader_new(&r));
	CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 3, &w));
	for (size_t i = 0; i < 30; i++) {
		size_t n = (i * 1777) % 40000;
		uint8_t type = i % 3 == 0 ? CF_BLOB_TREE : CF_BLOB_DATA;

		cf_blob_id(id, keys->id_key, type, text + i, n);
		CHECK_OK(cf_pack_writer_add(w, type, id, text + i, n));
	}
	CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we, &count));
	copy = malloc(len);
	memcpy(copy, data, len);
	CHECK_OK(cf_pack_parse(copy, len, ik, &pe, &pc));
	CHECK(same_entries(pe, pc, we, count));

	hlen = cf_pack_header_length(copy + len - 4);
	CHECK(hlen == cf_get_u32(copy + len - 4));
	CHECK(hlen >= CF_AEAD_OVERHEAD + 4 + 45 * pc);
	CHECK((size_t)hlen + 4 + CF_PACK_HEAD_BYTES < len);
	hoff = len - 4 - hlen;
	{
		uint8_t tr[4] = { 0x78, 0x56, 0x34, 0x12 };
		CHECK(cf_pack_header_length(tr) == 0x12345678u);
	}

	/*
	 * Exactly the last L + 4 bytes, one more, a longer tail, all but the
	 * first byte, the whole pack: the same entries as cf_pack_parse.
	 */
	{
		size_t ns[] = { (size_t)hlen + 4, (size_t)hlen + 5,
		    (size_t)hlen + 4 + 1000, len - 1, len };

		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			CHECK(ns[i] <= len);
			CHECK_OK(tail_parse(copy, len, ns[i], len, ik, &te,
			    &tc));
			CHECK(same_entries(te, tc, pe, pc));
			free(te);
		}
		/* The whole pack, in place. */
		CHECK_OK(cf_pack_parse_tail(copy, len, len, ik, &te, &tc));
		CHECK(same_entries(te, tc, pe, pc));
		free(te);
	}
	/* What the tail gives is enough to read every blob. */
	CHECK_OK(tail_parse(copy, len, (size_t)hlen + 4, len, ik, &te, &tc));
	CHECK_OK(cf_pack_open_key(copy, CF_PACK_HEAD_BYTES, keys->repo_pk,
	    keys->repo_sk, key));
	for (size_t i = 0; te != NULL && i < tc; i++) {
		CHECK_OK(cf_blob_read(r, key, keys->id_key, &te[i],
		    copy + te[i].offset, &out));
		CHECK(out.len == te[i].raw_length);
		CHECK(i % 3 != 0 || te[i].type == CF_BLOB_TREE);
	}
	free(te);

	/* Too short: one byte less than L + 4, down to nothing. */
	{
		size_t ns[] = { (size_t)hlen + 3, (size_t)hlen, 44, 5, 4, 3,
		    1, 0 };

		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			te = &dummy;
			tc = 99;
			CHECK_ERR(tail_parse(copy, len, ns[i], len, ik, &te,
			    &tc), CF_ERR_CORRUPT);
			CHECK(te == NULL && tc == 0);
		}
	}
	/* A tail longer than the pack it claims to end. */
	CHECK_ERR(cf_pack_parse_tail(copy, len, len - 1, ik, &te, &tc),
	    CF_ERR_CORRUPT);
	CHECK_ERR(tail_parse(copy, len, (size_t)hlen + 8, hlen + 7, ik, &te,
	    &tc), CF_ERR_CORRUPT);

	/*
	 * A wrong pack size, smaller or larger: the blob area no longer ends
	 * where the blobs do.
	 */
	{
		uint64_t sizes[] = { len - 1, len + 1, len - 41, len + 41,
		    len + 4096, (uint64_t)hlen + 4, CF_PACK_HEAD_BYTES + 47,
		    0, (uint64_t)CF_PACK_MAX, (uint64_t)CF_PACK_MAX + 1,
		    UINT64_MAX };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			te = &dummy;
			tc = 99;
			CHECK_ERR(tail_parse(copy, len, (size_t)hlen + 4,
			    sizes[i], ik, &te, &tc), CF_ERR_CORRUPT);
			CHECK(te == NULL && tc == 0);
		}
		CHECK_ERR(tail_parse(copy, len, (size_t)hlen + 4, len + 1, ik,
		    &te, &tc), CF_ERR_CORRUPT);
		CHECK(strstr(cf_error_message(), "fill") != NULL);
	}

	/* A flipped byte of the header (nonce, body, tag) or the trailer. */
	{
		size_t spots[] = { hoff, hoff + 23, hoff + 24, hoff + hlen / 2,
		    hoff + hlen - 16, hoff + hlen - 1, len - 4, len - 3,
		    len - 2, len - 1 };

		for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
			for (int bit = 0; bit < 8; bit += 7) {
				copy[spots[i]] ^= (uint8_t)(1u << bit);
				CHECK_ERR(tail_parse(copy, len,
				    (size_t)hlen + 4, len, ik, &te, &tc),
				    CF_ERR_CORRUPT);
				CHECK_ERR(tail_parse(copy, len, len, len, ik,
				    &te, &tc), CF_ERR_CORRUPT);
				copy[spots[i]] ^= (uint8_t)(1u << bit);
			}
		}
		CHECK_OK(tail_parse(copy, len, (size_t)hlen + 4, len, ik, &te,
		    &tc));
		free(te);
	}

	/* Wrong keys: another repository's index key, the id key. */
	CHECK_ERR(tail_parse(copy, len, (size_t)hlen + 4, len,
	    other->index_key, &te, &tc), CF_ERR_CORRUPT);
	CHECK(te == NULL && tc == 0);
	CHECK_ERR(tail_parse(copy, len, (size_t)hlen + 4, len, keys->id_key,
	    &te, &tc), CF_ERR_CORRUPT);

	/*
	 * The header opens with the index key and no longer with the pack
	 * key; blobs open with the pack key and not with the index key.
	 */
	CHECK_ERR(tail_parse(copy, len, (size_t)hlen + 4, len, key, &te, &tc),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_pack_parse(copy, len, key, &te, &tc), CF_ERR_CORRUPT);
	{
		uint8_t *plain = malloc(hlen - CF_AEAD_OVERHEAD);

		CHECK_ERR(cf_aead_open(plain, key, HEADER_AD, 18, copy + hoff,
		    hlen), CF_ERR_CORRUPT);
		CHECK_OK(cf_aead_open(plain, ik, HEADER_AD, 18, copy + hoff,
		    hlen));
		CHECK(cf_get_u32(plain) == pc);
		CHECK(plain[4] == pe[0].type &&
		    memcmp(plain + 5, pe[0].id, CF_HASH_BYTES) == 0 &&
		    cf_get_u32(plain + 37) == pe[0].offset);
		/* The ad is part of it. */
		CHECK_ERR(cf_aead_open(plain, ik, "COFFREPK header v2", 18,
		    copy + hoff, hlen), CF_ERR_CORRUPT);
		free(plain);
	}
	CHECK_ERR(cf_blob_read(r, ik, keys->id_key, &pe[1],
	    copy + pe[1].offset, &out), CF_ERR_CORRUPT);
	CHECK_OK(cf_blob_read(r, key, keys->id_key, &pe[1],
	    copy + pe[1].offset, &out));

	/* A write-only member's key set (no repo_sk) still parses the tail. */
	{
		struct cf_keys *wo;
		uint8_t k2[CF_KEY_BYTES];

		CHECK_OK(cf_keys_new(&wo));
		memcpy(wo->index_key, keys->index_key, CF_KEY_BYTES);
		memcpy(wo->id_key, keys->id_key, CF_KEY_BYTES);
		memcpy(wo->repo_pk, keys->repo_pk, CF_BOX_PK_BYTES);
		wo->has_repo_sk = 0;
		CHECK_OK(tail_parse(copy, len, (size_t)hlen + 4, len,
		    wo->index_key, &te, &tc));
		CHECK(same_entries(te, tc, pe, pc));
		free(te);
		CHECK_ERR(cf_pack_open_key(copy, len, wo->repo_pk, wo->repo_sk,
		    k2), CF_ERR_CORRUPT);
		cf_keys_free(wo);
	}

	free(pe);
	free(copy);
	free(text);
	cf_buf_free(&out);
	cf_blob_reader_free(r);
	cf_pack_writer_free(w);
}

/* Writer misuse, level 0, and exact padding over many sizes. */
static void
test_writer(void)
{
	const uint8_t *ik = keys->index_key;
	struct cf_pack_writer *w, *w2;
	struct cf_blob_reader *r;
	const struct cf_pack_entry *we;
	struct cf_pack_entry *pe;
	const uint8_t *data;
	uint8_t pid[CF_HASH_BYTES], id[CF_HASH_BYTES], key[CF_KEY_BYTES];
	uint8_t *text = make_text(20000, 11);
	size_t len, count, pc;
	struct cf_buf out;

	cf_buf_init(&out, CF_BLOB_MAX);
	CHECK_OK(cf_blob_reader_new(&r));
	CHECK_ERR(cf_pack_writer_new(keys->repo_pk, ik, 1000, &w),
	    CF_ERR_INVALID);
	CHECK(w == NULL);
	CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 0, &w));
	CHECK_ERR(cf_pack_writer_finish(w, pid, &data, &len, &we, &count),
	    CF_ERR_INVALID);
	cf_blob_id(id, keys->id_key, CF_BLOB_DATA, text, 20000);
	CHECK_ERR(cf_pack_writer_add(w, 3, id, text, 20000), CF_ERR_INVALID);
	CHECK_ERR(cf_pack_writer_add(w, 0, id, text, 20000), CF_ERR_INVALID);
	CHECK_ERR(cf_pack_writer_add(w, CF_BLOB_DATA, id, text,
	    (size_t)CF_BLOB_MAX + 1), CF_ERR_INVALID);
	CHECK(cf_pack_writer_count(w) == 0);

	/* Level 0 stores even text. */
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, id, text, 20000));
	CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we, &count));
	CHECK(count == 1 && we[0].length == 20000 + 41);
	CHECK_OK(cf_pack_open_key(data, len, keys->repo_pk, keys->repo_sk,
	    key));
	CHECK_OK(cf_pack_parse(data, len, ik, &pe, &pc));
	CHECK_OK(cf_blob_read(r, key, keys->id_key, &pe[0],
	    data + pe[0].offset, &out));
	CHECK(out.len == 20000 && memcmp(out.p, text, 20000) == 0);
	free(pe);

	/* Store unless zstd saves at least 1/32. */
	{
		uint8_t *m = make_random(11000);
		uint8_t mid[CF_HASH_BYTES];

		CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 3, &w2));
		memset(m + 10000, 0, 200);      /* saves < 1/32: stored */
		cf_blob_id(mid, keys->id_key, CF_BLOB_DATA, m, 10200);
		CHECK_OK(cf_pack_writer_add(w2, CF_BLOB_DATA, mid, m, 10200));
		memset(m + 10000, 0, 1000);     /* saves > 1/32: compressed */
		cf_blob_id(mid, keys->id_key, CF_BLOB_DATA, m, 11000);
		CHECK_OK(cf_pack_writer_add(w2, CF_BLOB_DATA, mid, m, 11000));
		CHECK_OK(cf_pack_writer_finish(w2, pid, &data, &len, &we,
		    &count));
		CHECK(we[0].length == 10200 + 41);
		CHECK(we[1].length < 11000 + 41 - 11000 / 32);
		CHECK_OK(cf_pack_open_key(data, len, keys->repo_pk,
		    keys->repo_sk, key));
		CHECK_OK(cf_pack_parse(data, len, ik, &pe, &pc));
		CHECK_OK(cf_blob_read(r, key, keys->id_key, &pe[1],
		    data + pe[1].offset, &out));
		CHECK(out.len == 11000 && memcmp(out.p, m, 11000) == 0);
		free(pe);
		free(m);
		cf_pack_writer_free(w2);
	}

	/* Many pack sizes: every one exactly padme'd and parseable. */
	for (size_t nblobs = 1; nblobs <= 40; nblobs++) {
		cf_pack_writer_reset(w);
		for (size_t i = 0; i < nblobs; i++) {
			size_t n = (i * 977 + nblobs * 131) % 20000;
			cf_blob_id(id, keys->id_key, CF_BLOB_TREE, text + i, n);
			CHECK_OK(cf_pack_writer_add(w, CF_BLOB_TREE, id,
			    text + i, n));
		}
		CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we,
		    &count));
		CHECK(len == cf_padme(unpadded_size(we, count)));
		CHECK_OK(cf_pack_open_key(data, len, keys->repo_pk,
		    keys->repo_sk, key));
		CHECK_OK(cf_pack_parse(data, len, ik, &pe, &pc));
		CHECK(pc == nblobs);
		for (size_t i = 0; i < pc; i++)
			CHECK_OK(cf_blob_read(r, key, keys->id_key, &pe[i],
			    data + pe[i].offset, &out));
		free(pe);
	}

	/* A writer whose id does not match its data: readers refuse. */
	cf_pack_writer_reset(w);
	CHECK_OK(cf_pack_writer_add(w, CF_BLOB_DATA, id, text, 100));
	CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we, &count));
	CHECK_OK(cf_pack_open_key(data, len, keys->repo_pk, keys->repo_sk,
	    key));
	CHECK_OK(cf_pack_parse(data, len, ik, &pe, &pc));
	CHECK_ERR(cf_blob_read(r, key, keys->id_key, &pe[0],
	    data + pe[0].offset, &out), CF_ERR_CORRUPT);
	free(pe);

	cf_pack_writer_free(w);
	cf_pack_writer_free(NULL);
	cf_blob_reader_free(r);
	cf_blob_reader_free(NULL);
	cf_buf_free(&out);
	free(text);
}

/* A largest-size blob, and a pack that would grow past CF_PACK_MAX. */
static void
test_limits(void)
{
	const uint8_t *ik = keys->index_key;
	struct cf_pack_writer *w;
	struct cf_blob_reader *r;
	const struct cf_pack_entry *we;
	struct cf_pack_entry *pe;
	const uint8_t *data;
	uint8_t pid[CF_HASH_BYTES], id[CF_HASH_BYTES], key[CF_KEY_BYTES];
	uint8_t *big = make_random(CF_BLOB_MAX);
	size_t len, count, pc, i;
	struct cf_buf out;
	cf_status rc = CF_OK;

	cf_buf_init(&out, CF_BLOB_MAX);
	CHECK_OK(cf_blob_reader_new(&r));
	CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 3, &w));
	cf_blob_id(id, keys->id_key, CF_BLOB_DATA, big, CF_BLOB_MAX);
	for (i = 0; i < 8 && (rc = cf_pack_writer_add(w, CF_BLOB_DATA, id,
	    big, CF_BLOB_MAX)) == CF_OK; i++)
		;
	CHECK_ERR(rc, CF_ERR_NOMEM);
	CHECK(i == 3);  /* 4 x 64 MiB + overhead would exceed 256 MiB */
	CHECK(cf_pack_writer_count(w) == i);
	CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we, &count));
	CHECK(len <= CF_PACK_MAX);
	CHECK_OK(cf_pack_open_key(data, len, keys->repo_pk, keys->repo_sk,
	    key));
	CHECK_OK(cf_pack_parse(data, len, ik, &pe, &pc));
	CHECK(pc == 3);
	CHECK_OK(cf_blob_read(r, key, keys->id_key, &pe[2],
	    data + pe[2].offset, &out));
	CHECK(out.len == CF_BLOB_MAX && memcmp(out.p, big, CF_BLOB_MAX) == 0);
	free(pe);
	cf_pack_writer_free(w);
	cf_blob_reader_free(r);
	cf_buf_free(&out);
	free(big);
}

/*
 * test_blob_open: cf_blob_open (in place, no copy) accepts what the writer
 * wrote, stored and compressed, in packs of a reserved buffer, and gives
 * the same data as cf_blob_read; it refuses what cf_blob_read refuses.
 */
static void
test_blob_open(void)
{
	uint8_t ik[CF_KEY_BYTES], key[CF_KEY_BYTES], pid[CF_HASH_BYTES];
	struct cf_pack_writer *w;
	struct cf_blob_reader *r;
	struct cf_pack_entry *pe, wrong;
	const struct cf_pack_entry *we;
	const uint8_t *data, *got;
	struct cf_buf out;
	struct blob b[4];
	uint8_t *copy;
	size_t len, count, pcount, size, pad;

	memcpy(ik, keys->index_key, CF_KEY_BYTES);
	blob_init(&b[0], CF_BLOB_DATA, make_text(300000, 1), 300000);
	blob_init(&b[1], CF_BLOB_DATA, make_random(200000), 200000);
	blob_init(&b[2], CF_BLOB_TREE, make_text(777, 9), 777);
	blob_init(&b[3], CF_BLOB_DATA, make_random(0), 0);
	CHECK_OK(cf_pack_writer_new(keys->repo_pk, ik, 3, &w));
	CHECK_OK(cf_pack_writer_reserve(w, 1024 * 1024));
	for (size_t i = 0; i < 4; i++)
		CHECK_OK(cf_pack_writer_add(w, b[i].type, b[i].id, b[i].data,
		    b[i].n));
	size = cf_pack_writer_size(w);
	pad = cf_pack_writer_padding(w);
	CHECK_OK(cf_pack_writer_finish(w, pid, &data, &len, &we, &count));
	CHECK(count == 4);
	CHECK(len == cf_padme(len));
	/* The padding announced is the padding the pack got. */
	CHECK(len == size + CF_AEAD_OVERHEAD + 4 + 4 * CF_PACK_ENTRY_BYTES +
	    pad + 4);
	CHECK_OK(cf_pack_parse(data, len, ik, &pe, &pcount));
	CHECK(pcount == 4);
	CHECK_OK(cf_pack_open_key(data, len, keys->repo_pk, keys->repo_sk,
	    key));
	CHECK_OK(cf_blob_reader_new(&r));
	cf_buf_init(&out, CF_BLOB_MAX);
	if ((copy = malloc(len)) == NULL)
		abort();
	for (size_t i = 0; i < 4; i++) {
		memcpy(copy, data, len);
		CHECK_OK(cf_blob_open(r, key, keys->id_key, &pe[i],
		    copy + pe[i].offset, &got));
		CHECK(b[i].n == 0 || memcmp(got, b[i].data, b[i].n) == 0);
		CHECK_OK(cf_blob_read(r, key, keys->id_key, &pe[i],
		    data + pe[i].offset, &out));
		CHECK(out.len == b[i].n);
		/* A flipped byte, a wrong key, another blob's entry. */
		memcpy(copy, data, len);
		copy[pe[i].offset + CF_NONCE_BYTES] ^= 1;
		CHECK_ERR(cf_blob_open(r, key, keys->id_key, &pe[i],
		    copy + pe[i].offset, &got), CF_ERR_CORRUPT);
		CHECK(got == NULL);
		memcpy(copy, data, len);
		CHECK_ERR(cf_blob_open(r, ik, keys->id_key, &pe[i],
		    copy + pe[i].offset, &got), CF_ERR_CORRUPT);
		memcpy(copy, data, len);
		wrong = pe[i];
		memcpy(wrong.id, pe[(i + 1) % 4].id, CF_HASH_BYTES);
		CHECK_ERR(cf_blob_open(r, key, keys->id_key, &wrong,
		    copy + pe[i].offset, &got), CF_ERR_CORRUPT);
	}
	/* The text blob went in compressed, the random one stored. */
	CHECK(pe[0].length < 300000 / 2);
	CHECK(pe[1].length == 200000 + CF_AEAD_OVERHEAD + 1);
	free(copy);
	free(pe);
	cf_buf_free(&out);
	cf_blob_reader_free(r);
	cf_pack_writer_free(w);
	for (size_t i = 0; i < 4; i++)
		free(b[i].data);
}

int
main(void)
{
	CHECK_OK(cf_crypto_init());
	CHECK_OK(cf_keys_new(&keys));
	CHECK_OK(cf_keys_new(&other));
	cf_keys_generate(keys);
	cf_keys_generate(other);
	test_roundtrip();
	test_cross_pack();
	test_tail();
	test_writer();
	test_limits();
	test_blob_open();
	cf_keys_free(keys);
	cf_keys_free(other);
	return check_done("pack");
}
