/* SPDX-License-Identifier: MIT */
/*
 * bn_arf: feedback-loop complaints.  RFC 5965 reports name the
 * complained-about recipients in Original-Rcpt-To (or Removal-Recipient,
 * or only in the attached message's To:); reports without the standard
 * part (Microsoft's JMRP, forwarded spam reports) are recognised by
 * subject and an attached message, whose recipient header names who
 * complained.  Pure; thread-safe.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"

#include "bn.h"

static void
complaint_rcpt(struct bn_report *r, const char *addr, const char *type)
{
	struct bn_rcpt *rc = bn_add_rcpt(r, addr);

	if (rc == NULL)
		return;
	rc->reason = "feedback";
	rc->hard = 0;
	bn_set(&rc->feedback_type, type);
}

/* The original message's recipient, from the headers receivers add. */
static char *
orig_recipient(const struct rk_mime_part *orig)
{
	static const char *const names[] = { "X-HmXmrOriginalRecipient", "To",
		"X-Original-To", "Delivered-To", NULL };

	for (size_t i = 0; orig && names[i]; i++) {
		char *a = bn_address(rk_mime_header(orig, names[i]));

		if (a != NULL)
			return a;
	}
	return NULL;
}

size_t
bn_arf_parse(struct bn_report *r, const struct rk_mime_part *fb,
    const struct rk_mime_part *orig)
{
	struct rk_mime_part *f = rk_mime_parse(fb->body, fb->body_len);
	const char *type = rk_mime_header(f, "Feedback-Type");
	char *t = rk_strdup(type ? type : "abuse"), *a;
	size_t before = r->nrcpts;

	rk_str_lower(t);
	t[strcspn(t, " ;\t")] = '\0';
	bn_set(&r->user_agent, rk_mime_header(f, "User-Agent"));
	bn_set(&r->source_ip, rk_mime_header(f, "Source-IP"));
	bn_set(&r->reporting_mta, rk_mime_header(f, "Reporting-MTA"));
	if ((a = bn_address(rk_mime_header(f, "Original-Mail-From"))))
		r->orig.mail_from = a;
	for (size_t i = 0; i < f->nhdrs; i++) {
		if (!rk_str_case_eq(f->hdrs[i].name, "Original-Rcpt-To"))
			continue;
		if ((a = bn_address(f->hdrs[i].value)) != NULL)
			complaint_rcpt(r, a, t);
		free(a);
	}
	if (r->nrcpts == before &&
	    ((a = bn_address(rk_mime_header(f, "Removal-Recipient"))) ||
	        (a = orig_recipient(orig)))) {
		complaint_rcpt(r, a, t);
		free(a);
	}
	if (r->nrcpts == before)
		complaint_rcpt(r, NULL, t); /* who is unknown, not that */
	free(t);
	rk_mime_free(f);
	return r->nrcpts - before;
}

bool
bn_complaint_text(struct bn_report *r, const struct rk_mime_part *root,
    const char *text, const struct rk_mime_part *orig)
{
	static const char *const subj[] = { "complaint about message",
		"abuse report", "spam report", "fbl report", "feedback report",
		"scomp", NULL };
	const char *s = rk_mime_header(root, "Subject");
	bool yes = false;
	char *a;

	(void)text;
	if (orig == NULL || s == NULL)
		return false;
	for (size_t i = 0; subj[i] && !yes; i++)
		yes = bn_memcasestr(s, strlen(s), subj[i]) != NULL;
	if (!yes && rk_mime_header(orig, "X-HmXmrOriginalRecipient") == NULL)
		return false;
	if ((a = orig_recipient(orig)) == NULL)
		return false;
	complaint_rcpt(r, a, "abuse");
	free(a);
	return true;
}
