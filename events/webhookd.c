/* SPDX-License-Identifier: MIT */
/*
 * relaykit-webhookd: every event of the stream delivered to the
 * application's HTTP endpoints, signed (Standard Webhooks), at least
 * once, with retries, dead letters and many dispatchers sharing the work.
 *
 * Its own program rather than a role of relaykit-eventd: it needs other
 * privileges (the webhook secrets and outbound network, where eventd
 * needs to read Postfix's log), it scales differently (eventd: one per
 * Postfix host; dispatchers: as many as the endpoints' traffic needs,
 * sharing consumer groups), and a stuck endpoint or a backlog of a
 * million events must never slow the reading of the log.
 *
 * main: options, the dead-letter commands, config, signals, wiring.  The
 * loop (wh_loop.c) runs on the main thread, the metrics server on its
 * own (rk_http thread mode).
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "rk_cfg.h"
#include "rk_daemon.h"
#include "rk_http.h"
#include "rk_log.h"
#include "rk_metrics.h"
#include "rk_process.h"

#include "wh.h"

#define PROG "relaykit-webhookd"

struct wh_main {
	const char *path, *endpoint, *replay, *enable, *consumer;
	bool foreground, check, dead;
};

static struct wh_loop *running; /* for the signal handler only */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " [-fn] [-c FILE] [--consumer NAME]\n"
	    "       " PROG " [-c FILE] --dead-letters [--endpoint NAME]\n"
	    "       " PROG " [-c FILE] --replay ENTRY|all [--endpoint NAME]\n"
	    "       " PROG " [-c FILE] --enable NAME\n"
	    "       " PROG " -V | --version | -h | --help\n"
	    "\n"
	    "Delivers the events of <redis.keyPrefix>events to "
	    "webhooks.endpoints.\n"
	    "\n"
	    "  -c FILE          configuration (default " RK_CFG_DEFAULT_PATH
	    ")\n"
	    "  -n               check the configuration, print "
	    "\"configuration OK\"\n"
	    "  -v               with -n: print every key's value too "
	    "(secrets masked)\n"
	    "  -f               log to standard error\n"
	    "  --consumer NAME  this dispatcher's name in the consumer "
	    "groups\n"
	    "                   (default webhooks.consumerName, or the host "
	    "name)\n"
	    "  --dead-letters   list the events given up (one JSON line "
	    "each)\n"
	    "  --replay X       send dead letters again: one ENTRY id, or all\n"
	    "  --endpoint NAME  only this endpoint's dead letters\n"
	    "  --enable NAME    enable an endpoint disabled by a 410 answer\n"
	    "  -V               print the version\n");
}

enum { OPT_DEAD = 256, OPT_REPLAY, OPT_ENDPOINT, OPT_ENABLE, OPT_CONSUMER };

static int
options(struct wh_main *m, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dead-letters", no_argument, NULL, OPT_DEAD },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
		{ "enable", required_argument, NULL, OPT_ENABLE },
		{ "consumer", required_argument, NULL, OPT_CONSUMER },
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
		case OPT_DEAD:
			m->dead = true;
			break;
		case OPT_REPLAY:
			m->replay = optarg;
			break;
		case OPT_ENDPOINT:
			m->endpoint = optarg;
			break;
		case OPT_ENABLE:
			m->enable = optarg;
			break;
		case OPT_CONSUMER:
			m->consumer = optarg;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static struct rk_cfg *
load(const char *path)
{
	return rk_cfg_load_logged(
	    path, RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_WEBHOOKS);
}

static void
consumer_name(
    const struct wh_main *m, const struct rk_cfg *cfg, char *buf, size_t n)
{
	if (m->consumer != NULL)
		snprintf(buf, n, "%s", m->consumer);
	else if (cfg->webhooks.consumerName != NULL)
		snprintf(buf, n, "%s", cfg->webhooks.consumerName);
	else if (gethostname(buf, n - 1) != 0)
		snprintf(buf, n, "webhookd");
	buf[n - 1] = '\0';
}

/* --dead-letters, --replay, --enable: one Redis conversation, then exit. */
static int
command(const struct wh_main *m, const struct rk_cfg *cfg)
{
	struct rk_err err;
	struct wh_store *st = wh_store_new(cfg, "cli", &err);
	int n = -1;

	if (st == NULL) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EX_CONFIG;
	}
	if (m->enable != NULL)
		n = wh_store_set_disabled(st, m->enable, NULL, &err);
	else if (m->replay != NULL)
		n = wh_store_replay(st, m->endpoint, m->replay, &err);
	else
		n = wh_store_list_dead(st, m->endpoint, stdout, &err);
	if (n >= 0 && m->replay != NULL)
		fprintf(stderr, PROG ": %d dead letters queued again\n", n);
	if (n < 0)
		fprintf(stderr, PROG ": %s\n", err.msg);
	wh_store_free(st);
	return n < 0 ? EX_TEMPFAIL : 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	if (running != NULL)
		wh_loop_stop(running);
}

