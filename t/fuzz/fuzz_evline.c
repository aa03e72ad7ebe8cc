/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_evline.c: libFuzzer target for relaykit-eventd's line
 * parser and the tracker behind it.  The input is a log: lines are parsed
 * with two clocks (BSD timestamps depend on "now"), every piece the parser
 * returns must lie inside the line, and every line goes through the
 * tracker, whose events must serialize to JSON that jansson reads back
 * with every key, naming a known event.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "eventd.h"

#define INPUT_MAX (256 * 1024)

static void
require(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_evline: %s\n", what);
		abort();
	}
}

static void
inside(const struct ev_str *s, const char *p, size_t n, const char *what)
{
	if (s->p == NULL)
		return;
	require(s->p >= p && s->p + s->n <= p + n, what);
}

static void
on_event(void *arg, const struct rk_event *ev)
{
	char *j = rk_event_json(ev);
	json_error_t jerr;
	json_t *o = json_loads(j, 0, &jerr);

	(void)arg;
	require(j != NULL && strncmp(j, "{\"id\":\"evt_", 11) == 0,
	    "event JSON starts with its id");
	require(o != NULL && json_object_size(o) == 24,
	    "event JSON reads back, with its 24 keys");
	json_decref(o);
	require(rk_event_type_parse(rk_event_type_name((int)ev->type)) >= 0,
	    "known event type");
	free(j);
}

static void
check_line(struct ev_track *t, struct ev_clock *clk, const char *p, size_t n)
{
	struct ev_line l;
	const struct ev_str *all[18] = { &l.host, &l.instance, &l.service,
		&l.level, &l.qid, &l.to, &l.orig_to, &l.relay, &l.dsn,
		&l.status, &l.response, &l.tls, &l.from, &l.message_id,
		&l.sasl_method, &l.code, &l.stage, &l.child };

	ev_line_parse(p, n, 1764479668000LL, clk, &l);
	static const char *const names[] = { "host", "instance", "service",
		"level", "qid", "to", "orig_to", "relay", "dsn", "status",
		"response", "tls", "from", "message_id", "sasl_method", "code",
		"stage", "child" };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		inside(all[i], p, n, names[i]);
	for (size_t i = 0; i < 5; i++)
		inside(&l.tls_f[i], p, n, "a TLS field outside the line");
	require(l.qid.n == 0 || ev_is_qid(l.qid.p, l.qid.n), "bad queue id");
	ev_track_line(t, &l);
	ev_line_parse(p, n, 0, NULL, &l); /* at the epoch: year 1969/70 */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct ev_clock clk = { 0 };
	struct ev_track *t;

	if (size > INPUT_MAX)
		return 0;
	t = ev_track_new(64, on_event, NULL);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = malloc(n ? n : 1);

		/* a copy of exactly n bytes: ASan sees any read past it */
		memcpy(line, p, n);
		check_line(t, &clk, line, n);
		free(line);
		p += n + (nl != NULL);
	}
	ev_track_free(t);
	return 0;
}
