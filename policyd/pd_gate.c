/* SPDX-License-Identifier: MIT */
/*
 * pd_gate: the PROXY gate.  Postfix believes a PROXY protocol header from
 * any client that reaches a listener with smtpd_upstream_proxy_protocol,
 * so a stranger could claim to be 127.0.0.1 and relay.  The gate owns the
 * public port of every mail.listeners[] entry with proxyProtocol: a
 * connection from mail.proxyTrustedNetworks is forwarded byte for byte to
 * Postfix's listener on 127.0.0.1:backendPort (PROXY header included,
 * which Postfix then parses); any other client is disconnected at once,
 * before it can send Postfix a byte.
 *
 * Data moves between two bufferevents; a side stops reading while the
 * other side's output holds more than GATE_HIGH bytes, so a slow peer
 * never grows memory.  When either side ends, what is buffered for the
 * other is written and both close.  Over policyd.maxConnections forwarded
 * connections the listeners pause (clients wait in the backlog).
 *
 * Threading: the policyd loop's thread only.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "rk_mem.h"
#include "policyd.h"

#define GATE_HIGH (256u << 10)

struct gate_conn {
	struct pd_gate *g;
	struct bufferevent *client, *backend;
	bool connected; /* to Postfix */
	bool closing;   /* one side ended: flush the other, then free */
	struct gate_conn *prev, *next;
};

struct gate_listener {
	struct pd_gate *g;
	uint16_t backend_port;
};

struct pd_gate {
	struct pd_ctx *ctx;
	struct pd_listeners lst;
	struct gate_listener *gl; /* one per listener, for its callback */
	struct gate_conn *conns;
	size_t nconns;
	bool paused;
	struct rk_ratelimit refused_log;
};

static void
gate_count(struct pd_gate *g)
{
	rk_metric_set(g->ctx->metrics.gate_active, (double)g->nconns, NULL);
}

static void
conn_free(struct gate_conn *c)
{
	struct pd_gate *g = c->g;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->client);
	bufferevent_free(c->backend);
	free(c);
	g->nconns--;
	gate_count(g);
	if (g->paused &&
	    g->nconns < (size_t)g->ctx->state->cfg->policyd.maxConnections) {
		pd_listeners_enable(&g->lst, true);
		g->paused = false;
	}
}

static struct bufferevent *
peer(struct gate_conn *c, struct bufferevent *b)
{
	return b == c->client ? c->backend : c->client;
}

/* Both outputs written: done. */
static bool
flushed(struct gate_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->client)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->backend)) == 0;
}

static void
on_read(struct bufferevent *b, void *arg)
{
	struct gate_conn *c = arg;
	struct bufferevent *o = peer(c, b);

	bufferevent_write_buffer(o, bufferevent_get_input(b));
	if (evbuffer_get_length(bufferevent_get_output(o)) >= GATE_HIGH)
		bufferevent_disable(b, EV_READ);
}

/* o's output drained below its low watermark: read its peer again. */
static void
on_write(struct bufferevent *o, void *arg)
{
	struct gate_conn *c = arg;

	if (c->closing) {
		if (flushed(c))
			conn_free(c);
		return;
	}
	bufferevent_enable(peer(c, o), EV_READ);
}

