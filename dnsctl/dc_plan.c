/* SPDX-License-Identifier: MIT */
/*
 * dc_plan: what has to change in one zone so it holds what this relay
 * wants, without touching what is not the relay's.
 *
 * The rules, per kind of record:
 *  - A, AAAA, MX: the set at the name becomes the wanted set.  A value
 *    nobody owns that is not wanted blocks the set (a conflict, reported;
 *    --adopt takes it over): the relay's MX is not added next to another
 *    provider's, nor its address next to someone else's.
 *  - DKIM, DMARC: one record at the name, replaced when it is ours.
 *  - SPF: merged.  Foreign terms stay, ours are added before "all", terms
 *    we added earlier and no longer want go, several v=spf1 records become
 *    one (RFC 7208 3.2), and a result over the 10-lookup limit (4.6.4)
 *    refuses the plan.
 * What is ours is listed in the ownership record (dc_reg_*), rewritten by
 * every plan that changes it.  Pure: the zone comes in read already, and
 * include: targets through o->fetch.  Single-threaded.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define SPF_LOOKUP_LIMIT 10
#define GUARD_MIN_ZONE   10

/* The state of one planning run. */
struct run {
	const struct dc_zone *z;
	const struct dc_plan_opts *o;
	struct dc_plan *p;
	struct dc_reg old; /* ours, as read */
	struct dc_reg neu; /* ours, after the plan */
	char *reg_name;
};

/* Records at a name of a type, filtered; pointers into the zone. */
struct found {
	const struct dc_rr **v;
	size_t n;
};

void
dc_zone_clear(struct dc_zone *z)
{
	free(z->name);
	free(z->id);
	dc_rrs_free(&z->rrs);
	free(z->wants);
	memset(z, 0, sizeof(*z));
}

static void note(struct dc_plan *p, const char *fmt, ...) RK_PRINTF(2, 3);

static void
note(struct dc_plan *p, const char *fmt, ...)
{
	struct rk_buf b;
	va_list ap;

	rk_buf_init(&b);
	va_start(ap, fmt);
	rk_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	p->notes = rk_reallocarray(p->notes, p->nnotes + 1, sizeof(*p->notes));
	p->notes[p->nnotes++] = rk_buf_steal(&b);
}

static void
push(struct run *r, int op, const struct dc_rr *old, const char *name, int type,
    const char *value, bool registry)
{
	struct dc_plan *p = r->p;
	struct dc_change *c;

	p->v = rk_reallocarray(p->v, p->n + 1, sizeof(*p->v));
	c = &p->v[p->n++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->registry = registry;
	if (old != NULL)
		dc_rr_copy(&c->old, old);
	if (op != DC_OP_DEL) {
		c->rr.name = rk_strdup(name);
		c->rr.type = type;
		c->rr.ttl = r->o->ttl;
		c->rr.value = rk_strdup(value);
		c->rr.id = old && old->id ? rk_strdup(old->id) : NULL;
	}
	if (op != DC_OP_ADD && !registry)
		p->risky++;
}

static void
final_add(struct run *r, const char *name, int type, const char *value)
{
	dc_rrs_add(&r->p->final, name, type, r->o->ttl, value, NULL);
}

typedef bool rr_filter(const char *value);

static bool
any_value(const char *value)
{
	(void)value;
	return true;
}

static bool
is_dmarc(const char *value)
{
	return rk_mem_case_eq(value, "v=DMARC1", 8) &&
	    (value[8] == '\0' || value[8] == ';' || value[8] == ' ');
}

static bool
is_spf(const char *value)
{
	return dc_spf_is(value);
}

static void
find(const struct dc_zone *z, const char *name, int type, rr_filter *keep,
    struct found *out)
{
	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < z->rrs.n; i++) {
		const struct dc_rr *rr = &z->rrs.v[i];

		if (rr->type != type || strcmp(rr->name, name) != 0 ||
		    !keep(rr->value))
			continue;
		out->v = rk_reallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = rr;
	}
}

