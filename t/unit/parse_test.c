/* SPDX-License-Identifier: MIT */
/*
 * t/unit/parse_test.c: the relaykit.yaml value syntaxes of lib/rk_parse,
 * valid and invalid, with the reason each invalid value gets and the
 * canonical text each valid one formats back to.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rk_parse.h"
#include "tap.h"

#define MIN_MS RK_MS_PER_MIN
#define H_MS   RK_MS_PER_H
#define D_MS   RK_MS_PER_D

/*
 * Checks that a refusal gives the expected reason and, as the callers
 * print the input themselves, does not echo it.
 */
static void
check_refused(int rc, const struct rk_err *err, const char *in,
    const char *want, const char *name)
{
	bool echoed = strlen(in) >= 3 && strstr(err->msg, in) != NULL;

	if (!ok(rc == -1 && strstr(err->msg, want) != NULL && !echoed,
	        "%s: refused with \"%s\"", name, want))
		diag("  rc %d, reason \"%s\"", rc, err->msg);
}

struct rate_case {
	const char *name;
	const char *in;
	uint64_t count;
	uint64_t period_ms;
	const char *want; /* formatted text, or the reason when count is 0 */
};

static const struct rate_case rate_cases[] = {
	{ "per minute", "10/1m", 10, MIN_MS, "10/1m" },
	{ "per 20 seconds", "1/20s", 1, 20000, "1/20s" },
	{ "per day", "1000/1d", 1000, D_MS, "1000/1d" },
	{ "period count defaults to 1", "5/m", 5, MIN_MS, "5/1m" },
	{ "per hour", "60/h", 60, H_MS, "60/1h" },
	{ "smallest period", "1/1ms", 1, 1, "1/1ms" },
	{ "largest count and period", "1000000000/366d", 1000000000, 366 * D_MS,
	    "1000000000/366d" },
	{ "compound period", "3/1m30s", 3, 90000, "3/1m30s" },
	{ "period in seconds formats as minutes", "100/90s", 100, 90000,
	    "100/1m30s" },
	{ "sub-second period", "7/1500ms", 7, 1500, "7/1500ms" },
	{ "leading zeros", "0010/1h", 10, H_MS, "10/1h" },
	{ "empty", "", 0, 0, "empty" },
	{ "no period", "10", 0, 0, "missing \"/PERIOD\"" },
	{ "no count", "/1m", 0, 0, "missing count" },
	{ "zero count", "0/1m", 0, 0, "count must be 1..1000000000" },
	{ "count too large", "1000000001/1s", 0, 0,
	    "count must be 1..1000000000" },
	{ "count overflows 64 bits", "99999999999999999999/1s", 0, 0,
	    "count must be 1..1000000000" },
	{ "zero period", "10/0s", 0, 0, "period must be at least 1ms" },
	{ "bare period number", "10/1", 0, 0, "period needs a unit" },
	{ "bare period 60", "10/60", 0, 0, "period needs a unit" },
	{ "empty period", "10/", 0, 0, "missing period" },
	{ "period over a year", "10/367d", 0, 0,
	    "period must be at most 366d" },
	{ "period overflows", "10/99999999999999999999s", 0, 0,
	    "period must be at most 366d" },
	{ "upper-case unit", "10/1M", 0, 0, "unit \"M\" must be lower case" },
	{ "unknown unit", "10/1x", 0, 0, "unknown unit \"x\"" },
	{ "word unit", "10/1min", 0, 0, "unknown unit \"min\"" },
	{ "spaces around slash", "10 / 1m", 0, 0, "unexpected space" },
	{ "leading space", " 10/1m", 0, 0, "unexpected space" },
	{ "trailing space", "10/1m ", 0, 0, "unexpected space" },
	{ "prose", "10 per min", 0, 0, "unexpected space" },
	{ "negative count", "-1/1s", 0, 0, "unexpected character \"-\"" },
	{ "units out of order", "10/1s1m", 0, 0, "largest to smallest" },
	{ "unit twice", "10/1m1m", 0, 0, "largest to smallest" },
	{ "two slashes", "10/1/1m", 0, 0, "unexpected character \"/\"" },
	{ "fractional count", "1.5/1s", 0, 0, "unexpected character \".\"" },
	{ "control byte", "10/1m\x01", 0, 0, "unexpected byte 0x01" },
};

