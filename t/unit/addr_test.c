/* SPDX-License-Identifier: MIT */
/*
 * t/unit/addr_test.c: RFC 5321 mailboxes, paths and domains in lib/rk_addr:
 * what is accepted under which flags, how it is normalised, and the reason
 * given for what is refused.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rk_addr.h"
#include "tap.h"

#define B  RK_ADDR_BRACKETS
#define N  RK_ADDR_NULL
#define U  RK_ADDR_UTF8
#define NL RK_ADDR_NO_LITERAL

struct addr_case {
	const char *name;
	const char *in;
	unsigned flags;
	int rc;
	const char *want; /* normalised "local@domain", or the reason */
};

static const struct addr_case addr_cases[] = {
	{ "plain", "user@example.com", 0, 0, "user@example.com" },
	{ "local case kept, domain lowered", "User.Name+tag@Example.COM", 0, 0,
	    "User.Name+tag@example.com" },
	{ "trailing dot dropped", "user@example.com.", 0, 0,
	    "user@example.com" },
	{ "angle brackets", "<user@example.com>", B, 0, "user@example.com" },
	{ "null path <>", "<>", N, 0, "" },
	{ "null path <> with brackets", "<>", N | B, 0, "" },
	{ "null path empty", "", N, 0, "" },
	{ "source route dropped", "<@a.example,@b.example:user@c.example>", B,
	    0, "user@c.example" },
	{ "one-hop source route", "<@Relay.Example:user@c.example>", B, 0,
	    "user@c.example" },
	{ "quoted atom unquoted", "\"john\"@x.example", 0, 0,
	    "john@x.example" },
	{ "quoted dot-string unquoted", "\"john.doe\"@x.example", 0, 0,
	    "john.doe@x.example" },
	{ "quoted space kept", "\"john doe\"@x.example", 0, 0,
	    "\"john doe\"@x.example" },
	{ "escaped quote kept", "\"a\\\"b\"@x.example", 0, 0,
	    "\"a\\\"b\"@x.example" },
	{ "escaped backslash kept", "\"a\\\\b\"@x.example", 0, 0,
	    "\"a\\\\b\"@x.example" },
	{ "needless escape dropped", "\"a\\bc\"@x.example", 0, 0,
	    "abc@x.example" },
	{ "needless escape in quoted form", "\"a\\ b\"@x.example", 0, 0,
	    "\"a b\"@x.example" },
	{ "quoted double dot", "\"a..b\"@x.example", 0, 0,
	    "\"a..b\"@x.example" },
	{ "quoted leading dot", "\".a\"@x.example", 0, 0, "\".a\"@x.example" },
	{ "quoted empty", "\"\"@x.example", 0, 0, "\"\"@x.example" },
	{ "quoted at sign", "\"a@b\"@x.example", 0, 0, "\"a@b\"@x.example" },
	{ "IPv4 literal", "user@[192.0.2.1]", 0, 0, "user@[192.0.2.1]" },
	{ "IPv6 literal normalised", "user@[IPv6:2001:DB8:0::1]", 0, 0,
	    "user@[IPv6:2001:db8::1]" },
	{ "IPv6 tag any case", "user@[ipv6:::1]", 0, 0, "user@[IPv6:::1]" },
	{ "IPv4-mapped literal", "user@[IPv6:::ffff:192.0.2.1]", 0, 0,
	    "user@[IPv6:::ffff:192.0.2.1]" },
	{ "every atext", "!#$%&'*+-/=?^_`{|}~@x.example", 0, 0,
	    "!#$%&'*+-/=?^_`{|}~@x.example" },
	{ "UTF-8 with SMTPUTF8", "\xc3\xbc@ex\xc3\xa4mple.de", U, 0,
	    "\xc3\xbc@ex\xc3\xa4mple.de" },
	{ "CJK with SMTPUTF8", "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b.cn", U, 0,
	    "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b.cn" },
	{ "four-byte UTF-8", "\xf0\x9f\x93\xa7@x.example", U, 0,
	    "\xf0\x9f\x93\xa7@x.example" },
	{ "quoted UTF-8 with SMTPUTF8", "\"\xc3\xbc x\"@x.example", U, 0,
	    "\"\xc3\xbc x\"@x.example" },
	{ "internal hyphen", "a@b-c.example", 0, 0, "a@b-c.example" },
	{ "A-label", "a@xn--bcher-kva.example", 0, 0,
	    "a@xn--bcher-kva.example" },
	{ "single label", "a@localhost", 0, 0, "a@localhost" },
	{ "numeric label below the top", "a@123.example", 0, 0,
	    "a@123.example" },
	{ "NUL path refused by default", "", 0, -1,
	    "null address is not allowed" },
	{ "<> refused without RK_ADDR_NULL", "<>", B, -1,
	    "null address is not allowed" },
	{ "brackets refused by default", "<user@x.example>", 0, -1,
	    "angle brackets are not allowed" },
	{ "unclosed bracket", "<user@x.example", B, -1, "missing \">\"" },
	{ "closing bracket alone", "user@x.example>", B, -1,
	    "\">\" without \"<\"" },
	{ "no domain", "user", 0, -1, "missing \"@domain\"" },
	{ "empty domain", "user@", 0, -1, "missing domain" },
	{ "empty local part", "@x.example", 0, -1, "empty local part" },
	{ "leading dot", ".user@x.example", 0, -1,
	    "starts or ends with a dot" },
	{ "trailing dot", "user.@x.example", 0, -1,
	    "starts or ends with a dot" },
	{ "two dots", "us..er@x.example", 0, -1, "two dots in a row" },
	{ "space in local part", "us er@x.example", 0, -1,
	    "space in local part" },
	{ "comment", "user(c)@x.example", 0, -1,
	    "invalid character \"(\" in local part" },
	{ "two at signs", "a@b@c.example", 0, -1,
	    "invalid character \"@\" in domain" },
	{ "unterminated quote", "\"abc@x.example", 0, -1,
	    "unterminated quoted string" },
	{ "backslash at the end", "\"abc\\", 0, -1,
	    "unterminated quoted string" },
	{ "text after the quote", "\"a\"b@x.example", 0, -1,
	    "invalid character \"b\" in local part" },
	{ "tab in quotes", "\"a\tb\"@x.example", 0, -1,
	    "control character in quoted string" },
	{ "escaped UTF-8", "\"\\\xc3\xbc\"@x.example", U, -1,
	    "bad escape in quoted string" },
	{ "UTF-8 local without SMTPUTF8", "\xc3\xbc@x.de", 0, -1,
	    "non-ASCII local part needs SMTPUTF8" },
	{ "UTF-8 quoted without SMTPUTF8", "\"\xc3\xbc\"@x.de", 0, -1,
	    "non-ASCII local part needs SMTPUTF8" },
	{ "UTF-8 domain without SMTPUTF8", "u@ex\xc3\xa4mple.de", 0, -1,
	    "non-ASCII domain needs SMTPUTF8" },
	{ "truncated UTF-8", "\xc3@x.example", U, -1,
	    "invalid UTF-8 in local part" },
	{ "overlong UTF-8", "\xc0\xaf@x.example", U, -1,
	    "invalid UTF-8 in local part" },
	{ "overlong three-byte UTF-8", "\xe0\x80\xaf@x.example", U, -1,
	    "invalid UTF-8 in local part" },
	{ "UTF-16 surrogate", "\xed\xa0\x80@x.example", U, -1,
	    "invalid UTF-8 in local part" },
	{ "past U+10FFFF", "\xf4\x90\x80\x80@x.example", U, -1,
	    "invalid UTF-8 in local part" },
	{ "bad UTF-8 in domain", "u@\xff.de", U, -1,
	    "invalid UTF-8 in domain" },
	{ "leading hyphen", "u@-x.example", 0, -1,
	    "label starts with a hyphen" },
	{ "trailing hyphen", "u@x-.example", 0, -1,
	    "label ends with a hyphen" },
	{ "empty label", "u@x..example", 0, -1, "empty label" },
	{ "leading dot in domain", "u@.example", 0, -1, "empty label" },
	{ "two trailing dots", "u@x.example..", 0, -1, "empty label" },
	{ "underscore in domain", "u@x_y.example", 0, -1,
	    "invalid character \"_\" in domain" },
	{ "unbracketed IPv4", "u@1.2.3.4", 0, -1,
	    "top-level label is all digits" },
	{ "literal with RK_ADDR_NO_LITERAL", "u@[1.2.3.4]", NL, -1,
	    "address literals are not allowed" },
	{ "short IPv4 literal", "u@[1.2.3]", 0, -1,
	    "bad IPv4 address literal" },
	{ "IPv4 literal with leading zero", "u@[01.2.3.4]", 0, -1,
	    "bad IPv4 address literal" },
	{ "IPv6 zone id", "u@[IPv6:fe80::1%eth0]", 0, -1,
	    "bad IPv6 address literal" },
	{ "IPv6 without tag", "u@[::1]", 0, -1, "unknown address literal tag" },
	{ "general literal", "u@[x-tag:foo]", 0, -1,
	    "unknown address literal tag" },
	{ "unclosed literal", "u@[1.2.3.4", 0, -1, "missing \"]\"" },
	{ "empty literal", "u@[]", 0, -1, "bad address literal" },
	{ "source route without brackets", "@a.example:user@x.example", B, -1,
	    "empty local part" },
	{ "source route without colon", "<@a.example user@x.example>", B, -1,
	    "source route without \":\"" },
	{ "source route hop without @", "<@a.example,user@x.example>", B, -1,
	    "bad source route" },
	{ "bad source route domain", "<@-bad:user@x.example>", B, -1,
	    "label starts with a hyphen" },
	{ "source route alone", "<@a.example:>", B, -1,
	    "missing mailbox after source route" },
};

