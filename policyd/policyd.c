/* SPDX-License-Identifier: MIT */
/*
 * relaykit-policyd: Postfix policy delegation service (check_policy_service)
 * with Redis-backed rate limits and auth-sender rules, Postfix's SASL
 * server (Dovecot protocol) and the PROXY gate.
 *
 * main: options, config, logging, signals, wiring.  main opens every
 * listening socket, then rk_supervise runs the work in a child process
 * and starts a new one at once if it dies: the sockets stay open, so
 * smtpd never sees "connection refused" (for SASL that would make smtpd
 * exit and Postfix throttle the service for a minute).  The child is one
 * libevent loop, no threads but the password hashers'.  SIGHUP loads the
 * config again (in the parent too, so a restarted child starts from it)
 * and swaps in the new rules (connections stay open; listeners, Redis and
 * metrics endpoints keep their startup values); SIGTERM and SIGINT stop
 * the loop and free everything.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "rk_cfg.h"
#include "rk_http.h"
#include "rk_daemon.h"
#include "rk_listen.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_process.h"
#include "rk_supervise.h"
#include "policyd.h"
#include "pd_sasl.h"
#include "pd_sockmap.h"

#define PROG "relaykit-policyd"

struct pd_main {
	struct pd_ctx ctx;
	struct pd_server *server;
	struct pd_sasl_server *sasl;
	struct pd_gate *gate;
	struct pd_pace *pace;
	struct pd_sm_server *sockmap;
	struct rk_http *http;
	const char *path;
	bool foreground;
	struct rk_cfg *cfg; /* the parent's: what a new child starts with */
	struct rk_listen_set lset; /* every listening socket, the parent's */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " [-fnV] [-c FILE]\n"
	    "       " PROG " --hash < password\n"
	    "       " PROG " [-c FILE] --pacing\n"
	    "  -c FILE  configuration (default " RK_CFG_DEFAULT_PATH ")\n"
	    "  -n       check the configuration, print \"configuration OK\"\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "  -f       log to standard error instead of the configured "
	    "destination\n"
	    "  -V, --version  print the version\n"
	    "  --hash   print a crypt(3) hash (yescrypt) of the password on "
	    "standard input,\n"
	    "           for auth.users or auth.usersFile\n"
	    "  --pacing print each paced destination's delay, transport and "
	    "warm-up use\n"
	    "  -h       this help\n");
}

static struct rk_cfg *
load(const char *path)
{
	return rk_cfg_load_logged(
	    path, RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_AUTH);
}

static void
apply_log(const struct pd_main *m, const struct rk_cfg *cfg)
{
	rk_log_open(PROG,
	    m->foreground ? RK_LOG_STDERR
	                  : (enum rk_log_dest)cfg->log.destination,
	    (enum rk_log_level)cfg->log.level);
}

static bool
str_differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

