/* SPDX-License-Identifier: MIT */
/*
 * rk_redis: lazy connect, backoff, rate-limited outage logs, EVALSHA.
 *
 * State: ctx is NULL while disconnected.  retry_at is the clock reading
 * before which no connection is attempted; delay_ms is what the next
 * failure adds to it.  Every failure (a connect, AUTH or SELECT that fails,
 * a command without reply) closes the connection, pushes retry_at out by
 * delay_ms and doubles delay_ms up to the maximum.  The first reply on a
 * connection resets delay_ms: a server that accepts connections but times
 * out every command still backs off.
 *
 * Sentinel mode: host and port are the master's last known address,
 * replaced at each connect by what a sentinel answers; where names the
 * master and that address, in a fixed buffer so the pointer handed out
 * stays valid.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_cfg.h"
#include "rk_redis.h"
#include "rk_str.h"

#define DEFAULT_HOST            "127.0.0.1"
#define DEFAULT_PORT            6379
#define DEFAULT_TIMEOUT_MS      1000
#define DEFAULT_BACKOFF_MIN_MS  100
#define DEFAULT_BACKOFF_MAX_MS  5000
#define DEFAULT_LOG_INTERVAL_MS 60000
/* Longer than any sane timeout; keeps timeval and sum arithmetic small. */
#define MAX_MS (24u * 3600 * 1000)

struct rk_redis {
	redisContext *ctx; /* owned; NULL while disconnected */
	char *host;        /* owned; NULL when unix_path is used */
	unsigned port;
	char *unix_path;               /* owned or NULL */
	char *username;                /* owned or NULL */
	char *password;                /* owned secret or NULL; wiped on free */
	struct rk_endpoint *sentinels; /* owned copy; nsentinels of them */
	size_t nsentinels, sfirst;     /* sfirst: the one to ask first */
	char *master_name;             /* owned; sentinel mode */
	char *sentinel_username;       /* owned or NULL */
	char *sentinel_password;       /* owned secret or NULL */
	unsigned database;
	unsigned connect_timeout_ms, command_timeout_ms;
	unsigned backoff_min_ms, backoff_max_ms;
	char *prefix;    /* owned */
	char where[400]; /* "host:port", "unix:/path" or "name@host:port" */
	rk_redis_clock_fn *clock;
	void *clock_arg;            /* borrowed */
	uint64_t retry_at;          /* no attempt before this */
	uint64_t delay_ms;          /* what the next failure waits */
	char reason[256];           /* why the last failure happened */
	struct rk_ratelimit log_rl; /* outage lines */
	bool down_logged;           /* an outage line awaits its recovery */
	struct rk_redis_stats stats;
};

/* -------------------------------------------------------------- options */

static uint64_t
clock_monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		rk_panic("clock_gettime(CLOCK_MONOTONIC) failed");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
now_ms(const struct rk_redis *r)
{
	return r->clock(r->clock_arg);
}

static unsigned
or_default(unsigned v, unsigned def)
{
	return v != 0 ? v : def;
}

static int
opts_check(const struct rk_redis_opts *o, struct rk_err *err)
{
	bool unix_sock = o->unix_path != NULL && o->unix_path[0] != '\0';
	unsigned bmin = or_default(o->backoff_min_ms, DEFAULT_BACKOFF_MIN_MS);
	unsigned bmax = or_default(o->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);

	if (unix_sock &&
	    strlen(o->unix_path) >=
	        sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return rk_err_set(
		    err, "redis: socket path too long: %s", o->unix_path);
	if (o->nsentinels > 0 &&
	    (o->master_name == NULL || o->master_name[0] == '\0'))
		return rk_err_set(err, "redis: sentinels need a master name");
	for (size_t i = 0; i < o->nsentinels; i++)
		if (o->sentinels[i].kind != RK_EP_INET)
			return rk_err_set(
			    err, "redis: a sentinel is host:port");
	if (!unix_sock && o->host != NULL && o->host[0] == '\0')
		return rk_err_set(err, "redis: empty host");
	if (!unix_sock && o->port > 65535)
		return rk_err_set(err, "redis: port %u out of range", o->port);
	if (o->database > INT_MAX)
		return rk_err_set(
		    err, "redis: database %u out of range", o->database);
	if (o->connect_timeout_ms > MAX_MS || o->command_timeout_ms > MAX_MS ||
	    bmax > MAX_MS || o->log_interval_ms > MAX_MS)
		return rk_err_set(
		    err, "redis: a timeout exceeds %u ms", MAX_MS);
	if (bmin > bmax)
		return rk_err_set(err,
		    "redis: backoff minimum %u ms above maximum %u ms", bmin,
		    bmax);
	return 0;
}

static void
redis_set_where(struct rk_redis *r)
{
	rk_redis_format_where(r->where, sizeof(r->where), r->unix_path,
	    r->master_name, r->host, r->port);
}

static char *
strdup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? rk_strdup(s) : NULL;
}

