/* SPDX-License-Identifier: MIT */
/*
 * rk_inauth: SPF with libspf2, DKIM with libopendkim, DMARC with
 * libopendmarc, all asking DNS through struct rk_inauth_dns (see
 * rk_inauth.h).  libspf2 gets a DNS layer of ours (its lookup hook);
 * libopendkim a key lookup callback; libopendmarc the record we found.
 * The DMARC record is looked for at the From domain, then up its tree
 * (DMARCbis's tree walk), so no public suffix guess decides where to
 * stop looking; libopendmarc's relaxed alignment uses the public suffix
 * list.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <opendkim/dkim.h>
#include <opendmarc/dmarc.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "rk_addr.h"
#include "rk_inauth.h"
#include "rk_mem.h"

#define PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"
#define DMARC_WALK  8 /* labels tried above the From domain, at most */

struct rk_inauth {
	struct rk_inauth_opts o;
	SPF_server_t *spf;
	SPF_dns_server_t *spf_dns; /* ours: SPF_server_free leaves it */
	DKIM_LIB *dkim;
};

struct rk_inauth_msg {
	const struct rk_inauth *a;
	char ip[64];
	char helo[256];
	char mail_from[512];
	char from_domain[256];
	int nfrom;
	DKIM *dkim;
	bool dkim_broken; /* a library error: no verdict */
	bool eoh;
	bool cr; /* the last body byte was a CR */
};

static const char *const auth_names[] = { "none", "pass", "fail", "softfail",
	"neutral", "temperror", "permerror" };

const char *
rk_auth_name(enum rk_auth a)
{
	return (unsigned)a < sizeof(auth_names) / sizeof(auth_names[0])
	    ? auth_names[a]
	    : "none";
}

/* ------------------------------------------------ libspf2's DNS layer */

static SPF_dns_stat_t
herrno_of(enum rk_dns_status st)
{
	switch (st) {
	case RK_DNS_OK:
		return NETDB_SUCCESS;
	case RK_DNS_NXDOMAIN:
		return HOST_NOT_FOUND;
	case RK_DNS_NODATA:
		return NO_DATA;
	default:
		return TRY_AGAIN;
	}
}

/* One answer into rr's slot i; false when it does not parse. */
static bool
fill_rr(SPF_dns_rr_t *rr, int i, ns_type type, const char *s)
{
	size_t need = type == ns_t_a ? sizeof(struct in_addr)
	    : type == ns_t_aaaa      ? sizeof(struct in6_addr)
	                             : strlen(s) + 1;

	if (SPF_dns_rr_buf_realloc(rr, i, need) != SPF_E_SUCCESS)
		return false;
	if (type == ns_t_a)
		return inet_pton(AF_INET, s, &rr->rr[i]->a) == 1;
	if (type == ns_t_aaaa)
		return inet_pton(AF_INET6, s, &rr->rr[i]->aaaa) == 1;
	memcpy(rr->rr[i]->txt, s, need);
	return true;
}

static SPF_dns_rr_t *
spf_lookup(
    SPF_dns_server_t *srv, const char *domain, ns_type type, int should_cache)
{
	const struct rk_inauth_dns *dns = srv->hook;
	enum rk_dns_type t = (enum rk_dns_type)type;
	enum rk_dns_status st;
	SPF_dns_rr_t *rr;
	char **rrs = NULL;
	size_t n = 0;
	int k = 0;

	(void)should_cache;
	if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx &&
	    type != ns_t_ptr && type != ns_t_txt && type != ns_t_spf)
		return SPF_dns_rr_new_init(srv, domain, type, 0, NO_DATA);
	if (type == ns_t_spf) /* RFC 7208 retired the SPF type */
		return SPF_dns_rr_new_init(srv, domain, type, 0, NO_DATA);
	st = dns->query(dns->arg, domain, t, &rrs, &n);
	rr = SPF_dns_rr_new_init(srv, domain, type, 300, herrno_of(st));
	for (size_t i = 0; rr != NULL && st == RK_DNS_OK && i < n; i++)
		if (fill_rr(rr, k, type, rrs[i]))
			k++;
	if (rr != NULL)
		rr->num_rr = k;
	rk_dns_rrs_free(rrs, n);
	return rr;
}

