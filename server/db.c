/*
 * db.c: coffred's metadata in SQLite (see db.h).
 *
 * Schema version 1 (PRAGMA user_version):
 *   tenants(id, name UNIQUE, quota, used, created)
 *   identities(tenant -> tenants.id, pk BLOB(32), rights, label, added)
 *   nonces(pk BLOB(32), nonce BLOB(16), seen)          purged after 900 s
 *   access_log(id, time, tenant TEXT, pk BLOB or NULL, action, object,
 *              bytes, status, addr)
 * The access log names its tenant by name, so it outlives the tenant's
 * removal.  It never holds request bodies, only object names (hashes).
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define SCHEMA_VERSION 1
#define DB_FILE "coffred.db"
#define BUSY_TIMEOUT_MS 10000
#define MAX_RESERVATIONS 4096

struct reservation {
	int64_t tenant;
	uint64_t bytes;
};

struct srv_db {
	sqlite3 *h;
	pthread_mutex_t mu;
	struct reservation *res;
	size_t nres;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS tenants ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  quota INTEGER NOT NULL DEFAULT 0 CHECK (quota >= 0),"
    "  used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS identities ("
    "  tenant INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  pk BLOB NOT NULL CHECK (length(pk) = 32),"
    "  rights TEXT NOT NULL CHECK (rights IN ('read','append','admin')),"
    "  label TEXT NOT NULL DEFAULT '',"
    "  added INTEGER NOT NULL,"
    "  PRIMARY KEY (tenant, pk)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS nonces ("
    "  pk BLOB NOT NULL,"
    "  nonce BLOB NOT NULL,"
    "  seen INTEGER NOT NULL,"
    "  PRIMARY KEY (pk, nonce)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS nonces_seen ON nonces(seen);"
    "CREATE TABLE IF NOT EXISTS access_log ("
    "  id INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  tenant TEXT NOT NULL,"
    "  pk BLOB,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL DEFAULT '',"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  status INTEGER NOT NULL,"
    "  addr TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS access_log_tenant_time"
    "  ON access_log(tenant, time);";

const char *
srv_right_name(enum srv_right r)
{
	switch (r) {
	case SRV_RIGHT_READ:
		return "read";
	case SRV_RIGHT_APPEND:
		return "append";
	case SRV_RIGHT_ADMIN:
		return "admin";
	}
	return "?";
}

cf_status
srv_right_parse(const char *s, enum srv_right *out)
{
	if (strcmp(s, "read") == 0)
		*out = SRV_RIGHT_READ;
	else if (strcmp(s, "append") == 0)
		*out = SRV_RIGHT_APPEND;
	else if (strcmp(s, "admin") == 0)
		*out = SRV_RIGHT_ADMIN;
	else
		return cf_error_set(CF_ERR_INVALID,
		    "rights must be read, append or admin");
	return CF_OK;
}

int
srv_label_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (n >= SRV_LABEL_MAX || (unsigned char)s[n] < 0x20 ||
		    (unsigned char)s[n] > 0x7e)
			return 0;
	return 1;
}

static cf_status
db_error(struct srv_db *db, const char *what)
{
	return cf_error_set(CF_ERR_IO, "database: %s: %s", what,
	    sqlite3_errmsg(db->h));
}

static void
lock(struct srv_db *db)
{
	pthread_mutex_lock(&db->mu);
}

static void
unlock(struct srv_db *db)
{
	pthread_mutex_unlock(&db->mu);
}

/* prepare(db, sql, st): CF_OK or CF_ERR_IO; the caller holds the lock. */
static cf_status
prepare(struct srv_db *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return db_error(db, "preparing a statement");
	return CF_OK;
}

static cf_status
exec(struct srv_db *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, what);
	return CF_OK;
}

