/* SPDX-License-Identifier: MIT */
/*
 * rk_parse: the value syntaxes of relaykit.yaml (rates, durations, sizes,
 * endpoints, URLs, numbers).
 *
 * Every parser is strict: no surrounding spaces, no signs where none make
 * sense, no guessing.  A value a person could mean two ways ("5M" as a
 * duration, "10/60" as a rate) is refused with a reason instead.
 * Pure functions: no I/O, no allocation, thread-safe.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_addr.h"
#include "rk_parse.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* 10 years, counting the most leap days 10 years can hold. */
#define DURATION_MAX_MS    (3653ULL * RK_MS_PER_D)
#define RATE_COUNT_MAX     1000000000ULL
#define RATE_PERIOD_MAX_MS (366ULL * RK_MS_PER_D)
#define SIZE_MAX_BYTES     (1ULL << 53)
/* Longest unit name quoted back in an error message. */
#define UNIT_ECHO_MAX 16

struct unit {
	const char *name;
	uint64_t ms;
};

/* Largest first: a duration must list its groups in this order. */
static const struct unit duration_units[] = {
	{ "d", RK_MS_PER_D },
	{ "h", RK_MS_PER_H },
	{ "m", RK_MS_PER_MIN },
	{ "s", RK_MS_PER_S },
	{ "ms", 1 },
};

/* Bounds the input once, so that no parser walks past RK_PARSE_MAX. */
static int
check_input(const char *s, size_t *lenp, struct rk_err *err)
{
	size_t len;

	if (s == NULL)
		return rk_err_set(err, "missing value");
	len = strnlen(s, RK_PARSE_MAX + 1);
	if (len == 0)
		return rk_err_set(err, "empty");
	if (len > RK_PARSE_MAX)
		return rk_err_set(err, "longer than %d octets", RK_PARSE_MAX);
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

/* Names an unexpected byte without echoing the rest of the input. */
static int
bad_char(struct rk_err *err, char c)
{
	unsigned char u = (unsigned char)c;

	if (c == '\0')
		return rk_err_set(err, "unexpected end");
	if (c == ' ' || c == '\t')
		return rk_err_set(err, "unexpected space");
	if (u > 0x20 && u < 0x7f)
		return rk_err_set(err, "unexpected character \"%c\"", c);
	return rk_err_set(err, "unexpected byte 0x%02x", u);
}

/* Why a parse stopped at c: the input ended early, or a stray byte. */
static int
missing_or_bad(struct rk_err *err, char c, const char *missing)
{
	if (c == '\0')
		return rk_err_set(err, "%s", missing);
	return bad_char(err, c);
}

/*
 * Reads the decimal digits at p and returns how many there were.  On
 * overflow *out is UINT64_MAX and *overflow is set, so each caller can
 * word the bound it enforces.
 */
static size_t
scan_digits(const char *p, uint64_t *out, bool *overflow)
{
	uint64_t v = 0;
	size_t i;

	*overflow = false;
	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = (unsigned)(p[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			*overflow = true;
		else
			v = v * 10 + d;
	}
	*out = *overflow ? UINT64_MAX : v;
	return i;
}

static size_t
scan_alpha(const char *p)
{
	size_t i = 0;

	while ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))
		i++;
	return i;
}

static int
unknown_unit(struct rk_err *err, const char *u, size_t n, const char *known)
{
	return rk_err_set(err, "unknown unit \"%.*s%s\" (use %s)",
	    (int)(n > UNIT_ECHO_MAX ? UNIT_ECHO_MAX : n), u,
	    n > UNIT_ECHO_MAX ? "..." : "", known);
}

/*
 * Units are lower case only: "M" reads as months to many people and "S"
 * is not a unit anywhere, so an upper-case unit gets its own reason.
 */
static int
duration_unit(const char *u, size_t n, size_t *idx, struct rk_err *err)
{
	size_t i;

	for (i = 0; i < NELEM(duration_units); i++)
		if (strlen(duration_units[i].name) == n &&
		    memcmp(duration_units[i].name, u, n) == 0) {
			*idx = i;
			return 0;
		}
	for (i = 0; i < NELEM(duration_units); i++)
		if (strlen(duration_units[i].name) == n &&
		    rk_mem_case_eq(duration_units[i].name, u, n))
			return rk_err_set(
			    err, "unit \"%.*s\" must be lower case", (int)n, u);
	return unknown_unit(err, u, n, "ms, s, m, h or d");
}

