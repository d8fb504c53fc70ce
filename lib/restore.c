/*
 * restore.c: write a snapshot's files back (see repo.h).
 *
 * Each file is written to a temporary name beside its destination from
 * blobs that were authenticated and checked against their ids, and renamed
 * into place only when complete, so a damaged repository never leaves a
 * file with wrong content under its real name.  Runs of zeros become holes.
 * Directory metadata is applied after the directory's contents, so
 * read-only directories and their mtimes come out right.
 *
 * The walk (the caller's thread) reads the trees, creates directories and
 * symbolic links, creates each file's temporary file at its final size,
 * and hands its chunks (with their offsets in the file, known from the
 * index) to workers as jobs in a bounded ring.  Workers read, decrypt,
 * decompress and verify each blob and write it at its offset (pwrite);
 * the worker that writes a file's last chunk sets its metadata and renames
 * it into place if every chunk verified.  What must follow (counting the
 * file or reporting it damaged, hard links to it, its directory's
 * metadata) waits in a FIFO that the walk completes in order, so the
 * result is the same as the one-thread restore (threads = -1), which runs
 * each job as it is submitted.  Memory: a blob buffer per
 * worker, JOBS_MAX jobs, ITEMS_MAX waiting items, FILES_MAX open files.
 */
#include "repo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "packer.h"

#define HOLE_MIN 4096
#define JOBS_MAX 256            /* chunks in flight (a power of two) */
#define ITEMS_MAX 4096          /* files, links, directories waiting */
#define FILES_MAX 128           /* temporary files open at once */
#define WORKERS_MAX 64

struct link_slot {
	uint64_t device, inode, size;
	uint8_t chunks[CF_HASH_BYTES];  /* hash of the chunk id list */
	char *path;             /* restored path of the first name */
	int state;              /* 0 being restored, 1 restored, -1 not */
};

enum { IT_FILE, IT_LINK, IT_DIR };

/* What must be done, in walk order, once the data before it is written. */
struct item {
	struct item *next;
	int kind;
	char *path;             /* destination */
	char *spath;            /* path in the snapshot, for messages */
	struct cf_node node;    /* metadata (name, chunks, target unused) */
	char *tmp;              /* FILE: temporary name */
	int fd;                 /* FILE */
	size_t slot;            /* FILE with nlink > 1, LINK: link slot + 1 */
	int exists;             /* LINK: a file is in the way (overwrite) */
	int selected;           /* DIR: counts in stats->dirs */
	uint32_t njobs;         /* FILE: its chunks */
	uint32_t pending;       /* FILE: jobs not done yet, under mu */
	int closed;             /* FILE: metadata set, renamed into place
				   (1) or failed (-1), under mu */
	cf_status err;          /* FILE: first error, under mu */
	char *errmsg;
};

struct job {
	struct item *it;
	uint8_t id[CF_HASH_BYTES];
	struct cf_index_loc loc;
	uint64_t off;           /* offset in the file */
	int busy;               /* under mu */
};

struct restore;

struct worker {
	struct restore *rs;
	pthread_t thread;
	int running;
	struct cf_buf stored;
	struct cf_blob_reader *br;
	uint8_t *key;           /* guarded */
};

struct restore {
	struct cf_repo *r;
	const struct cf_restore_opts *o;
	struct cf_restore_stats *st;
	struct link_slot *links;
	size_t nlinks, caplinks;
	uint8_t *matched;       /* per include: found in the snapshot */
	struct cf_lock *lock;   /* refreshed during long work */
	uint64_t damaged;       /* files or directories left out: bad data */
	char first_damage[512];
	int as_root;
	struct timespec t0, tprog;
	struct cf_progress prog;

	/* Jobs: submitted > dispatched (workers); each slot busy until done. */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;         /* a job was submitted, or stop */
	pthread_cond_t cv_done;         /* a job is done */
	struct job *jobs;
	uint64_t submitted, dispatched;
	uint64_t bytes_written;         /* under mu */
	int stopping;
	int main_waits;                 /* for cv_done: wake it up */
	int failed;                     /* an I/O error: workers skip jobs */
	struct worker *workers;
	size_t nworkers;                /* 0: jobs run inline */
	struct worker inline_worker;

	struct item *head, *tail;
	size_t nitems, nfiles;
};

static void
progress(struct restore *rs, const char *path, int force)
{
	if (rs->o->progress == NULL)
		return;
	if (!force && repo_elapsed(&rs->tprog) < 0.25)
		return;
	clock_gettime(CLOCK_MONOTONIC, &rs->tprog);
	rs->prog.current = path;
	rs->o->progress(rs->o->arg, &rs->prog);
}

