/*
 * repo.c: creating and opening a repository, reading blobs, trees and
 * snapshots (see repo.h).
 */
#include "repo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backend_multi.h"

#define CONFIG_MAX 4096
#define PIN_LINE_MAX 256
#define PIN_FILE_MAX (1024 * 1024)

void
repo_object_name(char *out, size_t outlen, const char *dir,
    const uint8_t hash[CF_HASH_BYTES])
{
	char hex[CF_HASH_BYTES * 2 + 1];

	cf_hex_encode(hex, hash, CF_HASH_BYTES);
	if (strcmp(dir, "data") == 0)
		snprintf(out, outlen, "data/%.2s/%s", hex, hex);
	else
		snprintf(out, outlen, "%s/%s", dir, hex);
}

int
repo_parse_object_name(const char *name, const char *dir,
    uint8_t hash[CF_HASH_BYTES])
{
	size_t dl = strlen(dir);
	const char *hex;

	if (strncmp(name, dir, dl) != 0 || name[dl] != '/')
		return 0;
	hex = name + dl + 1;
	if (strcmp(dir, "data") == 0) {
		if (strlen(hex) != 3 + 64 || hex[2] != '/' ||
		    strncmp(hex, hex + 3, 2) != 0)
			return 0;
		hex += 3;
	}
	if (strlen(hex) != 64)
		return 0;
	for (const char *c = hex; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return 0;
	return cf_hex_decode(hash, CF_HASH_BYTES, hex) == CF_OK;
}

struct timespec
repo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

double
repo_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

cf_status
repo_get_verified(struct cf_repo *r, const char *name, size_t max,
    struct cf_buf *out)
{
	uint8_t want[CF_HASH_BYTES], got[CF_HASH_BYTES];
	const char *slash = strchr(name, '/');
	char dir[16];
	cf_status rc;

	if (slash == NULL || (size_t)(slash - name) >= sizeof(dir))
		return cf_error_set(CF_ERR_INVALID, "bad object name %s", name);
	memcpy(dir, name, (size_t)(slash - name));
	dir[slash - name] = '\0';
	if (!repo_parse_object_name(name, dir, want))
		return cf_error_set(CF_ERR_CORRUPT,
		    "object %s does not have a valid name", name);
	cf_buf_reset(out);
	out->max = max;
	if ((rc = cf_backend_get(r->be, name, 0, CF_BACKEND_TO_END, out)) != CF_OK)
		return cf_error_prefix("reading %s: ", name);
	cf_name_hash(got, out->p, out->len);
	if (sodium_memcmp(got, want, CF_HASH_BYTES) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "object %s does not match its name (damaged or replaced)",
		    name);
	return CF_OK;
}

cf_status
repo_put_named(struct cf_repo *r, const char *dir, const void *data, size_t n,
    uint8_t hash[CF_HASH_BYTES])
{
	uint8_t h[CF_HASH_BYTES];
	char name[CF_OBJECT_NAME_MAX];
	cf_status rc;

	cf_name_hash(h, data, n);
	repo_object_name(name, sizeof(name), dir, h);
	rc = cf_backend_put(r->be, name, data, n);
	if (rc == CF_ERR_EXISTS)
		rc = CF_OK;     /* same name, same bytes */
	if (rc != CF_OK)
		return cf_error_prefix("writing %s: ", name);
	if (hash != NULL)
		memcpy(hash, h, CF_HASH_BYTES);
	return CF_OK;
}

/* ---- pinning the repository key on first use ---- */

/*
 * The known-repositories file has a line per repository and location:
 *     <32 hex repository id> <64 hex repository key> <location>
 * A repository id must keep its key, and a location must keep its
 * repository id: otherwise a host could swap in a repository of its own
 * (its own key, an envelope it sealed to the member) and collect the next
 * backups.  `coffre init` replaces the line of its location.
 */

struct pin_file {
	char **lines;
	size_t n;
};

static void
pin_file_free(struct pin_file *pf)
{
	for (size_t i = 0; i < pf->n; i++)
		free(pf->lines[i]);
	free(pf->lines);
}

static cf_status
pin_file_read(const char *path, struct pin_file *pf)
{
	char line[PIN_LINE_MAX + PATH_MAX];
	size_t total = 0;
	FILE *f;

	memset(pf, 0, sizeof(*pf));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return CF_OK;
		return cf_error_set(CF_ERR_IO, "%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char **l;
		if ((total += strlen(line)) > PIN_FILE_MAX) {
			fclose(f);
			pin_file_free(pf);
			return cf_error_set(CF_ERR_IO, "%s is larger than %d "
			    "bytes: not a known-repositories file?", path,
			    PIN_FILE_MAX);
		}
		line[strcspn(line, "\n")] = '\0';
		if ((l = realloc(pf->lines, (pf->n + 1) * sizeof(*l))) == NULL ||
		    (l[pf->n] = strdup(line)) == NULL) {
			if (l != NULL)
				pf->lines = l;
			fclose(f);
			pin_file_free(pf);
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		}
		pf->lines = l;
		pf->n++;
	}
	fclose(f);
	return CF_OK;
}

/* pin_file_write(path, pf): replace the file atomically and durably. */
static cf_status
pin_file_write(const char *path, const struct pin_file *pf)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	FILE *f;
	int fd, ok = 1;

	if (tmp == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	/* A name of our own: two processes may pin at once. */
	snprintf(tmp, pl + 16, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return cf_error_set(CF_ERR_IO, "%s: %s", path, strerror(errno));
	}
	for (size_t i = 0; i < pf->n; i++)
		ok &= fprintf(f, "%s\n", pf->lines[i]) > 0;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		free(tmp);
		return cf_error_set(CF_ERR_IO, "%s: %s", path, strerror(errno));
	}
	free(tmp);
	return CF_OK;
}