static void
test_addr_cases(void)
{
	char buf[RK_ADDR_PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]);
	     i++) {
		const struct addr_case *c = &addr_cases[i];
		struct rk_addr a;
		struct rk_err err = { "" };
		int rc =
		    rk_addr_parse(c->in, strlen(c->in), c->flags, &a, &err);

		if (c->rc == -1) {
			if (!ok(rc == -1 && strstr(err.msg, c->want) != NULL,
			        "addr %s: refused with \"%s\"", c->name,
			        c->want))
				diag("  rc %d, reason \"%s\"", rc, err.msg);
			continue;
		}
		if (!ok(rc == 0, "addr %s", c->name)) {
			diag("  reason \"%s\"", err.msg);
			continue;
		}
		is_str(rk_addr_format(&a, buf, sizeof(buf)), c->want,
		    "addr %s: normalised", c->name);
		ok(a.null == (c->want[0] == '\0'), "addr %s: null flag",
		    c->name);
	}
}

/* Fills buf with n copies of c and a NUL; returns buf. */
static char *
fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* A domain of exactly n octets: labels of 63 "a"s, the last shorter. */
static char *
domain_of(char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t left = n - i;
		/* 64 left would leave an empty last label after 63 + '.'. */
		size_t label = left > 63 ? (left == 64 ? 62 : 63) : left;

		memset(buf + i, 'a', label);
		i += label;
		if (i < n)
			buf[i++] = '.';
	}
	buf[n] = '\0';
	return buf;
}

