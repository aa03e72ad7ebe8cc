/* SPDX-License-Identifier: MIT */
/*
 * mlt_inbound: which mail is outbound, and what the milter does with the
 * rest.  With milter.outboundOnly, a message is ours to validate, VERP and
 * sign when its client is in mail.trustedNetworks, authenticated
 * ({auth_authen}), or Postfix itself (non-SMTP submission, which Postfix
 * presents as localhost, 127.0.0.1, port 0).  Any other client is the
 * internet reaching this host as an MX: its mail passes untouched, but
 * mail to inbound.recipients gets inbound.security's SPF, DKIM and DMARC
 * checks (lib/rk_inauth), whose rejectFail / rejectOnFail refuse it at
 * the end of DATA.
 *
 * Threading: the functions read the immutable state and touch only the
 * connection's or message's own context (one thread).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rk_cidr.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "milter.h"

void
mlt_client_set(struct mlt_conn *c, const char *host, const struct sockaddr *sa)
{
	unsigned port = 0;

	c->client_ip[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(
		    AF_INET, &s4->sin_addr, c->client_ip, sizeof(c->client_ip));
		port = ntohs(s4->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, c->client_ip,
		    sizeof(c->client_ip));
		port = ntohs(s6->sin6_port);
	}
	/* Postfix's stand-in for sendmail(1) and pickup: no real client
	   connects from port 0 */
	c->local_submit = port == 0 && host != NULL &&
	    strcmp(host, "localhost") == 0 &&
	    strcmp(c->client_ip, "127.0.0.1") == 0;
	/* a client without an IP address (a unix socket, an MTA that
	   does not say) is no client we can judge */
	c->seen_connect = c->client_ip[0] != '\0';
}

static bool
trusted(const struct rk_cfg *cfg, const char *ip)
{
	struct rk_ip a;

	if (ip[0] == '\0' || rk_ip_parse(ip, &a, NULL) != 0)
		return false;
	for (size_t i = 0; i < cfg->mail.ntrustedNetworks; i++)
		if (rk_cidr_contains(&cfg->mail.trustedNetworks[i], &a))
			return true;
	return false;
}

bool
mlt_outbound(const struct mlt_state *st, const struct mlt_conn *c,
    const char *auth_authen)
{
	if (!st->cfg->milter.outboundOnly || c->local_submit)
		return true;
	if (auth_authen != NULL && *auth_authen != '\0')
		return true;
	/* no client address: an MTA that hides the client cannot be told
	   apart from our own, so its mail is treated as before */
	if (!c->seen_connect)
		return true;
	return trusted(st->cfg, c->client_ip);
}

static bool
our_domain(const struct rk_cfg *cfg, const char *d)
{
	for (size_t i = 0; i < cfg->mail.ndomains; i++)
		if (strcasecmp(cfg->mail.domains[i].name, d) == 0)
			return true;
	return false;
}

bool
mlt_inbound_rcpt(const struct mlt_state *st, const char *rcpt)
{
	const struct rk_cfg *cfg = st->cfg;
	const char *at = strrchr(rcpt, '@');
	size_t ll;

	if (st->inauth == NULL || at == NULL || !our_domain(cfg, at + 1))
		return false;
	ll = (size_t)(at - rcpt);
	for (size_t i = 0; i < cfg->inbound.nrecipients; i++) {
		const char *r = cfg->inbound.recipients[i];
		size_t rl = strlen(r);
		bool prefix = rl > 0 && r[rl - 1] == '+';

		if (prefix ? ll >= rl && strncasecmp(rcpt, r, rl) == 0
		           : ll == rl && strncasecmp(rcpt, r, rl) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------ state side */

int
mlt_inbound_state(struct mlt_state *st, struct rk_err *err)
{
	const struct rk_cfg *cfg = st->cfg;
	struct rk_inauth_opts o = {
		.spf = cfg->inbound.security.spf.enabled,
		.dkim = cfg->inbound.security.dkim.enabled,
		.dmarc = cfg->inbound.security.dmarc.enabled,
	};

	if (!cfg->inbound.enabled || !(o.spf || o.dkim || o.dmarc))
		return 0;
	st->dns = rk_inauth_dns_ldns(cfg->inbound.security.resolver, err);
	if (st->dns == NULL)
		return -1;
	o.dns = st->dns;
	st->inauth = rk_inauth_new(&o, err);
	return st->inauth ? 0 : -1;
}

void
mlt_inbound_state_free(struct mlt_state *st)
{
	rk_inauth_free(st->inauth);
	rk_inauth_dns_ldns_free(st->dns);
}

/* ---------------------------------------------------- message side */

void
mlt_inbound_begin(struct mlt_msg *m, const struct mlt_conn *c)
{
	if (m->ia == NULL)
		m->ia = rk_inauth_begin(m->st->inauth, c->client_ip, c->helo,
		    m->null_sender ? "" : m->sender);
}

enum mlt_verdict
mlt_inbound_eom(struct mlt_msg *m)
{
	const struct rk_cfg *cfg = m->st->cfg;
	struct rk_inauth_result r;
	int refuse;

	rk_inauth_end(m->ia, &r);
	refuse = rk_inauth_refusal(&r, cfg->inbound.security.spf.rejectFail,
	    cfg->inbound.security.dmarc.rejectOnFail, m->reply.code,
	    m->reply.xcode, m->reply.text, sizeof(m->reply.text));
	rk_log_info("queue_id=%s action=%s direction=inbound spf=%s "
	            "spf_domain=%s dkim=%s dkim_domain=%s dmarc=%s "
	            "dmarc_policy=%s from_domain=%s",
	    m->queue_id[0] ? m->queue_id : "-",
	    !refuse                       ? "accept"
	        : m->reply.code[0] == '4' ? "tempfail"
	                                  : "reject",
	    rk_auth_name(r.spf), r.spf_domain[0] ? r.spf_domain : "-",
	    rk_auth_name(r.dkim), r.dkim_domain[0] ? r.dkim_domain : "-",
	    rk_auth_name(r.dmarc), r.dmarc_policy[0] ? r.dmarc_policy : "-",
	    r.from_domain[0] ? r.from_domain : "-");
	if (!refuse)
		return MLT_DONE;
	return m->reply.code[0] == '4' ? MLT_TEMPFAIL : MLT_REJECT;
}
