/* SPDX-License-Identifier: MIT */
/*
 * dc_dns: DNS queries, zone transfers and server lists through ldns.
 *
 * A struct dc_dns talks to one server (check and wait ask every
 * authoritative server of a zone on its own, with recursion off, so that
 * no cache answers) or to the system's resolvers.  ldns parses the wire
 * format; turning its records into dc_rr values (the owner name matched,
 * TXT strings joined, lengths checked) is ours, and is exposed as
 * dc_answer_from_wire for the fuzzer.  TSIG secrets are wiped from ldns's
 * copy before the resolver is freed.  Single-threaded; blocking I/O with
 * a 3 s timeout per try.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define DNS_TIMEOUT_S    3
#define DNS_RETRY        2
#define AUTH_SERVERS_MAX 8
#define WIRE_MAX         65535

struct dc_dns {
	ldns_resolver *res;
	bool recursive;
	char label[300];
};

/* ------------------------------------------------------------ servers */

static int
port_parse(const char *s, uint16_t *port, struct rk_err *err)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return rk_err_set(err, "port \"%s\": want 1..65535", s);
	*port = (uint16_t)v;
	return 0;
}

int
dc_server_parse(const char *s, struct dc_server *out, struct rk_err *err)
{
	const char *colon = strrchr(s, ':'), *host = s;
	size_t hlen = strlen(s);

	out->port = 53;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return rk_err_set(
			    err, "\"%s\": want [ADDRESS]:PORT", s);
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':' &&
		    port_parse(close + 2, &out->port, err) == -1)
			return -1;
	} else if (colon != NULL && strchr(s, ':') == colon) {
		hlen = (size_t)(colon - s);
		if (port_parse(colon + 1, &out->port, err) == -1)
			return -1;
	}
	if (hlen == 0 || hlen >= sizeof(out->host))
		return rk_err_set(err, "\"%s\": no host", s);
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	return 0;
}

char *
dc_server_format(const struct dc_server *s, char *buf, size_t n)
{
	snprintf(buf, n, strchr(s->host, ':') ? "[%s]:%u" : "%s:%u", s->host,
	    (unsigned)s->port);
	return buf;
}

/* The server's address as an ldns rdf: a literal, or the first found. */
static ldns_rdf *
server_addr(const char *host, struct rk_err *err)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char buf[INET6_ADDRSTRLEN];
	ldns_rdf *rdf;
	int rc;

	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0) {
		rk_err_set(err, "%s: %s", host, gai_strerror(rc));
		return NULL;
	}
	if (ai->ai_family == AF_INET)
		inet_ntop(AF_INET,
		    &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, buf,
		    sizeof(buf));
	else
		inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr,
		    buf, sizeof(buf));
	rdf = ldns_rdf_new_frm_str(
	    ai->ai_family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
	    buf);
	freeaddrinfo(ai);
	if (rdf == NULL)
		rk_err_set(err, "%s: address %s not usable", host, buf);
	return rdf;
}

static void
resolver_setup(ldns_resolver *res, bool recursive)
{
	struct timeval tv = { DNS_TIMEOUT_S, 0 };

	ldns_resolver_set_recursive(res, recursive);
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, DNS_RETRY);
	ldns_resolver_set_retrans(res, 1);
	/* A truncated answer (a long DKIM key) is asked again over TCP. */
	ldns_resolver_set_fallback(res, true);
	ldns_resolver_set_dnssec(res, false);
}

static void
tsig_setup(ldns_resolver *res, const struct dc_tsig *tsig)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_printf(&b, "%s.", tsig->algorithm);
	ldns_resolver_set_tsig_algorithm(res, b.data);
	rk_buf_reset(&b);
	rk_buf_printf(&b, "%s.", tsig->name);
	ldns_resolver_set_tsig_keyname(res, b.data);
	rk_buf_free(&b);
	ldns_resolver_set_tsig_keydata(res, tsig->secret);
}

