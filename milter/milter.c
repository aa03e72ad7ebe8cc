/* SPDX-License-Identifier: MIT */
/*
 * relaykit-milter: DKIM signing (and, later, sender checks) for Postfix.
 *
 * main: options, config and keys, the metrics endpoint (rk_http on a
 * thread of its own: /metrics, /healthz, /readyz), then libmilter's
 * loop on its own thread while this thread waits for signals: SIGHUP
 * reloads config and keys (the old ones stay on any error), SIGTERM and
 * SIGINT stop.  libmilter's own signal thread would stop the milter on
 * SIGHUP; since Linux offers a process-wide signal to the main thread
 * first and only this thread leaves the signals unblocked, they land here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "rk_cfg.h"
#include "rk_daemon.h"
#include "rk_http.h"
#include "rk_listen.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_process.h"

#include "milter.h"

/* ---------------------------------------------------------------- state */

static void
add_name(struct mlt_state *st, const char *name)
{
	char *lc;

	for (size_t i = 0; i < st->nhnames; i++)
		if (rk_str_case_eq(st->hnames[i], name))
			return;
	lc = rk_strdup(name);
	rk_str_lower(lc);
	st->hnames =
	    rk_reallocarray(st->hnames, st->nhnames + 1, sizeof(*st->hnames));
	st->hnames[st->nhnames++] = lc;
}

struct mlt_state *
mlt_state_new(struct rk_cfg *cfg, struct rk_err *err)
{
	struct mlt_state *st;
	struct mlt_keys *keys = mlt_keys_load(cfg, err);

	if (keys == NULL) {
		rk_cfg_unref(cfg);
		return NULL;
	}
	st = rk_calloc(1, sizeof(*st));
	st->cfg = cfg;
	st->keys = keys;
	st->senders = rk_sender_rules_from_cfg(cfg, err);
	if (st->senders == NULL || mlt_inbound_state(st, err) != 0) {
		mlt_state_unref(st);
		return NULL;
	}
	/* the signed names first (h= takes them), then what VERP and the
	   metadata read */
	add_name(st, "from");
	for (size_t i = 0; i < cfg->dkim.nheaders; i++)
		add_name(st, cfg->dkim.headers[i]);
	for (size_t i = 0; i < cfg->dkim.noversignHeaders; i++)
		add_name(st, cfg->dkim.oversignHeaders[i]);
	st->nsigned = st->nhnames;
	if (cfg->inbound.bounce.enabled || cfg->milter.metadata) {
		add_name(st, cfg->inbound.clientIdHeader);
		add_name(st, "subject");
		add_name(st, "message-id");
	}
	st->refs = 1;
	return st;
}

struct mlt_state *
mlt_state_ref(struct mlt_state *st)
{
	st->refs++;
	return st;
}

void
mlt_state_unref(struct mlt_state *st)
{
	if (st == NULL || --st->refs > 0)
		return;
	mlt_keys_free(st->keys);
	rk_sender_rules_free(st->senders);
	mlt_inbound_state_free(st);
	for (size_t i = 0; i < st->nhnames; i++)
		free(st->hnames[i]);
	free(st->hnames);
	rk_cfg_unref(st->cfg);
	free(st);
}

struct mlt_state *
mlt_server_state(struct mlt_server *srv)
{
	struct mlt_state *st;

	pthread_mutex_lock(&srv->lock);
	st = mlt_state_ref(srv->cur);
	pthread_mutex_unlock(&srv->lock);
	return st;
}

void
mlt_server_swap(struct mlt_server *srv, struct mlt_state *st)
{
	struct mlt_state *old;

	pthread_mutex_lock(&srv->lock);
	old = srv->cur;
	srv->cur = st;
	pthread_mutex_unlock(&srv->lock);
	mlt_state_unref(old);
}

/* ------------------------------------------------------------- loading */

static struct rk_cfg *
load_cfg(const char *path)
{
	return rk_cfg_load_logged(
	    path, RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_INBOUND);
}

