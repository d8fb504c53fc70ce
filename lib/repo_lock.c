/*
 * repo_lock.c: shared and exclusive repository locks (see repo.h, lock.h).
 *
 * Locks are advisory objects: a backup holds a shared one, prune and forget
 * an exclusive one, so prune never deletes a pack that a running backup has
 * written but not yet indexed.  Taking a lock is write-then-look: write
 * ours, list the others, and back off if one conflicts, so two processes
 * racing both back off rather than both proceeding.
 */
#include "repo_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"

struct cf_lock {
	struct cf_repo *r;
	struct cf_lock_info info;
	char name[CF_OBJECT_NAME_MAX];
};

struct lock_scan {
	struct cf_repo *r;
	const char *own;                /* our lock's name, or NULL */
	int want_exclusive;
	char host[256];
	int64_t now;
	struct cf_buf buf;
	int conflict;
	char why[512];
};

static int
lock_is_stale(const struct lock_scan *s, const struct cf_lock_info *l)
{
	if (s->now - l->time > CF_LOCK_STALE_SECONDS)
		return 1;
	/* A lock of this host whose process is gone was left by a crash. */
	if (strcmp(l->host, s->host) == 0 && l->pid != 0 &&
	    kill((pid_t)l->pid, 0) != 0 && errno == ESRCH)
		return 1;
	return 0;
}

static cf_status
lock_scan_one(void *arg, const char *name)
{
	struct lock_scan *s = arg;
	struct cf_lock_info l;

	if (s->own != NULL && strcmp(name, s->own) == 0)
		return CF_OK;
	cf_status rc;

	cf_buf_reset(&s->buf);
	rc = cf_backend_get(s->r->be, name, 0, CF_BACKEND_TO_END, &s->buf);
	if (rc == CF_ERR_NOTFOUND) {
		cf_error_clear();
		return CF_OK;   /* removed meanwhile */
	}
	if (rc != CF_OK)        /* unknown: not a reason to ignore it */
		return cf_error_prefix("reading lock %s: ", name);
	if (cf_lock_decode(s->buf.p, s->buf.len, s->r->keys->index_key,
	    &l) != CF_OK)
		return CF_OK;   /* not a lock we can read: ignore it */
	if (lock_is_stale(s, &l)) {
		(void)cf_backend_del(s->r->be, name);
		return CF_OK;
	}
	if (s->want_exclusive || l.exclusive) {
		s->conflict = 1;
		snprintf(s->why, sizeof(s->why),
		    "the repository is locked (%s lock) by process %u on %s "
		    "since %lld seconds ago; if no coffre runs there any more, "
		    "the lock expires %d minutes after its last refresh",
		    l.exclusive ? "exclusive" : "shared", l.pid, l.host,
		    (long long)(s->now - l.time), CF_LOCK_STALE_SECONDS / 60);
	}
	return CF_OK;
}

static cf_status
lock_scan(struct cf_repo *r, const char *own, int exclusive, int *conflict,
    char *why, size_t whylen)
{
	struct lock_scan s;
	cf_status rc;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.own = own;
	s.want_exclusive = exclusive;
	s.now = (int64_t)repo_now().tv_sec;
	if (gethostname(s.host, sizeof(s.host) - 1) != 0)
		s.host[0] = '\0';
	cf_buf_init(&s.buf, 4096);
	rc = cf_backend_list(r->be, "locks", lock_scan_one, &s);
	cf_buf_free(&s.buf);
	*conflict = s.conflict;
	snprintf(why, whylen, "%s", s.why);
	return rc;
}

static cf_status
lock_write(struct cf_lock *l)
{
	struct cf_buf buf;
	uint8_t h[CF_HASH_BYTES];
	cf_status rc;

	l->info.time = (int64_t)repo_now().tv_sec;
	cf_buf_init(&buf, 4096);
	if ((rc = cf_lock_encode(&l->info, l->r->keys->index_key, &buf)) ==
	    CF_OK && (rc = repo_put_named(l->r, "locks", buf.p, buf.len, h)) ==
	    CF_OK)
		repo_object_name(l->name, sizeof(l->name), "locks", h);
	cf_buf_free(&buf);
	return rc;
}

cf_status
cf_lock_acquire(struct cf_repo *r, int exclusive, struct cf_lock **out)
{
	struct cf_lock *l;
	char why[512];
	int conflict;
	cf_status rc;

	*out = NULL;
	if ((rc = lock_scan(r, NULL, exclusive, &conflict, why,
	    sizeof(why))) != CF_OK)
		return rc;
	if (conflict)
		return cf_error_set(CF_ERR_LOCKED, "%s", why);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	l->r = r;
	l->info.exclusive = exclusive ? 1 : 0;
	l->info.pid = (uint32_t)getpid();
	memcpy(l->info.author, cf_identity_public(r->id), CF_SIGN_PK_BYTES);
	if (gethostname(l->info.host, sizeof(l->info.host) - 1) != 0)
		l->info.host[0] = '\0';
	if ((rc = lock_write(l)) != CF_OK) {
		free(l);
		return rc;
	}
	/* Someone may have written theirs between our look and our write. */
	if ((rc = lock_scan(r, l->name, exclusive, &conflict, why,
	    sizeof(why))) != CF_OK || conflict) {
		cf_lock_release(l);
		return rc != CF_OK ? rc : cf_error_set(CF_ERR_LOCKED, "%s", why);
	}
	*out = l;
	return CF_OK;
}

cf_status
cf_lock_refresh(struct cf_lock *l)
{
	char old[CF_OBJECT_NAME_MAX];
	cf_status rc;

	if (l == NULL ||
	    repo_now().tv_sec - l->info.time < CF_LOCK_REFRESH_SECONDS)
		return CF_OK;
	memcpy(old, l->name, sizeof(old));
	if ((rc = lock_write(l)) != CF_OK)
		return rc;
	(void)cf_backend_del(l->r->be, old);
	return CF_OK;
}

cf_status
cf_lock_verify(struct cf_lock *l)
{
	char why[512];
	uint64_t size;
	int conflict;
	cf_status rc;

	if (cf_backend_stat(l->r->be, l->name, &size) != CF_OK)
		return cf_error_set(CF_ERR_LOCKED, "our lock disappeared (another "
		    "process took it for stale): stopping before changing "
		    "anything");
	if ((rc = lock_scan(l->r, l->name, l->info.exclusive, &conflict, why,
	    sizeof(why))) != CF_OK)
		return rc;
	if (conflict)
		return cf_error_set(CF_ERR_LOCKED, "%s", why);
	return CF_OK;
}

void
cf_lock_release(struct cf_lock *l)
{
	if (l == NULL)
		return;
	(void)cf_backend_del(l->r->be, l->name);
	free(l);
}
