/* SPDX-License-Identifier: MIT */
/*
 * rk_metrics: registry, lock-free updates, text exposition 0.0.4.
 *
 * Values are C11 atomics rather than a mutex per metric: the milter updates
 * the same few series from every connection thread, and a relaxed atomic
 * add never parks a thread behind a scrape or a descheduled lock holder.
 * Doubles have no atomic add, so counters and gauges use a compare-and-swap
 * loop; histogram buckets are plain atomic integers.
 *
 * Each metric keeps its series on an append-only list whose links are
 * atomic pointers.  Updates and the renderer walk it without a lock; a new
 * series is filled in completely and then published with a release store
 * under the metric's mutex, so a walker sees either the end of the list or
 * a finished node.  Nodes are freed only by rk_metrics_free.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_metrics.h"
#include "rk_str.h"

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

static const char *const type_names[] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_HISTOGRAM] = "histogram",
};

struct rk_series {
	_Atomic(struct rk_series *) next;
	struct rk_metric *metric;            /* borrowed: the owner */
	char *values[RK_METRICS_MAX_LABELS]; /* owned */
	_Atomic double value;                /* histogram: the sum */
	_Atomic uint64_t counts[];           /* histogram: nbuckets + 1 */
};

struct rk_metric {
	enum metric_type type;
	char *name; /* owned */
	char *help; /* owned; NULL: no HELP line */
	size_t nlabels;
	char *labels[RK_METRICS_MAX_LABELS]; /* owned */
	size_t nbuckets;                     /* +Inf not counted */
	double *bounds;                      /* owned */
	_Atomic(struct rk_series *) head;
	pthread_mutex_t lock;   /* serialises appends */
	struct rk_series *tail; /* under lock */
	size_t nseries;         /* under lock */
	atomic_bool overflow_logged;
};

struct rk_metrics {
	pthread_mutex_t lock; /* guards the array; held while rendering */
	struct rk_metric **metrics;
	size_t n, cap;
	rk_metrics_collect_fn *collect; /* before each render */
	void *collect_arg;
	void (*collect_free)(void *arg);
};

/* What a registration asked for, checked before anything is built. */
struct metric_spec {
	enum metric_type type;
	const char *name;
	const char *help;
	size_t nlabels;
	const char *const *labelnames;
	size_t nbuckets;
	const double *bounds;
};

