/* SPDX-License-Identifier: MIT */
/*
 * bn_text: the human-readable part of a bounce, for the many MTAs that
 * send no delivery-status part (qmail, Exim, old Sendmail, webmail
 * providers) and to complete the diagnostics of those that do.
 *
 * Bounce texts share a shape whatever their wording: an explanation, then
 * each failed recipient on a line of its own (bare, in angle brackets,
 * after a short label, or inside an SMTP transcript line), followed by
 * the remote server's words, then a copy of the message.  So the reader
 * looks for that shape, not for one MTA's sentences: recipient lines
 * open records, the lines after each (up to the next recipient or the
 * copy of the message) are its diagnostic.  Pure; thread-safe.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"

#include "bn.h"

#define DIAG_MAX 1000 /* bytes of diagnostic kept per recipient */

struct line {
	const char *s;
	size_t n;
};

/* ------------------------------------------------------------ the cut */

/* Phrases of the line that introduces the copy of the message. */
static const char *const copy_markers[] = { "copy of the message",
	"copy of your message", "message follows", "original message",
	"unsent message", "returned message", "message header follows",
	"headers of the original", "original headers", "below is a copy",
	"message text follows", "rfc822 message", "original mail",
	"content of the original", "header of the original", "message you sent",
	"your message header", "message headers follow",
	"start of the original", "copy of original", NULL };

static bool
marker_line(const char *s, size_t n)
{
	size_t lead = 0;
	char low[128];

	while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
		lead++;
	if (n - lead > 80)
		return false;

	if (lead < n && strchr("-=*[_<", s[lead]) == NULL && n - lead > 50)
		return false;
	/* fold the short line once; strstr(3) per marker is then cheap */
	memcpy(low, s + lead, n - lead);
	low[n - lead] = '\0';
	rk_str_lower(low);
	for (size_t i = 0; copy_markers[i]; i++)
		if (strstr(low, copy_markers[i]))
			return true;
	return false;
}

/* "Received: from" ("Received:from") or "Return-Path:" opens a line. */
static bool
header_line(const char *s, size_t n)
{
	size_t sp;

	if (n > 12 && rk_mem_case_eq(s, "Return-Path:", 12))
		return true;
	if (n < 14 || !rk_mem_case_eq(s, "Received:", 9))
		return false;
	for (sp = 9; sp < n && (s[sp] == ' ' || s[sp] == '\t'); sp++)
		;
	return n >= sp + 5 && rk_mem_case_eq(s + sp, "from ", 5);
}

size_t
bn_text_cut(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		if (pos > 0 &&
		    (marker_line(text + pos, n) || header_line(text + pos, n)))
			return pos;
		pos += n + 1;
	}
	return len;
}

/* ------------------------------------------------------ recipient lines */

static bool
skip_address(const char *a)
{
	static const char *const locals[] = { "mailer-daemon@", "postmaster@",
		"mail-daemon@", "mailerdaemon@", "root@", NULL };

	for (size_t i = 0; locals[i]; i++)
		if (rk_mem_case_eq(a, locals[i], strlen(locals[i])))
			return true;
	return false;
}

/* Labels that may stand before a recipient on its line. */
static bool
recipient_label(const char *s, size_t n)
{
	static const char *const labels[] = { "recipient", "address", "rcpt",
		"failed", "user", "mailbox", "\xe5\xae\x9b\xe5\x85\x88",
		"destinat", "to:", NULL };

	if (n > 40)
		return false;
	for (size_t i = 0; labels[i]; i++)
		if (bn_memcasestr(s, n, labels[i]))
			return true;
	return false;
}

/* Text around an address that says it is a sender, not a recipient. */
static bool
sender_context(const char *s, size_t off)
{
	static const char *const before[] = { "mail from:", "from:<", "from: <",
		"from <", "sender", "envelope-from", "from:", "hello ", "dear ",
		"return-path", NULL };
	size_t b = off > 24 ? off - 24 : 0;

	for (size_t i = 0; before[i]; i++)
		if (bn_memcasestr(s + b, off - b, before[i]))
			return true;
	return false;
}

