/* SPDX-License-Identifier: MIT */
/*
 * relaykit-eventd's line parser and tracker: the log formats Postfix and
 * syslog daemons write (BSD and RFC 3339 timestamps, postlogd, any
 * syslog_name, long queue ids, orig_to, conn_use, tls=, IPv6, relay=none,
 * flattened multi-line replies, lines cut by syslog), each with what it
 * must give; then the events a sequence of lines makes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "eventd.h"
#include "tap.h"

/* 2026-11-30T05:14:28Z: dates BSD timestamps (year 2026). */
#define NOW 1796015668000LL

static char *
str(struct ev_str s)
{
	static char buf[4][4096];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%.*s", (int)s.n, s.p ? s.p : "");
	return b;
}

static void
parse(const char *line, struct ev_line *l)
{
	ev_line_parse(line, strlen(line), NOW, NULL, l);
}

static void
test_delivery_fields(void)
{
	struct ev_line l;

	setenv("TZ", "UTC", 1);
	parse("Nov 30 05:14:28 relay1 postfix/smtp[1234]: 4F9D0B2C31: "
	      "to=<user@example.net>, orig_to=<alias@example.org>, "
	      "relay=mx.example.net[192.0.2.25]:25, conn_use=2, delay=1.25, "
	      "delays=0.01/0.02/0.5/0.72, dsn=2.0.0, status=sent (250 2.0.0 "
	      "Ok: queued as 3A (in (nested) parens))",
	    &l);
	is_int(l.kind, EV_L_DELIVERY, "BSD smtp delivery");
	is_int(l.time_ms, 1796015668000LL, "BSD time, this year, UTC zone");
	is_str(str(l.host), "relay1", "host");
	is_str(str(l.service), "smtp", "service");
	is_str(str(l.instance), "postfix", "instance");
	is_str(str(l.qid), "4F9D0B2C31", "queue id");
	is_str(str(l.to), "user@example.net", "to");
	is_str(str(l.orig_to), "alias@example.org", "orig_to");
	is_str(str(l.relay), "mx.example.net[192.0.2.25]:25", "relay");
	is_int(l.delay_ms, 1250, "delay in ms");
	is_int(l.delays_ms[0], 10, "delays a");
	is_int(l.delays_ms[3], 720, "delays d");
	is_str(str(l.dsn), "2.0.0", "dsn");
	is_str(str(l.status), "sent", "status");
	is_str(str(l.response),
	    "250 2.0.0 Ok: queued as 3A (in (nested) parens)",
	    "the reply runs to the last parenthesis");
	ok(!l.truncated, "not truncated");
}

