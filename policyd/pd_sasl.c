/* SPDX-License-Identifier: MIT */
/*
 * pd_sasl: the SMTP AUTH service on policyd.saslListen, speaking the
 * server side of Dovecot's authentication protocol to Postfix's smtpd
 * (smtpd_sasl_type = dovecot), on the daemon's one loop.
 *
 * A connection gets the handshake at once (VERSION 1 2, a MECH line per
 * auth.methods, SPID, CUID, COOKIE, DONE) and must answer VERSION 1.x.
 * Then one request at a time: AUTH id mech [resp=...] starts it, CONT id
 * carries the next step (PLAIN without initial response: one CONT; LOGIN:
 * user name, then password), and the answer is OK id user=LOGIN or FAIL id
 * reason=...  Later lines wait in the buffer while a password is checked.
 *
 * Answers: a wrong password, unknown login, bad base64 or PLAIN message,
 * unsupported mechanism or AUTH without TLS when auth.requireTls is true
 * get FAIL (smtpd: 535 5.7.8).  A locked-out address or login gets no
 * answer: the connection is closed, which Postfix turns into "454 4.7.0
 * Temporary authentication failure" (a FAIL, even with Dovecot's "temp"
 * flag, is always 535 to Postfix 3.7).  A line Postfix would never send
 * (malformed, over PD_SASL_LINE_MAX, no VERSION first) closes the
 * connection too, as does a partial line that policyd.requestTimeout does
 * not see completed; other connections are not affected.
 *
 * Ownership: a verification holds a state reference, a copy of the
 * password (wiped on free) and at most one Redis operation or crypt job;
 * closing the connection cancels it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "rk_mem.h"
#include "rk_redis.h"
#include "policyd.h"
#include "pd_sasl.h"

/* KEYS: fail:ip lock:ip fail:user lock:user; ARGV: op max window duration.
   Returns the milliseconds a lock has left (0: none). */
static const char lockout_lua[] =
    "local op, max = ARGV[1], tonumber(ARGV[2])\n"
    "local win, dur = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "if op == 'ok' then redis.call('DEL', KEYS[3]) return 0 end\n"
    "local left = 0\n"
    "for i = 1, 3, 2 do\n"
    "  local t = redis.call('PTTL', KEYS[i + 1])\n"
    "  if t > left then left = t end\n"
    "end\n"
    "if op == 'check' or left > 0 then return left end\n"
    "for i = 1, 3, 2 do\n"
    "  local n = redis.call('INCR', KEYS[i])\n"
    "  if n == 1 then redis.call('PEXPIRE', KEYS[i], win) end\n"
    "  if n >= max then\n"
    "    redis.call('SET', KEYS[i + 1], '1', 'PX', dur)\n"
    "    redis.call('DEL', KEYS[i])\n"
    "    left = dur\n"
    "  end\n"
    "end\n"
    "return left\n";

enum sasl_mech { MECH_PLAIN, MECH_LOGIN };
enum sasl_step { STEP_NONE, STEP_PLAIN, STEP_LOGIN_USER, STEP_LOGIN_PASS };

struct pd_sasl_server {
	struct pd_ctx *ctx;
	struct pd_listeners lst;
	struct pd_sconn *conns;
	struct rk_redis_script lockout;
};

struct verify;

struct pd_sconn {
	struct pd_sasl_server *srv;
	struct bufferevent *bev;
	bool got_version;
	bool closing;
	bool no_linger;   /* close as soon as the output is out */
	bool partial;     /* a line has started: requestTimeout runs */
	unsigned long id; /* the request in progress, 0: none */
	enum sasl_step step;
	enum sasl_mech mech;
	bool secured;
	char rip[64];
	char login[PD_SASL_CRED_MAX + 1];
	struct verify *v; /* a password check in flight */
	struct pd_sconn *prev, *next;
};

struct verify {
	struct pd_sconn *c;
	struct pd_state *st;
	struct pd_redis_op *op;
	struct pd_crypt_job *job;
	char *password; /* wiped on free */
	char keys[4][PD_SASL_CRED_MAX + 128];
};

static const char *const mech_names[] = { "PLAIN", "LOGIN" };

#define PD_SASL_LINGER_MS 2000

static void sconn_process(struct pd_sconn *c);

static struct pd_ctx *
sctx(const struct pd_sconn *c)
{
	return c->srv->ctx;
}

