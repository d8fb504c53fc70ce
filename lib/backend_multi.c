/*
 * backend_multi.c: several destinations behind one backend table.
 * The contract is in backend_multi.h.
 */
#include "backend_multi.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "nameset.h"

struct dest {
	char *location;
	struct cf_backend *be;          /* NULL: offline from the start */
	int failed;                     /* an operation failed in this run */
	int created;
	uint64_t missed_puts, missed_bytes, missed_dels, bad_reads;
	char error[256];
};

struct multi {
	struct dest d[CF_DESTINATIONS_MAX];
	size_t n;
	pthread_mutex_t mu;             /* guards the counters and flags */
};

static const struct cf_backend_ops multi_ops;

static struct multi *
multi_of(const struct cf_backend *b)
{
	return (b != NULL && b->ops == &multi_ops) ? b->ctx : NULL;
}

/* ---- content names ---- */

int
cf_object_content_named(const char *name)
{
	return strncmp(name, "data/", 5) == 0 ||
	    strncmp(name, "index/", 6) == 0 ||
	    strncmp(name, "snapshots/", 10) == 0 ||
	    strncmp(name, "locks/", 6) == 0;
}

cf_status
cf_object_verify(const char *name, const void *p, size_t n)
{
	uint8_t h[CF_HASH_BYTES];
	char hex[2 * CF_HASH_BYTES + 1];
	const char *last;

	if (!cf_object_content_named(name))
		return CF_OK;
	last = strrchr(name, '/') + 1;
	cf_name_hash(h, p, n);
	cf_hex_encode(hex, h, sizeof(h));
	if (strcmp(last, hex) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "object %s: its bytes do not hash to its name", name);
	/* A pack lives in the directory of its first byte. */
	if (strncmp(name, "data/", 5) == 0 &&
	    (last - name != 8 || memcmp(name + 5, hex, 2) != 0))
		return cf_error_set(CF_ERR_CORRUPT,
		    "object %s: stored under the wrong directory", name);
	return CF_OK;
}

/* ---- bookkeeping ---- */

/*
 * dest_fail(m, d, what, name): note that ${d} failed, with the current
 * error message, the first time.  Later puts skip it.
 */
static void
dest_fail(struct multi *m, struct dest *d, const char *what, const char *name)
{
	pthread_mutex_lock(&m->mu);
	if (!d->failed) {
		d->failed = 1;
		snprintf(d->error, sizeof(d->error), "%s %s: %s", what, name,
		    cf_error_message());
	}
	pthread_mutex_unlock(&m->mu);
}

static int
dest_usable(struct multi *m, struct dest *d)
{
	int ok;

	pthread_mutex_lock(&m->mu);
	ok = d->be != NULL && !d->failed;
	pthread_mutex_unlock(&m->mu);
	return ok;
}

/* ---- put: every destination in parallel ---- */

struct put_job {
	struct multi *m;
	struct dest *d;
	const char *name;
	const void *data;
	size_t len;
	int skipped;                    /* lagging already: not attempted */
	cf_status rc;
	pthread_t thread;
	int started;
};

static void
put_one(struct put_job *j)
{
	if (!dest_usable(j->m, j->d)) {
		j->skipped = 1;
		j->rc = CF_ERR_IO;
		return;
	}
	j->rc = cf_backend_put(j->d->be, j->name, j->data, j->len);
	if (j->rc != CF_OK && j->rc != CF_ERR_EXISTS)
		dest_fail(j->m, j->d, "storing", j->name);
}

static void *
put_thread(void *arg)
{
	put_one(arg);
	return NULL;
}

