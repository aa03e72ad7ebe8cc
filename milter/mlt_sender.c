/* SPDX-License-Identifier: MIT */
/*
 * mlt_sender: sender validation (senderValidation).  The envelope sender
 * is judged at MAIL FROM against the compiled allow/deny rules of the
 * message's state; the From header is compared with it at end of headers
 * when checkFromHeader says so.  The null sender (bounces) is never
 * refused.  A refusal is 550 5.7.1 with a text that names the address and
 * the reason, so the sending application's own log explains it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rk_log.h"
#include "rk_sender.h"

#include "milter.h"

static enum mlt_verdict refuse(struct mlt_msg *msg, const char *reason,
    const char *fmt, ...) RK_PRINTF(3, 4);

static enum mlt_verdict
refuse(struct mlt_msg *msg, const char *reason, const char *fmt, ...)
{
	char q[400];
	va_list ap;

	snprintf(msg->reply.code, sizeof(msg->reply.code), "550");
	snprintf(msg->reply.xcode, sizeof(msg->reply.xcode), "5.7.1");
	va_start(ap, fmt);
	vsnprintf(msg->reply.text, sizeof(msg->reply.text), fmt, ap);
	va_end(ap);
	rk_log_info("queue_id=%s action=reject reason=%s sender=%s",
	    msg->queue_id[0] ? msg->queue_id : "NOQUEUE", reason,
	    rk_log_quote(q, sizeof(q), msg->sender));
	rk_metric_inc(msg->srv->m.sender_rejects, RK_LABELS(reason));
	rk_metric_inc(msg->srv->m.messages, RK_LABELS("rejected"));
	return MLT_REJECT;
}

static enum mlt_verdict
sender_envfrom(struct mlt_msg *msg)
{
	const char *why = NULL;

	if (!msg->st->cfg->senderValidation.enabled || msg->null_sender)
		return MLT_DONE;
	switch (rk_sender_check(msg->st->senders, msg->sender, &why)) {
	case RK_SENDER_FORBIDDEN:
		return refuse(msg, "sender_forbidden",
		    "Sender <%s> is not allowed to send through this relay "
		    "(forbiddenFrom: %s)",
		    msg->sender, why);
	case RK_SENDER_NOT_ALLOWED:
		return refuse(msg, "sender_not_allowed",
		    "Sender <%s> is not allowed to send through this relay "
		    "(%s)",
		    msg->sender, why);
	default:
		return MLT_CONTINUE;
	}
}

static enum mlt_verdict
sender_eoh(struct mlt_msg *msg)
{
	const struct rk_cfg_sender_validation *sv =
	    &msg->st->cfg->senderValidation;
	char from[RK_ADDR_PATH_MAX + 8];
	bool domain_mode = sv->fromHeaderMatch == RK_FROM_MATCH_DOMAIN;

	if (!sv->enabled || !sv->checkFromHeader || msg->null_sender)
		return MLT_DONE;
	/* no or several From: the DKIM check refuses or passes it */
	if (mlt_msg_from_address(msg, from, sizeof(from)) != 0)
		return MLT_DONE;
	if (rk_sender_from_matches(msg->sender, from, domain_mode))
		return MLT_DONE;
	return refuse(msg,
	    domain_mode ? "from_domain_mismatch" : "from_mismatch",
	    "From header <%s> does not match the envelope sender <%s>%s", from,
	    msg->sender, domain_mode ? " (different domain)" : "");
}

int
mlt_msg_from_address(const struct mlt_msg *msg, char *out, size_t n)
{
	const struct mlt_hdr *from = NULL;

	for (size_t i = 0; i < msg->nhdrs; i++)
		if (rk_str_case_eq(msg->hdrs[i].name, "From"))
			from = &msg->hdrs[i];
	if (from == NULL || msg->nfrom != 1)
		return -1;
	return mlt_from_address(from->value, from->vlen, out, n);
}

const struct mlt_check mlt_check_sender = {
	.name = "sender",
	.envfrom = sender_envfrom,
	.eoh = sender_eoh,
};