struct dc_dns *
dc_dns_new(const struct dc_server *server, bool recursive,
    const struct dc_tsig *tsig, struct rk_err *err)
{
	ldns_rdf *addr = server_addr(server->host, err);
	struct dc_dns *dns;

	if (addr == NULL)
		return NULL;
	dns = rk_calloc(1, sizeof(*dns));
	dns->res = ldns_resolver_new();
	if (dns->res == NULL)
		rk_panic("ldns_resolver_new: out of memory");
	ldns_resolver_push_nameserver(dns->res, addr);
	ldns_rdf_deep_free(addr);
	ldns_resolver_set_port(dns->res, server->port);
	resolver_setup(dns->res, recursive);
	if (tsig != NULL && tsig->name != NULL)
		tsig_setup(dns->res, tsig);
	dns->recursive = recursive;
	dc_server_format(server, dns->label, sizeof(dns->label));
	return dns;
}

struct dc_dns *
dc_dns_new_system(struct rk_err *err)
{
	struct dc_dns *dns = rk_calloc(1, sizeof(*dns));
	ldns_status st = ldns_resolver_new_frm_file(&dns->res, NULL);

	if (st != LDNS_STATUS_OK) {
		rk_err_set(
		    err, "/etc/resolv.conf: %s", ldns_get_errorstr_by_id(st));
		free(dns);
		return NULL;
	}
	resolver_setup(dns->res, true);
	dns->recursive = true;
	snprintf(dns->label, sizeof(dns->label), "the system's resolver");
	return dns;
}

void
dc_dns_free(struct dc_dns *dns)
{
	const char *key;

	if (dns == NULL)
		return;
	key = ldns_resolver_tsig_keydata(dns->res);
	if (key != NULL)
		rk_memzero((void *)(uintptr_t)key, strlen(key));
	ldns_resolver_deep_free(dns->res);
	free(dns);
}

const char *
dc_dns_label(const struct dc_dns *dns)
{
	return dns->label;
}

const char *
dc_dns_rcode_str(int rcode, char *buf, size_t n)
{
	ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, rcode);

	if (t != NULL)
		snprintf(buf, n, "%s", t->name);
	else
		snprintf(buf, n, "rcode %d", rcode);
	return buf;
}

const char *
dc_dns_tsig_error(const struct ldns_struct_pkt *pkt)
{
	ldns_rr *tsig = pkt ? ldns_pkt_tsig(pkt) : NULL;
	uint16_t e;

	if (tsig == NULL || ldns_rr_rd_count(tsig) < 6 ||
	    ldns_rdf_size(ldns_rr_rdf(tsig, 5)) != 2)
		return NULL;
	e = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
	switch (e) {
	case 0:
		return NULL;
	case 16:
		return "BADSIG (a wrong dns.rfc2136.tsigSecret)";
	case 17:
		return "BADKEY (the server knows no key of that "
		       "dns.rfc2136.tsigKeyName and tsigAlgorithm)";
	case 18:
		return "BADTIME (the clocks differ by more than 5 minutes)";
	default:
		return "TSIG error";
	}
}

/* A failed exchange in words: the TSIG verdict first, if there is one. */
static int
send_failed(const struct dc_dns *dns, const ldns_pkt *pkt, ldns_status st,
    const char *what, struct rk_err *err)
{
	const char *tsig = dc_dns_tsig_error(pkt);
	const char *key = ldns_resolver_tsig_keyname(dns->res);

	if (tsig != NULL || st == LDNS_STATUS_CRYPTO_TSIG_BOGUS)
		return rk_err_set(err, "%s refused the TSIG key %s (%s): %s",
		    dns->label, key ? key : "?", what,
		    tsig ? tsig : "the answer's signature does not verify");
	return rk_err_set(
	    err, "%s: %s: %s", dns->label, what, ldns_get_errorstr_by_id(st));
}

/*
 * One exchange over TCP with the handle's server, signed and verified
 * here rather than in ldns_resolver_send, which drops an answer whose
 * signature fails and with it the TSIG error that says why.
 */
