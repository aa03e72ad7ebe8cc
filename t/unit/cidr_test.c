/* SPDX-License-Identifier: MIT */
/*
 * t/unit/cidr_test.c: addresses, networks and sets in lib/rk_cidr: parsing,
 * the host-bits refusal and its hint, containment across IPv4-mapped
 * IPv6, and matching by string and by sockaddr.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "rk_cidr.h"
#include "tap.h"

struct ip_case {
	const char *name;
	const char *in;
	int family; /* 0 when refused */
	const char *reason;
};

static const struct ip_case ip_cases[] = {
	{ "IPv4", "10.1.2.3", AF_INET, NULL },
	{ "IPv6 loopback", "::1", AF_INET6, NULL },
	{ "IPv4-mapped IPv6 stays IPv6", "::ffff:10.1.2.3", AF_INET6, NULL },
	{ "IPv6 documentation", "2001:DB8::1", AF_INET6, NULL },
	{ "empty", "", 0, "empty address" },
	{ "zone id", "fe80::1%eth0", 0, "IPv6 zone ids are not supported" },
	{ "three octets", "10.1.2", 0, "bad IPv4 address" },
	{ "leading zero", "010.1.2.3", 0, "bad IPv4 address" },
	{ "five octets", "1.2.3.4.5", 0, "bad IPv4 address" },
	{ "octet too large", "256.1.2.3", 0, "bad IPv4 address" },
	{ "bad hex", "::g", 0, "bad IPv6 address" },
	{ "brackets", "[::1]", 0, "bad IPv6 address" },
	{ "leading space", " 10.1.2.3", 0, "bad IPv4 address" },
	{ "with prefix", "10.1.2.3/8", 0, "bad IPv4 address" },
	{ "too long", "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000", 0,
	    "address too long" },
};

static void
test_ip_parse(void)
{
	for (size_t i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		const struct ip_case *c = &ip_cases[i];
		struct rk_ip ip;
		struct rk_err err = { "" };
		int rc = rk_ip_parse(c->in, &ip, &err);

		if (c->family == 0) {
			if (!ok(rc == -1 && strcmp(err.msg, c->reason) == 0,
			        "ip %s: refused with \"%s\"", c->name,
			        c->reason))
				diag("  rc %d, reason \"%s\"", rc, err.msg);
		} else
			ok(rc == 0 && ip.family == c->family, "ip %s: \"%s\"",
			    c->name, c->in);
	}
	ok(rk_ip_parse(NULL, &(struct rk_ip){ 0 }, NULL) == -1,
	    "ip: NULL refused");
}

struct cidr_case {
	const char *name;
	const char *in;
	const char *want; /* formatted network, or NULL when refused */
	unsigned host_bits;
	const char *reason;
};

static const struct cidr_case cidr_cases[] = {
	{ "IPv4 /8", "10.0.0.0/8", "10.0.0.0/8", 24, NULL },
	{ "IPv4 host", "10.1.2.3", "10.1.2.3/32", 0, NULL },
	{ "IPv4 /32", "10.1.2.3/32", "10.1.2.3/32", 0, NULL },
	{ "IPv4 /25", "192.168.1.128/25", "192.168.1.128/25", 7, NULL },
	{ "IPv4 everything", "0.0.0.0/0", "0.0.0.0/0", 32, NULL },
	{ "IPv6 host", "::1", "::1/128", 0, NULL },
	{ "IPv6 /32 lower-cased", "2001:DB8::/32", "2001:db8::/32", 96, NULL },
	{ "IPv6 everything", "::/0", "::/0", 128, NULL },
	{ "IPv6 /33", "2001:db8:8000::/33", "2001:db8:8000::/33", 95, NULL },
	{ "leading zero in prefix", "10.0.0.0/08", "10.0.0.0/8", 24, NULL },
	{ "IPv4-mapped network", "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104",
	    24, NULL },
	{ "host bits set, IPv4", "10.0.0.1/8", NULL, 0,
	    "host bits set (did you mean 10.0.0.0/8?)" },
	{ "host bits set, IPv4 /25", "192.168.1.129/25", NULL, 0,
	    "host bits set (did you mean 192.168.1.128/25?)" },
	{ "host bits set, IPv4 /0", "1.2.3.4/0", NULL, 0,
	    "host bits set (did you mean 0.0.0.0/0?)" },
	{ "host bits set, IPv6", "2001:db8::1/32", NULL, 0,
	    "host bits set (did you mean 2001:db8::/32?)" },
	{ "host bits set, IPv6 /0", "::1/0", NULL, 0,
	    "host bits set (did you mean ::/0?)" },
	{ "IPv4 prefix too long", "10.0.0.0/33", NULL, 0,
	    "prefix length must be 0..32" },
	{ "IPv6 prefix too long", "::/129", NULL, 0,
	    "prefix length must be 0..128" },
	{ "prefix overflows", "10.0.0.0/99999999999999999999", NULL, 0,
	    "prefix length must be 0..32" },
	{ "empty prefix", "10.0.0.0/", NULL, 0,
	    "missing prefix length after \"/\"" },
	{ "negative prefix", "10.0.0.0/-1", NULL, 0,
	    "prefix length must be a number" },
	{ "trailing space", "10.0.0.0/8 ", NULL, 0,
	    "prefix length must be a number" },
	{ "two prefixes", "10.0.0.0/8/8", NULL, 0,
	    "prefix length must be a number" },
	{ "prefix only", "/8", NULL, 0, "empty address" },
	{ "empty", "", NULL, 0, "empty address" },
	{ "zone id", "fe80::%eth0/64", NULL, 0,
	    "IPv6 zone ids are not supported" },
	{ "bad address", "1.2.3.4.5/8", NULL, 0, "bad IPv4 address" },
	{ "short IPv4 network", "10/8", NULL, 0, "bad IPv4 address" },
	{ "address too long",
	    "0000:1111:2222:3333:4444:5555:6666:7777:8888:9999/64", NULL, 0,
	    "address too long" },
};

