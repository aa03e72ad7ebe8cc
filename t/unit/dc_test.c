/* SPDX-License-Identifier: MIT */
/*
 * dc_test: relaykit-dnsctl's pure parts: TXT strings, SPF terms and
 * lookups, the ownership record, server names, HTTP back-off, echo and
 * Service answers, and plans: SPF merges, conflicts, ownership, the
 * change guard.  The real servers are in t/integ/dnsctl_*.t.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "dc.h"
#include "tap.h"

static void
test_txt(void)
{
	static const struct {
		const char *name, *in, *want; /* want NULL: refused */
	} cases[] = {
		{ "bare", "v=spf1 -all", "v=spf1 -all" },
		{ "one string", "\"v=spf1 -all\"", "v=spf1 -all" },
		{ "two strings joined", "\"ab\" \"cd\"", "abcd" },
		{ "escapes", "\"a\\\"b\\\\c\\065\"", "a\"b\\cA" },
		{ "NUL kept visible", "\"a\\000b\"", "a\\000b" },
		{ "unclosed", "\"abc", NULL },
		{ "text between strings", "\"a\" b \"c\"", NULL },
		{ "escape past 255", "\"\\256\"", NULL },
		{ "short escape", "\"\\25\"", NULL },
		{ "empty string", "\"\"", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		int rc = dc_txt_unquote(
		    cases[i].in, strlen(cases[i].in), &out, NULL);

		if (cases[i].want == NULL)
			ok(rc == -1, "unquote %s: refused", cases[i].name);
		else
			is_str(rc == 0 ? out : "(refused)", cases[i].want,
			    "unquote %s", cases[i].name);
		free(out);
	}
}

static void
test_split(void)
{
	char big[600];
	struct dc_strs s;
	char *q;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dc_txt_split(big, &s);
	ok(s.n == 3 && s.len[0] == 255 && s.len[1] == 255 && s.len[2] == 89,
	    "599 bytes: strings of 255, 255 and 89");
	dc_strs_free(&s);
	dc_txt_split("", &s);
	ok(s.n == 1 && s.len[0] == 0, "an empty value is one empty string");
	dc_strs_free(&s);
	q = dc_txt_quote("say \"hi\"\x01");
	is_str(q, "\"say \\\"hi\\\"\\001\"", "quote escapes \" and controls");
	free(q);
}

static int
fetch(void *arg, const char *domain, char **txt)
{
	(void)arg;
	if (strcmp(domain, "two.test") == 0)
		*txt = rk_strdup("v=spf1 a mx -all");
	else if (strcmp(domain, "loop.test") == 0)
		*txt = rk_strdup("v=spf1 include:loop.test -all");
	else
		return -1;
	return 0;
}

static void
test_spf(void)
{
	static const struct {
		const char *rec;
		size_t lookups;
		const char *unresolved;
	} cases[] = {
		{ "v=spf1 ip4:192.0.2.1 -all", 0, "" },
		{ "v=spf1 a mx ptr exists:%{i}.x.test ~all", 4, "" },
		{ "v=spf1 include:two.test -all", 3, "" },
		{ "v=spf1 include:nowhere.test -all", 1, "nowhere.test" },
		{ "v=spf1 redirect=two.test", 3, "" },
		{ "v=spf1 -all redirect=two.test", 0, "" },
		{ "v=spf1 include:loop.test", 11, "loop.test" },
		{ "V=SPF1 +A", 1, "" },
	};
	struct dc_spf_fetch f = { fetch, NULL };
	struct dc_spf spf;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rk_buf unres;

		rk_buf_init(&unres);
		if (!ok(dc_spf_parse(cases[i].rec, &spf, NULL) == 0, "parse %s",
		        cases[i].rec))
			continue;
		is_int((intmax_t)dc_spf_lookups(&spf, &f, &unres),
		    (intmax_t)cases[i].lookups, "lookups of %s", cases[i].rec);
		is_str(unres.len ? unres.data : "", cases[i].unresolved,
		    "unresolved in %s", cases[i].rec);
		rk_buf_free(&unres);
		dc_spf_free(&spf);
	}
	ok(!dc_spf_is("v=spf10 -all") && !dc_spf_is("v=DMARC1"),
	    "v=spf10 and DMARC are not SPF");
	ok(dc_spf_term_eq("+ip4:192.0.2.1", "IP4:192.0.2.1"),
	    "+ is the default qualifier; names are case-insensitive");
}

