/* SPDX-License-Identifier: MIT */
/*
 * rk_sender: sender allow/deny lists, compiled once.
 */
#include "config.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "rk_addr.h"
#include "rk_mem.h"
#include "rk_sender.h"

struct pattern {
	int kind; /* enum rk_cfg_pattern_kind */
	char *text;
	regex_t re;
	bool subdomains; /* for the mail.domains fallback */
};

struct rk_sender_rules {
	struct pattern *allowed, *forbidden;
	size_t nallowed, nforbidden;
};

static void
patterns_free(struct pattern *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].kind == RK_PAT_REGEX)
			regfree(&p[i].re);
		free(p[i].text);
	}
	free(p);
}

void
rk_sender_rules_free(struct rk_sender_rules *r)
{
	if (r == NULL)
		return;
	patterns_free(r->allowed, r->nallowed);
	patterns_free(r->forbidden, r->nforbidden);
	free(r);
}

static int
compile(
    struct pattern *dst, const struct rk_cfg_pattern *src, struct rk_err *err)
{
	int rc;

	dst->kind = src->kind;
	dst->text = rk_strdup(src->text);
	if (src->kind != RK_PAT_REGEX)
		return 0;
	rc = regcomp(&dst->re, src->text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char msg[128];

		regerror(rc, &dst->re, msg, sizeof(msg));
		dst->kind = RK_PAT_DOMAIN; /* nothing to regfree */
		return rk_err_set(err, "/%s/: %s", src->text, msg);
	}
	return 0;
}

static struct pattern *
compile_all(const struct rk_cfg_pattern *src, size_t n, struct rk_err *err,
    bool *failed)
{
	struct pattern *p = rk_calloc(n ? n : 1, sizeof(*p));

	for (size_t i = 0; i < n; i++)
		if (compile(&p[i], &src[i], err) != 0)
			*failed = true;
	return p;
}

struct rk_sender_rules *
rk_sender_rules_new(const struct rk_cfg_pattern *allowed, size_t nallowed,
    const struct rk_cfg_pattern *forbidden, size_t nforbidden,
    const char *const *domains, const bool *subdomains, size_t ndomains,
    struct rk_err *err)
{
	struct rk_sender_rules *r = rk_calloc(1, sizeof(*r));
	bool failed = false;

	r->forbidden = compile_all(forbidden, nforbidden, err, &failed);
	r->nforbidden = nforbidden;
	if (nallowed > 0) {
		r->allowed = compile_all(allowed, nallowed, err, &failed);
		r->nallowed = nallowed;
	} else {
		r->allowed =
		    rk_calloc(ndomains ? ndomains : 1, sizeof(*r->allowed));
		for (size_t i = 0; i < ndomains; i++) {
			r->allowed[i].kind = RK_PAT_DOMAIN;
			r->allowed[i].text = rk_strdup(domains[i]);
			r->allowed[i].subdomains = subdomains[i];
		}
		r->nallowed = ndomains;
	}
	if (failed) {
		rk_sender_rules_free(r);
		return NULL;
	}
	return r;
}

struct rk_sender_rules *
rk_sender_rules_from_cfg(const struct rk_cfg *cfg, struct rk_err *err)
{
	const struct rk_cfg_sender_validation *sv = &cfg->senderValidation;
	size_t n = cfg->mail.ndomains;
	const char **names = rk_calloc(n ? n : 1, sizeof(*names));
	bool *subs = rk_calloc(n ? n : 1, sizeof(*subs));
	struct rk_sender_rules *r;

	for (size_t i = 0; i < n; i++) {
		names[i] = cfg->mail.domains[i].name;
		subs[i] = cfg->mail.domains[i].subdomains;
	}
	r = rk_sender_rules_new(sv->allowedFrom, sv->nallowedFrom,
	    sv->forbiddenFrom, sv->nforbiddenFrom, names, subs, n, err);
	free(names);
	free(subs);
	return r;
}

static bool
pattern_match(const struct pattern *p, const char *addr, const char *domain,
    size_t local_len)
{
	const char *at;

	switch (p->kind) {
	case RK_PAT_REGEX:
		return regexec(&p->re, addr, 0, NULL, 0) == 0;
	case RK_PAT_DOMAIN:
		return rk_domain_match(domain, p->text, p->subdomains);
	default:
		at = strrchr(p->text, '@');
		return at != NULL && (size_t)(at - p->text) == local_len &&
		    memcmp(p->text, addr, local_len) == 0 &&
		    rk_str_case_eq(at + 1, domain);
	}
}

enum rk_sender_verdict
rk_sender_check(
    const struct rk_sender_rules *r, const char *addr, const char **why)
{
	const char *at = strrchr(addr, '@');
	const char *domain = at ? at + 1 : "";
	size_t local_len = at ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; i < r->nforbidden; i++) {
		if (pattern_match(&r->forbidden[i], addr, domain, local_len)) {
			if (why != NULL)
				*why = r->forbidden[i].text;
			return RK_SENDER_FORBIDDEN;
		}
	}
	for (size_t i = 0; i < r->nallowed; i++) {
		if (pattern_match(&r->allowed[i], addr, domain, local_len)) {
			if (why != NULL)
				*why = r->allowed[i].text;
			return RK_SENDER_OK;
		}
	}
	if (why != NULL)
		*why = r->nallowed ? "no allowedFrom pattern matches"
		                   : "no domain is configured";
	return RK_SENDER_NOT_ALLOWED;
}

bool
rk_sender_from_matches(
    const char *envelope, const char *header, bool same_domain)
{
	const char *ea = strrchr(envelope, '@'), *ha = strrchr(header, '@');

	if (ea == NULL || ha == NULL)
		return false;
	if (!rk_str_case_eq(ea + 1, ha + 1))
		return false;
	return same_domain ||
	    (ea - envelope == ha - header &&
	        memcmp(envelope, header, (size_t)(ea - envelope)) == 0);
}