int
dc_dns_exchange(struct dc_dns *dns, struct ldns_struct_pkt *q,
    struct ldns_struct_pkt **ans, const char *what, struct rk_err *err)
{
	ldns_resolver *res = dns->res;
	const char *key = ldns_resolver_tsig_keyname(res);
	const char *data = ldns_resolver_tsig_keydata(res);
	const ldns_rdf *mac = NULL;
	struct sockaddr_storage *to;
	ldns_buffer *buf;
	uint8_t *wire = NULL;
	size_t len = 0, tolen = 0;
	ldns_status st;
	int rc = 0;

	*ans = NULL;
	ldns_pkt_set_random_id(q);
	if (key != NULL && data != NULL) {
		st = ldns_pkt_tsig_sign(
		    q, key, data, 300, ldns_resolver_tsig_algorithm(res), NULL);
		if (st != LDNS_STATUS_OK)
			return rk_err_set(err,
			    "%s: cannot sign with TSIG (%s): is the secret "
			    "base64?",
			    what, ldns_get_errorstr_by_id(st));
		mac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
	}
	buf = ldns_buffer_new(LDNS_MAX_PACKETLEN);
	to = ldns_rdf2native_sockaddr_storage(
	    ldns_resolver_nameservers(res)[0], ldns_resolver_port(res), &tolen);
	st = buf == NULL || to == NULL ? LDNS_STATUS_MEM_ERR
	                               : ldns_pkt2buffer_wire(buf, q);
	if (st == LDNS_STATUS_OK)
		st = ldns_tcp_send(&wire, buf, to, (socklen_t)tolen,
		    ldns_resolver_timeout(res), &len);
	free(to);
	ldns_buffer_free(buf);
	if (st == LDNS_STATUS_OK)
		st = ldns_wire2pkt(ans, wire, len);
	if (st != LDNS_STATUS_OK)
		rc = rk_err_set(err, "%s: %s: %s", dns->label, what,
		    ldns_get_errorstr_by_id(st));
	else if (ldns_pkt_id(*ans) != ldns_pkt_id(q))
		rc = rk_err_set(
		    err, "%s: %s: answer to another query", dns->label, what);
	else if (key != NULL &&
	    (dc_dns_tsig_error(*ans) != NULL ||
	        !ldns_pkt_tsig_verify(*ans, wire, len, key, data, mac)))
		rc = send_failed(
		    dns, *ans, LDNS_STATUS_CRYPTO_TSIG_BOGUS, what, err);
	free(wire);
	return rc;
}

/* ------------------------------------------------------------ answers */

void
dc_answer_clear(struct dc_answer *a)
{
	dc_rrs_free(&a->rrs);
	free(a->zone);
	memset(a, 0, sizeof(*a));
}

/* A domain name rdf as our normalised text; caller frees. */
static char *
dname_text(const ldns_rdf *rdf)
{
	char *s, *out;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return NULL;
	s = ldns_rdf2str(rdf);
	if (s == NULL)
		return NULL;
	out = rk_strdup(s);
	free(s);
	dc_name_norm(out);
	return out;
}

static int
addr_value(const ldns_rdf *rdf, int family, struct rk_buf *b)
{
	char buf[INET6_ADDRSTRLEN];
	size_t want = family == AF_INET ? 4 : 16;

	if (rdf == NULL || ldns_rdf_size(rdf) != want)
		return -1;
	inet_ntop(family, ldns_rdf_data(rdf), buf, sizeof(buf));
	rk_buf_puts(b, buf);
	return 0;
}

static int
mx_value(const ldns_rr *rr, struct rk_buf *b)
{
	const ldns_rdf *pref = ldns_rr_rdf(rr, 0);
	char *host;

	if (ldns_rr_rd_count(rr) != 2 || pref == NULL ||
	    ldns_rdf_size(pref) != 2)
		return -1;
	host = dname_text(ldns_rr_rdf(rr, 1));
	if (host == NULL)
		return -1;
	rk_buf_printf(b, "%u %s", (unsigned)ldns_rdf2native_int16(pref), host);
	free(host);
	return 0;
}

/*
 * The character-strings joined (a NUL byte becomes "\000"), and in raw
 * the strings as a zone file writes them, boundaries kept.
 */
