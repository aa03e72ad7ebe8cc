/* SPDX-License-Identifier: MIT */
/*
 * rk_cidr: IPv4/IPv6 addresses, networks and sets of networks.
 *
 * Parsing goes through inet_pton, so only the standard text forms are
 * accepted (no "10.1", no octal, no zone ids).  A set is an array scanned
 * linearly: relaykit's trust lists hold tens of networks, not millions.
 * The set owns its array; networks are copied in.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_cidr.h"
#include "rk_mem.h"

/* Longest text an address can have; longer input is refused unread. */
#define IP_TEXT_MAX (INET6_ADDRSTRLEN - 1)

struct rk_cidr_set {
	struct rk_cidr *v;
	size_t n;
	size_t cap;
};

/* ::ffff:0:0/96, where IPv4 addresses live inside IPv6 (RFC 4291). */
static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static unsigned
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* s is NUL-terminated and at most IP_TEXT_MAX long. */
static int
ip_parse_text(const char *s, struct rk_ip *out, struct rk_err *err)
{
	struct rk_ip ip;

	memset(&ip, 0, sizeof(ip));
	if (*s == '\0')
		return rk_err_set(err, "empty address");
	if (strchr(s, '%') != NULL)
		return rk_err_set(err, "IPv6 zone ids are not supported");
	ip.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(ip.family, s, ip.addr) != 1)
		return rk_err_set(err, "bad %s address",
		    ip.family == AF_INET ? "IPv4" : "IPv6");
	*out = ip;
	return 0;
}

int
rk_ip_parse(const char *s, struct rk_ip *out, struct rk_err *err)
{
	if (s == NULL)
		return rk_err_set(err, "missing address");
	if (strnlen(s, IP_TEXT_MAX + 1) > IP_TEXT_MAX)
		return rk_err_set(err, "address too long");
	return ip_parse_text(s, out, err);
}

/* Clears every bit past prefix; returns true if any was set. */
static bool
mask_host_bits(struct rk_ip *ip, unsigned prefix)
{
	unsigned bytes = family_bits(ip->family) / 8;
	bool changed = false;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(0xff00u >> (keep > 8 ? 8 : keep));

		if (ip->addr[i] & (uint8_t)~mask)
			changed = true;
		ip->addr[i] &= mask;
	}
	return changed;
}

static int
prefix_parse(const char *p, int family, unsigned *out, struct rk_err *err)
{
	unsigned max = family_bits(family), v = 0;
	size_t i;

	if (*p == '\0')
		return rk_err_set(err, "missing prefix length after \"/\"");
	for (i = 0; p[i] >= '0' && p[i] <= '9' && v <= max; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	if (p[i] != '\0' && (p[i] < '0' || p[i] > '9'))
		return rk_err_set(err, "prefix length must be a number");
	if (v > max || p[i] != '\0')
		return rk_err_set(err, "prefix length must be 0..%u", max);
	*out = v;
	return 0;
}

int
rk_cidr_parse(const char *s, struct rk_cidr *out, struct rk_err *err)
{
	char text[IP_TEXT_MAX + 1], hint[64];
	struct rk_cidr c;
	const char *slash;
	size_t n;

	if (s == NULL)
		return rk_err_set(err, "missing network");
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n > IP_TEXT_MAX)
		return rk_err_set(err, "address too long");
	memcpy(text, s, n);
	text[n] = '\0';
	if (ip_parse_text(text, &c.ip, err) == -1)
		return -1;
	c.prefix = family_bits(c.ip.family);
	if (slash != NULL &&
	    prefix_parse(slash + 1, c.ip.family, &c.prefix, err) == -1)
		return -1;
	if (mask_host_bits(&c.ip, c.prefix))
		return rk_err_set(err, "host bits set (did you mean %s?)",
		    rk_cidr_format(&c, hint, sizeof(hint)));
	*out = c;
	return 0;
}

char *
rk_cidr_format(const struct rk_cidr *c, char *buf, size_t n)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(c->ip.family, c->ip.addr, text, sizeof(text)) == NULL)
		rk_panic("rk_cidr_format: bad family %d", c->ip.family);
	snprintf(buf, n, "%s/%u", text, c->prefix);
	return buf;
}

/* Whether the first prefix bits of a and b are equal. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, rest = prefix % 8;
	uint8_t mask = (uint8_t)(0xff00u >> rest);

	if (memcmp(a, b, bytes) != 0)
		return false;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & mask) == 0;
}

static bool
is_v4_mapped(const uint8_t *addr)
{
	return memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

/*
 * A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d; it is
 * still that IPv4 client, so IPv4 networks look at the last 4 bytes.  The
 * other way round only a network inside ::ffff:0:0/96 is IPv4 in
 * disguise: "::/0" means every IPv6 client, not every client.
 */
bool
rk_cidr_contains(const struct rk_cidr *c, const struct rk_ip *ip)
{
	if (c->ip.family == ip->family)
		return prefix_equal(c->ip.addr, ip->addr, c->prefix);
	if (c->ip.family == AF_INET && is_v4_mapped(ip->addr))
		return prefix_equal(c->ip.addr, ip->addr + 12, c->prefix);
	if (c->ip.family == AF_INET6 && c->prefix >= 96 &&
	    is_v4_mapped(c->ip.addr))
		return prefix_equal(c->ip.addr + 12, ip->addr, c->prefix - 96);
	return false;
}

unsigned
rk_cidr_host_bits(const struct rk_cidr *c)
{
	return family_bits(c->ip.family) - c->prefix;
}

struct rk_cidr_set *
rk_cidr_set_new(void)
{
	return rk_calloc(1, sizeof(struct rk_cidr_set));
}

void
rk_cidr_set_free(struct rk_cidr_set *set)
{
	if (set == NULL)
		return;
	free(set->v);
	free(set);
}

void
rk_cidr_set_add(struct rk_cidr_set *set, const struct rk_cidr *c)
{
	if ((c->ip.family != AF_INET && c->ip.family != AF_INET6) ||
	    c->prefix > family_bits(c->ip.family))
		rk_panic("rk_cidr_set_add: bad network (family %d, /%u)",
		    c->ip.family, c->prefix);
	if (set->n == set->cap) {
		set->cap = set->cap ? rk_size_mul(set->cap, 2) : 8;
		set->v = rk_reallocarray(set->v, set->cap, sizeof(*set->v));
	}
	set->v[set->n++] = *c;
}

size_t
rk_cidr_set_count(const struct rk_cidr_set *set)
{
	return set->n;
}

bool
rk_cidr_set_match(const struct rk_cidr_set *set, const struct rk_ip *ip)
{
	for (size_t i = 0; i < set->n; i++)
		if (rk_cidr_contains(&set->v[i], ip))
			return true;
	return false;
}

bool
rk_cidr_set_match_str(const struct rk_cidr_set *set, const char *s)
{
	struct rk_ip ip;

	return rk_ip_parse(s, &ip, NULL) == 0 && rk_cidr_set_match(set, &ip);
}

bool
rk_cidr_set_match_sa(const struct rk_cidr_set *set, const struct sockaddr *sa)
{
	struct rk_ip ip;

	if (sa == NULL)
		return false;
	memset(&ip, 0, sizeof(ip));
	ip.family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(ip.addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	else if (sa->sa_family == AF_INET6)
		memcpy(ip.addr,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
	else
		return false;
	return rk_cidr_set_match(set, &ip);
}
