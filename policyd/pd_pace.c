/* SPDX-License-Identifier: MIT */
/*
 * pd_pace: the pacing table relaykit-policyd answers Postfix's queue
 * manager with (see pd_sockmap.h, rk_pace.h).  For a recipient of a paced
 * destination it names the ladder's transport closest to the
 * destination's current delay, or, once the day's warm-up cap is used up,
 * Postfix's retry transport with the reason; for any other recipient
 * NOTFOUND, so Postfix routes it as usual.
 *
 * Never waits on Redis: a lookup reads memory.  Every destination looked
 * up (and every listed one) has an entry; once a second its delay and
 * the day's warm-up count are read from Redis (rk_pace_lua's keys, in
 * chunks of one script run each), and an entry not looked up for an hour
 * is forgotten.  A warm-up grant is counted in memory at once and sent
 * to Redis (INCR) without waiting; a refresh's count plus the grants sent
 * after it was asked is the use.  Before the first refresh of an entry
 * its delay is initialDelay and its use what this process granted; with
 * Redis unreachable, the warm-up defers what it cannot count.
 *
 * Threading: the daemon's one loop.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_pace.h"
#include "rk_redis.h"
#include "policyd.h"
#include "pd_sockmap.h"

#define REFRESH_MS   1000
#define FORGET_MS    3600000 /* an unlisted entry not looked up: gone */
#define CHUNK        30      /* destinations per refresh script run */
#define NBUCKETS     1024
#define WARM_TTL     "259200" /* a warm-up counter outlives its day */
#define RETRY_STATUS "4.7.0"

struct ent {
	char name[RK_PACE_DEST_MAX];
	bool listed;
	bool known;        /* delay read from Redis */
	uint64_t delay_ms; /* when known */
	char day[9];       /* the day warm_used counts */
	bool warm_known;   /* warm_used read from Redis for that day */
	int64_t warm_used; /* recipients granted that day, all relays */
	int64_t sent;      /* grants this process sent to Redis, that day */
	int64_t sent_mark; /* sent when the refresh in flight was asked */
	uint64_t last_ms;  /* last lookup */
	struct ent *next;
};

/* A script run in flight: a refresh (the names it asked about) or a
   warm-up grant (n 0).  Cancelled when the table goes. */
struct pace_op {
	struct pd_pace *p;
	struct pd_redis_op *op;
	char (*names)[RK_PACE_DEST_MAX];
	size_t n;
	char day[9];
	struct pace_op *prev, *next;
};

struct pd_pace {
	struct pd_ctx *ctx;
	struct ent *tab[NBUCKETS];
	size_t n;
	struct event *timer;
	struct pace_op *ops; /* in flight */
	size_t inflight;     /* refresh runs not answered yet */
	struct rk_redis_script read, grant;
	struct rk_ratelimit log_down;
	struct rk_metric *lookups, *delay, *tier, *cap, *used;
};

static const char read_lua[] =
    /* KEYS: pace:D1, warm:D1:DAY, pace:D2, ...  Returns, per destination,
       its delay (or false) and its warm-up count (or 0). */
    "local out = {}\n"
    "for i = 1, #KEYS, 2 do\n"
    "  out[#out + 1] = redis.call('HGET', KEYS[i], 'delay')\n"
    "  out[#out + 1] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')\n"
    "end\n"
    "return out\n";

static const char grant_lua[] = "local n = redis.call('INCR', KEYS[1])\n"
                                "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
                                "return n\n";

static const struct rk_cfg *
cfg_of(const struct pd_pace *p)
{
	return p->ctx->state->cfg;
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h % NBUCKETS;
}

