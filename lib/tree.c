/* tree.c: directory listings, encoded and parsed (see tree.h). */
#include "tree.h"

#include <stdlib.h>
#include <string.h>

#define TREE_VERSION 1
#define NSEC_PER_SEC 1000000000u

/*
 * The smallest encoded node: kind(1) namelen(2) name(1) mode uid gid (12)
 * mtime(12) size inode device (24) nlink(4), then the smallest kind-specific
 * part, a symbolic link with a one-byte target (3).
 */
#define NODE_MIN_BYTES (1 + 2 + 1 + 12 + 12 + 24 + 4 + 3)

/* name_ok(name, len): 1 if ${name} may name a tree node. */
static int
name_ok(const char *name, size_t len)
{
	if (len == 0 || len > CF_TREE_NAME_MAX)
		return 0;
	if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
		return 0;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return 1;
}

/* node_check(n): CF_OK if ${n} can be encoded; CF_ERR_INVALID otherwise. */
static cf_status
node_check(const struct cf_node *n)
{
	size_t tlen;

	if (n->name == NULL ||
	    !name_ok(n->name, strnlen(n->name, CF_TREE_NAME_MAX + 1)))
		return cf_error_set(CF_ERR_INVALID,
		    "invalid file name in directory listing");
	if (n->mode & ~07777u)
		return cf_error_set(CF_ERR_INVALID,
		    "invalid permission bits for \"%s\"", n->name);
	if (n->mtime_nsec >= NSEC_PER_SEC)
		return cf_error_set(CF_ERR_INVALID,
		    "invalid modification time for \"%s\"", n->name);
	switch (n->kind) {
	case CF_NODE_FILE:
		if (n->nchunks > 0 && n->chunks == NULL)
			return cf_error_set(CF_ERR_INVALID,
			    "file \"%s\" has no chunk list", n->name);
		break;
	case CF_NODE_DIR:
		if (n->size != 0)
			return cf_error_set(CF_ERR_INVALID,
			    "directory \"%s\" has a size", n->name);
		break;
	case CF_NODE_SYMLINK:
		if (n->target == NULL)
			return cf_error_set(CF_ERR_INVALID,
			    "symbolic link \"%s\" has no target", n->name);
		tlen = strnlen(n->target, CF_SYMLINK_MAX + 1);
		if (tlen == 0 || tlen > CF_SYMLINK_MAX)
			return cf_error_set(CF_ERR_INVALID,
			    "symbolic link \"%s\" has an empty or too long "
			    "target", n->name);
		if (n->size != tlen)
			return cf_error_set(CF_ERR_INVALID,
			    "symbolic link \"%s\" has a size other than its "
			    "target's length", n->name);
		break;
	default:
		return cf_error_set(CF_ERR_INVALID,
		    "unknown kind of directory entry (%u)", (unsigned)n->kind);
	}
	return CF_OK;
}

static void
node_free(struct cf_node *n)
{
	free(n->name);
	free(n->chunks);
	free(n->target);
	memset(n, 0, sizeof(*n));
}