static int
txt_value(const ldns_rr *rr, struct rk_buf *b, struct rk_buf *raw)
{
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *s = ldns_rr_rdf(rr, i);
		const uint8_t *d;
		size_t size;

		if (s == NULL || ldns_rdf_get_type(s) != LDNS_RDF_TYPE_STR)
			return -1;
		d = ldns_rdf_data(s);
		size = ldns_rdf_size(s);
		if (size < 1 || (size_t)d[0] + 1 != size)
			return -1;
		if (i > 0)
			rk_buf_putc(raw, ' ');
		dc_txt_quote_bytes(d + 1, size - 1, raw);
		for (size_t j = 1; j < size; j++) {
			if (d[j] == 0)
				rk_buf_puts(b, "\\000");
			else
				rk_buf_putc(b, (char)d[j]);
		}
		if (b->len > DC_TXT_MAX)
			return -1;
	}
	return 0;
}

static int
rr_type_of(ldns_rr_type t)
{
	switch (t) {
	case LDNS_RR_TYPE_A:
		return DC_A;
	case LDNS_RR_TYPE_AAAA:
		return DC_AAAA;
	case LDNS_RR_TYPE_MX:
		return DC_MX;
	case LDNS_RR_TYPE_TXT:
		return DC_TXT;
	default:
		return DC_OTHER;
	}
}

static ldns_rr_type
ldns_type_of(int type)
{
	static const ldns_rr_type map[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA,
		LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT };

	return type >= DC_A && type <= DC_TXT ? map[type] : LDNS_RR_TYPE_SOA;
}

/* One A/AAAA/MX/TXT record into rrs; -1 for a malformed one. */
static int
rr_add(const ldns_rr *rr, const char *owner, struct dc_rrs *rrs)
{
	int type = rr_type_of(ldns_rr_get_type(rr));
	struct rk_buf b, raw;
	int rc = -1;

	rk_buf_init(&b);
	rk_buf_init(&raw);
	if (type == DC_A || type == DC_AAAA)
		rc = ldns_rr_rd_count(rr) == 1
		    ? addr_value(ldns_rr_rdf(rr, 0),
		          type == DC_A ? AF_INET : AF_INET6, &b)
		    : -1;
	else if (type == DC_MX)
		rc = mx_value(rr, &b);
	else if (type == DC_TXT)
		rc = txt_value(rr, &b, &raw);
	if (rc == 0) {
		dc_rrs_add(rrs, owner, type, ldns_rr_ttl(rr),
		    b.data ? b.data : "", NULL);
		if (type == DC_TXT)
			rrs->v[rrs->n - 1].raw = rk_buf_steal(&raw);
	}
	rk_buf_free(&b);
	rk_buf_free(&raw);
	return rc;
}

static void
soa_zone(const ldns_rr_list *list, const char *name, bool need_owner,
    struct dc_answer *out)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		char *owner;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || out->zone)
			continue;
		owner = dname_text(ldns_rr_owner(rr));
		if (owner == NULL)
			continue;
		if (need_owner && strcmp(owner, name) != 0) {
			free(owner);
			continue;
		}
		out->zone = owner;
	}
}

static int
answer_from_pkt(const ldns_pkt *pkt, const char *name, int type,
    struct dc_answer *out, struct rk_err *err)
{
	const ldns_rr_list *ans = ldns_pkt_answer(pkt);

	memset(out, 0, sizeof(*out));
	out->rcode = ldns_pkt_get_rcode(pkt);
	out->aa = ldns_pkt_aa(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ans, i);
		char *owner = dname_text(ldns_rr_owner(rr));

		if (owner == NULL || strcmp(owner, name) != 0 ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
			free(owner);
			continue;
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
			out->cname = true;
		if (rr_type_of(ldns_rr_get_type(rr)) == type &&
		    type != DC_OTHER && rr_add(rr, owner, &out->rrs) == -1) {
			free(owner);
			dc_answer_clear(out);
			return rk_err_set(err, "malformed %s record for %s",
			    dc_type_name(type), name);
		}
		free(owner);
	}
	soa_zone(ans, name, true, out);
	soa_zone(ldns_pkt_authority(pkt), name, false, out);
	return 0;
}