static void
spf_dns_destroy(SPF_dns_server_t *srv)
{
	free(srv);
}

static SPF_dns_server_t *
spf_dns_new(const struct rk_inauth_dns *dns)
{
	SPF_dns_server_t *s = rk_calloc(1, sizeof(*s));

	s->destroy = spf_dns_destroy;
	s->lookup = spf_lookup;
	s->name = "relaykit";
	s->hook = (void *)(uintptr_t)dns;
	return s;
}

/* ------------------------------------------------------------- SPF */

static enum rk_auth
spf_word(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return RK_AUTH_PASS;
	case SPF_RESULT_FAIL:
		return RK_AUTH_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return RK_AUTH_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return RK_AUTH_NEUTRAL;
	case SPF_RESULT_TEMPERROR:
		return RK_AUTH_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return RK_AUTH_PERMERROR;
	default:
		return RK_AUTH_NONE;
	}
}

/*
 * libspf2 reports "none" when the lookup of the domain's own record
 * failed for now; RFC 7208 4.4 says temperror.  Asked again to tell the
 * two apart (only when the answer was none).
 */
static bool
record_unreachable(const struct rk_inauth_dns *dns, const char *domain)
{
	char **rrs = NULL;
	size_t n = 0;
	enum rk_dns_status st;

	if (domain[0] == '\0')
		return false;
	st = dns->query(dns->arg, domain, RK_DNS_TXT, &rrs, &n);
	rk_dns_rrs_free(rrs, n);
	return st == RK_DNS_TEMPFAIL;
}

/*
 * RFC 7208 2.4: the null sender is checked as postmaster@HELO.  The
 * identity checked goes to domain.
 */
static enum rk_auth
spf_check(const struct rk_inauth_msg *m, char *domain, size_t dn)
{
	SPF_request_t *req = SPF_request_new(m->a->spf);
	SPF_response_t *resp = NULL;
	char from[sizeof(m->mail_from) + 16];
	enum rk_auth r = RK_AUTH_NONE;
	const char *at;
	bool v6 = strchr(m->ip, ':') != NULL;

	if (m->mail_from[0] != '\0')
		snprintf(from, sizeof(from), "%s", m->mail_from);
	else if (m->helo[0] != '\0')
		snprintf(from, sizeof(from), "postmaster@%s", m->helo);
	else
		from[0] = '\0';
	at = strrchr(from, '@');
	snprintf(domain, dn, "%s", at ? at + 1 : "");
	if ((v6 ? SPF_request_set_ipv6_str(req, m->ip)
	        : SPF_request_set_ipv4_str(req, m->ip)) != SPF_E_SUCCESS ||
	    from[0] == '\0' ||
	    SPF_request_set_env_from(req, from) != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return RK_AUTH_NONE;
	}
	if (m->helo[0] != '\0')
		SPF_request_set_helo_dom(req, m->helo);
	SPF_request_query_mailfrom(req, &resp);
	if (resp != NULL)
		r = spf_word(SPF_response_result(resp));
	SPF_response_free(resp);
	SPF_request_free(req);
	return r == RK_AUTH_NONE && record_unreachable(m->a->o.dns, domain)
	    ? RK_AUTH_TEMPERROR
	    : r;
}

/* ------------------------------------------------------------ DKIM */

