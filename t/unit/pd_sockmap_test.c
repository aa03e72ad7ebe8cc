/* SPDX-License-Identifier: MIT */
/* The socketmap protocol's framing, keys and replies (pd_sockmap_proto). */
#include "config.h"

#include <string.h>

#include "pd_sockmap.h"
#include "tap.h"

static enum pd_sm_parse
parse(const char *s, struct pd_sm_req *req)
{
	struct rk_err err;

	return pd_sockmap_parse(s, strlen(s), req, &err);
}

static bool
eq(struct pd_sm_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static void
test_framing(void)
{
	struct pd_sm_req r;
	char big[PD_SM_MAX + 32];
	const char *two = "19:pace user@gmail.com,10:pace x@y.z,";

	ok(parse("19:pace user@gmail.com,", &r) == PD_SM_OK &&
	        eq(r.name, "pace") && eq(r.key, "user@gmail.com") &&
	        r.consumed == 23,
	    "a request: name, key, its length");
	ok(parse(two, &r) == PD_SM_OK && r.consumed == 23 &&
	        parse(two + r.consumed, &r) == PD_SM_OK && eq(r.key, "x@y.z"),
	    "two in a row");
	ok(parse("19:pace user@gm", &r) == PD_SM_MORE, "cut short: more");
	ok(parse("20", &r) == PD_SM_MORE, "digits only: more");
	ok(parse("", &r) == PD_SM_MORE, "nothing: more");
	ok(parse("0019:pace user@gmail.com,", &r) == PD_SM_OK, "leading zeros");
	ok(parse("123456:x", &r) == PD_SM_BAD, "six digits: bad");
	ok(parse("pace user@gmail.com", &r) == PD_SM_BAD, "no length: bad");
	ok(parse("4x:pace,", &r) == PD_SM_BAD, "no colon: bad");
	ok(parse("4:pace.", &r) == PD_SM_BAD, "no comma: bad");
	snprintf(big, sizeof(big), "%d:", PD_SM_MAX + 1);
	ok(parse(big, &r) == PD_SM_BAD, "over PD_SM_MAX: bad at once");
	ok(parse("14:user@gmail.com,", &r) == PD_SM_OK && r.name.len == 0 &&
	        eq(r.key, "user@gmail.com"),
	    "no space: framed, with no name");
	ok(parse("0:,", &r) == PD_SM_OK && r.name.len == 0 && r.key.len == 0,
	    "empty");
	ok(parse("6: pace ,", &r) == PD_SM_OK && r.name.len == 0,
	    "a leading space: no name");
}

static bool
dom(const char *key, const char *want)
{
	struct pd_sm_str k = { key, strlen(key) }, d;

	if (!pd_sockmap_domain(k, &d))
		return want == NULL;
	return want != NULL && eq(d, want);
}

static void
test_domain(void)
{
	ok(dom("user@Gmail.com", "Gmail.com"), "an address: its domain");
	ok(dom("\"a@b\"@example.org", "example.org"), "the last @");
	ok(dom("gmail.com", "gmail.com"), "a bare domain");
	ok(dom(".gmail.com", "gmail.com"), "a parent-style key");
	ok(dom("*", NULL), "the wildcard: none");
	ok(dom("user@", NULL), "nothing after @: none");
	ok(dom("", NULL), "empty: none");
}

static void
test_reply(void)
{
	struct rk_buf b;

	rk_buf_init(&b);
	pd_sockmap_reply(&b, "OK", "rk_pace_5s:");
	is_str(b.data, "14:OK rk_pace_5s:,", "OK and a value");
	rk_buf_reset(&b);
	pd_sockmap_reply(&b, "NOTFOUND", "");
	is_str(b.data, "9:NOTFOUND ,", "NOTFOUND and a space");
	rk_buf_reset(&b);
	pd_sockmap_reply(&b, "PERM", "bad\r\nthing");
	is_str(b.data, "15:PERM bad??thing,", "control characters replaced");
	rk_buf_free(&b);
}

int
main(void)
{
	test_framing();
	test_domain();
	test_reply();
	return done_testing();
}
