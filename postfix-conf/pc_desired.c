/* SPDX-License-Identifier: MIT */
/*
 * pc_desired: the Postfix settings relaykit.yaml implies.  Restrictions are
 * always written in the one order that cannot relay for strangers:
 * permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination,
 * with the policy service first among the recipient restrictions so that
 * it sees every accepted recipient, including trusted clients'.  With
 * auth.enabled, smtpd checks logins with relaykit-policyd over the Dovecot
 * SASL protocol (policyd.saslListen).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rk_cidr.h"
#include "rk_mem.h"
#include "rk_pace.h"
#include "pc.h"

#define RELAY_RESTRICTIONS                                                     \
	"permit_mynetworks, permit_sasl_authenticated, "                       \
	"reject_unauth_destination"

static void want(struct pc_list *w, const char *name, const char *fmt, ...)
    RK_PRINTF(3, 4);

static void
want(struct pc_list *w, const char *name, const char *fmt, ...)
{
	struct rk_buf b;
	va_list ap;

	rk_buf_init(&b);
	va_start(ap, fmt);
	rk_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	pc_list_add(w, PC_MAIN, name, b.data);
	rk_buf_free(&b);
}

static void
want_service(struct pc_list *w, const char *key, const char *entry)
{
	char *norm = pc_normalize(entry);

	pc_list_add(w, PC_MASTER, key, norm);
	free(norm);
}

static const char *host_value(
    const struct pc_ctx *ctx, enum pc_kind kind, const char *key);

/* The tokens of a Postfix list ("a, b c"), outside braces, one by one. */
static char **
list_tokens(const char *list, size_t *n)
{
	char **v = NULL;
	const char *p = list ? list : "";

	*n = 0;
	while (*p) {
		const char *start;
		int depth = 0;

		p += strspn(p, ", \t\n");
		if (*p == '\0')
			break;
		start = p;
		while (*p && (depth > 0 || !strchr(", \t\n", *p))) {
			depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
			p++;
		}
		v = rk_reallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = rk_strndup(start, (size_t)(p - start));
	}
	return v;
}

static void
tokens_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Postfix's notation for a network: IPv6 in brackets. */
/*
 * mynetworks: the host's networks kept, relaykit's trustedNetworks added
 * when missing, and a line saying what was added (a narrower list would
 * silently cut off the host's own clients).
 */
/*
 * Whether mail.trustedNetworks covers a host mynetworks token.  A token
 * that is not an address or network ("hash:...", "$..."): cannot be
 * judged, so it is not.
 */
static bool
covered(const struct rk_cfg_mail *m, const char *tok)
{
	char buf[80], *p = buf;
	struct rk_cidr h;
	struct rk_err err;
	size_t l = strlen(tok);

	if (l + 1 > sizeof(buf))
		return false;
	memcpy(buf, tok, l + 1);
	if (buf[0] == '[') { /* [::1]/128 */
		char *close = strchr(buf, ']');

		if (close == NULL)
			return false;
		memmove(close, close + 1, strlen(close + 1) + 1);
		p = buf + 1;
	}
	if (rk_cidr_parse(p, &h, &err) != 0)
		return false;
	for (size_t i = 0; i < m->ntrustedNetworks; i++) {
		const struct rk_cidr *t = &m->trustedNetworks[i];

		if (t->ip.family == h.ip.family && t->prefix <= h.prefix &&
		    rk_cidr_contains(t, &h.ip))
			return true;
	}
	return false;
}

/*
 * The host's networks are kept where relaykit signs their mail; one it
 * would relay for unsigned (milter.outboundOnly signs mail from
 * mail.trustedNetworks only) is dropped, loudly: add it to
 * mail.trustedNetworks to keep it.  relaykit's networks are added, and
 * it says which.  --remove restores the host's value.
 */
