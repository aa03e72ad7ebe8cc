/* SPDX-License-Identifier: MIT */
/*
 * pd_policy: what relaykit-policyd answers to one request.
 *
 * 1. auth.constrainSender (MAIL and RCPT states): a client logged in with
 *    SASL may use only the envelope senders its login owns; REJECT 5.7.1.
 * 2. rateLimit.rules (RCPT state only): the rules that apply are checked
 *    and charged by one Redis script; the first exceeded rule decides.
 *    Per-recipient rules count every RCPT.  Per-message rules count the
 *    first admitted RCPT of each transaction (Postfix's "instance"
 *    attribute) once: RCPT, not END-OF-MESSAGE, so an over-limit message
 *    is deferred before its data crosses the network and DEFER_IF_PERMIT
 *    applies to the recipients, as Postfix defines it.
 * 3. Everything else: DUNNO, so Postfix's own restrictions decide.
 *
 * Redis failing (down, timeout, error): rateLimit.failMode open answers
 * DUNNO, closed defers with 4.3.0; both counted, logged once a minute.
 *
 * Ownership: a decision holds a state reference until it answers; the
 * request's slices are read only during pd_decide.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "rk_addr.h"
#include "rk_mem.h"
#include "rk_parse.h"
#include "policyd.h"
#include "pd_ratelimit.lua.h"

const char pd_ratelimit_lua[] = PD_RATELIMIT_LUA;

#define PD_MAX_RULES 24
#define VALUE_MAX    512

static const char *const key_names[] = {
	[RK_RL_SASL_USERNAME] = "saslUsername",
	[RK_RL_SENDER] = "sender",
	[RK_RL_SENDER_DOMAIN] = "senderDomain",
	[RK_RL_CLIENT_ADDRESS] = "clientAddress",
	[RK_RL_RECIPIENT_DOMAIN] = "recipientDomain",
};

/* ------------------------------------------------------------- state */

struct pd_state *
pd_state_new(struct rk_cfg *cfg, struct rk_err *err)
{
	struct pd_state *st = rk_calloc(1, sizeof(*st));
	const struct rk_cfg_rate_limit *rl = &cfg->rateLimit;

	st->cfg = cfg;
	st->refs = 1;
	if (rl->nrules > PD_MAX_RULES) {
		rk_err_set(
		    err, "rateLimit.rules: at most %d rules", PD_MAX_RULES);
		st->cfg = NULL;
		pd_state_unref(st);
		return NULL;
	}
	st->rules = rk_calloc(rl->nrules ? rl->nrules : 1, sizeof(*st->rules));
	st->nrules = rl->nrules;
	for (size_t i = 0; i < rl->nrules; i++) {
		struct pd_rule *r = &st->rules[i];

		r->cfg = &rl->rules[i];
		rk_rate_format(&r->cfg->rate, r->rate, sizeof(r->rate));
		if (r->cfg->key != RK_RL_CLIENT_ADDRESS || r->cfg->nmatch == 0)
			continue;
		r->nets = rk_cidr_set_new();
		for (size_t j = 0; j < r->cfg->nmatch; j++) {
			struct rk_cidr c;
			struct rk_err e;

			if (rk_cidr_parse(r->cfg->match[j], &c, &e) != 0) {
				rk_err_set(err,
				    "rateLimit.rules[%zu].match: %s: %s", i,
				    r->cfg->match[j], e.msg);
				st->cfg = NULL; /* the caller keeps it */
				pd_state_unref(st);
				return NULL;
			}
			rk_cidr_set_add(r->nets, &c);
		}
	}
	st->proxy_nets = rk_cidr_set_new();
	for (size_t i = 0; i < cfg->mail.nproxyTrustedNetworks; i++)
		rk_cidr_set_add(
		    st->proxy_nets, &cfg->mail.proxyTrustedNetworks[i]);
	if (pd_users_load(st, err) != 0) {
		st->cfg = NULL;
		pd_state_unref(st);
		return NULL;
	}
	return st;
}

