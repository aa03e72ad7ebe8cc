/* SPDX-License-Identifier: MIT */
/*
 * mlt_verp: VERP return paths (inbound.bounce) and per-message metadata
 * (milter.metadata).
 *
 * At end of message the envelope sender becomes
 * <verpPrefix><token>@<domain> (smfi_chgfrom), the token carrying the
 * client's message id (inbound.clientIdHeader, else Postfix's queue id),
 * so a bounce names its message; rk_verp.h has the format.  The message's
 * metadata goes to Redis under <keyPrefix>msg:<queue id> for the bounce
 * and event processors to correlate, expiring after maxAgeDays.
 *
 * Redis is a help, never a gate: when it is down, mail still flows (a long
 * client id then falls back to the queue id, which always fits), with one
 * log line per minute and a metric.  The null sender keeps <>.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_redis_pool.h"
#include "rk_verp.h"

#include "milter.h"

#define REDIS_LOG_INTERVAL_S 60

static bool
verp_on(const struct mlt_msg *msg)
{
	return msg->st->cfg->inbound.bounce.enabled && !msg->null_sender &&
	    msg->st->cfg->inbound.bounce.hmacSecret != NULL;
}

/* Metadata for relaykit-eventd's events and relaykit-bounce's joins. */
static bool
meta_on(const struct mlt_msg *msg)
{
	return msg->st->cfg->milter.metadata;
}

static enum mlt_verdict
verp_envfrom(struct mlt_msg *msg)
{
	return verp_on(msg) || meta_on(msg) ? MLT_CONTINUE : MLT_DONE;
}

/* The end of message is where smfi_chgfrom is allowed, and where the
   size is known: stay till then. */
static enum mlt_verdict
verp_eoh(struct mlt_msg *msg)
{
	return verp_on(msg) || meta_on(msg) ? MLT_CONTINUE : MLT_DONE;
}

static void
verp_body(struct mlt_msg *msg, const unsigned char *p, size_t n)
{
	(void)p;
	msg->size += n;
}

/* One line a minute while Redis fails, however many threads see it. */
static void
redis_trouble(struct mlt_msg *msg, const char *what, const char *why)
{
	uint64_t now = (uint64_t)time(NULL);
	uint64_t next = atomic_load(&msg->srv->redis_log_next);

	rk_metric_inc(msg->srv->m.redis_errors, RK_LABELS(what));
	if (now >= next &&
	    atomic_compare_exchange_strong(
	        &msg->srv->redis_log_next, &next, now + REDIS_LOG_INTERVAL_S))
		rk_log_warnx("redis: %s failed: %s (mail flows on; logged "
		             "once a minute)",
		    what, why);
}

/* SET/HSET ...: true when Redis answered without an error. */
static bool
redis_ok(struct mlt_msg *msg, struct rk_redis *r, const char *what, size_t argc,
    const char **argv)
{
	struct rk_err err = { "" };
	redisReply *rep = rk_redis_commandv(r, &err, argc, argv, NULL);
	bool ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;

	if (!ok)
		redis_trouble(msg, what, rep ? rep->str : err.msg);
	if (rep != NULL)
		freeReplyObject(rep);
	return ok;
}

static const char *
header(const struct mlt_msg *msg, const char *name)
{
	for (size_t i = 0; i < msg->nhdrs; i++)
		if (rk_str_case_eq(msg->hdrs[i].name, name))
			return msg->hdrs[i].value;
	return NULL;
}

/* A header value without folding or surrounding space, into buf. */
static const char *
trimmed(const char *v, char *buf, size_t n)
{
	size_t o = 0;

	if (v == NULL)
		return NULL;
	for (; *v && o + 1 < n; v++)
		if (*v != '\r' && *v != '\n')
			buf[o++] = *v == '\t' ? ' ' : *v;
	buf[o] = '\0';
	while (o > 0 && buf[o - 1] == ' ')
		buf[--o] = '\0';
	return buf + strspn(buf, " ");
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

/*
 * Where bounces come back: the sender's own domain when the relay owns it
 * (useSenderDomain), else inbound.bounce.domain.  Never a domain outside
 * mail.domains: its bounces would go to someone else.  NULL: no VERP.
 */
static const char *
bounce_domain(const struct mlt_msg *msg)
{
	const struct rk_cfg *cfg = msg->st->cfg;
	const char *at = strrchr(msg->sender, '@');

	if (cfg->inbound.bounce.useSenderDomain && at != NULL &&
	    rk_cfg_domain_find(cfg, at + 1) != NULL)
		return at + 1;
	return cfg->inbound.bounce.domain;
}

static int
encode(struct mlt_msg *msg, struct rk_redis *r, const char *id,
    struct rk_verp_encoded *e)
{
	const struct rk_cfg *cfg = msg->st->cfg;
	const char *domain = bounce_domain(msg);
	struct rk_verp_opts o = { cfg->inbound.bounce.verpPrefix,
		cfg->inbound.bounce.hmacSecret,
		strlen(cfg->inbound.bounce.hmacSecret),
		(uint64_t)cfg->inbound.bounce.maxAgeDays * 86400 };
	struct rk_err err;
	struct rk_buf key;
	char ttl[32];

	if (domain == NULL ||
	    rk_verp_encode(&o, id, strlen(id), domain, time(NULL), e, &err))
		return -1;
	if (e->kind != RK_VERP_REF)
		return 0;
	rk_buf_init(&key);
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)o.max_age_s);
	{
		const char *argv[] = { "SET",
			rk_redis_key(r, &key, "verp:%s", e->ref_hex), id, "EX",
			ttl };
		bool stored = redis_ok(msg, r, "verp_store", 5, argv);

		rk_buf_free(&key);
		if (stored)
			return 0;
	}
	/* the queue id always fits: correlation still works through it */
	return rk_verp_encode(&o, msg->queue_id, strlen(msg->queue_id), domain,
	    time(NULL), e, &err);
}