static bool
in_values(const struct dc_want *w, const char *v)
{
	for (size_t i = 0; i < w->nvalues; i++)
		if (rk_str_case_eq(w->values[i], v))
			return true;
	return false;
}

static bool
in_found(const struct found *f, const char *v)
{
	for (size_t i = 0; i < f->n; i++)
		if (rk_str_case_eq(f->v[i]->value, v))
			return true;
	return false;
}

/* ------------------------------------------------------ sets: A, MX */

/* A value nobody owns and nobody wants: the set is not ours to change. */
static const struct dc_rr *
set_conflict(struct run *r, const struct dc_want *w, const struct found *f)
{
	const char *tag = dc_type_name(w->type);

	if (r->o->adopt)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (!in_values(w, f->v[i]->value) &&
		    !dc_reg_has(&r->old, w->name, tag, f->v[i]->value))
			return f->v[i];
	return NULL;
}

static void
plan_set(struct run *r, const struct dc_want *w)
{
	const char *tag = dc_type_name(w->type);
	const struct dc_rr *bad, **dels;
	struct found f;
	size_t ndel = 0, paired = 0;

	find(r->z, w->name, w->type, any_value, &f);
	if ((bad = set_conflict(r, w, &f)) != NULL) {
		note(r->p,
		    "%s %s %s: not created by relaykit-dnsctl; left alone, "
		    "and relaykit's %s not added (--adopt replaces it)",
		    w->name, tag, bad->value, tag);
		/* What was ours there stays ours. */
		for (size_t i = 0; i < r->old.n; i++)
			if (strcmp(r->old.v[i].name, w->name) == 0 &&
			    strcmp(r->old.v[i].tag, tag) == 0)
				dc_reg_add(
				    &r->neu, w->name, tag, r->old.v[i].value);
		free(f.v);
		return;
	}
	dels = rk_calloc(f.n + 1, sizeof(*dels));
	for (size_t i = 0; i < f.n; i++) {
		if (!in_values(w, f.v[i]->value))
			dels[ndel++] = f.v[i];
		else if (f.v[i]->ttl != r->o->ttl)
			push(r, DC_OP_UPDATE, f.v[i], w->name, w->type,
			    f.v[i]->value, false);
	}
	for (size_t i = 0; i < w->nvalues; i++) {
		dc_reg_add(&r->neu, w->name, tag, w->values[i]);
		final_add(r, w->name, w->type, w->values[i]);
		if (in_found(&f, w->values[i]))
			continue;
		/* Pair a new value with an old one: an edit, not two. */
		if (paired < ndel)
			push(r, DC_OP_UPDATE, dels[paired++], w->name, w->type,
			    w->values[i], false);
		else
			push(r, DC_OP_ADD, NULL, w->name, w->type, w->values[i],
			    false);
	}
	for (; paired < ndel; paired++)
		push(r, DC_OP_DEL, dels[paired], NULL, 0, NULL, false);
	free(dels);
	free(f.v);
}

/* -------------------------------------------------- one: DKIM, DMARC */

static void
plan_single(struct run *r, const struct dc_want *w)
{
	rr_filter *keep = w->role == DC_ROLE_DMARC ? is_dmarc : any_value;
	bool owned = r->o->adopt || dc_reg_has(&r->old, w->name, "TXT", NULL);
	const char *want = w->values[0];
	const struct dc_rr *same = NULL, *edit = NULL;
	struct found f;

	find(r->z, w->name, DC_TXT, keep, &f);
	for (size_t i = 0; i < f.n; i++) {
		if (strcmp(f.v[i]->value, want) == 0 && same == NULL)
			same = f.v[i];
		else if (!owned) {
			note(r->p,
			    "%s TXT \"%.60s%s\": not created by "
			    "relaykit-dnsctl; left alone (--adopt replaces "
			    "it)",
			    w->name, f.v[i]->value,
			    strlen(f.v[i]->value) > 60 ? "..." : "");
			free(f.v);
			return;
		}
	}
	for (size_t i = 0; i < f.n; i++) {
		if (f.v[i] == same)
			continue;
		if (same == NULL && edit == NULL)
			edit = f.v[i];
		else
			push(r, DC_OP_DEL, f.v[i], NULL, 0, NULL, false);
	}
	if (same != NULL && same->ttl != r->o->ttl)
		push(r, DC_OP_UPDATE, same, w->name, DC_TXT, want, false);
	else if (edit != NULL)
		push(r, DC_OP_UPDATE, edit, w->name, DC_TXT, want, false);
	else if (same == NULL)
		push(r, DC_OP_ADD, NULL, w->name, DC_TXT, want, false);
	dc_reg_add(&r->neu, w->name, "TXT", NULL);
	final_add(r, w->name, DC_TXT, want);
	free(f.v);
}

