/*
 * backup.c: walk the given paths, chunk, deduplicate, pack, and write a
 * signed snapshot (see repo.h).
 *
 * The pipeline (docs/performance.md):
 *
 *   walker (the caller's thread): walk the tree, read each file into the
 *       arena, a ring of bytes, and cut it into chunks (keyed FastCDC) in
 *       place; each chunk becomes a job in a bounded ring of jobs.
 *   workers (N threads): take the next job, compute its keyed id, and if
 *       neither the index nor this backup has the blob, claim it in the
 *       shared set of blobs this backup stores (so a blob two workers meet
 *       at once is stored once), then compress and encrypt it into the
 *       worker's own pack (a packer lane), storing each full pack and its
 *       index file.
 *   commit (the walker again, in submission order): take the ids of
 *       finished jobs in order, which releases their bytes of the arena;
 *       complete each file node once its ids are known (and record it in
 *       the files cache); encode and store a directory's tree once all of
 *       its entries are complete.  Files and directories wait in a FIFO,
 *       so the walker reads on while ids are being computed.
 *
 * Nothing grows with the data: the arena (3 x the largest chunk plus room
 * per worker), the job ring (JOBS_MAX), the FIFO (ITEMS_MAX), one pack
 * buffer per worker and one for trees, plus the index (tens of bytes per
 * blob) and the directories being walked.  With threads = -1 no thread is
 * started and each job runs when it is submitted: the same stages, in
 * turn (the sequential reference).
 *
 * Every pack is followed by an index file naming its blobs, and the
 * snapshot is written only after every worker has stored its last pack,
 * so a backup killed at any moment leaves packs that the next backup
 * reuses.
 */
#include "repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "chunker.h"
#include "filescache.h"
#include "packer.h"

#define PROGRESS_INTERVAL 0.25
/* Chunk jobs in flight, a power of two (small files are one job each). */
#define JOBS_MAX 1024
/* Files and directories waiting for ids before they can be committed. */
#define ITEMS_MAX 4096
#define WORKERS_MAX 64

struct job {
	size_t off, len;                /* the chunk's bytes in the arena */
	uint8_t id[CF_HASH_BYTES];      /* set by the worker */
	int done;                       /* under mu */
};

/* A directory being built: its tree, and its node in its parent. */
struct ptree {
	struct cf_tree t;
	char *path;                     /* for messages */
	struct ptree *parent;           /* NULL: the snapshot's root */
	struct cf_node node;            /* kind, metadata; name malloc'ed */
	int counted;                    /* counts in stats->dirs */
};

enum { ITEM_FILE, ITEM_DIR };

/* A file or a finished directory, committed in the order walked. */
struct item {
	struct item *next;
	int kind;
	struct ptree *tree;             /* FILE: its directory; DIR: itself */
	struct cf_node node;            /* FILE: name and chunks malloc'ed */
	char *path;                     /* FILE */
	struct stat st;                 /* FILE: as seen before reading */
	uint32_t nchunks, got, cap;     /* FILE: jobs submitted, ids taken */
	int complete;                   /* FILE: every chunk submitted */
	int cached;                     /* FILE: ids from the files cache */
	int changed;                    /* FILE: in the cache, changed */
	int read_errno;                 /* FILE: reading failed: left out */
};

struct backup;

struct worker {
	struct backup *b;
	unsigned lane;
	pthread_t thread;
	int running;
};

struct backup {
	struct cf_repo *r;
	const struct cf_backup_opts *o;
	struct cf_backup_stats *st;
	struct cf_index *idx;           /* read-only while workers run */
	struct cf_chunker *chunker;
	struct cf_packer *data;         /* file chunks: one lane per worker */
	struct cf_packer *trees;        /* directory trees, by the walker */
	struct cf_filescache *fc;
	struct cf_lock *lock;
	size_t maxc;                    /* largest chunk */

	/* The blobs this backup stores, claimed by whoever meets one first. */
	pthread_mutex_t pending_mu;
	struct cf_index *pending;
	uint64_t bytes_added;           /* under pending_mu */

	/* The arena: [rs, re) read but not cut; jobs hold the rest in use. */
	uint8_t *arena;
	size_t cap, rs, re;
	size_t hw;                      /* highest byte of the arena used */

	/* Jobs: submitted > dispatched (workers) > committed (walker). */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;         /* a job was submitted, or stop */
	pthread_cond_t cv_done;         /* a job is done */
	struct job *jobs;
	uint64_t submitted, dispatched, committed;
	int stopping;
	int walker_waits;               /* for cv_done: wake it up */
	cf_status err;                  /* first worker error, under mu */
	char errmsg[1024];
	struct worker *workers;
	size_t nworkers;                /* 0: jobs run inline */

	/* Items in walk order. */
	struct item *head, *tail;
	size_t nitems;
	int have_root;
	uint8_t root[CF_HASH_BYTES];

	struct timespec t0, tprog;
	struct cf_progress prog;
};

static void
progress(struct backup *b, const char *path, int force)
{
	if (b->o->progress == NULL)
		return;
	if (!force && repo_elapsed(&b->tprog) < PROGRESS_INTERVAL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &b->tprog);
	b->prog.current = path;
	b->o->progress(b->o->arg, &b->prog);
}