static void
opts_copy_sentinels(struct rk_redis *r, const struct rk_redis_opts *o)
{
	if (o->nsentinels == 0)
		return;
	r->sentinels =
	    rk_reallocarray(NULL, o->nsentinels, sizeof(*o->sentinels));
	memcpy(
	    r->sentinels, o->sentinels, o->nsentinels * sizeof(*o->sentinels));
	r->nsentinels = o->nsentinels;
	r->master_name = rk_strdup(o->master_name);
	r->sentinel_username = strdup_or_null(o->sentinel_username);
	r->sentinel_password = strdup_or_null(o->sentinel_password);
}

struct rk_redis *
rk_redis_new(const struct rk_redis_opts *o, struct rk_err *err)
{
	struct rk_redis *r;

	if (opts_check(o, err) < 0)
		return NULL;
	r = rk_calloc(1, sizeof(*r));
	opts_copy_sentinels(r, o);
	if (r->nsentinels > 0)
		r->host = NULL; /* until a sentinel names the master */
	else if (o->unix_path != NULL && o->unix_path[0] != '\0')
		r->unix_path = rk_strdup(o->unix_path);
	else
		r->host = rk_strdup(o->host ? o->host : DEFAULT_HOST);
	r->port = or_default(o->port, DEFAULT_PORT);
	r->username = strdup_or_null(o->username);
	r->password = strdup_or_null(o->password);
	r->database = o->database;
	r->connect_timeout_ms =
	    or_default(o->connect_timeout_ms, DEFAULT_TIMEOUT_MS);
	r->command_timeout_ms =
	    or_default(o->command_timeout_ms, DEFAULT_TIMEOUT_MS);
	r->backoff_min_ms =
	    or_default(o->backoff_min_ms, DEFAULT_BACKOFF_MIN_MS);
	r->backoff_max_ms =
	    or_default(o->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
	r->prefix = rk_strdup(o->prefix ? o->prefix : "");
	r->clock = o->clock ? o->clock : clock_monotonic_ms;
	r->clock_arg = o->clock_arg;
	r->delay_ms = r->backoff_min_ms;
	rk_ratelimit_init(&r->log_rl,
	    or_default(o->log_interval_ms, DEFAULT_LOG_INTERVAL_MS));
	redis_set_where(r);
	return r;
}

static void
conn_close(struct rk_redis *r)
{
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
}

void
rk_redis_free(struct rk_redis *r)
{
	if (r == NULL)
		return;
	conn_close(r);
	rk_free_secret(r->password);
	rk_free_secret(r->sentinel_password);
	free(r->username);
	free(r->sentinel_username);
	free(r->master_name);
	free(r->sentinels);
	free(r->host);
	free(r->unix_path);
	free(r->prefix);
	free(r);
}

/* ---------------------------------------------------- failure handling */

static void set_reason(struct rk_redis *r, const char *fmt, ...)
    RK_PRINTF(2, 3);

static void
set_reason(struct rk_redis *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

/* Why c gave no reply; errnum is errno as hiredis left it. */
static void
set_io_reason(
    struct rk_redis *r, const redisContext *c, const char *what, int errnum)
{
	if (c->err == REDIS_ERR_IO &&
	    (errnum == EAGAIN || errnum == EWOULDBLOCK))
		set_reason(r, "%s: timed out after %u ms", what,
		    r->command_timeout_ms);
	else
		set_reason(r, "%s: %s", what,
		    c->errstr[0] ? c->errstr : "connection failed");
}

/* Closes, backs off, logs (rate-limited); returns -1 with err filled. */
static int
conn_fail(struct rk_redis *r, struct rk_err *err)
{
	uint64_t now = now_ms(r);
	unsigned long suppressed;
	char q[300];

	conn_close(r);
	r->retry_at = now + r->delay_ms;
	r->delay_ms = r->delay_ms * 2 < r->backoff_max_ms ? r->delay_ms * 2
	                                                  : r->backoff_max_ms;
	if (rk_ratelimit_allow(&r->log_rl, now, &suppressed)) {
		rk_log_warnx("redis=%s action=down reason=%s retry_ms=%llu "
		             "suppressed=%lu",
		    r->where, rk_log_quote(q, sizeof(q), r->reason),
		    (unsigned long long)(r->retry_at - now), suppressed);
		r->down_logged = true;
	}
	return rk_err_set(err, "redis %s: %s", r->where, r->reason);
}

/* A reply arrived: the server works, so the next outage starts afresh. */
static void
conn_ok(struct rk_redis *r)
{
	r->delay_ms = r->backoff_min_ms;
	if (r->down_logged) {
		rk_log_info("redis=%s action=up", r->where);
		r->down_logged = false;
	}
}

/* ----------------------------------------------------------- connecting */

static struct timeval
ms_to_tv(unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* A connected context with the command timeout set, or NULL. */
static redisContext *
conn_open(struct rk_redis *r, const char *host, unsigned port)
{
	struct timeval tv = ms_to_tv(r->connect_timeout_ms);
	redisContext *c;

	if (r->unix_path != NULL)
		c = redisConnectUnixWithTimeout(r->unix_path, tv);
	else
		c = redisConnectWithTimeout(host, (int)port, tv);
	if (c == NULL)
		rk_panic("redis: out of memory allocating a context");
	if (c->err != 0) {
		set_reason(r, "connect %s: %s",
		    r->unix_path ? r->unix_path : host, c->errstr);
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, ms_to_tv(r->command_timeout_ms)) != REDIS_OK) {
		set_reason(r, "set timeout: %s", c->errstr);
		redisFree(c);
		return NULL;
	}
	/* Finds a peer that vanished without a FIN; a failure costs nothing. */
	if (r->unix_path == NULL && redisEnableKeepAlive(c) != REDIS_OK)
		rk_log_debug("redis=%s action=keepalive_failed", r->where);
	return c;
}

/* Runs AUTH or SELECT on a new connection; an error reply is a failure. */
static int
conn_setup_cmd(struct rk_redis *r, redisContext *c, const char *what, int argc,
    const char **argv)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
	int errnum = errno;

	if (rep == NULL) {
		set_io_reason(r, c, what, errnum);
		return -1;
	}
	if (rep->type != REDIS_REPLY_ERROR) {
		freeReplyObject(rep);
		return 0;
	}
	if (strncmp(rep->str, "NOAUTH", 6) == 0)
		set_reason(r,
		    "%s: server requires a password; none configured (%s)",
		    what, rep->str);
	else if (strcmp(what, "AUTH") == 0)
		set_reason(r, "authentication failed: %s", rep->str);
	else
		set_reason(r, "%s: %s", what, rep->str);
	freeReplyObject(rep);
	return -1;
}

/* Sentinel mode: the server reached must still be the master. */
static int
conn_check_role(struct rk_redis *r, redisContext *c)
{
	redisReply *rep = redisCommand(c, "ROLE");
	int errnum = errno;
	struct rk_err e;
	int rc;

	if (rep == NULL) {
		set_io_reason(r, c, "ROLE", errnum);
		return -1;
	}
	rc = rk_redis_role_master(rep, &e);
	if (rc < 0)
		set_reason(r, "%s", e.msg);
	freeReplyObject(rep);
	return rc;
}

/* Asks one sentinel for the master's address; 0 or -1 (reason set). */
static int
sentinel_ask(struct rk_redis *r, const struct rk_endpoint *s)
{
	redisContext *c = conn_open(r, s->host, s->port);
	redisReply *rep;
	char host[256];
	unsigned port;
	struct rk_err e;
	int errnum, rc = -1;

	if (c == NULL)
		return -1;
	if (r->sentinel_password != NULL) {
		const char *auth[3];
		int n = rk_redis_auth_argv(
		    auth, r->sentinel_username, r->sentinel_password);

		if (conn_setup_cmd(r, c, "AUTH", n, auth) < 0)
			goto out;
	}
	rep = redisCommand(
	    c, "SENTINEL get-master-addr-by-name %s", r->master_name);
	errnum = errno;
	if (rep == NULL) {
		set_io_reason(r, c, "SENTINEL", errnum);
		goto out;
	}
	rc = rk_redis_sentinel_addr(rep, host, sizeof(host), &port, &e);
	freeReplyObject(rep);
	if (rc < 0) {
		set_reason(r, "%s", e.msg);
		goto out;
	}
	free(r->host);
	r->host = rk_strdup(host);
	r->port = port;
	redis_set_where(r);
out:
	redisFree(c);
	return rc;
}

/* Sentinel mode: finds the master, asking each sentinel in turn. */
static int
sentinel_resolve(struct rk_redis *r)
{
	char last[sizeof(r->reason)];

	for (size_t i = 0; i < r->nsentinels; i++) {
		size_t k = (r->sfirst + i) % r->nsentinels;
		const struct rk_endpoint *s = &r->sentinels[k];

		if (sentinel_ask(r, s) == 0) {
			r->sfirst = k;
			return 0;
		}
		snprintf(last, sizeof(last), "%s", r->reason);
		set_reason(r, "sentinel %s:%u: %s", s->host, s->port, last);
	}
	snprintf(last, sizeof(last), "%s", r->reason);
	set_reason(
	    r, "no sentinel named master %s (last: %s)", r->master_name, last);
	return -1;
}

/*
 * SELECT runs even for database 0: it is the first command that needs
 * authentication, so a missing password shows up here, as a connection
 * failure, and not as a NOAUTH answer to the caller's first command.
 */
static int
conn_setup(struct rk_redis *r, redisContext *c)
{
	char db[16];
	const char *auth[3], *sel[] = { "SELECT", db };

	if (r->password != NULL &&
	    conn_setup_cmd(r, c, "AUTH",
	        rk_redis_auth_argv(auth, r->username, r->password), auth) < 0)
		return -1;
	snprintf(db, sizeof(db), "%u", r->database);
	if (conn_setup_cmd(r, c, "SELECT", 2, sel) < 0)
		return -1;
	return r->nsentinels > 0 ? conn_check_role(r, c) : 0;
}

static int
conn_connect(struct rk_redis *r, struct rk_err *err)
{
	redisContext *c;

	if (r->nsentinels > 0 && sentinel_resolve(r) < 0) {
		r->stats.connect_failures++;
		return conn_fail(r, err);
	}
	if ((c = conn_open(r, r->host, r->port)) == NULL) {
		r->stats.connect_failures++;
		return conn_fail(r, err);
	}
	if (conn_setup(r, c) < 0) {
		redisFree(c);
		r->stats.connect_failures++;
		return conn_fail(r, err);
	}
	r->ctx = c;
	r->stats.connects++;
	return 0;
}

/*
 * true if the server closed the connection while it sat idle (restart,
 * its "timeout" setting): we never leave a reply unread, so anything
 * readable is an EOF or an error.  Noticing it before sending means such
 * a close does not fail the next command.
 */
static bool
conn_stale(const struct rk_redis *r)
{
	struct pollfd pfd;

	pfd.fd = r->ctx->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) != 0;
}

