/* SPDX-License-Identifier: MIT */
/*
 * pc_safety: refuse a result that could relay for anyone.  Postfix checks
 * smtpd_relay_restrictions and then smtpd_recipient_restrictions; mail to
 * a foreign domain is stopped if either list reaches
 * reject_unauth_destination (or defer_unauth_destination, reject, defer)
 * before a bare "permit".  master.cf services can override both with -o,
 * so every smtpd service is checked with its own overrides.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "pc.h"

/* Postfix 3.x defaults when a list is not set. */
#define DEFAULT_RELAY                                                          \
	"permit_mynetworks, permit_sasl_authenticated, "                       \
	"defer_unauth_destination"

static bool
list_stops_relay(const char *list)
{
	static const char *const stops[] = { "reject_unauth_destination",
		"defer_unauth_destination", "reject", "defer", NULL };
	char *copy = rk_strdup(list ? list : ""), *save = NULL;
	int depth = 0;
	bool stops_relay = false;

	for (char *t = strtok_r(copy, " ,\t", &save); t;
	     t = strtok_r(NULL, " ,\t", &save)) {
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

/* The value of "-o name=value" in a master.cf entry, or NULL. */
static char *
override(const char *entry, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(entry, "-o "); p;
	     p = strstr(p + 3, "-o ")) {
		const char *v = p + 3;

		if (strncmp(v, name, nl) == 0 && v[nl] == '=')
			return rk_strndup(v + nl + 1, strcspn(v + nl + 1, " "));
	}
	return NULL;
}

int
pc_check_relay_safety(const struct pc_list *result, struct rk_err *err)
{
	const struct pc_item *r =
	    pc_list_find(result, PC_MAIN, "smtpd_relay_restrictions");
	const struct pc_item *c =
	    pc_list_find(result, PC_MAIN, "smtpd_recipient_restrictions");
	const char *relay = r && r->value ? r->value : DEFAULT_RELAY;
	const char *rcpt = c && c->value ? c->value : "";

	if (!list_stops_relay(relay) && !list_stops_relay(rcpt))
		return rk_err_set(err,
		    "neither smtpd_relay_restrictions nor "
		    "smtpd_recipient_restrictions stops relaying to foreign "
		    "domains: this would be an open relay");
	for (size_t i = 0; i < result->n; i++) {
		const struct pc_item *it = &result->v[i];
		char *ro, *co;
		bool safe;

		if (it->kind != PC_MASTER || it->value == NULL ||
		    strstr(it->value, " smtpd") == NULL)
			continue;
		ro = override(it->value, "smtpd_relay_restrictions");
		co = override(it->value, "smtpd_recipient_restrictions");
		safe = list_stops_relay(ro ? ro : relay) ||
		    list_stops_relay(co ? co : rcpt);
		free(ro);
		free(co);
		if (!safe)
			return rk_err_set(err,
			    "master.cf service %s overrides the restrictions "
			    "so that it relays for anyone",
			    it->key);
	}
	return 0;
}
