/* SPDX-License-Identifier: MIT */
/*
 * rk_log: syslog or stderr, one write(2) per line.  The settings are set
 * once at start (rk_log_open) before any thread exists and only read
 * afterwards, which is why plain statics are safe here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "rk_log.h"

static const char *log_ident = "relaykit";
static enum rk_log_dest log_dest = RK_LOG_STDERR;
static enum rk_log_level log_min = RK_LOG_INFO;
static int log_fatal_status = EX_SOFTWARE;
static rk_log_sink_fn *log_sink;
static void *log_sink_arg;

static const char *const level_names[] = {
	[RK_LOG_DEBUG] = "debug",
	[RK_LOG_INFO] = "info",
	[RK_LOG_WARN] = "warning",
	[RK_LOG_ERROR] = "error",
};

void
rk_log_open(
    const char *ident, enum rk_log_dest dest, enum rk_log_level min_level)
{
	log_ident = ident;
	log_dest = dest;
	log_min = min_level;
	if (dest == RK_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
rk_log_set_level(enum rk_log_level min_level)
{
	log_min = min_level;
}

void
rk_log_fatal_status(int status)
{
	log_fatal_status = status;
}

void
rk_log_set_sink(rk_log_sink_fn *fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

int
rk_log_level_parse(const char *s, enum rk_log_level *out)
{
	static const struct {
		const char *name;
		enum rk_log_level level;
	} names[] = {
		{ "debug", RK_LOG_DEBUG },
		{ "info", RK_LOG_INFO },
		{ "warn", RK_LOG_WARN },
		{ "warning", RK_LOG_WARN },
		{ "error", RK_LOG_ERROR },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

static void
log_emit(enum rk_log_level level, int errnum, const char *fmt, va_list ap)
{
	static const int prio[] = {
		[RK_LOG_DEBUG] = LOG_DEBUG,
		[RK_LOG_INFO] = LOG_INFO,
		[RK_LOG_WARN] = LOG_WARNING,
		[RK_LOG_ERROR] = LOG_ERR,
	};
	char line[2048], ebuf[128];
	size_t len;
	int n;

	if (level < log_min)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	len = n < 0                     ? 0
	    : (size_t)n >= sizeof(line) ? sizeof(line) - 1
	                                : (size_t)n;
	if (errnum != 0) {
		const char *e = strerror_r(errnum, ebuf, sizeof(ebuf));

		n = snprintf(line + len, sizeof(line) - len, ": %s", e);
		if (n > 0)
			len += (size_t)n < sizeof(line) - len
			    ? (size_t)n
			    : sizeof(line) - len - 1;
	}
	if (log_sink != NULL) {
		log_sink(level, line, log_sink_arg);
		return;
	}
	if (log_dest == RK_LOG_SYSLOG) {
		syslog(prio[level], "%s", line);
		return;
	}
	{
		char out[2200];
		struct timespec ts;
		struct tm tm;
		char stamp[32] = "";

		clock_gettime(CLOCK_REALTIME, &ts);
		if (gmtime_r(&ts.tv_sec, &tm) != NULL)
			strftime(
			    stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = snprintf(out, sizeof(out), "%s %s[%ld]: %s: %s\n", stamp,
		    log_ident, (long)getpid(), level_names[level], line);
		if (n > 0) {
			size_t w = (size_t)n < sizeof(out) ? (size_t)n
			                                   : sizeof(out) - 1;
			if (write(STDERR_FILENO, out, w) < 0)
				return;
		}
	}
}

#define RK_LOG_FN(name, level, with_errno)                                     \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_emit(level, with_errno ? saved : 0, fmt, ap);              \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

RK_LOG_FN(rk_log_debug, RK_LOG_DEBUG, 0)
RK_LOG_FN(rk_log_info, RK_LOG_INFO, 0)
RK_LOG_FN(rk_log_warn, RK_LOG_WARN, 1)
RK_LOG_FN(rk_log_warnx, RK_LOG_WARN, 0)
RK_LOG_FN(rk_log_error, RK_LOG_ERROR, 1)
RK_LOG_FN(rk_log_errorx, RK_LOG_ERROR, 0)

void
rk_log_fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(RK_LOG_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(log_fatal_status);
}

void
rk_log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(RK_LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(log_fatal_status);
}

void
rk_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(RK_LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	abort();
}

static int
log_safe_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

char *
rk_log_quote(char *buf, size_t n, const char *s)
{
	size_t o = 0, need_quote = 0;

	if (n == 0)
		return buf;
	if (*s == '\0')
		need_quote = 1;
	for (const char *p = s; *p; p++)
		if (!log_safe_char((unsigned char)*p))
			need_quote = 1;
	if (!need_quote) {
		snprintf(buf, n, "%s", s);
		if (strlen(s) >= n && n > 4)
			memcpy(buf + n - 4, "...", 4);
		return buf;
	}
	if (n < 8) {
		snprintf(buf, n, "\"\"");
		return buf;
	}
	buf[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char tmp[5];
		size_t tl;

		if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			tl = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			tl = 4;
		} else {
			tmp[0] = (char)*p;
			tl = 1;
		}
		if (o + tl + 2 > n - 4) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void
rk_ratelimit_init(struct rk_ratelimit *rl, uint64_t interval_ms)
{
	rl->interval_ms = interval_ms;
	rl->next_ms = 0;
	rl->suppressed = 0;
}

bool
rk_ratelimit_allow(
    struct rk_ratelimit *rl, uint64_t now_ms, unsigned long *suppressed)
{
	if (now_ms < rl->next_ms) {
		rl->suppressed++;
		return false;
	}
	if (suppressed != NULL)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->next_ms = now_ms + rl->interval_ms;
	return true;
}
