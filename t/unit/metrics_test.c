/* SPDX-License-Identifier: MIT */
/*
 * metrics_test: exact exposition text for each metric type, escaping,
 * label children, number formatting, panics on our own bugs, exact totals
 * under concurrent updates, and an independent parse of the output by the
 * reference Python client (skipped when it is not installed).
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_metrics.h"
#include "rk_str.h"
#include "tap.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ rendering */

static const char *const one_label[] = { "cmd" };
static const char *const two_labels[] = { "action", "reason" };

static void
build_counter_zero(struct rk_metrics *reg)
{
	rk_metrics_counter(reg, "rk_a_total", "A counter.", 0, NULL);
}

static void
build_counter_add(struct rk_metrics *reg)
{
	struct rk_metric *m;

	m = rk_metrics_counter(reg, "rk_a_total", "A counter.", 0, NULL);
	rk_metric_inc(m, NULL);
	rk_metric_inc(m, NULL);
	rk_metric_add(m, 0.5, NULL);
}

static void
build_gauge(struct rk_metrics *reg)
{
	struct rk_metric *m;

	m = rk_metrics_gauge(reg, "rk_g", "A gauge.", 0, NULL);
	rk_metric_set(m, 10, NULL);
	rk_metric_add(m, -12.25, NULL);
}

static void
build_gauge_special(struct rk_metrics *reg)
{
	static const char *const v[] = { "v" };
	struct rk_metric *m;

	m = rk_metrics_gauge(reg, "rk_g", "Specials.", 1, v);
	rk_metric_set(m, INFINITY, RK_LABELS("pos"));
	rk_metric_set(m, -INFINITY, RK_LABELS("neg"));
	rk_metric_set(m, NAN, RK_LABELS("nan"));
	rk_metric_set(m, 1e300, RK_LABELS("big"));
}

static void
build_labelled(struct rk_metrics *reg)
{
	struct rk_metric *m;

	m = rk_metrics_counter(
	    reg, "rk_decisions_total", "Decisions.", 2, two_labels);
	rk_metric_inc(m, RK_LABELS("reject", "spf"));
	rk_metric_inc(m, RK_LABELS("accept", "none"));
	rk_metric_inc(m, RK_LABELS("accept", "none"));
	rk_metric_inc(m, RK_LABELS("reject", "spf"));
	rk_metric_add(m, 3, RK_LABELS("reject", "dkim"));
}

static void
build_labelled_empty(struct rk_metrics *reg)
{
	rk_metrics_counter(
	    reg, "rk_decisions_total", "Decisions.", 2, two_labels);
}

static void
build_help_escape(struct rk_metrics *reg)
{
	rk_metrics_gauge(
	    reg, "rk_g", "Back\\slash,\nnewline, \"quotes\".", 0, NULL);
}

static void
build_label_escape(struct rk_metrics *reg)
{
	struct rk_metric *m;

	m = rk_metrics_counter(reg, "rk_c_total", "C.", 1, one_label);
	rk_metric_inc(m, RK_LABELS("a\"b\\c\nd"));
	rk_metric_inc(m, RK_LABELS("caf\xc3\xa9 {x=y}, z"));
	rk_metric_inc(m, RK_LABELS(""));
}

static void
build_no_help(struct rk_metrics *reg)
{
	rk_metrics_gauge(reg, "rk_g", NULL, 0, NULL);
	rk_metrics_gauge(reg, "rk_h", "", 0, NULL);
}

static void
build_histogram(struct rk_metrics *reg)
{
	static const double b[] = { 0.5, 1, 8 };
	static const double obs[] = { 0.25, 0.5, 1, 2, 8, 64 };
	struct rk_metric *m;

	m = rk_metrics_histogram(
	    reg, "rk_h_seconds", "H.", NELEMS(b), b, 0, NULL);
	for (size_t i = 0; i < NELEMS(obs); i++)
		rk_metric_observe(m, obs[i], NULL);
}

static void
build_histogram_labels(struct rk_metrics *reg)
{
	static const double b[] = { 0.5, INFINITY };
	struct rk_metric *m;

	m = rk_metrics_histogram(reg, "rk_h", "H.", NELEMS(b), b, 1, one_label);
	rk_metric_observe(m, 0.25, RK_LABELS("get"));
	rk_metric_observe(m, 1, RK_LABELS("set"));
	rk_metric_observe(m, -1, RK_LABELS("get"));
}

