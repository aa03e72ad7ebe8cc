/* SPDX-License-Identifier: MIT */
/*
 * pd_metrics: relaykit-policyd's Prometheus metrics and the HTTP
 * listener that serves them (GET /metrics).
 *
 * The listener is libevent's evhttp on the daemon's own loop: the
 * process is already built on libevent, a scrape is one small GET, and
 * a second HTTP library (or a thread) would buy nothing.  Any other path
 * is 404, any other method 405.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "rk_mem.h"
#include "policyd.h"

static const char *const l_state_action[] = { "state", "action" };
static const char *const l_rule[] = { "rule" };
static const char *const l_reason[] = { "reason" };
static const char *const l_kind[] = { "kind" };
static const char *const l_mode[] = { "mode" };
static const char *const l_result[] = { "result" };
static const char *const l_mech_result[] = { "mechanism", "result" };

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
}

void
pd_metrics_fini(struct pd_metrics *m)
{
	rk_metrics_free(m->reg);
	memset(m, 0, sizeof(*m));
}

struct pd_http {
	struct evhttp *http;
	struct pd_metrics *m;
};

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct pd_http *h = arg;
	struct evbuffer *out;
	struct rk_buf body;
	const char *path = evhttp_request_get_uri(req);

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if (path == NULL ||
	    (strcmp(path, "/metrics") != 0 &&
	        strncmp(path, "/metrics?", 9) != 0)) {
		evhttp_send_error(req, 404, "Not Found");
		return;
	}
	rk_buf_init(&body);
	rk_metrics_render(h->m->reg, &body);
	out = evbuffer_new();
	evbuffer_add(out, body.data, body.len);
	rk_buf_free(&body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", RK_METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

struct pd_http *
pd_http_new(struct event_base *base, struct pd_metrics *m, const char *addr,
    unsigned port, struct rk_err *err)
{
	struct pd_http *h = rk_calloc(1, sizeof(*h));

	h->m = m;
	h->http = evhttp_new(base);
	if (h->http == NULL ||
	    evhttp_bind_socket(h->http, addr, (ev_uint16_t)port) != 0) {
		rk_err_set(err, "metrics: cannot listen on %s:%u", addr, port);
		pd_http_free(h);
		return NULL;
	}
	evhttp_set_timeout(h->http, 10);
	evhttp_set_allowed_methods(h->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h->http, on_request, h);
	return h;
}

void
pd_http_free(struct pd_http *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	free(h);
}