static void
test_registry(void)
{
	const char *in = "relaykit-dnsctl=1; owner=mail.example.test; "
	                 "@ spf ip4:192.0.2.1; mail A 192.0.2.1; "
	                 "@ MX 10 mail.example.test; _dmarc TXT;";
	struct dc_reg reg;
	char *out;

	is_int(dc_reg_parse(in, strlen(in), "example.test", &reg, NULL), 1,
	    "ownership record: parsed");
	is_str(reg.owner, "mail.example.test", "ownership record: owner");
	ok(dc_reg_has(&reg, "example.test", "MX", "10 mail.example.test") &&
	        dc_reg_has(&reg, "mail.example.test", "A", "192.0.2.1") &&
	        dc_reg_has(&reg, "_dmarc.example.test", "TXT", NULL) &&
	        !dc_reg_has(&reg, "example.test", "spf", "ip4:192.0.2.2"),
	    "ownership record: entries, names made absolute");
	out = dc_reg_format(&reg, "example.test");
	is_str(out,
	    "relaykit-dnsctl=1; owner=mail.example.test; _dmarc TXT; "
	    "@ MX 10 mail.example.test; @ spf ip4:192.0.2.1; mail A "
	    "192.0.2.1",
	    "ownership record: sorted, relative names");
	free(out);
	dc_reg_free(&reg);
	is_int(dc_reg_parse("v=spf1 -all", 11, "x.test", &reg, NULL), 0,
	    "another TXT record is not one");
	is_int(dc_reg_parse(
	           "relaykit-dnsctl=1; @ BOGUS x", 28, "x.test", &reg, NULL),
	    -1, "an unknown type and no owner: broken");
}

static void
test_servers(void)
{
	static const struct {
		const char *in, *host;
		unsigned port;
	} cases[] = {
		{ "ns1.example.test", "ns1.example.test", 53 },
		{ "127.0.0.1:5353", "127.0.0.1", 5353 },
		{ "[2001:db8::53]:5300", "2001:db8::53", 5300 },
		{ "2001:db8::53", "2001:db8::53", 53 },
		{ "host:0", NULL, 0 },
		{ "host:65536", NULL, 0 },
		{ "[::1", NULL, 0 },
		{ ":53", NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dc_server s;
		int rc = dc_server_parse(cases[i].in, &s, NULL);

		if (cases[i].host == NULL)
			ok(rc == -1, "server \"%s\" refused", cases[i].in);
		else
			ok(rc == 0 && strcmp(s.host, cases[i].host) == 0 &&
			        s.port == cases[i].port,
			    "server \"%s\"", cases[i].in);
	}
}

static void
test_http(void)
{
	is_int(dc_http_backoff(429, 7, 1), 7, "429: retry-after");
	is_int(
	    dc_http_backoff(429, -1, 1), 300, "429 without retry-after: 5 min");
	is_int(dc_http_backoff(429, 9999, 1), 300, "retry-after capped");
	is_int(dc_http_backoff(502, -1, 1), 1, "5xx: 1 s first");
	is_int(dc_http_backoff(502, -1, 3), 4, "5xx: then doubling");
	is_int(dc_http_backoff(0, -1, 40), 60, "at most a minute");
}

static void
test_ip(void)
{
	const char *svc = "{\"status\":{\"loadBalancer\":{\"ingress\":["
	                  "{\"ip\":\"192.0.2.9\"},{\"ip\":\"2001:db8::9\"}]}}}";
	const char *hosts = "{\"status\":{\"loadBalancer\":{\"ingress\":["
	                    "{\"hostname\":\"lb.example.test\"}]}}}";
	struct dc_ips ips = { NULL, 0 };
	struct rk_ip ip;
	struct rk_err err;

	ok(dc_ip_parse_echo(" 203.0.113.5\r\n", 14, &ip, NULL) == 0 &&
	        ip.family == AF_INET,
	    "echo: an address with white space");
	ok(dc_ip_parse_echo("<html>", 6, &ip, NULL) == -1,
	    "echo: HTML refused");
	ok(dc_ip_parse_service(svc, strlen(svc), &ips, NULL) == 0 && ips.n == 2,
	    "Service: both ingress addresses");
	dc_ips_free(&ips);
	ok(dc_ip_parse_service(hosts, strlen(hosts), &ips, &err) == -1 &&
	        strstr(err.msg, "lb.example.test") != NULL,
	    "Service: a host-name load balancer is named in the error");
	dc_ips_free(&ips);
}

/* ------------------------------------------------------------ plans */

struct fixture {
	struct dc_zone z;
	struct dc_want w[4];
	const struct dc_want *wp[4];
	char *vals[4][3];
};

static void
fx_want(struct fixture *f, size_t i, int role, const char *name, int type,
    const char *v0, const char *v1)
{
	struct dc_want *w = &f->w[i];

	memset(w, 0, sizeof(*w));
	w->role = role;
	w->name = (char *)(uintptr_t)name;
	w->type = type;
	f->vals[i][0] = (char *)(uintptr_t)v0;
	f->vals[i][1] = (char *)(uintptr_t)v1;
	w->values = f->vals[i];
	w->nvalues = v0 == NULL ? 0 : v1 == NULL ? 1 : 2;
	w->spf_all = (char *)(uintptr_t) "~all";
	f->wp[i] = w;
	f->z.nwants = i + 1;
}

static void
fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->z.name = (char *)(uintptr_t) "example.test";
	f->z.wants = f->wp;
}