cf_status
srv_db_open(const char *state_dir, int server, struct srv_db **out)
{
	char path[4096];
	struct srv_db *db;
	sqlite3_stmt *st = NULL;
	int version, fd;
	cf_status rc;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/%s", state_dir, DB_FILE) >=
	    (int)sizeof(path))
		return cf_error_set(CF_ERR_INVALID, "state directory path "
		    "too long");
	/* Create it 0600 ourselves, not with SQLite's umask-derived mode. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0)
		return cf_error_set(CF_ERR_IO, "cannot open %s: %s (does the "
		    "state directory exist, and do you run as its owner?)",
		    path, strerror(errno));
	close(fd);
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&db->mu, NULL);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		rc = cf_error_set(CF_ERR_IO, "cannot open database %s: %s",
		    path, db->h != NULL ? sqlite3_errmsg(db->h) :
		    "out of memory");
		goto err;
	}
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->h, 1);
	if ((rc = exec(db, "PRAGMA journal_mode=WAL;", "enabling WAL")) !=
	    CF_OK)
		goto err;
	if ((rc = exec(db, server ? "PRAGMA synchronous=NORMAL;" :
	    "PRAGMA synchronous=FULL;", "setting synchronous")) != CF_OK ||
	    (rc = exec(db, "PRAGMA foreign_keys=ON;", "enabling foreign "
	    "keys")) != CF_OK ||
	    (rc = exec(db, "PRAGMA trusted_schema=OFF;", "setting "
	    "trusted_schema")) != CF_OK)
		goto err;

	if ((rc = prepare(db, "PRAGMA user_version;", &st)) != CF_OK)
		goto err;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_error(db, "reading the schema version");
		goto err;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version > SCHEMA_VERSION) {
		rc = cf_error_set(CF_ERR_VERSION, "database %s was made by a "
		    "newer coffred (schema %d); upgrade coffred", path,
		    version);
		goto err;
	}
	if (version < SCHEMA_VERSION) {
		if ((rc = exec(db, "BEGIN IMMEDIATE;", "creating the schema"))
		    != CF_OK)
			goto err;
		if (exec(db, schema, "creating the schema") != CF_OK ||
		    exec(db, "PRAGMA user_version=1;", "creating the schema")
		    != CF_OK) {
			rc = CF_ERR_IO;
			sqlite3_exec(db->h, "ROLLBACK;", NULL, NULL, NULL);
			goto err;
		}
		if ((rc = exec(db, "COMMIT;", "creating the schema")) != CF_OK)
			goto err;
	}
	*out = db;
	return CF_OK;

err:
	sqlite3_finalize(st);
	srv_db_close(db);
	return rc;
}

void
srv_db_close(struct srv_db *db)
{
	if (db == NULL)
		return;
	if (db->h != NULL)
		sqlite3_close(db->h);
	pthread_mutex_destroy(&db->mu);
	free(db->res);
	free(db);
}

/* Checked reads of columns. */
static int
col_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);

	if (s == NULL || n < 0 || (size_t)n >= size || memchr(s, 0, (size_t)n))
		return 0;
	memcpy(out, s, (size_t)n);
	out[n] = '\0';
	return 1;
}

static int
col_u64(sqlite3_stmt *st, int i, uint64_t *out)
{
	sqlite3_int64 v;

	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		return 0;
	v = sqlite3_column_int64(st, i);
	if (v < 0)
		return 0;
	*out = (uint64_t)v;
	return 1;
}

static int
col_pk(sqlite3_stmt *st, int i, uint8_t out[CF_SIGN_PK_BYTES])
{
	const void *p = sqlite3_column_blob(st, i);

	if (p == NULL || sqlite3_column_bytes(st, i) != CF_SIGN_PK_BYTES)
		return 0;
	memcpy(out, p, CF_SIGN_PK_BYTES);
	return 1;
}

static cf_status
bad_row(const char *table)
{
	return cf_error_set(CF_ERR_CORRUPT, "database: a row of %s is not "
	    "valid; restore the database from a backup", table);
}

/* read_tenant(st, t): columns id, name, quota, used, created. */
static cf_status
read_tenant(sqlite3_stmt *st, struct srv_tenant *t)
{
	uint64_t created;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	if (!col_text(st, 1, t->name, sizeof(t->name)) ||
	    !srv_tenant_ok(t->name, strlen(t->name)) ||
	    !col_u64(st, 2, &t->quota) || !col_u64(st, 3, &t->used) ||
	    !col_u64(st, 4, &created))
		return bad_row("tenants");
	t->created = (int64_t)created;
	return CF_OK;
}

