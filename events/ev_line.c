/* SPDX-License-Identifier: MIT */
/*
 * ev_line: one Postfix log line, parsed in one pass without allocating.
 *
 * Accepted shapes (what syslog daemons and Postfix's postlogd write):
 *
 *   [<PRI>]TIME HOST TAG[PID]: [LEVEL: ]MESSAGE
 *   TIME  = "Nov 30 05:14:28" (BSD: local time, no year)
 *         | "2026-11-30T05:14:28[.frac](Z|+hh:mm|+hhmm)" (RFC 3339, also
 *           with a space for the T: journald and rsyslog exports)
 *   TAG   = any syslog_name and the service: postfix/smtp,
 *           postfix-out/smtp, postfix/submission/smtpd, relay/smtp...
 *   LEVEL = warning | error | fatal | panic
 *
 * A MESSAGE that starts with a queue id (short hex, or a long id of
 * letters and digits, enable_long_queue_ids) and ": " is a queue file's
 * line; the rest decides the kind (eventd.h).  Delivery lines are read as
 * ", "-separated key=value fields up to status=, whose reply text runs in
 * parentheses to the end of the line (a line cut by syslog keeps what
 * there is, marked truncated); fields this does not know (a later
 * Postfix's) are skipped.  Pure: no I/O, no allocation, thread-safe.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "eventd.h"

struct cur {
	const char *p, *end;
};

static bool
at_end(const struct cur *c)
{
	return c->p >= c->end;
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Consumes s if the input starts with it. */
static bool
lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool
starts(const struct ev_str *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s->n >= n && memcmp(s->p, prefix, n) == 0;
}

static bool
str_eq(const struct ev_str *s, const char *lit_)
{
	return s->n == strlen(lit_) && memcmp(s->p, lit_, s->n) == 0;
}

/* Reads n digits as a number; -1 if they are not all digits. */
static int
digits(struct cur *c, size_t n)
{
	int v = 0;

	if ((size_t)(c->end - c->p) < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(c->p[i]))
			return -1;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	return v;
}

/* Up to the next ch (not consumed), or the end. */
static struct ev_str
until(struct cur *c, char ch)
{
	struct ev_str s = { c->p, 0 };
	const char *q = memchr(c->p, ch, (size_t)(c->end - c->p));

	s.n = (size_t)((q ? q : c->end) - c->p);
	c->p += s.n;
	return s;
}

/* ------------------------------------------------------------- time */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-11-30T05:14:28.123+01:00" (T or space, zone optional: UTC). */
static int
time_rfc3339(struct cur *c, int64_t *ms)
{
	int y, mo, d, h, mi, s, frac = 0, fd = 0, off = 0;

	if ((y = digits(c, 4)) < 0 || !lit(c, "-") || (mo = digits(c, 2)) < 1 ||
	    mo > 12 || !lit(c, "-") || (d = digits(c, 2)) < 1 || d > 31 ||
	    at_end(c) || (*c->p != 'T' && *c->p != ' '))
		return -1;
	c->p++;
	if ((h = digits(c, 2)) < 0 || h > 23 || !lit(c, ":") ||
	    (mi = digits(c, 2)) < 0 || mi > 59 || !lit(c, ":") ||
	    (s = digits(c, 2)) < 0 || s > 60)
		return -1;
	if (lit(c, ".") || lit(c, ","))
		for (; !at_end(c) && is_digit(*c->p); c->p++)
			if (fd++ < 3)
				frac = frac * 10 + (*c->p - '0');
	for (; fd > 0 && fd < 3; fd++)
		frac *= 10;
	if (!at_end(c) && (*c->p == '+' || *c->p == '-')) {
		int sign = *c->p++ == '-' ? -1 : 1, oh, om;

		if ((oh = digits(c, 2)) < 0)
			return -1;
		lit(c, ":");
		if ((om = digits(c, 2)) < 0)
			return -1;
		off = sign * (oh * 60 + om);
	} else {
		lit(c, "Z");
	}
	*ms = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	           h * 3600 + mi * 60 + s - off * 60) *
	          1000) +
	    frac;
	return 0;
}

static int
month_of(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (memcmp(names + 3 * i, p, 3) == 0)
			return i + 1;
	return -1;
}

/*
 * Local time to UTC for a BSD timestamp.  The zone is the process's
 * (TZ), as it was the syslog daemon's; the year is now's, or the one
 * before when the date would be more than a day ahead.  mktime(3) is
 * slow (it locks and reads the zone), and a log's lines mostly share
 * their hour: clk keeps now's date and the last local hour's start.
 */
