/* SPDX-License-Identifier: MIT */
/*
 * relaykit-webhookd's private header.  Events flow, all in Redis:
 *
 *   PREFIX events --(group "webhooks": fan-out)--> PREFIX wh:q:NAME, one
 *   stream per endpoint --(group "webhooks": delivery)--> HTTP POST
 *      failed, retryable: PREFIX wh:retry:NAME (sorted by when, then
 *                         back into the queue)
 *      failed for good:   PREFIX wh:dead (the dead letters)
 *
 * Every move is one Redis transaction (a script), so an event is in
 * exactly one place at any time, and a dispatcher that dies leaves its
 * taken events pending in a group, where another claims them after
 * webhooks.claimAfter.  Memory holds at most webhooks.concurrency events;
 * a backlog lives in Redis.
 *
 * Threading: one thread runs the loop (wh_loop.c: Redis, libcurl multi);
 * the HTTP server for metrics has its own (rk_http thread mode).
 */
#ifndef WH_H
#define WH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rk_cfg.h"
#include "rk_event.h"
#include "rk_metrics.h"
#include "rk_redis.h"
#include "rk_str.h"

/* --------------------------------------------------------- wh_sign */

/* A Standard Webhooks key: "whsec_" + base64, or any other text used as
   the key's bytes.  Returns 0, or -1 when whsec_ is not base64. */
struct rk_hmac_key;
struct wh_key {
	unsigned char k[256];
	size_t n;
	struct rk_hmac_key *mac; /* k, ready to sign with */
};
int wh_key_parse(const char *secret, struct wh_key *out);
void wh_key_clear(struct wh_key *k);

/*
 * The webhook-signature value for one request: "v1,<base64>" for each
 * key (space-separated), of HMAC-SHA256 over "id.timestamp.body".
 * Appends to out.
 */
void wh_sign(struct rk_buf *out, const struct wh_key *keys, size_t nkeys,
    const char *id, long long timestamp, const char *body, size_t len);

/* ----------------------------------------------------------- wh_plan */

/* When to try again after attempt (1 = the first retry): the schedule's
   entry (its last repeating) with up to 10% jitter (rand01 in [0,1)),
   and at least retry_after_ms.  Pure. */
uint64_t wh_backoff_ms(const uint64_t *schedule, size_t n, int64_t attempt,
    double rand01, uint64_t retry_after_ms);

enum wh_outcome {
	WH_OK,      /* 2xx: done */
	WH_RETRY,   /* network error, timeout, 408, 409, 425, 429, 5xx */
	WH_FAIL,    /* another 4xx: the receiver refuses it, for good */
	WH_DISABLE, /* 410 Gone: the endpoint is disabled */
};
/* What an HTTP status (0: no answer) means. */
enum wh_outcome wh_outcome_of(long status);
/* A Retry-After header value (seconds, or an HTTP date) in ms from now;
   0 when absent or unreadable.  now_s: the current time. */
uint64_t wh_retry_after_ms(const char *value, long long now_s);

/* ----------------------------------------------------------- wh_store */

struct wh_store;
struct wh_endpoint; /* wh_loop.c */

/* One event taken for an endpoint. */
struct wh_job {
	char entry[48]; /* its id in the endpoint's queue */
	char *event_id; /* evt_..., the webhook-id */
	char *type;
	char *body;      /* the event's JSON */
	int64_t attempt; /* 1 for the first try */
	bool claimed;    /* taken over from a dead dispatcher */
};
void wh_job_clear(struct wh_job *j);

struct wh_store *wh_store_new(
    const struct rk_cfg *cfg, const char *consumer, struct rk_err *err);
void wh_store_free(struct wh_store *s);
struct rk_redis *wh_store_redis(struct wh_store *s);
/* Creates the consumer groups that do not exist yet; 0 or -1. */
int wh_store_setup(struct wh_store *s, const char *const *endpoints, size_t n,
    struct rk_err *err);
