/* SPDX-License-Identifier: MIT */
/*
 * pc_safety: refuse a result that could relay for strangers.  Two ways
 * lead there.  The restrictions: Postfix checks smtpd_relay_restrictions
 * and then smtpd_recipient_restrictions, and mail to a foreign domain is
 * stopped only if either list reaches reject_unauth_destination (or
 * defer_unauth_destination, reject, defer) before a bare "permit".  And
 * trust: a client that Postfix believes to be in mynetworks, or logged in,
 * passes those lists, so every setting that widens who is believed is
 * checked too: mynetworks and smtpd_authorized_xclient_hosts (networks
 * wider than mail.allowWideNetworks permits), the PROXY protocol (the
 * claimed address is believed from anyone who can connect, so such a
 * listener must be reachable from loopback only, behind relaykit's gate),
 * and anonymous SASL.  master.cf services can override all of these with
 * -o, so each smtpd service is checked with its own overrides.
 * Single-threaded.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_cidr.h"
#include "rk_mem.h"
#include "pc.h"

/* Postfix 3.x defaults when a list is not set. */
#define DEFAULT_RELAY                                                          \
	"permit_mynetworks, permit_sasl_authenticated, "                       \
	"defer_unauth_destination"
#define SEP " ,\t"

static bool
list_stops_relay(const char *list)
{
	static const char *const stops[] = { "reject_unauth_destination",
		"defer_unauth_destination", "reject", "defer", NULL };
	char *copy = rk_strdup(list ? list : ""), *save = NULL;
	int depth = 0;
	bool stops_relay = false;

	for (char *t = strtok_r(copy, SEP, &save); t;
	     t = strtok_r(NULL, SEP, &save)) {
		if (strcmp(t, "{") == 0 || strcmp(t, "}") == 0) {
			depth += *t == '{' ? 1 : -1;
			continue;
		}
		if (depth > 0)
			continue;
		if (strcmp(t, "permit") == 0)
			break;
		for (size_t i = 0; stops[i]; i++)
			if (strcmp(t, stops[i]) == 0)
				stops_relay = true;
		if (stops_relay)
			break;
	}
	free(copy);
	return stops_relay;
}

/*
 * The value of "-o name=value" or "-o {name = value with spaces}" (as
 * postconf -M prints it) in a normalised master.cf entry, or NULL.
 * Caller frees.
 */
static char *
override(const char *entry, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(entry, "-o "); p;
	     p = strstr(p + 3, "-o ")) {
		const char *v = p + 3, *end;

		if (*v != '{') {
			if (strncmp(v, name, nl) == 0 && v[nl] == '=')
				return rk_strndup(
				    v + nl + 1, strcspn(v + nl + 1, " "));
			continue;
		}
		v += 1 + strspn(v + 1, " ");
		if ((end = strchr(v, '}')) == NULL || strncmp(v, name, nl) != 0)
			continue;
		v += nl;
		v += strspn(v, " ");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " ");
		while (end > v && end[-1] == ' ')
			end--;
		return rk_strndup(v, end > v ? (size_t)(end - v) : 0);
	}
	return NULL;
}

/* A service's value of a parameter: its override, else main.cf's. */
struct eff {
	char *own;         /* the override, owned */
	const char *value; /* what applies; NULL = Postfix's default */
};

static void
effective(const struct pc_list *result, const char *entry, const char *name,
    struct eff *e)
{
	const struct pc_item *m = pc_list_find(result, PC_MAIN, name);

	e->own = entry ? override(entry, name) : NULL;
	e->value = e->own ? e->own : m ? m->value : NULL;
}

/*
 * The first network in a Postfix address list that is wider than the
 * configuration allows, written into bad; false if there is none.
 * Negated entries, host names, files and tables are not networks this
 * can judge and are left to the operator.
 */
static bool
too_wide(const char *list, bool allow_wide, char *bad, size_t n)
{
	char *copy = rk_strdup(list ? list : ""), *save = NULL;
	bool found = false;

	for (char *t = strtok_r(copy, SEP, &save); t && !found && !allow_wide;
	     t = strtok_r(NULL, SEP, &save)) {
		struct rk_cidr c;
		char net[160];
		size_t len = strcspn(t, "]");

		if (*t == '!')
			continue;
		/* Postfix writes IPv6 as [v6]/n */
		if (*t == '[' && t[len] == ']')
			snprintf(net, sizeof(net), "%.*s%s", (int)len - 1,
			    t + 1, t + len + 1);
		else
			snprintf(net, sizeof(net), "%s", t);
		if (rk_cidr_parse(net, &c, NULL) != 0)
			continue;
		if (rk_cidr_host_bits(&c) >
		    (c.ip.family == AF_INET ? 24u : 96u)) {
			snprintf(bad, n, "%s", t);
			found = true;
		}
	}
	free(copy);
	return found;
}