static cf_status
sys_error(const char *path, const char *what)
{
	return cf_error_set(CF_ERR_IO, "%s: %s: %s", path, what,
	    strerror(errno));
}

/* ---- which paths to restore ---- */

enum { SKIP, ANCESTOR, SELECTED };

static int
selection(struct restore *rs, const char *path)
{
	size_t pl = strlen(path);
	int ancestor = 0;

	if (rs->o->nincludes == 0)
		return SELECTED;
	for (size_t i = 0; i < rs->o->nincludes; i++) {
		const char *inc = rs->o->includes[i];
		size_t il = strlen(inc);

		if (il == 1 && inc[0] == '/') {
			rs->matched[i] = 1;
			return SELECTED;
		}
		if (strncmp(path, inc, il) == 0 &&
		    (path[il] == '\0' || path[il] == '/')) {
			rs->matched[i] = 1;
			return SELECTED;
		}
		if (il > pl && strncmp(inc, path, pl) == 0 && inc[pl] == '/')
			ancestor = 1;
	}
	return ancestor ? ANCESTOR : SKIP;
}

/* ---- hard links ---- */

/*
 * Names are hard links of one file when device and inode agree, and so does
 * the content (inode numbers can be reused during a backup, or invented by
 * network file systems): never link two different files.
 */
static void
chunks_hash(const struct cf_node *n, uint8_t out[CF_HASH_BYTES])
{
	cf_hash(out, n->chunks, (size_t)n->nchunks * CF_HASH_BYTES);
}

/* link_find(rs, n): the link slot + 1 of the first name of ${n}, or 0. */
static size_t
link_find(const struct restore *rs, const struct cf_node *n)
{
	uint8_t h[CF_HASH_BYTES];

	chunks_hash(n, h);
	for (size_t i = 0; i < rs->nlinks; i++)
		if (rs->links[i].device == n->device &&
		    rs->links[i].inode == n->inode &&
		    rs->links[i].size == n->size &&
		    memcmp(rs->links[i].chunks, h, CF_HASH_BYTES) == 0)
			return i + 1;
	return 0;
}

static cf_status
link_add(struct restore *rs, const struct cf_node *n, const char *path,
    size_t *slot)
{
	if (rs->nlinks == rs->caplinks) {
		size_t cap = rs->caplinks ? rs->caplinks * 2 : 16;
		struct link_slot *p = realloc(rs->links, cap * sizeof(*p));
		if (p == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		rs->links = p;
		rs->caplinks = cap;
	}
	if ((rs->links[rs->nlinks].path = strdup(path)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	rs->links[rs->nlinks].device = n->device;
	rs->links[rs->nlinks].inode = n->inode;
	rs->links[rs->nlinks].size = n->size;
	chunks_hash(n, rs->links[rs->nlinks].chunks);
	rs->links[rs->nlinks].state = 0;
	*slot = ++rs->nlinks;
	return CF_OK;
}

/* ---- metadata ---- */

static void
node_times(const struct cf_node *n, struct timespec ts[2])
{
	ts[0].tv_sec = n->mtime_sec;
	ts[0].tv_nsec = n->mtime_nsec;
	ts[1] = ts[0];
}

/*
 * may_replace(rs, path, want_dir): CF_OK if ${path} is free, or may be
 * replaced (overwrite), or is already a directory where one is wanted.
 */
static cf_status
may_replace(const struct restore *rs, const char *path, int want_dir,
    int *exists)
{
	struct stat st;

	*exists = 0;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return CF_OK;
		return sys_error(path, "cannot inspect");
	}
	*exists = 1;
	if (want_dir && S_ISDIR(st.st_mode))
		return CF_OK;
	if (want_dir || S_ISDIR(st.st_mode))
		return cf_error_set(CF_ERR_EXISTS, "%s exists and is %s",
		    path, S_ISDIR(st.st_mode) ? "a directory" :
		    "not a directory");
	if (!rs->o->overwrite)
		return cf_error_set(CF_ERR_EXISTS, "%s already exists; "
		    "restore elsewhere or use --overwrite to replace it", path);
	return CF_OK;
}

/* ---- files: writing blobs at their offsets ---- */

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w != 0)
			return 0;
	}
	for (; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static cf_status
pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off,
    const char *path)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return sys_error(path, "write");
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return CF_OK;
}

/*
 * write_sparse(fd, p, n, off, path): write ${p} at offset ${off} of a file
 * already at its final size, leaving all-zero blocks of HOLE_MIN bytes
 * (aligned in the file) unwritten, so they stay holes.
 */
