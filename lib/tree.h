/*
 * tree.h: a directory listing, stored as a blob of type CF_BLOB_TREE.
 *
 * Tree, version 1 (little-endian):
 *   version(u8) = 1, count(u32), then count nodes sorted by name (bytewise,
 *   strictly increasing, so names are unique).  A node:
 *     kind(u8)        1 file, 2 directory, 3 symbolic link
 *     namelen(u16)    1..255, then the name: any bytes but '/' and NUL,
 *                     never "." or ".."
 *     mode(u32)       permission bits (& 07777)
 *     uid(u32) gid(u32)
 *     mtime_sec(i64) mtime_nsec(u32 < 1e9)
 *     size(u64)       file: byte length; symlink: target length; dir: 0
 *     inode(u64) device(u64) nlink(u32)   hard links: files of one snapshot
 *                     with equal (device, inode) and nlink > 1 are one file
 *     file:     nchunks(u32), nchunks ids(32 each) of CF_BLOB_DATA blobs
 *               whose lengths add up to size (checked on restore, since
 *               the tree alone does not know blob lengths)
 *     directory: subtree id(32)
 *     symlink:  targetlen(u16) 1..4095, target bytes (no NUL)
 * A decoder checks all of the above; trailing bytes are an error.
 */
#ifndef COFFRE_TREE_H
#define COFFRE_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"

#define CF_NODE_FILE 1
#define CF_NODE_DIR 2
#define CF_NODE_SYMLINK 3
#define CF_TREE_NAME_MAX 255
#define CF_SYMLINK_MAX 4095

struct cf_node {
	uint8_t kind;
	char *name;             /* NUL-terminated; owned by the tree */
	uint32_t mode, uid, gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t size, inode, device;
	uint32_t nlink;
	uint32_t nchunks;       /* file */
	uint8_t (*chunks)[CF_HASH_BYTES];   /* file; owned by the tree */
	uint8_t subtree[CF_HASH_BYTES];     /* directory */
	char *target;           /* symlink; NUL-terminated; owned by the tree */
};

struct cf_tree {
	struct cf_node *nodes;
	size_t count;
	size_t cap;
};

/* cf_tree_init(t): an empty tree. */
void cf_tree_init(struct cf_tree *t);

/*
 * cf_tree_add(t, n): append a deep copy of ${n} (name, chunks, target
 * copied).  CF_ERR_INVALID for an invalid name or kind.
 */
cf_status cf_tree_add(struct cf_tree *t, const struct cf_node *n);

/*
 * cf_tree_encode(t, out): sort by name and append the encoding to ${out};
 * CF_ERR_INVALID on duplicate names.
 */
cf_status cf_tree_encode(struct cf_tree *t, struct cf_buf *out);

/* cf_tree_decode(p, n, t): parse into ${t} (initialised by the call). */
cf_status cf_tree_decode(const uint8_t *p, size_t n, struct cf_tree *t);

/* cf_tree_find(t, name): the node called ${name} or NULL (t sorted). */
const struct cf_node *cf_tree_find(const struct cf_tree *t, const char *name);

/* cf_tree_free(t): release contents; t may be reused after cf_tree_init. */
void cf_tree_free(struct cf_tree *t);

#endif