int
rk_redis_connect(struct rk_redis *r, struct rk_err *err)
{
	uint64_t now;

	if (r->ctx != NULL && !conn_stale(r))
		return 0;
	conn_close(r);
	now = now_ms(r);
	if (now < r->retry_at) {
		r->stats.fast_failures++;
		return rk_err_set(err,
		    "redis %s: down, next attempt in %llu ms (last error: %s)",
		    r->where, (unsigned long long)(r->retry_at - now),
		    r->reason);
	}
	return conn_connect(r, err);
}

/* ------------------------------------------------------------- commands */

/* The server was demoted: as good as gone, and the sentinels know more. */
static void
conn_readonly(struct rk_redis *r, const redisReply *rep, struct rk_err *err)
{
	set_reason(r, "not the master any more: %s", rep->str);
	r->stats.drops++;
	(void)conn_fail(r, err);
}

static redisReply *
reply_finish(
    struct rk_redis *r, redisReply *rep, int errnum, struct rk_err *err)
{
	if (rep == NULL) {
		set_io_reason(r, r->ctx, "command", errnum);
		r->stats.drops++;
		(void)conn_fail(r, err);
		return NULL;
	}
	if (rk_redis_reply_readonly(rep)) {
		conn_readonly(r, rep, err);
		freeReplyObject(rep);
		return NULL;
	}
	conn_ok(r);
	return rep;
}

