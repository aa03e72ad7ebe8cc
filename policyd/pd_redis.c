/* SPDX-License-Identifier: MIT */
/*
 * pd_redis: one asynchronous Redis connection (hiredis 0.14 async API on
 * the libevent adapter) that runs the rate-limit script.
 *
 * hiredis 0.14's async side has no connect or command timeout, so each
 * operation carries its own timer (redis.commandTimeout) and the connect
 * has one (redis.connectTimeout).  A connection counts as up only once
 * Redis has answered on it (AUTH, SELECT, then a PING), not when the TCP
 * handshake succeeds: a stopped or hung Redis still accepts connections
 * (the kernel does that), and counting those as up would make every
 * decision wait the command timeout.  A timeout, a dropped connection or
 * a refused connect fails every operation in flight at once and schedules
 * a reconnect after a backoff (100 ms doubling to 5 s, reset only by an
 * answer); while no connection is up, new operations fail at once (from
 * the loop), so a dead or hung Redis costs a decision nothing and is
 * never hammered.
 *
 * Sentinel mode (redis.sentinels): before each connect the sentinels are
 * asked in turn, asynchronously and each within redis.connectTimeout, for
 * the master's address; the server reached must answer ROLE as master
 * (instead of the PING).  A READONLY answer (the master was demoted by a
 * failover) fails that operation and drops the connection, so the next
 * connect asks the sentinels again.
 *
 * EVALSHA first; on NOSCRIPT (first use, Redis restarted, SCRIPT FLUSH)
 * the same operation is sent again as EVAL, which caches the script.
 *
 * Ownership: an op is freed by its hiredis callback (which hiredis calls
 * exactly once, with NULL when the context goes away) or, when it never
 * reached hiredis, by its own failure event.  The caller's callback runs
 * at most once; pd_redis_op_cancel detaches the caller.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_redis.h"
#include "policyd.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define MAX_ARGS       64

struct pd_redis {
	struct event_base *base;
	struct pd_metrics *m;
	redisAsyncContext *ac; /* NULL while down */
	bool connected;
	char *host, *unix_path, *username, *password, *prefix;
	int port, database;
	unsigned connect_ms, command_ms, backoff_ms;
	struct event *retry_ev;   /* reconnect after backoff */
	struct event *connect_ev; /* connect timeout */
	struct event *reset_ev;   /* drop the connection from the loop */
	char reset_why[600];      /* what reset_ev logs; "": a timeout */
	char where[300];          /* for logs: host:port, path, name@... */
	/* sentinel mode */
	struct rk_endpoint *sentinels; /* owned copy */
	size_t nsentinels, sfirst, sasked;
	char *master_name, *sentinel_username, *sentinel_password;
	redisAsyncContext *sac;    /* the sentinel being asked, or NULL */
	struct event *sentinel_ev; /* next step: ask on, or connect */
	struct event *stimer_ev;   /* the sentinel's time limit */
	bool sentinel_found;
	struct rk_redis_script script;
	struct rk_ratelimit log_rl;
	bool was_down;
};

struct pd_redis_op {
	struct pd_redis *r;
	pd_redis_cb *cb; /* NULL once answered or cancelled */
	void *arg;
	struct event *timer;
	uint64_t start_us;
	bool sent_eval; /* NOSCRIPT fallback done */
	bool queued;    /* in hiredis' hands: on_reply frees it */
	const struct rk_redis_script *script; /* borrowed: lives as long */
	size_t argc;
	char **argv; /* owned: [0] EVALSHA/EVAL, [1] sha/source, ... */
};

uint64_t
pd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
pd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void redis_connect(struct pd_redis *r);

static void
op_free(struct pd_redis_op *op)
{
	if (op->timer != NULL)
		event_free(op->timer);
	for (size_t i = 0; i < op->argc; i++)
		free(op->argv[i]);
	free(op->argv);
	free(op);
}

/* Answers the caller once. */
static void
op_answer(struct pd_redis_op *op, const redisReply *reply, const char *err)
{
	pd_redis_cb *cb = op->cb;

	if (cb == NULL)
		return;
	op->cb = NULL;
	if (op->timer != NULL)
		event_del(op->timer);
	if (err != NULL)
		rk_metric_inc(op->r->m->redis_errors, RK_LABELS(err));
	else
		rk_metric_observe(op->r->m->redis_latency,
		    (double)(pd_now_us() - op->start_us) / 1e6, NULL);
	cb(op->arg, reply, err);
}