static cf_status
multi_put(void *ctx, const char *name, const void *data, size_t len)
{
	struct multi *m = ctx;
	struct put_job jobs[CF_DESTINATIONS_MAX];
	cf_status first_err = CF_OK;
	char msg[sizeof(m->d[0].error)] = "";
	int stored = 0, exists = 0;

	memset(jobs, 0, sizeof(jobs));
	for (size_t i = 0; i < m->n; i++) {
		jobs[i] = (struct put_job){ .m = m, .d = &m->d[i],
		    .name = name, .data = data, .len = len };
	}
	/*
	 * Destinations 1.. on their own threads, 0 on this one: a slow link
	 * then costs the time of the slowest destination, not the sum.  A
	 * thread that cannot start runs inline.
	 */
	for (size_t i = 1; i < m->n; i++) {
		if (pthread_create(&jobs[i].thread, NULL, put_thread,
		    &jobs[i]) == 0)
			jobs[i].started = 1;
		else
			put_one(&jobs[i]);
	}
	if (m->n > 0)
		put_one(&jobs[0]);
	for (size_t i = 1; i < m->n; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		if (jobs[i].rc == CF_OK) {
			stored++;
		} else if (jobs[i].rc == CF_ERR_EXISTS) {
			exists++;
		} else {
			m->d[i].missed_puts++;
			m->d[i].missed_bytes += len;
			if (first_err == CF_OK && !jobs[i].skipped)
				first_err = jobs[i].rc;
		}
	}
	if (exists == 0 && stored == 0) {
		/* Nowhere: the error of the first destination that tried. */
		for (size_t i = 0; i < m->n; i++) {
			if (!jobs[i].skipped) {
				snprintf(msg, sizeof(msg), "%s", m->d[i].error);
				break;
			}
		}
	}
	pthread_mutex_unlock(&m->mu);
	if (exists > 0)
		return cf_error_set(CF_ERR_EXISTS, "object %s exists", name);
	if (stored > 0)
		return CF_OK;
	if (msg[0] != '\0')
		return cf_error_set(first_err != CF_OK ? first_err : CF_ERR_IO,
		    "storing %s: %s", name, msg);
	return cf_error_set(CF_ERR_IO,
	    "storing %s: no destination is reachable", name);
}

/* ---- get / stat: in order, falling back ---- */

/*
 * read_order(m, pass, i): whether destination ${i} is read in ${pass}:
 * healthy destinations first (0), then those that failed an operation in
 * this run (1), which may still serve reads (a full disk reads fine).
 */
static int
read_order(struct multi *m, int pass, size_t i)
{
	int healthy;

	if (m->d[i].be == NULL)
		return 0;
	healthy = dest_usable(m, &m->d[i]);
	return pass == 0 ? healthy : !healthy;
}

static cf_status
multi_get(void *ctx, const char *name, uint64_t off, uint64_t len,
    struct cf_buf *out)
{
	struct multi *m = ctx;
	size_t keep = out->len;
	cf_status rc, best = CF_ERR_NOTFOUND;
	char first[512] = "";
	int tried = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->n; i++) {
			struct dest *d = &m->d[i];

			if (!read_order(m, pass, i))
				continue;
			tried++;
			out->len = keep;
			rc = cf_backend_get(d->be, name, off, len, out);
			if (rc == CF_OK && off == 0 &&
			    len == CF_BACKEND_TO_END)
				rc = cf_object_verify(name, out->p + keep,
				    out->len - keep);
			if (rc == CF_OK)
				return CF_OK;
			if (rc == CF_ERR_NOMEM) {
				/* Too large for the caller: so is any copy. */
				out->len = keep;
				return rc;
			}
			if (rc != CF_ERR_NOTFOUND) {
				pthread_mutex_lock(&m->mu);
				d->bad_reads++;
				if (d->error[0] == '\0')
					snprintf(d->error, sizeof(d->error),
					    "reading %s: %s", name,
					    cf_error_message());
				pthread_mutex_unlock(&m->mu);
				if (best == CF_ERR_NOTFOUND) {
					best = rc;
					snprintf(first, sizeof(first),
					    "%s: %s", d->location,
					    cf_error_message());
				}
			}
		}
	}
	out->len = keep;
	if (tried == 0)
		return cf_error_set(CF_ERR_IO,
		    "reading %s: no destination is reachable", name);
	if (best == CF_ERR_NOTFOUND)
		return cf_error_set(CF_ERR_NOTFOUND, "object %s not found",
		    name);
	return cf_error_set(best, "reading %s: no destination has a good "
	    "copy (first failure: %s)", name, first);
}

static cf_status
multi_stat(void *ctx, const char *name, uint64_t *size)
{
	struct multi *m = ctx;
	cf_status rc, best = CF_ERR_NOTFOUND;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->n; i++) {
			if (!read_order(m, pass, i))
				continue;
			rc = cf_backend_stat(m->d[i].be, name, size);
			if (rc == CF_OK)
				return CF_OK;
			if (best == CF_ERR_NOTFOUND)
				best = rc;
		}
	}
	if (best == CF_ERR_NOTFOUND)
		return cf_error_set(CF_ERR_NOTFOUND, "object %s not found",
		    name);
	return best;
}