static void
verify_free(struct verify *v)
{
	if (v == NULL)
		return;
	pd_redis_op_cancel(v->op);
	pd_crypt_cancel(v->job);
	pd_state_unref(v->st);
	rk_free_secret(v->password);
	free(v);
}

static void
sconn_free(struct pd_sconn *c)
{
	struct pd_sasl_server *s = c->srv;

	verify_free(c->v);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	rk_memzero(c->login, sizeof(c->login));
	free(c);
}

/* The output is out: half-close, wait for the client's end of file. */
static void
sconn_linger(struct pd_sconn *c)
{
	(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
}

/*
 * Closes once the output is out.  Input is read and thrown away until the
 * client closes or PD_SASL_LINGER_MS pass: closing with unread input would
 * make the kernel send a reset instead of an orderly end of file.
 */
static void
sconn_close(struct pd_sconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct timeval tv = { PD_SASL_LINGER_MS / 1000,
		(PD_SASL_LINGER_MS % 1000) * 1000 };

	c->closing = true;
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		sconn_linger(c);
}

/*
 * Closes at once (the output, if any, first): for the lockout, where the
 * input is empty.  Lingering would keep accepting smtpd's next request on
 * this connection only to drop it; closed, smtpd's next write fails and it
 * reconnects, so only the locked request gets the temporary failure.  Over
 * TCP an orderly close is not enough: smtpd's next write would still
 * succeed and only its read fail, failing one more login, so the
 * connection is reset (SO_LINGER 0) instead.
 */
static void
sconn_close_now(struct pd_sconn *c)
{
	struct linger lg = { 1, 0 };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = (int)bufferevent_getfd(c->bev);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	c->closing = true;
	c->no_linger = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		sconn_free(c);
}

static void
sconn_malformed(struct pd_sconn *c, const char *why, const char *reason)
{
	char q[300];

	rk_metric_inc(sctx(c)->metrics.sasl_malformed, RK_LABELS(reason));
	rk_log_warnx("sasl action=close reason=malformed detail=%s",
	    rk_log_quote(q, sizeof(q), why));
	sconn_close(c);
}

static void
request_done(struct pd_sconn *c)
{
	c->id = 0;
	c->step = STEP_NONE;
	rk_memzero(c->login, sizeof(c->login));
}

static void
log_result(struct pd_sconn *c, const char *result, const char *detail)
{
	char q[PD_SASL_CRED_MAX * 4 + 8];

	rk_metric_inc(
	    sctx(c)->metrics.auth, RK_LABELS(mech_names[c->mech], result));
	rk_log_info("sasl method=%s login=%s client=%s result=%s%s%s",
	    mech_names[c->mech], rk_log_quote(q, sizeof(q), c->login),
	    c->rip[0] ? c->rip : "-", result, detail ? " reason=" : "",
	    detail ? detail : "");
}

static void
answer_fail(struct pd_sconn *c, const char *reason)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "FAIL\t%lu\treason=%s\n", c->id, reason);
	request_done(c);
}

static void
answer_cont(struct pd_sconn *c, const char *b64, enum sasl_step next)
{
	evbuffer_add_printf(
	    bufferevent_get_output(c->bev), "CONT\t%lu\t%s\n", c->id, b64);
	c->step = next;
}

/* ---------------------------------------------------------- lockout */

static void
lockout_unavailable(struct pd_ctx *ctx, const char *why)
{
	unsigned long suppressed = 0;

	rk_metric_inc(ctx->metrics.auth_lockout_unavailable, NULL);
	if (rk_ratelimit_allow(&ctx->lockout_log, pd_now_ms(), &suppressed))
		rk_log_warnx("auth lockout unavailable: redis %s; nobody is "
		             "locked out suppressed=%lu",
		    why, suppressed);
}

static struct pd_redis_op *
lockout_op(struct pd_sconn *c, struct verify *v, const char *op,
    pd_redis_cb *cb, void *arg)
{
	const struct rk_cfg_auth *a = &v->st->cfg->auth;
	const char *keys[4] = { v->keys[0], v->keys[1], v->keys[2],
		v->keys[3] };
	char max[24], win[24], dur[24];
	const char *args[4] = { op, max, win, dur };

	snprintf(max, sizeof(max), "%lld", (long long)a->lockout.maxFailures);
	snprintf(
	    win, sizeof(win), "%llu", (unsigned long long)a->lockout.window);
	snprintf(
	    dur, sizeof(dur), "%llu", (unsigned long long)a->lockout.duration);
	return pd_redis_eval_script(
	    sctx(c)->redis, &c->srv->lockout, 4, keys, 4, args, cb, arg);
}