static void
test_formats(void)
{
	static const struct {
		const char *name, *line;
		int kind;
		const char *service, *qid, *to, *status;
		long long time_ms;
	} cases[] = {
		{ "RFC 3339 with micros and offset",
		    "2026-11-30T06:14:28.123456+01:00 h postfix/smtp[1]: "
		    "ABCDEF1234: to=<a@b.c>, relay=x[1.2.3.4]:25, delay=0.1, "
		    "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 ok)",
		    EV_L_DELIVERY, "smtp", "ABCDEF1234", "a@b.c", "sent",
		    1796015668123LL },
		{ "journald short-iso (+0000, no colon)",
		    "2026-11-30T05:14:28+0000 h postfix/smtp[1]: ABCDEF1234: "
		    "to=<a@b.c>, relay=none, delay=0.1, delays=0/0/0/0, "
		    "dsn=4.4.1, status=deferred (connect to b.c[192.0.2.1]:25: "
		    "Connection refused)",
		    EV_L_DELIVERY, "smtp", "ABCDEF1234", "a@b.c", "deferred",
		    1796015668000LL },
		{ "RFC 3339 with a space and Z",
		    "2026-11-30 05:14:28Z h postfix/qmgr[9]: ABCDEF1234: "
		    "removed",
		    EV_L_REMOVED, "qmgr", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "a raw syslog priority",
		    "<22>Nov 30 05:14:28 h postfix/qmgr[9]: "
		    "ABCDEF1234: removed",
		    EV_L_REMOVED, "qmgr", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "single-digit day",
		    "Nov  3 05:14:28 h postfix/qmgr[9]: "
		    "ABCDEF1234: removed",
		    EV_L_REMOVED, "qmgr", "ABCDEF1234", "", "",
		    1793682868000LL },
		{ "a date ahead of now is last year's",
		    "Dec 31 23:59:59 h postfix/qmgr[9]: ABCDEF1234: removed",
		    EV_L_REMOVED, "qmgr", "ABCDEF1234", "", "",
		    1767225599000LL },
		{ "syslog_name postfix-out",
		    "Nov 30 05:14:28 h postfix-out/smtp[1]: ABCDEF1234: "
		    "to=<a@b.c>, relay=x[1.2.3.4]:25, delay=1, delays=0/0/0/1, "
		    "dsn=5.1.1, status=bounced (host x said: 550 5.1.1 no)",
		    EV_L_DELIVERY, "smtp", "ABCDEF1234", "a@b.c", "bounced",
		    1796015668000LL },
		{ "service name in the tag (postfix/submission/smtpd)",
		    "Nov 30 05:14:28 h postfix/submission/smtpd[1]: connect "
		    "from "
		    "x[192.0.2.1]",
		    EV_L_CONNECT, "smtpd", "", "", "", 1796015668000LL },
		{ "long queue id",
		    "Nov 30 05:14:28 h postfix/smtp[1]: 4cbdb56t4MzPjfw: "
		    "to=<a@b.c>, relay=x[1.2.3.4]:25, delay=5.4, "
		    "delays=0.08/0.01/3.5/1.9, tls=dane, dsn=2.0.0, "
		    "status=sent (250 2.0.0 Ok)",
		    EV_L_DELIVERY, "smtp", "4cbdb56t4MzPjfw", "a@b.c", "sent",
		    1796015668000LL },
		{ "IPv6 relay",
		    "Nov 30 05:14:28 h postfix/smtp[1]: ABCDEF1234: "
		    "to=<a@b.c>, relay=mx.b.c[2001:db8::25]:25, "
		    "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent "
		    "(250 ok)",
		    EV_L_DELIVERY, "smtp", "ABCDEF1234", "a@b.c", "sent",
		    1796015668000LL },
		{ "lmtp",
		    "Nov 30 05:14:28 h postfix/lmtp[1]: ABCDEF1234: "
		    "to=<a@b.c>, relay=d[private/dovecot-lmtp], delay=0.1, "
		    "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 "
		    "<a@b.c> Saved)",
		    EV_L_DELIVERY, "lmtp", "ABCDEF1234", "a@b.c", "sent",
		    1796015668000LL },
		{ "pipe",
		    "Nov 30 05:14:28 h postfix/pipe[1]: ABCDEF1234: "
		    "to=<bounce+x@b.c>, relay=relaykit-bounce, delay=0.1, "
		    "delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered "
		    "via relaykit-bounce service)",
		    EV_L_DELIVERY, "pipe", "ABCDEF1234", "bounce+x@b.c", "sent",
		    1796015668000LL },
		{ "error agent, expired recipient",
		    "Nov 30 05:14:28 h postfix/error[1]: ABCDEF1234: "
		    "to=<a@b.c>, "
		    "relay=none, delay=432000, delays=432000/0/0/0, dsn=4.4.7, "
		    "status=expired, returned to sender",
		    EV_L_DELIVERY, "error", "ABCDEF1234", "a@b.c", "expired",
		    1796015668000LL },
		{ "qmgr queued",
		    "Nov 30 05:14:28 h postfix/qmgr[2]: ABCDEF1234: "
		    "from=<app@example.com>, size=1234, nrcpt=2 "
		    "(queue active)",
		    EV_L_QUEUED, "qmgr", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "qmgr expired",
		    "Nov 30 05:14:28 h postfix/qmgr[2]: ABCDEF1234: "
		    "from=<>, status=expired, returned to sender",
		    EV_L_EXPIRED, "qmgr", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "cleanup message-id",
		    "Nov 30 05:14:28 h postfix/cleanup[3]: "
		    "ABCDEF1234: message-id=<x@y>",
		    EV_L_MESSAGE_ID, "cleanup", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "cleanup milter-reject",
		    "Nov 30 05:14:28 h postfix/cleanup[3]: ABCDEF1234: "
		    "milter-reject: END-OF-MESSAGE from x[1.2.3.4]: 5.7.1 no; "
		    "from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
		    EV_L_CLEANUP_REJECT, "cleanup", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "NOQUEUE is no queue id",
		    "Nov 30 05:14:28 h postfix/smtpd[3]: NOQUEUE: reject: RCPT "
		    "from x[1.2.3.4]: 554 5.7.1 <v@w>: Relay access denied; "
		    "from=<a@b> to=<v@w> proto=ESMTP helo=<x>",
		    EV_L_SMTPD_REJECT, "smtpd", "", "", "", 1796015668000LL },
		{ "NOQUEUE reject at MAIL (a full queue disk)",
		    "Nov 30 05:14:28 h postfix/smtpd[3]: NOQUEUE: reject: MAIL "
		    "from unknown[127.0.0.1]: 452 4.3.1 Insufficient system "
		    "storage; proto=ESMTP helo=<vm>",
		    EV_L_SMTPD_REJECT, "smtpd", "", "", "", 1796015668000LL },
		{ "NOQUEUE reject at CONNECT",
		    "Nov 30 05:14:28 h postfix/smtpd[3]: NOQUEUE: reject: "
		    "CONNECT from x[1.2.3.4]: 554 5.7.1 <x[1.2.3.4]>: Client "
		    "host rejected: Access denied; proto=SMTP",
		    EV_L_SMTPD_REJECT, "smtpd", "", "", "", 1796015668000LL },
		{ "bounce notification",
		    "Nov 30 05:14:28 h postfix/bounce[3]: ABCDEF1234: sender "
		    "non-delivery notification: 0123456789",
		    EV_L_NOTIFY, "bounce", "ABCDEF1234", "", "",
		    1796015668000LL },
		{ "another program",
		    "Nov 30 05:14:28 h opendkim[7]: ABCDEF1234: "
		    "DKIM-Signature field added",
		    EV_L_NONE, "opendkim", "", "", "", 1796015668000LL },
		{ "postfix warning",
		    "Nov 30 05:14:28 h postfix/smtpd[3]: warning: "
		    "something odd",
		    EV_L_UNSUPPORTED, "smtpd", "", "", "", 1796015668000LL },
		{ "not a syslog line", "hello world", EV_L_UNSUPPORTED, "", "",
		    "", "", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_line l;

		parse(cases[i].line, &l);
		is_int(l.kind, cases[i].kind, "%s: kind", cases[i].name);
		is_str(str(l.service), cases[i].service, "%s: service",
		    cases[i].name);
		is_str(str(l.qid), cases[i].qid, "%s: queue id", cases[i].name);
		is_str(str(l.to), cases[i].to, "%s: to", cases[i].name);
		is_str(str(l.status), cases[i].status, "%s: status",
		    cases[i].name);
		if (cases[i].time_ms)
			is_int(l.time_ms, cases[i].time_ms, "%s: time",
			    cases[i].name);
	}
}

static void
test_cut_and_flattened(void)
{
	struct ev_line l;
	char big[2100];

	parse("Nov 30 05:14:28 h postfix/smtp[1]: ABCDEF1234: to=<a@b.c>, "
	      "relay=mx.b.c[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, "
	      "dsn=5.1.1, status=bounced (host mx.b.c[192.0.2.1] said: "
	      "550-5.1.1 The email account that you tried to reach does not "
	      "exist. 550 5.1.1 https://support.example/?p=NoSuchUser x (in "
	      "reply to RCPT TO command))",
	    &l);
	is_str(str(l.response),
	    "host mx.b.c[192.0.2.1] said: 550-5.1.1 The email account that you "
	    "tried to reach does not exist. 550 5.1.1 "
	    "https://support.example/?p=NoSuchUser x (in reply to RCPT TO "
	    "command)",
	    "a multi-line reply flattened by Postfix is kept whole");
	/* syslog cut the record at 2000 bytes, mid-reply */
	snprintf(big, sizeof(big),
	    "Nov 30 05:14:28 h postfix/smtp[1]: ABCDEF1234: to=<a@b.c>, "
	    "relay=x[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=4.7.28, "
	    "status=deferred (host x said: 421-4.7.28 %01900d",
	    0);
	parse(big, &l);
	is_int(l.kind, EV_L_DELIVERY, "a line cut at 2000 bytes is a delivery");
	is_str(str(l.status), "deferred", "its status");
	ok(l.truncated, "marked truncated");
	is_str(str(l.dsn), "4.7.28", "and its DSN");
}

/* ---------------------------------------------------------- tracker */

struct got {
	struct rk_event ev[16];
	char *json[16];
	size_t n;
};

static void
collect(void *arg, const struct rk_event *ev)
{
	struct got *g = arg;

	if (g->n < 16) {
		g->ev[g->n] = *ev;
		g->json[g->n++] = rk_event_json(ev);
	}
}

static void
feed(struct ev_track *t, const char *line)
{
	struct ev_line l;

	parse(line, &l);
	ev_track_line(t, &l);
}

static void
free_got(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->json[i]);
	g->n = 0;
}

