/* SPDX-License-Identifier: MIT */
/*
 * pc_tls: a self-signed certificate so STARTTLS works from the first run
 * when the operator gave none (ECDSA P-256, ten years, CN = hostname).
 * Clients that relay through us rarely verify; those that do need a real
 * certificate in mail.tls.certFile.
 */
#include "config.h"

#include <stdio.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pc.h"

static int
write_pem(const char *path, unsigned mode, EVP_PKEY *key, X509 *cert,
    struct rk_err *err)
{
	FILE *f;
	int ok;
	mode_t old = umask(0077);

	f = fopen(path, "w");
	umask(old);
	if (f == NULL)
		return rk_err_set(err, "cannot write %s", path);
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	         : PEM_write_X509(f, cert);
	if (fclose(f) != 0 || !ok || chmod(path, mode) != 0)
		return rk_err_set(err, "cannot write %s", path);
	return 0;
}

int
pc_tls_selfsigned(const char *hostname, const char *certfile,
    const char *keyfile, struct rk_err *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	int rc = -1;

	if (key == NULL || x == NULL) {
		rk_err_set(err, "cannot generate a TLS key");
		goto out;
	}
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, key, EVP_sha256()) == 0) {
		rk_err_set(err, "cannot sign the TLS certificate");
		goto out;
	}
	if (write_pem(keyfile, 0600, key, NULL, err) == 0 &&
	    write_pem(certfile, 0644, NULL, x, err) == 0)
		rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}
