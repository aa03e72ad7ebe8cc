/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_addr.c: libFuzzer target for lib/rk_addr.  Parses the input
 * (an exact-size copy, so reading past len is caught) under every flag
 * combination and checks: normalisation is idempotent, limits hold, the
 * domain is lower case, more permissive flags never refuse what stricter
 * ones accepted, and domain checking, normalising and matching agree.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_addr.h"

#define INPUT_MAX 8192
#define FLAGS_ALL 16 /* every combination of the four RK_ADDR_ flags */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_addr: %s\n", what);
	abort();
}

static bool
same_addr(const struct rk_addr *a, const struct rk_addr *b)
{
	return a->null == b->null && strcmp(a->local, b->local) == 0 &&
	    strcmp(a->domain, b->domain) == 0;
}

static void
check_parsed(const struct rk_addr *a, unsigned flags)
{
	char buf[RK_ADDR_PATH_MAX + 8], buf2[RK_ADDR_PATH_MAX + 8];
	struct rk_addr back;

	require(strlen(a->local) + 1 + strlen(a->domain) <= RK_ADDR_PATH_MAX,
	    "path length");
	require(a->null == (a->local[0] == '\0' && a->domain[0] == '\0'),
	    "null path has no parts");
	/* Literals keep RFC 5321's "IPv6:" tag; names are lower case. */
	for (const char *p = a->domain; *p != '\0' && *p != '['; p++)
		require(*p < 'A' || *p > 'Z', "domain is lower case");
	rk_addr_format(a, buf, sizeof(buf));
	require(rk_addr_parse(buf, strlen(buf), flags, &back, NULL) == 0,
	    "normalised form reparses");
	require(same_addr(a, &back), "normalisation is idempotent");
	rk_addr_format(&back, buf2, sizeof(buf2));
	require(strcmp(buf, buf2) == 0, "format is stable");
}

/* Whether s parses under flags to the same address as a. */
static bool
parses_to(const char *s, size_t n, unsigned flags, const struct rk_addr *a)
{
	struct rk_addr b;

	return rk_addr_parse(s, n, flags, &b, NULL) == 0 && same_addr(a, &b);
}

/* Adding a permissive flag (or dropping NO_LITERAL) only accepts more. */
static void
check_monotonic(
    const char *s, size_t n, unsigned flags, const struct rk_addr *a)
{
	static const unsigned more[] = { RK_ADDR_BRACKETS, RK_ADDR_NULL,
		RK_ADDR_UTF8 };

	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (!(flags & more[i]))
			require(parses_to(s, n, flags | more[i], a),
			    "a permissive flag refused");
	if (flags & RK_ADDR_NO_LITERAL)
		require(parses_to(s, n, flags & ~RK_ADDR_NO_LITERAL, a),
		    "literals refused");
}

static void
fuzz_domain(const char *s, size_t n)
{
	char buf[RK_ADDR_DOMAIN_MAX + 8], sub[RK_ADDR_DOMAIN_MAX + 16];

	if (rk_domain_check(s, n, RK_ADDR_UTF8, NULL) != 0) {
		require(rk_domain_check(s, n, 0, NULL) != 0,
		    "ASCII check accepts what UTF-8 check refuses");
		return;
	}
	require(n <= 254, "domain length");
	memcpy(buf, s, n);
	buf[n] = '\0';
	rk_domain_normalize(buf);
	require(rk_domain_check(buf, strlen(buf), RK_ADDR_UTF8, NULL) == 0,
	    "normalised domain checks");
	require(rk_domain_match(buf, buf, false), "domain matches itself");
	snprintf(sub, sizeof(sub), "x.%s", buf);
	require(rk_domain_match(sub, buf, true), "subdomain matches");
	require(!rk_domain_match(sub, buf, false), "subdomain is not equal");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_addr a;
	char *s;

	if (size > INPUT_MAX)
		return 0;
	s = malloc(size ? size : 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	for (unsigned flags = 0; flags < FLAGS_ALL; flags++) {
		if (rk_addr_parse(s, size, flags, &a, NULL) != 0)
			continue;
		check_parsed(&a, flags);
		check_monotonic(s, size, flags, &a);
	}
	fuzz_domain(s, size);
	free(s);
	return 0;
}
