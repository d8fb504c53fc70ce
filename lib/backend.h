/*
 * backend.h: where repository objects live.  Every destination (a local
 * directory, a coffred server, an S3 store) implements this small table, and
 * nothing above it knows which one it talks to.
 *
 * Object names are relative paths made only of [a-z0-9] segments separated by
 * '/', at most 3 segments and 128 bytes (cf_backend_name_ok): "config",
 * "keys/<64 hex>", "data/<2 hex>/<64 hex>", "index/<64 hex>",
 * "snapshots/<64 hex>", "locks/<64 hex>".  A backend refuses any other name,
 * so no name can escape the repository.
 *
 * Contracts common to all backends:
 *  - put is put-if-absent and atomic: the object appears whole or not at all,
 *    never half-written; on CF_OK it is durable (fsync'ed, rename fsync'ed).
 *    CF_ERR_EXISTS if the name is taken (the existing object is untouched).
 *  - get appends bytes [off, off+len) to ${out} (len = CF_BACKEND_TO_END for
 *    the rest); a range past the end returns fewer bytes, never an error,
 *    so a caller checks lengths.  CF_ERR_NOTFOUND if absent.
 *  - list calls fn(arg, name) for each object whose name starts with
 *    "<dir>/" (dir is "keys", "data", "index", "snapshots" or "locks"),
 *    in no particular order; fn returning non-CF_OK stops and is returned.
 *  - del removes an object; CF_ERR_NOTFOUND if absent.
 *  - every operation may be called from several threads at once on one
 *    backend (the packer's workers store packs in parallel); a backend
 *    serialises internally whatever it must.
 */
#ifndef COFFRE_BACKEND_H
#define COFFRE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define CF_BACKEND_TO_END UINT64_MAX
#define CF_OBJECT_NAME_MAX 128

typedef cf_status (*cf_backend_list_fn)(void *arg, const char *name);

struct cf_backend_ops {
	const char *scheme;
	cf_status (*put)(void *ctx, const char *name, const void *data,
	    size_t len);
	cf_status (*get)(void *ctx, const char *name, uint64_t off,
	    uint64_t len, struct cf_buf *out);
	cf_status (*stat)(void *ctx, const char *name, uint64_t *size);
	cf_status (*list)(void *ctx, const char *dir, cf_backend_list_fn fn,
	    void *arg);
	cf_status (*del)(void *ctx, const char *name);
	void (*close)(void *ctx);
};

struct cf_identity;

/* What a backend may need besides its location. */
struct cf_backend_opts {
	/*
	 * Signs every request to a coffred server (https://).  NULL: none; a
	 * backend that needs it then fails to open with CF_ERR_ACCESS.  Must
	 * outlive the backend.
	 */
	const struct cf_identity *identity;
};

struct cf_backend {
	const struct cf_backend_ops *ops;
	void *ctx;
	char *location;         /* what the user gave, for messages */
};

/*
 * cf_backend_open(location, create, opts, out): open the repository at
 * ${location}: a directory path, or a URL whose scheme picks the backend.
 * ${opts} may be NULL (no identity).  With ${create}, make what the
 * backend needs (which must not already hold a config); without,
 * CF_ERR_NOTFOUND if there is no repository there.
 */
cf_status cf_backend_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out);

/* cf_backend_local_open(path, create, out): the local-directory backend. */
cf_status cf_backend_local_open(const char *path, int create,
    struct cf_backend **out);

/*
 * cf_backend_coffred_open(location, create, opts, out): a coffred server,
 * ${location} = "https://HOST[:PORT]/TENANT[?pin=sha256//BASE64]"
 * (docs/protocol.md).  Needs opts->identity (CF_ERR_ACCESS without one).
 * With ${create}: checks the tenant answers (GET info) and holds no
 * config (CF_ERR_EXISTS if it does); without: CF_ERR_NOTFOUND if the
 * tenant holds no config.  lib/backend_coffred.c.
 */
cf_status cf_backend_coffred_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out);

/*
 * cf_backend_s3_open(location, create, opts, out): an S3-compatible
 * object store, ${location} = "s3://..." or "s3+http://..." (the full
 * string as the user gave it; lib/backend_s3.c parses it).  Same
 * ${create} contract as the others.
 *
 * To the S3 engineer: cf_backend_open() calls this for both schemes only
 * when lib/backend_s3.c exists: lib/meson.build then compiles the library
 * with -DCOFFRE_HAVE_S3=1 (fs.exists); without it the schemes are refused
 * with "S3 support is not built in".  Re-run meson (or touch
 * lib/meson.build) after creating the file so the define is picked up.
 * lib/http.h is the HTTP client to build on.
 */
cf_status cf_backend_s3_open(const char *location, int create,
    const struct cf_backend_opts *opts, struct cf_backend **out);

/*
 * cf_backend_needs_identity(location): 1 if opening ${location} needs
 * opts->identity (a coffred URL), so a caller that opens without one
 * first (to catch a mistyped path early) should skip that check.
 */
int cf_backend_needs_identity(const char *location);

/* cf_backend_close(b): close and free; NULL is a no-op. */
void cf_backend_close(struct cf_backend *b);

/* cf_backend_name_ok(name): 1 if ${name} is a valid object name (above). */
int cf_backend_name_ok(const char *name);

/* Wrappers that validate the name, then call the table. */
cf_status cf_backend_put(struct cf_backend *b, const char *name,
    const void *data, size_t len);
cf_status cf_backend_get(struct cf_backend *b, const char *name, uint64_t off,
    uint64_t len, struct cf_buf *out);
cf_status cf_backend_stat(struct cf_backend *b, const char *name,
    uint64_t *size);
cf_status cf_backend_list(struct cf_backend *b, const char *dir,
    cf_backend_list_fn fn, void *arg);
cf_status cf_backend_del(struct cf_backend *b, const char *name);

#endif
