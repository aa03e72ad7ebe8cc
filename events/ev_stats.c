/* SPDX-License-Identifier: MIT */
/*
 * ev_stats: Prometheus metrics from the log.  The postfix_* families have
 * the names, labels and buckets of postfix_exporter (the maintained fork
 * of kumina's), so dashboards built for it work, with two differences:
 * postfix_smtp_delivery_delay_seconds names its stage (the exporter
 * labels every stage ""), and smtp deferrals are counted in
 * postfix_smtp_deferred_messages_total too (the exporter never does).
 * relaykit_eventd_* are eventd's own.  Label values come from bounded
 * sets (status words, DSN codes, TLS parameters, transport names, SMTP
 * reply codes); rk_metrics caps each family at RK_METRICS_MAX_SERIES.
 *
 * Threading: updated by the reader thread, rendered by the HTTP thread;
 * rk_metrics makes that safe.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_mem.h"

#include "eventd.h"

struct ev_stats {
	struct rk_metrics *reg;
	struct rk_metric *cleanup_processed, *cleanup_rejected,
	    *cleanup_not_accepted;
	struct rk_metric *lmtp_delay, *pipe_delay, *smtp_delay;
	struct rk_metric *nrcpt_legacy, *nrcpt, *size;
	struct rk_metric *removed, *expired;
	struct rk_metric *smtp_tls, *smtp_deferreds, *smtp_processed,
	    *smtp_deferred_dsn, *smtp_bounced_dsn, *smtp_timed_out,
	    *smtp_status_deferred;
	struct rk_metric *smtpd_connects, *smtpd_disconnects, *smtpd_fcrdns,
	    *smtpd_lost, *smtpd_processed, *smtpd_rejected, *smtpd_rejects,
	    *smtpd_sasl_failed, *smtpd_tls;
	struct rk_metric *unsupported, *notifications, *virtual_delivered;
	/* relaykit's own */
	struct rk_metric *lines, *unparsed, *events, *dest;
	char **dests; /* destinations with a label of their own */
	size_t ndests;
	struct ev_stats_io io;
};

static const double delay_buckets[] = { 1e-3, 1e-2, 1e-1, 1, 10, 60, 3600,
	86400, 172800 };