/* HSET and EXPIRE in one round trip, and never a hash without expiry. */
static const char record_lua[] =
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "return 1\n";

static void
record(struct mlt_msg *msg, struct rk_redis *r, const char *client_id,
    const char *verp)
{
	char subject[512], msgid[512], size[32], now[32], ttl[32];
	struct rk_redis_script script;
	struct rk_buf key;
	struct rk_err err = { "" };
	const char *argv[17];
	const char *keys[1];
	redisReply *rep;
	size_t n = 0;

	rk_redis_script_init(&script, record_lua);
	rk_buf_init(&key);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)msg->size);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(ttl, sizeof(ttl), "%lld",
	    (long long)msg->st->cfg->inbound.bounce.maxAgeDays * 86400);
	keys[0] = rk_redis_key(r, &key, "msg:%s", msg->queue_id);
	argv[n++] = ttl;
	argv[n++] = "client_id", argv[n++] = client_id;
	argv[n++] = "sender", argv[n++] = msg->sender;
	argv[n++] = "rcpt", argv[n++] = msg->rcpts.data ? msg->rcpts.data : "";
	argv[n++] = "subject";
	argv[n++] =
	    or_empty(trimmed(header(msg, "Subject"), subject, sizeof(subject)));
	argv[n++] = "message_id";
	argv[n++] =
	    or_empty(trimmed(header(msg, "Message-ID"), msgid, sizeof(msgid)));
	argv[n++] = "size", argv[n++] = size;
	argv[n++] = "time", argv[n++] = now;
	argv[n++] = "verp", argv[n++] = verp;
	rep = rk_redis_eval(r, &err, &script, 1, keys, n, argv);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR)
		redis_trouble(msg, "metadata", rep ? rep->str : err.msg);
	if (rep != NULL)
		freeReplyObject(rep);
	rk_buf_free(&key);
}

static enum mlt_verdict
verp_eom(struct mlt_msg *msg, SMFICTX *ctx)
{
	const char *hname = msg->st->cfg->inbound.clientIdHeader;
	char idbuf[RK_VERP_ID_MAX + 1],
	    arg[sizeof(((struct rk_verp_encoded *)0)->address) + 2];
	const char *id = trimmed(header(msg, hname), idbuf, sizeof(idbuf));
	struct rk_redis *r;
	struct rk_verp_encoded e;
	char q[300];

	if (!verp_on(msg) && !meta_on(msg))
		return MLT_DONE;
	r = rk_redis_pool_get(msg->srv->redis);
	if (id == NULL || *id == '\0')
		id = msg->queue_id;
	if (!verp_on(msg)) {
		record(msg, r, id, "");
		rk_redis_pool_put(msg->srv->redis, r);
		return MLT_DONE;
	}
	if (bounce_domain(msg) == NULL) {
		rk_log_info("queue_id=%s action=verp_skipped "
		            "reason=foreign_sender_domain sender=%s",
		    msg->queue_id, rk_log_quote(q, sizeof(q), msg->sender));
		rk_metric_inc(msg->srv->m.verp, RK_LABELS("skipped"));
		if (meta_on(msg))
			record(msg, r, id, "");
		rk_redis_pool_put(msg->srv->redis, r);
		return MLT_DONE;
	}
	if (encode(msg, r, id, &e) != 0) {
		rk_log_warnx("queue_id=%s action=verp_skipped reason=encode "
		             "client_id=%s",
		    msg->queue_id, rk_log_quote(q, sizeof(q), id));
		rk_metric_inc(msg->srv->m.verp, RK_LABELS("failed"));
		rk_redis_pool_put(msg->srv->redis, r);
		return MLT_DONE;
	}
	snprintf(arg, sizeof(arg), "<%s>", e.address);
	if (smfi_chgfrom(ctx, arg, NULL) != MI_SUCCESS) {
		rk_redis_pool_put(msg->srv->redis, r);
		rk_metric_inc(msg->srv->m.verp, RK_LABELS("failed"));
		return MLT_TEMPFAIL; /* never send with a half-made sender */
	}
	rk_metric_inc(msg->srv->m.verp, RK_LABELS("rewritten"));
	rk_log_info("queue_id=%s action=verp client_id=%s return_path=%s",
	    msg->queue_id, rk_log_quote(q, sizeof(q), id), e.address);
	if (meta_on(msg))
		record(msg, r, id, e.address);
	rk_redis_pool_put(msg->srv->redis, r);
	return MLT_DONE;
}

const struct mlt_check mlt_check_verp = {
	.name = "verp",
	.envfrom = verp_envfrom,
	.eoh = verp_eoh,
	.body = verp_body,
	.eom = verp_eom,
};
