/* SPDX-License-Identifier: MIT */
/*
 * dc_txt: the text inside TXT records: character-strings and their
 * zone-file form, SPF records (RFC 7208) and dnsctl's ownership record.
 *
 * Everything here reads what a DNS server or an API returned, so it is
 * written for hostile input: lengths are bounded (DC_TXT_MAX, term and
 * entry caps), nothing is read past len, and a malformed value is an
 * error, never a crash.  Pure functions; t/fuzz/fuzz_dns.c drives them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define TXT_CHUNK       255
#define SPF_TERMS_MAX   256
#define SPF_DEPTH_MAX   10
#define SPF_FOLLOW_MAX  40
#define REG_ENTRIES_MAX 4096
#define REG_MAGIC       "relaykit-dnsctl=1"

/* ------------------------------------------------------------ strings */

void
dc_strs_free(struct dc_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->len);
	memset(s, 0, sizeof(*s));
}

void
dc_txt_split(const char *value, struct dc_strs *out)
{
	size_t len = strlen(value), off = 0;

	memset(out, 0, sizeof(*out));
	do {
		size_t n = len - off < TXT_CHUNK ? len - off : TXT_CHUNK;

		out->v = rk_reallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->len =
		    rk_reallocarray(out->len, out->n + 1, sizeof(*out->len));
		out->v[out->n] = rk_strndup(value + off, n);
		out->len[out->n++] = n;
		off += n;
	} while (off < len);
}

static void
quote_byte(struct rk_buf *b, unsigned char c)
{
	if (c == '"' || c == '\\')
		rk_buf_printf(b, "\\%c", c);
	else if (c < 0x20 || c >= 0x7f)
		rk_buf_printf(b, "\\%03u", c);
	else
		rk_buf_putc(b, (char)c);
}

void
dc_txt_quote_bytes(const uint8_t *p, size_t len, struct rk_buf *b)
{
	rk_buf_putc(b, '"');
	for (size_t i = 0; i < len; i++)
		quote_byte(b, p[i]);
	rk_buf_putc(b, '"');
}

char *
dc_txt_quote(const char *value)
{
	struct dc_strs s;
	struct rk_buf b;

	dc_txt_split(value, &s);
	rk_buf_init(&b);
	for (size_t i = 0; i < s.n; i++) {
		if (i > 0)
			rk_buf_putc(&b, ' ');
		dc_txt_quote_bytes((const uint8_t *)s.v[i], s.len[i], &b);
	}
	dc_strs_free(&s);
	return rk_buf_steal(&b);
}

/* One escape after '\' at s[*i]; appends the byte, advances *i. */
static int
unescape(const char *s, size_t len, size_t *i, struct rk_buf *b)
{
	unsigned v = 0;

	if (*i >= len)
		return -1;
	if (s[*i] < '0' || s[*i] > '9') {
		rk_buf_putc(b, s[(*i)++]);
		return 0;
	}
	for (int k = 0; k < 3; k++, (*i)++) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[*i] - '0');
	}
	if (v > 255)
		return -1;
	if (v == 0)
		rk_buf_puts(b, "\\000");
	else
		rk_buf_putc(b, (char)v);
	return 0;
}

/* One quoted string starting at s[*i] == '"'. */
static int
unquote_one(const char *s, size_t len, size_t *i, struct rk_buf *b)
{
	(*i)++; /* the opening quote */
	while (*i < len) {
		char c = s[(*i)++];

		if (c == '"')
			return 0;
		if (c != '\\') {
			rk_buf_putc(b, c);
			continue;
		}
		if (unescape(s, len, i, b) == -1)
			return -1;
	}
	return -1; /* no closing quote */
}

int
dc_txt_unquote(const char *s, size_t len, char **out, struct rk_err *err)
{
	struct rk_buf b;
	size_t i = 0;

	*out = NULL;
	if (len > DC_TXT_MAX * 4 + 16)
		return rk_err_set(err, "TXT value of %zu bytes", len);
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] != '"') {
		if (len > DC_TXT_MAX || memchr(s, '\0', len) != NULL)
			return rk_err_set(err, "TXT value too long or binary");
		*out = rk_strndup(s, len);
		return 0;
	}
	rk_buf_init(&b);
	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		if (s[i] != '"' || unquote_one(s, len, &i, &b) == -1 ||
		    b.len > DC_TXT_MAX) {
			rk_buf_free(&b);
			return rk_err_set(err, "not a quoted TXT value");
		}
		if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) {
			rk_buf_free(&b);
			return rk_err_set(err, "TXT value holds a NUL byte");
		}
	}
	*out = rk_buf_steal(&b);
	return 0;
}

/* ---------------------------------------------------------------- SPF */

bool
dc_spf_is(const char *txt)
{
	return rk_mem_case_eq(txt, "v=spf1", 6) &&
	    (txt[6] == '\0' || txt[6] == ' ');
}

