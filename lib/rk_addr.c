/* SPDX-License-Identifier: MIT */
/*
 * rk_addr: RFC 5321 paths (mailboxes, null path, source routes), RFC 6531
 * UTF-8 mailboxes, domain names and address literals.
 *
 * Non-goals: RFC 5322 header syntax (comments, display names, folding),
 * IDNA conversion.  Pure functions, no allocation, thread-safe.  Inputs
 * are (pointer, length) and need not be NUL-terminated.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rk_addr.h"

#define DOMAIN_TEXT_MAX 253 /* RFC 1035 name length without the root dot */
#define LABEL_MAX       63

/* RFC 5321 4.1.2 atext (ASCII part). */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0.
 * Overlong forms, surrogates and code points past U+10FFFF are refused so
 * that a mailbox has one spelling.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Steps over one non-ASCII character of a local part or label at p, or
 * explains why it cannot be there.  what names the part for the message.
 */
static int
utf8_step(const char *p, size_t n, unsigned flags, const char *what,
    size_t *step, struct rk_err *err)
{
	if (!(flags & RK_ADDR_UTF8))
		return rk_err_set(err, "non-ASCII %s needs SMTPUTF8", what);
	*step = utf8_len((const unsigned char *)p, n);
	if (*step == 0)
		return rk_err_set(err, "invalid UTF-8 in %s", what);
	return 0;
}

static int
bad_char(struct rk_err *err, char c, const char *what)
{
	unsigned char u = (unsigned char)c;

	if (c == ' ')
		return rk_err_set(err, "space in %s", what);
	if (u > 0x20 && u < 0x7f)
		return rk_err_set(
		    err, "invalid character \"%c\" in %s", c, what);
	return rk_err_set(err, "invalid byte 0x%02x in %s", u, what);
}

/* Dot-string = Atom *("." Atom), with UTF-8 atoms under RK_ADDR_UTF8. */
static int
dot_string_check(const char *p, size_t n, unsigned flags, struct rk_err *err)
{
	size_t step;

	if (n == 0)
		return rk_err_set(err, "empty local part");
	if (p[0] == '.' || p[n - 1] == '.')
		return rk_err_set(err, "local part starts or ends with a dot");
	for (size_t i = 0; i < n; i += step) {
		step = 1;
		if (p[i] == '.' && p[i + 1] == '.')
			return rk_err_set(
			    err, "two dots in a row in local part");
		if ((unsigned char)p[i] >= 0x80) {
			if (utf8_step(p + i, n - i, flags, "local part", &step,
			        err) == -1)
				return -1;
		} else if (p[i] != '.' && !is_atext((unsigned char)p[i]))
			return bad_char(err, p[i], "local part");
	}
	return 0;
}

/*
 * Stores a local part whose content is known: unquoted when it is a
 * dot-string, else quoted with only '"' and '\' escaped, so that every
 * spelling of one local part normalises to the same text.
 */
static void
local_store(const char *c, size_t n, unsigned flags, struct rk_addr *a)
{
	size_t o = 0;

	if (dot_string_check(c, n, flags, NULL) == 0) {
		memcpy(a->local, c, n);
		a->local[n] = '\0';
		return;
	}
	a->local[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (c[i] == '"' || c[i] == '\\')
			a->local[o++] = '\\';
		a->local[o++] = c[i];
	}
	a->local[o++] = '"';
	a->local[o] = '\0';
}

/* One quoted-pair or qtext at p[*i], appended to c; *i moves past it. */
static int
quoted_char(const char *p, size_t len, size_t *i, unsigned flags, char *c,
    size_t *cn, struct rk_err *err)
{
	const char *src = p + *i;
	size_t left = len - *i, step = 1;

	if (*src == '\\') {
		if (left < 2)
			return rk_err_set(err, "unterminated quoted string");
		src++;
		if (*src < 0x20 || *src > 0x7e)
			return rk_err_set(err, "bad escape in quoted string");
		(*i)++;
	} else if ((unsigned char)*src >= 0x80) {
		if (utf8_step(src, left, flags, "local part", &step, err) == -1)
			return -1;
	} else if (*src < 0x20 || *src == 0x7f)
		return rk_err_set(err, "control character in quoted string");
	if (*cn + step > RK_ADDR_LOCAL_MAX)
		return rk_err_set(
		    err, "local part longer than %d octets", RK_ADDR_LOCAL_MAX);
	memcpy(c + *cn, src, step);
	*cn += step;
	*i += step;
	return 0;
}