struct pd_state *
pd_state_ref(struct pd_state *st)
{
	st->refs++;
	return st;
}

void
pd_state_unref(struct pd_state *st)
{
	if (st == NULL || --st->refs > 0)
		return;
	for (size_t i = 0; i < st->nrules; i++)
		rk_cidr_set_free(st->rules[i].nets);
	free(st->rules);
	rk_cidr_set_free(st->proxy_nets);
	pd_users_free(st);
	rk_cfg_unref(st->cfg);
	free(st);
}

/* --------------------------------------------------------- the request */

/* s as a lower-cased C string in buf; false when it does not fit. */
static bool
slice_lower(struct pd_slice s, char *buf, size_t n)
{
	if (s.p == NULL || s.len >= n)
		return false;
	for (size_t i = 0; i < s.len; i++)
		buf[i] = rk_ascii_lower(s.p[i]);
	buf[s.len] = '\0';
	return true;
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

static bool
rule_matches(const struct pd_rule *r, const char *value)
{
	if (r->nets != NULL)
		return rk_cidr_set_match_str(r->nets, value);
	if (r->cfg->nmatch == 0)
		return true;
	for (size_t i = 0; i < r->cfg->nmatch; i++)
		if (rk_str_case_eq(r->cfg->match[i], value))
			return true;
	return false;
}

/* The rule's counter value for this request (lower-cased), or NULL when
   the rule does not apply. */
static const char *
rule_value(
    const struct pd_rule *r, const struct pd_request *req, char *buf, size_t n)
{
	const char *v = buf;

	switch (r->cfg->key) {
	case RK_RL_SASL_USERNAME:
		if (!slice_lower(req->attr[PD_A_SASL_USERNAME], buf, n) ||
		    buf[0] == '\0')
			return NULL;
		break;
	case RK_RL_SENDER:
		if (!slice_lower(req->attr[PD_A_SENDER], buf, n))
			return NULL;
		if (buf[0] == '\0')
			v = "<>";
		break;
	case RK_RL_SENDER_DOMAIN:
		if (!slice_lower(req->attr[PD_A_SENDER], buf, n) ||
		    (v = domain_of(buf)) == NULL)
			return NULL;
		break;
	case RK_RL_CLIENT_ADDRESS:
		if (!slice_lower(req->attr[PD_A_CLIENT_ADDRESS], buf, n) ||
		    buf[0] == '\0')
			return NULL;
		break;
	case RK_RL_RECIPIENT_DOMAIN:
		if (!slice_lower(req->attr[PD_A_RECIPIENT], buf, n) ||
		    (v = domain_of(buf)) == NULL)
			return NULL;
		break;
	default:
		return NULL;
	}
	return rule_matches(r, v) ? v : NULL;
}

static uint64_t
seen_hash(size_t rule, const char *value)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)rule;

	for (const char *p = value; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static bool
txn_seen(const struct pd_txn *txn, uint64_t h)
{
	for (size_t i = 0; i < txn->nseen; i++)
		if (txn->seen[i] == h)
			return true;
	return false;
}

/* A new transaction (Postfix's instance changed) forgets what was
   counted. */
static void
txn_update(struct pd_txn *txn, const struct pd_request *req)
{
	char inst[sizeof(txn->instance)];

	if (!slice_lower(req->attr[PD_A_INSTANCE], inst, sizeof(inst)))
		inst[0] = '\0';
	if (strcmp(inst, txn->instance) == 0 && inst[0] != '\0')
		return;
	snprintf(txn->instance, sizeof(txn->instance), "%s", inst);
	txn->nseen = 0;
}

/* The tail of a rate-limited line: how many like it were not logged. */
static const char *
suppressed(unsigned long n)
{
	static char buf[64];

	if (n == 0)
		return "";
	snprintf(buf, sizeof(buf), " (%lu more not logged)", n);
	return buf;
}

/* ---------------------------------------------------- constrainSender */

static bool
user_owns(const struct rk_cfg_user *u, const char *login, const char *sender)
{
	const char *dom = domain_of(sender);

	if (strchr(login, '@') != NULL && rk_str_case_eq(login, sender))
		return true;
	for (size_t i = 0; u != NULL && i < u->nallowedFrom; i++) {
		const char *a = u->allowedFrom[i];

		if (a[0] == '@') {
			if (dom != NULL && rk_str_case_eq(a + 1, dom))
				return true;
		} else if (rk_str_case_eq(a, sender))
			return true;
	}
	return false;
}

/* 0, or -1 with the REJECT line in out. */
static int
check_sender(
    const struct rk_cfg *cfg, const struct pd_request *req, char *out, size_t n)
{
	char login[VALUE_MAX], sender[VALUE_MAX];
	const struct rk_cfg_user *u = NULL;

	if (!cfg->auth.constrainSender ||
	    !slice_lower(req->attr[PD_A_SASL_USERNAME], login, sizeof(login)) ||
	    login[0] == '\0')
		return 0;
	if (!slice_lower(req->attr[PD_A_SENDER], sender, sizeof(sender)))
		sender[0] = '\0';
	for (size_t i = 0; i < cfg->auth.nusers; i++)
		if (rk_str_case_eq(cfg->auth.users[i].name, login))
			u = &cfg->auth.users[i];
	if (sender[0] != '\0' && user_owns(u, login, sender))
		return 0;
	snprintf(out, n,
	    "REJECT 5.7.1 Sender address <%s> is not owned by login %s", sender,
	    login);
	return -1;
}

/* ----------------------------------------------------------- decisions */

struct pd_decision {
	struct pd_ctx *ctx;
	struct pd_state *st;
	struct pd_txn *txn;
	pd_answer_fn *answer;
	void *arg;
	struct pd_redis_op *op;
	char queue_id[32];
	size_t nkeys;
	size_t rule[PD_MAX_RULES];   /* script key i -> rule index */
	uint64_t seen[PD_MAX_RULES]; /* per-message hashes, 0 = per rcpt */
	uint64_t start_us;
};

static void
finish(struct pd_decision *d, const char *action, const char *state)
{
	const char *verb = strncmp(action, "DUNNO", 5) == 0 ? "dunno"
	    : strncmp(action, "REJECT", 6) == 0             ? "reject"
	                                                    : "defer";

	rk_metric_inc(d->ctx->metrics.requests, RK_LABELS(state, verb));
	rk_metric_observe(d->ctx->metrics.duration,
	    (double)(pd_now_us() - d->start_us) / 1e6, NULL);
	d->answer(d->arg, action);
}

static void
decision_free(struct pd_decision *d)
{
	pd_state_unref(d->st);
	free(d);
}

static void
fail_mode(struct pd_decision *d, const char *why)
{
	struct pd_ctx *ctx = d->ctx;
	bool open = d->st->cfg->rateLimit.failMode == RK_FAIL_OPEN;
	unsigned long suppressed = 0;

	rk_metric_inc(
	    ctx->metrics.fail_mode, RK_LABELS(open ? "open" : "closed"));
	if (rk_ratelimit_allow(&ctx->fail_log, pd_now_ms(), &suppressed))
		rk_log_warnx("rate limits unavailable: redis %s; "
		             "failMode=%s action=%s suppressed=%lu",
		    why, open ? "open" : "closed", open ? "dunno" : "defer",
		    suppressed);
	finish(d,
	    open ? "DUNNO"
	         : "DEFER_IF_PERMIT 4.3.0 Rate limit service unavailable, try "
	           "again later",
	    "RCPT");
}

static void
over_limit(struct pd_decision *d, size_t ki, long long retry_ms)
{
	const struct pd_rule *r = &d->st->rules[d->rule[ki]];
	bool reject = r->cfg->action == RK_RL_REJECT;
	char action[512], when[64];
	uint64_t secs = retry_ms > 0 ? ((uint64_t)retry_ms + 999) / 1000 : 1;
	unsigned long skipped = 0;

	rk_duration_format(secs * 1000, when, sizeof(when));
	snprintf(action, sizeof(action),
	    "%s Rate limit \"%s\" exceeded: %s per %s; try again in %s",
	    reject ? "REJECT 5.7.1" : "DEFER_IF_PERMIT 4.7.1", r->cfg->name,
	    r->rate, key_names[r->cfg->key], when);
	rk_metric_inc(d->ctx->metrics.rule_hits, RK_LABELS(r->cfg->name));
	if (rk_ratelimit_allow(&d->ctx->decision_log, pd_now_ms(), &skipped))
		rk_log_info("queue_id=%s action=%s reason=rate_limit rule=%s "
		            "rate=%s retry_ms=%lld%s",
		    d->queue_id[0] ? d->queue_id : "-",
		    reject ? "reject" : "defer", r->cfg->name, r->rate,
		    retry_ms, suppressed(skipped));
	finish(d, action, "RCPT");
}

static void
on_script(void *arg, const redisReply *rep, const char *err)
{
	struct pd_decision *d = arg;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_INTEGER) {
		fail_mode(d, err != NULL ? err : "bad reply");
	} else if (rep->element[0]->integer == 0) {
		for (size_t i = 0; i < d->nkeys; i++)
			if (d->seen[i] != 0 && d->txn->nseen < PD_SEEN_MAX)
				d->txn->seen[d->txn->nseen++] = d->seen[i];
		finish(d, "DUNNO", "RCPT");
	} else if (rep->element[0]->integer < 1 ||
	    (size_t)rep->element[0]->integer > d->nkeys) {
		fail_mode(d, "bad reply");
	} else {
		over_limit(d, (size_t)rep->element[0]->integer - 1,
		    rep->element[1]->integer);
	}
	decision_free(d);
}