static void
down_log(struct pd_redis *r, const char *what)
{
	unsigned long suppressed = 0;

	r->was_down = true;
	if (rk_ratelimit_allow(&r->log_rl, pd_now_ms(), &suppressed))
		rk_log_warnx("redis=%s status=down reason=\"%s\" "
		             "suppressed=%lu",
		    r->where, what, suppressed);
}

static void
schedule_retry(struct pd_redis *r)
{
	struct timeval tv = { r->backoff_ms / 1000,
		(r->backoff_ms % 1000) * 1000 };

	event_add(r->retry_ev, &tv);
	r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                                   : r->backoff_ms * 2;
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct pd_redis *r = ac->data;

	if (r == NULL || r->ac != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		event_del(r->connect_ev);
		r->ac = NULL;
		r->connected = false;
		down_log(r, ac->errstr);
		schedule_retry(r);
	}
	/* else the TCP handshake only: up once the PING is answered, and
	   connect_ev still bounds the wait */
}

static void redis_drop(struct pd_redis *r, const char *why);

/* The answer to the PING after AUTH and SELECT: now Redis is up. */
static void
on_ping(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct pd_redis *r = ac->data;
	const redisReply *rep = reply;

	(void)privdata;
	if (r == NULL || r->ac != ac)
		return;
	if (rep == NULL ||
	    (r->nsentinels == 0 && rep->type == REDIS_REPLY_ERROR)) {
		/* NOAUTH, WRONGPASS, a bad database: not usable */
		snprintf(r->reset_why, sizeof(r->reset_why), "%s",
		    rep != NULL ? rep->str : "no answer");
		event_active(r->reset_ev, 0, 0);
		return;
	}
	if (r->nsentinels > 0) {
		struct rk_err e;

		if (rk_redis_role_master(rep, &e) < 0) {
			snprintf(
			    r->reset_why, sizeof(r->reset_why), "%s", e.msg);
			event_active(r->reset_ev, 0, 0);
			return;
		}
	}
	event_del(r->connect_ev);
	r->connected = true;
	r->backoff_ms = BACKOFF_MIN_MS;
	if (r->was_down) {
		rk_log_info("redis=%s status=up", r->where);
		r->was_down = false;
	}
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct pd_redis *r = ac->data;

	if (r == NULL || r->ac != ac)
		return;
	r->ac = NULL;
	r->connected = false;
	if (status != REDIS_OK)
		down_log(r, ac->errstr);
	if (r->base != NULL)
		schedule_retry(r);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	redis_connect(arg);
}

/* Drops the connection: hiredis calls every pending callback with NULL. */
static void
redis_drop(struct pd_redis *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	if (ac == NULL)
		return;
	down_log(r, why);
	r->ac = NULL;
	r->connected = false;
	ac->data = NULL;
	event_del(r->connect_ev);
	redisAsyncFree(ac);
	schedule_retry(r);
}

static void
on_reset(evutil_socket_t fd, short what, void *arg)
{
	struct pd_redis *r = arg;
	char why[sizeof(r->reset_why)];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "%s",
	    r->reset_why[0] ? r->reset_why : "command timeout");
	r->reset_why[0] = '\0';
	redis_drop(r, why);
}

static void
on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	redis_drop(arg, "connect timeout");
}

static void
send_setup(struct pd_redis *r)
{
	const char *ping[1] = { "PING" };
	char db[16];

	if (r->password != NULL && r->password[0] != '\0') {
		const char *argv[3];
		int n = rk_redis_auth_argv(argv, r->username, r->password);

		redisAsyncCommandArgv(r->ac, NULL, NULL, n, argv, NULL);
	}
	if (r->database != 0) {
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", r->database);
		redisAsyncCommandArgv(r->ac, NULL, NULL, 2, argv, NULL);
	}
	if (r->nsentinels > 0)
		ping[0] = "ROLE";
	redisAsyncCommandArgv(r->ac, on_ping, NULL, 1, ping, NULL);
}

