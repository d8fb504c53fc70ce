/*
 * nameset.h: a set of object names (strings of at most CF_OBJECT_NAME_MAX
 * bytes), for listings merged from several destinations.
 */
#ifndef COFFRE_NAMESET_H
#define COFFRE_NAMESET_H

#include <stddef.h>

#include "error.h"

struct cf_nameset {
	char **slot;            /* open addressing; NULL = free */
	size_t cap, n;
};

/* A zeroed struct cf_nameset is an empty set. */

/* cf_nameset_add(s, name): add a copy of ${name}; CF_ERR_NOMEM. */
cf_status cf_nameset_add(struct cf_nameset *s, const char *name);

/* cf_nameset_has(s, name): 1 if ${name} is in ${s}. */
int cf_nameset_has(const struct cf_nameset *s, const char *name);

/*
 * cf_nameset_sorted(s, out): the names in bytewise order, as an array of
 * s->n pointers owned by ${s} (the array is the caller's to free()).
 * CF_ERR_NOMEM.
 */
cf_status cf_nameset_sorted(const struct cf_nameset *s, const char ***out);

/* cf_nameset_add_cb(arg, name): cf_nameset_add as a cf_backend_list_fn. */
cf_status cf_nameset_add_cb(void *arg, const char *name);

/* cf_nameset_free(s): release; the set is empty again. */
void cf_nameset_free(struct cf_nameset *s);

#endif
