/*
 * check.c: verify a repository (see repo.h).
 *
 * Structure: the envelopes, every index file (name = hash, authenticates),
 * every indexed pack present, every snapshot (name = hash, opens, signature),
 * every tree reachable from a snapshot (decrypts, id verifies), every data
 * blob a tree names present in the index.  With read_data, every pack is
 * read whole: its name must be the hash of its bytes, its header must
 * authenticate and agree with the index, and every blob must decrypt and
 * match its id.  Problems are reported and counted; the check goes on.
 */
#include "repo_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "packer.h"

struct check {
	struct cf_repo *r;
	cf_problem_fn problem;
	cf_progress_fn progress_fn;
	void *arg;
	struct cf_check_stats *st;
	struct cf_index *idx;
	struct cf_index *seen_trees;    /* set of tree ids already checked */
	struct cf_index *present;       /* set of pack ids found in data/ */
	struct cf_buf buf;
	struct cf_progress prog;
	struct timespec tprog;
	struct cf_lock *lock;           /* refreshed during long work */
};

static void problem(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct check *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->st->problems++;
	if (c->problem != NULL)
		c->problem(c->arg, msg);
}

static void
progress(struct check *c, int force)
{
	if (c->progress_fn == NULL)
		return;
	if (!force && repo_elapsed(&c->tprog) < 0.25)
		return;
	clock_gettime(CLOCK_MONOTONIC, &c->tprog);
	c->progress_fn(c->arg, &c->prog);
}

/* ---- envelopes ---- */

