/* SPDX-License-Identifier: MIT */
/*
 * rk_parse: the value syntaxes relaykit.yaml uses (rates, durations, sizes,
 * listen addresses, URLs).  Pure functions of their input: no I/O, no
 * allocation except where an out struct says so, thread-safe.
 *
 * Each parser returns 0, or -1 with a short reason in err (if not NULL),
 * e.g. "period must be at least 1ms".  The caller adds what it wanted and
 * what it got.  Inputs longer than RK_PARSE_MAX are refused.
 */
#ifndef RK_PARSE_H
#define RK_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rk_str.h"

#define RK_PARSE_MAX 4096

#define RK_MS_PER_S   1000ULL
#define RK_MS_PER_MIN (60ULL * RK_MS_PER_S)
#define RK_MS_PER_H   (60ULL * RK_MS_PER_MIN)
#define RK_MS_PER_D   (24ULL * RK_MS_PER_H)

/* "N/PERIOD": 10/1m, 1/20s, 1000/1d, 5/m (period count defaults to 1). */
struct rk_rate {
	uint64_t count;     /* 1 .. 1e9 */
	uint64_t period_ms; /* 1 ms .. 366 d */
};
int rk_rate_parse(const char *s, struct rk_rate *out, struct rk_err *err);
/* "10/1m" style text into buf (size n); returns buf. */
char *rk_rate_format(const struct rk_rate *r, char *buf, size_t n);

/*
 * Durations: one or more NUMBER UNIT groups, units ms s m h d ("500ms",
 * "5s", "1m30s", "7d").  A bare number is multiplied by bare_unit_ms; with
 * bare_unit_ms 0 a bare number is refused.  At most 10 years.
 */
int rk_duration_parse(
    const char *s, uint64_t bare_unit_ms, uint64_t *out_ms, struct rk_err *err);
/* Shortest exact form: 90000 -> "1m30s", 0 -> "0s", 1500 -> "1500ms". */
char *rk_duration_format(uint64_t ms, char *buf, size_t n);

/*
 * Sizes in bytes: "26214400", "512k", "25M", "25MB", "25MiB", "1G".
 * k/K/KB/KiB = 1024, M = 1024^2, G = 1024^3 (as Postfix and most MTAs
 * mean them).  At most 2^53.
 */
int rk_size_parse(const char *s, uint64_t *out_bytes, struct rk_err *err);

/*
 * Where a daemon listens or a client connects:
 *   "unix:/run/relaykit/milter.sock"  or "/run/…" (an absolute path)
 *   "inet:127.0.0.1:10025", "127.0.0.1:10025", "[::1]:10025",
 *   "localhost:10025", "inet6:[::1]:10025"
 * Host names are checked for syntax only, never resolved here.
 */
enum rk_endpoint_kind {
	RK_EP_UNIX,
	RK_EP_INET,
};
struct rk_endpoint {
	enum rk_endpoint_kind kind;
	char path[108]; /* RK_EP_UNIX: socket path (sun_path size) */
	char host[256]; /* RK_EP_INET: host name or literal, no brackets */
	uint16_t port;  /* RK_EP_INET: 1 .. 65535 */
};
int rk_endpoint_parse(
    const char *s, struct rk_endpoint *out, struct rk_err *err);
/* Canonical text ("unix:/path", "inet:host:port", "inet:[::1]:port"). */
char *rk_endpoint_format(const struct rk_endpoint *ep, char *buf, size_t n);

/*
 * Absolute http or https URLs: scheme, host (name, IPv4 or [IPv6]),
 * optional port, path with query.  No user-info, no fragment, no spaces or
 * control characters.
 */
struct rk_url {
	bool https;
	char host[256];  /* no brackets */
	uint16_t port;   /* explicit or the scheme's default */
	char path[2048]; /* starts with '/'; "/" when absent */
};
int rk_url_parse(const char *s, struct rk_url *out, struct rk_err *err);

/* Decimal unsigned integer, no sign, no leading '+', no spaces. */
int rk_u64_parse(
    const char *s, uint64_t max, uint64_t *out, struct rk_err *err);
/* Finite decimal number ("1.5", "2", "0.9"); no hex, inf or nan. */
int rk_double_parse(const char *s, double *out, struct rk_err *err);

#endif
