/* envelope.c: members' key envelopes (see envelope.h). */
#include "envelope.h"

#include <string.h>

#include <sodium.h>

#define ENV_MAGIC "COFFREKY"
#define ENV_VERSION 1
#define NAME_OFF 57
/* repo_id config_hash role id_key gear_key index_key repo_pk has_sk repo_sk */
#define SECRET_BYTES (CF_REPO_ID_BYTES + CF_HASH_BYTES + 1 + \
    3 * CF_KEY_BYTES + CF_BOX_PK_BYTES + 1 + CF_BOX_SK_BYTES)
#define SEALED_BYTES (SECRET_BYTES + CF_SEAL_OVERHEAD)
#define MAC_BYTES 32
#define MAC_LABEL "coffre member mac v1"

_Static_assert(SECRET_BYTES == 210, "envelope secret size");
_Static_assert(NAME_OFF + CF_NAME_MAX + SEALED_BYTES + MAC_BYTES ==
    CF_ENVELOPE_MAX, "envelope size");

/* Temporaries holding secrets, kept together in guarded memory. */
struct env_tmp {
	uint8_t secret[SECRET_BYTES];
	uint8_t box_sk[CF_BOX_SK_BYTES];
	uint8_t mac_key[CF_KEY_BYTES];
	uint8_t pk[CF_BOX_PK_BYTES];
};