/* What a reload cannot change: say so rather than ignore it silently. */
static void
warn_restart_keys(const struct rk_cfg *old, const struct rk_cfg *cfg)
{
	const struct rk_cfg_policyd *a = &old->policyd, *b = &cfg->policyd;
	const struct rk_cfg_redis *ra = &old->redis, *rb = &cfg->redis;
	bool listen = a->nlisten != b->nlisten;

	for (size_t i = 0; !listen && i < a->nlisten; i++) {
		char x[400], y[400];

		rk_endpoint_format(&a->listen[i], x, sizeof(x));
		rk_endpoint_format(&b->listen[i], y, sizeof(y));
		listen = strcmp(x, y) != 0;
	}
	if (listen)
		rk_log_warnx(
		    "reload: policyd.listen changed; restart to apply");
	if (str_differs(ra->host, rb->host) || ra->port != rb->port ||
	    str_differs(ra->socket, rb->socket) ||
	    str_differs(ra->password, rb->password) ||
	    ra->database != rb->database ||
	    str_differs(ra->keyPrefix, rb->keyPrefix) ||
	    ra->connectTimeout != rb->connectTimeout ||
	    ra->commandTimeout != rb->commandTimeout)
		rk_log_warnx(
		    "reload: redis settings changed; restart to apply");
	if (old->metrics.enabled != cfg->metrics.enabled ||
	    str_differs(old->metrics.address, cfg->metrics.address) ||
	    old->metrics.policydPort != cfg->metrics.policydPort)
		rk_log_warnx("reload: metrics listener changed; restart to "
		             "apply");
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct pd_main *m = arg;
	struct rk_cfg *cfg;
	struct pd_state *st;
	struct rk_err err;
	bool old_auth;

	(void)sig;
	(void)what;
	if ((cfg = load(m->path)) == NULL) {
		rk_log_warnx(
		    "reload failed: keeping the running configuration");
		rk_metric_inc(m->ctx.metrics.reloads, RK_LABELS("failed"));
		rk_process_reloaded(m->ctx.metrics.proc, false);
		return;
	}
	if ((st = pd_state_new(cfg, &err)) == NULL) {
		rk_log_warnx("reload failed: %s", err.msg);
		rk_cfg_unref(cfg);
		rk_metric_inc(m->ctx.metrics.reloads, RK_LABELS("failed"));
		rk_process_reloaded(m->ctx.metrics.proc, false);
		return;
	}
	old_auth = m->ctx.state->cfg->auth.enabled;
	warn_restart_keys(m->ctx.state->cfg, cfg);
	pd_state_unref(m->ctx.state);
	m->ctx.state = st;
	rk_log_set_level((enum rk_log_level)cfg->log.level);
	rk_metric_inc(m->ctx.metrics.reloads, RK_LABELS("ok"));
	rk_process_reloaded(m->ctx.metrics.proc, true);
	pd_metrics_rules(&m->ctx.metrics, cfg);
	if (cfg->auth.enabled != old_auth)
		rk_log_warnx("reload: auth.enabled changed; restart to apply");
	if ((m->pace != NULL) != cfg->adaptiveRate.enabled)
		rk_log_warnx(
		    "reload: adaptiveRate.enabled changed; restart to apply");
	if (m->pace != NULL)
		pd_pace_reload(m->pace);
	rk_log_info("reloaded %s: %zu rate-limit rules, %zu users", m->path,
	    st->nrules, st->nusers);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct pd_main *m = arg;

	(void)what;
	rk_log_info("signal %d: exiting", (int)sig);
	event_base_loopexit(m->ctx.base, NULL);
}

/* Room for policyd.maxConnections descriptors, as far as allowed. */
static void
raise_nofile(int64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur >= (rlim_t)want + 64)
		return;
	rl.rlim_cur = (rlim_t)want + 64;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

static void free_sockets(struct pd_sockets *sk);

