/* SPDX-License-Identifier: MIT */
/*
 * rk_metrics: a Prometheus registry (counters, gauges, histograms) rendered
 * in the text exposition format 0.0.4.  Non-goals: summaries, timestamps,
 * OpenMetrics, pushing; the HTTP side lives with the program that serves it.
 *
 * A metric may declare up to RK_METRICS_MAX_LABELS label names; each tuple
 * of label values gets its own series on first use.  Label values must come
 * from small bounded sets (a verdict, a Redis command), never straight from
 * a peer: a metric keeps at most RK_METRICS_MAX_SERIES series and drops
 * updates for new tuples past that (logged once).
 *
 * Threading: every function except rk_metrics_free is thread-safe.  Updates
 * are lock-free atomics, so libmilter's connection threads never block on a
 * scrape or on each other; only registration and the first use of a label
 * tuple take a mutex.  rk_metrics_render may run concurrently with updates:
 * each value it prints is exact, but a histogram's _sum and _count may
 * disagree by observations in flight (_count always equals +Inf bucket).
 *
 * Ownership: the registry owns its metrics; struct rk_metric and struct
 * rk_series pointers are borrowed until rk_metrics_free.  Names, help and
 * label strings passed in are copied.
 *
 * Our bugs panic (rk_panic): an invalid or duplicate metric or label name,
 * unsorted buckets, a counter decreased, NaN counted or observed, the wrong
 * number of label values, an update of the wrong kind (set on a counter).
 */
#ifndef RK_METRICS_H
#define RK_METRICS_H

#include <stddef.h>

#include "rk_str.h"

/* The Content-Type a scrape answer carries. */
#define RK_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define RK_METRICS_MAX_LABELS 6
#define RK_METRICS_MAX_SERIES 1000

/* A buffer this large holds any value rk_metrics_format_double writes. */
#define RK_METRICS_DOUBLE_LEN 32

/*
 * Label values for one update: exactly the metric's label count, in the
 * order of its label names, followed by NULL.  The trailing NULL lets the
 * registry catch a call that passes too few or too many values:
 *	rk_metric_inc(m, RK_LABELS("dkim", "signed"));
 */
#define RK_LABELS(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct rk_metrics; /* opaque registry */
struct rk_metric;  /* opaque: one metric family */
struct rk_series;  /* opaque: one label-value tuple of a metric */

/*
 * Upper bounds in seconds for request latencies (milter callbacks, policy
 * answers, Redis round trips): 0.5 ms to 10 s.
 */
extern const double rk_metrics_latency_buckets[];
extern const size_t rk_metrics_latency_nbuckets;

/* Caller frees with rk_metrics_free. */
struct rk_metrics *rk_metrics_new(void);
/* Frees the registry and every metric; accepts NULL.  No concurrent use. */
void rk_metrics_free(struct rk_metrics *reg);

/*
 * Registration.  name and each label name are validated; help may be NULL
 * (no HELP line).  labelnames holds nlabels names (NULL when nlabels is 0).
 * A counter's name should end in _total, by Prometheus convention.
 */
struct rk_metric *rk_metrics_counter(struct rk_metrics *reg, const char *name,
    const char *help, size_t nlabels, const char *const *labelnames);
struct rk_metric *rk_metrics_gauge(struct rk_metrics *reg, const char *name,
    const char *help, size_t nlabels, const char *const *labelnames);
/*
 * bounds: nbuckets strictly increasing upper bounds; a final +Inf may be
 * given or left out (it is always rendered).  bounds NULL with nbuckets 0
 * means rk_metrics_latency_buckets.
 */
struct rk_metric *rk_metrics_histogram(struct rk_metrics *reg, const char *name,
    const char *help, size_t nbuckets, const double *bounds, size_t nlabels,
    const char *const *labelnames);

/*
 * Updates.  values: see RK_LABELS; NULL for a metric without labels.
 * inc/add: counters and gauges (a counter only goes up).  set: gauges.
 * observe: histograms.
 */
void rk_metric_inc(struct rk_metric *m, const char *const *values);
void rk_metric_add(struct rk_metric *m, double v, const char *const *values);
void rk_metric_set(struct rk_metric *m, double v, const char *const *values);
void rk_metric_observe(
    struct rk_metric *m, double v, const char *const *values);

/*
 * The series for one label tuple, created if needed, so a hot path with
 * fixed labels can skip the lookup.  NULL once the metric holds
 * RK_METRICS_MAX_SERIES series; the rk_series_* functions accept NULL and
 * then do nothing.  Borrowed until rk_metrics_free.
 */
struct rk_series *rk_metric_series(
    struct rk_metric *m, const char *const *values);
void rk_series_add(struct rk_series *s, double v);
void rk_series_set(struct rk_series *s, double v);
void rk_series_observe(struct rk_series *s, double v);

/*
 * The current value of a counter or gauge series, or the observation count
 * of a histogram series; 0 if the tuple was never used (none is created).
 */
double rk_metric_get(struct rk_metric *m, const char *const *values);

/* Appends every metric, in registration order, to out. */
void rk_metrics_render(struct rk_metrics *reg, struct rk_buf *out);

/*
 * Values measured on demand (a process's memory, its CPU time): fn runs
 * at the start of every rk_metrics_render, on the renderer's thread, and
 * updates metrics as any writer would.  One hook per registry (a second
 * is our bug).  rk_metrics_free calls free_fn(arg) when free_fn is set.
 */
typedef void rk_metrics_collect_fn(void *arg);
void rk_metrics_on_render(struct rk_metrics *reg, rk_metrics_collect_fn *fn,
    void *arg, void (*free_fn)(void *arg));

/*
 * Writes v as Prometheus reads it: "+Inf", "-Inf", "NaN", integers without
 * exponent or point up to 1e15, otherwise the shortest text that reads back
 * as exactly v.  size >= RK_METRICS_DOUBLE_LEN.  Returns buf.
 */
char *rk_metrics_format_double(char *buf, size_t size, double v);

#endif
