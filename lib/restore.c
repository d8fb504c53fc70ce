/*
 * restore.c: write a snapshot's files back (see repo.h).
 *
 * Each file is written to a temporary name beside its destination from
 * blobs that were authenticated and checked against their ids, and renamed
 * into place only when complete, so a damaged repository never leaves a
 * file with wrong content under its real name.  Runs of zeros become holes.
 * Directory metadata is applied after the directory's contents, so
 * read-only directories and their mtimes come out right.
 */
#include "repo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLE_MIN 4096

struct link_slot {
	uint64_t device, inode, size;
	uint8_t chunks[CF_HASH_BYTES];  /* hash of the chunk id list */
	char *path;             /* restored path of the first name */
};

struct restore {
	struct cf_repo *r;
	const struct cf_restore_opts *o;
	struct cf_restore_stats *st;
	struct cf_buf blob;
	struct link_slot *links;
	size_t nlinks, caplinks;
	uint8_t *matched;       /* per include: found in the snapshot */
	struct cf_lock *lock;   /* refreshed during long work */
	uint64_t damaged;       /* files or directories left out: bad data */
	char first_damage[512];
	int as_root;
	struct timespec t0, tprog;
	struct cf_progress prog;
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

static const char *
link_find(const struct restore *rs, const struct cf_node *n)
{
	uint8_t h[CF_HASH_BYTES];

	chunks_hash(n, h);
	for (size_t i = 0; i < rs->nlinks; i++)
		if (rs->links[i].device == n->device &&
		    rs->links[i].inode == n->inode &&
		    rs->links[i].size == n->size &&
		    memcmp(rs->links[i].chunks, h, CF_HASH_BYTES) == 0)
			return rs->links[i].path;
	return NULL;
}

static cf_status
link_add(struct restore *rs, const struct cf_node *n, const char *path)
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
	rs->nlinks++;
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

/* ---- files ---- */

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
write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return sys_error(path, "write");
		p += w;
		n -= (size_t)w;
	}
	return CF_OK;
}

/*
 * write_sparse(fd, p, n, path): write ${p}, leaving aligned all-zero blocks
 * of HOLE_MIN bytes as holes (seek over them); the caller truncates to the
 * final size so a trailing hole is kept.
 */
static cf_status
write_sparse(int fd, const uint8_t *p, size_t n, const char *path)
{
	size_t i = 0;
	cf_status rc;

	while (i < n) {
		size_t run = n - i < HOLE_MIN ? n - i : HOLE_MIN;

		if (run == HOLE_MIN && all_zero(p + i, run)) {
			size_t z = run;
			while (i + z + HOLE_MIN <= n &&
			    all_zero(p + i + z, HOLE_MIN))
				z += HOLE_MIN;
			if (lseek(fd, (off_t)z, SEEK_CUR) < 0)
				return sys_error(path, "seek");
			i += z;
			continue;
		}
		/* Gather data blocks up to the next zero block. */
		size_t d = run;
		while (i + d + HOLE_MIN <= n && !all_zero(p + i + d, HOLE_MIN))
			d += HOLE_MIN;
		if (i + d + HOLE_MIN > n)
			d = n - i;
		if ((rc = write_all(fd, p + i, d, path)) != CF_OK)
			return rc;
		i += d;
	}
	return CF_OK;
}

static cf_status
fill_file(struct restore *rs, int fd, const struct cf_node *n,
    const char *path)
{
	uint64_t done = 0;
	cf_status rc;

	for (uint32_t i = 0; i < n->nchunks; i++) {
		if ((rc = cf_repo_read_blob(rs->r, n->chunks[i], CF_BLOB_DATA,
		    &rs->blob)) != CF_OK)
			return cf_error_prefix("%s: ", path);
		if ((rc = write_sparse(fd, rs->blob.p, rs->blob.len, path)) !=
		    CF_OK)
			return rc;
		done += rs->blob.len;
		rs->prog.bytes_done += rs->blob.len;
		progress(rs, path, 0);
		if ((rc = cf_lock_refresh(rs->lock)) != CF_OK)
			return rc;
	}
	if (done != n->size)
		return cf_error_set(CF_ERR_CORRUPT, "%s: stored chunks hold %llu "
		    "bytes, the file had %llu", path, (unsigned long long)done,
		    (unsigned long long)n->size);
	if (ftruncate(fd, (off_t)done) != 0)
		return sys_error(path, "truncate");
	return CF_OK;
}