/* tree_grow(t): make room for one more node. */
static cf_status
tree_grow(struct cf_tree *t)
{
	struct cf_node *nodes;
	size_t cap;

	if (t->count < t->cap)
		return CF_OK;
	cap = t->cap ? t->cap * 2 : 16;
	if (cap < t->cap || cap > SIZE_MAX / sizeof(*nodes))
		return cf_error_set(CF_ERR_NOMEM,
		    "directory listing too large");
	if ((nodes = realloc(t->nodes, cap * sizeof(*nodes))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	t->nodes = nodes;
	t->cap = cap;
	return CF_OK;
}

static int
node_cmp(const void *a, const void *b)
{
	const struct cf_node *x = a, *y = b;

	/* strcmp compares as unsigned char: bytewise order. */
	return strcmp(x->name, y->name);
}

void
cf_tree_init(struct cf_tree *t)
{
	t->nodes = NULL;
	t->count = 0;
	t->cap = 0;
}

cf_status
cf_tree_add(struct cf_tree *t, const struct cf_node *n)
{
	struct cf_node c;
	cf_status rc;

	/*
	 * Normalise what the format fixes: permission bits only, size 0 for
	 * a directory, the target's length for a symbolic link.
	 */
	c = *n;
	c.mode &= 07777u;
	if (c.kind == CF_NODE_DIR)
		c.size = 0;
	if (c.kind == CF_NODE_SYMLINK && c.target != NULL)
		c.size = strnlen(c.target, CF_SYMLINK_MAX + 1);
	if ((rc = node_check(&c)) != CF_OK)
		return rc;
	if ((rc = tree_grow(t)) != CF_OK)
		return rc;

	c.name = NULL;
	c.chunks = NULL;
	c.target = NULL;
	if (n->kind != CF_NODE_FILE)
		c.nchunks = 0;
	if (n->kind != CF_NODE_DIR)
		memset(c.subtree, 0, sizeof(c.subtree));
	if ((c.name = strdup(n->name)) == NULL)
		goto nomem;
	if (n->kind == CF_NODE_FILE && n->nchunks > 0) {
		if ((c.chunks = malloc((size_t)n->nchunks * CF_HASH_BYTES)) ==
		    NULL)
			goto nomem;
		memcpy(c.chunks, n->chunks, (size_t)n->nchunks * CF_HASH_BYTES);
	}
	if (n->kind == CF_NODE_SYMLINK &&
	    (c.target = strdup(n->target)) == NULL)
		goto nomem;
	t->nodes[t->count++] = c;
	return CF_OK;

nomem:
	node_free(&c);
	return cf_error_set(CF_ERR_NOMEM, "out of memory");
}

cf_status
cf_tree_encode(struct cf_tree *t, struct cf_buf *out)
{
	size_t start = out->len;
	cf_status rc;

	if (t->count > UINT32_MAX)
		return cf_error_set(CF_ERR_INVALID, "directory too large");
	for (size_t i = 0; i < t->count; i++)
		if ((rc = node_check(&t->nodes[i])) != CF_OK)
			return rc;
	if (t->count > 1)
		qsort(t->nodes, t->count, sizeof(*t->nodes), node_cmp);
	for (size_t i = 1; i < t->count; i++)
		if (strcmp(t->nodes[i - 1].name, t->nodes[i].name) == 0)
			return cf_error_set(CF_ERR_INVALID,
			    "two entries named \"%s\" in one directory",
			    t->nodes[i].name);

	if ((rc = cf_buf_add_u8(out, TREE_VERSION)) != CF_OK ||
	    (rc = cf_buf_add_u32(out, (uint32_t)t->count)) != CF_OK)
		goto err;
	for (size_t i = 0; i < t->count; i++) {
		const struct cf_node *n = &t->nodes[i];
		size_t nlen = strlen(n->name);

		if ((rc = cf_buf_add_u8(out, n->kind)) != CF_OK ||
		    (rc = cf_buf_add_u16(out, (uint16_t)nlen)) != CF_OK ||
		    (rc = cf_buf_append(out, n->name, nlen)) != CF_OK ||
		    (rc = cf_buf_add_u32(out, n->mode)) != CF_OK ||
		    (rc = cf_buf_add_u32(out, n->uid)) != CF_OK ||
		    (rc = cf_buf_add_u32(out, n->gid)) != CF_OK ||
		    (rc = cf_buf_add_u64(out, (uint64_t)n->mtime_sec)) !=
		    CF_OK ||
		    (rc = cf_buf_add_u32(out, n->mtime_nsec)) != CF_OK ||
		    (rc = cf_buf_add_u64(out, n->size)) != CF_OK ||
		    (rc = cf_buf_add_u64(out, n->inode)) != CF_OK ||
		    (rc = cf_buf_add_u64(out, n->device)) != CF_OK ||
		    (rc = cf_buf_add_u32(out, n->nlink)) != CF_OK)
			goto err;
		switch (n->kind) {
		case CF_NODE_FILE:
			if ((rc = cf_buf_add_u32(out, n->nchunks)) != CF_OK ||
			    (n->nchunks > 0 && (rc = cf_buf_append(out,
			    n->chunks, (size_t)n->nchunks * CF_HASH_BYTES)) !=
			    CF_OK))
				goto err;
			break;
		case CF_NODE_DIR:
			if ((rc = cf_buf_append(out, n->subtree,
			    CF_HASH_BYTES)) != CF_OK)
				goto err;
			break;
		default: {
			size_t tlen = strlen(n->target);

			if ((rc = cf_buf_add_u16(out, (uint16_t)tlen)) !=
			    CF_OK || (rc = cf_buf_append(out, n->target,
			    tlen)) != CF_OK)
				goto err;
			break;
		}
		}
	}
	return CF_OK;

err:
	out->len = start;
	return rc;
}

/* dup_bytes(p, n): a NUL-terminated copy of ${p}[0..n), or NULL. */
static char *
dup_bytes(const uint8_t *p, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* decode_node(r, n): parse one node from ${r} into the zeroed ${n}. */
static cf_status
decode_node(struct cf_reader *r, struct cf_node *n)
{
	const uint8_t *name, *target;
	uint16_t nlen, tlen;

	n->kind = cf_read_u8(r);
	nlen = cf_read_u16(r);
	if (r->bad)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: truncated");
	if (n->kind < CF_NODE_FILE || n->kind > CF_NODE_SYMLINK)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: unknown kind of entry (%u)",
		    (unsigned)n->kind);
	if ((name = cf_read_ref(r, nlen)) == NULL)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: truncated");
	if (!name_ok((const char *)name, nlen))
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: invalid file name");
	if ((n->name = dup_bytes(name, nlen)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	n->mode = cf_read_u32(r);
	n->uid = cf_read_u32(r);
	n->gid = cf_read_u32(r);
	n->mtime_sec = (int64_t)cf_read_u64(r);
	n->mtime_nsec = cf_read_u32(r);
	n->size = cf_read_u64(r);
	n->inode = cf_read_u64(r);
	n->device = cf_read_u64(r);
	n->nlink = cf_read_u32(r);
	if (r->bad)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: truncated");
	if (n->mode & ~07777u)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: invalid permission bits");
	if (n->mtime_nsec >= NSEC_PER_SEC)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: invalid modification time");

	switch (n->kind) {
	case CF_NODE_FILE:
		n->nchunks = cf_read_u32(r);
		if (r->bad || n->nchunks > cf_reader_left(r) / CF_HASH_BYTES)
			return cf_error_set(CF_ERR_CORRUPT,
			    "directory listing: truncated chunk list");
		if (n->nchunks > 0) {
			size_t len = (size_t)n->nchunks * CF_HASH_BYTES;

			if ((n->chunks = malloc(len)) == NULL)
				return cf_error_set(CF_ERR_NOMEM,
				    "out of memory");
			cf_read_bytes(r, n->chunks, len);
		}
		break;
	case CF_NODE_DIR:
		cf_read_bytes(r, n->subtree, CF_HASH_BYTES);
		if (n->size != 0)
			return cf_error_set(CF_ERR_CORRUPT,
			    "directory listing: a directory has a size");
		break;
	default:
		tlen = cf_read_u16(r);
		if (r->bad || tlen == 0 || tlen > CF_SYMLINK_MAX)
			return cf_error_set(CF_ERR_CORRUPT,
			    "directory listing: invalid symbolic link");
		if ((target = cf_read_ref(r, tlen)) == NULL)
			return cf_error_set(CF_ERR_CORRUPT,
			    "directory listing: truncated");
		if (memchr(target, '\0', tlen) != NULL || n->size != tlen)
			return cf_error_set(CF_ERR_CORRUPT,
			    "directory listing: invalid symbolic link");
		if ((n->target = dup_bytes(target, tlen)) == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		break;
	}
	if (r->bad)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: truncated");
	return CF_OK;
}

cf_status
cf_tree_decode(const uint8_t *p, size_t n, struct cf_tree *t)
{
	struct cf_reader r;
	uint8_t version;
	uint32_t count;
	cf_status rc;

	cf_tree_init(t);
	cf_reader_init(&r, p, n);
	version = cf_read_u8(&r);
	if (r.bad)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: truncated");
	if (version != TREE_VERSION)
		return cf_error_set(CF_ERR_VERSION,
		    "directory listing version %u is not supported by this "
		    "coffre (it reads version %d); upgrade coffre",
		    (unsigned)version, TREE_VERSION);
	count = cf_read_u32(&r);
	if (r.bad || count > cf_reader_left(&r) / NODE_MIN_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "directory listing: truncated");
	if (count > 0) {
		if ((t->nodes = calloc(count, sizeof(*t->nodes))) == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		t->cap = count;
	}
	for (uint32_t i = 0; i < count; i++) {
		/* Count the node first so that cf_tree_free releases it. */
		t->count++;
		if ((rc = decode_node(&r, &t->nodes[i])) != CF_OK)
			goto err;
		if (i > 0 &&
		    strcmp(t->nodes[i - 1].name, t->nodes[i].name) >= 0) {
			rc = cf_error_set(CF_ERR_CORRUPT, "directory listing: "
			    "entries out of order or repeated");
			goto err;
		}
	}
	if ((rc = cf_reader_done(&r, "directory listing")) != CF_OK)
		goto err;
	return CF_OK;

err:
	cf_tree_free(t);
	return rc;
}

const struct cf_node *
cf_tree_find(const struct cf_tree *t, const char *name)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, t->nodes[mid].name);

		if (c == 0)
			return &t->nodes[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
cf_tree_free(struct cf_tree *t)
{
	for (size_t i = 0; i < t->count; i++)
		node_free(&t->nodes[i]);
	free(t->nodes);
	cf_tree_init(t);
}
