/* SPDX-License-Identifier: MIT */
/*
 * relaykit-eventd's live dashboard (dashboard.watch): a page and a
 * Server-Sent Events feed of the event stream, on a listener of its own.
 *
 *   ev_dash_view  one event's JSON -> what the page shows (pure, masked)
 *   ev_dash_agg   rates per event over 15 minutes, top deferring
 *                 destinations (pure)
 *   ev_dash_feed  a thread of its own: XREAD on <prefix>events, views
 *                 handed to the loop through a bounded queue
 *   ev_dash       the HTTP side on eventd's loop: login, assets, the SSE
 *                 clients, filters and sampling
 *   ev_dash_assets (generated from events/dash/): the page, in the binary
 *
 * Threading: the feed thread only parses and queues; everything else
 * runs on the loop thread of eventd's main.  Private to events/.
 */
#ifndef EV_DASH_H
#define EV_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rk_str.h"

/* -------------------------------------------------------- ev_dash_view */

/* What one event becomes on the page; one allocation, freed with free(3). */
struct ev_dash_ev {
	int type;             /* enum rk_event_type */
	int64_t time_ms;      /* the event's own time */
	const char *from;     /* as shown (masked): the filters match it */
	const char *domain;   /* the recipient's domain, lower case */
	const char *dsn;      /* "" when none */
	const char *response; /* cut to EV_DASH_RESPONSE_MAX bytes */
	const char *json;     /* the page's object, compact JSON */
	size_t json_len;
};

#define EV_DASH_RESPONSE_MAX 300

/*
 * One event of the stream (its JSON, rk_event_json's shape) as the page
 * shows it: the fields the table needs and nothing else (no subject, no
 * headers, no body); with mask, the local part of every address (in the
 * reply text too) becomes its first character and "***".  NULL when the
 * text is not an event.  Caller frees with free(3).
 */
struct ev_dash_ev *ev_dash_view(const char *json, size_t len, bool mask);

/* Masks the addresses in s (NUL-terminated) into out. */
void ev_dash_mask(const char *s, struct rk_buf *out);

/* --------------------------------------------------------- ev_dash_agg */

#define EV_DASH_BUCKET_MS 10000 /* rates: 10 s buckets */
#define EV_DASH_BUCKETS   90    /* ... over 15 minutes */
#define EV_DASH_DOMAINS   256   /* destinations tracked */
#define EV_DASH_TOP       10    /* ... of which the page sees */
#define EV_DASH_DEST_MAX  256   /* a pacing destination's name (rk_pace) */

struct ev_dash_agg;
struct ev_dash_agg *ev_dash_agg_new(void);
/* Forget everything counted: as new, without a new allocation. */
void ev_dash_agg_reset(struct ev_dash_agg *a);
void ev_dash_agg_free(struct ev_dash_agg *a);
/* Counts one event seen at now_ms (its own time decides the bucket). */
void ev_dash_agg_add(
    struct ev_dash_agg *a, const struct ev_dash_ev *e, int64_t now_ms);
/* A top destination's current adaptive delay in ms, or -1 (not paced,
   or not known yet). */
typedef int64_t ev_dash_delay_fn(void *arg, const char *domain);
/*
 * The page's "stats" object: {"now":ms,"width":ms,"rates":{event:[counts,
 * oldest first]},"top":[{"domain","deferred","bounced","dsn","response",
 * "last","delay"}],"seen":n}, "delay" from fn (NULL: null).  Appended to
 * out.
 */
void ev_dash_agg_json(struct ev_dash_agg *a, int64_t now_ms,
    ev_dash_delay_fn *fn, void *arg, struct rk_buf *out);

/* -------------------------------------------------------- ev_dash_auth */

/*
 * Who may see the page: nobody needs to log in when dashboard.auth is
 * empty; otherwise "Authorization: Basic" with the user and password,
 * "Authorization: Bearer" with the token, or the session cookie the page
 * sets after "/?token=TOKEN" (a browser's EventSource cannot send an
 * Authorization header of its own).  The cookie holds an HMAC of the
 * token, never the token.  Every comparison hashes both sides with a
 * random key and compares the digests in constant time, so neither the
 * content nor the length of a secret shows in the timing.
 */
enum ev_dash_login {
	EV_DASH_DENIED,
	EV_DASH_ALLOWED,
	EV_DASH_TOKEN, /* allowed by ?token=: set the cookie, redirect */
};
struct ev_dash_auth;
struct rk_cfg_dashboard;
/* Copies what it needs (digests, not secrets).  Caller frees. */
struct ev_dash_auth *ev_dash_auth_new(const struct rk_cfg_dashboard *c);
void ev_dash_auth_free(struct ev_dash_auth *a); /* accepts NULL */
/* Each argument may be NULL (absent).  token: the query's token=. */
enum ev_dash_login ev_dash_auth_check(struct ev_dash_auth *a,
    const char *authorization, const char *cookie, const char *token);
/* The Set-Cookie value for EV_DASH_TOKEN. */
const char *ev_dash_auth_cookie(const struct ev_dash_auth *a);
/* The WWW-Authenticate value of a 401. */
const char *ev_dash_auth_challenge(const struct ev_dash_auth *a);

/* -------------------------------------------------------- ev_dash_feed */

struct ev_dash_feed;
struct rk_cfg;
/* Starts the thread; NULL with err.  cfg borrowed for the feed's life. */
struct ev_dash_feed *ev_dash_feed_start(
    const struct rk_cfg *cfg, struct rk_err *err);
/* Stops and joins the thread, frees what is queued; accepts NULL. */
void ev_dash_feed_stop(struct ev_dash_feed *f);
/*
 * Moves up to max queued events into out (oldest first; the caller owns
 * them) and returns how many; *lost gets the events the full queue
 * dropped since the last call.  Thread-safe.
 */
size_t ev_dash_feed_take(struct ev_dash_feed *f, struct ev_dash_ev **out,
    size_t max, uint64_t *lost);
/* The feed reads Redis now. */
bool ev_dash_feed_up(struct ev_dash_feed *f);
/*
 * Adaptive pacing: the destinations (rk_pace names) whose delay the feed
 * reads from Redis (P pace:DEST) every 2 s, at most EV_DASH_TOP; and the
 * delay last read for one, in ms, or -1.  Thread-safe.
 */
void ev_dash_feed_want_pace(
    struct ev_dash_feed *f, char (*dests)[EV_DASH_DEST_MAX], size_t n);
int64_t ev_dash_feed_pace(struct ev_dash_feed *f, const char *dest);

/* ------------------------------------------------------------- ev_dash */

struct ev_dash;
struct event_base;
struct rk_metrics;
/* Listens on dashboard.address:port on base and starts the feed; NULL
   with err.  cfg and reg borrowed until ev_dash_free. */
struct ev_dash *ev_dash_new(struct event_base *base, const struct rk_cfg *cfg,
    struct rk_metrics *reg, struct rk_err *err);
void ev_dash_free(struct ev_dash *d); /* accepts NULL */

/* ------------------------------------------------------ ev_dash_assets */

struct ev_dash_asset {
	const char *path; /* "/", "/dash.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct ev_dash_asset ev_dash_assets[]; /* ends with path NULL */

#endif
