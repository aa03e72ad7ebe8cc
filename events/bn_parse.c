/* SPDX-License-Identifier: MIT */
/*
 * bn_parse: one message in, one report out.  Finds the parts that carry
 * the report (delivery status, feedback report, the returned original,
 * the human-readable text), hands each to its reader, recovers the
 * original's headers, and classifies every record.  Pure; thread-safe.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"

#include "bn.h"

/* The parts that matter, found in one walk. */
struct shape {
	const struct rk_mime_part *root; /* where the walk starts */
	const struct rk_mime_part *dsn;  /* message/delivery-status */
	const struct rk_mime_part *fb;   /* message/feedback-report */
	const struct rk_mime_part *orig; /* the returned message (its kid) */
	const struct rk_mime_part *text; /* first text/plain outside it */
	const struct rk_mime_part *html; /* first text/html outside it */
};

/* The report's human-readable text, and where its copy of the message
 * starts (bn_text_cut: found once, many readers need it). */
struct rtext {
	char *s;
	size_t len;
	size_t cut;
};

/* ------------------------------------------------------------ helpers */

void
bn_set(char **field, const char *value)
{
	free(*field);
	*field = value ? rk_strdup(value) : NULL;
}

const char *
bn_memcasestr(const char *hay, size_t n, const char *needle)
{
	size_t nl = strlen(needle);
	char lo, up;

	if (nl == 0)
		return hay;
	lo = rk_ascii_lower(needle[0]);
	up = (char)toupper((unsigned char)lo);
	/* scan for the first character, compare only there */
	for (size_t i = 0; i + nl <= n; i++)
		if ((hay[i] == lo || hay[i] == up) &&
		    rk_mem_case_eq(hay + i + 1, needle + 1, nl - 1))
			return hay + i;
	return NULL;
}

char *
bn_oneline(const char *s, size_t n)
{
	char *out = rk_malloc(n + 1);
	size_t o = 0;
	bool space = true; /* drops leading space */

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < ' ' || c == 0x7f || c == ' ') {
			if (!space)
				out[o++] = ' ';
			space = true;
			continue;
		}
		out[o++] = (char)c;
		space = false;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return out;
}