/*
 * pin_check(path, cfg, location, init): check the repository's id and key
 * against ${path}, and record them if new.  With ${init}, a different
 * repository recorded at the same location is forgotten.
 */
static cf_status
pin_check(const char *path, const struct cf_config *cfg, const char *location,
    int init)
{
	char idhex[CF_REPO_ID_BYTES * 2 + 1], pkhex[CF_BOX_PK_BYTES * 2 + 1];
	char where[PATH_MAX], *entry;
	struct pin_file pf;
	size_t keep = 0, idl, pkl;
	int known = 0, dropped;
	cf_status rc;

	if (path == NULL)
		return CF_OK;
	/* The same directory named two ways is one location. */
	if (realpath(location, where) == NULL)
		snprintf(where, sizeof(where), "%s", location);
	if (strchr(where, '\n') != NULL)
		where[0] = '\0';
	cf_hex_encode(idhex, cfg->repo_id, CF_REPO_ID_BYTES);
	cf_hex_encode(pkhex, cfg->repo_pk, CF_BOX_PK_BYTES);
	idl = strlen(idhex);
	pkl = strlen(pkhex);
	if ((rc = pin_file_read(path, &pf)) != CF_OK)
		return rc;
	for (size_t i = 0; i < pf.n; i++) {
		const char *l = pf.lines[i];
		int same_id = strncmp(l, idhex, idl) == 0 && l[idl] == ' ';
		const char *loc = strlen(l) > idl + 1 + pkl + 1 ?
		    l + idl + 1 + pkl + 1 : "";

		if (same_id && strncmp(l + idl + 1, pkhex, pkl) != 0) {
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "the key of repository %s differs from the one "
			    "recorded on first use in %s: the repository was "
			    "replaced or tampered with; refusing to use it",
			    idhex, path);
			goto out;
		}
		if (!same_id && where[0] != '\0' && strcmp(loc, where) == 0) {
			if (init) {
				/* A new repository here: forget the old. */
				free(pf.lines[i]);
				pf.lines[i] = NULL;
				continue;
			}
			rc = cf_error_set(CF_ERR_CORRUPT,
			    "the repository at %s is not the one first used "
			    "there (recorded in %s): it was replaced, maybe by "
			    "the host; refusing to use it.  If you re-created "
			    "it yourself, delete the line for it in that file",
			    where, path);
			goto out;
		}
		known |= same_id && strcmp(loc, where) == 0;
		pf.lines[keep] = pf.lines[i];
		if (keep++ != i)
			pf.lines[i] = NULL;     /* moved: not freed twice */
	}
	dropped = keep != pf.n;
	pf.n = keep;            /* slots past keep were moved or freed */
	if (known && !dropped) {
		rc = CF_OK;
		goto out;
	}
	if (!known) {
		size_t el = idl + 1 + pkl + 1 + strlen(where) + 1;
		if ((entry = malloc(el)) == NULL) {
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			goto out;
		}
		snprintf(entry, el, "%s %s %s", idhex, pkhex, where);
		char **l = realloc(pf.lines, (keep + 1) * sizeof(*l));
		if (l == NULL) {
			free(entry);
			rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
			goto out;
		}
		pf.lines = l;
		pf.lines[keep] = entry;
		pf.n = keep + 1;
	}
	rc = pin_file_write(path, &pf);
out:
	pin_file_free(&pf);
	return rc;
}

/* ---- open / init / close ---- */

static cf_status
repo_alloc(struct cf_repo **out)
{
	struct cf_repo *r;
	cf_status rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	cf_buf_init(&r->stored, CF_PACK_MAX);
	if ((rc = cf_keys_new(&r->keys)) != CF_OK ||
	    (rc = cf_blob_reader_new(&r->blob_reader)) != CF_OK) {
		cf_repo_close(r);
		return rc;
	}
	/* The cached keys, and one more: cf_repo_read_blob's scratch key. */
	if ((r->key_cache = sodium_malloc((PACK_KEY_CACHE + 1) *
	    CF_KEY_BYTES)) ==
	    NULL) {
		cf_repo_close(r);
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	}
	*out = r;
	return CF_OK;
}