static void
test_rates(void)
{
	char buf[64];

	for (size_t i = 0; i < sizeof(rate_cases) / sizeof(rate_cases[0]);
	     i++) {
		const struct rate_case *c = &rate_cases[i];
		struct rk_rate r = { 0, 0 };
		struct rk_err err = { "" };
		int rc = rk_rate_parse(c->in, &r, &err);

		if (c->count == 0) {
			check_refused(rc, &err, c->in, c->want, c->name);
			continue;
		}
		if (!ok(rc == 0 && r.count == c->count &&
		            r.period_ms == c->period_ms,
		        "rate %s: \"%s\"", c->name, c->in))
			diag("  rc %d (%s), %" PRIu64 "/%" PRIu64 "ms", rc,
			    err.msg, r.count, r.period_ms);
		is_str(rk_rate_format(&r, buf, sizeof(buf)), c->want,
		    "rate %s: formats", c->name);
	}
}

struct duration_case {
	const char *name;
	const char *in;
	uint64_t bare_unit_ms;
	int rc;
	uint64_t ms;
	const char *want; /* formatted text, or the reason */
};

static const struct duration_case duration_cases[] = {
	{ "milliseconds", "500ms", 0, 0, 500, "500ms" },
	{ "seconds", "5s", 0, 0, 5000, "5s" },
	{ "minutes and seconds", "1m30s", 0, 0, 90000, "1m30s" },
	{ "seconds over a minute", "90s", 0, 0, 90000, "1m30s" },
	{ "days", "7d", 0, 0, 7 * D_MS, "7d" },
	{ "every unit", "1d2h3m4s5ms", 0, 0, 93784005, "93784005ms" },
	{ "zero group", "1h0m", 0, 0, H_MS, "1h" },
	{ "zero seconds", "0s", 0, 0, 0, "0s" },
	{ "zero milliseconds", "0ms", 0, 0, 0, "0s" },
	{ "bare number in seconds", "30", 1000, 0, 30000, "30s" },
	{ "bare zero", "0", 1000, 0, 0, "0s" },
	{ "bare number in minutes", "120", MIN_MS, 0, 2 * H_MS, "2h" },
	{ "ten years", "3653d", 0, 0, 3653 * D_MS, "3653d" },
	{ "sub-second", "1500ms", 0, 0, 1500, "1500ms" },
	{ "hours over a day", "25h", 0, 0, 25 * H_MS, "1d1h" },
	{ "leading zeros", "007s", 0, 0, 7000, "7s" },
	{ "empty", "", 0, -1, 0, "empty" },
	{ "bare number refused", "30", 0, -1, 0, "number without a unit" },
	{ "bare zero refused", "0", 0, -1, 0, "number without a unit" },
	{ "trailing bare number", "1m30", 0, -1, 0, "number without a unit" },
	{ "trailing bare number with bare unit", "1m30", 1000, -1, 0,
	    "number without a unit" },
	{ "unit alone", "m", 0, -1, 0, "unit without a number" },
	{ "upper-case S", "5S", 0, -1, 0, "unit \"S\" must be lower case" },
	{ "upper-case M", "5M", 0, -1, 0, "unit \"M\" must be lower case" },
	{ "mixed-case ms", "5Ms", 0, -1, 0, "unit \"Ms\" must be lower case" },
	{ "unknown unit", "5x", 0, -1, 0, "unknown unit \"x\"" },
	{ "long unit", "5seconds", 0, -1, 0, "unknown unit \"seconds\"" },
	{ "very long unit echoed short", "5aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
	    -1, 0, "unknown unit \"aaaaaaaaaaaaaaaa...\"" },
	{ "space between groups", "1m 30s", 0, -1, 0, "unexpected space" },
	{ "space before unit", "5 s", 0, -1, 0, "unexpected space" },
	{ "units out of order", "1s1m", 0, -1, 0, "largest to smallest" },
	{ "unit twice", "1s1s", 0, -1, 0, "largest to smallest" },
	{ "over ten years", "3654d", 0, -1, 0, "at most 3653d" },
	{ "ten years and a millisecond", "3653d1ms", 0, -1, 0,
	    "at most 3653d" },
	{ "number overflows", "99999999999999999999s", 0, -1, 0,
	    "at most 3653d" },
	{ "product overflows", "18446744073709551615d", 0, -1, 0,
	    "at most 3653d" },
	{ "bare number overflows", "99999999999999999999", 1000, -1, 0,
	    "at most 3653d" },
	{ "bare number over ten years", "315576000001", 1000, -1, 0,
	    "at most 3653d" },
	{ "negative", "-5s", 0, -1, 0, "unexpected character \"-\"" },
	{ "fraction", "1.5s", 0, -1, 0, "unexpected character \".\"" },
	{ "plus sign", "+5s", 0, -1, 0, "unexpected character \"+\"" },
	{ "non-ASCII", "5\xc2\xb5s", 0, -1, 0, "unexpected byte 0xc2" },
};

