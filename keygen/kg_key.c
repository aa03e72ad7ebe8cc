/* SPDX-License-Identifier: MIT */
/*
 * kg_key: DKIM private keys with OpenSSL 3's EVP interface: generation,
 * atomic PEM files, reading, and the public key DNS publishes.
 *
 * A key file is written whole or not at all: into a temp file next to it,
 * synced, then linked into place (which fails if a key is already there,
 * so two runs racing cannot overwrite each other) or renamed over the old
 * one when asked to.  Private key bytes go straight from OpenSSL to the
 * file descriptor; nothing here keeps a copy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "keygen.h"

#define KG_ED25519_RAW 32

void
kg_spec_clear(struct kg_spec *s)
{
	if (s == NULL)
		return;
	free(s->domain);
	free(s->selector);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

bool
kg_bits_ok(long bits)
{
	return bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096;
}

const char *
kg_alg_tag(int alg)
{
	return alg == KG_ED25519 ? "ed25519" : "rsa";
}

const char *
kg_alg_name(int alg)
{
	return alg == KG_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

int
kg_alg_parse(const char *s, int *alg)
{
	if (strcmp(s, "rsa") == 0 || strcmp(s, "rsa-sha256") == 0) {
		*alg = KG_RSA;
		return 0;
	}
	if (strcmp(s, "ed25519") == 0 || strcmp(s, "ed25519-sha256") == 0) {
		*alg = KG_ED25519;
		return 0;
	}
	return -1;
}

static bool
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
kg_selector_check(const char *s, struct rk_err *err)
{
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > 63 * 4)
		return rk_err_set(err, "selector must be 1 to 252 characters");
	for (size_t i = 0; i <= total; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return rk_err_set(err,
				    "selector \"%s\": want dot-separated "
				    "letters, digits and inner hyphens",
				    s);
			label = 0;
			continue;
		}
		if (!is_ldh(s[i]))
			return rk_err_set(err,
			    "selector \"%s\": character '%c' not allowed "
			    "(letters, digits, '-' and '.' only)",
			    s, s[i]);
		label++;
	}
	return 0;
}

/* The first OpenSSL error queued, for a message; clears the queue. */
static const char *
ssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, n, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

EVP_PKEY *
kg_key_generate(int alg, int bits, struct rk_err *err)
{
	EVP_PKEY *key;
	char ebuf[256];

	if (alg == KG_RSA && !kg_bits_ok(bits)) {
		rk_err_set(err,
		    "RSA key size %d: want 1024, 2048, 3072 or 4096", bits);
		return NULL;
	}
	if (alg == KG_ED25519)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (key == NULL)
		rk_err_set(err, "%s key generation failed: %s", kg_alg_tag(alg),
		    ssl_reason(ebuf, sizeof(ebuf)));
	return key;
}

int
kg_mkdir_parents(const char *path, struct rk_err *err)
{
	char *dir = rk_strdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash == NULL || slash == dir)
		goto out;
	*slash = '\0';
	/* Walk down from the root, creating what is missing. */
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			rc = rk_err_set(
			    err, "mkdir %s: %s", dir, strerror(errno));
			goto out;
		}
		*p = save;
		if (save == '\0')
			break;
	}
out:
	free(dir);
	return rc;
}

/* Writes the PEM into fd and makes it durable. */
static int
write_pem(int fd, EVP_PKEY *key, const char *tmp, struct rk_err *err)
{
	BIO *bio = BIO_new_fd(fd, BIO_NOCLOSE);
	char ebuf[256];
	int ok;

	if (bio == NULL)
		return rk_err_set(
		    err, "BIO_new_fd: %s", ssl_reason(ebuf, sizeof(ebuf)));
	/* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"). */
	ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) &&
	    BIO_flush(bio) == 1;
	BIO_free(bio);
	if (!ok)
		return rk_err_set(
		    err, "write %s: %s", tmp, ssl_reason(ebuf, sizeof(ebuf)));
	if (fsync(fd) == -1)
		return rk_err_set(err, "fsync %s: %s", tmp, strerror(errno));
	return 0;
}

/*
 * Moves tmp to path: link(2) fails with EEXIST when a key is there, so
 * the check and the write are one step.  Filesystems without hard links
 * fall back to a check and rename (racy only against ourselves).
 */
