/* SPDX-License-Identifier: MIT */
/*
 * dc_check: check and wait: is every wanted record served, as wanted, by
 * every authoritative server of its zone?  The servers are asked with
 * recursion off, so a cache never answers for them.
 *
 * DKIM records are compared with the key on disk the way a verifier reads
 * them (rk_dkimkey_txt_match, what opendkim-testkey does); SPF records
 * must be single, hold the relay's terms and stay within the 10-lookup
 * limit; addresses and MX must be exactly the wanted set; DMARC exactly
 * the wanted record.  Single-threaded, blocking.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "rk_dkimkey.h"
#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define WAIT_STEP_MS 2000

enum verdict { V_OK, V_MISSING, V_DIFFERENT, V_ERROR };
/* Upper case: a line must not read as a TAP "ok" when a test prints it. */
static const char *const verdict_names[] = { "OK", "MISSING", "DIFFERENT",
	"ERROR" };

/* One zone with its servers. */
struct czone {
	char *name;
	struct dc_server *servers;
	size_t nservers;
};

struct checker {
	const struct rk_cfg *cfg;
	struct dc_dns *helper; /* zones, include: targets */
	struct czone *zones;
	size_t nzones;
	FILE *out; /* NULL: quiet (wait) */
	FILE *log;
	struct rk_buf last; /* the last problem, for wait's message */
};

static void report(struct checker *c, enum verdict v, const struct dc_want *w,
    const char *server, const char *fmt, ...) RK_PRINTF(5, 6);

static void
report(struct checker *c, enum verdict v, const struct dc_want *w,
    const char *server, const char *fmt, ...)
{
	struct rk_buf b;
	va_list ap;

	rk_buf_init(&b);
	rk_buf_printf(&b, "%-9s %s %s @%s: ", verdict_names[v], w->name,
	    dc_type_name(w->type), server);
	va_start(ap, fmt);
	rk_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (c->out != NULL)
		fprintf(c->out, "%s\n", b.data);
	if (v != V_OK) {
		rk_buf_reset(&c->last);
		rk_buf_puts(&c->last, b.data);
	}
	rk_buf_free(&b);
}

/* --------------------------------------------------------- verdicts */

static enum verdict
check_set(struct checker *c, const struct dc_want *w, const struct dc_answer *a,
    const char *srv)
{
	size_t have = 0;

	for (size_t i = 0; i < w->nvalues; i++)
		for (size_t j = 0; j < a->rrs.n; j++)
			if (rk_str_case_eq(a->rrs.v[j].value, w->values[i])) {
				have++;
				break;
			}
	if (have == w->nvalues && a->rrs.n == w->nvalues) {
		report(c, V_OK, w, srv, "%s",
		    w->nvalues ? w->values[0] : "none, as wanted");
		return V_OK;
	}
	if (w->nvalues == 0) {
		report(c, V_DIFFERENT, w, srv, "want none, published %s",
		    a->rrs.v[0].value);
		return V_DIFFERENT;
	}
	if (a->rrs.n == 0) {
		report(c, V_MISSING, w, srv, "want %s", w->values[0]);
		return V_MISSING;
	}
	report(c, V_DIFFERENT, w, srv,
	    "%zu of %zu wanted values, %zu published"
	    " (first: %s)",
	    have, w->nvalues, a->rrs.n, a->rrs.v[0].value);
	return V_DIFFERENT;
}

static enum verdict
check_dkim(struct checker *c, const struct dc_want *w,
    const struct dc_answer *a, const char *srv)
{
	struct rk_err why;
	enum rk_dkimkey_match m;

	if (a->rrs.n == 0) {
		report(c, V_MISSING, w, srv, "no key record (the key is %s)",
		    w->dkim_file);
		return V_MISSING;
	}
	if (a->rrs.n > 1) {
		report(c, V_DIFFERENT, w, srv,
		    "%zu TXT records; a verifier needs exactly one", a->rrs.n);
		return V_DIFFERENT;
	}
	m = rk_dkimkey_txt_match(a->rrs.v[0].value, strlen(a->rrs.v[0].value),
	    w->dkim_alg, w->dkim_pub, &why);
	if (m == RK_DKIMKEY_MATCH) {
		report(c, V_OK, w, srv, "key OK: the published key is %s",
		    w->dkim_file);
		return V_OK;
	}
	report(c, V_DIFFERENT, w, srv, "%s (the key on disk is %s)", why.msg,
	    w->dkim_file);
	return V_DIFFERENT;
}

