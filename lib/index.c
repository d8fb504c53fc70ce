/* index.c: the blob index in memory and in index files (see index.h). */
#include "index.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define INDEX_MAGIC "COFFREIX"
#define INDEX_MAGIC_BYTES 8
#define INDEX_VERSION 1
#define INDEX_PREFIX_BYTES 16   /* magic, version, reserved: also the AD */
#define INDEX_PACK_BYTES (CF_HASH_BYTES + 4)

/*
 * Blobs are kept in a dense array of 48-byte records, in the order they were
 * added; the hash table holds only 4-byte record numbers (+1, 0 = empty
 * slot).  With the table at most 70% full that is 48 + 6 to 11 bytes per
 * blob, against 70 to 140 had the records lived in the table itself.
 * The type (1 or 2) is kept in the top two bits of raw_length, which never
 * exceeds CF_BLOB_MAX.
 */
struct rec {
	uint8_t id[CF_HASH_BYTES];
	uint32_t pack;
	uint32_t offset;
	uint32_t length;
	uint32_t raw_type;      /* raw_length | type << TYPE_SHIFT */
};

#define TYPE_SHIFT 30
#define RAW_MASK ((UINT32_C(1) << TYPE_SHIFT) - 1)

_Static_assert(sizeof(struct rec) == 48, "index record size");
_Static_assert(CF_HASH_BYTES == 32, "id_hash reads four words");
_Static_assert(CF_BLOB_MAX <= RAW_MASK, "raw_length fits beside the type");

/* Most records and packs a cf_index holds (numbers + 1 fit a u32). */
#define INDEX_ITEMS_MAX (UINT32_MAX - 1)
#define TABLE_MIN 1024

/* An open-addressing table of u32 (item number + 1), linear probing. */
struct table {
	uint32_t *slot;
	size_t size;            /* a power of two, or 0 */
	unsigned shift;         /* 64 - log2(size): slot = hash >> shift */
};

struct cf_index {
	/*
	 * Ids come from index files that any member, write-only clients
	 * included, can write, so they are not trusted to be random: the
	 * slot is a multiply-shift hash of the whole id under odd factors
	 * drawn at random for this index, so a crafted file cannot pile its
	 * ids into one probe sequence.  (SipHash made lookups 2x slower.)
	 */
	uint64_t mul[CF_HASH_BYTES / 8];
	struct rec *recs;
	size_t nrecs, caprecs;
	struct table blobs;
	uint8_t (*packs)[CF_HASH_BYTES];
	size_t npacks, cappacks;
	struct table packmap;
};

/*
 * id_hash(idx, id): the hash of ${id}; tables use its top bits.  Native
 * byte order is fine: the hash never leaves this process.
 */
static uint64_t
id_hash(const struct cf_index *idx, const uint8_t id[CF_HASH_BYTES])
{
	uint64_t x[CF_HASH_BYTES / 8];

	memcpy(x, id, sizeof(x));
	return x[0] * idx->mul[0] + x[1] * idx->mul[1] + x[2] * idx->mul[2] +
	    x[3] * idx->mul[3];
}

/* The id of item ${i}: of blob record i, or of pack i. */
static const uint8_t *
rec_id(const struct cf_index *idx, uint32_t i)
{
	return idx->recs[i].id;
}

static const uint8_t *
pack_id_of(const struct cf_index *idx, uint32_t i)
{
	return idx->packs[i];
}

typedef const uint8_t *(*id_of_fn)(const struct cf_index *, uint32_t);

/*
 * table_find(idx, t, id_of, id, pos, item): 1 and *item if ${id} is in
 * ${t}; else 0, with *pos the empty slot where it would go.
 */
static int
table_find(const struct cf_index *idx, const struct table *t, id_of_fn id_of,
    const uint8_t id[CF_HASH_BYTES], size_t *pos, uint32_t *item)
{
	size_t mask = t->size - 1, i;
	uint32_t s;

	if (t->size == 0)
		return 0;
	for (i = (size_t)(id_hash(idx, id) >> t->shift); (s = t->slot[i]) != 0;
	    i = (i + 1) & mask) {
		if (memcmp(id_of(idx, s - 1), id, CF_HASH_BYTES) == 0) {
			*item = s - 1;
			return 1;
		}
	}
	*pos = i;
	return 0;
}

