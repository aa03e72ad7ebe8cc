/* SPDX-License-Identifier: MIT */
/*
 * dc_rfc2136: the zone read from, and changed on, its primary server by
 * RFC 2136 dynamic update, signed with TSIG (RFC 8945) through ldns.
 *
 * Reading is a zone transfer signed with the same key (the whole zone,
 * so the change guard knows its size), or name by name when the server
 * refuses one.  A plan becomes one UPDATE per zone: its prerequisites
 * (RFC 2136 2.4) say every RRset it touches is still what was read, so a
 * change made in between fails the update instead of being overwritten;
 * then each old record is deleted by value and each new one added.  The
 * update goes over TCP.  The TSIG secret stays in the config and ldns.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

static const char *const tsig_algs[] = { "hmac-sha256", "hmac-sha512" };

struct rfc {
	struct dc_server server;
	struct dc_dns *dns;
};

static struct rfc *
state(struct dc_ctx *ctx, struct rk_err *err)
{
	const struct rk_cfg_dns *d = &ctx->cfg->dns;
	struct dc_tsig tsig = { d->rfc2136.tsigKeyName,
		tsig_algs[d->rfc2136.tsigAlgorithm], d->rfc2136.tsigSecret };
	struct rfc *s = ctx->state;

	if (s != NULL)
		return s;
	s = rk_calloc(1, sizeof(*s));
	if (dc_server_parse(d->rfc2136.server, &s->server, err) == -1 ||
	    (s->dns = dc_dns_new(&s->server, false, &tsig, err)) == NULL) {
		free(s);
		return NULL;
	}
	ctx->state = s;
	return s;
}

static int
rfc_zone_of(struct dc_ctx *ctx, const char *name, char **zone, char **id,
    struct rk_err *err)
{
	const char *cz = ctx->cfg->dns.rfc2136.zone;
	struct rfc *s = state(ctx, err);

	*id = NULL;
	if (s == NULL)
		return -1;
	if (cz != NULL && dc_name_in(name, cz)) {
		*zone = rk_strdup(cz);
		return 0;
	}
	return dc_dns_zone_of(s->dns, name, zone, err);
}

static int
rfc_read(struct dc_ctx *ctx, struct dc_zone *z, struct rk_err *err)
{
	struct rfc *s = state(ctx, err);
	struct rk_err why;

	if (s == NULL)
		return -1;
	/* Knot refuses a key without transfer rights with BADKEY: a
	   refused transfer says nothing about the key's update rights. */
	if (dc_dns_axfr(s->dns, z->name, &z->rrs, &z->total, &why) == 0)
		return 0;
	fprintf(ctx->log,
	    "%s: %s; reading name by name (the change guard then counts "
	    "only those records)\n",
	    DC_PROG, why.msg);
	if (dc_dns_read_names(s->dns, z, err) == -1)
		return -1;
	z->total = z->rrs.n;
	return 0;
}

/* ------------------------------------------------------------ update */

/* A record in zone-file form for ldns; NULL if it will not parse. */
static ldns_rr *
make_rr(const struct dc_rr *rr, uint32_t ttl, ldns_rr_class cls)
{
	struct rk_buf b;
	ldns_rr *out = NULL;
	char *q = NULL;

	rk_buf_init(&b);
	if (rr->type == DC_TXT && rr->raw == NULL)
		q = dc_txt_quote(rr->value);
	rk_buf_printf(&b, "%s. %u IN %s %s%s", rr->name, ttl,
	    dc_type_name(rr->type),
	    rr->type == DC_TXT ? (rr->raw ? rr->raw : q) : rr->value,
	    rr->type == DC_MX && rr->value[strlen(rr->value) - 1] != '.' ? "."
	                                                                 : "");
	if (ldns_rr_new_frm_str(&out, b.data, 0, NULL, NULL) != LDNS_STATUS_OK)
		out = NULL;
	else
		ldns_rr_set_class(out, cls);
	free(q);
	rk_buf_free(&b);
	return out;
}

