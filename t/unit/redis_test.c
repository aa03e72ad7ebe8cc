/* SPDX-License-Identifier: MIT */
/*
 * redis_test: option checks, the log rate limiter, script hashing and the
 * backoff schedule need no server (the backoff runs against a port nothing
 * listens on, with a fake clock).  The rest starts real redis-server
 * processes on loopback in a temp dir: TCP, unix socket, AUTH, SELECT,
 * EVALSHA with NOSCRIPT fallback, command timeout, and a server killed and
 * restarted under a live connection.  Without redis-server those skip.
 *
 * The clock given to rk_redis is fake: backoff steps are exact and the
 * test never sleeps for them.  Timeouts are real socket timeouts.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "rk_log.h"
#include "rk_redis.h"
#include "rk_redis_pool.h"
#include "rk_str.h"
#include "tap.h"

#define NELEMS(a)    (sizeof(a) / sizeof((a)[0]))
#define REDIS_SERVER "/usr/bin/redis-server"

/* ------------------------------------------------------------- helpers */

struct fake_clock {
	uint64_t now;
};

static uint64_t
fake_clock_read(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		continue;
}

struct log_capture {
	int warns, infos;
	char last_warn[512], last_info[512];
	struct rk_buf all; /* every line; NULL data until the first */
};

static void
capture_line(enum rk_log_level level, const char *line, void *arg)
{
	struct log_capture *lc = arg;

	rk_buf_puts(&lc->all, line);
	rk_buf_putc(&lc->all, '\n');
	if (level == RK_LOG_WARN) {
		lc->warns++;
		snprintf(lc->last_warn, sizeof(lc->last_warn), "%s", line);
	} else if (level == RK_LOG_INFO) {
		lc->infos++;
		snprintf(lc->last_info, sizeof(lc->last_info), "%s", line);
	}
}

static bool
has(const char *s, const char *sub)
{
	if (strstr(s, sub) != NULL)
		return true;
	diag("  \"%s\" lacks \"%s\"", s, sub);
	return false;
}

/* A loopback port nobody listens on right now. */
static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned port = 0;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static struct rk_redis *
redis_open(const struct rk_redis_opts *o)
{
	struct rk_err err = { "" };
	struct rk_redis *r = rk_redis_new(o, &err);

	if (r == NULL)
		diag("rk_redis_new: %s", err.msg);
	return r;
}

/* Sends a command that must succeed; true if the reply is want. */
static bool
reply_is(struct rk_redis *r, const char *want, const char *fmt, const char *arg)
{
	struct rk_err err = { "" };
	redisReply *rep = rk_redis_command(r, &err, fmt, arg);
	bool same;

	if (rep == NULL) {
		diag("  no reply: %s", err.msg);
		return false;
	}
	same = rep->str != NULL && strcmp(rep->str, want) == 0;
	if (!same)
		diag("  reply type %d \"%s\", want \"%s\"", rep->type,
		    rep->str ? rep->str : "", want);
	freeReplyObject(rep);
	return same;
}

/* --------------------------------------------------------- redis-server */

struct server {
	pid_t pid;
	unsigned port;
	char password[32]; /* "": none */
	char dir[64];
	char sock[128];
	char log[128];
};

static void
server_exec(struct server *s)
{
	char port[16];
	char *argv[] = { REDIS_SERVER, "--port", port, "--bind", "127.0.0.1",
		"--unixsocket", NULL, "--unixsocketperm", "700", "--save", "",
		"--appendonly", "no", "--dir", NULL, "--logfile", NULL,
		"--daemonize", "no", "--enable-debug-command", "local",
		"--requirepass", NULL, NULL };
	int fd = open("/dev/null", O_RDWR);

	snprintf(port, sizeof(port), "%u", s->port);
	argv[6] = s->sock;
	argv[14] = s->dir;
	argv[16] = s->log;
	if (s->password[0] != '\0')
		argv[22] = s->password;
	else
		argv[21] = NULL;
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execv(REDIS_SERVER, argv);
	_exit(127);
}

