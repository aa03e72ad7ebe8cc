/* SPDX-License-Identifier: MIT */
/*
 * rk_cfg_schema: every key of relaykit.yaml, one row each, and the checks
 * that span several keys.  Keys follow the Helm chart's values (camelCase)
 * and the seed charts' names where those exist.  Every key here must be in
 * man/relaykit.yaml.5 (t/unit/cfg_doc_test fails otherwise).
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "rk_addr.h"
#include "rk_cfg_impl.h"
#include "rk_mem.h"

/* A field named as in C; N* forms for members of anonymous sub-structs. */
#define FLD(S, m, t, ...)                                                      \
	{                                                                      \
		.name = #m, .type = (t), .off = offsetof(S, m), __VA_ARGS__    \
	}
#define FLDN(S, yname, m, t, ...)                                              \
	{                                                                      \
		.name = (yname), .type = (t), .off = offsetof(S, m),           \
		__VA_ARGS__                                                    \
	}
#define SUB(S, outer, m, t, ...)                                               \
	{                                                                      \
		.name = #m, .type = (t),                                       \
		.off = offsetof(S, outer.m) - offsetof(S, outer), __VA_ARGS__  \
	}
#define LST(S, m, e, ...)                                                      \
	{                                                                      \
		.name = #m, .type = CT_LIST, .off = offsetof(S, m),            \
		.count_off = offsetof(S, n##m), .elem = (e), __VA_ARGS__       \
	}
#define SUBLST(S, outer, yname, m, e, ...)                                     \
	{                                                                      \
		.name = (yname), .type = CT_LIST,                              \
		.off = offsetof(S, outer.m) - offsetof(S, outer),              \
		.count_off = offsetof(S, outer.n##m) - offsetof(S, outer),     \
		.elem = (e), __VA_ARGS__                                       \
	}
#define MAPF(S, m, ...)                                                        \
	{                                                                      \
		.name = #m, .type = CT_MAP, .off = offsetof(S, m),             \
		.count_off = offsetof(S, n##m), __VA_ARGS__                    \
	}
#define SUBMAP(S, outer, m, ...)                                               \
	{                                                                      \
		.name = #m, .type = CT_MAP,                                    \
		.off = offsetof(S, outer.m) - offsetof(S, outer),              \
		.count_off = offsetof(S, outer.n##m) - offsetof(S, outer),     \
		__VA_ARGS__                                                    \
	}
#define STRUCTF(S, m, sub_)                                                    \
	{                                                                      \
		.name = #m, .type = CT_STRUCT, .off = offsetof(S, m),          \
		.sub = &(sub_)                                                 \
	}
#define END                                                                    \
	{                                                                      \
		.name = NULL                                                   \
	}
#define PORT .min = 1, .max = 65535
#define MS   .unit = 1
#define SEC  .unit = 1000
/* Keys the seeds' charts give as bare numbers (minDelay: 1000, interval:
   60): taken in that unit; every other duration needs its unit. */
#define SEED_MS  .unit = 1, .flags = F_BARE
#define SEED_SEC .unit = 1000, .flags = F_BARE
#define DAY      86400000LL

static const char *const dkim_alg_names[] = { "rsa-sha256", "ed25519-sha256",
	"both", NULL };
static const char *const canon_names[] = { "relaxed/relaxed", "relaxed/simple",
	"simple/relaxed", "simple/simple", NULL };
static const char *const bad_from_names[] = { "reject", "accept", NULL };
static const char *const from_match_names[] = { "address", "domain", NULL };
static const char *const auth_method_names[] = { "PLAIN", "LOGIN", NULL };
static const char *const rl_key_names[] = { "saslUsername", "sender",
	"senderDomain", "clientAddress", "recipientDomain", NULL };
static const char *const rl_count_names[] = { "message", "recipient", NULL };
static const char *const rl_action_names[] = { "defer", "reject", NULL };
static const char *const fail_mode_names[] = { "open", "closed", NULL };
static const char *const event_names[] = { "delivered", "bounced", "deferred",
	"expired", "bounce_received", "complaint", "queued", NULL };
static const char *const wh_start_names[] = { "end", "beginning", NULL };
static const char *const provider_names[] = { "cloudflare", "rfc2136",
	"external-dns", NULL };
static const char *const spf_names[] = { "~all", "-all", "?all", NULL };
static const char *const dmarc_names[] = { "none", "quarantine", "reject",
	NULL };
static const char *const tsig_names[] = { "hmac-sha256", "hmac-sha512", NULL };
static const char *const tls_names[] = { "none", "may", "encrypt", NULL };
static const char *const level_names[] = { "debug", "info", "warn", "error",
	NULL };
static const char *const dest_names[] = { "stderr", "syslog", NULL };
static const char *const pd_action_names[] = { "defer", "dunno", "reject",
	NULL };

const char *
rk_cfg_event_name(int event)
{
	return event >= 0 && event < 7 ? event_names[event] : "unknown";
}

const char *
rk_cfg_dkim_alg_name(int alg)
{
	return alg >= 0 && alg < 3 ? dkim_alg_names[alg] : "unknown";
}

const struct rk_cfg_domain *
rk_cfg_domain_find(const struct rk_cfg *cfg, const char *domain)
{
	const struct rk_cfg_domain *best = NULL;
	size_t bestlen = 0;

	for (size_t i = 0; i < cfg->mail.ndomains; i++) {
		const struct rk_cfg_domain *d = &cfg->mail.domains[i];
		size_t len = strlen(d->name);

		if (rk_domain_match(domain, d->name, false))
			return d;
		if (d->subdomains && rk_domain_match(domain, d->name, true) &&
		    len > bestlen) {
			best = d;
			bestlen = len;
		}
	}
	return best;
}

/* ------------------------------------------------------------ checks */

/* The node to blame for key in map, or the map itself. */
static const struct rk_ynode *
at(const struct rk_ynode *map, const char *key)
{
	const struct rk_ynode *n = cfg_node(map, key);

	return n != NULL ? n : map;
}

/* The node for key in item i of a list node, or the list itself. */
static const struct rk_ynode *
item(const struct rk_ynode *list, size_t i, const char *key)
{
	if (list == NULL || list->kind != RK_Y_SEQ || i >= list->n)
		return list;
	return at(list->items[i], key);
}

static void
sub_path(char *out, size_t n, const char *path, const char *key)
{
	snprintf(out, n, "%s%s%s", path, *path ? "." : "", key);
}

static int
check_rsa_bits(struct cfg_ctx *ctx, const struct rk_ynode *node, int64_t bits,
    const char *path)
{
	char p[512];

	if (bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096)
		return 0;
	sub_path(p, sizeof(p), path, "keySize");
	cfg_error(ctx, at(node, "keySize"), p,
	    "want 1024, 2048, 3072 or 4096, got %lld", (long long)bits);
	return -1;
}

static int
check_dkim(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_dkim *d = obj;
	char p[512];

	if (d->lineLengthLimit > 0 && d->lineLengthLimit < 40) {
		sub_path(p, sizeof(p), path, "lineLengthLimit");
		cfg_error(ctx, at(node, "lineLengthLimit"), p,
		    "want 0 (Postfix does not break lines) or at least 40, "
		    "got %lld",
		    (long long)d->lineLengthLimit);
		return -1;
	}
	for (size_t i = 0; i < d->nheaders; i++)
		if (rk_str_case_eq(d->headers[i], "From"))
			return check_rsa_bits(ctx, node, d->keySize, path);
	sub_path(p, sizeof(p), path, "headers");
	cfg_error(ctx, at(node, "headers"), p,
	    "must include From (RFC 6376 5.4: From is always signed)");
	return -1;
}

static int
check_dkim_key(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_dkim_key *k = obj;
	char p[512];

	if (k->algorithm == RK_DKIM_BOTH) {
		sub_path(p, sizeof(p), path, "algorithm");
		cfg_error(ctx, at(node, "algorithm"), p,
		    "want rsa-sha256 or ed25519-sha256 for one key, got both");
		return -1;
	}
	return check_rsa_bits(ctx, node, k->keySize, path);
}

/* Two keys under one selector name would publish one DNS record for both. */
static int
check_domain(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_domain *d = obj;
	char p[512];

	if (strcmp(d->dkimSelector, d->ed25519Selector) == 0) {
		sub_path(p, sizeof(p), path, "ed25519Selector");
		cfg_error(ctx, at(node, "ed25519Selector"), p,
		    "must differ from dkimSelector (\"%s\")", d->dkimSelector);
		return -1;
	}
	for (size_t i = 0; i < d->nkeys; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(d->keys[i].selector, d->keys[j].selector))
				continue;
			snprintf(
			    p, sizeof(p), "%s.keys[%zu].selector", path, i);
			cfg_error(ctx, at(node, "keys"), p,
			    "selector \"%s\" is used twice",
			    d->keys[i].selector);
			return -1;
		}
	}
	return 0;
}

static int
check_relay(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_relay *r = obj;
	char p[512];

	if (r->enabled && r->host == NULL) {
		sub_path(p, sizeof(p), path, "host");
		cfg_error(ctx, node, p, "required when relay.enabled is true");
		return -1;
	}
	if (r->auth.username != NULL &&
	    strcspn(r->auth.username, ": \t\r\n\x7f") !=
	        strlen(r->auth.username)) {
		snprintf(p, sizeof(p), "%s.auth.username", path);
		cfg_error(ctx, at(at(node, "auth"), "username"), p,
		    "may not hold ':', white space or control characters "
		    "(sasl_passwd is user:password)");
		return -1;
	}
	if (r->enabled && r->auth.enabled &&
	    (r->auth.username == NULL || r->auth.password == NULL)) {
		sub_path(p, sizeof(p), path, "auth");
		cfg_error(ctx, at(node, "auth"), p,
		    "username and password (or passwordFile) are required "
		    "when auth.enabled is true");
		return -1;
	}
	return 0;
}

/*
 * A PROXY listener: Postfix believes the header from whoever connects, so
 * relaykit-policyd's gate listens on the public port and forwards only
 * mail.proxyTrustedNetworks to Postfix on 127.0.0.1:backendPort (default
 * port + 10000).  Without trusted proxies there is nobody to believe.
 */
static int
check_proxy_listeners(struct cfg_ctx *ctx, const struct rk_ynode *node,
    struct rk_cfg_mail *m, const char *path)
{
	const struct rk_ynode *ls = at(node, "listeners");
	int rc = 0;

	for (size_t i = 0; i < m->nlisteners; i++) {
		struct rk_cfg_listener *l = &m->listeners[i];
		char p[512];

		if (!l->proxyProtocol)
			continue;
		if (l->backendPort == 0)
			l->backendPort = l->port + 10000;
		snprintf(p, sizeof(p), "%s.listeners[%zu]", path, i);
		if (m->nproxyTrustedNetworks == 0) {
			cfg_error(ctx, item(ls, i, "proxyProtocol"), p,
			    "proxyProtocol needs mail.proxyTrustedNetworks: "
			    "the PROXY header would be believed from anyone");
			rc = -1;
		}
		if (l->backendPort > 65535 || l->backendPort == l->port) {
			snprintf(p, sizeof(p), "%s.listeners[%zu].backendPort",
			    path, i);
			cfg_error(ctx, item(ls, i, "port"), p,
			    "want a free loopback port other than %lld for "
			    "Postfix behind the PROXY gate, got %lld",
			    (long long)l->port, (long long)l->backendPort);
			rc = -1;
		}
	}
	return rc;
}

/*
 * A trusted network lets its clients relay anywhere without logging in:
 * anything wider than a /8 (or /32 for IPv6) is refused unless the
 * operator says allowWideNetworks, since that is how open relays happen.
 */
static int
check_mail(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	struct rk_cfg_mail *m = obj;
	const struct rk_ynode *nets = at(node, "trustedNetworks");
	int rc = 0;

	for (size_t i = 0; i < m->ntrustedNetworks && !m->allowWideNetworks;
	     i++) {
		const struct rk_cidr *c = &m->trustedNetworks[i];
		unsigned limit = c->ip.family == AF_INET ? 24 : 96;
		char p[512], buf[64];

		if (rk_cidr_host_bits(c) <= limit)
			continue;
		snprintf(p, sizeof(p), "%s.trustedNetworks[%zu]", path, i);
		cfg_error(ctx,
		    nets && nets->kind == RK_Y_SEQ && i < nets->n
		        ? nets->items[i]
		        : nets,
		    p,
		    "%s is wider than /%u: every host in it may relay; set "
		    "mail.allowWideNetworks: true to allow it",
		    rk_cidr_format(c, buf, sizeof(buf)),
		    c->ip.family == AF_INET ? 8 : 32);
		rc = -1;
	}
	rc |= check_proxy_listeners(ctx, node, m, path);
	for (size_t i = 0; i < m->nlisteners; i++) {
		for (size_t j = 0; j < i; j++) {
			char p[512];

			if (m->listeners[i].port != m->listeners[j].port ||
			    strcmp(m->listeners[i].address,
			        m->listeners[j].address) != 0)
				continue;
			snprintf(
			    p, sizeof(p), "%s.listeners[%zu].port", path, i);
			cfg_error(ctx, item(at(node, "listeners"), i, "port"),
			    p, "port %lld is already used by listeners[%zu]",
			    (long long)m->listeners[i].port, j);
			rc = -1;
		}
	}
	for (size_t i = 0; i < m->ndomains; i++) {
		for (size_t j = 0; j < i; j++) {
			char p[512];

			if (strcmp(m->domains[i].name, m->domains[j].name))
				continue;
			snprintf(p, sizeof(p), "%s.domains[%zu].name", path, i);
			cfg_error(ctx, item(at(node, "domains"), i, "name"), p,
			    "domain %s is listed twice", m->domains[i].name);
			rc = -1;
		}
	}
	return rc;
}

static int
check_auth(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	struct rk_cfg_auth *a = obj;
	char p[512];

	/* Behind another SASL server (Dovecot) logins are rarely the sender
	   address: constraining them is for relaykit's own users, unless
	   asked for. */
	if (cfg_node(node, "constrainSender") == NULL)
		a->constrainSender = a->enabled;
	if (a->enabled && a->nusers == 0 && a->usersFile == NULL) {
		sub_path(p, sizeof(p), path, "users");
		cfg_error(ctx, at(node, "enabled"), p,
		    "auth.enabled needs auth.users or auth.usersFile");
		return -1;
	}
	for (size_t i = 0; i < a->nusers; i++) {
		const char *l = a->users[i].name;

		if (strcspn(l, ": \t\r\n") == strlen(l))
			continue;
		snprintf(p, sizeof(p), "%s.users.%s", path, l);
		cfg_error(ctx, at(node, "users"), p,
		    "a login may not hold ':' or white space");
		return -1;
	}
	if (a->enabled && a->nmethods == 0) {
		sub_path(p, sizeof(p), path, "methods");
		cfg_error(
		    ctx, at(node, "methods"), p, "want PLAIN, LOGIN or both");
		return -1;
	}
	return 0;
}

/* Match values must fit the rule's key: CIDRs for clientAddress, etc. */
static int
check_rl_rule(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_rl_rule *r = obj;
	const struct rk_ynode *m = at(node, "match");
	int rc = 0;

	for (size_t i = 0; i < r->nmatch; i++) {
		struct rk_err err = { "" };
		struct rk_cidr c;
		struct rk_addr a;
		const char *v = r->match[i], *want = NULL;
		char p[512];

		if (r->key == RK_RL_CLIENT_ADDRESS &&
		    rk_cidr_parse(v, &c, &err) != 0)
			want = "an IP address or network";
		else if ((r->key == RK_RL_SENDER_DOMAIN ||
		             r->key == RK_RL_RECIPIENT_DOMAIN) &&
		    rk_domain_check(v, strlen(v), RK_ADDR_UTF8, &err) != 0)
			want = "a domain name";
		else if (r->key == RK_RL_SENDER &&
		    rk_addr_parse(v, strlen(v), RK_ADDR_UTF8 | RK_ADDR_NULL, &a,
		        &err) != 0)
			want = "a mail address";
		if (want == NULL)
			continue;
		snprintf(p, sizeof(p), "%s.match[%zu]", path, i);
		cfg_error(ctx,
		    m && m->kind == RK_Y_SEQ && i < m->n ? m->items[i] : m, p,
		    "want %s for key %s, got \"%s\"%s%s", want,
		    rl_key_names[r->key], v, err.msg[0] ? ": " : "", err.msg);
		rc = -1;
	}
	return rc;
}

static int
check_rate_limit(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_rate_limit *rl = obj;
	const struct rk_ynode *rules = at(node, "rules");
	int rc = 0;

	for (size_t i = 0; i < rl->nrules; i++) {
		for (size_t j = 0; j < i; j++) {
			char p[512];

			if (strcmp(rl->rules[i].name, rl->rules[j].name))
				continue;
			snprintf(p, sizeof(p), "%s.rules[%zu].name", path, i);
			cfg_error(ctx,
			    rules->kind == RK_Y_SEQ
			        ? at(rules->items[i], "name")
			        : rules,
			    p, "rule name \"%s\" is used twice",
			    rl->rules[i].name);
			rc = -1;
		}
	}
	return rc;
}

static int
check_rl_domain(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	struct rk_cfg_rl_domain *d = obj;

	(void)ctx;
	(void)path;
	d->hasRate = !cfg_node(node, "rate")
	    ? false
	    : cfg_node(node, "rate")->kind == RK_Y_SCALAR;
	return 0;
}

static int
check_adaptive_bounds(struct cfg_ctx *ctx, const struct rk_ynode *node,
    const struct rk_cfg_adaptive *a, const char *path)
{
	char p[512];

	if (a->minDelay > a->maxDelay) {
		sub_path(p, sizeof(p), path, "minDelay");
		cfg_error(ctx, at(node, "minDelay"), p,
		    "must not exceed maxDelay (%llu ms > %llu ms)",
		    (unsigned long long)a->minDelay,
		    (unsigned long long)a->maxDelay);
		return -1;
	}
	if (a->initialDelay < a->minDelay || a->initialDelay > a->maxDelay) {
		sub_path(p, sizeof(p), path, "initialDelay");
		cfg_error(ctx, at(node, "initialDelay"), p,
		    "want a delay within minDelay..maxDelay (%llu..%llu ms), "
		    "got %llu ms",
		    (unsigned long long)a->minDelay,
		    (unsigned long long)a->maxDelay,
		    (unsigned long long)a->initialDelay);
		return -1;
	}
	return 0;
}

static cfg_check_fn check_adaptive_rate;

/* Each domain is paced by one entry: a name or a member, once. */
static int
check_adaptive_members(struct cfg_ctx *ctx, const struct rk_ynode *doms,
    const struct rk_cfg_adaptive_rate *ar, const char *path)
{
	for (size_t i = 0; i < ar->ndomains; i++) {
		const struct rk_cfg_adaptive *d = &ar->domains[i];

		for (size_t m = 0; m < d->nmembers; m++) {
			const char *dup = NULL;
			char p[512];

			for (size_t j = 0; j < ar->ndomains && !dup; j++) {
				if (strcmp(ar->domains[j].name,
				        d->members[m]) == 0)
					dup = ar->domains[j].name;
				for (size_t k = 0;
				     k < ar->domains[j].nmembers && !dup; k++)
					if ((j != i || k != m) &&
					    strcmp(ar->domains[j].members[k],
					        d->members[m]) == 0)
						dup = ar->domains[j].name;
			}
			if (dup == NULL)
				continue;
			snprintf(p, sizeof(p), "%s.domains.%s.members[%zu]",
			    path, d->name, m);
			cfg_error(ctx,
			    doms && doms->kind == RK_Y_MAP ? doms->items[i]
			                                   : doms,
			    p, "%s is paced by %s already", d->members[m], dup);
			return -1;
		}
	}
	return 0;
}

/* Warm-up needs its first day; a growth factor of 1 would never end. */
static int
check_warmup(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_warmup *w = obj;
	char p[512];

	if (w->enabled && w->startDate == NULL) {
		sub_path(p, sizeof(p), path, "startDate");
		cfg_error(ctx, node, p,
		    "required when warm-up is enabled: the new IP's first "
		    "day, like 2026-12-01");
		return -1;
	}
	if (w->growthFactor != 0 && w->growthFactor <= 1) {
		sub_path(p, sizeof(p), path, "growthFactor");
		cfg_error(ctx, at(node, "growthFactor"), p,
		    "want 0 (no cap after the schedule) or more than 1, got "
		    "%g",
		    w->growthFactor);
		return -1;
	}
	for (size_t i = 1; i < w->nschedule; i++) {
		if (w->schedule[i] >= w->schedule[i - 1])
			continue;
		snprintf(p, sizeof(p), "%s.schedule[%zu]", path, i);
		cfg_error(ctx, at(node, "schedule"), p,
		    "a day's cap must not be below the day before's");
		return -1;
	}
	return 0;
}

/* RFC 5321 atext, the characters a VERP prefix may use unquoted. */
static bool
is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int
check_bounce(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_inbound *in =
	    (const struct rk_cfg_inbound *)((const char *)obj -
	        offsetof(struct rk_cfg_inbound, bounce));
	char p[512];
	size_t plen = strlen(in->bounce.verpPrefix);

	for (size_t i = 0; i < plen; i++) {
		if (is_atext(in->bounce.verpPrefix[i]) && plen <= 24 &&
		    in->bounce.verpPrefix[0] != '.')
			continue;
		sub_path(p, sizeof(p), path, "verpPrefix");
		cfg_error(ctx, at(node, "verpPrefix"), p,
		    "want 1..24 characters valid in an unquoted local part, "
		    "got \"%s\"",
		    in->bounce.verpPrefix);
		return -1;
	}
	if (!in->bounce.enabled)
		return 0;
	if (in->bounce.hmacSecret == NULL ||
	    strlen(in->bounce.hmacSecret) < 16) {
		sub_path(p, sizeof(p), path, "hmacSecret");
		cfg_error(ctx, at(node, "hmacSecret"), p,
		    "bounce.enabled needs a secret of at least 16 characters "
		    "(hmacSecret or hmacSecretFile) shared by every host");
		return -1;
	}
	if (!in->bounce.useSenderDomain && in->bounce.domain == NULL) {
		sub_path(p, sizeof(p), path, "domain");
		cfg_error(
		    ctx, node, p, "required when useSenderDomain is false");
		return -1;
	}
	return 0;
}

/* Loopback hosts, where plain http reads nothing anyone else can see. */
static bool
is_loopback_url(const char *url)
{
	static const char *const hosts[] = { "http://127.", "http://[::1]",
		"http://localhost:", "http://localhost/", NULL };

	if (strcmp(url, "http://localhost") == 0)
		return true;
	for (size_t i = 0; hosts[i]; i++)
		if (strncmp(url, hosts[i], strlen(hosts[i])) == 0)
			return true;
	return false;
}

/*
 * Events and signatures cross the network: https, except to this host.
 * A Standard Webhooks secret is "whsec_" and base64 (the receiver's
 * libraries decode it so); a bare one is accepted as the key's bytes.
 */
static int
check_endpoint(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_endpoint *e = obj;
	char p[512];

	if (e->name[strspn(e->name,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789._-")] != '\0') {
		sub_path(p, sizeof(p), path, "name");
		cfg_error(ctx, at(node, "name"), p,
		    "want letters, digits, '.', '_' and '-' (it names Redis "
		    "keys and metrics), got \"%s\"",
		    e->name);
		return -1;
	}
	if (strncmp(e->url, "http://", 7) == 0 && !is_loopback_url(e->url)) {
		sub_path(p, sizeof(p), path, "url");
		cfg_error(ctx, at(node, "url"), p,
		    "want https:// for a host other than this one (plain "
		    "http is allowed on loopback only), got \"%s\"",
		    e->url);
		return -1;
	}
	return 0;
}

static int
check_webhooks(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_webhooks *w = obj;
	int rc = 0;

	for (size_t i = 0; i < w->nendpoints; i++) {
		uint64_t t = w->endpoints[i].timeout ? w->endpoints[i].timeout
		                                     : w->timeout;

		if (w->claimAfter <= t) {
			char p[512];

			sub_path(p, sizeof(p), path, "claimAfter");
			cfg_error(ctx, at(node, "claimAfter"), p,
			    "must be longer than endpoint %s's request "
			    "timeout (%llu ms), or another dispatcher takes "
			    "over requests still in flight",
			    w->endpoints[i].name, (unsigned long long)t);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			char p[512];

			if (strcmp(w->endpoints[i].name, w->endpoints[j].name))
				continue;
			snprintf(
			    p, sizeof(p), "%s.endpoints[%zu].name", path, i);
			cfg_error(ctx, at(node, "endpoints"), p,
			    "endpoint name \"%s\" is used twice",
			    w->endpoints[i].name);
			rc = -1;
		}
	}
	return rc;
}

static int
check_dns(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_dns *d = obj;
	char p[512];

	if (!d->enabled)
		return 0;
	if (d->provider == RK_DNS_CLOUDFLARE &&
	    d->cloudflare.apiToken == NULL) {
		sub_path(p, sizeof(p), path, "cloudflare.apiToken");
		cfg_error(ctx, at(node, "provider"), p,
		    "required when dns.provider is cloudflare (or "
		    "apiTokenFile)");
		return -1;
	}
	if (d->provider == RK_DNS_RFC2136 && d->rfc2136.server == NULL) {
		sub_path(p, sizeof(p), path, "rfc2136.server");
		cfg_error(ctx, at(node, "provider"), p,
		    "required when dns.provider is rfc2136");
		return -1;
	}
	if (d->provider == RK_DNS_RFC2136 &&
	    (d->rfc2136.tsigKeyName == NULL) !=
	        (d->rfc2136.tsigSecret == NULL)) {
		sub_path(p, sizeof(p), path, "rfc2136.tsigSecret");
		cfg_error(ctx, at(node, "rfc2136"), p,
		    "tsigKeyName and tsigSecret go together");
		return -1;
	}
	return 0;
}

static int
check_metrics(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_metrics *m = obj;
	const int64_t ports[] = { m->milterPort, m->policydPort, m->eventdPort,
		m->webhookdPort };
	char p[512];

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < i; j++)
			if (ports[i] == ports[j])
				goto same;
	return 0;
same:
	sub_path(p, sizeof(p), path, "policydPort");
	cfg_error(ctx, node, p,
	    "milterPort, policydPort, eventdPort and webhookdPort must differ");
	return -1;
}

/* ------------------------------------------------------------ mail */

static const struct cfg_field dkim_key_fields[] = {
	FLD(struct rk_cfg_dkim_key, selector, CT_STR,
	    .flags = F_REQUIRED | F_NONEMPTY),
	FLD(struct rk_cfg_dkim_key, algorithm, CT_ENUM, .def = "rsa-sha256",
	    .names = dkim_alg_names),
	FLD(struct rk_cfg_dkim_key, keyFile, CT_STR,
	    .flags = F_PATH | F_NONEMPTY),
	FLD(struct rk_cfg_dkim_key, keySize, CT_INT, .def = "2048", .min = 1024,
	    .max = 4096),
	END
};
static const struct cfg_struct dkim_key_st = { sizeof(struct rk_cfg_dkim_key),
	dkim_key_fields, NULL, CFG_NO_KEY, check_dkim_key };

static const struct cfg_field domain_fields[] = {
	FLD(struct rk_cfg_domain, name, CT_DOMAIN, .flags = F_REQUIRED),
	FLD(struct rk_cfg_domain, dkimSelector, CT_STR, .def = "mail",
	    .flags = F_NONEMPTY),
	FLD(struct rk_cfg_domain, ed25519Selector, CT_STR,
	    .def = "mail-ed25519", .flags = F_NONEMPTY),
	FLD(struct rk_cfg_domain, subdomains, CT_BOOL, .def = "false"),
	LST(struct rk_cfg_domain, keys, CT_STRUCT, .sub = &dkim_key_st), END
};
static const struct cfg_struct domain_st = { sizeof(struct rk_cfg_domain),
	domain_fields, "name", CFG_NO_KEY, check_domain };

static const struct cfg_field listener_fields[] = { FLD(struct rk_cfg_listener,
	                                                name, CT_STR),
	FLD(struct rk_cfg_listener, address, CT_HOST, .def = "",
	    .flags = F_EMPTY_OK),
	FLD(struct rk_cfg_listener, port, CT_INT, PORT, .flags = F_REQUIRED),
	FLD(struct rk_cfg_listener, proxyProtocol, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_listener, backendPort, CT_INT, .def = "0", .min = 0,
	    .max = 65535),
	FLD(struct rk_cfg_listener, submission, CT_BOOL, .def = "false"), END };
static const struct cfg_struct listener_st = { sizeof(struct rk_cfg_listener),
	listener_fields, NULL, CFG_NO_KEY, NULL };

static const struct cfg_field relay_auth_fields[] = {
	SUB(struct rk_cfg_relay, auth, enabled, CT_BOOL, .def = "false"),
	SUB(struct rk_cfg_relay, auth, username, CT_STR, .flags = F_NONEMPTY),
	SUB(struct rk_cfg_relay, auth, password, CT_STR, .flags = F_SECRET), END
};
static const struct cfg_struct relay_auth_st = { 0, relay_auth_fields, NULL,
	CFG_NO_KEY, NULL };

static const struct cfg_field relay_fields[] = {
	FLD(struct rk_cfg_relay, enabled, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_relay, host, CT_HOST),
	FLD(struct rk_cfg_relay, port, CT_INT, .def = "587", PORT),
	FLD(struct rk_cfg_relay, tls, CT_BOOL, .def = "true"),
	STRUCTF(struct rk_cfg_relay, auth, relay_auth_st), END
};
static const struct cfg_struct relay_st = { sizeof(struct rk_cfg_relay),
	relay_fields, NULL, CFG_NO_KEY, check_relay };

static const struct cfg_field tls_fields[] = { FLD(struct rk_cfg_tls, level,
	                                           CT_ENUM, .def = "may",
	                                           .names = tls_names),
	FLD(struct rk_cfg_tls, certFile, CT_STR, .flags = F_PATH | F_NONEMPTY),
	FLD(struct rk_cfg_tls, keyFile, CT_STR, .flags = F_PATH | F_NONEMPTY),
	END };
static const struct cfg_struct tls_st = { sizeof(struct rk_cfg_tls), tls_fields,
	NULL, CFG_NO_KEY, NULL };

static const struct cfg_field mail_fields[] = { FLD(struct rk_cfg_mail,
	                                            hostname, CT_DOMAIN),
	FLD(struct rk_cfg_mail, banner, CT_STR, .def = "$myhostname ESMTP",
	    .flags = F_NONEMPTY),
	LST(struct rk_cfg_mail, domains, CT_STRUCT, .sub = &domain_st),
	LST(struct rk_cfg_mail, trustedNetworks, CT_CIDR,
	    .def = "127.0.0.0/8,::1", .flags = F_CSV),
	FLD(struct rk_cfg_mail, allowWideNetworks, CT_BOOL, .def = "false"),
	STRUCTF(struct rk_cfg_mail, relay, relay_st),
	FLD(struct rk_cfg_mail, maxMessageSize, CT_SIZE, .def = "25M", .min = 0,
	    .max = 1LL << 40),
	STRUCTF(struct rk_cfg_mail, tls, tls_st),
	LST(struct rk_cfg_mail, listeners, CT_STRUCT, .sub = &listener_st),
	LST(struct rk_cfg_mail, proxyTrustedNetworks, CT_CIDR, .flags = F_CSV),
	END };
static const struct cfg_struct mail_st = { sizeof(struct rk_cfg_mail),
	mail_fields, NULL, CFG_NO_KEY, check_mail };

/* ------------------------------------------------------------ dkim */

static const struct cfg_field dkim_fields[] = { FLD(struct rk_cfg_dkim, enabled,
	                                            CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_dkim, algorithm, CT_ENUM, .def = "rsa-sha256",
	    .names = dkim_alg_names),
	FLD(struct rk_cfg_dkim, keySize, CT_INT, .def = "2048", .min = 1024,
	    .max = 4096),
	FLD(struct rk_cfg_dkim, keyDir, CT_STR, .def = "/var/lib/relaykit/dkim",
	    .flags = F_PATH | F_NONEMPTY),
	FLD(struct rk_cfg_dkim, canonicalization, CT_ENUM,
	    .def = "relaxed/relaxed", .names = canon_names),
	LST(struct rk_cfg_dkim, headers, CT_HEADER,
	    .def = "From,To,Cc,Subject,Date,Message-ID,Reply-To,In-Reply-To,"
	           "References,MIME-Version,Content-Type,"
	           "Content-Transfer-Encoding,List-Unsubscribe,"
	           "List-Unsubscribe-Post",
	    .flags = F_CSV),
	LST(struct rk_cfg_dkim, oversignHeaders, CT_HEADER, .def = "From",
	    .flags = F_CSV),
	FLD(struct rk_cfg_dkim, expiration, CT_DURATION, .def = "0", SEC,
	    .min = 0, .max = 366 * DAY),
	FLD(struct rk_cfg_dkim, badFromAction, CT_ENUM, .def = "reject",
	    .names = bad_from_names),
	FLD(struct rk_cfg_dkim, lineLengthLimit, CT_INT, .def = "998", .min = 0,
	    .max = 1000000),
	END };
static const struct cfg_struct dkim_st = { sizeof(struct rk_cfg_dkim),
	dkim_fields, NULL, CFG_NO_KEY, check_dkim };

/* ------------------------------------------------ senderValidation */

static const struct cfg_field sv_fields[] = {
	FLD(struct rk_cfg_sender_validation, enabled, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_sender_validation, checkFromHeader, CT_BOOL,
	    .def = "false"),
	FLD(struct rk_cfg_sender_validation, fromHeaderMatch, CT_ENUM,
	    .def = "address", .names = from_match_names),
	LST(struct rk_cfg_sender_validation, allowedFrom, CT_PATTERN),
	LST(struct rk_cfg_sender_validation, forbiddenFrom, CT_PATTERN), END
};
static const struct cfg_struct sv_st = { sizeof(
	                                     struct rk_cfg_sender_validation),
	sv_fields, NULL, CFG_NO_KEY, NULL };

/* ------------------------------------------------------------ auth */

static const struct cfg_field user_fields[] = {
	FLD(struct rk_cfg_user, password, CT_STR,
	    .flags = F_SECRET | F_REQUIRED | F_NONEMPTY),
	LST(struct rk_cfg_user, allowedFrom, CT_SENDER), END
};
static const struct cfg_struct user_st = { sizeof(struct rk_cfg_user),
	user_fields, "password", offsetof(struct rk_cfg_user, name), NULL };

static const struct cfg_field lockout_fields[] = {
	SUB(struct rk_cfg_auth, lockout, maxFailures, CT_INT, .def = "5",
	    .min = 1, .max = 1000),
	SUB(struct rk_cfg_auth, lockout, window, CT_DURATION, .def = "15m", SEC,
	    .min = 1000, .max = DAY),
	SUB(struct rk_cfg_auth, lockout, duration, CT_DURATION, .def = "15m",
	    SEC, .min = 1000, .max = DAY),
	END
};
static const struct cfg_struct lockout_st = { 0, lockout_fields, NULL,
	CFG_NO_KEY, NULL };

static const struct cfg_field auth_fields[] = { FLD(struct rk_cfg_auth, enabled,
	                                            CT_BOOL, .def = "false"),
	LST(struct rk_cfg_auth, methods, CT_ENUM, .def = "PLAIN,LOGIN",
	    .names = auth_method_names, .flags = F_CSV),
	FLD(struct rk_cfg_auth, requireTls, CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_auth, constrainSender, CT_BOOL, .def = "false"),
	MAPF(struct rk_cfg_auth, users, .sub = &user_st, .keytype = CT_STR),
	FLD(struct rk_cfg_auth, usersFile, CT_STR,
	    .flags = F_PATH | F_NONEMPTY),
	STRUCTF(struct rk_cfg_auth, lockout, lockout_st), END };
static const struct cfg_struct auth_st = { sizeof(struct rk_cfg_auth),
	auth_fields, NULL, CFG_NO_KEY, check_auth };

/* ------------------------------------------------------- rateLimit */

static const struct cfg_field rl_rule_fields[] = {
	FLD(struct rk_cfg_rl_rule, name, CT_STR,
	    .flags = F_REQUIRED | F_NONEMPTY),
	FLD(struct rk_cfg_rl_rule, key, CT_ENUM, .names = rl_key_names,
	    .flags = F_REQUIRED),
	FLD(struct rk_cfg_rl_rule, rate, CT_RATE, .flags = F_REQUIRED),
	LST(struct rk_cfg_rl_rule, match, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_rl_rule, count, CT_ENUM, .def = "message",
	    .names = rl_count_names),
	FLD(struct rk_cfg_rl_rule, action, CT_ENUM, .def = "defer",
	    .names = rl_action_names),
	END
};
static const struct cfg_struct rl_rule_st = { sizeof(struct rk_cfg_rl_rule),
	rl_rule_fields, NULL, CFG_NO_KEY, check_rl_rule };

static const struct cfg_field rl_global_fields[] = {
	SUB(struct rk_cfg_rate_limit, global, maxConnections, CT_INT,
	    .def = "100", .min = 1, .max = 10000),
	SUB(struct rk_cfg_rate_limit, global, maxPerConnection, CT_INT,
	    .def = "50", .min = 1, .max = 1000000),
	SUB(struct rk_cfg_rate_limit, global, delayBetweenMessages, CT_DURATION,
	    .def = "0", MS, .min = 0, .max = DAY),
	END
};
static const struct cfg_struct rl_global_st = { 0, rl_global_fields, NULL,
	CFG_NO_KEY, NULL };

static const struct cfg_field rl_domain_fields[] = {
	FLD(struct rk_cfg_rl_domain, enabled, CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_rl_domain, maxConnections, CT_INT, .def = "0",
	    .min = 0, .max = 10000),
	FLD(struct rk_cfg_rl_domain, maxPerConnection, CT_INT, .def = "0",
	    .min = 0, .max = 1000000),
	FLD(struct rk_cfg_rl_domain, rate, CT_RATE),
	FLDN(struct rk_cfg_rl_domain, "delayMs", delay, CT_DURATION, .def = "0",
	    SEED_MS, .min = 0, .max = DAY),
	END
};
static const struct cfg_struct rl_domain_st = { sizeof(struct rk_cfg_rl_domain),
	rl_domain_fields, NULL, offsetof(struct rk_cfg_rl_domain, name),
	check_rl_domain };

static const struct cfg_field rate_limit_fields[] = {
	FLD(struct rk_cfg_rate_limit, enabled, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_rate_limit, failMode, CT_ENUM, .def = "open",
	    .names = fail_mode_names),
	LST(struct rk_cfg_rate_limit, rules, CT_STRUCT, .sub = &rl_rule_st),
	STRUCTF(struct rk_cfg_rate_limit, global, rl_global_st),
	MAPF(struct rk_cfg_rate_limit, domains, .sub = &rl_domain_st,
	    .keytype = CT_DOMAIN),
	MAPF(struct rk_cfg_rate_limit, customDomains, .sub = &rl_domain_st,
	    .keytype = CT_DOMAIN),
	END
};
static const struct cfg_struct rate_limit_st = { sizeof(
	                                             struct rk_cfg_rate_limit),
	rate_limit_fields, NULL, CFG_NO_KEY, check_rate_limit };

/* ---------------------------------------------------- adaptiveRate */

static const struct cfg_field adaptive_fields[] = {
	FLD(struct rk_cfg_adaptive, enabled, CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_adaptive, minDelay, CT_DURATION, .def = "1000",
	    SEED_MS, .min = 0, .max = DAY),
	FLD(struct rk_cfg_adaptive, maxDelay, CT_DURATION, .def = "60000",
	    SEED_MS, .min = 0, .max = DAY),
	FLD(struct rk_cfg_adaptive, initialDelay, CT_DURATION, .def = "5000",
	    SEED_MS, .min = 0, .max = DAY),
	FLD(struct rk_cfg_adaptive, backoffMultiplier, CT_DOUBLE, .def = "1.5",
	    .dmin = 1.0, .dmax = 100.0),
	FLD(struct rk_cfg_adaptive, severeBackoffMultiplier, CT_DOUBLE,
	    .def = "3.0", .dmin = 1.0, .dmax = 100.0),
	FLD(struct rk_cfg_adaptive, recoveryRate, CT_DOUBLE, .def = "0.9",
	    .dmin = 0.01, .dmax = 1.0),
	FLD(struct rk_cfg_adaptive, successThreshold, CT_INT, .def = "5",
	    .min = 1, .max = 1000000),
	LST(struct rk_cfg_adaptive, members, CT_DOMAIN, .flags = F_CSV), END
};
static const struct cfg_struct adaptive_defaults_st = {
	sizeof(struct rk_cfg_adaptive), adaptive_fields, NULL, CFG_NO_KEY, NULL
};
static const struct cfg_struct adaptive_domain_st = {
	sizeof(struct rk_cfg_adaptive), adaptive_fields, NULL,
	offsetof(struct rk_cfg_adaptive, name), NULL
};

static const struct cfg_field warmup_fields[] = {
	FLD(struct rk_cfg_warmup, enabled, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_warmup, startDate, CT_DATE),
	LST(struct rk_cfg_warmup, schedule, CT_INT,
	    .def = "50,100,200,500,1000,2000,5000,10000,20000", .min = 1,
	    .max = 100000000, .flags = F_CSV),
	FLD(struct rk_cfg_warmup, growthFactor, CT_DOUBLE, .def = "0",
	    .dmin = 0, .dmax = 100),
	END
};
static cfg_check_fn check_warmup;
static const struct cfg_struct warmup_st = { sizeof(struct rk_cfg_warmup),
	warmup_fields, NULL, CFG_NO_KEY, check_warmup };

/* Deferrals that mean "slower": SMTP 421, DSN 4.7.x, the big providers'
   words; no commas (a default list is comma-separated). */
#define RATE_LIMIT_REPLIES                                                     \
	"(^|[^0-9])421[ -],^4\\.7\\.[0-9],rate.?limit,too many,throttl,"       \
	"try again later,temporar(il)?y (deferred|rate|blocked),"              \
	"unusual (rate|volume),TSS?0[0-9],RP-00[0-9]"

static const struct cfg_field adaptive_rate_fields[] = {
	FLD(struct rk_cfg_adaptive_rate, enabled, CT_BOOL, .def = "false"),
	STRUCTF(struct rk_cfg_adaptive_rate, defaults, adaptive_defaults_st),
	MAPF(struct rk_cfg_adaptive_rate, domains, .sub = &adaptive_domain_st,
	    .keytype = CT_DOMAIN),
	LST(struct rk_cfg_adaptive_rate, tiers, CT_DURATION,
	    .def = "1s,2s,5s,10s,15s,20s,30s,45s,60s,90s,120s", MS, .min = 1000,
	    .max = DAY, .flags = F_CSV),
	LST(struct rk_cfg_adaptive_rate, rateLimitReplies, CT_REGEX,
	    .def = RATE_LIMIT_REPLIES),
	LST(struct rk_cfg_adaptive_rate, severeReplies, CT_REGEX,
	    .def = "4\\.7\\.28,TSS04"),
	LST(struct rk_cfg_adaptive_rate, ignoreReplies, CT_REGEX,
	    .def = "greylist"),
	STRUCTF(struct rk_cfg_adaptive_rate, warmup, warmup_st), END
};
static const struct cfg_struct adaptive_rate_st = {
	sizeof(struct rk_cfg_adaptive_rate), adaptive_rate_fields, NULL,
	CFG_NO_KEY, check_adaptive_rate
};

/* --------------------------------------------------------- inbound */

static const struct cfg_field bounce_fields[] = {
	SUB(struct rk_cfg_inbound, bounce, enabled, CT_BOOL, .def = "false"),
	SUB(struct rk_cfg_inbound, bounce, verpPrefix, CT_STR, .def = "bounce+",
	    .flags = F_NONEMPTY),
	SUB(struct rk_cfg_inbound, bounce, useSenderDomain, CT_BOOL,
	    .def = "true"),
	SUB(struct rk_cfg_inbound, bounce, domain, CT_DOMAIN),
	SUB(struct rk_cfg_inbound, bounce, hmacSecret, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	SUB(struct rk_cfg_inbound, bounce, requireHmac, CT_BOOL, .def = "true"),
	SUB(struct rk_cfg_inbound, bounce, maxAgeDays, CT_INT, .def = "7",
	    .min = 1, .max = 365),
	END
};
static const struct cfg_struct bounce_st = { 0, bounce_fields, NULL, CFG_NO_KEY,
	check_bounce };

static const struct cfg_field spf_fields[] = { SUB(struct rk_cfg_inbound,
	                                           security.spf, enabled,
	                                           CT_BOOL, .def = "true"),
	SUB(struct rk_cfg_inbound, security.spf, rejectFail, CT_BOOL,
	    .def = "true"),
	END };
static const struct cfg_field sec_dkim_fields[] = { SUB(struct rk_cfg_inbound,
	                                                security.dkim, enabled,
	                                                CT_BOOL, .def = "true"),
	END };
static const struct cfg_field dmarc_fields[] = { SUB(struct rk_cfg_inbound,
	                                             security.dmarc, enabled,
	                                             CT_BOOL, .def = "true"),
	SUB(struct rk_cfg_inbound, security.dmarc, rejectOnFail, CT_BOOL,
	    .def = "true"),
	END };
static const struct cfg_struct spf_st = { 0, spf_fields, NULL, CFG_NO_KEY,
	NULL };
static const struct cfg_struct sec_dkim_st = { 0, sec_dkim_fields, NULL,
	CFG_NO_KEY, NULL };
static const struct cfg_struct dmarc_st = { 0, dmarc_fields, NULL, CFG_NO_KEY,
	NULL };
static const struct cfg_field security_fields[] = {
	{ .name = "spf",
	    .type = CT_STRUCT,
	    .sub = &spf_st,
	    .off = offsetof(struct rk_cfg_inbound, security.spf) -
	        offsetof(struct rk_cfg_inbound, security) },
	{ .name = "dkim",
	    .type = CT_STRUCT,
	    .sub = &sec_dkim_st,
	    .off = offsetof(struct rk_cfg_inbound, security.dkim) -
	        offsetof(struct rk_cfg_inbound, security) },
	{ .name = "dmarc",
	    .type = CT_STRUCT,
	    .sub = &dmarc_st,
	    .off = offsetof(struct rk_cfg_inbound, security.dmarc) -
	        offsetof(struct rk_cfg_inbound, security) },
	{ .name = "resolver",
	    .type = CT_STR,
	    .flags = F_NONEMPTY,
	    .off = offsetof(struct rk_cfg_inbound, security.resolver) -
	        offsetof(struct rk_cfg_inbound, security) },
	END
};
static const struct cfg_struct security_st = { 0, security_fields, NULL,
	CFG_NO_KEY, NULL };

static const struct cfg_field inbound_fields[] = {
	FLD(struct rk_cfg_inbound, enabled, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_inbound, clientIdHeader, CT_HEADER,
	    .def = "X-Message-ID"),
	LST(struct rk_cfg_inbound, recipients, CT_STR,
	    .def = "postmaster,abuse,bounce+,fbl", .flags = F_NONEMPTY | F_CSV),
	STRUCTF(struct rk_cfg_inbound, bounce, bounce_st),
	STRUCTF(struct rk_cfg_inbound, security, security_st), END
};
static const struct cfg_struct inbound_st = { sizeof(struct rk_cfg_inbound),
	inbound_fields, NULL, CFG_NO_KEY, NULL };

/* -------------------------------------------------------- webhooks */

static const struct cfg_field endpoint_fields[] = {
	FLD(struct rk_cfg_endpoint, name, CT_STR,
	    .flags = F_REQUIRED | F_NONEMPTY),
	FLD(struct rk_cfg_endpoint, url, CT_URL, .flags = F_REQUIRED),
	FLD(struct rk_cfg_endpoint, enabled, CT_BOOL, .def = "true"),
	LST(struct rk_cfg_endpoint, events, CT_ENUM, .names = event_names,
	    .flags = F_CSV),
	MAPF(struct rk_cfg_endpoint, headers, .elem = CT_STR,
	    .keytype = CT_HEADER),
	MAPF(struct rk_cfg_endpoint, headerFiles, .elem = CT_STR,
	    .keytype = CT_HEADER),
	FLD(struct rk_cfg_endpoint, secret, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	FLD(struct rk_cfg_endpoint, previousSecret, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	FLD(struct rk_cfg_endpoint, bearerToken, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	FLD(struct rk_cfg_endpoint, timeout, CT_DURATION, .def = "0", MS,
	    .min = 0, .max = 300000),
	FLD(struct rk_cfg_endpoint, caFile, CT_STR,
	    .flags = F_PATH | F_NONEMPTY),
	END
};
static const struct cfg_struct endpoint_st = { sizeof(struct rk_cfg_endpoint),
	endpoint_fields, NULL, CFG_NO_KEY, check_endpoint };

static const struct cfg_field webhooks_fields[] = {
	FLD(struct rk_cfg_webhooks, enabled, CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_webhooks, timeout, CT_DURATION, .def = "5000",
	    SEED_MS, .min = 100, .max = 300000),
	FLD(struct rk_cfg_webhooks, retry, CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_webhooks, maxRetries, CT_INT, .def = "8", .min = 0,
	    .max = 100),
	LST(struct rk_cfg_webhooks, retrySchedule, CT_DURATION,
	    .def = "5s,5m,30m,2h,5h,10h,10h", MS, .min = 0, .max = 7 * DAY,
	    .flags = F_CSV),
	FLD(struct rk_cfg_webhooks, concurrency, CT_INT, .def = "64", .min = 1,
	    .max = 10000),
	FLD(struct rk_cfg_webhooks, claimAfter, CT_DURATION, .def = "60s", MS,
	    .min = 1000, .max = DAY),
	FLD(struct rk_cfg_webhooks, consumerName, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_webhooks, startAt, CT_ENUM, .def = "end",
	    .names = wh_start_names),
	FLD(struct rk_cfg_webhooks, deadLetterMaxLen, CT_INT, .def = "100000",
	    .min = 100, .max = 100000000),
	LST(struct rk_cfg_webhooks, endpoints, CT_STRUCT, .sub = &endpoint_st),
	END
};
static const struct cfg_struct webhooks_st = { sizeof(struct rk_cfg_webhooks),
	webhooks_fields, NULL, CFG_NO_KEY, check_webhooks };

/* ------------------------------------------------------------- dns */

#define DNSF(outer, m, t, ...) SUB(struct rk_cfg_dns, outer, m, t, __VA_ARGS__)
static const struct cfg_field cloudflare_fields[] = {
	DNSF(cloudflare, apiToken, CT_STR, .flags = F_SECRET | F_NONEMPTY),
	DNSF(cloudflare, apiUrl, CT_URL,
	    .def = "https://api.cloudflare.com/client/v4"),
	SUBMAP(struct rk_cfg_dns, cloudflare, zoneIds, .elem = CT_STR,
	    .keytype = CT_DOMAIN),
	END
};
static const struct cfg_field rfc2136_fields[] = {
	DNSF(rfc2136, server, CT_STR, .flags = F_NONEMPTY),
	DNSF(rfc2136, zone, CT_DOMAIN), DNSF(rfc2136, tsigKeyName, CT_DOMAIN),
	DNSF(rfc2136, tsigAlgorithm, CT_ENUM, .def = "hmac-sha256",
	    .names = tsig_names),
	DNSF(rfc2136, tsigSecret, CT_STR, .flags = F_SECRET | F_NONEMPTY), END
};
static const struct cfg_field external_dns_fields[] = {
	DNSF(externalDns, namespace, CT_STR, .def = "default",
	    .flags = F_NONEMPTY),
	DNSF(externalDns, outputFile, CT_STR, .flags = F_PATH | F_NONEMPTY), END
};
static const struct cfg_field records_fields[] = { DNSF(records, a, CT_BOOL,
	                                               .def = "true"),
	DNSF(records, mx, CT_BOOL, .def = "true"),
	DNSF(records, spf, CT_BOOL, .def = "true"),
	DNSF(records, dkim, CT_BOOL, .def = "true"),
	DNSF(records, dmarc, CT_BOOL, .def = "true"), END };
static const struct cfg_field ip_fields[] = { DNSF(ip, fromService, CT_BOOL,
	                                          .def = "true"),
	DNSF(ip, detectOutbound, CT_BOOL, .def = "false"),
	SUBLST(
	    struct rk_cfg_dns, ip, "static", staticIps, CT_IP, .flags = F_CSV),
	SUBLST(struct rk_cfg_dns, ip, "echoUrls", echoUrls, CT_URL,
	    .flags = F_CSV),
	DNSF(ip, service, CT_STR, .flags = F_NONEMPTY),
	DNSF(ip, kubernetesApi, CT_URL),
	DNSF(ip, serviceAccountDir, CT_STR,
	    .def = "/var/run/secrets/kubernetes.io/serviceaccount",
	    .flags = F_PATH | F_NONEMPTY),
	END };
static const struct cfg_field watcher_fields[] = { DNSF(watcher, enabled,
	                                               CT_BOOL, .def = "true"),
	DNSF(watcher, interval, CT_DURATION, .def = "60", SEED_SEC, .min = 1000,
	    .max = DAY),
	END };
static const struct cfg_field wait_fields[] = { DNSF(waitForRecords, enabled,
	                                            CT_BOOL, .def = "true"),
	DNSF(waitForRecords, timeout, CT_DURATION, .def = "600", SEED_SEC,
	    .min = 0, .max = DAY),
	END };
#define PLAIN_ST(name, fields)                                                 \
	static const struct cfg_struct name = { 0, fields, NULL, CFG_NO_KEY,   \
		NULL }
PLAIN_ST(cloudflare_st, cloudflare_fields);
PLAIN_ST(rfc2136_st, rfc2136_fields);
PLAIN_ST(external_dns_st, external_dns_fields);
PLAIN_ST(records_st, records_fields);
PLAIN_ST(ip_st, ip_fields);
PLAIN_ST(watcher_st, watcher_fields);
PLAIN_ST(wait_st, wait_fields);

static const struct cfg_field dns_fields[] = { FLD(struct rk_cfg_dns, enabled,
	                                           CT_BOOL, .def = "false"),
	FLD(struct rk_cfg_dns, provider, CT_ENUM, .def = "cloudflare",
	    .names = provider_names),
	STRUCTF(struct rk_cfg_dns, cloudflare, cloudflare_st),
	STRUCTF(struct rk_cfg_dns, rfc2136, rfc2136_st),
	STRUCTF(struct rk_cfg_dns, externalDns, external_dns_st),
	STRUCTF(struct rk_cfg_dns, records, records_st),
	FLD(struct rk_cfg_dns, spfPolicy, CT_ENUM, .def = "~all",
	    .names = spf_names),
	LST(struct rk_cfg_dns, spfInclude, CT_STR, .flags = F_CSV | F_NONEMPTY),
	FLD(struct rk_cfg_dns, dmarcPolicy, CT_ENUM, .def = "none",
	    .names = dmarc_names),
	FLD(struct rk_cfg_dns, dmarcRua, CT_ADDR),
	FLD(struct rk_cfg_dns, ttl, CT_INT, .def = "300", .min = 60,
	    .max = 86400),
	LST(struct rk_cfg_dns, nameservers, CT_STR,
	    .flags = F_CSV | F_NONEMPTY),
	FLD(struct rk_cfg_dns, maxChangePercent, CT_INT, .def = "30", .min = 1,
	    .max = 100),
	STRUCTF(struct rk_cfg_dns, ip, ip_st),
	STRUCTF(struct rk_cfg_dns, watcher, watcher_st),
	STRUCTF(struct rk_cfg_dns, waitForRecords, wait_st), END };
static const struct cfg_struct dns_st = { sizeof(struct rk_cfg_dns), dns_fields,
	NULL, CFG_NO_KEY, check_dns };

/* ----------------------------------------------------------- redis */

static const struct cfg_field redis_fields[] = {
	FLD(struct rk_cfg_redis, host, CT_HOST, .def = "127.0.0.1"),
	FLD(struct rk_cfg_redis, port, CT_INT, .def = "6379", PORT),
	FLD(struct rk_cfg_redis, socket, CT_STR, .flags = F_PATH | F_NONEMPTY),
	FLD(struct rk_cfg_redis, username, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_redis, password, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	FLD(struct rk_cfg_redis, database, CT_INT, .def = "0", .min = 0,
	    .max = 255),
	FLD(struct rk_cfg_redis, connectTimeout, CT_DURATION, .def = "1s", MS,
	    .min = 1, .max = 60000),
	FLD(struct rk_cfg_redis, commandTimeout, CT_DURATION, .def = "500ms",
	    MS, .min = 1, .max = 60000),
	FLD(struct rk_cfg_redis, keyPrefix, CT_STR, .def = "rk:"),
	LST(struct rk_cfg_redis, sentinels, CT_ENDPOINT,
	    .flags = F_CSV | F_INET),
	FLD(struct rk_cfg_redis, masterName, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_redis, sentinelUsername, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_redis, sentinelPassword, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	END
};

/* Sentinel mode needs a master name and has no unix socket. */
static int
check_redis(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_redis *r = obj;
	char p[128];

	if (r->nsentinels > 0 && r->masterName == NULL) {
		sub_path(p, sizeof(p), path, "masterName");
		cfg_error(ctx, at(node, "sentinels"), p,
		    "sentinels need the master's name (masterName)");
		return -1;
	}
	if (r->nsentinels == 0 && r->masterName != NULL) {
		sub_path(p, sizeof(p), path, "sentinels");
		cfg_error(ctx, at(node, "masterName"), p,
		    "masterName needs sentinels to ask");
		return -1;
	}
	if (r->username != NULL && r->password == NULL) {
		sub_path(p, sizeof(p), path, "password");
		cfg_error(ctx, at(node, "username"), p,
		    "an ACL username needs its password (or passwordFile)");
		return -1;
	}
	if (r->sentinelUsername != NULL && r->sentinelPassword == NULL) {
		sub_path(p, sizeof(p), path, "sentinelPassword");
		cfg_error(ctx, at(node, "sentinelUsername"), p,
		    "sentinelUsername needs sentinelPassword (or "
		    "sentinelPasswordFile)");
		return -1;
	}
	if (r->nsentinels > 0 && r->socket != NULL) {
		sub_path(p, sizeof(p), path, "socket");
		cfg_error(ctx, at(node, "socket"), p,
		    "a unix socket and sentinels exclude each other: the "
		    "sentinels name the master");
		return -1;
	}
	return 0;
}

static const struct cfg_struct redis_st = { sizeof(struct rk_cfg_redis),
	redis_fields, NULL, CFG_NO_KEY, check_redis };

/* --------------------------------------------------------- metrics */

static const struct cfg_field sm_fields[] = { SUB(struct rk_cfg_metrics,
	                                          serviceMonitor, enabled,
	                                          CT_BOOL, .def = "false"),
	SUB(struct rk_cfg_metrics, serviceMonitor, interval, CT_DURATION,
	    .def = "30s", SEC, .min = 1000, .max = 3600000),
	SUBMAP(struct rk_cfg_metrics, serviceMonitor, labels, .elem = CT_STR,
	    .keytype = CT_STR),
	END };
PLAIN_ST(sm_st, sm_fields);

static const struct cfg_field metrics_fields[] = {
	FLD(struct rk_cfg_metrics, enabled, CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_metrics, address, CT_HOST, .def = "127.0.0.1"),
	FLD(struct rk_cfg_metrics, milterPort, CT_INT, .def = "9701", PORT),
	FLD(struct rk_cfg_metrics, policydPort, CT_INT, .def = "9702", PORT),
	FLD(struct rk_cfg_metrics, eventdPort, CT_INT, .def = "9703", PORT),
	FLD(struct rk_cfg_metrics, webhookdPort, CT_INT, .def = "9704", PORT),
	STRUCTF(struct rk_cfg_metrics, serviceMonitor, sm_st), END
};
static const struct cfg_struct metrics_st = { sizeof(struct rk_cfg_metrics),
	metrics_fields, NULL, CFG_NO_KEY, check_metrics };

/* ------------------------------------------------------- dashboard */

static bool
is_loopback_host(const char *h)
{
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
	    strcmp(h, "localhost") == 0;
}

/*
 * A login is a user and a password, or a bearer token; and a page that
 * shows every sender and recipient is not served beyond this host
 * without one.
 */
static int
check_dashboard(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	const struct rk_cfg_dashboard *d = obj;
	char p[512];

	if ((d->auth.username == NULL) != (d->auth.password == NULL)) {
		sub_path(p, sizeof(p), path, "auth.username");
		cfg_error(ctx, at(node, "auth"), p,
		    "username and password go together");
		return -1;
	}
	if (d->watch.enabled && !is_loopback_host(d->address) &&
	    d->auth.password == NULL && d->auth.bearerToken == NULL) {
		sub_path(p, sizeof(p), path, "address");
		cfg_error(ctx, at(node, "address"), p,
		    "a dashboard on %s needs auth (username and password, or "
		    "bearerToken); without it, bind it to 127.0.0.1",
		    d->address);
		return -1;
	}
	return 0;
}

static const struct cfg_field watch_fields[] = {
	SUB(struct rk_cfg_dashboard, watch, enabled, CT_BOOL, .def = "false"),
	SUB(struct rk_cfg_dashboard, watch, sampling, CT_BOOL, .def = "true"),
	SUB(struct rk_cfg_dashboard, watch, maxEventsPerSecond, CT_INT,
	    .def = "500", .min = 10, .max = 100000),
	SUB(struct rk_cfg_dashboard, watch, maskAddresses, CT_BOOL,
	    .def = "false"),
	SUB(struct rk_cfg_dashboard, watch, backlog, CT_INT, .def = "100",
	    .min = 0, .max = 1000),
	SUB(struct rk_cfg_dashboard, watch, maxClients, CT_INT, .def = "16",
	    .min = 1, .max = 1000),
	END
};
PLAIN_ST(watch_st, watch_fields);

static const struct cfg_field dash_auth_fields[] = {
	SUB(struct rk_cfg_dashboard, auth, username, CT_STR,
	    .flags = F_NONEMPTY),
	SUB(struct rk_cfg_dashboard, auth, password, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	SUB(struct rk_cfg_dashboard, auth, bearerToken, CT_STR,
	    .flags = F_SECRET | F_NONEMPTY),
	END
};
PLAIN_ST(dash_auth_st, dash_auth_fields);

static const struct cfg_field grafana_fields[] = {
	SUB(struct rk_cfg_dashboard, grafana, enabled, CT_BOOL, .def = "false"),
	SUBMAP(struct rk_cfg_dashboard, grafana, labels, .elem = CT_STR,
	    .keytype = CT_STR),
	END
};
PLAIN_ST(grafana_st, grafana_fields);

static const struct cfg_field dashboard_fields[] = {
	STRUCTF(struct rk_cfg_dashboard, watch, watch_st),
	FLD(struct rk_cfg_dashboard, address, CT_HOST, .def = "127.0.0.1"),
	FLD(struct rk_cfg_dashboard, port, CT_INT, .def = "9705", PORT),
	STRUCTF(struct rk_cfg_dashboard, auth, dash_auth_st),
	STRUCTF(struct rk_cfg_dashboard, grafana, grafana_st), END
};
static const struct cfg_struct dashboard_st = { sizeof(struct rk_cfg_dashboard),
	dashboard_fields, NULL, CFG_NO_KEY, check_dashboard };

/* ------------------------------------------------ programs and log */

static const char *const milter_orders[] = { "after", "before", NULL };

static const struct cfg_field milter_fields[] = {
	FLD(struct rk_cfg_milter, listen, CT_ENDPOINT,
	    .def = "unix:/var/spool/postfix/relaykit/milter.sock"),
	FLD(struct rk_cfg_milter, timeout, CT_DURATION, .def = "2h", SEC,
	    .min = 1000, .max = DAY),
	FLD(struct rk_cfg_milter, metadata, CT_BOOL, .def = "true"),
	FLD(struct rk_cfg_milter, order, CT_ENUM, .def = "after",
	    .names = milter_orders),
	FLD(struct rk_cfg_milter, outboundOnly, CT_BOOL, .def = "true"), END
};
PLAIN_ST(milter_st, milter_fields);

static const struct cfg_field policyd_fields[] = {
	LST(struct rk_cfg_policyd, listen, CT_ENDPOINT,
	    .def = "unix:/var/spool/postfix/relaykit/policy.sock",
	    .flags = F_CSV),
	LST(struct rk_cfg_policyd, saslListen, CT_ENDPOINT,
	    .def = "unix:/var/spool/postfix/relaykit/auth.sock",
	    .flags = F_CSV),
	LST(struct rk_cfg_policyd, socketmapListen, CT_ENDPOINT,
	    .def = "unix:/var/spool/postfix/relaykit/socketmap.sock",
	    .flags = F_CSV),
	FLD(struct rk_cfg_policyd, maxConnections, CT_INT, .def = "10000",
	    .min = 1, .max = 1000000),
	FLD(struct rk_cfg_policyd, requestTimeout, CT_DURATION, .def = "10s",
	    SEC, .min = 100, .max = 3600000),
	FLD(struct rk_cfg_policyd, idleTimeout, CT_DURATION, .def = "5m", SEC,
	    .min = 1000, .max = DAY),
	FLD(struct rk_cfg_policyd, malformedAction, CT_ENUM, .def = "defer",
	    .names = pd_action_names),
	END
};
PLAIN_ST(policyd_st, policyd_fields);

static const char *const start_names[] = { "end", "beginning", NULL };

static const struct cfg_field eventd_fields[] = {
	FLD(struct rk_cfg_eventd, logFile, CT_STR, .def = "/var/log/mail.log",
	    .flags = F_PATH | F_NONEMPTY),
	FLD(struct rk_cfg_eventd, startAt, CT_ENUM, .def = "end",
	    .names = start_names),
	FLD(struct rk_cfg_eventd, name, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_eventd, streamMaxLen, CT_INT, .def = "1000000",
	    .min = 1000, .max = 1000000000),
	FLD(struct rk_cfg_eventd, streamMaxAge, CT_DURATION, .def = "0", SEC,
	    .min = 0, .max = 3650 * DAY),
	FLD(struct rk_cfg_eventd, pollInterval, CT_DURATION, .def = "200ms", MS,
	    .min = 10, .max = 60000),
	FLD(struct rk_cfg_eventd, maxMessages, CT_INT, .def = "100000",
	    .min = 100, .max = 100000000),
	FLD(struct rk_cfg_eventd, configurePostfix, CT_BOOL, .def = "false"),
	END
};
PLAIN_ST(eventd_st, eventd_fields);

static const struct cfg_field log_fields[] = { FLD(struct rk_cfg_log, level,
	                                           CT_ENUM, .def = "info",
	                                           .names = level_names),
	FLD(struct rk_cfg_log, destination, CT_ENUM, .def = "syslog",
	    .names = dest_names),
	END };
PLAIN_ST(log_st, log_fields);

/* socketMode: octal, read and write for the owner at least, never for
   others (any local user could then spend quotas or talk to the milter). */
static int
check_daemon(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	struct rk_cfg_daemon *d = obj;
	const char *m = d->socketMode;
	char *end = NULL, p[512];
	unsigned long v = strtoul(m, &end, 8);

	sub_path(p, sizeof(p), path, "socketMode");
	if (m[0] != '0' || *end != '\0' || v > 0777 || (v & 0600) != 0600) {
		cfg_error(ctx, at(node, "socketMode"), p,
		    "\"%s\" is not an octal mode like 0660 that lets the owner "
		    "read and write",
		    m);
		return -1;
	}
	if (v & 0007) {
		cfg_error(ctx, at(node, "socketMode"), p,
		    "%s lets every local user connect; use 0660 and "
		    "socketGroup",
		    m);
		return -1;
	}
	d->mode = (unsigned)v;
	return 0;
}

static const struct cfg_field daemon_fields[] = {
	FLD(struct rk_cfg_daemon, user, CT_STR, .flags = F_NONEMPTY),
	FLD(struct rk_cfg_daemon, socketGroup, CT_STR, .def = "postfix",
	    .flags = F_NONEMPTY),
	FLD(struct rk_cfg_daemon, socketMode, CT_STR, .def = "0660",
	    .flags = F_NONEMPTY),
	END
};
static const struct cfg_struct daemon_st = { sizeof(struct rk_cfg_daemon),
	daemon_fields, NULL, CFG_NO_KEY, check_daemon };

/* ------------------------------------------------------------ root */

static const struct cfg_field root_fields[] = { STRUCTF(struct rk_cfg, mail,
	                                            mail_st),
	STRUCTF(struct rk_cfg, dkim, dkim_st),
	STRUCTF(struct rk_cfg, senderValidation, sv_st),
	STRUCTF(struct rk_cfg, auth, auth_st),
	STRUCTF(struct rk_cfg, rateLimit, rate_limit_st),
	STRUCTF(struct rk_cfg, adaptiveRate, adaptive_rate_st),
	STRUCTF(struct rk_cfg, inbound, inbound_st),
	STRUCTF(struct rk_cfg, webhooks, webhooks_st),
	STRUCTF(struct rk_cfg, dns, dns_st),
	STRUCTF(struct rk_cfg, redis, redis_st),
	STRUCTF(struct rk_cfg, metrics, metrics_st),
	STRUCTF(struct rk_cfg, dashboard, dashboard_st),
	STRUCTF(struct rk_cfg, milter, milter_st),
	STRUCTF(struct rk_cfg, policyd, policyd_st),
	STRUCTF(struct rk_cfg, eventd, eventd_st),
	STRUCTF(struct rk_cfg, log, log_st),
	STRUCTF(struct rk_cfg, daemon, daemon_st), END };
const struct cfg_struct rk_cfg_schema_root = { sizeof(struct rk_cfg),
	root_fields, NULL, CFG_NO_KEY, NULL };
/*
 * A per-domain entry starts from adaptiveRate.defaults, not from the
 * schema's defaults, so "gmail.com: {minDelay: 15000}" changes one thing.
 */
static int
check_adaptive_rate(struct cfg_ctx *ctx, const struct rk_ynode *node, void *obj,
    const char *path)
{
	struct rk_cfg_adaptive_rate *ar = obj;
	const struct rk_ynode *doms = cfg_node(node, "domains");
	char p[512];
	int rc = 0;

	sub_path(p, sizeof(p), path, "defaults");
	rc |= check_adaptive_bounds(
	    ctx, cfg_node(node, "defaults"), &ar->defaults, p);
	for (size_t i = 0; i < ar->ndomains; i++) {
		struct rk_cfg_adaptive *d = &ar->domains[i];
		const struct rk_ynode *dn = doms ? doms->items[i] : NULL;

		for (const struct cfg_field *f = adaptive_fields; f->name; f++)
			if (f->type != CT_LIST && cfg_node(dn, f->name) == NULL)
				memcpy((char *)d + f->off,
				    (const char *)&ar->defaults + f->off,
				    f->type == CT_BOOL      ? sizeof(bool)
				        : f->type == CT_INT ? sizeof(int64_t)
				        : f->type == CT_DOUBLE
				        ? sizeof(double)
				        : sizeof(uint64_t));
		snprintf(p, sizeof(p), "%s.domains.%s", path, d->name);
		rc |= check_adaptive_bounds(ctx, dn ? dn : doms, d, p);
	}
	for (size_t i = 0; i < ar->ntiers; i++) {
		const char *why = ar->tiers[i] % 1000 != 0
		    ? "must be whole seconds (Postfix's rate delay counts "
		      "seconds)"
		    : i > 0 && ar->tiers[i] <= ar->tiers[i - 1]
		    ? "tiers must be in increasing order"
		    : NULL;

		if (why == NULL)
			continue;
		snprintf(p, sizeof(p), "%s.tiers[%zu]", path, i);
		cfg_error(ctx, at(node, "tiers"), p, "%s", why);
		return -1;
	}
	if (ar->defaults.nmembers > 0) {
		sub_path(p, sizeof(p), path, "defaults.members");
		cfg_error(ctx, cfg_node(node, "defaults"), p,
		    "members belong to a domain's entry, not to the defaults");
		return -1;
	}
	return rc | check_adaptive_members(ctx, doms, ar, path);
}