static void
warn(struct backup *b, const char *path, const char *msg)
{
	b->st->errors++;
	if (b->o->warn != NULL)
		b->o->warn(b->o->arg, path, msg);
}

static int
excluded(const struct backup *b, const char *path, const char *name)
{
	for (size_t i = 0; i < b->o->nexcludes; i++)
		if (fnmatch(b->o->excludes[i], name, 0) == 0 ||
		    fnmatch(b->o->excludes[i], path, 0) == 0)
			return 1;
	return 0;
}

/* ---- blobs ---- */

/*
 * claim(b, id, type, n): 1 if this backup must store the blob ${id} (it is
 * neither in the index nor already claimed), and claim it; 0 if it is
 * stored already; -1 on error.  Safe from any thread.
 */
static int
claim(struct backup *b, const uint8_t id[CF_HASH_BYTES], uint8_t type,
    size_t n)
{
	int mine = 0;

	if (repo_idset_has(b->idx, id))
		return 0;
	pthread_mutex_lock(&b->pending_mu);
	if (!repo_idset_has(b->pending, id)) {
		if (repo_idset_add(b->pending, id, type) != CF_OK) {
			mine = -1;
		} else {
			mine = 1;
			b->bytes_added += n;
		}
	}
	pthread_mutex_unlock(&b->pending_mu);
	return mine;
}

/*
 * run_job(b, j, lane): the worker's part of a chunk: its id, and if this
 * backup is the first to meet it, compress, encrypt and pack it.
 */
static cf_status
run_job(struct backup *b, struct job *j, unsigned lane)
{
	const uint8_t *data = b->arena + j->off;
	int mine;

	cf_blob_id(j->id, b->r->keys->id_key, CF_BLOB_DATA, data, j->len);
	if ((mine = claim(b, j->id, CF_BLOB_DATA, j->len)) < 0)
		return CF_ERR_NOMEM;
	if (mine == 0)
		return CF_OK;
	return cf_packer_add_lane(b->data, lane, CF_BLOB_DATA, j->id, data,
	    j->len);
}

/* record_error(b, rc): keep the first worker error and its message; mu held. */
static void
record_error(struct backup *b, cf_status rc)
{
	if (b->err != CF_OK)
		return;
	b->err = rc;
	snprintf(b->errmsg, sizeof(b->errmsg), "%s", cf_error_message());
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct backup *b = w->b;
	struct job *j;
	cf_status rc;
	int failed;

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->stopping && b->dispatched == b->submitted)
			pthread_cond_wait(&b->cv_work, &b->mu);
		if (b->dispatched == b->submitted)
			break;
		j = &b->jobs[b->dispatched++ % JOBS_MAX];
		failed = b->err != CF_OK;
		pthread_mutex_unlock(&b->mu);

		/* After an error, jobs are only marked done: no one blocks. */
		rc = failed ? CF_OK : run_job(b, j, w->lane);

		pthread_mutex_lock(&b->mu);
		j->done = 1;
		if (rc != CF_OK)
			record_error(b, rc);
		/* A wake-up costs a system call: only when it waits. */
		if (b->walker_waits)
			pthread_cond_signal(&b->cv_done);
		if (rc != CF_OK || failed)
			continue;
		/*
		 * The chunk's bytes are released: store a full pack now, while
		 * the walker and the other workers go on.
		 */
		pthread_mutex_unlock(&b->mu);
		rc = cf_packer_store_full(b->data, w->lane);
		pthread_mutex_lock(&b->mu);
		if (rc != CF_OK)
			record_error(b, rc);
	}
	failed = b->err != CF_OK;
	pthread_mutex_unlock(&b->mu);
	/* The last packs of all workers are stored at once. */
	if (!failed && (rc = cf_packer_flush_lane(b->data, w->lane)) != CF_OK) {
		pthread_mutex_lock(&b->mu);
		record_error(b, rc);
		pthread_mutex_unlock(&b->mu);
	}
	return NULL;
}

/* stop_workers(b): let the workers finish the jobs submitted, and join. */
static void
stop_workers(struct backup *b)
{
	pthread_mutex_lock(&b->mu);
	b->stopping = 1;
	pthread_cond_broadcast(&b->cv_work);
	pthread_mutex_unlock(&b->mu);
	for (size_t i = 0; i < b->nworkers; i++)
		if (b->workers[i].running) {
			pthread_join(b->workers[i].thread, NULL);
			b->workers[i].running = 0;
		}
}

/* worker_error(b): the first worker error, set again in this thread. */
static cf_status
worker_error(struct backup *b)
{
	cf_status rc;

	pthread_mutex_lock(&b->mu);
	rc = b->err;
	pthread_mutex_unlock(&b->mu);
	if (rc != CF_OK)
		cf_error_set(rc, "%s", b->errmsg);
	return rc;
}

/* ---- commit: files and directories complete, in the order walked ---- */

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	free(it->node.name);
	free(it->node.chunks);
	free(it->path);
	free(it);
}

