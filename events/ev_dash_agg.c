/* SPDX-License-Identifier: MIT */
/*
 * ev_dash_agg: what the dashboard sums up from every event it reads (not
 * only those a browser is sent, which may be sampled): counts per event
 * in 10-second buckets over 15 minutes, and the destinations with the
 * most deferrals (and bounces) over the last 15 minutes, with their
 * latest reply.  Fixed memory: EV_DASH_DOMAINS destinations; when full,
 * the one with the fewest failures gives its place.  Pure; one thread.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rk_event.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "ev_dash.h"

#define MINUTES 15
#define MINUTE  60000

struct dom {
	char name[128];
	int64_t minute[MINUTES]; /* which minute each slot counts */
	uint32_t deferred[MINUTES], bounced[MINUTES];
	char dsn[16];
	char response[EV_DASH_RESPONSE_MAX + 1];
	int64_t last_ms;
};

struct ev_dash_agg {
	int64_t bucket[EV_DASH_BUCKETS]; /* which bucket each slot counts */
	uint32_t count[EV_DASH_BUCKETS][RK_EVT_NTYPES];
	struct dom doms[EV_DASH_DOMAINS];
	size_t ndoms;
	uint64_t seen;
};

void
ev_dash_agg_reset(struct ev_dash_agg *a)
{
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < EV_DASH_BUCKETS; i++)
		a->bucket[i] = -1;
}

struct ev_dash_agg *
ev_dash_agg_new(void)
{
	struct ev_dash_agg *a = rk_malloc(sizeof(*a));

	ev_dash_agg_reset(a);
	return a;
}

void
ev_dash_agg_free(struct ev_dash_agg *a)
{
	free(a);
}

/* Failures of d within the 15 minutes before now. */
static uint64_t
dom_sum(const struct dom *d, int64_t now_ms, bool bounced)
{
	int64_t m = now_ms / MINUTE;
	uint64_t n = 0;

	for (size_t i = 0; i < MINUTES; i++)
		if (d->minute[i] > m - MINUTES && d->minute[i] <= m)
			n += bounced ? d->bounced[i] : d->deferred[i];
	return n;
}

static struct dom *
dom_slot(struct ev_dash_agg *a, const char *name, int64_t now_ms)
{
	struct dom *least = NULL;
	uint64_t least_n = UINT64_MAX;

	for (size_t i = 0; i < a->ndoms; i++) {
		struct dom *d = &a->doms[i];
		uint64_t n;

		if (strcmp(d->name, name) == 0)
			return d;
		n = dom_sum(d, now_ms, false) + dom_sum(d, now_ms, true);
		if (n < least_n ||
		    (n == least_n && d->last_ms < least->last_ms)) {
			least = d;
			least_n = n;
		}
	}
	if (a->ndoms < EV_DASH_DOMAINS)
		least = &a->doms[a->ndoms++];
	memset(least, 0, sizeof(*least));
	for (size_t i = 0; i < MINUTES; i++)
		least->minute[i] = -1;
	snprintf(least->name, sizeof(least->name), "%s", name);
	return least;
}

static void
count_failure(
    struct ev_dash_agg *a, const struct ev_dash_ev *e, int64_t t, int64_t now)
{
	struct dom *d = dom_slot(a, e->domain, now);
	int64_t m = t / MINUTE;
	size_t i = (size_t)(m % MINUTES);

	if (d->minute[i] != m) {
		d->minute[i] = m;
		d->deferred[i] = d->bounced[i] = 0;
	}
	if (e->type == RK_EVT_BOUNCED)
		d->bounced[i]++;
	else
		d->deferred[i]++;
	if (t >= d->last_ms) {
		d->last_ms = t;
		snprintf(d->dsn, sizeof(d->dsn), "%s", e->dsn);
		snprintf(d->response, sizeof(d->response), "%s", e->response);
	}
}

