/* SPDX-License-Identifier: MIT */
/*
 * dc_desired: the records relaykit.yaml asks for.  The relay's host name
 * gets A/AAAA records with the public addresses; every mail domain gets
 * an MX pointing to the host, an SPF record naming the addresses and
 * dns.spfInclude, one DKIM record per key (read from disk with the same
 * code as relaykit-keygen, lib/rk_dkimkey) and a DMARC record.
 *
 * Reads the DKIM key files; otherwise pure.  Single-threaded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rk_dkimkey.h"
#include "rk_mem.h"
#include "dc.h"

static const char *const spf_all_names[] = { "~all", "-all", "?all" };
static const char *const dmarc_names[] = { "none", "quarantine", "reject" };

char *
dc_hostname(const struct rk_cfg *cfg)
{
	char buf[256];

	if (cfg->mail.hostname != NULL)
		return rk_strdup(cfg->mail.hostname);
	if (gethostname(buf, sizeof(buf)) == -1)
		return rk_strdup("localhost");
	buf[sizeof(buf) - 1] = '\0';
	dc_name_norm(buf);
	return rk_strdup(buf);
}

static struct dc_want *
want_new(struct dc_desired *d, int role, const char *name, int type)
{
	struct dc_want *w;

	d->v = rk_reallocarray(d->v, d->n + 1, sizeof(*d->v));
	w = &d->v[d->n++];
	memset(w, 0, sizeof(*w));
	w->role = role;
	w->name = rk_strdup(name);
	dc_name_norm(w->name);
	w->type = type;
	return w;
}

static void
want_value(struct dc_want *w, const char *value)
{
	w->values =
	    rk_reallocarray(w->values, w->nvalues + 1, sizeof(*w->values));
	w->values[w->nvalues++] = rk_strdup(value);
}

static void
ip_text(const struct rk_ip *ip, char *buf, size_t n)
{
	inet_ntop(ip->family, ip->addr, buf, (socklen_t)n);
}

/*
 * A and AAAA both, even empty: an address family the relay no longer has
 * must lose the records this relay published for it.
 */
static void
add_addresses(struct dc_desired *d, const char *host, const struct dc_ips *ips)
{
	size_t first = d->n;

	want_new(d, DC_ROLE_ADDR, host, DC_A);
	want_new(d, DC_ROLE_ADDR, host, DC_AAAA);
	for (size_t i = 0; i < ips->n; i++) {
		char buf[INET6_ADDRSTRLEN];

		ip_text(&ips->v[i], buf, sizeof(buf));
		want_value(&d->v[first + (ips->v[i].family != AF_INET)], buf);
	}
}

/* A DNS name as SPF targets use them: LDH labels, '_' allowed. */
static int
spf_target_check(const char *s, struct rk_err *err)
{
	size_t label = 0, len = strlen(s);

	if (len == 0 || len > DC_NAME_MAX)
		return rk_err_set(
		    err, "dns.spfInclude \"%s\": 1 to 253 bytes", s);
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63)
				return rk_err_set(err,
				    "dns.spfInclude \"%s\": empty or long "
				    "label",
				    s);
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') {
			label++;
		} else {
			return rk_err_set(err,
			    "dns.spfInclude \"%s\": '%c' is not allowed in a "
			    "host name",
			    s, c);
		}
	}
	return 0;
}

static void
add_spf(struct dc_desired *d, const struct rk_cfg *cfg, const char *domain,
    const struct dc_ips *ips)
{
	struct dc_want *w = want_new(d, DC_ROLE_SPF, domain, DC_TXT);

	for (size_t i = 0; i < ips->n; i++) {
		char buf[INET6_ADDRSTRLEN], term[INET6_ADDRSTRLEN + 8];

		ip_text(&ips->v[i], buf, sizeof(buf));
		snprintf(term, sizeof(term), "%s:%s",
		    ips->v[i].family == AF_INET ? "ip4" : "ip6", buf);
		want_value(w, term);
	}
	for (size_t i = 0; i < cfg->dns.nspfInclude; i++) {
		struct rk_buf b;

		rk_buf_init(&b);
		rk_buf_printf(&b, "include:%s", cfg->dns.spfInclude[i]);
		dc_name_norm(b.data);
		want_value(w, b.data);
		rk_buf_free(&b);
	}
	w->spf_all = rk_strdup(spf_all_names[cfg->dns.spfPolicy]);
}