struct after {
	struct pd_ctx *ctx;
	char login[PD_SASL_CRED_MAX + 1];
	char rip[64];
};

/* The failure is counted; say so when it locked someone out. */
static void
on_counted(void *arg, const redisReply *rep, const char *err)
{
	struct after *a = arg;
	char q[PD_SASL_CRED_MAX * 4 + 8];

	if (rep == NULL || rep->type != REDIS_REPLY_INTEGER)
		lockout_unavailable(a->ctx, err ? err : "bad reply");
	else if (rep->integer > 0)
		rk_log_warnx("sasl action=lockout login=%s client=%s "
		             "duration_ms=%lld",
		    rk_log_quote(q, sizeof(q), a->login), a->rip,
		    (long long)rep->integer);
	free(a);
}

static void
count_result(struct pd_sconn *c, struct verify *v, bool ok)
{
	struct after *a = rk_calloc(1, sizeof(*a));

	a->ctx = sctx(c);
	snprintf(a->login, sizeof(a->login), "%s", c->login);
	snprintf(a->rip, sizeof(a->rip), "%s", c->rip[0] ? c->rip : "-");
	(void)lockout_op(c, v, ok ? "ok" : "fail", on_counted, a);
}

/* ----------------------------------------------------------- verify */

static void
verify_finish(struct pd_sconn *c)
{
	verify_free(c->v);
	c->v = NULL;
	sconn_process(c);
}

static void
on_crypt(void *arg, bool ok)
{
	struct pd_sconn *c = arg;
	struct verify *v = c->v;

	v->job = NULL;
	count_result(c, v, ok);
	if (ok) {
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "OK\t%lu\tuser=%s\n", c->id, c->login);
		log_result(c, "ok", NULL);
		request_done(c);
	} else {
		log_result(c, "fail", "bad_credentials");
		answer_fail(c, "Invalid user name or password");
	}
	verify_finish(c);
}

static void
on_check(void *arg, const redisReply *rep, const char *err)
{
	struct pd_sconn *c = arg;
	struct verify *v = c->v;

	v->op = NULL;
	if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
		lockout_unavailable(sctx(c), err ? err : "bad reply");
	} else if (rep->integer > 0) {
		char d[64];

		snprintf(d, sizeof(d), "locked_out retry_ms=%lld",
		    (long long)rep->integer);
		log_result(c, "locked", d);
		verify_free(v);
		c->v = NULL;
		sconn_close_now(c); /* Postfix: 454 4.7.0 */
		return;
	}
	v->job = pd_crypt_check(sctx(c)->crypt, pd_user_find(v->st, c->login),
	    v->password, on_crypt, c);
}

static void
key_printf(char *buf, size_t n, const char *prefix, const char *kind,
    const char *value)
{
	size_t o = (size_t)snprintf(buf, n, "%sauth:%s:", prefix, kind);

	for (const char *p = value; *p != '\0' && o + 1 < n; p++)
		buf[o++] = rk_ascii_lower(*p);
	buf[o < n ? o : n - 1] = '\0';
}

/* Login and password known: lockout first, then the hash. */
static void
verify_start(struct pd_sconn *c, const char *password, size_t plen)
{
	struct verify *v = rk_calloc(1, sizeof(*v));
	const char *prefix = pd_redis_prefix(sctx(c)->redis);
	const char *rip = c->rip[0] ? c->rip : "unknown";

	v->c = c;
	v->st = pd_state_ref(sctx(c)->state);
	v->password = rk_strndup(password, plen);
	key_printf(v->keys[0], sizeof(v->keys[0]), prefix, "fail:ip", rip);
	key_printf(v->keys[1], sizeof(v->keys[1]), prefix, "lock:ip", rip);
	key_printf(
	    v->keys[2], sizeof(v->keys[2]), prefix, "fail:user", c->login);
	key_printf(
	    v->keys[3], sizeof(v->keys[3]), prefix, "lock:user", c->login);
	c->v = v;
	v->op = lockout_op(c, v, "check", on_check, c);
}

/* ------------------------------------------------------- mechanisms */

static int
decode(struct pd_sconn *c, struct pd_sasl_str b64, unsigned char *out, size_t n,
    size_t *len)
{
	long r = pd_base64_decode(b64.p, b64.len, out, n);

	if (r < 0) {
		log_result(c, "fail", "bad_base64");
		answer_fail(c, "Invalid base64 data");
		return -1;
	}
	*len = (size_t)r;
	return 0;
}

