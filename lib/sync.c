/*
 * sync.c: compare, level and repair the destinations of a repository; see
 * sync.h.
 */
#include "sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backend_multi.h"
#include "bytes.h"
#include "envelope.h"
#include "index.h"
#include "nameset.h"
#include "pack.h"
#include "snapshot.h"

/* A config is 89 bytes today; room for later versions. */
#define SYNC_CONFIG_MAX 4096

struct view {
	struct cf_backend *be;          /* NULL: offline, skipped */
	struct cf_nameset names;        /* what it holds in the current dir */
	int present, bad;               /* for the current object */
	uint64_t size;
};

struct sync {
	struct cf_backend *b;
	struct view v[CF_DESTINATIONS_MAX];
	size_t n;
	int flags;
	const uint8_t *config_hash;
	cf_sync_report_fn report;
	cf_sync_progress_fn progress;
	void *arg;
	struct cf_sync_stats *st;
	struct cf_buf good, cur;
	uint64_t done, total, bytes;
};

static void
report(struct sync *s, size_t i, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
report(struct sync *s, size_t i, const char *name, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (s->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->report(s->arg, i, name, what);
}

static size_t
object_max(const char *name)
{
	if (strncmp(name, "data/", 5) == 0)
		return CF_PACK_MAX;
	if (strncmp(name, "index/", 6) == 0)
		return CF_INDEX_FILE_MAX;
	if (strncmp(name, "snapshots/", 10) == 0)
		return CF_SNAPSHOT_MAX;
	if (strncmp(name, "keys/", 5) == 0)
		return CF_ENVELOPE_MAX;
	return SYNC_CONFIG_MAX;
}

/*
 * object_ok(s, name, p, n): whether these bytes can be the object: a
 * content-named object must hash to its name, the config to the known
 * config hash.  Sets the error message when not.
 */
static int
object_ok(const struct sync *s, const char *name, const void *p, size_t n)
{
	uint8_t h[CF_HASH_BYTES];

	if (cf_object_content_named(name))
		return cf_object_verify(name, p, n) == CF_OK;
	if (strcmp(name, "config") == 0 && s->config_hash != NULL) {
		cf_hash(h, p, n);
		if (sodium_memcmp(h, s->config_hash, sizeof(h)) != 0) {
			cf_error_set(CF_ERR_CORRUPT, "the config differs from "
			    "the one the repository was opened with");
			return 0;
		}
	}
	return 1;
}

/*
 * read_copy(s, i, name, buf): read destination ${i}'s copy whole into
 * ${buf} and check it; 1 if good.  A bad copy is counted and reported.
 */
static int
read_copy(struct sync *s, size_t i, const char *name, struct cf_buf *buf)
{
	cf_status rc;

	cf_buf_reset(buf);
	buf->max = object_max(name);
	rc = cf_backend_get(s->v[i].be, name, 0, CF_BACKEND_TO_END, buf);
	if (rc == CF_OK && object_ok(s, name, buf->p, buf->len))
		return 1;
	s->v[i].bad = 1;
	s->st->damaged++;
	report(s, i, name, "damaged: %s", cf_error_message());
	return 0;
}

/*
 * find_good(s, name, have_good): make s->good hold a checked copy, reading
 * present copies in order; 1 if one was found.
 */
static int
find_good(struct sync *s, const char *name, int have_good)
{
	if (have_good)
		return 1;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].be == NULL || !s->v[i].present || s->v[i].bad)
			continue;
		if (read_copy(s, i, name, &s->good))
			return 1;
	}
	return 0;
}

/* verify_all(s, name): read every present copy; returns have_good. */
static int
verify_all(struct sync *s, const char *name)
{
	int have_good = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].be == NULL || !s->v[i].present || s->v[i].bad)
			continue;
		if (!have_good) {
			have_good = read_copy(s, i, name, &s->good);
			continue;
		}
		if (!read_copy(s, i, name, &s->cur))
			continue;
		if (s->cur.len != s->good.len ||
		    memcmp(s->cur.p, s->good.p, s->cur.len) != 0) {
			/* Both pass their checks: only an envelope can. */
			s->st->conflicts++;
			report(s, i, name, "differs from another "
			    "destination's copy; left as it is (check which "
			    "member's envelope is right)");
		}
	}
	return have_good;
}

/* sizes_differ(s, name): stat the present copies; 1 if sizes disagree. */
static int
sizes_differ(struct sync *s, const char *name)
{
	int have = 0, differ = 0;
	uint64_t first = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].be == NULL || !s->v[i].present)
			continue;
		if (cf_backend_stat(s->v[i].be, name, &s->v[i].size) !=
		    CF_OK) {
			/* Listed but unreadable: treat as damaged. */
			s->v[i].bad = 1;
			s->st->damaged++;
			report(s, i, name, "cannot be read: %s",
			    cf_error_message());
			continue;
		}
		if (!have) {
			first = s->v[i].size;
			have = 1;
		} else if (s->v[i].size != first) {
			differ = 1;
		}
	}
	return differ;
}

