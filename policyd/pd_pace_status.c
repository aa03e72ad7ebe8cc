/* SPDX-License-Identifier: MIT */
/*
 * pd_pace_status: relaykit-policyd --pacing, what an operator asks first
 * about pacing: for every destination Redis holds a state for (and every
 * listed one), its delay, the ladder transport it goes to, successes in a
 * row, rate-limit replies seen, when the delay last changed, and today's
 * warm-up use against the cap.  One synchronous Redis conversation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "rk_cfg.h"
#include "rk_mem.h"
#include "rk_pace.h"
#include "rk_redis.h"
#include "pd_sockmap.h"

struct row {
	char name[RK_PACE_DEST_MAX];
};

static void
add(struct row **rows, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*rows)[i].name, name) == 0)
			return;
	*rows = rk_reallocarray(*rows, *n + 1, sizeof(**rows));
	snprintf((*rows)[(*n)++].name, RK_PACE_DEST_MAX, "%s", name);
}

/* Every destination with a state: SCAN P pace:*. */
static int
scan(struct rk_redis *r, struct row **rows, size_t *n, struct rk_err *err)
{
	struct rk_buf pat;
	char cursor[32] = "0";
	size_t plen = strlen(rk_redis_prefix(r)) + strlen("pace:");

	rk_buf_init(&pat);
	rk_redis_key(r, &pat, "pace:*");
	do {
		const char *argv[] = { "SCAN", cursor, "MATCH", pat.data,
			"COUNT", "1000" };
		redisReply *rep = rk_redis_commandv(r, err, 6, argv, NULL);

		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2) {
			if (rep != NULL)
				freeReplyObject(rep);
			rk_buf_free(&pat);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			const char *k = rep->element[1]->element[i]->str;

			if (strlen(k) > plen)
				add(rows, n, k + plen);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0);
	rk_buf_free(&pat);
	return 0;
}

static const char *
field(const redisReply *h, const char *name)
{
	for (size_t i = 0; h && i + 1 < h->elements; i += 2)
		if (strcmp(h->element[i]->str, name) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

static void
print_row(
    struct rk_redis *r, const struct rk_cfg *cfg, const char *name, FILE *out)
{
	const struct rk_cfg_adaptive_rate *ar = &cfg->adaptiveRate;
	struct rk_pace_dest d;
	struct rk_buf k1, k2;
	struct rk_err err;
	redisReply *h, *w;
	const char *delay, *changed;
	uint64_t ms;
	char tr[64] = "-", when[32] = "-", day[9], warm[64] = "-";
	time_t now = time(NULL);
	int64_t cap = rk_pace_warmup_cap(
	    &ar->warmup, rk_pace_warmup_day(&ar->warmup, now));
	bool paced = rk_pace_find(cfg, name, strlen(name), &d);

	rk_buf_init(&k1);
	rk_buf_init(&k2);
	rk_pace_day_stamp(now, day);
	h = rk_redis_command(
	    r, &err, "HGETALL %s", rk_redis_key(r, &k1, "pace:%s", name));
	w = rk_redis_command(
	    r, &err, "GET %s", rk_redis_key(r, &k2, "warm:%s:%s", name, day));
	delay = field(h, "delay");
	ms = delay  ? strtoull(delay, NULL, 10)
	    : paced ? d.cfg->initialDelay
	            : 0;
	if (paced)
		rk_pace_transport(ar->tiers[rk_pace_tier(ar->tiers, ar->ntiers,
		                      ms, d.cfg->minDelay)],
		    tr, sizeof(tr));
	if ((changed = field(h, "changed")) != NULL) {
		time_t t = (time_t)(strtoll(changed, NULL, 10) / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (cap >= 0)
		snprintf(warm, sizeof(warm), "%s/%lld",
		    w && w->type == REDIS_REPLY_STRING ? w->str : "0",
		    (long long)cap);
	fprintf(out, "%-28s %8.1fs%s %-12s %6s %7s  %-20s %s\n", name,
	    (double)ms / 1000, delay ? " " : "*", paced ? tr : "(not paced)",
	    field(h, "streak") ? field(h, "streak") : "0",
	    field(h, "limited") ? field(h, "limited") : "0", when, warm);
	if (h != NULL)
		freeReplyObject(h);
	if (w != NULL)
		freeReplyObject(w);
	rk_buf_free(&k1);
	rk_buf_free(&k2);
}

int
pd_pace_status(const char *cfgpath, FILE *out, FILE *errf)
{
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg =
	    rk_cfg_load_file(cfgpath, RK_CFG_SECRETS | RK_CFG_SEC_REDIS, &diag);
	struct rk_redis_opts o;
	struct rk_redis *r;
	struct rk_err err;
	struct row *rows = NULL;
	size_t n = 0;
	int status = 0;

	if (cfg == NULL) {
		rk_cfg_diag_print(&diag, errf);
		rk_cfg_diag_free(&diag);
		return EX_CONFIG;
	}
	rk_redis_opts_from_cfg(&o, &cfg->redis);
	if ((r = rk_redis_new(&o, &err)) == NULL) {
		fprintf(errf, "%s\n", err.msg);
		rk_cfg_unref(cfg);
		return EX_CONFIG;
	}
	for (size_t i = 0; i < cfg->adaptiveRate.ndomains; i++)
		add(&rows, &n, cfg->adaptiveRate.domains[i].name);
	if (scan(r, &rows, &n, &err) != 0) {
		fprintf(errf, "redis: %s\n", err.msg);
		status = EX_TEMPFAIL;
	} else {
		if (!cfg->adaptiveRate.enabled)
			fprintf(out,
			    "# adaptiveRate.enabled is false: nothing "
			    "is paced\n");
		fprintf(out, "%-28s %9s %-12s %6s %7s  %-20s %s\n",
		    "DESTINATION", "DELAY", "TRANSPORT", "STREAK", "LIMITED",
		    "CHANGED", "WARM-UP");
		for (size_t i = 0; i < n; i++)
			print_row(r, cfg, rows[i].name, out);
		fprintf(out,
		    "# * not seen yet: initialDelay; warm-up: used "
		    "today (UTC)/cap\n");
	}
	free(rows);
	rk_redis_free(r);
	rk_cfg_unref(cfg);
	return status;
}
