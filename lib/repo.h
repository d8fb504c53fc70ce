/*
 * repo.h: an open repository, and the operations the coffre command runs on
 * it.  This is the library's API for the CLI (and later the server and
 * other front ends); nothing here prints or exits.
 *
 * Opening a repository reads its config, finds the identity's envelope,
 * unseals the keys, checks the config hash they carry, and compares the
 * repository key with the one pinned on first use (trust on first use,
 * like ssh's known_hosts), so a host cannot swap in a repository key of its
 * own to collect future backups.
 */
#ifndef COFFRE_REPO_H
#define COFFRE_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bytes.h"
#include "config.h"
#include "envelope.h"
#include "error.h"
#include "identity.h"
#include "index.h"
#include "keys.h"
#include "snapshot.h"
#include "tree.h"

struct cf_repo;

/* Settings chosen at init; NULL means defaults. */
struct cf_repo_params {
	struct cf_chunker_params chunker;
	uint32_t pack_target;
	uint8_t zstd_level;
};

/*
 * cf_repo_init(location, id, params, pin_path, out): create a repository at
 * ${location} whose only member is ${id}, as a full member.  ${pin_path}
 * (may be NULL) is the known-repositories file to record the key in.
 * CF_ERR_EXISTS if a repository is already there.
 */
cf_status cf_repo_init(const char *location, const struct cf_identity *id,
    const struct cf_repo_params *params, const char *pin_path,
    struct cf_repo **out);

/*
 * cf_repo_open(location, id, pin_path, out): open for ${id}.
 * CF_ERR_NOTFOUND (no repository there), CF_ERR_VERSION, CF_ERR_NOTMEMBER,
 * CF_ERR_CORRUPT (config/envelope damaged, or key differs from the pinned
 * one).  ${id} must outlive the repo.
 */
cf_status cf_repo_open(const char *location, const struct cf_identity *id,
    const char *pin_path, struct cf_repo **out);

/*
 * cf_repo_init_many / cf_repo_open_many: the same for a repository kept at
 * ${n} destinations (backend_multi.h; ${flags} as cf_backend_open_many's,
 * CF_MULTI_ADOPT_EMPTY to fill new destinations with cf_sync_run).  Every
 * destination reached is pinned.  Init fails unless every destination was
 * created; open succeeds while one destination holds the repository.
 */
cf_status cf_repo_init_many(const char *const *locations, size_t n,
    const struct cf_identity *id, const struct cf_repo_params *params,
    const char *pin_path, struct cf_repo **out);
cf_status cf_repo_open_many(const char *const *locations, size_t n,
    int flags, const struct cf_identity *id, const char *pin_path,
    struct cf_repo **out);

/*
 * cf_repo_focus(r, dest): make later operations use only destination
 * ${dest} (0-based; to check each copy on its own), or all of them again
 * with CF_REPO_ALL.  CF_ERR_IO if that destination is offline.
 */
#define CF_REPO_ALL ((size_t)-1)
cf_status cf_repo_focus(struct cf_repo *r, size_t dest);

/* cf_repo_config_hash(r): H(config bytes), as the envelope vouches for. */
const uint8_t *cf_repo_config_hash(const struct cf_repo *r);

/* cf_repo_close(r): NULL is a no-op; wipes keys. */
void cf_repo_close(struct cf_repo *r);

/* Accessors; valid while the repo is open. */
struct cf_backend *cf_repo_backend(struct cf_repo *r);
const struct cf_config *cf_repo_config(const struct cf_repo *r);
const struct cf_keys *cf_repo_keys(const struct cf_repo *r);
const struct cf_identity *cf_repo_identity(const struct cf_repo *r);
/* cf_repo_role(r): CF_ROLE_FULL or CF_ROLE_WRITE_ONLY. */
int cf_repo_role(const struct cf_repo *r);

/*
 * cf_repo_require_read(r, what): CF_OK for a full member; otherwise
 * CF_ERR_ACCESS with a message saying that a write-only member cannot ${what}.
 */
cf_status cf_repo_require_read(const struct cf_repo *r, const char *what);

/*
 * cf_repo_load_index(r): read every index file (once; later calls are no-ops)
 * and return the in-memory index.
 */
cf_status cf_repo_load_index(struct cf_repo *r, struct cf_index **idx);

/*
 * cf_repo_read_blob(r, id, type, out): fetch, decrypt and verify one blob
 * into ${out}.  Needs read access.  CF_ERR_NOTFOUND if not indexed,
 * CF_ERR_CORRUPT if it fails any check.
 */