/* The listen address of an inet service ("127.0.0.1:25" -> loopback). */
static bool
listens_on_loopback(const char *key)
{
	static const char *const loop[] = { "127.",
		"[::1]:", "localhost:", NULL };

	for (size_t i = 0; loop[i]; i++)
		if (strncmp(key, loop[i], strlen(loop[i])) == 0)
			return true;
	return false;
}

struct svc {
	const struct pc_list *result;
	const char *entry; /* NULL: main.cf itself */
	const char *name;  /* "main.cf" or "master.cf service X" */
	bool allow_wide;
};

static int
check_restrictions(const struct svc *s, struct rk_err *err)
{
	struct eff r, c;
	bool safe;

	effective(s->result, s->entry, "smtpd_relay_restrictions", &r);
	effective(s->result, s->entry, "smtpd_recipient_restrictions", &c);
	safe = list_stops_relay(r.value ? r.value : DEFAULT_RELAY) ||
	    list_stops_relay(c.value ? c.value : "");
	free(r.own);
	free(c.own);
	if (safe)
		return 0;
	if (s->entry == NULL)
		return rk_err_set(err,
		    "neither smtpd_relay_restrictions nor "
		    "smtpd_recipient_restrictions stops relaying to foreign "
		    "domains: this would be an open relay");
	return rk_err_set(err,
	    "%s overrides the restrictions so that it relays for anyone",
	    s->name);
}

/* Networks whose clients are believed: mynetworks, XCLIENT. */
static int
check_trusted_networks(const struct svc *s, struct rk_err *err)
{
	static const char *const params[] = { "mynetworks",
		"smtpd_authorized_xclient_hosts", NULL };

	for (size_t i = 0; params[i]; i++) {
		struct eff e;
		char bad[160];
		bool wide;

		effective(s->result, s->entry, params[i], &e);
		wide = too_wide(e.value, s->allow_wide, bad, sizeof(bad));
		free(e.own);
		if (wide)
			return rk_err_set(err,
			    "%s: %s trusts %s, wider than /8 (IPv6: /32): "
			    "every host in it may relay; narrow it, or set "
			    "mail.allowWideNetworks: true",
			    s->name, params[i], bad);
	}
	return 0;
}

/*
 * The PROXY protocol header is believed from whoever connects: Postfix
 * has no list of trusted proxies.  So a PROXY listener may only be
 * reachable from loopback, where relaykit's gate (policyd) forwards
 * connections from mail.proxyTrustedNetworks only.
 */
static int
check_proxy(const struct svc *s, const char *key, struct rk_err *err)
{
	static const char *const params[] = { "smtpd_upstream_proxy_protocol",
		"postscreen_upstream_proxy_protocol", NULL };

	for (size_t i = 0; params[i] && s->entry; i++) {
		struct eff e;
		bool proxy;

		effective(s->result, s->entry, params[i], &e);
		proxy = e.value != NULL && *e.value != '\0';
		free(e.own);
		if (proxy && !listens_on_loopback(key))
			return rk_err_set(err,
			    "%s speaks the PROXY protocol on a public address: "
			    "any client that can connect may claim to be a "
			    "trusted network and relay; bind it to loopback "
			    "behind relaykit's gate (mail.listeners[] with "
			    "proxyProtocol: true does this)",
			    s->name);
	}
	return 0;
}

/* permit_sasl_authenticated must not admit anonymous logins. */
static int
check_sasl(const struct svc *s, struct rk_err *err)
{
	struct eff on, opts;
	bool bad;

	effective(s->result, s->entry, "smtpd_sasl_auth_enable", &on);
	effective(s->result, s->entry, "smtpd_sasl_security_options", &opts);
	bad = on.value != NULL && strcmp(on.value, "yes") == 0 &&
	    opts.value != NULL && strstr(opts.value, "noanonymous") == NULL;
	free(on.own);
	free(opts.own);
	if (bad)
		return rk_err_set(err,
		    "%s enables SMTP AUTH without noanonymous in "
		    "smtpd_sasl_security_options: an anonymous login would "
		    "relay",
		    s->name);
	return 0;
}

static int
check_one(const struct svc *s, const char *key, struct rk_err *err)
{
	if (check_restrictions(s, err) != 0 ||
	    check_trusted_networks(s, err) != 0 || check_sasl(s, err) != 0)
		return -1;
	return key != NULL ? check_proxy(s, key, err) : 0;
}

int
pc_check_relay_safety(
    const struct rk_cfg *cfg, const struct pc_list *result, struct rk_err *err)
{
	struct svc s = { result, NULL, "main.cf", cfg->mail.allowWideNetworks };
	char name[600];

	if (check_one(&s, NULL, err) != 0)
		return -1;
	for (size_t i = 0; i < result->n; i++) {
		const struct pc_item *it = &result->v[i];

		if (it->kind != PC_MASTER || it->value == NULL ||
		    (strstr(it->value, " smtpd") == NULL &&
		        strstr(it->value, " postscreen") == NULL))
			continue;
		snprintf(name, sizeof(name), "master.cf service %s", it->key);
		s.entry = it->value;
		s.name = name;
		if (check_one(&s, it->key, err) != 0)
			return -1;
	}
	return 0;
}
