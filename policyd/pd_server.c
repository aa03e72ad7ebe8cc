/* SPDX-License-Identifier: MIT */
/*
 * pd_server: the policy listeners (unix and TCP) and their connections,
 * on one libevent loop.
 *
 * Postfix keeps a policy connection open per smtpd process and sends one
 * request at a time; a connection here handles one request at a time too
 * (further pipelined bytes wait in its buffer, which stops reading at
 * PD_REQUEST_MAX), so no connection can make another wait.
 *
 * Timeouts: policyd.idleTimeout between requests (the bufferevent's read
 * timeout), policyd.requestTimeout from the first byte of a request to
 * its last (a timer of its own, so trickling bytes do not extend it).  A
 * malformed request, or bytes left at end of file, is answered with
 * policyd.malformedAction and the connection closed after the answer: the
 * stream cannot be trusted to be in step any more.
 *
 * Over policyd.maxConnections the listeners pause (clients wait in the
 * kernel's backlog) until a connection closes.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "rk_mem.h"
#include "rk_parse.h"
#include "policyd.h"

struct pd_conn {
	struct pd_server *srv;
	struct bufferevent *bev;
	struct event *deadline; /* requestTimeout, armed mid-request */
	struct pd_decision *decision;
	struct pd_txn txn;
	bool in_request;
	bool eof;     /* the client closed its side */
	bool closing; /* free once the output is flushed */
	struct pd_conn *prev, *next;
};

struct pd_server {
	struct pd_ctx *ctx;
	struct pd_listeners lst;
	struct pd_conn *conns;
	size_t nconns;
	bool paused;
};

static void conn_process(struct pd_conn *c);

/* A client that stopped mid-request: a slowloris makes thousands, so at
   most one line each PD_EVENT_LOG_MS; all are in the timeouts metric. */
static void
timeout_logged(struct pd_ctx *ctx)
{
	unsigned long n = 0;

	if (!rk_ratelimit_allow(&ctx->timeout_log, pd_now_ms(), &n))
		return;
	if (n > 0)
		rk_log_warnx(
		    "reason=request_timeout action=close (%lu more not "
		    "logged: relaykit_policyd_timeouts_total)",
		    n);
	else
		rk_log_warnx("reason=request_timeout action=close");
}

#define PD_LINGER_MS 2000

static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
		(suseconds_t)((ms % 1000) * 1000) };

	return tv;
}

static const struct rk_cfg_policyd *
pcfg(const struct pd_conn *c)
{
	return &c->srv->ctx->state->cfg->policyd;
}

static void
conn_free(struct pd_conn *c)
{
	struct pd_server *s = c->srv;

	pd_decision_cancel(c->decision);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
	s->nconns--;
	rk_metric_set(s->ctx->metrics.connections, (double)s->nconns, NULL);
	if (s->paused &&
	    s->nconns < (size_t)s->ctx->state->cfg->policyd.maxConnections) {
		pd_listeners_enable(&s->lst, true);
		s->paused = false;
	}
}

/* The answer is out: half-close, wait for the client's end of file. */
static void
conn_linger(struct pd_conn *c)
{
	struct timeval tv = ms_tv(PD_LINGER_MS);

	if (c->eof) {
		conn_free(c);
		return;
	}
	(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	event_add(c->deadline, &tv);
}

/*
 * Closes once what was written has gone out.  Reading goes on (and is
 * thrown away) until the client closes or PD_LINGER_MS pass: closing a
 * socket with unread input makes the kernel send a reset, which can
 * destroy the answer before the client reads it.
 */
static void
conn_close_after_flush(struct pd_conn *c)
{
	c->closing = true;
	event_del(c->deadline);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_linger(c);
}

static void
conn_write_answer(struct pd_conn *c, const char *action)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "action=%s\n\n", action);
}

static const char *
malformed_action(const struct pd_conn *c)
{
	switch (pcfg(c)->malformedAction) {
	case RK_PD_DUNNO:
		return "DUNNO";
	case RK_PD_REJECT:
		return "REJECT 5.5.2 Malformed policy request";
	default:
		return "DEFER_IF_PERMIT 4.3.0 Malformed policy request, try "
		       "again later";
	}
}

static const char *
malformed_reason(const char *msg)
{
	if (strstr(msg, "longer than") != NULL)
		return strstr(msg, "line") ? "line_too_long" : "too_large";
	if (strstr(msg, "attributes") != NULL)
		return "too_many_attributes";
	if (strstr(msg, "character") != NULL)
		return "bad_character";
	if (strstr(msg, "truncated") != NULL)
		return "truncated";
	return "syntax";
}

static void
conn_malformed(struct pd_conn *c, const char *why)
{
	char q[300];

	rk_metric_inc(
	    c->srv->ctx->metrics.malformed, RK_LABELS(malformed_reason(why)));
	rk_log_warnx("action=%s reason=malformed_request detail=%s",
	    pcfg(c)->malformedAction == RK_PD_DUNNO        ? "dunno"
	        : pcfg(c)->malformedAction == RK_PD_REJECT ? "reject"
	                                                   : "defer",
	    rk_log_quote(q, sizeof(q), why));
	rk_metric_inc(c->srv->ctx->metrics.requests,
	    RK_LABELS("malformed",
	        pcfg(c)->malformedAction == RK_PD_DUNNO        ? "dunno"
	            : pcfg(c)->malformedAction == RK_PD_REJECT ? "reject"
	                                                       : "defer"));
	conn_write_answer(c, malformed_action(c));
	conn_close_after_flush(c);
}