static bool
addr_char(char c)
{
	return isalnum((unsigned char)c) || (unsigned char)c >= 0x80 ||
	    strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

/*
 * The first plausible addr-spec in s: local@domain where the domain has
 * a dot (or is a bracketed literal).  Quoted local parts are not taken.
 */
char *
bn_address(const char *s)
{
	for (const char *at = s ? strchr(s, '@') : NULL; at;
	     at = strchr(at + 1, '@')) {
		const char *b = at, *e = at + 1;

		while (b > s && addr_char(b[-1]))
			b--;
		while (*e && (addr_char(*e) || *e == '[' || *e == ']'))
			e++;
		while (e > at + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		while (b < at && *b == '.')
			b++;
		if (b == at || e == at + 1 ||
		    !memchr(at, '.', (size_t)(e - at)))
			continue;
		{
			char *a = rk_strndup(b, (size_t)(e - b));

			/* "rfc822;" style prefixes glued on: keep the tail */
			return a;
		}
	}
	return NULL;
}

struct bn_rcpt *
bn_find_rcpt(struct bn_report *r, const char *addr)
{
	for (size_t i = 0; i < r->nrcpts; i++)
		if (r->rcpts[i].recipient &&
		    rk_str_case_eq(r->rcpts[i].recipient, addr))
			return &r->rcpts[i];
	return NULL;
}

struct bn_rcpt *
bn_add_rcpt(struct bn_report *r, const char *addr)
{
	struct bn_rcpt *rc;

	if (addr && (rc = bn_find_rcpt(r, addr)) != NULL)
		return rc;
	if (r->nrcpts >= BN_MAX_RCPTS)
		return NULL;
	r->rcpts = rk_reallocarray(r->rcpts, r->nrcpts + 1, sizeof(*r->rcpts));
	rc = &r->rcpts[r->nrcpts++];
	memset(rc, 0, sizeof(*rc));
	rc->recipient = addr ? rk_strdup(addr) : NULL;
	rc->hard = -1;
	return rc;
}

/* ------------------------------------------------------------- shape */

static bool
inside_message(const struct rk_mime_part *p, const struct rk_mime_part *root)
{
	for (const struct rk_mime_part *a = p->parent; a && a != root;
	     a = a->parent)
		if (a->nhdrs > 0 && a->parent != NULL &&
		    (strncmp(a->type, "message/", 8) == 0 ||
		        strcmp(a->type, "text/rfc822-headers") == 0) &&
		    strstr(a->type, "status") == NULL &&
		    strstr(a->type, "feedback") == NULL)
			return true;
	return false;
}

static bool
is_orig(const char *type)
{
	return strcmp(type, "message/rfc822") == 0 ||
	    strcmp(type, "message/global") == 0 ||
	    strcmp(type, "text/rfc822-headers") == 0 ||
	    strcmp(type, "message/rfc822-headers") == 0 ||
	    strcmp(type, "message/global-headers") == 0;
}

static bool
shape_part(const struct rk_mime_part *p, void *arg)
{
	struct shape *sh = arg;

	if (inside_message(p, sh->root))
		return true;
	if (strcmp(p->type, "message/delivery-status") == 0 ||
	    strcmp(p->type, "message/global-delivery-status") == 0) {
		if (sh->dsn == NULL)
			sh->dsn = p;
	} else if (strcmp(p->type, "message/feedback-report") == 0) {
		if (sh->fb == NULL)
			sh->fb = p;
	} else if (is_orig(p->type) && p->parent != NULL) {
		if (sh->orig == NULL && p->nkids > 0)
			sh->orig = p->kids[0];
	} else if (strcmp(p->type, "text/plain") == 0 && p->nkids == 0) {
		if (sh->text == NULL && p->body_len > 0)
			sh->text = p;
	} else if (strcmp(p->type, "text/html") == 0) {
		if (sh->html == NULL)
			sh->html = p;
	}
	return true;
}

/* HTML to text, crudely: tags dropped, <br> and </p> as line breaks. */
static char *
html_text(const char *s, size_t n)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '<') {
			if (s[i] == '&' && n - i >= 4 &&
			    (rk_mem_case_eq(s + i, "&lt;", 4) ||
			        rk_mem_case_eq(s + i, "&gt;", 4))) {
				rk_buf_putc(&b, s[i + 1] == 'l' ? '<' : '>');
				i += 3;
			} else if (s[i] == '&' && n - i >= 6 &&
			    rk_mem_case_eq(s + i, "&nbsp;", 6)) {
				rk_buf_putc(&b, ' ');
				i += 5;
			} else {
				rk_buf_putc(&b, s[i]);
			}
			continue;
		}
		if (n - i > 3 &&
		    (rk_mem_case_eq(s + i, "<br", 3) ||
		        rk_mem_case_eq(s + i, "</p", 3) ||
		        rk_mem_case_eq(s + i, "<p", 2) ||
		        rk_mem_case_eq(s + i, "</div", 5) ||
		        rk_mem_case_eq(s + i, "<tr", 3)))
			rk_buf_putc(&b, '\n');
		while (i < n && s[i] != '>')
			i++;
	}
	return rk_buf_steal(&b);
}

/* The human-readable text: the text part, the HTML one, or the body. */
static char *
report_text(
    const struct rk_mime_part *root, const struct shape *sh, size_t *len)
{
	const struct rk_mime_part *t = sh->text;
	char *s;

	if (t == NULL && sh->html != NULL) {
		s = html_text(sh->html->body, sh->html->body_len);
		*len = strlen(s);
		return s;
	}
	if (t == NULL && root->nkids == 0)
		t = root;
	if (t == NULL) {
		*len = 0;
		return rk_strdup("");
	}
	*len = t->body_len;
	return rk_memdup0(t->body, t->body_len);
}

