/* SPDX-License-Identifier: MIT */
/*
 * relaykit-eventd: every delivery outcome in Postfix's log as an event in
 * a Redis Stream, exactly once, and Prometheus metrics of the log.
 *
 * main: options, config, logging, signals, wiring.  The reader (its own
 * thread, ev_reader.c) follows the log and stores events; the main thread
 * runs a libevent loop for the HTTP server (/metrics, /healthz, /readyz)
 * and signals.  --parse runs the parser alone (ev_parse.c).
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "rk_cfg.h"
#include "rk_daemon.h"
#include "rk_http.h"
#include "rk_log.h"
#include "rk_metrics.h"
#include "rk_process.h"

#include "ev_dash.h"
#include "eventd.h"

#define PROG "relaykit-eventd"

struct ev_main {
	const char *path;
	bool foreground, check, parse, stats, dry_run, from_start;
	int64_t now_ms; /* --now: what BSD timestamps are dated against */
	struct rk_cfg *cfg;
	struct event_base *base;
	struct ev_reader *reader;
	struct rk_http *http;
	struct rk_process *proc;
	struct ev_dash *dash; /* dashboard.watch */
	char name[256];
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " [-fn] [-c FILE] [--dry-run] [--from-start]\n"
	    "       " PROG " --parse [--stats] [--now SECONDS] [FILE...]\n"
	    "       " PROG " -V | --version | -h | --help\n"
	    "\n"
	    "Follows Postfix's log (eventd.logFile) and writes one event per "
	    "delivery\n"
	    "outcome to the Redis stream <redis.keyPrefix>events.\n"
	    "\n"
	    "  -c FILE       configuration (default " RK_CFG_DEFAULT_PATH ")\n"
	    "  -n            check the configuration, print \"configuration "
	    "OK\"\n"
	    "  -v            with -n: print every key's value too (secrets "
	    "masked)\n"
	    "  -f            log to standard error\n"
	    "  --dry-run     follow and parse, write nothing (no Redis)\n"
	    "  --from-start  with no saved position, read the log from its "
	    "start\n"
	    "  --parse       read log lines from FILEs (or standard input) and "
	    "print\n"
	    "                one JSON event per line, without Redis\n"
	    "  --stats       with --parse: print the metrics after the "
	    "events\n"
	    "  --now SECONDS with --parse: date year-less (BSD) timestamps as "
	    "if it were\n"
	    "                this time (default: now), to replay old logs\n"
	    "  -V            print the version\n");
}

enum { OPT_PARSE = 256, OPT_STATS, OPT_DRY_RUN, OPT_FROM_START, OPT_NOW };

