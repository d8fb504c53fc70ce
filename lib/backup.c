/*
 * backup.c: walk the given paths, chunk, deduplicate, pack, and write a
 * signed snapshot (see repo.h).
 *
 * The stages (read -> chunk -> id -> dedup -> compress+encrypt -> pack ->
 * store) are separate functions over plain buffers, so that they can run on
 * several threads with bounded queues; here they run in turn.  Memory stays
 * flat: one read buffer of twice the largest chunk, one pack in progress per
 * blob type, the index (tens of bytes per blob) and one directory listing
 * per level of the walk.
 *
 * Every pack is followed by an index file naming its blobs, so a backup
 * killed at any moment leaves packs that the next backup reuses.
 */
#include "repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
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

struct backup {
	struct cf_repo *r;
	const struct cf_backup_opts *o;
	struct cf_backup_stats *st;
	struct cf_index *idx;
	struct cf_chunker *chunker;
	struct cf_packer *data;         /* file chunks, on worker threads */
	struct cf_packer *trees;        /* directory trees, inline */
	struct cf_index *pending;       /* ids of blobs this backup stored */
	struct cf_filescache *fc;
	struct cf_lock *lock;
	uint8_t *rbuf;
	size_t rcap;
	struct cf_buf ibuf;             /* index file being encoded */
	uint8_t (*chunks)[CF_HASH_BYTES];
	size_t nchunks, capchunks;
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

/* ---- blobs and packs ---- */

/*
 * save_blob(b, type, data, n, id): store a blob unless the repository (or
 * the pack in progress) already has it; its id in ${id}.
 */
static cf_status
save_blob(struct backup *b, uint8_t type, const uint8_t *data, size_t n,
    uint8_t id[CF_HASH_BYTES])
{
	cf_status rc;

	cf_blob_id(id, b->r->keys->id_key, type, data, n);
	if (repo_idset_has(b->idx, id) || repo_idset_has(b->pending, id))
		return CF_OK;
	if ((rc = repo_idset_add(b->pending, id, type)) != CF_OK)
		return rc;
	b->st->bytes_added += n;
	return cf_packer_add(type == CF_BLOB_TREE ? b->trees : b->data, type,
	    id, data, n);
}

static cf_status
chunk_list_add(struct backup *b, const uint8_t id[CF_HASH_BYTES])
{
	if (b->nchunks == b->capchunks) {
		size_t cap = b->capchunks ? b->capchunks * 2 : 64;
		void *p = realloc(b->chunks, cap * CF_HASH_BYTES);
		if (p == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		b->chunks = p;
		b->capchunks = cap;
	}
	memcpy(b->chunks[b->nchunks++], id, CF_HASH_BYTES);
	return CF_OK;
}

/* ---- files ---- */

static void
node_from_stat(struct cf_node *n, const char *name, const struct stat *st)
{
	memset(n, 0, sizeof(*n));
	n->name = (char *)(uintptr_t)name;  /* cf_tree_add copies it */
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
 * read_and_chunk(b, fd, path, size, read_errno): read the whole file, cut it
 * into chunks, store them and list their ids in b->chunks.  A read error is
 * this file's problem only: *read_errno is set and CF_OK returned.  Any
 * other code is fatal (the repository could not be written).
 */
static cf_status
read_and_chunk(struct backup *b, int fd, const char *path, uint64_t *size,
    int *read_errno)
{
	size_t len = 0, off, maxc = b->r->cfg.chunker.max;
	int eof = 0;
	uint8_t id[CF_HASH_BYTES];
	cf_status rc;

	*size = 0;
	*read_errno = 0;
	for (;;) {
		while (!eof && len < b->rcap) {
			ssize_t got = read(fd, b->rbuf + len, b->rcap - len);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				*read_errno = errno;
				return CF_OK;
			}
			if (got == 0)
				eof = 1;
			len += (size_t)got;
			*size += (uint64_t)got;
			b->st->bytes_read += (uint64_t)got;
			b->prog.bytes_done += (uint64_t)got;
		}
		progress(b, path, 0);
		/* A large file can take longer than a lock lives. */
		if ((rc = cf_lock_refresh(b->lock)) != CF_OK)
			return rc;
		off = 0;
		while (len - off >= maxc || (eof && off < len)) {
			size_t cut = cf_chunker_cut(b->chunker, b->rbuf + off,
			    len - off);
			if ((rc = save_blob(b, CF_BLOB_DATA, b->rbuf + off, cut,
			    id)) != CF_OK || (rc = chunk_list_add(b, id)) !=
			    CF_OK)
				return rc;
			off += cut;
		}
		memmove(b->rbuf, b->rbuf + off, len - off);
		len -= off;
		if (eof && len == 0)
			return CF_OK;
	}
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

static int
chunks_known(struct backup *b, const uint8_t (*chunks)[CF_HASH_BYTES],
    uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!repo_idset_has(b->idx, chunks[i]))
			return 0;
	return 1;
}

/*
 * save_file(b, path, st, node): fill node->chunks/size.  Returns CF_OK,
 * CF_ERR_NOTFOUND when the file must be left out (warned), or a fatal code.
 */
static cf_status
save_file(struct backup *b, const char *path, const struct stat *st,
    struct cf_node *node)
{
	uint8_t (*cached)[CF_HASH_BYTES] = NULL;
	uint32_t ncached = 0;
	int hit = 0, fd, read_errno;
	uint64_t size;
	struct stat fst;
	cf_status rc;

	b->nchunks = 0;
	if (b->fc != NULL)
		hit = cf_filescache_lookup(b->fc, path, st, &cached, &ncached);
	if (hit == 1 && chunks_known(b, (const uint8_t (*)[32])cached,
	    ncached)) {
		node->size = (uint64_t)st->st_size;
		node->nchunks = ncached;
		node->chunks = cached;
		cache_put(b, path, st, (const uint8_t (*)[32])cached, ncached);
		b->st->files_unchanged++;
		b->prog.bytes_done += (uint64_t)st->st_size;
		return CF_OK;
	}
	free(cached);
	if ((fd = open_for_reading(path)) < 0) {
		warn(b, path, strerror(errno));
		return CF_ERR_NOTFOUND;
	}
	if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
		close(fd);
		warn(b, path, "changed type while being backed up");
		return CF_ERR_NOTFOUND;
	}
	rc = read_and_chunk(b, fd, path, &size, &read_errno);
	close(fd);
	if (rc != CF_OK)
		return rc;
	if (read_errno != 0) {
		warn(b, path, strerror(read_errno));
		return CF_ERR_NOTFOUND;
	}
	node->size = size;
	node->nchunks = (uint32_t)b->nchunks;
	node->chunks = b->chunks;
	if (hit == 2)
		b->st->files_changed++;
	else
		b->st->files_new++;
	/* Cache what was read, with the metadata seen before reading it: a
	 * change during the read then shows up next time. */
	cache_put(b, path, &fst, (const uint8_t (*)[32])b->chunks,
	    (uint32_t)b->nchunks);
	return CF_OK;
}

/* ---- directories ---- */

static cf_status save_dir(struct backup *, const char *, uint8_t *);

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
 * save_entry(b, path, name, st, t): add the node for ${path} to ${t}.
 * Something that cannot be read is warned about and left out.
 */
static cf_status
save_entry(struct backup *b, const char *path, const char *name,
    const struct stat *st, struct cf_tree *t)
{
	struct cf_node n;
	char target[CF_SYMLINK_MAX + 1];
	ssize_t tl;
	cf_status rc = CF_OK;

	node_from_stat(&n, name, st);
	if ((rc = cf_lock_refresh(b->lock)) != CF_OK)
		return rc;
	if (S_ISREG(st->st_mode)) {
		n.kind = CF_NODE_FILE;
		rc = save_file(b, path, st, &n);
		b->prog.files_done++;
		progress(b, path, 0);
		if (rc == CF_ERR_NOTFOUND)
			return CF_OK;
	} else if (S_ISDIR(st->st_mode)) {
		n.kind = CF_NODE_DIR;
		n.nlink = 0;
		if ((rc = save_dir(b, path, n.subtree)) == CF_ERR_NOTFOUND)
			return CF_OK;
		b->st->dirs++;
	} else if (S_ISLNK(st->st_mode)) {
		n.kind = CF_NODE_SYMLINK;
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
	} else {
		/* Sockets, FIFOs, devices: nothing to back up. */
		return CF_OK;
	}
	if (rc == CF_OK)
		rc = cf_tree_add(t, &n);
	if (n.kind == CF_NODE_FILE && n.chunks != b->chunks)
		free(n.chunks);
	if (rc == CF_ERR_INVALID) {
		warn(b, path, cf_error_message());
		rc = CF_OK;
	}
	return rc;
}

static cf_status
save_tree(struct backup *b, struct cf_tree *t, uint8_t id[CF_HASH_BYTES])
{
	struct cf_buf buf;
	cf_status rc;

	cf_buf_init(&buf, CF_BLOB_MAX);
	if ((rc = cf_tree_encode(t, &buf)) == CF_OK)
		rc = save_blob(b, CF_BLOB_TREE, buf.p, buf.len, id);
	cf_buf_free(&buf);
	return rc;
}

/* save_dir: CF_ERR_NOTFOUND if the directory cannot be listed (warned). */
static cf_status
save_dir(struct backup *b, const char *path, uint8_t *id)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct cf_tree t;
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
	cf_tree_init(&t);
	for (size_t i = 0; i < n && rc == CF_OK; i++) {
		struct stat st;
		char *child = path_join(path, names[i]);

		if (child == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			break;
		}
		if (excluded(b, child, names[i])) {
			free(child);
			continue;
		}
		if (lstat(child, &st) != 0)
			warn(b, child, strerror(errno));
		else
			rc = save_entry(b, child, names[i], &st, &t);
		free(child);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == CF_OK)
		rc = save_tree(b, &t, id);
	cf_tree_free(&t);
	return rc;
}

