/* members.c: listing, adding and removing members (see repo.h). */
#include "repo_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct member_list {
	struct cf_repo *r;
	struct cf_member *list;
	size_t n, cap;
	struct cf_buf buf;
};

static cf_status
member_list_one(void *arg, const char *name)
{
	struct member_list *l = arg;
	struct cf_member *m;
	char want[CF_OBJECT_NAME_MAX];
	cf_status rc;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		if ((m = realloc(l->list, cap * sizeof(*m))) == NULL)
			return cf_error_set(CF_ERR_NOMEM, "out of memory");
		l->list = m;
		l->cap = cap;
	}
	m = &l->list[l->n];
	cf_buf_reset(&l->buf);
	if ((rc = cf_backend_get(l->r->be, name, 0, CF_BACKEND_TO_END,
	    &l->buf)) != CF_OK)
		return cf_error_prefix("reading %s: ", name);
	if ((rc = cf_envelope_parse(l->buf.p, l->buf.len, &m->info)) != CF_OK)
		return cf_error_prefix("member envelope %s: ", name);
	cf_envelope_object_name(want, m->info.member);
	if (l->r->keys->has_repo_sk)
		m->verified = strcmp(want, name) == 0 &&
		    cf_envelope_verify(l->buf.p, l->buf.len,
		    l->r->keys->repo_sk) == CF_OK;
	else
		m->verified = -1;
	l->n++;
	return CF_OK;
}

cf_status
cf_repo_members(struct cf_repo *r, struct cf_member **list, size_t *n)
{
	struct member_list l;
	cf_status rc;

	memset(&l, 0, sizeof(l));
	l.r = r;
	cf_buf_init(&l.buf, CF_ENVELOPE_MAX);
	rc = cf_backend_list(r->be, "keys", member_list_one, &l);
	cf_buf_free(&l.buf);
	if (rc != CF_OK) {
		free(l.list);
		*list = NULL;
		*n = 0;
		return rc;
	}
	*list = l.list;
	*n = l.n;
	return CF_OK;
}

int
cf_repo_is_member(struct cf_repo *r, const uint8_t pk[CF_SIGN_PK_BYTES],
    struct cf_envelope_info *info)
{
	char name[CF_OBJECT_NAME_MAX];
	struct cf_envelope_info tmp;
	struct cf_buf buf;
	int ok = 0;

	cf_envelope_object_name(name, pk);
	cf_buf_init(&buf, CF_ENVELOPE_MAX);
	if (cf_backend_get(r->be, name, 0, CF_BACKEND_TO_END, &buf) == CF_OK &&
	    cf_envelope_parse(buf.p, buf.len, &tmp) == CF_OK &&
	    sodium_memcmp(tmp.member, pk, CF_SIGN_PK_BYTES) == 0 &&
	    (!r->keys->has_repo_sk ||
	    cf_envelope_verify(buf.p, buf.len, r->keys->repo_sk) == CF_OK)) {
		ok = 1;
		if (info != NULL)
			*info = tmp;
	}
	cf_buf_free(&buf);
	cf_error_clear();
	return ok;
}

cf_status
cf_repo_member_add(struct cf_repo *r, const uint8_t pk[CF_SIGN_PK_BYTES],
    int role, const char *name)
{
	struct cf_envelope_info info;
	char objname[CF_OBJECT_NAME_MAX];
	struct cf_buf env;
	cf_status rc;

	if (!r->keys->has_repo_sk)
		return cf_error_set(CF_ERR_ACCESS,
		    "only a full member can add members; this identity is a "
		    "write-only member");
	if (role != CF_ROLE_FULL && role != CF_ROLE_WRITE_ONLY)
		return cf_error_set(CF_ERR_INVALID, "unknown member role");
	memset(&info, 0, sizeof(info));
	info.role = (uint8_t)role;
	memcpy(info.member, pk, CF_SIGN_PK_BYTES);
	info.added = (int64_t)repo_now().tv_sec;
	if (name != NULL &&
	    snprintf(info.name, sizeof(info.name), "%s", name) >=
	    (int)sizeof(info.name))
		return cf_error_set(CF_ERR_INVALID,
		    "a member name is at most %d bytes", CF_NAME_MAX);
	cf_buf_init(&env, CF_ENVELOPE_MAX);
	if ((rc = cf_envelope_encode(&info, r->keys, &env)) == CF_OK) {
		cf_envelope_object_name(objname, pk);
		rc = cf_backend_put(r->be, objname, env.p, env.len);
		if (rc == CF_ERR_EXISTS)
			cf_error_set(rc, "this identity is already a member; "
			    "remove it first to change its role");
	}
	cf_buf_free(&env);
	return rc;
}

cf_status
cf_repo_member_remove(struct cf_repo *r, const uint8_t pk[CF_SIGN_PK_BYTES])
{
	struct cf_member *list;
	size_t n, full_left = 0;
	int found = 0;
	char objname[CF_OBJECT_NAME_MAX];
	cf_status rc;

	if (!r->keys->has_repo_sk)
		return cf_error_set(CF_ERR_ACCESS,
		    "only a full member can remove members; this identity is "
		    "a write-only member");
	if ((rc = cf_repo_members(r, &list, &n)) != CF_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int same = memcmp(list[i].info.member, pk,
		    CF_SIGN_PK_BYTES) == 0;
		found |= same;
		if (!same && list[i].verified == 1 &&
		    list[i].info.role == CF_ROLE_FULL)
			full_left++;
	}
	free(list);
	if (!found)
		return cf_error_set(CF_ERR_NOTFOUND,
		    "this identity is not a member of the repository");
	if (full_left == 0)
		return cf_error_set(CF_ERR_INVALID,
		    "refusing to remove the last full member: nobody could "
		    "read the backups any more");
	cf_envelope_object_name(objname, pk);
	return cf_backend_del(r->be, objname);
}