static int
parse_str(const char *s, unsigned flags, struct rk_addr *a, struct rk_err *err)
{
	return rk_addr_parse(s, strlen(s), flags, a, err);
}

static void
test_local_limits(void)
{
	char local[200], in[400];
	struct rk_addr a;
	struct rk_err err;

	snprintf(in, sizeof(in), "%s@x.example", fill(local, 'l', 64));
	ok(parse_str(in, 0, &a, NULL) == 0 && strlen(a.local) == 64,
	    "local part of 64 octets");
	snprintf(in, sizeof(in), "%s@x.example", fill(local, 'l', 65));
	ok(parse_str(in, 0, &a, &err) == -1 &&
	        strcmp(err.msg, "local part longer than 64 octets") == 0,
	    "local part of 65 octets refused");
	snprintf(in, sizeof(in), "\"%s\"@x.example", fill(local, 'l', 64));
	ok(parse_str(in, 0, &a, NULL) == 0 && strcmp(a.local, local) == 0,
	    "quoted local part of 64 octets unquoted");
	snprintf(in, sizeof(in), "\"%s\"@x.example", fill(local, 'l', 65));
	ok(parse_str(in, 0, &a, NULL) == -1,
	    "quoted local part of 65 octets refused");
	/* Escaped, each '"' needs two octets: the widest normalised form. */
	memset(in, 0, sizeof(in));
	in[0] = '"';
	for (size_t i = 0; i < 64; i++)
		memcpy(in + 1 + 2 * i, "\\\"", 2);
	strcat(in, "\"@x");
	ok(parse_str(in, 0, &a, NULL) == 0 && strlen(a.local) == 130 &&
	        memcmp(a.local, in, 130) == 0,
	    "64 escaped quotes fill the quoted form exactly");
}

