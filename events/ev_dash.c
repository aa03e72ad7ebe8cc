/* SPDX-License-Identifier: MIT */
/*
 * ev_dash: the dashboard's HTTP side, on relaykit-eventd's loop.
 *
 * It is a listener of its own (lib/rk_http, the same server stack as the
 * metrics), not routes on the metrics port: the metrics port is usually
 * opened to Prometheus across the cluster and needs no login, while the
 * page shows senders and recipients, so it binds to loopback by default
 * and may ask for a login.
 *
 * GET / (the page), /dash.js, /dash.css: the assets compiled into the
 * binary.  GET /events: Server-Sent Events: "hello", the latest events,
 * then every 100 ms (a tick) the new events matching the client's filters
 * (query: from=, domain= substrings, event=a,b), at most
 * dashboard.watch.maxEventsPerSecond (uniformly sampled above it, when
 * sampling is on), and every 2 s the "stats" (rates and top deferring
 * destinations, over every event read, sampled or not).  A client whose
 * socket does not drain skips events (counted) instead of growing memory.
 *
 * Threading: everything here runs on the loop thread; ev_dash_feed's
 * thread hands events over through its queue.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "rk_cfg.h"
#include "rk_event.h"
#include "rk_http.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_metrics.h"
#include "rk_pace.h"

#include "ev_dash.h"

_Static_assert(
    EV_DASH_DEST_MAX >= RK_PACE_DEST_MAX, "a pacing destination's name fits");

#define TICK_MS       100
#define STATS_TICKS   20         /* stats every 2 s */
#define TAKE_MAX      4096       /* events taken from the feed at once */
#define CLIENT_BUFMAX (4u << 20) /* unsent bytes before events skip */
#define FILTER_MAX    200        /* bytes of a filter kept */
#define HTML_CSP                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; "          \
	"form-action 'none'; frame-ancestors 'none'"

struct dash_client {
	struct ev_dash *d;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	char *from, *domain; /* lower-case substrings; NULL: any */
	unsigned events;     /* bit per enum rk_event_type; 0: all */
	double tokens;       /* events it may be sent now (sampling) */
	uint64_t sent, sampled, skipped;
	struct dash_client *prev, *next;
};

struct ev_dash {
	const struct rk_cfg *cfg;
	struct rk_http *http;
	struct event *tick;
	struct ev_dash_feed *feed;
	struct ev_dash_agg *agg;
	struct ev_dash_auth *auth;
	struct dash_client *clients;
	size_t nclients;
	struct ev_dash_ev **recent; /* ring of the latest events */
	size_t recent_cap, recent_head, recent_n;
	struct ev_dash_ev **batch; /* one tick's events */
	unsigned ticks;
	uint64_t lost; /* dropped by the feed's full queue */
	char want[EV_DASH_TOP][EV_DASH_DEST_MAX]; /* paced top destinations */
	size_t nwant;
	double rate; /* maxEventsPerSecond */
	bool sampling;
	struct rk_ratelimit fail_log;
	struct rk_metric *m_clients, *m_events, *m_denied;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------- login */

static void
security_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

/* The query's value for key (decoded), copied into buf; NULL if none. */
static const char *
query_param(struct evhttp_request *req, const char *key, char *buf, size_t n)
{
	const char *q =
	    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq params;
	const char *v;

	if (q == NULL || evhttp_parse_query_str(q, &params) != 0)
		return NULL;
	v = evhttp_find_header(&params, key);
	if (v != NULL)
		snprintf(buf, n, "%s", v);
	evhttp_clear_headers(&params);
	return v != NULL ? buf : NULL;
}

static void
denied(struct ev_dash *d, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	static const char body[] =
	    "relaykit dashboard: authentication required.\n"
	    "Log in with the configured user, send \"Authorization: Bearer "
	    "TOKEN\",\nor open /?token=TOKEN once (a cookie keeps the "
	    "session).\n";
	unsigned long suppressed = 0;
	char *peer = NULL;
	ev_uint16_t port = 0;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &peer, &port);
	rk_metric_inc(d->m_denied, NULL);
	if (rk_ratelimit_allow(&d->fail_log, (uint64_t)now_ms(), &suppressed))
		rk_log_warnx("dashboard: refused a request from %s without "
		             "valid credentials (%lu more not logged)",
		    peer ? peer : "?", suppressed);
	security_headers(req);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", ev_dash_auth_challenge(d->auth));
	rk_http_reply(
	    req, 401, "text/plain; charset=utf-8", body, sizeof(body) - 1);
}

