/* SPDX-License-Identifier: MIT */
/*
 * rk_event: builds the JSON of one event with jansson (a maintained JSON
 * library: correct escaping and UTF-8 handling we should not write
 * ourselves).  Pure functions; thread-safe.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
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

char *
rk_event_time(int64_t ms, char *out)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&s, &tm) == NULL) {
		snprintf(out, RK_EVENT_TIME_LEN, "1970-01-01T00:00:00.000Z");
		return out;
	}
	/* strftime knows the field widths; only the milliseconds are ours */
	strftime(out, RK_EVENT_TIME_LEN - 5, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 6, ".%03uZ", (unsigned)(ms % 1000));
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

/*
 * A JSON string for s, or null.  A log line or a bounce may carry any
 * bytes; jansson wants UTF-8, so invalid bytes become U+FFFD.
 */
static json_t *
jstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct rk_buf b;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	rk_buf_init(&b);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			rk_buf_puts(&b, "\xef\xbf\xbd");
			p++;
		} else {
			rk_buf_append(&b, p, n);
			p += n;
		}
	}
	j = json_string(b.data ? b.data : "");
	rk_buf_free(&b);
	return j != NULL ? j : json_string("");
}

static json_t *
jint(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static void
put(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		rk_panic("json: cannot set %s", key);
}

static json_t *
report_json(const struct rk_event_report *r)
{
	json_t *o = json_object();

	put(o, "reason", jstr(r->reason));
	put(o, "hard", r->hard < 0 ? json_null() : json_boolean(r->hard));
	put(o, "action", jstr(r->action));
	put(o, "remote_mta", jstr(r->remote_mta));
	put(o, "diagnostic", jstr(r->diagnostic));
	put(o, "feedback_type", jstr(r->feedback_type));
	put(o, "user_agent", jstr(r->user_agent));
	put(o, "verp", jstr(r->verp));
	put(o, "reporter", jstr(r->reporter));
	return o;
}

static json_t *
delays_json(const struct rk_event *ev)
{
	json_t *o = json_object();

	for (size_t i = 0; i < RK_STAGE_N; i++)
		put(o, stage_names[i], jint(ev->delays_ms[i]));
	return o;
}

char *
rk_event_json(const struct rk_event *ev)
{
	char ts[RK_EVENT_TIME_LEN];
	json_t *o = json_object(), *to = json_array();
	char *s;

	if (o == NULL || to == NULL)
		rk_panic("json: out of memory");
	if (ev->to != NULL)
		json_array_append_new(to, jstr(ev->to));
	put(o, "id", jstr(ev->id));
	put(o, "event", json_string(rk_event_type_name((int)ev->type)));
	put(o, "timestamp", json_string(rk_event_time(ev->time_ms, ts)));
	put(o, "host", jstr(ev->host));
	put(o, "source", jstr(ev->source));
	put(o, "queue_id", jstr(ev->queue_id));
	put(o, "message_id", jstr(ev->message_id));
	put(o, "client_id", jstr(ev->client_id));
	put(o, "from", jstr(ev->from));
	put(o, "to", to);
	put(o, "recipient", jstr(ev->to));
	put(o, "orig_to", jstr(ev->orig_to));
	put(o, "subject", jstr(ev->subject));
	put(o, "relay", jstr(ev->relay));
	put(o, "dsn", jstr(ev->dsn));
	put(o, "status", jstr(ev->status));
	put(o, "response", jstr(ev->response));
	put(o, "tls", jstr(ev->tls));
	put(o, "delay", jint(ev->delay_ms));
	put(o, "delays", delays_json(ev));
	put(o, "attempt", jint(ev->attempt));
	put(o, "size", jint(ev->size));
	put(o, "nrcpt", jint(ev->nrcpt));
	put(o, "report", ev->report ? report_json(ev->report) : json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		rk_panic("json: cannot encode event");
	return s;
}