redisReply *
rk_redis_command(struct rk_redis *r, struct rk_err *err, const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;

	if (rk_redis_connect(r, err) < 0)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(r->ctx, fmt, ap);
	va_end(ap);
	return reply_finish(r, rep, errno, err);
}

redisReply *
rk_redis_commandv(struct rk_redis *r, struct rk_err *err, size_t argc,
    const char **argv, const size_t *argvlen)
{
	redisReply *rep;

	if (argc == 0 || argc > INT_MAX)
		rk_panic("rk_redis_commandv: %zu arguments", argc);
	if (rk_redis_connect(r, err) < 0)
		return NULL;
	rep = redisCommandArgv(r->ctx, (int)argc, argv, argvlen);
	return reply_finish(r, rep, errno, err);
}

int
rk_redis_append(struct rk_redis *r, struct rk_err *err, size_t argc,
    const char **argv, const size_t *argvlen)
{
	if (argc == 0 || argc > INT_MAX)
		rk_panic("rk_redis_append: %zu arguments", argc);
	if (r->ctx == NULL && rk_redis_connect(r, err) < 0)
		return -1;
	if (redisAppendCommandArgv(r->ctx, (int)argc, argv, argvlen) !=
	    REDIS_OK) {
		(void)reply_finish(r, NULL, errno, err);
		return -1;
	}
	return 0;
}

