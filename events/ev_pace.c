/* SPDX-License-Identifier: MIT */
/*
 * ev_pace: relaykit-eventd's side of adaptive pacing.  Each delivered or
 * deferred event of a paced destination (rk_pace_find) becomes a letter
 * of that destination's outcomes in the batch (o: delivered; l, s: a
 * rate-limit reply, a severe one; d: another deferral, which gives a
 * warm-up place back); ev_store applies them with rk_pace_lua in the
 * batch's own transaction, so each outcome moves the delay exactly once.
 * relaykit's own warm-up deferrals are not the destination's doing and
 * are skipped.
 *
 * Threading: the reader thread only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_pace.h"

#include "eventd.h"

struct ev_pace {
	const struct rk_cfg *cfg;
	struct rk_pace_rules *rules;
	struct ev_stats_io *io;
};

struct ev_pace *
ev_pace_new(
    const struct rk_cfg *cfg, struct ev_stats_io *io, struct rk_err *err)
{
	struct ev_pace *p;

	if (!cfg->adaptiveRate.enabled)
		return NULL;
	p = rk_calloc(1, sizeof(*p));
	p->cfg = cfg;
	p->io = io;
	if ((p->rules = rk_pace_rules_new(&cfg->adaptiveRate, err)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
ev_pace_free(struct ev_pace *p)
{
	if (p == NULL)
		return;
	rk_pace_rules_free(p->rules);
	free(p);
}

/* The batch's outcomes for dest, added when new. */
static struct ev_pace_out *
out_for(struct ev_batch *b, const struct rk_pace_dest *d)
{
	struct ev_pace_out *o;

	for (size_t i = 0; i < b->npace; i++)
		if (strcmp(b->pace[i].dest, d->name) == 0)
			return &b->pace[i];
	if (b->npace == b->cappace) {
		b->cappace = b->cappace ? b->cappace * 2 : 16;
		b->pace =
		    rk_reallocarray(b->pace, b->cappace, sizeof(*b->pace));
	}
	o = &b->pace[b->npace++];
	memset(o, 0, sizeof(*o));
	snprintf(o->dest, sizeof(o->dest), "%s", d->name);
	o->cfg = d->cfg;
	rk_buf_init(&o->letters);
	return o;
}

static const char *
kind_name(enum rk_pace_kind k)
{
	switch (k) {
	case RK_PACE_OK:
		return "ok";
	case RK_PACE_LIMITED:
		return "limited";
	case RK_PACE_SEVERE:
		return "severe";
	default:
		return "other";
	}
}

void
ev_pace_note(struct ev_pace *p, struct ev_batch *b, const struct rk_event *ev)
{
	struct rk_pace_dest d;
	enum rk_pace_kind k;
	const char *at;

	if (p == NULL || ev->to == NULL ||
	    (ev->type != RK_EVT_DELIVERED && ev->type != RK_EVT_DEFERRED))
		return;
	if ((at = strrchr(ev->to, '@')) == NULL ||
	    !rk_pace_find(p->cfg, at + 1, strlen(at + 1), &d))
		return;
	k = ev->type == RK_EVT_DELIVERED
	    ? RK_PACE_OK
	    : rk_pace_classify(p->rules, ev->dsn, ev->response);
	if (k == RK_PACE_OWN)
		return;
	rk_buf_putc(&out_for(b, &d)->letters, rk_pace_letter(k));
	rk_metric_inc(
	    p->io->pace, RK_LABELS(d.listed ? d.name : "other", kind_name(k)));
	if (k == RK_PACE_LIMITED || k == RK_PACE_SEVERE)
		rk_log_info("pace: %s answered with a rate limit (%s): %s",
		    d.name, kind_name(k), ev->dsn ? ev->dsn : "-");
}