/* a * b + c, saturating at UINT64_MAX. */
static uint64_t
mul_add_sat(uint64_t a, uint64_t b, uint64_t c)
{
	if (b != 0 && a > (UINT64_MAX - c) / b)
		return UINT64_MAX;
	return a * b + c;
}

/*
 * NUMBER UNIT groups, largest unit first, each unit once.  With
 * implicit_one a leading unit without a number counts once ("5/m").  The
 * total saturates at UINT64_MAX: callers enforce their own maximum.
 */
static int
duration_groups(
    const char *p, bool implicit_one, uint64_t *out_ms, struct rk_err *err)
{
	uint64_t total = 0, n;
	size_t nd, nu, idx = 0, next = 0;
	bool ovf;

	while (*p != '\0') {
		nd = scan_digits(p, &n, &ovf);
		if (nd == 0 && !(implicit_one && next == 0)) {
			if (scan_alpha(p) > 0)
				return rk_err_set(err, "unit without a number");
			return bad_char(err, *p);
		}
		if (nd == 0)
			n = 1;
		p += nd;
		nu = scan_alpha(p);
		if (nu == 0)
			return missing_or_bad(err, *p,
			    "number without a unit (ms, s, m, h or d)");
		if (duration_unit(p, nu, &idx, err) == -1)
			return -1;
		if (idx < next)
			return rk_err_set(err,
			    "units must go from largest to smallest, each "
			    "once");
		total = ovf ? UINT64_MAX
		            : mul_add_sat(n, duration_units[idx].ms, total);
		next = idx + 1;
		p += nu;
	}
	*out_ms = total;
	return 0;
}

int
rk_duration_parse(
    const char *s, uint64_t bare_unit_ms, uint64_t *out_ms, struct rk_err *err)
{
	uint64_t ms;
	size_t len;
	bool ovf;

	if (check_input(s, &len, err) == -1)
		return -1;
	if (scan_digits(s, &ms, &ovf) == len) {
		if (bare_unit_ms == 0)
			return rk_err_set(
			    err, "number without a unit (ms, s, m, h or d)");
		ms = ovf ? UINT64_MAX : mul_add_sat(ms, bare_unit_ms, 0);
	} else if (duration_groups(s, false, &ms, err) == -1)
		return -1;
	if (ms > DURATION_MAX_MS)
		return rk_err_set(
		    err, "duration must be at most 3653d (10 years)");
	*out_ms = ms;
	return 0;
}

/*
 * Whole seconds as d/h/m/s groups ("1m30s"), anything finer as plain
 * milliseconds: "1500ms" reads better than "1s500ms".
 */
char *
rk_duration_format(uint64_t ms, char *buf, size_t n)
{
	char tmp[64];
	size_t off = 0;

	if (ms == 0) {
		snprintf(buf, n, "0s");
		return buf;
	}
	if (ms % RK_MS_PER_S != 0) {
		snprintf(buf, n, "%" PRIu64 "ms", ms);
		return buf;
	}
	tmp[0] = '\0';
	for (size_t i = 0; i + 1 < NELEM(duration_units); i++) {
		uint64_t q = ms / duration_units[i].ms;

		if (q == 0)
			continue;
		off += (size_t)snprintf(tmp + off, sizeof(tmp) - off,
		    "%" PRIu64 "%s", q, duration_units[i].name);
		ms %= duration_units[i].ms;
	}
	snprintf(buf, n, "%s", tmp);
	return buf;
}

static int
rate_period(const char *p, uint64_t *out_ms, struct rk_err *err)
{
	uint64_t ms, n;
	bool ovf;

	if (*p == '\0')
		return rk_err_set(err, "missing period after \"/\"");
	if (scan_digits(p, &n, &ovf) == strlen(p))
		return rk_err_set(
		    err, "period needs a unit (ms, s, m, h or d)");
	if (duration_groups(p, true, &ms, err) == -1)
		return -1;
	if (ms == 0)
		return rk_err_set(err, "period must be at least 1ms");
	if (ms > RATE_PERIOD_MAX_MS)
		return rk_err_set(err, "period must be at most 366d");
	*out_ms = ms;
	return 0;
}

int
rk_rate_parse(const char *s, struct rk_rate *out, struct rk_err *err)
{
	uint64_t count, period = 0;
	size_t nd;
	bool ovf;

	if (check_input(s, NULL, err) == -1)
		return -1;
	nd = scan_digits(s, &count, &ovf);
	if (nd == 0 && s[0] == '/')
		return rk_err_set(err, "missing count before \"/\"");
	if (nd == 0)
		return bad_char(err, s[0]);
	if (s[nd] != '/')
		return missing_or_bad(err, s[nd], "missing \"/PERIOD\"");
	if (count < 1 || count > RATE_COUNT_MAX)
		return rk_err_set(err, "count must be 1..1000000000");
	if (rate_period(s + nd + 1, &period, err) == -1)
		return -1;
	out->count = count;
	out->period_ms = period;
	return 0;
}