/* ------------------------------------------------------------- sentinels */

static void
set_where(struct pd_redis *r)
{
	rk_redis_format_where(r->where, sizeof(r->where), r->unix_path,
	    r->master_name, r->host, (unsigned)r->port);
}

static struct timeval
ms_tv(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* Ends the current question (from the loop, never inside hiredis). */
static void
sentinel_done(struct pd_redis *r, bool found)
{
	redisAsyncContext *sac = r->sac;

	r->sac = NULL;
	event_del(r->stimer_ev);
	if (sac != NULL) {
		sac->data = NULL;
		redisAsyncFree(sac); /* deferred by hiredis in its callbacks */
	}
	r->sentinel_found = found;
	event_active(r->sentinel_ev, 0, 0);
}

static void
on_sentinel_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct pd_redis *r = ac->data;
	char host[256];
	unsigned port;
	struct rk_err e;

	(void)privdata;
	if (r == NULL || r->sac != ac || reply == NULL)
		return; /* gone; the disconnect callback moves on */
	if (rk_redis_sentinel_addr(reply, host, sizeof(host), &port, &e) < 0) {
		rk_log_debug("redis sentinel=%zu: %s", r->sfirst, e.msg);
		sentinel_done(r, false);
		return;
	}
	free(r->host);
	r->host = rk_strdup(host);
	r->port = (int)port;
	set_where(r);
	sentinel_done(r, true);
}

static void
on_sentinel_gone(const redisAsyncContext *ac, int status)
{
	struct pd_redis *r = ac->data;

	(void)status;
	if (r == NULL || r->sac != ac)
		return;
	r->sac = NULL; /* hiredis frees it after this callback */
	sentinel_done(r, false);
}

static void
on_sentinel_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		on_sentinel_gone(ac, status);
}

static void
on_sentinel_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sentinel_done(arg, false);
}

static void master_connect(struct pd_redis *r);

/* Asks the next sentinel; after the last, Redis is down for a backoff. */
static void
sentinel_ask(struct pd_redis *r)
{
	const struct rk_endpoint *s;
	struct timeval tv = ms_tv(r->connect_ms);
	redisAsyncContext *ac;

	if (r->sasked == r->nsentinels) {
		char why[300];

		snprintf(why, sizeof(why), "no sentinel named master %s",
		    r->master_name);
		down_log(r, why);
		schedule_retry(r);
		return;
	}
	r->sfirst = (r->sfirst + (r->sasked > 0)) % r->nsentinels;
	s = &r->sentinels[r->sfirst];
	r->sasked++;
	ac = redisAsyncConnect(s->host, s->port);
	if (ac == NULL || ac->err ||
	    redisLibeventAttach(ac, r->base) != REDIS_OK) {
		if (ac != NULL)
			redisAsyncFree(ac);
		sentinel_done(r, false);
		return;
	}
	ac->data = r;
	r->sac = ac;
	redisAsyncSetConnectCallback(ac, on_sentinel_connect);
	redisAsyncSetDisconnectCallback(ac, on_sentinel_gone);
	event_add(r->stimer_ev, &tv);
	if (r->sentinel_password != NULL) {
		const char *a[3];
		int n = rk_redis_auth_argv(
		    a, r->sentinel_username, r->sentinel_password);

		redisAsyncCommandArgv(ac, NULL, NULL, n, a, NULL);
	}
	redisAsyncCommand(ac, on_sentinel_reply, NULL,
	    "SENTINEL get-master-addr-by-name %s", r->master_name);
}

/* The next step after a sentinel answered or failed. */
static void
on_sentinel_step(evutil_socket_t fd, short what, void *arg)
{
	struct pd_redis *r = arg;

	(void)fd;
	(void)what;
	if (r->sentinel_found)
		master_connect(r);
	else
		sentinel_ask(r);
}

static void
redis_connect(struct pd_redis *r)
{
	if (r->ac != NULL || r->sac != NULL)
		return;
	if (r->nsentinels == 0) {
		master_connect(r);
		return;
	}
	r->sasked = 0;
	sentinel_ask(r);
}

