/*
 * store.h: the tenants' objects on the local filesystem.
 *
 * Layout below the state directory:
 *   tenants/<tenant>/config
 *   tenants/<tenant>/keys/<name> data/<xx>/<name> index/<name>
 *                    snapshots/<name> locks/<name>
 *   tenants/<tenant>/tmp/<32 hex>.tmp      uploads under way
 * Directories are 0700, objects 0600.
 *
 * An upload is streamed to tmp/ as it arrives, hashed on the way
 * (SHA-256, the object's name), fsync'ed, hard-linked to its name (link() fails
 * if the name exists: put-if-absent, atomic), its directory fsync'ed, and
 * the temporary name removed: an object appears whole or not at all, and
 * is durable when srv_upload_commit returns.  Every path is resolved one
 * component at a time with openat(O_NOFOLLOW) from the tenants directory,
 * and only names that route.c accepted are used, so neither ".." nor a
 * symbolic link planted in the store can lead outside a tenant's
 * directory.  tmp/ is emptied when the server starts (srv_store_recount):
 * only one server runs on a state directory (it holds a lock).
 *
 * All functions may be called from several threads at once.
 */
#ifndef COFFRED_STORE_H
#define COFFRED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#include "error.h"
#include "route.h"

struct srv_store;

/*
 * srv_store_open(state_dir, out): open STATE/tenants (creating it 0700
 * if missing).  CF_ERR_IO with a message saying what to do.
 */
cf_status srv_store_open(const char *state_dir, struct srv_store **out);

/* srv_store_close(st): NULL is a no-op. */
void srv_store_close(struct srv_store *st);

/*
 * srv_store_tenant_create(st, tenant, adopt): make the tenant's directory.
 * CF_ERR_EXISTS if it exists and ${adopt} is 0 (the message says what to
 * do); with ${adopt} an existing directory is taken as it is.
 */
cf_status srv_store_tenant_create(struct srv_store *st, const char *tenant,
    int adopt);

/*
 * srv_store_recount(st, tenant, bytes): remove every temporary file of the
 * tenant (left by a server that was stopped or killed during an upload)
 * and add up the sizes of its objects in ${bytes}.  Only for a server that
 * is starting (no upload may be under way).  A missing tenant directory
 * counts 0 bytes.
 */
cf_status srv_store_recount(struct srv_store *st, const char *tenant,
    uint64_t *bytes);

/* An upload under way. */
struct srv_upload {
	int tenant_fd;
	int tmp_fd;             /* the tenant's tmp/ */
	int fd;                 /* the temporary file */
	char tmpname[40];
	struct cf_name_hasher hash;
	uint64_t bytes;
};

/*
 * srv_upload_begin(st, tenant, u): create a temporary file for an upload to
 * ${tenant}.  On failure ${u} needs no srv_upload_abort (it is safe,
 * though).
 */
cf_status srv_upload_begin(struct srv_store *st, const char *tenant,
    struct srv_upload *u);

/* srv_upload_write(u, p, n): append and hash ${n} bytes. */
cf_status srv_upload_write(struct srv_upload *u, const void *p, size_t n);

/* srv_upload_hash(u, out): the hash of everything written (once). */
void srv_upload_hash(struct srv_upload *u, uint8_t out[32]);

/*
 * srv_upload_commit(u, name): make the upload object ${name} (valid per
 * route.c): fsync, link, fsync the directory.  CF_ERR_EXISTS if the name
 * exists (the existing object is untouched).  ${u} is released (temporary
 * file removed) whatever the result.
 */
cf_status srv_upload_commit(struct srv_upload *u, const char *name);

/* srv_upload_abort(u): remove the temporary file; safe to call twice. */
void srv_upload_abort(struct srv_upload *u);

/*
 * srv_store_open_object(st, tenant, name, fd, size): open an object for
 * reading (a regular file, not a link).  CF_ERR_NOTFOUND if absent.
 */
cf_status srv_store_open_object(struct srv_store *st, const char *tenant,
    const char *name, int *fd, uint64_t *size);

/* srv_store_exists(st, tenant, name): 1 if present, 0 if not, -1 on error. */
int srv_store_exists(struct srv_store *st, const char *tenant,
    const char *name);

/*
 * srv_store_delete(st, tenant, name, size): remove an object and fsync its
 * directory; its size in ${size}.  CF_ERR_NOTFOUND if absent.
 */
cf_status srv_store_delete(struct srv_store *st, const char *tenant,
    const char *name, uint64_t *size);

/*
 * srv_store_list(st, tenant, dir, after, limit, fn, arg, more): call
 * fn(arg, name) for the first ${limit} object names under ${dir}/ greater
 * than ${after} ("" for none) in bytewise order; ${more} = 1 if more names
 * follow.  Memory is bounded by ${limit}, whatever the directory holds;
 * entries that are not valid names of ${dir} (temporary files, strays)
 * are skipped.  A missing directory holds nothing.
 */
typedef cf_status (*srv_list_fn)(void *arg, const char *name);
cf_status srv_store_list(struct srv_store *st, const char *tenant,
    const char *dir, const char *after, unsigned limit, srv_list_fn fn,
    void *arg, int *more);

#endif