static void
want_mynetworks(struct pc_ctx *ctx, struct pc_list *w)
{
	const struct rk_cfg_mail *m = &ctx->cfg->mail;
	bool signs_all = !ctx->cfg->milter.outboundOnly;
	size_t n;
	char **host = list_tokens(host_value(ctx, PC_MAIN, "mynetworks"), &n);
	struct rk_buf b, added, dropped;
	size_t kept = 0;

	rk_buf_init(&b);
	rk_buf_init(&added);
	rk_buf_init(&dropped);
	for (size_t i = 0; i < n; i++) {
		struct rk_buf *to =
		    signs_all || covered(m, host[i]) ? &b : &dropped;

		rk_buf_printf(to, "%s%s", to->len ? ", " : "", host[i]);
		kept += to == &b;
	}
	for (size_t i = 0; i < m->ntrustedNetworks; i++) {
		char net[64], tok[72], *slash;
		bool have = false;

		rk_cidr_format(&m->trustedNetworks[i], net, sizeof(net));
		slash = strchr(net, '/');
		if (m->trustedNetworks[i].ip.family == AF_INET6 && slash) {
			*slash = '\0';
			snprintf(tok, sizeof(tok), "[%s]/%s", net, slash + 1);
		} else {
			snprintf(tok, sizeof(tok), "%s", net);
		}
		for (size_t k = 0; k < n && !have; k++)
			have = strcmp(host[k], tok) == 0;
		if (have)
			continue;
		rk_buf_printf(&b, "%s%s", b.len ? ", " : "", tok);
		rk_buf_printf(&added, "%s%s", added.len ? ", " : "", tok);
	}
	pc_list_add(w, PC_MAIN, "mynetworks", b.data ? b.data : "");
	if (kept > 0 && added.len > 0)
		printf("relaykit-postconf: mynetworks: the host's networks "
		       "kept, added %s\n",
		    added.data);
	if (dropped.len > 0)
		printf("relaykit-postconf: warning: mynetworks: the host's %s "
		       "left out: Postfix would relay for it and the milter "
		       "(milter.outboundOnly) would not sign its mail; add it "
		       "to mail.trustedNetworks to keep it\n",
		    dropped.data);
	rk_buf_free(&b);
	rk_buf_free(&added);
	rk_buf_free(&dropped);
	tokens_free(host, n);
}

/*
 * How smtpd reaches one of our sockets.  A chrooted smtpd sees only the
 * queue directory, so a unix socket must live there and be named
 * relative to it (as Debian does for OpenDKIM).
 */
static int
endpoint(const struct pc_ctx *ctx, const struct rk_endpoint *ep, char *buf,
    size_t n, const char *what, struct rk_err *err)
{
	size_t ql = strlen(ctx->queuedir);

	if (ep->kind == RK_EP_INET) {
		rk_endpoint_format(ep, buf, n);
		return 0;
	}
	if (!ctx->smtpd_chroot) {
		snprintf(buf, n, "unix:%s", ep->path);
		return 0;
	}
	if (strncmp(ep->path, ctx->queuedir, ql) == 0 && ep->path[ql] == '/') {
		snprintf(buf, n, "unix:%s", ep->path + ql + 1);
		return 0;
	}
	return rk_err_set(err,
	    "%s socket %s is outside the chroot of Postfix's smtpd (%s): "
	    "put it under %s or run smtp without chroot in master.cf",
	    what, ep->path, ctx->queuedir, ctx->queuedir);
}

static int
want_policy(struct pc_ctx *ctx, struct pc_list *w, struct rk_buf *policy,
    struct rk_err *err)
{
	const struct rk_cfg *c = ctx->cfg;
	char ep[512], t[32];

	if (!c->rateLimit.enabled &&
	    !(c->auth.enabled && c->auth.constrainSender))
		return 0;
	if (c->policyd.nlisten == 0)
		return rk_err_set(err, "policyd.listen is empty");
	if (endpoint(
	        ctx, &c->policyd.listen[0], ep, sizeof(ep), "policy", err) != 0)
		return -1;
	rk_buf_printf(policy,
	    "check_policy_service { %s, timeout=%s, default_action=%s }", ep,
	    rk_duration_format(c->policyd.requestTimeout, t, sizeof(t)),
	    c->rateLimit.failMode == RK_FAIL_CLOSED ? "DEFER_IF_PERMIT"
	                                            : "DUNNO");
	{
		const char *h =
		    host_value(ctx, PC_MAIN, "smtpd_end_of_data_restrictions");

		if (h != NULL && *h != '\0')
			want(w, "smtpd_end_of_data_restrictions", "%s, %s",
			    policy->data, h);
		else
			want(w, "smtpd_end_of_data_restrictions", "%s",
			    policy->data);
	}
	return 0;
}

/*
 * SMTP AUTH through relaykit-policyd's Dovecot SASL side: smtpd offers
 * what policyd's handshake lists, never anonymous logins, and (with
 * auth.requireTls, see want_tls) only after STARTTLS.
 */
static int
want_auth(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg *c = ctx->cfg;
	char ep[512];

	if (!c->auth.enabled)
		return 0;
	if (c->policyd.nsaslListen == 0)
		return rk_err_set(err, "policyd.saslListen is empty");
	if (endpoint(ctx, &c->policyd.saslListen[0], ep, sizeof(ep), "SASL",
	        err) != 0)
		return -1;
	want(w, "smtpd_sasl_auth_enable", "yes");
	want(w, "smtpd_sasl_type", "dovecot");
	want(w, "smtpd_sasl_path", "%s", ep);
	want(w, "smtpd_sasl_security_options", "noanonymous");
	return 0;
}