/* Waits until the server answers on TCP (the unix socket is up by then). */
static int
server_wait(struct server *s)
{
	for (int i = 0; i < 400; i++) {
		redisContext *c = redisConnect("127.0.0.1", (int)s->port);
		redisReply *rep = NULL;
		int st;

		if (c != NULL && c->err == 0)
			rep = redisCommand(c, "PING");
		redisFree(c);
		freeReplyObject(rep);
		if (rep != NULL)
			return 0;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = -1;
			return -1;
		}
		sleep_ms(25);
	}
	return -1;
}

static int
server_start(struct server *s)
{
	fflush(stdout);
	if ((s->pid = fork()) < 0)
		return -1;
	if (s->pid == 0)
		server_exec(s);
	if (server_wait(s) == 0)
		return 0;
	diag("redis-server on port %u did not start; see %s", s->port, s->log);
	return -1;
}

/* SIGKILL: the server vanishes as in a crash, with no goodbye. */
static void
server_kill(struct server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = -1;
}

static int
server_init(struct server *s, const char *password)
{
	memset(s, 0, sizeof(*s));
	s->pid = -1;
	snprintf(s->password, sizeof(s->password), "%s", password);
	snprintf(s->dir, sizeof(s->dir), "/tmp/rk_redis_test.XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/redis.log", s->dir);
	if ((s->port = free_port()) == 0)
		return -1;
	return server_start(s);
}

static void
server_cleanup(struct server *s)
{
	server_kill(s);
	unlink(s->sock);
	unlink(s->log);
	if (s->dir[0] != '\0' && rmdir(s->dir) != 0)
		diag("could not remove %s", s->dir);
}

/* ------------------------------------------------------ no server needed */

#define LONG_PATH                                                              \
	"/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"    \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock"

static const struct rk_endpoint sentinel = {
	.kind = RK_EP_INET, .host = "127.0.0.1", .port = 26379
};
static const struct rk_endpoint unix_ep = { .kind = RK_EP_UNIX,
	.path = "/run/s.sock" };

static void
test_opts_invalid(void)
{
	static const struct {
		const char *name;
		struct rk_redis_opts o;
		const char *want;
	} cases[] = {
		{ "port above 65535", { .port = 70000 },
		    "port 70000 out of range" },
		{ "empty host", { .host = "" }, "empty host" },
		{ "unix socket path too long", { .unix_path = LONG_PATH },
		    "socket path too long" },
		{ "backoff minimum above maximum",
		    { .backoff_min_ms = 6000, .backoff_max_ms = 5000 },
		    "backoff minimum 6000 ms above maximum 5000 ms" },
		{ "command timeout above a day",
		    { .command_timeout_ms = 90000000 }, "exceeds" },
		{ "database above INT_MAX", { .database = 3000000000u },
		    "database 3000000000 out of range" },
		{ "sentinels without a master name",
		    { .sentinels = &sentinel, .nsentinels = 1 },
		    "sentinels need a master name" },
		{ "a unix socket as sentinel",
		    { .sentinels = &unix_ep,
		        .nsentinels = 1,
		        .master_name = "m" },
		    "a sentinel is host:port" },
	};

	for (size_t i = 0; i < NELEMS(cases); i++) {
		struct rk_err err = { "" };
		struct rk_redis *r = rk_redis_new(&cases[i].o, &err);

		ok(r == NULL && has(err.msg, cases[i].want), "opts: %s",
		    cases[i].name);
		rk_redis_free(r);
	}
}

static void
test_opts_valid(void)
{
	static const struct {
		const char *name;
		struct rk_redis_opts o;
		const char *where;
	} cases[] = {
		{ "defaults", { 0 }, "127.0.0.1:6379" },
		{ "IPv6 host in brackets", { .host = "::1", .port = 7000 },
		    "[::1]:7000" },
		{ "unix socket wins over host and port",
		    { .host = "h", .port = 1, .unix_path = "/run/r.sock" },
		    "unix:/run/r.sock" },
		{ "empty unix path means TCP",
		    { .host = "redis", .unix_path = "" }, "redis:6379" },
		{ "sentinels: the master's name until one answers",
		    { .sentinels = &sentinel,
		        .nsentinels = 1,
		        .master_name = "relay",
		        .unix_path = "/run/r.sock" },
		    "relay@sentinels" },
	};
	struct rk_redis *r;
	struct rk_buf key;

	for (size_t i = 0; i < NELEMS(cases); i++) {
		r = rk_redis_new(&cases[i].o, NULL);
		is_str(r ? rk_redis_where(r) : NULL, cases[i].where, "opts: %s",
		    cases[i].name);
		rk_redis_free(r);
	}
	r = rk_redis_new(&(struct rk_redis_opts){ .prefix = "rk:" }, NULL);
	rk_buf_init(&key);
	is_str(rk_redis_key(r, &key, "rate:%s:%d", "a.example", 3),
	    "rk:rate:a.example:3", "key: prefix and formatted suffix");
	is_str(rk_redis_key(r, &key, "x"), "rk:x", "key: buffer reset");
	is_str(rk_redis_prefix(r), "rk:", "key: prefix");
	rk_buf_free(&key);
	rk_redis_free(r);
	rk_redis_free(NULL);
}