static void
test_tracker(void)
{
	struct got g = { .n = 0 };
	struct ev_track *t = ev_track_new(100, collect, &g);
	const char *pre = "Nov 30 05:14:28 h postfix/";
	char line[512];

#define LINE(fmt) (snprintf(line, sizeof(line), "%s" fmt, pre), line)
	feed(t, LINE("cleanup[1]: ABCDEF1234: message-id=<m1@example.com>"));
	feed(t,
	    LINE("qmgr[2]: ABCDEF1234: from=<app@example.com>, size=900, "
	         "nrcpt=2 (queue active)"));
	is_int((long long)g.n, 1, "queued: one event");
	ok(strstr(g.json[0], "\"event\":\"queued\"") &&
	        strstr(g.json[0], "\"message_id\":\"<m1@example.com>\"") &&
	        strstr(g.json[0], "\"from\":\"app@example.com\"") &&
	        strstr(g.json[0], "\"nrcpt\":2"),
	    "queued names the Message-ID, sender and recipients");
	feed(t,
	    LINE("smtp[3]: ABCDEF1234: to=<a@x.org>, relay=x[1.2.3.4]:25, "
	         "delay=1, delays=0/0/0/1, dsn=4.7.28, status=deferred "
	         "(421 4.7.28 slow down)"));
	feed(t,
	    LINE("smtp[3]: ABCDEF1234: to=<b@y.org>, relay=y[1.2.3.5]:25, "
	         "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)"));
	feed(t,
	    LINE("qmgr[2]: ABCDEF1234: from=<app@example.com>, size=900, "
	         "nrcpt=2 (queue active)"));
	is_int((long long)g.n, 3,
	    "a retry entering the active queue makes no "
	    "second queued event");
	feed(t,
	    LINE("smtp[3]: ABCDEF1234: to=<a@x.org>, relay=x[1.2.3.4]:25, "
	         "delay=60, delays=0/59/0/1, dsn=4.7.28, status=deferred "
	         "(421 4.7.28 slow down)"));
	ok(strstr(g.json[3], "\"attempt\":2") != NULL,
	    "the second try of a recipient is attempt 2");
	ok(strstr(g.json[2], "\"attempt\":1") != NULL &&
	        strstr(g.json[2], "\"event\":\"delivered\"") != NULL,
	    "the other recipient: delivered at attempt 1");
	feed(t,
	    LINE("qmgr[2]: ABCDEF1234: from=<app@example.com>, "
	         "status=expired, returned to sender"));
	is_int((long long)g.n, 5,
	    "expiry: one event per recipient still "
	    "deferred");
	ok(strstr(g.json[4], "\"event\":\"expired\"") &&
	        strstr(g.json[4], "\"recipient\":\"a@x.org\"") &&
	        strstr(g.json[4], "\"attempt\":2"),
	    "the expired recipient, with its attempts");
	ok(strncmp(g.json[1], g.json[3], 44) != 0,
	    "ids differ between attempts");
	free_got(&g);
	feed(t, LINE("qmgr[2]: ABCDEF1234: removed"));
	is_int((long long)ev_track_count(t), 1,
	    "a removed message changed in this batch waits for its write");
	ev_track_flush(t, NULL, NULL);
	ev_track_free(t);
#undef LINE
}