char *
rk_rate_format(const struct rk_rate *r, char *buf, size_t n)
{
	char period[64];

	rk_duration_format(r->period_ms, period, sizeof(period));
	snprintf(buf, n, "%" PRIu64 "/%s", r->count, period);
	return buf;
}

/*
 * k, M, G in either case (a byte count has no milli), then nothing, "B"
 * or "iB": all mean powers of 1024, as in Postfix.
 */
static int
size_unit(const char *u, uint64_t *mult, struct rk_err *err)
{
	static const char letters[] = "kmg";
	const char *l;
	size_t n = strlen(u);

	*mult = 1;
	if (n == 0 || strcmp(u, "B") == 0)
		return 0;
	l = memchr(letters, rk_ascii_lower(u[0]), 3);
	if (l == NULL ||
	    (strcmp(u + 1, "") != 0 && strcmp(u + 1, "B") != 0 &&
	        strcmp(u + 1, "iB") != 0))
		return unknown_unit(err, u, n, "k, M or G");
	*mult = 1ULL << (10 * (l - letters + 1));
	return 0;
}

int
rk_size_parse(const char *s, uint64_t *out_bytes, struct rk_err *err)
{
	uint64_t n, mult;
	size_t nd, nu;
	bool ovf;

	if (check_input(s, NULL, err) == -1)
		return -1;
	nd = scan_digits(s, &n, &ovf);
	if (nd == 0 && scan_alpha(s) > 0)
		return rk_err_set(err, "unit without a number");
	if (nd == 0)
		return bad_char(err, s[0]);
	nu = scan_alpha(s + nd);
	if (s[nd + nu] != '\0')
		return bad_char(err, s[nd + nu]);
	if (size_unit(s + nd, &mult, err) == -1)
		return -1;
	if (ovf || mul_add_sat(n, mult, 0) > SIZE_MAX_BYTES)
		return rk_err_set(err, "size must be at most 2^53 bytes");
	*out_bytes = n * mult;
	return 0;
}

/* A port given as exactly len digits ("25"), no service names. */
static int
parse_port(const char *p, size_t len, uint16_t *out, struct rk_err *err)
{
	uint64_t v;
	size_t nd;
	bool ovf;

	if (len == 0)
		return rk_err_set(err, "missing port");
	nd = scan_digits(p, &v, &ovf);
	if (nd < len)
		return bad_char(err, p[nd]);
	if (v < 1 || v > 65535)
		return rk_err_set(err, "port must be 1..65535");
	*out = (uint16_t)v;
	return 0;
}

/* The inside of [...]: an IPv6 literal, stored in inet_ntop form. */
static int
host_v6(const char *p, size_t len, char *out, size_t outsz, struct rk_err *err)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (memchr(p, '%', len) != NULL)
		return rk_err_set(err, "IPv6 zone ids are not supported");
	if (len == 0 || len >= sizeof(tmp))
		return rk_err_set(err, "bad IPv6 address");
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) != 1)
		return rk_err_set(err, "bad IPv6 address");
	if (inet_ntop(AF_INET6, &a, out, (socklen_t)outsz) == NULL)
		rk_panic("inet_ntop: buffer of %zu too small", outsz);
	return 0;
}

static bool
all_digits_dots(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((p[i] < '0' || p[i] > '9') && p[i] != '.')
			return false;
	return true;
}

/*
 * "tcp:host:port" or "local:/path": a scheme we do not know, rather than a
 * host.  Letters that could be the first group of an unbracketed IPv6
 * address ("dead:beef::1:25") are left to the host check.
 */
static bool
unknown_scheme(const char *s, size_t *np)
{
	size_t n = scan_alpha(s);

	if (n == 0 || s[n] != ':' || s[n + 1] == ':')
		return false;
	if (s[n + 1] != '/' &&
	    (strchr(s + n + 1, ':') == NULL || strspn(s, "abcdefABCDEF") == n))
		return false;
	*np = n;
	return true;
}