static void
test_durations(void)
{
	char buf[64];

	for (size_t i = 0;
	     i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
		const struct duration_case *c = &duration_cases[i];
		struct rk_err err = { "" };
		uint64_t ms = 12345;
		int rc = rk_duration_parse(c->in, c->bare_unit_ms, &ms, &err);

		if (c->rc == -1) {
			check_refused(rc, &err, c->in, c->want, c->name);
			continue;
		}
		if (!ok(rc == 0 && ms == c->ms, "duration %s: \"%s\"", c->name,
		        c->in))
			diag("  rc %d (%s), %" PRIu64 "ms", rc, err.msg, ms);
		is_str(rk_duration_format(ms, buf, sizeof(buf)), c->want,
		    "duration %s: formats", c->name);
	}
}

static void
test_duration_format(void)
{
	static const struct {
		uint64_t ms;
		const char *want;
	} cases[] = {
		{ 0, "0s" },
		{ 1, "1ms" },
		{ 999, "999ms" },
		{ 1000, "1s" },
		{ 1001, "1001ms" },
		{ 90000, "1m30s" },
		{ D_MS, "1d" },
		{ D_MS + H_MS + MIN_MS + 1000, "1d1h1m1s" },
		{ UINT64_MAX, "18446744073709551615ms" },
		{ UINT64_MAX / 1000 * 1000, "213503982334d14h25m51s" },
	};
	char buf[64], small[3];
	uint64_t back;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_str(rk_duration_format(cases[i].ms, buf, sizeof(buf)),
		    cases[i].want, "duration format %" PRIu64, cases[i].ms);
		if (cases[i].ms <= 3653 * D_MS)
			ok(rk_duration_parse(buf, 0, &back, NULL) == 0 &&
			        back == cases[i].ms,
			    "duration %s reparses", buf);
	}
	is_str(rk_duration_format(90000, small, sizeof(small)), "1m",
	    "duration format truncates to the buffer");
}

struct size_case {
	const char *name;
	const char *in;
	int rc;
	uint64_t bytes;
	const char *reason;
};

static const struct size_case size_cases[] = {
	{ "plain bytes", "26214400", 0, 26214400, NULL },
	{ "zero", "0", 0, 0, NULL },
	{ "bytes with B", "100B", 0, 100, NULL },
	{ "lower k", "512k", 0, 524288, NULL },
	{ "upper K", "512K", 0, 524288, NULL },
	{ "KB", "512KB", 0, 524288, NULL },
	{ "kB", "512kB", 0, 524288, NULL },
	{ "KiB", "512KiB", 0, 524288, NULL },
	{ "M", "25M", 0, 26214400, NULL },
	{ "lower m (bytes have no milli)", "25m", 0, 26214400, NULL },
	{ "MB", "25MB", 0, 26214400, NULL },
	{ "MiB", "25MiB", 0, 26214400, NULL },
	{ "G", "1G", 0, 1073741824, NULL },
	{ "GiB", "2GiB", 0, 2147483648ULL, NULL },
	{ "2^53 in G", "8388608G", 0, 1ULL << 53, NULL },
	{ "2^53 in bytes", "9007199254740992", 0, 1ULL << 53, NULL },
	{ "empty", "", -1, 0, "empty" },
	{ "2^53 + 1", "9007199254740993", -1, 0, "at most 2^53" },
	{ "over 2^53 in G", "8388609G", -1, 0, "at most 2^53" },
	{ "overflows 64 bits", "99999999999999999999", -1, 0, "at most 2^53" },
	{ "product overflows", "18446744073709551615G", -1, 0, "at most 2^53" },
	{ "terabytes", "1T", -1, 0, "unknown unit \"T\"" },
	{ "bits", "25Mb", -1, 0, "unknown unit \"Mb\"" },
	{ "trailing s", "25MiBs", -1, 0, "unknown unit \"MiBs\"" },
	{ "space before unit", "25 M", -1, 0, "unexpected space" },
	{ "negative", "-1", -1, 0, "unexpected character \"-\"" },
	{ "unit alone", "M", -1, 0, "unit without a number" },
	{ "fraction", "1.5M", -1, 0, "unexpected character \".\"" },
	{ "hex", "0x10", -1, 0, "unexpected character \"1\"" },
};

