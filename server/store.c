/*
 * store.c: the tenants' objects on the local filesystem (see store.h).
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crypto.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define TMP_DIR "tmp"
#define TMP_RANDOM 16
#define TMP_SUFFIX ".tmp"
#define TMP_LEN (2 * TMP_RANDOM + 4)

_Static_assert(TMP_LEN < sizeof(((struct srv_upload *)0)->tmpname),
    "temporary name size");

struct srv_store {
	int tenants;            /* STATE/tenants */
};

static cf_status
io_error(const char *what, const char *tenant, const char *name, int err)
{
	return cf_error_set(CF_ERR_IO, "%s %s%s%s: %s", what, tenant,
	    name != NULL ? "/" : "", name != NULL ? name : "", strerror(err));
}

/* sync_dir(fd): fsync a directory (not an error where unsupported). */
static int
sync_dir(int fd)
{
	if (fsync(fd) == 0 || errno == EINVAL || errno == ENOTSUP ||
	    errno == EOPNOTSUPP)
		return 0;
	return -1;
}

/*
 * open_subdir(parent, comp, create): directory ${comp} of ${parent},
 * never through a symbolic link; with ${create}, made (0700) if missing and
 * ${parent} fsync'ed.  -1 with errno on failure.
 */
static int
open_subdir(int parent, const char *comp, int create)
{
	int fd;

	if ((fd = openat(parent, comp, DIR_FLAGS)) >= 0 || errno != ENOENT ||
	    !create)
		return fd;
	if (mkdirat(parent, comp, 0700) == 0) {
		if (sync_dir(parent) != 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	return openat(parent, comp, DIR_FLAGS);
}

cf_status
srv_store_open(const char *state_dir, struct srv_store **out)
{
	struct srv_store *st;
	int root;

	*out = NULL;
	if ((root = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cf_error_set(CF_ERR_IO, "cannot open state directory "
		    "%s: %s", state_dir, strerror(errno));
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		close(root);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	if ((st->tenants = open_subdir(root, "tenants", 1)) < 0) {
		cf_status rc = cf_error_set(CF_ERR_IO, "cannot open %s/tenants:"
		    " %s (it must be a directory, not a symbolic link)",
		    state_dir, strerror(errno));
		close(root);
		free(st);
		return rc;
	}
	close(root);
	*out = st;
	return CF_OK;
}

void
srv_store_close(struct srv_store *st)
{
	if (st == NULL)
		return;
	close(st->tenants);
	free(st);
}

/* open_tenant(st, tenant): the tenant's directory, or -1 with an error. */
static int
open_tenant(struct srv_store *st, const char *tenant)
{
	int fd;

	if (!srv_tenant_ok(tenant, strlen(tenant))) {
		cf_error_set(CF_ERR_INVALID, "invalid tenant name");
		errno = EINVAL;
		return -1;
	}
	if ((fd = openat(st->tenants, tenant, DIR_FLAGS)) < 0) {
		int err = errno;
		if (err == ENOENT)
			cf_error_set(CF_ERR_NOTFOUND, "the directory of tenant "
			    "%s is missing", tenant);
		else
			io_error("cannot open the directory of tenant", tenant,
			    NULL, err);
		errno = err;
	}
	return fd;
}

cf_status
srv_store_tenant_create(struct srv_store *st, const char *tenant, int adopt)
{
	int fd;

	if (!srv_tenant_ok(tenant, strlen(tenant)))
		return cf_error_set(CF_ERR_INVALID, "invalid tenant name");
	if (mkdirat(st->tenants, tenant, 0700) != 0) {
		if (errno != EEXIST)
			return io_error("cannot create the directory of "
			    "tenant", tenant, NULL, errno);
		if (!adopt)
			return cf_error_set(CF_ERR_EXISTS, "the directory "
			    "tenants/%s exists already (left by a removed "
			    "tenant?): move it away, or add the tenant with "
			    "--adopt to take its objects over", tenant);
	}
	if ((fd = open_tenant(st, tenant)) < 0)
		return cf_error_code();
	if (sync_dir(st->tenants) != 0) {
		cf_status rc = io_error("cannot flush to disk the directory "
		    "of tenant", tenant, NULL, errno);
		close(fd);
		return rc;
	}
	close(fd);
	return CF_OK;
}

/*
 * open_dir_of(tfd, name, create, last): the directory holding object
 * ${name} (valid per route.c, so at most 3 short [a-z0-9] components) of
 * the tenant directory ${tfd}, opened a component at a time; ${last} the
 * final component.  -1 with errno.
 */
static int
open_dir_of(int tfd, const char *name, int create, const char **last)
{
	char comp[CF_OBJECT_NAME_MAX + 1];
	const char *p = name, *slash;
	int fd, next;

	if ((fd = fcntl(tfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);

		memcpy(comp, p, n);
		comp[n] = '\0';
		next = open_subdir(fd, comp, create);
		if (next < 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*last = p;
	return fd;
}

/* ---------------------------------------------------------------- upload */

cf_status
srv_upload_begin(struct srv_store *st, const char *tenant,
    struct srv_upload *u)
{
	uint8_t rnd[TMP_RANDOM];

	memset(u, 0, sizeof(*u));
	u->tenant_fd = u->tmp_fd = u->fd = -1;
	if ((u->tenant_fd = open_tenant(st, tenant)) < 0)
		return cf_error_code();
	if ((u->tmp_fd = open_subdir(u->tenant_fd, TMP_DIR, 1)) < 0) {
		cf_status rc = io_error("cannot open the tmp directory of "
		    "tenant", tenant, NULL, errno);
		srv_upload_abort(u);
		return rc;
	}
	cf_random(rnd, sizeof(rnd));
	cf_hex_encode(u->tmpname, rnd, sizeof(rnd));
	memcpy(u->tmpname + 2 * TMP_RANDOM, TMP_SUFFIX, sizeof(TMP_SUFFIX));
	if ((u->fd = openat(u->tmp_fd, u->tmpname, O_CREAT | O_EXCL |
	    O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		cf_status rc = io_error("cannot create a temporary file for "
		    "tenant", tenant, NULL, errno);
		u->tmpname[0] = '\0';
		srv_upload_abort(u);
		return rc;
	}
	cf_name_hash_init(&u->hash);
	return CF_OK;
}

cf_status
srv_upload_write(struct srv_upload *u, const void *p, size_t n)
{
	const uint8_t *b = p;

	cf_name_hash_update(&u->hash, b, n);
	u->bytes += n;
	while (n > 0) {
		ssize_t w = write(u->fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cf_error_set(CF_ERR_IO, "cannot write an upload:"
			    " %s", w < 0 ? strerror(errno) : "no progress");
		b += w;
		n -= (size_t)w;
	}
	return CF_OK;
}

void
srv_upload_hash(struct srv_upload *u, uint8_t out[32])
{
	cf_name_hash_final(&u->hash, out);
}

void
srv_upload_abort(struct srv_upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	if (u->tmp_fd >= 0) {
		if (u->tmpname[0] != '\0')
			unlinkat(u->tmp_fd, u->tmpname, 0);
		close(u->tmp_fd);
	}
	if (u->tenant_fd >= 0)
		close(u->tenant_fd);
	u->fd = u->tmp_fd = u->tenant_fd = -1;
	u->tmpname[0] = '\0';
}

/* place(u, dfd, last): tmp/NAME appears as ${last} in ${dfd}, if absent. */
static int
place(struct srv_upload *u, int dfd, const char *last)
{
	if (linkat(u->tmp_fd, u->tmpname, dfd, last, 0) == 0)
		return 0;
	if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP &&
	    errno != ENOSYS)
		return -1;
	/* A filesystem without hard links: rename without replacing. */
	return (int)syscall(SYS_renameat2, u->tmp_fd, u->tmpname, dfd, last,
	    RENAME_NOREPLACE);
}

cf_status
srv_upload_commit(struct srv_upload *u, const char *name)
{
	const char *last;
	cf_status rc = CF_OK;
	int dfd, fd = u->fd;

	u->fd = -1;
	if (fsync(fd) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot flush an upload to disk: "
		    "%s", strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot write an upload: %s",
		    strerror(errno));
		goto out;
	}
	if ((dfd = open_dir_of(u->tenant_fd, name, 1, &last)) < 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot open the directory of %s:"
		    " %s", name, strerror(errno));
		goto out;
	}
	if (place(u, dfd, last) != 0) {
		if (errno == EEXIST)
			rc = cf_error_set(CF_ERR_EXISTS, "object exists");
		else
			rc = cf_error_set(CF_ERR_IO, "cannot store %s: %s",
			    name, strerror(errno));
	} else if (sync_dir(dfd) != 0) {
		rc = cf_error_set(CF_ERR_IO, "cannot flush to disk the "
		    "directory of %s: %s", name, strerror(errno));
	}
	close(dfd);
out:
	srv_upload_abort(u);
	return rc;
}

/* ------------------------------------------------------------ read, delete */

cf_status
srv_store_open_object(struct srv_store *st, const char *tenant,
    const char *name, int *fdp, uint64_t *size)
{
	const char *last;
	struct stat sb;
	int tfd, dfd, fd, err;

	*fdp = -1;
	if ((tfd = open_tenant(st, tenant)) < 0)
		return cf_error_code();
	dfd = open_dir_of(tfd, name, 0, &last);
	err = errno;
	close(tfd);
	if (dfd < 0) {
		if (err == ENOENT || err == ENOTDIR || err == ELOOP)
			return cf_error_set(CF_ERR_NOTFOUND, "no such object");
		return io_error("cannot open", tenant, name, err);
	}
	/* O_NONBLOCK: a FIFO planted under an object's name cannot hang us. */
	fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	err = errno;
	close(dfd);
	if (fd < 0) {
		if (err == ENOENT || err == ENOTDIR || err == ELOOP ||
		    err == EISDIR)
			return cf_error_set(CF_ERR_NOTFOUND, "no such object");
		return io_error("cannot open", tenant, name, err);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0) {
		close(fd);
		return cf_error_set(CF_ERR_NOTFOUND, "no such object");
	}
	*fdp = fd;
	*size = (uint64_t)sb.st_size;
	return CF_OK;
}

/* stat_object(tfd, name, sb, dfd_out): lstat of an object; 0 or -1/errno. */
static int
stat_object(int tfd, const char *name, struct stat *sb, int *dfdp,
    const char **lastp)
{
	const char *last;
	int dfd;

	if ((dfd = open_dir_of(tfd, name, 0, &last)) < 0)
		return -1;
	if (fstatat(dfd, last, sb, AT_SYMLINK_NOFOLLOW) != 0) {
		int err = errno;
		close(dfd);
		errno = err;
		return -1;
	}
	if (dfdp != NULL) {
		*dfdp = dfd;
		*lastp = last;
	} else {
		close(dfd);
	}
	return 0;
}

int
srv_store_exists(struct srv_store *st, const char *tenant, const char *name)
{
	struct stat sb;
	int tfd, r, err;

	if ((tfd = open_tenant(st, tenant)) < 0)
		return -1;
	r = stat_object(tfd, name, &sb, NULL, NULL);
	err = errno;
	close(tfd);
	if (r == 0)
		return 1;       /* any entry takes the name */
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	io_error("cannot examine", tenant, name, err);
	return -1;
}

cf_status
srv_store_delete(struct srv_store *st, const char *tenant, const char *name,
    uint64_t *size)
{
	const char *last;
	struct stat sb;
	cf_status rc = CF_OK;
	int tfd, dfd, err;

	*size = 0;
	if ((tfd = open_tenant(st, tenant)) < 0)
		return cf_error_code();
	if (stat_object(tfd, name, &sb, &dfd, &last) != 0) {
		err = errno;
		close(tfd);
		if (err == ENOENT || err == ENOTDIR || err == ELOOP)
			return cf_error_set(CF_ERR_NOTFOUND, "no such object");
		return io_error("cannot examine", tenant, name, err);
	}
	close(tfd);
	if (!S_ISREG(sb.st_mode)) {
		close(dfd);
		return cf_error_set(CF_ERR_NOTFOUND, "no such object");
	}
	if (unlinkat(dfd, last, 0) != 0) {
		if (errno == ENOENT)
			rc = cf_error_set(CF_ERR_NOTFOUND, "no such object");
		else
			rc = io_error("cannot delete", tenant, name, errno);
	} else if (sync_dir(dfd) != 0) {
		rc = io_error("cannot flush to disk the directory of", tenant,
		    name, errno);
	}
	close(dfd);
	if (rc == CF_OK)
		*size = (uint64_t)sb.st_size;
	return rc;
}

/* ------------------------------------------------------------------ list */

/*
 * The smallest k names seen, kept in a max-heap of indices into fixed
 * slots: memory k * 129 bytes, O(log k) per directory entry.
 */
struct select {
	char (*slot)[CF_OBJECT_NAME_MAX + 1];
	unsigned *heap;
	unsigned n, k;
};

static int
select_init(struct select *s, unsigned k)
{
	s->n = 0;
	s->k = k;
	s->slot = calloc(k, sizeof(*s->slot));
	s->heap = calloc(k, sizeof(*s->heap));
	if (s->slot == NULL || s->heap == NULL) {
		free(s->slot);
		free(s->heap);
		return -1;
	}
	return 0;
}

static void
select_free(struct select *s)
{
	free(s->slot);
	free(s->heap);
}

#define NAME_OF(s, i) ((s)->slot[(s)->heap[i]])

static void
sift_down(struct select *s, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i, t;
		if (l < s->n && strcmp(NAME_OF(s, l), NAME_OF(s, m)) > 0)
			m = l;
		if (r < s->n && strcmp(NAME_OF(s, r), NAME_OF(s, m)) > 0)
			m = r;
		if (m == i)
			return;
		t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

static void
select_add(struct select *s, const char *name)
{
	unsigned i, t;

	if (s->n == s->k) {
		if (strcmp(name, NAME_OF(s, 0)) >= 0)
			return;
		snprintf(NAME_OF(s, 0), CF_OBJECT_NAME_MAX + 1, "%s", name);
		sift_down(s, 0);
		return;
	}
	i = s->n;
	s->heap[i] = s->n;
	snprintf(s->slot[s->n], CF_OBJECT_NAME_MAX + 1, "%s", name);
	s->n++;
	while (i > 0) {
		unsigned p = (i - 1) / 2;
		if (strcmp(NAME_OF(s, p), NAME_OF(s, i)) >= 0)
			break;
		t = s->heap[i];
		s->heap[i] = s->heap[p];
		s->heap[p] = t;
		i = p;
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * scan_dir(parent, comp, prefix, after, s): add to ${s} each regular file
 * of directory ${comp} in ${parent} whose name "${prefix}/entry" is valid
 * and greater than ${after}.
 */
static cf_status
scan_dir(int parent, const char *comp, const char *prefix, const char *after,
    struct select *s)
{
	char full[CF_OBJECT_NAME_MAX + 1];
	struct dirent *e;
	cf_status rc = CF_OK;
	DIR *d;
	int fd;

	if ((fd = openat(parent, comp, DIR_FLAGS)) < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
			return CF_OK;
		return cf_error_set(CF_ERR_IO, "cannot list %s: %s", prefix,
		    strerror(errno));
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return cf_error_set(CF_ERR_IO, "cannot list %s: %s", prefix,
		    strerror(errno));
	}
	for (;;) {
		struct stat sb;
		int n;

		errno = 0;
		if ((e = readdir(d)) == NULL) {
			if (errno != 0)
				rc = cf_error_set(CF_ERR_IO, "cannot list %s: "
				    "%s", prefix, strerror(errno));
			break;
		}
		n = snprintf(full, sizeof(full), "%s/%s", prefix, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(full) ||
		    srv_name_kind(full, (size_t)n) == SRV_KIND_NONE ||
		    strcmp(full, after) <= 0)
			continue;
		if (e->d_type != DT_REG) {
			if (e->d_type != DT_UNKNOWN ||
			    fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW)
			    != 0 || !S_ISREG(sb.st_mode))
				continue;
		}
		select_add(s, full);
	}
	closedir(d);
	return rc;
}

/* The data/ subdirectories "00".."ff" present, sorted. */
static cf_status
data_subdirs(int data, char subs[256][3], unsigned *n)
{
	struct dirent *e;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = openat(data, ".", DIR_FLAGS)) < 0)
		return cf_error_set(CF_ERR_IO, "cannot list data: %s",
		    strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return cf_error_set(CF_ERR_IO, "cannot list data: %s",
		    strerror(errno));
	}
	while ((e = readdir(d)) != NULL && *n < 256) {
		const char *s = e->d_name;
		if (strlen(s) != 2 || strspn(s, "0123456789abcdef") != 2)
			continue;
		memcpy(subs[*n], s, 3);
		(*n)++;
	}
	closedir(d);
	qsort(subs, *n, sizeof(subs[0]), cmp_names);
	return CF_OK;
}

cf_status
srv_store_list(struct srv_store *st, const char *tenant, const char *dir,
    const char *after, unsigned limit, srv_list_fn fn, void *arg, int *more)
{
	struct select s;
	cf_status rc = CF_OK;
	int tfd;

	*more = 0;
	if (limit == 0 || limit > SRV_LIST_LIMIT_MAX)
		return cf_error_set(CF_ERR_INVALID, "invalid list limit");
	if ((tfd = open_tenant(st, tenant)) < 0)
		return cf_error_code();
	if (select_init(&s, limit + 1) != 0) {
		close(tfd);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	if (strcmp(dir, "data") != 0) {
		rc = scan_dir(tfd, dir, dir, after, &s);
	} else {
		char subs[256][3], prefix[sizeof("data/00")];
		unsigned nsubs;
		int data = openat(tfd, "data", DIR_FLAGS);

		if (data >= 0) {
			rc = data_subdirs(data, subs, &nsubs);
			for (unsigned i = 0; rc == CF_OK && i < nsubs; i++) {
				snprintf(prefix, sizeof(prefix), "data/%.2s",
				    subs[i]);
				/* Every name here is below "after"'s dir. */
				if (after[0] != '\0' &&
				    strncmp(prefix, after, 7) < 0)
					continue;
				if (s.n == s.k)
					break;  /* later dirs sort later */
				rc = scan_dir(data, subs[i], prefix, after,
				    &s);
			}
			close(data);
		}
	}
	close(tfd);
	if (rc == CF_OK) {
		/* Slots 0..n-1 hold the names: sort, report the first limit. */
		qsort(s.slot, s.n, sizeof(s.slot[0]), cmp_names);
		*more = s.n > limit;
		for (unsigned i = 0; rc == CF_OK && i < s.n && i < limit; i++)
			rc = fn(arg, s.slot[i]);
	}
	select_free(&s);
	return rc;
}

/* --------------------------------------------------------------- recount */

/* Sum of the sizes of the regular files of ${comp} in ${parent}. */
static cf_status
sum_dir(int parent, const char *comp, int nested, uint64_t *bytes)
{
	struct dirent *e;
	cf_status rc = CF_OK;
	DIR *d;
	int fd;

	if ((fd = openat(parent, comp, DIR_FLAGS)) < 0)
		return errno == ENOENT ? CF_OK : cf_error_set(CF_ERR_IO,
		    "cannot read %s: %s", comp, strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return cf_error_set(CF_ERR_IO, "cannot read %s: %s", comp,
		    strerror(errno));
	}
	while (rc == CF_OK && (e = readdir(d)) != NULL) {
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (nested && S_ISDIR(sb.st_mode))
			rc = sum_dir(fd, e->d_name, 0, bytes);
		else if (S_ISREG(sb.st_mode) && sb.st_size > 0)
			*bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
	return rc;
}

/* Remove our temporary files from tmp/. */
static void
clean_tmp(int tfd)
{
	struct dirent *e;
	DIR *d;
	int fd;

	if ((fd = openat(tfd, TMP_DIR, DIR_FLAGS)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != TMP_LEN ||
		    strspn(e->d_name, "0123456789abcdef") != 2 * TMP_RANDOM ||
		    strcmp(e->d_name + 2 * TMP_RANDOM, TMP_SUFFIX) != 0)
			continue;
		unlinkat(fd, e->d_name, 0);
	}
	sync_dir(fd);
	closedir(d);
}

cf_status
srv_store_recount(struct srv_store *st, const char *tenant, uint64_t *bytes)
{
	static const char *const flat[] = {
		"keys", "index", "snapshots", "locks",
	};
	struct stat sb;
	cf_status rc = CF_OK;
	int tfd;

	*bytes = 0;
	if ((tfd = open_tenant(st, tenant)) < 0) {
		if (cf_error_code() == CF_ERR_NOTFOUND) {
			cf_error_clear();
			return CF_OK;
		}
		return cf_error_code();
	}
	clean_tmp(tfd);
	if (fstatat(tfd, "config", &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size > 0)
		*bytes += (uint64_t)sb.st_size;
	for (size_t i = 0; rc == CF_OK && i < sizeof(flat) / sizeof(flat[0]);
	    i++)
		rc = sum_dir(tfd, flat[i], 0, bytes);
	if (rc == CF_OK)
		rc = sum_dir(tfd, "data", 1, bytes);
	close(tfd);
	return rc;
}