/* The RRsets the plan touches, as RFC 2136 prerequisites. */
static int
prerequisites(
    const struct dc_zone *z, const struct dc_plan *p, ldns_rr_list *pre)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct dc_rr *t =
		    p->v[i].op == DC_OP_ADD ? &p->v[i].rr : &p->v[i].old;
		size_t found = 0;
		bool done = false;

		for (size_t j = 0; j < i && !done; j++) {
			const struct dc_rr *u = p->v[j].op == DC_OP_ADD
			    ? &p->v[j].rr
			    : &p->v[j].old;

			done =
			    u->type == t->type && strcmp(u->name, t->name) == 0;
		}
		for (size_t j = 0; j < z->rrs.n && !done; j++) {
			const struct dc_rr *rr = &z->rrs.v[j];
			ldns_rr *x;

			if (rr->type != t->type || strcmp(rr->name, t->name))
				continue;
			/* 2.4.2: RRset exists (value dependent). */
			if ((x = make_rr(rr, 0, LDNS_RR_CLASS_IN)) == NULL)
				return -1;
			ldns_rr_list_push_rr(pre, x);
			found++;
		}
		if (!done && found == 0) {
			/* 2.4.3: RRset does not exist. */
			ldns_rr *x = make_rr(t, 0, LDNS_RR_CLASS_NONE);

			if (x == NULL)
				return -1;
			while (ldns_rr_rd_count(x) > 0)
				ldns_rdf_deep_free(ldns_rr_pop_rdf(x));
			ldns_rr_list_push_rr(pre, x);
		}
	}
	return 0;
}

static int
updates(const struct dc_plan *p, ldns_rr_list *up)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct dc_change *c = &p->v[i];
		ldns_rr *x;

		if (c->op != DC_OP_ADD) {
			/* 2.5.4: delete an RR from an RRset. */
			if ((x = make_rr(&c->old, 0, LDNS_RR_CLASS_NONE)) ==
			    NULL)
				return -1;
			ldns_rr_list_push_rr(up, x);
		}
		if (c->op != DC_OP_DEL) {
			if ((x = make_rr(
			         &c->rr, c->rr.ttl, LDNS_RR_CLASS_IN)) == NULL)
				return -1;
			ldns_rr_list_push_rr(up, x);
		}
	}
	return 0;
}

/* What a refused update means, in words an operator can act on. */
static int
refused(const struct rfc *s, const ldns_pkt *ans, const char *zone,
    struct rk_err *err)
{
	int rcode = ldns_pkt_get_rcode(ans);
	const char *why = "";
	char rc[32];

	if (rcode == LDNS_RCODE_NOTAUTH || rcode == LDNS_RCODE_REFUSED) {
		why = ": the server does not let this key (or this address) "
		      "update the zone";
	} else if (rcode == LDNS_RCODE_YXRRSET || rcode == LDNS_RCODE_NXRRSET ||
	    rcode == LDNS_RCODE_YXDOMAIN || rcode == LDNS_RCODE_NXDOMAIN) {
		why = ": the zone changed since it was read; run again";
	}
	return rk_err_set(err, "%s refused the update of zone %s: %s%s",
	    dc_dns_label(s->dns), zone, dc_dns_rcode_str(rcode, rc, sizeof(rc)),
	    why);
}

static int
send_update(struct rfc *s, const char *zone, ldns_rr_list *pre,
    ldns_rr_list *up, struct rk_err *err)
{
	ldns_rdf *zname = ldns_dname_new_frm_str(zone);
	ldns_pkt *pkt, *ans = NULL;
	char what[300];
	int rc;

	snprintf(what, sizeof(what), "update of zone %s", zone);
	pkt = ldns_update_pkt_new(zname, LDNS_RR_CLASS_IN, pre, up, NULL);
	rc = dc_dns_exchange(s->dns, pkt, &ans, what, err);
	if (rc == 0 && ldns_pkt_get_rcode(ans) != LDNS_RCODE_NOERROR)
		rc = refused(s, ans, zone, err);
	ldns_pkt_free(ans);
	ldns_pkt_free(pkt);
	return rc;
}

static int
rfc_apply(struct dc_ctx *ctx, const struct dc_zone *z, const struct dc_plan *p,
    struct rk_err *err)
{
	struct rfc *s = state(ctx, err);
	ldns_rr_list *pre, *up;
	int rc;

	if (s == NULL)
		return -1;
	if (p->n == 0)
		return 0;
	pre = ldns_rr_list_new();
	up = ldns_rr_list_new();
	if (prerequisites(z, p, pre) == -1 || updates(p, up) == -1)
		rc = rk_err_set(
		    err, "zone %s: a record ldns cannot write", z->name);
	else
		rc = send_update(s, z->name, pre, up, err);
	ldns_rr_list_deep_free(pre);
	ldns_rr_list_deep_free(up);
	return rc;
}

static void
rfc_close(struct dc_ctx *ctx)
{
	struct rfc *s = ctx->state;

	if (s == NULL)
		return;
	dc_dns_free(s->dns);
	free(s);
	ctx->state = NULL;
}

const struct dc_backend dc_backend_rfc2136 = {
	"rfc2136",
	rfc_zone_of,
	rfc_read,
	rfc_apply,
	NULL,
	rfc_close,
};
