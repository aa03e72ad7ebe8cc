/* SPDX-License-Identifier: MIT */
/*
 * rk_mime: a tolerant MIME reader (see rk_mime.h).  The input is first
 * rewritten with LF line endings, so every later step has one line shape
 * to handle; parts then point into fresh copies, never into the input.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_mime.h"
#include "rk_str.h"

struct mime_ctx {
	size_t nparts;
};

static struct rk_mime_part *parse_entity(struct mime_ctx *ctx, const char *s,
    size_t n, int depth, struct rk_mime_part *parent, bool headers_only,
    const char *default_type);

char *
rk_mime_lf(const char *buf, size_t len, size_t *outlen)
{
	char *out = rk_malloc(len + 1);
	size_t o = 0, i = 0;

	/* copy the runs between CRs whole: most mail has none, or CRLF */
	while (i < len) {
		const char *cr = memchr(buf + i, '\r', len - i);
		size_t run = cr ? (size_t)(cr - buf) - i : len - i;

		memcpy(out + o, buf + i, run);
		o += run;
		i += run;
		if (cr == NULL)
			break;
		out[o++] = '\n';
		i += (i + 1 < len && buf[i + 1] == '\n') ? 2 : 1;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

/* ------------------------------------------------------------ decoders */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* underscore: RFC 2047's Q encoding writes a space as "_" */
static char *
qp_decode(const char *buf, size_t len, size_t *outlen, bool underscore)
{
	char *out = rk_malloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '_' && underscore) {
			out[o++] = ' ';
		} else if (c != '=') {
			out[o++] = c;
		} else if (i + 1 < len && buf[i + 1] == '\n') {
			i++; /* soft line break */
		} else if (i + 2 < len && hexval(buf[i + 1]) >= 0 &&
		    hexval(buf[i + 2]) >= 0) {
			out[o++] = (char)(hexval(buf[i + 1]) * 16 +
			    hexval(buf[i + 2]));
			i += 2;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

char *
rk_mime_qp_decode(const char *buf, size_t len, size_t *outlen)
{
	return qp_decode(buf, len, outlen, false);
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *
rk_mime_b64_decode(const char *buf, size_t len, size_t *outlen)
{
	char *out = rk_malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64val(buf[i]);

		if (v < 0)
			continue; /* line breaks, padding, junk */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

/* ------------------------------------------------------------ charsets */

/* Names mail uses that iconv knows by another. */
static const char *
charset_alias(const char *cs)
{
	static const char *const map[][2] = {
		{ "ks_c_5601-1987", "CP949" },
		{ "x-sjis", "SHIFT_JIS" },
		{ "shift-jis", "SHIFT_JIS" },
		{ "x-euc-jp", "EUC-JP" },
		{ "unicode-1-1-utf-7", "UTF-7" },
		{ "x-user-defined", "ISO-8859-1" },
		{ "iso-2022-jp-3", "ISO-2022-JP-3" },
		{ "gb2312", "GB18030" }, /* a superset: mislabelled mail */
		{ "gbk", "GB18030" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (rk_str_case_eq(cs, map[i][0]))
			return map[i][1];
	return cs;
}

static bool
charset_is_utf8(const char *cs)
{
	return cs == NULL || *cs == '\0' || rk_str_case_eq(cs, "utf-8") ||
	    rk_str_case_eq(cs, "utf8") || rk_str_case_eq(cs, "us-ascii") ||
	    rk_str_case_eq(cs, "ascii");
}

/* Plain 7-bit text without the escapes of ISO-2022 or UTF-7's "+". */
static bool
plain_ascii(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x80 || buf[i] == 0x1b)
			return false;
	return true;
}

static void
iconv_all(iconv_t cd, const char *buf, size_t len, struct rk_buf *out)
{
	char *in = (char *)(uintptr_t)buf; /* iconv's prototype is not const */
	size_t inleft = len;

	while (inleft > 0) {
		char tmp[1024], *op = tmp;
		size_t oleft = sizeof(tmp);
		size_t r = iconv(cd, &in, &inleft, &op, &oleft);

		rk_buf_append(out, tmp, sizeof(tmp) - oleft);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* invalid or truncated input: keep the byte, go on */
		rk_buf_putc(out, *in);
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
}

char *
rk_mime_to_utf8(
    const char *charset, const char *buf, size_t len, size_t *outlen)
{
	struct rk_buf out;
	iconv_t cd;

	if (charset_is_utf8(charset) ||
	    (plain_ascii(buf, len) && !rk_str_case_eq(charset, "utf-7")) ||
	    (cd = iconv_open("UTF-8", charset_alias(charset))) == (iconv_t)-1) {
		if (outlen)
			*outlen = len;
		return rk_memdup0(buf, len);
	}
	rk_buf_init(&out);
	rk_buf_reserve(&out, len + 1);
	iconv_all(cd, buf, len, &out);
	iconv_close(cd);
	if (outlen)
		*outlen = out.len;
	return rk_buf_steal(&out);
}

/* ------------------------------------------------------ encoded words */

/* One "=?cs?X?text?=" at s; its end in *end, or -1 if it is not one. */
static int
encoded_word(const char *s, struct rk_buf *out, const char **end)
{
	const char *cs = s + 2, *q1, *q2, *e;
	char charset[64], *raw, *utf;
	size_t rlen, ulen;

	if ((q1 = strchr(cs, '?')) == NULL ||
	    q1 - cs >= (long)sizeof(charset) || q1 == cs || q1[1] == '\0' ||
	    q1[2] != '?')
		return -1;
	q2 = q1 + 2;
	if ((e = strstr(q2 + 1, "?=")) == NULL ||
	    memchr(q2 + 1, ' ', (size_t)(e - q2 - 1)))
		return -1;
	memcpy(charset, cs, (size_t)(q1 - cs));
	charset[q1 - cs] = '\0';
	charset[strcspn(charset, "*")] = '\0'; /* RFC 2231 language */
	if (q1[1] == 'B' || q1[1] == 'b')
		raw = rk_mime_b64_decode(q2 + 1, (size_t)(e - q2 - 1), &rlen);
	else if (q1[1] == 'Q' || q1[1] == 'q')
		raw = qp_decode(q2 + 1, (size_t)(e - q2 - 1), &rlen, true);
	else
		return -1;
	utf = rk_mime_to_utf8(charset, raw, rlen, &ulen);
	rk_buf_append(out, utf, ulen);
	free(raw);
	free(utf);
	*end = e + 2;
	return 0;
}

char *
rk_mime_decode_words(const char *value)
{
	struct rk_buf out;
	const char *p = value, *end;
	bool prev_word = false;

	rk_buf_init(&out);
	rk_buf_puts(&out, "");
	while (*p) {
		if (p[0] == '=' && p[1] == '?' &&
		    encoded_word(p, &out, &end) == 0) {
			p = end;
			prev_word = true;
			continue;
		}
		/* space between two encoded words is not part of the text */
		if (prev_word && (*p == ' ' || *p == '\t')) {
			size_t sp = strspn(p, " \t");

			if (p[sp] == '=' && p[sp + 1] == '?') {
				p += sp;
				continue;
			}
		}
		prev_word = false;
		rk_buf_putc(&out, *p++);
	}
	return rk_buf_steal(&out);
}

/* ------------------------------------------------------------- headers */

const char *
rk_mime_header(const struct rk_mime_part *p, const char *name)
{
	for (size_t i = 0; p && i < p->nhdrs; i++)
		if (rk_str_case_eq(p->hdrs[i].name, name))
			return p->hdrs[i].value;
	return NULL;
}

char *
rk_mime_param(const char *params, const char *name)
{
	size_t nl = strlen(name);

	if (params == NULL)
		return NULL;
	for (const char *p = params; *p;) {
		p += strspn(p, " \t;");
		if (rk_mem_case_eq(p, name, nl) &&
		    (p[nl] == '=' || p[nl] == ' ' || p[nl] == '\t')) {
			const char *v = p + nl + strspn(p + nl, " \t");

			if (*v != '=')
				return NULL;
			v += 1 + strspn(v + 1, " \t");
			if (*v == '"') {
				const char *q = strchr(v + 1, '"');

				return rk_strndup(v + 1,
				    q ? (size_t)(q - v - 1) : strlen(v + 1));
			}
			return rk_strndup(v, strcspn(v, " \t;"));
		}
		/* skip this parameter, quotes and all */
		while (*p && *p != ';') {
			if (*p++ == '"')
				while (*p && *p++ != '"')
					;
		}
	}
	return NULL;
}

static bool
is_field_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static void
add_header(struct rk_mime_part *p, const char *name, size_t nl, const char *val,
    size_t vl)
{
	struct rk_mime_header *h;

	/* the array holds a power of two, at least 8: grown by doubling */
	if (p->nhdrs == 0 || (p->nhdrs >= 8 && !(p->nhdrs & (p->nhdrs - 1))))
		p->hdrs = rk_reallocarray(
		    p->hdrs, p->nhdrs ? p->nhdrs * 2 : 8, sizeof(*p->hdrs));
	h = &p->hdrs[p->nhdrs++];
	h->name = rk_strndup(name, nl);
	h->value = rk_strndup(val, vl);
}

static void
append_fold(struct rk_mime_header *h, const char *s, size_t n)
{
	size_t old = strlen(h->value), sp = 0;

	while (sp < n && (s[sp] == ' ' || s[sp] == '\t'))
		sp++;
	h->value = rk_reallocarray(h->value, old + (n - sp) + 2, 1);
	h->value[old] = ' ';
	memcpy(h->value + old + 1, s + sp, n - sp);
	h->value[old + 1 + (n - sp)] = '\0';
}

static void
trim_values(struct rk_mime_part *p)
{
	for (size_t i = 0; i < p->nhdrs; i++) {
		char *v = p->hdrs[i].value;
		size_t l = strlen(v), s = strspn(v, " \t");

		while (l > s && (v[l - 1] == ' ' || v[l - 1] == '\t'))
			l--;
		memmove(v, v + s, l - s);
		v[l - s] = '\0';
	}
}

/*
 * Reads the header section of s; returns the offset of the body.  A line
 * that is neither a field nor a continuation ends the headers (broken
 * mail without the blank line), and so does an mbox "From " line after
 * the first.
 */
static size_t
parse_headers(struct rk_mime_part *p, const char *s, size_t n)
{
	size_t pos = 0;

	if (n >= 5 && memcmp(s, "From ", 5) == 0) {
		const char *nl = memchr(s, '\n', n);

		pos = nl ? (size_t)(nl - s) + 1 : n;
	}
	while (pos < n) {
		const char *line = s + pos, *nl = memchr(line, '\n', n - pos);
		size_t ll = nl ? (size_t)(nl - line) : n - pos;
		const char *colon = memchr(line, ':', ll);
		size_t nlen;

		if (ll == 0)
			return pos + 1;
		if ((line[0] == ' ' || line[0] == '\t') && p->nhdrs > 0) {
			append_fold(&p->hdrs[p->nhdrs - 1], line, ll);
		} else if (colon != NULL && p->nhdrs < RK_MIME_MAX_HEADERS) {
			nlen = (size_t)(colon - line);
			while (nlen > 0 && line[nlen - 1] == ' ')
				nlen--;
			if (!is_field_name(line, nlen))
				return pos;
			add_header(p, line, nlen, colon + 1,
			    ll - (size_t)(colon - line) - 1);
		} else {
			return pos;
		}
		pos += ll + (nl ? 1 : 0);
	}
	return pos;
}

/* RFC 2045 token characters: no space, control or tspecial. */
static size_t
token_len(const char *s)
{
	size_t n = 0;

	while (s[n] && (unsigned char)s[n] > ' ' &&
	    (unsigned char)s[n] < 0x7f &&
	    strchr("()<>@,;:\\\"/[]?=", s[n]) == NULL)
		n++;
	return n;
}

/*
 * "type/subtype; params".  Senders fold before a parameter and forget
 * the semicolon ("text/plain\n  charset=..."), so the type ends at the
 * token's end, and what follows is read as parameters either way.
 */
static void
content_type(struct rk_mime_part *p, const char *default_type)
{
	const char *ct = rk_mime_header(p, "Content-Type"), *s, *rest;
	size_t tl, sl;

	snprintf(p->type, sizeof(p->type), "%s", default_type);
	if (ct == NULL)
		return;
	s = ct + strspn(ct, " \t");
	tl = token_len(s);
	rest = s + tl + strspn(s + tl, " \t");
	if (tl > 0 && *rest == '/') {
		const char *sub = rest + 1 + strspn(rest + 1, " \t");

		sl = token_len(sub);
		if (sl > 0 && tl + 1 + sl < sizeof(p->type)) {
			snprintf(p->type, sizeof(p->type), "%.*s/%.*s", (int)tl,
			    s, (int)sl, sub);
			rk_str_lower(p->type);
		}
		rest = sub + sl;
	}
	rest += strspn(rest, " \t;");
	if (strchr(rest, '=') != NULL) {
		p->params = rk_strdup(rest);
		p->charset = rk_mime_param(p->params, "charset");
		p->boundary = rk_mime_param(p->params, "boundary");
		if (p->charset)
			rk_str_lower(p->charset);
	}
}

/* --------------------------------------------------------------- bodies */

static bool
starts(const char *type, const char *prefix)
{
	return strncmp(type, prefix, strlen(prefix)) == 0;
}

static bool
is_message_type(const char *type)
{
	return strcmp(type, "message/rfc822") == 0 ||
	    strcmp(type, "message/global") == 0 ||
	    strcmp(type, "message/rfc822-headers") == 0 ||
	    strcmp(type, "text/rfc822-headers") == 0 ||
	    strcmp(type, "message/global-headers") == 0;
}

static bool
headers_only_type(const char *type)
{
	return strstr(type, "headers") != NULL;
}

/* The body with its transfer encoding undone, into p->body. */
static void
decode_body(struct rk_mime_part *p, const char *s, size_t n)
{
	const char *cte = rk_mime_header(p, "Content-Transfer-Encoding");
	char *raw;
	size_t rlen;

	if (cte && rk_str_case_eq(cte, "base64"))
		raw = rk_mime_b64_decode(s, n, &rlen);
	else if (cte && rk_str_case_eq(cte, "quoted-printable"))
		raw = rk_mime_qp_decode(s, n, &rlen);
	else
		raw = rk_memdup0(s, n), rlen = n;
	if (starts(p->type, "text/") && !headers_only_type(p->type)) {
		p->body = rk_mime_to_utf8(p->charset, raw, rlen, &p->body_len);
		free(raw);
	} else {
		p->body = raw;
		p->body_len = rlen;
	}
}

static void
add_kid(struct rk_mime_part *p, struct rk_mime_part *kid)
{
	if (kid == NULL)
		return;
	p->kids = rk_reallocarray(p->kids, p->nkids + 1, sizeof(*p->kids));
	p->kids[p->nkids++] = kid;
}

/* "--boundary" or "--boundary--" at line start: 1, 2; else 0. */
static int
delimiter(const char *line, size_t ll, const char *b, size_t bl)
{
	if (ll < bl + 2 || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, b, bl) != 0)
		return 0;
	if (ll >= bl + 4 && line[bl + 2] == '-' && line[bl + 3] == '-')
		return 2;
	for (size_t i = bl + 2; i < ll; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return 1;
}

/* Splits a multipart body; false when no delimiter was found. */
static bool
split_multipart(struct mime_ctx *ctx, struct rk_mime_part *p, const char *s,
    size_t n, int depth)
{
	const char *b = p->boundary, *start = NULL;
	const char *dtype = strcmp(p->type, "multipart/digest") == 0
	    ? "message/rfc822"
	    : "text/plain";
	size_t bl = strlen(b), pos = 0;
	bool found = false;

	while (pos < n) {
		const char *line = s + pos, *nl = memchr(line, '\n', n - pos);
		size_t ll = nl ? (size_t)(nl - line) : n - pos;
		int d = delimiter(line, ll, b, bl);

		if (d != 0) {
			found = true;
			if (start != NULL)
				add_kid(p,
				    parse_entity(ctx, start,
				        (size_t)(line - start) -
				            (line > start ? 1 : 0),
				        depth + 1, p, false, dtype));
			start = d == 1 ? line + ll + (nl ? 1 : 0) : NULL;
			if (d == 2)
				break;
		}
		pos += ll + (nl ? 1 : 0);
	}
	if (start != NULL && start < s + n)
		add_kid(p,
		    parse_entity(ctx, start, (size_t)(s + n - start), depth + 1,
		        p, false, dtype));
	return found;
}

/*
 * A multipart whose boundary parameter was lost (a folded Content-Type
 * written without the leading space): the first "--" line of the body
 * that another line repeats is the delimiter.
 */
static void
guess_boundary(struct rk_mime_part *p, const char *s, size_t n)
{
	for (size_t pos = 0; pos < n && pos < 65536;) {
		const char *line = s + pos, *nl = memchr(line, '\n', n - pos);
		size_t ll = nl ? (size_t)(nl - line) : n - pos;

		while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t'))
			ll--;
		if (ll > 3 && ll < 200 && line[0] == '-' && line[1] == '-') {
			free(p->boundary);
			p->boundary = rk_strndup(line + 2, ll - 2);
			return;
		}
		if (nl == NULL)
			break;
		pos += (size_t)(nl - line) + 1;
	}
}

static void
parse_body(struct mime_ctx *ctx, struct rk_mime_part *p, const char *s,
    size_t n, int depth)
{
	bool deeper = depth < RK_MIME_MAX_DEPTH;

	if (starts(p->type, "multipart/") && deeper) {
		if (p->boundary == NULL || *p->boundary == '\0')
			guess_boundary(p, s, n);
		if (p->boundary && split_multipart(ctx, p, s, n, depth)) {
			p->body = rk_strdup("");
			return;
		}
	}
	if (starts(p->type, "multipart/"))
		snprintf(p->type, sizeof(p->type), "text/plain");
	decode_body(p, s, n);
	if (is_message_type(p->type) && deeper)
		add_kid(p,
		    parse_entity(ctx, p->body, p->body_len, depth + 1, p,
		        headers_only_type(p->type), "text/plain"));
}

static struct rk_mime_part *
parse_entity(struct mime_ctx *ctx, const char *s, size_t n, int depth,
    struct rk_mime_part *parent, bool headers_only, const char *default_type)
{
	struct rk_mime_part *p;
	size_t body;

	if (ctx->nparts >= RK_MIME_MAX_PARTS)
		return NULL;
	ctx->nparts++;
	p = rk_calloc(1, sizeof(*p));
	p->parent = parent;
	p->headers_only = headers_only;
	body = parse_headers(p, s, n);
	trim_values(p);
	content_type(p, default_type);
	if (headers_only) {
		p->body = rk_strdup("");
		return p;
	}
	parse_body(ctx, p, s + body, n - body, depth);
	return p;
}

struct rk_mime_part *
rk_mime_parse(const char *buf, size_t len)
{
	struct mime_ctx ctx = { 0 };
	struct rk_mime_part *root;
	size_t n;
	char *lf;

	if (len > RK_MIME_MAX_INPUT)
		len = RK_MIME_MAX_INPUT;
	lf = rk_mime_lf(buf, len, &n);
	root = parse_entity(&ctx, lf, n, 0, NULL, false, "text/plain");
	free(lf);
	return root;
}

void
rk_mime_free(struct rk_mime_part *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nhdrs; i++) {
		free(p->hdrs[i].name);
		free(p->hdrs[i].value);
	}
	for (size_t i = 0; i < p->nkids; i++)
		rk_mime_free(p->kids[i]);
	free(p->hdrs);
	free(p->kids);
	free(p->charset);
	free(p->boundary);
	free(p->params);
	free(p->body);
	free(p);
}

static bool
walk(const struct rk_mime_part *p,
    bool (*fn)(const struct rk_mime_part *p, void *arg), void *arg)
{
	if (!fn(p, arg))
		return false;
	for (size_t i = 0; i < p->nkids; i++)
		if (!walk(p->kids[i], fn, arg))
			return false;
	return true;
}

void
rk_mime_walk(const struct rk_mime_part *root,
    bool (*fn)(const struct rk_mime_part *p, void *arg), void *arg)
{
	if (root != NULL)
		walk(root, fn, arg);
}
