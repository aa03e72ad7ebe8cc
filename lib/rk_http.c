/* SPDX-License-Identifier: MIT */
/*
 * rk_http: evhttp with the routes every daemon shares.  See rk_http.h for
 * threading.  A scrape or a probe is a small GET; evhttp's own limits
 * (headers, body) and a 10 s timeout bound what a client can make us hold.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "rk_http.h"
#include "rk_log.h"
#include "rk_mem.h"

#define MAX_ROUTES 16

struct route {
	char *path;
	rk_http_fn *fn;
	void *arg;
};

struct rk_http {
	struct event_base *base;
	bool own_base; /* thread mode */
	struct evhttp *http;
	struct rk_metrics *reg;
	rk_http_ready_fn *ready;
	void *ready_arg;
	struct route routes[MAX_ROUTES];
	size_t nroutes;
	pthread_t thread;
	bool running;
	int stop_pipe[2];
	struct event *stop_ev;
};

/* The reason phrase of the codes relaykit answers with. */
static const char *
reason(int code)
{
	static const struct {
		int code;
		const char *text;
	} t[] = { { 200, "OK" }, { 303, "See Other" }, { 401, "Unauthorized" },
		{ 404, "Not Found" }, { 503, "Service Unavailable" } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == code)
			return t[i].text;
	return "Error";
}

void
rk_http_reply(struct evhttp_request *req, int code, const char *type,
    const char *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL)
		rk_panic("evbuffer_new failed");
	evbuffer_add(out, body, len);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason(code), out);
	evbuffer_free(out);
}

/* The path of the request's URI, without its query, into buf. */
static const char *
req_path(struct evhttp_request *req, char *buf, size_t n)
{
	const char *uri = evhttp_request_get_uri(req);
	size_t len;

	if (uri == NULL)
		return "";
	len = strcspn(uri, "?#");
	if (len >= n)
		len = n - 1;
	memcpy(buf, uri, len);
	buf[len] = '\0';
	return buf;
}

static void
serve_metrics(struct rk_http *h, struct evhttp_request *req)
{
	struct rk_buf body;

	rk_buf_init(&body);
	rk_metrics_render(h->reg, &body);
	rk_http_reply(req, 200, RK_METRICS_CONTENT_TYPE,
	    body.data ? body.data : "", body.len);
	rk_buf_free(&body);
}

static void
serve_ready(struct rk_http *h, struct evhttp_request *req)
{
	struct rk_buf why;
	bool ok;

	rk_buf_init(&why);
	ok = h->ready == NULL || h->ready(h->ready_arg, &why);
	if (ok)
		rk_http_reply(
		    req, 200, "text/plain; charset=utf-8", "ready\n", 6);
	else {
		rk_buf_putc(&why, '\n');
		rk_http_reply(
		    req, 503, "text/plain; charset=utf-8", why.data, why.len);
	}
	rk_buf_free(&why);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct rk_http *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char path[256];

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	req_path(req, path, sizeof(path));
	if (strcmp(path, "/metrics") == 0 && h->reg != NULL) {
		serve_metrics(h, req);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		rk_http_reply(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
		return;
	}
	if (strcmp(path, "/readyz") == 0) {
		serve_ready(h, req);
		return;
	}
	for (size_t i = 0; i < h->nroutes; i++) {
		if (strcmp(path, h->routes[i].path) == 0) {
			h->routes[i].fn(req, h->routes[i].arg);
			return;
		}
	}
	evhttp_send_error(req, 404, "Not Found");
}

struct rk_http *
rk_http_new(struct event_base *base, const char *addr, unsigned port,
    struct rk_err *err)
{
	struct rk_http *h = rk_calloc(1, sizeof(*h));

	h->stop_pipe[0] = h->stop_pipe[1] = -1;
	h->own_base = base == NULL;
	h->base = base ? base : event_base_new();
	if (h->base == NULL)
		rk_panic("event_base_new failed");
	h->http = evhttp_new(h->base);
	if (h->http == NULL ||
	    evhttp_bind_socket(h->http, addr, (ev_uint16_t)port) != 0) {
		rk_err_set(err, "http: cannot listen on %s:%u: %s", addr, port,
		    strerror(errno));
		rk_http_free(h);
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
rk_http_metrics(struct rk_http *h, struct rk_metrics *reg)
{
	h->reg = reg;
}

void
rk_http_ready(struct rk_http *h, rk_http_ready_fn *fn, void *arg)
{
	h->ready = fn;
	h->ready_arg = arg;
}

void
rk_http_route(struct rk_http *h, const char *path, rk_http_fn *fn, void *arg)
{
	if (h->nroutes == MAX_ROUTES)
		rk_panic("rk_http_route: more than %d routes", MAX_ROUTES);
	h->routes[h->nroutes].path = rk_strdup(path);
	h->routes[h->nroutes].fn = fn;
	h->routes[h->nroutes++].arg = arg;
}

struct event_base *
rk_http_base(struct rk_http *h)
{
	return h->base;
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct rk_http *h = arg;
	char c;

	(void)what;
	(void)!read(fd, &c, 1);
	event_base_loopbreak(h->base);
}

static void *
loop(void *arg)
{
	struct rk_http *h = arg;

	event_base_dispatch(h->base);
	return NULL;
}

int
rk_http_start(struct rk_http *h, struct rk_err *err)
{
	if (!h->own_base)
		return 0;
	if (pipe(h->stop_pipe) != 0)
		return rk_err_set(err, "pipe: %s", strerror(errno));
	h->stop_ev = event_new(h->base, h->stop_pipe[0], EV_READ, on_stop, h);
	if (h->stop_ev == NULL || event_add(h->stop_ev, NULL) != 0)
		return rk_err_set(err, "http: cannot watch its stop pipe");
	if ((errno = pthread_create(&h->thread, NULL, loop, h)) != 0)
		return rk_err_set(err, "pthread_create: %s", strerror(errno));
	h->running = true;
	return 0;
}

void
rk_http_free(struct rk_http *h)
{
	if (h == NULL)
		return;
	if (h->running) {
		(void)!write(h->stop_pipe[1], "x", 1);
		pthread_join(h->thread, NULL);
	}
	if (h->stop_ev != NULL)
		event_free(h->stop_ev);
	for (int i = 0; i < 2; i++)
		if (h->stop_pipe[i] >= 0)
			close(h->stop_pipe[i]);
	if (h->http != NULL)
		evhttp_free(h->http);
	if (h->own_base)
		event_base_free(h->base);
	for (size_t i = 0; i < h->nroutes; i++)
		free(h->routes[i].path);
	free(h);
}