void
cf_repo_close(struct cf_repo *r)
{
	if (r == NULL)
		return;
	cf_backend_close(r->be_all);
	cf_keys_free(r->keys);
	cf_index_free(r->idx);
	for (size_t i = 0; i < r->nindex_names; i++)
		free(r->index_names[i]);
	free(r->index_names);
	cf_blob_reader_free(r->blob_reader);
	cf_buf_free(&r->stored);
	if (r->key_cache != NULL)
		sodium_free(r->key_cache);
	free(r);
}

/* open_backend(r, locs, n, flags, id): open the destinations for ${r}. */
static cf_status
open_backend(struct cf_repo *r, const char *const *locs, size_t n, int flags,
    const struct cf_identity *id)
{
	cf_status rc;

	rc = cf_backend_open_many(locs, n, flags,
	    &(struct cf_backend_opts){ .identity = id }, &r->be_all);
	r->be = r->be_all;
	return rc;
}

/*
 * pin_all(r, pin_path, init): pin the repository at every destination that
 * was reached.
 */
static cf_status
pin_all(struct cf_repo *r, const char *pin_path, int init)
{
	struct cf_dest_status st;
	cf_status rc;

	for (size_t i = 0; i < cf_backend_copies(r->be_all); i++) {
		cf_backend_copy_status(r->be_all, i, &st);
		if (!st.opened)
			continue;
		if ((rc = pin_check(pin_path, &r->cfg, st.location,
		    init || st.created)) != CF_OK)
			return rc;
	}
	return CF_OK;
}

cf_status
cf_repo_init(const char *location, const struct cf_identity *id,
    const struct cf_repo_params *params, const char *pin_path,
    struct cf_repo **out)
{
	return cf_repo_init_many(&location, 1, id, params, pin_path, out);
}

cf_status
cf_repo_init_many(const char *const *locations, size_t n,
    const struct cf_identity *id, const struct cf_repo_params *params,
    const char *pin_path, struct cf_repo **out)
{
	struct cf_repo *r = NULL;
	struct cf_envelope_info info;
	struct cf_buf cfgbuf, env;
	char name[CF_OBJECT_NAME_MAX];
	cf_status rc;

	*out = NULL;
	cf_buf_init(&cfgbuf, CONFIG_MAX);
	cf_buf_init(&env, CF_ENVELOPE_MAX);
	if ((rc = repo_alloc(&r)) != CF_OK)
		return rc;
	if ((rc = open_backend(r, locations, n, CF_MULTI_CREATE, id)) != CF_OK)
		goto err;

	cf_keys_generate(r->keys);
	r->cfg.version = CF_FORMAT_VERSION;
	memcpy(r->cfg.repo_id, r->keys->repo_id, CF_REPO_ID_BYTES);
	memcpy(r->cfg.repo_pk, r->keys->repo_pk, CF_BOX_PK_BYTES);
	if (params != NULL) {
		r->cfg.chunker = params->chunker;
		r->cfg.pack_target = params->pack_target;
		r->cfg.zstd_level = params->zstd_level;
	} else {
		r->cfg.chunker.min = CF_CHUNK_MIN_DEFAULT;
		r->cfg.chunker.avg = CF_CHUNK_AVG_DEFAULT;
		r->cfg.chunker.max = CF_CHUNK_MAX_DEFAULT;
		r->cfg.pack_target = CF_PACK_TARGET_DEFAULT;
		r->cfg.zstd_level = 3;
	}
	r->cfg.created = (int64_t)repo_now().tv_sec;
	if ((rc = cf_config_encode(&r->cfg, &cfgbuf)) != CF_OK)
		goto err;
	cf_hash(r->cfg_hash, cfgbuf.p, cfgbuf.len);
	memcpy(r->keys->config_hash, r->cfg_hash, CF_HASH_BYTES);

	memset(&info, 0, sizeof(info));
	info.role = CF_ROLE_FULL;
	memcpy(info.member, cf_identity_public(id), CF_SIGN_PK_BYTES);
	info.added = r->cfg.created;
	snprintf(info.name, sizeof(info.name), "%s", cf_identity_name(id));
	if ((rc = cf_envelope_encode(&info, r->keys, &env)) != CF_OK)
		goto err;
	cf_envelope_object_name(name, info.member);
	if ((rc = cf_backend_put(r->be, name, env.p, env.len)) != CF_OK)
		goto err;
	/* The config goes last: until it exists, there is no repository. */
	if ((rc = cf_backend_put(r->be, "config", cfgbuf.p, cfgbuf.len)) !=
	    CF_OK)
		goto err;
	/* A new repository starts whole everywhere, or not at all. */
	for (size_t i = 0; i < n; i++) {
		struct cf_dest_status st;

		cf_backend_copy_status(r->be_all, i, &st);
		if (!st.online) {
			rc = cf_error_set(CF_ERR_IO, "%s: %s", st.location,
			    st.error);
			goto err;
		}
	}
	if ((rc = pin_all(r, pin_path, 1)) != CF_OK)
		goto err;
	r->id = id;
	r->role = CF_ROLE_FULL;
	cf_buf_free(&cfgbuf);
	cf_buf_free(&env);
	*out = r;
	return CF_OK;
err:
	cf_buf_free(&cfgbuf);
	cf_buf_free(&env);
	cf_repo_close(r);
	return rc;
}