static void
on_answer(void *arg, const char *action)
{
	struct pd_conn *c = arg;

	c->decision = NULL;
	conn_write_answer(c, action);
}

static void
arm_deadline(struct pd_conn *c)
{
	struct timeval tv = ms_tv(pcfg(c)->requestTimeout);

	if (c->in_request)
		return;
	c->in_request = true;
	event_add(c->deadline, &tv);
}

static void
disarm_deadline(struct pd_conn *c)
{
	c->in_request = false;
	event_del(c->deadline);
}

/* Answers every complete request buffered, one at a time. */
static void
conn_process(struct pd_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->decision == NULL && !c->closing) {
		size_t len = evbuffer_get_length(in), n;
		struct pd_request req;
		struct rk_err err;
		const char *buf;

		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    PD_REQUEST_MAX)
			return; /* the client is not reading: wait */
		if (len == 0) {
			disarm_deadline(c);
			break;
		}
		arm_deadline(c);
		n = len < PD_REQUEST_MAX ? len : PD_REQUEST_MAX;
		buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		switch (pd_request_parse(buf, n, &req, &err)) {
		case PD_PARSE_MORE:
			goto more;
		case PD_PARSE_BAD:
			conn_malformed(c, err.msg);
			return;
		case PD_PARSE_OK:
			break;
		}
		disarm_deadline(c);
		c->decision =
		    pd_decide(c->srv->ctx, &req, &c->txn, on_answer, c);
		evbuffer_drain(in, req.consumed);
	}
more:
	if (c->eof && c->decision == NULL && !c->closing) {
		if (evbuffer_get_length(in) > 0)
			conn_malformed(c, "request truncated by end of file");
		else
			conn_close_after_flush(c);
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct pd_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->closing) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	conn_process(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct pd_conn *c = arg;

	(void)bev;
	if (c->closing) {
		conn_linger(c);
		return;
	}
	conn_process(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pd_conn *c = arg;

	if ((what & BEV_EVENT_EOF) && c->closing) {
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->eof = true;
		bufferevent_disable(bev, EV_READ);
		conn_process(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		bool partial =
		    evbuffer_get_length(bufferevent_get_input(bev)) > 0;

		rk_metric_inc(c->srv->ctx->metrics.timeouts,
		    RK_LABELS(partial ? "request" : "idle"));
		if (partial)
			timeout_logged(c->srv->ctx);
		else
			rk_log_debug("reason=idle_timeout action=close");
	}
	/* Errors and timeouts: nothing more can be said to this client. */
	conn_free(c);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct pd_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->closing) {
		conn_free(c); /* the linger time is over */
		return;
	}
	rk_metric_inc(c->srv->ctx->metrics.timeouts, RK_LABELS("request"));
	timeout_logged(c->srv->ctx);
	conn_free(c);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct pd_server *s = arg;
	struct pd_conn *c = rk_calloc(1, sizeof(*c));
	struct timeval idle = ms_tv(s->ctx->state->cfg->policyd.idleTimeout);
	int one = 1;

	(void)l;
	(void)salen;
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = s;
	c->bev =
	    bufferevent_socket_new(s->ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(s->ctx->base, on_deadline, c);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * PD_REQUEST_MAX);
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	rk_metric_set(s->ctx->metrics.connections, (double)s->nconns, NULL);
	if (s->nconns >= (size_t)s->ctx->state->cfg->policyd.maxConnections) {
		pd_listeners_enable(&s->lst, false);
		s->paused = true;
	}
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: say so, keep serving the connections we
	   have. */
	rk_log_warn("accept");
}

int
pd_listeners_open(struct pd_listeners *out, struct event_base *base,
    const struct pd_fds *fds, evconnlistener_cb cb, void *arg,
    struct rk_err *err)
{
	memset(out, 0, sizeof(*out));
	out->ls = rk_calloc(fds->n ? fds->n : 1, sizeof(*out->ls));
	for (size_t i = 0; i < fds->n; i++) {
		/* the supervisor owns the descriptor: never closed here */
		struct evconnlistener *l = evconnlistener_new(
		    base, cb, arg, LEV_OPT_CLOSE_ON_EXEC, -1, fds->fd[i]);

		if (l == NULL) {
			rk_err_set(err, "listener: %s", strerror(errno));
			pd_listeners_close(out);
			return -1;
		}
		evconnlistener_set_error_cb(l, on_accept_error);
		out->ls[out->nls++] = l;
	}
	return 0;
}

void
pd_listeners_close(struct pd_listeners *l)
{
	for (size_t i = 0; i < l->nls; i++)
		evconnlistener_free(l->ls[i]);
	free(l->ls);
	memset(l, 0, sizeof(*l));
}

void
pd_listeners_enable(struct pd_listeners *l, bool on)
{
	for (size_t i = 0; i < l->nls; i++) {
		if (on)
			evconnlistener_enable(l->ls[i]);
		else
			evconnlistener_disable(l->ls[i]);
	}
}

struct pd_server *
pd_server_new(struct pd_ctx *ctx, struct rk_err *err)
{
	struct pd_server *s = rk_calloc(1, sizeof(*s));

	s->ctx = ctx;
	if (pd_listeners_open(
	        &s->lst, ctx->base, &ctx->sockets.policy, on_accept, s, err)) {
		free(s);
		return NULL;
	}
	return s;
}

void
pd_server_free(struct pd_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_free(s->conns);
	pd_listeners_close(&s->lst);
	free(s);
}