int
dc_answer_from_wire(const uint8_t *wire, size_t len, const char *name, int type,
    struct dc_answer *out, struct rk_err *err)
{
	ldns_pkt *pkt = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > WIRE_MAX ||
	    ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		ldns_pkt_free(pkt);
		return rk_err_set(err, "not a DNS message");
	}
	rc = answer_from_pkt(pkt, name, type, out, err);
	ldns_pkt_free(pkt);
	return rc;
}

/* ------------------------------------------------------------ queries */

/* A TSIG-signed query (dynamic-update servers): over dc_dns_exchange. */
static int
query_signed(struct dc_dns *dns, ldns_rdf *dname, const char *name, int type,
    struct dc_answer *out, struct rk_err *err)
{
	ldns_pkt *q =
	    ldns_pkt_query_new(dname, ldns_type_of(type), LDNS_RR_CLASS_IN, 0);
	ldns_pkt *ans = NULL;
	char what[300];
	int rc;

	snprintf(what, sizeof(what), "%s %s", name,
	    type == DC_OTHER ? "SOA" : dc_type_name(type));
	rc = dc_dns_exchange(dns, q, &ans, what, err);
	if (rc == 0)
		rc = answer_from_pkt(ans, name, type, out, err);
	ldns_pkt_free(ans);
	ldns_pkt_free(q);
	return rc;
}

int
dc_dns_query(struct dc_dns *dns, const char *name, int type,
    struct dc_answer *out, struct rk_err *err)
{
	ldns_rdf *dname = ldns_dname_new_frm_str(name);
	ldns_pkt *pkt = NULL;
	ldns_status st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (dname == NULL)
		return rk_err_set(err, "\"%s\" is not a domain name", name);
	if (ldns_resolver_tsig_keyname(dns->res) != NULL)
		return query_signed(dns, dname, name, type, out, err);
	st = ldns_resolver_send(&pkt, dns->res, dname, ldns_type_of(type),
	    LDNS_RR_CLASS_IN, dns->recursive ? LDNS_RD : 0);
	ldns_rdf_deep_free(dname);
	if (st != LDNS_STATUS_OK || pkt == NULL ||
	    dc_dns_tsig_error(pkt) != NULL) {
		char what[300];

		snprintf(what, sizeof(what), "%s %s", name,
		    type == DC_OTHER ? "SOA" : dc_type_name(type));
		rc = send_failed(dns, pkt, st, what, err);
		ldns_pkt_free(pkt);
		return rc;
	}
	rc = answer_from_pkt(pkt, name, type, out, err);
	ldns_pkt_free(pkt);
	return rc;
}

int
dc_dns_zone_of(
    struct dc_dns *dns, const char *name, char **zone, struct rk_err *err)
{
	struct dc_answer a;
	char rc[32];

	*zone = NULL;
	if (dc_dns_query(dns, name, DC_OTHER, &a, err) == -1)
		return -1;
	if (a.rcode != LDNS_RCODE_NOERROR && a.rcode != LDNS_RCODE_NXDOMAIN) {
		rk_err_set(err, "%s: SOA %s: %s", dns->label, name,
		    dc_dns_rcode_str(a.rcode, rc, sizeof(rc)));
		dc_answer_clear(&a);
		return -1;
	}
	if (a.zone == NULL || !dc_name_in(name, a.zone)) {
		rk_err_set(err, "%s: no zone holds %s", dns->label, name);
		dc_answer_clear(&a);
		return -1;
	}
	*zone = a.zone;
	a.zone = NULL;
	dc_answer_clear(&a);
	return 0;
}

/* Why a transfer failed: the TSIG error or rcode of the last packet. */
static int
axfr_failed(
    struct dc_dns *dns, const char *zone, ldns_status st, struct rk_err *err)
{
	const ldns_pkt *last = ldns_axfr_last_pkt(dns->res);
	const char *tsig = dc_dns_tsig_error(last);
	char rc[32];