static cf_status
write_sparse(int fd, const uint8_t *p, size_t n, uint64_t off,
    const char *path)
{
	size_t i = 0, run, d;
	cf_status rc;

	while (i < n) {
		run = HOLE_MIN - (size_t)((off + i) % HOLE_MIN);
		if (run > n - i)
			run = n - i;
		if (run == HOLE_MIN && all_zero(p + i, run)) {
			i += run;
			continue;
		}
		/* Gather data blocks up to the next zero block. */
		d = run;
		while (i + d + HOLE_MIN <= n && !all_zero(p + i + d, HOLE_MIN))
			d += HOLE_MIN;
		if (i + d + HOLE_MIN > n)
			d = n - i;
		if ((rc = pwrite_all(fd, p + i, d, off + i, path)) != CF_OK)
			return rc;
		i += d;
	}
	return CF_OK;
}

/* run_job(rs, w, j): read, verify and write one chunk of a file. */
static cf_status
run_job(struct restore *rs, struct worker *w, const struct job *j)
{
	const uint8_t *data;
	cf_status rc;

	if ((rc = repo_blob_fetch(rs->r, j->id, &j->loc, &w->stored, w->br,
	    w->key, &data)) != CF_OK)
		return cf_error_prefix("%s: ", j->it->path);
	return write_sparse(j->it->fd, data, j->loc.raw_length, j->off,
	    j->it->path);
}

static void
node_times(const struct cf_node *n, struct timespec ts[2]);

/*
 * close_file(rs, it): the file's data is all written: set its owner, mode
 * and times, close it and rename it into place.  Done by the worker that
 * wrote the last chunk (so it does not wait for the walk), or by the walk
 * for an empty file.  it->err and it->errmsg on failure.
 */
static cf_status
close_file(struct restore *rs, struct item *it)
{
	struct timespec ts[2];
	const struct cf_node *n = &it->node;
	cf_status rc = CF_OK;
	int fd = it->fd;

	it->fd = -1;
	if (rs->as_root && fchown(fd, n->uid, n->gid) != 0)
		rc = sys_error(it->path, "cannot set owner");
	if (rc == CF_OK && fchmod(fd, (mode_t)n->mode) != 0)
		rc = sys_error(it->path, "cannot set mode");
	node_times(n, ts);
	if (rc == CF_OK && futimens(fd, ts) != 0)
		rc = sys_error(it->path, "cannot set times");
	if (close(fd) != 0 && rc == CF_OK)
		rc = sys_error(it->path, "write");
	if (rc == CF_OK && rename(it->tmp, it->path) != 0)
		rc = sys_error(it->path, "cannot rename into place");
	if (rc != CF_OK) {
		it->err = rc;
		it->errmsg = strdup(cf_error_message());
		return rc;
	}
	free(it->tmp);
	it->tmp = NULL;
	return CF_OK;
}

/*
 * skip_reason(rs, j): 1 if the job's file failed already (nothing more to
 * do for it), 2 if the restore is stopping on an I/O error (the file must
 * not be completed: some of its chunks are not written); else 0.  mu held.
 */
static int
skip_reason(const struct restore *rs, const struct job *j)
{
	if (j->it->err != CF_OK)
		return 1;
	return rs->failed ? 2 : 0;
}

/* skipped(j, why): the status of a job not run (see skip_reason). */
static cf_status
skipped(const struct job *j, int why)
{
	if (why == 1)
		return CF_OK;
	return cf_error_set(CF_ERR_IO, "%s: not restored: the restore stopped "
	    "on an earlier error", j->it->path);
}

/* job_done(rs, j, rc): account for a finished job; mu held. */
static void
job_done(struct restore *rs, struct job *j, cf_status rc)
{
	struct item *it = j->it;

	if (rc != CF_OK && it->err == CF_OK) {
		it->err = rc;
		it->errmsg = strdup(cf_error_message());
		if (rc != CF_ERR_CORRUPT)
			rs->failed = 1;
	}
	if (rc == CF_OK)
		rs->bytes_written += j->loc.raw_length;
	it->pending--;
	j->busy = 0;
}

/*
 * last_job(rs, it): after the file's last job is done (mu held on entry
 * and exit): close it unless it failed.
 */