static void
build_histogram_default(struct rk_metrics *reg)
{
	struct rk_metric *m;

	m = rk_metrics_histogram(
	    reg, "rk_lat_seconds", "Latency.", 0, NULL, 0, NULL);
	rk_metric_observe(m, 0.003, NULL);
	rk_metric_observe(m, 30, NULL);
}

static void
build_order(struct rk_metrics *reg)
{
	struct rk_series *s;

	rk_metrics_gauge(reg, "rk_z", "Z.", 0, NULL);
	rk_metrics_counter(reg, "rk_a_total", "A.", 0, NULL);
	s = rk_metric_series(
	    rk_metrics_gauge(reg, "rk_m", "M.", 1, one_label), RK_LABELS("x"));
	rk_series_set(s, 7);
	rk_series_add(s, 1);
}

struct render_case {
	const char *name;
	void (*build)(struct rk_metrics *);
	const char *want;
};

static const struct render_case render_cases[] = {
	{ "counter without labels shows 0 before first use", build_counter_zero,
	    "# HELP rk_a_total A counter.\n"
	    "# TYPE rk_a_total counter\n"
	    "rk_a_total 0\n" },
	{ "counter inc and fractional add", build_counter_add,
	    "# HELP rk_a_total A counter.\n"
	    "# TYPE rk_a_total counter\n"
	    "rk_a_total 2.5\n" },
	{ "gauge set then negative add", build_gauge,
	    "# HELP rk_g A gauge.\n"
	    "# TYPE rk_g gauge\n"
	    "rk_g -2.25\n" },
	{ "gauge infinities, NaN, large values", build_gauge_special,
	    "# HELP rk_g Specials.\n"
	    "# TYPE rk_g gauge\n"
	    "rk_g{v=\"pos\"} +Inf\n"
	    "rk_g{v=\"neg\"} -Inf\n"
	    "rk_g{v=\"nan\"} NaN\n"
	    "rk_g{v=\"big\"} 1e+300\n" },
	{ "label children in first-use order", build_labelled,
	    "# HELP rk_decisions_total Decisions.\n"
	    "# TYPE rk_decisions_total counter\n"
	    "rk_decisions_total{action=\"reject\",reason=\"spf\"} 2\n"
	    "rk_decisions_total{action=\"accept\",reason=\"none\"} 2\n"
	    "rk_decisions_total{action=\"reject\",reason=\"dkim\"} 3\n" },
	{ "labelled metric without children has no samples",
	    build_labelled_empty,
	    "# HELP rk_decisions_total Decisions.\n"
	    "# TYPE rk_decisions_total counter\n" },
	{ "HELP escapes backslash and newline only", build_help_escape,
	    "# HELP rk_g Back\\\\slash,\\nnewline, \"quotes\".\n"
	    "# TYPE rk_g gauge\n"
	    "rk_g 0\n" },
	{ "label values escape quote, backslash, newline", build_label_escape,
	    "# HELP rk_c_total C.\n"
	    "# TYPE rk_c_total counter\n"
	    "rk_c_total{cmd=\"a\\\"b\\\\c\\nd\"} 1\n"
	    "rk_c_total{cmd=\"caf\xc3\xa9 {x=y}, z\"} 1\n"
	    "rk_c_total{cmd=\"\"} 1\n" },
	{ "NULL or empty help: no HELP line", build_no_help,
	    "# TYPE rk_g gauge\n"
	    "rk_g 0\n"
	    "# TYPE rk_h gauge\n"
	    "rk_h 0\n" },
	{ "histogram buckets are cumulative, le inclusive", build_histogram,
	    "# HELP rk_h_seconds H.\n"
	    "# TYPE rk_h_seconds histogram\n"
	    "rk_h_seconds_bucket{le=\"0.5\"} 2\n"
	    "rk_h_seconds_bucket{le=\"1\"} 3\n"
	    "rk_h_seconds_bucket{le=\"8\"} 5\n"
	    "rk_h_seconds_bucket{le=\"+Inf\"} 6\n"
	    "rk_h_seconds_sum 75.75\n"
	    "rk_h_seconds_count 6\n" },
	{ "histogram labels put le last; given +Inf not doubled",
	    build_histogram_labels,
	    "# HELP rk_h H.\n"
	    "# TYPE rk_h histogram\n"
	    "rk_h_bucket{cmd=\"get\",le=\"0.5\"} 2\n"
	    "rk_h_bucket{cmd=\"get\",le=\"+Inf\"} 2\n"
	    "rk_h_sum{cmd=\"get\"} -0.75\n"
	    "rk_h_count{cmd=\"get\"} 2\n"
	    "rk_h_bucket{cmd=\"set\",le=\"0.5\"} 0\n"
	    "rk_h_bucket{cmd=\"set\",le=\"+Inf\"} 1\n"
	    "rk_h_sum{cmd=\"set\"} 1\n"
	    "rk_h_count{cmd=\"set\"} 1\n" },
	{ "histogram default latency buckets", build_histogram_default,
	    "# HELP rk_lat_seconds Latency.\n"
	    "# TYPE rk_lat_seconds histogram\n"
	    "rk_lat_seconds_bucket{le=\"0.0005\"} 0\n"
	    "rk_lat_seconds_bucket{le=\"0.001\"} 0\n"
	    "rk_lat_seconds_bucket{le=\"0.0025\"} 0\n"
	    "rk_lat_seconds_bucket{le=\"0.005\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"0.01\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"0.025\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"0.05\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"0.1\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"0.25\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"0.5\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"1\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"2.5\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"5\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"10\"} 1\n"
	    "rk_lat_seconds_bucket{le=\"+Inf\"} 2\n"
	    "rk_lat_seconds_sum 30.003\n"
	    "rk_lat_seconds_count 2\n" },
	{ "metrics render in registration order; series handle", build_order,
	    "# HELP rk_z Z.\n"
	    "# TYPE rk_z gauge\n"
	    "rk_z 0\n"
	    "# HELP rk_a_total A.\n"
	    "# TYPE rk_a_total counter\n"
	    "rk_a_total 0\n"
	    "# HELP rk_m M.\n"
	    "# TYPE rk_m gauge\n"
	    "rk_m{cmd=\"x\"} 8\n" },
};

