/*
 * backend_multi.h: one repository kept at several destinations at once (a
 * NAS, an off-site coffred server, an S3 store).
 *
 * A multi backend is an ordinary struct cf_backend whose operations fan out
 * to every destination, so nothing above the backend layer changes:
 *  - put writes to every online destination in parallel; it succeeds when at
 *    least one destination stored the object.  A destination whose put fails
 *    is marked lagging and receives nothing more in this run (a dead link is
 *    not retried object after object); what it missed is counted so the
 *    caller can say which destination lags and by how much, and `coffre
 *    sync` later copies it there.
 *  - get reads from the destinations in order and falls back to the next on
 *    any failure.  A whole content-named object (data/, index/, snapshots/,
 *    locks/) is hashed and compared with its name before it is returned: a
 *    destination that returns other bytes is noted and skipped, never
 *    trusted.  Ranges cannot be checked here (a pack is read one blob at a
 *    time); the repository layer authenticates each blob and retries another
 *    copy through cf_backend_copy() when one fails.
 *  - list returns the union of the online destinations' names, each once.
 *  - del removes from every online destination.
 * Opening tolerates destinations that cannot be opened (an unplugged disk,
 * a server that is down): they are offline for this run and reported, as
 * long as one destination is online.  Every online destination must hold
 * the same config (byte for byte): two different repositories under one
 * name are refused.
 */
#ifndef COFFRE_BACKEND_MULTI_H
#define COFFRE_BACKEND_MULTI_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define CF_DESTINATIONS_MAX 8

/* Flags for cf_backend_open_many. */
#define CF_MULTI_CREATE 1           /* init: create the repository everywhere */
#define CF_MULTI_ADOPT_EMPTY 2      /* sync: keep destinations with no config
                                       online (created), to be filled */

/*
 * cf_backend_open_many(locations, n, flags, opts, out): open ${n} (1 to
 * CF_DESTINATIONS_MAX) destinations as one backend.  With n == 1 this is
 * cf_backend_open.  With CF_MULTI_CREATE every destination must be created
 * (any failure fails the whole).  Without it, destinations that fail to
 * open are offline (see cf_backend_copy_status); CF_ERR_NOTFOUND or the
 * first error if none is online; CF_ERR_CORRUPT if two online destinations
 * hold different configs; CF_ERR_INVALID for a location given twice.
 */
cf_status cf_backend_open_many(const char *const *locations, size_t n,
    int flags, const struct cf_backend_opts *opts, struct cf_backend **out);

/* cf_backend_copies(b): how many destinations ${b} has (1 if not multi). */
size_t cf_backend_copies(const struct cf_backend *b);

/*
 * cf_backend_copy(b, i): the backend of destination ${i} (0-based), NULL
 * if it is offline; for a backend that is not multi, ${b} itself for i == 0.
 * Owned by ${b}.
 */
struct cf_backend *cf_backend_copy(struct cf_backend *b, size_t i);

/* What happened to one destination in this run. */
struct cf_dest_status {
	const char *location;   /* as given; owned by the backend */
	int online;             /* opened, and no operation has failed */
	int opened;             /* opened at all */
	int created;            /* held no repository; created for sync */
	uint64_t missed_puts;   /* objects it should have received but did not */
	uint64_t missed_bytes;
	uint64_t missed_dels;   /* deletions it did not get */
	uint64_t bad_reads;     /* gets that failed or returned wrong bytes */
	char error[256];        /* the first failure, "" if none */
};

/*
 * cf_backend_copy_status(b, i, st): fill ${st} for destination ${i}.
 * For a backend that is not multi, destination 0 is always online.
 */
void cf_backend_copy_status(struct cf_backend *b, size_t i,
    struct cf_dest_status *st);

/* cf_backend_lagging(b): the number of destinations not online now. */
size_t cf_backend_lagging(struct cf_backend *b);

/*
 * cf_object_content_named(name): 1 if ${name} is named by the hash of its
 * bytes (data/, index/, snapshots/, locks/), so its last segment is the hex
 * of H(bytes).
 */
int cf_object_content_named(const char *name);

/*
 * cf_object_verify(name, p, n): for a content-named ${name}, CF_OK if
 * H(p, n) is the name's hash (and a pack's directory is its first byte),
 * else CF_ERR_CORRUPT; CF_OK for other names (nothing to check).
 */
cf_status cf_object_verify(const char *name, const void *p, size_t n);

#endif