static void
master_connect(struct pd_redis *r)
{
	struct timeval tv = ms_tv(r->connect_ms);
	redisAsyncContext *ac;

	if (r->ac != NULL)
		return;
	ac = r->unix_path ? redisAsyncConnectUnix(r->unix_path)
	                  : redisAsyncConnect(r->host, r->port);
	if (ac == NULL || ac->err) {
		down_log(r, ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		schedule_retry(r);
		return;
	}
	ac->data = r;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		redisAsyncFree(ac);
		schedule_retry(r);
		return;
	}
	r->ac = ac;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	event_add(r->connect_ev, &tv);
	send_setup(r);
}

struct pd_redis *
pd_redis_new(struct event_base *base, const struct rk_cfg_redis *cfg,
    struct pd_metrics *m)
{
	struct pd_redis *r = rk_calloc(1, sizeof(*r));

	r->base = base;
	r->m = m;
	r->nsentinels = cfg->nsentinels;
	if (r->nsentinels > 0) {
		r->sentinels =
		    rk_reallocarray(NULL, r->nsentinels, sizeof(*r->sentinels));
		memcpy(r->sentinels, cfg->sentinels,
		    r->nsentinels * sizeof(*r->sentinels));
		r->master_name = rk_strdup(cfg->masterName);
		if (cfg->sentinelUsername != NULL)
			r->sentinel_username = rk_strdup(cfg->sentinelUsername);
		if (cfg->sentinelPassword != NULL)
			r->sentinel_password = rk_strdup(cfg->sentinelPassword);
	} else
		r->host = rk_strdup(cfg->host ? cfg->host : "127.0.0.1");
	if (r->nsentinels == 0 && cfg->socket != NULL && cfg->socket[0] != '\0')
		r->unix_path = rk_strdup(cfg->socket);
	if (cfg->username != NULL)
		r->username = rk_strdup(cfg->username);
	if (cfg->password != NULL)
		r->password = rk_strdup(cfg->password);
	r->prefix = rk_strdup(cfg->keyPrefix ? cfg->keyPrefix : "");
	r->port = (int)cfg->port;
	r->database = (int)cfg->database;
	r->connect_ms =
	    cfg->connectTimeout ? (unsigned)cfg->connectTimeout : 1000;
	r->command_ms =
	    cfg->commandTimeout ? (unsigned)cfg->commandTimeout : 500;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->retry_ev = evtimer_new(base, on_retry, r);
	r->connect_ev = evtimer_new(base, on_connect_timeout, r);
	r->reset_ev = event_new(base, -1, 0, on_reset, r);
	r->sentinel_ev = event_new(base, -1, 0, on_sentinel_step, r);
	r->stimer_ev = evtimer_new(base, on_sentinel_timeout, r);
	set_where(r);
	rk_redis_script_init(&r->script, pd_ratelimit_lua);
	rk_ratelimit_init(&r->log_rl, 60000);
	redis_connect(r);
	return r;
}