/* true when the request may go on; otherwise it was answered. */
static bool
gate(struct ev_dash *d, struct evhttp_request *req, bool page)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	char token[512];
	const char *t =
	    page ? query_param(req, "token", token, sizeof(token)) : NULL;
	enum ev_dash_login l =
	    ev_dash_auth_check(d->auth, evhttp_find_header(in, "Authorization"),
	        evhttp_find_header(in, "Cookie"), t);

	if (t != NULL)
		rk_memzero(token, sizeof(token));
	if (l == EV_DASH_ALLOWED)
		return true;
	if (l == EV_DASH_DENIED) {
		denied(d, req);
		return false;
	}
	/* ?token=: keep the session in a cookie, drop the token from the
	   address bar (and from the history) */
	security_headers(req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie",
	    ev_dash_auth_cookie(d->auth));
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Location", "/");
	rk_http_reply(req, 303, "text/plain; charset=utf-8", "see /\n", 6);
	return false;
}

/* ------------------------------------------------------------ assets */

static void
on_asset(struct evhttp_request *req, void *arg)
{
	struct ev_dash *d = arg;
	const char *uri = evhttp_request_get_uri(req);
	size_t plen = strcspn(uri ? uri : "", "?#");

	for (const struct ev_dash_asset *a = ev_dash_assets; a->path; a++) {
		if (strlen(a->path) != plen || strncmp(uri, a->path, plen) != 0)
			continue;
		if (!gate(d, req, strcmp(a->path, "/") == 0))
			return;
		security_headers(req);
		if (strncmp(a->type, "text/html", 9) == 0)
			evhttp_add_header(
			    evhttp_request_get_output_headers(req),
			    "Content-Security-Policy", HTML_CSP);
		rk_http_reply(req, 200, a->type, (const char *)a->data, a->len);
		return;
	}
	evhttp_send_error(req, 404, "Not Found");
}

/* ----------------------------------------------------------- clients */

static void
sse_send(struct dash_client *c, const char *event, const char *data, size_t n)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		rk_panic("evbuffer_new failed");
	evbuffer_add_printf(b, "event: %s\ndata: ", event);
	evbuffer_add(b, data, n);
	evbuffer_add(b, "\n\n", 2);
	evhttp_send_reply_chunk(c->req, b);
	evbuffer_free(b);
}

/* Bytes written to the client's socket buffer and not sent yet. */
static size_t
unsent(const struct dash_client *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);

	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static bool
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), h = strlen(hay);

	for (size_t i = 0; i + n <= h; i++)
		if (rk_mem_case_eq(hay + i, needle, n))
			return true;
	return false;
}

static bool
wants(const struct dash_client *c, const struct ev_dash_ev *e)
{
	if (c->events != 0 && !(c->events & (1u << e->type)))
		return false;
	if (c->from != NULL && !contains_ci(e->from, c->from))
		return false;
	return c->domain == NULL || contains_ci(e->domain, c->domain);
}

static void
client_free(struct dash_client *c)
{
	struct ev_dash *d = c->d;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	d->nclients--;
	rk_metric_set(d->m_clients, (double)d->nclients, NULL);
	free(c->from);
	free(c->domain);
	free(c);
}

/*
 * The browser went away.  evhttp has then taken the request off the
 * connection (a reply was in progress) and leaves it to us: ending the
 * reply frees it.  Should it still be attached, the connection frees it.
 */
static void
on_close(struct evhttp_connection *evcon, void *arg)
{
	struct dash_client *c = arg;

	(void)evcon;
	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_send_reply_end(c->req);
	client_free(c);
}