static void
test_ratelimit(void)
{
	static const struct {
		uint64_t now;
		bool allow;
		unsigned long suppressed;
	} steps[] = {
		{ 0, true, 0 },
		{ 1, false, 0 },
		{ 999, false, 0 },
		{ 1000, true, 2 },
		{ 1500, false, 0 },
		{ 7000, true, 1 },
		{ 7001, false, 0 },
		{ 8000, true, 1 },
	};
	struct rk_ratelimit rl;
	bool good = true;

	rk_ratelimit_init(&rl, 1000);
	for (size_t i = 0; i < NELEMS(steps); i++) {
		unsigned long sup = 12345;
		bool allow = rk_ratelimit_allow(&rl, steps[i].now, &sup);

		if (allow != steps[i].allow ||
		    (allow && sup != steps[i].suppressed)) {
			diag("  step %zu at %llu: allow %d suppressed %lu", i,
			    (unsigned long long)steps[i].now, allow, sup);
			good = false;
		}
	}
	ok(good, "ratelimit: one per interval, counts the rest");
}

static void
test_script_sha(void)
{
	static const struct {
		const char *source;
		const char *sha1;
	} cases[] = {
		{ "return 1", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db" },
		{ "return redis.call('INCRBY', KEYS[1], ARGV[1])",
		    "8cd00688c05c46bde4a2e60658ef20a2e5c0b248" },
	};
	struct rk_redis_script s;

	for (size_t i = 0; i < NELEMS(cases); i++) {
		rk_redis_script_init(&s, cases[i].source);
		is_str(s.sha1, cases[i].sha1, "script: SHA1 of \"%s\"",
		    cases[i].source);
	}
}

/* One call made at the fake time; what it must have done. */
static bool
backoff_step(
    struct rk_redis *r, const char *what, bool attempt, uint64_t retry_in)
{
	struct rk_redis_stats before, after;
	struct rk_err err = { "" };
	redisReply *rep;
	bool good;

	rk_redis_stats(r, &before);
	rep = rk_redis_command(r, &err, "PING");
	rk_redis_stats(r, &after);
	good = rep == NULL &&
	    after.connect_failures - before.connect_failures ==
	        (attempt ? 1 : 0) &&
	    after.fast_failures - before.fast_failures == (attempt ? 0 : 1) &&
	    after.retry_in_ms == retry_in;
	good = good && has(err.msg, attempt ? "Connection refused" : "down");
	freeReplyObject(rep);
	return ok(good, "backoff: %s", what);
}

static void
test_backoff(void)
{
	static const unsigned waits[] = { 100, 200, 400, 800, 1600, 3200, 5000,
		5000 };
	struct fake_clock clk = { 1000 };
	struct rk_redis_opts o = { .port = free_port(),
		.clock = fake_clock_read,
		.clock_arg = &clk,
		.log_interval_ms = 10000 };
	struct log_capture lc = { 0 };
	struct rk_redis *r = redis_open(&o);
	char what[64];

	rk_log_set_sink(capture_line, &lc);
	backoff_step(r, "first call tries and fails", true, 100);
	for (size_t i = 0; i < NELEMS(waits); i++) {
		clk.now += waits[i] - 1;
		snprintf(what, sizeof(what), "%u ms wait: 1 ms early fails",
		    waits[i]);
		backoff_step(r, what, false, 1);
		clk.now += 1;
		snprintf(what, sizeof(what), "%u ms wait: then one attempt",
		    waits[i]);
		backoff_step(
		    r, what, true, i + 1 < NELEMS(waits) ? waits[i + 1] : 5000);
	}
	rk_log_set_sink(NULL, NULL);
	/* Attempts at 1000, 1100, ..., 7300, 12300, 17300; 10 s interval. */
	is_int(lc.warns, 2, "backoff: outage logged once per interval");
	ok(has(lc.last_warn, "suppressed=6") &&
	        has(lc.last_warn, "action=down"),
	    "backoff: log line counts the suppressed failures");
	rk_buf_free(&lc.all);
	rk_redis_free(r);
}

/* ------------------------------------------------------- with a server */

static void
test_tcp(const struct server *s)
{
	struct rk_redis *r = redis_open(
	    &(struct rk_redis_opts){ .port = s->port, .prefix = "t:" });
	const char *argv[] = { "SET", "t:bin", "a\0b c" };
	const size_t argvlen[] = { 3, 5, 5 };
	struct rk_redis_stats st;
	struct rk_err err = { "" };
	redisReply *rep;

	ok(reply_is(r, "OK", "SET t:s %s", "hello world"), "tcp: SET");
	ok(reply_is(r, "hello world", "GET %s", "t:s"),
	    "tcp: GET keeps a %%s argument with spaces whole");
	rep = rk_redis_commandv(r, &err, 3, argv, argvlen);
	ok(rep != NULL && rep->type == REDIS_REPLY_STATUS,
	    "tcp: argv SET with a NUL byte");
	freeReplyObject(rep);
	rep = rk_redis_command(r, &err, "GET t:bin");
	ok(rep != NULL && rep->len == 5 && memcmp(rep->str, "a\0b c", 5) == 0,
	    "tcp: binary value round-trips");
	freeReplyObject(rep);
	rep = rk_redis_command(r, &err, "INCR t:s");
	ok(rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	        has(rep->str, "not an integer"),
	    "tcp: an error reply is returned, not NULL");
	freeReplyObject(rep);
	rk_redis_stats(r, &st);
	ok(st.connected && st.connects == 1 && st.drops == 0 &&
	        st.connect_failures == 0,
	    "tcp: one connection served every command, error reply included");
	rk_redis_free(r);
}

struct pool_worker {
	struct rk_redis_pool *pool;
	int fails;
};

static void *
pool_worker(void *arg)
{
	struct pool_worker *w = arg;

	for (int i = 0; i < 250; i++) {
		struct rk_redis *r = rk_redis_pool_get(w->pool);
		redisReply *rep = rk_redis_command(r, NULL, "INCR t:pool");

		if (rep == NULL || rep->type != REDIS_REPLY_INTEGER)
			w->fails++;
		if (rep != NULL)
			freeReplyObject(rep);
		rk_redis_pool_put(w->pool, r);
	}
	return NULL;
}

/* Four threads share two idle connections: every INCR lands, once. */
static void
test_pool(const struct server *s)
{
	struct rk_redis_opts o = { .port = s->port, .prefix = "t:" };
	struct rk_err err;
	struct rk_redis_pool *p = rk_redis_pool_new(&o, 2, &err);
	struct pool_worker w[4];
	pthread_t t[4];
	int fails = 0;

	if (!ok(p != NULL, "pool: created"))
		return;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct pool_worker){ p, 0 };
		pthread_create(&t[i], NULL, pool_worker, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		fails += w[i].fails;
	}
	is_int(fails, 0, "pool: no command failed");
	{
		struct rk_redis *r = rk_redis_pool_get(p);

		ok(reply_is(r, "1000", "GET %s", "t:pool"),
		    "pool: 4 threads x 250 INCR = 1000");
		rk_redis_pool_put(p, r);
	}
	rk_redis_pool_free(p);
	o.port = 0;
	o.connect_timeout_ms = 0;
	ok(rk_redis_pool_new(
	       &(struct rk_redis_opts){ .port = 70000 }, 2, &err) == NULL,
	    "pool: bad options refused at creation");
}

