/* SPDX-License-Identifier: MIT */
/*
 * bn_dsn: the machine-readable part of a delivery status notification,
 * RFC 3464 message/delivery-status and RFC 6533's UTF-8 form: one group
 * of per-message fields, then a group per recipient.  Real reports skip
 * blank lines, repeat fields or put Original-Recipient first, so a
 * record starts at the first recipient field after a complete one rather
 * than at a blank line.  Also the scan of a diagnostic line for its SMTP
 * reply code, enhanced status code and command.  Pure; thread-safe.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"

#include "bn.h"

struct dsn_state {
	struct bn_report *r;
	size_t cur;     /* index of the open record, or SIZE_MAX */
	bool has_final; /* the open record has its Final-Recipient */
	bool has_orig;  /* ... its Original-Recipient */
	size_t added;
};

/* "rfc822; user@example.com" -> the address part after the type. */
static const char *
after_type(const char *v)
{
	const char *semi = strchr(v, ';');

	if (semi == NULL)
		return v;
	semi++;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return semi;
}

char *
bn_status_code(const char *s)
{
	const char *p = s;
	size_t n[3];

	while (*p == ' ' || *p == '\t' || *p == '#' || *p == '(')
		p++;
	if (*p != '2' && *p != '4' && *p != '5')
		return NULL;
	n[0] = 1;
	if (p[1] != '.')
		return NULL;
	n[1] = strspn(p + 2, "0123456789");
	if (n[1] < 1 || n[1] > 3 || p[2 + n[1]] != '.')
		return NULL;
	n[2] = strspn(p + 3 + n[1], "0123456789");
	if (n[2] < 1 || n[2] > 3 || isalnum((unsigned char)p[3 + n[1] + n[2]]))
		return NULL;
	return rk_strndup(p, 3 + n[1] + n[2]);
}

static struct bn_rcpt *
open_record(struct dsn_state *st)
{
	struct bn_rcpt *rc;

	if (st->cur != (size_t)-1)
		return &st->r->rcpts[st->cur];
	if ((rc = bn_add_rcpt(st->r, NULL)) == NULL)
		return NULL;
	/* bn_add_rcpt may hand back an existing record: never for NULL */
	st->cur = (size_t)(rc - st->r->rcpts);
	st->has_final = st->has_orig = false;
	st->added++;
	return rc;
}

static void
close_record(struct dsn_state *st)
{
	st->cur = (size_t)-1;
	st->has_final = st->has_orig = false;
}

static void
set_recipient(struct bn_rcpt *rc, const char *v, bool final)
{
	char *a = bn_address(after_type(v));

	if (a == NULL)
		return;
	if (final)
		bn_set(&rc->recipient, a);
	else
		bn_set(&rc->orig_recipient, a);
	free(a);
}

static void
recipient_field(struct dsn_state *st, const char *v, bool final)
{
	struct bn_rcpt *rc;

	if (st->cur != (size_t)-1 && (final ? st->has_final : st->has_orig))
		close_record(st);
	if ((rc = open_record(st)) == NULL)
		return;
	set_recipient(rc, v, final);
	if (final)
		st->has_final = true;
	else
		st->has_orig = true;
}

static void
status_field(struct bn_rcpt *rc, const char *v)
{
	char *code = bn_status_code(v);

	if (code != NULL) {
		free(rc->status);
		rc->status = code;
	}
}

static void
record_field(struct dsn_state *st, const char *name, const char *v)
{
	struct bn_rcpt *rc;

	if (rk_str_case_eq(name, "Final-Recipient") ||
	    rk_str_case_eq(name, "X-Actual-Recipient")) {
		if (rk_str_case_eq(name, "X-Actual-Recipient") &&
		    st->cur != (size_t)-1 &&
		    st->r->rcpts[st->cur].recipient != NULL)
			return;
		recipient_field(st, v, true);
		return;
	}
	if (rk_str_case_eq(name, "Original-Recipient")) {
		recipient_field(st, v, false);
		return;
	}
	if (!rk_str_case_eq(name, "Action") &&
	    !rk_str_case_eq(name, "Status") &&
	    !rk_str_case_eq(name, "Remote-MTA") &&
	    !rk_str_case_eq(name, "Diagnostic-Code"))
		return;
	if ((rc = open_record(st)) == NULL)
		return;
	if (rk_str_case_eq(name, "Action")) {
		bn_set(&rc->action, v);
		rk_str_lower(rc->action);
		rc->action[strcspn(rc->action, " (;")] = '\0';
	} else if (rk_str_case_eq(name, "Status")) {
		status_field(rc, v);
	} else if (rk_str_case_eq(name, "Remote-MTA")) {
		bn_set(&rc->remote_mta, after_type(v));
	} else if (rc->diagnostic == NULL || *rc->diagnostic == '\0') {
		bn_set(&rc->diagnostic, after_type(v));
	}
}

static void
message_field(struct bn_report *r, const char *name, const char *v)
{
	if (rk_str_case_eq(name, "Reporting-MTA") && r->reporting_mta == NULL)
		bn_set(&r->reporting_mta, after_type(v));
	else if (rk_str_case_eq(name, "X-Postfix-Queue-ID") &&
	    r->orig.queue_id == NULL)
		bn_set(&r->orig.queue_id, v);
	else if (rk_str_case_eq(name, "X-Postfix-Sender") &&
	    r->orig.mail_from == NULL)
		r->orig.mail_from = bn_address(after_type(v));
}

