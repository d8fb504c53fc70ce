/* packer.c: blobs to stored packs, on worker threads (see packer.h). */
#include "packer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "repo_internal.h"

#define THREADS_MAX 16

struct job {
	uint8_t type;
	uint8_t id[CF_HASH_BYTES];
	uint8_t *buf;
	size_t n;
	int owned;              /* buf is not from the pool: free it */
};

struct worker {
	struct cf_packer *p;
	struct cf_pack_writer *pw[2];   /* [0] data, [1] trees */
	struct cf_buf ibuf;
	pthread_t thread;
	int running;
};

struct cf_packer {
	struct cf_repo *r;
	unsigned nthreads;              /* 0: inline */
	int index_files;
	cf_packer_pack_fn on_pack;
	void *arg;

	pthread_mutex_t mu;
	pthread_cond_t cv_job;          /* a job was queued, or stop */
	pthread_cond_t cv_room;         /* a buffer or a queue slot is free */
	struct job *queue;
	size_t qcap, qhead, qlen;
	uint8_t **pool;
	size_t nfree, nbufs, bufcap;
	int stopping;                   /* no more jobs will come */
	int abandon;                    /* stop without storing */
	cf_status err;
	char errmsg[1024];
	uint64_t bytes_stored;

	struct worker *workers;
	size_t nworkers;
};

unsigned
cf_packer_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > THREADS_MAX ? THREADS_MAX : (unsigned)n;
}

/* record_error(p, rc): keep the first error and its message; lock held. */
static void
record_error(struct cf_packer *p, cf_status rc)
{
	if (p->err != CF_OK)
		return;
	p->err = rc;
	snprintf(p->errmsg, sizeof(p->errmsg), "%s", cf_error_message());
	pthread_cond_broadcast(&p->cv_room);
}

static cf_status
store_pack(struct worker *w, int slot)
{
	struct cf_packer *p = w->p;
	const struct cf_pack_entry *entries;
	struct cf_index_pack ip;
	const uint8_t *data;
	size_t len, count;
	char name[CF_OBJECT_NAME_MAX];
	uint64_t stored;
	cf_status rc;

	if (cf_pack_writer_count(w->pw[slot]) == 0)
		return CF_OK;
	if ((rc = cf_pack_writer_finish(w->pw[slot], ip.id, &data, &len,
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
		cf_buf_reset(&w->ibuf);
		if ((rc = cf_index_file_encode(p->r->keys->index_key, &ip, 1,
		    &w->ibuf)) != CF_OK ||
		    (rc = repo_put_named(p->r, "index", w->ibuf.p, w->ibuf.len,
		    NULL)) != CF_OK)
			return rc;
		stored += w->ibuf.len;
	}
	pthread_mutex_lock(&p->mu);
	p->bytes_stored += stored;
	rc = p->on_pack != NULL ? p->on_pack(p->arg, ip.id, entries, count) :
	    CF_OK;
	pthread_mutex_unlock(&p->mu);
	cf_pack_writer_reset(w->pw[slot]);
	return rc;
}

static cf_status
add_blob(struct worker *w, uint8_t type, const uint8_t id[CF_HASH_BYTES],
    const uint8_t *data, size_t n)
{
	int slot = type == CF_BLOB_TREE;
	cf_status rc;

	if ((rc = cf_pack_writer_add(w->pw[slot], type, id, data, n)) != CF_OK)
		return rc;
	if (cf_pack_writer_size(w->pw[slot]) >= w->p->r->cfg.pack_target)
		return store_pack(w, slot);
	return CF_OK;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct cf_packer *p = w->p;
	struct job job;
	cf_status rc;
	int failed;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->qlen == 0 && !p->stopping)
			pthread_cond_wait(&p->cv_job, &p->mu);
		if (p->qlen == 0) {
			failed = p->err != CF_OK || p->abandon;
			pthread_mutex_unlock(&p->mu);
			break;
		}
		job = p->queue[p->qhead];
		p->qhead = (p->qhead + 1) % p->qcap;
		p->qlen--;
		failed = p->err != CF_OK || p->abandon;
		pthread_mutex_unlock(&p->mu);

		/* After an error, jobs are only drained, so no one blocks. */
		rc = failed ? CF_OK : add_blob(w, job.type, job.id, job.buf,
		    job.n);

		pthread_mutex_lock(&p->mu);
		if (job.owned)
			free(job.buf);
		else
			p->pool[p->nfree++] = job.buf;
		if (rc != CF_OK)
			record_error(p, rc);
		pthread_cond_broadcast(&p->cv_room);
		pthread_mutex_unlock(&p->mu);
	}
	if (!failed) {
		if ((rc = store_pack(w, 0)) == CF_OK)
			rc = store_pack(w, 1);
		if (rc != CF_OK) {
			pthread_mutex_lock(&p->mu);
			record_error(p, rc);
			pthread_mutex_unlock(&p->mu);
		}
	}
	return NULL;
}

static cf_status
worker_init(struct cf_packer *p, struct worker *w)
{
	const struct cf_keys *k = p->r->keys;
	cf_status rc;

	w->p = p;
	cf_buf_init(&w->ibuf, CF_INDEX_FILE_MAX);
	if ((rc = cf_pack_writer_new(k->repo_pk, k->index_key,
	    p->r->cfg.zstd_level, &w->pw[0])) != CF_OK ||
	    (rc = cf_pack_writer_new(k->repo_pk, k->index_key,
	    p->r->cfg.zstd_level, &w->pw[1])) != CF_OK)
		return rc;
	return CF_OK;
}

