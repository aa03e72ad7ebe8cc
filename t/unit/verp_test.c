/* SPDX-License-Identifier: MIT */
/*
 * rk_verp: round trips for every payload form, the 64-octet limit for any
 * client id, and each refusal with its own status: forged, tampered,
 * truncated, re-targeted, expired, from the future, not ours.
 */
#include "config.h"

#include <string.h>

#include "rk_addr.h"
#include "rk_verp.h"
#include "tap.h"

#define NOW ((time_t)1795246666)
#define DAY 86400

static const struct rk_verp_opts opts = { "bounce+",
	"0123456789abcdef0123456789abcdef", 32, 7 * DAY };

static size_t
local_len(const char *addr)
{
	return (size_t)(strchr(addr, '@') - addr);
}

static void
round_trip(const char *name, const char *id, enum rk_verp_kind kind)
{
	struct rk_verp_encoded e;
	struct rk_verp_decoded d;
	struct rk_addr a;
	enum rk_verp_status st;

	if (!ok(rk_verp_encode(
	            &opts, id, strlen(id), "Example.COM", NOW, &e, NULL) == 0,
	        "%s: encodes", name))
		return;
	ok(local_len(e.address) <= 64, "%s: local part %zu <= 64 octets", name,
	    local_len(e.address));
	ok(rk_addr_parse(e.address, strlen(e.address), RK_ADDR_NO_LITERAL, &a,
	       NULL) == 0 &&
	        a.local[0] != '"',
	    "%s: a valid unquoted address (%s)", name, e.address);
	ok(strstr(e.address, "@example.com") != NULL, "%s: domain lower-cased",
	    name);
	is_int(e.kind, kind, "%s: payload kind", name);
	st =
	    rk_verp_decode(&opts, e.address, strlen(e.address), NOW + 3600, &d);
	is_str(rk_verp_status_name(st), "ok", "%s: decodes", name);
	if (kind == RK_VERP_INLINE)
		is_str(d.id, id, "%s: gives the client id back", name);
	else
		is_str(
		    d.ref_hex, e.ref_hex, "%s: gives the reference back", name);
	is_int(d.stamped, NOW - NOW % 60, "%s: timestamp to the minute", name);
}

static void
test_round_trips(void)
{
	char long_id[201];

	memset(long_id, 'x', 200);
	long_id[200] = '\0';
	round_trip("short id", "order-123", RK_VERP_INLINE);
	round_trip("odd characters", "a b\"c@d<e>\\f\x01\xff", RK_VERP_INLINE);
	round_trip("lower-case UUID", "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
	    RK_VERP_INLINE);
	round_trip("upper-case UUID", "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
	    RK_VERP_INLINE);
	round_trip("22-byte id, the longest inline", "abcdefghijklmnopqrstuv",
	    RK_VERP_INLINE);
	round_trip(
	    "23-byte id goes to Redis", "abcdefghijklmnopqrstuvw", RK_VERP_REF);
	round_trip("200-byte id", long_id, RK_VERP_REF);
}

static enum rk_verp_status
decode_str(const char *addr, time_t now)
{
	struct rk_verp_decoded d;

	return rk_verp_decode(&opts, addr, strlen(addr), now, &d);
}

static void
test_refusals(void)
{
	struct rk_verp_encoded e;
	char buf[300], *at;
	size_t n;

	rk_verp_encode(&opts, "order-123", 9, "example.com", NOW, &e, NULL);
	strcpy(buf, e.address);
	for (char *p = buf; *p && *p != '@'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	is_str(rk_verp_status_name(decode_str(buf, NOW)), "ok",
	    "an MTA that upper-cases the local part does no harm");

	strcpy(buf, e.address);
	at = strchr(buf, '@');
	at[-3] = at[-3] == 'a' ? 'b' : 'a';
	is_str(rk_verp_status_name(decode_str(buf, NOW)), "bad_mac",
	    "a changed character is refused as forged");

	strcpy(buf, e.address);
	at = strchr(buf, '@');
	n = strlen(at);
	memmove(at - 8, at, n + 1);
	is_str(rk_verp_status_name(decode_str(buf, NOW)), "malformed",
	    "a truncated token is refused as malformed");

	strcpy(buf, e.address);
	strcpy(strchr(buf, '@'), "@other.example");
	is_str(rk_verp_status_name(decode_str(buf, NOW)), "bad_mac",
	    "the token of another domain is refused");

	is_str(rk_verp_status_name(decode_str(e.address, NOW + 8 * DAY)),
	    "expired", "older than maxAgeDays: expired");
	is_str(rk_verp_status_name(decode_str(e.address, NOW - 3600)), "future",
	    "stamped an hour ahead: refused");
	is_str(rk_verp_status_name(decode_str("postmaster@example.com", NOW)),
	    "not_verp", "an address without the prefix is not ours");
	is_str(
	    rk_verp_status_name(decode_str("bounce+hello!@example.com", NOW)),
	    "malformed", "non-base32 characters");
	is_str(rk_verp_status_name(decode_str("bounce+@example.com", NOW)),
	    "malformed", "empty token");
	{
		struct rk_verp_opts other = opts;

		other.secret = "another secret of 32 characters!";
		ok(rk_verp_decode(&other, e.address, strlen(e.address), NOW,
		       &(struct rk_verp_decoded){ 0 }) == RK_VERP_BAD_MAC,
		    "another secret: forged");
	}
}

static void
test_encode_errors(void)
{
	struct rk_verp_encoded e;
	struct rk_verp_opts bad = opts;
	struct rk_err err;

	ok(rk_verp_encode(&opts, "", 0, "example.com", NOW, &e, &err) == -1,
	    "empty id refused");
	ok(rk_verp_encode(&opts, "a\0b", 3, "example.com", NOW, &e, &err) == -1,
	    "id with NUL refused");
	ok(rk_verp_encode(&opts, "x", 1, "-bad-.com", NOW, &e, &err) == -1,
	    "bad domain refused");
	bad.prefix = "bounce +";
	ok(rk_verp_encode(&bad, "x", 1, "example.com", NOW, &e, &err) == -1,
	    "prefix with a space refused: %s", err.msg);
	bad.prefix = "averyveryverylongprefix+";
	ok(rk_verp_encode(&bad, "abcdefghijklmnopqrstuvwxyz", 26, "example.com",
	       NOW, &e, &err) == 0 &&
	        local_len(e.address) <= 64,
	    "a 24-character prefix still fits in 64 octets (%s)", e.address);
	bad.prefix = "averyveryveryverylongprefix+";
	ok(rk_verp_encode(&bad, "x", 1, "example.com", NOW, &e, &err) == -1,
	    "a longer prefix is refused: %s", err.msg);
	bad = opts;
	bad.secret_len = 0;
	ok(rk_verp_encode(&bad, "x", 1, "example.com", NOW, &e, &err) == -1,
	    "no secret refused");
}

int
main(void)
{
	test_round_trips();
	test_refusals();
	test_encode_errors();
	return done_testing();
}
