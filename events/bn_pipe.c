/* SPDX-License-Identifier: MIT */
/*
 * bn_pipe: relaykit-bounce as Postfix's pipe(8) transport.  One message
 * on stdin, the envelope in arguments.  It checks the VERP address it
 * came to (rk_verp: HMAC and age), parses the report, joins the original
 * message's metadata (<prefix>msg:<queue id>, written by the milter) and
 * appends one bounce_received or complaint event per recipient record to
 * the event stream.
 *
 * Exit codes are Postfix's instructions: 0 when the message is done with
 * (handled, or refused: a forged, expired or malformed VERP address, or
 * mail that reports nothing, is dropped and counted, never bounced back
 * to a forger), EX_TEMPFAIL (75) when it must stay queued (Redis down,
 * unreadable config, any fault of ours), so nothing is lost.
 *
 * Counting: this process lives for one message, so it has no Prometheus
 * endpoint of its own; each decision is a key=value log line and an
 * HINCRBY on the hash <prefix>stats:bounce, which eventd (a daemon with
 * a metrics port) can export.  Counting is best effort: a failed HINCRBY
 * never turns a delivered event into a retry.
 *
 * Single-threaded; one message per process.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "rk_cfg.h"
#include "rk_event.h"
#include "rk_log.h"
#include "rk_inauth.h"
#include "rk_mem.h"
#include "rk_redis.h"
#include "rk_verp.h"

#include "bn.h"
#include "bn_pipe.h"

struct pipe_ctx {
	const struct bn_pipe_args *a;
	struct rk_cfg *cfg;
	struct rk_redis *redis;
	struct bn_report rep;
	char *verp_id;    /* client id from the VERP token, or NULL */
	bool verp;        /* it came to a VERP address */
	char *meta[6];    /* enum meta_field: from the milter's hash */
	char *queue_id;   /* the queue id whose metadata was found */
	char body_id[65]; /* sha-256 of the message: the id when none */
	struct rk_inauth_result auth; /* inbound.security, when checked */
	struct rk_event_auth ev_auth; /* the same, for the events */
	bool checked;
};

enum meta_field {
	M_CLIENT_ID,
	M_SENDER,
	M_RCPT,
	M_SUBJECT,
	M_MESSAGE_ID,
	M_SIZE,
	M_N
};

static const char *const meta_names[M_N] = { "client_id", "sender", "rcpt",
	"subject", "message_id", "size" };

/* ------------------------------------------------------------ counting */

static void
count(struct pipe_ctx *c, const char *what)
{
	struct rk_buf key;
	struct rk_err err;
	redisReply *rep;

	if (c->redis == NULL)
		return;
	rk_buf_init(&key);
	rep = rk_redis_command(c->redis, &err, "HINCRBY %s %s 1",
	    rk_redis_key(c->redis, &key, "stats:bounce"), what);
	if (rep != NULL)
		freeReplyObject(rep);
	rk_buf_free(&key);
}

/* --------------------------------------------------------------- VERP */

static bool
has_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strlen(s) >= n && rk_mem_case_eq(s, prefix, n);
}

/* The client id behind a RK_VERP_REF token; -1 when Redis failed. */
static int
verp_lookup(struct pipe_ctx *c, const char *ref_hex)
{
	struct rk_buf key;
	struct rk_err err;
	redisReply *rep;

	rk_buf_init(&key);
	rep = rk_redis_command(c->redis, &err, "GET %s",
	    rk_redis_key(c->redis, &key, "verp:%s", ref_hex));
	rk_buf_free(&key);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		rk_log_warnx("action=tempfail reason=redis what=verp_ref "
		             "error=\"%s\"",
		    rep ? rep->str : err.msg);
		if (rep)
			freeReplyObject(rep);
		return -1;
	}
	if (rep->type == REDIS_REPLY_STRING)
		c->verp_id = rk_strdup(rep->str);
	freeReplyObject(rep);
	return 0;
}

/*
 * 1: go on; 0: refused (counted, exit 0); -1: try again later.  Only
 * addresses that start with the VERP prefix are checked: fbl@,
 * postmaster@ and abuse@ carry no token.
 */