/* ------------------------------------------------- original headers */

static char *
decoded(const struct rk_mime_part *p, const char *name)
{
	const char *v = rk_mime_header(p, name);

	return v ? rk_mime_decode_words(v) : NULL;
}

/* "(Postfix) with ESMTP id 4AbC123" in Received: lines. */
static void
received_ids(struct bn_orig *o, const struct rk_mime_part *p)
{
	struct rk_buf b;

	rk_buf_init(&b);
	for (size_t i = 0; i < p->nhdrs && i < 200; i++) {
		const char *v = p->hdrs[i].value, *id;
		size_t l;

		if (!rk_str_case_eq(p->hdrs[i].name, "Received") ||
		    strstr(v, "(Postfix)") == NULL ||
		    (id = strstr(v, " id ")) == NULL)
			continue;
		id += 4;
		l = strspn(id,
		    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz");
		if (l < 6 || l > 32)
			continue;
		if (b.len)
			rk_buf_putc(&b, ' ');
		rk_buf_append(&b, id, l);
	}
	if (b.len)
		o->received_ids = rk_buf_steal(&b);
	rk_buf_free(&b);
}

static void
take_orig(struct bn_report *r, const struct rk_mime_part *p,
    const struct bn_opts *opts)
{
	struct bn_orig *o = &r->orig;
	const char *q;

	if (p == NULL || p->nhdrs == 0)
		return;
	if (o->message_id == NULL)
		o->message_id = decoded(p, "Message-ID");
	if (o->client_id == NULL && opts && opts->client_id_header)
		o->client_id = decoded(p, opts->client_id_header);
	if (o->from == NULL)
		o->from = decoded(p, "From");
	if (o->to == NULL)
		o->to = decoded(p, "To");
	if (o->subject == NULL)
		o->subject = decoded(p, "Subject");
	if (o->queue_id == NULL &&
	    (q = rk_mime_header(p, "X-Postfix-Queue-ID")))
		bn_set(&o->queue_id, q);
	if (o->received_ids == NULL)
		received_ids(o, p);
}

/* An original inlined in the text after a marker line (Exim, qmail). */
static void
take_inline_orig(
    struct bn_report *r, const struct rtext *t, const struct bn_opts *opts)
{
	const char *text = t->s, *s = t->s + t->cut;
	size_t len = t->len;
	struct rk_mime_part *p;

	if (t->cut >= len)
		return;
	/* skip the marker line and blank lines after it */
	while (s < text + len && *s != '\n')
		s++;
	while (s < text + len && (*s == '\n' || *s == ' '))
		s++;
	p = rk_mime_parse(s, (size_t)(text + len - s));
	take_orig(r, p, opts);
	rk_mime_free(p);
}

/* ------------------------------------------------------ classification */

static bool
looks_like_autoreply(const struct rk_mime_part *root, bool strong)
{
	static const char *const subj[] = { "auto reply", "autoreply",
		"auto-reply", "automatic reply", "out of office",
		"out of the office", "vacation", "away from", "i am away",
		"i'm away", "abwesenheit", "absence", "autoresponse",
		"auto response",
		"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad"
		"\x94", /* jidou outou */
		NULL };
	const char *as = rk_mime_header(root, "Auto-Submitted");
	char *s = decoded(root, "Subject");
	bool yes = false;

	if (!strong && as && bn_memcasestr(as, strlen(as), "auto-replied"))
		yes = true;
	if (rk_mime_header(root, "X-Autoreply") ||
	    rk_mime_header(root, "X-Autorespond") ||
	    rk_mime_header(root, "X-Apple-Action"))
		yes = true;
	for (size_t i = 0; s && !yes && subj[i]; i++)
		if (bn_memcasestr(s, strlen(s), subj[i]))
			yes = true;
	free(s);
	return yes;
}

/* A reply code after words of failure, early in the text. */
static bool
text_says_bounce(const char *text, size_t len)
{
	static const char *const words[] = { "error", "fail", "undeliver",
		"could not be delivered", "returned", "rejected", NULL };
	size_t n = len > 2048 ? 2048 : len;
	bool word = false;

	for (size_t i = 0; words[i] && !word; i++)
		word = bn_memcasestr(text, n, words[i]) != NULL;
	if (!word)
		return false;
	for (size_t i = 0; i + 4 < n; i++)
		if ((text[i] == '4' || text[i] == '5') &&
		    (i == 0 || !isalnum((unsigned char)text[i - 1])) &&
		    isdigit((unsigned char)text[i + 1]) &&
		    isdigit((unsigned char)text[i + 2]) &&
		    (text[i + 3] == ' ' || text[i + 3] == '-'))
			return true;
	return false;
}

/* The report's sender or subject says "delivery failure". */
static bool
looks_like_bounce(const struct rk_mime_part *root, bool null_sender)
{
	static const char *const from[] = { "mailer-daemon", "postmaster",
		"mail delivery", "mail-daemon", "maildelivery", "mdaemon",
		"delivery subsystem", "mailer_daemon", "mail administrator",
		"no-reply@", "noreply@", "bounce", NULL };
	static const char *const subj[] = { "undeliver", "undelivered",
		"delivery status", "failure notice", "returned mail",
		"delivery fail", "mail delivery", "delivery notification",
		"could not be delivered", "not delivered", "delivery problem",
		"nondeliverable", "non-deliverable", "non remis", "error",
		"failed", "failure", "rejected", "warning", "returned",
		"delayed", "unable to deliver", "delivery report",
		"message blocked", "ndn", "permanent", "bounce", NULL };
	const char *f = rk_mime_header(root, "From");
	const char *rp = rk_mime_header(root, "Return-Path");
	char *s = decoded(root, "Subject");
	bool yes = null_sender && rp && strstr(rp, "<>") != NULL;

	for (size_t i = 0; f && !yes && from[i]; i++)
		yes = bn_memcasestr(f, strlen(f), from[i]) != NULL;
	for (size_t i = 0; s && !yes && subj[i]; i++)
		yes = bn_memcasestr(s, strlen(s), subj[i]) != NULL;
	free(s);
	return yes;
}

static void
autoreply(struct bn_report *r, const struct rk_mime_part *root)
{
	char *addr = bn_address(rk_mime_header(root, "From"));
	struct bn_rcpt *rc;

	if (addr == NULL)
		return;
	r->kind = BN_AUTOREPLY;
	rc = bn_add_rcpt(r, addr);
	rc->reason = "vacation";
	rc->hard = 0;
	free(addr);
}

static void
rcpt_free(struct bn_rcpt *rc)
{
	free(rc->recipient);
	free(rc->orig_recipient);
	free(rc->status);
	free(rc->action);
	free(rc->diagnostic);
	free(rc->remote_mta);
	free(rc->replycode);
	free(rc->command);
	free(rc->feedback_type);
}

/* Drops records without an address when others have one. */
static void
prune(struct bn_report *r)
{
	size_t o = 0, named = 0;

	for (size_t i = 0; i < r->nrcpts; i++) {
		struct bn_rcpt *rc = &r->rcpts[i];

		if (rc->recipient == NULL && rc->orig_recipient != NULL)
			rc->recipient = rk_strdup(rc->orig_recipient);
		named += rc->recipient != NULL;
	}
	for (size_t i = 0; i < r->nrcpts; i++) {
		struct bn_rcpt *rc = &r->rcpts[i];

		if (rc->recipient == NULL && named > 0) {
			rcpt_free(rc);
			continue;
		}
		r->rcpts[o++] = *rc;
	}
	r->nrcpts = o;
}

/* "Delivery Status Notification (Delay)": a warning, not a failure. */
static bool
subject_says_delay(const char *subject)
{
	return subject &&
	    (bn_memcasestr(subject, strlen(subject), "delay") ||
	        bn_memcasestr(
	            subject, strlen(subject), "cannot send message for"));
}

static void
classify_all(struct bn_report *r, const char *text, size_t len)
{
	char *words = bn_oneline(text, len > 4096 ? 4096 : len);
	struct bn_context ctx = { words, NULL, false };
	bool delay = subject_says_delay(r->subject);

	for (size_t i = 0; i < r->nrcpts; i++) {
		struct bn_rcpt *rc = &r->rcpts[i];

		if (rc->reason != NULL)
			continue;
		if (delay && rc->action == NULL)
			rc->action = rk_strdup("delayed");
		bn_diag_scan(rc);
		bn_text_command(rc, text, len);
		bn_classify(rc, &ctx);
	}
	free(words);
}

/*
 * Final-Recipient may name a file or a pipe an alias led to ("rfc822;
 * /var/mail/x"): the address that failed is then in X-Failed-Recipients.
 * Unnamed records take its addresses that no record has, in order.
 */
static void
name_from_listed(struct bn_report *r, const struct rk_mime_part *root)
{
	const char *v = rk_mime_header(root, "X-Failed-Recipients");
	char *copy, *save = NULL;
	size_t i = 0;

	if (v == NULL)
		return;
	copy = rk_strdup(v);
	for (char *t = strtok_r(copy, ", ", &save); t;
	     t = strtok_r(NULL, ", ", &save)) {
		char *a = bn_address(t);

		while (i < r->nrcpts &&
		    (r->rcpts[i].recipient != NULL ||
		        r->rcpts[i].orig_recipient != NULL))
			i++;
		if (a != NULL && i < r->nrcpts && bn_find_rcpt(r, a) == NULL)
			r->rcpts[i].recipient = rk_strdup(a);
		free(a);
	}
	free(copy);
}

/* X-Failed-Recipients (Exim, Google): the list, when there is one. */
static size_t
failed_recipients(struct bn_report *r, const struct rk_mime_part *root)
{
	const char *v = rk_mime_header(root, "X-Failed-Recipients");
	char *copy, *save = NULL;

	if (v == NULL)
		return 0;
	copy = rk_strdup(v);
	for (char *t = strtok_r(copy, ", ", &save); t;
	     t = strtok_r(NULL, ", ", &save)) {
		char *a = bn_address(t);

		if (a != NULL)
			bn_add_rcpt(r, a);
		free(a);
	}
	free(copy);
	return r->nrcpts;
}

static void
drop_rcpt(struct bn_report *r, size_t i)
{
	rcpt_free(&r->rcpts[i]);
	memmove(&r->rcpts[i], &r->rcpts[i + 1],
	    (r->nrcpts - i - 1) * sizeof(*r->rcpts));
	r->nrcpts--;
}

/* Same local part, any domain: "kijitora@a.example" and "kijitora@b". */
static bool
same_mailbox(const char *a, const char *b)
{
	const char *ea = strrchr(a, '@'), *eb = strrchr(b, '@');

	return ea && eb && ea - a == eb - b &&
	    rk_mem_case_eq(a, b, (size_t)(ea - a));
}

/*
 * The first n records come from X-Failed-Recipients, the others from
 * the text.  The header is the list; the text only adds diagnostics, so
 * what the text alone named (a sender, a contact address) goes.  Except
 * where a relay rewrote the header's domain: a text record for the same
 * mailbox that the header names without any words about it is the
 * address the remote server refused, and takes the listed one's place.
 */
static void
reconcile_listed(struct bn_report *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bn_rcpt *l = &r->rcpts[i];

		for (size_t j = n; l->diagnostic == NULL && j < r->nrcpts;
		     j++) {
			struct bn_rcpt *t = &r->rcpts[j], swap;

			if (t->diagnostic == NULL ||
			    !same_mailbox(l->recipient, t->recipient))
				continue;
			swap = *l;
			*l = *t;
			*t = swap;
		}
	}
	while (r->nrcpts > n)
		drop_rcpt(r, r->nrcpts - 1);
}

