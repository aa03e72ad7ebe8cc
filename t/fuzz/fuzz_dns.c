/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_dns.c: libFuzzer target for what relaykit-dnsctl reads from
 * DNS servers and HTTP APIs.  The first byte picks the parser, the rest is
 * its input:
 *   0  a DNS message (wire form): answers for A, AAAA, MX and TXT, then a
 *      whole plan over them (SPF merge, ownership record, DKIM/DMARC)
 *   1  a TXT value in zone-file form: unquote, quote, unquote again
 *   2  a Cloudflare API answer (records page, errors)
 *   3  a Kubernetes Service object and an echo service's answer
 *   4  a published DKIM key record against a fixed key
 *   5  an ownership record: parse, format, parse again
 *   6  an SPF record: parse, format, count lookups through itself
 * Invariants are checked with abort(); ASan and UBSan do the rest.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_dkimkey.h"
#include "rk_str.h"
#include "dc.h"
#include "fuzz.h"

#define INPUT_MAX 65536

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_dns: %s\n", what);
	abort();
}

/* ------------------------------------------------------- 0: DNS + plan */

static const char *const addr_v4[] = { "192.0.2.1" };
static const char *const mx_v[] = { "10 mail.example.test" };
static const char *const spf_v[] = { "ip4:192.0.2.1", "include:_spf.x.test" };
static const char *const dmarc_v[] = { "v=DMARC1; p=none" };
static const char *const dkim_v[] = { "v=DKIM1; k=ed25519; p=AAAA" };

static void
want(struct dc_want *w, int role, const char *name, int type,
    const char *const *values, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->role = role;
	w->name = (char *)(uintptr_t)name;
	w->type = type;
	w->values = (char **)(uintptr_t)values;
	w->nvalues = n;
	w->spf_all = (char *)(uintptr_t) "~all";
}

static int
fetch_none(void *arg, const char *domain, char **txt)
{
	(void)arg;
	(void)domain;
	*txt = NULL;
	return -1;
}

static void
plan_over(struct dc_rrs *rrs)
{
	struct dc_want w[5];
	const struct dc_want *wp[5];
	struct dc_spf_fetch f = { fetch_none, NULL };
	struct dc_plan_opts o = { "mail.example.test", 300, false, false, &f };
	struct dc_zone z = { 0 };
	struct dc_plan p;
	size_t n = rrs->n;

	/* The TXT records also stand at the ownership and DMARC names. */
	for (size_t i = 0; i < n; i++) {
		if (rrs->v[i].type != DC_TXT)
			continue;
		dc_rrs_add(rrs, "_relaykit-dnsctl.example.test", DC_TXT, 300,
		    rrs->v[i].value, NULL);
		dc_rrs_add(rrs, "_dmarc.example.test", DC_TXT, 300,
		    rrs->v[i].value, NULL);
	}
	want(&w[0], DC_ROLE_ADDR, "example.test", DC_A, addr_v4, 1);
	want(&w[1], DC_ROLE_MX, "example.test", DC_MX, mx_v, 1);
	want(&w[2], DC_ROLE_SPF, "example.test", DC_TXT, spf_v, 2);
	want(&w[3], DC_ROLE_DMARC, "_dmarc.example.test", DC_TXT, dmarc_v, 1);
	want(&w[4], DC_ROLE_DKIM, "example.test", DC_TXT, dkim_v, 1);
	for (size_t i = 0; i < 5; i++)
		wp[i] = &w[i];
	z.name = (char *)(uintptr_t) "example.test";
	z.rrs = *rrs;
	z.wants = wp;
	z.nwants = 5;
	z.total = rrs->n;
	if (dc_plan_zone(&z, &o, &p, NULL) == 0) {
		for (size_t i = 0; i < p.n; i++)
			require(p.v[i].op != DC_OP_DEL || p.v[i].old.value,
			    "a deletion names the old record");
		(void)dc_plan_too_big(&z, &p, 30, NULL);
		dc_plan_free(&p);
	}
}