static void
test_domain_limits(void)
{
	char dom[300], in[400], local[100];
	struct rk_addr a;
	struct rk_err err;

	snprintf(in, sizeof(in), "u@%s", domain_of(dom, 253));
	ok(parse_str(in, 0, &a, NULL) == 0 && strlen(a.domain) == 253,
	    "domain of 253 octets");
	snprintf(in, sizeof(in), "u@%s.", domain_of(dom, 253));
	ok(parse_str(in, 0, &a, NULL) == 0 && strlen(a.domain) == 253,
	    "domain of 253 octets and a trailing dot");
	snprintf(in, sizeof(in), "u@%s", domain_of(dom, 254));
	ok(parse_str(in, 0, &a, &err) == -1 &&
	        strcmp(err.msg, "domain longer than 253 octets") == 0,
	    "domain of 254 octets refused");
	snprintf(in, sizeof(in), "u@%s.example", fill(dom, 'd', 63));
	ok(parse_str(in, 0, &a, NULL) == 0, "label of 63 octets");
	snprintf(in, sizeof(in), "u@%s.example", fill(dom, 'd', 64));
	ok(parse_str(in, 0, &a, &err) == -1 &&
	        strcmp(err.msg, "label longer than 63 octets") == 0,
	    "label of 64 octets refused");
	/* 64 + 1 + 191 = 256 octets: the longest path. */
	snprintf(
	    in, sizeof(in), "%s@%s", fill(local, 'l', 64), domain_of(dom, 191));
	ok(parse_str(in, 0, &a, NULL) == 0, "path of 256 octets");
	snprintf(in, sizeof(in), "%s@%s", local, domain_of(dom, 192));
	ok(parse_str(in, 0, &a, &err) == -1 &&
	        strcmp(err.msg, "address longer than 256 octets") == 0,
	    "path of 257 octets refused");
	snprintf(in, sizeof(in), "<%s@%s>", local, domain_of(dom, 189));
	ok(parse_str(in, B, &a, NULL) == 0, "path of 256 octets with brackets");
	snprintf(in, sizeof(in), "<%s@%s>", local, domain_of(dom, 190));
	ok(parse_str(in, B, &a, NULL) == -1,
	    "path of 257 octets with brackets refused");
}

static void
test_addr_misc(void)
{
	const char buf[] = "user@Example.COMtrailing";
	const char nul[] = "us\0er@x.example";
	char out[8];
	struct rk_addr a;
	struct rk_err err;

	ok(rk_addr_parse(buf, 16, 0, &a, NULL) == 0 &&
	        strcmp(a.domain, "example.com") == 0,
	    "input need not be NUL-terminated");
	ok(rk_addr_parse(nul, sizeof(nul) - 1, 0, &a, &err) == -1 &&
	        strcmp(err.msg, "invalid byte 0x00 in local part") == 0,
	    "NUL byte in the local part refused");
	ok(rk_addr_parse(NULL, 0, N, &a, NULL) == -1, "NULL input refused");
	ok(parse_str("\"a b\"@x.example", 0, &a, NULL) == 0 &&
	        strcmp(a.local, "\"a b\"") == 0,
	    "local part stored in quoted form");
	ok(parse_str("u@x.example", 0, &a, NULL) == 0 &&
	        strcmp(rk_addr_format(&a, out, sizeof(out)), "u@x.exa") == 0,
	    "format truncates to the buffer");
}