static struct ent *
find(struct pd_pace *p, const char *name)
{
	for (struct ent *e = p->tab[hash(name)]; e != NULL; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static struct ent *
get(struct pd_pace *p, const char *name, bool listed)
{
	struct ent *e = find(p, name);
	uint64_t h;

	if (e != NULL) {
		e->listed |= listed;
		return e;
	}
	e = rk_calloc(1, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->listed = listed;
	e->last_ms = pd_now_ms();
	h = hash(name);
	e->next = p->tab[h];
	p->tab[h] = e;
	p->n++;
	return e;
}

/* Unlisted entries not looked up for FORGET_MS. */
static void
forget_idle(struct pd_pace *p, uint64_t now)
{
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct ent **pp = &p->tab[b];

		while (*pp != NULL) {
			struct ent *e = *pp;

			if (e->listed || now - e->last_ms < FORGET_MS) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e);
			p->n--;
		}
	}
}

/* A new day: yesterday's counts do not apply. */
static void
set_day(struct ent *e, const char *day)
{
	if (strcmp(e->day, day) == 0)
		return;
	snprintf(e->day, sizeof(e->day), "%s", day);
	e->warm_known = false;
	e->warm_used = e->sent = e->sent_mark = 0;
}

/* ------------------------------------------------------------ metrics */

static const char *const l_dest[] = { "destination" };
static const char *const l_result[] = { "result" };

static void
metrics_init(struct pd_pace *p)
{
	struct rk_metrics *reg = p->ctx->metrics.reg;

	p->lookups = rk_metrics_counter(reg, "relaykit_pace_lookups_total",
	    "Socketmap lookups by the queue manager, by result: paced (a "
	    "ladder transport), warmup_deferred (the day's cap is used up), "
	    "notfound (not paced), bad (a malformed request).",
	    1, l_result);
	p->delay = rk_metrics_gauge(reg, "relaykit_pace_delay_seconds",
	    "Each listed destination's current delay between deliveries.", 1,
	    l_dest);
	p->tier = rk_metrics_gauge(reg, "relaykit_pace_tier_seconds",
	    "The rate delay of the ladder transport each listed destination "
	    "is routed to.",
	    1, l_dest);
	p->cap = rk_metrics_gauge(reg, "relaykit_warmup_cap",
	    "Today's warm-up cap per destination (-1: none).", 1, l_dest);
	p->used = rk_metrics_gauge(reg, "relaykit_warmup_used",
	    "Recipients routed to each listed destination today, all relays.",
	    1, l_dest);
	for (size_t i = 0; i < 4; i++)
		rk_metric_add(p->lookups, 0,
		    RK_LABELS(((const char *[]){
		        "paced", "warmup_deferred", "notfound", "bad" })[i]));
}

/* The transport a delay goes to, and its tier's delay. */
static uint64_t
tier_of(const struct rk_cfg *cfg, const struct rk_cfg_adaptive *a,
    uint64_t delay_ms, char *transport, size_t n)
{
	const struct rk_cfg_adaptive_rate *ar = &cfg->adaptiveRate;
	uint64_t t = ar->tiers[rk_pace_tier(
	    ar->tiers, ar->ntiers, delay_ms, a->minDelay)];

	rk_pace_transport(t, transport, n);
	return t;
}

/* The gauges of the listed destinations. */
static void
metrics_update(struct pd_pace *p)
{
	const struct rk_cfg *cfg = cfg_of(p);
	int64_t cap = rk_pace_warmup_cap(&cfg->adaptiveRate.warmup,
	    rk_pace_warmup_day(&cfg->adaptiveRate.warmup, time(NULL)));

	for (size_t i = 0; i < cfg->adaptiveRate.ndomains; i++) {
		const struct rk_cfg_adaptive *a = &cfg->adaptiveRate.domains[i];
		struct ent *e = find(p, a->name);
		uint64_t d;
		char tr[64];

		if (e == NULL || !a->enabled)
			continue;
		d = e->known ? e->delay_ms : a->initialDelay;
		rk_metric_set(p->delay, (double)d / 1000, RK_LABELS(a->name));
		rk_metric_set(p->tier,
		    (double)tier_of(cfg, a, d, tr, sizeof(tr)) / 1000,
		    RK_LABELS(a->name));
		rk_metric_set(p->cap, (double)cap, RK_LABELS(a->name));
		rk_metric_set(
		    p->used, (double)e->warm_used, RK_LABELS(a->name));
	}
}

/* ------------------------------------------------------------ refresh */

static struct pace_op *
op_new(struct pd_pace *p)
{
	struct pace_op *o = rk_calloc(1, sizeof(*o));

	o->p = p;
	o->next = p->ops;
	if (p->ops != NULL)
		p->ops->prev = o;
	p->ops = o;
	return o;
}

static void
op_free(struct pace_op *o)
{
	if (o->prev != NULL)
		o->prev->next = o->next;
	else
		o->p->ops = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	free(o->names);
	free(o);
}

static void
on_refresh(void *arg, const redisReply *rep, const char *err)
{
	struct pace_op *r = arg;
	struct pd_pace *p = r->p;
	unsigned long n = 0;

	p->inflight--;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != 2 * r->n) {
		if (rk_ratelimit_allow(&p->log_down, pd_now_ms(), &n))
			rk_log_warnx("pacing: cannot read the state from "
			             "Redis (%s); answering from memory",
			    err ? err : "a bad reply");
		op_free(r);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct ent *e = find(p, r->names[i]);
		const redisReply *d = rep->element[2 * i],
		                 *w = rep->element[2 * i + 1];

		if (e == NULL)
			continue;
		if (d->type == REDIS_REPLY_STRING) {
			e->delay_ms = strtoull(d->str, NULL, 10);
			e->known = true;
		}
		set_day(e, r->day);
		if (w->type == REDIS_REPLY_INTEGER) {
			e->warm_used = w->integer + (e->sent - e->sent_mark);
			e->warm_known = true;
		}
	}
	op_free(r);
	metrics_update(p);
}