static char *
render_to_string(struct rk_metrics *reg)
{
	struct rk_buf out;

	rk_buf_init(&out);
	rk_buf_puts(&out, "");
	rk_metrics_render(reg, &out);
	return rk_buf_steal(&out);
}

static void
test_render(void)
{
	for (size_t i = 0; i < NELEMS(render_cases); i++) {
		const struct render_case *c = &render_cases[i];
		struct rk_metrics *reg = rk_metrics_new();
		char *got;

		c->build(reg);
		got = render_to_string(reg);
		is_str(got, c->want, "render: %s", c->name);
		free(got);
		rk_metrics_free(reg);
	}
}

/* Rendering appends: a caller can put several registries in one answer. */
static void
test_render_appends(void)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct rk_buf out;

	rk_metrics_gauge(reg, "rk_g", NULL, 0, NULL);
	rk_buf_init(&out);
	rk_buf_puts(&out, "# before\n");
	rk_metrics_render(reg, &out);
	is_str(out.data, "# before\n# TYPE rk_g gauge\nrk_g 0\n",
	    "render appends to the buffer");
	rk_buf_free(&out);
	rk_metrics_free(reg);
}

/* ----------------------------------------------------------- numbers */

static void
test_format_double(void)
{
	static const struct {
		const char *name;
		double v;
		const char *want;
	} cases[] = {
		{ "zero", 0.0, "0" },
		{ "negative zero prints as 0", -0.0, "0" },
		{ "one", 1.0, "1" },
		{ "negative integer", -3.0, "-3" },
		{ "large integer without exponent", 123456789012.0,
		    "123456789012" },
		{ "largest plain integer", 999999999999999.0,
		    "999999999999999" },
		{ "1e15 switches to exponent", 1e15, "1e+15" },
		{ "one tenth is short", 0.1, "0.1" },
		{ "two and a half", 2.5, "2.5" },
		{ "a third needs 16 digits", 1.0 / 3.0, "0.3333333333333333" },
		{ "0.1 + 0.2 needs 17 digits", 0.1 + 0.2,
		    "0.30000000000000004" },
		{ "small with exponent", 1e-7, "1e-07" },
		{ "huge", 1.5e300, "1.5e+300" },
		{ "largest double", DBL_MAX, "1.7976931348623157e+308" },
		{ "+Inf", INFINITY, "+Inf" },
		{ "-Inf", -INFINITY, "-Inf" },
		{ "NaN", NAN, "NaN" },
	};
	char buf[RK_METRICS_DOUBLE_LEN];

	for (size_t i = 0; i < NELEMS(cases); i++)
		is_str(rk_metrics_format_double(buf, sizeof(buf), cases[i].v),
		    cases[i].want, "format: %s", cases[i].name);
}