static cf_status
tmp_new(struct env_tmp **out)
{
	if ((*out = sodium_malloc(sizeof(**out))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	sodium_memzero(*out, sizeof(**out));
	return CF_OK;
}

/* name_ok(p, n): 1 if the name has no control characters. */
static int
name_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * mac(out, key_out, repo_sk, p, n): the membership MAC of ${p}[0..n);
 * ${key_out} receives the MAC key (the caller wipes it).
 */
static void
mac(uint8_t out[MAC_BYTES], uint8_t key_out[CF_KEY_BYTES],
    const uint8_t repo_sk[CF_BOX_SK_BYTES], const uint8_t *p, size_t n)
{
	cf_kdf(key_out, CF_KEY_BYTES, repo_sk, MAC_LABEL);
	crypto_generichash(out, MAC_BYTES, p, n, key_out, CF_KEY_BYTES);
}

void
cf_envelope_object_name(char out[70], const uint8_t member[CF_SIGN_PK_BYTES])
{
	uint8_t h[CF_HASH_BYTES];

	cf_hash(h, member, CF_SIGN_PK_BYTES);
	memcpy(out, "keys/", 5);
	cf_hex_encode(out + 5, h, sizeof(h));
}

cf_status
cf_envelope_encode(const struct cf_envelope_info *info,
    const struct cf_keys *keys, struct cf_buf *out)
{
	struct env_tmp *t;
	uint8_t *o, *q;
	size_t nlen, total;
	cf_status rc;

	if (!keys->has_repo_sk)
		return cf_error_set(CF_ERR_ACCESS,
		    "only a full member can add members");
	if (info->role != CF_ROLE_FULL && info->role != CF_ROLE_WRITE_ONLY)
		return cf_error_set(CF_ERR_INVALID,
		    "unknown member role %u", (unsigned)info->role);
	nlen = strnlen(info->name, sizeof(info->name));
	if (nlen > CF_NAME_MAX || !name_ok((const uint8_t *)info->name, nlen))
		return cf_error_set(CF_ERR_INVALID,
		    "member name is too long or has control characters");
	if ((rc = tmp_new(&t)) != CF_OK)
		return rc;
	if ((rc = cf_pubid_box_pk(info->member, t->pk)) != CF_OK)
		goto out;
	total = NAME_OFF + nlen + SEALED_BYTES + MAC_BYTES;
	if ((rc = cf_buf_reserve(out, total)) != CF_OK)
		goto out;

	q = t->secret;
	memcpy(q, keys->repo_id, CF_REPO_ID_BYTES);
	q += CF_REPO_ID_BYTES;
	memcpy(q, keys->config_hash, CF_HASH_BYTES);
	q += CF_HASH_BYTES;
	*q++ = info->role;
	memcpy(q, keys->id_key, CF_KEY_BYTES);
	q += CF_KEY_BYTES;
	memcpy(q, keys->gear_key, CF_KEY_BYTES);
	q += CF_KEY_BYTES;
	memcpy(q, keys->index_key, CF_KEY_BYTES);
	q += CF_KEY_BYTES;
	memcpy(q, keys->repo_pk, CF_BOX_PK_BYTES);
	q += CF_BOX_PK_BYTES;
	if (info->role == CF_ROLE_FULL) {
		*q++ = 1;
		memcpy(q, keys->repo_sk, CF_BOX_SK_BYTES);
	} else {
		*q++ = 0;   /* repo_sk stays zero */
	}

	o = out->p + out->len;
	memset(o, 0, NAME_OFF);
	memcpy(o, ENV_MAGIC, 8);
	o[8] = ENV_VERSION;
	o[9] = info->role;
	/* 10..15 reserved, zero */
	memcpy(o + 16, info->member, CF_SIGN_PK_BYTES);
	cf_put_u64(o + 48, (uint64_t)info->added);
	o[56] = (uint8_t)nlen;
	memcpy(o + NAME_OFF, info->name, nlen);
	cf_seal(o + NAME_OFF + nlen, t->secret, SECRET_BYTES, t->pk);
	mac(o + NAME_OFF + nlen + SEALED_BYTES, t->mac_key, keys->repo_sk, o,
	    NAME_OFF + nlen + SEALED_BYTES);
	out->len += total;
	rc = CF_OK;

out:
	sodium_free(t);     /* wipes */
	return rc;
}

cf_status
cf_envelope_parse(const uint8_t *p, size_t n, struct cf_envelope_info *info)
{
	static const uint8_t zero[6];
	struct cf_envelope_info t;
	size_t nlen;

	memset(info, 0, sizeof(*info));
	if (n < 9 || memcmp(p, ENV_MAGIC, 8) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "not a coffre membership record");
	if (p[8] != ENV_VERSION)
		return cf_error_set(CF_ERR_VERSION, "membership record format "
		    "version %u is not supported by this coffre (it reads "
		    "version %d); upgrade coffre", (unsigned)p[8], ENV_VERSION);
	if (n < NAME_OFF ||
	    n != (size_t)NAME_OFF + p[56] + SEALED_BYTES + MAC_BYTES)
		return cf_error_set(CF_ERR_CORRUPT,
		    "membership record has the wrong size");
	if (p[9] != CF_ROLE_FULL && p[9] != CF_ROLE_WRITE_ONLY)
		return cf_error_set(CF_ERR_CORRUPT,
		    "membership record: unknown role %u", (unsigned)p[9]);
	if (memcmp(p + 10, zero, sizeof(zero)) != 0)
		return cf_error_set(CF_ERR_CORRUPT,
		    "membership record: reserved bytes are not zero");
	nlen = p[56];
	if (!name_ok(p + NAME_OFF, nlen))
		return cf_error_set(CF_ERR_CORRUPT,
		    "membership record: name has control characters");

	memset(&t, 0, sizeof(t));
	t.role = p[9];
	memcpy(t.member, p + 16, CF_SIGN_PK_BYTES);
	t.added = (int64_t)cf_get_u64(p + 48);
	memcpy(t.name, p + NAME_OFF, nlen);
	t.name[nlen] = '\0';
	*info = t;
	return CF_OK;
}

cf_status
cf_envelope_open(const uint8_t *p, size_t n, const struct cf_identity *id,
    struct cf_keys *keys)
{
	struct cf_envelope_info info;
	struct env_tmp *t = NULL;
	const uint8_t *q, *sealed;
	uint8_t mac_got[MAC_BYTES];
	size_t signed_len;
	cf_status rc;

	sodium_memzero(keys, sizeof(*keys));
	if ((rc = cf_envelope_parse(p, n, &info)) != CF_OK)
		return rc;
	if (memcmp(info.member, cf_identity_public(id), CF_SIGN_PK_BYTES) != 0)
		return cf_error_set(CF_ERR_NOTMEMBER,
		    "this membership record is for another identity");
	if ((rc = tmp_new(&t)) != CF_OK)
		return rc;
	sealed = p + NAME_OFF + p[56];
	signed_len = (size_t)(sealed - p) + SEALED_BYTES;

	cf_identity_box_keys(id, t->pk, t->box_sk);
	if (cf_unseal(t->secret, sealed, SEALED_BYTES, t->pk,
	    t->box_sk) != CF_OK) {
		rc = cf_error_set(CF_ERR_CORRUPT, "membership record is "
		    "damaged: it does not open with this identity");
		goto out;
	}

	q = t->secret + CF_REPO_ID_BYTES + CF_HASH_BYTES;
	if (q[0] != info.role) {
		rc = cf_error_set(CF_ERR_CORRUPT, "membership record: the "
		    "sealed role does not match the public one");
		goto out;
	}
	q = t->secret + SECRET_BYTES - CF_BOX_SK_BYTES - 1;
	if (q[0] != (info.role == CF_ROLE_FULL ? 1 : 0) ||
	    (q[0] == 0 && !sodium_is_zero(q + 1, CF_BOX_SK_BYTES))) {
		rc = cf_error_set(CF_ERR_CORRUPT, "membership record: the "
		    "repository key does not match the role");
		goto out;
	}

	q = t->secret;
	memcpy(keys->repo_id, q, CF_REPO_ID_BYTES);
	q += CF_REPO_ID_BYTES;
	memcpy(keys->config_hash, q, CF_HASH_BYTES);
	q += CF_HASH_BYTES + 1;
	memcpy(keys->id_key, q, CF_KEY_BYTES);
	q += CF_KEY_BYTES;
	memcpy(keys->gear_key, q, CF_KEY_BYTES);
	q += CF_KEY_BYTES;
	memcpy(keys->index_key, q, CF_KEY_BYTES);
	q += CF_KEY_BYTES;
	memcpy(keys->repo_pk, q, CF_BOX_PK_BYTES);
	q += CF_BOX_PK_BYTES;
	keys->has_repo_sk = q[0];
	memcpy(keys->repo_sk, q + 1, CF_BOX_SK_BYTES);

	if (keys->has_repo_sk) {
		mac(mac_got, t->mac_key, keys->repo_sk, p, signed_len);
		if (sodium_memcmp(mac_got, p + signed_len, MAC_BYTES) != 0) {
			rc = cf_error_set(CF_ERR_CORRUPT, "membership record "
			    "was not made by a member");
			goto out;
		}
		if (crypto_scalarmult_base(t->pk, keys->repo_sk) != 0 ||
		    sodium_memcmp(t->pk, keys->repo_pk, CF_BOX_PK_BYTES) != 0) {
			rc = cf_error_set(CF_ERR_CORRUPT, "membership record: "
			    "the repository's keys do not match each other");
			goto out;
		}
	}
	rc = CF_OK;

out:
	if (rc != CF_OK)
		sodium_memzero(keys, sizeof(*keys));
	sodium_free(t);
	return rc;
}

cf_status
cf_envelope_verify(const uint8_t *p, size_t n,
    const uint8_t repo_sk[CF_BOX_SK_BYTES])
{
	struct cf_envelope_info info;
	struct env_tmp *t;
	uint8_t mac_got[MAC_BYTES];
	size_t signed_len;
	cf_status rc;

	if ((rc = cf_envelope_parse(p, n, &info)) != CF_OK)
		return rc;
	if ((rc = tmp_new(&t)) != CF_OK)
		return rc;
	signed_len = n - MAC_BYTES;
	mac(mac_got, t->mac_key, repo_sk, p, signed_len);
	if (sodium_memcmp(mac_got, p + signed_len, MAC_BYTES) != 0)
		rc = cf_error_set(CF_ERR_CORRUPT,
		    "membership record was not made by a member");
	else
		rc = CF_OK;
	sodium_free(t);
	return rc;
}