const double rk_metrics_latency_buckets[] = { 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
const size_t rk_metrics_latency_nbuckets =
    sizeof(rk_metrics_latency_buckets) / sizeof(rk_metrics_latency_buckets[0]);

static void
mutex_lock(pthread_mutex_t *mu)
{
	int e = pthread_mutex_lock(mu);

	if (e != 0)
		rk_panic("metrics: pthread_mutex_lock failed: error %d", e);
}

static void
mutex_unlock(pthread_mutex_t *mu)
{
	int e = pthread_mutex_unlock(mu);

	if (e != 0)
		rk_panic("metrics: pthread_mutex_unlock failed: error %d", e);
}

static void
atomic_add_double(_Atomic double *p, double v)
{
	double old = atomic_load_explicit(p, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(
	    p, &old, old + v, memory_order_relaxed, memory_order_relaxed))
		continue;
}

/* ASCII only: a locale must not change what a valid name is. */
static bool
name_char_ok(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (colon && c == ':')
		return true;
	return !first && c >= '0' && c <= '9';
}

static bool
name_ok(const char *s, bool colon)
{
	if (s == NULL || *s == '\0')
		return false;
	for (size_t i = 0; s[i] != '\0'; i++)
		if (!name_char_ok(s[i], i == 0, colon))
			return false;
	return true;
}

static void
spec_check_labels(const struct metric_spec *sp)
{
	const char *const *ln = sp->labelnames;

	if (sp->nlabels > RK_METRICS_MAX_LABELS)
		rk_panic("metric %s: %zu labels, at most %d", sp->name,
		    sp->nlabels, RK_METRICS_MAX_LABELS);
	if (sp->nlabels > 0 && ln == NULL)
		rk_panic("metric %s: label names missing", sp->name);
	for (size_t i = 0; i < sp->nlabels; i++) {
		if (!name_ok(ln[i], false) || strncmp(ln[i], "__", 2) == 0)
			rk_panic("metric %s: invalid label name \"%s\"",
			    sp->name, ln[i] ? ln[i] : "(null)");
		/* A histogram adds "le" itself to every bucket line. */
		if (sp->type == METRIC_HISTOGRAM && strcmp(ln[i], "le") == 0)
			rk_panic(
			    "metric %s: label \"le\" is reserved", sp->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(ln[i], ln[j]) == 0)
				rk_panic("metric %s: label \"%s\" twice",
				    sp->name, ln[i]);
	}
}

static void
spec_check(const struct metric_spec *sp)
{
	if (!name_ok(sp->name, true))
		rk_panic("invalid metric name \"%s\"",
		    sp->name ? sp->name : "(null)");
	spec_check_labels(sp);
	if (sp->bounds == NULL && sp->nbuckets != 0)
		rk_panic("metric %s: %zu buckets without bounds", sp->name,
		    sp->nbuckets);
}

/* Copies the bounds, dropping a final +Inf: it is implied. */
static void
metric_set_bounds(struct rk_metric *m, size_t n, const double *bounds)
{
	if (bounds == NULL) {
		bounds = rk_metrics_latency_buckets;
		n = rk_metrics_latency_nbuckets;
	}
	if (n > 0 && isinf(bounds[n - 1]) && bounds[n - 1] > 0)
		n--;
	for (size_t i = 0; i < n; i++) {
		double b = bounds[i];

		if (isnan(b) || (isinf(b) && b > 0) ||
		    (i > 0 && !(b > bounds[i - 1])))
			rk_panic("metric %s: bucket bounds must be finite "
			         "and strictly increasing (bound %zu)",
			    m->name, i);
	}
	m->bounds = rk_calloc(n, sizeof(*m->bounds));
	if (n > 0)
		memcpy(m->bounds, bounds, n * sizeof(*m->bounds));
	m->nbuckets = n;
}

static struct rk_metric *
metric_new(const struct metric_spec *sp)
{
	struct rk_metric *m = rk_calloc(1, sizeof(*m));
	int e;

	m->type = sp->type;
	m->name = rk_strdup(sp->name);
	m->help = sp->help ? rk_strdup(sp->help) : NULL;
	m->nlabels = sp->nlabels;
	for (size_t i = 0; i < sp->nlabels; i++)
		m->labels[i] = rk_strdup(sp->labelnames[i]);
	if (sp->type == METRIC_HISTOGRAM)
		metric_set_bounds(m, sp->nbuckets, sp->bounds);
	atomic_init(&m->head, NULL);
	atomic_init(&m->overflow_logged, false);
	if ((e = pthread_mutex_init(&m->lock, NULL)) != 0)
		rk_panic("metrics: pthread_mutex_init failed: error %d", e);
	return m;
}

static void
metric_free(struct rk_metric *m)
{
	struct rk_series *s, *next;

	for (s = atomic_load(&m->head); s != NULL; s = next) {
		next = atomic_load(&s->next);
		for (size_t i = 0; i < m->nlabels; i++)
			free(s->values[i]);
		free(s);
	}
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	pthread_mutex_destroy(&m->lock);
	free(m->bounds);
	free(m->help);
	free(m->name);
	free(m);
}

struct rk_metrics *
rk_metrics_new(void)
{
	struct rk_metrics *reg = rk_calloc(1, sizeof(*reg));
	int e;

	if ((e = pthread_mutex_init(&reg->lock, NULL)) != 0)
		rk_panic("metrics: pthread_mutex_init failed: error %d", e);
	return reg;
}

void
rk_metrics_free(struct rk_metrics *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->n; i++)
		metric_free(reg->metrics[i]);
	free(reg->metrics);
	if (reg->collect_free != NULL)
		reg->collect_free(reg->collect_arg);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* true if m writes a sample line called name (histograms write three). */
static bool
metric_exposes(const struct rk_metric *m, const char *name)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	size_t len = strlen(m->name);

	if (strcmp(m->name, name) == 0)
		return true;
	if (m->type != METRIC_HISTOGRAM || strncmp(m->name, name, len) != 0)
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (strcmp(name + len, suffixes[i]) == 0)
			return true;
	return false;
}