static void
test_restore(void)
{
	struct got g = { .n = 0 };
	struct ev_track *t = ev_track_new(100, collect, &g);
	const char *f[] = { "client_id", "subject", "sender", "a:a@x.org",
		"p:a@x.org", "ev_queued" };
	const char *v[] = { "order-42", "Your order", "app@example.com", "3",
		"1", "1" };
	struct ev_line l;
	char q[24];

	parse("Nov 30 05:14:28 h postfix/smtp[3]: ABCDEF1234: to=<a@x.org>, "
	      "relay=x[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
	      "status=sent (250 ok)",
	    &l);
	ok(ev_track_wants(t, &l, q) && strcmp(q, "ABCDEF1234") == 0,
	    "an unknown message's state is wanted from Redis");
	ev_track_restore(t, q, f, v, 6);
	ok(!ev_track_wants(t, &l, q), "not again once restored");
	ev_track_line(t, &l);
	is_int((long long)g.n, 1, "one event");
	ok(strstr(g.json[0], "\"client_id\":\"order-42\"") &&
	        strstr(g.json[0], "\"subject\":\"Your order\"") &&
	        strstr(g.json[0], "\"attempt\":4"),
	    "joined with the milter's metadata; attempts go on from Redis");
	free_got(&g);
	ev_track_flush(t, NULL, NULL);
	ev_track_free(t);
}