static void
dns_message(const uint8_t *d, size_t n)
{
	static const int types[] = { DC_A, DC_AAAA, DC_MX, DC_TXT };
	struct dc_rrs all = { NULL, 0 };

	for (size_t t = 0; t < 4; t++) {
		struct dc_answer a;

		if (dc_answer_from_wire(
		        d, n, "example.test", types[t], &a, NULL) == -1) {
			dc_rrs_free(&all);
			return;
		}
		for (size_t i = 0; i < a.rrs.n; i++) {
			require(a.rrs.v[i].type == types[t], "asked type");
			require(strcmp(a.rrs.v[i].name, "example.test") == 0,
			    "asked name");
			require(strlen(a.rrs.v[i].value) <= DC_TXT_MAX + 8,
			    "value within the cap");
			dc_rrs_add(&all, a.rrs.v[i].name, a.rrs.v[i].type,
			    a.rrs.v[i].ttl, a.rrs.v[i].value, NULL);
		}
		require(a.zone == NULL || dc_name_in("example.test", a.zone) ||
		        a.zone[0] != '\0',
		    "zone");
		dc_answer_clear(&a);
	}
	plan_over(&all);
	dc_rrs_free(&all);
}

/* --------------------------------------------------------- 1: TXT text */

static void
txt_text(const char *s, size_t n)
{
	char *v = NULL, *q, *again = NULL;

	if (dc_txt_unquote(s, n, &v, NULL) == -1)
		return;
	q = dc_txt_quote(v);
	require(dc_txt_unquote(q, strlen(q), &again, NULL) == 0,
	    "quoted form reads back");
	require(strcmp(v, again) == 0, "quote/unquote round trip");
	free(q);
	free(v);
	free(again);
}

/* ------------------------------------------------- 2, 3: HTTP answers */

static void
cloudflare(const char *s, size_t n)
{
	struct dc_rrs rrs = { NULL, 0 };
	struct rk_buf b;
	size_t pages = 0, count = 0;

	(void)dc_cf_parse_page(s, n, &rrs, &pages, &count, NULL);
	dc_rrs_free(&rrs);
	rk_buf_init(&b);
	dc_cf_errors(s, n, &b);
	rk_buf_free(&b);
}

static void
addresses(const char *s, size_t n)
{
	struct dc_ips ips = { NULL, 0 };
	struct rk_ip ip;

	(void)dc_ip_parse_service(s, n, &ips, NULL);
	dc_ips_free(&ips);
	(void)dc_ip_parse_echo(s, n, &ip, NULL);
}

/* ---------------------------------------------- 4, 5, 6: TXT contents */

static void
dkim(const char *s, size_t n)
{
	enum rk_dkimkey_match m = rk_dkimkey_txt_match(s, n, RK_DKIMKEY_ED25519,
	    "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", NULL);

	require(m >= RK_DKIMKEY_MATCH && m <= RK_DKIMKEY_INVALID, "verdict");
}

static void
registry(const char *s, size_t n)
{
	struct dc_reg reg, again;
	char *text;

	if (dc_reg_parse(s, n, "example.test", &reg, NULL) != 1)
		return;
	text = dc_reg_format(&reg, "example.test");
	require(
	    dc_reg_parse(text, strlen(text), "example.test", &again, NULL) == 1,
	    "a formatted ownership record parses");
	require(again.n == reg.n, "same entries after a round trip");
	free(text);
	dc_reg_free(&reg);
	dc_reg_free(&again);
}

static int
fetch_self(void *arg, const char *domain, char **txt)
{
	(void)domain;
	*txt = strdup(arg);
	return *txt ? 0 : -1;
}

static void
spf(const char *s)
{
	struct dc_spf rec, again;
	struct dc_spf_fetch f = { fetch_self, (void *)(uintptr_t)s };
	struct rk_buf unres;
	char *text;

	if (dc_spf_parse(s, &rec, NULL) == -1)
		return;
	text = dc_spf_format(&rec);
	require(dc_spf_parse(text, &again, NULL) == 0, "formatted SPF parses");
	require(again.n == rec.n, "same terms after a round trip");
	rk_buf_init(&unres);
	(void)dc_spf_lookups(&rec, &f, &unres);
	(void)dc_spf_find_all(&rec);
	rk_buf_free(&unres);
	free(text);
	dc_spf_free(&rec);
	dc_spf_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	if (data[0] % 7 == 0) {
		dns_message(data + 1, size - 1);
		return 0;
	}
	/* Exact-size copies, so ASan sees a read past the end. */
	s = fuzz_cstr(data + 1, size - 1, INPUT_MAX);
	if (s == NULL)
		return 0;
	switch (data[0] % 7) {
	case 1:
		txt_text(s, size - 1);
		break;
	case 2:
		cloudflare(s, size - 1);
		break;
	case 3:
		addresses(s, size - 1);
		break;
	case 4:
		dkim(s, size - 1);
		break;
	case 5:
		registry(s, size - 1);
		break;
	default:
		spf(s);
		break;
	}
	free(s);
	return 0;
}
