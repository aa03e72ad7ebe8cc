/* SPDX-License-Identifier: MIT */
/*
 * rk_event: writes the JSON of one event.  Writing, not parsing: a fixed
 * shape, strings escaped per RFC 8259 by one function (put_str); the unit
 * test and fuzz_evline read every output back with jansson and compare.
 * Building a jansson object per event cost eventd most of its time (an
 * allocation per field), so the writer appends to a caller's buffer.
 * Pure functions; thread-safe.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "rk_event.h"
#include "rk_hmac.h"
#include "rk_log.h"
#include "rk_mem.h"

static const char *const type_names[RK_EVT_NTYPES] = { "queued", "delivered",
	"deferred", "bounced", "expired", "bounce_received", "complaint" };

static const char *const stage_names[RK_STAGE_N] = { "before_queue",
	"queue_manager", "connection", "transmission" };

void
rk_event_init(struct rk_event *ev, enum rk_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->delay_ms = ev->attempt = ev->size = ev->nrcpt = -1;
	for (size_t i = 0; i < RK_STAGE_N; i++)
		ev->delays_ms[i] = -1;
}

const char *
rk_event_type_name(int type)
{
	return type >= 0 && type < RK_EVT_NTYPES ? type_names[type] : "unknown";
}

int
rk_event_type_parse(const char *name)
{
	for (int i = 0; i < RK_EVT_NTYPES; i++)
		if (strcmp(type_names[i], name) == 0)
			return i;
	return -1;
}

/* v as exactly n decimal digits, zero-padded. */
static void
put_digits(char *p, int n, unsigned v)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

char *
rk_event_time(int64_t ms, char *out)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&s, &tm) == NULL) {
		snprintf(out, RK_EVENT_TIME_LEN, "1970-01-01T00:00:00.000Z");
		return out;
	}
	if (tm.tm_year + 1900 > 9999) {
		/* strftime knows the wider years; only the ms are ours */
		strftime(out, RK_EVENT_TIME_LEN - 5, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out + strlen(out), 6, ".%03uZ", (unsigned)(ms % 1000));
		return out;
	}
	/* by hand: this runs for every event, and printf is slow */
	put_digits(out, 4, (unsigned)tm.tm_year + 1900);
	out[4] = '-';
	put_digits(out + 5, 2, (unsigned)tm.tm_mon + 1);
	out[7] = '-';
	put_digits(out + 8, 2, (unsigned)tm.tm_mday);
	out[10] = 'T';
	put_digits(out + 11, 2, (unsigned)tm.tm_hour);
	out[13] = ':';
	put_digits(out + 14, 2, (unsigned)tm.tm_min);
	out[16] = ':';
	put_digits(out + 17, 2, (unsigned)tm.tm_sec);
	out[19] = '.';
	put_digits(out + 20, 3, (unsigned)(ms % 1000));
	out[23] = 'Z';
	out[24] = '\0';
	return out;
}

char *
rk_event_make_id(char *out, size_t nparts, const char *const *parts)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		rk_panic("sha256 init failed");
	for (size_t i = 0; i < nparts; i++) {
		const char *p = parts[i] ? parts[i] : "";

		EVP_DigestUpdate(c, p, strlen(p) + 1);
	}
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	memcpy(out, "evt_", 4);
	rk_hex_encode(md, 16, out + 4);
	return out;
}

/* Length of the valid UTF-8 sequence (RFC 3629) at p, or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* A control character: its short escape, else \u00XX. */
static void
put_control(struct rk_buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	char s = c == '\n' ? 'n'
	    : c == '\r'    ? 'r'
	    : c == '\t'    ? 't'
	    : c == '\b'    ? 'b'
	    : c == '\f'    ? 'f'
	                   : 0;

	if (s != 0) {
		e[1] = s;
		rk_buf_append(b, e, 2);
	} else {
		rk_buf_append(b, e, 6);
	}
}

/*
 * A JSON string (RFC 8259) for s, or null: '"' and '\\' escaped, control
 * characters as \n, \t... or \u00XX, valid UTF-8 as is, any other byte
 * (a log line or a bounce may carry anything) as U+FFFD.  Plain runs are
 * copied in bulk.
 */
static void
put_str(struct rk_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		rk_buf_append(b, "null", 4);
		return;
	}
	rk_buf_putc(b, '"');
	while (*p != '\0') {
		const unsigned char *q = p;
		size_t n;

		while (*q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
			q++;
		rk_buf_append(b, p, (size_t)(q - p));
		p = q;
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p++ };

			rk_buf_append(b, e, 2);
		} else if (*p < 0x20) {
			put_control(b, *p++);
		} else if ((n = utf8_len(p)) > 0) {
			rk_buf_append(b, p, n);
			p += n;
		} else {
			rk_buf_append(b, "\xef\xbf\xbd", 3);
			p++;
		}
	}
	rk_buf_putc(b, '"');
}