/* Appends the events of ev[0..n) the client is sent; how many. */
static size_t
select_events(struct dash_client *c, struct ev_dash_ev **ev, size_t n,
    struct evbuffer *out)
{
	size_t m = 0, budget, k = 0, taken = 0;

	for (size_t i = 0; i < n; i++)
		m += wants(c, ev[i]);
	if (m == 0)
		return 0;
	budget = c->d->sampling ? (size_t)c->tokens : m;
	if (budget > m)
		budget = m;
	/* the j-th of budget picks is the matching event number j*m/budget:
	   spread evenly over the tick, not the first ones */
	for (size_t i = 0; i < n && taken < budget; i++) {
		if (!wants(c, ev[i]))
			continue;
		if (k++ != taken * m / budget)
			continue;
		evbuffer_add(out, taken ? "," : "", taken ? 1 : 0);
		evbuffer_add(out, ev[i]->json, ev[i]->json_len);
		taken++;
	}
	c->sampled += m - taken;
	rk_metric_add(
	    c->d->m_events, (double)(m - taken), RK_LABELS("sampled"));
	c->tokens -= (double)taken;
	return taken;
}

static void
send_events(struct dash_client *c, struct ev_dash_ev **ev, size_t n)
{
	struct evbuffer *b;
	size_t sent;

	if (c->d->sampling) {
		c->tokens += c->d->rate * TICK_MS / 1000.0;
		if (c->tokens > c->d->rate)
			c->tokens = c->d->rate;
	}
	if (n == 0)
		return;
	if (unsent(c) > CLIENT_BUFMAX) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			m += wants(c, ev[i]);
		c->skipped += m;
		rk_metric_add(c->d->m_events, (double)m, RK_LABELS("skipped"));
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		rk_panic("evbuffer_new failed");
	evbuffer_add_printf(b, "event: events\ndata: [");
	if ((sent = select_events(c, ev, n, b)) > 0) {
		evbuffer_add(b, "]\n\n", 3);
		evhttp_send_reply_chunk(c->req, b);
		c->sent += sent;
		rk_metric_add(c->d->m_events, (double)sent, RK_LABELS("sent"));
	}
	evbuffer_free(b);
}

static void
send_stats(struct dash_client *c, const char *agg, size_t n)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_printf(&b,
	    "{\"sent\":%llu,\"sampled\":%llu,\"skipped\":%llu,\"lost\":%llu,"
	    "\"up\":%s,\"clients\":%zu,\"agg\":",
	    (unsigned long long)c->sent, (unsigned long long)c->sampled,
	    (unsigned long long)c->skipped, (unsigned long long)c->d->lost,
	    ev_dash_feed_up(c->d->feed) ? "true" : "false", c->d->nclients);
	rk_buf_append(&b, agg, n);
	rk_buf_putc(&b, '}');
	sse_send(c, "stats", b.data, b.len);
	rk_buf_free(&b);
}

/* The adaptive delay of a top destination, as the feed last read it;
   notes the destination so the feed goes on reading it. */
static int64_t
pace_delay(void *arg, const char *domain)
{
	struct ev_dash *d = arg;
	struct rk_pace_dest pd;

	if (!rk_pace_find(d->cfg, domain, strlen(domain), &pd))
		return -1;
	if (d->nwant < EV_DASH_TOP)
		snprintf(d->want[d->nwant++], EV_DASH_DEST_MAX, "%s", pd.name);
	return ev_dash_feed_pace(d->feed, pd.name);
}

/* The stats every page gets; the paced destinations among the top ones
   go to the feed. */
static void
stats_json(struct ev_dash *d, struct rk_buf *out)
{
	d->nwant = 0;
	ev_dash_agg_json(d->agg, now_ms(), pace_delay, d, out);
	ev_dash_feed_want_pace(d->feed, d->want, d->nwant);
}

/* ------------------------------------------------------ /events setup */

static char *
filter(struct evhttp_request *req, const char *key)
{
	char buf[FILTER_MAX + 1];
	const char *v = query_param(req, key, buf, sizeof(buf));

	if (v == NULL || *v == '\0')
		return NULL;
	return rk_strdup(v);
}