static struct mlt_state *
load_state(const char *path)
{
	struct rk_cfg *cfg = load_cfg(path);
	struct mlt_state *st;
	struct rk_err err;

	if (cfg == NULL)
		return NULL;
	if ((st = mlt_state_new(cfg, &err)) == NULL)
		rk_log_warnx("%s: %s", path, err.msg);
	return st;
}

static void
reload(struct mlt_server *srv)
{
	struct mlt_state *st = load_state(srv->cfgpath);

	if (st == NULL) {
		rk_log_warnx("action=reload result=failed: keeping the "
		             "previous configuration and keys");
		rk_metric_inc(srv->m.reloads, RK_LABELS("failed"));
		rk_process_reloaded(srv->m.proc, false);
		return;
	}
	mlt_server_swap(srv, st);
	rk_log_info("action=reload result=ok");
	rk_metric_inc(srv->m.reloads, RK_LABELS("ok"));
	rk_process_reloaded(srv->m.proc, true);
}

/* Label values that exist from the start, at 0, so a dashboard's
   rate() has a series before the first message. */
static void
metrics_zero(struct mlt_metrics *m)
{
	static const char *const results[] = { "signed", "unsigned", "rejected",
		"tempfail" };
	static const char *const algs[] = { "rsa-sha256", "ed25519-sha256" };

	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		rk_metric_add(m->messages, 0, RK_LABELS(results[i]));
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		rk_metric_add(m->signatures, 0, RK_LABELS(algs[i]));
	rk_metric_add(m->reloads, 0, RK_LABELS("ok"));
	rk_metric_add(m->reloads, 0, RK_LABELS("failed"));
	rk_metric_add(m->verp, 0, RK_LABELS("rewritten"));
	rk_metric_add(m->verp, 0, RK_LABELS("failed"));
	rk_metric_add(m->verp, 0, RK_LABELS("skipped"));
	rk_metric_add(m->redis_errors, 0, RK_LABELS("verp_store"));
	rk_metric_add(m->redis_errors, 0, RK_LABELS("metadata"));
}

static void
metrics_init(struct mlt_metrics *m)
{
	m->reg = rk_metrics_new();
	m->messages =
	    rk_metrics_counter(m->reg, "relaykit_milter_messages_total",
	        "Messages by outcome.", 1, (const char *[]){ "result" });
	m->unsigned_ =
	    rk_metrics_counter(m->reg, "relaykit_milter_unsigned_total",
	        "Messages not signed (passed or refused), by reason.", 1,
	        (const char *[]){ "reason" });
	m->signatures =
	    rk_metrics_counter(m->reg, "relaykit_milter_signatures_total",
	        "DKIM-Signature fields added, by algorithm.", 1,
	        (const char *[]){ "algorithm" });
	m->eom_seconds =
	    rk_metrics_histogram(m->reg, "relaykit_milter_eom_seconds",
	        "Time spent at end of message (signing).", 0, NULL, 0, NULL);
	m->reloads = rk_metrics_counter(m->reg, "relaykit_milter_reloads_total",
	    "SIGHUP reloads by result.", 1, (const char *[]){ "result" });
	m->sender_rejects =
	    rk_metrics_counter(m->reg, "relaykit_milter_sender_rejects_total",
	        "Messages refused by sender validation, by reason.", 1,
	        (const char *[]){ "reason" });
	m->verp = rk_metrics_counter(m->reg, "relaykit_milter_verp_total",
	    "VERP return paths, by result.", 1, (const char *[]){ "result" });
	m->redis_errors =
	    rk_metrics_counter(m->reg, "relaykit_milter_redis_errors_total",
	        "Redis commands that failed (mail flowed on), by purpose.", 1,
	        (const char *[]){ "what" });
	m->proc = rk_process_metrics(m->reg, "relaykit-milter");
	metrics_zero(m);
}

/* ---------------------------------------------------------------- run */

struct runner {
	int pipe[2]; /* signal handler and milter thread wake main */
	_Atomic int status;
	_Atomic bool done;
};