/*
 * save_virtual(b, dir, paths, n, id): the tree of directory ${dir} ("" for
 * the root) holding only what leads to the ${n} sorted ${paths} below it.
 */
static cf_status
save_virtual(struct backup *b, const char *dir, char *const *paths, size_t n,
    uint8_t id[CF_HASH_BYTES])
{
	size_t dl = strlen(dir), i = 0;
	struct cf_tree t;
	cf_status rc = CF_OK;

	cf_tree_init(&t);
	while (i < n && rc == CF_OK) {
		const char *rest = paths[i] + dl + 1;
		size_t cl = strcspn(rest, "/"), j = i + 1;
		char *comp, *child;
		struct stat st;

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
			if (lstat(child, &st) != 0)
				warn(b, child, strerror(errno));
			else
				rc = save_entry(b, child, comp, &st, &t);
		} else if (stat(child, &st) != 0 || !S_ISDIR(st.st_mode)) {
			warn(b, child, "not a directory");
		} else {
			/* A directory on the way to paths given. */
			struct cf_node node;
			node_from_stat(&node, comp, &st);
			node.kind = CF_NODE_DIR;
			node.nlink = 0;
			if ((rc = save_virtual(b, child, paths + i, j - i,
			    node.subtree)) == CF_OK)
				rc = cf_tree_add(&t, &node);
		}
		free(comp);
		free(child);
		i = j;
	}
	if (rc == CF_OK)
		rc = save_tree(b, &t, id);
	cf_tree_free(&t);
	return rc;
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