static void
test_unix(const struct server *s)
{
	/* Host and port lead nowhere: only the socket can answer. */
	struct rk_redis *r =
	    redis_open(&(struct rk_redis_opts){ .host = "192.0.2.1",
	        .port = 1,
	        .unix_path = s->sock,
	        .connect_timeout_ms = 200 });

	ok(reply_is(r, "PONG", "PING", NULL), "unix: PING over the socket");
	ok(reply_is(r, "OK", "SET u:k %s", "v") &&
	        reply_is(r, "v", "GET %s", "u:k"),
	    "unix: SET and GET");
	rk_redis_free(r);
}

static void
test_select(const struct server *s)
{
	struct rk_redis *r3 = redis_open(
	    &(struct rk_redis_opts){ .port = s->port, .database = 3 });
	struct rk_redis *r0 =
	    redis_open(&(struct rk_redis_opts){ .port = s->port });
	struct rk_redis *bad = redis_open(
	    &(struct rk_redis_opts){ .port = s->port, .database = 99 });
	struct log_capture lc = { 0 };
	struct rk_err err = { "" };
	redisReply *rep;

	rk_log_set_sink(capture_line, &lc);
	ok(reply_is(r3, "OK", "SET sel:k %s", "in3"), "select: SET in db 3");
	rep = rk_redis_command(r0, &err, "GET sel:k");
	ok(rep != NULL && rep->type == REDIS_REPLY_NIL,
	    "select: db 0 does not see it");
	freeReplyObject(rep);
	ok(reply_is(r3, "in3", "GET %s", "sel:k"), "select: db 3 does");
	rep = rk_redis_command(bad, &err, "PING");
	ok(rep == NULL && has(err.msg, "SELECT: ERR DB index is out of range"),
	    "select: a bad database is a connection failure");
	freeReplyObject(rep);
	rk_log_set_sink(NULL, NULL);
	rk_buf_free(&lc.all);
	rk_redis_free(r3);
	rk_redis_free(r0);
	rk_redis_free(bad);
}