/* One script run for up to CHUNK destinations starting at list[0]. */
static void
refresh_chunk(struct pd_pace *p, struct ent **list, size_t n, const char *day)
{
	struct pace_op *r = op_new(p);
	const char *keys[2 * CHUNK];
	char(*k)[RK_PACE_DEST_MAX + 64] = rk_calloc(2 * n, sizeof(*k));
	const char *prefix = pd_redis_prefix(p->ctx->redis);

	r->n = n;
	r->names = rk_calloc(n, sizeof(*r->names));
	snprintf(r->day, sizeof(r->day), "%s", day);
	for (size_t i = 0; i < n; i++) {
		set_day(list[i], day);
		list[i]->sent_mark = list[i]->sent;
		snprintf(r->names[i], sizeof(r->names[i]), "%s", list[i]->name);
		snprintf(
		    k[2 * i], sizeof(k[0]), "%space:%s", prefix, list[i]->name);
		snprintf(k[2 * i + 1], sizeof(k[0]), "%swarm:%s:%s", prefix,
		    list[i]->name, day);
		keys[2 * i] = k[2 * i];
		keys[2 * i + 1] = k[2 * i + 1];
	}
	p->inflight++;
	r->op = pd_redis_eval_script(
	    p->ctx->redis, &p->read, 2 * n, keys, 0, NULL, on_refresh, r);
	free(k);
}

