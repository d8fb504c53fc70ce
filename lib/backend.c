/*
 * backend.c: object names, the table wrappers, choosing a backend by the
 * location's scheme (none: a local directory; https://: coffred; s3://,
 * s3+http://: S3).
 */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

#define NAME_SEGMENTS_MAX 3

int
cf_backend_name_ok(const char *name)
{
	size_t len = 0, seglen = 0;
	int segments = 1;

	if (name == NULL)
		return 0;
	for (const char *q = name; *q != '\0'; q++) {
		if (++len > CF_OBJECT_NAME_MAX)
			return 0;
		if (*q == '/') {
			/* No empty segment: not first, not doubled. */
			if (seglen == 0 || ++segments > NAME_SEGMENTS_MAX)
				return 0;
			seglen = 0;
		} else if ((*q >= 'a' && *q <= 'z') ||
		    (*q >= '0' && *q <= '9')) {
			seglen++;
		} else {
			return 0;
		}
	}
	/* Not empty, and no trailing '/'. */
	return seglen > 0;
}

static cf_status
check_name(const char *name)
{
	if (!cf_backend_name_ok(name))
		return cf_error_set(CF_ERR_INVALID, "invalid object name");
	return CF_OK;
}

cf_status
cf_backend_put(struct cf_backend *b, const char *name, const void *data,
    size_t len)
{
	cf_status rc;

	if ((rc = check_name(name)) != CF_OK)
		return rc;
	return b->ops->put(b->ctx, name, data, len);
}

cf_status
cf_backend_get(struct cf_backend *b, const char *name, uint64_t off,
    uint64_t len, struct cf_buf *out)
{
	cf_status rc;

	if ((rc = check_name(name)) != CF_OK)
		return rc;
	return b->ops->get(b->ctx, name, off, len, out);
}

cf_status
cf_backend_stat(struct cf_backend *b, const char *name, uint64_t *size)
{
	cf_status rc;

	if ((rc = check_name(name)) != CF_OK)
		return rc;
	return b->ops->stat(b->ctx, name, size);
}

cf_status
cf_backend_list(struct cf_backend *b, const char *dir, cf_backend_list_fn fn,
    void *arg)
{
	/* A directory is one segment: "keys", "data", ... */
	if (!cf_backend_name_ok(dir) || strchr(dir, '/') != NULL)
		return cf_error_set(CF_ERR_INVALID,
		    "invalid object directory name");
	return b->ops->list(b->ctx, dir, fn, arg);
}

cf_status
cf_backend_del(struct cf_backend *b, const char *name)
{
	cf_status rc;

	if ((rc = check_name(name)) != CF_OK)
		return rc;
	return b->ops->del(b->ctx, name);
}

int
cf_backend_needs_identity(const char *location)
{
	return location != NULL && strncmp(location, "https://", 8) == 0;
}

#ifndef COFFRE_HAVE_S3
cf_status
cf_backend_s3_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out)
{
	(void)location;
	(void)create;
	(void)opts;
	*out = NULL;
	return cf_error_set(CF_ERR_INVALID,
	    "S3 support is not built into this coffre");
}
#endif

cf_status
cf_backend_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out)
{
	const char *sep;

	*out = NULL;
	if (location == NULL || location[0] == '\0')
		return cf_error_set(CF_ERR_INVALID,
		    "no repository location given");
	if ((sep = strstr(location, "://")) == NULL)
		return cf_backend_local_open(location, create, out);
	/* Schemes are matched exactly, in lowercase. */
	if (strncmp(location, "https://", 8) == 0)
		return cf_backend_coffred_open(location, create, opts, out);
	if (strncmp(location, "s3://", 5) == 0 ||
	    strncmp(location, "s3+http://", 10) == 0)
		return cf_backend_s3_open(location, create, opts, out);
	if (strncmp(location, "http://", 7) == 0)
		return cf_error_set(CF_ERR_INVALID,
		    "a coffred server is reached over https:// only, "
		    "never plain http://");
	/*
	 * Only the scheme is named: a URL may carry credentials, and
	 * messages never hold secrets.
	 */
	return cf_error_set(CF_ERR_INVALID,
	    "unsupported repository location \"%.*s://...\": use a local "
	    "directory, https://HOST/TENANT (coffred) or s3://",
	    (int)(sep - location > 16 ? 16 : sep - location), location);
}

void
cf_backend_close(struct cf_backend *b)
{
	if (b == NULL)
		return;
	if (b->ops != NULL && b->ops->close != NULL)
		b->ops->close(b->ctx);
	free(b->location);
	free(b);
}