static const double nrcpt_buckets[] = { 1, 2, 4, 8, 16, 32, 64, 128 };
static const double size_buckets[] = { 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
static const double batch_buckets[] = { 1e-4, 1e-3, 1e-2, 1e-1, 1, 10 };
static const char *const l_stage[] = { "stage" };
static const char *const l_relay_stage[] = { "relay", "stage" };
static const char *const l_tls[] = { "trust", "protocol", "cipher",
	"secret_bits", "algorithm_bits" };
static const char *const l_status[] = { "status" };
static const char *const l_dsn[] = { "dsn" };
static const char *const l_after[] = { "after_stage" };
static const char *const l_sasl[] = { "sasl_method" };
static const char *const l_code[] = { "code" };
static const char *const l_stage_code[] = { "stage", "code" };
static const char *const l_service_level[] = { "service", "level" };
static const char *const l_program[] = { "program" };
static const char *const l_event[] = { "event" };
static const char *const l_what[] = { "what" };
static const char *const l_how[] = { "how" };
static const char *const l_dest_event[] = { "destination", "event" };
static const int dest_events[] = { RK_EVT_DELIVERED, RK_EVT_DEFERRED,
	RK_EVT_BOUNCED, RK_EVT_EXPIRED };
static const char *const stages[] = { "before_queue_manager", "queue_manager",
	"connection_setup", "transmission" };

#define CTR(name, help)      rk_metrics_counter(reg, name, help, 0, NULL)
#define CTRV(name, help, l)  rk_metrics_counter(reg, name, help, 1, l)
#define CTRV2(name, help, l) rk_metrics_counter(reg, name, help, 2, l)
#define HIST(name, help, b)                                                    \
	rk_metrics_histogram(                                                  \
	    reg, name, help, sizeof(b) / sizeof(b[0]), b, 0, NULL)

static void
init_postfix(struct ev_stats *s, struct rk_metrics *reg)
{
	s->cleanup_processed = CTR("postfix_cleanup_messages_processed_total",
	    "Total number of messages processed by cleanup.");
	s->cleanup_rejected = CTR("postfix_cleanup_messages_rejected_total",
	    "Total number of messages rejected by cleanup.");
	s->cleanup_not_accepted =
	    CTR("postfix_cleanup_messages_not_accepted_total",
	        "Total number of messages not accepted by cleanup.");
	s->lmtp_delay =
	    rk_metrics_histogram(reg, "postfix_lmtp_delivery_delay_seconds",
	        "LMTP message processing time in seconds.", 9, delay_buckets, 1,
	        l_stage);
	s->pipe_delay =
	    rk_metrics_histogram(reg, "postfix_pipe_delivery_delay_seconds",
	        "Pipe message processing time in seconds.", 9, delay_buckets, 2,
	        l_relay_stage);
	s->nrcpt_legacy = HIST("postfix_qmgr_messages_inserted_receipients",
	    "Legacy metric, please switch to "
	    "postfix_qmgr_messages_inserted_recipients.",
	    nrcpt_buckets);
	s->nrcpt = HIST("postfix_qmgr_messages_inserted_recipients",
	    "Number of recipients per message inserted into the mail queues.",
	    nrcpt_buckets);
	s->size = HIST("postfix_qmgr_messages_inserted_size_bytes",
	    "Size of messages inserted into the mail queues in bytes.",
	    size_buckets);
	s->removed = CTR("postfix_qmgr_messages_removed_total",
	    "Total number of messages removed from mail queues.");
	s->expired = CTR("postfix_qmgr_messages_expired_total",
	    "Total number of messages expired from mail queues.");
	s->smtp_delay =
	    rk_metrics_histogram(reg, "postfix_smtp_delivery_delay_seconds",
	        "SMTP message processing time in seconds, by stage.", 9,
	        delay_buckets, 1, l_stage);
	s->smtp_tls =
	    rk_metrics_counter(reg, "postfix_smtp_tls_connections_total",
	        "Total number of outgoing TLS connections.", 5, l_tls);
	s->smtp_deferreds = CTR("postfix_smtp_deferred_messages_total",
	    "Total number of messages that have been deferred on SMTP.");
	s->smtp_processed = CTRV("postfix_smtp_messages_processed_total",
	    "Total number of messages that have been processed by the smtp "
	    "process.",
	    l_status);
	s->smtp_deferred_dsn = CTRV(
	    "postfix_smtp_deferred_messages_by_dsn_total",
	    "Total number of messages that have been deferred on SMTP by DSN.",
	    l_dsn);
	s->smtp_bounced_dsn = CTRV("postfix_smtp_bounced_messages_by_dsn_total",
	    "Total number of messages that have been bounced on SMTP by DSN.",
	    l_dsn);
	s->smtp_timed_out = CTR("postfix_smtp_connection_timed_out_total",
	    "Total number of SMTP connections that timed out.");
	/* the exporter's counter has no _total suffix, which promtool's
	   lint refuses: same name and value, declared a gauge */
	s->smtp_status_deferred =
	    rk_metrics_gauge(reg, "postfix_smtp_status_deferred",
	        "Total number of messages deferred.", 0, NULL);
}

static void
init_smtpd(struct ev_stats *s, struct rk_metrics *reg)
{
	s->smtpd_connects = CTR("postfix_smtpd_connects_total",
	    "Total number of incoming connections.");
	s->smtpd_disconnects = CTR("postfix_smtpd_disconnects_total",
	    "Total number of incoming disconnections.");
	s->smtpd_fcrdns =
	    CTR("postfix_smtpd_forward_confirmed_reverse_dns_errors_total",
	        "Total number of connections for which forward-confirmed DNS "
	        "cannot be resolved.");
	s->smtpd_lost = CTRV("postfix_smtpd_connections_lost_total",
	    "Total number of connections lost.", l_after);
	s->smtpd_processed = CTRV("postfix_smtpd_messages_processed_total",
	    "Total number of messages processed.", l_sasl);
	s->smtpd_rejected = CTRV("postfix_smtpd_messages_rejected_total",
	    "Total number of NOQUEUE rejects.", l_code);
	s->smtpd_rejects = CTRV2("relaykit_eventd_smtpd_rejects_total",
	    "NOQUEUE rejects at every SMTP stage (postfix_smtpd_messages_"
	    "rejected_total counts RCPT only), by stage and code: 452 at MAIL "
	    "is a full queue disk.",
	    l_stage_code);
	s->smtpd_sasl_failed =
	    CTR("postfix_smtpd_sasl_authentication_failures_total",
	        "Total number of SASL authentication failures.");
	s->smtpd_tls =
	    rk_metrics_counter(reg, "postfix_smtpd_tls_connections_total",
	        "Total number of incoming TLS connections.", 5, l_tls);
	s->unsupported =
	    rk_metrics_counter(reg, "postfix_unsupported_log_entries_total",
	        "Log entries that could not be processed.", 2, l_service_level);
	s->notifications = CTR("postfix_bounce_non_delivery_notification_total",
	    "Total number of non delivery notification sent by bounce.");
	s->virtual_delivered = CTR("postfix_virtual_delivered_total",
	    "Total number of mail delivered to a virtual mailbox.");
}

static const char *const l_pace[] = { "destination", "kind" };

static void
dest_zero(struct ev_stats *s, const char *dest)
{
	for (size_t i = 0; i < sizeof(dest_events) / sizeof(dest_events[0]);
	     i++)
		rk_metric_add(s->dest, 0,
		    RK_LABELS(dest, rk_event_type_name(dest_events[i])));
}

static void
init_own(struct ev_stats *s, struct rk_metrics *reg)
{
	s->lines = CTR("relaykit_eventd_lines_total", "Log lines read.");
	s->unparsed = CTRV("relaykit_eventd_unparsed_lines_total",
	    "Log lines of Postfix not understood (counted and skipped), by "
	    "program.",
	    l_program);
	s->events = CTRV("relaykit_eventd_events_total",
	    "Events made from the log, by event.", l_event);
	s->io.events_written = CTRV("relaykit_eventd_events_written_total",
	    "Events written to the Redis stream, by event.", l_event);
	s->io.redis_errors = CTRV("relaykit_eventd_redis_errors_total",
	    "Redis operations that failed (retried), by what.", l_what);
	s->io.rewinds = CTR("relaykit_eventd_rewinds_total",
	    "Times Redis had lost the latest events (a failover) and the log "
	    "was read again from the position Redis kept.");
	s->io.lag_bytes = rk_metrics_gauge(reg, "relaykit_eventd_lag_bytes",
	    "Bytes of the log not yet turned into stored events.", 0, NULL);
	s->io.batches =
	    rk_metrics_histogram(reg, "relaykit_eventd_batch_seconds",
	        "Time from sending a batch of events to Redis to its answer.",
	        6, batch_buckets, 0, NULL);
	s->io.rotations = CTRV("relaykit_eventd_log_rotations_total",
	    "Log rotations followed, by how (rename, truncate, recreate).",
	    l_how);
	s->io.up = rk_metrics_gauge(reg, "relaykit_eventd_up",
	    "1 while the log is followed and events are stored.", 0, NULL);
	s->io.pace = rk_metrics_counter(reg, "relaykit_pace_outcomes_total",
	    "Delivery outcomes of paced destinations, by destination (a "
	    "listed one, or \"other\") and kind: ok, limited, severe "
	    "(rate-limit replies), other (deferrals that do not count).",
	    2, l_pace);
	s->dest =
	    rk_metrics_counter(reg, "relaykit_eventd_destination_events_total",
	        "Delivery outcomes by destination (the recipient's domain when "
	        "adaptiveRate.domains or rateLimit.domains lists it, else "
	        "\"other\": a bounded set) and event.",
	        2, l_dest_event);
	dest_zero(s, "other");
	/* label values that exist from the start, at 0 */
	for (int i = 0; i < RK_EVT_NTYPES; i++) {
		rk_metric_add(s->events, 0, RK_LABELS(rk_event_type_name(i)));
		rk_metric_add(
		    s->io.events_written, 0, RK_LABELS(rk_event_type_name(i)));
	}
	rk_metric_add(s->io.redis_errors, 0, RK_LABELS("write"));
	rk_metric_add(s->io.redis_errors, 0, RK_LABELS("read"));
	for (size_t i = 0; i < 3; i++)
		rk_metric_add(s->io.rotations, 0,
		    RK_LABELS(((const char *[]){
		        "rename", "truncate", "recreate" })[i]));
}

struct ev_stats *
ev_stats_new(struct rk_metrics *reg)
{
	struct ev_stats *s = rk_calloc(1, sizeof(*s));

	s->reg = reg;
	init_postfix(s, reg);
	init_smtpd(s, reg);
	init_own(s, reg);
	return s;
}

void
ev_stats_free(struct ev_stats *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ndests; i++)
		free(s->dests[i]);
	free(s->dests);
	free(s);
}