	if (tsig != NULL)
		return rk_err_set(err,
		    "%s: zone transfer of %s refused: TSIG error %s (or the "
		    "key may not transfer the zone)",
		    dns->label, zone, tsig);
	if (last != NULL && ldns_pkt_get_rcode(last) != LDNS_RCODE_NOERROR)
		return rk_err_set(err, "%s: zone transfer of %s refused: %s",
		    dns->label, zone,
		    dc_dns_rcode_str(ldns_pkt_get_rcode(last), rc, sizeof(rc)));
	return rk_err_set(err, "%s: zone transfer of %s failed: %s", dns->label,
	    zone,
	    st != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(st) : "incomplete");
}

int
dc_dns_axfr(struct dc_dns *dns, const char *zone, struct dc_rrs *out,
    size_t *total, struct rk_err *err)
{
	ldns_rdf *dname = ldns_dname_new_frm_str(zone);
	ldns_status st;
	ldns_rr *rr;
	size_t soas = 0;

	*total = 0;
	if (dname == NULL)
		return rk_err_set(err, "\"%s\" is not a zone name", zone);
	st = ldns_axfr_start(dns->res, dname, LDNS_RR_CLASS_IN);
	ldns_rdf_deep_free(dname);
	if (st != LDNS_STATUS_OK)
		return axfr_failed(dns, zone, st, err);
	while ((rr = ldns_axfr_next(dns->res)) != NULL) {
		char *owner = dname_text(ldns_rr_owner(rr));

		/* The SOA opens and closes the transfer: count it once. */
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && soas++ > 0) {
			free(owner);
			ldns_rr_free(rr);
			continue;
		}
		(*total)++;
		if (owner != NULL &&
		    rr_type_of(ldns_rr_get_type(rr)) != DC_OTHER)
			(void)rr_add(rr, owner, out);
		free(owner);
		ldns_rr_free(rr);
	}
	if (!ldns_axfr_complete(dns->res)) {
		ldns_axfr_abort(dns->res);
		dc_rrs_free(out);
		*total = 0;
		return axfr_failed(dns, zone, LDNS_STATUS_OK, err);
	}
	return 0;
}

/* ------------------------------------------------- authoritative servers */

static void
add_server(struct dc_server **out, size_t *n, const char *host)
{
	struct addrinfo hints = { 0 }, *ai = NULL;

	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return;
	for (struct addrinfo *p = ai; p != NULL && *n < AUTH_SERVERS_MAX;
	     p = p->ai_next) {
		struct dc_server *s;
		const void *a = p->ai_family == AF_INET
		    ? (const void *)&((struct sockaddr_in *)(void *)p->ai_addr)
		          ->sin_addr
		    : (const void *)&((struct sockaddr_in6 *)(void *)p->ai_addr)
		          ->sin6_addr;

		*out = rk_reallocarray(*out, *n + 1, sizeof(**out));
		s = &(*out)[(*n)++];
		inet_ntop(p->ai_family, a, s->host, sizeof(s->host));
		s->port = 53;
	}
	freeaddrinfo(ai);
}