static unsigned
event_filter(struct evhttp_request *req)
{
	char buf[FILTER_MAX + 1], *save = NULL;
	unsigned bits = 0;

	if (query_param(req, "event", buf, sizeof(buf)) == NULL)
		return 0;
	for (char *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		int type = rk_event_type_parse(t);

		if (type >= 0)
			bits |= 1u << type;
	}
	return bits;
}

/* What a new page gets first: settings, then the latest events. */
static void
greet(struct ev_dash *d, struct dash_client *c)
{
	struct evbuffer *b = evbuffer_new();
	struct rk_buf agg;
	size_t first = 1;

	if (b == NULL)
		rk_panic("evbuffer_new failed");
	evbuffer_add_printf(b,
	    "retry: 3000\nevent: hello\ndata: {\"version\":\"%s\","
	    "\"masked\":%s,\"sampling\":%s,\"rate\":%.0f}\n\n"
	    "event: events\ndata: [",
	    PACKAGE_VERSION,
	    d->cfg->dashboard.watch.maskAddresses ? "true" : "false",
	    d->sampling ? "true" : "false", d->rate);
	for (size_t i = 0; i < d->recent_n; i++) {
		const struct ev_dash_ev *e =
		    d->recent[(d->recent_head + i) % d->recent_cap];

		if (!wants(c, e))
			continue;
		evbuffer_add(b, first ? "" : ",", first ? 0 : 1);
		evbuffer_add(b, e->json, e->json_len);
		first = 0;
	}
	evbuffer_add(b, "]\n\n", 3);
	evhttp_send_reply_chunk(c->req, b);
	evbuffer_free(b);
	rk_buf_init(&agg);
	stats_json(d, &agg);
	send_stats(c, agg.data, agg.len);
	rk_buf_free(&agg);
}

static void
on_events(struct evhttp_request *req, void *arg)
{
	struct ev_dash *d = arg;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct dash_client *c;

	if (!gate(d, req, false))
		return;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if (d->nclients >= (size_t)d->cfg->dashboard.watch.maxClients) {
		rk_http_reply(req, 503, "text/plain; charset=utf-8",
		    "too many dashboards open\n", 25);
		return;
	}
	c = rk_calloc(1, sizeof(*c));
	c->d = d;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	c->from = filter(req, "from");
	c->domain = filter(req, "domain");
	c->events = event_filter(req);
	c->tokens = d->rate;
	c->next = d->clients;
	if (d->clients != NULL)
		d->clients->prev = c;
	d->clients = c;
	d->nclients++;
	rk_metric_set(d->m_clients, (double)d->nclients, NULL);
	security_headers(req);
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(c->evcon, on_close, c);
	greet(d, c);
}

/* -------------------------------------------------------------- tick */

static void
remember(struct ev_dash *d, struct ev_dash_ev *e)
{
	if (d->recent_cap == 0) {
		free(e);
		return;
	}
	if (d->recent_n == d->recent_cap) {
		free(d->recent[d->recent_head]);
		d->recent[d->recent_head] = e;
		d->recent_head = (d->recent_head + 1) % d->recent_cap;
		return;
	}
	d->recent[(d->recent_head + d->recent_n++) % d->recent_cap] = e;
}

static void
stats_all(struct ev_dash *d)
{
	struct rk_buf agg;

	rk_buf_init(&agg);
	stats_json(d, &agg);
	for (struct dash_client *c = d->clients; c != NULL; c = c->next)
		send_stats(c, agg.data, agg.len);
	rk_buf_free(&agg);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ev_dash *d = arg;
	int64_t now = now_ms();
	uint64_t lost;
	size_t n;

	(void)fd;
	(void)what;
	do {
		n = ev_dash_feed_take(d->feed, d->batch, TAKE_MAX, &lost);
		d->lost += lost;
		rk_metric_add(d->m_events, (double)lost, RK_LABELS("lost"));
		for (size_t i = 0; i < n; i++)
			ev_dash_agg_add(d->agg, d->batch[i], now);
		for (struct dash_client *c = d->clients; c != NULL; c = c->next)
			send_events(c, d->batch, n);
		for (size_t i = 0; i < n; i++)
			remember(d, d->batch[i]);
	} while (n == TAKE_MAX);
	if (++d->ticks % STATS_TICKS == 0)
		stats_all(d);
}