/* read_ident(st, base, id): columns pk, rights, label, added from ${base}. */
static cf_status
read_ident(sqlite3_stmt *st, int base, struct srv_ident *id)
{
	char rights[8];
	uint64_t added;

	memset(id, 0, sizeof(*id));
	if (!col_pk(st, base, id->pk) ||
	    !col_text(st, base + 1, rights, sizeof(rights)) ||
	    srv_right_parse(rights, &id->right) != CF_OK ||
	    !col_text(st, base + 2, id->label, sizeof(id->label)) ||
	    !srv_label_ok(id->label) || !col_u64(st, base + 3, &added))
		return bad_row("identities");
	id->added = (int64_t)added;
	return CF_OK;
}

static cf_status
tenant_get_locked(struct srv_db *db, const char *name, struct srv_tenant *t)
{
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	if ((rc = prepare(db, "SELECT id, name, quota, used, created FROM "
	    "tenants WHERE name = ?1;", &st)) != CF_OK)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = read_tenant(st, t);
	else if (r == SQLITE_DONE)
		rc = cf_error_set(CF_ERR_NOTFOUND, "no tenant named %s", name);
	else
		rc = db_error(db, "reading a tenant");
	sqlite3_finalize(st);
	return rc;
}

cf_status
srv_db_tenant_get(struct srv_db *db, const char *name, struct srv_tenant *t)
{
	cf_status rc;

	lock(db);
	rc = tenant_get_locked(db, name, t);
	unlock(db);
	return rc;
}