void
pd_redis_free(struct pd_redis *r)
{
	if (r == NULL)
		return;
	if (r->ac != NULL) {
		redisAsyncContext *ac = r->ac;

		r->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	if (r->sac != NULL) {
		redisAsyncContext *sac = r->sac;

		r->sac = NULL;
		sac->data = NULL;
		redisAsyncFree(sac);
	}
	event_free(r->retry_ev);
	event_free(r->connect_ev);
	event_free(r->reset_ev);
	event_free(r->sentinel_ev);
	event_free(r->stimer_ev);
	free(r->host);
	free(r->unix_path);
	free(r->username);
	free(r->master_name);
	free(r->sentinels);
	free(r->sentinel_username);
	rk_free_secret(r->sentinel_password);
	rk_free_secret(r->password);
	free(r->prefix);
	free(r);
}

const char *
pd_redis_prefix(const struct pd_redis *r)
{
	return r->prefix;
}

bool
pd_redis_up(const struct pd_redis *r)
{
	return r->connected;
}

static bool
is_noscript(const redisReply *rep)
{
	return rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

static int op_send(struct pd_redis_op *op);

static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct pd_redis_op *op = privdata;
	redisReply *rep = reply;

	op->queued = false;
	if (is_noscript(rep) && !op->sent_eval && op->cb != NULL) {
		op->sent_eval = true;
		free(op->argv[0]);
		free(op->argv[1]);
		op->argv[0] = rk_strdup("EVAL");
		op->argv[1] = rk_strdup(op->script->source);
		if (op_send(op) == 0)
			return;
		op_answer(op, NULL, "connection");
		op_free(op);
		return;
	}
	if (rep == NULL)
		op_answer(op, NULL, "connection");
	else if (rk_redis_reply_readonly(rep)) {
		op_answer(op, NULL, "readonly");
		if (op->r->ac == ac) {
			snprintf(op->r->reset_why, sizeof(op->r->reset_why),
			    "%s", "not the master any more (READONLY)");
			event_active(op->r->reset_ev, 0, 0);
		}
	} else if (rep->type == REDIS_REPLY_ERROR) {
		rk_log_warnx("redis script error: %s", rep->str);
		op_answer(op, NULL, "reply");
	} else
		op_answer(op, rep, NULL);
	op_free(op);
}

static int
op_send(struct pd_redis_op *op)
{
	struct pd_redis *r = op->r;
	const char *argv[MAX_ARGS];

	if (r->ac == NULL)
		return -1;
	for (size_t i = 0; i < op->argc; i++)
		argv[i] = op->argv[i];
	op->queued = redisAsyncCommandArgv(r->ac, on_reply, op, (int)op->argc,
	                 argv, NULL) == REDIS_OK;
	return op->queued ? 0 : -1;
}

static void
on_op_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pd_redis_op *op = arg;
	struct pd_redis *r = op->r;

	(void)fd;
	if (what & EV_TIMEOUT) {
		/* In hiredis' hands: answer now, free in on_reply. */
		op_answer(op, NULL, "timeout");
		if (r->ac != NULL)
			event_active(r->reset_ev, 0, 0);
		return;
	}
	/* Never reached hiredis: Redis is down. */
	op_answer(op, NULL, "down");
	op_free(op);
}

struct pd_redis_op *
pd_redis_eval(struct pd_redis *r, size_t nkeys, const char *const *keys,
    size_t nargs, const char *const *args, pd_redis_cb *cb, void *arg)
{
	return pd_redis_eval_script(
	    r, &r->script, nkeys, keys, nargs, args, cb, arg);
}

struct pd_redis_op *
pd_redis_eval_script(struct pd_redis *r, const struct rk_redis_script *s,
    size_t nkeys, const char *const *keys, size_t nargs,
    const char *const *args, pd_redis_cb *cb, void *arg)
{
	struct pd_redis_op *op = rk_calloc(1, sizeof(*op));
	struct timeval tv = { r->command_ms / 1000,
		(r->command_ms % 1000) * 1000 };
	char n[24];
	size_t i = 0;

	if (nkeys + nargs + 3 > MAX_ARGS)
		rk_panic("pd_redis_eval: %zu arguments", nkeys + nargs);
	op->r = r;
	op->cb = cb;
	op->arg = arg;
	op->start_us = pd_now_us();
	op->argc = 3 + nkeys + nargs;
	op->argv = rk_calloc(op->argc, sizeof(*op->argv));
	op->script = s;
	op->sent_eval = s->sha1[0] == '\0';
	op->argv[i++] = rk_strdup(op->sent_eval ? "EVAL" : "EVALSHA");
	op->argv[i++] = rk_strdup(op->sent_eval ? s->source : s->sha1);
	snprintf(n, sizeof(n), "%zu", nkeys);
	op->argv[i++] = rk_strdup(n);
	for (size_t k = 0; k < nkeys; k++)
		op->argv[i++] = rk_strdup(keys[k]);
	for (size_t k = 0; k < nargs; k++)
		op->argv[i++] = rk_strdup(args[k]);
	op->timer = evtimer_new(r->base, on_op_timer, op);
	if (!r->connected || op_send(op) != 0) {
		/* Fail from the loop, so the caller's state is settled. */
		event_active(op->timer, EV_READ, 0);
		return op;
	}
	event_add(op->timer, &tv);
	return op;
}

void
pd_redis_op_cancel(struct pd_redis_op *op)
{
	if (op == NULL)
		return;
	op->cb = NULL;
	event_del(op->timer);
	/* Never reached hiredis: its pending failure event was the only
	   owner, and event_del stopped it. */
	if (!op->queued)
		op_free(op);
}
