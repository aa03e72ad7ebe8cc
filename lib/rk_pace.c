/* SPDX-License-Identifier: MIT */
/*
 * rk_pace: destinations, reply classes, the ladder and warm-up caps of
 * adaptive pacing (see rk_pace.h).  Threading: rules are read-only once
 * made; everything else is pure.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rk_mem.h"
#include "rk_pace.h"

/* ------------------------------------------------------- destinations */

/* The entry whose name or member is exactly d, or NULL. */
static const struct rk_cfg_adaptive *
entry_of(const struct rk_cfg_adaptive_rate *ar, const char *d)
{
	for (size_t i = 0; i < ar->ndomains; i++) {
		const struct rk_cfg_adaptive *a = &ar->domains[i];

		if (strcmp(a->name, d) == 0)
			return a;
		for (size_t m = 0; m < a->nmembers; m++)
			if (strcmp(a->members[m], d) == 0)
				return a;
	}
	return NULL;
}

/* Lower-case, no trailing dot, only letters, digits, '-' and '.'. */
static bool
normalize(const char *in, size_t len, char *out)
{
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len >= RK_PACE_DEST_MAX || in[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (!isalnum(c) && c != '-' && c != '.')
			return false;
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return strstr(out, "..") == NULL;
}

bool
rk_pace_find(const struct rk_cfg *cfg, const char *domain, size_t len,
    struct rk_pace_dest *out)
{
	const struct rk_cfg_adaptive_rate *ar = &cfg->adaptiveRate;
	char d[RK_PACE_DEST_MAX];

	memset(out, 0, sizeof(*out));
	if (!ar->enabled || !normalize(domain, len, d))
		return false;
	for (const char *p = d; p != NULL;) {
		const struct rk_cfg_adaptive *a = entry_of(ar, p);

		if (a != NULL) {
			if (!a->enabled)
				return false;
			out->cfg = a;
			out->listed = true;
			snprintf(out->name, sizeof(out->name), "%s", a->name);
			return true;
		}
		p = strchr(p, '.');
		if (p != NULL)
			p++;
	}
	if (!ar->defaults.enabled)
		return false;
	out->cfg = &ar->defaults;
	snprintf(out->name, sizeof(out->name), "%s", d);
	return true;
}

/* ------------------------------------------------------------ replies */

struct rk_pace_rules {
	regex_t *re[3]; /* limited, severe, ignore */
	size_t n[3];
};

static int
compile(
    char *const *src, size_t n, regex_t **out, size_t *nout, struct rk_err *err)
{
	*out = rk_calloc(n ? n : 1, sizeof(**out));
	for (*nout = 0; *nout < n; (*nout)++) {
		int rc = regcomp(&(*out)[*nout], src[*nout],
		    REG_EXTENDED | REG_ICASE | REG_NOSUB);

		if (rc != 0) {
			char msg[128];

			regerror(rc, &(*out)[*nout], msg, sizeof(msg));
			return rk_err_set(
			    err, "pattern \"%s\": %s", src[*nout], msg);
		}
	}
	return 0;
}

struct rk_pace_rules *
rk_pace_rules_new(const struct rk_cfg_adaptive_rate *ar, struct rk_err *err)
{
	struct rk_pace_rules *r = rk_calloc(1, sizeof(*r));

	if (compile(ar->rateLimitReplies, ar->nrateLimitReplies, &r->re[0],
	        &r->n[0], err) != 0 ||
	    compile(ar->severeReplies, ar->nsevereReplies, &r->re[1], &r->n[1],
	        err) != 0 ||
	    compile(ar->ignoreReplies, ar->nignoreReplies, &r->re[2], &r->n[2],
	        err) != 0) {
		rk_pace_rules_free(r);
		return NULL;
	}
	return r;
}

void
rk_pace_rules_free(struct rk_pace_rules *r)
{
	if (r == NULL)
		return;
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < r->n[k]; i++)
			regfree(&r->re[k][i]);
		free(r->re[k]);
	}
	free(r);
}