static void
last_job(struct restore *rs, struct item *it)
{
	cf_status rc;

	if (it->err != CF_OK) {
		it->closed = -1;
		return;
	}
	pthread_mutex_unlock(&rs->mu);
	rc = close_file(rs, it);
	pthread_mutex_lock(&rs->mu);
	it->closed = rc == CF_OK ? 1 : -1;
	if (rc != CF_ERR_CORRUPT && rc != CF_OK)
		rs->failed = 1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct restore *rs = w->rs;
	struct job *j;
	cf_status rc;
	int skip;

	pthread_mutex_lock(&rs->mu);
	for (;;) {
		while (!rs->stopping && rs->dispatched == rs->submitted)
			pthread_cond_wait(&rs->cv_work, &rs->mu);
		if (rs->dispatched == rs->submitted)
			break;
		j = &rs->jobs[rs->dispatched++ % JOBS_MAX];
		skip = skip_reason(rs, j);
		pthread_mutex_unlock(&rs->mu);
		rc = skip ? skipped(j, skip) : run_job(rs, w, j);
		pthread_mutex_lock(&rs->mu);
		job_done(rs, j, rc);
		if (j->it->pending == 0)
			last_job(rs, j->it);
		/* A wake-up costs a system call: only when it waits. */
		if (rs->main_waits)
			pthread_cond_signal(&rs->cv_done);
	}
	pthread_mutex_unlock(&rs->mu);
	return NULL;
}