static cf_status
check_members(struct check *c)
{
	struct cf_member *list;
	size_t n;
	char pub[CF_PUBID_LEN + 1];
	cf_status rc;

	if ((rc = cf_repo_members(c->r, &list, &n)) != CF_OK) {
		problem(c, "member envelopes: %s", cf_error_message());
		return CF_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (list[i].verified == 0) {
			cf_pubid_encode(list[i].info.member, pub);
			problem(c, "member envelope of %s was not made by a "
			    "member of this repository", pub);
		}
	free(list);
	return CF_OK;
}

/* ---- index and packs ---- */

static cf_status
index_one(void *arg, const char *name)
{
	struct check *c = arg;

	if (repo_get_verified(c->r, name, CF_INDEX_FILE_MAX, &c->buf) != CF_OK ||
	    cf_index_file_decode(c->r->keys->index_key, c->buf.p, c->buf.len,
	    c->idx) != CF_OK)
		problem(c, "index %s: %s", name, cf_error_message());
	return CF_OK;
}

static cf_status
pack_present(void *arg, const char *name)
{
	struct check *c = arg;
	uint8_t id[CF_HASH_BYTES];

	if (!repo_parse_object_name(name, "data", id)) {
		problem(c, "%s: not a valid pack name", name);
		return CF_OK;
	}
	return repo_idset_add(c->present, id, CF_BLOB_DATA);
}

/* Largest end offset of an indexed blob, per pack: a pack must reach it. */
struct pack_ends {
	uint64_t *end;
	size_t n;
};

static cf_status
note_end(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc)
{
	struct pack_ends *pe = arg;
	uint64_t e = (uint64_t)loc->offset + loc->length;

	(void)id;
	if (loc->pack < pe->n && e > pe->end[loc->pack])
		pe->end[loc->pack] = e;
	return CF_OK;
}

static cf_status
check_packs_present(struct check *c)
{
	struct pack_ends pe;
	size_t np = cf_index_pack_count(c->idx);
	char name[CF_OBJECT_NAME_MAX];
	cf_status rc;

	if ((rc = cf_backend_list(c->r->be, "data", pack_present, c)) != CF_OK)
		return rc;
	pe.n = np;
	if ((pe.end = calloc(np ? np : 1, sizeof(*pe.end))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	cf_index_foreach(c->idx, note_end, &pe);
	for (size_t i = 0; i < np; i++) {
		const uint8_t *id = cf_index_pack_id(c->idx, (uint32_t)i);
		uint64_t size;

		c->st->packs++;
		cf_pack_object_name(name, id);
		if (!repo_idset_has(c->present, id)) {
			problem(c, "pack %s is missing", name);
			continue;
		}
		if (cf_backend_stat(c->r->be, name, &size) != CF_OK) {
			problem(c, "pack %s: %s", name, cf_error_message());
			continue;
		}
		if (size < pe.end[i] + 4)
			problem(c, "pack %s is truncated (%llu bytes, blobs "
			    "reach %llu)", name, (unsigned long long)size,
			    (unsigned long long)pe.end[i]);
	}
	free(pe.end);
	return CF_OK;
}

/* ---- snapshots and trees ---- */

static cf_status
check_tree(struct check *c, const uint8_t id[CF_HASH_BYTES], int depth)
{
	struct cf_tree t;
	struct cf_index_loc loc;
	char hex[CF_HASH_BYTES * 2 + 1];
	cf_status rc;

	if (repo_idset_has(c->seen_trees, id))
		return CF_OK;
	if ((rc = repo_idset_add(c->seen_trees, id, CF_BLOB_TREE)) != CF_OK)
		return rc;
	cf_hex_encode(hex, id, CF_HASH_BYTES);
	if (depth > 256) {
		problem(c, "tree %.16s: nested too deep", hex);
		return CF_OK;
	}
	if (cf_repo_read_tree(c->r, id, &t) != CF_OK) {
		problem(c, "tree %.16s: %s", hex, cf_error_message());
		return CF_OK;
	}
	c->st->trees++;
	for (size_t i = 0; i < t.count; i++) {
		const struct cf_node *n = &t.nodes[i];

		if (n->kind == CF_NODE_DIR) {
			if ((rc = check_tree(c, n->subtree, depth + 1)) != CF_OK)
				break;
		} else if (n->kind == CF_NODE_FILE) {
			for (uint32_t k = 0; k < n->nchunks; k++) {
				if (cf_index_lookup(c->idx, n->chunks[k], &loc) &&
				    loc.type == CF_BLOB_DATA)
					continue;
				cf_hex_encode(hex, n->chunks[k], CF_HASH_BYTES);
				problem(c, "file %s: data blob %.16s is missing",
				    n->name, hex);
			}
		}
	}
	cf_tree_free(&t);
	return rc;
}

static cf_status
snapshot_one(void *arg, const char *name)
{
	struct check *c = arg;
	struct cf_snapshot s;

	c->st->snapshots++;
	if (repo_get_verified(c->r, name, CF_SNAPSHOT_MAX, &c->buf) != CF_OK) {
		problem(c, "%s", cf_error_message());
		return CF_OK;
	}
	if (cf_snapshot_decode(c->buf.p, c->buf.len, c->r->keys->repo_pk,
	    c->r->keys->repo_sk, &s) != CF_OK) {
		problem(c, "snapshot %s: %s", name + 10, cf_error_message());
		return CF_OK;
	}
	/* The author may be a member removed since: not a problem.  A snapshot
	 * forged by a host fails the tree and blob id checks below, since the
	 * id key is only a member's, and `snapshots` shows non-members. */
	cf_status rc = check_tree(c, s.tree, 0);
	cf_snapshot_free(&s);
	c->prog.files_done++;
	progress(c, 0);
	return rc;
}

/* ---- reading every pack, on all cores ---- */

/*
 * Each pack is read by one worker in segments of about SEGMENT_BYTES,
 * cut at blob boundaries: its unkeyed hash (its name) is computed as the
 * segments go by, and every blob in a segment is decrypted in place and
 * verified against its id.  Problems are kept per pack and reported by the
 * caller's thread in pack order, so the output does not depend on the
 * threads.  Memory per worker: one segment (or one blob, if larger), the
 * pack's header, a blob reader.
 */
#define SEGMENT_BYTES (4u * 1024 * 1024)
#define TAIL_GUESS (64u * 1024)
#define AHEAD 2                 /* packs in flight per worker */
#define WORKERS_MAX 64

struct presult {
	char **msgs;            /* problems, in the order met */
	size_t n, cap;
	uint64_t blobs, bytes;
	int done;               /* under mu */
};

struct readall;

struct pworker {
	struct check *c;
	struct readall *ra;
	pthread_t thread;
	int running;
	struct cf_buf buf, tail;
	struct cf_blob_reader *br;
	uint8_t *key;           /* guarded */
};

struct readall {
	struct check *c;
	size_t np;
	size_t *counts;         /* blobs the index places in each pack */
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	size_t next, limit;     /* next pack to take; packs allowed so far */
	struct presult *res;    /* ring of nres results, pack i at i % nres */
	size_t nres;
	struct pworker *w;
	size_t nw;
};

static void pnote(struct presult *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* pnote(res, fmt, ...): note a problem of this pack. */
static void
pnote(struct presult *res, const char *fmt, ...)
{
	char msg[1024], **m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (res->n == res->cap) {
		size_t cap = res->cap ? 2 * res->cap : 8;
		if ((m = realloc(res->msgs, cap * sizeof(*m))) == NULL)
			return;
		res->msgs = m;
		res->cap = cap;
	}
	if ((res->msgs[res->n] = strdup(msg)) != NULL)
		res->n++;
}

/* presult_clear(res): forget the problems and counts (not `done`). */
static void
presult_clear(struct presult *res)
{
	for (size_t i = 0; i < res->n; i++)
		free(res->msgs[i]);
	res->n = 0;
	res->blobs = res->bytes = 0;
}

/* hash_whole(c, w, name, size, got): the pack's hash, read in segments. */
static cf_status
hash_whole(struct check *c, struct pworker *w, const char *name,
    uint64_t size, uint8_t got[CF_HASH_BYTES])
{
	struct cf_name_hasher st;
	uint64_t off = 0;
	cf_status rc;

	cf_name_hash_init(&st);
	while (off < size) {
		uint64_t n = size - off < SEGMENT_BYTES ? size - off :
		    SEGMENT_BYTES;
		cf_buf_reset(&w->buf);
		if ((rc = cf_backend_get(c->r->be, name, off, n, &w->buf)) !=
		    CF_OK)
			return rc;
		if (w->buf.len == 0)
			break;
		cf_name_hash_update(&st, w->buf.p, w->buf.len);
		off += w->buf.len;
	}
	cf_name_hash_final(&st, got);
	return CF_OK;
}

static int
offset_cmp(const void *a, const void *b)
{
	const struct cf_pack_entry *x = a, *y = b;

	return (x->offset > y->offset) - (x->offset < y->offset);
}

/*
 * read_tail(c, w, name, size, entries, count, hoff): the pack's header,
 * parsed from its tail; *hoff where the header starts.
 */
static cf_status
read_tail(struct check *c, struct pworker *w, const char *name,
    uint64_t size, struct cf_pack_entry **entries, size_t *count,
    uint64_t *hoff)
{
	uint64_t n = size < TAIL_GUESS ? size : TAIL_GUESS, need;
	cf_status rc;

	cf_buf_reset(&w->tail);
	if ((rc = cf_backend_get(c->r->be, name, size - n, n, &w->tail)) !=
	    CF_OK)
		return rc;
	if (w->tail.len != n || n < 4)
		return cf_error_set(CF_ERR_CORRUPT, "pack is truncated");
	need = (uint64_t)cf_pack_header_length(w->tail.p + n - 4) + 4;
	if (need > n && need <= size) {
		cf_buf_reset(&w->tail);
		if ((rc = cf_backend_get(c->r->be, name, size - need, need,
		    &w->tail)) != CF_OK)
			return rc;
		if (w->tail.len != need)
			return cf_error_set(CF_ERR_CORRUPT,
			    "pack is truncated");
	}
	if ((rc = cf_pack_parse_tail(w->tail.p, w->tail.len, size,
	    c->r->keys->index_key, entries, count)) != CF_OK)
		return rc;
	*hoff = size - 4 - cf_pack_header_length(w->tail.p + w->tail.len - 4);
	return CF_OK;
}

/*
 * check_pack(ra, w, no, res): verify pack ${no} whole: its name, its
 * header, every blob, and that the index agrees with it.
 */
static void
check_pack(struct readall *ra, struct pworker *w, uint32_t no,
    struct presult *res)
{
	struct check *c = ra->c;
	const uint8_t *id = cf_index_pack_id(c->idx, no);
	uint8_t got[CF_HASH_BYTES];
	char name[CF_OBJECT_NAME_MAX], why[512];
	struct cf_pack_entry *e = NULL;
	struct cf_name_hasher st;
	struct cf_index_loc loc;
	uint64_t size, hoff = 0;
	size_t count = 0, indexed = 0;
	int bad;

	cf_pack_object_name(name, id);
	if (!repo_idset_has(c->present, id))
		return;         /* already reported missing */
	if (cf_backend_stat(c->r->be, name, &size) != CF_OK) {
		pnote(res, "pack %s: %s", name, cf_error_message());
		return;
	}
	res->bytes = size;
	if (size > CF_PACK_MAX) {
		pnote(res, "pack %s is larger (%llu bytes) than any coffre "
		    "writes", name, (unsigned long long)size);
		return;
	}
	cf_buf_reset(&w->buf);
	bad = cf_backend_get(c->r->be, name, 0, CF_PACK_HEAD_BYTES, &w->buf) !=
	    CF_OK ||
	    cf_pack_open_key(w->buf.p, w->buf.len, c->r->keys->repo_pk,
	    c->r->keys->repo_sk, w->key) != CF_OK ||
	    read_tail(c, w, name, size, &e, &count, &hoff) != CF_OK;
	if (bad) {
		/* Say first whether the pack is the one its name promises. */
		snprintf(why, sizeof(why), "%s", cf_error_message());
		if (hash_whole(c, w, name, size, got) == CF_OK &&
		    sodium_memcmp(got, id, CF_HASH_BYTES) == 0)
			pnote(res, "pack %s: %s", name, why);
		else
			pnote(res, "pack %s does not match its name (damaged "
			    "or replaced)", name);
		free(e);
		return;
	}
	qsort(e, count, sizeof(*e), offset_cmp);
	cf_name_hash_init(&st);
	cf_name_hash_update(&st, w->buf.p, CF_PACK_HEAD_BYTES);
	/* The blobs fill [96, hoff) back to back (cf_pack_parse_tail). */
	for (size_t i = 0; i < count; ) {
		uint64_t start = e[i].offset, end = start + e[i].length;
		size_t j = i + 1;

		while (j < count && (uint64_t)e[j].offset + e[j].length -
		    start <= SEGMENT_BYTES) {
			end = (uint64_t)e[j].offset + e[j].length;
			j++;
		}
		cf_buf_reset(&w->buf);
		if (cf_backend_get(c->r->be, name, start, end - start,
		    &w->buf) != CF_OK || w->buf.len != end - start) {
			pnote(res, "pack %s: %s", name, w->buf.len !=
			    end - start ? "pack is truncated" :
			    cf_error_message());
			break;
		}
		/* Hashed as stored, before it is decrypted in place. */
		cf_name_hash_update(&st, w->buf.p, w->buf.len);
		for (; i < j; i++) {
			char hex[CF_HASH_BYTES * 2 + 1];
			const uint8_t *data;

			res->blobs++;
			cf_hex_encode(hex, e[i].id, CF_HASH_BYTES);
			if (cf_blob_open(w->br, w->key, c->r->keys->id_key,
			    &e[i], w->buf.p + (e[i].offset - start), &data) !=
			    CF_OK)
				pnote(res, "pack %s, blob %.16s: %s", name, hex,
				    cf_error_message());
			if (cf_index_lookup(c->idx, e[i].id, &loc) &&
			    loc.pack == no) {
				indexed++;
				if (loc.offset != e[i].offset ||
				    loc.length != e[i].length ||
				    loc.raw_length != e[i].raw_length ||
				    loc.type != e[i].type)
					pnote(res, "pack %s, blob %.16s: the "
					    "index disagrees with the pack",
					    name, hex);
			}
		}
	}
	cf_name_hash_update(&st, w->tail.p + w->tail.len -
	    (size - hoff), (size_t)(size - hoff));
	cf_name_hash_final(&st, got);
	free(e);
	if (sodium_memcmp(got, id, CF_HASH_BYTES) != 0) {
		/* Nothing else matters about a pack that is not itself. */
		presult_clear(res);
		res->bytes = size;
		pnote(res, "pack %s does not match its name (damaged or "
		    "replaced)", name);
		return;
	}
	if (ra->counts[no] != indexed)
		pnote(res, "pack %s: %zu blobs indexed in it are not in its "
		    "header", name, ra->counts[no] - indexed);
}

/* count_pack_blobs: how many indexed blobs each pack holds, in one pass. */
static cf_status
count_pack_blobs(void *arg, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc)
{
	size_t *counts = arg;

	(void)id;
	counts[loc->pack]++;
	return CF_OK;
}

static void *
pworker_main(void *arg)
{
	struct pworker *w = arg;
	struct readall *ra = w->ra;
	size_t no;

	pthread_mutex_lock(&ra->mu);
	for (;;) {
		while (ra->next < ra->np && ra->next >= ra->limit)
			pthread_cond_wait(&ra->cv_work, &ra->mu);
		if (ra->next >= ra->np)
			break;
		no = ra->next++;
		pthread_mutex_unlock(&ra->mu);
		check_pack(ra, w, (uint32_t)no, &ra->res[no % ra->nres]);
		pthread_mutex_lock(&ra->mu);
		ra->res[no % ra->nres].done = 1;
		pthread_cond_broadcast(&ra->cv_done);
	}
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

static cf_status
pworker_init(struct pworker *w, struct check *c)
{
	w->c = c;
	cf_buf_init(&w->buf, CF_PACK_MAX);
	cf_buf_init(&w->tail, CF_PACK_MAX);
	if ((w->key = sodium_malloc(CF_KEY_BYTES)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	return cf_blob_reader_new(&w->br);
}

static void
pworker_free(struct pworker *w)
{
	cf_buf_free(&w->buf);
	cf_buf_free(&w->tail);
	cf_blob_reader_free(w->br);
	if (w->key != NULL)
		sodium_free(w->key);
}

/* report(c, res): the problems of one pack, in the caller's thread. */
static void
report(struct check *c, struct presult *res)
{
	for (size_t i = 0; i < res->n; i++)
		problem(c, "%s", res->msgs[i]);
	c->st->blobs += res->blobs;
	c->prog.bytes_done += res->bytes;
	c->prog.files_done++;
	(void)cf_lock_refresh(c->lock);
	progress(c, 0);
	presult_clear(res);
	/* No worker has this slot until the caller raises the limit. */
	res->done = 0;
}

static cf_status
read_all_packs(struct check *c, unsigned threads)
{
	struct readall ra;
	struct pworker one;
	cf_status rc = CF_OK;

	memset(&ra, 0, sizeof(ra));
	memset(&one, 0, sizeof(one));
	ra.c = c;
	ra.np = cf_index_pack_count(c->idx);
	if (threads > WORKERS_MAX)
		threads = WORKERS_MAX;
	pthread_mutex_init(&ra.mu, NULL);
	pthread_cond_init(&ra.cv_work, NULL);
	pthread_cond_init(&ra.cv_done, NULL);
	ra.nres = threads ? AHEAD * (size_t)threads : 1;
	if ((ra.counts = calloc(ra.np + 1, sizeof(*ra.counts))) == NULL ||
	    (ra.res = calloc(ra.nres, sizeof(*ra.res))) == NULL ||
	    (threads > 0 && (ra.w = calloc(threads, sizeof(*ra.w))) == NULL)) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto out;
	}
	cf_index_foreach(c->idx, count_pack_blobs, ra.counts);
	c->prog.files_done = 0;
	c->prog.files_total = ra.np;
	if (threads == 0) {
		if ((rc = pworker_init(&one, c)) != CF_OK)
			goto out;
		for (size_t i = 0; i < ra.np; i++) {
			check_pack(&ra, &one, (uint32_t)i, &ra.res[0]);
			report(c, &ra.res[0]);
		}
		goto out;
	}
	ra.limit = ra.nres;
	for (size_t i = 0; i < threads; i++) {
		if ((rc = pworker_init(&ra.w[i], c)) != CF_OK)
			goto out;
		ra.w[i].ra = &ra;
		if (pthread_create(&ra.w[i].thread, NULL, pworker_main,
		    &ra.w[i]) != 0) {
			rc = cf_error_set(CF_ERR_NOMEM,
			    "cannot start a worker thread");
			goto out;
		}
		ra.w[i].running = 1;
		ra.nw = i + 1;
	}
	for (size_t i = 0; i < ra.np; i++) {
		struct presult *res = &ra.res[i % ra.nres];

		pthread_mutex_lock(&ra.mu);
		while (!res->done)
			pthread_cond_wait(&ra.cv_done, &ra.mu);
		pthread_mutex_unlock(&ra.mu);
		report(c, res);
		pthread_mutex_lock(&ra.mu);
		ra.limit = i + 1 + ra.nres;
		pthread_cond_broadcast(&ra.cv_work);
		pthread_mutex_unlock(&ra.mu);
	}
out:
	/* On an early exit, let the workers run out of packs and stop. */
	pthread_mutex_lock(&ra.mu);
	ra.np = ra.next;
	pthread_cond_broadcast(&ra.cv_work);
	pthread_mutex_unlock(&ra.mu);
	for (size_t i = 0; i < threads && ra.w != NULL; i++) {
		if (ra.w[i].running)
			pthread_join(ra.w[i].thread, NULL);
		pworker_free(&ra.w[i]);
	}
	pworker_free(&one);
	for (size_t i = 0; ra.res != NULL && i < ra.nres; i++) {
		presult_clear(&ra.res[i]);
		free(ra.res[i].msgs);
	}
	free(ra.res);
	free(ra.w);
	free(ra.counts);
	pthread_cond_destroy(&ra.cv_work);
	pthread_cond_destroy(&ra.cv_done);
	pthread_mutex_destroy(&ra.mu);
	return rc;
}

cf_status
cf_check_run(struct cf_repo *r, int read_data, int threads,
    cf_problem_fn problem_fn, cf_progress_fn progress_fn, void *arg,
    struct cf_check_stats *stats)
{
	struct check c;
	struct cf_lock *lock = NULL;
	cf_status rc;

	memset(stats, 0, sizeof(*stats));
	if (read_data && (rc = cf_repo_require_read(r,
	    "read and verify stored data")) != CF_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.problem = problem_fn;
	c.progress_fn = progress_fn;
	c.arg = arg;
	c.st = stats;
	clock_gettime(CLOCK_MONOTONIC, &c.tprog);
	cf_buf_init(&c.buf, CF_PACK_MAX);
	if ((rc = cf_lock_acquire(r, 0, &lock)) != CF_OK)
		goto out;
	c.lock = lock;
	if ((rc = cf_index_new(&c.idx)) != CF_OK ||
	    (rc = repo_idset_new(&c.seen_trees)) != CF_OK ||
	    (rc = repo_idset_new(&c.present)) != CF_OK)
		goto out;
	if (r->keys->has_repo_sk && (rc = check_members(&c)) != CF_OK)
		goto out;
	if ((rc = cf_backend_list(r->be, "index", index_one, &c)) != CF_OK ||
	    (rc = check_packs_present(&c)) != CF_OK)
		goto out;
	/* Trees are read through the repository's index: make it this one. */
	repo_drop_index(r);
	r->idx = c.idx;
	if (r->keys->has_repo_sk &&
	    (rc = cf_backend_list(r->be, "snapshots", snapshot_one, &c)) !=
	    CF_OK)
		goto out;
	stats->blobs = cf_index_blob_count(c.idx);
	if (read_data) {
		stats->blobs = 0;
		rc = read_all_packs(&c, threads < 0 ? 0 : threads > 0 ?
		    (unsigned)threads : cf_packer_default_threads());
	}
	progress(&c, 1);
out:
	if (c.idx != r->idx)
		cf_index_free(c.idx);
	cf_index_free(c.seen_trees);
	cf_index_free(c.present);
	cf_buf_free(&c.buf);
	cf_lock_release(lock);
	return rc;
}
