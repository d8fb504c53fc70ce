/*
 * backend_local.c: a repository in a local directory (a disk, a USB drive,
 * a NAS mount).  See backend.h for the contract.
 *
 * Layout:
 *   config
 *   keys/<name>  data/00 .. data/ff/<name>  index/<name>
 *   snapshots/<name>  locks/<name>
 *   tmp/         objects being written: <8 hex host tag><8 hex pid>
 *                <16 hex random>.tmp, so a file whose writer died on this
 *                host can be told from one being written
 *
 * An object is written to tmp/, fsync'ed, then linked to its name (link()
 * fails if the name exists, which gives put-if-absent), and the directory
 * is fsync'ed, so an object appears whole or not at all.  No path of more
 * than one component is ever resolved by the kernel: each directory on the
 * way to an object (data, data/xx, tmp, ...) is opened with openat(parent,
 * component, O_DIRECTORY|O_NOFOLLOW), and the final operation acts on the
 * last component relative to that directory, so a symbolic link planted
 * anywhere in the repository (by a hostile server, say) is refused, never
 * followed, and nothing outside the repository is reachable.  No state is
 * shared between calls: the backend may be used from several threads at
 * once.
 */
#include "backend.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define TMP_RANDOM_BYTES 16
#define TMP_SUFFIX ".tmp"
#define TMP_NAME_LEN (2 * TMP_RANDOM_BYTES + sizeof(TMP_SUFFIX) - 1)
#define TMP_MAX_AGE (24 * 60 * 60)
#define DATA_FANOUT 256

struct local {
	int root;       /* the repository directory */
	int tmp;        /* root/tmp, or -1 if missing and not creatable */
	int tmp_err;    /* errno of opening tmp/ when tmp is -1 */
	char *path;     /* as given, for messages */
};

static const char *const layout[] = {
	"keys", "data", "index", "snapshots", "locks", "tmp",
};

static void tmp_owner(uint8_t out[8]);
static cf_status local_put(void *, const char *, const void *, size_t);
static cf_status local_get(void *, const char *, uint64_t, uint64_t,
    struct cf_buf *);
static cf_status local_stat(void *, const char *, uint64_t *);
static cf_status local_list(void *, const char *, cf_backend_list_fn, void *);
static cf_status local_del(void *, const char *);
static void local_close(void *);

static const struct cf_backend_ops local_ops = {
	.scheme = "file",
	.put = local_put,
	.get = local_get,
	.stat = local_stat,
	.list = local_list,
	.del = local_del,
	.close = local_close,
};

static cf_status
io_error(const struct local *l, const char *what, const char *name, int err)
{
	return cf_error_set(CF_ERR_IO, "%s %s in repository %s: %s", what,
	    name, l->path, strerror(err));
}

static void
close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/*
 * sync_dir(fd): fsync a directory.  Some network file systems cannot sync
 * a directory (EINVAL, ENOTSUP); their server orders metadata itself, so
 * that is not an error.
 */
static int
sync_dir(int fd)
{
	if (fsync(fd) == 0 || errno == EINVAL || errno == ENOTSUP ||
	    errno == EOPNOTSUPP)
		return 0;
	return -1;
}

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/*
 * symlink_error(l, name, n): the error for the first ${n} bytes of ${name}
 * (a directory of the repository) being a symbolic link.
 */
static cf_status
symlink_error(const struct local *l, const char *name, size_t n)
{
	return cf_error_set(CF_ERR_CORRUPT,
	    "%.*s in repository %s is a symbolic link, not a directory of the "
	    "repository; refusing to follow it", (int)n, name, l->path);
}

/*
 * open_subdir(parent, comp, create): open directory ${comp} (one
 * component) of directory ${parent} without following a symbolic link;
 * with ${create}, make it first if it is missing (and sync ${parent}).
 * Returns the descriptor, or -1 with errno: ELOOP if ${comp} is a symbolic
 * link, ENOTDIR if it is something else that is not a directory.
 */