static void
dest_add(struct ev_stats *s, const char *name)
{
	for (size_t i = 0; i < s->ndests; i++)
		if (rk_str_case_eq(s->dests[i], name))
			return;
	s->dests = rk_reallocarray(s->dests, s->ndests + 1, sizeof(*s->dests));
	s->dests[s->ndests] = rk_strdup(name);
	rk_str_lower(s->dests[s->ndests]);
	dest_zero(s, s->dests[s->ndests++]);
}

void
ev_stats_destinations(struct ev_stats *s, const struct rk_cfg *cfg)
{
	const struct rk_cfg_rate_limit *rl = &cfg->rateLimit;

	for (size_t i = 0; i < cfg->adaptiveRate.ndomains; i++)
		dest_add(s, cfg->adaptiveRate.domains[i].name);
	for (size_t i = 0; i < rl->ndomains; i++)
		dest_add(s, rl->domains[i].name);
	for (size_t i = 0; i < rl->ncustomDomains; i++)
		dest_add(s, rl->customDomains[i].name);
}

/* The destination label of an outcome's recipient. */
static const char *
dest_of(const struct ev_stats *s, const char *to)
{
	const char *at = to ? strrchr(to, '@') : NULL;

	if (at != NULL)
		for (size_t i = 0; i < s->ndests; i++)
			if (rk_str_case_eq(s->dests[i], at + 1))
				return s->dests[i];
	return "other";
}