static int64_t
bsd_to_utc(
    int mo, int d, int h, int mi, int s, int64_t now_ms, struct ev_clock *clk)
{
	int64_t key;
	int year;

	if (clk->now_s != now_ms / 1000 || clk->year == 0) {
		time_t now = (time_t)(now_ms / 1000);
		struct tm nt;

		localtime_r(&now, &nt);
		clk->now_s = now_ms / 1000;
		clk->year = nt.tm_year + 1900;
		clk->mon = nt.tm_mon + 1;
		clk->day = nt.tm_mday;
	}
	year = clk->year;
	if (mo > clk->mon || (mo == clk->mon && d > clk->day + 1))
		year--;
	key = (((int64_t)year * 100 + mo) * 100 + d) * 100 + h;
	if (key != clk->key) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = year - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_isdst = -1;
		clk->hour_utc = (int64_t)mktime(&tm);
		clk->key = key;
	}
	return (clk->hour_utc + mi * 60 + s) * 1000;
}

/* "Nov 30 05:14:28" or "Nov  3 05:14:28" (optionally .frac). */
static int
time_bsd(struct cur *c, int64_t now_ms, struct ev_clock *clk, int64_t *ms)
{
	int mo, d, h, mi, s, frac = 0, fd = 0;

	if (c->end - c->p < 15 || (mo = month_of(c->p)) < 0 || c->p[3] != ' ')
		return -1;
	c->p += 4;
	if (*c->p == ' ')
		c->p++;
	if (!is_digit(*c->p))
		return -1;
	d = *c->p++ - '0';
	if (!at_end(c) && is_digit(*c->p))
		d = d * 10 + (*c->p++ - '0');
	if (d < 1 || d > 31 || !lit(c, " ") || (h = digits(c, 2)) < 0 ||
	    h > 23 || !lit(c, ":") || (mi = digits(c, 2)) < 0 || mi > 59 ||
	    !lit(c, ":") || (s = digits(c, 2)) < 0 || s > 60)
		return -1;
	if (lit(c, "."))
		for (; !at_end(c) && is_digit(*c->p); c->p++)
			if (fd++ < 3)
				frac = frac * 10 + (*c->p - '0');
	for (; fd > 0 && fd < 3; fd++)
		frac *= 10;
	*ms = bsd_to_utc(mo, d, h, mi, s, now_ms, clk) + frac;
	return 0;
}

/* -------------------------------------------------------------- head */

/*
 * Postfix's queue ids: short ones are upper-case hex; long ones
 * (enable_long_queue_ids) use digits and consonants of both cases, with
 * 'z' between time and inode.  Neither has a vowel, so "NOQUEUE" is none.
 */
static bool
is_long_qid_char(char c)
{
	if (is_digit(c))
		return true;
	if (c >= 'a' && c <= 'z')
		return strchr("aeiou", c) == NULL;
	if (c >= 'A' && c <= 'Z')
		return strchr("AEIOU", c) == NULL;
	return false;
}

bool
ev_is_qid(const char *p, size_t n)
{
	bool hex = true, lng = true;

	if (n < 5 || n > 20)
		return false;
	for (size_t i = 0; i < n && (hex || lng); i++) {
		char c = p[i];

		hex = hex && (is_digit(c) || (c >= 'A' && c <= 'F'));
		lng = lng && (hex || is_long_qid_char(c));
	}
	return hex || lng;
}

/* Postfix's daemons and commands, as the last part of a syslog tag. */
static bool
postfix_service(const struct ev_str *s)
{
	static const char *const names[] = { "smtp", "lmtp", "smtpd", "qmgr",
		"cleanup", "bounce", "defer", "trace", "pipe", "local",
		"virtual", "error", "retry", "discard", "pickup", "postscreen",
		"dnsblog", "tlsproxy", "master", "anvil", "scache", "tlsmgr",
		"showq", "verify", "flush", "proxymap", "proxywrite",
		"trivial-rewrite", "spawn", "oqmgr", "nqmgr", "postlogd",
		"postdrop", "sendmail", "postsuper", "postqueue", "postfix",
		"postfix-script", "postmulti", "postmap", "postalias",
		"postconf", "postlog", "postkick", "postlock", NULL };

	for (size_t i = 0; names[i]; i++)
		if (str_eq(s, names[i]))
			return true;
	return false;
}

