/* SPDX-License-Identifier: MIT */
/*
 * rk_process: the metrics every relaykit daemon exposes about itself,
 * under the names Prometheus' own client libraries use, so stock
 * dashboards and alerts work:
 *   relaykit_build_info{program,version} 1
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds (read from /proc at each scrape)
 *   relaykit_config_last_reload_successful,
 *   relaykit_config_last_reload_success_timestamp_seconds
 *     (the loading at start counts as a successful reload, as in
 *     Prometheus itself, so both exist from the start)
 *
 * Threading: rk_process_reloaded may run on any thread; the /proc reads
 * run on the thread that renders (rk_metrics_on_render).  Ownership: the
 * registry owns the struct; the pointer is borrowed until
 * rk_metrics_free.  Non-goals: other platforms than Linux (elsewhere the
 * process_* values stay 0).
 */
#ifndef RK_PROCESS_H
#define RK_PROCESS_H

#include <stdbool.h>

#include "rk_metrics.h"

struct rk_process;

/* Registers the metrics above in reg (which must have no render hook
   yet).  program: "relaykit-eventd"... (copied). */
struct rk_process *rk_process_metrics(
    struct rk_metrics *reg, const char *program);
/* A configuration reload (SIGHUP) ended: ok or kept the old one. */
void rk_process_reloaded(struct rk_process *p, bool ok);

/* The parts of /proc/self/stat and /proc/stat the metrics need; for the
   unit test.  0, or -1 when a text does not parse. */
struct rk_process_stat {
	double cpu_seconds;
	double start_time; /* seconds since the epoch */
	double vsize, rss; /* bytes */
};
int rk_process_parse(const char *stat, const char *proc_stat, long ticks,
    long page_size, struct rk_process_stat *out);

#endif