/* "Name: value" with a field name of printable ASCII, no space. */
static bool
field_line(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL || colon == s)
		return false;
	for (const char *p = s; p < colon; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/*
 * Blank lines separate groups: read them all as one header block
 * (rk_mime's reader unfolds continuation lines) by dropping the blank
 * lines and keeping a marker field between groups.  A line that is no
 * field is a continuation the reporting MTA forgot to indent (a
 * multi-line SMTP reply pasted into Diagnostic-Code): fold it, so the
 * fields after it are not lost.
 */
static void
dsn_groups(struct rk_buf *out, const char *body, size_t len)
{
	size_t pos = 0;
	bool blank = false;

	while (pos < len) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - body - pos) : len - pos;
		const char *l = body + pos;

		pos += n + 1;
		if (n == 0) {
			blank = true;
			continue;
		}
		if (blank && out->len > 0)
			rk_buf_puts(out, "X-Bn-Group: 1\n");
		blank = false;
		if (l[0] != ' ' && l[0] != '\t' && !field_line(l, n) &&
		    out->len > 0)
			rk_buf_putc(out, ' ');
		rk_buf_append(out, l, n);
		rk_buf_putc(out, '\n');
	}
	rk_buf_puts(out, "\n");
}

size_t
bn_dsn_parse(struct bn_report *r, const char *body, size_t len)
{
	struct rk_mime_part *p;
	struct dsn_state st = { r, (size_t)-1, false, false, 0 };
	struct rk_buf groups;

	rk_buf_init(&groups);
	dsn_groups(&groups, body, len);
	p = rk_mime_parse(groups.data, groups.len);
	for (size_t i = 0; i < p->nhdrs; i++) {
		const char *n = p->hdrs[i].name, *v = p->hdrs[i].value;

		if (rk_str_case_eq(n, "X-Bn-Group")) {
			if (st.has_final)
				close_record(&st);
			continue;
		}
		message_field(r, n, v);
		record_field(&st, n, v);
	}
	rk_mime_free(p);
	rk_buf_free(&groups);
	return st.added;
}

/* ---------------------------------------------------- diagnostic scan */

static bool
word_start(const char *s, const char *p)
{
	return p == s || !isalnum((unsigned char)p[-1]);
}

/*
 * The first reply code: three digits [245]xx standing alone.  A failure
 * (4xx, 5xx) is preferred to a success earlier in a transcript.
 */
static char *
reply_code_from(const char *d, char first)
{
	for (const char *p = d; *p; p++) {
		if ((*p != '2' && *p != '4' && *p != '5') ||
		    !word_start(d, p) || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) ||
		    (p[3] != ' ' && p[3] != '-' && p[3] != '\0'))
			continue;
		if (p > d &&
		    (p[-1] == '.' || p[-1] == ':' || p[-1] == '#' ||
		        p[-1] == '/' || p[-1] == '-'))
			continue;
		if (p[1] > '5' || (first != 0 && *p < first))
			continue;
		return rk_strndup(p, 3);
	}
	return NULL;
}

static char *
reply_code(const char *d)
{
	char *c = reply_code_from(d, '4');

	return c ? c : reply_code_from(d, 0);
}

static char *
enhanced_code_from(const char *d, char first)
{
	for (const char *p = d; *p; p++) {
		char *c;

		if (*p < first || (*p != '2' && *p != '4' && *p != '5') ||
		    p[1] != '.' ||
		    (p > d && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		if ((c = bn_status_code(p)) != NULL)
			return c;
	}
	return NULL;
}

static char *
enhanced_code(const char *d)
{
	char *c = enhanced_code_from(d, '4');

	return c ? c : enhanced_code_from(d, '2');
}

void
bn_command_scan(struct bn_rcpt *rc, const char *d)
{
	static const char *const cmds[][2] = { { "rcpt to", "RCPT" },
		{ "rcpt_to", "RCPT" }, { "does not like recipient", "RCPT" },
		{ "end of data", "DATA" }, { "data command", "DATA" },
		{ "after data", "DATA" }, { "command data", "DATA" },
		{ ">>> data", "DATA" }, { "mail from", "MAIL" },
		{ "helo", "HELO" }, { "ehlo", "HELO" },
		{ "after initial connection", "CONN" }, { "greeting", "CONN" },
		{ "starttls", "STARTTLS" } };

	char *low;

	if (rc->command != NULL)
		return;
	low = rk_strdup(d);
	rk_str_lower(low);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strstr(low, cmds[i][0])) {
			rc->command = rk_strdup(cmds[i][1]);
			break;
		}
	free(low);
}

/* x.0.0 is a placeholder: a more precise code of the same class wins. */
static bool
vaguer(const char *a, const char *b)
{
	return a[0] == b[0] && strncmp(a + 1, ".0.0", 5) == 0 &&
	    strcmp(b + 1, ".0.0") != 0;
}

void
bn_diag_scan(struct bn_rcpt *rc)
{
	char *code;

	if (rc->diagnostic == NULL)
		return;
	if (rc->replycode == NULL)
		rc->replycode = reply_code(rc->diagnostic);
	code = enhanced_code(rc->diagnostic);
	/*
	 * The remote server's own code says more than the one the reporting
	 * MTA chose for its Status field ("Status: 4.4.7" over "452 4.4.5
	 * Insufficient disk space"), unless it is the vague x.0.0.
	 */
	if (code != NULL &&
	    (rc->status == NULL || vaguer(rc->status, code) ||
	        (strcmp(code + 1, ".0.0") != 0 &&
	            strcmp(rc->status, code) != 0))) {
		free(rc->status);
		rc->status = code;
		code = NULL;
	}
	free(code);
	bn_command_scan(rc, rc->diagnostic);
}