/* ---------------------------------------------------------------- SPF */

static long
spf_find(const struct dc_spf *spf, const char *term)
{
	for (size_t i = 0; i < spf->n; i++)
		if (dc_spf_term_eq(spf->terms[i], term))
			return (long)i;
	return -1;
}

static bool
is_modifier(const char *t)
{
	size_t n = strcspn(t, ":=/");

	return t[n] == '=';
}

/* Where new mechanisms go: before "all" and before the modifiers. */
static size_t
spf_insert_at(const struct dc_spf *spf)
{
	for (size_t i = 0; i < spf->n; i++)
		if (is_modifier(spf->terms[i]) ||
		    dc_spf_find_all(spf) == (long)i)
			return i;
	return spf->n;
}

static void
spf_insert(struct dc_spf *spf, size_t at, const char *term)
{
	spf->terms =
	    rk_reallocarray(spf->terms, spf->n + 1, sizeof(*spf->terms));
	memmove(&spf->terms[at + 1], &spf->terms[at],
	    (spf->n - at) * sizeof(*spf->terms));
	spf->terms[at] = rk_strdup(term);
	spf->n++;
}

static void
spf_remove(struct dc_spf *spf, size_t at)
{
	free(spf->terms[at]);
	memmove(&spf->terms[at], &spf->terms[at + 1],
	    (spf->n - at - 1) * sizeof(*spf->terms));
	spf->n--;
}

static bool
is_all(const char *t)
{
	if (*t == '+' || *t == '-' || *t == '~' || *t == '?')
		t++;
	return rk_str_case_eq(t, "all");
}

/* The terms of the other records join the first one (RFC 7208 3.2). */
static void
spf_join(struct dc_spf *spf, const struct found *f, struct dc_plan *p)
{
	for (size_t i = 1; i < f->n; i++) {
		struct dc_spf other;

		if (dc_spf_parse(f->v[i]->value, &other, NULL) == -1)
			continue;
		for (size_t j = 0; j < other.n; j++) {
			const char *t = other.terms[j];

			/* One "all" only: the first record's. */
			if (spf_find(spf, t) >= 0 ||
			    (dc_spf_find_all(spf) >= 0 && is_all(t)))
				continue;
			spf_insert(spf,
			    is_modifier(t) ? spf->n : spf_insert_at(spf), t);
		}
		dc_spf_free(&other);
	}
	if (f->n > 1)
		note(p, "%s: %zu SPF records merged into one (RFC 7208 3.2)",
		    f->v[0]->name, f->n);
}

/* Our terms: the ones we added and no longer want go, the wanted come. */
static void
spf_ours(struct run *r, const struct dc_want *w, struct dc_spf *spf)
{
	for (size_t i = 0; i < spf->n;) {
		const char *t = spf->terms[i];

		if (dc_reg_has(&r->old, w->name, "spf", t) &&
		    !in_values(w, t) && !dc_spf_term_eq(t, w->spf_all)) {
			spf_remove(spf, i);
			continue;
		}
		i++;
	}
	for (size_t i = 0; i < w->nvalues; i++) {
		if (spf_find(spf, w->values[i]) < 0)
			spf_insert(spf, spf_insert_at(spf), w->values[i]);
		dc_reg_add(&r->neu, w->name, "spf", w->values[i]);
	}
}