static void
test_sizes(void)
{
	for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]);
	     i++) {
		const struct size_case *c = &size_cases[i];
		struct rk_err err = { "" };
		uint64_t v = 12345;
		int rc = rk_size_parse(c->in, &v, &err);

		if (c->rc == -1)
			check_refused(rc, &err, c->in, c->reason, c->name);
		else if (!ok(rc == 0 && v == c->bytes, "size %s: \"%s\"",
		             c->name, c->in))
			diag("  rc %d (%s), %" PRIu64, rc, err.msg, v);
	}
}

struct endpoint_case {
	const char *name;
	const char *in;
	const char *want; /* canonical text, or NULL when refused */
	const char *host_or_reason;
	unsigned port;
};

static const struct endpoint_case endpoint_cases[] = {
	{ "unix socket", "unix:/run/relaykit/milter.sock",
	    "unix:/run/relaykit/milter.sock", NULL, 0 },
	{ "absolute path", "/run/x.sock", "unix:/run/x.sock", NULL, 0 },
	{ "inet IPv4", "inet:127.0.0.1:10025", "inet:127.0.0.1:10025",
	    "127.0.0.1", 10025 },
	{ "bare IPv4", "127.0.0.1:10025", "inet:127.0.0.1:10025", "127.0.0.1",
	    10025 },
	{ "bracketed IPv6", "[::1]:10025", "inet:[::1]:10025", "::1", 10025 },
	{ "inet6 prefix", "inet6:[::1]:10025", "inet:[::1]:10025", "::1",
	    10025 },
	{ "inet with IPv6", "inet:[::1]:10025", "inet:[::1]:10025", "::1",
	    10025 },
	{ "IPv6 normalised", "[2001:DB8:0:0::1]:25", "inet:[2001:db8::1]:25",
	    "2001:db8::1", 25 },
	{ "host name", "localhost:10025", "inet:localhost:10025", "localhost",
	    10025 },
	{ "host name lower-cased", "LocalHost:25", "inet:localhost:25",
	    "localhost", 25 },
	{ "host name with trailing dot", "mail.example.com.:25",
	    "inet:mail.example.com.:25", "mail.example.com.", 25 },
	{ "any address, lowest port", "0.0.0.0:1", "inet:0.0.0.0:1", "0.0.0.0",
	    1 },
	{ "highest port", "x:65535", "inet:x:65535", "x", 65535 },
	{ "empty", "", NULL, "empty", 0 },
	{ "unix without path", "unix:", NULL, "missing socket path", 0 },
	{ "relative unix path", "unix:relative.sock", NULL,
	    "socket path must be absolute", 0 },
	{ "control byte in path", "/run/a\x01z", NULL, "unexpected byte 0x01",
	    0 },
	{ "host without port", "localhost", NULL, "missing port", 0 },
	{ "empty port", "localhost:", NULL, "missing port", 0 },
	{ "port zero", "localhost:0", NULL, "port must be 1..65535", 0 },
	{ "port too large", "localhost:65536", NULL, "port must be 1..65535",
	    0 },
	{ "port overflows", "localhost:99999999999999999999", NULL,
	    "port must be 1..65535", 0 },
	{ "service name", "localhost:smtp", NULL, "unexpected character \"s\"",
	    0 },
	{ "unbracketed IPv6", "::1:25", NULL, "IPv6 addresses need brackets",
	    0 },
	{ "unbracketed IPv6 with letters", "dead:beef::1:25", NULL,
	    "IPv6 addresses need brackets", 0 },
	{ "IPv6 without port", "[::1]", NULL, "missing port", 0 },
	{ "IPv6 without colon", "[::1]25", NULL, "unexpected character \"2\"",
	    0 },
	{ "IPv6 zone id", "[fe80::1%eth0]:25", NULL, "zone ids", 0 },
	{ "unclosed bracket", "[::1:25", NULL, "missing \"]\"", 0 },
	{ "IPv4 in brackets", "[1.2.3.4]:25", NULL, "bad IPv6 address", 0 },
	{ "inet6 with IPv4", "inet6:127.0.0.1:25", NULL,
	    "inet6 needs an address in brackets", 0 },
	{ "unknown scheme", "tcp:1.2.3.4:25", NULL, "unknown scheme \"tcp\"",
	    0 },
	{ "Postfix local scheme", "local:/run/x", NULL,
	    "unknown scheme \"local\"", 0 },
	{ "octet too large", "999.1.1.1:25", NULL, "bad IPv4 address", 0 },
	{ "short IPv4", "1.2.3:25", NULL, "bad IPv4 address", 0 },
	{ "long IPv4", "1111.2222.3333.4444:25", NULL, "bad IPv4 address", 0 },
	{ "long IPv6", "[1111:2222:3333:4444:5555:6666:7777:8888:9999]:25",
	    NULL, "bad IPv6 address", 0 },
	{ "leading hyphen", "-bad.example:25", NULL,
	    "label starts with a hyphen", 0 },
	{ "underscore", "under_score:25", NULL, "invalid character \"_\"", 0 },
	{ "leading space", " localhost:25", NULL, "space in domain", 0 },
	{ "trailing space", "localhost:25 ", NULL, "unexpected space", 0 },
	{ "missing host", ":25", NULL, "missing host", 0 },
	{ "inet without address", "inet:", NULL, "missing port", 0 },
};

