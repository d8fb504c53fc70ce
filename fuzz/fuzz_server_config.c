/*
 * fuzz_server_config.c: coffred's configuration file parser
 * (server/config.c).  Whatever it accepts must leave every setting within
 * its documented range and every string terminated inside its field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_config c;

	srv_config_defaults(&c);
	if (srv_config_parse(&c, (const char *)data, size) != CF_OK)
		return 0;
	if (memchr(c.listen, '\0', sizeof(c.listen)) == NULL ||
	    memchr(c.state_dir, '\0', sizeof(c.state_dir)) == NULL ||
	    memchr(c.cert_file, '\0', sizeof(c.cert_file)) == NULL ||
	    memchr(c.key_file, '\0', sizeof(c.key_file)) == NULL ||
	    memchr(c.tls_priorities, '\0', sizeof(c.tls_priorities)) == NULL)
		abort();
	if (c.port > 65535 || c.max_object_size < 1 ||
	    c.max_header_bytes < 1024 || c.max_header_bytes > 65536 ||
	    c.max_connections < 1 || c.max_connections > 10000 ||
	    c.connection_timeout < 1 || c.request_timeout < 1 ||
	    c.log_retention_days > 36500)
		abort();
	return 0;
}