static bool
has_redirect(const struct dc_spf *spf)
{
	for (size_t i = 0; i < spf->n; i++)
		if (rk_mem_case_eq(spf->terms[i], "redirect=", 9))
			return true;
	return false;
}

/* The policy: ours unless someone else wrote it. */
static void
spf_all(struct run *r, const struct dc_want *w, struct dc_spf *spf)
{
	long at = dc_spf_find_all(spf);

	if (at < 0) {
		if (has_redirect(spf)) {
			note(r->p,
			    "%s: the SPF record ends in redirect=; no \"%s\" "
			    "added",
			    w->name, w->spf_all);
			return;
		}
		spf_insert(spf, spf->n, w->spf_all);
		dc_reg_add(&r->neu, w->name, "spf", w->spf_all);
		return;
	}
	if (rk_str_case_eq(spf->terms[at], w->spf_all) ||
	    dc_reg_has(&r->old, w->name, "spf", spf->terms[at]) ||
	    r->o->adopt) {
		free(spf->terms[at]);
		spf->terms[at] = rk_strdup(w->spf_all);
		/* "all" stays the last mechanism. */
		while ((size_t)at + 1 < spf->n &&
		    !is_modifier(spf->terms[at + 1])) {
			char *t = spf->terms[at];

			spf->terms[at] = spf->terms[at + 1];
			spf->terms[++at] = t;
		}
		dc_reg_add(&r->neu, w->name, "spf", w->spf_all);
		return;
	}
	note(r->p,
	    "%s: the SPF record's \"%s\" is not relaykit-dnsctl's; kept "
	    "(dns.spfPolicy is %s)",
	    w->name, spf->terms[at], w->spf_all);
}

static int
spf_limit(struct run *r, const struct dc_want *w, const struct dc_spf *spf,
    struct rk_err *err)
{
	struct rk_buf unres;
	size_t n;

	rk_buf_init(&unres);
	n = dc_spf_lookups(spf, r->o->fetch, &unres);
	if (unres.len > 0)
		note(r->p, "%s: SPF lookups of %s not counted (not resolved)",
		    w->name, unres.data);
	rk_buf_free(&unres);
	if (n <= SPF_LOOKUP_LIMIT)
		return 0;
	r->p->spf_over = true;
	return rk_err_set(err,
	    "%s: the SPF record would need %zu DNS lookups; RFC 7208 4.6.4 "
	    "allows %d (drop dns.spfInclude entries or foreign include:s)",
	    w->name, n, SPF_LOOKUP_LIMIT);
}

static int
value_cmp(const void *a, const void *b)
{
	const struct dc_rr *const *x = a, *const *y = b;

	return strcmp((*x)->value, (*y)->value);
}

static int
plan_spf(struct run *r, const struct dc_want *w, struct rk_err *err)
{
	struct dc_spf spf = { NULL, 0 };
	struct rk_err why;
	struct found f;
	char *value;
	int rc = 0;

	find(r->z, w->name, DC_TXT, is_spf, &f);
	if (f.n > 1)
		qsort(f.v, f.n, sizeof(*f.v), value_cmp);
	if (f.n > 0 && dc_spf_parse(f.v[0]->value, &spf, &why) == -1) {
		note(r->p, "%s: SPF record not understood (%s); left alone",
		    w->name, why.msg);
		free(f.v);
		return 0;
	}
	spf_join(&spf, &f, r->p);
	spf_ours(r, w, &spf);
	spf_all(r, w, &spf);
	value = dc_spf_format(&spf);
	if (spf_limit(r, w, &spf, err) == -1)
		rc = -1;
	else if (f.n == 0)
		push(r, DC_OP_ADD, NULL, w->name, DC_TXT, value, false);
	else if (strcmp(value, f.v[0]->value) != 0 || f.v[0]->ttl != r->o->ttl)
		push(r, DC_OP_UPDATE, f.v[0], w->name, DC_TXT, value, false);
	for (size_t i = 1; rc == 0 && i < f.n; i++)
		push(r, DC_OP_DEL, f.v[i], NULL, 0, NULL, false);
	final_add(r, w->name, DC_TXT, value);
	free(value);
	dc_spf_free(&spf);
	free(f.v);
	return rc;
}