/*
 * More new messages in one batch than eventd.maxMessages, every older one
 * dirty (waiting for the batch's write): the bound gives way rather than
 * evicting the message being tracked (it used to be freed while in use).
 */
static void
test_bound_all_dirty(void)
{
	struct got g = { .n = 0 };
	struct ev_track *t = ev_track_new(2, collect, &g);
	char line[512];

	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof(line),
		    "Nov 30 05:14:28 h postfix/cleanup[1]: ABCDEF12%02d: "
		    "message-id=<m%d@example.com>",
		    i, i);
		feed(t, line);
		snprintf(line, sizeof(line),
		    "Nov 30 05:14:28 h postfix/qmgr[2]: ABCDEF12%02d: "
		    "from=<app@example.com>, size=900, nrcpt=1 (queue active)",
		    i);
		feed(t, line);
	}
	is_int((long long)g.n, 5, "bound 2, five new messages: five queued");
	ok(g.n == 5 && strstr(g.json[4], "<m4@example.com>") != NULL,
	    "the last one still has its Message-ID");
	free_got(&g);
	ev_track_flush(t, NULL, NULL);
	ok(ev_track_count(t) <= 5, "flushed: the bound applies again");
	ev_track_free(t);
}

/* NOQUEUE rejects: the SMTP stage and the code, for the metrics. */
static void
test_rejects(void)
{
	static const struct {
		const char *line, *stage, *code;
	} cases[] = {
		{ "Nov 30 05:14:28 h postfix/smtpd[3]: NOQUEUE: reject: MAIL "
		  "from "
		  "unknown[127.0.0.1]: 452 4.3.1 Insufficient system storage; "
		  "proto=ESMTP helo=<vm>",
		    "MAIL", "452" },
		{ "Nov 30 05:14:28 h postfix/smtpd[3]: NOQUEUE: reject: RCPT "
		  "from "
		  "x[1.2.3.4]: 554 5.7.1 <v@w>: Relay access denied; "
		  "from=<a@b> "
		  "to=<v@w> proto=ESMTP helo=<x>",
		    "RCPT", "554" },
		{ "Nov 30 05:14:28 h postfix/smtpd[3]: NOQUEUE: reject: DATA "
		  "from "
		  "x[1.2.3.4]: 450 4.7.1 later; proto=ESMTP helo=<x>",
		    "DATA", "450" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_line l;

		parse(cases[i].line, &l);
		ok(l.kind == EV_L_SMTPD_REJECT &&
		        l.stage.n == strlen(cases[i].stage) &&
		        memcmp(l.stage.p, cases[i].stage, l.stage.n) == 0 &&
		        l.code.n == strlen(cases[i].code) &&
		        memcmp(l.code.p, cases[i].code, l.code.n) == 0,
		    "reject at %s: stage and code %s", cases[i].stage,
		    cases[i].code);
	}
}

int
main(void)
{
	test_rejects();
	test_delivery_fields();
	test_formats();
	test_cut_and_flattened();
	test_tracker();
	test_bound_all_dirty();
	test_restore();
	return done_testing();
}