/* -------------------------------------------------------------- values */

static void
test_get(void)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct rk_metric *c, *h;
	char *text;

	c = rk_metrics_counter(reg, "rk_c_total", "C.", 1, one_label);
	h = rk_metrics_histogram(reg, "rk_h", "H.", 0, NULL, 0, NULL);
	rk_metric_add(c, 4, RK_LABELS("a"));
	rk_metric_observe(h, 1, NULL);
	rk_metric_observe(h, 2, NULL);
	ok(rk_metric_get(c, RK_LABELS("a")) == 4, "get: counter value");
	ok(rk_metric_get(c, RK_LABELS("b")) == 0, "get: unknown tuple is 0");
	ok(rk_metric_get(h, NULL) == 2, "get: histogram observation count");
	text = render_to_string(reg);
	ok(strstr(text, "cmd=\"b\"") == NULL,
	    "get: does not create the tuple it asks about");
	free(text);
	rk_metrics_free(reg);
	rk_metrics_free(NULL);
}

static int warnings;

static void
count_warning(enum rk_log_level level, const char *line, void *arg)
{
	(void)arg;
	if (level == RK_LOG_WARN && strstr(line, "action=drop") != NULL)
		warnings++;
}

/* A label value from a peer must not grow memory without bound. */
static void
test_series_cap(void)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct rk_metric *m;
	char v[32];
	size_t made = 0;

	m = rk_metrics_counter(reg, "rk_c_total", "C.", 1, one_label);
	rk_log_set_sink(count_warning, NULL);
	for (int i = 0; i < RK_METRICS_MAX_SERIES + 5; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		if (rk_metric_series(m, RK_LABELS(v)) != NULL)
			made++;
		rk_metric_inc(m, RK_LABELS(v));
	}
	rk_log_set_sink(NULL, NULL);
	is_int((intmax_t)made, RK_METRICS_MAX_SERIES,
	    "cap: series stop at RK_METRICS_MAX_SERIES");
	ok(rk_metric_get(m, RK_LABELS("v0")) == 1, "cap: old tuples count");
	snprintf(v, sizeof(v), "v%d", RK_METRICS_MAX_SERIES);
	ok(rk_metric_get(m, RK_LABELS(v)) == 0, "cap: new tuples dropped");
	is_int(warnings, 1, "cap: the drop is logged once");
	rk_metrics_free(reg);
}

/* ---------------------------------------------------------------- panics */