static bool
ready(void *arg, struct rk_buf *why)
{
	if (wh_loop_up(arg))
		return true;
	rk_buf_puts(why, "not delivering: Redis is not answering");
	return false;
}

static int
serve(const struct wh_main *m, const struct rk_cfg *cfg)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct rk_http *http = NULL;
	struct wh_store *st;
	struct wh_loop *l = NULL;
	struct sigaction sa;
	struct rk_err err;
	char name[256];
	int status = 0;

	rk_process_metrics(reg, PROG);
	consumer_name(m, cfg, name, sizeof(name));
	if ((st = wh_store_new(cfg, name, &err)) == NULL ||
	    (l = wh_loop_new(cfg, st, reg, &err)) == NULL) {
		rk_log_errorx("%s", err.msg);
		status = EX_CONFIG;
		goto out;
	}
	if (cfg->metrics.enabled) {
		http = rk_http_new(NULL, cfg->metrics.address,
		    (unsigned)cfg->metrics.webhookdPort, &err);
		if (http == NULL) {
			rk_log_errorx("%s", err.msg);
			status = EX_UNAVAILABLE;
			goto out;
		}
		rk_http_metrics(http, reg);
		rk_http_ready(http, ready, l);
		if (rk_http_start(http, &err) != 0)
			rk_log_fatalx("%s", err.msg);
	}
	if (rk_daemon_drop(&cfg->daemon, &err) != 0) {
		rk_log_errorx("%s", err.msg);
		status = EX_CONFIG;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* nothing to reload in place: a changed config applies at restart,
	   and a stray SIGHUP (systemctl reload) must not kill the process */
	signal(SIGHUP, SIG_IGN);
	running = l;
	rk_log_info("started: %zu endpoints, consumer \"%s\"",
	    cfg->webhooks.nendpoints, name);
	rk_daemon_notify("READY=1");
	wh_loop_run(l);
	rk_daemon_notify("STOPPING=1");
	rk_log_info("signal: exiting");
out:
	running = NULL;
	rk_http_free(http);
	wh_loop_free(l);
	wh_store_free(st);
	rk_metrics_free(reg);
	return status;
}

int
main(int argc, char **argv)
{
	struct wh_main m;
	struct rk_cfg *cfg;
	int rc, status;

	memset(&m, 0, sizeof(m));
	m.path = RK_CFG_DEFAULT_PATH;
	if ((rc = options(&m, argc, argv)) != 0)
		return rc > 0 ? 0 : EX_USAGE;
	if (m.check)
		return rk_cfg_check_main(m.path, stdout, stderr);
	rk_log_open(PROG, RK_LOG_STDERR, RK_LOG_INFO);
	if ((cfg = load(m.path)) == NULL)
		return EX_CONFIG;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (m.dead || m.replay != NULL || m.enable != NULL) {
		status = command(&m, cfg);
	} else {
		rk_log_open(PROG,
		    m.foreground ? RK_LOG_STDERR
		                 : (enum rk_log_dest)cfg->log.destination,
		    (enum rk_log_level)cfg->log.level);
		if (!cfg->webhooks.enabled) {
			rk_log_info("webhooks.enabled is false: nothing to do");
			status = 0;
		} else {
			status = serve(&m, cfg);
		}
	}
	curl_global_cleanup();
	rk_cfg_unref(cfg);
	return status;
}