/* ---- list: the union ---- */

static cf_status
multi_list(void *ctx, const char *dir, cf_backend_list_fn fn, void *arg)
{
	struct multi *m = ctx;
	struct cf_nameset set = { 0 };
	cf_status rc = CF_OK;
	int listed = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct dest *d = &m->d[i];

		if (!dest_usable(m, d))
			continue;
		rc = cf_backend_list(d->be, dir, cf_nameset_add_cb, &set);
		if (rc == CF_ERR_NOMEM)
			goto out;
		if (rc != CF_OK) {
			/* The others still give a complete enough view. */
			dest_fail(m, d, "listing", dir);
			continue;
		}
		listed++;
	}
	if (listed == 0) {
		rc = cf_error_set(CF_ERR_IO,
		    "listing %s: no destination is reachable", dir);
		goto out;
	}
	rc = CF_OK;
	for (size_t k = 0; k < set.cap && rc == CF_OK; k++)
		if (set.slot[k] != NULL)
			rc = fn(arg, set.slot[k]);
out:
	cf_nameset_free(&set);
	return rc;
}

/* ---- del: everywhere ---- */

static cf_status
multi_del(void *ctx, const char *name)
{
	struct multi *m = ctx;
	int deleted = 0, absent = 0, reached = 0;
	cf_status rc;

	for (size_t i = 0; i < m->n; i++) {
		struct dest *d = &m->d[i];

		if (!dest_usable(m, d)) {
			pthread_mutex_lock(&m->mu);
			d->missed_dels++;
			pthread_mutex_unlock(&m->mu);
			continue;
		}
		reached++;
		rc = cf_backend_del(d->be, name);
		if (rc == CF_OK) {
			deleted++;
		} else if (rc == CF_ERR_NOTFOUND) {
			absent++;
		} else {
			dest_fail(m, d, "deleting", name);
			pthread_mutex_lock(&m->mu);
			d->missed_dels++;
			pthread_mutex_unlock(&m->mu);
		}
	}
	if (deleted > 0)
		return CF_OK;
	if (absent > 0 && absent == reached)
		return cf_error_set(CF_ERR_NOTFOUND, "object %s not found",
		    name);
	return cf_error_set(CF_ERR_IO, "deleting %s: no destination could",
	    name);
}

static void
multi_close(void *ctx)
{
	struct multi *m = ctx;

	for (size_t i = 0; i < m->n; i++) {
		cf_backend_close(m->d[i].be);
		free(m->d[i].location);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const struct cf_backend_ops multi_ops = {
	.scheme = "multi",
	.put = multi_put,
	.get = multi_get,
	.stat = multi_stat,
	.list = multi_list,
	.del = multi_del,
	.close = multi_close,
};

/* ---- open ---- */

/*
 * same_configs(m): every opened destination's config has the same bytes; one
 * whose config cannot be read is taken offline.  Destinations created
 * empty (for sync) are left out.
 */
static cf_status
same_configs(struct multi *m)
{
	struct cf_buf ref, cur;
	size_t ref_i = 0;
	int have_ref = 0;
	cf_status rc = CF_OK;

	cf_buf_init(&ref, 4096);
	cf_buf_init(&cur, 4096);
	for (size_t i = 0; i < m->n; i++) {
		struct dest *d = &m->d[i];

		if (d->be == NULL || d->created)
			continue;
		cf_buf_reset(&cur);
		rc = cf_backend_get(d->be, "config", 0, CF_BACKEND_TO_END,
		    &cur);
		if (rc != CF_OK) {
			snprintf(d->error, sizeof(d->error),
			    "reading its config: %s", cf_error_message());
			d->failed = 1;
			rc = CF_OK;
			continue;
		}
		if (!have_ref) {
			if ((rc = cf_buf_append(&ref, cur.p, cur.len)) != CF_OK)
				goto out;
			ref_i = i;
			have_ref = 1;
		} else if (ref.len != cur.len ||
		    memcmp(ref.p, cur.p, cur.len) != 0) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "%s and %s hold different repositories (their "
			    "configs differ): give the destinations of one "
			    "repository only", m->d[ref_i].location,
			    d->location);
			goto out;
		}
	}
out:
	cf_buf_free(&ref);
	cf_buf_free(&cur);
	return rc;
}