static void
refresh(struct pd_pace *p)
{
	struct ent *chunk[CHUNK];
	size_t n = 0;
	char day[9];

	if (p->inflight > 0)
		return; /* Redis is slow: one round at a time */
	forget_idle(p, pd_now_ms());
	rk_pace_day_stamp(time(NULL), day);
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct ent *e = p->tab[b]; e != NULL; e = e->next) {
			chunk[n++] = e;
			if (n == CHUNK) {
				refresh_chunk(p, chunk, n, day);
				n = 0;
			}
		}
	if (n > 0)
		refresh_chunk(p, chunk, n, day);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pd_pace *p = arg;
	struct timeval tv = { REFRESH_MS / 1000, (REFRESH_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	refresh(p);
	evtimer_add(p->timer, &tv);
}

/* ------------------------------------------------------------- lookup */

static void
on_granted(void *arg, const redisReply *rep, const char *err)
{
	struct pace_op *o = arg;
	struct pd_pace *p = o->p;
	unsigned long n = 0;

	op_free(o);
	if (rep == NULL && rk_ratelimit_allow(&p->log_down, pd_now_ms(), &n))
		rk_log_warnx("pacing: a warm-up grant was not counted in "
		             "Redis (%s)",
		    err ? err : "no answer");
}

/* true when the day's cap leaves room: then the grant is counted. */
static bool
warmup_grant(struct pd_pace *p, struct ent *e, int64_t cap, const char *day)
{
	char key[RK_PACE_DEST_MAX + 64];
	const char *keys[1] = { key }, *args[1] = { WARM_TTL };

	set_day(e, day);
	if (!e->warm_known && !pd_redis_up(p->ctx->redis))
		return false; /* cannot count: mail waits */
	if (e->warm_used >= cap)
		return false;
	e->warm_used++;
	e->sent++;
	snprintf(key, sizeof(key), "%swarm:%s:%s",
	    pd_redis_prefix(p->ctx->redis), e->name, day);
	{
		struct pace_op *o = op_new(p);

		o->op = pd_redis_eval_script(
		    p->ctx->redis, &p->grant, 1, keys, 1, args, on_granted, o);
	}
	return true;
}

void
pd_pace_lookup(struct pd_pace *p, struct pd_sm_str key, const char **status,
    struct rk_buf *text)
{
	const struct rk_cfg *cfg = cfg_of(p);
	const struct rk_cfg_warmup *w = &cfg->adaptiveRate.warmup;
	struct pd_sm_str dom;
	struct rk_pace_dest d;
	struct ent *e;
	int64_t cap;
	char day[9], tr[64], nh[300];
	time_t now = time(NULL);

	if (!pd_sockmap_domain(key, &dom) ||
	    !rk_pace_find(cfg, dom.p, dom.len, &d)) {
		*status = "NOTFOUND";
		rk_metric_inc(p->lookups, RK_LABELS("notfound"));
		return;
	}
	e = get(p, d.name, d.listed);
	e->last_ms = pd_now_ms();
	rk_pace_day_stamp(now, day);
	cap = rk_pace_warmup_cap(w, rk_pace_warmup_day(w, now));
	if (cap >= 0 && !warmup_grant(p, e, cap, day)) {
		*status = "OK";
		rk_buf_printf(text,
		    "retry:" RETRY_STATUS " " RK_PACE_OWN_TAG
		    " the warm-up cap of %s (%lld a day) is used up%s; "
		    "deferred until tomorrow (UTC)",
		    d.name, (long long)cap,
		    e->warm_known ? "" : " or cannot be counted (Redis)");
		rk_metric_inc(p->lookups, RK_LABELS("warmup_deferred"));
		return;
	}
	(void)tier_of(cfg, d.cfg, e->known ? e->delay_ms : d.cfg->initialDelay,
	    tr, sizeof(tr));
	rk_pace_nexthop(cfg, nh, sizeof(nh));
	*status = "OK";
	rk_buf_printf(text, "%s:%s", tr, nh);
	rk_metric_inc(p->lookups, RK_LABELS("paced"));
}

/* ----------------------------------------------------------- lifetime */

void
pd_pace_reload(struct pd_pace *p)
{
	const struct rk_cfg_adaptive_rate *ar = &cfg_of(p)->adaptiveRate;

	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct ent *e = p->tab[b]; e != NULL; e = e->next)
			e->listed = false;
	for (size_t i = 0; i < ar->ndomains; i++)
		if (ar->domains[i].enabled)
			(void)get(p, ar->domains[i].name, true);
	refresh(p);
}

struct pd_pace *
pd_pace_new(struct pd_ctx *ctx, struct rk_err *err)
{
	struct pd_pace *p;
	struct timeval now = { 0, 0 };

	(void)err;
	if (!ctx->state->cfg->adaptiveRate.enabled)
		return NULL;
	p = rk_calloc(1, sizeof(*p));
	p->ctx = ctx;
	rk_redis_script_init(&p->read, read_lua);
	rk_redis_script_init(&p->grant, grant_lua);
	rk_ratelimit_init(&p->log_down, 60000);
	metrics_init(p);
	pd_pace_reload(p);
	metrics_update(p);
	p->timer = evtimer_new(ctx->base, on_timer, p);
	evtimer_add(p->timer, &now);
	return p;
}

void
pd_pace_free(struct pd_pace *p)
{
	if (p == NULL)
		return;
	event_free(p->timer);
	while (p->ops != NULL) {
		pd_redis_op_cancel(p->ops->op);
		op_free(p->ops);
	}
	for (size_t b = 0; b < NBUCKETS; b++)
		while (p->tab[b] != NULL) {
			struct ent *e = p->tab[b];

			p->tab[b] = e->next;
			free(e);
		}
	free(p);
}