/* Adds the rules that apply as script keys; returns their count. */
static size_t
collect_keys(struct pd_decision *d, const struct pd_request *req,
    struct rk_buf *keys, size_t *offs)
{
	const char *prefix = pd_redis_prefix(d->ctx->redis);
	char buf[VALUE_MAX];
	size_t n = 0;

	for (size_t i = 0; i < d->st->nrules; i++) {
		const struct pd_rule *r = &d->st->rules[i];
		const char *v = rule_value(r, req, buf, sizeof(buf));
		uint64_t h = 0;

		if (v == NULL)
			continue;
		if (r->cfg->count == RK_RL_PER_MESSAGE) {
			h = seen_hash(i, v);
			h = h ? h : 1;
			if (d->txn->instance[0] != '\0' && txn_seen(d->txn, h))
				continue;
		}
		offs[n] = keys->len;
		rk_buf_printf(keys, "%srl:%s:%s", prefix, r->cfg->name, v);
		rk_buf_putc(keys, '\0');
		d->rule[n] = i;
		d->seen[n] = d->txn->instance[0] != '\0' ? h : 0;
		n++;
	}
	return n;
}

static struct pd_decision *
rate_limit(struct pd_decision *d, const struct pd_request *req)
{
	struct pd_ctx *ctx = d->ctx;
	struct rk_buf keys, args;
	size_t koff[PD_MAX_RULES], aoff[2 * PD_MAX_RULES + 1];
	const char *kp[PD_MAX_RULES], *ap[2 * PD_MAX_RULES + 1];

	rk_buf_init(&keys);
	rk_buf_init(&args);
	d->nkeys = collect_keys(d, req, &keys, koff);
	if (d->nkeys == 0) {
		rk_buf_free(&keys);
		rk_buf_free(&args);
		finish(d, "DUNNO", "RCPT");
		decision_free(d);
		return NULL;
	}
	aoff[0] = 0;
	rk_buf_printf(&args, "%s:%" PRIu64, ctx->host_id, ++ctx->seq);
	rk_buf_putc(&args, '\0');
	for (size_t i = 0; i < d->nkeys; i++) {
		const struct rk_rate *rt = &d->st->rules[d->rule[i]].cfg->rate;

		aoff[1 + 2 * i] = args.len;
		rk_buf_printf(&args, "%" PRIu64, rt->count);
		rk_buf_putc(&args, '\0');
		aoff[2 + 2 * i] = args.len;
		rk_buf_printf(&args, "%" PRIu64, rt->period_ms);
		rk_buf_putc(&args, '\0');
	}
	for (size_t i = 0; i < d->nkeys; i++)
		kp[i] = keys.data + koff[i];
	for (size_t i = 0; i < 1 + 2 * d->nkeys; i++)
		ap[i] = args.data + aoff[i];
	d->op = pd_redis_eval(
	    ctx->redis, d->nkeys, kp, 1 + 2 * d->nkeys, ap, on_script, d);
	rk_buf_free(&keys);
	rk_buf_free(&args);
	return d;
}