static enum kg_write
place(const char *tmp, const char *path, bool force, struct rk_err *err)
{
	struct stat st;

	if (force) {
		if (rename(tmp, path) == 0)
			return KG_WRITE_OK;
		rk_err_set(err, "rename to %s: %s", path, strerror(errno));
		return KG_WRITE_ERROR;
	}
	if (link(tmp, path) == 0)
		return KG_WRITE_OK;
	if (errno == EEXIST)
		return KG_WRITE_EXISTS;
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS) {
		rk_err_set(err, "link to %s: %s", path, strerror(errno));
		return KG_WRITE_ERROR;
	}
	if (lstat(path, &st) == 0)
		return KG_WRITE_EXISTS;
	if (rename(tmp, path) == 0)
		return KG_WRITE_OK;
	rk_err_set(err, "rename to %s: %s", path, strerror(errno));
	return KG_WRITE_ERROR;
}

static void
sync_dir(const char *path)
{
	char *dir = rk_strdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd != -1) {
		/* Best effort: the key file itself is already synced. */
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

enum kg_write
kg_key_write(const char *path, EVP_PKEY *key, bool force, struct rk_err *err)
{
	enum kg_write rc = KG_WRITE_ERROR;
	struct rk_buf tmp;
	struct stat st;
	int fd;

	if (!force && lstat(path, &st) == 0)
		return KG_WRITE_EXISTS;
	if (kg_mkdir_parents(path, err) == -1)
		return KG_WRITE_ERROR;
	rk_buf_init(&tmp);
	rk_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
	/* mkstemp creates the file 0600: the key is never readable by others.
	 */
	fd = mkstemp(tmp.data);
	if (fd == -1) {
		rk_err_set(err, "create %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) == -1) {
		rk_err_set(err, "chmod %s: %s", tmp.data, strerror(errno));
		close(fd);
		goto unlink;
	}
	if (write_pem(fd, key, tmp.data, err) == -1) {
		close(fd);
		goto unlink;
	}
	if (close(fd) == -1) {
		rk_err_set(err, "close %s: %s", tmp.data, strerror(errno));
		goto unlink;
	}
	rc = place(tmp.data, path, force, err);
	if (rc == KG_WRITE_OK)
		sync_dir(path);
unlink:
	/* After link(2) the temp name is a second link; after rename it is
	   gone already (ENOENT is fine). */
	(void)unlink(tmp.data);
out:
	rk_buf_free(&tmp);
	return rc;
}

EVP_PKEY *
kg_key_read(const char *path, struct rk_err *err)
{
	EVP_PKEY *key;
	char ebuf[256];
	BIO *bio = BIO_new_file(path, "r");

	if (bio == NULL) {
		ERR_clear_error();
		rk_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		rk_err_set(err, "%s: not a PEM private key: %s", path,
		    ssl_reason(ebuf, sizeof(ebuf)));
	return key;
}

int
kg_key_alg(EVP_PKEY *key, int *bits)
{
	if (EVP_PKEY_is_a(key, "ED25519")) {
		*bits = 0;
		return KG_ED25519;
	}
	if (EVP_PKEY_is_a(key, "RSA")) {
		*bits = EVP_PKEY_get_bits(key);
		return KG_RSA;
	}
	return -1;
}

static char *
b64(const unsigned char *p, size_t n)
{
	/* EVP_EncodeBlock: 4 output bytes per 3 input, plus a NUL. */
	size_t len = rk_size_add(rk_size_mul((n + 2) / 3, 4), 1);
	char *out = rk_malloc(len);

	if (n > INT_MAX)
		rk_panic("b64: %zu bytes", n);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

char *
kg_key_public_b64(EVP_PKEY *key, struct rk_err *err)
{
	unsigned char raw[KG_ED25519_RAW], *der = NULL;
	size_t rawlen = sizeof(raw);
	char ebuf[256], *out;
	int bits, derlen;

	switch (kg_key_alg(key, &bits)) {
	case KG_ED25519:
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 ||
		    rawlen != KG_ED25519_RAW) {
			rk_err_set(err, "ed25519 public key: %s",
			    ssl_reason(ebuf, sizeof(ebuf)));
			return NULL;
		}
		return b64(raw, rawlen);
	case KG_RSA:
		derlen = i2d_PUBKEY(key, &der);
		if (derlen <= 0) {
			rk_err_set(err, "rsa public key: %s",
			    ssl_reason(ebuf, sizeof(ebuf)));
			return NULL;
		}
		out = b64(der, (size_t)derlen);
		OPENSSL_free(der);
		return out;
	default:
		rk_err_set(err,
		    "key type %s is not a DKIM key type (rsa, "
		    "ed25519)",
		    EVP_PKEY_get0_type_name(key));
		return NULL;
	}
}
