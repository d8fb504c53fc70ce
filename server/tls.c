/*
 * tls.c: certificates, keys and pins with GnuTLS (see tls.h).
 *
 * Private key bytes only ever live in sodium_malloc'ed memory here or in
 * GnuTLS's own structures (which wipe them on deinit); the PKCS#8 export
 * of a new key is wiped with gnutls_memset before it is freed.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "crypto.h"

/*
 * read_file(path, secret, out, len): the file's bytes plus a NUL, in
 * sodium_malloc'ed memory if ${secret}, else malloc'ed.
 */
static cf_status
read_file(const char *path, int secret, char **out, size_t *len)
{
	struct stat st;
	size_t n = 0, size;
	char *buf;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			return cf_error_set(CF_ERR_NOTFOUND, "%s does not "
			    "exist", path);
		return cf_error_set(CF_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    st.st_size > SRV_PEM_MAX) {
		close(fd);
		return cf_error_set(CF_ERR_INVALID, "%s is not a PEM file of "
		    "at most %d bytes", path, SRV_PEM_MAX);
	}
	size = (size_t)st.st_size + 1;
	buf = secret ? sodium_malloc(size) : malloc(size);
	if (buf == NULL) {
		close(fd);
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	}
	while (n < size - 1) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (n == 0 || memchr(buf, '\0', n) != NULL) {
		if (secret) {
			sodium_free(buf);
		} else {
			free(buf);
		}
		return cf_error_set(CF_ERR_INVALID, "%s is empty or not a PEM "
		    "file", path);
	}
	*out = buf;
	*len = n;
	return CF_OK;
}

/* pin_of(crt, pin): the pin of a parsed certificate. */
static cf_status
pin_of(gnutls_x509_crt_t crt, char pin[SRV_PIN_LEN + 1])
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	uint8_t digest[32];
	char b64[sodium_base64_ENCODED_LEN(32,
	    sodium_base64_VARIANT_ORIGINAL)];
	int r;

	if ((r = gnutls_pubkey_init(&pub)) < 0 ||
	    (r = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (r = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
	    digest)) < 0) {
		gnutls_free(der.data);
		gnutls_pubkey_deinit(pub);
		return cf_error_set(CF_ERR_INVALID, "cannot read the "
		    "certificate's public key: %s", gnutls_strerror(r));
	}
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(pin, SRV_PIN_LEN + 1, "sha256//%s", b64);
	return CF_OK;
}

/* pin_of_pem(pem, len, path, pin): the pin of the first certificate. */
static cf_status
pin_of_pem(const char *pem, size_t len, const char *path,
    char pin[SRV_PIN_LEN + 1])
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem,
	    (unsigned int)len };
	cf_status rc;
	int r;

	if ((r = gnutls_x509_crt_init(&crt)) < 0)
		return cf_error_set(CF_ERR_NOMEM, "%s", gnutls_strerror(r));
	if ((r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(crt);
		return cf_error_set(CF_ERR_INVALID, "%s holds no PEM "
		    "certificate: %s", path, gnutls_strerror(r));
	}
	rc = pin_of(crt, pin);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

cf_status
srv_tls_pin_file(const char *cert_path, char pin[SRV_PIN_LEN + 1])
{
	char *pem = NULL;
	size_t len = 0;
	cf_status rc;

	if ((rc = read_file(cert_path, 0, &pem, &len)) != CF_OK)
		return rc;
	rc = pin_of_pem(pem, len, cert_path, pin);
	free(pem);
	return rc;
}

void
srv_tls_free(struct srv_tls *t)
{
	free(t->cert);
	if (t->key != NULL)
		sodium_free(t->key);
	t->cert = t->key = NULL;
	t->keysize = 0;
}

cf_status
srv_tls_load(const char *cert_path, const char *key_path, struct srv_tls *out)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t c, k;
	size_t clen;
	cf_status rc;
	int r;

	memset(out, 0, sizeof(*out));
	if (cert_path[0] == '\0' || key_path[0] == '\0')
		return cf_error_set(CF_ERR_INVALID, "no certificate configured:"
		    " set cert_file and key_file in the configuration, or "
		    "make a self-signed pair with `coffred cert`");
	if ((rc = read_file(cert_path, 0, &out->cert, &clen)) != CF_OK)
		return rc;
	if ((rc = read_file(key_path, 1, &out->key, &out->keysize)) != CF_OK)
		goto err;
	if ((rc = pin_of_pem(out->cert, clen, cert_path, out->pin)) != CF_OK)
		goto err;
	/* Does the key belong to the certificate?  GnuTLS checks it here. */
	c.data = (unsigned char *)out->cert;
	c.size = (unsigned int)clen;
	k.data = (unsigned char *)out->key;
	k.size = (unsigned int)out->keysize;
	if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		rc = cf_error_set(CF_ERR_NOMEM, "%s", gnutls_strerror(r));
		goto err;
	}
	r = gnutls_certificate_set_x509_key_mem2(cred, &c, &k,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (r < 0) {
		rc = cf_error_set(CF_ERR_INVALID, "certificate %s and key %s "
		    "cannot be used together: %s", cert_path, key_path,
		    gnutls_strerror(r));
		goto err;
	}
	return CF_OK;
err:
	srv_tls_free(out);
	return rc;
}