static const char *
state_label(struct pd_slice s)
{
	static const char *const states[] = { "CONNECT", "EHLO", "HELO", "MAIL",
		"RCPT", "DATA", "END-OF-MESSAGE", "VRFY", "ETRN" };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (pd_slice_case_eq(s, states[i]))
			return states[i];
	return "other";
}

struct pd_decision *
pd_decide(struct pd_ctx *ctx, const struct pd_request *req, struct pd_txn *txn,
    pd_answer_fn *answer, void *arg)
{
	struct pd_decision *d = rk_calloc(1, sizeof(*d));
	const char *state = state_label(req->attr[PD_A_PROTOCOL_STATE]);
	const struct rk_cfg *cfg = ctx->state->cfg;
	char reject[1200];

	d->ctx = ctx;
	d->st = pd_state_ref(ctx->state);
	d->txn = txn;
	d->answer = answer;
	d->arg = arg;
	d->start_us = pd_now_us();
	if (!slice_lower(
	        req->attr[PD_A_QUEUE_ID], d->queue_id, sizeof(d->queue_id)))
		d->queue_id[0] = '\0';
	txn_update(txn, req);
	if ((strcmp(state, "MAIL") == 0 || strcmp(state, "RCPT") == 0) &&
	    check_sender(cfg, req, reject, sizeof(reject)) != 0) {
		char ql[300], qs[300], login[VALUE_MAX], sender[VALUE_MAX];
		unsigned long skipped = 0;

		rk_metric_inc(ctx->metrics.sender_rejects, NULL);
		if (!slice_lower(
		        req->attr[PD_A_SASL_USERNAME], login, sizeof(login)))
			login[0] = '\0';
		if (!slice_lower(
		        req->attr[PD_A_SENDER], sender, sizeof(sender)))
			sender[0] = '\0';
		if (rk_ratelimit_allow(
		        &ctx->decision_log, pd_now_ms(), &skipped))
			rk_log_info(
			    "queue_id=%s action=reject "
			    "reason=sender_not_owned login=%s sender=%s%s",
			    d->queue_id[0] ? d->queue_id : "-",
			    rk_log_quote(ql, sizeof(ql), login),
			    rk_log_quote(
			        qs, sizeof(qs), sender[0] ? sender : "<>"),
			    suppressed(skipped));
		finish(d, reject, state);
		decision_free(d);
		return NULL;
	}
	if (strcmp(state, "RCPT") != 0 || !cfg->rateLimit.enabled ||
	    d->st->nrules == 0) {
		finish(d, "DUNNO", state);
		decision_free(d);
		return NULL;
	}
	return rate_limit(d, req);
}

void
pd_decision_cancel(struct pd_decision *d)
{
	if (d == NULL)
		return;
	pd_redis_op_cancel(d->op);
	decision_free(d);
}