static void
ptree_free(struct ptree *pt)
{
	if (pt == NULL)
		return;
	cf_tree_free(&pt->t);
	free(pt->node.name);
	free(pt->path);
	free(pt);
}

/* warn_cache(b, msg): the files cache failed; the backup goes on. */
static void
warn_cache(struct backup *b, const char *msg)
{
	if (b->o->warn != NULL)
		b->o->warn(b->o->arg, "files cache", msg);
	cf_error_clear();
}

static void
cache_put(struct backup *b, const char *path, const struct stat *st,
    const uint8_t (*chunks)[CF_HASH_BYTES], uint32_t n)
{
	if (b->fc == NULL || cf_filescache_put(b->fc, path, st, chunks, n) ==
	    CF_OK)
		return;
	warn_cache(b, cf_error_message());
	cf_filescache_close(b->fc);     /* rolled back: nothing half-saved */
	b->fc = NULL;
}

/* finish_file(b, it): the file's ids are all known: add it to its tree. */
static cf_status
finish_file(struct backup *b, struct item *it)
{
	cf_status rc;

	if (it->read_errno != 0) {
		warn(b, it->path, strerror(it->read_errno));
		return CF_OK;
	}
	it->node.nchunks = it->nchunks;
	if (it->cached)
		b->st->files_unchanged++;
	else if (it->changed)
		b->st->files_changed++;
	else
		b->st->files_new++;
	/* Cache what was read, with the metadata seen before reading it: a
	 * change during the read then shows up next time. */
	cache_put(b, it->path, &it->st,
	    (const uint8_t (*)[CF_HASH_BYTES])it->node.chunks, it->nchunks);
	if ((rc = cf_tree_add(&it->tree->t, &it->node)) == CF_ERR_INVALID) {
		warn(b, it->path, cf_error_message());
		rc = CF_OK;
	}
	return rc;
}

/*
 * save_blob(b, type, data, n, id): store a blob (a tree) unless the
 * repository or this backup already has it; its id in ${id}.
 */
static cf_status
save_blob(struct backup *b, uint8_t type, const uint8_t *data, size_t n,
    uint8_t id[CF_HASH_BYTES])
{
	int mine;

	cf_blob_id(id, b->r->keys->id_key, type, data, n);
	if ((mine = claim(b, id, type, n)) < 0)
		return CF_ERR_NOMEM;
	if (mine == 0)
		return CF_OK;
	return cf_packer_add(b->trees, type, id, data, n);
}

/* finish_dir(b, pt): every entry is in: store the tree, add it to its parent. */
static cf_status
finish_dir(struct backup *b, struct ptree *pt)
{
	struct cf_buf buf;
	cf_status rc;

	cf_buf_init(&buf, CF_BLOB_MAX);
	if ((rc = cf_tree_encode(&pt->t, &buf)) == CF_OK)
		rc = save_blob(b, CF_BLOB_TREE, buf.p, buf.len,
		    pt->node.subtree);
	cf_buf_free(&buf);
	if (rc != CF_OK)
		return rc;
	if (pt->counted)
		b->st->dirs++;
	if (pt->parent == NULL) {
		memcpy(b->root, pt->node.subtree, CF_HASH_BYTES);
		b->have_root = 1;
		return CF_OK;
	}
	if ((rc = cf_tree_add(&pt->parent->t, &pt->node)) == CF_ERR_INVALID) {
		warn(b, pt->path, cf_error_message());
		rc = CF_OK;
	}
	return rc;
}

/*
 * take_id(b, it, wait, rc): move the id of the oldest job into ${it},
 * releasing its bytes; with ${wait}, block until it is done.  1 if taken,
 * 0 if not done yet, -1 with *rc set on a worker's error.
 */
static int
take_id(struct backup *b, struct item *it, int wait, cf_status *rc)
{
	struct job *j = &b->jobs[b->committed % JOBS_MAX];
	int done = 1;

	if (b->nworkers > 0) {
		pthread_mutex_lock(&b->mu);
		while (!(done = j->done) && wait) {
			b->walker_waits = 1;
			pthread_cond_wait(&b->cv_done, &b->mu);
			b->walker_waits = 0;
		}
		pthread_mutex_unlock(&b->mu);
	}
	if (!done)
		return 0;
	if ((*rc = worker_error(b)) != CF_OK)
		return -1;
	memcpy(it->node.chunks[it->got++], j->id, CF_HASH_BYTES);
	b->committed++;
	return 1;
}

/*
 * commit(b, wait): complete the items whose ids are known, in order.  With
 * ${wait}, first block until the oldest job is done, so that its bytes
 * and slot are released.
 */