/* write_new(path, p, n, mode): create ${path} (O_EXCL), write, fsync. */
static cf_status
write_new(const char *path, const void *p, size_t n, mode_t mode)
{
	const uint8_t *b = p;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) < 0) {
		if (errno == EEXIST)
			return cf_error_set(CF_ERR_EXISTS, "%s exists already; "
			    "remove it first or choose another path", path);
		return cf_error_set(CF_ERR_IO, "cannot create %s: %s", path,
		    strerror(errno));
	}
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cf_status rc = cf_error_set(CF_ERR_IO, "cannot write "
			    "%s: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			return rc;
		}
		b += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		cf_status rc = cf_error_set(CF_ERR_IO, "cannot write %s: %s",
		    path, strerror(errno));
		unlink(path);
		return rc;
	}
	return CF_OK;
}

cf_status
srv_tls_self_signed(const char *cert_path, const char *key_path,
    const char *const *names, size_t nnames, unsigned days,
    char pin[SRV_PIN_LEN + 1])
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	uint8_t serial[16], keyid[64];
	size_t keyidlen = sizeof(keyid);
	time_t now = time(NULL);
	cf_status rc = CF_OK;
	int r;

	if (nnames == 0 || days == 0 || days > 36500)
		return cf_error_set(CF_ERR_INVALID, "a certificate needs a "
		    "name and 1 to 36500 days");
	cf_random(serial, sizeof(serial));
	serial[0] &= 0x7f;      /* a positive serial number */
	serial[0] |= 0x01;
#define GT(call) do { if ((r = (call)) < 0) goto gnutls_err; } while (0)
	GT(gnutls_x509_privkey_init(&key));
	GT(gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0));
	GT(gnutls_x509_crt_init(&crt));
	GT(gnutls_x509_crt_set_version(crt, 3));
	GT(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)));
	GT(gnutls_x509_crt_set_activation_time(crt, now - 3600));
	GT(gnutls_x509_crt_set_expiration_time(crt,
	    now + (time_t)days * 86400));
	GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    names[0], (unsigned)strlen(names[0])));
	GT(gnutls_x509_crt_set_key(crt, key));
	GT(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
	GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
	GT(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER,
	    0));
	for (size_t i = 0; i < nnames; i++) {
		struct in6_addr a6;
		struct in_addr a4;

		if (inet_pton(AF_INET, names[i], &a4) == 1)
			GT(gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_IPADDRESS, &a4, sizeof(a4),
			    GNUTLS_FSAN_APPEND));
		else if (inet_pton(AF_INET6, names[i], &a6) == 1)
			GT(gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_IPADDRESS, &a6, sizeof(a6),
			    GNUTLS_FSAN_APPEND));
		else
			GT(gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_DNSNAME, names[i],
			    (unsigned)strlen(names[i]), GNUTLS_FSAN_APPEND));
	}
	GT(gnutls_x509_crt_get_key_id(crt, 0, keyid, &keyidlen));
	GT(gnutls_x509_crt_set_subject_key_id(crt, keyid, keyidlen));
	GT(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
	GT(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem));
	GT(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &kpem));
#undef GT
	if ((rc = pin_of(crt, pin)) != CF_OK)
		goto out;
	if ((rc = write_new(key_path, kpem.data, kpem.size, 0600)) != CF_OK)
		goto out;
	if ((rc = write_new(cert_path, cpem.data, cpem.size, 0644)) != CF_OK) {
		unlink(key_path);
		goto out;
	}
	goto out;

gnutls_err:
	rc = cf_error_set(CF_ERR_INVALID, "cannot make the certificate: %s",
	    gnutls_strerror(r));
out:
	if (kpem.data != NULL) {
		gnutls_memset(kpem.data, 0, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return rc;
}