cf_status
cf_repo_open(const char *location, const struct cf_identity *id,
    const char *pin_path, struct cf_repo **out)
{
	return cf_repo_open_many(&location, 1, 0, id, pin_path, out);
}

cf_status
cf_repo_open_many(const char *const *locations, size_t n, int flags,
    const struct cf_identity *id, const char *pin_path, struct cf_repo **out)
{
	struct cf_repo *r = NULL;
	struct cf_buf buf;
	struct cf_envelope_info info;
	char name[CF_OBJECT_NAME_MAX];
	char pub[CF_PUBID_LEN + 1];
	cf_status rc;

	*out = NULL;
	cf_buf_init(&buf, CONFIG_MAX);
	if ((rc = repo_alloc(&r)) != CF_OK)
		return rc;
	if ((rc = open_backend(r, locations, n, flags, id)) != CF_OK)
		goto err;
	if ((rc = cf_backend_get(r->be, "config", 0, CF_BACKEND_TO_END,
	    &buf)) != CF_OK) {
		if (rc == CF_ERR_NOTFOUND)
			cf_error_set(rc, "no repository at %s", locations[0]);
		goto err;
	}
	if ((rc = cf_config_decode(buf.p, buf.len, &r->cfg)) != CF_OK)
		goto err;
	cf_hash(r->cfg_hash, buf.p, buf.len);

	cf_envelope_object_name(name, cf_identity_public(id));
	cf_buf_reset(&buf);
	buf.max = CF_ENVELOPE_MAX;
	rc = cf_backend_get(r->be, name, 0, CF_BACKEND_TO_END, &buf);
	if (rc == CF_ERR_NOTFOUND) {
		cf_pubid_encode(cf_identity_public(id), pub);
		rc = cf_error_set(CF_ERR_NOTMEMBER,
		    "identity %s is not a member of this repository", pub);
		goto err;
	}
	if (rc != CF_OK)
		goto err;
	if ((rc = cf_envelope_open(buf.p, buf.len, id, r->keys)) != CF_OK)
		goto err;
	if ((rc = cf_envelope_parse(buf.p, buf.len, &info)) != CF_OK)
		goto err;
	if (sodium_memcmp(r->keys->repo_id, r->cfg.repo_id,
	    CF_REPO_ID_BYTES) != 0 ||
	    sodium_memcmp(r->keys->config_hash, r->cfg_hash,
	    CF_HASH_BYTES) != 0 ||
	    sodium_memcmp(r->keys->repo_pk, r->cfg.repo_pk,
	    CF_BOX_PK_BYTES) != 0) {
		rc = cf_error_set(CF_ERR_CORRUPT,
		    "the repository config does not match your key envelope: "
		    "the config was changed or replaced");
		goto err;
	}
	if ((rc = pin_all(r, pin_path, 0)) != CF_OK)
		goto err;
	r->id = id;
	r->role = info.role;
	cf_buf_free(&buf);
	*out = r;
	return CF_OK;
err:
	cf_buf_free(&buf);
	cf_repo_close(r);
	return rc;
}

struct cf_backend *
cf_repo_backend(struct cf_repo *r)
{
	return r->be;
}

cf_status
cf_repo_focus(struct cf_repo *r, size_t dest)
{
	struct cf_backend *be;

	if (dest == CF_REPO_ALL) {
		be = r->be_all;
	} else if ((be = cf_backend_copy(r->be_all, dest)) == NULL) {
		return cf_error_set(CF_ERR_IO, "destination %zu is offline",
		    dest + 1);
	}
	if (be != r->be) {
		/* What was read through one view says nothing of another. */
		repo_drop_index(r);
		r->be = be;
	}
	return CF_OK;
}

const struct cf_config *
cf_repo_config(const struct cf_repo *r)
{
	return &r->cfg;
}

const uint8_t *
cf_repo_config_hash(const struct cf_repo *r)
{
	return r->cfg_hash;
}

const struct cf_keys *
cf_repo_keys(const struct cf_repo *r)
{
	return r->keys;
}

const struct cf_identity *
cf_repo_identity(const struct cf_repo *r)
{
	return r->id;
}

int
cf_repo_role(const struct cf_repo *r)
{
	return r->role;
}

cf_status
cf_repo_require_read(const struct cf_repo *r, const char *what)
{
	if (r->keys->has_repo_sk)
		return CF_OK;
	return cf_error_set(CF_ERR_ACCESS,
	    "this identity is a write-only member of the repository: it can "
	    "add backups but holds no key to %s", what);
}

/* ---- index ---- */

struct index_load {
	struct cf_repo *r;
	struct cf_buf buf;
};