/* relaykit's milter before or after the host's (milter.order). */
static void
add_milter(
    struct pc_ctx *ctx, struct pc_list *w, const char *param, const char *mine)
{
	const char *h = host_value(ctx, PC_MAIN, param);

	if (h == NULL || *h == '\0')
		want(w, param, "%s", mine);
	else if (ctx->cfg->milter.order == RK_MILTER_BEFORE)
		want(w, param, "%s, %s", mine, h);
	else
		want(w, param, "%s, %s", h, mine);
}

static int
want_milter(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg *c = ctx->cfg;
	struct rk_buf mine;
	char ep[512];

	if (!c->dkim.enabled && !c->senderValidation.enabled &&
	    !c->inbound.bounce.enabled)
		return 0;
	if (endpoint(ctx, &c->milter.listen, ep, sizeof(ep), "milter", err))
		return -1;
	/* mail is never relayed unsigned or unchecked: 4xx when it is down;
	   said for this milter alone, the host's keep their own settings */
	rk_buf_init(&mine);
	rk_buf_printf(&mine, "{ %s, default_action=tempfail, protocol=6 }", ep);
	add_milter(ctx, w, "smtpd_milters", mine.data);
	add_milter(ctx, w, "non_smtpd_milters", mine.data);
	rk_buf_free(&mine);
	/* the milter signs long lines as smtp(8) will break them */
	if (c->dkim.enabled)
		want(w, "smtp_line_length_limit", "%lld",
		    (long long)c->dkim.lineLengthLimit);
	return 0;
}

static int
want_relay(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg_relay *r = &ctx->cfg->mail.relay;
	struct rk_buf text, path;
	int rc = 0;

	if (!r->enabled)
		return 0;
	want(w, "relayhost", "[%s]:%lld", r->host, (long long)r->port);
	want(w, "smtp_tls_security_level", r->tls ? "encrypt" : "may");
	/* one log line per connection saying TLS was used, and how */
	want(w, "smtp_tls_loglevel", "1");
	if (!r->auth.enabled)
		return 0;
	rk_buf_init(&text);
	rk_buf_init(&path);
	rk_buf_printf(&path, "%s/sasl_passwd", ctx->files);
	rk_buf_printf(&text, "[%s]:%lld %s:%s\n", r->host, (long long)r->port,
	    r->auth.username, r->auth.password);
	want(w, "smtp_sasl_auth_enable", "yes");
	want(w, "smtp_sasl_password_maps", "$default_database_type:%s",
	    path.data);
	want(w, "smtp_sasl_security_options", "noanonymous");
	want(w, "smtp_sasl_tls_security_options", "noanonymous");
	if (!ctx->dry_run &&
	    (pc_write_file(path.data, text.data, 0600, err) != 0 ||
	        pc_postmap(ctx, path.data, err) != 0))
		rc = -1;
	rk_memzero(text.data, text.len);
	rk_buf_free(&text);
	rk_buf_free(&path);
	return rc;
}

static int
readable(const char *path, const char *what, struct rk_err *err)
{
	if (access(path, R_OK) == 0)
		return 0;
	return rk_err_set(
	    err, "TLS %s %s is unreadable: %s", what, path, strerror(errno));
}

/* The host serves TLS with a certificate of its own already. */
static bool
host_has_cert(const struct pc_ctx *ctx)
{
	static const char *const params[] = { "smtpd_tls_cert_file",
		"smtpd_tls_chain_files", "smtpd_tls_eccert_file" };

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		const char *v = host_value(ctx, PC_MAIN, params[i]);

		if (v != NULL && *v != '\0')
			return true;
	}
	return false;
}

