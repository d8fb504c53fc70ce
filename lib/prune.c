/*
 * prune.c: remove data that no snapshot references (see repo.h).
 *
 * Under an exclusive lock: find every blob the snapshots reference; packs
 * with none are deleted, packs with some are repacked when more than a fifth
 * of their bytes are unused.  The order of writes is what makes a kill at
 * any moment safe: new packs, then one new index naming every kept blob,
 * then the old index files are deleted, and only then the packs that the
 * new index no longer names.  Killed before the new index: the new packs are
 * unindexed garbage.  Killed after: the old and new indexes agree on every
 * pack still present.
 */
#include "repo_internal.h"
#include "packer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEEP = 0, DROP, REPACK };

struct prune {
	struct cf_repo *r;
	struct cf_prune_stats *st;
	struct cf_index *used;          /* set of referenced blob ids */
	struct cf_lock *lock;           /* refreshed during long work */
	struct cf_index *newidx;
	uint64_t *used_bytes, *total_bytes;
	uint32_t *used_count;
	uint8_t *fate;
	size_t np;
	struct cf_packer *packer;
	struct cf_buf buf;
	uint8_t (*orphans)[CF_HASH_BYTES];
	size_t norphans;
};

static cf_status
mark_tree(struct prune *p, const uint8_t id[CF_HASH_BYTES], int depth)
{
	struct cf_index_loc loc;
	struct cf_tree t;
	cf_status rc;

	if (cf_index_lookup(p->used, id, &loc))
		return CF_OK;
	if ((rc = cf_lock_refresh(p->lock)) != CF_OK)
		return rc;
	if (depth > 256)
		return cf_error_set(CF_ERR_CORRUPT, "directory tree too deep");
	if ((rc = repo_idset_add(p->used, id, CF_BLOB_TREE)) != CF_OK ||
	    (rc = cf_repo_read_tree(p->r, id, &t)) != CF_OK)
		return rc;
	for (size_t i = 0; i < t.count && rc == CF_OK; i++) {
		const struct cf_node *n = &t.nodes[i];
		if (n->kind == CF_NODE_DIR)
			rc = mark_tree(p, n->subtree, depth + 1);
		else if (n->kind == CF_NODE_FILE)
			for (uint32_t k = 0; k < n->nchunks && rc == CF_OK; k++)
				rc = repo_idset_add(p->used, n->chunks[k],
				    CF_BLOB_DATA);
	}
	cf_tree_free(&t);
	return rc;
}

static cf_status
require_indexed(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc)
{
	struct cf_repo *r = arg;
	char hex[CF_HASH_BYTES * 2 + 1];

	(void)loc;
	if (repo_idset_has(r->idx, id))
		return CF_OK;
	cf_hex_encode(hex, id, CF_HASH_BYTES);
	return cf_error_set(CF_ERR_CORRUPT, "blob %.16s used by a snapshot is "
	    "in no pack of the repository (run `coffre check --read-data`)",
	    hex);
}

static cf_status
tally(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc)
{
	struct prune *p = arg;
	struct cf_index_loc u;

	p->total_bytes[loc->pack] += loc->length;
	if (cf_index_lookup(p->used, id, &u)) {
		p->used_bytes[loc->pack] += loc->length;
		p->used_count[loc->pack]++;
	}
	return CF_OK;
}

/* ---- writing ---- */

/* The packer stored a repacked pack: index it in the new index. */
static cf_status
index_new_pack(void *arg, const uint8_t pack_id[CF_HASH_BYTES],
    const struct cf_pack_entry *entries, size_t count)
{
	struct prune *p = arg;
	uint32_t no;
	cf_status rc;

	if ((rc = cf_index_add_pack(p->newidx, pack_id, &no)) != CF_OK)
		return rc;
	for (size_t i = 0; i < count && rc == CF_OK; i++)
		rc = cf_index_add(p->newidx, no, &entries[i]);
	return rc;
}

static cf_status
carry(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc)
{
	struct prune *p = arg;
	struct cf_index_loc u;
	struct cf_pack_entry e;
	uint32_t no;
	cf_status rc;

	if (p->fate[loc->pack] == KEEP) {
		/* Kept as is: index it under its pack. */
		if ((rc = cf_index_add_pack(p->newidx,
		    cf_index_pack_id(p->r->idx, loc->pack), &no)) != CF_OK)
			return rc;
		e.type = loc->type;
		memcpy(e.id, id, CF_HASH_BYTES);
		e.offset = loc->offset;
		e.length = loc->length;
		e.raw_length = loc->raw_length;
		return cf_index_add(p->newidx, no, &e);
	}
	if (p->fate[loc->pack] != REPACK || !cf_index_lookup(p->used, id, &u))
		return CF_OK;
	if ((rc = cf_lock_refresh(p->lock)) != CF_OK)
		return rc;
	if ((rc = cf_repo_read_blob(p->r, id, loc->type, &p->buf)) != CF_OK)
		return rc;
	return cf_packer_add(p->packer, loc->type, id, p->buf.p, p->buf.len);
}

static int
keep_all(void *arg, uint32_t pack_no)
{
	(void)arg;
	(void)pack_no;
	return 1;
}

static cf_status
delete_pack(struct prune *p, const uint8_t id[CF_HASH_BYTES], uint64_t size)
{
	char name[CF_OBJECT_NAME_MAX];
	cf_status rc;

	cf_pack_object_name(name, id);
	rc = cf_backend_del(p->r->be, name);
	if (rc != CF_OK && rc != CF_ERR_NOTFOUND)
		return rc;
	p->st->packs_deleted++;
	p->st->bytes_deleted += size;
	return CF_OK;
}