static cf_status
commit(struct backup *b, int wait)
{
	struct item *it;
	cf_status rc = CF_OK;
	int t;

	while ((it = b->head) != NULL) {
		if (it->kind == ITEM_FILE) {
			while (it->got < it->nchunks) {
				if ((t = take_id(b, it, wait, &rc)) < 0)
					return rc;
				if (t == 0)
					return CF_OK;
				wait = 0;
			}
			if (!it->complete)
				return CF_OK;
			rc = finish_file(b, it);
		} else {
			rc = finish_dir(b, it->tree);
			ptree_free(it->tree);
			it->tree = NULL;
		}
		b->head = it->next;
		if (b->head == NULL)
			b->tail = NULL;
		b->nitems--;
		item_free(it);
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}

/* push(b, it): queue an item for commit, waiting if too many wait. */
static cf_status
push(struct backup *b, struct item *it)
{
	cf_status rc;

	while (b->nitems >= ITEMS_MAX && b->committed < b->submitted)
		if ((rc = commit(b, 1)) != CF_OK) {
			item_free(it);
			return rc;
		}
	it->next = NULL;
	if (b->tail != NULL)
		b->tail->next = it;
	else
		b->head = it;
	b->tail = it;
	b->nitems++;
	return commit(b, 0);
}

/* ---- the walker: reading into the arena and cutting chunks ---- */

/*
 * submit(b, it, len): the next ${len} bytes at b->rs are a chunk of file
 * ${it}: hand it to a worker (or run it now without workers).
 */
static cf_status
submit(struct backup *b, struct item *it, size_t len)
{
	struct job *j;
	cf_status rc;

	/* A slot for the job, and one for its id in the file's list. */
	while (b->submitted - b->committed >= JOBS_MAX)
		if ((rc = commit(b, 1)) != CF_OK)
			return rc;
	if (it->nchunks == it->cap) {
		uint32_t cap = it->cap ? it->cap * 2 : 8;
		void *p;

		if (it->cap > UINT32_MAX / 2 ||
		    (p = realloc(it->node.chunks, (size_t)cap *
		    CF_HASH_BYTES)) == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		it->node.chunks = p;
		it->cap = cap;
	}
	it->nchunks++;
	j = &b->jobs[b->submitted % JOBS_MAX];
	j->off = b->rs;
	j->len = len;
	j->done = 0;
	b->rs += len;
	if (b->nworkers == 0) {
		b->submitted++;
		b->dispatched++;
		if ((rc = run_job(b, j, 0)) != CF_OK)
			return rc;
		j->done = 1;
		return cf_packer_store_full(b->data, 0);
	}
	pthread_mutex_lock(&b->mu);
	b->submitted++;
	pthread_cond_signal(&b->cv_work);
	pthread_mutex_unlock(&b->mu);
	return CF_OK;
}

/*
 * arena_end(b): where the free space after b->re ends: at the oldest job
 * in use if it lies ahead (the ring has wrapped), else at the arena's end.
 */
static size_t
arena_end(const struct backup *b)
{
	size_t t;

	if (b->committed == b->submitted)
		return b->cap;
	t = b->jobs[b->committed % JOBS_MAX].off;
	return t >= b->re ? t : b->cap;
}

/*
 * make_room(b): wait until the largest chunk fits from b->rs, moving the
 * bytes not yet cut to the arena's start when the end is too near.
 */
static cf_status
make_room(struct backup *b)
{
	size_t end;
	cf_status rc;

	for (;;) {
		end = arena_end(b);
		if (b->rs + b->maxc <= end)
			return CF_OK;
		if (end == b->cap && (b->committed == b->submitted ||
		    b->jobs[b->committed % JOBS_MAX].off >= b->maxc)) {
			/* [0, maxc) is free and rs > cap - maxc >= 2 maxc:
			 * the ranges do not overlap. */
			if (b->re > b->rs)
				memcpy(b->arena, b->arena + b->rs,
				    b->re - b->rs);
			b->re -= b->rs;
			b->rs = 0;
			continue;
		}
		if ((rc = commit(b, 1)) != CF_OK)
			return rc;
	}
}

/*
 * read_file(b, it, fd, path): read the file into the arena, cut it and
 * submit its chunks.  A read error is this file's problem only:
 * it->read_errno is set and CF_OK returned.  Any other code is fatal.
 */
static cf_status
read_file(struct backup *b, struct item *it, int fd, const char *path)
{
	size_t want;
	int eof = 0;
	cf_status rc;

	for (;;) {
		while (b->re - b->rs >= b->maxc || (eof && b->re > b->rs)) {
			size_t cut = cf_chunker_cut(b->chunker, b->arena + b->rs,
			    b->re - b->rs);
			if ((rc = submit(b, it, cut)) != CF_OK)
				return rc;
		}
		if (eof)
			return CF_OK;
		if ((rc = make_room(b)) != CF_OK)
			return rc;
		want = b->rs + b->maxc - b->re;
		while (want > 0) {
			ssize_t got = read(fd, b->arena + b->re, want);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				it->read_errno = errno;
				/* What was read is dropped with the file. */
				b->re = b->rs;
				return CF_OK;
			}
			if (got == 0) {
				eof = 1;
				break;
			}
			b->re += (size_t)got;
			if (b->re > b->hw)
				b->hw = b->re;
			want -= (size_t)got;
			it->node.size += (uint64_t)got;
			b->st->bytes_read += (uint64_t)got;
			b->prog.bytes_done += (uint64_t)got;
		}
		progress(b, path, 0);
		/* A large file can take longer than a lock lives. */
		if ((rc = cf_lock_refresh(b->lock)) != CF_OK)
			return rc;
	}
}

static int
chunks_known(struct backup *b, const uint8_t (*chunks)[CF_HASH_BYTES],
    uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!repo_idset_has(b->idx, chunks[i]))
			return 0;
	return 1;
}