/* A host name or IPv4 literal of len bytes, lower-cased into out. */
static int
host_parse(
    const char *p, size_t len, char *out, size_t outsz, struct rk_err *err)
{
	char tmp[INET_ADDRSTRLEN];
	struct in_addr a;

	if (len == 0)
		return rk_err_set(err, "missing host");
	if (memchr(p, ':', len) != NULL)
		return rk_err_set(
		    err, "IPv6 addresses need brackets ([::1]:port)");
	if (all_digits_dots(p, len)) {
		if (len >= sizeof(tmp))
			return rk_err_set(err, "bad IPv4 address");
		memcpy(tmp, p, len);
		tmp[len] = '\0';
		if (inet_pton(AF_INET, tmp, &a) != 1)
			return rk_err_set(err, "bad IPv4 address");
	} else if (rk_domain_check(p, len, 0, err) == -1)
		return -1;
	if (len >= outsz)
		return rk_err_set(err, "host name too long");
	memcpy(out, p, len);
	out[len] = '\0';
	rk_str_lower(out);
	return 0;
}

static int
endpoint_unix(const char *p, struct rk_endpoint *ep, struct rk_err *err)
{
	size_t len = strlen(p);

	if (len == 0)
		return rk_err_set(err, "missing socket path");
	if (p[0] != '/')
		return rk_err_set(err, "socket path must be absolute");
	if (len >= sizeof(ep->path))
		return rk_err_set(err, "socket path longer than %zu octets",
		    sizeof(ep->path) - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return bad_char(err, p[i]);
	ep->kind = RK_EP_UNIX;
	memcpy(ep->path, p, len + 1);
	return 0;
}

static int
endpoint_inet(
    const char *p, bool v6only, struct rk_endpoint *ep, struct rk_err *err)
{
	const char *colon, *close;

	ep->kind = RK_EP_INET;
	if (p[0] == '[') {
		close = strchr(p, ']');
		if (close == NULL)
			return rk_err_set(err, "missing \"]\"");
		if (host_v6(p + 1, (size_t)(close - p - 1), ep->host,
		        sizeof(ep->host), err) == -1)
			return -1;
		colon = close + 1;
		if (*colon != ':')
			return missing_or_bad(err, *colon, "missing port");
	} else {
		if (v6only)
			return rk_err_set(err,
			    "inet6 needs an address in brackets ([::1]:port)");
		colon = strrchr(p, ':');
		if (colon == NULL)
			return rk_err_set(err, "missing port");
		if (host_parse(p, (size_t)(colon - p), ep->host,
		        sizeof(ep->host), err) == -1)
			return -1;
	}
	return parse_port(colon + 1, strlen(colon + 1), &ep->port, err);
}

int
rk_endpoint_parse(const char *s, struct rk_endpoint *out, struct rk_err *err)
{
	struct rk_endpoint ep;
	size_t n;
	int r;

	if (check_input(s, NULL, err) == -1)
		return -1;
	memset(&ep, 0, sizeof(ep));
	if (strncmp(s, "unix:", 5) == 0)
		r = endpoint_unix(s + 5, &ep, err);
	else if (s[0] == '/')
		r = endpoint_unix(s, &ep, err);
	else if (strncmp(s, "inet:", 5) == 0)
		r = endpoint_inet(s + 5, false, &ep, err);
	else if (strncmp(s, "inet6:", 6) == 0)
		r = endpoint_inet(s + 6, true, &ep, err);
	else if (unknown_scheme(s, &n))
		r = rk_err_set(err,
		    "unknown scheme \"%.*s\" (use unix or inet)",
		    (int)(n > UNIT_ECHO_MAX ? UNIT_ECHO_MAX : n), s);
	else
		r = endpoint_inet(s, false, &ep, err);
	if (r == 0)
		*out = ep;
	return r;
}

char *
rk_endpoint_format(const struct rk_endpoint *ep, char *buf, size_t n)
{
	if (ep->kind == RK_EP_UNIX)
		snprintf(buf, n, "unix:%s", ep->path);
	else if (strchr(ep->host, ':') != NULL)
		snprintf(buf, n, "inet:[%s]:%u", ep->host, (unsigned)ep->port);
	else
		snprintf(buf, n, "inet:%s:%u", ep->host, (unsigned)ep->port);
	return buf;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Bytes no URL of ours may hold, checked once over the whole URL. */
static int
url_chars(const char *p, struct rk_err *err)
{
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '\t')
			return rk_err_set(err, "spaces are not allowed");
		if (c < 0x20 || c == 0x7f)
			return rk_err_set(
			    err, "control characters are not allowed");
		if (c >= 0x80)
			return rk_err_set(err,
			    "non-ASCII characters must be percent-encoded");
		if (c == '#')
			return rk_err_set(err, "fragments are not allowed");
		if (c == '%' && (!is_hex(p[1]) || !is_hex(p[2])))
			return rk_err_set(err, "bad percent-encoding");
	}
	return 0;
}