void
dc_spf_free(struct dc_spf *spf)
{
	for (size_t i = 0; i < spf->n; i++)
		free(spf->terms[i]);
	free(spf->terms);
	memset(spf, 0, sizeof(*spf));
}

int
dc_spf_parse(const char *txt, struct dc_spf *out, struct rk_err *err)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	if (!dc_spf_is(txt))
		return rk_err_set(err, "not an SPF record");
	p = txt + 6;
	for (;;) {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		n = strcspn(p, " ");
		if (out->n == SPF_TERMS_MAX) {
			dc_spf_free(out);
			return rk_err_set(
			    err, "more than %d SPF terms", SPF_TERMS_MAX);
		}
		out->terms = rk_reallocarray(
		    out->terms, out->n + 1, sizeof(*out->terms));
		out->terms[out->n++] = rk_strndup(p, n);
		p += n;
	}
}

char *
dc_spf_format(const struct dc_spf *spf)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_puts(&b, "v=spf1");
	for (size_t i = 0; i < spf->n; i++)
		rk_buf_printf(&b, " %s", spf->terms[i]);
	return rk_buf_steal(&b);
}

/* The term without a qualifier ("+" is the default one). */
static const char *
unqualified(const char *t)
{
	return (*t == '+' || *t == '-' || *t == '~' || *t == '?') ? t + 1 : t;
}

bool
dc_spf_term_eq(const char *a, const char *b)
{
	if (*a == '+')
		a++;
	if (*b == '+')
		b++;
	return rk_str_case_eq(a, b);
}

long
dc_spf_find_all(const struct dc_spf *spf)
{
	for (size_t i = 0; i < spf->n; i++)
		if (rk_str_case_eq(unqualified(spf->terms[i]), "all"))
			return (long)i;
	return -1;
}

/* The mechanism or modifier name of a term, and where its target is. */
static size_t
term_name(const char *t, const char **arg)
{
	size_t n = strcspn(t, ":=/");

	*arg = t[n] == ':' || t[n] == '=' ? t + n + 1 : NULL;
	return n;
}

struct follow {
	const struct dc_spf_fetch *f;
	struct rk_buf *unresolved;
	size_t fetched;
};

static size_t count_record(
    const struct dc_spf *spf, struct follow *fl, int depth);

/* The lookups behind include:/redirect= domain, the one for it excluded. */
static size_t
count_target(const char *domain, struct follow *fl, int depth)
{
	struct dc_spf spf;
	char *txt = NULL;
	size_t n;

	if (fl->f == NULL || depth >= SPF_DEPTH_MAX ||
	    fl->fetched >= SPF_FOLLOW_MAX || strchr(domain, '%') != NULL ||
	    fl->f->fn(fl->f->arg, domain, &txt) == -1 ||
	    dc_spf_parse(txt, &spf, NULL) == -1) {
		free(txt);
		rk_buf_printf(fl->unresolved, "%s%s",
		    fl->unresolved->len ? ", " : "", domain);
		return 0;
	}
	fl->fetched++;
	free(txt);
	n = count_record(&spf, fl, depth + 1);
	dc_spf_free(&spf);
	return n;
}

static size_t
count_record(const struct dc_spf *spf, struct follow *fl, int depth)
{
	static const char *const one[] = { "a", "mx", "ptr", "exists" };
	size_t total = 0;
	bool has_all = dc_spf_find_all(spf) >= 0;

	for (size_t i = 0; i < spf->n; i++) {
		const char *arg, *t = unqualified(spf->terms[i]);
		size_t n = term_name(t, &arg);

		for (size_t k = 0; k < sizeof(one) / sizeof(one[0]); k++)
			if (n == strlen(one[k]) && rk_mem_case_eq(t, one[k], n))
				total++;
		if (n == 7 && rk_mem_case_eq(t, "include", 7) && arg) {
			total++;
			total += count_target(arg, fl, depth);
		}
		/* RFC 7208 6.1: redirect is ignored when "all" is there. */
		if (n == 8 && rk_mem_case_eq(t, "redirect", 8) && arg &&
		    t[n] == '=' && !has_all) {
			total++;
			total += count_target(arg, fl, depth);
		}
	}
	return total;
}

size_t
dc_spf_lookups(const struct dc_spf *spf, const struct dc_spf_fetch *f,
    struct rk_buf *unresolved)
{
	struct follow fl = { f, unresolved, 0 };

	return count_record(spf, &fl, 0);
}

/* ----------------------------------------------------- ownership record */

void
dc_reg_free(struct dc_reg *reg)
{
	for (size_t i = 0; i < reg->n; i++) {
		free(reg->v[i].name);
		free(reg->v[i].tag);
		free(reg->v[i].value);
	}
	free(reg->v);
	free(reg->owner);
	memset(reg, 0, sizeof(*reg));
}