/*
 * table_fit(idx, t, id_of, n): make ${t} large enough for ${n} items
 * (at most 70% full), re-inserting items 0 .. nitems-1 if it grows.
 */
static cf_status
table_fit(struct cf_index *idx, struct table *t, id_of_fn id_of, size_t n,
    size_t nitems)
{
	size_t size = t->size ? t->size : TABLE_MIN, mask, i;
	unsigned shift = 64;
	uint32_t *slot;

	if (n > INDEX_ITEMS_MAX)
		return cf_error_set(CF_ERR_NOMEM,
		    "index would hold more than %u entries", INDEX_ITEMS_MAX);
	while (n > size / 10 * 7) {
		if (size > SIZE_MAX / 2 / sizeof(*slot))
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		size *= 2;
	}
	if (size == t->size)
		return CF_OK;
	if ((slot = calloc(size, sizeof(*slot))) == NULL)
		return cf_error_set(CF_ERR_NOMEM,
		    "out of memory for the index (%zu entries)", n);
	mask = size - 1;
	for (size_t s = size; s > 1; s >>= 1)
		shift--;
	for (uint32_t k = 0; k < nitems; k++) {
		for (i = (size_t)(id_hash(idx, id_of(idx, k)) >> shift);
		    slot[i] != 0;
		    i = (i + 1) & mask)
			;
		slot[i] = k + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->size = size;
	t->shift = shift;
	return CF_OK;
}

/* grow_array(p, cap, elem, n): make *p hold at least ${n} elements. */
static cf_status
grow_array(void **p, size_t *cap, size_t elem, size_t n)
{
	size_t ncap = *cap ? *cap : 256;
	void *q;

	if (n <= *cap)
		return CF_OK;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2 / elem)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		ncap *= 2;
	}
	if ((q = realloc(*p, ncap * elem)) == NULL)
		return cf_error_set(CF_ERR_NOMEM,
		    "out of memory for the index (%zu entries)", n);
	*p = q;
	*cap = ncap;
	return CF_OK;
}

/* reserve_blobs(idx, extra): room for ${extra} more blobs. */
static cf_status
reserve_blobs(struct cf_index *idx, size_t extra)
{
	cf_status rc;
	void *p = idx->recs;

	if (extra > INDEX_ITEMS_MAX - idx->nrecs)
		return cf_error_set(CF_ERR_NOMEM,
		    "index would hold more than %u blobs", INDEX_ITEMS_MAX);
	rc = grow_array(&p, &idx->caprecs, sizeof(struct rec),
	    idx->nrecs + extra);
	idx->recs = p;
	if (rc != CF_OK)
		return rc;
	return table_fit(idx, &idx->blobs, rec_id, idx->nrecs + extra,
	    idx->nrecs);
}