static DKIM_CBSTAT
dkim_key(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	const struct rk_inauth_msg *m = dkim_get_user_context(d);
	const struct rk_inauth_dns *dns = m->a->o.dns;
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char name[512], **rrs = NULL;
	size_t n = 0;
	enum rk_dns_status st;

	if (sel == NULL || dom == NULL ||
	    (size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel,
	        dom) >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	st = dns->query(dns->arg, name, RK_DNS_TXT, &rrs, &n);
	if (st == RK_DNS_TEMPFAIL) {
		rk_dns_rrs_free(rrs, n);
		return DKIM_CBSTAT_TRYAGAIN;
	}
	if (st != RK_DNS_OK || strlen(rrs[0]) >= buflen) {
		rk_dns_rrs_free(rrs, n);
		return DKIM_CBSTAT_NOTFOUND;
	}
	memcpy(buf, rrs[0], strlen(rrs[0]) + 1);
	rk_dns_rrs_free(rrs, n);
	return DKIM_CBSTAT_CONTINUE;
}

/* The first verified signature's domain; temperror if a key lookup
   failed for now and nothing verified. */
static enum rk_auth
dkim_verdict(struct rk_inauth_msg *m, DKIM_STAT eom, char *dom, size_t dn)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	bool tried = false;

	if (m->dkim == NULL || m->dkim_broken)
		return m->dkim_broken ? RK_AUTH_PERMERROR : RK_AUTH_NONE;
	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK ||
	    nsigs == 0)
		return eom == DKIM_STAT_NOSIG || eom == DKIM_STAT_OK
		    ? RK_AUTH_NONE
		    : RK_AUTH_PERMERROR;
	for (int i = 0; i < nsigs; i++) {
		tried = true;
		if (DKIM_SIG_CHECK(sigs[i])) {
			snprintf(dom, dn, "%s",
			    (const char *)dkim_sig_getdomain(sigs[i]));
			return RK_AUTH_PASS;
		}
	}
	if (eom == DKIM_STAT_KEYFAIL || eom == DKIM_STAT_CBTRYAGAIN)
		return RK_AUTH_TEMPERROR;
	if (tried && dkim_sig_getdomain(sigs[0]) != NULL)
		snprintf(
		    dom, dn, "%s", (const char *)dkim_sig_getdomain(sigs[0]));
	return RK_AUTH_FAIL;
}

/* ----------------------------------------------------------- DMARC */

/*
 * libopendmarc keeps its public suffix list in globals of its own, so it
 * is loaded once per process, the first time a DMARC check is set up,
 * under this lock; afterwards it is only read.  The one exception to
 * lib/'s rule of no mutable globals, forced by the library.
 */
static pthread_mutex_t dmarc_lock = PTHREAD_MUTEX_INITIALIZER;
static int dmarc_state; /* 0 not loaded, 1 loaded, -1 failed: under lock */

static bool
dmarc_init(const char *psl)
{
	OPENDMARC_LIB_T lib;
	bool ok;

	pthread_mutex_lock(&dmarc_lock);
	if (dmarc_state == 0) {
		memset(&lib, 0, sizeof(lib));
		lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		snprintf((char *)lib.tld_source_file,
		    sizeof(lib.tld_source_file), "%s", psl);
		dmarc_state =
		    opendmarc_policy_library_init(&lib) == DMARC_PARSE_OKAY
		    ? 1
		    : -1;
	}
	ok = dmarc_state == 1;
	pthread_mutex_unlock(&dmarc_lock);
	return ok;
}

/* The DMARC record for domain, walking up its labels; caller frees. */
static char *
dmarc_record(const struct rk_inauth_dns *dns, const char *domain,
    char *found_at, size_t fn, bool *tempfail)
{
	const char *d = domain;

	for (int i = 0; d != NULL && *d != '\0' && i <= DMARC_WALK; i++) {
		char name[300], **rrs = NULL, *rec = NULL;
		size_t n = 0;
		enum rk_dns_status st;

		snprintf(name, sizeof(name), "_dmarc.%s", d);
		st = dns->query(dns->arg, name, RK_DNS_TXT, &rrs, &n);
		if (st == RK_DNS_TEMPFAIL)
			*tempfail = true;
		for (size_t k = 0; st == RK_DNS_OK && k < n && !rec; k++)
			if (strncasecmp(rrs[k], "v=DMARC1", 8) == 0)
				rec = rk_strdup(rrs[k]);
		rk_dns_rrs_free(rrs, n);
		if (rec != NULL) {
			snprintf(found_at, fn, "%s", d);
			return rec;
		}
		/* a top-level domain has no policy of its own */
		d = strchr(d, '.');
		if (d != NULL && strchr(++d, '.') == NULL)
			break;
	}
	return NULL;
}

static const char *
policy_word(int p)
{
	return p == DMARC_RECORD_P_REJECT    ? "reject"
	    : p == DMARC_RECORD_P_QUARANTINE ? "quarantine"
	                                     : "none";
}

