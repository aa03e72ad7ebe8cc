/* SPDX-License-Identifier: MIT */
/*
 * rk_log: one logging ladder for every relaykit program.
 *
 * debug/info/warn for events; fatal for the environment (exits EX_SOFTWARE
 * unless rk_log_fatal_status() set another code); rk_panic for our own bugs
 * (aborts with a core).  The plain forms append ": strerror(errno)", the
 * "x" forms do not.  Lines go to syslog (facility mail) or to stderr, one
 * write per line, so lines from several threads never interleave.
 *
 * Log lines are "key=value" decisions (queue_id=… action=… reason=…).
 * Never pass a secret or a message body: nothing here can tell.  Use
 * rk_log_quote() for values that may hold spaces or control characters.
 *
 * Threading: rk_log_open() is called once by main before threads start;
 * every other function is thread-safe.
 */
#ifndef RK_LOG_H
#define RK_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rk_log_level {
	RK_LOG_DEBUG,
	RK_LOG_INFO,
	RK_LOG_WARN,
	RK_LOG_ERROR,
};

enum rk_log_dest {
	RK_LOG_STDERR,
	RK_LOG_SYSLOG,
};

#define RK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define RK_NORETURN     __attribute__((noreturn))

/* ident is borrowed for the life of the process. */
void rk_log_open(
    const char *ident, enum rk_log_dest dest, enum rk_log_level min_level);
void rk_log_set_level(enum rk_log_level min_level);
/* Parses "debug", "info", "warn", "error"; returns 0 or -1. */
int rk_log_level_parse(const char *s, enum rk_log_level *out);
/* The exit status rk_log_fatal* use (default EX_SOFTWARE). */
void rk_log_fatal_status(int status);

void rk_log_debug(const char *fmt, ...) RK_PRINTF(1, 2);
void rk_log_info(const char *fmt, ...) RK_PRINTF(1, 2);
void rk_log_warn(const char *fmt, ...) RK_PRINTF(1, 2);
void rk_log_warnx(const char *fmt, ...) RK_PRINTF(1, 2);
/* Something failed that the program cannot do its job without (a start
   or a reload that does not happen); the caller decides what follows. */
void rk_log_error(const char *fmt, ...) RK_PRINTF(1, 2);
void rk_log_errorx(const char *fmt, ...) RK_PRINTF(1, 2);
void rk_log_fatal(const char *fmt, ...) RK_PRINTF(1, 2) RK_NORETURN;
void rk_log_fatalx(const char *fmt, ...) RK_PRINTF(1, 2) RK_NORETURN;
void rk_panic(const char *fmt, ...) RK_PRINTF(1, 2) RK_NORETURN;

/*
 * Writes s into buf (size n) as a log value: unchanged when it is made of
 * safe characters, else in double quotes with \" \\ and \xNN escapes;
 * truncated with "..." to fit.  Returns buf.
 */
char *rk_log_quote(char *buf, size_t n, const char *s);

/* Tests: capture lines instead of writing them.  Not thread-safe. */
typedef void rk_log_sink_fn(
    enum rk_log_level level, const char *line, void *arg);
void rk_log_set_sink(rk_log_sink_fn *fn, void *arg);

/*
 * Lets one event through per interval and counts the rest, so a dependency
 * that is down produces one log line per interval instead of one per call.
 * Not thread-safe: one owner, like the connection it guards.
 */
struct rk_ratelimit {
	uint64_t interval_ms;
	uint64_t next_ms;         /* an event before this is suppressed */
	unsigned long suppressed; /* since the last event let through */
};

void rk_ratelimit_init(struct rk_ratelimit *rl, uint64_t interval_ms);
/*
 * true if an event at now_ms may be logged; then *suppressed (if not NULL)
 * gets the number of events refused since the previous one let through.
 */
bool rk_ratelimit_allow(
    struct rk_ratelimit *rl, uint64_t now_ms, unsigned long *suppressed);

#endif
