/* SPDX-License-Identifier: MIT */
/*
 * ev_dash_view: one event of the stream as the dashboard shows it.  The
 * stream's JSON is read with jansson and a smaller object is written for
 * the page: only the fields the table shows, so a subject or anything
 * added to events later never reaches a browser by accident.  Pure: no
 * I/O, no globals; thread-safe.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "rk_event.h"
#include "rk_mem.h"

#include "ev_dash.h"

/* Characters around an address in log and reply texts. */
static bool
is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    strchr("<>\"(),;:[]", c) != NULL;
}

static bool
is_domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* One token (no delimiters): masked when it is local@domain. */
static void
mask_token(const char *t, size_t n, struct rk_buf *out)
{
	const char *at = NULL;

	for (size_t i = 0; i < n; i++)
		if (t[i] == '@')
			at = t + i;
	if (at == NULL || at == t || at + 1 == t + n ||
	    !is_domain_char(at[1])) {
		rk_buf_append(out, t, n);
		return;
	}
	rk_buf_putc(out, t[0]);
	rk_buf_puts(out, "***");
	rk_buf_append(out, at, (size_t)(t + n - at));
}

void
ev_dash_mask(const char *s, struct rk_buf *out)
{
	while (*s != '\0') {
		size_t n = 0;

		while (s[n] != '\0' && !is_delim(s[n]))
			n++;
		if (n > 0) {
			mask_token(s, n, out);
			s += n;
		} else
			rk_buf_putc(out, *s++);
	}
}

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "2026-11-30T05:14:28.123Z" to ms; 0 when it does not read so. */
static int64_t
parse_time(const char *s)
{
	struct tm tm;
	int ms = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
	        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* At most max bytes of s, not cutting a UTF-8 sequence. */
static size_t
cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* What the view is built from, before it is laid out in one block. */
struct parts {
	struct rk_buf from, domain, dsn, response, json;
};

static void
parts_free(struct parts *p)
{
	rk_buf_free(&p->from);
	rk_buf_free(&p->domain);
	rk_buf_free(&p->dsn);
	rk_buf_free(&p->response);
	rk_buf_free(&p->json);
}

static void
put_text(struct rk_buf *out, const char *s, bool mask)
{
	if (s == NULL)
		return;
	if (mask)
		ev_dash_mask(s, out);
	else
		rk_buf_puts(out, s);
}

static void
fill_parts(json_t *ev, bool mask, struct parts *p)
{
	const char *rcpt = str(ev, "recipient");
	const char *resp = str(ev, "response");
	const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
	json_t *report = json_object_get(ev, "report");
	struct rk_buf r;

	if (resp == NULL && json_is_object(report))
		resp = str(report, "diagnostic");
	put_text(&p->from, str(ev, "from"), mask);
	rk_buf_puts(&p->domain, at ? at + 1 : "");
	if (p->domain.data != NULL)
		for (char *c = p->domain.data; *c; c++)
			*c = rk_ascii_lower(*c);
	rk_buf_puts(&p->dsn, str(ev, "dsn") ? str(ev, "dsn") : "");
	rk_buf_init(&r);
	put_text(&r, resp, mask);
	if (r.data != NULL)
		rk_buf_append(&p->response, r.data,
		    cut_utf8(r.data, EV_DASH_RESPONSE_MAX));
	rk_buf_free(&r);
}

static json_t *
nullable(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The page's object. */
static char *
page_json(json_t *ev, int64_t ms, bool mask, const struct parts *p)
{
	struct rk_buf to;
	json_t *o;
	char *text;

	rk_buf_init(&to);
	put_text(&to, str(ev, "recipient"), mask);
	o = json_pack("{s:o,s:o,s:I,s:o,s:o,s:o,s:s,s:s,s:s,s:s,s:o,s:s,s:o,"
	              "s:O,s:O}",
	    "id", nullable(str(ev, "id")), "event", nullable(str(ev, "event")),
	    "ts", (json_int_t)ms, "host", nullable(str(ev, "host")), "queue_id",
	    nullable(str(ev, "queue_id")), "client_id",
	    nullable(str(ev, "client_id")), "from",
	    p->from.data ? p->from.data : "", "to", to.data ? to.data : "",
	    "domain", p->domain.data ? p->domain.data : "", "dsn",
	    p->dsn.data ? p->dsn.data : "", "status",
	    nullable(str(ev, "status")), "response",
	    p->response.data ? p->response.data : "", "relay",
	    nullable(str(ev, "relay")), "attempt",
	    json_object_get(ev, "attempt") ? json_object_get(ev, "attempt")
	                                   : json_null(),
	    "delay",
	    json_object_get(ev, "delay") ? json_object_get(ev, "delay")
	                                 : json_null());
	rk_buf_free(&to);
	if (o == NULL)
		return NULL;
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	return text;
}

/* Lays the parts out after the struct, in one allocation. */
static struct ev_dash_ev *
pack(int type, int64_t ms, const struct parts *p, const char *json)
{
	const struct rk_buf *b[] = { &p->from, &p->domain, &p->dsn,
		&p->response };
	size_t jlen = strlen(json), size = sizeof(struct ev_dash_ev) + jlen + 1;
	struct ev_dash_ev *e;
	const char **dst[4];
	char *w;

	for (size_t i = 0; i < 4; i++)
		size = rk_size_add(size, b[i]->len + 1);
	e = rk_malloc(size);
	e->type = type;
	e->time_ms = ms;
	dst[0] = &e->from;
	dst[1] = &e->domain;
	dst[2] = &e->dsn;
	dst[3] = &e->response;
	w = (char *)(e + 1);
	for (size_t i = 0; i < 4; i++) {
		if (b[i]->len > 0)
			memcpy(w, b[i]->data, b[i]->len);
		w[b[i]->len] = '\0';
		*dst[i] = w;
		w += b[i]->len + 1;
	}
	memcpy(w, json, jlen + 1);
	e->json = w;
	e->json_len = jlen;
	return e;
}

struct ev_dash_ev *
ev_dash_view(const char *json, size_t len, bool mask)
{
	json_t *ev = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	struct ev_dash_ev *e = NULL;
	struct parts p;
	int type;
	int64_t ms;
	char *text;

	if (ev == NULL)
		return NULL;
	type = json_is_object(ev) && str(ev, "event")
	    ? rk_event_type_parse(str(ev, "event"))
	    : -1;
	if (type < 0) {
		json_decref(ev);
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	ms = parse_time(str(ev, "timestamp"));
	fill_parts(ev, mask, &p);
	if ((text = page_json(ev, ms, mask, &p)) != NULL) {
		e = pack(type, ms, &p, text);
		free(text);
	}
	parts_free(&p);
	json_decref(ev);
	return e;
}
