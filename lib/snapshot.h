/*
 * snapshot.h: a snapshot, the signed record of one backup.
 *
 * Snapshot object, version 1:
 *   0    8    magic "COFFRESN"
 *   8    1    version = 1
 *   9    7    reserved, zero
 *   16   80   crypto_box_seal(snapshot key, repository public key)
 *   96   ...  nonce(24) || XChaCha20-Poly1305(snapshot key,
 *                 ad = bytes [0, 16), plaintext) || tag(16)
 *   plaintext = body || Ed25519 signature(64) by the author over
 *               "COFFRESN body v1" (16 bytes) || body
 *   body = time_sec(i64) time_nsec(u32) tree(32) author(32)
 *          hostname(str) username(str) npaths(u16) paths(str...)
 *          ntags(u16) tags(str...) files(u64) dirs(u64) bytes(u64)
 *   str = len(u16) 0..4095 + bytes (no NUL); npaths 1..4096, ntags 0..256
 * Object name: "snapshots/" + hex(SHA-256 of the whole object); that
 * hex is the snapshot's id.  The signature sits inside the encryption so
 * the host does not learn who made a backup.
 */
#ifndef COFFRE_SNAPSHOT_H
#define COFFRE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"
#include "identity.h"

#define CF_SNAPSHOT_STR_MAX 4095
#define CF_SNAPSHOT_PATHS_MAX 4096
#define CF_SNAPSHOT_TAGS_MAX 256
#define CF_SNAPSHOT_MAX (64u * 1024 * 1024)

struct cf_snapshot {
	uint8_t id[CF_HASH_BYTES];      /* set by encode and decode */
	int64_t time_sec;
	uint32_t time_nsec;
	uint8_t tree[CF_HASH_BYTES];
	uint8_t author[CF_SIGN_PK_BYTES];
	char *hostname;
	char *username;
	char **paths;
	size_t npaths;
	char **tags;
	size_t ntags;
	uint64_t files, dirs, bytes;
};

/*
 * cf_snapshot_encode(s, author, repo_pk, out): sign with ${author} (whose
 * public key is copied into s->author), seal and encrypt; append the object
 * to ${out} and set s->id.  CF_ERR_INVALID if a field is out of range.
 */
cf_status cf_snapshot_encode(struct cf_snapshot *s,
    const struct cf_identity *author, const uint8_t repo_pk[CF_BOX_PK_BYTES],
    struct cf_buf *out);

/*
 * cf_snapshot_decode(p, n, repo_pk, repo_sk, s): open, parse and verify the
 * author's signature; fill ${s} (caller frees with cf_snapshot_free) and
 * s->id = SHA-256(p) (cf_name_hash).  CF_ERR_CORRUPT, CF_ERR_VERSION.
 */
cf_status cf_snapshot_decode(const uint8_t *p, size_t n,
    const uint8_t repo_pk[CF_BOX_PK_BYTES],
    const uint8_t repo_sk[CF_BOX_SK_BYTES], struct cf_snapshot *s);

/* cf_snapshot_free(s): free the strings; the struct itself is the caller's. */
void cf_snapshot_free(struct cf_snapshot *s);

#endif