int
rk_redis_flush(struct rk_redis *r, struct rk_err *err)
{
	int done = 0;

	if (r->ctx == NULL)
		return rk_err_set(err, "redis: not connected");
	do {
		if (redisBufferWrite(r->ctx, &done) != REDIS_OK) {
			(void)reply_finish(r, NULL, errno, err);
			return -1;
		}
	} while (!done);
	return 0;
}

int
rk_redis_pipeline(
    struct rk_redis *r, struct rk_err *err, size_t n, redisReply **replies)
{
	for (size_t i = 0; i < n; i++) {
		void *rep = NULL;

		if (r->ctx == NULL || redisGetReply(r->ctx, &rep) != REDIS_OK ||
		    rep == NULL) {
			int e = errno;

			while (i-- > 0) {
				freeReplyObject(replies[i]);
				replies[i] = NULL;
			}
			if (r->ctx != NULL)
				(void)reply_finish(r, NULL, e, err);
			else
				rk_err_set(err, "redis: not connected");
			return -1;
		}
		replies[i] = rep;
	}
	for (size_t i = 0; i < n; i++) {
		if (!rk_redis_reply_readonly(replies[i]))
			continue;
		conn_readonly(r, replies[i], err);
		for (size_t k = 0; k < n; k++) {
			freeReplyObject(replies[k]);
			replies[k] = NULL;
		}
		return -1;
	}
	if (n > 0)
		conn_ok(r);
	return 0;
}

int
rk_redis_auth_argv(
    const char *argv[3], const char *username, const char *password)
{
	argv[0] = "AUTH";
	argv[1] = username != NULL ? username : password;
	argv[2] = username != NULL ? password : NULL;
	return username != NULL ? 3 : 2;
}

void
rk_redis_format_where(char *out, size_t n, const char *unix_path,
    const char *master_name, const char *host, unsigned port)
{
	const char *name = master_name ? master_name : "";
	const char *at = master_name ? "@" : "";

	if (unix_path != NULL)
		snprintf(out, n, "unix:%s", unix_path);
	else if (host == NULL)
		snprintf(out, n, "%s@sentinels", name);
	else if (strchr(host, ':') != NULL) /* IPv6 literal */
		snprintf(out, n, "%s%s[%s]:%u", name, at, host, port);
	else
		snprintf(out, n, "%s%s%s:%u", name, at, host, port);
}

bool
rk_redis_reply_readonly(const redisReply *rep)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ERROR || rep->str == NULL)
		return false;
	/* a script's write on a replica: "... READONLY You can't write" */
	return strncmp(rep->str, "READONLY", 8) == 0 ||
	    strncmp(rep->str, "MASTERDOWN", 10) == 0 ||
	    strstr(rep->str, "READONLY You can't write") != NULL;
}

int
rk_redis_sentinel_addr(const redisReply *rep, char *host, size_t n,
    unsigned *port, struct rk_err *err)
{
	char *end;
	unsigned long p;

	if (rep->type == REDIS_REPLY_NIL ||
	    (rep->type == REDIS_REPLY_ARRAY && rep->elements == 0))
		return rk_err_set(
		    err, "the sentinel does not know this master");
	if (rep->type == REDIS_REPLY_ERROR)
		return rk_err_set(err, "%s", rep->str);
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING)
		return rk_err_set(err, "unexpected answer to SENTINEL");
	errno = 0;
	p = strtoul(rep->element[1]->str, &end, 10);
	if (rep->element[0]->len == 0 || rep->element[0]->len >= n ||
	    *end != '\0' || end == rep->element[1]->str || p == 0 || p > 65535)
		return rk_err_set(
		    err, "unexpected master address from SENTINEL");
	memcpy(host, rep->element[0]->str, rep->element[0]->len + 1);
	*port = (unsigned)p;
	return 0;
}