static int
verp_check(struct pipe_ctx *c)
{
	const struct rk_cfg_inbound *in = &c->cfg->inbound;
	const char *rcpt = c->a->recipient;
	struct rk_verp_opts o = { in->bounce.verpPrefix, in->bounce.hmacSecret,
		in->bounce.hmacSecret ? strlen(in->bounce.hmacSecret) : 0,
		(uint64_t)in->bounce.maxAgeDays * 86400 };
	struct rk_verp_decoded d;
	enum rk_verp_status st;
	char q[300];

	if (!has_prefix(rcpt, in->bounce.verpPrefix))
		return 1;
	c->verp = true;
	st = o.secret_len
	    ? rk_verp_decode(&o, rcpt, strlen(rcpt), time(NULL), &d)
	    : RK_VERP_BAD_MAC;
	if (st == RK_VERP_OK && d.kind == RK_VERP_INLINE) {
		c->verp_id = rk_strdup(d.id);
		return 1;
	}
	if (st == RK_VERP_OK)
		return verp_lookup(c, d.ref_hex) == 0 ? 1 : -1;
	rk_log_info("action=%s reason=verp_%s recipient=%s sender=%s",
	    in->bounce.requireHmac ? "discarded" : "accepted_unverified",
	    rk_verp_status_name(st), rk_log_quote(q, sizeof(q), rcpt),
	    c->a->sender);
	{
		char what[64];

		snprintf(
		    what, sizeof(what), "verp_%s", rk_verp_status_name(st));
		count(c, what);
	}
	return in->bounce.requireHmac ? 0 : 1;
}

/* ----------------------------------------------------------- metadata */

static int
meta_get(struct pipe_ctx *c, const char *qid)
{
	struct rk_buf key;
	struct rk_err err;
	redisReply *rep;

	rk_buf_init(&key);
	rep = rk_redis_command(c->redis, &err, "HGETALL %s",
	    rk_redis_key(c->redis, &key, "msg:%s", qid));
	rk_buf_free(&key);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		rk_log_warnx("action=tempfail reason=redis what=metadata "
		             "error=\"%s\"",
		    rep ? rep->str : err.msg);
		if (rep)
			freeReplyObject(rep);
		return -1;
	}
	for (size_t i = 0;
	     rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
		for (int f = 0; f < M_N; f++)
			if (strcmp(rep->element[i]->str, meta_names[f]) == 0)
				bn_set(&c->meta[f], rep->element[i + 1]->str);
	if (rep->elements > 0)
		c->queue_id = rk_strdup(qid);
	freeReplyObject(rep);
	return 0;
}

/* The queue ids the report names, ours among them, tried in order. */
static int
meta_join(struct pipe_ctx *c)
{
	const struct bn_orig *o = &c->rep.orig;
	char *ids, *save = NULL;
	int rc = 0;

	if (o->queue_id && meta_get(c, o->queue_id) != 0)
		return -1;
	if (c->queue_id || o->received_ids == NULL)
		return 0;
	ids = rk_strdup(o->received_ids);
	for (char *t = strtok_r(ids, " ", &save); t && !c->queue_id && rc == 0;
	     t = strtok_r(NULL, " ", &save))
		rc = meta_get(c, t);
	free(ids);
	return rc;
}

/* ------------------------------------------------------------- events */

static const char *
first(const char *a, const char *b)
{
	return a && *a ? a : (b && *b ? b : NULL);
}

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
fill_event(struct pipe_ctx *c, const struct bn_rcpt *rc, struct rk_event *ev,
    struct rk_event_report *r, char *id, const char *host)
{
	const struct bn_report *p = &c->rep;
	const char *parts[4] = { first(p->message_id, c->body_id),
		rc->recipient, rk_event_type_name(ev->type), c->a->recipient };

	rk_event_make_id(id, 4, parts);
	ev->id = id;
	ev->time_ms = now_ms();
	ev->host = host;
	ev->source = "bounce";
	ev->queue_id = c->queue_id;
	ev->message_id = first(c->meta[M_MESSAGE_ID], p->orig.message_id);
	ev->client_id =
	    first(c->verp_id, first(c->meta[M_CLIENT_ID], p->orig.client_id));
	ev->from = first(c->meta[M_SENDER], p->orig.mail_from);
	ev->to = rc->recipient;
	ev->orig_to = rc->orig_recipient;
	ev->subject = first(c->meta[M_SUBJECT], p->orig.subject);
	ev->dsn = rc->status;
	ev->status = rc->action;
	ev->response = rc->diagnostic;
	if (c->meta[M_SIZE])
		ev->size = strtoll(c->meta[M_SIZE], NULL, 10);
	r->reason = rc->reason;
	r->hard = rc->hard;
	r->action = rc->action;
	r->remote_mta = first(rc->remote_mta, p->reporting_mta);
	r->diagnostic = rc->diagnostic;
	r->feedback_type = rc->feedback_type;
	r->user_agent = p->user_agent;
	r->verp = c->verp ? c->a->recipient : NULL;
	r->reporter = c->a->sender;
	r->auth = c->checked ? &c->ev_auth : NULL;
	ev->report = r;
}