static void
worker_free(struct worker *w)
{
	cf_pack_writer_free(w->pw[0]);
	cf_pack_writer_free(w->pw[1]);
	cf_buf_free(&w->ibuf);
}

/* stop(p, abandon): let the workers finish or abandon, and join them. */
static void
stop(struct cf_packer *p, int abandon)
{
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	p->abandon |= abandon;
	pthread_cond_broadcast(&p->cv_job);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nworkers; i++)
		if (p->workers[i].running) {
			pthread_join(p->workers[i].thread, NULL);
			p->workers[i].running = 0;
		}
}

cf_status
cf_packer_new(struct cf_repo *r, unsigned threads, int index_files,
    cf_packer_pack_fn on_pack, void *arg, struct cf_packer **out)
{
	struct cf_packer *p;
	cf_status rc;

	*out = NULL;
	if (threads > THREADS_MAX)
		threads = THREADS_MAX;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	p->r = r;
	p->nthreads = threads;
	p->index_files = index_files;
	p->on_pack = on_pack;
	p->arg = arg;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_job, NULL);
	pthread_cond_init(&p->cv_room, NULL);
	p->nworkers = threads ? threads : 1;
	if ((p->workers = calloc(p->nworkers, sizeof(*p->workers))) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < p->nworkers; i++)
		if ((rc = worker_init(p, &p->workers[i])) != CF_OK)
			goto err;
	if (threads > 0) {
		/* Two buffers per worker keep each one busy while the reader
		 * fills the next; more would only cost memory. */
		p->nbufs = 2 * (size_t)threads;
		p->bufcap = r->cfg.chunker.max;
		p->qcap = 4 * p->nbufs;
		if ((p->pool = calloc(p->nbufs, sizeof(*p->pool))) == NULL ||
		    (p->queue = calloc(p->qcap, sizeof(*p->queue))) == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			goto err;
		}
		for (; p->nfree < p->nbufs; p->nfree++)
			if ((p->pool[p->nfree] = malloc(p->bufcap)) == NULL) {
				rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
				goto err;
			}
		for (size_t i = 0; i < p->nworkers; i++) {
			if (pthread_create(&p->workers[i].thread, NULL,
			    worker_main, &p->workers[i]) != 0) {
				rc = cf_error_set(CF_ERR_NOMEM,
				    "cannot start a worker thread");
				goto err;
			}
			p->workers[i].running = 1;
		}
	}
	*out = p;
	return CF_OK;
err:
	cf_packer_free(p);
	return rc;
}

cf_status
cf_packer_add(struct cf_packer *p, uint8_t type,
    const uint8_t id[CF_HASH_BYTES], const uint8_t *data, size_t n)
{
	struct job job;
	cf_status rc;

	if (p->nthreads == 0) {
		if ((rc = add_blob(&p->workers[0], type, id, data, n)) != CF_OK)
			p->err = rc;
		return rc;
	}
	job.type = type;
	memcpy(job.id, id, CF_HASH_BYTES);
	job.n = n;
	job.owned = n > p->bufcap;
	if (job.owned && (job.buf = malloc(n ? n : 1)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");

	pthread_mutex_lock(&p->mu);
	while (p->err == CF_OK &&
	    ((!job.owned && p->nfree == 0) || p->qlen == p->qcap))
		pthread_cond_wait(&p->cv_room, &p->mu);
	if ((rc = p->err) != CF_OK) {
		cf_error_set(rc, "%s", p->errmsg);
		pthread_mutex_unlock(&p->mu);
		if (job.owned)
			free(job.buf);
		return rc;
	}
	if (!job.owned)
		job.buf = p->pool[--p->nfree];
	pthread_mutex_unlock(&p->mu);

	/* The buffer is ours alone until queued: copy without the lock. */
	if (n > 0)
		memcpy(job.buf, data, n);

	pthread_mutex_lock(&p->mu);
	p->queue[(p->qhead + p->qlen) % p->qcap] = job;
	p->qlen++;
	pthread_cond_signal(&p->cv_job);
	pthread_mutex_unlock(&p->mu);
	return CF_OK;
}

cf_status
cf_packer_finish(struct cf_packer *p, uint64_t *bytes_stored)
{
	cf_status rc;

	if (p->nthreads == 0) {
		rc = p->err;
		if (rc == CF_OK)
			rc = store_pack(&p->workers[0], 0);
		if (rc == CF_OK)
			rc = store_pack(&p->workers[0], 1);
	} else {
		stop(p, 0);
		if ((rc = p->err) != CF_OK)
			cf_error_set(rc, "%s", p->errmsg);
	}
	if (bytes_stored != NULL)
		*bytes_stored = p->bytes_stored;
	return rc;
}

void
cf_packer_free(struct cf_packer *p)
{
	if (p == NULL)
		return;
	stop(p, 1);
	for (size_t i = 0; i < p->qlen; i++) {
		struct job *j = &p->queue[(p->qhead + i) % p->qcap];
		if (j->owned)
			free(j->buf);
		else
			p->pool[p->nfree++] = j->buf;
	}
	/* The pool held file contents: wipe before freeing. */
	for (size_t i = 0; i < p->nfree; i++) {
		sodium_memzero(p->pool[i], p->bufcap);
		free(p->pool[i]);
	}
	free(p->pool);
	free(p->queue);
	for (size_t i = 0; p->workers != NULL && i < p->nworkers; i++)
		worker_free(&p->workers[i]);
	free(p->workers);
	pthread_cond_destroy(&p->cv_job);
	pthread_cond_destroy(&p->cv_room);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
