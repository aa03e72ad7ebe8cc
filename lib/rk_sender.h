/* SPDX-License-Identifier: MIT */
/*
 * rk_sender: who may send through the relay (senderValidation).
 *
 * Patterns are addresses (exact local part, any-case domain), domains
 * (every address of exactly that domain) or /regex/ (POSIX extended,
 * case-insensitive, unanchored, matched against "local@domain" with the
 * domain lower-cased).  Forbidden wins over allowed.  With no allowed
 * patterns, the senders allowed are those of mail.domains (and their
 * subdomains where a domain says so).  The null sender is the caller's
 * business: bounces are never refused by these rules.
 *
 * Rules are compiled once (rk_sender_rules_new) and then only read:
 * rk_sender_check is thread-safe.
 */
#ifndef RK_SENDER_H
#define RK_SENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "rk_cfg.h"
#include "rk_str.h"

enum rk_sender_verdict {
	RK_SENDER_OK,
	RK_SENDER_FORBIDDEN,   /* matched a forbiddenFrom pattern */
	RK_SENDER_NOT_ALLOWED, /* matched no allowedFrom pattern / domain */
};

struct rk_sender_rules; /* opaque */

/*
 * Compiles the rules: allowed and forbidden patterns, and the domains
 * used when allowed is empty (subdomains[i] says whether domain i covers
 * its subdomains).  Everything is copied.  NULL with err on a bad regex.
 * Caller frees with rk_sender_rules_free.
 */
struct rk_sender_rules *rk_sender_rules_new(
    const struct rk_cfg_pattern *allowed, size_t nallowed,
    const struct rk_cfg_pattern *forbidden, size_t nforbidden,
    const char *const *domains, const bool *subdomains, size_t ndomains,
    struct rk_err *err);
/* The same, from a loaded config. */
struct rk_sender_rules *rk_sender_rules_from_cfg(
    const struct rk_cfg *cfg, struct rk_err *err);
void rk_sender_rules_free(struct rk_sender_rules *r);

/*
 * Judges a normalised address (local@domain, as rk_addr_format gives).
 * *why (if not NULL) gets the pattern that decided, or a short text;
 * borrowed from r.
 */
enum rk_sender_verdict rk_sender_check(
    const struct rk_sender_rules *r, const char *addr, const char **why);

/*
 * true if the From header's address matches the envelope sender: the
 * same address (domain case-insensitive) or, with same_domain, the same
 * domain.  Both normalised.
 */
bool rk_sender_from_matches(
    const char *envelope, const char *header, bool same_domain);

#endif