void
ev_dash_agg_add(struct ev_dash_agg *a, const struct ev_dash_ev *e, int64_t now)
{
	/* a clock a little ahead of ours counts now; too old: not at all */
	int64_t t = e->time_ms > now || e->time_ms <= 0 ? now : e->time_ms;
	int64_t b = t / EV_DASH_BUCKET_MS;
	size_t i = (size_t)(b % EV_DASH_BUCKETS);

	a->seen++;
	if (e->type < 0 || e->type >= RK_EVT_NTYPES ||
	    b <= now / EV_DASH_BUCKET_MS - EV_DASH_BUCKETS)
		return;
	if (a->bucket[i] != b) {
		a->bucket[i] = b;
		memset(a->count[i], 0, sizeof(a->count[i]));
	}
	a->count[i][e->type]++;
	if ((e->type == RK_EVT_DEFERRED || e->type == RK_EVT_BOUNCED ||
	        e->type == RK_EVT_EXPIRED) &&
	    e->domain[0] != '\0')
		count_failure(a, e, t, now);
}

static json_t *
rates_json(const struct ev_dash_agg *a, int64_t now)
{
	int64_t last = now / EV_DASH_BUCKET_MS;
	json_t *rates = json_object();

	for (int t = 0; t < RK_EVT_NTYPES; t++) {
		json_t *arr = json_array();

		for (int64_t b = last - EV_DASH_BUCKETS + 1; b <= last; b++) {
			size_t i = (size_t)(b % EV_DASH_BUCKETS);

			json_array_append_new(arr,
			    json_integer(
			        a->bucket[i] == b ? a->count[i][t] : 0));
		}
		json_object_set_new(rates, rk_event_type_name(t), arr);
	}
	return rates;
}

struct ranked {
	const struct dom *d;
	uint64_t deferred, bounced;
};

static int
by_failures(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->deferred != b->deferred)
		return a->deferred < b->deferred ? 1 : -1;
	if (a->bounced != b->bounced)
		return a->bounced < b->bounced ? 1 : -1;
	return strcmp(a->d->name, b->d->name);
}

static json_t *
delay_json(ev_dash_delay_fn *fn, void *arg, const char *domain)
{
	int64_t ms = fn != NULL ? fn(arg, domain) : -1;

	return ms >= 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *
top_json(
    const struct ev_dash_agg *a, int64_t now, ev_dash_delay_fn *fn, void *arg)
{
	struct ranked r[EV_DASH_DOMAINS];
	size_t n = 0;
	json_t *top = json_array();

	for (size_t i = 0; i < a->ndoms; i++) {
		r[n].d = &a->doms[i];
		r[n].deferred = dom_sum(&a->doms[i], now, false);
		r[n].bounced = dom_sum(&a->doms[i], now, true);
		if (r[n].deferred + r[n].bounced > 0)
			n++;
	}
	if (n > 1)
		qsort(r, n, sizeof(r[0]), by_failures);
	for (size_t i = 0; i < n && i < EV_DASH_TOP; i++)
		json_array_append_new(top,
		    json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:o}", "domain",
		        r[i].d->name, "deferred", (json_int_t)r[i].deferred,
		        "bounced", (json_int_t)r[i].bounced, "dsn", r[i].d->dsn,
		        "response", r[i].d->response, "last",
		        (json_int_t)r[i].d->last_ms, "delay",
		        delay_json(fn, arg, r[i].d->name)));
	return top;
}

void
ev_dash_agg_json(struct ev_dash_agg *a, int64_t now, ev_dash_delay_fn *fn,
    void *arg, struct rk_buf *out)
{
	json_t *o = json_pack("{s:I,s:i,s:o,s:o,s:I}", "now", (json_int_t)now,
	    "width", EV_DASH_BUCKET_MS, "rates", rates_json(a, now), "top",
	    top_json(a, now, fn, arg), "seen", (json_int_t)a->seen);
	char *text;

	if (o == NULL)
		rk_panic("dashboard: json_pack failed");
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text == NULL)
		rk_panic("dashboard: json_dumps failed");
	rk_buf_puts(out, text);
	free(text);
	json_decref(o);
}
