/*
 * sync.h: bring the destinations of one repository level, compare them and
 * repair them, without decrypting anything.
 *
 * Works on a multi backend (backend_multi.h) object by object: config,
 * keys/, data/, index/, snapshots/ in that order (locks/ are left alone),
 * so a destination being filled is a valid repository at every instant:
 * its packs arrive before the index files that name them, and those before
 * the snapshots that use them.  A copy is only ever made from a source copy
 * that was checked: a content-named object's bytes must hash to its name;
 * the config must hash to ${config_hash} when the caller knows it.  Copies
 * of an envelope (keys/) that differ between destinations are reported as
 * a conflict and left as they are: nothing here can tell which is right.
 */
#ifndef COFFRE_SYNC_H
#define COFFRE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "crypto.h"
#include "error.h"

#define CF_SYNC_WRITE 1     /* copy missing objects, replace damaged ones */
#define CF_SYNC_VERIFY 2    /* read every copy and check it (else: compare
                               names and sizes, reading only odd ones) */

struct cf_sync_stats {
	uint64_t objects;       /* distinct objects over all destinations */
	uint64_t missing;       /* (object, destination) pairs absent */
	uint64_t damaged;       /* copies with wrong bytes or size */
	uint64_t copied;        /* copies written (missing or damaged) */
	uint64_t copied_bytes;
	uint64_t unrepairable;  /* objects with no good copy anywhere */
	uint64_t conflicts;     /* envelopes that differ between destinations */
	uint64_t failed;        /* copies that could not be written */
};

/*
 * Called for each problem: ${dest} is the destination's index, ${name} the
 * object, ${what} says what is wrong and what was done.
 */
typedef void (*cf_sync_report_fn)(void *arg, size_t dest, const char *name,
    const char *what);
/* Called after each object: done out of total. */
typedef void (*cf_sync_progress_fn)(void *arg, uint64_t done, uint64_t total,
    uint64_t bytes);

/*
 * cf_sync_run(b, flags, config_hash, report, progress, arg, st): compare the
 * destinations of ${b} (any backend; with one destination only its own
 * copies are checked) and, with CF_SYNC_WRITE, fix what differs.
 * ${config_hash} may be NULL.  CF_OK when the run completed (st says what
 * it found); an error when it could not (no destination could be listed,
 * out of memory).  Destinations that are offline are skipped.
 */
cf_status cf_sync_run(struct cf_backend *b, int flags,
    const uint8_t *config_hash, cf_sync_report_fn report,
    cf_sync_progress_fn progress, void *arg, struct cf_sync_stats *st);

#endif
