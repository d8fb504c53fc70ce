/*
 * pack_internal.h: what pack_write.c and pack_read.c share (see pack.h for
 * the format).
 */
#ifndef COFFRE_PACK_INTERNAL_H
#define COFFRE_PACK_INTERNAL_H

#include "crypto.h"
#include "pack.h"

#define PACK_MAGIC "COFFREPK"
#define PACK_MAGIC_BYTES 8
#define PACK_VERSION 1
#define PACK_RESERVED_BYTES 7

/* Associated data of the encrypted pack header (no NUL). */
#define PACK_HEADER_AD "COFFREPK header v1"
#define PACK_HEADER_AD_BYTES 18

/* The trailer: the header's length L (u32). */
#define PACK_TRAILER_BYTES 4

/* Plaintext of a stored blob: compression(1) || data. */
#define PACK_COMP_STORED 0
#define PACK_COMP_ZSTD 1

/* Smallest stored blob: nonce, compression byte, tag. */
#define PACK_BLOB_MIN (CF_AEAD_OVERHEAD + 1)

/* Smallest header: nonce, count(u32), tag. */
#define PACK_HEADER_MIN (CF_AEAD_OVERHEAD + 4)

/* Associated data of a blob: type(1) || id(32). */
#define PACK_BLOB_AD_BYTES (1 + CF_HASH_BYTES)

_Static_assert(sizeof(PACK_MAGIC) - 1 == PACK_MAGIC_BYTES, "pack magic");
_Static_assert(sizeof(PACK_HEADER_AD) - 1 == PACK_HEADER_AD_BYTES,
    "pack header AD");
_Static_assert(PACK_MAGIC_BYTES + 1 + PACK_RESERVED_BYTES +
    CF_SEALED_KEY_BYTES == CF_PACK_HEAD_BYTES, "pack head layout");
_Static_assert(CF_PACK_ENTRY_BYTES == 1 + CF_HASH_BYTES + 12, "entry size");

#endif
