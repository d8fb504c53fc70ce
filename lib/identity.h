/*
 * identity.h: a person's (or an unattended device's) identity.
 *
 * An identity is one Ed25519 keypair; its X25519 keypair for receiving
 * sealed keys is derived from it (crypto_sign_ed25519_*_to_curve25519).
 * The secret part lives in sodium_malloc'ed memory and is wiped on free.
 *
 * Identity file, version 1 (all integers little-endian):
 *   off  size
 *   0    8    magic "COFFREID"
 *   8    1    version = 1
 *   9    1    kdf = 1 (Argon2id v1.3, crypto_pwhash_ALG_ARGON2ID13)
 *   10   2    reserved, zero
 *   12   8    opslimit (u64)   1 <= ops <= 64
 *   20   8    memlimit (u64)   8 KiB <= mem <= 4 GiB, refused above
 *   28   16   salt
 *   44   1    name length N (0..255), then N bytes of UTF-8 name
 *   45+N 32   Ed25519 public key
 *   77+N 72   nonce(24) || XChaCha20-Poly1305(key = Argon2id(passphrase,
 *             salt, ops, mem) 32 bytes, ad = bytes [0, 77+N),
 *             plaintext = 32-byte Ed25519 seed) || tag(16)
 *   total 149+N bytes.  A loader also checks that the seed's public key is
 *   the stored one.
 *
 * Public identity string: "coffre1" followed by RFC 4648 base32 (lowercase,
 * no padding) of pk(32) || first 3 bytes of BLAKE2b-256(pk): 63 characters.
 * Fingerprint: BLAKE2b-256("coffre fingerprint v1" || pk); eight groups of
 * five decimal digits, group i = u32le(bytes 4i..4i+3) mod 100000, separated
 * by spaces: 47 characters, to be read aloud.
 */
#ifndef COFFRE_IDENTITY_H
#define COFFRE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "error.h"

#define CF_PUBID_LEN 63
#define CF_FINGERPRINT_LEN 47
#define CF_NAME_MAX 255
#define CF_IDENTITY_FILE_MAX (149 + CF_NAME_MAX)
/* Default Argon2id cost: libsodium's MODERATE (3 passes, 256 MiB). */
#define CF_PWHASH_OPS_DEFAULT 3
#define CF_PWHASH_MEM_DEFAULT (256u * 1024 * 1024)

struct cf_identity;

/* cf_identity_generate(name, out): a new random identity; ${name} may be NULL. */
cf_status cf_identity_generate(const char *name, struct cf_identity **out);

/*
 * cf_identity_encode(id, pass, passlen, ops, mem, out): the identity file
 * bytes, appended to ${out}.  CF_ERR_INVALID for out-of-range costs.
 */
cf_status cf_identity_encode(const struct cf_identity *id, const char *pass,
    size_t passlen, uint64_t ops, uint64_t mem, struct cf_buf *out);

/*
 * cf_identity_decode(p, n, pass, passlen, out): parse and decrypt an
 * identity file.  CF_ERR_CORRUPT (not an identity file / damaged),
 * CF_ERR_VERSION, CF_ERR_PASSPHRASE (tag does not verify), CF_ERR_NOMEM.
 */
cf_status cf_identity_decode(const uint8_t *p, size_t n, const char *pass,
    size_t passlen, struct cf_identity **out);

/*
 * cf_identity_save(id, path, pass, passlen, ops, mem): write a new identity
 * file at ${path}: created 0600 with O_EXCL|O_NOFOLLOW (CF_ERR_EXISTS if
 * present), written, fsync'ed, and its directory fsync'ed.
 */
cf_status cf_identity_save(const struct cf_identity *id, const char *path,
    const char *pass, size_t passlen, uint64_t ops, uint64_t mem);

/*
 * cf_identity_load(path, pass, passlen, out): read (O_NOFOLLOW, at most
 * CF_IDENTITY_FILE_MAX bytes) and decode an identity file.  CF_ERR_NOTFOUND
 * if ${path} does not exist, else as cf_identity_decode.
 */
cf_status cf_identity_load(const char *path, const char *pass, size_t passlen,
    struct cf_identity **out);

/*
 * cf_identity_peek(p, n, pk, name): the public key and name stored in clear in
 * an identity file, without the passphrase (for `coffre id show`).  ${name}
 * has room for CF_NAME_MAX + 1 bytes.  CF_ERR_CORRUPT, CF_ERR_VERSION.
 */
cf_status cf_identity_peek(const uint8_t *p, size_t n,
    uint8_t pk[CF_SIGN_PK_BYTES], char name[CF_NAME_MAX + 1]);

/*
 * cf_identity_read_file(path, out): read an identity file's bytes (O_NOFOLLOW,
 * at most CF_IDENTITY_FILE_MAX) and append them to ${out}, which the caller
 * has initialised (cf_buf_init) and frees; ${out} is unchanged on failure.
 * CF_ERR_NOTFOUND, CF_ERR_IO, CF_ERR_CORRUPT (too large / not a regular file
 * / a symbolic link).
 */
cf_status cf_identity_read_file(const char *path, struct cf_buf *out);

/* cf_identity_free(id): wipe and release; NULL is a no-op. */
void cf_identity_free(struct cf_identity *id);

/* cf_identity_name(id): the name ("" if none); valid while ${id} lives. */
const char *cf_identity_name(const struct cf_identity *id);

/* cf_identity_public(id): the 32-byte Ed25519 public key. */
const uint8_t *cf_identity_public(const struct cf_identity *id);

/* cf_identity_sign(id, m, n, sig): Ed25519 detached signature of ${m}. */
void cf_identity_sign(const struct cf_identity *id, const void *m, size_t n,
    uint8_t sig[CF_SIG_BYTES]);

/*
 * cf_identity_box_keys(id, pk, sk): the X25519 keypair derived from the
 * identity; the caller wipes ${sk} after use.
 */
void cf_identity_box_keys(const struct cf_identity *id,
    uint8_t pk[CF_BOX_PK_BYTES], uint8_t sk[CF_BOX_SK_BYTES]);

/* cf_sig_verify(pk, m, n, sig): CF_OK or CF_ERR_CORRUPT ("bad signature"). */
cf_status cf_sig_verify(const uint8_t pk[CF_SIGN_PK_BYTES], const void *m,
    size_t n, const uint8_t sig[CF_SIG_BYTES]);

/*
 * cf_pubid_box_pk(pk, box_pk): the X25519 public key of an Ed25519 public
 * key; CF_ERR_INVALID if ${pk} is not a valid point.
 */
cf_status cf_pubid_box_pk(const uint8_t pk[CF_SIGN_PK_BYTES],
    uint8_t box_pk[CF_BOX_PK_BYTES]);

/* cf_pubid_encode(pk, out): the public identity string (CF_PUBID_LEN + NUL). */
void cf_pubid_encode(const uint8_t pk[CF_SIGN_PK_BYTES],
    char out[CF_PUBID_LEN + 1]);

/*
 * cf_pubid_decode(s, pk): parse a public identity string (surrounding
 * whitespace allowed, case-insensitive); CF_ERR_INVALID with a message
 * saying what is wrong (prefix, length, checksum = a typo).
 */
cf_status cf_pubid_decode(const char *s, uint8_t pk[CF_SIGN_PK_BYTES]);

/* cf_pubid_fingerprint(pk, out): the spoken fingerprint (47 chars + NUL). */
void cf_pubid_fingerprint(const uint8_t pk[CF_SIGN_PK_BYTES],
    char out[CF_FINGERPRINT_LEN + 1]);

#endif