static void
test_auth(const struct server *s)
{
	char pw[] = "s3cret with space";
	struct rk_redis_opts o = { .port = s->port, .password = pw };
	struct rk_redis *good = redis_open(&o);
	struct rk_redis *wrong = redis_open(
	    &(struct rk_redis_opts){ .port = s->port, .password = "nope" });
	struct rk_redis *none =
	    redis_open(&(struct rk_redis_opts){ .port = s->port });
	struct log_capture lc = { 0 };
	struct rk_err err = { "" };
	redisReply *rep;

	rk_log_set_sink(capture_line, &lc);
	memset(pw, 'x', sizeof(pw) - 1); /* rk_redis_new took a copy */
	ok(reply_is(good, "PONG", "PING", NULL), "auth: right password");
	rep = rk_redis_command(wrong, &err, "PING");
	ok(rep == NULL && has(err.msg, "authentication failed"),
	    "auth: wrong password is a connection failure");
	freeReplyObject(rep);
	rep = rk_redis_command(none, &err, "PING");
	ok(rep == NULL && has(err.msg, "requires a password") &&
	        has(err.msg, "NOAUTH"),
	    "auth: missing password is a connection failure");
	freeReplyObject(rep);
	rk_log_set_sink(NULL, NULL);
	ok(lc.warns == 2 && strstr(lc.all.data, "nope") == NULL &&
	        strstr(lc.all.data, s->password) == NULL &&
	        has(lc.all.data, "WRONGPASS"),
	    "auth: failures logged, passwords not");
	rk_buf_free(&lc.all);
	rk_redis_free(good);
	rk_redis_free(wrong);
	rk_redis_free(none);
}

static bool
eval_is(struct rk_redis *r, const struct rk_redis_script *sc, long long want,
    uint64_t want_loads)
{
	const char *keys[] = { "ev:n" }, *args[] = { "5" };
	struct rk_redis_stats st;
	struct rk_err err = { "" };
	redisReply *rep = rk_redis_eval(r, &err, sc, 1, keys, 1, args);
	bool good = rep != NULL && rep->type == REDIS_REPLY_INTEGER &&
	    rep->integer == want;

	if (rep == NULL)
		diag("  no reply: %s", err.msg);
	freeReplyObject(rep);
	rk_redis_stats(r, &st);
	return good && st.script_loads == want_loads;
}