int
rk_redis_role_master(const redisReply *rep, struct rk_err *err)
{
	if (rep->type == REDIS_REPLY_ERROR)
		return strncmp(rep->str, "NOPERM", 6) == 0
		    ? 0
		    : rk_err_set(err, "ROLE: %s", rep->str);
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0 ||
	    rep->element[0]->type != REDIS_REPLY_STRING)
		return rk_err_set(err, "ROLE: unexpected answer");
	if (strcmp(rep->element[0]->str, "master") != 0)
		return rk_err_set(err,
		    "the sentinels' master is a %s (a failover is under way)",
		    rep->element[0]->str);
	return 0;
}

const char *
rk_redis_prefix(const struct rk_redis *r)
{
	return r->prefix;
}

const char *
rk_redis_key(const struct rk_redis *r, struct rk_buf *out, const char *fmt, ...)
{
	va_list ap;

	rk_buf_reset(out);
	rk_buf_puts(out, r->prefix);
	va_start(ap, fmt);
	rk_buf_vprintf(out, fmt, ap);
	va_end(ap);
	return out->data;
}

const char *
rk_redis_where(const struct rk_redis *r)
{
	return r->where;
}

void
rk_redis_stats(const struct rk_redis *r, struct rk_redis_stats *out)
{
	uint64_t now = now_ms(r);

	*out = r->stats;
	out->connected = r->ctx != NULL;
	out->retry_in_ms =
	    r->ctx == NULL && r->retry_at > now ? r->retry_at - now : 0;
	out->backoff_ms = r->delay_ms;
}

/* -------------------------------------------------------------- scripts */

void
rk_redis_script_init(struct rk_redis_script *s, const char *source)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	s->source = source;
	s->sha1[0] = '\0';
	/* Without SHA1 (a FIPS-only build) every call sends the source. */
	if (EVP_Digest(source, strlen(source), md, &len, EVP_sha1(), NULL) !=
	        1 ||
	    len != 20)
		return;
	for (unsigned int i = 0; i < len; i++)
		snprintf(s->sha1 + 2 * i, 3, "%02x", md[i]);
}

static bool
is_noscript(const redisReply *rep)
{
	return rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

redisReply *
rk_redis_eval(struct rk_redis *r, struct rk_err *err,
    const struct rk_redis_script *s, size_t nkeys, const char *const *keys,
    size_t nargs, const char *const *args)
{
	size_t argc = rk_size_add(3, rk_size_add(nkeys, nargs));
	const char **argv = rk_reallocarray(NULL, argc, sizeof(*argv));
	redisReply *rep = NULL;
	char numkeys[24];

	snprintf(numkeys, sizeof(numkeys), "%zu", nkeys);
	argv[2] = numkeys;
	for (size_t i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (size_t i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
	if (s->sha1[0] != '\0') {
		argv[0] = "EVALSHA";
		argv[1] = s->sha1;
		rep = rk_redis_commandv(r, err, argc, argv, NULL);
		if (!is_noscript(rep))
			goto out;
		freeReplyObject(rep);
		r->stats.script_loads++;
	}
	argv[0] = "EVAL";
	argv[1] = s->source;
	rep = rk_redis_commandv(r, err, argc, argv, NULL);
out:
	free(argv);
	return rep;
}

void
rk_redis_opts_from_cfg(struct rk_redis_opts *o, const struct rk_cfg_redis *c)
{
	memset(o, 0, sizeof(*o));
	o->host = c->host;
	o->port = (unsigned)c->port;
	o->unix_path = c->socket;
	o->username = c->username;
	o->password = c->password;
	o->sentinels = c->sentinels;
	o->nsentinels = c->nsentinels;
	o->master_name = c->masterName;
	o->sentinel_username = c->sentinelUsername;
	o->sentinel_password = c->sentinelPassword;
	o->database = (unsigned)c->database;
	o->connect_timeout_ms = (unsigned)c->connectTimeout;
	o->command_timeout_ms = (unsigned)c->commandTimeout;
	o->prefix = c->keyPrefix;
}
