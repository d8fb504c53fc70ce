/* packer.c: blobs to stored packs, one pack in progress per lane (packer.h). */
#include "packer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "repo_internal.h"

#define THREADS_MAX 16
/* Header entries a pack buffer is sized for at first (it grows if needed). */
#define ENTRIES_RESERVED 1024

struct lane {
	struct cf_pack_writer *pw[2];   /* [0] data, [1] trees; made on use */
	struct cf_buf ibuf;             /* index file being encoded */
	uint64_t bytes_stored;
};

struct cf_packer {
	struct cf_repo *r;
	int index_files;
	cf_packer_pack_fn on_pack;
	void *arg;
	size_t reserve;                 /* pack buffer size to allocate once */
	pthread_mutex_t mu;             /* serialises on_pack */
	struct lane *lanes;
	size_t nlanes;
};

unsigned
cf_packer_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > THREADS_MAX ? THREADS_MAX : (unsigned)n;
}

/* store_pack(p, l, slot): finish and store the lane's pack, then its index. */
static cf_status
store_pack(struct cf_packer *p, struct lane *l, int slot)
{
	const struct cf_pack_entry *entries;
	struct cf_index_pack ip;
	const uint8_t *data;
	size_t len, count;
	char name[CF_OBJECT_NAME_MAX];
	uint64_t stored;
	cf_status rc;

	if (l->pw[slot] == NULL || cf_pack_writer_count(l->pw[slot]) == 0)
		return CF_OK;
	if ((rc = cf_pack_writer_finish(l->pw[slot], ip.id, &data, &len,
	    &entries, &count)) != CF_OK)
		return rc;
	cf_pack_object_name(name, ip.id);
	rc = cf_backend_put(p->r->be, name, data, len);
	if (rc != CF_OK && rc != CF_ERR_EXISTS)
		return cf_error_prefix("storing pack: ");
	stored = len;
	/* The pack is durable; now make it findable. */
	if (p->index_files) {
		ip.entries = entries;
		ip.count = count;
		cf_buf_reset(&l->ibuf);
		if ((rc = cf_index_file_encode(p->r->keys->index_key, &ip, 1,
		    &l->ibuf)) != CF_OK ||
		    (rc = repo_put_named(p->r, "index", l->ibuf.p, l->ibuf.len,
		    NULL)) != CF_OK)
			return rc;
		stored += l->ibuf.len;
	}
	l->bytes_stored += stored;
	if (p->on_pack != NULL) {
		pthread_mutex_lock(&p->mu);
		rc = p->on_pack(p->arg, ip.id, entries, count);
		pthread_mutex_unlock(&p->mu);
		if (rc != CF_OK)
			return rc;
	}
	/* Wipes the pack key: what was written cannot be read back here. */
	cf_pack_writer_reset(l->pw[slot]);
	return CF_OK;
}

cf_status
cf_packer_add_lane(struct cf_packer *p, unsigned lane, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n)
{
	const struct cf_keys *k = p->r->keys;
	int slot = type == CF_BLOB_TREE;
	struct lane *l;
	cf_status rc;

	if (lane >= p->nlanes)
		return cf_error_set(CF_ERR_INVALID, "no packer lane %u", lane);
	l = &p->lanes[lane];
	if (l->pw[slot] == NULL) {
		if ((rc = cf_pack_writer_new(k->repo_pk, k->index_key,
		    p->r->cfg.zstd_level, &l->pw[slot])) != CF_OK)
			return rc;
		/* Address space only: pages are touched as the pack fills. */
		if ((rc = cf_pack_writer_reserve(l->pw[slot], p->reserve)) !=
		    CF_OK)
			return rc;
	}
	/*
	 * A pack reaches the target and is then stored (by
	 * cf_packer_store_full), so it holds at most the target plus one
	 * chunk; a blob that would take it further (a large tree, or a blob
	 * from prune larger than any chunk) is put in a pack of its own.
	 */
	if (cf_pack_writer_count(l->pw[slot]) > 0 &&
	    cf_pack_writer_size(l->pw[slot]) + n + CF_AEAD_OVERHEAD + 1 >
	    (size_t)p->r->cfg.pack_target + p->r->cfg.chunker.max &&
	    (rc = store_pack(p, l, slot)) != CF_OK)
		return rc;
	return cf_pack_writer_add(l->pw[slot], type, id, data, n);
}