/* The original's recipient, when the text names none (one only). */
static void
orig_to(struct bn_report *r, const struct shape *sh, const struct rtext *t)
{
	const char *to = sh->orig ? rk_mime_header(sh->orig, "To") : NULL;
	const char *text = t->s;
	size_t tlen = t->len, cut = t->cut;
	char *a = NULL;

	if (to == NULL) {
		struct rk_mime_part *p =
		    cut < tlen ? rk_mime_parse(text + cut, tlen - cut) : NULL;

		/* the marker line itself is not a header: look past it */
		if (p && rk_mime_header(p, "To") == NULL && p->body_len) {
			const char *nl = memchr(text + cut, '\n', tlen - cut);

			rk_mime_free(p);
			p = nl ? rk_mime_parse(
			             nl + 1, (size_t)(text + tlen - nl - 1))
			       : NULL;
		}
		if (p && (to = rk_mime_header(p, "To")) != NULL &&
		    strchr(to, ',') == NULL)
			a = bn_address(to);
		rk_mime_free(p);
	} else if (strchr(to, ',') == NULL) {
		a = bn_address(to);
	}
	if (a != NULL)
		bn_add_rcpt(r, a);
	free(a);
}

/* Bounces without a delivery-status part: the text says it all. */
static size_t
free_text(struct bn_report *r, const struct rk_mime_part *root,
    const struct shape *sh, const struct rtext *t)
{
	size_t listed = failed_recipients(r, root), cut = t->cut;

	bn_text_parse(r, t->s, cut);
	if (listed > 0)
		reconcile_listed(r, listed);
	if (r->nrcpts == 0)
		orig_to(r, sh, t);
	for (size_t i = 0; i < r->nrcpts; i++)
		if (r->rcpts[i].diagnostic == NULL)
			r->rcpts[i].diagnostic =
			    bn_oneline(t->s, cut > 2000 ? 2000 : cut);
	return r->nrcpts;
}

