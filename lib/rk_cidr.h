/* SPDX-License-Identifier: MIT */
/*
 * rk_cidr: IPv4 and IPv6 addresses, networks and sets of networks.
 *
 * A network written without a prefix is a single host (/32 or /128).  A
 * network with host bits set ("10.0.0.1/8") is refused: it is almost always
 * a typo, and silently masking it would widen or move a trust boundary.
 * IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) match IPv4 networks, since
 * that is how a dual-stack socket reports IPv4 clients; likewise an IPv4
 * address matches a network inside ::ffff:0:0/96 (but not ::/0).
 *
 * Parsing is pure and thread-safe.  A set is built once (not thread-safe
 * while adding) and then only read (thread-safe).
 */
#ifndef RK_CIDR_H
#define RK_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rk_str.h"

struct rk_ip {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 */
};

struct rk_cidr {
	struct rk_ip ip;
	unsigned prefix; /* 0..32 or 0..128 */
};

int rk_ip_parse(const char *s, struct rk_ip *out, struct rk_err *err);
int rk_cidr_parse(const char *s, struct rk_cidr *out, struct rk_err *err);
/* "10.0.0.0/8" or "2001:db8::/32" into buf (size >= 64 is enough). */
char *rk_cidr_format(const struct rk_cidr *c, char *buf, size_t n);
bool rk_cidr_contains(const struct rk_cidr *c, const struct rk_ip *ip);
/* Number of addresses as log2: 32 - prefix for IPv4, 128 - prefix v6. */
unsigned rk_cidr_host_bits(const struct rk_cidr *c);

struct rk_cidr_set; /* opaque */

/* Caller frees with rk_cidr_set_free. */
struct rk_cidr_set *rk_cidr_set_new(void);
void rk_cidr_set_free(struct rk_cidr_set *set);
void rk_cidr_set_add(struct rk_cidr_set *set, const struct rk_cidr *c);
size_t rk_cidr_set_count(const struct rk_cidr_set *set);
bool rk_cidr_set_match(const struct rk_cidr_set *set, const struct rk_ip *ip);
/* false for an unparseable address. */
bool rk_cidr_set_match_str(const struct rk_cidr_set *set, const char *ip);
/* AF_INET / AF_INET6 sockaddrs; false for any other family. */
bool rk_cidr_set_match_sa(
    const struct rk_cidr_set *set, const struct sockaddr *sa);

#endif