/* host[:port] or [v6][:port], len bytes that end before the path. */
static int
url_authority(const char *p, size_t len, struct rk_url *u, struct rk_err *err)
{
	const char *close, *colon = NULL;
	size_t hlen;

	if (memchr(p, '@', len) != NULL)
		return rk_err_set(err, "user info is not allowed");
	if (len > 0 && p[0] == '[') {
		close = memchr(p, ']', len);
		if (close == NULL)
			return rk_err_set(err, "missing \"]\"");
		if (host_v6(p + 1, (size_t)(close - p - 1), u->host,
		        sizeof(u->host), err) == -1)
			return -1;
		hlen = (size_t)(close - p) + 1;
		if (hlen < len && p[hlen] != ':')
			return bad_char(err, p[hlen]);
	} else {
		for (hlen = 0; hlen < len && p[hlen] != ':'; hlen++)
			continue;
		if (hlen < len && memchr(p + hlen + 1, ':', len - hlen - 1))
			return rk_err_set(
			    err, "IPv6 addresses need brackets ([::1]:port)");
		if (host_parse(p, hlen, u->host, sizeof(u->host), err) == -1)
			return -1;
	}
	if (hlen < len)
		colon = p + hlen;
	if (colon == NULL)
		return 0;
	return parse_port(colon + 1, len - hlen - 1, &u->port, err);
}

int
rk_url_parse(const char *s, struct rk_url *out, struct rk_err *err)
{
	struct rk_url u;
	const char *p, *path;
	size_t len;

	if (check_input(s, &len, err) == -1)
		return -1;
	memset(&u, 0, sizeof(u));
	if (len >= 7 && rk_mem_case_eq(s, "http://", 7)) {
		p = s + 7;
		u.port = 80;
	} else if (len >= 8 && rk_mem_case_eq(s, "https://", 8)) {
		p = s + 8;
		u.https = true;
		u.port = 443;
	} else
		return rk_err_set(err, "scheme must be http or https");
	if (url_chars(p, err) == -1)
		return -1;
	path = p + strcspn(p, "/?");
	if (url_authority(p, (size_t)(path - p), &u, err) == -1)
		return -1;
	if (strlen(path) + (*path != '/') >= sizeof(u.path))
		return rk_err_set(
		    err, "path longer than %zu octets", sizeof(u.path) - 1);
	u.path[0] = '/';
	memcpy(u.path + (*path != '/'), path, strlen(path) + 1);
	*out = u;
	return 0;
}

int
rk_u64_parse(const char *s, uint64_t max, uint64_t *out, struct rk_err *err)
{
	uint64_t v;
	size_t len, nd;
	bool ovf;

	if (check_input(s, &len, err) == -1)
		return -1;
	nd = scan_digits(s, &v, &ovf);
	if (nd == 0 && (s[0] == '-' || s[0] == '+'))
		return rk_err_set(err, "sign not allowed");
	if (nd < len)
		return bad_char(err, s[nd]);
	if (ovf || v > max)
		return rk_err_set(err, "must be at most %" PRIu64, max);
	*out = v;
	return 0;
}

/*
 * The grammar is checked here and strtod only converts.  strtod follows
 * LC_NUMERIC; should a program ever set a locale with a decimal comma,
 * "1.5" stops converting at the dot and is refused rather than misread.
 */
int
rk_double_parse(const char *s, double *out, struct rk_err *err)
{
	const char *p;
	char *end;
	uint64_t ignored;
	size_t nd;
	double v;
	bool ovf;

	if (check_input(s, NULL, err) == -1)
		return -1;
	p = s + (s[0] == '-');
	nd = scan_digits(p, &ignored, &ovf);
	if (nd == 0)
		return bad_char(err, *p);
	p += nd;
	if (*p == '.') {
		nd = scan_digits(p + 1, &ignored, &ovf);
		if (nd == 0)
			return rk_err_set(err, "missing digits after \".\"");
		p += 1 + nd;
	}
	if (*p != '\0')
		return bad_char(err, *p);
	v = strtod(s, &end);
	if (*end != '\0')
		return rk_err_set(err, "not a decimal number here");
	if (!isfinite(v))
		return rk_err_set(err, "number too large");
	*out = v;
	return 0;
}
