/* nameset.c: a set of object names; see nameset.h. */
#include "nameset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: names are hashes or a few fixed words, so this spreads well. */
static size_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return (size_t)h;
}

static size_t
find_slot(char *const *slot, size_t cap, const char *name)
{
	size_t i;

	for (i = name_hash(name) & (cap - 1); slot[i] != NULL;
	    i = (i + 1) & (cap - 1))
		if (strcmp(slot[i], name) == 0)
			break;
	return i;
}

static cf_status
grow(struct cf_nameset *s)
{
	size_t ncap = s->cap == 0 ? 1024 : 2 * s->cap;
	char **nslot;

	if (ncap < s->cap || ncap > SIZE_MAX / sizeof(*nslot))
		return cf_error_set(CF_ERR_NOMEM, "too many names");
	if ((nslot = calloc(ncap, sizeof(*nslot))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	for (size_t k = 0; k < s->cap; k++)
		if (s->slot[k] != NULL)
			nslot[find_slot(nslot, ncap, s->slot[k])] = s->slot[k];
	free(s->slot);
	s->slot = nslot;
	s->cap = ncap;
	return CF_OK;
}

cf_status
cf_nameset_add(struct cf_nameset *s, const char *name)
{
	size_t i;
	cf_status rc;

	/* Load at most one half: probes stay short. */
	if (2 * (s->n + 1) > s->cap && (rc = grow(s)) != CF_OK)
		return rc;
	i = find_slot(s->slot, s->cap, name);
	if (s->slot[i] != NULL)
		return CF_OK;
	if ((s->slot[i] = strdup(name)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	s->n++;
	return CF_OK;
}

int
cf_nameset_has(const struct cf_nameset *s, const char *name)
{
	if (s->cap == 0)
		return 0;
	return s->slot[find_slot(s->slot, s->cap, name)] != NULL;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

cf_status
cf_nameset_sorted(const struct cf_nameset *s, const char ***out)
{
	const char **v;
	size_t n = 0;

	*out = NULL;
	if ((v = calloc(s->n + 1, sizeof(*v))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	for (size_t k = 0; k < s->cap; k++)
		if (s->slot[k] != NULL)
			v[n++] = s->slot[k];
	qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	return CF_OK;
}

cf_status
cf_nameset_add_cb(void *arg, const char *name)
{
	return cf_nameset_add(arg, name);
}

void
cf_nameset_free(struct cf_nameset *s)
{
	for (size_t k = 0; k < s->cap; k++)
		free(s->slot[k]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
