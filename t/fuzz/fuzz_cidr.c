/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_cidr.c: libFuzzer target for lib/rk_cidr.  The input is a
 * network, optionally followed by a newline and an address.  Checks that
 * a network formats and reparses to itself, contains its first and last
 * address and nothing just outside, and that contains, the set matchers
 * and the sockaddr matcher agree, IPv4-mapped IPv6 included.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_cidr.h"
#include "fuzz.h"

#define INPUT_MAX 8192

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_cidr: %s\n", what);
	abort();
}

static unsigned
bits_of(const struct rk_ip *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}

static void
flip_bit(struct rk_ip *ip, unsigned bit)
{
	ip->addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
}

/* The last address of c: every host bit set. */
static struct rk_ip
last_address(const struct rk_cidr *c)
{
	struct rk_ip ip = c->ip;

	for (unsigned b = c->prefix; b < bits_of(&ip); b++)
		ip.addr[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	return ip;
}

static void
check_network(const struct rk_cidr *c)
{
	char buf[64];
	struct rk_cidr back;
	struct rk_ip ip;

	require(c->prefix <= bits_of(&c->ip), "prefix in range");
	require(
	    rk_cidr_host_bits(c) == bits_of(&c->ip) - c->prefix, "host bits");
	rk_cidr_format(c, buf, sizeof(buf));
	require(rk_cidr_parse(buf, &back, NULL) == 0 &&
	        back.prefix == c->prefix && back.ip.family == c->ip.family &&
	        memcmp(back.ip.addr, c->ip.addr, 16) == 0,
	    "format reparses");
	require(rk_cidr_contains(c, &c->ip), "contains its first address");
	ip = last_address(c);
	require(rk_cidr_contains(c, &ip), "contains its last address");
	if (c->prefix > 0) {
		flip_bit(&ip, c->prefix - 1);
		require(!rk_cidr_contains(c, &ip), "outside the prefix");
	}
}

static void
sockaddr_of(const struct rk_ip *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)ip->family;
	if (ip->family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, ip->addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, ip->addr, 16);
}

static struct rk_ip
mapped_of(const struct rk_ip *v4)
{
	struct rk_ip m;

	memset(&m, 0, sizeof(m));
	m.family = AF_INET6;
	m.addr[10] = 0xff;
	m.addr[11] = 0xff;
	memcpy(m.addr + 12, v4->addr, 4);
	return m;
}

/*
 * An IPv4 address and its ::ffff: form match the same IPv4 networks, and
 * the same networks written inside ::ffff:0:0/96.
 */
static void
check_mapped(const struct rk_cidr *c, const struct rk_ip *ip, bool in)
{
	struct rk_ip mapped;
	struct rk_cidr mc;

	if (ip->family != AF_INET || c->ip.family != AF_INET)
		return;
	mapped = mapped_of(ip);
	require(rk_cidr_contains(c, &mapped) == in, "mapped agrees");
	mc.ip = mapped_of(&c->ip);
	mc.prefix = 96 + c->prefix;
	require(rk_cidr_contains(&mc, ip) == in, "mapped network agrees");
	require(rk_cidr_contains(&mc, &mapped) == in,
	    "mapped network, mapped address agrees");
}

static void
check_match(const struct rk_cidr *c, const char *text)
{
	struct rk_cidr_set *set;
	struct sockaddr_storage ss;
	struct rk_ip ip;
	bool in;

	if (rk_ip_parse(text, &ip, NULL) != 0)
		return;
	in = rk_cidr_contains(c, &ip);
	set = rk_cidr_set_new();
	require(!rk_cidr_set_match(set, &ip), "empty set matches nothing");
	rk_cidr_set_add(set, c);
	require(rk_cidr_set_match(set, &ip) == in, "set agrees");
	require(rk_cidr_set_match_str(set, text) == in, "set_str agrees");
	sockaddr_of(&ip, &ss);
	require(rk_cidr_set_match_sa(set, (struct sockaddr *)&ss) == in,
	    "set_sa agrees");
	check_mapped(c, &ip, in);
	rk_cidr_set_free(set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_cidr c;
	struct rk_ip ip;
	char *s, *nl;

	if ((s = fuzz_cstr(data, size, INPUT_MAX)) == NULL)
		return 0;
	nl = strchr(s, '\n');
	if (nl != NULL)
		*nl++ = '\0';
	if (rk_ip_parse(s, &ip, NULL) == 0)
		require(
		    ip.family == AF_INET || ip.family == AF_INET6, "ip family");
	if (rk_cidr_parse(s, &c, NULL) == 0) {
		check_network(&c);
		check_match(&c, nl != NULL ? nl : s);
	}
	free(s);
	return 0;
}