static void
node_from_stat(struct cf_node *n, const struct stat *st)
{
	memset(n, 0, sizeof(*n));
	n->mode = st->st_mode & 07777;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->mtime_sec = st->st_mtim.tv_sec;
	n->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	n->inode = st->st_ino;
	n->device = st->st_dev;
	n->nlink = (uint32_t)st->st_nlink;
}

static int
open_for_reading(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);

	if (fd < 0 && errno == EPERM)   /* O_NOATIME needs ownership */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/*
 * save_file(b, path, name, st, pt): queue the file for tree ${pt}: from
 * the files cache if unchanged, else read and chunked.  A file that cannot
 * be opened is warned about and left out.
 */
static cf_status
save_file(struct backup *b, const char *path, const char *name,
    const struct stat *st, struct ptree *pt)
{
	uint8_t (*cached)[CF_HASH_BYTES] = NULL;
	uint32_t ncached = 0;
	struct item *it;
	struct stat fst;
	int hit = 0, fd;
	cf_status rc;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	it->kind = ITEM_FILE;
	it->tree = pt;
	node_from_stat(&it->node, st);
	it->node.kind = CF_NODE_FILE;
	if ((it->node.name = strdup(name)) == NULL ||
	    (it->path = strdup(path)) == NULL) {
		item_free(it);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	if (b->fc != NULL)
		hit = cf_filescache_lookup(b->fc, path, st, &cached, &ncached);
	if (hit == 1 && chunks_known(b, (const uint8_t (*)[32])cached,
	    ncached)) {
		it->node.size = (uint64_t)st->st_size;
		it->node.chunks = cached;
		it->nchunks = it->got = it->cap = ncached;
		it->st = *st;
		it->cached = 1;
		it->complete = 1;
		b->prog.bytes_done += (uint64_t)st->st_size;
		return push(b, it);
	}
	free(cached);
	it->changed = hit == 2;
	if ((fd = open_for_reading(path)) < 0) {
		warn(b, path, strerror(errno));
		item_free(it);
		return CF_OK;
	}
	if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
		close(fd);
		warn(b, path, "changed type while being backed up");
		item_free(it);
		return CF_OK;
	}
	it->st = fst;
	/* Queued first: the commit takes the ids of its chunks as they come. */
	if ((rc = push(b, it)) != CF_OK) {
		close(fd);
		return rc;
	}
	rc = read_file(b, it, fd, path);
	close(fd);
	it->complete = 1;
	if (rc != CF_OK)
		return rc;
	return commit(b, 0);
}

/* ---- directories ---- */

static cf_status save_dir(struct backup *, const char *, const char *,
    const struct stat *, struct ptree *, int);

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p;

	if (dl == 1 && dir[0] == '/')
		dl = 0;
	if ((p = malloc(dl + nl + 2)) == NULL)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

/*
 * ptree_new(parent, path, name, st, out): a directory node to fill, for
 * directory ${name} of ${parent} (NULL: the root).
 */