static int
options(struct ev_main *m, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "parse", no_argument, NULL, OPT_PARSE },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "from-start", no_argument, NULL, OPT_FROM_START },
		{ "now", required_argument, NULL, OPT_NOW },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while (
	    (ch = getopt_long(argc, argv, "c:fhnVv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			m->path = optarg;
			break;
		case 'f':
			m->foreground = true;
			break;
		case 'n':
			m->check = true;
			break;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf(PROG " %s\n", PACKAGE_VERSION);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		case OPT_PARSE:
			m->parse = true;
			break;
		case OPT_STATS:
			m->stats = true;
			break;
		case OPT_DRY_RUN:
			m->dry_run = true;
			break;
		case OPT_FROM_START:
			m->from_start = true;
			break;
		case OPT_NOW:
			m->now_ms = strtoll(optarg, NULL, 10) * 1000;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc && !m->parse) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static struct rk_cfg *
load(const char *path)
{
	return rk_cfg_load_logged(
	    path, RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_DASHBOARD);
}

/* /readyz: the log is followed and events are stored (Redis answers). */
static bool
ready(void *arg, struct rk_buf *why)
{
	struct ev_main *m = arg;

	if (ev_reader_up(m->reader))
		return true;
	rk_buf_puts(why, "not storing events: Redis is not answering");
	return false;
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct ev_main *m = arg;

	(void)what;
	rk_log_info("signal %d: exiting", (int)sig);
	ev_reader_stop(m->reader);
	event_base_loopexit(m->base, NULL);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct ev_main *m = arg;
	struct rk_cfg *cfg;

	(void)sig;
	(void)what;
	rk_daemon_notify_reloading();
	cfg = load(m->path);
	rk_daemon_notify("READY=1");
	if (cfg == NULL) {
		rk_log_warnx(
		    "reload failed: keeping the running configuration");
		rk_process_reloaded(m->proc, false);
		return;
	}
	rk_log_set_level((enum rk_log_level)cfg->log.level);
	rk_log_info("reloaded %s: the log level applies now; the log file, "
	            "Redis and metrics settings at the next restart",
	    m->path);
	rk_process_reloaded(m->proc, true);
	rk_cfg_unref(cfg);
}

/* The reader ended by itself (standard input closed): stop the loop. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ev_main *m = arg;

	(void)fd;
	(void)what;
	if (ev_reader_done(m->reader))
		event_base_loopexit(m->base, NULL);
}

static void *
reader_thread(void *arg)
{
	ev_reader_run(arg);
	return NULL;
}

static int
start_http(struct ev_main *m, struct rk_metrics *reg)
{
	const struct rk_cfg_metrics *mc = &m->cfg->metrics;
	struct rk_err err;

	if (!mc->enabled)
		return 0;
	m->http =
	    rk_http_new(m->base, mc->address, (unsigned)mc->eventdPort, &err);
	if (m->http == NULL) {
		rk_log_warnx("%s", err.msg);
		return -1;
	}
	rk_http_metrics(m->http, reg);
	rk_http_ready(m->http, ready, m);
	return 0;
}

static int
run(struct ev_main *m)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct ev_stats *stats = ev_stats_new(reg);
	struct ev_reader_opts ro = { m->cfg, m->name, m->dry_run, m->from_start,
		stats };
	struct event *ev[4];
	struct timeval tick = { 0, 50000 };
	struct rk_err err;
	pthread_t th;
	int status = 0;

	m->proc = rk_process_metrics(reg, PROG);
	ev_stats_destinations(stats, m->cfg);
	m->base = event_base_new();
	if (m->base == NULL)
		rk_log_fatalx("event_base_new failed");
	if ((m->reader = ev_reader_new(&ro, &err)) == NULL) {
		rk_log_errorx("%s", err.msg);
		status = EX_CONFIG;
		goto out;
	}
	if (start_http(m, reg) != 0) {
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (m->cfg->dashboard.watch.enabled &&
	    (m->dash = ev_dash_new(m->base, m->cfg, reg, &err)) == NULL) {
		rk_log_errorx("dashboard: %s", err.msg);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (rk_daemon_drop(&m->cfg->daemon, &err) != 0) {
		rk_log_errorx("%s", err.msg);
		status = EX_CONFIG;
		goto out;
	}
	ev[0] = evsignal_new(m->base, SIGTERM, on_term, m);
	ev[1] = evsignal_new(m->base, SIGINT, on_term, m);
	ev[2] = evsignal_new(m->base, SIGHUP, on_hup, m);
	ev[3] = event_new(m->base, -1, EV_PERSIST, on_tick, m);
	for (int i = 0; i < 3; i++)
		event_add(ev[i], NULL);
	event_add(ev[3], &tick);
	if (pthread_create(&th, NULL, reader_thread, m->reader) != 0)
		rk_log_fatal("pthread_create");
	rk_daemon_notify("READY=1");
	rk_log_info("started: following %s as \"%s\"%s", m->cfg->eventd.logFile,
	    m->name, m->dry_run ? " (dry run: nothing is written)" : "");
	event_base_dispatch(m->base);
	rk_daemon_notify("STOPPING=1");
	ev_reader_stop(m->reader);
	pthread_join(th, NULL);
	for (int i = 0; i < 4; i++)
		event_free(ev[i]);
	if (m->dry_run)
		rk_log_info("dry run: %llu events",
		    (unsigned long long)ev_reader_events(m->reader));
out:
	ev_dash_free(m->dash);
	rk_http_free(m->http);
	ev_reader_free(m->reader);
	event_base_free(m->base);
	ev_stats_free(stats);
	rk_metrics_free(reg);
	return status;
}

int
main(int argc, char **argv)
{
	struct ev_main m;
	int rc, status;

	memset(&m, 0, sizeof(m));
	m.path = RK_CFG_DEFAULT_PATH;
	if ((rc = options(&m, argc, argv)) != 0)
		return rc > 0 ? 0 : EX_USAGE;
	if (m.parse)
		return ev_parse_main(
		    argc - optind, argv + optind, m.stats, m.now_ms, stdout);
	if (m.check)
		return rk_cfg_check_main(m.path, stdout, stderr);
	rk_log_open(PROG, RK_LOG_STDERR, RK_LOG_INFO);
	if ((m.cfg = load(m.path)) == NULL)
		return EX_CONFIG;
	rk_log_open(PROG,
	    m.foreground ? RK_LOG_STDERR
	                 : (enum rk_log_dest)m.cfg->log.destination,
	    (enum rk_log_level)m.cfg->log.level);
	if (m.cfg->eventd.name != NULL)
		snprintf(m.name, sizeof(m.name), "%s", m.cfg->eventd.name);
	else if (gethostname(m.name, sizeof(m.name) - 1) != 0)
		snprintf(m.name, sizeof(m.name), "localhost");
	signal(SIGPIPE, SIG_IGN);
	status = run(&m);
	rk_cfg_unref(m.cfg);
	return status;
}