cf_status cf_repo_read_blob(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES],
    uint8_t type, struct cf_buf *out);

/* cf_repo_read_tree(r, id, t): read and decode a tree blob. */
cf_status cf_repo_read_tree(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES],
    struct cf_tree *t);

/* ---- snapshots ---- */

/*
 * cf_repo_snapshots(r, list, n): every snapshot, oldest first (caller frees
 * with cf_snapshot_list_free).  A snapshot object that fails to open is an
 * error (CF_ERR_CORRUPT naming it).  Needs read access.
 */
cf_status cf_repo_snapshots(struct cf_repo *r, struct cf_snapshot **list,
    size_t *n);
void cf_snapshot_list_free(struct cf_snapshot *list, size_t n);

/*
 * cf_repo_find_snapshot(r, spec, out): the snapshot whose hex id starts with
 * ${spec} (>= 4 digits), or the newest for "latest".  CF_ERR_NOTFOUND,
 * CF_ERR_AMBIGUOUS.  Caller frees with cf_snapshot_free.
 */
cf_status cf_repo_find_snapshot(struct cf_repo *r, const char *spec,
    struct cf_snapshot *out);

/* cf_repo_forget_snapshot(r, id): delete one snapshot object. */
cf_status cf_repo_forget_snapshot(struct cf_repo *r,
    const uint8_t id[CF_HASH_BYTES]);

/*
 * cf_repo_walk(r, tree, fn, arg): depth-first, name order, every node below
 * ${tree}; fn gets the absolute path ("/a/b") of the node.  A non-CF_OK
 * return from fn stops the walk and is returned.
 */
typedef cf_status (*cf_walk_fn)(void *arg, const char *path,
    const struct cf_node *node);
cf_status cf_repo_walk(struct cf_repo *r, const uint8_t tree[CF_HASH_BYTES],
    cf_walk_fn fn, void *arg);

/* ---- members ---- */

struct cf_member {
	struct cf_envelope_info info;
	int verified;   /* 1 MAC ok, 0 MAC bad, -1 unknown (write-only caller) */
};

/* cf_repo_members(r, list, n): every envelope (caller frees *list). */
cf_status cf_repo_members(struct cf_repo *r, struct cf_member **list,
    size_t *n);

/*
 * cf_repo_member_add(r, pk, role, name): write an envelope for ${pk}.
 * CF_ERR_ACCESS for a write-only caller, CF_ERR_EXISTS if already a member.
 */
cf_status cf_repo_member_add(struct cf_repo *r,
    const uint8_t pk[CF_SIGN_PK_BYTES], int role, const char *name);

/*
 * cf_repo_member_remove(r, pk): delete ${pk}'s envelope.  CF_ERR_NOTFOUND,
 * CF_ERR_ACCESS (write-only caller), CF_ERR_INVALID (last full member).
 */
cf_status cf_repo_member_remove(struct cf_repo *r,
    const uint8_t pk[CF_SIGN_PK_BYTES]);

/* cf_repo_is_member(r, pk, info): 1 if ${pk} has an envelope that verifies. */
int cf_repo_is_member(struct cf_repo *r, const uint8_t pk[CF_SIGN_PK_BYTES],
    struct cf_envelope_info *info);

/* ---- locks ---- */

struct cf_lock;

/*
 * cf_lock_acquire(r, exclusive, out): take a lock; CF_ERR_LOCKED with a
 * message naming holder, host, pid and age when a conflicting lock exists.
 * Stale locks are removed.
 */
cf_status cf_lock_acquire(struct cf_repo *r, int exclusive,
    struct cf_lock **out);
/* cf_lock_refresh(l): replace the lock if it is older than the refresh time. */
cf_status cf_lock_refresh(struct cf_lock *l);
/*
 * cf_lock_verify(l): CF_OK if our lock is still there and no conflicting
 * lock appeared; CF_ERR_LOCKED otherwise (called before deleting data).
 */
cf_status cf_lock_verify(struct cf_lock *l);
/* cf_lock_release(l): remove the lock; NULL is a no-op. */
void cf_lock_release(struct cf_lock *l);

/* ---- progress, shared by long operations ---- */

struct cf_progress {
	uint64_t files_done, files_total;
	uint64_t bytes_done, bytes_total;   /* total 0 = unknown */
	const char *current;                /* path being worked on, or NULL */
};
/* Called from the operation's thread, at most a few times per second. */
typedef void (*cf_progress_fn)(void *arg, const struct cf_progress *p);