/* ------------------------------------------------------------- setup */

static void
metrics_init(struct ev_dash *d, struct rk_metrics *reg)
{
	static const char *const l_result[] = { "result" };
	static const char *const results[] = { "sent", "sampled", "skipped",
		"lost" };

	d->m_clients =
	    rk_metrics_gauge(reg, "relaykit_eventd_dashboard_clients",
	        "Dashboard pages connected now.", 0, NULL);
	d->m_events =
	    rk_metrics_counter(reg, "relaykit_eventd_dashboard_events_total",
	        "Events for dashboard pages, by result: sent, sampled (over "
	        "dashboard.watch.maxEventsPerSecond), skipped (a page not "
	        "reading), lost (the feed's queue was full).",
	        1, l_result);
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		rk_metric_add(d->m_events, 0, RK_LABELS(results[i]));
	d->m_denied =
	    rk_metrics_counter(reg, "relaykit_eventd_dashboard_denied_total",
	        "Dashboard requests refused for missing or wrong credentials.",
	        0, NULL);
}

static void
routes(struct ev_dash *d)
{
	for (const struct ev_dash_asset *a = ev_dash_assets; a->path; a++)
		rk_http_route(d->http, a->path, on_asset, d);
	rk_http_route(d->http, "/events", on_events, d);
}

struct ev_dash *
ev_dash_new(struct event_base *base, const struct rk_cfg *cfg,
    struct rk_metrics *reg, struct rk_err *err)
{
	const struct rk_cfg_dashboard *dc = &cfg->dashboard;
	struct ev_dash *d = rk_calloc(1, sizeof(*d));
	struct timeval tv = { 0, TICK_MS * 1000 };

	d->cfg = cfg;
	d->rate = (double)dc->watch.maxEventsPerSecond;
	d->sampling = dc->watch.sampling;
	rk_ratelimit_init(&d->fail_log, 60000);
	d->http = rk_http_new(base, dc->address, (unsigned)dc->port, err);
	if (d->http == NULL) {
		free(d);
		return NULL;
	}
	if ((d->feed = ev_dash_feed_start(cfg, err)) == NULL) {
		rk_http_free(d->http);
		free(d);
		return NULL;
	}
	d->auth = ev_dash_auth_new(dc);
	d->agg = ev_dash_agg_new();
	d->recent_cap = (size_t)dc->watch.backlog;
	d->recent =
	    rk_reallocarray(NULL, d->recent_cap + 1, sizeof(*d->recent));
	d->batch = rk_reallocarray(NULL, TAKE_MAX, sizeof(*d->batch));
	metrics_init(d, reg);
	routes(d);
	d->tick = event_new(base, -1, EV_PERSIST, on_tick, d);
	if (d->tick == NULL || event_add(d->tick, &tv) != 0)
		rk_panic("dashboard: cannot schedule its tick");
	rk_log_info("dashboard: serving http://%s:%u/ (login: %s)", dc->address,
	    (unsigned)dc->port,
	    dc->auth.password && dc->auth.bearerToken ? "password or token"
	        : dc->auth.password                   ? "password"
	        : dc->auth.bearerToken                ? "token"
	                                              : "none");
	return d;
}

void
ev_dash_free(struct ev_dash *d)
{
	if (d == NULL)
		return;
	if (d->tick != NULL)
		event_free(d->tick);
	while (d->clients != NULL) {
		struct dash_client *c = d->clients;

		/* evhttp_free below closes the connection and frees the
		   request; ending the reply first would leave it queued */
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		client_free(c);
	}
	rk_http_free(d->http);
	ev_dash_feed_stop(d->feed);
	for (size_t i = 0; i < d->recent_n; i++)
		free(d->recent[(d->recent_head + i) % d->recent_cap]);
	free(d->recent);
	free(d->batch);
	ev_dash_agg_free(d->agg);
	ev_dash_auth_free(d->auth);
	free(d);
}