void
dc_reg_add(
    struct dc_reg *reg, const char *name, const char *tag, const char *value)
{
	struct dc_reg_entry *e;

	if (dc_reg_has(reg, name, tag, value))
		return;
	reg->v = rk_reallocarray(reg->v, reg->n + 1, sizeof(*reg->v));
	e = &reg->v[reg->n++];
	e->name = rk_strdup(name);
	e->tag = rk_strdup(tag);
	e->value = rk_strdup(value ? value : "");
}

bool
dc_reg_has(const struct dc_reg *reg, const char *name, const char *tag,
    const char *value)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct dc_reg_entry *e = &reg->v[i];

		if (strcmp(e->name, name) != 0 || strcmp(e->tag, tag) != 0)
			continue;
		if (value == NULL || rk_str_case_eq(e->value, value))
			return true;
	}
	return false;
}

static bool
tag_ok(const char *tag)
{
	return strcmp(tag, "A") == 0 || strcmp(tag, "AAAA") == 0 ||
	    strcmp(tag, "MX") == 0 || strcmp(tag, "TXT") == 0 ||
	    strcmp(tag, "spf") == 0;
}

/* "NAME TAG [VALUE]" (trimmed, NUL-terminated) into reg. */
static int
parse_entry(char *s, const char *zone, struct dc_reg *reg, struct rk_err *err)
{
	char *tag, *value, *name;
	size_t n = strcspn(s, " ");

	if (s[n] == '\0')
		return rk_err_set(
		    err, "entry \"%s\": want NAME TYPE [VALUE]", s);
	s[n] = '\0';
	tag = s + n + 1;
	tag += strspn(tag, " ");
	value = tag + strcspn(tag, " ");
	if (*value != '\0')
		*value++ = '\0';
	value += strspn(value, " ");
	if (!tag_ok(tag))
		return rk_err_set(
		    err, "entry for %s: unknown type \"%s\"", s, tag);
	if (strlen(s) > DC_NAME_MAX)
		return rk_err_set(err, "entry name too long");
	name = dc_name_abs(s, zone);
	dc_reg_add(reg, name, tag, value);
	free(name);
	return 0;
}

/* Splits the joined value at ';' and reads each piece. */
static int
parse_pieces(
    char *buf, const char *zone, struct dc_reg *out, struct rk_err *err)
{
	char *save = NULL;
	size_t i = 0;

	for (char *p = strtok_r(buf, ";", &save); p != NULL;
	     p = strtok_r(NULL, ";", &save), i++) {
		size_t len;

		p += strspn(p, " \t");
		len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			p[--len] = '\0';
		if (i == 0 || len == 0)
			continue; /* the magic, checked already; or ";;" */
		if (i > REG_ENTRIES_MAX)
			return rk_err_set(err, "too many entries");
		if (strncmp(p, "owner=", 6) == 0 && out->owner == NULL) {
			out->owner = rk_strdup(p + 6);
			continue;
		}
		if (parse_entry(p, zone, out, err) == -1)
			return -1;
	}
	if (out->owner == NULL || out->owner[0] == '\0')
		return rk_err_set(err, "no owner=");
	return 0;
}

int
dc_reg_parse(const char *txt, size_t len, const char *zone, struct dc_reg *out,
    struct rk_err *err)
{
	size_t ml = strlen(REG_MAGIC);
	char *buf;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < ml || memcmp(txt, REG_MAGIC, ml) != 0 ||
	    (len > ml && txt[ml] != ';'))
		return 0;
	if (len > DC_TXT_MAX || memchr(txt, '\0', len) != NULL)
		return rk_err_set(err, "ownership record too long or binary");
	buf = rk_strndup(txt, len);
	rc = parse_pieces(buf, zone, out, err);
	free(buf);
	if (rc == -1) {
		dc_reg_free(out);
		return -1;
	}
	return 1;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct dc_reg_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->tag, y->tag);
	if (c == 0)
		c = strcmp(x->value, y->value);
	return c;
}

char *
dc_reg_format(struct dc_reg *reg, const char *zone)
{
	struct rk_buf b;

	if (reg->n > 1)
		qsort(reg->v, reg->n, sizeof(*reg->v), entry_cmp);
	rk_buf_init(&b);
	rk_buf_printf(&b, "%s; owner=%s", REG_MAGIC, reg->owner);
	for (size_t i = 0; i < reg->n; i++) {
		char *rel = dc_name_rel(reg->v[i].name, zone);

		rk_buf_printf(&b, "; %s %s%s%s", rel, reg->v[i].tag,
		    reg->v[i].value[0] ? " " : "", reg->v[i].value);
		free(rel);
	}
	return rk_buf_steal(&b);
}