static void
check_endpoint(const struct endpoint_case *c, const struct rk_endpoint *ep)
{
	char buf[512];

	is_str(rk_endpoint_format(ep, buf, sizeof(buf)), c->want,
	    "endpoint %s: formats", c->name);
	if (ep->kind == RK_EP_INET) {
		is_str(
		    ep->host, c->host_or_reason, "endpoint %s: host", c->name);
		is_int(ep->port, c->port, "endpoint %s: port", c->name);
	}
}

static void
test_endpoints(void)
{
	char longpath[200];

	for (size_t i = 0;
	     i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]); i++) {
		const struct endpoint_case *c = &endpoint_cases[i];
		struct rk_endpoint ep;
		struct rk_err err = { "" };
		int rc = rk_endpoint_parse(c->in, &ep, &err);

		if (c->want == NULL) {
			check_refused(
			    rc, &err, c->in, c->host_or_reason, c->name);
			continue;
		}
		if (!ok(rc == 0, "endpoint %s: \"%s\"", c->name, c->in)) {
			diag("  reason \"%s\"", err.msg);
			continue;
		}
		check_endpoint(c, &ep);
	}
	/* sun_path holds 108 bytes with the NUL. */
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[107] = '\0';
	ok(rk_endpoint_parse(longpath, &(struct rk_endpoint){ 0 }, NULL) == 0,
	    "endpoint: socket path of 107 octets");
	longpath[107] = 'a';
	longpath[108] = '\0';
	ok(rk_endpoint_parse(longpath, &(struct rk_endpoint){ 0 }, NULL) == -1,
	    "endpoint: socket path of 108 octets refused");
}

struct url_case {
	const char *name;
	const char *in;
	int rc;
	bool https;
	const char *host_or_reason;
	unsigned port;
	const char *path;
};