static bool
any(const regex_t *re, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (regexec(&re[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

enum rk_pace_kind
rk_pace_classify(
    const struct rk_pace_rules *r, const char *dsn, const char *text)
{
	struct rk_buf b;
	enum rk_pace_kind k = RK_PACE_OTHER;

	if (text != NULL && strstr(text, RK_PACE_OWN_TAG) != NULL)
		return RK_PACE_OWN;
	/* "4.7.28 host mx said: 421-4.7.28 ...": patterns may anchor on
	   the status (^4\.7\.) or look at the words */
	rk_buf_init(&b);
	rk_buf_printf(&b, "%s %s", dsn ? dsn : "", text ? text : "");
	if (any(r->re[2], r->n[2], b.data))
		k = RK_PACE_OTHER;
	else if (any(r->re[1], r->n[1], b.data))
		k = RK_PACE_SEVERE;
	else if (any(r->re[0], r->n[0], b.data))
		k = RK_PACE_LIMITED;
	rk_buf_free(&b);
	return k;
}

char
rk_pace_letter(enum rk_pace_kind k)
{
	switch (k) {
	case RK_PACE_OK:
		return 'o';
	case RK_PACE_LIMITED:
		return 'l';
	case RK_PACE_SEVERE:
		return 's';
	case RK_PACE_OTHER:
		return 'd';
	case RK_PACE_OWN:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------- ladder */

size_t
rk_pace_tier(
    const uint64_t *tiers, size_t n, uint64_t delay_ms, uint64_t floor_ms)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++) {
		uint64_t db = tiers[best] > delay_ms ? tiers[best] - delay_ms
		                                     : delay_ms - tiers[best];
		uint64_t di = tiers[i] > delay_ms ? tiers[i] - delay_ms
		                                  : delay_ms - tiers[i];

		if (di <= db)
			best = i;
	}
	while (tiers[best] < floor_ms && best + 1 < n)
		best++;
	return best;
}

void
rk_pace_transport(uint64_t tier_ms, char *buf, size_t n)
{
	snprintf(buf, n, "rk_pace_%llus", (unsigned long long)(tier_ms / 1000));
}

void
rk_pace_nexthop(const struct rk_cfg *cfg, char *buf, size_t n)
{
	const struct rk_cfg_relay *r = &cfg->mail.relay;

	if (r->enabled && r->host != NULL)
		snprintf(buf, n, "[%s]:%lld", r->host, (long long)r->port);
	else if (n > 0)
		buf[0] = '\0';
}

/* ------------------------------------------------------------ warm-up */

int64_t
rk_pace_warmup_day(const struct rk_cfg_warmup *w, time_t t)
{
	struct tm tm;

	if (w->startDate == NULL)
		return 1;
	memset(&tm, 0, sizeof(tm));
	if (strptime(w->startDate, "%Y-%m-%d", &tm) == NULL)
		return 1;
	{
		time_t start = timegm(&tm);
		int64_t diff = (int64_t)t - (int64_t)start;

		/* floor division: the day before the start is day 0 */
		return (diff >= 0 ? diff / 86400 : (diff - 86399) / 86400) + 1;
	}
}

int64_t
rk_pace_warmup_cap(const struct rk_cfg_warmup *w, int64_t day)
{
	double cap;

	if (!w->enabled || w->nschedule == 0)
		return -1;
	if (day < 1)
		day = 1;
	if ((size_t)day <= w->nschedule)
		return w->schedule[day - 1];
	if (w->growthFactor <= 1)
		return -1;
	cap = (double)w->schedule[w->nschedule - 1] *
	    pow(w->growthFactor, (double)((size_t)day - w->nschedule));
	return cap >= 1e9 ? -1 : (int64_t)cap;
}

void
rk_pace_day_stamp(time_t t, char out[9])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 9, "%Y%m%d", &tm) != 8)
		strcpy(out, "00000000");
}

/* ------------------------------------------------------------- script */

const char rk_pace_lua[] =
    "local st = redis.call('HMGET', KEYS[1], 'delay', 'streak', "
    "'limited')\n"
    "local lo, hi = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local delay = tonumber(st[1]) or tonumber(ARGV[5])\n"
    "local streak = tonumber(st[2]) or 0\n"
    "local limited = tonumber(st[3]) or 0\n"
    "local back, severe = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local rec, thr = tonumber(ARGV[8]), tonumber(ARGV[9])\n"
    "local before, back_given = delay, 0\n"
    "for i = 1, #ARGV[1] do\n"
    "  local c = string.sub(ARGV[1], i, i)\n"
    "  if c == 'o' then\n"
    "    streak = streak + 1\n"
    "    if streak >= thr then\n"
    "      delay = math.floor(delay * rec); streak = 0\n"
    "    end\n"
    "  elseif c == 'l' or c == 's' then\n"
    "    delay = math.ceil(delay * (c == 's' and severe or back))\n"
    "    streak = 0; limited = limited + 1\n"
    "  elseif c == 'd' then\n"
    "    back_given = back_given + 1\n"
    "  end\n"
    "  if delay < lo then delay = lo end\n"
    "  if delay > hi then delay = hi end\n"
    "end\n"
    "local f = {'delay', delay, 'streak', streak, 'limited', limited,\n"
    "    'updated', ARGV[2]}\n"
    "if delay ~= before or not st[1] then\n"
    "  f[#f + 1] = 'changed'; f[#f + 1] = ARGV[2]\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(f))\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[10])\n"
    "if ARGV[11] == '1' and back_given > 0 then\n"
    "  local used = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "  local n = math.min(used, back_given)\n"
    "  if n > 0 then redis.call('DECRBY', KEYS[2], n) end\n"
    "end\n"
    "return delay\n";

void
rk_pace_args(const struct rk_cfg_adaptive *a, char args[7][32])
{
	snprintf(args[0], 32, "%llu", (unsigned long long)a->minDelay);
	snprintf(args[1], 32, "%llu", (unsigned long long)a->maxDelay);
	snprintf(args[2], 32, "%llu", (unsigned long long)a->initialDelay);
	snprintf(args[3], 32, "%.6g", a->backoffMultiplier);
	snprintf(args[4], 32, "%.6g", a->severeBackoffMultiplier);
	snprintf(args[5], 32, "%.6g", a->recoveryRate);
	snprintf(args[6], 32, "%lld", (long long)a->successThreshold);
}
