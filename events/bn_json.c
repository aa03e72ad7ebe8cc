/* SPDX-License-Identifier: MIT */
/*
 * bn_json: bounces and complaints that arrive as a JSON notification
 * mailed by a sending service (Amazon SES through SNS: notificationType
 * or eventType Bounce, Complaint, Delivery; bare or inside the SNS
 * envelope, whose Message is that JSON as a string).  Parsed with jansson;
 * mail transports may have wrapped the JSON over several lines.  Pure;
 * thread-safe.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rk_mem.h"

#include "bn.h"

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The JSON object in text, with the line wrapping mail added undone. */
static json_t *
load(const char *text, size_t len)
{
	const char *b = memchr(text, '{', len), *e = text + len;
	json_t *j = NULL;

	while (e > text && e[-1] != '}')
		e--;
	if (b == NULL || e <= b)
		return NULL;
	for (int pass = 0; pass < 2 && j == NULL; pass++) {
		struct rk_buf buf;

		rk_buf_init(&buf);
		for (const char *p = b; p < e; p++) {
			if (*p == '\n') {
				if (pass == 1 && p + 1 < e && p[1] == ' ')
					p++;
				continue;
			}
			rk_buf_putc(&buf, *p);
		}
		j = json_loadb(buf.data, buf.len, 0, NULL);
		rk_buf_free(&buf);
	}
	return j;
}

static void
bounce(struct bn_report *r, json_t *b)
{
	json_t *list = json_object_get(b, "bouncedRecipients"), *it;
	size_t i;

	bn_set(&r->reporting_mta, jstr(b, "reportingMTA"));
	json_array_foreach(list, i, it)
	{
		char *a = bn_address(jstr(it, "emailAddress"));
		struct bn_rcpt *rc = a ? bn_add_rcpt(r, a) : NULL;

		free(a);
		if (rc == NULL)
			continue;
		bn_set(&rc->action, jstr(it, "action"));
		bn_set(&rc->diagnostic, jstr(it, "diagnosticCode"));
		if (jstr(it, "status"))
			rc->status = bn_status_code(jstr(it, "status"));
	}
	if (r->nrcpts > 0)
		r->kind = BN_BOUNCE;
}

static void
complaint(struct bn_report *r, json_t *c)
{
	json_t *list = json_object_get(c, "complainedRecipients"), *it;
	const char *type = jstr(c, "complaintFeedbackType");
	size_t i;

	bn_set(&r->user_agent, jstr(c, "userAgent"));
	json_array_foreach(list, i, it)
	{
		char *a = bn_address(jstr(it, "emailAddress"));
		struct bn_rcpt *rc = a ? bn_add_rcpt(r, a) : NULL;

		free(a);
		if (rc == NULL)
			continue;
		rc->reason = "feedback";
		rc->hard = 0;
		bn_set(&rc->feedback_type, type ? type : "abuse");
	}
	if (r->nrcpts > 0)
		r->kind = BN_COMPLAINT;
}

static void
delivery(struct bn_report *r, json_t *d)
{
	json_t *list = json_object_get(d, "recipients"), *it;
	size_t i;

	bn_set(&r->reporting_mta, jstr(d, "reportingMTA"));
	json_array_foreach(list, i, it)
	{
		char *a = json_is_string(it) ? bn_address(json_string_value(it))
		                             : NULL;
		struct bn_rcpt *rc = a ? bn_add_rcpt(r, a) : NULL;

		free(a);
		if (rc == NULL)
			continue;
		bn_set(&rc->action, "delivered");
		bn_set(&rc->diagnostic, jstr(d, "smtpResponse"));
	}
	if (r->nrcpts > 0)
		r->kind = BN_BOUNCE;
}

/*
 * An SNS envelope ("Type": "Notification") carries the notification as
 * a JSON string in "Message": the object inside it.  Takes j.
 */
static json_t *
unwrap(json_t *j)
{
	const char *type = jstr(j, "Type"), *msg = jstr(j, "Message");
	json_t *inner;

	if (type == NULL || strcmp(type, "Notification") != 0 || msg == NULL)
		return j;
	inner = json_loads(msg, 0, NULL);
	if (!json_is_object(inner)) {
		json_decref(inner);
		return j;
	}
	json_decref(j);
	return inner;
}

bool
bn_json_parse(struct bn_report *r, const char *text, size_t len)
{
	json_t *j = load(text, len), *mail;
	const char *type;

	if (j == NULL)
		return false;
	j = unwrap(j);
	type = jstr(j, "notificationType");
	if (type == NULL)
		type = jstr(j, "eventType");
	if (type && strcmp(type, "Bounce") == 0)
		bounce(r, json_object_get(j, "bounce"));
	else if (type && strcmp(type, "Complaint") == 0)
		complaint(r, json_object_get(j, "complaint"));
	else if (type && strcmp(type, "Delivery") == 0)
		delivery(r, json_object_get(j, "delivery"));
	mail = json_object_get(j, "mail");
	if (r->nrcpts > 0 && jstr(mail, "source"))
		r->orig.mail_from = bn_address(jstr(mail, "source"));
	json_decref(j);
	return r->nrcpts > 0;
}