/*
 * Fan-out: up to count new events of the stream (or, with claim, events
 * another dispatcher took over claimAfter ago), each copied to the queue
 * of every endpoint whose filter wants it, then acknowledged, one
 * transaction per event.  wants(arg, i, type) says whether endpoint i
 * takes an event of that type.  Returns the number of events, or -1.
 */
int wh_store_fanout(struct wh_store *s, size_t count, bool claim,
    const char *const *endpoints, size_t n,
    bool (*wants)(void *arg, size_t i, const char *type), void *arg,
    struct rk_err *err);
/* Which of an endpoint's queued events to take. */
enum wh_take {
	WH_TAKE_NEW,   /* never taken */
	WH_TAKE_OWN,   /* ours from before a restart, after cursor */
	WH_TAKE_CLAIM, /* another dispatcher's, idle claimAfter */
};
/* Up to max jobs of an endpoint's queue.  cursor (48 bytes): WH_TAKE_OWN's
   position, "0" at first, moved past what was read. */
int wh_store_take(struct wh_store *s, const char *endpoint, size_t max,
    enum wh_take how, char *cursor, struct wh_job *out, struct rk_err *err);
/*
 * Filing a finished job: each call appends one transaction (the job leaves
 * the queue, and goes where its outcome says); wh_store_commit sends
 * every appended one in one round trip.  Nothing else may use the store
 * in between.  0, or -1 (then nothing of the batch may have been done:
 * file it all again).
 */
/* Delivered: gone from the queue. */
int wh_store_done(struct wh_store *s, const char *endpoint,
    const struct wh_job *j, struct rk_err *err);
/* To be tried again at at_ms (epoch ms): into the retry set; with gone,
   the endpoint is disabled too (410). */
int wh_store_retry(struct wh_store *s, const char *endpoint,
    const struct wh_job *j, uint64_t at_ms, bool gone, struct rk_err *err);
/* Failed for good: into the dead letters, with why. */
int wh_store_dead(struct wh_store *s, const char *endpoint,
    const struct wh_job *j, const char *why, struct rk_err *err);
int wh_store_commit(struct wh_store *s, struct rk_err *err);
/* Retries that are due move back into the queue; the number moved. */
int wh_store_due(struct wh_store *s, const char *endpoint, uint64_t now_ms,
    struct rk_err *err);
/* Other consumers idle over idle_ms holding nothing leave the groups of
   the event stream and the endpoints' queues; the number removed. */
int wh_store_prune(struct wh_store *s, const char *const *endpoints, size_t n,
    uint64_t idle_ms, struct rk_err *err);
/* Events waiting for an endpoint: queued, taken, and in the retry set. */
long long wh_store_backlog(struct wh_store *s, const char *endpoint);
/* 410 Gone: disabled until re-enabled (reason NULL: enable again). */
int wh_store_set_disabled(struct wh_store *s, const char *endpoint,
    const char *reason, struct rk_err *err);
/* 1 disabled (reason into buf), 0 not, -1 error. */
int wh_store_disabled(
    struct wh_store *s, const char *endpoint, char *buf, size_t n);
/* The dead letters: print them (one JSON line each); replay some (an
   entry id, or "all") into their endpoints' queues.  The count, or -1. */
int wh_store_list_dead(
    struct wh_store *s, const char *endpoint, FILE *out, struct rk_err *err);
int wh_store_replay(struct wh_store *s, const char *endpoint, const char *which,
    struct rk_err *err);

/* ------------------------------------------------------------ wh_loop */

struct wh_loop;
struct wh_loop *wh_loop_new(const struct rk_cfg *cfg, struct wh_store *st,
    struct rk_metrics *reg, struct rk_err *err);
void wh_loop_free(struct wh_loop *l);
/* Runs until wh_loop_stop; returns 0. */
int wh_loop_run(struct wh_loop *l);
void wh_loop_stop(struct wh_loop *l); /* thread-safe */
bool wh_loop_up(struct wh_loop *l);   /* thread-safe */

#endif