static cf_status
rewrite(struct prune *p)
{
	struct cf_buf ib;
	cf_status rc;

	/* Inline: carry() and index_new_pack() both fill newidx. */
	if ((rc = cf_index_new(&p->newidx)) != CF_OK ||
	    (rc = cf_packer_new(p->r, 0, 0, index_new_pack, p,
	    &p->packer)) != CF_OK)
		return rc;
	if ((rc = cf_index_foreach(p->r->idx, carry, p)) != CF_OK ||
	    (rc = cf_packer_finish(p->packer, NULL)) != CF_OK)
		return rc;
	cf_buf_init(&ib, CF_INDEX_FILE_MAX);
	rc = cf_index_file_encode_filtered(p->r->keys->index_key, p->newidx,
	    keep_all, NULL, &ib);
	if (rc == CF_OK)
		rc = repo_put_named(p->r, "index", ib.p, ib.len, NULL);
	cf_buf_free(&ib);
	if (rc != CF_OK)
		return rc;
	/* The new index is durable: the old ones may go, then the packs. */
	for (size_t i = 0; i < p->r->nindex_names; i++) {
		rc = cf_backend_del(p->r->be, p->r->index_names[i]);
		if (rc != CF_OK && rc != CF_ERR_NOTFOUND)
			return rc;
		p->st->index_files_replaced++;
	}
	for (size_t i = 0; i < p->np; i++)
		if (p->fate[i] != KEEP && (rc = delete_pack(p,
		    cf_index_pack_id(p->r->idx, (uint32_t)i),
		    p->total_bytes[i])) != CF_OK)
			return rc;
	for (size_t i = 0; i < p->norphans; i++)
		if ((rc = delete_pack(p, p->orphans[i], 0)) != CF_OK)
			return rc;
	return CF_OK;
}

cf_status
cf_prune_run(struct cf_repo *r, int dry_run, struct cf_prune_stats *stats)
{
	struct prune p;
	struct cf_lock *lock = NULL;
	struct cf_snapshot *snaps = NULL;
	size_t nsnaps = 0;
	int changes = 0;
	cf_status rc;

	memset(stats, 0, sizeof(*stats));
	if ((rc = cf_repo_require_read(r, "prune")) != CF_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p.r = r;
	p.st = stats;
	cf_buf_init(&p.buf, CF_BLOB_MAX);
	if ((rc = cf_lock_acquire(r, 1, &lock)) != CF_OK)
		goto out;
	p.lock = lock;
	/* Read the index afresh, now that nobody else writes. */
	repo_drop_index(r);
	/* Packs a killed run left unindexed may hold data snapshots use:
	 * index them, then read the index again with that file in it. */
	if ((rc = cf_repo_load_index(r, NULL)) != CF_OK ||
	    (rc = repo_adopt_unindexed(r, r->idx)) != CF_OK)
		goto out;
	repo_drop_index(r);
	if ((rc = cf_repo_load_index(r, NULL)) != CF_OK ||
	    (rc = repo_idset_new(&p.used)) != CF_OK ||
	    (rc = cf_repo_snapshots(r, &snaps, &nsnaps)) != CF_OK)
		goto out;
	for (size_t i = 0; i < nsnaps; i++)
		if ((rc = mark_tree(&p, snaps[i].tree, 0)) != CF_OK) {
			cf_error_prefix("prune stops, nothing was deleted: "
			    "snapshot data cannot be read (run `coffre check "
			    "--read-data`): ");
			goto out;
		}
	/* Never delete anything while some used data is nowhere to be found:
	 * the repository needs repair, not pruning. */
	if ((rc = cf_index_foreach(p.used, require_indexed, r)) != CF_OK) {
		cf_error_prefix("prune stops, nothing was deleted: ");
		goto out;
	}
	p.np = cf_index_pack_count(r->idx);
	if ((p.used_bytes = calloc(p.np + 1, sizeof(uint64_t))) == NULL ||
	    (p.total_bytes = calloc(p.np + 1, sizeof(uint64_t))) == NULL ||
	    (p.used_count = calloc(p.np + 1, sizeof(uint32_t))) == NULL ||
	    (p.fate = calloc(p.np + 1, 1)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = cf_index_foreach(r->idx, tally, &p)) != CF_OK ||
	    (rc = repo_unindexed_packs(r, r->idx, &p.orphans, &p.norphans)) !=
	    CF_OK)
		goto out;
	for (size_t i = 0; i < p.np; i++) {
		uint64_t unused = p.total_bytes[i] - p.used_bytes[i];
		if (p.used_count[i] == 0) {
			p.fate[i] = DROP;
			changes = 1;
		} else if (unused * 5 > p.total_bytes[i]) {
			p.fate[i] = REPACK;
			stats->packs_repacked++;
			changes = 1;
		} else {
			stats->blobs_kept += p.used_count[i];
		}
	}
	if (dry_run) {
		for (size_t i = 0; i < p.np; i++)
			if (p.fate[i] == DROP) {
				stats->packs_deleted++;
				stats->bytes_deleted += p.total_bytes[i];
			}
		stats->packs_deleted += p.norphans;
		goto out;
	}
	/* Someone may have taken our lock for stale: look before deleting. */
	if ((rc = cf_lock_verify(lock)) != CF_OK)
		goto out;
	if (changes || p.norphans > 0 || r->nindex_names > 1)
		rc = rewrite(&p);
	/* The in-memory index no longer matches the repository. */
	repo_drop_index(r);
out:
	cf_snapshot_list_free(snaps, nsnaps);
	cf_index_free(p.used);
	cf_index_free(p.newidx);
	cf_packer_free(p.packer);
	free(p.used_bytes);
	free(p.total_bytes);
	free(p.used_count);
	free(p.fate);
	free(p.orphans);
	cf_buf_free(&p.buf);
	cf_lock_release(lock);
	return rc;
}