static void
dmarc_check(const struct rk_inauth_msg *m, struct rk_inauth_result *r)
{
	DMARC_POLICY_T *p;
	char at[256] = "", *rec;
	bool tf = false;
	int pol = 0, st;

	if (m->from_domain[0] == '\0')
		return;
	rec = dmarc_record(m->a->o.dns, m->from_domain, at, sizeof(at), &tf);
	if (rec == NULL) {
		r->dmarc = tf ? RK_AUTH_TEMPERROR : RK_AUTH_NONE;
		return;
	}
	p = opendmarc_policy_connect_init(
	    (u_char *)(uintptr_t)m->ip, strchr(m->ip, ':') ? 6 : 4);
	opendmarc_policy_store_from_domain(
	    p, (u_char *)(uintptr_t)m->from_domain);
	if (opendmarc_policy_store_dmarc(p, (u_char *)rec,
	        (u_char *)(uintptr_t)m->from_domain,
	        strcmp(at, m->from_domain) ? (u_char *)at : NULL) !=
	    DMARC_PARSE_OKAY) {
		r->dmarc = RK_AUTH_PERMERROR;
		goto out;
	}
	opendmarc_policy_store_spf(p, (u_char *)r->spf_domain,
	    r->spf == RK_AUTH_PASS            ? DMARC_POLICY_SPF_OUTCOME_PASS
	        : r->spf == RK_AUTH_FAIL      ? DMARC_POLICY_SPF_OUTCOME_FAIL
	        : r->spf == RK_AUTH_TEMPERROR ? DMARC_POLICY_SPF_OUTCOME_TMPFAIL
	                                      : DMARC_POLICY_SPF_OUTCOME_NONE,
	    m->mail_from[0] ? DMARC_POLICY_SPF_ORIGIN_MAILFROM
	                    : DMARC_POLICY_SPF_ORIGIN_HELO,
	    NULL);
	if (r->dkim_domain[0] != '\0')
		opendmarc_policy_store_dkim(p, (u_char *)r->dkim_domain, NULL,
		    r->dkim == RK_AUTH_PASS ? DMARC_POLICY_DKIM_OUTCOME_PASS
		        : r->dkim == RK_AUTH_TEMPERROR
		        ? DMARC_POLICY_DKIM_OUTCOME_TMPFAIL
		        : DMARC_POLICY_DKIM_OUTCOME_FAIL,
		    NULL);
	st = opendmarc_get_policy_to_enforce(p);
	opendmarc_policy_fetch_p(p, &pol);
	snprintf(
	    r->dmarc_policy, sizeof(r->dmarc_policy), "%s", policy_word(pol));
	r->dmarc = st == DMARC_POLICY_PASS ? RK_AUTH_PASS
	    : st == DMARC_POLICY_ABSENT    ? RK_AUTH_NONE
	    : (tf || r->spf == RK_AUTH_TEMPERROR ||
	          r->dkim == RK_AUTH_TEMPERROR)
	    ? RK_AUTH_TEMPERROR
	    : RK_AUTH_FAIL;
out:
	opendmarc_policy_connect_shutdown(p);
	free(rec);
}

/* ------------------------------------------------------------ object */

struct rk_inauth *
rk_inauth_new(const struct rk_inauth_opts *o, struct rk_err *err)
{
	struct rk_inauth *a = rk_calloc(1, sizeof(*a));
	DKIM_STAT st;

	a->o = *o;
	if (o->dns == NULL) {
		free(a);
		rk_err_set(err, "inbound checks: no DNS");
		return NULL;
	}
	a->spf_dns = spf_dns_new(o->dns);
	a->spf = SPF_server_new_dns(a->spf_dns, 0);
	a->dkim = dkim_init(NULL, NULL);
	if (a->spf == NULL || a->dkim == NULL ||
	    (st = dkim_set_key_lookup(a->dkim, dkim_key)) != DKIM_STAT_OK) {
		rk_inauth_free(a);
		rk_err_set(err,
		    "inbound checks: libspf2 or libopendkim failed "
		    "to start");
		return NULL;
	}
	if (o->dmarc && !dmarc_init(o->psl_file ? o->psl_file : PSL_DEFAULT)) {
		rk_inauth_free(a);
		rk_err_set(err,
		    "DMARC: libopendmarc cannot read the public "
		    "suffix list %s (apt-get install publicsuffix)",
		    o->psl_file ? o->psl_file : PSL_DEFAULT);
		return NULL;
	}
	return a;
}

