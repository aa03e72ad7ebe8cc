/* SPDX-License-Identifier: MIT */
/*
 * mlt_keys: loading the DKIM private keys once, at start and at reload.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "rk_addr.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "mlt_keys.h"

EVP_PKEY *
mlt_key_read(const char *path, enum mlt_alg alg, struct rk_err *err)
{
	struct stat st;
	EVP_PKEY *key = NULL;
	FILE *fp;
	int want = alg == MLT_RSA_SHA256 ? EVP_PKEY_RSA : EVP_PKEY_ED25519;

	if ((fp = fopen(path, "re")) == NULL) {
		rk_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) != 0) {
		rk_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		rk_err_set(err,
		    "%s: world-readable private key refused "
		    "(chmod o-r)",
		    path);
		goto out;
	}
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	if (key == NULL) {
		rk_err_set(err, "%s: not a PEM private key", path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(key) != want) {
		rk_err_set(err, "%s: not an %s key", path,
		    alg == MLT_RSA_SHA256 ? "RSA" : "Ed25519");
		EVP_PKEY_free(key);
		key = NULL;
	}
out:
	fclose(fp);
	return key;
}

static char *
key_path(const struct rk_cfg *cfg, const char *domain, const char *selector,
    const char *file)
{
	struct rk_buf b;

	if (file != NULL)
		return rk_strdup(file);
	rk_buf_init(&b);
	rk_buf_printf(&b, "%s/%s/%s.pem", cfg->dkim.keyDir, domain, selector);
	return rk_buf_steal(&b);
}

static void
add_signer(struct mlt_domain *d, enum mlt_alg alg, char *selector, char *path)
{
	struct mlt_signer *s;

	d->signers =
	    rk_reallocarray(d->signers, d->nsigners + 1, sizeof(*d->signers));
	s = &d->signers[d->nsigners++];
	s->alg = alg;
	s->selector = selector;
	s->path = path;
	s->key = NULL;
}

/* The signers a domain gets: its keys[], else per dkim.algorithm. */
static void
domain_signers(const struct rk_cfg *cfg, const struct rk_cfg_domain *cd,
    struct mlt_domain *d)
{
	int alg = cfg->dkim.algorithm;

	d->name = cd->name;
	d->subdomains = cd->subdomains;
	for (size_t i = 0; i < cd->nkeys; i++) {
		const struct rk_cfg_dkim_key *k = &cd->keys[i];

		add_signer(d,
		    k->algorithm == RK_DKIM_ED25519_SHA256 ? MLT_ED25519_SHA256
		                                           : MLT_RSA_SHA256,
		    k->selector,
		    key_path(cfg, cd->name, k->selector, k->keyFile));
	}
	if (cd->nkeys > 0)
		return;
	if (alg == RK_DKIM_RSA_SHA256 || alg == RK_DKIM_BOTH)
		add_signer(d, MLT_RSA_SHA256, cd->dkimSelector,
		    key_path(cfg, cd->name, cd->dkimSelector, NULL));
	if (alg == RK_DKIM_ED25519_SHA256 || alg == RK_DKIM_BOTH)
		add_signer(d, MLT_ED25519_SHA256, cd->ed25519Selector,
		    key_path(cfg, cd->name, cd->ed25519Selector, NULL));
}

struct mlt_keys *
mlt_keys_load(const struct rk_cfg *cfg, struct rk_err *err)
{
	struct mlt_keys *keys = rk_calloc(1, sizeof(*keys));
	size_t bad = 0;

	if (!cfg->dkim.enabled)
		return keys;
	keys->domains = rk_calloc(cfg->mail.ndomains ? cfg->mail.ndomains : 1,
	    sizeof(*keys->domains));
	keys->ndomains = cfg->mail.ndomains;
	for (size_t i = 0; i < keys->ndomains; i++) {
		struct mlt_domain *d = &keys->domains[i];

		domain_signers(cfg, &cfg->mail.domains[i], d);
		for (size_t j = 0; j < d->nsigners; j++) {
			struct rk_err e;

			d->signers[j].key = mlt_key_read(
			    d->signers[j].path, d->signers[j].alg, &e);
			if (d->signers[j].key != NULL)
				continue;
			rk_log_warnx("dkim key: domain=%s selector=%s: %s",
			    d->name, d->signers[j].selector, e.msg);
			bad++;
		}
	}
	if (bad == 0)
		return keys;
	rk_err_set(err, "%zu DKIM key%s could not be loaded", bad,
	    bad == 1 ? "" : "s");
	mlt_keys_free(keys);
	return NULL;
}

void
mlt_keys_free(struct mlt_keys *keys)
{
	if (keys == NULL)
		return;
	for (size_t i = 0; i < keys->ndomains; i++) {
		struct mlt_domain *d = &keys->domains[i];

		for (size_t j = 0; j < d->nsigners; j++) {
			EVP_PKEY_free(d->signers[j].key);
			free(d->signers[j].path);
		}
		free(d->signers);
	}
	free(keys->domains);
	free(keys);
}

const struct mlt_domain *
mlt_keys_find(const struct mlt_keys *keys, const char *from_domain)
{
	const struct mlt_domain *best = NULL;
	size_t bestlen = 0;

	for (size_t i = 0; i < keys->ndomains; i++) {
		const struct mlt_domain *d = &keys->domains[i];
		size_t len = strlen(d->name);

		if (rk_domain_match(from_domain, d->name, false))
			return d;
		/* the longest listed parent wins among subdomain matches */
		if (d->subdomains &&
		    rk_domain_match(from_domain, d->name, true) &&
		    len > bestlen) {
			best = d;
			bestlen = len;
		}
	}
	return best;
}