static void
test_cidr_parse(void)
{
	char buf[64];

	for (size_t i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]);
	     i++) {
		const struct cidr_case *c = &cidr_cases[i];
		struct rk_cidr net;
		struct rk_err err = { "" };
		int rc = rk_cidr_parse(c->in, &net, &err);

		if (c->want == NULL) {
			if (!ok(rc == -1 && strcmp(err.msg, c->reason) == 0,
			        "cidr %s: refused with \"%s\"", c->name,
			        c->reason))
				diag("  rc %d, reason \"%s\"", rc, err.msg);
			continue;
		}
		if (!ok(rc == 0, "cidr %s: \"%s\"", c->name, c->in)) {
			diag("  reason \"%s\"", err.msg);
			continue;
		}
		is_str(rk_cidr_format(&net, buf, sizeof(buf)), c->want,
		    "cidr %s: formats", c->name);
		is_int(rk_cidr_host_bits(&net), c->host_bits,
		    "cidr %s: host bits", c->name);
	}
	ok(rk_cidr_parse(NULL, &(struct rk_cidr){ 0 }, NULL) == -1,
	    "cidr: NULL refused");
}

struct contains_case {
	const char *net;
	const char *ip;
	bool want;
};

static const struct contains_case contains_cases[] = {
	{ "10.0.0.0/8", "10.1.2.3", true },
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "::ffff:11.1.2.3", false },
	{ "10.0.0.0/8", "::10.1.2.3", false },
	{ "10.0.0.0/8", "64:ff9b::10.1.2.3", false },
	{ "0.0.0.0/0", "1.2.3.4", true },
	{ "0.0.0.0/0", "::ffff:1.2.3.4", true },
	{ "0.0.0.0/0", "::1", false },
	{ "::/0", "::1", true },
	{ "::/0", "::ffff:1.2.3.4", true },
	{ "::/0", "1.2.3.4", false },
	{ "::/80", "::ffff:1.2.3.4", true },
	{ "::/80", "1.2.3.4", false },
	{ "::ffff:0:0/96", "::ffff:1.2.3.4", true },
	{ "::ffff:0:0/96", "1.2.3.4", true },
	{ "::ffff:10.0.0.0/104", "10.1.2.3", true },
	{ "::ffff:10.0.0.0/104", "11.1.2.3", false },
	{ "::ffff:10.1.2.3", "10.1.2.3", true },
	{ "::ffff:10.1.2.3", "10.1.2.4", false },
	{ "::fffe:0:0/96", "1.2.3.4", false },
	{ "192.168.1.128/25", "192.168.1.128", true },
	{ "192.168.1.128/25", "192.168.1.255", true },
	{ "192.168.1.128/25", "192.168.1.127", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8::/33", "2001:db8:7fff:ffff::", true },
	{ "2001:db8::/33", "2001:db8:8000::", false },
	{ "10.1.2.3", "10.1.2.3", true },
	{ "10.1.2.3", "10.1.2.4", false },
	{ "::1", "::1", true },
	{ "::1", "::2", false },
	{ "::1", "0.0.0.1", false },
};