void
rk_inauth_free(struct rk_inauth *a)
{
	if (a == NULL)
		return;
	/* a server made with SPF_server_new_dns does not own its layer */
	if (a->spf != NULL)
		SPF_server_free(a->spf);
	free(a->spf_dns);
	if (a->dkim != NULL)
		dkim_close(a->dkim);
	free(a);
}

/* -------------------------------------------------------- a message */

struct rk_inauth_msg *
rk_inauth_begin(const struct rk_inauth *a, const char *client_ip,
    const char *helo, const char *mail_from)
{
	struct rk_inauth_msg *m = rk_calloc(1, sizeof(*m));
	DKIM_STAT st;

	m->a = a;
	snprintf(m->ip, sizeof(m->ip), "%s", client_ip ? client_ip : "");
	snprintf(m->helo, sizeof(m->helo), "%s", helo ? helo : "");
	snprintf(m->mail_from, sizeof(m->mail_from), "%s",
	    mail_from ? mail_from : "");
	if (a->o.dkim) {
		m->dkim = dkim_verify(a->dkim, (const u_char *)"rk", NULL, &st);
		if (m->dkim != NULL)
			dkim_set_user_context(m->dkim, m);
	}
	return m;
}

/* Line breaks inside a folded value become CRLF, as DKIM hashes them. */
static char *
crlf_field(const char *name, const char *value)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_puts(&b, name);
	rk_buf_putc(&b, ':');
	for (const char *p = value; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n')
			rk_buf_putc(&b, '\r');
		rk_buf_putc(&b, *p);
	}
	return rk_buf_steal(&b);
}

static void
note_from(struct rk_inauth_msg *m, const char *value)
{
	struct rk_addr a;
	const char *lt = strchr(value, '<'), *s = lt ? lt : value;
	const char *e = lt ? strchr(lt, '>') : NULL;
	size_t n = e ? (size_t)(e - s) + 1 : strlen(s);

	if (m->nfrom++ > 0) { /* RFC 7489 6.6.1: several From: no domain */
		m->from_domain[0] = '\0';
		return;
	}
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (rk_addr_parse(s, n, RK_ADDR_BRACKETS | RK_ADDR_UTF8, &a, NULL) == 0)
		snprintf(
		    m->from_domain, sizeof(m->from_domain), "%s", a.domain);
}

void
rk_inauth_header(struct rk_inauth_msg *m, const char *name, const char *value)
{
	char *f;

	if (strcasecmp(name, "From") == 0)
		note_from(m, value);
	if (m->dkim == NULL || m->dkim_broken)
		return;
	f = crlf_field(name, value);
	if (dkim_header(m->dkim, (u_char *)f, strlen(f)) != DKIM_STAT_OK)
		m->dkim_broken = true;
	free(f);
}

/* No signature (NOSIG) is no error: the verdict is then "none". */
static bool
end_headers(struct rk_inauth_msg *m)
{
	DKIM_STAT st = dkim_eoh(m->dkim);

	m->eoh = true;
	if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG &&
	    st != DKIM_STAT_CANTVRFY && st != DKIM_STAT_SYNTAX)
		m->dkim_broken = true;
	return !m->dkim_broken;
}

/* Body bytes with every line ending made CRLF, as DKIM hashes them. */
void
rk_inauth_body(struct rk_inauth_msg *m, const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned char out[8192 * 2];
	size_t o = 0;

	if (m->dkim == NULL || m->dkim_broken)
		return;
	if (!m->eoh && !end_headers(m))
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && !m->cr)
			out[o++] = '\r';
		m->cr = s[i] == '\r';
		out[o++] = s[i];
		if (o >= sizeof(out) - 2 || i + 1 == n) {
			/* a signature that cannot verify still gets a verdict
			 */
			(void)dkim_body(m->dkim, out, o);
			o = 0;
		}
	}
}