static enum verdict
check_spf(struct checker *c, const struct dc_want *w, const struct dc_answer *a,
    const char *srv)
{
	const struct dc_rr *rec = NULL;
	struct dc_spf_fetch f = { dc_dns_spf_fetch, c->helper };
	struct rk_buf missing, unres;
	struct dc_spf spf;
	size_t n = 0, lookups;
	enum verdict v = V_OK;

	for (size_t i = 0; i < a->rrs.n; i++)
		if (dc_spf_is(a->rrs.v[i].value) && n++ == 0)
			rec = &a->rrs.v[i];
	if (n == 0) {
		report(c, V_MISSING, w, srv, "no SPF record");
		return V_MISSING;
	}
	if (n > 1 || dc_spf_parse(rec->value, &spf, NULL) == -1) {
		report(c, V_DIFFERENT, w, srv,
		    "%zu SPF records (RFC 7208: a permanent error)", n);
		return V_DIFFERENT;
	}
	rk_buf_init(&missing);
	rk_buf_init(&unres);
	for (size_t i = 0; i < w->nvalues; i++) {
		bool have = false;

		for (size_t j = 0; j < spf.n && !have; j++)
			have = dc_spf_term_eq(spf.terms[j], w->values[i]);
		if (!have)
			rk_buf_printf(&missing, " %s", w->values[i]);
	}
	lookups = dc_spf_lookups(&spf, &f, &unres);
	if (missing.len > 0) {
		report(c, v = V_DIFFERENT, w, srv, "lacks%s: \"%s\"",
		    missing.data, rec->value);
	} else if (lookups > 10) {
		report(c, v = V_DIFFERENT, w, srv,
		    "needs %zu DNS lookups (RFC 7208 allows 10)", lookups);
	} else {
		report(c, V_OK, w, srv, "\"%s\" (%zu lookups%s%s)", rec->value,
		    lookups, unres.len ? "; not followed: " : "",
		    unres.len ? unres.data : "");
	}
	rk_buf_free(&missing);
	rk_buf_free(&unres);
	dc_spf_free(&spf);
	return v;
}

static enum verdict
check_dmarc(struct checker *c, const struct dc_want *w,
    const struct dc_answer *a, const char *srv)
{
	const struct dc_rr *rec = NULL;
	size_t n = 0;

	for (size_t i = 0; i < a->rrs.n; i++)
		if (rk_mem_case_eq(a->rrs.v[i].value, "v=DMARC1", 8) &&
		    n++ == 0)
			rec = &a->rrs.v[i];
	if (n == 0) {
		report(c, V_MISSING, w, srv, "no DMARC record; want \"%s\"",
		    w->values[0]);
		return V_MISSING;
	}
	if (n > 1 || strcmp(rec->value, w->values[0]) != 0) {
		report(c, V_DIFFERENT, w, srv,
		    "want \"%s\", published \"%s\"%s", w->values[0], rec->value,
		    n > 1 ? " and more" : "");
		return V_DIFFERENT;
	}
	report(c, V_OK, w, srv, "\"%s\"", rec->value);
	return V_OK;
}

static enum verdict
check_want(struct checker *c, struct dc_dns *dns, const struct dc_want *w)
{
	const char *srv = dc_dns_label(dns);
	struct dc_answer a;
	struct rk_err err;
	enum verdict v;
	char rc[32];

	if (dc_dns_query(dns, w->name, w->type, &a, &err) == -1) {
		report(c, V_ERROR, w, srv, "%s", err.msg);
		return V_ERROR;
	}
	if (a.rcode != LDNS_RCODE_NOERROR && a.rcode != LDNS_RCODE_NXDOMAIN) {
		report(c, V_ERROR, w, srv, "%s",
		    dc_dns_rcode_str(a.rcode, rc, sizeof(rc)));
		v = V_ERROR;
	} else if (!a.aa) {
		report(c, V_ERROR, w, srv, "not authoritative for %s", w->name);
		v = V_ERROR;
	} else if (w->role == DC_ROLE_DKIM) {
		v = check_dkim(c, w, &a, srv);
	} else if (w->role == DC_ROLE_SPF) {
		v = check_spf(c, w, &a, srv);
	} else if (w->role == DC_ROLE_DMARC) {
		v = check_dmarc(c, w, &a, srv);
	} else {
		v = check_set(c, w, &a, srv);
	}
	dc_answer_clear(&a);
	return v;
}