/* TAG[PID]: -- the tag split into instance and service. */
static int
tag(struct cur *c, struct ev_line *l)
{
	const char *start = c->p, *slash = NULL;

	while (!at_end(c) && *c->p != '[' && *c->p != ':' && *c->p != ' ') {
		if (*c->p == '/')
			slash = c->p;
		c->p++;
	}
	if (c->p == start || at_end(c))
		return -1;
	l->service.p = slash ? slash + 1 : start;
	l->service.n = (size_t)(c->p - l->service.p);
	l->instance.p = start;
	l->instance.n = slash ? (size_t)(slash - start) : 0;
	if (lit(c, "[")) {
		while (!at_end(c) && is_digit(*c->p))
			c->p++;
		if (!lit(c, "]"))
			return -1;
	}
	return lit(c, ": ") || lit(c, ":") ? 0 : -1;
}

static int
head(struct cur *c, int64_t now_ms, struct ev_clock *clk, struct ev_line *l)
{
	if (lit(c, "<")) { /* a raw syslog priority */
		while (!at_end(c) && is_digit(*c->p))
			c->p++;
		if (!lit(c, ">"))
			return -1;
	}
	if (c->end - c->p >= 5 && is_digit(c->p[0]) && c->p[4] == '-') {
		if (time_rfc3339(c, &l->time_ms) != 0)
			return -1;
	} else if (time_bsd(c, now_ms, clk, &l->time_ms) != 0) {
		return -1;
	}
	if (!lit(c, " "))
		return -1;
	while (lit(c, " "))
		;
	l->host = until(c, ' ');
	if (l->host.n == 0 || !lit(c, " "))
		return -1;
	return tag(c, l);
}

/* ------------------------------------------------------------ fields */

/* "0.41" -> 410 (ms); -1 when it is not a number. */
static int64_t
seconds_ms(struct ev_str s)
{
	int64_t v = 0, frac = 0;
	size_t i = 0, fd = 0;

	if (s.n == 0 || s.n > 18)
		return -1;
	for (; i < s.n && is_digit(s.p[i]); i++)
		v = v * 10 + (s.p[i] - '0');
	if (i > 12) /* 31k years: not a delay; and v * 1000 must not overflow */
		return -1;
	if (i < s.n && s.p[i] == '.')
		for (i++; i < s.n && is_digit(s.p[i]); i++)
			if (fd++ < 3)
				frac = frac * 10 + (s.p[i] - '0');
	if (i != s.n)
		return -1;
	for (; fd < 3; fd++)
		frac *= 10;
	return v * 1000 + frac;
}