/* ------------------------------------------------ no longer wanted */

static bool
wanted(const struct dc_zone *z, const struct dc_reg_entry *e)
{
	for (size_t i = 0; i < z->nwants; i++) {
		const struct dc_want *w = z->wants[i];
		const char *tag =
		    w->role == DC_ROLE_SPF ? "spf" : dc_type_name(w->type);

		if (strcmp(w->name, e->name) == 0 && strcmp(tag, e->tag) == 0)
			return true;
	}
	return false;
}

static void
prune(struct run *r, const struct dc_reg_entry *e)
{
	bool dmarc = strncmp(e->name, "_dmarc.", 7) == 0;
	int type = dc_type_parse(e->tag);
	struct found f;

	find(r->z, e->name, type, dmarc ? is_dmarc : any_value, &f);
	for (size_t i = 0; i < f.n; i++)
		if (type == DC_TXT || rk_str_case_eq(f.v[i]->value, e->value))
			push(r, DC_OP_DEL, f.v[i], NULL, 0, NULL, false);
	free(f.v);
}

/* Our records the config does not ask for any more. */
static void
plan_leftovers(struct run *r)
{
	for (size_t i = 0; i < r->old.n; i++) {
		const struct dc_reg_entry *e = &r->old.v[i];

		if (wanted(r->z, e))
			continue;
		if (r->o->prune && strcmp(e->tag, "spf") != 0) {
			prune(r, e);
			continue;
		}
		dc_reg_add(&r->neu, e->name, e->tag, e->value);
		note(r->p, "%s %s%s%s: no longer in the config; kept (%s)",
		    e->name, e->tag, e->value[0] ? " " : "", e->value,
		    strcmp(e->tag, "spf") == 0 ? "remove the SPF term by hand"
		                               : "--prune deletes it");
	}
}

/* ---------------------------------------------------- ownership record */

static bool
any_txt(const char *v)
{
	return strncmp(v, "relaykit-dnsctl=", 16) == 0;
}

/* Finds and parses our ownership record; *mine is NULL without one. */
static void
registry_read(struct run *r, const struct dc_rr **mine, struct found *f)
{
	*mine = NULL;
	find(r->z, r->reg_name, DC_TXT, any_txt, f);
	for (size_t i = 0; i < f->n; i++) {
		struct dc_reg reg;
		struct rk_err err;
		int rc = dc_reg_parse(f->v[i]->value, strlen(f->v[i]->value),
		    r->z->name, &reg, &err);

		if (rc == 1 && strcmp(reg.owner, r->o->owner) == 0 &&
		    *mine == NULL) {
			*mine = f->v[i];
			r->old = reg;
			continue;
		}
		if (rc == -1)
			note(r->p, "%s: ownership record not understood: %s",
			    r->reg_name, err.msg);
		if (rc == 1)
			dc_reg_free(&reg);
	}
}

static void
plan_registry(struct run *r, const struct dc_rr *mine, const struct found *f)
{
	char *value;

	if (r->neu.n == 0) {
		if (mine != NULL)
			push(r, DC_OP_DEL, mine, NULL, 0, NULL, true);
		return;
	}
	value = dc_reg_format(&r->neu, r->z->name);
	if (mine == NULL)
		push(r, DC_OP_ADD, NULL, r->reg_name, DC_TXT, value, true);
	else if (strcmp(mine->value, value) != 0 || mine->ttl != r->o->ttl)
		push(r, DC_OP_UPDATE, mine, r->reg_name, DC_TXT, value, true);
	/* A second record of our own owner (two relays, one name). */
	for (size_t i = 0; i < f->n; i++) {
		struct dc_reg reg;

		if (f->v[i] == mine ||
		    dc_reg_parse(f->v[i]->value, strlen(f->v[i]->value),
		        r->z->name, &reg, NULL) != 1)
			continue;
		if (strcmp(reg.owner, r->o->owner) == 0)
			push(r, DC_OP_DEL, f->v[i], NULL, 0, NULL, true);
		dc_reg_free(&reg);
	}
	final_add(r, r->reg_name, DC_TXT, value);
	free(value);
}