static int
open_subdir(int parent, const char *comp, int create)
{
	struct stat st;
	int fd;

	for (;;) {
		if ((fd = openat(parent, comp, DIR_FLAGS)) >= 0)
			return fd;
		if (errno == ENOENT && create) {
			if (mkdirat(parent, comp, 0700) == 0) {
				if (sync_dir(parent) != 0)
					return -1;
			} else if (errno != EEXIST) {
				return -1;
			}
			create = 0;     /* once: a racing rmdir cannot loop us */
			continue;
		}
		if (errno == ELOOP || errno == ENOTDIR)
			errno = fstatat(parent, comp, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ?
			    ELOOP : ENOTDIR;
		return -1;
	}
}

/*
 * open_dir_of(l, name, create, last): the directory that holds object
 * ${name}, opened one component at a time from the repository directory
 * (never following a symbolic link), and in ${last} the final component of
 * ${name}, to be used relative to it.  With ${create}, missing directories
 * are made (a repository copied without its empty directories lacks some).
 * Returns a descriptor the caller closes, or -1 with errno; for ELOOP (a
 * symbolic link on the way) the error is set already, as CF_ERR_CORRUPT.
 */
static int
open_dir_of(const struct local *l, const char *name, int create,
    const char **last)
{
	char comp[CF_OBJECT_NAME_MAX + 1];
	const char *p = name, *slash;
	int fd, next, err;

	if ((fd = fcntl(l->root, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);

		memcpy(comp, p, n);
		comp[n] = '\0';
		if ((next = open_subdir(fd, comp, create)) < 0) {
			err = errno;
			if (err == ELOOP)
				symlink_error(l, name, (size_t)(slash - name));
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

static cf_status
not_found(const struct local *l, const char *name)
{
	return cf_error_set(CF_ERR_NOTFOUND,
	    "object %s not found in repository %s", name, l->path);
}

/*
 * dir_error(l, what, name, err): the status for open_dir_of(${name})
 * failing with ${err}, for a caller that reads or deletes.
 */
static cf_status
dir_error(const struct local *l, const char *what, const char *name, int err)
{
	if (err == ELOOP)
		return CF_ERR_CORRUPT;  /* open_dir_of said why */
	if (err == ENOENT || err == ENOTDIR)
		return not_found(l, name);
	return io_error(l, what, name, err);
}

/* write_all(fd, p, n): write every byte, through EINTR and short writes. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * write_object(fd, p, n): write the ${n} bytes of a new object into the
 * empty file ${fd}.  Returns 0 or -1 with errno.
 *
 * A large object (a pack) whose bytes are page-aligned goes to the disk
 * with O_DIRECT, its last partial block through the page cache: copying a
 * pack into the page cache and writing it back cost 1.5 to 2 s of CPU per
 * GB here, O_DIRECT 0.06 s, and a backup does not push the practice's
 * working files out of memory.  The fsync that follows is what makes the
 * object durable either way.  A file system that refuses O_DIRECT (EINVAL:
 * some network and FUSE file systems, older tmpfs) is written through the
 * page cache, from the start.
 */
#define DIRECT_ALIGN 4096u
#define DIRECT_MIN (1024u * 1024)

static int
write_object(int fd, const uint8_t *p, size_t n)
{
	size_t head = n & ~(size_t)(DIRECT_ALIGN - 1);
	int fl = 0, err;

	if (n < DIRECT_MIN || ((uintptr_t)p & (DIRECT_ALIGN - 1)) != 0 ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_DIRECT) != 0)
		return write_all(fd, p, n);
	if (write_all(fd, p, head) != 0) {
		err = errno;
		if (fcntl(fd, F_SETFL, fl) != 0 || err != EINVAL ||
		    ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
			errno = err;
			return -1;
		}
		return write_all(fd, p, n);
	}
	if (fcntl(fd, F_SETFL, fl) != 0)
		return -1;
	return write_all(fd, p + head, n - head);
}

/*
 * rename_noreplace(l, tname, dfd, last, name): move tmp/${tname} to
 * ${last} in directory ${dfd} (object ${name}) unless that name exists,
 * for file systems without hard links.  Returns 0 or -1 with errno (EEXIST
 * if the name is taken).
 */
static int
rename_noreplace(const struct local *l, const char *tname, int dfd,
    const char *last, const char *name)
{
	struct stat st;
	int fd, err;

#ifdef SYS_renameat2
	if (syscall(SYS_renameat2, l->tmp, tname, dfd, last,
	    RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP &&
	    errno != EOPNOTSUPP)
		return -1;
#endif
	/*
	 * Last resort.  Objects that are not named by their content (the
	 * config, keys) must stay strictly put-if-absent: reserve the name
	 * with O_EXCL, which only one writer can win, then rename the
	 * temporary file over our own reservation.
	 */
	if (strcmp(name, "config") == 0 || strncmp(name, "keys/", 5) == 0) {
		if ((fd = openat(dfd, last, O_CREAT | O_EXCL | O_WRONLY |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
			return -1;
		close(fd);
		if (renameat(l->tmp, tname, dfd, last) == 0)
			return 0;
		err = errno;
		unlinkat(dfd, last, 0);
		errno = err;
		return -1;
	}
	/*
	 * Otherwise check, then rename.  Two writers racing for the same
	 * name could both pass the check; these objects are named by their
	 * content (or are locks, which are re-read), so the loser's bytes
	 * equal the winner's or are detected by the lock protocol.
	 */
	if (fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(l->tmp, tname, dfd, last);
}

/* place(l, tname, dfd, last, name): make tmp/${tname} appear as ${name}. */
static int
place(const struct local *l, const char *tname, int dfd, const char *last,
    const char *name)
{
	if (linkat(l->tmp, tname, dfd, last, 0) == 0)
		return 0;
	if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP ||
	    errno == ENOSYS)
		return rename_noreplace(l, tname, dfd, last, name);
	return -1;
}

/* tmp_name(tname): a fresh temporary file name, of our pattern. */
static void
tmp_name(char tname[TMP_NAME_LEN + 1])
{
	uint8_t rnd[TMP_RANDOM_BYTES];

	tmp_owner(rnd);
	cf_random(rnd + 8, sizeof(rnd) - 8);
	cf_hex_encode(tname, rnd, sizeof(rnd));
	memcpy(tname + 2 * TMP_RANDOM_BYTES, TMP_SUFFIX, sizeof(TMP_SUFFIX));
}

static cf_status
local_put(void *ctx, const char *name, const void *data, size_t len)
{
	struct local *l = ctx;
	char tname[TMP_NAME_LEN + 1];
	const char *last;
	cf_status rc;
	int fd, dfd;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if (l->tmp < 0 && l->tmp_err == ELOOP)
		return symlink_error(l, "tmp", 3);
	if (l->tmp < 0)
		return cf_error_set(CF_ERR_IO,
		    "cannot write to repository %s: its tmp directory is "
		    "missing and cannot be created", l->path);
	if ((dfd = open_dir_of(l, name, 1, &last)) < 0) {
		if (errno == ELOOP)
			return CF_ERR_CORRUPT;
		return io_error(l, "cannot store", name, errno);
	}

	tmp_name(tname);
	if ((fd = openat(l->tmp, tname,
	    O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		rc = io_error(l, "cannot create a temporary file for", name,
		    errno);
		close(dfd);
		return rc;
	}
	if (write_object(fd, data, len) != 0) {
		rc = io_error(l, "cannot write", name, errno);
		close(fd);
		goto err;
	}
	if (fsync(fd) != 0) {
		rc = io_error(l, "cannot flush to disk", name, errno);
		close(fd);
		goto err;
	}
	if (close(fd) != 0) {
		rc = io_error(l, "cannot write", name, errno);
		goto err;
	}

	if (place(l, tname, dfd, last, name) != 0) {
		if (errno == EEXIST)
			rc = cf_error_set(CF_ERR_EXISTS,
			    "object %s already exists in repository %s",
			    name, l->path);
		else
			rc = io_error(l, "cannot store", name, errno);
		goto err;
	}
	/* After a rename the temporary name is gone already (ENOENT). */
	unlinkat(l->tmp, tname, 0);
	rc = CF_OK;
	if (sync_dir(dfd) != 0)
		rc = io_error(l, "cannot flush to disk the directory of",
		    name, errno);
	close(dfd);
	return rc;

err:
	unlinkat(l->tmp, tname, 0);
	close(dfd);
	return rc;
}

/*
 * open_object(l, name, fd, st): open an object for reading.  O_NONBLOCK so
 * that a FIFO planted under an object's name cannot hang us.
 */
static cf_status
open_object(const struct local *l, const char *name, int *fdp,
    struct stat *st)
{
	const char *last;
	int fd, dfd;

	*fdp = -1;
	if ((dfd = open_dir_of(l, name, 0, &last)) < 0)
		return dir_error(l, "cannot open", name, errno);
	fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close_keep_errno(dfd);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return not_found(l, name);
		if (errno == ELOOP)
			return cf_error_set(CF_ERR_IO,
			    "object %s in repository %s is a symbolic link; "
			    "refusing to follow it", name, l->path);
		return io_error(l, "cannot open", name, errno);
	}
	if (fstat(fd, st) != 0) {
		cf_status rc = io_error(l, "cannot read", name, errno);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return cf_error_set(CF_ERR_NOTFOUND,
		    "object %s not found in repository %s (not a file)", name,
		    l->path);
	}
	*fdp = fd;
	return CF_OK;
}

static cf_status
local_get(void *ctx, const char *name, uint64_t off, uint64_t len,
    struct cf_buf *out)
{
	struct local *l = ctx;
	struct stat st;
	uint64_t size, want, got = 0;
	cf_status rc;
	int fd = -1;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if ((rc = open_object(l, name, &fd, &st)) != CF_OK)
		return rc;
	size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	want = off < size ? size - off : 0;
	if (len < want)
		want = len;
	if (want > out->max || out->len > out->max - want) {
		close(fd);
		return cf_error_set(CF_ERR_NOMEM,
		    "object %s in repository %s: %llu bytes is more than "
		    "the %zu allowed", name, l->path,
		    (unsigned long long)want, out->max - out->len);
	}
	if ((rc = cf_buf_reserve(out, (size_t)want)) != CF_OK) {
		close(fd);
		return rc;
	}
	while (got < want) {
		ssize_t r = pread(fd, out->p + out->len + got,
		    (size_t)(want - got), (off_t)(off + got));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = io_error(l, "cannot read", name, errno);
			close(fd);
			return rc;
		}
		if (r == 0)     /* the file is shorter than it was */
			break;
		got += (uint64_t)r;
	}
	close(fd);
	out->len += (size_t)got;
	return CF_OK;
}

static cf_status
local_stat(void *ctx, const char *name, uint64_t *size)
{
	struct local *l = ctx;
	const char *last;
	struct stat st;
	int dfd, r;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if ((dfd = open_dir_of(l, name, 0, &last)) < 0)
		return dir_error(l, "cannot examine", name, errno);
	r = fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW);
	close_keep_errno(dfd);
	if (r != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return not_found(l, name);
		return io_error(l, "cannot examine", name, errno);
	}
	if (S_ISLNK(st.st_mode))
		return cf_error_set(CF_ERR_IO,
		    "object %s in repository %s is a symbolic link; "
		    "refusing to follow it", name, l->path);
	if (!S_ISREG(st.st_mode))
		return cf_error_set(CF_ERR_NOTFOUND,
		    "object %s not found in repository %s (not a file)", name,
		    l->path);
	*size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	return CF_OK;
}

/* type_of(dfd, e): the S_IFMT type of directory entry ${e}, 0 if unknown. */
static mode_t
type_of(int dfd, const struct dirent *e)
{
	struct stat st;

	switch (e->d_type) {
	case DT_REG:
		return S_IFREG;
	case DT_DIR:
		return S_IFDIR;
	case DT_LNK:
		return S_IFLNK;
	case DT_UNKNOWN:
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return 0;
		return st.st_mode & S_IFMT;
	default:
		return 0;
	}
}

/*
 * list_dir(l, parent, dir, comp, nested, fn, arg): report each regular file
 * in directory ${comp} of ${parent} (the object directory ${dir}) whose
 * full name is valid; with ${nested}, descend one level into each
 * subdirectory instead (data/xx/).  A missing directory holds nothing; a
 * symbolic link in place of a directory is an error, never followed.
 */
static cf_status
list_dir(const struct local *l, int parent, const char *dir, const char *comp,
    int nested, cf_backend_list_fn fn, void *arg)
{
	char full[CF_OBJECT_NAME_MAX + 1];
	struct dirent *e;
	cf_status rc = CF_OK;
	DIR *d;
	int fd;

	if ((fd = open_subdir(parent, comp, 0)) < 0) {
		if (errno == ENOENT)
			return CF_OK;
		if (errno == ELOOP)
			return symlink_error(l, dir, strlen(dir));
		return io_error(l, "cannot list", dir, errno);
	}
	if ((d = fdopendir(fd)) == NULL) {
		rc = io_error(l, "cannot list", dir, errno);
		close(fd);
		return rc;
	}
	for (;;) {
		mode_t type;
		int n;

		errno = 0;
		if ((e = readdir(d)) == NULL) {
			if (errno != 0)
				rc = io_error(l, "cannot list", dir, errno);
			break;
		}
		n = snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(full) ||
		    !cf_backend_name_ok(full))
			continue;       /* ".", "..", *.tmp, stray files */
		type = type_of(fd, e);
		if (nested) {
			if (type == S_IFLNK)
				rc = symlink_error(l, full, strlen(full));
			else if (type == S_IFDIR)
				rc = list_dir(l, fd, full, e->d_name, 0, fn,
				    arg);
		} else if (type == S_IFREG) {
			rc = fn(arg, full);
		}
		if (rc != CF_OK)
			break;
	}
	closedir(d);
	return rc;
}

static cf_status
local_list(void *ctx, const char *dir, cf_backend_list_fn fn, void *arg)
{
	struct local *l = ctx;

	if (!cf_backend_name_ok(dir) || strchr(dir, '/') != NULL)
		return cf_error_set(CF_ERR_INVALID,
		    "invalid object directory name");
	return list_dir(l, l->root, dir, dir, strcmp(dir, "data") == 0, fn,
	    arg);
}

static cf_status
local_del(void *ctx, const char *name)
{
	struct local *l = ctx;
	const char *last;
	cf_status rc = CF_OK;
	int dfd;

	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	if ((dfd = open_dir_of(l, name, 0, &last)) < 0)
		return dir_error(l, "cannot delete", name, errno);
	if (unlinkat(dfd, last, 0) != 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR)
			rc = not_found(l, name);
		else
			rc = io_error(l, "cannot delete", name, errno);
	} else if (sync_dir(dfd) != 0) {
		rc = io_error(l, "cannot flush to disk the directory of",
		    name, errno);
	}
	close(dfd);
	return rc;
}


static void
local_close(void *ctx)
{
	struct local *l = ctx;

	if (l == NULL)
		return;
	if (l->tmp >= 0)
		close(l->tmp);
	if (l->root >= 0)
		close(l->root);
	free(l->path);
	free(l);
}

/*
 * tmp_owner(out): 8 bytes naming the writer of a temporary file: a tag of
 * this host's name, and our pid.
 */
static void
tmp_owner(uint8_t out[8])
{
	char host[256] = "";
	uint8_t h[CF_HASH_BYTES];

	(void)gethostname(host, sizeof(host) - 1);
	cf_hash(h, host, strlen(host));
	memcpy(out, h, 4);
	cf_put_u32(out + 4, (uint32_t)getpid());
}

/* tmp_writer_dead(name): 1 if ${name} was written by a dead process here. */
static int
tmp_writer_dead(const char *name)
{
	uint8_t mine[8], theirs[8];
	char hex[17];

	tmp_owner(mine);
	memcpy(hex, name, 16);
	hex[16] = '\0';
	if (cf_hex_decode(theirs, 8, hex) != CF_OK) {
		cf_error_clear();
		return 0;
	}
	if (memcmp(mine, theirs, 4) != 0)
		return 0;       /* another host's: its pids mean nothing here */
	pid_t pid = (pid_t)cf_get_u32(theirs + 4);
	return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

/*
 * clean_tmp(l): remove temporary files left by a process that was killed
 * while writing: those of dead processes of this host, and any more than a
 * day old.  Only names of the form we create are touched; failures are
 * ignored (the files are harmless).  A file's age is judged by the clock of
 * the machine that stamps it (a NAS's may be far from ours): "now" is the
 * time stamp of a probe file we create in tmp/; without one (a read-only
 * medium), no file is old.
 */
static void
clean_tmp(const struct local *l)
{
	char probe[TMP_NAME_LEN + 1];
	int fd, know_now = 0;
	time_t now = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (l->tmp < 0)
		return;
	tmp_name(probe);
	if ((fd = openat(l->tmp, probe, O_CREAT | O_EXCL | O_WRONLY |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
		if (fstat(fd, &st) == 0) {
			now = st.st_mtime;
			know_now = 1;
		}
		close(fd);
		unlinkat(l->tmp, probe, 0);
	}
	if ((fd = openat(l->tmp, ".", DIR_FLAGS)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		size_t hex = 2 * TMP_RANDOM_BYTES;

		if (n != TMP_NAME_LEN ||
		    strcmp(e->d_name + hex, TMP_SUFFIX) != 0 ||
		    strspn(e->d_name, "0123456789abcdef") != hex)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || ((!know_now ||
		    st.st_mtime > now - TMP_MAX_AGE) &&
		    !tmp_writer_dead(e->d_name)))
			continue;
		unlinkat(fd, e->d_name, 0);
	}
	closedir(d);
}

/*
 * dir_is_fresh(root): 1 if the directory holds nothing but (part of) our
 * own layout, as after an init that was interrupted, or the lost+found of
 * a freshly formatted disk; 0 otherwise or on error.
 */
static int
dir_is_fresh(int root)
{
	struct dirent *e;
	int fd, fresh = 1;
	DIR *d;

	if ((fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while (fresh && (e = readdir(d)) != NULL) {
		int known = strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "lost+found") == 0;

		for (size_t i = 0; !known && i < sizeof(layout) /
		    sizeof(layout[0]); i++)
			known = strcmp(e->d_name, layout[i]) == 0;
		fresh = known;
	}
	closedir(d);
	return fresh;
}

/*
 * make_dir(l, dfd, comp, name): mkdir ${comp} 0700 in ${dfd} unless it
 * exists (${name} for messages).  The caller syncs the parent (once for
 * many directories).
 */
static cf_status
make_dir(const struct local *l, int dfd, const char *comp, const char *name)
{
	if (mkdirat(dfd, comp, 0700) != 0 && errno != EEXIST)
		return io_error(l, "cannot create directory", name, errno);
	return CF_OK;
}

/* create_layout(l): the directories of an empty repository. */
static cf_status
create_layout(const struct local *l)
{
	char sub[sizeof("data/00")];
	struct stat st;
	cf_status rc;
	int data;

	if (fstatat(l->root, "config", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return cf_error_set(CF_ERR_EXISTS,
		    "a repository already exists at %s", l->path);
	if (errno != ENOENT)
		return io_error(l, "cannot examine", "config", errno);
	if (!dir_is_fresh(l->root))
		return cf_error_set(CF_ERR_EXISTS,
		    "%s is not empty and holds no repository: choose a new "
		    "or empty directory", l->path);
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		if ((rc = make_dir(l, l->root, layout[i], layout[i])) != CF_OK)
			return rc;
	if ((data = open_subdir(l->root, "data", 0)) < 0) {
		if (errno == ELOOP)
			return symlink_error(l, "data", 4);
		return io_error(l, "cannot open directory", "data", errno);
	}
	for (unsigned i = 0; i < DATA_FANOUT; i++) {
		snprintf(sub, sizeof(sub), "data/%02x", i);
		if ((rc = make_dir(l, data, sub + 5, sub)) != CF_OK) {
			close(data);
			return rc;
		}
	}
	if (sync_dir(data) != 0 || sync_dir(l->root) != 0) {
		rc = io_error(l, "cannot flush to disk", "the directories",
		    errno);
		close(data);
		return rc;
	}
	close(data);
	return CF_OK;
}

/* sync_path_parent(path): fsync the directory that holds ${path}. */
static void
sync_path_parent(const char *path)
{
	char *copy, *slash;
	int fd;

	if ((copy = strdup(path)) == NULL)
		return;
	/* Trailing slashes belong to the last component. */
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	if ((slash = strrchr(copy, '/')) == NULL) {
		/* "." may be longer than the copy (of ""): make a new one. */
		free(copy);
		if ((copy = strdup(".")) == NULL)
			return;
	} else if (slash == copy)
		copy[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		sync_dir(fd);
		close(fd);
	}
	free(copy);
}

cf_status
cf_backend_local_open(const char *path, int create, struct cf_backend **out)
{
	struct cf_backend *b = NULL;
	struct local *l;
	struct stat st;
	cf_status rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return cf_error_set(CF_ERR_INVALID,
		    "no repository directory given");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	l->root = l->tmp = -1;
	if ((l->path = strdup(path)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}

	if (create) {
		if (mkdir(path, 0700) == 0)
			sync_path_parent(path);
		else if (errno != EEXIST) {
			rc = cf_error_set(CF_ERR_IO,
			    "cannot create repository directory %s: %s",
			    path, strerror(errno));
			goto err;
		}
	}
	if ((l->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (create && errno == ENOTDIR)
			rc = cf_error_set(CF_ERR_IO, "cannot create repository "
			    "%s: it exists and is not a directory", path);
		else if (errno == ENOENT || errno == ENOTDIR)
			rc = cf_error_set(CF_ERR_NOTFOUND,
			    "no repository at %s", path);
		else
			rc = cf_error_set(CF_ERR_IO,
			    "cannot open repository %s: %s", path,
			    strerror(errno));
		goto err;
	}
	if (create) {
		if ((rc = create_layout(l)) != CF_OK)
			goto err;
	} else if (fstatat(l->root, "config", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			rc = cf_error_set(CF_ERR_NOTFOUND,
			    "no repository at %s", path);
		else
			rc = io_error(l, "cannot examine", "config", errno);
		goto err;
	}

	/*
	 * A repository on a read-only medium (a write-protected disk being
	 * restored from) opens without tmp/; only put fails then.
	 */
	if ((l->tmp = open_subdir(l->root, "tmp", 1)) < 0)
		l->tmp_err = errno;     /* ELOOP: refused in put */
	clean_tmp(l);

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->location = strdup(path)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	b->ops = &local_ops;
	b->ctx = l;
	*out = b;
	return CF_OK;

err:
	free(b);
	local_close(l);
	return rc;
}