static int
want_tls(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg_tls *t = &ctx->cfg->mail.tls;
	static const char *const levels[] = { "none", "may", "encrypt" };
	struct rk_buf cert, key;
	int rc = 0;

	want(w, "smtpd_tls_security_level", "%s", levels[t->level]);
	if (t->level == RK_TLS_NONE)
		return 0;
	rk_buf_init(&cert);
	rk_buf_init(&key);
	if (t->certFile == NULL && host_has_cert(ctx)) {
		/* the host's own certificate stays: relaykit.yaml names none */
	} else if (t->certFile != NULL && t->keyFile != NULL) {
		rk_buf_puts(&cert, t->certFile);
		rk_buf_puts(&key, t->keyFile);
		if (readable(cert.data, "certificate", err) != 0 ||
		    readable(key.data, "key", err) != 0)
			rc = -1;
	} else {
		rk_buf_printf(&cert, "%s/tls-cert.pem", ctx->files);
		rk_buf_printf(&key, "%s/tls-key.pem", ctx->files);
		if (!ctx->dry_run && access(key.data, R_OK) != 0)
			rc = pc_tls_selfsigned(ctx->cfg->mail.hostname
			        ? ctx->cfg->mail.hostname
			        : "localhost",
			    cert.data, key.data, err);
	}
	if (cert.len > 0) {
		want(w, "smtpd_tls_cert_file", "%s", cert.data);
		want(w, "smtpd_tls_key_file", "%s", key.data);
	}
	if (ctx->cfg->auth.enabled)
		want(w, "smtpd_tls_auth_only", "%s",
		    ctx->cfg->auth.requireTls ? "yes" : "no");
	rk_buf_free(&cert);
	rk_buf_free(&key);
	return rc;
}

static void
want_listeners(struct pc_ctx *ctx, struct pc_list *w)
{
	const struct rk_cfg_mail *m = &ctx->cfg->mail;

	for (size_t i = 0; i < m->nlisteners; i++) {
		const struct rk_cfg_listener *l = &m->listeners[i];
		struct rk_buf name, entry, key;

		rk_buf_init(&name);
		rk_buf_init(&entry);
		rk_buf_init(&key);
		if (l->proxyProtocol) /* behind policyd's gate, see pd_gate.c */
			rk_buf_printf(
			    &name, "127.0.0.1:%lld", (long long)l->backendPort);
		else if (l->address[0] != '\0')
			rk_buf_printf(&name,
			    strchr(l->address, ':') ? "[%s]:%lld" : "%s:%lld",
			    l->address, (long long)l->port);
		else
			rk_buf_printf(&name, "%lld", (long long)l->port);
		rk_buf_printf(&entry, "%s inet n - n - - smtpd", name.data);
		if (l->proxyProtocol)
			rk_buf_puts(&entry,
			    " -o smtpd_upstream_proxy_protocol=haproxy");
		if (l->submission)
			rk_buf_puts(&entry,
			    " -o syslog_name=postfix/submission"
			    " -o smtpd_tls_security_level=encrypt"
			    " -o smtpd_sasl_auth_enable=yes"
			    " -o smtpd_tls_auth_only=yes"
			    " -o smtpd_relay_restrictions="
			    "permit_sasl_authenticated,reject");
		rk_buf_printf(&key, "%s/inet", name.data);
		want_service(w, key.data, entry.data);
		rk_buf_free(&name);
		rk_buf_free(&entry);
		rk_buf_free(&key);
	}
}

/* "gmail.com" -> "rk_gmail_com": a transport and parameter prefix. */
static char *
transport_name(const char *domain)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_puts(&b, "rk_");
	for (const char *p = domain; *p; p++)
		rk_buf_putc(&b, (*p == '.' || *p == '-') ? '_' : *p);
	return rk_buf_steal(&b);
}

/* Seconds between deliveries: the longer of delayMs and the rate's pace. */
static uint64_t
rate_delay_s(const struct rk_cfg_rl_domain *d)
{
	uint64_t ms = d->delay;

	if (d->hasRate && d->rate.period_ms / d->rate.count > ms)
		ms = d->rate.period_ms / d->rate.count;
	return (ms + 999) / 1000;
}

static void prepend_host(struct pc_ctx *ctx, struct pc_list *w,
    const char *param, const char *first);

static void
want_domain(struct pc_list *w, const struct rk_cfg_rl_domain *d,
    const char *nexthop, struct rk_buf *map)
{
	char *t = transport_name(d->name), key[300], param[300];
	struct rk_buf entry;

	rk_buf_init(&entry);
	rk_buf_printf(&entry, "%s unix - - n - ", t);
	if (d->maxConnections > 0)
		rk_buf_printf(
		    &entry, "%lld smtp", (long long)d->maxConnections);
	else
		rk_buf_puts(&entry, "- smtp");
	if (d->maxPerConnection > 0)
		rk_buf_printf(&entry,
		    " -o smtp_connection_reuse_count_limit=%lld",
		    (long long)d->maxPerConnection);
	snprintf(key, sizeof(key), "%s/unix", t);
	want_service(w, key, entry.data);
	if (d->maxConnections > 0) {
		snprintf(param, sizeof(param),
		    "%s_destination_concurrency_limit", t);
		want(w, param, "%lld", (long long)d->maxConnections);
	}
	snprintf(param, sizeof(param), "%s_destination_rate_delay", t);
	want(w, param, "%llus", (unsigned long long)rate_delay_s(d));
	rk_buf_printf(map, "%s %s:%s\n", d->name, t, nexthop);
	rk_buf_free(&entry);
	free(t);
}