/* The zone's NS records through the system's resolvers. */
static int
ns_servers(
    const char *zone, struct dc_server **out, size_t *n, struct rk_err *err)
{
	struct dc_dns *sys = dc_dns_new_system(err);
	ldns_rdf *dname = ldns_dname_new_frm_str(zone);
	ldns_pkt *pkt = NULL;
	ldns_rr_list *ns;

	if (sys == NULL || dname == NULL) {
		ldns_rdf_deep_free(dname);
		dc_dns_free(sys);
		return sys == NULL ? -1 : rk_err_set(err, "bad zone %s", zone);
	}
	(void)ldns_resolver_send(
	    &pkt, sys->res, dname, LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_rdf_deep_free(dname);
	ns = pkt ? ldns_pkt_rr_list_by_type(
	               pkt, LDNS_RR_TYPE_NS, LDNS_SECTION_ANSWER)
	         : NULL;
	for (size_t i = 0; ns != NULL && i < ldns_rr_list_rr_count(ns); i++) {
		char *host = dname_text(ldns_rr_rdf(ldns_rr_list_rr(ns, i), 0));

		if (host != NULL)
			add_server(out, n, host);
		free(host);
	}
	ldns_rr_list_deep_free(ns);
	ldns_pkt_free(pkt);
	dc_dns_free(sys);
	if (*n == 0)
		return rk_err_set(err,
		    "no authoritative server found for %s (set "
		    "dns.nameservers)",
		    zone);
	return 0;
}

int
dc_dns_authorities(const struct rk_cfg *cfg, const char *zone,
    struct dc_server **out, size_t *n, struct rk_err *err)
{
	*out = NULL;
	*n = 0;
	if (cfg->dns.nnameservers == 0)
		return ns_servers(zone, out, n, err);
	*out = rk_calloc(cfg->dns.nnameservers, sizeof(**out));
	for (size_t i = 0; i < cfg->dns.nnameservers; i++) {
		if (dc_server_parse(cfg->dns.nameservers[i], &(*out)[i], err) ==
		    -1) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

/* ------------------------------------------------ zones, name by name */

static bool
asked(const struct dc_zone *z, size_t i, const char *name, int type)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(z->wants[j]->name, name) == 0 &&
		    z->wants[j]->type == type)
			return true;
	return false;
}

static int
read_one(struct dc_dns *dns, struct dc_zone *z, const char *name, int type,
    struct rk_err *err)
{
	struct dc_answer a;
	char b[32];
	int rc = dc_dns_query(dns, name, type, &a, err);

	if (rc == 0 && a.rcode != LDNS_RCODE_NOERROR &&
	    a.rcode != LDNS_RCODE_NXDOMAIN)
		rc = rk_err_set(err, "%s: %s %s: %s", dns->label, name,
		    dc_type_name(type),
		    dc_dns_rcode_str(a.rcode, b, sizeof(b)));
	for (size_t j = 0; rc == 0 && j < a.rrs.n; j++) {
		struct dc_rr *rr = &a.rrs.v[j];

		dc_rrs_add(
		    &z->rrs, rr->name, rr->type, rr->ttl, rr->value, NULL);
		z->rrs.v[z->rrs.n - 1].raw = rr->raw;
		rr->raw = NULL;
	}
	dc_answer_clear(&a);
	return rc;
}

int
dc_dns_read_names(struct dc_dns *dns, struct dc_zone *z, struct rk_err *err)
{
	char *reg = dc_name_abs(DC_REG_LABEL, z->name);
	int rc = 0;

	for (size_t i = 0; i < z->nwants && rc == 0; i++)
		if (!asked(z, i, z->wants[i]->name, z->wants[i]->type))
			rc = read_one(
			    dns, z, z->wants[i]->name, z->wants[i]->type, err);
	if (rc == 0)
		rc = read_one(dns, z, reg, DC_TXT, err);
	free(reg);
	return rc;
}

int
dc_dns_spf_fetch(void *arg, const char *domain, char **txt)
{
	struct dc_dns *dns = arg;
	struct dc_answer a;
	int found = 0;

	*txt = NULL;
	if (dc_dns_query(dns, domain, DC_TXT, &a, NULL) == -1)
		return -1;
	for (size_t i = 0; i < a.rrs.n; i++) {
		if (!dc_spf_is(a.rrs.v[i].value))
			continue;
		if (found++ == 0)
			*txt = rk_strdup(a.rrs.v[i].value);
	}
	dc_answer_clear(&a);
	if (found == 1)
		return 0;
	free(*txt);
	*txt = NULL;
	return -1;
}

struct dc_dns *
dc_dns_helper(const struct rk_cfg *cfg, struct rk_err *err)
{
	struct dc_server s;

	if (cfg->dns.nnameservers == 0)
		return dc_dns_new_system(err);
	if (dc_server_parse(cfg->dns.nameservers[0], &s, err) == -1)
		return NULL;
	return dc_dns_new(&s, false, NULL, err);
}
