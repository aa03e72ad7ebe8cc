/* SPDX-License-Identifier: MIT */
/*
 * rk_pace: adaptive delivery pacing, the part relaykit-eventd and
 * relaykit-policyd share.  eventd moves each destination's delay in
 * Redis from the delivery outcomes it reads (the script below);
 * policyd routes mail for a destination through the pacing transport
 * whose rate delay is closest to that delay, and counts the warm-up
 * caps.  Here: which destination a domain belongs to, what a deferral's
 * reply means, the ladder's tiers, the warm-up schedule, the Redis keys
 * and the script.
 *
 * Redis keys, with the configured prefix P:
 *   P pace:DEST            hash: delay (ms), streak (successes in a
 *                          row), limited (rate-limit replies seen),
 *                          changed and updated (epoch ms)
 *   P warm:DEST:YYYYMMDD   warm-up: recipients routed to DEST that day
 *
 * Threading: rk_pace_rules is immutable once made; the rest is pure.
 */
#ifndef RK_PACE_H
#define RK_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rk_cfg.h"
#include "rk_str.h"

#define RK_PACE_DEST_MAX 256
/* The socketmap table's name: socketmap:unix:PATH:pace */
#define RK_PACE_MAP "pace"

/* The destination that paces a recipient domain. */
struct rk_pace_dest {
	const struct rk_cfg_adaptive *cfg; /* its settings (borrowed) */
	bool listed;                       /* an adaptiveRate.domains entry */
	char name[RK_PACE_DEST_MAX];       /* the entry's name, or the domain */
};

/*
 * Which destination paces mail to domain (len bytes, any case, a trailing
 * dot allowed): the adaptiveRate.domains entry named so or listing it as
 * a member, else the nearest listed parent domain, else (with
 * defaults.enabled) the domain itself.  false when it is not paced:
 * adaptiveRate off, the entry disabled, or not a domain name.
 */
bool rk_pace_find(const struct rk_cfg *cfg, const char *domain, size_t len,
    struct rk_pace_dest *out);

enum rk_pace_kind {
	RK_PACE_OK,      /* delivered */
	RK_PACE_LIMITED, /* a rate-limit reply: slower */
	RK_PACE_SEVERE,  /* a severe one (4.7.28): much slower */
	RK_PACE_OTHER,   /* another deferral: no change */
	RK_PACE_OWN,     /* relaykit's own warm-up deferral: not a reply */
};

/* The reason of relaykit's own warm-up deferrals starts with this. */
#define RK_PACE_OWN_TAG "relaykit pacing:"

struct rk_pace_rules;
/* Compiles adaptiveRate's reply patterns; NULL with err on a bad one. */
struct rk_pace_rules *rk_pace_rules_new(
    const struct rk_cfg_adaptive_rate *ar, struct rk_err *err);
void rk_pace_rules_free(struct rk_pace_rules *r);
/* What a deferral means: its DSN ("4.7.28", or NULL) and reply text. */
enum rk_pace_kind rk_pace_classify(
    const struct rk_pace_rules *r, const char *dsn, const char *text);
/* The letter the script takes for a kind: o, l, s, d; 0 for OWN. */
char rk_pace_letter(enum rk_pace_kind k);

/*
 * The ladder: the index of the tier closest to delay_ms (the slower one
 * on a tie), but never one faster than floor_ms when a tier allows.
 * tiers: increasing, n > 0.
 */
size_t rk_pace_tier(
    const uint64_t *tiers, size_t n, uint64_t delay_ms, uint64_t floor_ms);
/* A tier's transport name, "rk_pace_5s", into buf. */
void rk_pace_transport(uint64_t tier_ms, char *buf, size_t n);

/* Where a ladder transport sends mail: "[host]:port" of mail.relay when
   it is enabled (paced mail must not go around an upstream relay), else
   "" (the recipient domain's MX). */
void rk_pace_nexthop(const struct rk_cfg *cfg, char *buf, size_t n);

/* Warm-up: the day t falls on, counted from startDate (day 1, UTC);
   0 or less before it, 1 when startDate is unset. */
int64_t rk_pace_warmup_day(const struct rk_cfg_warmup *w, time_t t);
/* That day's cap per destination; -1 when there is none (warm-up off,
   or over). */
int64_t rk_pace_warmup_cap(const struct rk_cfg_warmup *w, int64_t day);
/* "20261130": t's UTC day, for the warm-up counter's key. */
void rk_pace_day_stamp(time_t t, char out[9]);

/*
 * The script that applies a destination's outcomes, in order.
 * KEYS: P pace:DEST, P warm:DEST:DAY.
 * ARGV: outcomes (letters o, l, s, d), now (epoch ms), minDelay,
 * maxDelay, initialDelay (ms), backoffMultiplier, severeBackoffMultiplier,
 * recoveryRate, successThreshold, the state's time to live (s), and "1"
 * when a "d" gives a warm-up grant back.  Returns the new delay.
 */
extern const char rk_pace_lua[];
/* Appends the script's ARGV[3..9] for a destination's settings. */
void rk_pace_args(const struct rk_cfg_adaptive *a, char args[7][32]);

#endif