static int
xadd(struct pipe_ctx *c, const struct rk_event *ev)
{
	char *json = rk_event_json(ev);
	struct rk_buf key;
	struct rk_err err;
	redisReply *rep;
	const char *argv[10];
	char maxlen[24];
	int rc = 0;

	/* trimmed like eventd trims it: a fixed length here would cut a
	   longer configured stream down, or let a shorter one grow */
	snprintf(maxlen, sizeof(maxlen), "%lld",
	    (long long)c->cfg->eventd.streamMaxLen);
	rk_buf_init(&key);
	argv[0] = "XADD";
	argv[1] = rk_redis_key(c->redis, &key, "%s", RK_EVENT_STREAM);
	argv[2] = "MAXLEN";
	argv[3] = "~";
	argv[4] = maxlen;
	argv[5] = "*";
	argv[6] = RK_EVENT_F_TYPE;
	argv[7] = rk_event_type_name(ev->type);
	argv[8] = RK_EVENT_F_JSON;
	argv[9] = json;
	rep = rk_redis_commandv(c->redis, &err, 10, argv, NULL);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		rk_log_warnx(
		    "action=tempfail reason=redis what=xadd error=\"%s\"",
		    rep ? rep->str : err.msg);
		rc = -1;
	}
	if (rep)
		freeReplyObject(rep);
	rk_buf_free(&key);
	free(json);
	return rc;
}

static int
emit(struct pipe_ctx *c, const char *host)
{
	for (size_t i = 0; i < c->rep.nrcpts; i++) {
		const struct bn_rcpt *rc = &c->rep.rcpts[i];
		struct rk_event ev;
		struct rk_event_report r;
		char id[RK_EVENT_ID_LEN], q[300];

		if (rc->reason && strcmp(rc->reason, "delivered") == 0)
			continue; /* a success report is not a bounce */
		rk_event_init(&ev,
		    c->rep.kind == BN_COMPLAINT ? RK_EVT_COMPLAINT
		                                : RK_EVT_BOUNCE_RECEIVED);
		memset(&r, 0, sizeof(r));
		fill_event(c, rc, &ev, &r, id, host);
		if (xadd(c, &ev) != 0)
			return -1;
		rk_log_info("action=%s id=%s recipient=%s reason=%s status=%s "
		            "client_id=%s queue_id=%s",
		    rk_event_type_name(ev.type), id,
		    rk_log_quote(
		        q, sizeof(q), rc->recipient ? rc->recipient : "-"),
		    rc->reason ? rc->reason : "-",
		    rc->status ? rc->status : "-",
		    ev.client_id ? ev.client_id : "-",
		    ev.queue_id ? ev.queue_id : "-");
		count(c, rk_event_type_name(ev.type));
	}
	return 0;
}

/* --------------------------------------------------------------- main */

static void
body_hash(struct pipe_ctx *c, const char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1)
		rk_panic("sha256 failed");
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(c->body_id + 2 * i, 3, "%02x", md[i]);
}

static int
load(struct pipe_ctx *c)
{
	struct rk_cfg_diag diag;
	struct rk_redis_opts o;
	struct rk_err err;

	c->cfg = rk_cfg_load_file(c->a->cfgpath,
	    RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_INBOUND, &diag);
	if (c->cfg == NULL) {
		for (size_t i = 0; i < diag.n; i++)
			rk_log_warnx("config: %s", diag.msgs[i]);
		rk_cfg_diag_free(&diag);
		return -1;
	}
	rk_redis_opts_from_cfg(&o, &c->cfg->redis);
	if ((c->redis = rk_redis_new(&o, &err)) == NULL) {
		rk_log_warnx("redis: %s", err.msg);
		return -1;
	}
	return 0;
}

static const char *
or_null(const char *s)
{
	return s[0] ? s : NULL;
}