/* The child: the loop, on the sockets main opened. */
static int
run(void *arg)
{
	struct pd_main *m = arg;
	struct rk_cfg *cfg = rk_cfg_ref(m->cfg);
	struct pd_ctx *ctx = &m->ctx;
	struct event *sig[3];
	struct rk_err err;
	int status = 0;
	char host[32];

	if ((ctx->state = pd_state_new(cfg, &err)) == NULL) {
		rk_cfg_unref(cfg);
		rk_log_warnx("%s", err.msg);
		free_sockets(&ctx->sockets);
		rk_listen_set_forget(&m->lset);
		rk_cfg_unref(m->cfg);
		return EX_CONFIG;
	}
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "host");
	host[sizeof(host) - 1] = '\0';
	snprintf(
	    ctx->host_id, sizeof(ctx->host_id), "%s:%ld", host, (long)getpid());
	rk_ratelimit_init(&ctx->fail_log, 60000);
	rk_ratelimit_init(&ctx->decision_log, PD_EVENT_LOG_MS);
	rk_ratelimit_init(&ctx->timeout_log, PD_EVENT_LOG_MS);
	raise_nofile(cfg->policyd.maxConnections);
	ctx->base = event_base_new();
	if (ctx->base == NULL)
		rk_log_fatalx("event_base_new failed");
	pd_metrics_init(&ctx->metrics);
	ctx->redis = pd_redis_new(ctx->base, &cfg->redis, &ctx->metrics);
	if ((m->server = pd_server_new(ctx, &err)) == NULL) {
		rk_log_errorx("cannot listen: %s", err.msg);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (ctx->sockets.gate.n > 0 &&
	    (m->gate = pd_gate_new(ctx, &err)) == NULL) {
		rk_log_errorx("cannot start the PROXY gate: %s", err.msg);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (cfg->auth.enabled) {
		ctx->crypt = pd_crypt_pool_new(ctx->base);
		rk_ratelimit_init(&ctx->lockout_log, 60000);
		if ((m->sasl = pd_sasl_server_new(ctx, &err)) == NULL) {
			rk_log_errorx("cannot listen for SASL: %s", err.msg);
			status = EX_UNAVAILABLE;
			goto out;
		}
	}
	if (ctx->sockets.sockmap.n > 0 &&
	    ((m->pace = pd_pace_new(ctx, &err)) == NULL ||
	        (m->sockmap = pd_sm_server_new(ctx, m->pace, &err)) == NULL)) {
		rk_log_errorx("cannot serve the pacing table: %s", err.msg);
		status = EX_UNAVAILABLE;
		goto out;
	}
	pd_metrics_rules(&ctx->metrics, cfg);
	if (cfg->metrics.enabled &&
	    (m->http = rk_http_new(ctx->base, cfg->metrics.address,
	         (unsigned)cfg->metrics.policydPort, &err)) == NULL) {
		rk_log_errorx("%s", err.msg);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (m->http != NULL) /* ready once serving: every listener is up */
		rk_http_metrics(m->http, ctx->metrics.reg);
	sig[0] = evsignal_new(ctx->base, SIGHUP, on_hup, m);
	sig[1] = evsignal_new(ctx->base, SIGTERM, on_term, m);
	sig[2] = evsignal_new(ctx->base, SIGINT, on_term, m);
	for (int i = 0; i < 3; i++)
		event_add(sig[i], NULL);
	rk_log_info("started: %zu listeners, %zu SASL listeners, %zu PROXY "
	            "gates, %zu socketmap listeners, %zu rate-limit rules, %zu "
	            "users, redis prefix \"%s\"",
	    ctx->sockets.policy.n, ctx->sockets.sasl.n, ctx->sockets.gate.n,
	    ctx->sockets.sockmap.n, ctx->state->nrules, ctx->state->nusers,
	    pd_redis_prefix(ctx->redis));
	event_base_dispatch(ctx->base);
	for (int i = 0; i < 3; i++)
		event_free(sig[i]);
out:
	pd_sm_server_free(m->sockmap);
	pd_gate_free(m->gate);
	pd_sasl_server_free(m->sasl);
	pd_crypt_pool_free(ctx->crypt);
	pd_server_free(m->server);
	rk_http_free(m->http);
	pd_redis_free(ctx->redis);
	pd_pace_free(m->pace); /* after Redis: its replies name it */
	pd_state_unref(ctx->state);
	pd_metrics_fini(&ctx->metrics);
	event_base_free(ctx->base);
	free_sockets(&ctx->sockets);
	rk_listen_set_forget(&m->lset); /* the parent's to close */
	rk_cfg_unref(m->cfg);
	return status;
}

/* SIGHUP in the parent: the config a restarted child will start from. */
static void
reload_parent(void *arg)
{
	struct pd_main *m = arg;
	struct rk_cfg *cfg = load(m->path);

	if (cfg == NULL)
		return; /* the child says so, and keeps its own */
	rk_cfg_unref(m->cfg);
	m->cfg = cfg;
}

static void
add_fd(struct pd_fds *f, int fd)
{
	f->fd = rk_reallocarray(f->fd, f->n + 1, sizeof(*f->fd));
	f->fd[f->n++] = fd;
}

static int
open_kind(struct pd_main *m, struct pd_fds *f, const struct rk_endpoint *eps,
    size_t n, struct rk_err *err)
{
	struct rk_listen_perm perm;

	if (rk_daemon_perm(&m->cfg->daemon, &perm, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int fd = rk_listen_open(&m->lset, &eps[i], &perm, err);

		if (fd < 0)
			return -1;
		add_fd(f, fd);
	}
	return 0;
}

/* The public side of each PROXY listener (see pd_gate.c). */
static int
open_gates(struct pd_main *m, struct pd_sockets *sk, struct rk_err *err)
{
	const struct rk_cfg_mail *mail = &m->cfg->mail;

	for (size_t i = 0; i < mail->nlisteners; i++) {
		const struct rk_cfg_listener *l = &mail->listeners[i];
		struct rk_endpoint ep = { .kind = RK_EP_INET };

		if (!l->proxyProtocol)
			continue;
		snprintf(ep.host, sizeof(ep.host), "%s", l->address);
		ep.port = (uint16_t)l->port;
		if (open_kind(m, &sk->gate, &ep, 1, err) != 0)
			return -1;
		sk->gate_backend = rk_reallocarray(
		    sk->gate_backend, sk->gate.n, sizeof(*sk->gate_backend));
		sk->gate_backend[sk->gate.n - 1] = (uint16_t)l->backendPort;
	}
	return 0;
}

static int
open_sockets(struct pd_main *m, struct rk_err *err)
{
	const struct rk_cfg_policyd *p = &m->cfg->policyd;
	struct pd_sockets *sk = &m->ctx.sockets;

	if (open_kind(m, &sk->policy, p->listen, p->nlisten, err) != 0)
		return -1;
	if (m->cfg->auth.enabled &&
	    open_kind(m, &sk->sasl, p->saslListen, p->nsaslListen, err) != 0)
		return -1;
	if (m->cfg->adaptiveRate.enabled &&
	    open_kind(m, &sk->sockmap, p->socketmapListen, p->nsocketmapListen,
	        err) != 0)
		return -1;
	return open_gates(m, sk, err);
}

static void
free_sockets(struct pd_sockets *sk)
{
	free(sk->policy.fd);
	free(sk->sasl.fd);
	free(sk->sockmap.fd);
	free(sk->gate.fd);
	free(sk->gate_backend);
	memset(sk, 0, sizeof(*sk));
}

/* Opens the sockets, then keeps a child serving on them. */
static int
serve(struct pd_main *m)
{
	struct rk_supervisor sv = { PROG, run, reload_parent, m };
	struct rk_err err;
	int status;

	if (open_sockets(m, &err) != 0) {
		rk_log_errorx("cannot listen: %s", err.msg);
		status = EX_UNAVAILABLE;
	} else if (rk_daemon_drop(&m->cfg->daemon, &err) != 0) {
		rk_log_errorx("%s", err.msg);
		status = EX_CONFIG;
	} else {
		status = rk_supervise(&sv);
	}
	rk_listen_set_close(&m->lset);
	free_sockets(&m->ctx.sockets);
	rk_cfg_unref(m->cfg);
	return status;
}

int
main(int argc, char **argv)
{
	struct pd_main m;
	struct rk_cfg *cfg;
	bool check = false;
	int ch;

	memset(&m, 0, sizeof(m));
	m.path = RK_CFG_DEFAULT_PATH;
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--hash") == 0)
		return pd_hash_main(stdin, stdout, stderr);
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--pacing") == 0) {
			const char *path = RK_CFG_DEFAULT_PATH;

			if (argc == 4 && i == 3 && strcmp(argv[1], "-c") == 0)
				path = argv[2];
			else if (argc != 2) {
				usage(stderr);
				return EX_USAGE;
			}
			return pd_pace_status(path, stdout, stderr);
		}
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while (
	    (ch = getopt_long(argc, argv, "c:fhnVv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			m.path = optarg;
			break;
		case 'f':
			m.foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf(PROG " %s\n", PACKAGE_VERSION);
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
	if (check)
		return rk_cfg_check_main(m.path, stdout, stderr);
	rk_log_open(PROG, RK_LOG_STDERR, RK_LOG_INFO);
	if ((cfg = load(m.path)) == NULL)
		return EX_CONFIG;
	apply_log(&m, cfg);
	signal(SIGPIPE, SIG_IGN);
	m.cfg = cfg;
	return serve(&m);
}