static cf_status
ptree_new(struct ptree *parent, const char *path, const char *name,
    const struct stat *st, struct ptree **out)
{
	struct ptree *pt;

	if ((pt = calloc(1, sizeof(*pt))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	cf_tree_init(&pt->t);
	pt->parent = parent;
	if (st != NULL)
		node_from_stat(&pt->node, st);
	pt->node.kind = CF_NODE_DIR;
	pt->node.nlink = 0;
	if ((pt->node.name = strdup(name)) == NULL ||
	    (pt->path = strdup(path[0] ? path : "/")) == NULL) {
		ptree_free(pt);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	*out = pt;
	return CF_OK;
}

/* push_dir(b, pt): the directory's entries are all queued: queue it. */
static cf_status
push_dir(struct backup *b, struct ptree *pt)
{
	struct item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		ptree_free(pt);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	it->kind = ITEM_DIR;
	it->tree = pt;
	return push(b, it);
}

/*
 * save_entry(b, path, name, st, pt): add ${path} to directory ${pt}.
 * Something that cannot be read is warned about and left out.
 */
static cf_status
save_entry(struct backup *b, const char *path, const char *name,
    const struct stat *st, struct ptree *pt)
{
	struct cf_node n;
	char target[CF_SYMLINK_MAX + 1];
	ssize_t tl;
	cf_status rc;

	if ((rc = cf_lock_refresh(b->lock)) != CF_OK)
		return rc;
	if (S_ISREG(st->st_mode)) {
		rc = save_file(b, path, name, st, pt);
		b->prog.files_done++;
		progress(b, path, 0);
		return rc;
	}
	if (S_ISDIR(st->st_mode)) {
		rc = save_dir(b, path, name, st, pt, 1);
		return rc == CF_ERR_NOTFOUND ? CF_OK : rc;
	}
	if (!S_ISLNK(st->st_mode))
		return CF_OK;   /* sockets, FIFOs, devices: nothing to back up */
	node_from_stat(&n, st);
	n.kind = CF_NODE_SYMLINK;
	n.name = (char *)(uintptr_t)name;       /* cf_tree_add copies it */
	tl = readlink(path, target, sizeof(target));
	if (tl <= 0 || (size_t)tl >= sizeof(target) ||
	    memchr(target, '\0', (size_t)tl) != NULL) {
		warn(b, path, tl < 0 ? strerror(errno) :
		    "symbolic link target too long");
		return CF_OK;
	}
	target[tl] = '\0';
	n.target = target;
	n.size = (uint64_t)tl;
	if ((rc = cf_tree_add(&pt->t, &n)) == CF_ERR_INVALID) {
		warn(b, path, cf_error_message());
		rc = CF_OK;
	}
	return rc;
}

/*
 * save_dir(b, path, name, st, parent, counted): queue the directory
 * ${path} and everything in it.  CF_ERR_NOTFOUND if it cannot be listed
 * (warned).
 */
static cf_status
save_dir(struct backup *b, const char *path, const char *name,
    const struct stat *st, struct ptree *parent, int counted)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct ptree *pt = NULL;
	cf_status rc = CF_OK;

	if ((d = opendir(path)) == NULL) {
		warn(b, path, strerror(errno));
		return CF_ERR_NOTFOUND;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **p;
			cap = cap ? cap * 2 : 32;
			if ((p = realloc(names, cap * sizeof(*p))) == NULL) {
				rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
				break;
			}
			names = p;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	if (rc == CF_OK && (rc = ptree_new(parent, path, name, st, &pt)) == CF_OK)
		pt->counted = counted;
	for (size_t i = 0; i < n && rc == CF_OK; i++) {
		struct stat cst;
		char *child = path_join(path, names[i]);

		if (child == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			break;
		}
		if (excluded(b, child, names[i])) {
			free(child);
			continue;
		}
		if (lstat(child, &cst) != 0)
			warn(b, child, strerror(errno));
		else
			rc = save_entry(b, child, names[i], &cst, pt);
		free(child);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != CF_OK) {
		ptree_free(pt);
		return rc;
	}
	return push_dir(b, pt);
}

/*
 * save_virtual(b, dir, name, st, parent, paths, n): the tree of directory
 * ${dir} ("" for the root) holding only what leads to the ${n} sorted
 * ${paths} below it.
 */
static cf_status
save_virtual(struct backup *b, const char *dir, const char *name,
    const struct stat *st, struct ptree *parent, char *const *paths,
    size_t n)
{
	size_t dl = strlen(dir), i = 0;
	struct ptree *pt;
	cf_status rc;

	if ((rc = ptree_new(parent, dir, name, st, &pt)) != CF_OK)
		return rc;
	while (i < n && rc == CF_OK) {
		const char *rest = paths[i] + dl + 1;
		size_t cl = strcspn(rest, "/"), j = i + 1;
		char *comp, *child;
		struct stat cst;

		while (j < n && strncmp(paths[j] + dl + 1, rest, cl) == 0 &&
		    paths[j][dl + 1 + cl] == '/')
			j++;
		if ((comp = strndup(rest, cl)) == NULL ||
		    (child = path_join(dl ? dir : "/", comp)) == NULL) {
			free(comp);
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			break;
		}
		if (rest[cl] == '\0') {
			/* A path given to back up. */
			if (lstat(child, &cst) != 0)
				warn(b, child, strerror(errno));
			else
				rc = save_entry(b, child, comp, &cst, pt);
		} else if (stat(child, &cst) != 0 || !S_ISDIR(cst.st_mode)) {
			warn(b, child, "not a directory");
		} else {
			/* A directory on the way to paths given. */
			rc = save_virtual(b, child, comp, &cst, pt, paths + i,
			    j - i);
		}
		free(comp);
		free(child);
		i = j;
	}
	if (rc != CF_OK) {
		ptree_free(pt);
		return rc;
	}
	return push_dir(b, pt);
}

/* ---- the optional first pass, for an ETA ---- */

static void
scan(struct backup *b, const char *path, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (depth > 512 || lstat(path, &st) != 0)
		return;
	if (S_ISREG(st.st_mode)) {
		b->prog.files_total++;
		b->prog.bytes_total += (uint64_t)st.st_size;
		return;
	}
	if (!S_ISDIR(st.st_mode) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *child;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((child = path_join(path, de->d_name)) == NULL)
			break;
		if (!excluded(b, child, de->d_name))
			scan(b, child, depth + 1);
		free(child);
	}
	closedir(d);
}

/* ---- the whole run ---- */

static int
path_valid(const char *p)
{
	if (p[0] != '/')
		return 0;
	if (p[1] == '\0')
		return 1;
	if (p[strlen(p) - 1] == '/' || strstr(p, "//") != NULL ||
	    strstr(p, "/./") != NULL || strstr(p, "/../") != NULL)
		return 0;
	if (strlen(p) >= 2 && strcmp(p + strlen(p) - 2, "/.") == 0)
		return 0;
	if (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0)
		return 0;
	return 1;
}

/*
 * normalise_paths(o, out, n): a sorted copy of the paths without duplicates
 * and without paths inside another one given.
 */
static cf_status
normalise_paths(const struct cf_backup_opts *o, char ***out, size_t *n)
{
	char **p;
	size_t k = 0;

	if (o->npaths == 0)
		return cf_error_set(CF_ERR_INVALID, "nothing to back up");
	if ((p = calloc(o->npaths, sizeof(*p))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < o->npaths; i++) {
		if (!path_valid(o->paths[i])) {
			for (size_t j = 0; j < i; j++)
				free(p[j]);
			free(p);
			return cf_error_set(CF_ERR_INVALID,
			    "%s: not an absolute, normalised path",
			    o->paths[i]);
		}
		if ((p[i] = strdup(o->paths[i])) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(p[j]);
			free(p);
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		}
	}
	qsort(p, o->npaths, sizeof(*p), name_cmp);
	for (size_t i = 0; i < o->npaths; i++) {
		int covered = 0;
		for (size_t j = 0; j < k && !covered; j++) {
			size_t l = strlen(p[j]);
			covered = strcmp(p[j], "/") == 0 ||
			    (strncmp(p[i], p[j], l) == 0 &&
			    (p[i][l] == '\0' || p[i][l] == '/'));
		}
		if (covered)
			free(p[i]);
		else
			p[k++] = p[i];
	}
	*out = p;
	*n = k;
	return CF_OK;
}

static cf_status
write_snapshot(struct backup *b, char **paths, size_t npaths,
    const uint8_t tree[CF_HASH_BYTES])
{
	struct cf_snapshot s;
	struct timespec now = repo_now();
	char host[256], user[64];
	struct passwd *pw;
	struct cf_buf buf;
	cf_status rc;

	memset(&s, 0, sizeof(s));
	s.time_sec = now.tv_sec;
	s.time_nsec = (uint32_t)now.tv_nsec;
	memcpy(s.tree, tree, CF_HASH_BYTES);
	if (b->o->hostname != NULL)
		snprintf(host, sizeof(host), "%s", b->o->hostname);
	else if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(user, sizeof(user), "%s", pw->pw_name);
	else
		snprintf(user, sizeof(user), "uid %u", (unsigned)geteuid());
	s.hostname = host;
	s.username = user;
	s.paths = paths;
	s.npaths = npaths;
	s.tags = (char **)(uintptr_t)b->o->tags;
	s.ntags = b->o->ntags;
	s.files = b->st->files_new + b->st->files_changed +
	    b->st->files_unchanged;
	s.dirs = b->st->dirs;
	s.bytes = b->st->bytes_total;
	cf_buf_init(&buf, CF_SNAPSHOT_MAX);
	if ((rc = cf_snapshot_encode(&s, b->r->id, b->r->keys->repo_pk,
	    &buf)) == CF_OK &&
	    (rc = repo_put_named(b->r, "snapshots", buf.p, buf.len,
	    b->st->snapshot)) == CF_OK)
		b->st->bytes_stored += buf.len;
	cf_buf_free(&buf);
	return rc;
}

/* start(b, threads): the arena, the job ring and the workers. */
static cf_status
start(struct backup *b, unsigned threads)
{
	const struct cf_chunker_params *cp = &b->r->cfg.chunker;
	cf_status rc;

	if (threads > WORKERS_MAX)
		threads = WORKERS_MAX;
	b->maxc = cp->max;
	/*
	 * Three largest chunks (one being cut, one wasted at the wrap, one in
	 * flight) and an average chunk in flight per worker.
	 */
	b->cap = 3 * (size_t)cp->max + (size_t)threads * cp->avg;
	if ((b->arena = malloc(b->cap)) == NULL ||
	    (b->jobs = calloc(JOBS_MAX, sizeof(*b->jobs))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((rc = cf_packer_new(b->r, threads ? threads : 1, 1, NULL, NULL,
	    &b->data)) != CF_OK)
		return rc;
	if (threads == 0)
		return CF_OK;
	if ((b->workers = calloc(threads, sizeof(*b->workers))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	b->nworkers = threads;
	for (unsigned i = 0; i < threads; i++) {
		b->workers[i].b = b;
		b->workers[i].lane = i;
		if (pthread_create(&b->workers[i].thread, NULL, worker_main,
		    &b->workers[i]) != 0)
			return cf_error_set(CF_ERR_NOMEM,
			    "cannot start a worker thread");
		b->workers[i].running = 1;
	}
	return CF_OK;
}

/*
 * drain(b): wait for every job, commit everything, stop the workers (each
 * stores its last packs) and store what is left: after this, every blob of
 * the walk is in a stored, indexed pack.
 */
static cf_status
drain(struct backup *b)
{
	uint64_t stored;
	cf_status rc;

	while (b->head != NULL)
		if ((rc = commit(b, 1)) != CF_OK)
			return rc;
	stop_workers(b);
	if ((rc = worker_error(b)) != CF_OK)
		return rc;
	if ((rc = cf_packer_finish(b->data, &stored)) != CF_OK)
		return rc;
	b->st->bytes_stored += stored;
	if ((rc = cf_packer_finish(b->trees, &stored)) != CF_OK)
		return rc;
	b->st->bytes_stored += stored;
	return CF_OK;
}

/* total_bytes: the walk counts file sizes in prog.bytes_done; keep both. */
cf_status
cf_backup_run(struct cf_repo *r, const struct cf_backup_opts *opts,
    struct cf_backup_stats *stats)
{
	struct backup b;
	char **paths = NULL;
	size_t npaths = 0;
	unsigned threads;
	cf_status rc;

	memset(stats, 0, sizeof(*stats));
	memset(&b, 0, sizeof(b));
	b.r = r;
	b.o = opts;
	b.st = stats;
	pthread_mutex_init(&b.mu, NULL);
	pthread_mutex_init(&b.pending_mu, NULL);
	pthread_cond_init(&b.cv_work, NULL);
	pthread_cond_init(&b.cv_done, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b.t0);
	b.tprog = b.t0;
	/*
	 * One worker per processor by default.  (One more, to cover a worker
	 * waiting on fsync, measured no faster and costs a pack buffer.)
	 */
	threads = opts->threads < 0 ? 0 : opts->threads > 0 ?
	    (unsigned)opts->threads : cf_packer_default_threads();
	if ((rc = normalise_paths(opts, &paths, &npaths)) != CF_OK)
		goto out;
	if ((rc = cf_lock_acquire(r, 0, &b.lock)) != CF_OK)
		goto out;
	if ((rc = cf_repo_load_index(r, &b.idx)) != CF_OK ||
	    (rc = cf_chunker_new(&r->cfg.chunker, r->keys->gear_key,
	    &b.chunker)) != CF_OK ||
	    (rc = repo_idset_new(&b.pending)) != CF_OK ||
	    (rc = cf_packer_new(r, 1, 1, NULL, NULL, &b.trees)) != CF_OK)
		goto out;
	/* Before any worker reads the index: it is read-only from here. */
	if ((rc = repo_adopt_unindexed(r, b.idx)) != CF_OK)
		goto out;
	if (opts->cache_dir != NULL &&
	    cf_filescache_open(opts->cache_dir, r->keys, &b.fc) != CF_OK) {
		/* The cache only saves time: go on without it. */
		warn_cache(&b, cf_error_message());
		b.fc = NULL;
	}
	if (opts->scan_first)
		for (size_t i = 0; i < npaths; i++)
			scan(&b, paths[i], 0);
	progress(&b, NULL, 1);
	if ((rc = start(&b, threads)) != CF_OK)
		goto out;

	if (npaths == 1 && strcmp(paths[0], "/") == 0) {
		if ((rc = save_dir(&b, "/", "", NULL, NULL, 1)) ==
		    CF_ERR_NOTFOUND)
			rc = cf_error_set(CF_ERR_IO, "cannot read /");
	} else {
		rc = save_virtual(&b, "", "", NULL, NULL, paths, npaths);
	}
	/* Data, then the trees naming it, then the snapshot naming them. */
	if (rc == CF_OK)
		rc = drain(&b);
	if (rc != CF_OK)
		goto out;
	if (!b.have_root) {
		rc = cf_error_set(CF_ERR_INVALID, "nothing was backed up");
		goto out;
	}
	stats->bytes_total = b.prog.bytes_done;
	stats->bytes_added = b.bytes_added;
	if ((rc = write_snapshot(&b, paths, npaths, b.root)) != CF_OK)
		goto out;
	/* The snapshot is stored: a cache that cannot be saved is a warning. */
	if (b.fc != NULL && cf_filescache_commit(b.fc) != CF_OK)
		warn_cache(&b, cf_error_message());
	progress(&b, NULL, 1);
out:
	stats->seconds = repo_elapsed(&b.t0);
	/* After an error, queued jobs are dropped and no pack is stored. */
	if (rc != CF_OK) {
		pthread_mutex_lock(&b.mu);
		if (b.err == CF_OK)
			b.err = rc;
		pthread_mutex_unlock(&b.mu);
	}
	/* Workers may be storing a pack: stop them before the lock goes. */
	stop_workers(&b);
	cf_filescache_close(b.fc);
	cf_packer_free(b.data);
	cf_packer_free(b.trees);
	cf_lock_release(b.lock);
	cf_chunker_free(b.chunker);
	cf_index_free(b.pending);
	/* New packs are not in the repository's in-memory index. */
	repo_drop_index(r);
	while (b.head != NULL) {
		struct item *it = b.head;
		b.head = it->next;
		if (it->kind == ITEM_DIR)
			ptree_free(it->tree);
		item_free(it);
	}
	if (b.arena != NULL) {
		/* File contents: wiped before the memory is given back. */
		sodium_memzero(b.arena, b.hw);
		free(b.arena);
	}
	free(b.jobs);
	free(b.workers);
	pthread_cond_destroy(&b.cv_work);
	pthread_cond_destroy(&b.cv_done);
	pthread_mutex_destroy(&b.mu);
	pthread_mutex_destroy(&b.pending_mu);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return rc;
}