/*
 * full(p, w): 1 when the pack should be stored: it reached the pack size,
 * or it is at least half of it and its Padmé padding would be below 0.2 %
 * of it.  Padding rounds a pack's size up to a multiple of 1/16 to 1/32 of
 * it; closing where that costs little instead of at a fixed size makes
 * the repository about 1 % smaller, for packs a little smaller on average.
 * (A writer's choice: readers see a pack like any other.)
 */
static int
full(const struct cf_packer *p, const struct cf_pack_writer *w)
{
	size_t size = cf_pack_writer_size(w);

	if (size >= p->r->cfg.pack_target)
		return 1;
	return size >= p->r->cfg.pack_target / 2 &&
	    cf_pack_writer_padding(w) <= size / 512;
}

cf_status
cf_packer_store_full(struct cf_packer *p, unsigned lane)
{
	struct lane *l;
	cf_status rc;

	if (lane >= p->nlanes)
		return cf_error_set(CF_ERR_INVALID, "no packer lane %u", lane);
	l = &p->lanes[lane];
	for (int slot = 0; slot < 2; slot++)
		if (l->pw[slot] != NULL && full(p, l->pw[slot]) &&
		    (rc = store_pack(p, l, slot)) != CF_OK)
			return rc;
	return CF_OK;
}

cf_status
cf_packer_add(struct cf_packer *p, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n)
{
	cf_status rc;

	if ((rc = cf_packer_add_lane(p, 0, type, id, data, n)) != CF_OK)
		return rc;
	return cf_packer_store_full(p, 0);
}

cf_status
cf_packer_flush_lane(struct cf_packer *p, unsigned lane)
{
	cf_status rc;

	if (lane >= p->nlanes)
		return cf_error_set(CF_ERR_INVALID, "no packer lane %u", lane);
	if ((rc = store_pack(p, &p->lanes[lane], 0)) != CF_OK)
		return rc;
	return store_pack(p, &p->lanes[lane], 1);
}

cf_status
cf_packer_new(struct cf_repo *r, unsigned lanes, int index_files,
    cf_packer_pack_fn on_pack, void *arg, struct cf_packer **out)
{
	struct cf_packer *p;
	uint64_t reserve;

	*out = NULL;
	if (lanes == 0)
		lanes = 1;
	if (lanes > 4 * THREADS_MAX)
		lanes = 4 * THREADS_MAX;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((p->lanes = calloc(lanes, sizeof(*p->lanes))) == NULL) {
		free(p);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	p->r = r;
	p->nlanes = lanes;
	p->index_files = index_files;
	p->on_pack = on_pack;
	p->arg = arg;
	pthread_mutex_init(&p->mu, NULL);
	for (size_t i = 0; i < lanes; i++)
		cf_buf_init(&p->lanes[i].ibuf, CF_INDEX_FILE_MAX);
	/*
	 * A pack holds at most the target plus one chunk (its compression
	 * bound while it is compressed in place), then the header and the
	 * padding.  Address space only: pages are touched as it fills.
	 */
	reserve = (uint64_t)r->cfg.pack_target +
	    ZSTD_COMPRESSBOUND((uint64_t)r->cfg.chunker.max) + 1 +
	    CF_AEAD_OVERHEAD + CF_AEAD_OVERHEAD + 8 +
	    (uint64_t)ENTRIES_RESERVED * CF_PACK_ENTRY_BYTES;
	reserve = cf_padme(reserve);
	p->reserve = reserve > CF_PACK_MAX ? CF_PACK_MAX : (size_t)reserve;
	*out = p;
	return CF_OK;
}

cf_status
cf_packer_finish(struct cf_packer *p, uint64_t *bytes_stored)
{
	uint64_t total = 0;
	cf_status rc = CF_OK;

	for (size_t i = 0; i < p->nlanes && rc == CF_OK; i++)
		rc = cf_packer_flush_lane(p, (unsigned)i);
	for (size_t i = 0; i < p->nlanes; i++)
		total += p->lanes[i].bytes_stored;
	if (bytes_stored != NULL)
		*bytes_stored = total;
	return rc;
}

void
cf_packer_free(struct cf_packer *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nlanes; i++) {
		cf_pack_writer_free(p->lanes[i].pw[0]);
		cf_pack_writer_free(p->lanes[i].pw[1]);
		cf_buf_free(&p->lanes[i].ibuf);
	}
	free(p->lanes);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