static void
test_contains(void)
{
	for (size_t i = 0;
	     i < sizeof(contains_cases) / sizeof(contains_cases[0]); i++) {
		const struct contains_case *c = &contains_cases[i];
		struct rk_cidr net;
		struct rk_ip ip;

		if (rk_cidr_parse(c->net, &net, NULL) != 0 ||
		    rk_ip_parse(c->ip, &ip, NULL) != 0) {
			ok(0, "contains: bad test data %s %s", c->net, c->ip);
			continue;
		}
		ok(rk_cidr_contains(&net, &ip) == c->want, "%s %s %s", c->ip,
		    c->want ? "is in" : "is not in", c->net);
	}
}

static void
add(struct rk_cidr_set *set, const char *s)
{
	struct rk_cidr c;

	if (rk_cidr_parse(s, &c, NULL) != 0)
		rk_panic("test network %s does not parse", s);
	rk_cidr_set_add(set, &c);
}

static void
test_set_strings(void)
{
	struct rk_cidr_set *set = rk_cidr_set_new();

	is_int((intmax_t)rk_cidr_set_count(set), 0, "set: new set is empty");
	ok(!rk_cidr_set_match_str(set, "10.0.0.1"),
	    "set: empty set matches nothing");
	add(set, "10.0.0.0/8");
	add(set, "192.168.0.0/16");
	add(set, "2001:db8::/32");
	is_int((intmax_t)rk_cidr_set_count(set), 3, "set: three networks");
	ok(rk_cidr_set_match_str(set, "10.9.9.9"), "set: 10.9.9.9 matches");
	ok(rk_cidr_set_match_str(set, "192.168.5.5"), "set: 192.168.5.5");
	ok(!rk_cidr_set_match_str(set, "172.16.0.1"), "set: 172.16.0.1 not");
	ok(rk_cidr_set_match_str(set, "2001:db8::5"), "set: 2001:db8::5");
	ok(rk_cidr_set_match_str(set, "::ffff:192.168.1.1"),
	    "set: IPv4-mapped ::ffff:192.168.1.1 matches 192.168.0.0/16");
	ok(!rk_cidr_set_match_str(set, "garbage"), "set: garbage not");
	ok(!rk_cidr_set_match_str(set, ""), "set: empty string not");
	ok(!rk_cidr_set_match_str(set, NULL), "set: NULL not");
	ok(!rk_cidr_set_match_str(set, "fe80::1%eth0"), "set: zone id not");
	rk_cidr_set_free(set);
}

static void
test_set_growth(void)
{
	struct rk_cidr_set *set = rk_cidr_set_new();
	char net[32];

	for (unsigned i = 0; i < 100; i++) {
		snprintf(net, sizeof(net), "10.%u.0.0/16", i);
		add(set, net);
	}
	is_int((intmax_t)rk_cidr_set_count(set), 100, "set: 100 networks");
	ok(rk_cidr_set_match_str(set, "10.99.1.1"), "set: last one matches");
	ok(!rk_cidr_set_match_str(set, "10.100.1.1"), "set: past the last");
	rk_cidr_set_free(set);
	rk_cidr_set_free(NULL);
	ok(1, "set: free accepts NULL");
}

static void
test_set_sockaddr(void)
{
	struct rk_cidr_set *set = rk_cidr_set_new();
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sa_un;

	add(set, "10.0.0.0/8");
	add(set, "2001:db8::/32");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr);
	ok(rk_cidr_set_match_sa(set, (struct sockaddr *)&sin),
	    "sockaddr_in 10.0.0.1 matches");
	inet_pton(AF_INET, "8.8.8.8", &sin.sin_addr);
	ok(!rk_cidr_set_match_sa(set, (struct sockaddr *)&sin),
	    "sockaddr_in 8.8.8.8 does not");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	ok(rk_cidr_set_match_sa(set, (struct sockaddr *)&sin6),
	    "sockaddr_in6 2001:db8::1 matches");
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6.sin6_addr);
	ok(rk_cidr_set_match_sa(set, (struct sockaddr *)&sin6),
	    "sockaddr_in6 ::ffff:10.0.0.1 (dual-stack IPv4) matches");
	memset(&sa_un, 0, sizeof(sa_un));
	sa_un.sun_family = AF_UNIX;
	ok(!rk_cidr_set_match_sa(set, (struct sockaddr *)&sa_un),
	    "AF_UNIX sockaddr does not match");
	ok(!rk_cidr_set_match_sa(set, NULL), "NULL sockaddr does not match");
	rk_cidr_set_free(set);
}

static void
test_format_small(void)
{
	struct rk_cidr c;
	char buf[6];

	rk_cidr_parse("10.0.0.0/8", &c, NULL);
	is_str(rk_cidr_format(&c, buf, sizeof(buf)), "10.0.",
	    "format truncates to the buffer");
}

int
main(void)
{
	test_ip_parse();
	test_cidr_parse();
	test_contains();
	test_set_strings();
	test_set_growth();
	test_set_sockaddr();
	test_format_small();
	return done_testing();
}
