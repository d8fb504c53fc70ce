/*
 * config.h: coffred's configuration file (/etc/coffred/coffred.conf).
 *
 * Format: UTF-8 text of at most SRV_CONFIG_FILE_MAX bytes, one setting per
 * line, "key = value"; blank lines and lines whose first non-blank byte is
 * '#' are ignored; spaces and tabs around keys and values are ignored; a
 * trailing "\r" is ignored.  Every key at most once; an unknown key, a
 * line without '=', an empty value, a control byte or NUL anywhere, a
 * number out of its range is an error naming the line.  Sizes take an
 * optional suffix K, M, G (powers of 1024).  The keys and their defaults
 * are listed in docs/server.md and srv_config_defaults.
 */
#ifndef COFFRED_CONFIG_H
#define COFFRED_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SRV_CONFIG_FILE_MAX (64 * 1024)
#define SRV_CONFIG_DEFAULT_PATH "/etc/coffred/coffred.conf"
#define SRV_PATH_MAX 1024
#define SRV_LISTEN_MAX 64
#define SRV_PRIORITIES_MAX 512

struct srv_config {
	char listen[SRV_LISTEN_MAX];            /* an IPv4 or IPv6 literal */
	unsigned port;                          /* 0: any free port */
	char state_dir[SRV_PATH_MAX];
	char cert_file[SRV_PATH_MAX];           /* PEM certificate (chain) */
	char key_file[SRV_PATH_MAX];            /* PEM private key */
	char tls_priorities[SRV_PRIORITIES_MAX];/* GnuTLS priority string */
	uint64_t max_object_size;               /* bytes, 413 above */
	uint64_t max_header_bytes;              /* bytes, 431 above */
	uint64_t max_connections;               /* 503 above */
	uint64_t max_connections_per_ip;        /* 0: no per-address limit */
	uint64_t connection_timeout;            /* idle seconds */
	uint64_t request_timeout;               /* seconds for one request */
	uint64_t log_retention_days;            /* 0: keep forever */
};

/* srv_config_defaults(c): the built-in settings. */
void srv_config_defaults(struct srv_config *c);

/*
 * srv_config_parse(c, text, n): apply the settings in the ${n} bytes at
 * ${text} over ${c}.  Pure (no I/O).  CF_ERR_INVALID with "line N: ..." on
 * the first fault; ${c} may then be partly changed.
 */
cf_status srv_config_parse(struct srv_config *c, const char *text, size_t n);

/*
 * srv_config_load(c, path): read the file at ${path} (at most
 * SRV_CONFIG_FILE_MAX bytes, a regular file) and srv_config_parse it over
 * ${c}.  CF_ERR_NOTFOUND if it does not exist, CF_ERR_IO, CF_ERR_INVALID
 * (the message names the file and line).
 */
cf_status srv_config_load(struct srv_config *c, const char *path);

#endif