struct ev_stats_io *
ev_stats_io(struct ev_stats *s)
{
	return &s->io;
}

/* A line piece as a C string, for a label value. */
static const char *
cstr(struct ev_str v, char *buf, size_t n)
{
	size_t k = v.n < n - 1 ? v.n : n - 1;

	memcpy(buf, v.p ? v.p : "", k);
	buf[k] = '\0';
	return buf;
}

static bool
is(const struct ev_str *s, const char *name)
{
	return s->n == strlen(name) && memcmp(s->p, name, s->n) == 0;
}

static void
observe_stages(struct rk_metric *m, const struct ev_line *l, const char *relay)
{
	for (size_t i = 0; i < RK_STAGE_N; i++) {
		if (l->delays_ms[i] < 0)
			continue;
		if (relay != NULL)
			rk_metric_observe(m, (double)l->delays_ms[i] / 1000,
			    RK_LABELS(relay, stages[i]));
		else
			rk_metric_observe(m, (double)l->delays_ms[i] / 1000,
			    RK_LABELS(stages[i]));
	}
}

static void
smtp_delivery(struct ev_stats *s, const struct ev_line *l)
{
	char st[32], dsn[16];

	observe_stages(s->smtp_delay, l, NULL);
	rk_metric_inc(
	    s->smtp_processed, RK_LABELS(cstr(l->status, st, sizeof(st))));
	if (is(&l->status, "deferred")) {
		rk_metric_inc(s->smtp_status_deferred, NULL);
		rk_metric_inc(s->smtp_deferreds, NULL);
		if (l->dsn.n > 0)
			rk_metric_inc(s->smtp_deferred_dsn,
			    RK_LABELS(cstr(l->dsn, dsn, sizeof(dsn))));
	} else if (is(&l->status, "bounced") && l->dsn.n > 0) {
		rk_metric_inc(s->smtp_bounced_dsn,
		    RK_LABELS(cstr(l->dsn, dsn, sizeof(dsn))));
	}
}

static void
delivery(struct ev_stats *s, const struct ev_line *l)
{
	char relay[64];

	if (is(&l->service, "smtp"))
		smtp_delivery(s, l);
	else if (is(&l->service, "lmtp"))
		observe_stages(s->lmtp_delay, l, NULL);
	else if (is(&l->service, "pipe")) {
		/* the transport (relay=) names a bounded set */
		struct ev_str r = l->relay;

		observe_stages(s->pipe_delay, l, cstr(r, relay, sizeof(relay)));
	} else if (is(&l->service, "virtual") && is(&l->status, "sent"))
		rk_metric_inc(s->virtual_delivered, NULL);
}