cf_status
srv_db_tenant_add(struct srv_db *db, const char *name, uint64_t quota)
{
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	if (!srv_tenant_ok(name, strlen(name)))
		return cf_error_set(CF_ERR_INVALID, "a tenant name is 1 to 32 "
		    "of a-z 0-9 -, not starting with -");
	if (quota > INT64_MAX)
		return cf_error_set(CF_ERR_INVALID, "quota too large");
	lock(db);
	if ((rc = prepare(db, "INSERT INTO tenants (name, quota, used, "
	    "created) VALUES (?1, ?2, 0, ?3);", &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)quota);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		rc = CF_OK;
	else if (r == SQLITE_CONSTRAINT_UNIQUE)
		rc = cf_error_set(CF_ERR_EXISTS, "tenant %s exists already",
		    name);
	else
		rc = db_error(db, "adding a tenant");
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

/* One-statement update of a tenant by name: CF_ERR_NOTFOUND if none. */
static cf_status
tenant_update(struct srv_db *db, const char *sql, const char *name,
    int64_t arg, const char *what)
{
	sqlite3_stmt *st;
	cf_status rc;

	lock(db);
	if ((rc = prepare(db, sql, &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, arg);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(db, what);
	else if (sqlite3_changes(db->h) == 0)
		rc = cf_error_set(CF_ERR_NOTFOUND, "no tenant named %s", name);
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

cf_status
srv_db_tenant_set_quota(struct srv_db *db, const char *name, uint64_t quota)
{
	if (quota > INT64_MAX)
		return cf_error_set(CF_ERR_INVALID, "quota too large");
	return tenant_update(db, "UPDATE tenants SET quota = ?2 WHERE "
	    "name = ?1;", name, (int64_t)quota, "setting a quota");
}

cf_status
srv_db_tenant_remove(struct srv_db *db, const char *name)
{
	/* ?2 is unused here; tenant_update binds it anyway. */
	return tenant_update(db, "DELETE FROM tenants WHERE name = ?1 AND "
	    "?2 IS NOT NULL;", name, 0, "removing a tenant");
}

cf_status
srv_db_tenant_list(struct srv_db *db, srv_tenant_fn fn, void *arg)
{
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	lock(db);
	if ((rc = prepare(db, "SELECT t.id, t.name, t.quota, t.used, "
	    "t.created, (SELECT count(*) FROM identities i WHERE "
	    "i.tenant = t.id) FROM tenants t ORDER BY t.name;", &st)) !=
	    CF_OK) {
		unlock(db);
		return rc;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct srv_tenant t;
		if ((rc = read_tenant(st, &t)) != CF_OK)
			break;
		if (!col_u64(st, 5, &t.identities)) {
			rc = bad_row("tenants");
			break;
		}
		if ((rc = fn(arg, &t)) != CF_OK)
			break;
	}
	if (rc == CF_OK && r != SQLITE_DONE)
		rc = db_error(db, "listing tenants");
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

cf_status
srv_db_identity_add(struct srv_db *db, const char *tenant,
    const uint8_t pk[CF_SIGN_PK_BYTES], enum srv_right right,
    const char *label)
{
	struct srv_tenant t;
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	if (label == NULL)
		label = "";
	if (!srv_label_ok(label))
		return cf_error_set(CF_ERR_INVALID, "a label is at most %d "
		    "printable ASCII characters", SRV_LABEL_MAX);
	lock(db);
	if ((rc = tenant_get_locked(db, tenant, &t)) != CF_OK)
		goto out;
	if ((rc = prepare(db, "INSERT INTO identities (tenant, pk, rights, "
	    "label, added) VALUES (?1, ?2, ?3, ?4, ?5);", &st)) != CF_OK)
		goto out;
	sqlite3_bind_int64(st, 1, t.id);
	sqlite3_bind_blob(st, 2, pk, CF_SIGN_PK_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, srv_right_name(right), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		rc = CF_OK;
	else if (r == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = cf_error_set(CF_ERR_EXISTS, "this identity is registered "
		    "for tenant %s already (remove it first to change its "
		    "rights)", tenant);
	else
		rc = db_error(db, "adding an identity");
	sqlite3_finalize(st);
out:
	unlock(db);
	return rc;
}

cf_status
srv_db_identity_remove(struct srv_db *db, const char *tenant,
    const uint8_t pk[CF_SIGN_PK_BYTES])
{
	struct srv_tenant t;
	sqlite3_stmt *st;
	cf_status rc;

	lock(db);
	if ((rc = tenant_get_locked(db, tenant, &t)) != CF_OK)
		goto out;
	if ((rc = prepare(db, "DELETE FROM identities WHERE tenant = ?1 AND "
	    "pk = ?2;", &st)) != CF_OK)
		goto out;
	sqlite3_bind_int64(st, 1, t.id);
	sqlite3_bind_blob(st, 2, pk, CF_SIGN_PK_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(db, "removing an identity");
	else if (sqlite3_changes(db->h) == 0)
		rc = cf_error_set(CF_ERR_NOTFOUND, "this identity is not "
		    "registered for tenant %s", tenant);
	sqlite3_finalize(st);
out:
	unlock(db);
	return rc;
}

cf_status
srv_db_identity_list(struct srv_db *db, const char *tenant, srv_ident_fn fn,
    void *arg)
{
	struct srv_tenant t;
	sqlite3_stmt *st;
	cf_status rc;
	int r = SQLITE_DONE;

	lock(db);
	if ((rc = tenant_get_locked(db, tenant, &t)) != CF_OK)
		goto out;
	if ((rc = prepare(db, "SELECT pk, rights, label, added FROM "
	    "identities WHERE tenant = ?1 ORDER BY added, pk;", &st)) != CF_OK)
		goto out;
	sqlite3_bind_int64(st, 1, t.id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct srv_ident id;
		if ((rc = read_ident(st, 0, &id)) != CF_OK ||
		    (rc = fn(arg, &id)) != CF_OK)
			break;
	}
	if (rc == CF_OK && r != SQLITE_DONE)
		rc = db_error(db, "listing identities");
	sqlite3_finalize(st);
out:
	unlock(db);
	return rc;
}

cf_status
srv_db_identity_lookup(struct srv_db *db, const char *tenant,
    const uint8_t pk[CF_SIGN_PK_BYTES], struct srv_tenant *t,
    struct srv_ident *id)
{
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	lock(db);
	if ((rc = prepare(db, "SELECT t.id, t.name, t.quota, t.used, "
	    "t.created, i.pk, i.rights, i.label, i.added FROM tenants t "
	    "JOIN identities i ON i.tenant = t.id WHERE t.name = ?1 AND "
	    "i.pk = ?2;", &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, pk, CF_SIGN_PK_BYTES, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if ((rc = read_tenant(st, t)) == CF_OK &&
		    (rc = read_ident(st, 5, id)) == CF_OK &&
		    (strcmp(t->name, tenant) != 0 ||
		    memcmp(id->pk, pk, CF_SIGN_PK_BYTES) != 0))
			rc = bad_row("identities");
	} else if (r == SQLITE_DONE) {
		rc = cf_error_set(CF_ERR_NOTFOUND, "unknown identity");
	} else {
		rc = db_error(db, "looking up an identity");
	}
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

cf_status
srv_db_nonce_use(struct srv_db *db, const uint8_t pk[CF_SIGN_PK_BYTES],
    const uint8_t nonce[16], int64_t now)
{
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	lock(db);
	if ((rc = prepare(db, "INSERT INTO nonces (pk, nonce, seen) VALUES "
	    "(?1, ?2, ?3);", &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_blob(st, 1, pk, CF_SIGN_PK_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, nonce, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		rc = CF_OK;
	else if (r == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = cf_error_set(CF_ERR_EXISTS, "nonce already used");
	else
		rc = db_error(db, "recording a nonce");
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

/* One statement with two integer parameters (?1, ?2), under the lock. */
static cf_status
exec_i64(struct srv_db *db, const char *sql, int64_t a, int64_t b,
    const char *what)
{
	sqlite3_stmt *st;
	cf_status rc;

	lock(db);
	if ((rc = prepare(db, sql, &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(db, what);
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

cf_status
srv_db_nonce_purge(struct srv_db *db, int64_t before)
{
	return exec_i64(db, "DELETE FROM nonces WHERE seen < ?1 AND "
	    "?2 IS NOT NULL;", before, 0, "purging nonces");
}

/* The reservation slot of a tenant (created with ${create}); lock held. */
static struct reservation *
reservation(struct srv_db *db, int64_t tenant, int create)
{
	struct reservation *r;

	for (size_t i = 0; i < db->nres; i++)
		if (db->res[i].tenant == tenant)
			return &db->res[i];
	if (!create || db->nres >= MAX_RESERVATIONS)
		return NULL;
	r = realloc(db->res, (db->nres + 1) * sizeof(*r));
	if (r == NULL)
		return NULL;
	db->res = r;
	r = &db->res[db->nres++];
	r->tenant = tenant;
	r->bytes = 0;
	return r;
}

cf_status
srv_db_quota_reserve(struct srv_db *db, int64_t tenant_id, uint64_t n)
{
	sqlite3_stmt *st;
	struct reservation *res;
	uint64_t quota = 0, used = 0;
	cf_status rc;
	int r;

	lock(db);
	if ((rc = prepare(db, "SELECT quota, used FROM tenants WHERE id = ?1;",
	    &st)) != CF_OK)
		goto out;
	sqlite3_bind_int64(st, 1, tenant_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if (!col_u64(st, 0, &quota) || !col_u64(st, 1, &used))
			rc = bad_row("tenants");
	} else if (r == SQLITE_DONE) {
		rc = cf_error_set(CF_ERR_NOTFOUND, "the tenant was removed");
	} else {
		rc = db_error(db, "reading a quota");
	}
	sqlite3_finalize(st);
	if (rc != CF_OK)
		goto out;
	if ((res = reservation(db, tenant_id, 1)) == NULL) {
		rc = cf_error_set(CF_ERR_IO, "too many tenants uploading");
		goto out;
	}
	if (quota != 0 && (used > quota || res->bytes > quota - used ||
	    n > quota - used - res->bytes)) {
		rc = cf_error_set(CF_ERR_NOMEM, "the tenant's quota of %llu "
		    "bytes would be exceeded (%llu used)",
		    (unsigned long long)quota, (unsigned long long)used);
		goto out;
	}
	if (res->bytes > UINT64_MAX - n) {
		rc = cf_error_set(CF_ERR_NOMEM, "too much being uploaded");
		goto out;
	}
	res->bytes += n;
out:
	unlock(db);
	return rc;
}

cf_status
srv_db_quota_release(struct srv_db *db, int64_t tenant_id, uint64_t n,
    int stored)
{
	struct reservation *res;

	lock(db);
	if ((res = reservation(db, tenant_id, 0)) != NULL)
		res->bytes = res->bytes >= n ? res->bytes - n : 0;
	unlock(db);
	if (!stored)
		return CF_OK;
	return exec_i64(db, "UPDATE tenants SET used = min(used + ?2, "
	    "9223372036854775807) WHERE id = ?1;", tenant_id,
	    n > INT64_MAX ? INT64_MAX : (int64_t)n, "counting usage");
}

cf_status
srv_db_usage_sub(struct srv_db *db, int64_t tenant_id, uint64_t n)
{
	return exec_i64(db, "UPDATE tenants SET used = max(used - ?2, 0) "
	    "WHERE id = ?1;", tenant_id, n > INT64_MAX ? INT64_MAX :
	    (int64_t)n, "counting usage");
}

cf_status
srv_db_usage_set(struct srv_db *db, int64_t tenant_id, uint64_t n)
{
	return exec_i64(db, "UPDATE tenants SET used = ?2 WHERE id = ?1;",
	    tenant_id, n > INT64_MAX ? INT64_MAX : (int64_t)n,
	    "counting usage");
}

cf_status
srv_db_log_add(struct srv_db *db, const struct srv_log_entry *e)
{
	sqlite3_stmt *st;
	cf_status rc;

	lock(db);
	if ((rc = prepare(db, "INSERT INTO access_log (time, tenant, pk, "
	    "action, object, bytes, status, addr) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8);", &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_int64(st, 1, e->time);
	sqlite3_bind_text(st, 2, e->tenant, -1, SQLITE_STATIC);
	if (e->has_pk)
		sqlite3_bind_blob(st, 3, e->pk, CF_SIGN_PK_BYTES,
		    SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, e->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->object, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, e->bytes > INT64_MAX ? INT64_MAX :
	    (sqlite3_int64)e->bytes);
	sqlite3_bind_int64(st, 7, e->status);
	sqlite3_bind_text(st, 8, e->addr, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(db, "writing the access log");
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

static cf_status
read_log(sqlite3_stmt *st, struct srv_log_entry *e)
{
	uint64_t t, status;

	memset(e, 0, sizeof(*e));
	if (!col_u64(st, 0, &t) ||
	    !col_text(st, 1, e->tenant, sizeof(e->tenant)) ||
	    !srv_tenant_ok(e->tenant, strlen(e->tenant)) ||
	    !col_text(st, 3, e->action, sizeof(e->action)) ||
	    !col_text(st, 4, e->object, sizeof(e->object)) ||
	    !col_u64(st, 5, &e->bytes) || !col_u64(st, 6, &status) ||
	    status > 999 || !col_text(st, 7, e->addr, sizeof(e->addr)))
		return bad_row("access_log");
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		if (!col_pk(st, 2, e->pk))
			return bad_row("access_log");
		e->has_pk = 1;
	}
	/* Text that is printed later: printable ASCII only. */
	if (!srv_label_ok(e->action) || !srv_label_ok(e->addr) ||
	    (e->object[0] != '\0' && !cf_backend_name_ok(e->object)))
		return bad_row("access_log");
	e->time = (int64_t)t;
	e->status = (unsigned)status;
	return CF_OK;
}

cf_status
srv_db_log_list(struct srv_db *db, const char *tenant, int64_t since,
    uint64_t limit, srv_log_fn fn, void *arg)
{
	sqlite3_stmt *st;
	cf_status rc;
	int r;

	lock(db);
	/* The latest ${limit} entries, then oldest first. */
	if ((rc = prepare(db, "SELECT time, tenant, pk, action, object, "
	    "bytes, status, addr FROM (SELECT * FROM access_log WHERE "
	    "tenant = ?1 AND time >= ?2 ORDER BY id DESC LIMIT ?3) ORDER BY "
	    "id;", &st)) != CF_OK) {
		unlock(db);
		return rc;
	}
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 :
	    (sqlite3_int64)limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct srv_log_entry e;
		if ((rc = read_log(st, &e)) != CF_OK || (rc = fn(arg, &e)) !=
		    CF_OK)
			break;
	}
	if (rc == CF_OK && r != SQLITE_DONE)
		rc = db_error(db, "reading the access log");
	sqlite3_finalize(st);
	unlock(db);
	return rc;
}

cf_status
srv_db_log_purge(struct srv_db *db, int64_t before)
{
	return exec_i64(db, "DELETE FROM access_log WHERE time < ?1 AND "
	    "?2 IS NOT NULL;", before, 0, "purging the access log");
}