static const struct url_case url_cases[] = {
	{ "http, no path", "http://example.com", 0, false, "example.com", 80,
	    "/" },
	{ "https with query", "https://example.com/hook?x=1&y=2", 0, true,
	    "example.com", 443, "/hook?x=1&y=2" },
	{ "upper-case scheme and host", "HTTPS://Example.COM:8443/a", 0, true,
	    "example.com", 8443, "/a" },
	{ "IPv4 and port", "http://127.0.0.1:8080/", 0, false, "127.0.0.1",
	    8080, "/" },
	{ "IPv6 and port", "http://[::1]:9000/metrics", 0, false, "::1", 9000,
	    "/metrics" },
	{ "IPv6, default port", "http://[::1]/", 0, false, "::1", 80, "/" },
	{ "query without path", "http://example.com?q=1", 0, false,
	    "example.com", 80, "/?q=1" },
	{ "percent-encoding", "http://example.com/a%20b", 0, false,
	    "example.com", 80, "/a%20b" },
	{ "other scheme", "ftp://example.com/", -1, false,
	    "scheme must be http or https", 0, NULL },
	{ "no scheme", "example.com/x", -1, false,
	    "scheme must be http or https", 0, NULL },
	{ "empty", "", -1, false, "empty", 0, NULL },
	{ "no host", "http://", -1, false, "missing host", 0, NULL },
	{ "no host before path", "http:///path", -1, false, "missing host", 0,
	    NULL },
	{ "user info", "http://user:pw@example.com/", -1, false,
	    "user info is not allowed", 0, NULL },
	{ "fragment", "http://example.com/#frag", -1, false,
	    "fragments are not allowed", 0, NULL },
	{ "space in path", "http://example.com/a b", -1, false,
	    "spaces are not allowed", 0, NULL },
	{ "DEL in path", "http://example.com/\x7f", -1, false,
	    "control characters are not allowed", 0, NULL },
	{ "raw UTF-8", "http://example.com/\xc3\xa9", -1, false,
	    "must be percent-encoded", 0, NULL },
	{ "port zero", "http://example.com:0/", -1, false,
	    "port must be 1..65535", 0, NULL },
	{ "empty port", "http://example.com:/", -1, false, "missing port", 0,
	    NULL },
	{ "junk after port", "http://example.com:80x/", -1, false,
	    "unexpected character \"x\"", 0, NULL },
	{ "junk after IPv6", "http://[::1]x/", -1, false,
	    "unexpected character \"x\"", 0, NULL },
	{ "IPv6 zone id", "http://[fe80::1%25eth0]/", -1, false, "zone ids", 0,
	    NULL },
	{ "unclosed bracket", "http://[::1/", -1, false, "missing \"]\"", 0,
	    NULL },
	{ "unbracketed IPv6", "http://::1/", -1, false,
	    "IPv6 addresses need brackets", 0, NULL },
	{ "underscore in host", "http://ex_ample.com/", -1, false,
	    "invalid character \"_\"", 0, NULL },
	{ "bad percent-encoding", "http://example.com/%zz", -1, false,
	    "bad percent-encoding", 0, NULL },
	{ "truncated percent-encoding", "http://example.com/%2", -1, false,
	    "bad percent-encoding", 0, NULL },
};

static void
test_url_lengths(void)
{
	char in[2100];
	struct rk_url u;

	memcpy(in, "http://x/", 9);
	memset(in + 9, 'a', 2046);
	in[9 + 2046] = '\0';
	ok(rk_url_parse(in, &u, NULL) == 0 && strlen(u.path) == 2047,
	    "url: path of 2047 octets");
	in[9 + 2046] = 'a';
	in[9 + 2047] = '\0';
	ok(rk_url_parse(in, &u, NULL) == -1, "url: path of 2048 refused");
}

static void
test_urls(void)
{
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct rk_url u;
		struct rk_err err = { "" };
		int rc = rk_url_parse(c->in, &u, &err);

		if (c->rc == -1) {
			check_refused(
			    rc, &err, c->in, c->host_or_reason, c->name);
			continue;
		}
		if (!ok(rc == 0, "url %s: \"%s\"", c->name, c->in)) {
			diag("  reason \"%s\"", err.msg);
			continue;
		}
		ok(u.https == c->https, "url %s: scheme", c->name);
		is_str(u.host, c->host_or_reason, "url %s: host", c->name);
		is_int(u.port, c->port, "url %s: port", c->name);
		is_str(u.path, c->path, "url %s: path", c->name);
	}
	test_url_lengths();
}

struct u64_case {
	const char *name;
	const char *in;
	uint64_t max;
	int rc;
	uint64_t v;
	const char *reason;
};

static const struct u64_case u64_cases[] = {
	{ "zero", "0", 10, 0, 0, NULL },
	{ "at max", "10", 10, 0, 10, NULL },
	{ "leading zeros", "007", 10, 0, 7, NULL },
	{ "UINT64_MAX", "18446744073709551615", UINT64_MAX, 0, UINT64_MAX,
	    NULL },
	{ "over max", "11", 10, -1, 0, "must be at most 10" },
	{ "2^64", "18446744073709551616", UINT64_MAX, -1, 0,
	    "must be at most 18446744073709551615" },
	{ "minus", "-1", 10, -1, 0, "sign not allowed" },
	{ "plus", "+1", 10, -1, 0, "sign not allowed" },
	{ "leading space", " 1", 10, -1, 0, "unexpected space" },
	{ "trailing space", "1 ", 10, -1, 0, "unexpected space" },
	{ "hex", "0x10", 100, -1, 0, "unexpected character \"x\"" },
	{ "empty", "", 10, -1, 0, "empty" },
};