struct domain_case {
	const char *name;
	const char *in;
	unsigned flags;
	const char *reason; /* NULL when valid */
};

static const struct domain_case domain_cases[] = {
	{ "two labels", "example.com", 0, NULL },
	{ "trailing dot", "example.com.", 0, NULL },
	{ "one label", "a", 0, NULL },
	{ "digits and hyphens", "0-9.a-b.example", 0, NULL },
	{ "U-label with SMTPUTF8", "ex\xc3\xa4mple.de", U, NULL },
	{ "U-label without SMTPUTF8", "ex\xc3\xa4mple.de", 0,
	    "non-ASCII domain needs SMTPUTF8" },
	{ "empty", "", 0, "empty domain" },
	{ "root only", ".", 0, "empty domain" },
	{ "address literal", "[1.2.3.4]", 0,
	    "address literal is not a domain" },
	{ "all-digit top label", "123", 0, "top-level label is all digits" },
	{ "hyphen after dot", "a.-b", 0, "label starts with a hyphen" },
	{ "space", "a b.example", 0, "space in domain" },
};

static void
test_domain_check(void)
{
	char dom[300];

	for (size_t i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]);
	     i++) {
		const struct domain_case *c = &domain_cases[i];
		struct rk_err err = { "" };
		int rc = rk_domain_check(c->in, strlen(c->in), c->flags, &err);

		if (c->reason == NULL)
			ok(rc == 0, "domain check %s", c->name);
		else if (!ok(rc == -1 && strstr(err.msg, c->reason) != NULL,
		             "domain check %s: refused with \"%s\"", c->name,
		             c->reason))
			diag("  rc %d, reason \"%s\"", rc, err.msg);
	}
	domain_of(dom, 253);
	ok(rk_domain_check(dom, 253, 0, NULL) == 0, "domain check 253 octets");
	strcat(dom, ".");
	ok(rk_domain_check(dom, 254, 0, NULL) == 0,
	    "domain check 253 octets and the root dot");
	domain_of(dom, 254);
	ok(rk_domain_check(dom, 254, 0, NULL) == -1,
	    "domain check 254 octets refused");
	ok(rk_domain_check("example.com", 7, 0, NULL) == 0,
	    "domain check reads only len octets");
}

static void
test_domain_normalize(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "Example.COM.", "example.com" },
		{ "example.com", "example.com" },
		{ "A", "a" },
		{ "", "" },
		{ ".", "" },
		{ "\xc3\x84X.DE", "\xc3\x84x.de" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		rk_domain_normalize(buf);
		is_str(buf, cases[i].want, "normalise \"%s\"", cases[i].in);
	}
}

static void
test_domain_match(void)
{
	static const struct {
		const char *domain, *pattern;
		bool subdomains, want;
	} cases[] = {
		{ "example.com", "example.com", false, true },
		{ "EXAMPLE.com", "example.COM", false, true },
		{ "mail.example.com", "example.com", false, false },
		{ "mail.example.com", "example.com", true, true },
		{ "a.b.example.com", "example.com", true, true },
		{ "example.com", "example.com", true, true },
		{ "badexample.com", "example.com", true, false },
		{ "com", "example.com", true, false },
		{ ".example.com", "example.com", true, false },
		{ "example.com", "", true, false },
		{ "example.org", "example.com", true, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(rk_domain_match(cases[i].domain, cases[i].pattern,
		       cases[i].subdomains) == cases[i].want,
		    "match \"%s\" against \"%s\"%s: %s", cases[i].domain,
		    cases[i].pattern,
		    cases[i].subdomains ? " (subdomains)" : "",
		    cases[i].want ? "yes" : "no");
}

int
main(void)
{
	test_addr_cases();
	test_local_limits();
	test_domain_limits();
	test_addr_misc();
	test_domain_check();
	test_domain_normalize();
	test_domain_match();
	return done_testing();
}