static struct runner *runner_sig; /* for the signal handler only */
static volatile sig_atomic_t got_hup, got_term;

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
	if (write(runner_sig->pipe[1], &c, 1) < 0) {
		/* full pipe: a wake-up is already pending */
	}
	errno = saved;
}

static void *
milter_thread(void *arg)
{
	struct runner *r = arg;
	char c = 0;

	r->status = smfi_main() == MI_SUCCESS ? 0 : EX_UNAVAILABLE;
	r->done = true;
	if (write(r->pipe[1], &c, 1) < 0) {
		/* main notices done at its next wake-up */
	}
	return NULL;
}

static int
milter_setup(const struct rk_cfg *cfg, struct mlt_server *srv)
{
	char conn[512];
	const struct rk_endpoint *ep = &cfg->milter.listen;
	struct rk_listen_perm perm;
	struct rk_err err;

	if (ep->kind == RK_EP_UNIX)
		snprintf(conn, sizeof(conn), "unix:%s", ep->path);
	else
		snprintf(conn, sizeof(conn), "inet%s:%u@%s",
		    strchr(ep->host, ':') ? "6" : "", ep->port, ep->host);
	if (rk_daemon_perm(&cfg->daemon, &perm, &err) != 0 ||
	    (ep->kind == RK_EP_UNIX &&
	        rk_listen_folder(ep->path, &perm, &err) != 0)) {
		rk_log_errorx("cannot listen on %s: %s", conn, err.msg);
		return -1;
	}
	if (mlt_conn_register(srv) != 0 || smfi_setconn(conn) != MI_SUCCESS ||
	    smfi_settimeout((int)(cfg->milter.timeout / 1000)) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		rk_log_errorx("cannot listen on %s", conn);
		return -1;
	}
	/* libmilter's socket gets the umask's mode: make it daemon.*'s,
	   so only the socket group (Postfix) can connect. */
	if (ep->kind == RK_EP_UNIX &&
	    ((perm.gid != (gid_t)-1 && chown(ep->path, (uid_t)-1, perm.gid)) ||
	        chmod(ep->path, perm.mode) != 0)) {
		rk_log_warn("cannot listen on %s: chown/chmod", conn);
		return -1;
	}
	rk_log_info("action=start listen=%s", conn);
	srv->listening = true;
	return 0;
}

/* /readyz: config and keys loaded, Postfix's socket listening.  Redis
   is not asked: without it mail flows on (metadata and VERP references
   are skipped and counted). */
static bool
ready(void *arg, struct rk_buf *why)
{
	struct mlt_server *srv = arg;

	if (srv->listening)
		return true;
	rk_buf_puts(why, "not listening for Postfix yet");
	return false;
}

/* The metrics endpoint on its own thread; NULL when metrics are off. */
static struct rk_http *
http_start(struct mlt_server *srv)
{
	const struct rk_cfg_metrics *mc = &srv->cur->cfg->metrics;
	struct rk_http *http;
	struct rk_err err;

	if (!mc->enabled)
		return NULL;
	http = rk_http_new(NULL, mc->address, (unsigned)mc->milterPort, &err);
	if (http == NULL)
		rk_log_fatalx("%s", err.msg);
	rk_http_metrics(http, srv->m.reg);
	rk_http_ready(http, ready, srv);
	if (rk_http_start(http, &err) != 0)
		rk_log_fatalx("%s", err.msg);
	return http;
}

static void
signals_install(struct runner *r)
{
	struct sigaction sa;

	runner_sig = r;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void *
stop_thread(void *arg)
{
	(void)arg;
	smfi_stop(); /* blocks until libmilter's listener wakes */
	return NULL;
}

static void
stop_async(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, stop_thread, NULL) == 0)
		pthread_detach(t);
}