static void
test_eval(const struct server *s)
{
	struct rk_redis *r =
	    redis_open(&(struct rk_redis_opts){ .port = s->port });
	struct rk_redis_script sc, bad;
	struct rk_err err = { "" };
	redisReply *rep;

	rk_redis_script_init(
	    &sc, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
	ok(reply_is(r, sc.sha1, "SCRIPT LOAD %s", sc.source),
	    "eval: our SHA1 is the server's");
	ok(reply_is(r, "OK", "SCRIPT FLUSH", NULL), "eval: SCRIPT FLUSH");
	ok(eval_is(r, &sc, 5, 1), "eval: unknown script falls back to EVAL");
	ok(eval_is(r, &sc, 10, 1), "eval: then EVALSHA alone");
	ok(reply_is(r, "OK", "SCRIPT FLUSH", NULL), "eval: SCRIPT FLUSH");
	ok(eval_is(r, &sc, 15, 2), "eval: a flushed script is sent again");
	rk_redis_script_init(&bad, "return redis.call('NOSUCHCOMMAND')");
	rep = rk_redis_eval(r, &err, &bad, 0, NULL, 0, NULL);
	ok(rep != NULL && rep->type == REDIS_REPLY_ERROR,
	    "eval: a script error is an error reply");
	freeReplyObject(rep);
	rk_redis_free(r);
}

static void
test_timeout(const struct server *s)
{
	struct fake_clock clk = { 5000 };
	struct rk_redis *r =
	    redis_open(&(struct rk_redis_opts){ .port = s->port,
	        .command_timeout_ms = 100,
	        .clock = fake_clock_read,
	        .clock_arg = &clk });
	struct log_capture lc = { 0 };
	struct rk_redis_stats st;
	struct rk_err err = { "" };
	redisReply *rep;
	uint64_t t0;

	rk_log_set_sink(capture_line, &lc);
	ok(reply_is(r, "PONG", "PING", NULL), "timeout: connected");
	t0 = real_ms();
	rep = rk_redis_command(r, &err, "DEBUG SLEEP 0.5");
	ok(rep == NULL && real_ms() - t0 < 400 &&
	        has(err.msg, "timed out after 100 ms"),
	    "timeout: a slow command gives up after the command timeout");
	freeReplyObject(rep);
	rep = rk_redis_command(r, &err, "PING");
	rk_redis_stats(r, &st);
	ok(rep == NULL && st.drops == 1 && st.fast_failures == 1 &&
	        has(err.msg, "down, next attempt in 100 ms"),
	    "timeout: the next call fails fast during backoff");
	freeReplyObject(rep);
	sleep_ms(600);
	clk.now += 100;
	ok(reply_is(r, "PONG", "PING", NULL), "timeout: recovers");
	rk_redis_stats(r, &st);
	is_int((intmax_t)st.backoff_ms, 100, "timeout: a reply resets backoff");
	rk_log_set_sink(NULL, NULL);
	rk_buf_free(&lc.all);
	rk_redis_free(r);
}

static bool
ping_fails(struct rk_redis *r, const char *want)
{
	struct rk_err err = { "" };
	redisReply *rep = rk_redis_command(r, &err, "PING");

	freeReplyObject(rep);
	return rep == NULL && has(err.msg, want);
}

static void
test_outage(struct server *s)
{
	struct fake_clock clk = { 1000 };
	struct rk_redis *r = redis_open(&(struct rk_redis_opts){
	    .port = s->port, .clock = fake_clock_read, .clock_arg = &clk });
	struct log_capture lc = { 0 };
	struct rk_redis_stats st;
	uint64_t t0;

	rk_log_set_sink(capture_line, &lc);
	ok(reply_is(r, "PONG", "PING", NULL), "outage: connected");
	server_kill(s);
	t0 = real_ms();
	ok(ping_fails(r, "Connection refused") && real_ms() - t0 < 100,
	    "outage: killed server fails the call at once");
	ok(ping_fails(r, "down, next attempt in 100 ms"),
	    "outage: next call fails fast");
	clk.now += 100;
	ok(ping_fails(r, "Connection refused"), "outage: retried after 100");
	rk_redis_stats(r, &st);
	ok(st.connect_failures == 2 && st.fast_failures == 1 &&
	        st.retry_in_ms == 200,
	    "outage: two attempts, one call spared, next wait 200 ms");
	if (!ok(server_start(s) == 0, "outage: server restarted, same port"))
		goto out;
	ok(ping_fails(r, "down"), "outage: backoff holds after the restart");
	clk.now += 200;
	ok(reply_is(r, "PONG", "PING", NULL), "outage: recovered by itself");
	is_int(lc.warns, 1, "outage: logged once");
	ok(lc.infos == 1 && has(lc.last_info, "action=up"),
	    "outage: recovery logged");
out:
	rk_log_set_sink(NULL, NULL);
	rk_buf_free(&lc.all);
	rk_redis_free(r);
}

/* A restart between two calls: the closed socket is noticed first. */
static void
test_idle_close(struct server *s)
{
	struct rk_redis *r =
	    redis_open(&(struct rk_redis_opts){ .port = s->port });
	struct rk_redis_stats st;

	ok(reply_is(r, "PONG", "PING", NULL), "idle close: connected");
	server_kill(s);
	if (ok(server_start(s) == 0, "idle close: server restarted")) {
		ok(reply_is(r, "PONG", "PING", NULL),
		    "idle close: the next call does not fail");
		rk_redis_stats(r, &st);
		ok(st.connects == 2 && st.connect_failures == 0 &&
		        st.drops == 0 && st.fast_failures == 0,
		    "idle close: reconnected without a failure");
	}
	rk_redis_free(r);
}

static void
server_tests(void)
{
	struct server plain, auth;
	bool up;

	if (access(REDIS_SERVER, X_OK) != 0) {
		skip("redis-server: " REDIS_SERVER " not found "
		     "(apt-get install redis-server)");
		return;
	}
	up = ok(server_init(&plain, "") == 0, "server: started");
	up = ok(server_init(&auth, "s3cret with space") == 0,
	         "server: started with requirepass") &&
	    up;
	if (up) {
		test_tcp(&plain);
		test_pool(&plain);
		test_unix(&plain);
		test_select(&plain);
		test_auth(&auth);
		test_eval(&plain);
		test_timeout(&plain);
		test_outage(&plain);
		test_idle_close(&plain);
	}
	server_cleanup(&plain);
	server_cleanup(&auth);
}

/* An array reply of the given strings (NULL: a nil element). */
static redisReply *
mkarray(size_t n, const char *const *v)
{
	redisReply *r = calloc(1, sizeof(*r));

	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n ? n : 1, sizeof(*r->element));
	for (size_t i = 0; i < n; i++) {
		redisReply *e = calloc(1, sizeof(*e));

		e->type = v[i] ? REDIS_REPLY_STRING : REDIS_REPLY_NIL;
		e->str = v[i] ? strdup(v[i]) : NULL;
		e->len = v[i] ? strlen(v[i]) : 0;
		r->element[i] = e;
	}
	return r;
}

