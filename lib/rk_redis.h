/* SPDX-License-Identifier: MIT */
/*
 * rk_redis: one synchronous Redis connection (hiredis 0.14) that connects
 * lazily, fails fast while Redis is down and recovers by itself.
 * Non-goals: pooling, pipelining, pub/sub, cluster redirects.
 *
 * A command that gets no reply (I/O error, timeout, server gone) returns
 * NULL with err filled and drops the connection.  Connecting again waits
 * for an exponential backoff (backoff_min_ms doubling to backoff_max_ms,
 * reset by the first reply on a new connection); calls in between fail at
 * once without touching the network, so a dead Redis costs callers nothing
 * and is not hammered.  An error reply (-ERR, -WRONGTYPE...) is an answer
 * and is returned like any other; only AUTH and SELECT failures while
 * connecting count as connection failures.  Outages are logged at most
 * once per log_interval_ms, recoveries once per logged outage.
 *
 * Sentinel: with sentinels set, every connect asks them in turn for the
 * address of master_name (SENTINEL get-master-addr-by-name; the one that
 * answered is asked first next time) and checks with ROLE that the
 * server it reaches is the master.  A READONLY answer (the server was
 * demoted by a failover) counts like a lost connection, so the next
 * command asks the sentinels again: a failover is followed without a
 * restart, and meanwhile callers see failures (their fail mode).
 *
 * Threading: a struct rk_redis belongs to one thread at a time (one per
 * milter worker thread or event loop); there is no global state.  A struct
 * rk_redis_script is immutable after init and may be shared by all.
 * Callers must ignore SIGPIPE, as every relaykit daemon does: hiredis 0.14
 * writes with write(2), and a server that went away would raise it.
 *
 * Secrets: the password is copied and wiped on free.  hiredis' own output
 * buffer, which briefly holds the AUTH command, is freed without wiping.
 */
#ifndef RK_REDIS_H
#define RK_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "rk_parse.h"
#include "rk_str.h"

/* ------------------------------------------------------------ connection */

/* Milliseconds from an arbitrary fixed point; must never go backwards. */
typedef uint64_t rk_redis_clock_fn(void *arg);

/* Zero means the default for every field.  All strings are copied. */
struct rk_redis_opts {
	const char *host;            /* default "127.0.0.1" */
	unsigned port;               /* default 6379 */
	const char *unix_path;       /* if set and not "", used instead */
	const char *username;        /* ACL user; NULL: AUTH password only */
	const char *password;        /* NULL or "": no AUTH */
	unsigned database;           /* SELECT; default 0 */
	unsigned connect_timeout_ms; /* default 1000 */
	unsigned command_timeout_ms; /* default 1000 */
	const char *prefix;          /* key prefix; default "" */
	unsigned backoff_min_ms;     /* default 100 */
	unsigned backoff_max_ms;     /* default 5000 */
	unsigned log_interval_ms;    /* default 60000 */
	rk_redis_clock_fn *clock;    /* default CLOCK_MONOTONIC; for tests */
	void *clock_arg;             /* borrowed; passed to clock */
	/* Sentinel mode when nsentinels > 0: host/port/unix_path unused. */
	const struct rk_endpoint *sentinels; /* inet endpoints */
	size_t nsentinels;
	const char *master_name;
	const char *sentinel_username, *sentinel_password;
};

struct rk_cfg_redis;
/* Fills o from relaykit.yaml's redis section; o borrows c's strings. */
void rk_redis_opts_from_cfg(
    struct rk_redis_opts *o, const struct rk_cfg_redis *c);

struct rk_redis; /* opaque */

/* What happened so far; for metrics and tests. */
struct rk_redis_stats {
	bool connected;
	uint64_t connects;         /* connections established */
	uint64_t connect_failures; /* attempts that failed */
	uint64_t drops;            /* connections lost during a command */
	uint64_t fast_failures;    /* calls refused during backoff */
	uint64_t script_loads;     /* EVALSHA answered NOSCRIPT */
	uint64_t retry_in_ms;      /* until the next attempt; 0: now */
	uint64_t backoff_ms;       /* delay after the next failure */
};

/*
 * Checks opts and copies them; does not connect.  Returns NULL with err
 * filled when an option is out of range.  Caller frees with rk_redis_free.
 */
struct rk_redis *rk_redis_new(
    const struct rk_redis_opts *opts, struct rk_err *err);
/* Closes the connection and wipes the password; accepts NULL. */
void rk_redis_free(struct rk_redis *r);

/*
 * Connects now if not connected (subject to the backoff), e.g. to report
 * an unreachable Redis at startup.  Returns 0 or -1 with err filled.
 */
int rk_redis_connect(struct rk_redis *r, struct rk_err *err);