/* The plan as "+|-|~ NAME TYPE VALUE" lines and "! note" lines. */
static char *
plan_str(struct fixture *f, bool adopt)
{
	struct dc_plan_opts o = { "mail.example.test", 300, adopt, false,
		NULL };
	struct dc_plan p;
	struct rk_buf b;
	struct rk_err err;

	rk_buf_init(&b);
	if (dc_plan_zone(&f->z, &o, &p, &err) == -1) {
		rk_buf_printf(&b, "error: %s", err.msg);
		return rk_buf_steal(&b);
	}
	for (size_t i = 0; i < p.n; i++) {
		const struct dc_change *c = &p.v[i];

		if (c->registry)
			continue;
		rk_buf_printf(&b, "%c %s %s %s|", "+-~"[c->op],
		    c -> op == DC_OP_DEL ? c -> old.name : c->rr.name,
		    dc_type_name(c->op == DC_OP_DEL ? c->old.type : c->rr.type),
		    c->op == DC_OP_DEL ? c->old.value : c->rr.value);
	}
	for (size_t i = 0; i < p.nnotes; i++)
		rk_buf_printf(&b, "! %.40s|", p.notes[i]);
	dc_plan_free(&p);
	return rk_buf_steal(&b);
}

static void
add(struct fixture *f, const char *name, int type, const char *value)
{
	dc_rrs_add(&f->z.rrs, name, type, 300, value, NULL);
}