static void
test_u64(void)
{
	for (size_t i = 0; i < sizeof(u64_cases) / sizeof(u64_cases[0]); i++) {
		const struct u64_case *c = &u64_cases[i];
		struct rk_err err = { "" };
		uint64_t v = 12345;
		int rc = rk_u64_parse(c->in, c->max, &v, &err);

		if (c->rc == -1)
			check_refused(rc, &err, c->in, c->reason, c->name);
		else if (!ok(rc == 0 && v == c->v, "u64 %s: \"%s\"", c->name,
		             c->in))
			diag("  rc %d (%s), %" PRIu64, rc, err.msg, v);
	}
}

struct double_case {
	const char *name;
	const char *in;
	int rc;
	double v;
	const char *reason;
};

static const struct double_case double_cases[] = {
	{ "fraction", "1.5", 0, 1.5, NULL },
	{ "integer", "2", 0, 2.0, NULL },
	{ "below one", "0.9", 0, 0.9, NULL },
	{ "negative", "-0.25", 0, -0.25, NULL },
	{ "zero", "0", 0, 0.0, NULL },
	{ "exponent", "1e3", -1, 0, "unexpected character \"e\"" },
	{ "inf", "inf", -1, 0, "unexpected character \"i\"" },
	{ "nan", "nan", -1, 0, "unexpected character \"n\"" },
	{ "hex float", "0x1p3", -1, 0, "unexpected character \"x\"" },
	{ "no integer part", ".5", -1, 0, "unexpected character \".\"" },
	{ "no fraction digits", "5.", -1, 0, "missing digits after \".\"" },
	{ "two dots", "1.2.3", -1, 0, "unexpected character \".\"" },
	{ "plus", "+1", -1, 0, "unexpected character \"+\"" },
	{ "minus alone", "-", -1, 0, "unexpected end" },
	{ "empty", "", -1, 0, "empty" },
	{ "leading space", " 1", -1, 0, "unexpected space" },
	{ "decimal comma", "1,5", -1, 0, "unexpected character \",\"" },
};

static void
test_doubles(void)
{
	char huge[400];

	for (size_t i = 0; i < sizeof(double_cases) / sizeof(double_cases[0]);
	     i++) {
		const struct double_case *c = &double_cases[i];
		struct rk_err err = { "" };
		double v = 12345;
		int rc = rk_double_parse(c->in, &v, &err);

		if (c->rc == -1)
			check_refused(rc, &err, c->in, c->reason, c->name);
		else if (!ok(rc == 0 && v == c->v, "double %s: \"%s\"", c->name,
		             c->in))
			diag("  rc %d (%s), %g", rc, err.msg, v);
	}
	memset(huge, '9', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	ok(rk_double_parse(huge, &(double){ 0 }, NULL) == -1,
	    "double: 399 nines overflow to infinity and are refused");
}

/* Every parser refuses input past RK_PARSE_MAX before looking at it. */
static void
test_input_cap(void)
{
	static char in[RK_PARSE_MAX + 2];
	struct rk_err err;
	uint64_t v;

	memset(in, '1', RK_PARSE_MAX + 1);
	in[RK_PARSE_MAX + 1] = '\0';
	check_refused(rk_u64_parse(in, UINT64_MAX, &v, &err), &err, in,
	    "longer than 4096 octets", "u64 past RK_PARSE_MAX");
	check_refused(rk_duration_parse(in, 1, &v, &err), &err, in,
	    "longer than 4096 octets", "duration past RK_PARSE_MAX");
	in[RK_PARSE_MAX] = '\0';
	check_refused(rk_u64_parse(in, UINT64_MAX, &v, &err), &err, in,
	    "must be at most", "u64 at RK_PARSE_MAX reaches the bound check");
	ok(rk_u64_parse(NULL, 1, &v, NULL) == -1, "u64: NULL refused");
}

int
main(void)
{
	test_rates();
	test_durations();
	test_duration_format();
	test_sizes();
	test_endpoints();
	test_urls();
	test_u64();
	test_doubles();
	test_input_cap();
	return done_testing();
}