static const char *host_value(
    const struct pc_ctx *ctx, enum pc_kind kind, const char *key);

/*
 * Transports relaykit routes domains to must reach the same next hop
 * Postfix would: with a relayhost the host set itself (not mail.relay),
 * a domain's transport would send around it, straight to the MX.
 */
static int
unrelayed(const struct pc_ctx *ctx, const char *what, struct rk_err *err)
{
	static const char *const params[] = { "relayhost",
		"sender_dependent_relayhost_maps",
		"sender_dependent_default_transport_maps" };

	if (ctx->cfg->mail.relay.enabled)
		return 0;
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		const char *v = host_value(ctx, PC_MAIN, params[i]);

		if (v != NULL && *v != '\0')
			return rk_err_set(err,
			    "main.cf sets %s = %s, but relaykit.yaml has no "
			    "mail.relay: the transports of %s would deliver "
			    "around it; set mail.relay to that relay",
			    params[i], v, what);
	}
	return 0;
}

static int
want_rate_limits(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg_rate_limit *rl = &ctx->cfg->rateLimit;
	struct rk_buf map, path;
	char nh[300];
	int rc = 0;

	if (!rl->enabled)
		return 0;
	rk_pace_nexthop(ctx->cfg, nh, sizeof(nh));
	want(w, "default_destination_concurrency_limit", "%lld",
	    (long long)rl->global.maxConnections);
	want(w, "smtp_connection_reuse_count_limit", "%lld",
	    (long long)rl->global.maxPerConnection);
	want(w, "default_destination_rate_delay", "%llus",
	    (unsigned long long)(rl->global.delayBetweenMessages + 999) / 1000);
	rk_buf_init(&map);
	rk_buf_init(&path);
	for (size_t i = 0; i < rl->ndomains; i++)
		if (rl->domains[i].enabled)
			want_domain(w, &rl->domains[i], nh, &map);
	for (size_t i = 0; i < rl->ncustomDomains; i++)
		if (rl->customDomains[i].enabled)
			want_domain(w, &rl->customDomains[i], nh, &map);
	if (map.len > 0 && unrelayed(ctx, "rateLimit.domains", err) != 0)
		rc = -1;
	else if (map.len > 0) {
		struct rk_buf arg;

		rk_buf_init(&arg);
		rk_buf_printf(&path, "%s/transport", ctx->files);
		rk_buf_printf(&arg, "$default_database_type:%s", path.data);
		prepend_host(ctx, w, "transport_maps", arg.data);
		rk_buf_free(&arg);
		if (!ctx->dry_run &&
		    (pc_write_file(path.data, map.data, 0644, err) != 0 ||
		        pc_postmap(ctx, path.data, err) != 0))
			rc = -1;
	}
	rk_buf_free(&map);
	rk_buf_free(&path);
	return rc;
}

/* ------------------------------------------------------------ inbound */

/* A regexp(5) pattern for text: every character but [A-Za-z0-9] escaped. */
static void
regexp_quote(struct rk_buf *b, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (!isalnum((unsigned char)*p))
			rk_buf_putc(b, '\\');
		rk_buf_putc(b, *p);
	}
}

/*
 * One line per inbound address of one domain: "bounce+" (a prefix) is
 * every address that starts with it, anything else is exact.  Anchored
 * at both ends and to the domain, so a table can never match a foreign
 * address (the open-relay check relies on it).
 */
static void
inbound_patterns(struct rk_buf *b, const struct rk_cfg *c, const char *domain,
    const char *result)
{
	for (size_t i = 0; i < c->inbound.nrecipients; i++) {
		const char *r = c->inbound.recipients[i];
		size_t n = strlen(r);
		bool prefix = n > 0 &&
		    (r[n - 1] == '+' ||
		        strcmp(r, c->inbound.bounce.verpPrefix) == 0);

		rk_buf_puts(b, "/^");
		regexp_quote(b, r);
		rk_buf_puts(b, prefix ? ".*@" : "@");
		regexp_quote(b, domain);
		rk_buf_printf(b, "$/ %s\n", result);
	}
}