/* Sent by a mailing list manager (fml, ezmlm, Mailman, Sympa...). */
static bool
from_list_manager(const struct rk_mime_part *root)
{
	static const char *const hdrs[] = { "X-MLServer", "X-ML-Name",
		"Mailing-List", "List-Id", "List-Post", "X-Mailman-Version",
		NULL };
	static const char *const from[] = { "-admin@", "-owner@", "-request@",
		"owner-", NULL };
	const char *f = rk_mime_header(root, "From");

	for (size_t i = 0; hdrs[i]; i++)
		if (rk_mime_header(root, hdrs[i]) != NULL)
			return true;
	for (size_t i = 0; f && from[i]; i++)
		if (bn_memcasestr(f, strlen(f), from[i]))
			return true;
	return false;
}

/*
 * A list that refuses a post from a non-member: the list's address
 * failed, for who the sender is ("rejected").  The address is the one
 * on the line that says so.
 */
static bool
list_refusal(struct bn_report *r, const struct rk_mime_part *root,
    const char *text, size_t len)
{
	static const char *const says[] = { "not a member", "not member",
		"members only", "only members", "non-member",
		"not allowed to post", NULL };
	const char *hit = NULL, *b, *e;
	struct bn_rcpt *rc;
	char *line, *a;

	if (!from_list_manager(root))
		return false;
	/* the notice says so up front: a post that mentions it is no notice */
	for (size_t i = 0; says[i] && hit == NULL; i++)
		hit = bn_memcasestr(text, len > 1024 ? 1024 : len, says[i]);
	if (hit == NULL)
		return false;
	for (b = hit; b > text && b[-1] != '\n'; b--)
		;
	e = memchr(hit, '\n', len - (size_t)(hit - text));
	line = rk_strndup(b, e ? (size_t)(e - b) : len - (size_t)(b - text));
	a = bn_address(line);
	if (a == NULL || (rc = bn_add_rcpt(r, a)) == NULL) {
		free(line);
		free(a);
		return false;
	}
	rc->reason = "rejected";
	rc->hard = 0;
	rc->diagnostic = bn_oneline(line, strlen(line));
	free(line);
	free(a);
	return true;
}