static cf_status
worker_init(struct worker *w, struct restore *rs)
{
	w->rs = rs;
	cf_buf_init(&w->stored, CF_BLOB_MAX + CF_AEAD_OVERHEAD + 1);
	if ((w->key = sodium_malloc(CF_KEY_BYTES)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	return cf_blob_reader_new(&w->br);
}

static void
worker_free(struct worker *w)
{
	cf_buf_free(&w->stored);
	cf_blob_reader_free(w->br);
	if (w->key != NULL)
		sodium_free(w->key);
}

/* submit(rs, j): queue a job (or run it now without workers). */
static cf_status
submit(struct restore *rs, const struct job *src)
{
	struct job *j;
	cf_status rc;
	int skip;

	pthread_mutex_lock(&rs->mu);
	j = &rs->jobs[rs->submitted % JOBS_MAX];
	while (j->busy) {
		rs->main_waits = 1;
		pthread_cond_wait(&rs->cv_done, &rs->mu);
		rs->main_waits = 0;
	}
	*j = *src;
	j->busy = 1;
	if (rs->nworkers == 0) {
		skip = skip_reason(rs, j);
		pthread_mutex_unlock(&rs->mu);
		rc = skip ? skipped(j, skip) : run_job(rs, &rs->inline_worker, j);
		pthread_mutex_lock(&rs->mu);
		job_done(rs, j, rc);
		if (j->it->pending == 0)
			last_job(rs, j->it);
		pthread_mutex_unlock(&rs->mu);
		return CF_OK;
	}
	rs->submitted++;
	pthread_cond_signal(&rs->cv_work);
	pthread_mutex_unlock(&rs->mu);
	return CF_OK;
}

/* ---- completing files, links and directories, in order ---- */

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	if (it->fd >= 0)
		close(it->fd);
	if (it->tmp != NULL) {
		unlink(it->tmp);
		free(it->tmp);
	}
	free(it->path);
	free(it->spath);
	free(it->errmsg);
	free(it);
}

static cf_status damaged(struct restore *, const char *);
static cf_status set_dir_meta(const struct restore *, const struct cf_node *,
    const char *);

/*
 * finish_file(rs, it): the file is closed (or failed): count it, or report
 * it damaged, or fail the run.
 */
static cf_status
finish_file(struct restore *rs, struct item *it)
{
	struct link_slot *ls = it->slot ? &rs->links[it->slot - 1] : NULL;

	if (it->closed == 0 && it->err == CF_OK)
		(void)close_file(rs, it);       /* an empty file */
	if (it->err != CF_OK) {
		if (ls != NULL)
			ls->state = -1;
		cf_error_set(it->err, "%s", it->errmsg != NULL ? it->errmsg :
		    "out of memory");
		if (it->err == CF_ERR_CORRUPT)
			return damaged(rs, it->spath);
		return it->err;
	}
	if (ls != NULL)
		ls->state = 1;
	rs->st->files++;
	rs->st->bytes += it->node.size;
	return CF_OK;
}

/* finish_link(rs, it): another name of a file restored before it. */
static cf_status
finish_link(struct restore *rs, struct item *it)
{
	const struct link_slot *ls = &rs->links[it->slot - 1];

	if (ls->state != 1) {
		cf_error_set(CF_ERR_CORRUPT, "%s: a hard link to %s, which "
		    "could not be restored", it->path, ls->path);
		return damaged(rs, it->spath);
	}
	if (it->exists && unlink(it->path) != 0)
		return sys_error(it->path, "cannot replace");
	if (link(ls->path, it->path) != 0)
		return sys_error(it->path, "cannot create hard link");
	rs->st->files++;
	return CF_OK;
}

/*
 * commit(rs, wait): complete the items at the head whose data is written;
 * with ${wait}, block until the first one can be.
 */
static cf_status
commit(struct restore *rs, int wait)
{
	struct item *it;
	cf_status rc;

	while ((it = rs->head) != NULL) {
		if (it->kind == IT_FILE) {
			int ready;

			/* Written and closed by a worker, or never had a job. */
			pthread_mutex_lock(&rs->mu);
			while (!(ready = it->njobs == 0 || it->closed != 0) &&
			    wait) {
				rs->main_waits = 1;
				pthread_cond_wait(&rs->cv_done, &rs->mu);
				rs->main_waits = 0;
			}
			rs->prog.bytes_done = rs->bytes_written;
			pthread_mutex_unlock(&rs->mu);
			if (!ready)
				return CF_OK;
			rs->nfiles--;
			rc = finish_file(rs, it);
			rs->prog.files_done++;
			progress(rs, it->spath, 0);
		} else if (it->kind == IT_LINK) {
			rc = finish_link(rs, it);
		} else {
			rc = set_dir_meta(rs, &it->node, it->path);
			if (rc == CF_OK && it->selected)
				rs->st->dirs++;
		}
		wait = 0;
		rs->head = it->next;
		if (rs->head == NULL)
			rs->tail = NULL;
		rs->nitems--;
		item_free(it);
		if (rc != CF_OK)
			return rc;
		if ((rc = cf_lock_refresh(rs->lock)) != CF_OK)
			return rc;
	}
	return CF_OK;
}

/* item_new(kind, path, spath, n): an item, not queued yet. */
static struct item *
item_new(int kind, const char *path, const char *spath,
    const struct cf_node *n)
{
	struct item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	it->kind = kind;
	it->fd = -1;
	it->node = *n;
	it->node.name = NULL;
	it->node.chunks = NULL;
	it->node.target = NULL;
	if ((it->path = strdup(path)) == NULL ||
	    (it->spath = strdup(spath)) == NULL) {
		item_free(it);
		return NULL;
	}
	return it;
}

/* push(rs, it): queue ${it}, first waiting while too much is waiting. */
static cf_status
push(struct restore *rs, struct item *it)
{
	cf_status rc;

	while (rs->head != NULL && (rs->nitems >= ITEMS_MAX ||
	    (it->kind == IT_FILE && rs->nfiles >= FILES_MAX)))
		if ((rc = commit(rs, 1)) != CF_OK) {
			item_free(it);
			return rc;
		}
	it->next = NULL;
	if (rs->tail != NULL)
		rs->tail->next = it;
	else
		rs->head = it;
	rs->tail = it;
	rs->nitems++;
	if (it->kind == IT_FILE)
		rs->nfiles++;
	return CF_OK;
}

/*
 * locate(rs, n, path, locs): where each chunk of file ${n} is, and that
 * they add up to its size.  CF_ERR_CORRUPT (nothing written) otherwise.
 */
static cf_status
locate(struct restore *rs, const struct cf_node *n, const char *path,
    struct cf_index_loc *locs)
{
	char hex[CF_HASH_BYTES * 2 + 1];
	uint64_t total = 0;

	for (uint32_t i = 0; i < n->nchunks; i++) {
		if (!cf_index_lookup(rs->r->idx, n->chunks[i], &locs[i])) {
			cf_hex_encode(hex, n->chunks[i], CF_HASH_BYTES);
			return cf_error_set(CF_ERR_CORRUPT, "%s: data blob "
			    "%.16s is missing from the repository", path, hex);
		}
		if (locs[i].type != CF_BLOB_DATA) {
			cf_hex_encode(hex, n->chunks[i], CF_HASH_BYTES);
			return cf_error_set(CF_ERR_CORRUPT, "%s: blob %.16s has "
			    "the wrong type in the index", path, hex);
		}
		total += locs[i].raw_length;
	}
	if (total != n->size)
		return cf_error_set(CF_ERR_CORRUPT, "%s: stored chunks hold %llu "
		    "bytes, the file had %llu", path, (unsigned long long)total,
		    (unsigned long long)n->size);
	return CF_OK;
}

/*
 * restore_file(rs, n, path, spath): queue the file ${n}: a hard link to a
 * name restored before it, or a temporary file at its final size whose
 * chunks the workers write.
 */
static cf_status
restore_file(struct restore *rs, const struct cf_node *n, const char *path,
    const char *spath)
{
	struct cf_index_loc *locs = NULL;
	const char *slash = strrchr(path, '/');
	size_t pl = strlen(path), slot;
	struct item *it;
	struct job j;
	uint64_t off = 0;
	int exists;
	cf_status rc;

	if ((rc = may_replace(rs, path, 0, &exists)) != CF_OK)
		return rc;
	if (n->nlink > 1 && (slot = link_find(rs, n)) != 0) {
		if ((it = item_new(IT_LINK, path, spath, n)) == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		it->slot = slot;
		it->exists = exists;
		return push(rs, it);
	}
	if (n->nchunks > 0 && (locs = calloc(n->nchunks, sizeof(*locs))) ==
	    NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if ((rc = locate(rs, n, path, locs)) != CF_OK) {
		free(locs);
		return rc;
	}
	if ((it = item_new(IT_FILE, path, spath, n)) == NULL ||
	    (it->tmp = malloc(pl + 32)) == NULL) {
		item_free(it);
		free(locs);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	/* Queued before it is created: push may complete earlier files. */
	if ((rc = push(rs, it)) != CF_OK) {
		free(locs);
		return rc;
	}
	snprintf(it->tmp, pl + 32, "%.*s/.coffre-restore-XXXXXX",
	    (int)(slash - path), path);
	if ((it->fd = mkstemp(it->tmp)) < 0) {
		free(it->tmp);
		it->tmp = NULL;
		it->err = sys_error(path, "cannot create");
		it->errmsg = strdup(cf_error_message());
		free(locs);
		return it->err;
	}
	if (ftruncate(it->fd, (off_t)n->size) != 0) {
		it->err = sys_error(path, "cannot set the size");
		it->errmsg = strdup(cf_error_message());
		free(locs);
		return it->err;
	}
	if (n->nlink > 1 && (rc = link_add(rs, n, path, &it->slot)) != CF_OK) {
		free(locs);
		return rc;
	}
	pthread_mutex_lock(&rs->mu);
	it->njobs = it->pending = n->nchunks;
	pthread_mutex_unlock(&rs->mu);
	memset(&j, 0, sizeof(j));
	j.it = it;
	for (uint32_t i = 0; i < n->nchunks; i++) {
		memcpy(j.id, n->chunks[i], CF_HASH_BYTES);
		j.loc = locs[i];
		j.off = off;
		off += locs[i].raw_length;
		if ((rc = submit(rs, &j)) != CF_OK)
			break;
	}
	free(locs);
	if (rc == CF_OK)
		rc = cf_lock_refresh(rs->lock);
	return rc;
}

static cf_status
restore_symlink(struct restore *rs, const struct cf_node *n, const char *path)
{
	struct timespec ts[2];
	int exists;
	cf_status rc;

	if ((rc = may_replace(rs, path, 0, &exists)) != CF_OK)
		return rc;
	if (exists && unlink(path) != 0)
		return sys_error(path, "cannot replace");
	if (symlink(n->target, path) != 0)
		return sys_error(path, "cannot create symbolic link");
	if (rs->as_root && lchown(path, n->uid, n->gid) != 0)
		return sys_error(path, "cannot set owner");
	node_times(n, ts);
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return sys_error(path, "cannot set times");
	rs->st->symlinks++;
	return CF_OK;
}

/* ---- directories ---- */

static cf_status
make_dir(const struct restore *rs, const char *path)
{
	struct stat st;
	int exists;
	cf_status rc;

	if ((rc = may_replace(rs, path, 1, &exists)) != CF_OK)
		return rc;
	if (!exists && mkdir(path, 0700) != 0)
		return sys_error(path, "cannot create directory");
	/* A directory restored before (read-only, say) must take new
	 * entries; set_dir_meta gives it its mode back afterwards. */
	if (exists && lstat(path, &st) == 0 && (st.st_mode & 0700) != 0700 &&
	    chmod(path, (st.st_mode & 07777) | 0700) != 0)
		return sys_error(path, "cannot make directory writable");
	return CF_OK;
}

static cf_status
set_dir_meta(const struct restore *rs, const struct cf_node *n,
    const char *path)
{
	struct timespec ts[2];

	if (rs->as_root && lchown(path, n->uid, n->gid) != 0)
		return sys_error(path, "cannot set owner");
	if (chmod(path, (mode_t)n->mode) != 0)
		return sys_error(path, "cannot set mode");
	node_times(n, ts);
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return sys_error(path, "cannot set times");
	return CF_OK;
}

/*
 * damaged(rs, path): data for ${path} failed verification: say so and go on
 * with the rest, as a restore after a disaster should; the run fails at
 * the end.  Nothing unverified was written under a real name.
 */
static cf_status
damaged(struct restore *rs, const char *path)
{
	if (rs->damaged++ == 0)
		snprintf(rs->first_damage, sizeof(rs->first_damage), "%s",
		    cf_error_message());
	if (rs->o->warn != NULL)
		rs->o->warn(rs->o->arg, path, cf_error_message());
	cf_error_clear();
	return CF_OK;
}

/*
 * restore_tree(rs, tree, snap_path, out_path, depth): restore the contents
 * of one directory.  Paths are held in buffers of PATH_MAX + 1 bytes that
 * this function extends and restores.
 */
static cf_status
restore_tree(struct restore *rs, const uint8_t tree[CF_HASH_BYTES],
    char *sp, size_t spl, char *op, size_t opl, int depth)
{
	struct cf_tree t;
	struct item *it;
	cf_status rc;

	if (depth > 256)
		return cf_error_set(CF_ERR_CORRUPT, "directory tree too deep");
	if ((rc = cf_repo_read_tree(rs->r, tree, &t)) != CF_OK)
		return rc;
	for (size_t i = 0; i < t.count && rc == CF_OK; i++) {
		const struct cf_node *n = &t.nodes[i];
		size_t nl = strlen(n->name);
		int sel;

		if (opl + nl + 2 > PATH_MAX || spl + nl + 2 > PATH_MAX) {
			rc = cf_error_set(CF_ERR_INVALID, "path too long");
			break;
		}
		sp[spl] = op[opl] = '/';
		memcpy(sp + spl + 1, n->name, nl + 1);
		memcpy(op + opl + 1, n->name, nl + 1);
		if ((sel = selection(rs, sp)) == SKIP)
			continue;
		if (n->kind == CF_NODE_DIR) {
			if ((rc = make_dir(rs, op)) == CF_OK)
				rc = restore_tree(rs, n->subtree, sp,
				    spl + 1 + nl, op, opl + 1 + nl, depth + 1);
			/* Its metadata once what is inside is complete. */
			if (rc == CF_OK) {
				if ((it = item_new(IT_DIR, op, sp, n)) == NULL)
					rc = cf_error_set(CF_ERR_NOMEM,
					    "out of memory");
				else {
					it->selected = sel == SELECTED;
					rc = push(rs, it);
				}
			}
		} else if (sel != SELECTED) {
			continue;
		} else if (n->kind == CF_NODE_FILE) {
			rc = restore_file(rs, n, op, sp);
		} else {
			rc = restore_symlink(rs, n, op);
		}
		if (rc == CF_ERR_CORRUPT)
			rc = damaged(rs, sp);
		sp[spl] = op[opl] = '\0';
	}
	sp[spl] = op[opl] = '\0';
	cf_tree_free(&t);
	return rc;
}

static cf_status
make_target(const char *target)
{
	char *p = strdup(target);
	cf_status rc = CF_OK;

	if (p == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	for (char *c = p + 1; ; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char save = *c;
		*c = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = sys_error(p, "cannot create directory");
			break;
		}
		*c = save;
		if (save == '\0')
			break;
	}
	free(p);
	return rc;
}

/* start(rs, threads): the job ring and the workers. */
static cf_status
start(struct restore *rs, unsigned threads)
{
	cf_status rc;

	if (threads > WORKERS_MAX)
		threads = WORKERS_MAX;
	if ((rs->jobs = calloc(JOBS_MAX, sizeof(*rs->jobs))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if (threads == 0)
		return worker_init(&rs->inline_worker, rs);
	if ((rs->workers = calloc(threads, sizeof(*rs->workers))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	rs->nworkers = threads;
	for (unsigned i = 0; i < threads; i++) {
		if ((rc = worker_init(&rs->workers[i], rs)) != CF_OK)
			return rc;
		if (pthread_create(&rs->workers[i].thread, NULL, worker_main,
		    &rs->workers[i]) != 0)
			return cf_error_set(CF_ERR_NOMEM,
			    "cannot start a worker thread");
		rs->workers[i].running = 1;
	}
	return CF_OK;
}

static void
stop(struct restore *rs)
{
	pthread_mutex_lock(&rs->mu);
	rs->stopping = 1;
	pthread_cond_broadcast(&rs->cv_work);
	pthread_mutex_unlock(&rs->mu);
	for (size_t i = 0; i < rs->nworkers; i++)
		if (rs->workers[i].running) {
			pthread_join(rs->workers[i].thread, NULL);
			rs->workers[i].running = 0;
		}
}

cf_status
cf_restore_run(struct cf_repo *r, const struct cf_snapshot *snap,
    const struct cf_restore_opts *opts, struct cf_restore_stats *stats)
{
	struct restore rs;
	struct cf_lock *lock = NULL;
	char *sp = NULL, *op = NULL;
	unsigned threads;
	size_t tl;
	cf_status rc;

	memset(stats, 0, sizeof(*stats));
	if ((rc = cf_repo_require_read(r, "restore backups")) != CF_OK)
		return rc;
	if (opts->target == NULL || opts->target[0] == '\0')
		return cf_error_set(CF_ERR_INVALID, "no target directory");
	for (size_t i = 0; i < opts->nincludes; i++)
		if (opts->includes[i][0] != '/')
			return cf_error_set(CF_ERR_INVALID,
			    "%s: include paths are absolute paths of the "
			    "snapshot", opts->includes[i]);
	memset(&rs, 0, sizeof(rs));
	rs.r = r;
	rs.o = opts;
	rs.st = stats;
	rs.as_root = geteuid() == 0;
	rs.prog.files_total = snap->files;
	rs.prog.bytes_total = snap->bytes;
	pthread_mutex_init(&rs.mu, NULL);
	pthread_cond_init(&rs.cv_work, NULL);
	pthread_cond_init(&rs.cv_done, NULL);
	clock_gettime(CLOCK_MONOTONIC, &rs.t0);
	rs.tprog = rs.t0;
	threads = opts->threads < 0 ? 0 : opts->threads > 0 ?
	    (unsigned)opts->threads : cf_packer_default_threads();
	if ((rc = cf_lock_acquire(r, 0, &lock)) != CF_OK)
		goto out;
	rs.lock = lock;
	/* Loaded before the workers start: they only read it. */
	if ((rc = cf_repo_load_index(r, NULL)) != CF_OK)
		goto out;
	if ((sp = malloc(PATH_MAX + 1)) == NULL ||
	    (op = malloc(PATH_MAX + 1)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto out;
	}
	tl = strlen(opts->target);
	while (tl > 1 && opts->target[tl - 1] == '/')
		tl--;
	if (tl >= PATH_MAX / 2) {
		rc = cf_error_set(CF_ERR_INVALID, "target path too long");
		goto out;
	}
	memcpy(op, opts->target, tl);
	op[tl] = '\0';
	if (tl == 1 && op[0] == '/')
		tl = 0;         /* restoring onto / itself */
	sp[0] = '\0';
	if ((rc = make_target(tl ? op : "/")) != CF_OK)
		goto out;
	if ((rs.matched = calloc(opts->nincludes + 1, 1)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = start(&rs, threads)) != CF_OK)
		goto out;
	rc = restore_tree(&rs, snap->tree, sp, 0, op, tl, 0);
	if (rc == CF_ERR_CORRUPT)
		rc = damaged(&rs, "/");
	while (rc == CF_OK && rs.head != NULL)
		rc = commit(&rs, 1);
	progress(&rs, NULL, 1);
	if (rc == CF_OK && rs.damaged > 0)
		rc = cf_error_set(CF_ERR_CORRUPT, "%llu files or directories "
		    "were not restored because their stored data failed "
		    "verification (damaged or tampered with); first: %s",
		    (unsigned long long)rs.damaged, rs.first_damage);
	for (size_t i = 0; rc == CF_OK && i < opts->nincludes; i++)
		if (!rs.matched[i])
			rc = cf_error_set(CF_ERR_NOTFOUND,
			    "%s is not in this snapshot (see `coffre ls`)",
			    opts->includes[i]);
out:
	stats->seconds = repo_elapsed(&rs.t0);
	/* Workers write into the items' files: stop them first. */
	stop(&rs);
	while (rs.head != NULL) {
		struct item *it = rs.head;
		rs.head = it->next;
		item_free(it);
	}
	for (size_t i = 0; i < rs.nworkers; i++)
		worker_free(&rs.workers[i]);
	worker_free(&rs.inline_worker);
	free(rs.workers);
	free(rs.jobs);
	pthread_cond_destroy(&rs.cv_work);
	pthread_cond_destroy(&rs.cv_done);
	pthread_mutex_destroy(&rs.mu);
	cf_lock_release(lock);
	for (size_t i = 0; i < rs.nlinks; i++)
		free(rs.links[i].path);
	free(rs.links);
	free(rs.matched);
	free(sp);
	free(op);
	return rc;
}
