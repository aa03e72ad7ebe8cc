/* SPDX-License-Identifier: MIT */
/*
 * kg_plan: the keys a relaykit.yaml implies, in the order of the file.
 *
 * The rule is the milter's: a domain with keys[] has exactly those; any
 * other domain has dkimSelector (rsa-sha256), ed25519Selector
 * (ed25519-sha256), or both, as dkim.algorithm says.  A key's file is its
 * keyFile or <dkim.keyDir>/<domain>/<selector>.pem.  Pure: no I/O.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "keygen.h"

char *
kg_default_path(const char *keydir, const char *domain, const char *selector)
{
	struct rk_buf b;
	size_t len = strlen(keydir);

	/* "/a/b/" and "/a/b" name the same folder. */
	while (len > 1 && keydir[len - 1] == '/')
		len--;
	rk_buf_init(&b);
	rk_buf_printf(&b, "%.*s/%s/%s.pem", (int)len, keydir, domain, selector);
	return rk_buf_steal(&b);
}

static int
add(struct kg_spec **out, size_t *n, const struct rk_cfg *cfg,
    const char *domain, const char *selector, int alg, int bits,
    const char *keyfile, struct rk_err *err)
{
	struct kg_spec *s;
	struct rk_err why;

	if (kg_selector_check(selector, &why) == -1)
		return rk_err_set(err, "%s: %s", domain, why.msg);
	*out = rk_reallocarray(*out, *n + 1, sizeof(**out));
	s = &(*out)[(*n)++];
	s->domain = rk_strdup(domain);
	s->selector = rk_strdup(selector);
	s->alg = alg;
	s->bits = bits;
	s->path = keyfile != NULL
	    ? rk_strdup(keyfile)
	    : kg_default_path(cfg->dkim.keyDir, domain, selector);
	return 0;
}

static int
plan_domain(const struct rk_cfg *cfg, const struct rk_cfg_domain *d,
    struct kg_spec **out, size_t *n, struct rk_err *err)
{
	int alg = cfg->dkim.algorithm, bits = (int)cfg->dkim.keySize;

	for (size_t i = 0; i < d->nkeys; i++) {
		const struct rk_cfg_dkim_key *k = &d->keys[i];

		if (add(out, n, cfg, d->name, k->selector, k->algorithm,
		        (int)k->keySize, k->keyFile, err) == -1)
			return -1;
	}
	if (d->nkeys > 0)
		return 0;
	if (alg == RK_DKIM_RSA_SHA256 || alg == RK_DKIM_BOTH)
		if (add(out, n, cfg, d->name, d->dkimSelector, KG_RSA, bits,
		        NULL, err) == -1)
			return -1;
	if (alg == RK_DKIM_ED25519_SHA256 || alg == RK_DKIM_BOTH)
		if (add(out, n, cfg, d->name, d->ed25519Selector, KG_ED25519, 0,
		        NULL, err) == -1)
			return -1;
	return 0;
}

int
kg_plan(const struct rk_cfg *cfg, struct kg_spec **out, size_t *n,
    struct rk_err *err)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < cfg->mail.ndomains; i++) {
		if (plan_domain(cfg, &cfg->mail.domains[i], out, n, err) ==
		    -1) {
			for (size_t j = 0; j < *n; j++)
				kg_spec_clear(&(*out)[j]);
			free(*out);
			*out = NULL;
			*n = 0;
			return -1;
		}
	}
	return 0;
}