/* ------------------------------------------------------------- plan */

int
dc_plan_zone(const struct dc_zone *z, const struct dc_plan_opts *o,
    struct dc_plan *out, struct rk_err *err)
{
	struct run r = { z, o, out, { 0 }, { 0 }, NULL };
	const struct dc_rr *mine;
	struct found regs;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	r.reg_name = dc_name_abs(DC_REG_LABEL, z->name);
	r.neu.owner = rk_strdup(o->owner);
	registry_read(&r, &mine, &regs);
	for (size_t i = 0; i < z->nwants && rc == 0; i++) {
		const struct dc_want *w = z->wants[i];

		if (w->role == DC_ROLE_ADDR || w->role == DC_ROLE_MX)
			plan_set(&r, w);
		else if (w->role == DC_ROLE_SPF)
			rc = plan_spf(&r, w, err);
		else
			plan_single(&r, w);
	}
	if (rc == 0) {
		plan_leftovers(&r);
		plan_registry(&r, mine, &regs);
	}
	free(regs.v);
	free(r.reg_name);
	dc_reg_free(&r.old);
	dc_reg_free(&r.neu);
	if (rc == -1)
		dc_plan_free(out);
	return rc;
}

void
dc_plan_free(struct dc_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		dc_rr_clear(&p->v[i].old);
		dc_rr_clear(&p->v[i].rr);
	}
	free(p->v);
	dc_rrs_free(&p->final);
	for (size_t i = 0; i < p->nnotes; i++)
		free(p->notes[i]);
	free(p->notes);
	memset(p, 0, sizeof(*p));
}

bool
dc_plan_too_big(const struct dc_zone *z, const struct dc_plan *p,
    int64_t percent, struct rk_err *err)
{
	if (z->total < GUARD_MIN_ZONE || p->risky == 0)
		return false;
	if ((int64_t)p->risky * 100 <= percent * (int64_t)z->total)
		return false;
	rk_err_set(err,
	    "zone %s: the plan changes or deletes %zu of its %zu records, "
	    "more than dns.maxChangePercent (%lld%%); --force applies it",
	    z->name, p->risky, z->total, (long long)percent);
	return true;
}

/* -------------------------------------------------------------- print */

static void
print_value(FILE *fp, const struct dc_rr *rr)
{
	char *q;

	if (rr->type != DC_TXT) {
		fputs(rr->value, fp);
		return;
	}
	q = dc_txt_quote(rr->value);
	fputs(q, fp);
	free(q);
}

static void
print_change(FILE *fp, const struct dc_change *c)
{
	static const char mark[] = { '+', '-', '~' };
	const struct dc_rr *rr = c->op == DC_OP_DEL ? &c->old : &c->rr;

	fprintf(fp, "  %c %s %u %s ", mark[c->op], rr->name, rr->ttl,
	    dc_type_name(rr->type));
	if (c->op == DC_OP_UPDATE) {
		print_value(fp, &c->old);
		if (c->old.ttl != c->rr.ttl)
			fprintf(fp, " (ttl %u)", c->old.ttl);
		fputs("\n      -> ", fp);
	}
	print_value(fp, rr);
	fputc('\n', fp);
}

void
dc_plan_print(FILE *fp, const struct dc_zone *z, const struct dc_plan *p)
{
	fprintf(
	    fp, "zone %s: %zu change%s\n", z->name, p->n, p->n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++)
		print_change(fp, &p->v[i]);
	for (size_t i = 0; i < p->nnotes; i++)
		fprintf(fp, "  ! %s\n", p->notes[i]);
}
