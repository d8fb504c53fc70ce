/*
 * envelope.h: a member's key envelope, object "keys/<hex(BLAKE2b-256(pk))>".
 *
 * Envelope, version 1:
 *   0     8    magic "COFFREKY"
 *   8     1    version = 1
 *   9     1    role: 1 full (read, write, manage), 2 write-only
 *   10    6    reserved, zero
 *   16    32   member Ed25519 public key
 *   48    8    added time (i64)
 *   56    1    name length N, then N bytes of name
 *   57+N  258  crypto_box_seal(secret, member's X25519 key), secret (210) =
 *              repo_id(16) config_hash(32) role(1) id_key(32) gear_key(32)
 *              index_key(32) repo_pk(32) has_repo_sk(1) repo_sk(32, zero for
 *              write-only)
 *   315+N 32   membership MAC: BLAKE2b-256 keyed by
 *              cf_kdf(repo_sk, "coffre member mac v1") over bytes [0, 315+N)
 * Only a holder of repo_sk (a full member) can make a MAC that verifies, so
 * a host that adds an envelope for itself is caught by any full member.
 */
#ifndef COFFRE_ENVELOPE_H
#define COFFRE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"
#include "identity.h"
#include "keys.h"

#define CF_ROLE_FULL 1
#define CF_ROLE_WRITE_ONLY 2
#define CF_ENVELOPE_MAX (347 + CF_NAME_MAX)

struct cf_envelope_info {
	uint8_t role;
	uint8_t member[CF_SIGN_PK_BYTES];
	int64_t added;
	char name[CF_NAME_MAX + 1];
};

/* cf_envelope_object_name(out, member_pk): "keys/<64 hex>". */
void cf_envelope_object_name(char out[70], const uint8_t member[CF_SIGN_PK_BYTES]);

/*
 * cf_envelope_encode(info, keys, out): seal ${keys} to info->member (repo_sk
 * left out when info->role is write-only) and MAC with keys->repo_sk;
 * CF_ERR_ACCESS if keys->has_repo_sk is 0 (only full members add members),
 * CF_ERR_INVALID if the member key is not a valid point.
 */
cf_status cf_envelope_encode(const struct cf_envelope_info *info,
    const struct cf_keys *keys, struct cf_buf *out);

/* cf_envelope_parse(p, n, info): the public part; CF_ERR_CORRUPT/VERSION. */
cf_status cf_envelope_parse(const uint8_t *p, size_t n,
    struct cf_envelope_info *info);

/*
 * cf_envelope_open(p, n, id, keys): unseal with ${id}'s key into ${keys};
 * checks the envelope is for ${id} (CF_ERR_NOTMEMBER otherwise) and that the
 * sealed role and public role agree (CF_ERR_CORRUPT).  When the keys include
 * repo_sk, the MAC is verified too.
 */
cf_status cf_envelope_open(const uint8_t *p, size_t n,
    const struct cf_identity *id, struct cf_keys *keys);

/* cf_envelope_verify(p, n, repo_sk): CF_OK if the membership MAC verifies. */
cf_status cf_envelope_verify(const uint8_t *p, size_t n,
    const uint8_t repo_sk[CF_BOX_SK_BYTES]);

#endif