cf_status
cf_index_new(struct cf_index **out)
{
	struct cf_index *idx;

	*out = NULL;
	if ((idx = calloc(1, sizeof(*idx))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	cf_random(idx->mul, sizeof(idx->mul));
	for (size_t i = 0; i < CF_HASH_BYTES / 8; i++)
		idx->mul[i] |= 1;
	*out = idx;
	return CF_OK;
}

void
cf_index_free(struct cf_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->recs);
	free(idx->blobs.slot);
	free(idx->packs);
	free(idx->packmap.slot);
	free(idx);
}

cf_status
cf_index_add_pack(struct cf_index *idx, const uint8_t pack_id[CF_HASH_BYTES],
    uint32_t *pack_no)
{
	size_t pos;
	uint32_t no;
	cf_status rc;
	void *p;

	if (table_find(idx, &idx->packmap, pack_id_of, pack_id, &pos, &no)) {
		*pack_no = no;
		return CF_OK;
	}
	if ((rc = table_fit(idx, &idx->packmap, pack_id_of, idx->npacks + 1,
	    idx->npacks)) != CF_OK)
		return rc;
	p = idx->packs;
	rc = grow_array(&p, &idx->cappacks, CF_HASH_BYTES, idx->npacks + 1);
	idx->packs = p;
	if (rc != CF_OK)
		return rc;
	/* The table may have grown: find the free slot again. */
	(void)table_find(idx, &idx->packmap, pack_id_of, pack_id, &pos, &no);
	no = (uint32_t)idx->npacks++;
	memcpy(idx->packs[no], pack_id, CF_HASH_BYTES);
	idx->packmap.slot[pos] = no + 1;
	*pack_no = no;
	return CF_OK;
}

/* entry_ok(e): 1 if ${e} has a known type and a plausible raw_length. */
static int
entry_ok(uint8_t type, uint32_t raw_length)
{
	return (type == CF_BLOB_DATA || type == CF_BLOB_TREE) &&
	    raw_length <= CF_BLOB_MAX;
}

/* add(idx, pack_no, ...): insert unless present (room is reserved). */
static void
add(struct cf_index *idx, uint32_t pack_no, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], uint32_t offset, uint32_t length,
    uint32_t raw_length)
{
	struct rec *r;
	size_t pos = 0;
	uint32_t item;

	if (table_find(idx, &idx->blobs, rec_id, id, &pos, &item))
		return;         /* the first location is kept */
	r = &idx->recs[idx->nrecs];
	memcpy(r->id, id, CF_HASH_BYTES);
	r->pack = pack_no;
	r->offset = offset;
	r->length = length;
	r->raw_type = raw_length | (uint32_t)type << TYPE_SHIFT;
	idx->blobs.slot[pos] = (uint32_t)++idx->nrecs;
}

cf_status
cf_index_add(struct cf_index *idx, uint32_t pack_no,
    const struct cf_pack_entry *e)
{
	cf_status rc;

	if (pack_no >= idx->npacks)
		return cf_error_set(CF_ERR_INVALID,
		    "blob added to unknown pack number %u", pack_no);
	if (!entry_ok(e->type, e->raw_length))
		return cf_error_set(CF_ERR_INVALID,
		    "blob of unknown type or impossible size added to index");
	if ((rc = reserve_blobs(idx, 1)) != CF_OK)
		return rc;
	add(idx, pack_no, e->type, e->id, e->offset, e->length, e->raw_length);
	return CF_OK;
}

static void
loc_of(const struct rec *r, struct cf_index_loc *loc)
{
	loc->pack = r->pack;
	loc->offset = r->offset;
	loc->length = r->length;
	loc->raw_length = r->raw_type & RAW_MASK;
	loc->type = (uint8_t)(r->raw_type >> TYPE_SHIFT);
}

int
cf_index_lookup(const struct cf_index *idx, const uint8_t id[CF_HASH_BYTES],
    struct cf_index_loc *loc)
{
	size_t pos;
	uint32_t item;

	if (!table_find(idx, &idx->blobs, rec_id, id, &pos, &item))
		return 0;
	loc_of(&idx->recs[item], loc);
	return 1;
}

const uint8_t *
cf_index_pack_id(const struct cf_index *idx, uint32_t pack_no)
{
	if (pack_no >= idx->npacks)
		return NULL;
	return idx->packs[pack_no];
}

int
cf_index_find_pack(const struct cf_index *idx,
    const uint8_t pack_id[CF_HASH_BYTES], uint32_t *pack_no)
{
	size_t pos;

	return table_find(idx, &idx->packmap, pack_id_of, pack_id, &pos,
	    pack_no);
}

size_t
cf_index_pack_count(const struct cf_index *idx)
{
	return idx->npacks;
}

size_t
cf_index_blob_count(const struct cf_index *idx)
{
	return idx->nrecs;
}

