/* SPDX-License-Identifier: MIT */
/*
 * rk_addr: RFC 5321 mailboxes and domains: parsing, checking,
 * normalisation and matching.  Pure functions, thread-safe.
 *
 * Normalisation: the domain is lower-cased (ASCII) and loses a trailing
 * dot; the local part is kept exactly as written (RFC 5321 2.4: it is case
 * sensitive), except that a quoted local part whose content needs no
 * quoting is unquoted ("john"@x -> john@x) and any other is re-quoted
 * with only '"' and '\' escaped ("a\ b"@x -> "a b"@x).  An address
 * literal is rewritten in inet_ntop form: [IPv6:2001:db8::1].
 *
 * Limits: local part <= 64 octets, domain <= 255 octets, whole path <= 256.
 */
#ifndef RK_ADDR_H
#define RK_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "rk_str.h"

#define RK_ADDR_LOCAL_MAX  64
#define RK_ADDR_DOMAIN_MAX 255
#define RK_ADDR_PATH_MAX   256

enum {
	RK_ADDR_BRACKETS = 1 << 0,   /* accept (not require) <...> */
	RK_ADDR_NULL = 1 << 1,       /* accept the null path "<>" / "" */
	RK_ADDR_UTF8 = 1 << 2,       /* RFC 6531: UTF-8 in local and domain */
	RK_ADDR_NO_LITERAL = 1 << 3, /* refuse [1.2.3.4] address literals */
};

struct rk_addr {
	bool null; /* the null path <> (local and domain are "") */
	char local[RK_ADDR_LOCAL_MAX * 2 +
	    3];                              /* unquoted text, or quoted form */
	char domain[RK_ADDR_DOMAIN_MAX + 1]; /* normalised */
};

/*
 * Parses s (len bytes, need not be NUL-terminated) into out.  Source
 * routes (<@a,@b:x@y>) are accepted and dropped, as RFC 5321 asks.
 */
int rk_addr_parse(const char *s, size_t len, unsigned flags,
    struct rk_addr *out, struct rk_err *err);
/* "local@domain" (or "" for the null path) into buf; returns buf. */
char *rk_addr_format(const struct rk_addr *a, char *buf, size_t n);

/*
 * Checks a domain name: dot-separated LDH labels of 1..63 octets, no
 * leading or trailing hyphen, <= 253 octets without the trailing dot, at
 * least one label.  With RK_ADDR_UTF8, octets >= 0x80 are allowed in
 * labels (U-labels).  Address literals are not domains.
 */
int rk_domain_check(
    const char *s, size_t len, unsigned flags, struct rk_err *err);
/* Lower-cases and strips one trailing dot, in place. */
void rk_domain_normalize(char *s);
/*
 * true if domain equals pattern, or (with subdomains) ends with
 * "." pattern.  Case-insensitive; both should be normalised.
 */
bool rk_domain_match(const char *domain, const char *pattern, bool subdomains);

#endif