/* name, then the earlier value (if any) after a comma. */
static void
prepend(struct pc_list *w, const char *param, const char *first)
{
	struct pc_item *it = pc_list_find(w, PC_MAIN, param);
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_puts(&b, first);
	if (it != NULL && it->value != NULL && *it->value != '\0') {
		rk_buf_printf(&b, ", %s", it->value);
		free(it->value);
		it->value = rk_buf_steal(&b);
	} else {
		want(w, param, "%s", b.data);
	}
	rk_buf_free(&b);
}

/*
 * What the host itself set: the original an earlier run recorded (NULL:
 * it was unset), else the current value.  relaykit builds on it rather
 * than clobbering it.
 */
static const char *
host_value(const struct pc_ctx *ctx, enum pc_kind kind, const char *key)
{
	const struct pc_item *it = NULL;

	if (ctx->orig != NULL)
		it = pc_list_find(ctx->orig, kind, key);
	if (it == NULL && ctx->cur != NULL)
		it = pc_list_find(ctx->cur, kind, key);
	return it != NULL ? it->value : NULL;
}

/* first, before what relaykit or else the host already has in param. */
static void
prepend_host(
    struct pc_ctx *ctx, struct pc_list *w, const char *param, const char *first)
{
	const char *h = host_value(ctx, PC_MAIN, param);

	if (pc_list_find(w, PC_MAIN, param) == NULL && h != NULL && *h)
		want(w, param, "%s", h);
	prepend(w, param, first);
}

/* "a, reject_unauth_destination" -> "a, ACCESS, reject_unauth_destination"
   (or before defer_unauth_destination, whichever comes first) */
static void
insert_access(struct pc_list *w, const char *param, const char *access)
{
	struct pc_item *it = pc_list_find(w, PC_MAIN, param);
	const char *at, *d;
	struct rk_buf b;

	if (it == NULL || it->value == NULL)
		return;
	at = strstr(it->value, "reject_unauth_destination");
	d = strstr(it->value, "defer_unauth_destination");
	if (at == NULL || (d != NULL && d < at))
		at = d;
	if (at == NULL)
		return;
	rk_buf_init(&b);
	rk_buf_append(&b, it->value, (size_t)(at - it->value));
	rk_buf_printf(&b, "%s, %s", access, at);
	free(it->value);
	it->value = rk_buf_steal(&b);
}

static int
write_table(struct pc_ctx *ctx, const char *name, const char *text,
    struct rk_buf *path, struct rk_err *err)
{
	rk_buf_printf(path, "%s/%s", ctx->files, name);
	if (ctx->dry_run)
		return 0;
	return pc_write_file(path->data, text, 0644, err);
}

#ifndef RK_BINDIR
#define RK_BINDIR "/usr/local/bin"
#endif

/* The pipe service: one recipient per run, as an unprivileged user. */
static void
want_bounce_service(struct pc_ctx *ctx, struct pc_list *w)
{
	const char *bin = getenv("RELAYKIT_BOUNCE");
	const char *user = getpwnam("relaykit") ? "relaykit" : "nobody";
	char cfg[PATH_MAX];
	struct rk_buf e;

	if (realpath(ctx->cfg->path, cfg) == NULL)
		snprintf(cfg, sizeof(cfg), "%s", ctx->cfg->path);
	rk_buf_init(&e);
	rk_buf_printf(&e,
	    "relaykit-bounce unix - n n - - pipe flags=Rq null_sender= "
	    "user=%s argv=%s -c %s -s ${sender} -r ${recipient} "
	    "-a ${client_address} -H ${client_helo}",
	    user, bin ? bin : RK_BINDIR "/relaykit-bounce", cfg);
	want_service(w, "relaykit-bounce/unix", e.data);
	want(w, "relaykit-bounce_destination_recipient_limit", "1");
	rk_buf_free(&e);
}

/*
 * Bounces and complaints come from anyone: inbound.recipients at every
 * domain of mail.domains go to relaykit-bounce (regexp tables, so any
 * VERP prefix works without touching recipient_delimiter, which would
 * change local delivery on the whole host), and smtpd accepts those
 * addresses, and only those, from any client.  Called last, so it can
 * put its table first among the transport_maps others want.
 */
