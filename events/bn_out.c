/* SPDX-License-Identifier: MIT */
/*
 * bn_out: a report as JSON lines for `relaykit-bounce --parse`, one
 * object per recipient record, with the field names of sisimai's corpus
 * where they mean the same (file, recipient, status, reason, hardbounce,
 * feedbacktype).  JSON through jansson.  Pure; thread-safe.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bn.h"
#include "bn_out.h"

static const char *const kind_names[] = { "none", "bounce", "complaint",
	"autoreply" };

static json_t *
str_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	/* jansson refuses invalid UTF-8: keep the field, lose the value */
	return j ? j : json_null();
}

static void
put(json_t *o, const char *key, const char *value)
{
	json_object_set_new(o, key, str_or_null(value));
}

char *
bn_out_record(const char *file, const struct bn_report *r, size_t i)
{
	const struct bn_rcpt *rc = &r->rcpts[i];
	json_t *o = json_object();
	char *s;

	put(o, "file", file);
	put(o, "kind", kind_names[r->kind]);
	put(o, "recipient", rc->recipient);
	put(o, "status", rc->status);
	put(o, "reason", rc->reason);
	json_object_set_new(o, "hardbounce", json_integer(rc->hard > 0));
	put(o, "feedbacktype", rc->feedback_type);
	put(o, "action", rc->action);
	put(o, "replycode", rc->replycode);
	put(o, "command", rc->command);
	put(o, "diagnostic", rc->diagnostic);
	put(o, "remote_mta", rc->remote_mta);
	put(o, "reporting_mta", r->reporting_mta);
	put(o, "orig_recipient", rc->orig_recipient);
	put(o, "message_id", r->orig.message_id);
	put(o, "client_id", r->orig.client_id);
	put(o, "queue_id", r->orig.queue_id);
	put(o, "subject", r->orig.subject);
	put(o, "report_message_id", r->message_id);
	put(o, "user_agent", r->user_agent);
	put(o, "source_ip", r->source_ip);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