/*
 * Sends one command in hiredis' format ("SET %s %b", key, val, vlen: %s
 * and %b are each one argument, spaces and all) and waits for its reply.
 * Returns the reply, which the caller frees with freeReplyObject (it may be
 * of type REDIS_REPLY_ERROR), or NULL with err filled when there was none.
 */
redisReply *rk_redis_command(
    struct rk_redis *r, struct rk_err *err, const char *fmt, ...);
/*
 * The same with argc arguments; argvlen NULL means strlen of each.  argv
 * is not modified (it is not const only because hiredis' prototype is not).
 */
redisReply *rk_redis_commandv(struct rk_redis *r, struct rk_err *err,
    size_t argc, const char **argv, const size_t *argvlen);

/*
 * Pipelining: queue commands with rk_redis_append (nothing is sent yet),
 * then rk_redis_pipeline sends them all in one write and reads every
 * reply into replies[0..n-1] (the caller frees each).  Returns 0, or -1
 * with err filled when the connection failed: then no reply is returned
 * (replies[] is all NULL, so a caller that frees up to the first NULL
 * frees nothing twice) and the queued commands are gone (the connection is
 * dropped, as for rk_redis_command).  Appending connects first (subject to the
 * backoff) and returns -1 when that fails.
 */
int rk_redis_append(struct rk_redis *r, struct rk_err *err, size_t argc,
    const char **argv, const size_t *argvlen);
int rk_redis_pipeline(
    struct rk_redis *r, struct rk_err *err, size_t n, redisReply **replies);
/*
 * Sends what was appended without waiting for a reply, so Redis works
 * while the caller does; rk_redis_pipeline then reads the replies (it
 * may be called several times, each for the next n).  0, or -1 with err
 * filled and the connection dropped.
 */
int rk_redis_flush(struct rk_redis *r, struct rk_err *err);

/* The key prefix; borrowed until rk_redis_free. */
const char *rk_redis_prefix(const struct rk_redis *r);
/* Resets out to prefix + formatted suffix; returns out->data. */
const char *rk_redis_key(const struct rk_redis *r, struct rk_buf *out,
    const char *fmt, ...) RK_PRINTF(3, 4);

/* "host:port" or "unix:/path", for messages; borrowed until free. */
const char *rk_redis_where(const struct rk_redis *r);
void rk_redis_stats(const struct rk_redis *r, struct rk_redis_stats *out);

/* ------------------------------------------------- replies (shared) */

/*
 * "AUTH [username] password" into argv[3]: an ACL user's login, or the
 * password alone (the default user, requirepass).  Returns argc (2 or 3).
 */
int rk_redis_auth_argv(
    const char *argv[3], const char *username, const char *password);
/*
 * The label logs give a server: "unix:/path", "host:port", "[v6]:port",
 * or with a master name (Sentinel) "name@host:port", "name@sentinels"
 * while no sentinel has answered (host NULL).
 */
void rk_redis_format_where(char *out, size_t n, const char *unix_path,
    const char *master_name, const char *host, unsigned port);

/* An error answer that means "not the master any more" (READONLY). */
bool rk_redis_reply_readonly(const redisReply *rep);
/*
 * The answer to SENTINEL get-master-addr-by-name: copies the host into
 * host[n] and the port into *port.  Returns 0, or -1 with err filled
 * (nil: the sentinel does not know the name).
 */
int rk_redis_sentinel_addr(const redisReply *rep, char *host, size_t n,
    unsigned *port, struct rk_err *err);
/*
 * The answer to ROLE: 0 if the server is a master, -1 with err filled if
 * not.  A NOPERM error (an ACL user without ROLE) is taken as a master:
 * the READONLY answers still tell.
 */
int rk_redis_role_master(const redisReply *rep, struct rk_err *err);

/* --------------------------------------------------------------- scripts */

/*
 * A Lua script run by its SHA1, so the source crosses the network only
 * when the server does not know it yet (first use, after a restart or
 * SCRIPT FLUSH).
 */
struct rk_redis_script {
	const char *source; /* borrowed: normally a string literal */
	char sha1[41];      /* hex; "" if SHA1 is unavailable: always EVAL */
};

void rk_redis_script_init(struct rk_redis_script *s, const char *source);

/*
 * EVALSHA with nkeys keys (already prefixed) and nargs arguments; on a
 * NOSCRIPT answer, EVAL, which also caches the script in the server.
 * Returns like rk_redis_command: the caller frees the reply.
 */
redisReply *rk_redis_eval(struct rk_redis *r, struct rk_err *err,
    const struct rk_redis_script *s, size_t nkeys, const char *const *keys,
    size_t nargs, const char *const *args);

#endif