static struct rk_metric *
metrics_register(struct rk_metrics *reg, const struct metric_spec *sp)
{
	struct rk_metric *m, *old;

	spec_check(sp);
	m = metric_new(sp);
	/* Before publishing, so no scrape shows the family without it. */
	if (m->nlabels == 0)
		(void)rk_metric_series(m, NULL);
	mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++) {
		old = reg->metrics[i];
		if (metric_exposes(old, m->name) ||
		    metric_exposes(m, old->name))
			rk_panic("metric %s: name clashes with metric %s",
			    m->name, old->name);
	}
	if (reg->n == reg->cap) {
		reg->cap = reg->cap ? rk_size_mul(reg->cap, 2) : 16;
		reg->metrics = rk_reallocarray(
		    reg->metrics, reg->cap, sizeof(*reg->metrics));
	}
	reg->metrics[reg->n++] = m;
	mutex_unlock(&reg->lock);
	return m;
}

struct rk_metric *
rk_metrics_counter(struct rk_metrics *reg, const char *name, const char *help,
    size_t nlabels, const char *const *labelnames)
{
	struct metric_spec sp = { METRIC_COUNTER, name, help, nlabels,
		labelnames, 0, NULL };

	return metrics_register(reg, &sp);
}

struct rk_metric *
rk_metrics_gauge(struct rk_metrics *reg, const char *name, const char *help,
    size_t nlabels, const char *const *labelnames)
{
	struct metric_spec sp = { METRIC_GAUGE, name, help, nlabels, labelnames,
		0, NULL };

	return metrics_register(reg, &sp);
}

struct rk_metric *
rk_metrics_histogram(struct rk_metrics *reg, const char *name, const char *help,
    size_t nbuckets, const double *bounds, size_t nlabels,
    const char *const *labelnames)
{
	struct metric_spec sp = { METRIC_HISTOGRAM, name, help, nlabels,
		labelnames, nbuckets, bounds };

	return metrics_register(reg, &sp);
}

/* The trailing NULL of RK_LABELS is what catches a wrong count. */
static void
values_check(const struct rk_metric *m, const char *const *values)
{
	size_t n = 0;

	if (values != NULL)
		while (n <= m->nlabels && values[n] != NULL)
			n++;
	if (n != m->nlabels)
		rk_panic("metric %s: %s%zu label values, want %zu", m->name,
		    n > m->nlabels ? "more than " : "", n, m->nlabels);
}

static bool
series_match(const struct rk_series *s, const char *const *values)
{
	/* values is NULL only when nlabels is 0 */
	for (size_t i = 0; i < s->metric->nlabels; i++)
		/* cppcheck-suppress nullPointer */
		if (strcmp(s->values[i], values[i]) != 0)
			return false;
	return true;
}

static struct rk_series *
series_find(struct rk_metric *m, const char *const *values)
{
	struct rk_series *s;

	s = atomic_load_explicit(&m->head, memory_order_acquire);
	for (; s != NULL;
	     s = atomic_load_explicit(&s->next, memory_order_acquire))
		if (series_match(s, values))
			return s;
	return NULL;
}

static struct rk_series *
series_new(struct rk_metric *m, const char *const *values)
{
	size_t n = m->type == METRIC_HISTOGRAM ? m->nbuckets + 1 : 0;
	struct rk_series *s;

	s = rk_malloc(
	    rk_size_add(sizeof(*s), rk_size_mul(n, sizeof(s->counts[0]))));
	atomic_init(&s->next, NULL);
	s->metric = m;
	for (size_t i = 0; i < RK_METRICS_MAX_LABELS; i++)
		s->values[i] = i < m->nlabels ? rk_strdup(values[i]) : NULL;
	atomic_init(&s->value, 0.0);
	for (size_t i = 0; i < n; i++)
		atomic_init(&s->counts[i], 0);
	return s;
}