static int64_t
integer(struct ev_str s)
{
	int64_t v = 0;

	if (s.n == 0 || s.n > 18)
		return -1;
	for (size_t i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	return v;
}

/* "<address>": the address, up to a '>' that ends the field. */
static int
angle(struct cur *c, struct ev_str *out)
{
	const char *q;

	if (!lit(c, "<"))
		return -1;
	for (q = c->p; q < c->end; q++)
		if (*q == '>' &&
		    (q + 1 == c->end || q[1] == ',' || q[1] == ' '))
			break;
	if (q >= c->end)
		return -1; /* out is left as it was */
	out->p = c->p;
	out->n = (size_t)(q - c->p);
	c->p = q + 1;
	return 0;
}

static void
delays(struct ev_str s, int64_t *out)
{
	struct cur c = { s.p, s.p + s.n };

	for (size_t i = 0; i < RK_STAGE_N; i++) {
		struct ev_str v = until(&c, '/');

		out[i] = seconds_ms(v);
		lit(&c, "/");
	}
}

/* status=WORD[ (TEXT)] to the end of the line. */
static void
status(struct cur *c, struct ev_line *l)
{
	const char *w = c->p;

	while (!at_end(c) && *c->p != ' ' && *c->p != ',')
		c->p++;
	l->status.p = w;
	l->status.n = (size_t)(c->p - w);
	if (lit(c, ", ")) { /* "status=expired, returned to sender" */
		l->response.p = c->p;
		l->response.n = (size_t)(c->end - c->p);
		c->p = c->end;
		return;
	}
	if (!lit(c, " ("))
		return;
	l->response.p = c->p;
	if (c->end > c->p && c->end[-1] == ')') {
		l->response.n = (size_t)(c->end - c->p - 1);
	} else {
		l->response.n = (size_t)(c->end - c->p);
		l->truncated = true;
	}
	c->p = c->end;
}

/* The fields of a delivery line after "QID: ". */
static void
delivery(struct cur *c, struct ev_line *l)
{
	l->kind = EV_L_DELIVERY;
	while (!at_end(c)) {
		struct ev_str key = until(c, '=');

		if (!lit(c, "="))
			break;
		if (str_eq(&key, "to") || str_eq(&key, "orig_to")) {
			if (angle(c, str_eq(&key, "to") ? &l->to : &l->orig_to))
				break;
		} else if (str_eq(&key, "status")) {
			status(c, l);
			break;
		} else {
			struct ev_str v = until(c, ',');

			if (str_eq(&key, "relay"))
				l->relay = v;
			else if (str_eq(&key, "delay"))
				l->delay_ms = seconds_ms(v);
			else if (str_eq(&key, "delays"))
				delays(v, l->delays_ms);
			else if (str_eq(&key, "dsn"))
				l->dsn = v;
			else if (str_eq(&key, "tls"))
				l->tls = v;
		}
		if (!lit(c, ", "))
			break;
	}
	if (l->to.p == NULL || l->status.n == 0)
		l->kind = EV_L_UNSUPPORTED;
}

/* qmgr: from=<>, size=N, nrcpt=N (queue active) | status=expired ... */
static void
qmgr_from(struct cur *c, struct ev_line *l)
{
	if (angle(c, &l->from) != 0)
		return;
	if (lit(c, ", status=expired, returned to sender")) {
		l->kind = EV_L_EXPIRED;
		return;
	}
	if (lit(c, ", status=force-expired, returned to sender")) {
		l->kind = EV_L_EXPIRED;
		l->forced = true;
		return;
	}
	if (!lit(c, ", size="))
		return;
	l->size = integer(until(c, ','));
	if (!lit(c, ", nrcpt="))
		return;
	l->nrcpt = integer(until(c, ' '));
	if (l->size >= 0 && l->nrcpt >= 0)
		l->kind = EV_L_QUEUED;
}

/* "Trust TLS connection established {to,from} X: PROTO with cipher C
   (S/A bits)" */
static void
tls_line(struct cur *c, struct ev_line *l)
{
	struct ev_str trust = until(c, ' ');

	if (!lit(c, " TLS connection established "))
		return;
	l->tls_outgoing = lit(c, "to ");
	if (!l->tls_outgoing && !lit(c, "from "))
		return;
	until(c, ' ');
	if (!lit(c, " "))
		return;
	l->tls_f[0] = trust;
	l->tls_f[1] = until(c, ' ');
	if (!lit(c, " with cipher "))
		return;
	l->tls_f[2] = until(c, ' ');
	if (!lit(c, " ("))
		return;
	l->tls_f[3] = until(c, '/');
	if (!lit(c, "/"))
		return;
	l->tls_f[4] = until(c, ' ');
	if (lit(c, " bits)"))
		l->kind = EV_L_TLS;
}

/* The part after "QID: " of a queue file's line. */
static void
queue_line(struct cur *c, struct ev_line *l)
{
	struct ev_str rest = { c->p, (size_t)(c->end - c->p) };
	static const char *const info[] = { "host ", "uid=", "lost connection",
		"conversation with", "enabling PIX", "breaking line",
		"resent-message-id=", "discard:", "hold:", "redirect:", "info:",
		"filter:", "replace:", "warning: header",
		"prepend:", "Cannot start TLS",
		"sender delivery status notification",
		"postmaster delivery status notification", NULL };

	if (starts(&rest, "to=<"))
		delivery(c, l);
	else if (lit(c, "from="))
		qmgr_from(c, l);
	else if (str_eq(&rest, "removed"))
		l->kind = EV_L_REMOVED;
	else if (lit(c, "message-id=")) {
		l->kind = EV_L_MESSAGE_ID;
		l->message_id = rest;
		l->message_id.p += 11;
		l->message_id.n -= 11;
	} else if (lit(c, "client=")) {
		l->kind = EV_L_CLIENT;
		until(c, ',');
		if (lit(c, ", sasl_method="))
			l->sasl_method = until(c, ',');
	} else if (starts(&rest, "milter-reject: ") ||
	    starts(&rest, "reject: "))
		l->kind = str_eq(&l->service, "cleanup") ? EV_L_CLEANUP_REJECT
		                                         : EV_L_INFO;
	else if (lit(c, "sender non-delivery notification: ") ||
	    lit(c, "postmaster non-delivery notification: ")) {
		l->kind = EV_L_NOTIFY;
		l->child = until(c, ' ');
	} else {
		for (size_t i = 0; info[i]; i++)
			if (starts(&rest, info[i]))
				l->kind = EV_L_INFO;
	}
}

/* smtpd, smtp and the rest: lines without a queue id. */
static void
other_line(struct cur *c, struct ev_line *l)
{
	struct ev_str m = { c->p, (size_t)(c->end - c->p) };

	if (starts(&m, "connect from ")) {
		l->kind = EV_L_CONNECT;
	} else if (starts(&m, "disconnect from ")) {
		l->kind = EV_L_DISCONNECT;
	} else if (lit(c, "NOQUEUE: reject: ")) {
		/* RCPT (postfix_exporter's count), MAIL (a full queue disk:
		   452 4.3.1), CONNECT, DATA, END-OF-MESSAGE... */
		l->stage = until(c, ' ');
		if (lit(c, " from "))
			until(c, ' ');
		if (l->stage.n > 0 && lit(c, " ")) {
			l->code = until(c, ' ');
			l->kind = integer(l->code) >= 0 ? EV_L_SMTPD_REJECT
			                                : EV_L_UNSUPPORTED;
		}
	} else if (lit(c, "lost connection after ") ||
	    lit(c, "NOQUEUE: lost connection after ")) {
		l->stage = until(c, ' ');
		l->kind = EV_L_LOST;
	} else if (starts(&m, "warning: hostname ") &&
	    memmem(m.p, m.n, " does not resolve to address ", 29)) {
		l->kind = EV_L_FCRDNS;
	} else if (starts(&m, "warning: ") &&
	    memmem(m.p, m.n, " authentication failed", 22) &&
	    memmem(m.p, m.n, ": SASL ", 7)) {
		l->kind = EV_L_SASL_FAILED;
	} else if (lit(c, "connect to ")) {
		struct ev_str tail = { c->p, (size_t)(c->end - c->p) };

		l->kind = tail.n > 22 &&
		        memcmp(c->end - 22, ": Connection timed out", 22) == 0
		    ? EV_L_TIMED_OUT
		    : EV_L_INFO;
	} else if (memmem(m.p, m.n, " TLS connection established ", 28)) {
		tls_line(c, l);
	}
}

static void
level(struct cur *c, struct ev_line *l)
{
	static const char *const levels[] = {
		"warning: ", "error: ", "fatal: ", "panic: ", NULL
	};

	for (size_t i = 0; levels[i]; i++) {
		size_t n = strlen(levels[i]);

		if ((size_t)(c->end - c->p) >= n &&
		    memcmp(c->p, levels[i], n) == 0) {
			l->level.p = c->p;
			l->level.n = n - 2;
			return;
		}
	}
}

int
ev_line_parse(const char *buf, size_t len, int64_t now_ms, struct ev_clock *clk,
    struct ev_line *l)
{
	struct cur c = { buf, buf + (len > EV_LINE_MAX ? EV_LINE_MAX : len) };
	struct ev_clock own = { 0 };
	const char *q;

	memset(l, 0, sizeof(*l));
	l->delay_ms = l->size = l->nrcpt = -1;
	for (size_t i = 0; i < RK_STAGE_N; i++)
		l->delays_ms[i] = -1;
	while (c.end > c.p && (c.end[-1] == '\r' || c.end[-1] == '\n'))
		c.end--;
	if (head(&c, now_ms, clk ? clk : &own, l) != 0) {
		memset(&l->service, 0, sizeof(l->service));
		l->kind = EV_L_UNSUPPORTED;
		return -1;
	}
	if (!postfix_service(&l->service)) {
		l->kind = EV_L_NONE;
		return 0;
	}
	l->kind = EV_L_UNSUPPORTED;
	level(&c, l);
	q = memchr(c.p, ':', (size_t)(c.end - c.p));
	if (l->level.n == 0 && q != NULL && q + 1 < c.end && q[1] == ' ' &&
	    ev_is_qid(c.p, (size_t)(q - c.p))) {
		l->qid.p = c.p;
		l->qid.n = (size_t)(q - c.p);
		c.p = q + 2;
		queue_line(&c, l);
	} else {
		other_line(&c, l);
	}
	return 0;
}