static redisReply *
mkscalar(int type, const char *str)
{
	redisReply *r = calloc(1, sizeof(*r));

	r->type = type;
	r->str = str ? strdup(str) : NULL;
	r->len = str ? strlen(str) : 0;
	return r;
}

/* AUTH's arguments and the label of a server, shared with policyd. */
static void
test_auth_where(void)
{
	const char *a[3];
	char w[128];

	ok(rk_redis_auth_argv(a, NULL, "pw") == 2 &&
	        strcmp(a[0], "AUTH") == 0 && strcmp(a[1], "pw") == 0,
	    "AUTH password: the default user");
	ok(rk_redis_auth_argv(a, "rk", "pw") == 3 && strcmp(a[1], "rk") == 0 &&
	        strcmp(a[2], "pw") == 0,
	    "AUTH username password: an ACL user");
	rk_redis_format_where(w, sizeof(w), NULL, "relay", "::1", 6380);
	is_str(w, "relay@[::1]:6380", "where: master name, IPv6 in brackets");
	rk_redis_format_where(w, sizeof(w), NULL, NULL, "10.0.0.5", 6379);
	is_str(w, "10.0.0.5:6379", "where: host and port");
	rk_redis_format_where(w, sizeof(w), "/run/r.sock", NULL, NULL, 0);
	is_str(w, "unix:/run/r.sock", "where: a unix socket");
}