static cf_status
index_load_one(void *arg, const char *name)
{
	struct index_load *l = arg;
	struct cf_repo *r = l->r;
	char **names;
	cf_status rc;

	if ((rc = repo_get_verified(r, name, CF_INDEX_FILE_MAX, &l->buf)) !=
	    CF_OK)
		return rc;
	if ((rc = cf_index_file_decode(r->keys->index_key, l->buf.p,
	    l->buf.len, r->idx)) != CF_OK)
		return cf_error_prefix("index %s: ", name);
	names = realloc(r->index_names,
	    (r->nindex_names + 1) * sizeof(*names));
	if (names == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	r->index_names = names;
	if ((names[r->nindex_names] = strdup(name)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	r->nindex_names++;
	return CF_OK;
}

cf_status
repo_idset_new(struct cf_index **set)
{
	static const uint8_t none[CF_HASH_BYTES];
	uint32_t no;
	cf_status rc;

	if ((rc = cf_index_new(set)) != CF_OK)
		return rc;
	return cf_index_add_pack(*set, none, &no);
}

cf_status
repo_idset_add(struct cf_index *set, const uint8_t id[CF_HASH_BYTES],
    uint8_t type)
{
	struct cf_pack_entry e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	memcpy(e.id, id, CF_HASH_BYTES);
	return cf_index_add(set, 0, &e);
}

int
repo_idset_has(const struct cf_index *set, const uint8_t id[CF_HASH_BYTES])
{
	struct cf_index_loc loc;

	return cf_index_lookup(set, id, &loc);
}

struct unindexed {
	const struct cf_index *idx;
	uint8_t (*ids)[CF_HASH_BYTES];
	size_t n;
};

static cf_status
unindexed_one(void *arg, const char *name)
{
	struct unindexed *u = arg;
	uint8_t id[CF_HASH_BYTES];
	uint32_t no;
	void *q;

	if (!repo_parse_object_name(name, "data", id) ||
	    cf_index_find_pack(u->idx, id, &no))
		return CF_OK;
	if ((q = realloc(u->ids, (u->n + 1) * CF_HASH_BYTES)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	u->ids = q;
	memcpy(u->ids[u->n++], id, CF_HASH_BYTES);
	return CF_OK;
}

cf_status
repo_unindexed_packs(struct cf_repo *r, const struct cf_index *idx,
    uint8_t (**ids)[CF_HASH_BYTES], size_t *n)
{
	struct unindexed u = { idx, NULL, 0 };
	cf_status rc;

	if ((rc = cf_backend_list(r->be, "data", unindexed_one, &u)) != CF_OK) {
		free(u.ids);
		u.ids = NULL;
		u.n = 0;
	}
	*ids = u.ids;
	*n = u.n;
	return rc;
}

void
repo_drop_index(struct cf_repo *r)
{
	cf_index_free(r->idx);
	r->idx = NULL;
	for (size_t i = 0; i < r->nindex_names; i++)
		free(r->index_names[i]);
	r->nindex_names = 0;
}

cf_status
cf_repo_load_index(struct cf_repo *r, struct cf_index **idx)
{
	struct index_load l;
	cf_status rc;

	if (r->idx == NULL) {
		if ((rc = cf_index_new(&r->idx)) != CF_OK)
			return rc;
		l.r = r;
		cf_buf_init(&l.buf, CF_INDEX_FILE_MAX);
		rc = cf_backend_list(r->be, "index", index_load_one, &l);
		cf_buf_free(&l.buf);
		if (rc != CF_OK) {
			repo_drop_index(r);
			return rc;
		}
	}
	if (idx != NULL)
		*idx = r->idx;
	return CF_OK;
}

/* ---- packs a killed backup or prune left without an index file ---- */

/*
 * adopt_pack(r, idx, id, ip): read the header of an unindexed pack from its tail
 * (its header is encrypted with the index key, which every member holds)
 * and add its blobs to the index.  A pack that cannot be read is left for
 * check and prune: it is not an error for this backup.
 */
static cf_status
adopt_pack(struct cf_repo *r, struct cf_index *idx,
    const uint8_t id[CF_HASH_BYTES], struct cf_index_pack *ip)
{
	char name[CF_OBJECT_NAME_MAX];
	struct cf_pack_entry *entries = NULL;
	struct cf_buf tail;
	uint64_t size;
	size_t count;
	uint32_t no, hlen;
	cf_status rc = CF_OK;

	cf_pack_object_name(name, id);
	cf_buf_init(&tail, CF_PACK_MAX);
	if (cf_backend_stat(r->be, name, &size) != CF_OK || size < 4 ||
	    size > CF_PACK_MAX ||
	    cf_backend_get(r->be, name, size - 4, 4, &tail) != CF_OK ||
	    tail.len != 4)
		goto skip;
	hlen = cf_pack_header_length(tail.p);
	if ((uint64_t)hlen + 4 > size)
		goto skip;
	cf_buf_reset(&tail);
	if (cf_backend_get(r->be, name, size - hlen - 4, hlen + 4, &tail) !=
	    CF_OK || cf_pack_parse_tail(tail.p, tail.len, size,
	    r->keys->index_key, &entries, &count) != CF_OK)
		goto skip;
	if ((rc = cf_index_add_pack(idx, id, &no)) != CF_OK)
		goto out;
	for (size_t i = 0; i < count && rc == CF_OK; i++)
		rc = cf_index_add(idx, no, &entries[i]);
	memcpy(ip->id, id, CF_HASH_BYTES);
	ip->entries = entries;
	ip->count = count;
	entries = NULL;
	goto out;
skip:
	cf_error_clear();
	ip->count = 0;
out:
	free(entries);
	cf_buf_free(&tail);
	return rc;
}

cf_status
repo_adopt_unindexed(struct cf_repo *r, struct cf_index *idx)
{
	uint8_t (*ids)[CF_HASH_BYTES] = NULL;
	struct cf_index_pack *ips = NULL;
	struct cf_buf ibuf;
	size_t n = 0, nips = 0;
	cf_status rc;

	cf_buf_init(&ibuf, CF_INDEX_FILE_MAX);
	if ((rc = repo_unindexed_packs(r, idx, &ids, &n)) != CF_OK || n == 0)
		goto out;
	if ((ips = calloc(n, sizeof(*ips))) == NULL) {
		rc = cf_error_set(CF_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == CF_OK; i++) {
		rc = adopt_pack(r, idx, ids[i], &ips[nips]);
		if (rc == CF_OK && ips[nips].count > 0)
			nips++;
	}
	if (rc == CF_OK && nips > 0 &&
	    (rc = cf_index_file_encode(r->keys->index_key, ips, nips,
	    &ibuf)) == CF_OK)
		rc = repo_put_named(r, "index", ibuf.p, ibuf.len, NULL);
out:
	for (size_t i = 0; i < nips; i++)
		free((void *)(uintptr_t)ips[i].entries);
	free(ips);
	free(ids);
	cf_buf_free(&ibuf);
	return rc;
}

/* ---- blobs ---- */

/*
 * The pack key cache is shared by the threads that read blobs at once
 * (restore and check workers); one lock for all repositories is enough,
 * since a miss costs a ranged read and an unseal anyway.
 */
static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;

static cf_status pack_key_locked(struct cf_repo *,
    const uint8_t [CF_HASH_BYTES], uint8_t [CF_KEY_BYTES]);

cf_status
repo_pack_key(struct cf_repo *r, const uint8_t pack_id[CF_HASH_BYTES],
    uint8_t key[CF_KEY_BYTES])
{
	cf_status rc;

	pthread_mutex_lock(&key_mu);
	rc = pack_key_locked(r, pack_id, key);
	pthread_mutex_unlock(&key_mu);
	return rc;
}

static cf_status
pack_key_locked(struct cf_repo *r, const uint8_t pack_id[CF_HASH_BYTES],
    uint8_t key[CF_KEY_BYTES])
{
	char name[CF_OBJECT_NAME_MAX];
	struct cf_buf head;
	unsigned slot;
	cf_status rc;

	for (unsigned i = 0; i < PACK_KEY_CACHE; i++)
		if (r->key_slots[i].used &&
		    memcmp(r->key_slots[i].pack_id, pack_id, CF_HASH_BYTES) == 0) {
			memcpy(key, r->key_cache[i], CF_KEY_BYTES);
			return CF_OK;
		}
	if ((rc = cf_repo_require_read(r, "read stored data")) != CF_OK)
		return rc;
	repo_object_name(name, sizeof(name), "data", pack_id);
	cf_buf_init(&head, CF_PACK_HEAD_BYTES);
	if ((rc = cf_backend_get(r->be, name, 0, CF_PACK_HEAD_BYTES, &head)) !=
	    CF_OK) {
		cf_buf_free(&head);
		return cf_error_prefix("reading pack %s: ", name);
	}
	if (head.len < CF_PACK_HEAD_BYTES) {
		cf_buf_free(&head);
		return cf_error_set(CF_ERR_CORRUPT, "pack %s is truncated", name);
	}
	rc = cf_pack_open_key(head.p, head.len, r->keys->repo_pk,
	    r->keys->repo_sk, key);
	cf_buf_free(&head);
	if (rc != CF_OK)
		return cf_error_prefix("pack %s: ", name);
	slot = r->key_next++ % PACK_KEY_CACHE;
	memcpy(r->key_slots[slot].pack_id, pack_id, CF_HASH_BYTES);
	memcpy(r->key_cache[slot], key, CF_KEY_BYTES);
	r->key_slots[slot].used = 1;
	return CF_OK;
}

cf_status
cf_repo_read_blob(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES],
    uint8_t type, struct cf_buf *out)
{
	struct cf_index_loc loc;
	struct cf_pack_entry e;
	const uint8_t *pack_id;
	uint8_t *key;
	char name[CF_OBJECT_NAME_MAX], hex[CF_HASH_BYTES * 2 + 1];
	cf_status rc;

	if ((rc = cf_repo_require_read(r, "read stored data")) != CF_OK)
		return rc;
	if ((rc = cf_repo_load_index(r, NULL)) != CF_OK)
		return rc;
	if (!cf_index_lookup(r->idx, id, &loc)) {
		cf_hex_encode(hex, id, CF_HASH_BYTES);
		return cf_error_set(CF_ERR_CORRUPT,
		    "%s %.16s is missing from the repository",
		    type == CF_BLOB_TREE ? "tree" : "data blob", hex);
	}
	if (loc.type != type) {
		cf_hex_encode(hex, id, CF_HASH_BYTES);
		return cf_error_set(CF_ERR_CORRUPT,
		    "blob %.16s has the wrong type in the index", hex);
	}
	pack_id = cf_index_pack_id(r->idx, loc.pack);
	/*
	 * Guarded memory allocated once: a sodium_malloc per blob costs
	 * mmap, mprotect and munmap, and in a threaded process a TLB
	 * shootdown on every processor.  Callers of this function are one
	 * thread at a time (workers use repo_blob_fetch with keys of their
	 * own).
	 */
	key = r->key_cache[PACK_KEY_CACHE];
	if ((rc = repo_pack_key(r, pack_id, key)) != CF_OK)
		goto done;
	repo_object_name(name, sizeof(name), "data", pack_id);
	cf_buf_reset(&r->stored);
	if ((rc = cf_backend_get(r->be, name, loc.offset, loc.length,
	    &r->stored)) != CF_OK) {
		cf_error_prefix("reading pack %s: ", name);
		goto done;
	}
	if (r->stored.len != loc.length) {
		rc = cf_error_set(CF_ERR_CORRUPT, "pack %s is truncated", name);
		goto done;
	}
	e.type = loc.type;
	memcpy(e.id, id, CF_HASH_BYTES);
	e.offset = loc.offset;
	e.length = loc.length;
	e.raw_length = loc.raw_length;
	if ((rc = cf_blob_read(r->blob_reader, key, r->keys->id_key, &e,
	    r->stored.p, out)) != CF_OK)
		cf_error_prefix("pack %s: ", name);
done:
	sodium_memzero(key, CF_KEY_BYTES);
	return rc;
}

cf_status
repo_blob_fetch(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES],
    const struct cf_index_loc *loc, struct cf_buf *stored,
    struct cf_blob_reader *br, uint8_t key[CF_KEY_BYTES],
    const uint8_t **data)
{
	struct cf_pack_entry e;
	const uint8_t *pack_id = cf_index_pack_id(r->idx, loc->pack);
	char name[CF_OBJECT_NAME_MAX];
	cf_status rc;

	*data = NULL;
	if ((rc = repo_pack_key(r, pack_id, key)) != CF_OK)
		return rc;
	repo_object_name(name, sizeof(name), "data", pack_id);
	cf_buf_reset(stored);
	if ((rc = cf_backend_get(r->be, name, loc->offset, loc->length,
	    stored)) != CF_OK)
		return cf_error_prefix("reading pack %s: ", name);
	if (stored->len != loc->length)
		return cf_error_set(CF_ERR_CORRUPT, "pack %s is truncated", name);
	e.type = loc->type;
	memcpy(e.id, id, CF_HASH_BYTES);
	e.offset = loc->offset;
	e.length = loc->length;
	e.raw_length = loc->raw_length;
	if ((rc = cf_blob_open(br, key, r->keys->id_key, &e, stored->p,
	    data)) != CF_OK)
		return cf_error_prefix("pack %s: ", name);
	return CF_OK;
}

cf_status
cf_repo_read_tree(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES],
    struct cf_tree *t)
{
	struct cf_buf b;
	cf_status rc;

	cf_tree_init(t);
	cf_buf_init(&b, CF_BLOB_MAX);
	if ((rc = cf_repo_read_blob(r, id, CF_BLOB_TREE, &b)) == CF_OK)
		rc = cf_tree_decode(b.p, b.len, t);
	cf_buf_free(&b);
	return rc;
}

/* ---- snapshots ---- */

struct snap_list {
	struct cf_repo *r;
	struct cf_snapshot *list;
	size_t n, cap;
	struct cf_buf buf;
};

static cf_status
snap_list_one(void *arg, const char *name)
{
	struct snap_list *l = arg;
	struct cf_snapshot *s;
	cf_status rc;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		s = realloc(l->list, cap * sizeof(*s));
		if (s == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		l->list = s;
		l->cap = cap;
	}
	if ((rc = repo_get_verified(l->r, name, CF_SNAPSHOT_MAX, &l->buf)) !=
	    CF_OK)
		return rc;
	s = &l->list[l->n];
	if ((rc = cf_snapshot_decode(l->buf.p, l->buf.len, l->r->keys->repo_pk,
	    l->r->keys->repo_sk, s)) != CF_OK)
		return cf_error_prefix("snapshot %s: ", name + 10);
	l->n++;
	return CF_OK;
}

static int
snap_cmp(const void *a, const void *b)
{
	const struct cf_snapshot *x = a, *y = b;

	if (x->time_sec != y->time_sec)
		return x->time_sec < y->time_sec ? -1 : 1;
	if (x->time_nsec != y->time_nsec)
		return x->time_nsec < y->time_nsec ? -1 : 1;
	return memcmp(x->id, y->id, CF_HASH_BYTES);
}

cf_status
cf_repo_snapshots(struct cf_repo *r, struct cf_snapshot **list, size_t *n)
{
	struct snap_list l;
	cf_status rc;

	*list = NULL;
	*n = 0;
	if ((rc = cf_repo_require_read(r, "list or read snapshots")) != CF_OK)
		return rc;
	memset(&l, 0, sizeof(l));
	l.r = r;
	cf_buf_init(&l.buf, CF_SNAPSHOT_MAX);
	rc = cf_backend_list(r->be, "snapshots", snap_list_one, &l);
	cf_buf_free(&l.buf);
	if (rc != CF_OK) {
		cf_snapshot_list_free(l.list, l.n);
		return rc;
	}
	if (l.n > 1)
		qsort(l.list, l.n, sizeof(*l.list), snap_cmp);
	*list = l.list;
	*n = l.n;
	return CF_OK;
}

void
cf_snapshot_list_free(struct cf_snapshot *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cf_snapshot_free(&list[i]);
	free(list);
}

cf_status
cf_repo_find_snapshot(struct cf_repo *r, const char *spec,
    struct cf_snapshot *out)
{
	struct cf_snapshot *list;
	size_t n, found = SIZE_MAX, matches = 0, sl = strlen(spec);
	char hex[CF_HASH_BYTES * 2 + 1];
	cf_status rc;

	memset(out, 0, sizeof(*out));
	if (strcmp(spec, "latest") != 0) {
		if (sl < 4 || sl > 64)
			return cf_error_set(CF_ERR_INVALID,
			    "a snapshot is named by 4 to 64 hex digits of its "
			    "id, or \"latest\"");
		for (size_t i = 0; i < sl; i++)
			if (!((spec[i] >= '0' && spec[i] <= '9') ||
			    (spec[i] >= 'a' && spec[i] <= 'f')))
				return cf_error_set(CF_ERR_INVALID,
				    "\"%s\" is not a snapshot id", spec);
	}
	if ((rc = cf_repo_snapshots(r, &list, &n)) != CF_OK)
		return rc;
	if (strcmp(spec, "latest") == 0) {
		if (n > 0) {
			found = n - 1;
			matches = 1;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			cf_hex_encode(hex, list[i].id, CF_HASH_BYTES);
			if (strncmp(hex, spec, sl) == 0) {
				found = i;
				matches++;
			}
		}
	}
	if (matches == 0)
		rc = cf_error_set(CF_ERR_NOTFOUND, n == 0 ?
		    "the repository has no snapshot yet" :
		    "no snapshot matches \"%s\"", spec);
	else if (matches > 1)
		rc = cf_error_set(CF_ERR_AMBIGUOUS,
		    "%zu snapshots match \"%s\": give more digits", matches,
		    spec);
	else {
		*out = list[found];
		memset(&list[found], 0, sizeof(list[found]));
	}
	cf_snapshot_list_free(list, n);
	return rc;
}

cf_status
cf_repo_forget_snapshot(struct cf_repo *r, const uint8_t id[CF_HASH_BYTES])
{
	char name[CF_OBJECT_NAME_MAX];

	repo_object_name(name, sizeof(name), "snapshots", id);
	return cf_backend_del(r->be, name);
}

/* ---- walking trees ---- */

#define WALK_DEPTH_MAX 256

static cf_status
walk_tree(struct cf_repo *r, const uint8_t tree[CF_HASH_BYTES], char *path,
    size_t plen, int depth, cf_walk_fn fn, void *arg)
{
	struct cf_tree t;
	cf_status rc;

	if (depth > WALK_DEPTH_MAX)
		return cf_error_set(CF_ERR_CORRUPT, "directory tree is deeper "
		    "than %d levels (a loop?)", WALK_DEPTH_MAX);
	if ((rc = cf_repo_read_tree(r, tree, &t)) != CF_OK)
		return rc;
	for (size_t i = 0; i < t.count; i++) {
		const struct cf_node *n = &t.nodes[i];
		size_t nl = strlen(n->name);

		if (plen + 1 + nl + 1 > PATH_MAX) {
			rc = cf_error_set(CF_ERR_CORRUPT, "path too long");
			break;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, n->name, nl + 1);
		if ((rc = fn(arg, path, n)) != CF_OK)
			break;
		if (n->kind == CF_NODE_DIR && (rc = walk_tree(r, n->subtree,
		    path, plen + 1 + nl, depth + 1, fn, arg)) != CF_OK)
			break;
		path[plen] = '\0';
	}
	cf_tree_free(&t);
	return rc;
}

cf_status
cf_repo_walk(struct cf_repo *r, const uint8_t tree[CF_HASH_BYTES],
    cf_walk_fn fn, void *arg)
{
	char *path;
	cf_status rc;

	if ((rc = cf_repo_require_read(r, "list snapshot contents")) != CF_OK)
		return rc;
	if ((path = malloc(PATH_MAX + 1)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	path[0] = '\0';
	rc = walk_tree(r, tree, path, 0, 0, fn, arg);
	free(path);
	return rc;
}
