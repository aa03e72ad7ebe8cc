/* SPDX-License-Identifier: MIT */
/*
 * rk_process: build, process and reload metrics.  See rk_process.h.  The
 * CPU counter only goes up, so each render adds what was used since the
 * last one; a mutex keeps two concurrent scrapes from adding it twice.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rk_mem.h"
#include "rk_process.h"

struct rk_process {
	pthread_mutex_t lock; /* guards the CPU counter's read-add */
	struct rk_metric *cpu, *rss, *vsize, *open_fds, *max_fds, *start;
	struct rk_metric *reload_ok, *reload_time;
	long ticks, page_size;
};

/* The whitespace-separated token number k (0-based) of s, or NULL. */
static const char *
token(const char *s, int k)
{
	for (;;) {
		s += strspn(s, " \n");
		if (*s == '\0')
			return NULL;
		if (k-- == 0)
			return s;
		s += strcspn(s, " \n");
	}
}

static int
token_double(const char *s, int k, double *out)
{
	const char *t = token(s, k);
	char *end;

	if (t == NULL)
		return -1;
	*out = strtod(t, &end);
	return end == t ? -1 : 0;
}

int
rk_process_parse(const char *stat, const char *proc_stat, long ticks,
    long page_size, struct rk_process_stat *out)
{
	/* after "pid (comm) ": state is token 0, utime (field 14) token 11 */
	const char *p = strrchr(stat, ')');
	const char *bt = strstr(proc_stat, "\nbtime ");
	double utime, stime, start, vsize, rss, btime;

	if (p == NULL || bt == NULL || ticks <= 0 || page_size <= 0)
		return -1;
	p++;
	if (token_double(p, 11, &utime) != 0 ||
	    token_double(p, 12, &stime) != 0 ||
	    token_double(p, 19, &start) != 0 ||
	    token_double(p, 20, &vsize) != 0 ||
	    token_double(p, 21, &rss) != 0 ||
	    token_double(bt + 1, 1, &btime) != 0)
		return -1;
	out->cpu_seconds = (utime + stime) / (double)ticks;
	out->start_time = btime + start / (double)ticks;
	out->vsize = vsize;
	out->rss = rss * (double)page_size;
	return 0;
}

/* Reads a small /proc file into buf (NUL-terminated); 0 or -1. */
static int
read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (len < n - 1 && (r = read(fd, buf + len, n - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	return len > 0 ? 0 : -1;
}

static double
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static void
collect(void *arg)
{
	struct rk_process *p = arg;
	char stat[1024], proc_stat[8192];
	struct rk_process_stat st;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		rk_metric_set(p->max_fds,
		    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur,
		    NULL);
	rk_metric_set(p->open_fds, count_fds(), NULL);
	if (read_small("/proc/self/stat", stat, sizeof(stat)) != 0 ||
	    read_small("/proc/stat", proc_stat, sizeof(proc_stat)) != 0 ||
	    rk_process_parse(stat, proc_stat, p->ticks, p->page_size, &st) != 0)
		return;
	rk_metric_set(p->rss, st.rss, NULL);
	rk_metric_set(p->vsize, st.vsize, NULL);
	rk_metric_set(p->start, st.start_time, NULL);
	pthread_mutex_lock(&p->lock);
	if (st.cpu_seconds > rk_metric_get(p->cpu, NULL))
		rk_metric_add(
		    p->cpu, st.cpu_seconds - rk_metric_get(p->cpu, NULL), NULL);
	pthread_mutex_unlock(&p->lock);
}

static void
process_free(void *arg)
{
	struct rk_process *p = arg;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
register_process(struct rk_process *p, struct rk_metrics *reg)
{
	p->cpu = rk_metrics_counter(reg, "process_cpu_seconds_total",
	    "Total user and system CPU time spent in seconds.", 0, NULL);
	p->rss = rk_metrics_gauge(reg, "process_resident_memory_bytes",
	    "Resident memory size in bytes.", 0, NULL);
	p->vsize = rk_metrics_gauge(reg, "process_virtual_memory_bytes",
	    "Virtual memory size in bytes.", 0, NULL);
	p->open_fds = rk_metrics_gauge(reg, "process_open_fds",
	    "Number of open file descriptors.", 0, NULL);
	p->max_fds = rk_metrics_gauge(reg, "process_max_fds",
	    "Maximum number of open file descriptors.", 0, NULL);
	p->start = rk_metrics_gauge(reg, "process_start_time_seconds",
	    "Start time of the process since unix epoch in seconds.", 0, NULL);
}

struct rk_process *
rk_process_metrics(struct rk_metrics *reg, const char *program)
{
	static const char *const l_build[] = { "program", "version" };
	struct rk_process *p = rk_calloc(1, sizeof(*p));
	struct rk_metric *build;

	pthread_mutex_init(&p->lock, NULL);
	p->ticks = sysconf(_SC_CLK_TCK);
	p->page_size = sysconf(_SC_PAGESIZE);
	build = rk_metrics_gauge(reg, "relaykit_build_info",
	    "Always 1; the labels say which program and version run.", 2,
	    l_build);
	rk_metric_set(build, 1, RK_LABELS(program, PACKAGE_VERSION));
	register_process(p, reg);
	p->reload_ok =
	    rk_metrics_gauge(reg, "relaykit_config_last_reload_successful",
	        "1 if the last configuration load (start or SIGHUP) succeeded.",
	        0, NULL);
	p->reload_time = rk_metrics_gauge(reg,
	    "relaykit_config_last_reload_success_timestamp_seconds",
	    "When the configuration was last loaded successfully.", 0, NULL);
	rk_process_reloaded(p, true);
	rk_metrics_on_render(reg, collect, p, process_free);
	return p;
}

void
rk_process_reloaded(struct rk_process *p, bool ok)
{
	if (p == NULL)
		return;
	rk_metric_set(p->reload_ok, ok ? 1 : 0, NULL);
	if (ok)
		rk_metric_set(p->reload_time, now_s(), NULL);
}