static void
on_event(struct bufferevent *b, short what, void *arg)
{
	struct gate_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		rk_metric_inc(c->g->ctx->metrics.gate, RK_LABELS("forwarded"));
		return;
	}
	if (b == c->backend && !c->connected && !c->closing) {
		rk_metric_inc(
		    c->g->ctx->metrics.gate, RK_LABELS("backend_down"));
		rk_log_warnx("gate: cannot reach Postfix behind the PROXY "
		             "gate: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	/* one side is over: pass on what it sent, then close both */
	if (evbuffer_get_length(bufferevent_get_input(b)) > 0)
		bufferevent_write_buffer(peer(c, b), bufferevent_get_input(b));
	bufferevent_disable(b, EV_READ | EV_WRITE);
	evbuffer_drain(bufferevent_get_output(b),
	    evbuffer_get_length(bufferevent_get_output(b)));
	c->closing = true;
	bufferevent_disable(peer(c, b), EV_READ);
	if (flushed(c))
		conn_free(c);
}

static bool
trusted(struct pd_gate *g, const struct sockaddr *sa)
{
	return rk_cidr_set_match_sa(g->ctx->state->proxy_nets, sa);
}

static void
refuse(struct pd_gate *g, int fd, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned long n = 0;

	close(fd);
	rk_metric_inc(g->ctx->metrics.gate, RK_LABELS("refused"));
	if (!rk_ratelimit_allow(&g->refused_log, pd_now_ms(), &n))
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    ip, sizeof(ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
		    sizeof(ip));
	rk_log_warnx("gate: refused client=%s reason=not_a_trusted_proxy "
	             "(mail.proxyTrustedNetworks)%s",
	    ip,
	    n ? "; more refusals since the last line are counted in "
	        "relaykit_policyd_gate_total"
	      : "");
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct gate_listener *gl = arg;
	struct pd_gate *g = gl->g;
	struct sockaddr_in to;
	struct gate_conn *c;
	int one = 1;

	(void)l;
	(void)salen;
	if (!trusted(g, sa)) {
		refuse(g, fd, sa);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = rk_calloc(1, sizeof(*c));
	c->g = g;
	c->client =
	    bufferevent_socket_new(g->ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->backend =
	    bufferevent_socket_new(g->ctx->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->client == NULL || c->backend == NULL)
		rk_log_fatalx("gate: out of memory");
	c->next = g->conns;
	if (g->conns != NULL)
		g->conns->prev = c;
	g->conns = c;
	g->nconns++;
	gate_count(g);
	bufferevent_setcb(c->client, on_read, on_write, on_event, c);
	bufferevent_setcb(c->backend, on_read, on_write, on_event, c);
	bufferevent_enable(c->client, EV_READ | EV_WRITE);
	bufferevent_enable(c->backend, EV_READ | EV_WRITE);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(gl->backend_port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bufferevent_socket_connect(
	        c->backend, (struct sockaddr *)&to, sizeof(to)) != 0) {
		on_event(c->backend, BEV_EVENT_ERROR, c);
		return;
	}
	if (g->nconns >= (size_t)g->ctx->state->cfg->policyd.maxConnections) {
		pd_listeners_enable(&g->lst, false);
		g->paused = true;
	}
}

struct pd_gate *
pd_gate_new(struct pd_ctx *ctx, struct rk_err *err)
{
	const struct pd_fds *fds = &ctx->sockets.gate;
	struct pd_gate *g = rk_calloc(1, sizeof(*g));

	g->ctx = ctx;
	rk_ratelimit_init(&g->refused_log, 60000);
	g->gl = rk_calloc(fds->n ? fds->n : 1, sizeof(*g->gl));
	g->lst.ls = rk_calloc(fds->n ? fds->n : 1, sizeof(*g->lst.ls));
	for (size_t i = 0; i < fds->n; i++) {
		struct pd_fds one = { &fds->fd[i], 1 };
		struct pd_listeners l;

		g->gl[i].g = g;
		g->gl[i].backend_port = ctx->sockets.gate_backend[i];
		if (pd_listeners_open(
		        &l, ctx->base, &one, on_accept, &g->gl[i], err) != 0) {
			pd_gate_free(g);
			return NULL;
		}
		g->lst.ls[g->lst.nls++] = l.ls[0];
		free(l.ls);
	}
	return g;
}

void
pd_gate_free(struct pd_gate *g)
{
	if (g == NULL)
		return;
	while (g->conns != NULL)
		conn_free(g->conns);
	pd_listeners_close(&g->lst);
	free(g->gl);
	free(g);
}