static void
step_plain(struct pd_sconn *c, struct pd_sasl_str b64)
{
	unsigned char msg[3 * PD_SASL_CRED_MAX + 8];
	struct pd_sasl_str login, password;
	struct rk_err err;
	size_t len;

	if (decode(c, b64, msg, sizeof(msg), &len) != 0)
		return;
	if (pd_sasl_plain(msg, len, &login, &password, &err) != 0) {
		log_result(c, "fail", "bad_plain_message");
		answer_fail(c, "Invalid PLAIN message");
	} else {
		memcpy(c->login, login.p, login.len);
		c->login[login.len] = '\0';
		verify_start(c, password.p, password.len);
	}
	rk_memzero(msg, sizeof(msg));
}

static void
step_login(struct pd_sconn *c, struct pd_sasl_str b64)
{
	unsigned char buf[PD_SASL_CRED_MAX + 8];
	bool user = c->step == STEP_LOGIN_USER;
	struct rk_err err;
	size_t len;

	if (decode(c, b64, buf, sizeof(buf), &len) != 0)
		return;
	if (pd_sasl_login_field(buf, len, user, &err) != 0) {
		log_result(c, "fail", user ? "bad_login" : "bad_password");
		answer_fail(c, "Invalid user name or password");
	} else if (user) {
		memcpy(c->login, buf, len);
		c->login[len] = '\0';
		answer_cont(c, "UGFzc3dvcmQ6", STEP_LOGIN_PASS); /* Password: */
	} else {
		verify_start(c, (const char *)buf, len);
	}
	rk_memzero(buf, sizeof(buf));
}

static void
on_step(struct pd_sconn *c, struct pd_sasl_str b64)
{
	if (c->step == STEP_PLAIN)
		step_plain(c, b64);
	else
		step_login(c, b64);
}

static bool
mech_allowed(const struct rk_cfg_auth *a, enum sasl_mech m)
{
	for (size_t i = 0; i < a->nmethods; i++)
		if (a->methods[i] ==
		    (m == MECH_PLAIN ? RK_AUTH_PLAIN : RK_AUTH_LOGIN))
			return true;
	return false;
}

static void
on_auth(struct pd_sconn *c, const struct pd_sasl_cmd *cmd)
{
	const struct rk_cfg_auth *a = &sctx(c)->state->cfg->auth;
	bool plain =
	    cmd->mech.len == 5 && rk_mem_case_eq(cmd->mech.p, "PLAIN", 5);
	bool login =
	    cmd->mech.len == 5 && rk_mem_case_eq(cmd->mech.p, "LOGIN", 5);

	request_done(c);
	c->id = cmd->id;
	c->secured = cmd->secured;
	snprintf(c->rip, sizeof(c->rip), "%.*s",
	    (int)(cmd->rip.len < sizeof(c->rip) ? cmd->rip.len : 0),
	    cmd->rip.p ? cmd->rip.p : "");
	c->mech = login ? MECH_LOGIN : MECH_PLAIN;
	if ((!plain && !login) || !mech_allowed(a, c->mech)) {
		log_result(c, "fail", "unsupported_mechanism");
		answer_fail(c, "Unsupported authentication mechanism");
		return;
	}
	if (!a->enabled) {
		log_result(c, "fail", "auth_disabled");
		answer_fail(c, "Authentication is not enabled");
		return;
	}
	if (a->requireTls && !cmd->secured) {
		log_result(c, "fail", "tls_required");
		answer_fail(c, "Encryption required");
		return;
	}
	if (plain) {
		c->step = STEP_PLAIN;
		if (cmd->has_resp && cmd->resp.len > 0)
			step_plain(c, cmd->resp);
		else
			answer_cont(c, "", STEP_PLAIN);
	} else {
		c->step = STEP_LOGIN_USER;
		if (cmd->has_resp && cmd->resp.len > 0)
			step_login(c, cmd->resp);
		else
			answer_cont(c, "VXNlcm5hbWU6", STEP_LOGIN_USER);
	}
}