/* "... delivering your mail to <a@b>", "could not be delivered to a@b" */
static bool
sentence_recipient(const char *line, size_t off)
{
	static const char *const verbs[] = { "deliver", "fail", "error",
		"reach", "bounce", "reject", "could not", "unable", "problem",
		"send", "sent", NULL };
	size_t e = off;
	bool verb = false;

	while (e > 0 && strchr("<\"' ", line[e - 1]))
		e--;
	if (!(e >= 9 && rk_mem_case_eq(line + e - 9, "recipient", 9)) &&
	    !(e >= 2 && rk_mem_case_eq(line + e - 2, "to", 2)) &&
	    !(e >= 3 && rk_mem_case_eq(line + e - 3, "to:", 3)) &&
	    !(e >= 3 && rk_mem_case_eq(line + e - 3, "for", 3)))
		return false;
	for (size_t i = 0; verbs[i] && !verb; i++)
		verb = bn_memcasestr(line, off, verbs[i]) != NULL;
	return verb;
}

/* "550 <a@b>... User unknown", "<<< 550 5.1.1 <a@b>": transcript lines. */
static bool
transcript(const char *s)
{
	return (*s == '4' || *s == '5') && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && (s[3] == ' ' || s[3] == '-');
}

/*
 * The line's first address, unless it is only the display name of the
 * angle address after it ("a@b <c@d>: malformed address"): then that.
 * *at gets where the first one starts (the line's subject starts
 * there either way), *end where the chosen one ends.  Caller frees.
 */
static char *
line_address(const char *line, size_t *at, size_t *end)
{
	char *a = bn_address(line), *b;
	const char *hit, *after, *bh;

	if (a == NULL || (hit = strstr(line, a)) == NULL) {
		free(a);
		return NULL;
	}
	*at = (size_t)(hit - line);
	*end = *at + strlen(a);
	after = hit + strlen(a);
	after += strspn(after, " \t\"");
	if (*after != '<' || (b = bn_address(after)) == NULL ||
	    (bh = strstr(after, b)) == NULL)
		return a;
	*end = (size_t)(bh - line) + strlen(b);
	free(a);
	return b;
}

struct pick {
	char *addr;
	size_t tail; /* where the text after the address starts in the line */
};

/*
 * The recipient a line is about, if it is about one: a transcript line
 * naming it, the address as the line's subject (alone, in brackets,
 * followed by a colon and the reason), after a short recipient label,
 * or at the end of a sentence that says delivery to it failed.
 */
static bool
pick_line(const struct line *l, struct pick *pk)
{
	const char *s = l->s, *e = l->s + l->n;
	char *line, *a;
	size_t off, end, lead;

	while (s < e && strchr(" \t*->", *s) != NULL)
		s++;
	if (memchr(s, '@', (size_t)(e - s)) == NULL)
		return false;
	line = rk_strndup(s, (size_t)(e - s));
	if ((a = line_address(line, &off, &end)) == NULL) {
		free(line);
		return false;
	}
	lead = (size_t)(s - l->s);
	/* postmaster@ is a contact, unless delivery to it is what failed */
	if ((skip_address(a) && !sentence_recipient(line, off)) ||
	    sender_context(line, off) ||
	    !(transcript(line) || off <= 1 || recipient_label(line, off) ||
	        sentence_recipient(line, off))) {
		free(line);
		free(a);
		return false;
	}
	pk->addr = a;
	pk->tail = transcript(line) ? lead : lead + end;
	free(line);
	return true;
}

/* ---------------------------------------------------------- records */

static size_t
split_lines(const char *text, size_t len, struct line **out)
{
	size_t n = 0, cap = 0, pos = 0;
	struct line *v = NULL;

	while (pos < len && n < 5000) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - text - pos) : len - pos;

		if (n ==
		    cap) { /* doubling: one realloc per line was quadratic */
			cap = cap ? cap * 2 : 64;
			v = rk_reallocarray(v, cap, sizeof(*v));
		}
		v[n].s = text + pos;
		v[n].n = ll;
		n++;
		pos += ll + 1;
	}
	*out = v;
	return n;
}

static bool
blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!isspace((unsigned char)l->s[i]))
			return false;
	return true;
}