static int
want_inbound(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg *c = ctx->cfg;
	struct rk_buf tr, acc, tpath, apath, arg;
	int rc = -1;

	if (!c->inbound.enabled || c->mail.ndomains == 0)
		return 0;
	rk_buf_init(&tr), rk_buf_init(&acc), rk_buf_init(&tpath);
	rk_buf_init(&apath), rk_buf_init(&arg);
	for (size_t i = 0; i < c->mail.ndomains; i++) {
		inbound_patterns(
		    &tr, c, c->mail.domains[i].name, "relaykit-bounce:");
		inbound_patterns(&acc, c, c->mail.domains[i].name, "OK");
	}
	if (write_table(ctx, "inbound_transport", tr.data, &tpath, err) != 0 ||
	    write_table(ctx, "inbound_access", acc.data, &apath, err) != 0)
		goto out;
	want_bounce_service(ctx, w);
	rk_buf_printf(&arg, "regexp:%s", tpath.data);
	prepend_host(ctx, w, "transport_maps", arg.data);
	rk_buf_reset(&arg);
	rk_buf_printf(&arg, "check_recipient_access regexp:%s", apath.data);
	insert_access(w, "smtpd_relay_restrictions", arg.data);
	insert_access(w, "smtpd_recipient_restrictions", arg.data);
	rc = 0;
out:
	rk_buf_free(&tr), rk_buf_free(&acc), rk_buf_free(&tpath);
	rk_buf_free(&apath), rk_buf_free(&arg);
	return rc;
}

/* Postfix's own log file, for relaykit-eventd (postlogd writes it). */
static void
want_maillog(struct pc_ctx *ctx, struct pc_list *w)
{
	const struct rk_cfg_eventd *e = &ctx->cfg->eventd;

	if (!e->configurePostfix)
		return;
	want(w, "maillog_file", "%s",
	    strcmp(e->logFile, "-") == 0 ? "/dev/stdout" : e->logFile);
}

/* ------------------------------------------------------------- pacing */

/* A master.cf entry like the host's base one, renamed, with chroot set
   (NULL: as it was) and extra appended. */
static void
entry_like(struct rk_buf *out, const char *base, const char *name,
    const char *chroot, const char *extra)
{
	char *copy = rk_strdup(base), *save = NULL;
	int i = 0;

	for (char *t = strtok_r(copy, " ", &save); t;
	     t = strtok_r(NULL, " ", &save), i++) {
		if (i > 0)
			rk_buf_putc(out, ' ');
		rk_buf_puts(out, i == 0 ? name : i == 4 && chroot ? chroot : t);
	}
	if (*extra)
		rk_buf_printf(out, " %s", extra);
	free(copy);
}

static const char *
host_entry(const struct pc_ctx *ctx, const char *key, const char *dflt)
{
	const char *v = host_value(ctx, PC_MASTER, key);

	return v != NULL ? v : dflt;
}

/* One smtp transport per tier, each with its rate delay. */
static void
want_ladder(struct pc_ctx *ctx, struct pc_list *w)
{
	const struct rk_cfg_adaptive_rate *ar = &ctx->cfg->adaptiveRate;
	const char *smtp =
	    host_entry(ctx, "smtp/unix", "smtp unix - - n - - smtp");

	for (size_t i = 0; i < ar->ntiers; i++) {
		char name[64], key[96], extra[160];
		struct rk_buf e;

		rk_pace_transport(ar->tiers[i], name, sizeof(name));
		snprintf(key, sizeof(key), "%s/unix", name);
		snprintf(
		    extra, sizeof(extra), "-o syslog_name=postfix/%s", name);
		rk_buf_init(&e);
		entry_like(&e, smtp, name, NULL, extra);
		want_service(w, key, e.data);
		rk_buf_free(&e);
		snprintf(key, sizeof(key), "%s_destination_rate_delay", name);
		want(
		    w, key, "%llus", (unsigned long long)(ar->tiers[i] / 1000));
		snprintf(
		    key, sizeof(key), "%s_destination_concurrency_limit", name);
		want(w, key, "1");
	}
}

/* Tokens of a table list ("a, b c") joined by commas, no spaces: a
   master.cf -o value. */
static void
join_maps(struct rk_buf *out, const char *list)
{
	char *copy = rk_strdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ", \t", &save); t;
	     t = strtok_r(NULL, ", \t", &save))
		rk_buf_printf(out, "%s%s", out->len ? "," : "", t);
	free(copy);
}

/*
 * Adaptive pacing: the ladder, and a trivial-rewrite of relaykit's own
 * (not chrooted: it reaches policyd's socket anywhere) whose
 * transport_maps end with policyd's socketmap, used by the queue manager
 * only, so smtpd's recipient checks never depend on policyd and each
 * recipient is looked up once per delivery attempt.  Called last: its
 * transport_maps are the host's and relaykit's, as written literally
 * (a $transport_maps there would name itself).
 */
