/* SPDX-License-Identifier: MIT */
/*
 * pd_metrics: relaykit-policyd's Prometheus metrics.  lib/rk_http
 * serves them (with /healthz and /readyz) on the daemon's own loop; the
 * build, process and reload metrics come from lib/rk_process.  Label
 * values that are known in advance exist from the start at 0, so a
 * dashboard's rate() has a series before the first request.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_process.h"
#include "policyd.h"

static const char *const l_state_action[] = { "state", "action" };
static const char *const l_rule[] = { "rule" };
static const char *const l_reason[] = { "reason" };
static const char *const l_kind[] = { "kind" };
static const char *const l_mode[] = { "mode" };
static const char *const l_result[] = { "result" };
static const char *const l_mech_result[] = { "mechanism", "result" };

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
zero(struct pd_metrics *m)
{
	static const char *const verbs[] = { "dunno", "defer", "reject" };
	static const char *const kinds[] = { "down", "timeout", "connection",
		"reply", "readonly" };
	static const char *const modes[] = { "open", "closed" };
	static const char *const results[] = { "ok", "failed" };

	for (size_t i = 0; i < NELEMS(verbs); i++)
		rk_metric_add(m->requests, 0, RK_LABELS("RCPT", verbs[i]));
	for (size_t i = 0; i < NELEMS(kinds); i++)
		rk_metric_add(m->redis_errors, 0, RK_LABELS(kinds[i]));
	for (size_t i = 0; i < NELEMS(modes); i++)
		rk_metric_add(m->fail_mode, 0, RK_LABELS(modes[i]));
	for (size_t i = 0; i < NELEMS(results); i++)
		rk_metric_add(m->reloads, 0, RK_LABELS(results[i]));
}

void
pd_metrics_rules(struct pd_metrics *m, const struct rk_cfg *cfg)
{
	for (size_t i = 0; i < cfg->rateLimit.nrules; i++)
		rk_metric_add(
		    m->rule_hits, 0, RK_LABELS(cfg->rateLimit.rules[i].name));
}

void
pd_metrics_init(struct pd_metrics *m)
{
	struct rk_metrics *reg = rk_metrics_new();

	m->reg = reg;
	m->requests = rk_metrics_counter(reg, "relaykit_policyd_requests_total",
	    "Policy requests answered, by protocol state and action.", 2,
	    l_state_action);
	m->rule_hits =
	    rk_metrics_counter(reg, "relaykit_policyd_rule_hits_total",
	        "Requests over a rate-limit rule, by rule.", 1, l_rule);
	m->sender_rejects =
	    rk_metrics_counter(reg, "relaykit_policyd_sender_rejects_total",
	        "Senders refused by auth.constrainSender.", 0, NULL);
	m->malformed =
	    rk_metrics_counter(reg, "relaykit_policyd_malformed_total",
	        "Malformed requests, answered with policyd.malformedAction.", 1,
	        l_reason);
	m->timeouts = rk_metrics_counter(reg, "relaykit_policyd_timeouts_total",
	    "Connections closed for silence, by kind (request, idle).", 1,
	    l_kind);
	m->connections = rk_metrics_gauge(reg, "relaykit_policyd_connections",
	    "Client connections open now.", 0, NULL);
	m->redis_errors = rk_metrics_counter(reg,
	    "relaykit_policyd_redis_errors_total",
	    "Rate-limit scripts that got no answer, by kind (down, timeout, "
	    "connection, reply).",
	    1, l_kind);
	m->redis_latency =
	    rk_metrics_histogram(reg, "relaykit_policyd_redis_latency_seconds",
	        "Round trip of one rate-limit script.", 0, NULL, 0, NULL);
	m->fail_mode =
	    rk_metrics_counter(reg, "relaykit_policyd_fail_mode_total",
	        "Decisions made by rateLimit.failMode while Redis failed.", 1,
	        l_mode);
	m->reloads = rk_metrics_counter(reg, "relaykit_policyd_reloads_total",
	    "Configuration reloads (SIGHUP), by result.", 1, l_result);
	m->auth = rk_metrics_counter(reg, "relaykit_policyd_auth_total",
	    "SMTP AUTH attempts, by mechanism and result (ok, fail, locked).",
	    2, l_mech_result);
	m->auth_lockout_unavailable = rk_metrics_counter(reg,
	    "relaykit_policyd_auth_lockout_unavailable_total",
	    "Lockout checks or counts Redis could not answer (nobody was "
	    "locked out).",
	    0, NULL);
	m->sasl_malformed =
	    rk_metrics_counter(reg, "relaykit_policyd_sasl_malformed_total",
	        "SASL connections closed for a malformed line, by reason.", 1,
	        l_reason);
	m->gate = rk_metrics_counter(reg, "relaykit_policyd_gate_total",
	    "Connections to the PROXY gate, by result (forwarded, refused: "
	    "not from mail.proxyTrustedNetworks, backend_down).",
	    1, l_result);
	m->gate_active = rk_metrics_gauge(reg, "relaykit_policyd_gate_active",
	    "Connections the PROXY gate is forwarding now.", 0, NULL);
	m->duration = rk_metrics_histogram(reg,
	    "relaykit_policyd_request_duration_seconds",
	    "From a complete request to its answer.", 0, NULL, 0, NULL);
	m->proc = rk_process_metrics(reg, "relaykit-policyd");
	zero(m);
}

void
pd_metrics_fini(struct pd_metrics *m)
{
	rk_metrics_free(m->reg);
	memset(m, 0, sizeof(*m));
}