static void
add_dmarc(struct dc_desired *d, const struct rk_cfg *cfg, const char *domain)
{
	struct rk_buf name, value;
	struct dc_want *w;

	rk_buf_init(&name);
	rk_buf_init(&value);
	rk_buf_printf(&name, "_dmarc.%s", domain);
	rk_buf_printf(
	    &value, "v=DMARC1; p=%s", dmarc_names[cfg->dns.dmarcPolicy]);
	if (cfg->dns.dmarcRua != NULL)
		rk_buf_printf(&value, "; rua=mailto:%s", cfg->dns.dmarcRua);
	w = want_new(d, DC_ROLE_DMARC, name.data, DC_TXT);
	want_value(w, value.data);
	rk_buf_free(&name);
	rk_buf_free(&value);
}

/* One DKIM record from the key on disk. */
static int
add_dkim(
    struct dc_desired *d, const struct rk_dkimkey_spec *s, struct rk_err *err)
{
	EVP_PKEY *key = rk_dkimkey_read(s->path, err);
	struct dc_want *w;
	char *pub, *name, *value;
	int bits;

	if (key == NULL)
		return -1;
	if (rk_dkimkey_alg_of(key, &bits) != s->alg) {
		EVP_PKEY_free(key);
		return rk_err_set(err, "%s: not the %s key selector %s wants",
		    s->path, rk_dkimkey_alg_tag(s->alg), s->selector);
	}
	pub = rk_dkimkey_public_b64(key, err);
	EVP_PKEY_free(key);
	if (pub == NULL)
		return -1;
	name = rk_dkimkey_txt_name(s->domain, s->selector);
	value = rk_dkimkey_txt_value(s->alg, pub);
	w = want_new(d, DC_ROLE_DKIM, name, DC_TXT);
	want_value(w, value);
	w->dkim_alg = s->alg;
	w->dkim_pub = pub;
	w->dkim_file = rk_strdup(s->path);
	free(name);
	free(value);
	return 0;
}

static int
add_dkims(struct dc_desired *d, const struct rk_cfg *cfg, struct rk_err *err)
{
	struct rk_dkimkey_spec *specs;
	size_t n;
	int rc = 0;

	if (rk_dkimkey_plan(cfg, &specs, &n, err) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_dkim(d, &specs[i], err);
	rk_dkimkey_specs_free(specs, n);
	return rc;
}

static void
add_domain(struct dc_desired *d, const struct rk_cfg *cfg, const char *dom,
    const struct dc_ips *ips)
{
	const struct rk_cfg_dns *dns = &cfg->dns;

	if (dns->records.mx) {
		struct rk_buf mx;

		rk_buf_init(&mx);
		rk_buf_printf(&mx, "10 %s", d->owner);
		want_value(want_new(d, DC_ROLE_MX, dom, DC_MX), mx.data);
		rk_buf_free(&mx);
	}
	if (dns->records.spf)
		add_spf(d, cfg, dom, ips);
	if (dns->records.dmarc)
		add_dmarc(d, cfg, dom);
}

int
dc_desired_build(const struct rk_cfg *cfg, const struct dc_ips *ips,
    bool dkim_only, struct dc_desired *out, struct rk_err *err)
{
	const struct rk_cfg_dns *dns = &cfg->dns;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < dns->nspfInclude; i++)
		if (spf_target_check(dns->spfInclude[i], err) == -1)
			return -1;
	out->ttl = (uint32_t)dns->ttl;
	out->owner = dc_hostname(cfg);
	if (!dkim_only && (dns->records.a || dns->records.spf) && ips->n == 0) {
		dc_desired_free(out);
		return rk_err_set(err,
		    "no public address: set dns.ip.static, or detect one "
		    "(dns.ip.fromService, dns.ip.detectOutbound)");
	}
	if (!dkim_only && dns->records.a)
		add_addresses(out, out->owner, ips);
	for (size_t i = 0; !dkim_only && i < cfg->mail.ndomains; i++)
		add_domain(out, cfg, cfg->mail.domains[i].name, ips);
	if ((dns->records.dkim || dkim_only) && cfg->dkim.enabled &&
	    add_dkims(out, cfg, err) == -1) {
		dc_desired_free(out);
		return -1;
	}
	return 0;
}

void
dc_desired_free(struct dc_desired *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dc_want *w = &d->v[i];

		for (size_t j = 0; j < w->nvalues; j++)
			free(w->values[j]);
		free(w->values);
		free(w->name);
		free(w->spf_all);
		free(w->dkim_pub);
		free(w->dkim_file);
	}
	free(d->v);
	free(d->owner);
	memset(d, 0, sizeof(*d));
}
