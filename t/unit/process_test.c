/* SPDX-License-Identifier: MIT */
/*
 * process_test: /proc/self/stat as it reads (a command name with spaces
 * and parentheses, truncated texts), and the metrics a live registry
 * renders: build info, process_* with plausible values, reload gauges
 * present from the start and following rk_process_reloaded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rk_metrics.h"
#include "rk_process.h"
#include "rk_str.h"
#include "tap.h"

static const char proc_stat[] = "cpu  1 2 3 4\nintr 5\nbtime 1700000000\n"
                                "processes 10\n";

struct parse_case {
	const char *name, *stat;
	int rc;
	double cpu, start, vsize, rss;
};

static const struct parse_case parse_cases[] = {
	{ "plain command name",
	    "42 (relaykit-event) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 "
	    "20 0 3 0 1000 123456789 300 18446744073709551615\n",
	    0, 3.0, 1700000010.0, 123456789.0, 300.0 * 4096 },
	{ "a name with spaces and parentheses",
	    "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 100 100 0 0 20 0 1 0 500 4096 "
	    "2\n",
	    0, 2.0, 1700000005.0, 4096.0, 2.0 * 4096 },
	{ "cut before rss",
	    "7 (x) R 1 7 7 0 -1 0 0 0 0 0 100 100 0 0 20 0 1 0 "
	    "500 4096\n",
	    -1, 0, 0, 0, 0 },
	{ "no closing parenthesis", "7 (x R 1", -1, 0, 0, 0, 0 },
	{ "empty", "", -1, 0, 0, 0, 0 },
};

static void
test_parse(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		struct rk_process_stat st;
		int rc = rk_process_parse(c->stat, proc_stat, 100, 4096, &st);

		is_int(rc, c->rc, "%s: result", c->name);
		if (rc != 0 || c->rc != 0)
			continue;
		ok(st.cpu_seconds == c->cpu && st.start_time == c->start &&
		        st.vsize == c->vsize && st.rss == c->rss,
		    "%s: cpu %g start %.0f vsize %.0f rss %.0f", c->name,
		    st.cpu_seconds, st.start_time, st.vsize, st.rss);
	}
	{
		struct rk_process_stat st;

		is_int(rk_process_parse(
		           parse_cases[0].stat, "cpu 1\n", 100, 4096, &st),
		    -1, "no btime line");
	}
}

/* The value of the sample line starting with name, or -1. */
static double
sample(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p != NULL && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void
test_render(void)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct rk_process *p = rk_process_metrics(reg, "relaykit-test");
	struct rk_buf out;
	volatile double x = 0;

	for (long i = 0; i < 20000000; i++) /* some CPU time to count */
		x += (double)i;
	rk_buf_init(&out);
	rk_metrics_render(reg, &out);
	ok(strstr(out.data,
	       "relaykit_build_info{program=\"relaykit-test\","
	       "version=\"" PACKAGE_VERSION "\"} 1\n") != NULL,
	    "build info names program and version");
	ok(sample(out.data, "process_resident_memory_bytes") > 100000,
	    "resident memory: %.0f",
	    sample(out.data, "process_resident_memory_bytes"));
	ok(sample(out.data, "process_open_fds") >= 3, "open fds: %.0f",
	    sample(out.data, "process_open_fds"));
	ok(sample(out.data, "process_max_fds") > 0, "max fds");
	ok(sample(out.data, "process_cpu_seconds_total") >= 0,
	    "cpu seconds: %g", sample(out.data, "process_cpu_seconds_total"));
	ok(sample(out.data, "process_start_time_seconds") >
	        (double)time(NULL) - 3600,
	    "started within the hour");
	is_int((int)sample(out.data, "relaykit_config_last_reload_successful"),
	    1, "the load at start counts as a successful reload");
	ok(sample(out.data,
	       "relaykit_config_last_reload_success_timestamp_seconds") > 0,
	    "... with its time");
	rk_process_reloaded(p, false);
	rk_buf_reset(&out);
	rk_metrics_render(reg, &out);
	is_int((int)sample(out.data, "relaykit_config_last_reload_successful"),
	    0, "a failed reload shows");
	rk_buf_free(&out);
	rk_metrics_free(reg);
}

int
main(void)
{
	test_parse();
	test_render();
	return done_testing();
}