/* total_bytes: the walk counts file sizes in prog.bytes_done; keep both. */
cf_status
cf_backup_run(struct cf_repo *r, const struct cf_backup_opts *opts,
    struct cf_backup_stats *stats)
{
	struct backup b;
	char **paths = NULL;
	size_t npaths = 0;
	uint8_t root[CF_HASH_BYTES];
	uint64_t stored;
	cf_status rc;

	memset(stats, 0, sizeof(*stats));
	memset(&b, 0, sizeof(b));
	b.r = r;
	b.o = opts;
	b.st = stats;
	clock_gettime(CLOCK_MONOTONIC, &b.t0);
	b.tprog = b.t0;
	cf_buf_init(&b.ibuf, CF_INDEX_FILE_MAX);
	if ((rc = normalise_paths(opts, &paths, &npaths)) != CF_OK)
		return rc;
	if ((rc = cf_lock_acquire(r, 0, &b.lock)) != CF_OK)
		goto out;
	if ((rc = cf_repo_load_index(r, &b.idx)) != CF_OK ||
	    (rc = cf_chunker_new(&r->cfg.chunker, r->keys->gear_key,
	    &b.chunker)) != CF_OK ||
	    (rc = repo_idset_new(&b.pending)) != CF_OK ||
	    (rc = cf_packer_new(r, opts->threads < 0 ? 0 : opts->threads > 0 ?
	    (unsigned)opts->threads : cf_packer_default_threads(), 1, NULL,
	    NULL, &b.data)) != CF_OK ||
	    (rc = cf_packer_new(r, 0, 1, NULL, NULL, &b.trees)) != CF_OK)
		goto out;
	b.rcap = 2 * (size_t)r->cfg.chunker.max;
	if ((b.rbuf = malloc(b.rcap)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto out;
	}
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

	if (npaths == 1 && strcmp(paths[0], "/") == 0) {
		if ((rc = save_dir(&b, "/", root)) == CF_ERR_NOTFOUND)
			rc = cf_error_set(CF_ERR_IO, "cannot read /");
		else
			b.st->dirs++;
	} else {
		rc = save_virtual(&b, "", paths, npaths, root);
	}
	if (rc != CF_OK)
		goto out;
	stats->bytes_total = b.prog.bytes_done;
	/* Data, then the trees naming it, then the snapshot naming them. */
	if ((rc = cf_packer_finish(b.data, &stored)) != CF_OK)
		goto out;
	stats->bytes_stored += stored;
	if ((rc = cf_packer_finish(b.trees, &stored)) != CF_OK)
		goto out;
	stats->bytes_stored += stored;
	if ((rc = write_snapshot(&b, paths, npaths, root)) != CF_OK)
		goto out;
	/* The snapshot is stored: a cache that cannot be saved is a warning. */
	if (b.fc != NULL && cf_filescache_commit(b.fc) != CF_OK)
		warn_cache(&b, cf_error_message());
	progress(&b, NULL, 1);
out:
	stats->seconds = repo_elapsed(&b.t0);
	cf_filescache_close(b.fc);
	/* Workers may be storing a pack: stop them before the lock goes. */
	cf_packer_free(b.data);
	cf_packer_free(b.trees);
	cf_lock_release(b.lock);
	cf_chunker_free(b.chunker);
	cf_index_free(b.pending);
	/* New packs are not in the repository's in-memory index. */
	repo_drop_index(r);
	cf_buf_free(&b.ibuf);
	if (b.rbuf != NULL)
		sodium_memzero(b.rbuf, b.rcap);
	free(b.rbuf);
	free(b.chunks);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return rc;
}
