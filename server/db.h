/*
 * db.h: coffred's metadata in SQLite (STATE/coffred.db): tenants,
 * identities and their rights, request nonces, usage and the access log.
 *
 * One struct srv_db is one SQLite connection guarded by a mutex, so it may
 * be used from every connection thread of the server.  The database is in
 * WAL mode.  The operator commands use synchronous=FULL (a tenant or an
 * identity added or removed is on disk when the command returns).  The
 * server uses synchronous=NORMAL: in WAL mode a power cut can lose the last
 * transactions, never corrupt the database, and what it could lose is
 * harmless (docs/server.md, "Durability"): nonces of requests inside the
 * last moments, which TLS and the 300 s window already protect; access-log
 * lines of those moments; usage counts, which the server recounts from the
 * object store each time it starts.  Objects themselves never depend on
 * the database: their bytes are fsync'ed before any 201.
 *
 * Everything read back from the database is checked (key sizes, rights,
 * name syntax) as if it came from outside.
 */
#ifndef COFFRED_DB_H
#define COFFRED_DB_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "route.h"

#define SRV_LABEL_MAX 64

enum srv_right {
	SRV_RIGHT_READ = 1,
	SRV_RIGHT_APPEND = 2,
	SRV_RIGHT_ADMIN = 3,
};

struct srv_tenant {
	int64_t id;
	char name[SRV_TENANT_MAX + 1];
	uint64_t quota;         /* bytes; 0: none */
	uint64_t used;          /* bytes stored */
	int64_t created;        /* seconds since the epoch */
	uint64_t identities;    /* filled by srv_db_tenant_list only */
};

struct srv_ident {
	uint8_t pk[CF_SIGN_PK_BYTES];
	enum srv_right right;
	char label[SRV_LABEL_MAX + 1];
	int64_t added;
};

struct srv_log_entry {
	int64_t time;
	char tenant[SRV_TENANT_MAX + 1];
	uint8_t pk[CF_SIGN_PK_BYTES];
	int has_pk;
	char action[16];                        /* put, get, head, ... */
	char object[CF_OBJECT_NAME_MAX + 1];    /* "" if none */
	uint64_t bytes;
	unsigned status;                        /* HTTP status; 0: aborted */
	char addr[64];                          /* the client's address */
};

struct srv_db;

/* srv_right_name(r): "read", "append", "admin". */
const char *srv_right_name(enum srv_right r);
/* srv_right_parse(s, out): CF_OK or CF_ERR_INVALID. */
cf_status srv_right_parse(const char *s, enum srv_right *out);
/* srv_label_ok(s): 1 if ${s} is a valid identity label (printable ASCII). */
int srv_label_ok(const char *s);

/*
 * srv_db_open(state_dir, server, out): open (creating if needed, 0600)
 * STATE/coffred.db and bring its schema up to date.  ${server}: 1 for the
 * serving process (synchronous=NORMAL), 0 for operator commands (FULL).
 * CF_ERR_IO with a message saying what to do; CF_ERR_VERSION if the
 * database was made by a newer coffred.
 */
cf_status srv_db_open(const char *state_dir, int server, struct srv_db **out);

/* srv_db_close(db): close; NULL is a no-op. */
void srv_db_close(struct srv_db *db);

/* Tenants.  CF_ERR_EXISTS / CF_ERR_NOTFOUND as the names say. */
cf_status srv_db_tenant_add(struct srv_db *db, const char *name,
    uint64_t quota);
cf_status srv_db_tenant_get(struct srv_db *db, const char *name,
    struct srv_tenant *out);
cf_status srv_db_tenant_set_quota(struct srv_db *db, const char *name,
    uint64_t quota);
/* srv_db_tenant_remove(db, name): the tenant and its identities. */
cf_status srv_db_tenant_remove(struct srv_db *db, const char *name);
typedef cf_status (*srv_tenant_fn)(void *arg, const struct srv_tenant *t);
/* srv_db_tenant_list(db, fn, arg): each tenant, by name. */
cf_status srv_db_tenant_list(struct srv_db *db, srv_tenant_fn fn, void *arg);

/* Identities of a tenant. */
cf_status srv_db_identity_add(struct srv_db *db, const char *tenant,
    const uint8_t pk[CF_SIGN_PK_BYTES], enum srv_right right,
    const char *label);
cf_status srv_db_identity_remove(struct srv_db *db, const char *tenant,
    const uint8_t pk[CF_SIGN_PK_BYTES]);
typedef cf_status (*srv_ident_fn)(void *arg, const struct srv_ident *id);
cf_status srv_db_identity_list(struct srv_db *db, const char *tenant,
    srv_ident_fn fn, void *arg);

/*
 * srv_db_identity_lookup(db, tenant, pk, t, id): the tenant named ${tenant}
 * and the identity ${pk} registered for it.  CF_ERR_NOTFOUND if either is
 * missing (a key registered only for another tenant is not found).
 */
cf_status srv_db_identity_lookup(struct srv_db *db, const char *tenant,
    const uint8_t pk[CF_SIGN_PK_BYTES], struct srv_tenant *t,
    struct srv_ident *id);

/*
 * srv_db_nonce_use(db, pk, nonce, now): record that ${pk} used ${nonce} at
 * ${now}; CF_ERR_EXISTS if it did already (a replay).  Atomic: of two
 * requests with the same nonce, exactly one gets CF_OK.
 */
cf_status srv_db_nonce_use(struct srv_db *db,
    const uint8_t pk[CF_SIGN_PK_BYTES], const uint8_t nonce[16],
    int64_t now);
/* srv_db_nonce_purge(db, before): forget nonces seen before ${before}. */
cf_status srv_db_nonce_purge(struct srv_db *db, int64_t before);

/*
 * Usage.  srv_db_quota_reserve(db, tenant_id, n): reserve ${n} bytes for an
 * upload under way, CF_ERR_NOMEM if used + reserved + n would exceed the
 * tenant's quota (the message says so).  srv_db_quota_release(db,
 * tenant_id, n, stored): end the reservation; with ${stored} the bytes now
 * count as used.  Reservations live in the server's memory only.
 */
cf_status srv_db_quota_reserve(struct srv_db *db, int64_t tenant_id,
    uint64_t n);
cf_status srv_db_quota_release(struct srv_db *db, int64_t tenant_id,
    uint64_t n, int stored);
/* srv_db_usage_sub(db, tenant_id, n): ${n} bytes were deleted. */
cf_status srv_db_usage_sub(struct srv_db *db, int64_t tenant_id, uint64_t n);
/* srv_db_usage_set(db, tenant_id, n): the recounted usage. */
cf_status srv_db_usage_set(struct srv_db *db, int64_t tenant_id, uint64_t n);

/* The access log. */
cf_status srv_db_log_add(struct srv_db *db, const struct srv_log_entry *e);
typedef cf_status (*srv_log_fn)(void *arg, const struct srv_log_entry *e);
/*
 * srv_db_log_list(db, tenant, since, limit, fn, arg): the entries of
 * ${tenant} at or after ${since}, oldest first; with ${limit} > 0 only the
 * latest ${limit} of them.
 */
cf_status srv_db_log_list(struct srv_db *db, const char *tenant,
    int64_t since, uint64_t limit, srv_log_fn fn, void *arg);
/* srv_db_log_purge(db, before): drop entries older than ${before}. */
cf_status srv_db_log_purge(struct srv_db *db, int64_t before);

#endif
