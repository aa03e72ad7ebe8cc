/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_parse.c: libFuzzer target for lib/rk_parse.  Runs every
 * parser over the input and checks that what parses formats back to text
 * that parses to the same value, and that every value is within the
 * bounds the header promises.  A broken invariant aborts.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_parse.h"
#include "fuzz.h"

#define INPUT_MAX 8192

static void
require(int cond, const char *what, const char *in)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_parse: %s: \"%.200s\"\n", what, in);
	abort();
}

static void
fuzz_rate(const char *s)
{
	struct rk_rate r, back;
	char buf[128];

	if (rk_rate_parse(s, &r, NULL) != 0)
		return;
	require(r.count >= 1 && r.count <= 1000000000, "rate count", s);
	require(r.period_ms >= 1 && r.period_ms <= 366 * RK_MS_PER_D,
	    "rate period", s);
	rk_rate_format(&r, buf, sizeof(buf));
	require(rk_rate_parse(buf, &back, NULL) == 0 && back.count == r.count &&
	        back.period_ms == r.period_ms,
	    "rate round trip", s);
}

static void
fuzz_duration(const char *s)
{
	static const uint64_t bare[] = { 0, 1, RK_MS_PER_S, RK_MS_PER_D };
	char buf[64];
	uint64_t ms, back;

	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		if (rk_duration_parse(s, bare[i], &ms, NULL) != 0)
			continue;
		require(ms <= 3653 * RK_MS_PER_D, "duration bound", s);
		rk_duration_format(ms, buf, sizeof(buf));
		require(
		    rk_duration_parse(buf, 0, &back, NULL) == 0 && back == ms,
		    "duration round trip", s);
	}
}

static void
fuzz_endpoint(const char *s)
{
	struct rk_endpoint ep, back;
	char buf[512], buf2[512];

	if (rk_endpoint_parse(s, &ep, NULL) != 0)
		return;
	if (ep.kind == RK_EP_UNIX)
		require(ep.path[0] == '/', "endpoint path", s);
	else
		require(ep.port != 0 && ep.host[0] != '\0', "endpoint inet", s);
	rk_endpoint_format(&ep, buf, sizeof(buf));
	require(
	    rk_endpoint_parse(buf, &back, NULL) == 0, "endpoint reparse", s);
	rk_endpoint_format(&back, buf2, sizeof(buf2));
	require(strcmp(buf, buf2) == 0 && back.kind == ep.kind &&
	        back.port == ep.port && strcmp(back.host, ep.host) == 0 &&
	        strcmp(back.path, ep.path) == 0,
	    "endpoint round trip", s);
}

static void
fuzz_url(const char *s)
{
	struct rk_url u, back;
	char buf[4096];

	if (rk_url_parse(s, &u, NULL) != 0)
		return;
	require(u.path[0] == '/' && u.port != 0 && u.host[0] != '\0',
	    "url fields", s);
	snprintf(buf, sizeof(buf), "%s://%s%s%s:%u%s",
	    u.https ? "https" : "http", strchr(u.host, ':') ? "[" : "", u.host,
	    strchr(u.host, ':') ? "]" : "", (unsigned)u.port, u.path);
	require(rk_url_parse(buf, &back, NULL) == 0 && back.https == u.https &&
	        back.port == u.port && strcmp(back.host, u.host) == 0 &&
	        strcmp(back.path, u.path) == 0,
	    "url round trip", s);
}

static void
fuzz_numbers(const char *s)
{
	char buf[32];
	uint64_t v, back;
	double d;

	if (rk_size_parse(s, &v, NULL) == 0)
		require(v <= (1ULL << 53), "size bound", s);
	if (rk_u64_parse(s, 1000, &v, NULL) == 0)
		require(v <= 1000, "u64 bound", s);
	if (rk_u64_parse(s, UINT64_MAX, &v, NULL) == 0) {
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		require(rk_u64_parse(buf, UINT64_MAX, &back, NULL) == 0 &&
		        back == v,
		    "u64 round trip", s);
	}
	if (rk_double_parse(s, &d, NULL) == 0)
		require(isfinite(d), "double finite", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if ((s = fuzz_cstr(data, size, INPUT_MAX)) == NULL)
		return 0;
	fuzz_rate(s);
	fuzz_duration(s);
	fuzz_endpoint(s);
	fuzz_url(s);
	fuzz_numbers(s);
	free(s);
	return 0;
}