static void
drop_line(enum rk_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

/* Runs fn in a child; true if it aborted, as rk_panic does. */
static bool
dies(void (*fn)(struct rk_metrics *))
{
	struct rlimit nocore = { 0, 0 };
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return false;
	if (pid == 0) {
		struct rk_metrics *reg;

		setrlimit(RLIMIT_CORE, &nocore);
		rk_log_set_sink(drop_line, NULL);
		reg = rk_metrics_new();
		fn(reg);
		rk_metrics_free(reg);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return false;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void
bad_name_digit(struct rk_metrics *r)
{
	rk_metrics_counter(r, "1abc", "x", 0, NULL);
}

static void
bad_name_dash(struct rk_metrics *r)
{
	rk_metrics_counter(r, "a-b", "x", 0, NULL);
}

static void
bad_name_empty(struct rk_metrics *r)
{
	rk_metrics_gauge(r, "", "x", 0, NULL);
}

static void
bad_name_null(struct rk_metrics *r)
{
	rk_metrics_gauge(r, NULL, "x", 0, NULL);
}

static void
bad_label_colon(struct rk_metrics *r)
{
	static const char *const l[] = { "a:b" };

	rk_metrics_counter(r, "ok_total", "x", 1, l);
}

static void
bad_label_reserved(struct rk_metrics *r)
{
	static const char *const l[] = { "__name" };

	rk_metrics_counter(r, "ok_total", "x", 1, l);
}

static void
bad_label_twice(struct rk_metrics *r)
{
	static const char *const l[] = { "a", "a" };

	rk_metrics_counter(r, "ok_total", "x", 2, l);
}

static void
bad_label_count(struct rk_metrics *r)
{
	static const char *const l[] = { "a", "b", "c", "d", "e", "f", "g" };

	rk_metrics_counter(r, "ok_total", "x", NELEMS(l), l);
}

static void
bad_label_le(struct rk_metrics *r)
{
	static const char *const l[] = { "le" };

	rk_metrics_histogram(r, "ok", "x", 0, NULL, 1, l);
}

static void
bad_label_names_null(struct rk_metrics *r)
{
	rk_metrics_counter(r, "ok_total", "x", 1, NULL);
}

static void
bad_duplicate(struct rk_metrics *r)
{
	rk_metrics_counter(r, "dup_total", "x", 0, NULL);
	rk_metrics_gauge(r, "dup_total", "x", 0, NULL);
}

static void
bad_clash_histogram(struct rk_metrics *r)
{
	rk_metrics_histogram(r, "h", "x", 0, NULL, 0, NULL);
	rk_metrics_counter(r, "h_count", "x", 0, NULL);
}

static void
bad_clash_histogram_later(struct rk_metrics *r)
{
	rk_metrics_gauge(r, "h_sum", "x", 0, NULL);
	rk_metrics_histogram(r, "h", "x", 0, NULL, 0, NULL);
}

static void
bad_bounds_order(struct rk_metrics *r)
{
	static const double b[] = { 1, 0.5 };

	rk_metrics_histogram(r, "h", "x", NELEMS(b), b, 0, NULL);
}

static void
bad_bounds_equal(struct rk_metrics *r)
{
	static const double b[] = { 1, 1 };

	rk_metrics_histogram(r, "h", "x", NELEMS(b), b, 0, NULL);
}

static void
bad_bounds_nan(struct rk_metrics *r)
{
	static const double b[] = { 1, NAN };

	rk_metrics_histogram(r, "h", "x", NELEMS(b), b, 0, NULL);
}

static void
bad_bounds_missing(struct rk_metrics *r)
{
	rk_metrics_histogram(r, "h", "x", 3, NULL, 0, NULL);
}

static void
bad_counter_down(struct rk_metrics *r)
{
	rk_metric_add(rk_metrics_counter(r, "c_total", "x", 0, NULL), -1, NULL);
}

static void
bad_counter_nan(struct rk_metrics *r)
{
	rk_metric_add(
	    rk_metrics_counter(r, "c_total", "x", 0, NULL), NAN, NULL);
}

static void
bad_observe_nan(struct rk_metrics *r)
{
	rk_metric_observe(
	    rk_metrics_histogram(r, "h", "x", 0, NULL, 0, NULL), NAN, NULL);
}

static void
bad_too_few_values(struct rk_metrics *r)
{
	rk_metric_inc(rk_metrics_counter(r, "c_total", "x", 2, two_labels),
	    RK_LABELS("a"));
}

static void
bad_too_many_values(struct rk_metrics *r)
{
	rk_metric_inc(rk_metrics_counter(r, "c_total", "x", 1, one_label),
	    RK_LABELS("a", "b"));
}

static void
bad_values_unlabelled(struct rk_metrics *r)
{
	rk_metric_inc(
	    rk_metrics_counter(r, "c_total", "x", 0, NULL), RK_LABELS("a"));
}

static void
bad_values_null(struct rk_metrics *r)
{
	rk_metric_inc(
	    rk_metrics_counter(r, "c_total", "x", 1, one_label), NULL);
}

static void
bad_set_counter(struct rk_metrics *r)
{
	rk_metric_set(rk_metrics_counter(r, "c_total", "x", 0, NULL), 1, NULL);
}

static void
bad_observe_gauge(struct rk_metrics *r)
{
	rk_metric_observe(rk_metrics_gauge(r, "g", "x", 0, NULL), 1, NULL);
}

static void
bad_add_histogram(struct rk_metrics *r)
{
	rk_metric_add(
	    rk_metrics_histogram(r, "h", "x", 0, NULL, 0, NULL), 1, NULL);
}

static void
good_everything(struct rk_metrics *r)
{
	static const char *const l[] = { "a", "b_2", "_c", "D" };
	static const double b[] = { -1, 0, 1e-9 };

	rk_metrics_counter(r, "ns:sub_total", "x", NELEMS(l), l);
	rk_metrics_histogram(r, "_h", "x", NELEMS(b), b, 0, NULL);
	rk_metrics_gauge(r, "h_sum_not_clash", "x", 0, NULL);
	rk_metric_add(rk_metrics_gauge(r, "g", "x", 0, NULL), -5, NULL);
}

static void
test_panics(void)
{
	static const struct {
		const char *name;
		void (*fn)(struct rk_metrics *);
	} cases[] = {
		{ "metric name starting with a digit", bad_name_digit },
		{ "metric name with a dash", bad_name_dash },
		{ "empty metric name", bad_name_empty },
		{ "NULL metric name", bad_name_null },
		{ "label name with a colon", bad_label_colon },
		{ "label name starting with __", bad_label_reserved },
		{ "label name twice", bad_label_twice },
		{ "more than RK_METRICS_MAX_LABELS labels", bad_label_count },
		{ "histogram label le", bad_label_le },
		{ "label names NULL", bad_label_names_null },
		{ "duplicate metric name", bad_duplicate },
		{ "counter named like a histogram's _count",
		    bad_clash_histogram },
		{ "histogram whose _sum is a gauge",
		    bad_clash_histogram_later },
		{ "decreasing bucket bounds", bad_bounds_order },
		{ "repeated bucket bound", bad_bounds_equal },
		{ "NaN bucket bound", bad_bounds_nan },
		{ "bucket count without bounds", bad_bounds_missing },
		{ "counter decreased", bad_counter_down },
		{ "counter add NaN", bad_counter_nan },
		{ "histogram observes NaN", bad_observe_nan },
		{ "too few label values", bad_too_few_values },
		{ "too many label values", bad_too_many_values },
		{ "label values for an unlabelled metric",
		    bad_values_unlabelled },
		{ "NULL label values for a labelled metric", bad_values_null },
		{ "set on a counter", bad_set_counter },
		{ "observe on a gauge", bad_observe_gauge },
		{ "add on a histogram", bad_add_histogram },
	};

	ok(!dies(good_everything), "panic: valid names and calls live");
	for (size_t i = 0; i < NELEMS(cases); i++)
		ok(dies(cases[i].fn), "panic: %s", cases[i].name);
}

/* ----------------------------------------------------------- threads */

#define NTHREADS 8
#define NITER    20000

struct conc {
	struct rk_metrics *reg;
	struct rk_metric *plain, *labelled, *hist, *gauge;
	atomic_bool stop;
};

struct worker {
	struct conc *c;
	char id[16];
	pthread_t tid;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct conc *c = w->c;

	for (int i = 0; i < NITER; i++) {
		rk_metric_inc(c->plain, NULL);
		/* Shared tuples race to be created; own tuples do not. */
		rk_metric_inc(c->labelled, RK_LABELS(i % 2 ? "odd" : "even"));
		rk_metric_inc(c->labelled, RK_LABELS(w->id));
		rk_metric_observe(c->hist, i % 2 ? 2 : 0.5, NULL);
		rk_metric_add(c->gauge, i % 2 ? 1.5 : -0.5, NULL);
	}
	return NULL;
}

/* Scrapes in a loop while the workers run, as Prometheus would. */
static void *
scraper_run(void *arg)
{
	struct conc *c = arg;
	struct rk_buf out;
	int scrapes = 0;

	rk_buf_init(&out);
	while (!atomic_load(&c->stop) || scrapes == 0) {
		rk_buf_reset(&out);
		rk_metrics_render(c->reg, &out);
		scrapes++;
	}
	rk_buf_free(&out);
	return NULL;
}

static void
conc_check(struct conc *c, struct worker *w)
{
	const double total = (double)NTHREADS * NITER;
	bool each = true;
	char *text, line[128];

	ok(rk_metric_get(c->plain, NULL) == total,
	    "threads: unlabelled counter sums exactly");
	ok(rk_metric_get(c->labelled, RK_LABELS("odd")) == total / 2 &&
	        rk_metric_get(c->labelled, RK_LABELS("even")) == total / 2,
	    "threads: shared label children sum exactly");
	for (int i = 0; i < NTHREADS; i++)
		each = each &&
		    rk_metric_get(c->labelled, RK_LABELS(w[i].id)) == NITER;
	ok(each, "threads: per-thread label children sum exactly");
	ok(rk_metric_get(c->hist, NULL) == total,
	    "threads: histogram count exact");
	ok(rk_metric_get(c->gauge, NULL) == total / 2,
	    "threads: gauge adds sum exactly");
	text = render_to_string(c->reg);
	snprintf(line, sizeof(line), "\nrk_conc_seconds_sum %.0f\n",
	    total / 2 * 0.5 + total / 2 * 2);
	ok(strstr(text, line) != NULL, "threads: histogram sum exact");
	snprintf(line, sizeof(line),
	    "\nrk_conc_seconds_bucket{le=\"1\"} %.0f\n", total / 2);
	ok(strstr(text, line) != NULL, "threads: histogram bucket exact");
	free(text);
}

static void
test_threads(void)
{
	static const double b[] = { 1 };
	static const char *const l[] = { "who" };
	struct conc c = { 0 };
	struct worker w[NTHREADS];
	pthread_t scraper;
	bool started = true;

	c.reg = rk_metrics_new();
	c.plain = rk_metrics_counter(c.reg, "rk_conc_total", "C.", 0, NULL);
	c.labelled = rk_metrics_counter(c.reg, "rk_conc_l_total", "L.", 1, l);
	c.hist =
	    rk_metrics_histogram(c.reg, "rk_conc_seconds", "H.", 1, b, 0, NULL);
	c.gauge = rk_metrics_gauge(c.reg, "rk_conc_g", "G.", 0, NULL);
	atomic_init(&c.stop, false);
	started = pthread_create(&scraper, NULL, scraper_run, &c) == 0;
	for (int i = 0; i < NTHREADS; i++) {
		w[i].c = &c;
		snprintf(w[i].id, sizeof(w[i].id), "t%d", i);
		started = started &&
		    pthread_create(&w[i].tid, NULL, worker_run, &w[i]) == 0;
	}
	if (!ok(started, "threads: %d workers and a scraper started", NTHREADS))
		exit(1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(w[i].tid, NULL);
	atomic_store(&c.stop, true);
	pthread_join(scraper, NULL);
	conc_check(&c, w);
	rk_metrics_free(c.reg);
}

/* ---------------------------------------------- prometheus_client check */

#define PYTHON "/usr/bin/python3"

/* Prints what the reference parser understood, one fact per line. */
static const char py_check[] =
    "import json, sys\n"
    "from prometheus_client.parser import text_string_to_metric_families\n"
    "with open(sys.argv[1]) as f:\n"
    "    text = f.read()\n"
    "for fam in text_string_to_metric_families(text):\n"
    "    print('family %s %s %s' % (fam.name, fam.type,\n"
    "          json.dumps(fam.documentation)))\n"
    "    for s in fam.samples:\n"
    "        print('sample %s %s %r' % (s.name,\n"
    "              json.dumps(s.labels, sort_keys=True), s.value))\n";

static const char *const py_want[] = {
	"family rk_py_decisions counter \"Decisions\\\\taken,\\nper verdict.\"",
	"sample rk_py_decisions_total {\"action\": \"reject\", \"why\": "
	"\"a\\\"b\\\\c\\nd\"} 2.0",
	"sample rk_py_decisions_total {\"action\": \"accept\", \"why\": "
	"\"none\"} 1.0",
	"family rk_py_temp gauge \"Gauge.\"",
	"sample rk_py_temp {\"v\": \"frac\"} 0.30000000000000004",
	"sample rk_py_temp {\"v\": \"pos\"} inf",
	"sample rk_py_temp {\"v\": \"neg\"} -inf",
	"sample rk_py_temp {\"v\": \"nan\"} nan",
	"sample rk_py_temp {\"v\": \"big\"} 1.5e+300",
	"family rk_py_seconds histogram \"Latency.\"",
	"sample rk_py_seconds_bucket {\"cmd\": \"get\", \"le\": \"0.001\"} 1.0",
	"sample rk_py_seconds_bucket {\"cmd\": \"get\", \"le\": \"0.25\"} 2.0",
	"sample rk_py_seconds_bucket {\"cmd\": \"get\", \"le\": \"+Inf\"} 3.0",
	"sample rk_py_seconds_sum {\"cmd\": \"get\"} 100.1255",
	"sample rk_py_seconds_count {\"cmd\": \"get\"} 3.0",
	"family rk_py_up gauge \"\"",
	"sample rk_py_up {} 1.0",
};

static void
py_build(struct rk_metrics *reg)
{
	static const char *const dl[] = { "action", "why" };
	static const char *const gl[] = { "v" };
	static const double b[] = { 0.001, 0.25 };
	struct rk_metric *m;

	m = rk_metrics_counter(reg, "rk_py_decisions_total",
	    "Decisions\\taken,\nper verdict.", 2, dl);
	rk_metric_add(m, 2, RK_LABELS("reject", "a\"b\\c\nd"));
	rk_metric_inc(m, RK_LABELS("accept", "none"));
	m = rk_metrics_gauge(reg, "rk_py_temp", "Gauge.", 1, gl);
	rk_metric_set(m, 0.1 + 0.2, RK_LABELS("frac"));
	rk_metric_set(m, INFINITY, RK_LABELS("pos"));
	rk_metric_set(m, -INFINITY, RK_LABELS("neg"));
	rk_metric_set(m, NAN, RK_LABELS("nan"));
	rk_metric_set(m, 1.5e300, RK_LABELS("big"));
	m = rk_metrics_histogram(
	    reg, "rk_py_seconds", "Latency.", 2, b, 1, one_label);
	rk_metric_observe(m, 0.0005, RK_LABELS("get"));
	rk_metric_observe(m, 0.125, RK_LABELS("get"));
	rk_metric_observe(m, 100, RK_LABELS("get"));
	rk_metric_set(
	    rk_metrics_gauge(reg, "rk_py_up", NULL, 0, NULL), 1, NULL);
}

static int
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	int r;

	if (f == NULL)
		return -1;
	r = fputs(data, f) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : r;
}

static void
py_compare(FILE *p)
{
	char line[1024];
	size_t n = 0;

	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (n < NELEMS(py_want))
			is_str(
			    line, py_want[n], "python: parsed %s", py_want[n]);
		else
			ok(0, "python: unexpected line \"%s\"", line);
		n++;
	}
	is_int((intmax_t)n, (intmax_t)NELEMS(py_want),
	    "python: every family and sample parsed");
}

static void
py_run(const char *dir)
{
	struct rk_metrics *reg = rk_metrics_new();
	char script[256], data[256], cmd[600], *text;
	FILE *p;

	py_build(reg);
	text = render_to_string(reg);
	snprintf(script, sizeof(script), "%s/check.py", dir);
	snprintf(data, sizeof(data), "%s/metrics.txt", dir);
	if (write_file(script, py_check) < 0 || write_file(data, text) < 0) {
		ok(0, "python: write %s", dir);
	} else {
		snprintf(cmd, sizeof(cmd), PYTHON " %s %s", script, data);
		fflush(stdout);
		if ((p = popen(cmd, "r")) == NULL) {
			ok(0, "python: popen");
		} else {
			py_compare(p);
			is_int(pclose(p), 0, "python: parser exits 0");
		}
	}
	unlink(script);
	unlink(data);
	free(text);
	rk_metrics_free(reg);
}

static void
test_python(void)
{
	char dir[] = "/tmp/rk_metrics_test.XXXXXX";

	if (access(PYTHON, X_OK) != 0) {
		skip("python: " PYTHON " not installed");
		return;
	}
	if (system(PYTHON " -c 'import prometheus_client.parser' "
	                  "2>/dev/null") != 0) {
		skip("python: prometheus_client missing "
		     "(apt-get install python3-prometheus-client)");
		return;
	}
	if (mkdtemp(dir) == NULL) {
		ok(0, "python: mkdtemp");
		return;
	}
	py_run(dir);
	rmdir(dir);
}

int
main(void)
{
	test_render();
	test_render_appends();
	test_format_double();
	test_get();
	test_series_cap();
	test_panics();
	test_threads();
	test_python();
	return done_testing();
}