static void
tls(struct ev_stats *s, const struct ev_line *l)
{
	char f[5][64];

	rk_metric_inc(l->tls_outgoing ? s->smtp_tls : s->smtpd_tls,
	    RK_LABELS(cstr(l->tls_f[0], f[0], 64), cstr(l->tls_f[1], f[1], 64),
	        cstr(l->tls_f[2], f[2], 64), cstr(l->tls_f[3], f[3], 64),
	        cstr(l->tls_f[4], f[4], 64)));
}

static void
unsupported(struct ev_stats *s, const struct ev_line *l)
{
	char svc[32], lvl[16], prog[64];

	rk_metric_inc(s->unsupported,
	    RK_LABELS(cstr(l->service, svc, sizeof(svc)),
	        cstr(l->level, lvl, sizeof(lvl))));
	rk_metric_inc(s->unparsed,
	    RK_LABELS(l->service.n ? cstr(l->service, prog, sizeof(prog))
	                           : "unknown"));
}

void
ev_stats_line(struct ev_stats *s, const struct ev_line *l)
{
	char buf[32];

	rk_metric_inc(s->lines, NULL);
	switch (l->kind) {
	case EV_L_UNSUPPORTED:
		unsupported(s, l);
		break;
	case EV_L_DELIVERY:
		delivery(s, l);
		break;
	case EV_L_QUEUED:
		rk_metric_observe(s->size, (double)l->size, NULL);
		rk_metric_observe(s->nrcpt, (double)l->nrcpt, NULL);
		rk_metric_observe(s->nrcpt_legacy, (double)l->nrcpt, NULL);
		break;
	case EV_L_EXPIRED:
		rk_metric_inc(s->expired, NULL);
		break;
	case EV_L_REMOVED:
		rk_metric_inc(s->removed, NULL);
		break;
	case EV_L_MESSAGE_ID:
		if (is(&l->service, "cleanup"))
			rk_metric_inc(s->cleanup_processed, NULL);
		break;
	case EV_L_CLEANUP_REJECT:
		rk_metric_inc(s->cleanup_rejected, NULL);
		break;
	case EV_L_CLIENT:
		rk_metric_inc(s->smtpd_processed,
		    RK_LABELS(l->sasl_method.n
		            ? cstr(l->sasl_method, buf, sizeof(buf))
		            : "NONE"));
		break;
	case EV_L_CONNECT:
		rk_metric_inc(s->smtpd_connects, NULL);
		break;
	case EV_L_DISCONNECT:
		rk_metric_inc(s->smtpd_disconnects, NULL);
		break;
	case EV_L_SMTPD_REJECT: {
		char st[32];

		cstr(l->stage, st, sizeof(st));
		cstr(l->code, buf, sizeof(buf));
		if (strcmp(st, "RCPT") == 0)
			rk_metric_inc(s->smtpd_rejected, RK_LABELS(buf));
		rk_metric_inc(s->smtpd_rejects, RK_LABELS(st, buf));
		break;
	}
	case EV_L_LOST:
		rk_metric_inc(
		    s->smtpd_lost, RK_LABELS(cstr(l->stage, buf, sizeof(buf))));
		break;
	case EV_L_SASL_FAILED:
		rk_metric_inc(s->smtpd_sasl_failed, NULL);
		break;
	case EV_L_FCRDNS:
		rk_metric_inc(s->smtpd_fcrdns, NULL);
		break;
	case EV_L_TLS:
		tls(s, l);
		break;
	case EV_L_TIMED_OUT:
		rk_metric_inc(s->smtp_timed_out, NULL);
		break;
	case EV_L_NOTIFY:
		rk_metric_inc(s->notifications, NULL);
		break;
	default:
		break;
	}
}

void
ev_stats_event(struct ev_stats *s, const struct rk_event *ev)
{
	const char *name = rk_event_type_name((int)ev->type);

	rk_metric_inc(s->events, RK_LABELS(name));
	if (ev->type == RK_EVT_DELIVERED || ev->type == RK_EVT_DEFERRED ||
	    ev->type == RK_EVT_BOUNCED || ev->type == RK_EVT_EXPIRED)
		rk_metric_inc(s->dest, RK_LABELS(dest_of(s, ev->to), name));
}