void
rk_inauth_end(struct rk_inauth_msg *m, struct rk_inauth_result *out)
{
	DKIM_STAT eom = DKIM_STAT_NOSIG;

	memset(out, 0, sizeof(*out));
	if (m->a->o.spf)
		out->spf =
		    spf_check(m, out->spf_domain, sizeof(out->spf_domain));
	if (m->dkim != NULL && !m->dkim_broken && (m->eoh || end_headers(m)))
		eom = dkim_eom(m->dkim, NULL);
	if (m->a->o.dkim)
		out->dkim = dkim_verdict(
		    m, eom, out->dkim_domain, sizeof(out->dkim_domain));
	snprintf(
	    out->from_domain, sizeof(out->from_domain), "%s", m->from_domain);
	if (m->a->o.dmarc)
		dmarc_check(m, out);
}

void
rk_inauth_msg_free(struct rk_inauth_msg *m)
{
	if (m == NULL)
		return;
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	free(m);
}

/* ------------------------------------------------ a whole message */

void
rk_inauth_check(const struct rk_inauth *a, const char *client_ip,
    const char *helo, const char *mail_from, const char *buf, size_t len,
    struct rk_inauth_result *out)
{
	struct rk_inauth_msg *m =
	    rk_inauth_begin(a, client_ip, helo, mail_from);
	size_t pos = 0;
	struct rk_buf name, value;

	rk_buf_init(&name);
	rk_buf_init(&value);
	/* header fields up to the first empty line; continuations kept */
	while (pos < len) {
		const char *l = buf + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) + 1 : len - pos, body;
		const char *colon;

		body = ll - (nl ? 1 : 0);
		if (body > 0 && l[body - 1] == '\r')
			body--;
		if ((l[0] == ' ' || l[0] == '\t') && name.len > 0) {
			rk_buf_append(&value, "\n", 1);
			rk_buf_append(&value, l, body);
			pos += ll;
			continue;
		}
		if (name.len > 0)
			rk_inauth_header(m, name.data, value.data);
		rk_buf_reset(&name);
		rk_buf_reset(&value);
		pos += ll;
		if (body == 0 || (colon = memchr(l, ':', body)) == NULL)
			break;
		rk_buf_append(&name, l, (size_t)(colon - l));
		rk_buf_append(
		    &value, colon + 1, body - (size_t)(colon - l) - 1);
	}
	if (name.len > 0)
		rk_inauth_header(m, name.data, value.data);
	rk_inauth_body(m, buf + pos, len - pos);
	rk_inauth_end(m, out);
	rk_inauth_msg_free(m);
	rk_buf_free(&name);
	rk_buf_free(&value);
}

/* --------------------------------------------------------- refusal */

int
rk_inauth_refusal(const struct rk_inauth_result *r, bool spf_reject,
    bool dmarc_reject, char code[4], char xcode[8], char *text, size_t n)
{
	bool dmarc_enforced = strcmp(r->dmarc_policy, "reject") == 0 ||
	    strcmp(r->dmarc_policy, "quarantine") == 0;

	if (spf_reject && r->spf == RK_AUTH_FAIL) {
		snprintf(code, 4, "550");
		snprintf(xcode, 8, "5.7.1");
		snprintf(text, n,
		    "SPF check failed: %s does not designate the client as "
		    "a permitted sender",
		    r->spf_domain);
		return 1;
	}
	if (dmarc_reject && r->dmarc == RK_AUTH_FAIL && dmarc_enforced) {
		snprintf(code, 4, "550");
		snprintf(xcode, 8, "5.7.1");
		snprintf(text, n,
		    "DMARC policy of %s (p=%s) rejects this message: no "
		    "aligned SPF or DKIM pass",
		    r->from_domain, r->dmarc_policy);
		return 1;
	}
	if ((spf_reject && r->spf == RK_AUTH_TEMPERROR) ||
	    (dmarc_reject && r->dmarc == RK_AUTH_TEMPERROR)) {
		snprintf(code, 4, "451");
		snprintf(xcode, 8, "4.7.1");
		snprintf(text, n,
		    "SPF or DMARC could not be checked (DNS error); try "
		    "again later");
		return 1;
	}
	return 0;
}