/* Quoted-string local part at p; *np is its written length. */
static int
local_quoted(const char *p, size_t len, unsigned flags, struct rk_addr *a,
    size_t *np, struct rk_err *err)
{
	char c[RK_ADDR_LOCAL_MAX];
	size_t i = 1, cn = 0;

	for (;;) {
		if (i >= len)
			return rk_err_set(err, "unterminated quoted string");
		if (p[i] == '"')
			break;
		if (quoted_char(p, len, &i, flags, c, &cn, err) == -1)
			return -1;
	}
	local_store(c, cn, flags, a);
	*np = i + 1;
	return 0;
}

static int
local_dot(const char *p, size_t len, unsigned flags, struct rk_addr *a,
    size_t *np, struct rk_err *err)
{
	const char *at = memchr(p, '@', len);
	size_t n = at != NULL ? (size_t)(at - p) : len;

	if (n > RK_ADDR_LOCAL_MAX)
		return rk_err_set(
		    err, "local part longer than %d octets", RK_ADDR_LOCAL_MAX);
	if (dot_string_check(p, n, flags, err) == -1)
		return -1;
	memcpy(a->local, p, n);
	a->local[n] = '\0';
	*np = n;
	return 0;
}

/*
 * [1.2.3.4] or [IPv6:...], stored in inet_ntop form so that one address
 * has one spelling.  General literals ("[tag:...]") have no use in mail
 * routing today and are refused.
 */