/* Called with m->lock held; publishes s only once it is complete. */
static void
series_append(struct rk_metric *m, struct rk_series *s)
{
	if (m->tail == NULL)
		atomic_store_explicit(&m->head, s, memory_order_release);
	else
		atomic_store_explicit(&m->tail->next, s, memory_order_release);
	m->tail = s;
	m->nseries++;
}

struct rk_series *
rk_metric_series(struct rk_metric *m, const char *const *values)
{
	struct rk_series *s;

	values_check(m, values);
	if ((s = series_find(m, values)) != NULL)
		return s;
	mutex_lock(&m->lock);
	/* Another thread may have added the tuple since the walk above. */
	s = series_find(m, values);
	if (s == NULL && m->nseries < RK_METRICS_MAX_SERIES) {
		s = series_new(m, values);
		series_append(m, s);
	}
	mutex_unlock(&m->lock);
	if (s == NULL && !atomic_exchange(&m->overflow_logged, true))
		rk_log_warnx("metric=%s action=drop reason=\"more than %d "
		             "label value tuples\"",
		    m->name, RK_METRICS_MAX_SERIES);
	return s;
}

void
rk_series_add(struct rk_series *s, double v)
{
	if (s == NULL)
		return;
	if (s->metric->type == METRIC_HISTOGRAM)
		rk_panic("metric %s: add on a histogram", s->metric->name);
	/* Written so that NaN fails too. */
	if (s->metric->type == METRIC_COUNTER && !(v >= 0))
		rk_panic("metric %s: counter add %g", s->metric->name, v);
	atomic_add_double(&s->value, v);
}

void
rk_series_set(struct rk_series *s, double v)
{
	if (s == NULL)
		return;
	if (s->metric->type != METRIC_GAUGE)
		rk_panic("metric %s: set on a %s", s->metric->name,
		    type_names[s->metric->type]);
	atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

void
rk_series_observe(struct rk_series *s, double v)
{
	const struct rk_metric *m;
	size_t i;

	if (s == NULL)
		return;
	m = s->metric;
	if (m->type != METRIC_HISTOGRAM)
		rk_panic(
		    "metric %s: observe on a %s", m->name, type_names[m->type]);
	if (isnan(v))
		rk_panic("metric %s: observed NaN", m->name);
	for (i = 0; i < m->nbuckets && v > m->bounds[i]; i++)
		continue;
	atomic_fetch_add_explicit(&s->counts[i], 1, memory_order_relaxed);
	atomic_add_double(&s->value, v);
}

void
rk_metric_inc(struct rk_metric *m, const char *const *values)
{
	rk_series_add(rk_metric_series(m, values), 1.0);
}

void
rk_metric_add(struct rk_metric *m, double v, const char *const *values)
{
	rk_series_add(rk_metric_series(m, values), v);
}

void
rk_metric_set(struct rk_metric *m, double v, const char *const *values)
{
	rk_series_set(rk_metric_series(m, values), v);
}

void
rk_metric_observe(struct rk_metric *m, double v, const char *const *values)
{
	rk_series_observe(rk_metric_series(m, values), v);
}

static uint64_t
series_count(const struct rk_series *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i <= s->metric->nbuckets; i++)
		n += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
	return n;
}

double
rk_metric_get(struct rk_metric *m, const char *const *values)
{
	struct rk_series *s;

	values_check(m, values);
	if ((s = series_find(m, values)) == NULL)
		return 0;
	if (m->type == METRIC_HISTOGRAM)
		return (double)series_count(s);
	return atomic_load_explicit(&s->value, memory_order_relaxed);
}

/* Fifteen digits print any double without loss when it fits them. */
static void
format_shortest(char *buf, size_t size, double v)
{
	for (int prec = 15; prec < 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, size, "%.17g", v);
}

char *
rk_metrics_format_double(char *buf, size_t size, double v)
{
	if (size < RK_METRICS_DOUBLE_LEN)
		rk_panic("rk_metrics_format_double: buffer of %zu", size);
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(buf, size, "%lld", (long long)v); /* -0 too */
	else
		format_shortest(buf, size, v);
	/* A caller's setlocale(LC_NUMERIC) must not reach a scrape. */
	for (char *p = buf; *p != '\0'; p++)
		if (*p == ',')
			*p = '.';
	return buf;
}