static cf_status
restore_file(struct restore *rs, const struct cf_node *n, const char *path)
{
	const char *first;
	char *tmp;
	size_t pl = strlen(path);
	const char *slash = strrchr(path, '/');
	struct timespec ts[2];
	int fd, exists;
	cf_status rc;

	if ((rc = may_replace(rs, path, 0, &exists)) != CF_OK)
		return rc;
	if (n->nlink > 1 && (first = link_find(rs, n)) != NULL) {
		if (exists && unlink(path) != 0)
			return sys_error(path, "cannot replace");
		if (link(first, path) != 0)
			return sys_error(path, "cannot create hard link");
		rs->st->files++;
		return CF_OK;
	}
	if ((tmp = malloc(pl + 32)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	snprintf(tmp, pl + 32, "%.*s/.coffre-restore-XXXXXX",
	    (int)(slash - path), path);
	if ((fd = mkstemp(tmp)) < 0) {
		rc = sys_error(path, "cannot create");
		free(tmp);
		return rc;
	}
	rc = fill_file(rs, fd, n, path);
	if (rc == CF_OK && rs->as_root && fchown(fd, n->uid, n->gid) != 0)
		rc = sys_error(path, "cannot set owner");
	if (rc == CF_OK && fchmod(fd, (mode_t)n->mode) != 0)
		rc = sys_error(path, "cannot set mode");
	node_times(n, ts);
	if (rc == CF_OK && futimens(fd, ts) != 0)
		rc = sys_error(path, "cannot set times");
	if (close(fd) != 0 && rc == CF_OK)
		rc = sys_error(path, "write");
	if (rc == CF_OK && rename(tmp, path) != 0)
		rc = sys_error(path, "cannot rename into place");
	if (rc != CF_OK)
		unlink(tmp);
	free(tmp);
	if (rc != CF_OK)
		return rc;
	if (n->nlink > 1 && (rc = link_add(rs, n, path)) != CF_OK)
		return rc;
	rs->st->files++;
	rs->st->bytes += n->size;
	return CF_OK;
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
			if (rc == CF_OK)
				rc = set_dir_meta(rs, n, op);
			if (rc == CF_OK && sel == SELECTED)
				rs->st->dirs++;
		} else if (sel != SELECTED) {
			continue;
		} else if (n->kind == CF_NODE_FILE) {
			rc = restore_file(rs, n, op);
			rs->prog.files_done++;
			progress(rs, sp, 0);
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

cf_status
cf_restore_run(struct cf_repo *r, const struct cf_snapshot *snap,
    const struct cf_restore_opts *opts, struct cf_restore_stats *stats)
{
	struct restore rs;
	struct cf_lock *lock = NULL;
	char *sp = NULL, *op = NULL;
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
	clock_gettime(CLOCK_MONOTONIC, &rs.t0);
	rs.tprog = rs.t0;
	cf_buf_init(&rs.blob, CF_BLOB_MAX);
	if ((rc = cf_lock_acquire(r, 0, &lock)) != CF_OK)
		goto out;
	rs.lock = lock;
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
	rc = restore_tree(&rs, snap->tree, sp, 0, op, tl, 0);
	if (rc == CF_ERR_CORRUPT)
		rc = damaged(&rs, "/");
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
	cf_lock_release(lock);
	for (size_t i = 0; i < rs.nlinks; i++)
		free(rs.links[i].path);
	free(rs.links);
	free(rs.matched);
	cf_buf_free(&rs.blob);
	free(sp);
	free(op);
	return rc;
}