static int
domain_literal(
    const char *p, size_t len, unsigned flags, char *out, struct rk_err *err)
{
	char tmp[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	size_t n, skip = 0;
	int af = AF_INET;

	if (flags & RK_ADDR_NO_LITERAL)
		return rk_err_set(err, "address literals are not allowed");
	if (len < 2 || p[len - 1] != ']')
		return rk_err_set(err, "missing \"]\"");
	n = len - 2;
	if (n >= 5 && rk_mem_case_eq(p + 1, "IPv6:", 5)) {
		af = AF_INET6;
		skip = 5;
	} else if (memchr(p + 1, ':', n) != NULL)
		return rk_err_set(err, "unknown address literal tag");
	if (n - skip == 0 || n - skip >= sizeof(tmp))
		return rk_err_set(err, "bad address literal");
	memcpy(tmp, p + 1 + skip, n - skip);
	tmp[n - skip] = '\0';
	if (inet_pton(af, tmp, bin) != 1)
		return rk_err_set(err, "bad %s address literal",
		    af == AF_INET ? "IPv4" : "IPv6");
	if (inet_ntop(af, bin, text, sizeof(text)) == NULL)
		rk_panic("inet_ntop failed on a parsed address");
	snprintf(out, RK_ADDR_DOMAIN_MAX + 1, "[%s%s]",
	    af == AF_INET ? "" : "IPv6:", text);
	return 0;
}

static int
parse_domain(const char *p, size_t len, unsigned flags, struct rk_addr *a,
    struct rk_err *err)
{
	if (len == 0)
		return rk_err_set(err, "missing domain");
	if (p[0] == '[')
		return domain_literal(p, len, flags, a->domain, err);
	if (rk_domain_check(p, len, flags, err) == -1)
		return -1;
	memcpy(a->domain, p, len);
	a->domain[len] = '\0';
	rk_domain_normalize(a->domain);
	return 0;
}

static int
parse_mailbox(const char *p, size_t len, unsigned flags, struct rk_addr *a,
    struct rk_err *err)
{
	size_t n = 0;
	int r;

	if (p[0] == '"')
		r = local_quoted(p, len, flags, a, &n, err);
	else
		r = local_dot(p, len, flags, a, &n, err);
	if (r == -1)
		return -1;
	if (n == len)
		return rk_err_set(err, "missing \"@domain\"");
	if (p[n] != '@')
		return bad_char(err, p[n], "local part");
	return parse_domain(p + n + 1, len - n - 1, flags, a, err);
}

/*
 * "@a,@b:" before the mailbox: checked, then skipped, since RFC 5321
 * 4.1.1.3 says to ignore source routes.
 */
static int
skip_route(const char **pp, size_t *lenp, unsigned flags, struct rk_err *err)
{
	const char *p = *pp, *end = *pp + *lenp;
	size_t n;

	for (;;) {
		if (p == end || *p != '@')
			return rk_err_set(err, "bad source route");
		p++;
		for (n = 0; p + n < end && p[n] != ',' && p[n] != ':'; n++)
			continue;
		if (p + n == end)
			return rk_err_set(err, "source route without \":\"");
		if (rk_domain_check(p, n, flags, err) == -1)
			return -1;
		p += n + 1;
		if (p[-1] == ':')
			break;
	}
	*lenp = (size_t)(end - p);
	*pp = p;
	return 0;
}

/* Strips <...>; *bracketed says whether there were brackets. */
static int
strip_brackets(const char **pp, size_t *lenp, unsigned flags, bool *bracketed,
    struct rk_err *err)
{
	const char *p = *pp;
	size_t len = *lenp;

	*bracketed = len > 0 && p[0] == '<';
	if (!*bracketed) {
		if (len > 0 && p[len - 1] == '>')
			return rk_err_set(err, "\">\" without \"<\"");
		return 0;
	}
	if (len < 2 || p[len - 1] != '>')
		return rk_err_set(err, "missing \">\"");
	/* "<>" is how the null path is written; RK_ADDR_NULL covers it. */
	if (len > 2 && !(flags & RK_ADDR_BRACKETS))
		return rk_err_set(err, "angle brackets are not allowed");
	*pp = p + 1;
	*lenp = len - 2;
	return 0;
}

int
rk_addr_parse(const char *s, size_t len, unsigned flags, struct rk_addr *out,
    struct rk_err *err)
{
	struct rk_addr a;
	bool bracketed;

	if (s == NULL)
		return rk_err_set(err, "missing address");
	if (len > RK_ADDR_PATH_MAX)
		return rk_err_set(
		    err, "address longer than %d octets", RK_ADDR_PATH_MAX);
	memset(&a, 0, sizeof(a));
	if (strip_brackets(&s, &len, flags, &bracketed, err) == -1)
		return -1;
	if (len == 0 && !(flags & RK_ADDR_NULL))
		return rk_err_set(err, "null address is not allowed");
	a.null = len == 0;
	if (bracketed && len > 0 && s[0] == '@' &&
	    skip_route(&s, &len, flags, err) == -1)
		return -1;
	if (!a.null && len == 0)
		return rk_err_set(err, "missing mailbox after source route");
	if (!a.null && parse_mailbox(s, len, flags, &a, err) == -1)
		return -1;
	if (strlen(a.local) + 1 + strlen(a.domain) > RK_ADDR_PATH_MAX)
		return rk_err_set(
		    err, "address longer than %d octets", RK_ADDR_PATH_MAX);
	*out = a;
	return 0;
}

char *
rk_addr_format(const struct rk_addr *a, char *buf, size_t n)
{
	if (a->null)
		snprintf(buf, n, "%s", "");
	else
		snprintf(buf, n, "%s@%s", a->local, a->domain);
	return buf;
}

static int
label_check(const char *p, size_t n, unsigned flags, struct rk_err *err)
{
	size_t step;

	if (n == 0)
		return rk_err_set(err, "empty label in domain");
	if (n > LABEL_MAX)
		return rk_err_set(
		    err, "label longer than %d octets", LABEL_MAX);
	if (p[0] == '-')
		return rk_err_set(err, "label starts with a hyphen");
	if (p[n - 1] == '-')
		return rk_err_set(err, "label ends with a hyphen");
	for (size_t i = 0; i < n; i += step) {
		step = 1;
		if ((unsigned char)p[i] >= 0x80) {
			if (utf8_step(p + i, n - i, flags, "domain", &step,
			        err) == -1)
				return -1;
		} else if (!is_let_dig((unsigned char)p[i]) && p[i] != '-')
			return bad_char(err, p[i], "domain");
	}
	return 0;
}

int
rk_domain_check(const char *s, size_t len, unsigned flags, struct rk_err *err)
{
	size_t start, i, tld = 0;

	if (s == NULL || len == 0 || (len == 1 && s[0] == '.'))
		return rk_err_set(err, "empty domain");
	if (s[0] == '[')
		return rk_err_set(err, "address literal is not a domain");
	if (s[len - 1] == '.')
		len--;
	if (len > DOMAIN_TEXT_MAX)
		return rk_err_set(
		    err, "domain longer than %d octets", DOMAIN_TEXT_MAX);
	for (start = 0;; start = i + 1) {
		for (i = start; i < len && s[i] != '.'; i++)
			continue;
		if (label_check(s + start, i - start, flags, err) == -1)
			return -1;
		tld = start;
		if (i == len)
			break;
	}
	/* RFC 3696 2: a top-level domain is never all digits. */
	for (i = tld; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		continue;
	if (i == len)
		return rk_err_set(err,
		    "top-level label is all digits (address literals need "
		    "brackets)");
	return 0;
}

void
rk_domain_normalize(char *s)
{
	size_t n;

	rk_str_lower(s);
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

bool
rk_domain_match(const char *domain, const char *pattern, bool subdomains)
{
	size_t dl = strlen(domain), pl = strlen(pattern);

	if (dl == pl)
		return rk_mem_case_eq(domain, pattern, dl);
	if (!subdomains || pl == 0 || dl < pl + 2)
		return false;
	return domain[dl - pl - 1] == '.' &&
	    rk_mem_case_eq(domain + dl - pl, pattern, pl);
}