/* ------------------------------------------------------------ zones */

static struct czone *
zone_for(struct checker *c, const char *name, struct rk_err *err)
{
	struct czone *z;
	char *zone;

	for (size_t i = 0; i < c->nzones; i++)
		if (dc_name_in(name, c->zones[i].name))
			return &c->zones[i];
	if (dc_dns_zone_of(c->helper, name, &zone, err) == -1)
		return NULL;
	c->zones = rk_reallocarray(c->zones, c->nzones + 1, sizeof(*c->zones));
	z = &c->zones[c->nzones++];
	z->name = zone;
	if (dc_dns_authorities(c->cfg, zone, &z->servers, &z->nservers, err) ==
	    -1) {
		z->servers = NULL;
		z->nservers = 0;
		return NULL;
	}
	return z;
}

/* The worst verdict of every want at every server of its zone. */
static enum verdict
check_all(struct checker *c, const struct dc_desired *d)
{
	enum verdict worst = V_OK;

	for (size_t i = 0; i < d->n; i++) {
		const struct dc_want *w = &d->v[i];
		struct rk_err err;
		struct czone *z = zone_for(c, w->name, &err);

		if (z == NULL) {
			report(c, V_ERROR, w, "-", "%s", err.msg);
			worst = V_ERROR;
			continue;
		}
		for (size_t s = 0; s < z->nservers; s++) {
			struct dc_dns *dns =
			    dc_dns_new(&z->servers[s], false, NULL, &err);
			enum verdict v = V_ERROR;

			if (dns == NULL)
				report(c, V_ERROR, w, z->servers[s].host, "%s",
				    err.msg);
			else
				v = check_want(c, dns, w);
			dc_dns_free(dns);
			if (v == V_ERROR || (v != V_OK && worst != V_ERROR))
				worst = v;
		}
	}
	return worst;
}

static int
checker_open(struct checker *c, const struct rk_cfg *cfg, FILE *out, FILE *log)
{
	struct rk_err err;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->out = out;
	c->log = log;
	rk_buf_init(&c->last);
	c->helper = dc_dns_helper(cfg, &err);
	if (c->helper == NULL) {
		fprintf(log, "%s: %s\n", DC_PROG, err.msg);
		return -1;
	}
	return 0;
}

static void
checker_close(struct checker *c)
{
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].name);
		free(c->zones[i].servers);
	}
	free(c->zones);
	dc_dns_free(c->helper);
	rk_buf_free(&c->last);
}

int
dc_check(
    const struct rk_cfg *cfg, const struct dc_desired *d, FILE *out, FILE *log)
{
	struct checker c;
	enum verdict v;

	if (checker_open(&c, cfg, out, log) == -1)
		return DC_EXIT_ERROR;
	v = check_all(&c, d);
	checker_close(&c);
	return v == V_OK   ? DC_EXIT_OK
	    : v == V_ERROR ? DC_EXIT_ERROR
	                   : DC_EXIT_CHANGES;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
pause_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		continue; /* EINTR: sleep the rest */
}

int
dc_wait(const struct rk_cfg *cfg, const struct dc_desired *d,
    uint64_t timeout_ms, FILE *log)
{
	uint64_t start = now_ms();
	struct checker c;
	int rc = DC_EXIT_ERROR;

	if (checker_open(&c, cfg, NULL, log) == -1)
		return DC_EXIT_ERROR;
	for (;;) {
		uint64_t elapsed;

		if (check_all(&c, d) == V_OK) {
			fprintf(log, "%s: every record is visible (%.1f s)\n",
			    DC_PROG, (double)(now_ms() - start) / 1000);
			rc = DC_EXIT_OK;
			break;
		}
		elapsed = now_ms() - start;
		if (elapsed >= timeout_ms) {
			fprintf(log, "%s: timed out after %.1f s; still: %s\n",
			    DC_PROG, (double)elapsed / 1000, c.last.data);
			break;
		}
		pause_ms(timeout_ms - elapsed < WAIT_STEP_MS
		        ? timeout_ms - elapsed
		        : WAIT_STEP_MS);
	}
	checker_close(&c);
	return rc;
}
