/* SPDX-License-Identifier: MIT */
/*
 * rk_http: the one HTTP server of every relaykit daemon (libevent's evhttp,
 * already a dependency): GET /metrics (Prometheus text), GET /healthz
 * (alive), GET /readyz (ready, or 503 with why), and routes a program adds
 * (the dashboard).  Only GET and HEAD; other paths 404.
 *
 * Threading: on the caller's event base (policyd, eventd: handlers run
 * on that loop's thread), or, with base NULL, on a thread of its own
 * started by rk_http_start (the milter, whose threads belong to
 * libmilter); then handlers run on that thread.  rk_http_free stops and
 * joins it.  The registry is read with rk_metrics_render, which is safe
 * against concurrent updates.
 */
#ifndef RK_HTTP_H
#define RK_HTTP_H

#include <stdbool.h>

#include "rk_metrics.h"
#include "rk_str.h"

struct event_base;
struct evhttp_request;
struct rk_http;

typedef void rk_http_fn(struct evhttp_request *req, void *arg);
/* true when ready; otherwise why says what is missing. */
typedef bool rk_http_ready_fn(void *arg, struct rk_buf *why);

/* Binds addr:port now; NULL with err when it cannot. */
struct rk_http *rk_http_new(struct event_base *base, const char *addr,
    unsigned port, struct rk_err *err);
/* Serves reg on /metrics (borrowed until rk_http_free). */
void rk_http_metrics(struct rk_http *h, struct rk_metrics *reg);
/* /readyz asks fn; without it, ready once serving. */
void rk_http_ready(struct rk_http *h, rk_http_ready_fn *fn, void *arg);
/* Serves path (exact, a query string allowed) with fn. */
void rk_http_route(
    struct rk_http *h, const char *path, rk_http_fn *fn, void *arg);
/* Thread mode: starts the thread; 0 or -1 with err. */
int rk_http_start(struct rk_http *h, struct rk_err *err);
/* Stops (joins the thread in thread mode) and frees; accepts NULL. */
void rk_http_free(struct rk_http *h);

/* The event base the server runs on (its own in thread mode). */
struct event_base *rk_http_base(struct rk_http *h);

/* A reply with a text body and a content type. */
void rk_http_reply(struct evhttp_request *req, int code, const char *type,
    const char *body, size_t len);

#endif