cf_status
cf_backend_open_many(const char *const *locations, size_t n, int flags,
    const struct cf_backend_opts *opts, struct cf_backend **out)
{
	struct multi *m;
	struct cf_backend *b;
	cf_status rc, first = CF_OK;
	char first_msg[512] = "";
	size_t online = 0;

	*out = NULL;
	if (n == 0 || n > CF_DESTINATIONS_MAX)
		return cf_error_set(CF_ERR_INVALID,
		    "give 1 to %d repository destinations",
		    CF_DESTINATIONS_MAX);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(locations[i], locations[k]) == 0)
				return cf_error_set(CF_ERR_INVALID,
				    "destination %s is given twice",
				    locations[i]);
	if (n == 1)
		return cf_backend_open(locations[0],
		    (flags & CF_MULTI_CREATE) != 0, opts, out);

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return cf_error_set(CF_ERR_NOMEM, "cannot create a mutex");
	}
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		struct dest *d = &m->d[i];

		if ((d->location = strdup(locations[i])) == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			goto err;
		}
		rc = cf_backend_open(locations[i],
		    (flags & CF_MULTI_CREATE) != 0, opts, &d->be);
		if (rc == CF_ERR_NOTFOUND && (flags & CF_MULTI_ADOPT_EMPTY)) {
			rc = cf_backend_open(locations[i], 1, opts, &d->be);
			d->created = rc == CF_OK;
		}
		if (rc != CF_OK) {
			if (flags & CF_MULTI_CREATE) {
				cf_error_prefix("%s: ", locations[i]);
				goto err;
			}
			d->be = NULL;
			snprintf(d->error, sizeof(d->error), "%s",
			    cf_error_message());
			if (first == CF_OK) {
				first = rc;
				snprintf(first_msg, sizeof(first_msg),
				    "%s: %s", locations[i],
				    cf_error_message());
			}
			continue;
		}
	}
	if (!(flags & CF_MULTI_CREATE) &&
	    (rc = same_configs(m)) != CF_OK)
		goto err;
	for (size_t i = 0; i < n; i++)
		if (m->d[i].be != NULL && !m->d[i].failed &&
		    !m->d[i].created)
			online++;
	if (online == 0) {
		rc = cf_error_set(first != CF_OK ? first : CF_ERR_NOTFOUND,
		    "no destination holds the repository (%s)",
		    first_msg[0] != '\0' ? first_msg : m->d[0].error);
		goto err;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->location = strdup(locations[0])) == NULL) {
		free(b);
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	b->ops = &multi_ops;
	b->ctx = m;
	*out = b;
	return CF_OK;
err:
	multi_close(m);
	return rc;
}

size_t
cf_backend_copies(const struct cf_backend *b)
{
	const struct multi *m = multi_of(b);

	return m != NULL ? m->n : 1;
}

struct cf_backend *
cf_backend_copy(struct cf_backend *b, size_t i)
{
	struct multi *m = multi_of(b);

	if (m == NULL)
		return i == 0 ? b : NULL;
	return i < m->n ? m->d[i].be : NULL;
}

void
cf_backend_copy_status(struct cf_backend *b, size_t i,
    struct cf_dest_status *st)
{
	struct multi *m = multi_of(b);

	memset(st, 0, sizeof(*st));
	if (m == NULL) {
		st->location = b->location;
		st->online = st->opened = i == 0;
		return;
	}
	if (i >= m->n)
		return;
	pthread_mutex_lock(&m->mu);
	st->location = m->d[i].location;
	st->opened = m->d[i].be != NULL;
	st->online = st->opened && !m->d[i].failed;
	st->created = m->d[i].created;
	st->missed_puts = m->d[i].missed_puts;
	st->missed_bytes = m->d[i].missed_bytes;
	st->missed_dels = m->d[i].missed_dels;
	st->bad_reads = m->d[i].bad_reads;
	memcpy(st->error, m->d[i].error, sizeof(st->error));
	pthread_mutex_unlock(&m->mu);
}

size_t
cf_backend_lagging(struct cf_backend *b)
{
	struct multi *m = multi_of(b);
	size_t lag = 0;

	if (m == NULL)
		return 0;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++)
		if (m->d[i].be == NULL || m->d[i].failed ||
		    m->d[i].missed_puts > 0 || m->d[i].missed_dels > 0)
			lag++;
	pthread_mutex_unlock(&m->mu);
	return lag;
}
