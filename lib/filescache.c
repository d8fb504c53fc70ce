/* filescache.c: the local files cache in SQLite (see filescache.h). */
#include "filescache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "bytes.h"

#define CHUNKS_MAX (1u << 24)

struct cf_filescache {
	sqlite3 *db;
	sqlite3_stmt *get, *put;
	uint8_t key[CF_KEY_BYTES];
	int64_t gen;
	int in_tx;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER);"
    "CREATE TABLE IF NOT EXISTS files(path BLOB PRIMARY KEY, dev INTEGER,"
    " ino INTEGER, size INTEGER, mtime INTEGER, ctime INTEGER,"
    " chunks BLOB, gen INTEGER) WITHOUT ROWID;";

static cf_status
db_error(sqlite3 *db, const char *what)
{
	return cf_error_set(CF_ERR_IO, "files cache: %s: %s", what,
	    db ? sqlite3_errmsg(db) : "cannot open");
}

static cf_status
mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return cf_error_set(CF_ERR_IO, "%s: %s", path,
			    strerror(errno));
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cf_error_set(CF_ERR_IO, "%s: %s", path, strerror(errno));
	return CF_OK;
}

static cf_status
open_db(const char *file, struct cf_filescache *fc)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_open_v2(file, &fc->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK)
		return db_error(fc->db, "open");
	sqlite3_busy_timeout(fc->db, 10000);
	if (sqlite3_exec(fc->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(fc->db, "schema");
	if (sqlite3_exec(fc->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_error(fc->db, "begin");
	fc->in_tx = 1;
	if (sqlite3_prepare_v2(fc->db,
	    "SELECT v FROM meta WHERE k='gen'", -1, &st, NULL) != SQLITE_OK)
		return db_error(fc->db, "prepare");
	fc->gen = sqlite3_step(st) == SQLITE_ROW ?
	    sqlite3_column_int64(st, 0) + 1 : 1;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(fc->db, "SELECT dev, ino, size, mtime, ctime,"
	    " chunks FROM files WHERE path=?", -1, &fc->get, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(fc->db, "INSERT OR REPLACE INTO files(path, dev,"
	    " ino, size, mtime, ctime, chunks, gen) VALUES(?,?,?,?,?,?,?,?)",
	    -1, &fc->put, NULL) != SQLITE_OK)
		return db_error(fc->db, "prepare");
	return CF_OK;
}

static void
close_db(struct cf_filescache *fc)
{
	sqlite3_finalize(fc->get);
	sqlite3_finalize(fc->put);
	fc->get = fc->put = NULL;
	if (fc->db != NULL) {
		if (fc->in_tx)
			sqlite3_exec(fc->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(fc->db);
	}
	fc->db = NULL;
	fc->in_tx = 0;
}

cf_status
cf_filescache_open(const char *dir, const struct cf_keys *keys,
    struct cf_filescache **out)
{
	struct cf_filescache *fc;
	char idhex[CF_REPO_ID_BYTES * 2 + 1], *sub = NULL, *file = NULL;
	size_t len;
	cf_status rc;

	*out = NULL;
	if ((fc = sodium_malloc(sizeof(*fc))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	memset(fc, 0, sizeof(*fc));
	cf_kdf(fc->key, CF_KEY_BYTES, keys->id_key, "coffre files cache v1");
	cf_hex_encode(idhex, keys->repo_id, CF_REPO_ID_BYTES);
	len = strlen(dir) + sizeof(idhex) + 32;
	if ((sub = malloc(len)) == NULL || (file = malloc(len)) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto err;
	}
	snprintf(sub, len, "%s/%s", dir, idhex);
	snprintf(file, len, "%s/files.db", sub);
	if ((rc = mkdirs(sub)) != CF_OK)
		goto err;
	if ((rc = open_db(file, fc)) != CF_OK) {
		int code = fc->db ? sqlite3_errcode(fc->db) : SQLITE_CANTOPEN;
		/* Only a cache: a damaged one is started over.  A busy one
		 * (another backup of this repository on this machine) is left
		 * alone: the caller goes on without it. */
		close_db(fc);
		if (code != SQLITE_CORRUPT && code != SQLITE_NOTADB)
			goto err;
		for (const char *ext = ""; ext != NULL;
		    ext = *ext == '\0' ? "-wal" : strcmp(ext, "-wal") == 0 ?
		    "-shm" : NULL) {
			char f[PATH_MAX];
			snprintf(f, sizeof(f), "%s%s", file, ext);
			unlink(f);
		}
		if ((rc = open_db(file, fc)) != CF_OK)
			goto err;
	}
	free(sub);
	free(file);
	*out = fc;
	return CF_OK;
err:
	close_db(fc);
	sodium_free(fc);
	free(sub);
	free(file);
	return rc;
}

static void
path_key(const struct cf_filescache *fc, const char *path,
    uint8_t out[CF_HASH_BYTES])
{
	cf_hash_keyed2(out, fc->key, "", 0, path, strlen(path));
}

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int
cf_filescache_lookup(struct cf_filescache *fc, const char *path,
    const struct stat *st, uint8_t (**chunks)[CF_HASH_BYTES], uint32_t *n)
{
	uint8_t key[CF_HASH_BYTES];
	const void *blob;
	int bytes, rc = 0;

	*chunks = NULL;
	*n = 0;
	path_key(fc, path, key);
	sqlite3_reset(fc->get);
	sqlite3_bind_blob(fc->get, 1, key, sizeof(key), SQLITE_STATIC);
	if (sqlite3_step(fc->get) != SQLITE_ROW)
		goto done;
	rc = 2;
	if (sqlite3_column_int64(fc->get, 0) != (int64_t)st->st_dev ||
	    sqlite3_column_int64(fc->get, 1) != (int64_t)st->st_ino ||
	    sqlite3_column_int64(fc->get, 2) != (int64_t)st->st_size ||
	    sqlite3_column_int64(fc->get, 3) != ts_ns(&st->st_mtim) ||
	    sqlite3_column_int64(fc->get, 4) != ts_ns(&st->st_ctim))
		goto done;
	blob = sqlite3_column_blob(fc->get, 5);
	bytes = sqlite3_column_bytes(fc->get, 5);
	if (bytes < 0 || bytes % CF_HASH_BYTES != 0 ||
	    (size_t)bytes / CF_HASH_BYTES > CHUNKS_MAX)
		goto done;
	if (bytes > 0) {
		if ((*chunks = malloc((size_t)bytes)) == NULL)
			goto done;
		memcpy(*chunks, blob, (size_t)bytes);
	}
	*n = (uint32_t)(bytes / CF_HASH_BYTES);
	rc = 1;
done:
	sqlite3_reset(fc->get);
	return rc;
}

cf_status
cf_filescache_put(struct cf_filescache *fc, const char *path,
    const struct stat *st, const uint8_t (*chunks)[CF_HASH_BYTES], uint32_t n)
{
	uint8_t key[CF_HASH_BYTES];
	int rc;

	path_key(fc, path, key);
	sqlite3_reset(fc->put);
	sqlite3_bind_blob(fc->put, 1, key, sizeof(key), SQLITE_TRANSIENT);
	sqlite3_bind_int64(fc->put, 2, (int64_t)st->st_dev);
	sqlite3_bind_int64(fc->put, 3, (int64_t)st->st_ino);
	sqlite3_bind_int64(fc->put, 4, (int64_t)st->st_size);
	sqlite3_bind_int64(fc->put, 5, ts_ns(&st->st_mtim));
	sqlite3_bind_int64(fc->put, 6, ts_ns(&st->st_ctim));
	sqlite3_bind_blob(fc->put, 7, n ? (const void *)chunks : "",
	    (int)(n * CF_HASH_BYTES), SQLITE_TRANSIENT);
	sqlite3_bind_int64(fc->put, 8, fc->gen);
	rc = sqlite3_step(fc->put);
	sqlite3_reset(fc->put);
	if (rc != SQLITE_DONE)
		return db_error(fc->db, "write");
	return CF_OK;
}

cf_status
cf_filescache_commit(struct cf_filescache *fc)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
	    "DELETE FROM files WHERE gen < %lld;"
	    "INSERT OR REPLACE INTO meta(k, v) VALUES('gen', %lld);",
	    (long long)(fc->gen - CF_FILESCACHE_TTL), (long long)fc->gen);
	if (sqlite3_exec(fc->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(fc->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(fc->db, "commit");
	fc->in_tx = 0;
	return CF_OK;
}

void
cf_filescache_close(struct cf_filescache *fc)
{
	if (fc == NULL)
		return;
	close_db(fc);
	sodium_free(fc);
}