/* One parsed line; false when the connection is closing. */
static bool
on_command(struct pd_sconn *c, const struct pd_sasl_cmd *cmd)
{
	if (!c->got_version && cmd->type != PD_SASL_VERSION) {
		sconn_malformed(c, "no VERSION first", "no_version");
		return false;
	}
	switch (cmd->type) {
	case PD_SASL_VERSION:
		if (cmd->major != 1) {
			sconn_malformed(
			    c, "protocol version is not 1.x", "version");
			return false;
		}
		c->got_version = true;
		break;
	case PD_SASL_AUTH:
		on_auth(c, cmd);
		break;
	case PD_SASL_CONT:
		if (cmd->id != c->id || c->step == STEP_NONE) {
			unsigned long id = c->id;

			c->id = cmd->id;
			answer_fail(c, "Unexpected continuation");
			c->id = id;
			break;
		}
		on_step(c, cmd->resp);
		break;
	default:
		break; /* CPID, and what newer clients may add */
	}
	return true;
}

/*
 * smtpd keeps its connection for as long as the process lives, idle
 * between logins, so only a partial line has a deadline:
 * policyd.requestTimeout from when it was seen incomplete.
 */
static void
arm_timeout(struct pd_sconn *c, bool partial)
{
	struct timeval tv;
	uint64_t ms = sctx(c)->state->cfg->policyd.requestTimeout;

	if (partial == c->partial)
		return;
	c->partial = partial;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	bufferevent_set_timeouts(c->bev, partial ? &tv : NULL, NULL);
}

static void
sconn_process(struct pd_sconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->v == NULL && !c->closing) {
		size_t len = evbuffer_get_length(in), n;
		struct pd_sasl_cmd cmd;
		struct rk_err err;
		const char *buf;

		if (len == 0) {
			arm_timeout(c, false);
			return;
		}
		n = len < PD_SASL_LINE_MAX ? len : PD_SASL_LINE_MAX;
		buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		switch (pd_sasl_parse(buf, n, &cmd, &err)) {
		case PD_SASL_MORE:
			arm_timeout(c, true);
			return;
		case PD_SASL_BAD:
			sconn_malformed(c, err.msg,
			    strstr(err.msg, "longer") ? "too_long" : "syntax");
			return;
		case PD_SASL_OK:
			break;
		}
		if (!on_command(c, &cmd))
			return;
		rk_memzero(evbuffer_pullup(in, (ev_ssize_t)cmd.consumed),
		    cmd.consumed);
		evbuffer_drain(in, cmd.consumed);
	}
}

/* -------------------------------------------------------- the wire */

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct pd_sconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->closing) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	sconn_process(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct pd_sconn *c = arg;

	(void)bev;
	if (c->closing && c->no_linger)
		sconn_free(c);
	else if (c->closing)
		sconn_linger(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pd_sconn *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && !c->closing) {
		rk_metric_inc(sctx(c)->metrics.timeouts, RK_LABELS("sasl"));
		rk_log_warnx("sasl action=close reason=request_timeout");
	}
	sconn_free(c);
}

static void
send_handshake(struct pd_sconn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct rk_cfg_auth *a = &sctx(c)->state->cfg->auth;
	unsigned char rnd[16];

	evbuffer_add_printf(out, "VERSION\t1\t2\n");
	for (int m = MECH_PLAIN; m <= MECH_LOGIN; m++)
		if (mech_allowed(a, (enum sasl_mech)m))
			evbuffer_add_printf(
			    out, "MECH\t%s\tplaintext\n", mech_names[m]);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	evbuffer_add_printf(out, "SPID\t%ld\nCUID\t%llu\nCOOKIE\t",
	    (long)getpid(), (unsigned long long)++sctx(c)->sasl_cuid);
	for (size_t i = 0; i < sizeof(rnd); i++)
		evbuffer_add_printf(out, "%02x", rnd[i]);
	evbuffer_add_printf(out, "\nDONE\n");
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct pd_sasl_server *s = arg;
	struct pd_sconn *c = rk_calloc(1, sizeof(*c));

	(void)l;
	(void)sa;
	(void)salen;
	c->srv = s;
	c->bev =
	    bufferevent_socket_new(s->ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * PD_SASL_LINE_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	send_handshake(c);
}

struct pd_sasl_server *
pd_sasl_server_new(struct pd_ctx *ctx, struct rk_err *err)
{
	struct pd_sasl_server *s = rk_calloc(1, sizeof(*s));

	s->ctx = ctx;
	rk_redis_script_init(&s->lockout, lockout_lua);
	if (pd_listeners_open(
	        &s->lst, ctx->base, &ctx->sockets.sasl, on_accept, s, err)) {
		free(s);
		return NULL;
	}
	return s;
}

void
pd_sasl_server_free(struct pd_sasl_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		sconn_free(s->conns);
	pd_listeners_close(&s->lst);
	free(s);
}