static void
report_headers(struct bn_report *r, const struct rk_mime_part *root)
{
	/* a forwarded bounce is read again: its outer headers stay */
	if (r->message_id == NULL)
		r->message_id = decoded(root, "Message-ID");
	if (r->from == NULL)
		r->from = decoded(root, "From");
	if (r->subject == NULL)
		r->subject = decoded(root, "Subject");
}

static void
parse_tree(struct bn_report *r, const struct rk_mime_part *root,
    const struct bn_opts *opts, int depth)
{
	struct shape sh = { .root = root };
	struct rtext t;

	rk_mime_walk(root, shape_part, &sh);
	t.s = report_text(root, &sh, &t.len);
	t.cut = bn_text_cut(t.s, t.len);
	report_headers(r, root);
	if (sh.fb != NULL && bn_arf_parse(r, sh.fb, sh.orig) > 0) {
		r->kind = BN_COMPLAINT;
	} else if (bn_complaint_text(r, root, t.s, sh.orig)) {
		r->kind = BN_COMPLAINT;
	} else if (sh.dsn != NULL &&
	    bn_dsn_parse(r, sh.dsn->body, sh.dsn->body_len) > 0) {
		r->kind = BN_BOUNCE;
		name_from_listed(r, root);
		bn_text_enrich(r, t.s, t.cut);
	} else if (sh.dsn == NULL && looks_like_autoreply(root, true) &&
	    !looks_like_bounce(root, false)) {
		autoreply(r, root);
	} else if (memchr(t.s, '{', t.len) && bn_json_parse(r, t.s, t.len)) {
		/* kind set by the notification's type */
	} else if (depth == 0 && sh.dsn == NULL && sh.orig != NULL &&
	    strcmp(sh.orig->type, "multipart/report") == 0) {
		/* a bounce forwarded as an attachment: read the bounce */
		free(t.s);
		parse_tree(r, sh.orig, opts, depth + 1);
		return;
	} else if ((looks_like_bounce(root, true) || sh.dsn != NULL ||
	               text_says_bounce(t.s, t.cut)) &&
	    free_text(r, root, &sh, &t) > 0) {
		r->kind = BN_BOUNCE;
	} else if (list_refusal(r, root, t.s, t.cut)) {
		r->kind = BN_BOUNCE;
	} else if (looks_like_autoreply(root, false)) {
		autoreply(r, root);
	}
	take_orig(r, sh.orig, opts);
	if (sh.orig == NULL)
		take_inline_orig(r, &t, opts);
	prune(r);
	if (r->kind == BN_BOUNCE)
		classify_all(r, t.s, t.cut);
	free(t.s);
}

int
bn_parse(const char *buf, size_t len, const struct bn_opts *opts,
    struct bn_report *out)
{
	struct rk_mime_part *root;

	memset(out, 0, sizeof(*out));
	root = rk_mime_parse(buf, len > BN_MAX_INPUT ? BN_MAX_INPUT : len);
	parse_tree(out, root, opts, 0);
	if (out->nrcpts == 0)
		out->kind = BN_NONE;
	rk_mime_free(root);
	return 0;
}

static void
orig_free(struct bn_orig *o)
{
	free(o->message_id);
	free(o->client_id);
	free(o->queue_id);
	free(o->received_ids);
	free(o->from);
	free(o->to);
	free(o->subject);
	free(o->mail_from);
}

void
bn_report_free(struct bn_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrcpts; i++)
		rcpt_free(&r->rcpts[i]);
	free(r->rcpts);
	free(r->message_id);
	free(r->from);
	free(r->subject);
	free(r->reporting_mta);
	free(r->user_agent);
	free(r->source_ip);
	orig_free(&r->orig);
	memset(r, 0, sizeof(*r));
}
