/*
 * config.c: coffred's configuration file (see config.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB (UINT64_C(1024))
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

void
srv_config_defaults(struct srv_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "%s", "0.0.0.0");
	c->port = 8443;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", "/var/lib/coffred");
	snprintf(c->tls_priorities, sizeof(c->tls_priorities), "%s",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	c->max_object_size = 128 * MIB;
	c->max_header_bytes = 16 * KIB;
	c->max_connections = 64;
	c->max_connections_per_ip = 16;
	c->connection_timeout = 60;
	c->request_timeout = 3600;
	c->log_retention_days = 400;
}

enum kind { K_STRING, K_ADDRESS, K_SIZE, K_NUMBER };

struct key {
	const char *name;
	enum kind kind;
	size_t off;             /* offsetof in struct srv_config */
	size_t size;            /* of a string field */
	uint64_t min, max;      /* of a number */
};

#define STR(n, f) { n, K_STRING, offsetof(struct srv_config, f), \
	sizeof(((struct srv_config *)0)->f), 0, 0 }
#define NUM(n, k, f, lo, hi) { n, k, offsetof(struct srv_config, f), 0, \
	lo, hi }

static const struct key keys[] = {
	{ "listen", K_ADDRESS, offsetof(struct srv_config, listen),
	  sizeof(((struct srv_config *)0)->listen), 0, 0 },
	{ "port", K_NUMBER, offsetof(struct srv_config, port), 0, 0, 65535 },
	STR("state_dir", state_dir),
	STR("cert_file", cert_file),
	STR("key_file", key_file),
	STR("tls_priorities", tls_priorities),
	NUM("max_object_size", K_SIZE, max_object_size, 1, 64 * GIB),
	NUM("max_header_bytes", K_SIZE, max_header_bytes, 1 * KIB, 64 * KIB),
	NUM("max_connections", K_NUMBER, max_connections, 1, 10000),
	NUM("max_connections_per_ip", K_NUMBER, max_connections_per_ip, 0,
	    10000),
	NUM("connection_timeout", K_NUMBER, connection_timeout, 1, 3600),
	NUM("request_timeout", K_NUMBER, request_timeout, 1, 86400),
	NUM("log_retention_days", K_NUMBER, log_retention_days, 0, 36500),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A decimal number with an optional K/M/G suffix (sizes only). */
static int
parse_number(const char *s, size_t n, int suffix_ok, uint64_t *out)
{
	uint64_t v = 0, mul = 1;

	if (n > 0 && suffix_ok) {
		switch (s[n - 1]) {
		case 'K': mul = KIB; n--; break;
		case 'M': mul = MIB; n--; break;
		case 'G': mul = GIB; n--; break;
		default: break;
		}
	}
	if (n == 0 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (v > UINT64_MAX / mul)
		return 0;
	*out = v * mul;
	return 1;
}

static cf_status
set_value(struct srv_config *c, const struct key *k, const char *v, size_t n,
    unsigned line)
{
	char *base = (char *)c;
	uint64_t num;

	switch (k->kind) {
	case K_ADDRESS: {
		char tmp[SRV_LISTEN_MAX];
		struct in6_addr a6;
		struct in_addr a4;

		if (n >= sizeof(tmp))
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: %s is not an IP address", line, k->name);
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET, tmp, &a4) != 1 &&
		    inet_pton(AF_INET6, tmp, &a6) != 1)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: %s must be an IPv4 or IPv6 address "
			    "(such as 0.0.0.0 or ::), not a host name", line,
			    k->name);
		memcpy(base + k->off, tmp, n + 1);
		return CF_OK;
	}
	case K_STRING:
		if (n >= k->size)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: %s is longer than %zu bytes", line,
			    k->name, k->size - 1);
		memcpy(base + k->off, v, n);
		base[k->off + n] = '\0';
		return CF_OK;
	case K_SIZE:
	case K_NUMBER:
		if (!parse_number(v, n, k->kind == K_SIZE, &num) ||
		    num < k->min || num > k->max)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: %s must be a number from %llu to %llu%s",
			    line, k->name, (unsigned long long)k->min,
			    (unsigned long long)k->max, k->kind == K_SIZE ?
			    " (bytes; suffixes K, M, G allowed)" : "");
		if (k->off == offsetof(struct srv_config, port))
			c->port = (unsigned)num;
		else
			memcpy(base + k->off, &num, sizeof(num));
		return CF_OK;
	}
	return cf_error_set(CF_ERR_INVALID, "line %u: internal error", line);
}

cf_status
srv_config_parse(struct srv_config *c, const char *text, size_t n)
{
	unsigned char seen[NKEYS];
	unsigned line = 0;
	size_t off = 0;

	memset(seen, 0, sizeof(seen));
	if (n > SRV_CONFIG_FILE_MAX)
		return cf_error_set(CF_ERR_INVALID,
		    "the configuration is larger than %u bytes",
		    SRV_CONFIG_FILE_MAX);
	while (off < n) {
		const char *s = text + off, *nl, *eqs;
		size_t len, klen, vs, ve;
		const struct key *k = NULL;
		size_t ki = 0;

		line++;
		nl = memchr(s, '\n', n - off);
		len = nl != NULL ? (size_t)(nl - s) : n - off;
		off += len + (nl != NULL ? 1 : 0);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)s[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return cf_error_set(CF_ERR_INVALID,
				    "line %u: control character or NUL byte",
				    line);
		}
		while (len > 0 && blank(*s)) {
			s++;
			len--;
		}
		while (len > 0 && blank(s[len - 1]))
			len--;
		if (len == 0 || s[0] == '#')
			continue;
		if ((eqs = memchr(s, '=', len)) == NULL)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: expected \"key = value\"", line);
		klen = (size_t)(eqs - s);
		while (klen > 0 && blank(s[klen - 1]))
			klen--;
		for (ki = 0; ki < NKEYS; ki++) {
			if (strlen(keys[ki].name) == klen &&
			    memcmp(keys[ki].name, s, klen) == 0) {
				k = &keys[ki];
				break;
			}
		}
		if (k == NULL)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: unknown setting (see docs/server.md "
			    "for the settings coffred knows)", line);
		if (seen[ki]++)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: %s is set twice", line, k->name);
		vs = (size_t)(eqs - s) + 1;
		ve = len;
		while (vs < ve && blank(s[vs]))
			vs++;
		if (vs == ve)
			return cf_error_set(CF_ERR_INVALID,
			    "line %u: %s has no value", line, k->name);
		if (set_value(c, k, s + vs, ve - vs, line) != CF_OK)
			return CF_ERR_INVALID;
	}
	return CF_OK;
}

cf_status
srv_config_load(struct srv_config *c, const char *path)
{
	char buf[SRV_CONFIG_FILE_MAX + 1];
	struct stat st;
	size_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			return cf_error_set(CF_ERR_NOTFOUND,
			    "configuration file %s does not exist", path);
		return cf_error_set(CF_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cf_error_set(CF_ERR_IO, "%s is not a regular file",
		    path);
	}
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cf_status rc = cf_error_set(CF_ERR_IO,
			    "cannot read %s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > SRV_CONFIG_FILE_MAX)
		return cf_error_set(CF_ERR_INVALID,
		    "%s is larger than %u bytes", path, SRV_CONFIG_FILE_MAX);
	if (srv_config_parse(c, buf, n) != CF_OK)
		return cf_error_prefix("%s: ", path);
	return CF_OK;
}