/* Warnings (a file that vanished or cannot be read) do not stop a backup. */
typedef void (*cf_warn_fn)(void *arg, const char *path, const char *msg);

/* ---- backup ---- */

struct cf_backup_opts {
	const char *const *paths;
	size_t npaths;
	const char *const *excludes;    /* fnmatch patterns */
	size_t nexcludes;
	const char *const *tags;
	size_t ntags;
	const char *hostname;           /* NULL: gethostname */
	const char *cache_dir;          /* NULL: no files cache */
	int scan_first;                 /* count files/bytes for an ETA */
	int threads;                    /* compression and encryption threads:
					   0 one per CPU, -1 none (inline) */
	cf_progress_fn progress;
	cf_warn_fn warn;
	void *arg;
};

struct cf_backup_stats {
	uint8_t snapshot[CF_HASH_BYTES];
	uint64_t files_new, files_changed, files_unchanged, dirs;
	uint64_t bytes_read, bytes_total, bytes_added, bytes_stored;
	uint64_t errors;
	double seconds;
};

/*
 * cf_backup_run(r, opts, stats): back up under a shared lock (taken and
 * refreshed here), write a signed snapshot.  Paths must be absolute and
 * normalised (no "//", ".", ".." components, no trailing '/').
 * CF_OK even when some files could not be read (stats->errors > 0 and
 * opts->warn told which); an error return writes no snapshot.
 */
cf_status cf_backup_run(struct cf_repo *r, const struct cf_backup_opts *opts,
    struct cf_backup_stats *stats);

/* ---- restore ---- */

struct cf_restore_opts {
	const char *target;
	const char *const *includes;    /* absolute snapshot paths; none = all */
	size_t nincludes;
	int overwrite;
	int threads;                    /* reading, verifying and writing
					   threads: 0 one per CPU, -1 none */
	cf_progress_fn progress;
	cf_warn_fn warn;
	void *arg;
};

struct cf_restore_stats {
	uint64_t files, dirs, symlinks, bytes;
	double seconds;
};

/*
 * cf_restore_run(r, snap, opts, stats): restore ${snap} under opts->target,
 * under a shared lock (taken here).
 * Every blob is verified before a byte of it is written.  CF_ERR_EXISTS when
 * a file exists and overwrite is off (nothing of it changed); CF_ERR_CORRUPT
 * on tampering.
 */
cf_status cf_restore_run(struct cf_repo *r, const struct cf_snapshot *snap,
    const struct cf_restore_opts *opts, struct cf_restore_stats *stats);

/* ---- check ---- */

typedef void (*cf_problem_fn)(void *arg, const char *problem);

struct cf_check_stats {
	uint64_t snapshots, trees, packs, blobs, problems;
};

/*
 * cf_check_run(r, read_data, threads, problem, progress, arg, stats): check
 * the repository; each problem is reported through ${problem}.  With
 * ${read_data}, packs are read and verified on ${threads} threads (0 one
 * per CPU, -1 none).  CF_OK when the check ran (stats->problems says
 * whether anything is wrong); another code when it could not run at all.
 */
cf_status cf_check_run(struct cf_repo *r, int read_data, int threads,
    cf_problem_fn problem, cf_progress_fn progress, void *arg,
    struct cf_check_stats *stats);

/* ---- forget and prune ---- */

struct cf_retention {
	int last, hourly, daily, weekly, monthly, yearly;   /* 0 = unused */
};

/*
 * cf_retention_apply(policy, list, n, keep): set keep[i] to 1 for each
 * snapshot the policy keeps (restic semantics), list sorted oldest first.
 * The policy applies to each group of snapshots of one host and one set of
 * paths separately.  Times are bucketed in local time.  A policy with every
 * count 0 keeps all.
 */
void cf_retention_apply(const struct cf_retention *policy,
    const struct cf_snapshot *list, size_t n, int *keep);

struct cf_prune_stats {
	uint64_t packs_deleted, packs_repacked, bytes_deleted, blobs_kept;
	uint64_t index_files_replaced;
};

/*
 * cf_prune_run(r, dry_run, stats): remove data no snapshot references, under
 * an exclusive lock.  Order, so that a kill at any point loses nothing still
 * referenced: write repacked packs, write the new index, delete the old
 * index files, then delete the packs no longer indexed.
 */
cf_status cf_prune_run(struct cf_repo *r, int dry_run,
    struct cf_prune_stats *stats);

#endif