/* Digits by hand: printf's machinery was most of eventd's CPU. */
static void
put_int(struct rk_buf *b, int64_t v)
{
	char d[24];
	size_t i = sizeof(d);
	uint64_t u = (uint64_t)v;

	if (v < 0) {
		rk_buf_append(b, "null", 4);
		return;
	}
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	rk_buf_append(b, d + i, sizeof(d) - i);
}

/* "key": (a key is a literal that needs no escaping) */
static void
put_key(struct rk_buf *b, const char *k)
{
	rk_buf_putc(b, '"');
	rk_buf_puts(b, k);
	rk_buf_append(b, "\":", 2);
}

/* ,"key": */
static void
key(struct rk_buf *b, const char *k)
{
	rk_buf_putc(b, ',');
	put_key(b, k);
}

/* inbound.security's verdicts on a report. */
static void
put_auth(struct rk_buf *b, const struct rk_event_auth *a)
{
	rk_buf_puts(b, "{\"spf\":");
	put_str(b, a->spf);
	key(b, "spf_domain");
	put_str(b, a->spf_domain);
	key(b, "dkim");
	put_str(b, a->dkim);
	key(b, "dkim_domain");
	put_str(b, a->dkim_domain);
	key(b, "dmarc");
	put_str(b, a->dmarc);
	key(b, "dmarc_policy");
	put_str(b, a->dmarc_policy);
	key(b, "from_domain");
	put_str(b, a->from_domain);
	rk_buf_putc(b, '}');
}

static void
put_report(struct rk_buf *b, const struct rk_event_report *r)
{
	rk_buf_puts(b, "{\"reason\":");
	put_str(b, r->reason);
	key(b, "hard");
	rk_buf_puts(b, r->hard < 0 ? "null" : r->hard ? "true" : "false");
	key(b, "action");
	put_str(b, r->action);
	key(b, "remote_mta");
	put_str(b, r->remote_mta);
	key(b, "diagnostic");
	put_str(b, r->diagnostic);
	key(b, "feedback_type");
	put_str(b, r->feedback_type);
	key(b, "user_agent");
	put_str(b, r->user_agent);
	key(b, "verp");
	put_str(b, r->verp);
	key(b, "reporter");
	put_str(b, r->reporter);
	key(b, "auth");
	if (r->auth != NULL)
		put_auth(b, r->auth);
	else
		rk_buf_append(b, "null", 4);
	rk_buf_putc(b, '}');
}

static void
put_delays(struct rk_buf *b, const struct rk_event *ev)
{
	for (size_t i = 0; i < RK_STAGE_N; i++) {
		rk_buf_putc(b, i ? ',' : '{');
		put_key(b, stage_names[i]);
		put_int(b, ev->delays_ms[i]);
	}
	rk_buf_putc(b, '}');
}

void
rk_event_json_buf(const struct rk_event *ev, struct rk_buf *b)
{
	char ts[RK_EVENT_TIME_LEN];
	const struct {
		const char *key, *val;
	} strs[] = { { "host", ev->host }, { "source", ev->source },
		{ "queue_id", ev->queue_id }, { "message_id", ev->message_id },
		{ "client_id", ev->client_id }, { "from", ev->from } },
	  more[] = { { "recipient", ev->to }, { "orig_to", ev->orig_to },
		  { "subject", ev->subject }, { "relay", ev->relay },
		  { "dsn", ev->dsn }, { "status", ev->status },
		  { "response", ev->response }, { "tls", ev->tls } };

	rk_buf_puts(b, "{\"id\":");
	put_str(b, ev->id);
	rk_buf_puts(b, ",\"event\":\"");
	rk_buf_puts(b, rk_event_type_name((int)ev->type));
	rk_buf_puts(b, "\",\"timestamp\":\"");
	rk_buf_puts(b, rk_event_time(ev->time_ms, ts));
	rk_buf_putc(b, '"');
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		key(b, strs[i].key);
		put_str(b, strs[i].val);
	}
	key(b, "to");
	rk_buf_putc(b, '[');
	if (ev->to != NULL)
		put_str(b, ev->to);
	rk_buf_putc(b, ']');
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		key(b, more[i].key);
		put_str(b, more[i].val);
	}
	key(b, "delay");
	put_int(b, ev->delay_ms);
	key(b, "delays");
	put_delays(b, ev);
	key(b, "attempt");
	put_int(b, ev->attempt);
	key(b, "size");
	put_int(b, ev->size);
	key(b, "nrcpt");
	put_int(b, ev->nrcpt);
	key(b, "report");
	if (ev->report != NULL)
		put_report(b, ev->report);
	else
		rk_buf_append(b, "null", 4);
	rk_buf_putc(b, '}');
}

char *
rk_event_json(const struct rk_event *ev)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_event_json_buf(ev, &b);
	return rk_buf_steal(&b);
}