static void
test_plan_spf(void)
{
	static const struct {
		const char *name;
		const char *have[3]; /* TXT at the apex */
		const char *want;
	} cases[] = {
		{ "none yet", { NULL },
		    "+ example.test TXT v=spf1 ip4:192.0.2.1 ~all|" },
		{ "foreign terms kept, ours before all",
		    { "v=spf1 mx include:_spf.x.test -all" },
		    "~ example.test TXT v=spf1 mx include:_spf.x.test "
		    "ip4:192.0.2.1 -all|! example.test: the SPF record's \"-all"
		    "\" is|! example.test: SPF lookups of _spf.x.test|" },
		{ "two records merged into one",
		    { "v=spf1 a ~all", "v=spf1 mx -all" },
		    "~ example.test TXT v=spf1 a mx ip4:192.0.2.1 ~all|"
		    "- example.test TXT v=spf1 mx -all|"
		    "! example.test: 2 SPF records merged into |" },
		{ "redirect kept, no all added",
		    { "v=spf1 redirect=_spf.x.test" },
		    "~ example.test TXT v=spf1 ip4:192.0.2.1 "
		    "redirect=_spf.x.test|! example.test: the SPF record ends "
		    "in red|! example.test: SPF lookups of _spf.x.test|" },
		{ "already there", { "v=spf1 ip4:192.0.2.1 ~all" }, "" },
		{ "over the 10-lookup limit: refused",
		    { "v=spf1 a mx a:a.x a:b.x a:c.x a:d.x a:e.x a:f.x a:g.x "
		      "exists:h.x ptr ~all" },
		    "error: example.test: the SPF record would need 11 DNS "
		    "lookups; RFC 7208 4.6.4 allows 10 (drop dns.spfInclude "
		    "entries or foreign include:s)" },
		{ "other TXT untouched",
		    { "google-site-verification=x", "v=spf1 ~all" },
		    "~ example.test TXT v=spf1 ip4:192.0.2.1 ~all|" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		char *got;

		fx_init(&f);
		fx_want(&f, 0, DC_ROLE_SPF, "example.test", DC_TXT,
		    "ip4:192.0.2.1", NULL);
		for (size_t j = 0; j < 3 && cases[i].have[j]; j++)
			add(&f, "example.test", DC_TXT, cases[i].have[j]);
		got = plan_str(&f, false);
		is_str(got, cases[i].want, "SPF: %s", cases[i].name);
		free(got);
		dc_rrs_free(&f.z.rrs);
	}
}

static void
test_plan_owned(void)
{
	struct fixture f;
	char *got;

	/* Our old address and SPF term go; the foreign term stays. */
	fx_init(&f);
	fx_want(
	    &f, 0, DC_ROLE_ADDR, "mail.example.test", DC_A, "192.0.2.2", NULL);
	fx_want(
	    &f, 1, DC_ROLE_SPF, "example.test", DC_TXT, "ip4:192.0.2.2", NULL);
	add(&f, "mail.example.test", DC_A, "192.0.2.1");
	add(&f, "example.test", DC_TXT, "v=spf1 mx ip4:192.0.2.1 ~all");
	add(&f, "_relaykit-dnsctl.example.test", DC_TXT,
	    "relaykit-dnsctl=1; owner=mail.example.test; mail A 192.0.2.1; "
	    "@ spf ip4:192.0.2.1; @ spf ~all");
	got = plan_str(&f, false);
	is_str(got,
	    "~ mail.example.test A 192.0.2.2|"
	    "~ example.test TXT v=spf1 mx ip4:192.0.2.2 ~all|",
	    "ours: the address edited, the old term replaced");
	free(got);
	dc_rrs_free(&f.z.rrs);

	/* Another relay's ownership record does not make it ours. */
	fx_init(&f);
	fx_want(
	    &f, 0, DC_ROLE_ADDR, "mail.example.test", DC_A, "192.0.2.2", NULL);
	add(&f, "mail.example.test", DC_A, "192.0.2.1");
	add(&f, "_relaykit-dnsctl.example.test", DC_TXT,
	    "relaykit-dnsctl=1; owner=other.example.test; mail A 192.0.2.1");
	got = plan_str(&f, false);
	is_str(got, "! mail.example.test A 192.0.2.1: not creat|",
	    "another relay's address: a conflict, nothing changed");
	free(got);
	got = plan_str(&f, true);
	is_str(
	    got, "~ mail.example.test A 192.0.2.2|", "--adopt takes it over");
	free(got);
	dc_rrs_free(&f.z.rrs);
}

static void
test_plan_single(void)
{
	struct fixture f;
	char *got;

	fx_init(&f);
	fx_want(&f, 0, DC_ROLE_DMARC, "_dmarc.example.test", DC_TXT,
	    "v=DMARC1; p=reject", NULL);
	fx_want(&f, 1, DC_ROLE_MX, "example.test", DC_MX,
	    "10 mail.example.test", NULL);
	add(&f, "_dmarc.example.test", DC_TXT, "v=DMARC1; p=none");
	add(&f, "_dmarc.example.test", DC_TXT, "unrelated");
	add(&f, "example.test", DC_MX, "10 mail.example.test");
	got = plan_str(&f, false);
	is_str(got, "! _dmarc.example.test TXT \"v=DMARC1; p=non|",
	    "a foreign DMARC record: left alone; a matching MX adopted");
	free(got);
	got = plan_str(&f, true);
	is_str(got, "~ _dmarc.example.test TXT v=DMARC1; p=reject|",
	    "--adopt: the DMARC record edited, the unrelated TXT kept");
	free(got);
	dc_rrs_free(&f.z.rrs);
}

static void
test_guard(void)
{
	struct dc_zone z = { 0 };
	struct dc_plan p = { 0 };

	z.name = (char *)(uintptr_t) "example.test";
	z.total = 10;
	p.risky = 3;
	ok(!dc_plan_too_big(&z, &p, 30, NULL), "3 of 10 at 30%%: allowed");
	p.risky = 4;
	ok(dc_plan_too_big(&z, &p, 30, NULL), "4 of 10 at 30%%: refused");
	z.total = 9;
	p.risky = 9;
	ok(!dc_plan_too_big(&z, &p, 30, NULL),
	    "a zone under 10 records: no guard");
}

int
main(void)
{
	test_txt();
	test_split();
	test_spf();
	test_registry();
	test_servers();
	test_http();
	test_ip();
	test_plan_spf();
	test_plan_owned();
	test_plan_single();
	test_guard();
	return done_testing();
}