cf_status
cf_index_foreach(const struct cf_index *idx, cf_index_fn fn, void *arg)
{
	struct cf_index_loc loc;
	cf_status rc;

	for (size_t i = 0; i < idx->nrecs; i++) {
		loc_of(&idx->recs[i], &loc);
		if ((rc = fn(arg, idx->recs[i].id, &loc)) != CF_OK)
			return rc;
	}
	return CF_OK;
}

/*
 * prefix_check(p, n): CF_OK if the first 16 bytes of ${p} (n >= 16) are an
 * index file's magic, a known version and zero reserved bytes.
 */
static cf_status
prefix_check(const uint8_t *p)
{
	if (memcmp(p, INDEX_MAGIC, INDEX_MAGIC_BYTES) != 0)
		return cf_error_set(CF_ERR_CORRUPT, "not a coffre index file");
	if (p[INDEX_MAGIC_BYTES] != INDEX_VERSION)
		return cf_error_set(CF_ERR_VERSION,
		    "index format version %u is not supported by this coffre "
		    "(it reads version %u); upgrade coffre",
		    (unsigned)p[INDEX_MAGIC_BYTES], INDEX_VERSION);
	for (size_t i = INDEX_MAGIC_BYTES + 1; i < INDEX_PREFIX_BYTES; i++)
		if (p[i] != 0)
			return cf_error_set(CF_ERR_CORRUPT,
			    "index file has non-zero reserved bytes");
	return CF_OK;
}

/*
 * plain_check(p, n, total): CF_OK if ${p}[0..n) is a well-formed index
 * plaintext; *total = the number of blob entries it lists.
 */
static cf_status
plain_check(const uint8_t *p, size_t n, size_t *total)
{
	struct cf_reader rd;
	size_t npacks, count;

	*total = 0;
	cf_reader_init(&rd, p, n);
	npacks = cf_read_u32(&rd);
	if (npacks > cf_reader_left(&rd) / INDEX_PACK_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "index file declares %zu packs, more than it can hold",
		    npacks);
	for (size_t i = 0; i < npacks; i++) {
		(void)cf_read_ref(&rd, CF_HASH_BYTES);
		count = cf_read_u32(&rd);
		if (count > cf_reader_left(&rd) / CF_PACK_ENTRY_BYTES)
			return cf_error_set(CF_ERR_CORRUPT,
			    "index file declares %zu blobs for a pack, more "
			    "than it can hold", count);
		for (size_t j = 0; j < count; j++) {
			const uint8_t *q = cf_read_ref(&rd,
			    CF_PACK_ENTRY_BYTES);

			if (q == NULL)
				break;
			if (!entry_ok(q[0], cf_get_u32(q + 41)))
				return cf_error_set(CF_ERR_CORRUPT,
				    "index file lists a blob of unknown type "
				    "or impossible size");
		}
		*total += count;
	}
	return cf_reader_done(&rd, "index file");
}

/* plain_add(idx, p, n): add a checked plaintext's packs and blobs. */
static cf_status
plain_add(struct cf_index *idx, const uint8_t *p, size_t n)
{
	struct cf_reader rd;
	size_t npacks, count;
	uint32_t pack_no;
	cf_status rc;

	cf_reader_init(&rd, p, n);
	npacks = cf_read_u32(&rd);
	for (size_t i = 0; i < npacks; i++) {
		const uint8_t *pid = cf_read_ref(&rd, CF_HASH_BYTES);

		if (pid == NULL)
			return cf_error_set(CF_ERR_CORRUPT, "index file: "
			    "truncated");
		if ((rc = cf_index_add_pack(idx, pid, &pack_no)) != CF_OK)
			return rc;
		count = cf_read_u32(&rd);
		for (size_t j = 0; j < count; j++) {
			const uint8_t *q = cf_read_ref(&rd,
			    CF_PACK_ENTRY_BYTES);

			if (q == NULL)
				return cf_error_set(CF_ERR_CORRUPT,
				    "index file: truncated");
			add(idx, pack_no, q[0], q + 1, cf_get_u32(q + 33),
			    cf_get_u32(q + 37), cf_get_u32(q + 41));
		}
	}
	return CF_OK;
}