static int
want_pacing(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg *c = ctx->cfg;
	const struct pc_item *tm = pc_list_find(w, PC_MAIN, "transport_maps");
	const char *maps =
	    tm ? tm->value : host_value(ctx, PC_MAIN, "transport_maps");
	struct rk_buf list, extra, e;
	char ep[400];

	if (!c->adaptiveRate.enabled)
		return 0;
	if (c->policyd.nsocketmapListen == 0)
		return rk_err_set(err, "policyd.socketmapListen is empty");
	if (unrelayed(ctx, "adaptiveRate", err) != 0)
		return -1;
	want_ladder(ctx, w);
	rk_endpoint_format(&c->policyd.socketmapListen[0], ep, sizeof(ep));
	rk_buf_init(&list);
	rk_buf_init(&extra);
	rk_buf_init(&e);
	join_maps(&list, maps ? maps : "");
	rk_buf_printf(
	    &list, "%ssocketmap:%s:" RK_PACE_MAP, list.len ? "," : "", ep);
	rk_buf_printf(&extra, "-o transport_maps=%s", list.data);
	entry_like(&e,
	    host_entry(
	        ctx, "rewrite/unix", "rewrite unix - - n - - trivial-rewrite"),
	    "rk_rewrite", "n", extra.data);
	want_service(w, "rk_rewrite/unix", e.data);
	rk_buf_reset(&e);
	rk_buf_printf(&e, "%s -o rewrite_service_name=rk_rewrite",
	    host_entry(ctx, "qmgr/unix", "qmgr unix n - n 300 1 qmgr"));
	want_service(w, "qmgr/unix", e.data);
	rk_buf_free(&list);
	rk_buf_free(&extra);
	rk_buf_free(&e);
	return 0;
}

/* The host stops mail to foreign domains already. */
static bool
stops_relay(const char *list)
{
	return list != NULL &&
	    (strstr(list, "reject_unauth_destination") != NULL ||
	        strstr(list, "defer_unauth_destination") != NULL);
}

/*
 * The restriction lists: the host's relay restrictions kept when they
 * stop relaying (else relaykit's, which do); relaykit's policy check
 * first among the host's recipient restrictions, never instead of them.
 */
static void
want_restrictions(struct pc_ctx *ctx, struct pc_list *w, struct rk_buf *policy)
{
	const char *relay =
	    host_value(ctx, PC_MAIN, "smtpd_relay_restrictions");
	const char *rcpt =
	    host_value(ctx, PC_MAIN, "smtpd_recipient_restrictions");
	bool have = rcpt != NULL && *rcpt != '\0';

	want(w, "smtpd_relay_restrictions", "%s",
	    stops_relay(relay) ? relay : RELAY_RESTRICTIONS);
	/* relaykit's SMTP AUTH users may relay */
	if (ctx->cfg->auth.enabled && stops_relay(relay) &&
	    strstr(relay, "permit_sasl_authenticated") == NULL)
		insert_access(
		    w, "smtpd_relay_restrictions", "permit_sasl_authenticated");
	want(w, "smtpd_recipient_restrictions", "%s%s%s",
	    policy->len ? policy->data : "", policy->len ? ", " : "",
	    have ? rcpt : RELAY_RESTRICTIONS);
}

int
pc_desired(struct pc_ctx *ctx, struct pc_list *w, struct rk_err *err)
{
	const struct rk_cfg_mail *m = &ctx->cfg->mail;
	struct rk_buf policy;
	int rc = -1;

	rk_buf_init(&policy);
	if (!ctx->dry_run && mkdir(ctx->files, 0755) != 0 && errno != EEXIST) {
		rk_err_set(err, "mkdir %s: %s", ctx->files, strerror(errno));
		goto out;
	}
	if (m->hostname != NULL)
		want(w, "myhostname", "%s", m->hostname);
	want(w, "smtpd_banner", "%s", m->banner);
	want_mynetworks(ctx, w);
	want(w, "message_size_limit", "%llu",
	    (unsigned long long)m->maxMessageSize);
	if (m->maxMessageSize == 0 || m->maxMessageSize > 51200000)
		want(w, "mailbox_size_limit", "0");
	if (want_policy(ctx, w, &policy, err) != 0 ||
	    want_auth(ctx, w, err) != 0 || want_milter(ctx, w, err) != 0 ||
	    want_relay(ctx, w, err) != 0 || want_tls(ctx, w, err) != 0 ||
	    want_rate_limits(ctx, w, err) != 0)
		goto out;
	want_restrictions(ctx, w, &policy);
	want_listeners(ctx, w);
	want_maillog(ctx, w);
	if (want_inbound(ctx, w, err) != 0 || want_pacing(ctx, w, err) != 0)
		goto out;
	rc = 0;
out:
	rk_buf_free(&policy);
	return rc;
}