/* sync_object(s, name): compare ${name} across destinations, fix it. */
static cf_status
sync_object(struct sync *s, const char *name)
{
	int have_good = 0, need = 0, unrepairable = 0;
	cf_status rc;

	for (size_t i = 0; i < s->n; i++) {
		s->v[i].present = s->v[i].be != NULL &&
		    cf_nameset_has(&s->v[i].names, name);
		s->v[i].bad = 0;
	}
	s->st->objects++;
	if ((s->flags & CF_SYNC_VERIFY) || sizes_differ(s, name))
		have_good = verify_all(s, name);

	for (size_t i = 0; i < s->n; i++) {
		struct view *v = &s->v[i];

		if (v->be == NULL)
			continue;
		if (!v->present) {
			s->st->missing++;
			need = 1;
			if (!(s->flags & CF_SYNC_WRITE))
				report(s, i, name, "missing");
		} else if (v->bad) {
			need = 1;
		}
	}
	if (!need || !(s->flags & CF_SYNC_WRITE))
		goto done;
	if (!find_good(s, name, have_good)) {
		s->st->unrepairable++;
		unrepairable = 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct view *v = &s->v[i];

		if (v->be == NULL || (v->present && !v->bad))
			continue;
		if (unrepairable) {
			report(s, i, name, "%s, and no destination has a "
			    "good copy", v->present ? "damaged" : "missing");
			continue;
		}
		if (v->present &&
		    (rc = cf_backend_del(v->be, name)) != CF_OK &&
		    rc != CF_ERR_NOTFOUND) {
			s->st->failed++;
			report(s, i, name, "damaged, and cannot be removed: %s",
			    cf_error_message());
			continue;
		}
		rc = cf_backend_put(v->be, name, s->good.p, s->good.len);
		if (rc != CF_OK) {
			s->st->failed++;
			report(s, i, name, "%s, and the copy failed: %s",
			    v->present ? "damaged" : "missing",
			    cf_error_message());
			continue;
		}
		s->st->copied++;
		s->st->copied_bytes += s->good.len;
		s->bytes += s->good.len;
		report(s, i, name, v->present ? "damaged: replaced by a good "
		    "copy" : "missing: copied");
	}
done:
	s->done++;
	if (s->progress != NULL)
		s->progress(s->arg, s->done, s->total, s->bytes);
	return CF_OK;
}

/* sync_dir(s, dir): list ${dir} everywhere, then sync each name. */
static cf_status
sync_dir(struct sync *s, const char *dir)
{
	struct cf_nameset all = { 0 };
	const char **sorted = NULL;
	cf_status rc = CF_OK;
	int listed = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].be == NULL)
			continue;
		cf_nameset_free(&s->v[i].names);
		if (strcmp(dir, "config") == 0) {
			uint64_t size;

			rc = cf_backend_stat(s->v[i].be, "config", &size);
			if (rc == CF_OK)
				rc = cf_nameset_add(&s->v[i].names, "config");
			else if (rc == CF_ERR_NOTFOUND)
				rc = CF_OK;
		} else {
			rc = cf_backend_list(s->v[i].be, dir,
			    cf_nameset_add_cb, &s->v[i].names);
		}
		if (rc == CF_ERR_NOMEM)
			goto out;
		if (rc != CF_OK) {
			report(s, i, dir, "cannot be listed: %s; this "
			    "destination is skipped", cf_error_message());
			s->v[i].be = NULL;
			rc = CF_OK;
			continue;
		}
		listed++;
		for (size_t k = 0; k < s->v[i].names.cap; k++)
			if (s->v[i].names.slot[k] != NULL &&
			    (rc = cf_nameset_add(&all,
			    s->v[i].names.slot[k])) != CF_OK)
				goto out;
	}
	if (listed == 0) {
		rc = cf_error_set(CF_ERR_IO, "no destination could be listed");
		goto out;
	}
	if ((rc = cf_nameset_sorted(&all, &sorted)) != CF_OK)
		goto out;
	s->total += all.n;
	for (size_t k = 0; k < all.n && rc == CF_OK; k++)
		rc = sync_object(s, sorted[k]);
out:
	free(sorted);
	cf_nameset_free(&all);
	return rc;
}

cf_status
cf_sync_run(struct cf_backend *b, int flags, const uint8_t *config_hash,
    cf_sync_report_fn report_fn, cf_sync_progress_fn progress, void *arg,
    struct cf_sync_stats *st)
{
	/* Data before what names it: a filling destination stays valid. */
	static const char *const dirs[] = {
		"config", "keys", "data", "index", "snapshots",
	};
	struct sync s;
	struct cf_dest_status ds;
	cf_status rc = CF_OK;

	memset(st, 0, sizeof(*st));
	memset(&s, 0, sizeof(s));
	s.b = b;
	s.n = cf_backend_copies(b);
	s.flags = flags;
	s.config_hash = config_hash;
	s.report = report_fn;
	s.progress = progress;
	s.arg = arg;
	s.st = st;
	cf_buf_init(&s.good, CF_PACK_MAX);
	cf_buf_init(&s.cur, CF_PACK_MAX);
	for (size_t i = 0; i < s.n; i++) {
		cf_backend_copy_status(b, i, &ds);
		s.v[i].be = ds.online ? cf_backend_copy(b, i) : NULL;
	}
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		if ((rc = sync_dir(&s, dirs[d])) != CF_OK)
			break;
	for (size_t i = 0; i < s.n; i++)
		cf_nameset_free(&s.v[i].names);
	cf_buf_free(&s.good);
	cf_buf_free(&s.cur);
	return rc;
}