/* The diagnostic of the record at line i: from tail, lines up to next. */
static void
gather(struct bn_rcpt *rc, const struct line *v, size_t i, size_t tail,
    size_t next)
{
	struct rk_buf b;

	rk_buf_init(&b);
	for (size_t j = i; j < next && b.len < DIAG_MAX; j++) {
		size_t from = j == i && tail < v[j].n ? tail : 0;

		if (j == i && tail >= v[j].n)
			continue;
		if (blank(&v[j]))
			continue;
		if (b.len)
			rk_buf_putc(&b, ' ');
		rk_buf_append(&b, v[j].s + from, v[j].n - from);
	}
	if (b.len) {
		char *d = bn_oneline(b.data, b.len),
		     *t = d + strspn(d, ">:;,. ");

		/* more lines about the same address add to what it has */
		if (rc->diagnostic != NULL && *t != '\0' &&
		    strlen(rc->diagnostic) < DIAG_MAX) {
			rk_buf_reset(&b);
			rk_buf_printf(&b, "%s %s", rc->diagnostic, t);
			free(rc->diagnostic);
			rc->diagnostic = rk_buf_steal(&b);
		} else if (rc->diagnostic == NULL && *t != '\0') {
			rc->diagnostic = rk_strdup(t);
		}
		free(d);
	}
	rk_buf_free(&b);
}

static size_t
records(struct bn_report *r, const struct line *v, size_t n)
{
	struct pick *pk = rk_reallocarray(NULL, n + 1, sizeof(*pk));
	size_t *at = rk_reallocarray(NULL, n + 1, sizeof(*at));
	size_t k = 0, added = 0;

	for (size_t i = 0; i < n; i++)
		if (pick_line(&v[i], &pk[k]))
			at[k++] = i;
	for (size_t j = 0; j < k; j++) {
		struct bn_rcpt *rc = bn_find_rcpt(r, pk[j].addr);
		size_t next = j + 1 < k ? at[j + 1] : n;

		if (rc == NULL && (rc = bn_add_rcpt(r, pk[j].addr)) != NULL)
			added++;
		if (rc != NULL)
			gather(rc, v, at[j], pk[j].tail, next);
		/* ">>> RCPT TO:<a@b>": whatever follows answered RCPT */
		if (rc != NULL && rc->command == NULL &&
		    bn_memcasestr(v[at[j]].s, v[at[j]].n, "rcpt to"))
			rc->command = rk_strdup("RCPT");
		free(pk[j].addr);
	}
	free(pk);
	free(at);
	return added;
}

size_t
bn_text_parse(struct bn_report *r, const char *text, size_t len)
{
	struct line *v;
	size_t n = split_lines(text, len, &v), added;

	added = records(r, v, n);
	free(v);
	return added;
}

/* DSN records with no diagnostic get the text's lines about them. */
void
bn_text_enrich(struct bn_report *r, const char *text, size_t len)
{
	struct line *v;
	size_t n = split_lines(text, len, &v);

	for (size_t i = 0; i < r->nrcpts; i++) {
		struct bn_rcpt *rc = &r->rcpts[i];

		if (rc->recipient == NULL ||
		    (rc->diagnostic != NULL && *rc->diagnostic != '\0'))
			continue;
		for (size_t j = 0; j < n; j++) {
			size_t end = j + 1;

			if (!bn_memcasestr(v[j].s, v[j].n, rc->recipient))
				continue;
			while (end < n && end < j + 6 && !blank(&v[end]))
				end++;
			gather(rc, v, j, 0, end);
			break;
		}
	}
	free(v);
}

/*
 * "(in reply to RCPT TO command)": the human-readable part often says
 * which command a refusal answered when the delivery-status part does
 * not.  The lines about rc, up to a blank one, are read for it.
 */
void
bn_text_command(struct bn_rcpt *rc, const char *text, size_t len)
{
	struct line *v;
	size_t n;

	if (rc->command != NULL || rc->recipient == NULL)
		return;
	n = split_lines(text, len, &v);
	/* the first few lines naming rc; later ones quote, they do not say */
	for (size_t j = 0, seen = 0; j < n && seen < 3 && rc->command == NULL;
	     j++) {
		struct rk_buf b;
		char *one;

		if (!bn_memcasestr(v[j].s, v[j].n, rc->recipient))
			continue;
		seen++;
		rk_buf_init(&b);
		for (size_t k = j; k < n && k < j + 6 && !blank(&v[k]); k++) {
			rk_buf_append(&b, v[k].s, v[k].n);
			rk_buf_putc(&b, '\n');
		}
		one = bn_oneline(b.data ? b.data : "", b.len);
		bn_command_scan(rc, one);
		free(one);
		rk_buf_free(&b);
	}
	free(v);
}