/* Starts libmilter on its thread with the signals blocked there. */
static int
run(struct mlt_server *srv)
{
	struct runner r = { .status = 0 };
	sigset_t set, old;
	pthread_t t;

	if (pipe2(r.pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		rk_log_fatal("pipe");
	signals_install(&r);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (pthread_create(&t, NULL, milter_thread, &r) != 0)
		rk_log_fatal("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (!r.done) {
		struct pollfd p = { .fd = r.pipe[0], .events = POLLIN };
		char buf[64];

		if (poll(&p, 1, 1000) > 0)
			while (read(r.pipe[0], buf, sizeof(buf)) > 0)
				;
		if (got_hup) {
			got_hup = 0;
			rk_daemon_notify_reloading();
			reload(srv);
			rk_daemon_notify("READY=1");
		}
		if (got_term) {
			rk_daemon_notify("STOPPING=1");
			rk_log_info("action=stop");
			stop_async();
			break;
		}
	}
	/* libmilter notices smfi_stop only at its listener's next poll
	   timeout (10 s); a message still in flight is tempfailed by
	   Postfix (milter_default_action) and retried, so do not wait. */
	for (int i = 0; i < 3 && !r.done; i++)
		poll(NULL, 0, 50);
	if (!r.done)
		_exit(0); /* connection threads may still use the state */
	pthread_join(t, NULL);
	close(r.pipe[0]);
	close(r.pipe[1]);
	return r.status;
}

/* -------------------------------------------------------------- main */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relaykit-milter [-fnV] [-c file]\n"
	    "  -c file  configuration (default %s)\n"
	    "  -f       stay in the foreground, log to standard error\n"
	    "  -n       check configuration and keys, then exit\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "  -V, --version  print the version and exit\n"
	    "  -h, --help  this help\n",
	    RK_CFG_DEFAULT_PATH);
}

/* -n: the shared config check, then every key. */
static int
check_main(const char *path)
{
	struct mlt_state *st;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int rc;

	if (mem == NULL)
		return EX_OSERR;
	rc = rk_cfg_check_main(path, mem, stderr);
	fclose(mem);
	if (rc == 0) {
		if ((st = load_state(path)) == NULL)
			rc = EX_CONFIG;
		mlt_state_unref(st);
	}
	if (rc == 0)
		fputs(text, stdout);
	free(text);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = RK_CFG_DEFAULT_PATH;
	bool check = false, fg = false;
	struct mlt_server srv;
	struct rk_http *http;
	struct rk_err err;
	int ch, rc;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while (
	    (ch = getopt_long(argc, argv, "c:fnVhv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			fg = true;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf("relaykit-milter %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	rk_log_open("relaykit-milter", RK_LOG_STDERR, RK_LOG_INFO);
	rk_log_fatal_status(EX_CONFIG);
	if (check)
		return check_main(path);
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.cfgpath = path;
	if ((srv.cur = load_state(path)) == NULL)
		return EX_CONFIG;
	rk_log_open("relaykit-milter",
	    fg ? RK_LOG_STDERR
	       : (enum rk_log_dest)srv.cur->cfg->log.destination,
	    (enum rk_log_level)srv.cur->cfg->log.level);
	metrics_init(&srv.m);
	{
		struct rk_redis_opts ro;

		/* redis settings take effect at start; a reload keeps them */
		rk_redis_opts_from_cfg(&ro, &srv.cur->cfg->redis);
		if ((srv.redis = rk_redis_pool_new(&ro, 16, &err)) == NULL)
			rk_log_fatalx("redis: %s", err.msg);
	}
	http = NULL;
	rc = milter_setup(srv.cur->cfg, &srv) != 0 ? EX_UNAVAILABLE : 0;
	if (rc == 0)
		http = http_start(&srv);
	if (rc == 0 && rk_daemon_drop(&srv.cur->cfg->daemon, &err) != 0) {
		rk_log_errorx("%s", err.msg);
		rc = EX_CONFIG;
	}
	if (rc == 0) {
		rk_daemon_notify("READY=1");
		rc = run(&srv);
	}
	rk_http_free(http);
	mlt_state_unref(srv.cur);
	rk_redis_pool_free(srv.redis);
	rk_metrics_free(srv.m.reg);
	pthread_mutex_destroy(&srv.lock);
	return rc;
}
