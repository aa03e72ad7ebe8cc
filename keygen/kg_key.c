/* SPDX-License-Identifier: MIT */
/*
 * kg_key: DKIM private keys with OpenSSL 3's EVP interface: generation
 * and atomic PEM files (reading them is lib/rk_dkimkey's).
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "rk_dkimkey.h"
#include "rk_mem.h"
#include "rk_str.h"
#include "keygen.h"

bool
kg_bits_ok(long bits)
{
	return bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096;
}

int
kg_alg_parse(const char *s, int *alg)
{
	if (strcmp(s, "rsa") == 0 || strcmp(s, "rsa-sha256") == 0) {
		*alg = RK_DKIMKEY_RSA;
		return 0;
	}
	if (strcmp(s, "ed25519") == 0 || strcmp(s, "ed25519-sha256") == 0) {
		*alg = RK_DKIMKEY_ED25519;
		return 0;
	}
	return -1;
}

/* The first OpenSSL error queued, for a message; clears the queue. */
EVP_PKEY *
kg_key_generate(int alg, int bits, struct rk_err *err)
{
	EVP_PKEY *key;
	char ebuf[256];

	if (alg == RK_DKIMKEY_RSA && !kg_bits_ok(bits)) {
		rk_err_set(err,
		    "RSA key size %d: want 1024, 2048, 3072 or 4096", bits);
		return NULL;
	}
	if (alg == RK_DKIMKEY_ED25519)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (key == NULL)
		rk_err_set(err, "%s key generation failed: %s",
		    rk_dkimkey_alg_tag(alg),
		    rk_dkimkey_ssl_error(ebuf, sizeof(ebuf)));
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
		return rk_err_set(err, "BIO_new_fd: %s",
		    rk_dkimkey_ssl_error(ebuf, sizeof(ebuf)));
	/* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"). */
	ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) &&
	    BIO_flush(bio) == 1;
	BIO_free(bio);
	if (!ok)
		return rk_err_set(err, "write %s: %s", tmp,
		    rk_dkimkey_ssl_error(ebuf, sizeof(ebuf)));
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