/* HELP escapes \ and newline; label values also the double quote. */
static void
put_escaped(struct rk_buf *out, const char *s, bool label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			rk_buf_puts(out, "\\\\");
		else if (*s == '\n')
			rk_buf_puts(out, "\\n");
		else if (*s == '"' && label)
			rk_buf_puts(out, "\\\"");
		else
			rk_buf_putc(out, *s);
	}
}

/* One sample line; le is NULL except on histogram buckets. */
static void
put_sample(struct rk_buf *out, const struct rk_series *s, const char *suffix,
    const char *le, const char *value)
{
	const struct rk_metric *m = s->metric;

	rk_buf_puts(out, m->name);
	rk_buf_puts(out, suffix);
	if (m->nlabels > 0 || le != NULL) {
		rk_buf_putc(out, '{');
		for (size_t i = 0; i < m->nlabels; i++) {
			rk_buf_printf(
			    out, "%s%s=\"", i ? "," : "", m->labels[i]);
			put_escaped(out, s->values[i], true);
			rk_buf_putc(out, '"');
		}
		if (le != NULL)
			rk_buf_printf(
			    out, "%sle=\"%s\"", m->nlabels ? "," : "", le);
		rk_buf_putc(out, '}');
	}
	rk_buf_printf(out, " %s\n", value);
}

/* Buckets are kept per range and summed here into Prometheus' <= form. */
static void
histogram_render(const struct rk_series *s, struct rk_buf *out)
{
	const struct rk_metric *m = s->metric;
	char le[RK_METRICS_DOUBLE_LEN], num[RK_METRICS_DOUBLE_LEN];
	uint64_t cum = 0;

	for (size_t i = 0; i <= m->nbuckets; i++) {
		cum +=
		    atomic_load_explicit(&s->counts[i], memory_order_relaxed);
		if (i < m->nbuckets)
			rk_metrics_format_double(le, sizeof(le), m->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(num, sizeof(num), "%" PRIu64, cum);
		put_sample(out, s, "_bucket", le, num);
	}
	rk_metrics_format_double(num, sizeof(num),
	    atomic_load_explicit(&s->value, memory_order_relaxed));
	put_sample(out, s, "_sum", NULL, num);
	/* From the same loads as +Inf, so the two always agree. */
	snprintf(num, sizeof(num), "%" PRIu64, cum);
	put_sample(out, s, "_count", NULL, num);
}

static void
metric_render(struct rk_metric *m, struct rk_buf *out)
{
	char num[RK_METRICS_DOUBLE_LEN];
	struct rk_series *s;

	if (m->help != NULL && m->help[0] != '\0') {
		rk_buf_printf(out, "# HELP %s ", m->name);
		put_escaped(out, m->help, false);
		rk_buf_putc(out, '\n');
	}
	rk_buf_printf(out, "# TYPE %s %s\n", m->name, type_names[m->type]);
	s = atomic_load_explicit(&m->head, memory_order_acquire);
	for (; s != NULL;
	     s = atomic_load_explicit(&s->next, memory_order_acquire)) {
		if (m->type == METRIC_HISTOGRAM) {
			histogram_render(s, out);
			continue;
		}
		rk_metrics_format_double(num, sizeof(num),
		    atomic_load_explicit(&s->value, memory_order_relaxed));
		put_sample(out, s, "", NULL, num);
	}
}

void
rk_metrics_render(struct rk_metrics *reg, struct rk_buf *out)
{
	/* outside the lock: the hook updates metrics like any writer */
	if (reg->collect != NULL)
		reg->collect(reg->collect_arg);
	mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++)
		metric_render(reg->metrics[i], out);
	mutex_unlock(&reg->lock);
}

void
rk_metrics_on_render(struct rk_metrics *reg, rk_metrics_collect_fn *fn,
    void *arg, void (*free_fn)(void *arg))
{
	if (reg->collect != NULL)
		rk_panic("metrics: a registry has one render hook");
	reg->collect = fn;
	reg->collect_arg = arg;
	reg->collect_free = free_fn;
}
