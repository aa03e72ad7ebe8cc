/* SPDX-License-Identifier: MIT */
/*
 * rk_inauth_dns: the DNS behind rk_inauth's checks, with ldns.  Each
 * query gets a resolver of its own (ldns resolvers keep per-query state,
 * and the milter asks from many threads at once); the configuration it
 * is made from is immutable.  Answers come back as text (see
 * rk_inauth.h), which is what libspf2's DNS layer, libopendkim's key
 * lookup and the DMARC record store take.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ldns/ldns.h>

#include "rk_inauth.h"
#include "rk_mem.h"

#define DNS_TIMEOUT_S 3
#define DNS_RETRIES   2
#define DNS_MAX_RRS   64

struct ldns_conf {
	struct rk_inauth_dns ops;
	char addr[64]; /* "" for /etc/resolv.conf */
	uint16_t port;
};

void
rk_dns_rrs_free(char **rrs, size_t n)
{
	for (size_t i = 0; rrs != NULL && i < n; i++)
		free(rrs[i]);
	free(rrs);
}

static ldns_resolver *
resolver(const struct ldns_conf *c)
{
	ldns_resolver *res = NULL;
	struct timeval tv = { DNS_TIMEOUT_S, 0 };

	if (c->addr[0] == '\0') {
		if (ldns_resolver_new_frm_file(&res, NULL) != LDNS_STATUS_OK)
			return NULL;
	} else {
		ldns_rdf *ns = ldns_rdf_new_frm_str(
		    strchr(c->addr, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
		    c->addr);

		if (ns == NULL)
			return NULL;
		res = ldns_resolver_new();
		ldns_resolver_push_nameserver(res, ns);
		ldns_rdf_deep_free(ns);
		ldns_resolver_set_port(res, c->port);
		ldns_resolver_set_recursive(res, true);
	}
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, DNS_RETRIES);
	return res;
}

/* A TXT record's character-strings, joined (RFC 7208 3.3, RFC 6376). */
static char *
txt_text(const ldns_rr *rr)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_puts(&b, "");
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, j);
		const uint8_t *d = ldns_rdf_data(f);
		size_t l = ldns_rdf_size(f);

		if (l > 0 && (size_t)d[0] + 1 <= l)
			rk_buf_append(&b, d + 1, d[0]);
	}
	return rk_buf_steal(&b);
}

/* The rdata field as text, a host name without its final dot. */
static char *
rdf_text(const ldns_rdf *f)
{
	char *s = f ? ldns_rdf2str(f) : NULL, *out;
	size_t l;

	if (s == NULL)
		return NULL;
	l = strlen(s);
	if (l > 1 && s[l - 1] == '.')
		s[--l] = '\0';
	out = rk_strdup(s);
	free(s); /* ldns's malloc */
	return out;
}

static char *
rr_text(const ldns_rr *rr, enum rk_dns_type type)
{
	switch (type) {
	case RK_DNS_TXT:
		return txt_text(rr);
	case RK_DNS_MX:
		return rdf_text(ldns_rr_rdf(rr, 1));
	default:
		return rdf_text(ldns_rr_rdf(rr, 0));
	}
}

static enum rk_dns_status
answers(ldns_pkt *pkt, enum rk_dns_type type, char ***rrs, size_t *n)
{
	ldns_rr_list *l;
	size_t cnt;

	if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN)
		return RK_DNS_NXDOMAIN;
	if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR)
		return RK_DNS_TEMPFAIL;
	l = ldns_pkt_rr_list_by_type(
	    pkt, (ldns_rr_type)type, LDNS_SECTION_ANSWER);
	cnt = l ? ldns_rr_list_rr_count(l) : 0;
	if (cnt > DNS_MAX_RRS)
		cnt = DNS_MAX_RRS;
	for (size_t i = 0; i < cnt; i++) {
		char *t = rr_text(ldns_rr_list_rr(l, i), type);

		if (t == NULL)
			continue;
		*rrs = rk_reallocarray(*rrs, *n + 1, sizeof(**rrs));
		(*rrs)[(*n)++] = t;
	}
	ldns_rr_list_deep_free(l);
	return *n > 0 ? RK_DNS_OK : RK_DNS_NODATA;
}

static enum rk_dns_status
ldns_query(
    void *arg, const char *name, enum rk_dns_type type, char ***rrs, size_t *n)
{
	const struct ldns_conf *c = arg;
	ldns_resolver *res;
	ldns_rdf *dname;
	ldns_pkt *pkt;
	enum rk_dns_status st = RK_DNS_TEMPFAIL;

	*rrs = NULL;
	*n = 0;
	if ((dname = ldns_dname_new_frm_str(name)) == NULL)
		return RK_DNS_NXDOMAIN; /* not a name: nothing can exist */
	if ((res = resolver(c)) != NULL) {
		pkt = ldns_resolver_query(
		    res, dname, (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
		if (pkt != NULL) {
			st = answers(pkt, type, rrs, n);
			ldns_pkt_free(pkt);
		}
		ldns_resolver_deep_free(res);
	}
	ldns_rdf_deep_free(dname);
	return st;
}

/* "ADDR", "ADDR:PORT", "[V6]:PORT" or a bare IPv6 address. */
static int
parse_server(struct ldns_conf *c, const char *s, struct rk_err *err)
{
	const char *colon = strrchr(s, ':'), *end = s + strlen(s);
	unsigned long port = 53;
	char *e;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL)
			return rk_err_set(err, "resolver %s: no ']'", s);
		end = rb;
		s++;
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else if (colon != NULL && strchr(s, ':') != colon) {
		colon = NULL; /* a bare IPv6 address */
	} else if (colon != NULL) {
		end = colon;
	}
	if (colon != NULL) {
		port = strtoul(colon + 1, &e, 10);
		if (*e != '\0' || port == 0 || port > 65535)
			return rk_err_set(err, "resolver %s: bad port", s);
	}
	if ((size_t)(end - s) == 0 || (size_t)(end - s) >= sizeof(c->addr))
		return rk_err_set(err, "resolver %s: bad address", s);
	memcpy(c->addr, s, (size_t)(end - s));
	c->addr[end - s] = '\0';
	c->port = (uint16_t)port;
	return 0;
}

struct rk_inauth_dns *
rk_inauth_dns_ldns(const char *server, struct rk_err *err)
{
	struct ldns_conf *c = rk_calloc(1, sizeof(*c));

	c->ops.query = ldns_query;
	c->ops.arg = c;
	if (server != NULL && *server != '\0' &&
	    parse_server(c, server, err) != 0) {
		free(c);
		return NULL;
	}
	return &c->ops;
}

void
rk_inauth_dns_ldns_free(struct rk_inauth_dns *d)
{
	free(d); /* ops is the first member of struct ldns_conf */
}