/* The answers relaykit reads from sentinels and demoted masters. */
static void
test_replies(void)
{
	static const struct {
		const char *name;
		const char *v[3];
		size_t n;
		int rc;
		const char *host;
		unsigned port;
	} addr[] = {
		{ "sentinel: an address", { "10.0.0.5", "6380" }, 2, 0,
		    "10.0.0.5", 6380 },
		{ "sentinel: IPv6", { "::1", "7000" }, 2, 0, "::1", 7000 },
		{ "sentinel: port 0", { "h", "0" }, 2, -1, NULL, 0 },
		{ "sentinel: port too big", { "h", "65536" }, 2, -1, NULL, 0 },
		{ "sentinel: port not a number", { "h", "63x" }, 2, -1, NULL,
		    0 },
		{ "sentinel: empty host", { "", "6379" }, 2, -1, NULL, 0 },
		{ "sentinel: three elements", { "h", "1", "x" }, 3, -1, NULL,
		    0 },
		{ "sentinel: unknown name (empty array)", { NULL }, 0, -1, NULL,
		    0 },
		{ "sentinel: a nil element", { "h", NULL }, 2, -1, NULL, 0 },
	};
	char host[64];
	unsigned port;
	struct rk_err err;
	redisReply *r;

	for (size_t i = 0; i < NELEMS(addr); i++) {
		int rc;

		r = mkarray(addr[i].n, addr[i].v);
		port = 0;
		rc = rk_redis_sentinel_addr(r, host, sizeof(host), &port, &err);
		ok(rc == addr[i].rc &&
		        (rc != 0 ||
		            (strcmp(host, addr[i].host) == 0 &&
		                port == addr[i].port)),
		    "%s", addr[i].name);
		freeReplyObject(r);
	}
	r = mkscalar(REDIS_REPLY_NIL, NULL);
	ok(rk_redis_sentinel_addr(r, host, sizeof(host), &port, &err) < 0 &&
	        has(err.msg, "does not know"),
	    "sentinel: nil: the name is unknown");
	freeReplyObject(r);
	r = mkarray(2, (const char *[]){ "averyveryverylonghostname", "1" });
	ok(rk_redis_sentinel_addr(r, host, 8, &port, &err) < 0,
	    "sentinel: a host longer than the buffer is refused");
	freeReplyObject(r);

	r = mkarray(3, (const char *[]){ "master", "0", NULL });
	ok(rk_redis_role_master(r, &err) == 0, "ROLE: master");
	freeReplyObject(r);
	r = mkarray(2, (const char *[]){ "slave", "10.0.0.1" });
	ok(rk_redis_role_master(r, &err) < 0 && has(err.msg, "slave"),
	    "ROLE: a replica is refused, named");
	freeReplyObject(r);
	r = mkscalar(REDIS_REPLY_ERROR, "NOPERM this user has no permissions");
	ok(rk_redis_role_master(r, &err) == 0,
	    "ROLE: NOPERM (ACL) is taken as a master");
	freeReplyObject(r);
	r = mkscalar(REDIS_REPLY_ERROR, "ERR unknown command");
	ok(rk_redis_role_master(r, &err) < 0, "ROLE: another error fails");
	freeReplyObject(r);

	r = mkscalar(REDIS_REPLY_ERROR,
	    "READONLY You can't write against a read only replica.");
	ok(rk_redis_reply_readonly(r), "READONLY: the plain answer");
	freeReplyObject(r);
	r = mkscalar(REDIS_REPLY_ERROR,
	    "ERR Error running script (call to f_x): @user_script:1: "
	    "@user_script: 1: -READONLY You can't write against a read only "
	    "replica.");
	ok(rk_redis_reply_readonly(r), "READONLY: inside a script's error");
	freeReplyObject(r);
	r = mkscalar(REDIS_REPLY_ERROR, "WRONGTYPE Operation against a key");
	ok(!rk_redis_reply_readonly(r), "READONLY: other errors are not");
	freeReplyObject(r);
	r = mkscalar(REDIS_REPLY_STATUS, "READONLY");
	ok(!rk_redis_reply_readonly(r), "READONLY: only as an error");
	freeReplyObject(r);
	ok(!rk_redis_reply_readonly(NULL), "READONLY: no reply is not");
}

int
main(void)
{
	/* hiredis writes with write(2); see rk_redis.h. */
	signal(SIGPIPE, SIG_IGN);
	test_opts_invalid();
	test_opts_valid();
	test_ratelimit();
	test_script_sha();
	test_backoff();
	test_replies();
	test_auth_where();
	server_tests();
	return done_testing();
}
