/* SPDX-License-Identifier: MIT */
/*
 * pd_sockmap: the socketmap service on policyd.socketmapListen.  Postfix
 * (trivial-rewrite, for the queue manager) keeps a connection open and
 * sends one netstring request at a time; each is answered at once from
 * the pacing table (pd_pace.c), so a connection never waits and never
 * makes another wait.  A request for another map, or without a key, gets
 * PERM and the connection goes on; bytes that are not a netstring get
 * PERM and the connection is closed once the answer is out (the stream
 * is out of step).  policyd.idleTimeout closes an idle connection.
 *
 * Threading: the daemon's one loop.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_pace.h"
#include "policyd.h"
#include "pd_sockmap.h"

struct pd_smconn {
	struct pd_sm_server *srv;
	struct bufferevent *bev;
	bool closing;
	struct pd_smconn *prev, *next;
};

struct pd_sm_server {
	struct pd_ctx *ctx;
	struct pd_pace *pace;
	struct pd_listeners lst;
	struct pd_smconn *conns;
};

static void
smconn_free(struct pd_smconn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

static void
send_reply(struct pd_smconn *c, const char *status, const char *text)
{
	struct rk_buf b;

	rk_buf_init(&b);
	pd_sockmap_reply(&b, status, text);
	bufferevent_write(c->bev, b.data, b.len);
	rk_buf_free(&b);
}

static bool
is(struct pd_sm_str s, const char *word)
{
	return s.len == strlen(word) && memcmp(s.p, word, s.len) == 0;
}

/* One well-framed request. */
static void
answer(struct pd_smconn *c, const struct pd_sm_req *req)
{
	struct rk_buf text;
	const char *status = "NOTFOUND";

	rk_buf_init(&text);
	if (req->name.len == 0) {
		status = "PERM";
		rk_buf_puts(&text, "malformed request: want NAME KEY");
		rk_metric_inc(
		    c->srv->ctx->metrics.malformed, RK_LABELS("socketmap"));
	} else if (!is(req->name, RK_PACE_MAP)) {
		status = "PERM";
		rk_buf_printf(&text, "no such map: %.*s (this one is \"%s\")",
		    (int)(req->name.len < 64 ? req->name.len : 64), req->name.p,
		    RK_PACE_MAP);
	} else {
		pd_pace_lookup(c->srv->pace, req->key, &status, &text);
	}
	send_reply(c, status, text.data ? text.data : "");
	rk_buf_free(&text);
}

static void
process(struct pd_smconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->closing) {
		size_t len = evbuffer_get_length(in);
		const char *buf = (const char *)evbuffer_pullup(in,
		    (ev_ssize_t)(len < PD_SM_MAX + 16 ? len : PD_SM_MAX + 16));
		struct pd_sm_req req;
		struct rk_err err;

		if (len == 0)
			return;
		if (len > PD_SM_MAX + 16)
			len = PD_SM_MAX + 16;
		switch (pd_sockmap_parse(buf, len, &req, &err)) {
		case PD_SM_MORE:
			return;
		case PD_SM_BAD:
			rk_log_warnx(
			    "socketmap: %s; closing the connection", err.msg);
			rk_metric_inc(c->srv->ctx->metrics.malformed,
			    RK_LABELS("socketmap"));
			send_reply(c, "PERM", err.msg);
			c->closing = true;
			bufferevent_disable(c->bev, EV_READ);
			return;
		case PD_SM_OK:
			answer(c, &req);
			evbuffer_drain(in, req.consumed);
			break;
		}
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct pd_smconn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		smconn_free(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what; /* end of file, an error, the idle timeout: done */
	smconn_free(arg);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct pd_sm_server *s = arg;
	struct pd_smconn *c = rk_calloc(1, sizeof(*c));
	uint64_t ms = s->ctx->state->cfg->policyd.idleTimeout;
	struct timeval idle = { (time_t)(ms / 1000),
		(suseconds_t)((ms % 1000) * 1000) };

	(void)l;
	(void)sa;
	(void)salen;
	c->srv = s;
	c->bev =
	    bufferevent_socket_new(s->ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * (PD_SM_MAX + 16));
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
}

struct pd_sm_server *
pd_sm_server_new(struct pd_ctx *ctx, struct pd_pace *pace, struct rk_err *err)
{
	struct pd_sm_server *s = rk_calloc(1, sizeof(*s));

	s->ctx = ctx;
	s->pace = pace;
	if (pd_listeners_open(
	        &s->lst, ctx->base, &ctx->sockets.sockmap, on_accept, s, err)) {
		free(s);
		return NULL;
	}
	return s;
}

void
pd_sm_server_free(struct pd_sm_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		smconn_free(s->conns);
	pd_listeners_close(&s->lst);
	free(s);
}
