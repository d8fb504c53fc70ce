/*
 * tls.h: coffred's certificate and key: loading them for the daemon,
 * making a self-signed pair for a demonstration or a practice that pins
 * its server's key, and the pin itself.
 *
 * The pin is curl's CURLOPT_PINNEDPUBLICKEY form: "sha256//" followed by
 * the standard base64 of the SHA-256 of the certificate's DER
 * SubjectPublicKeyInfo (of the first certificate of a chain file).
 */
#ifndef COFFRED_TLS_H
#define COFFRED_TLS_H

#include <stddef.h>

#include "error.h"

#define SRV_PIN_LEN (8 + 44)
#define SRV_PEM_MAX (256 * 1024)

/* PEM bytes for the daemon; the key lives in guarded memory. */
struct srv_tls {
	char *cert;             /* NUL-terminated PEM (malloc) */
	char *key;              /* NUL-terminated PEM (sodium_malloc) */
	size_t keysize;
	char pin[SRV_PIN_LEN + 1];
};

/*
 * srv_tls_load(cert_path, key_path, out): read both files (at most
 * SRV_PEM_MAX bytes each), check that the key belongs to the certificate
 * and compute the pin.  CF_ERR_NOTFOUND, CF_ERR_IO, CF_ERR_INVALID (the
 * message says which file and what is wrong).
 */
cf_status srv_tls_load(const char *cert_path, const char *key_path,
    struct srv_tls *out);

/* srv_tls_free(t): wipe the key and release both; safe twice. */
void srv_tls_free(struct srv_tls *t);

/*
 * srv_tls_pin_file(cert_path, pin): the pin of the certificate in
 * ${cert_path}.
 */
cf_status srv_tls_pin_file(const char *cert_path, char pin[SRV_PIN_LEN + 1]);

/*
 * srv_tls_self_signed(cert_path, key_path, names, nnames, days, pin):
 * generate an ECDSA P-256 key and a self-signed certificate valid for
 * ${days} days from an hour ago, for the host names and IP addresses in
 * ${names} (the first is also the common name), for TLS servers only.
 * The key file is created 0600 and the certificate 0644, both with
 * O_EXCL (CF_ERR_EXISTS if either exists) and fsync'ed.  ${pin} receives
 * the pin.
 */
cf_status srv_tls_self_signed(const char *cert_path, const char *key_path,
    const char *const *names, size_t nnames, unsigned days,
    char pin[SRV_PIN_LEN + 1]);

#endif
