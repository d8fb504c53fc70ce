/*
 * config.h: the repository's public configuration, object "config".
 *
 * Config, version 1 (89 bytes):
 *   0   8   magic "COFFRECF"
 *   8   1   version = 1 (a reader refuses any other with CF_ERR_VERSION)
 *   9   7   reserved, zero
 *   16  16  repository id
 *   32  32  repository X25519 public key
 *   64  4   chunk min (u32)
 *   68  4   chunk avg (u32)
 *   72  4   chunk max (u32)
 *   76  4   pack target size (u32), 1 MiB .. 128 MiB
 *   80  1   zstd level (u8), 0 (off) .. 19
 *   81  8   creation time (i64, Unix seconds)
 *   total 89 bytes.
 * The config is not secret and not signed: each member's envelope carries
 * BLAKE2b-256 of the config bytes, and opening checks it, so a changed config
 * is refused.
 */
#ifndef COFFRE_CONFIG_H
#define COFFRE_CONFIG_H

#include <stdint.h>

#include "bytes.h"
#include "chunker.h"
#include "crypto.h"
#include "error.h"
#include "keys.h"

#define CF_FORMAT_VERSION 1
#define CF_CONFIG_BYTES 89

struct cf_config {
	uint8_t version;
	uint8_t repo_id[CF_REPO_ID_BYTES];
	uint8_t repo_pk[CF_BOX_PK_BYTES];
	struct cf_chunker_params chunker;
	uint32_t pack_target;
	uint8_t zstd_level;
	int64_t created;
};

/* cf_config_encode(c, out): append the 89 bytes to ${out}. */
cf_status cf_config_encode(const struct cf_config *c, struct cf_buf *out);

/*
 * cf_config_decode(p, n, c): parse and range-check; CF_ERR_VERSION with a
 * message naming the version found and the one supported, CF_ERR_CORRUPT.
 */
cf_status cf_config_decode(const uint8_t *p, size_t n, struct cf_config *c);

#endif