cf_status
cf_index_file_decode(const uint8_t key[CF_KEY_BYTES], const uint8_t *p,
    size_t n, struct cf_index *into)
{
	uint8_t *plain;
	size_t plen, total;
	cf_status rc;

	if (n > CF_INDEX_FILE_MAX)
		return cf_error_set(CF_ERR_CORRUPT,
		    "index file is larger (%zu bytes) than any coffre writes",
		    n);
	if (n < INDEX_PREFIX_BYTES + CF_AEAD_OVERHEAD + 4)
		return cf_error_set(CF_ERR_CORRUPT,
		    "index file is too short (%zu bytes)", n);
	if ((rc = prefix_check(p)) != CF_OK)
		return rc;
	plen = n - INDEX_PREFIX_BYTES - CF_AEAD_OVERHEAD;
	if ((plain = malloc(plen)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((rc = cf_aead_open(plain, key, p, INDEX_PREFIX_BYTES,
	    p + INDEX_PREFIX_BYTES, n - INDEX_PREFIX_BYTES)) != CF_OK) {
		cf_error_set(CF_ERR_CORRUPT, "index file: authentication "
		    "failed (damaged, tampered with, or another repository's)");
		goto done;
	}
	if ((rc = plain_check(plain, plen, &total)) != CF_OK)
		goto done;
	if ((rc = reserve_blobs(into, total)) != CF_OK)
		goto done;
	rc = plain_add(into, plain, plen);

done:
	sodium_memzero(plain, plen);
	free(plain);
	return rc;
}

/* entry_put(p, type, id, offset, length, raw_length): 45 bytes at ${p}. */
static void
entry_put(uint8_t *p, uint8_t type, const uint8_t id[CF_HASH_BYTES],
    uint32_t offset, uint32_t length, uint32_t raw_length)
{
	p[0] = type;
	memcpy(p + 1, id, CF_HASH_BYTES);
	cf_put_u32(p + 33, offset);
	cf_put_u32(p + 37, length);
	cf_put_u32(p + 41, raw_length);
}

/*
 * seal(key, plain, plen, out): append the index file holding ${plain} to
 * ${out}; the caller has checked that plen fits CF_INDEX_FILE_MAX.
 */
static cf_status
seal(const uint8_t key[CF_KEY_BYTES], const uint8_t *plain, size_t plen,
    struct cf_buf *out)
{
	uint8_t *p;
	cf_status rc;

	if ((rc = cf_buf_reserve(out,
	    INDEX_PREFIX_BYTES + CF_AEAD_OVERHEAD + plen)) != CF_OK)
		return rc;
	p = out->p + out->len;
	memcpy(p, INDEX_MAGIC, INDEX_MAGIC_BYTES);
	p[INDEX_MAGIC_BYTES] = INDEX_VERSION;
	memset(p + INDEX_MAGIC_BYTES + 1, 0,
	    INDEX_PREFIX_BYTES - INDEX_MAGIC_BYTES - 1);
	cf_aead_seal(p + INDEX_PREFIX_BYTES, key, p, INDEX_PREFIX_BYTES,
	    plain, plen);
	out->len += INDEX_PREFIX_BYTES + CF_AEAD_OVERHEAD + plen;
	return CF_OK;
}

/* The largest plaintext an index file may carry. */
#define PLAIN_MAX \
	((uint64_t)CF_INDEX_FILE_MAX - INDEX_PREFIX_BYTES - CF_AEAD_OVERHEAD)

static cf_status
too_large(void)
{
	return cf_error_set(CF_ERR_NOMEM, "index file would exceed the limit "
	    "of %u bytes", CF_INDEX_FILE_MAX);
}

cf_status
cf_index_file_encode(const uint8_t key[CF_KEY_BYTES],
    const struct cf_index_pack *packs, size_t npacks, struct cf_buf *out)
{
	uint64_t plen = 4;
	uint8_t *plain, *p;
	cf_status rc;

	for (size_t i = 0; i < npacks; i++) {
		const struct cf_index_pack *k = &packs[i];

		if (k->count > PLAIN_MAX / CF_PACK_ENTRY_BYTES)
			return too_large();
		plen += INDEX_PACK_BYTES +
		    (uint64_t)k->count * CF_PACK_ENTRY_BYTES;
		if (plen > PLAIN_MAX)
			return too_large();
		for (size_t j = 0; j < k->count; j++)
			if (!entry_ok(k->entries[j].type,
			    k->entries[j].raw_length))
				return cf_error_set(CF_ERR_INVALID,
				    "cannot index a blob of unknown type or "
				    "impossible size");
	}
	if ((plain = malloc((size_t)plen)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	p = plain;
	cf_put_u32(p, (uint32_t)npacks);
	p += 4;
	for (size_t i = 0; i < npacks; i++) {
		const struct cf_index_pack *k = &packs[i];

		memcpy(p, k->id, CF_HASH_BYTES);
		cf_put_u32(p + CF_HASH_BYTES, (uint32_t)k->count);
		p += INDEX_PACK_BYTES;
		for (size_t j = 0; j < k->count; j++) {
			const struct cf_pack_entry *e = &k->entries[j];

			entry_put(p, e->type, e->id, e->offset, e->length,
			    e->raw_length);
			p += CF_PACK_ENTRY_BYTES;
		}
	}
	rc = seal(key, plain, (size_t)plen, out);
	sodium_memzero(plain, (size_t)plen);
	free(plain);
	return rc;
}

cf_status
cf_index_file_encode_filtered(const uint8_t key[CF_KEY_BYTES],
    const struct cf_index *idx, cf_index_keep_fn keep, void *arg,
    struct cf_buf *out)
{
	uint64_t plen = 4;
	size_t *cnt, *pos, nkept = 0;
	uint8_t *plain;
	cf_status rc;

	/*
	 * cnt[k]: blobs of pack k; pos[k]: where its next entry goes in the
	 * plaintext, 0 if the pack is left out.
	 */
	if ((cnt = calloc(2 * idx->npacks + 1, sizeof(*cnt))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	pos = cnt + idx->npacks;
	for (size_t i = 0; i < idx->nrecs; i++)
		cnt[idx->recs[i].pack]++;
	for (size_t k = 0; k < idx->npacks; k++) {
		if (cnt[k] == 0 || !keep(arg, (uint32_t)k))
			continue;
		pos[k] = (size_t)plen + INDEX_PACK_BYTES;
		plen += INDEX_PACK_BYTES +
		    (uint64_t)cnt[k] * CF_PACK_ENTRY_BYTES;
		if (plen > PLAIN_MAX) {
			free(cnt);
			return too_large();
		}
		nkept++;
	}
	if ((plain = malloc((size_t)plen)) == NULL) {
		free(cnt);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	cf_put_u32(plain, (uint32_t)nkept);
	for (size_t k = 0; k < idx->npacks; k++) {
		uint8_t *p;

		if (pos[k] == 0)
			continue;
		p = plain + pos[k] - INDEX_PACK_BYTES;
		memcpy(p, idx->packs[k], CF_HASH_BYTES);
		cf_put_u32(p + CF_HASH_BYTES, (uint32_t)cnt[k]);
	}
	for (size_t i = 0; i < idx->nrecs; i++) {
		const struct rec *r = &idx->recs[i];

		if (pos[r->pack] == 0)
			continue;
		entry_put(plain + pos[r->pack],
		    (uint8_t)(r->raw_type >> TYPE_SHIFT), r->id, r->offset,
		    r->length, r->raw_type & RAW_MASK);
		pos[r->pack] += CF_PACK_ENTRY_BYTES;
	}
	rc = seal(key, plain, (size_t)plen, out);
	sodium_memzero(plain, (size_t)plen);
	free(plain);
	free(cnt);
	return rc;
}