/*
 * inbound.security on the report as it arrived: the client and HELO
 * Postfix hands the pipe (-a, -H), the envelope sender, the message.
 * The milter may already have refused a failing one at SMTP time; here
 * the verdicts only go into the events.  A DNS failure is a result
 * (temperror), never a reason to keep the report in the queue.
 */
static void
auth_check(struct pipe_ctx *c, const char *buf, size_t len)
{
	const struct rk_cfg *cfg = c->cfg;
	struct rk_inauth_opts o = { .spf = cfg->inbound.security.spf.enabled,
		.dkim = cfg->inbound.security.dkim.enabled,
		.dmarc = cfg->inbound.security.dmarc.enabled };
	struct rk_inauth_dns *dns;
	struct rk_inauth *a = NULL;
	struct rk_err err;
	const char *ip = c->a->client_address;

	if (!(o.spf || o.dkim || o.dmarc) || ip == NULL || *ip == '\0' ||
	    strcmp(ip, "unknown") == 0)
		return;
	if ((dns = rk_inauth_dns_ldns(cfg->inbound.security.resolver, &err)) ==
	        NULL ||
	    (o.dns = dns, a = rk_inauth_new(&o, &err)) == NULL) {
		rk_log_warnx("action=auth_skipped reason=\"%s\"", err.msg);
		rk_inauth_dns_ldns_free(dns);
		return;
	}
	rk_inauth_check(a, ip, c->a->helo, c->a->sender ? c->a->sender : "",
	    buf, len, &c->auth);
	rk_inauth_free(a);
	rk_inauth_dns_ldns_free(dns);
	c->checked = true;
	c->ev_auth = (struct rk_event_auth){ rk_auth_name(c->auth.spf),
		or_null(c->auth.spf_domain), rk_auth_name(c->auth.dkim),
		or_null(c->auth.dkim_domain), rk_auth_name(c->auth.dmarc),
		or_null(c->auth.dmarc_policy), or_null(c->auth.from_domain) };
	rk_log_info("action=auth client=%s spf=%s dkim=%s dmarc=%s "
	            "from_domain=%s",
	    ip, c->ev_auth.spf, c->ev_auth.dkim, c->ev_auth.dmarc,
	    c->auth.from_domain[0] ? c->auth.from_domain : "-");
}

static int
handle(struct pipe_ctx *c, const char *buf, size_t len)
{
	struct bn_opts o = { c->cfg->inbound.clientIdHeader };
	char host[256];
	int v;

	if ((v = verp_check(c)) <= 0)
		return v;
	bn_parse(buf, len, &o, &c->rep);
	body_hash(c, buf, len);
	if (c->rep.kind == BN_NONE || c->rep.kind == BN_AUTOREPLY) {
		rk_log_info("action=ignored reason=%s recipient=%s sender=%s",
		    c->rep.kind == BN_NONE ? "not_a_report" : "autoreply",
		    c->a->recipient, c->a->sender);
		count(c, c->rep.kind == BN_NONE ? "not_a_report" : "autoreply");
		return 0;
	}
	if (meta_join(c) != 0)
		return -1;
	auth_check(c, buf, len);
	if (c->cfg->mail.hostname != NULL)
		snprintf(host, sizeof(host), "%s", c->cfg->mail.hostname);
	else if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	return emit(c, host);
}

int
bn_pipe_main(const struct bn_pipe_args *a)
{
	struct pipe_ctx c = { .a = a };
	size_t len;
	char *buf;
	int rc;

	rk_log_open("relaykit-bounce",
	    a->foreground ? RK_LOG_STDERR : RK_LOG_SYSLOG, RK_LOG_INFO);
	rk_log_fatal_status(EX_TEMPFAIL);
	signal(SIGPIPE, SIG_IGN); /* hiredis writes to a socket */
	if (load(&c) != 0) {
		rk_cfg_unref(c.cfg);
		return EX_TEMPFAIL;
	}
	if ((buf = bn_read_all(stdin, &len)) == NULL) {
		rk_log_warn("action=tempfail reason=read");
		rc = -1;
	} else {
		rc = handle(&c, buf, len);
	}
	free(buf);
	bn_report_free(&c.rep);
	for (int i = 0; i < M_N; i++)
		free(c.meta[i]);
	free(c.verp_id);
	free(c.queue_id);
	rk_redis_free(c.redis);
	rk_cfg_unref(c.cfg);
	return rc < 0 ? EX_TEMPFAIL : 0;
}
