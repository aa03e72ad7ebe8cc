/* SPDX-License-Identifier: MIT */
/*
 * policyd.h: relaykit-policyd's private interfaces.
 *
 * One process, one libevent loop, no threads: the request parser
 * (pd_request.c, pure), the decisions (pd_policy.c: auth-sender rule,
 * rate-limit rules), the asynchronous Redis client (pd_redis.c), the
 * listeners and connections (pd_server.c) and the metrics (pd_metrics.c).
 *
 * Config: struct pd_state is built from one rk_cfg (one reference) and
 * refcounted; a connection's request holds the state it started with, so
 * a SIGHUP reload never changes the rules under a decision in flight.
 */
#ifndef PD_POLICYD_H
#define PD_POLICYD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rk_cfg.h"
#include "rk_cidr.h"
#include "rk_log.h"
#include "rk_metrics.h"
#include "rk_str.h"

struct event_base;
struct redisReply;
struct rk_redis_script;

/* ------------------------------------------------------------ requests */

/*
 * Limits of one policy request.  Postfix 3.7 sends about 40 attributes
 * of at most a few hundred bytes; anything far past that is not Postfix.
 */
#define PD_LINE_MAX 4096 /* one "name=value\n" line, newline included */
#define PD_ATTR_MAX 128  /* attributes in one request */
#define PD_REQUEST_MAX                                                         \
	(64 << 10) /* bytes of one request, blank line included */

/* The attributes the decisions read; every other one is checked and
   skipped. */
enum pd_attr {
	PD_A_REQUEST,
	PD_A_PROTOCOL_STATE,
	PD_A_PROTOCOL_NAME,
	PD_A_QUEUE_ID,
	PD_A_INSTANCE,
	PD_A_SENDER,
	PD_A_RECIPIENT,
	PD_A_RECIPIENT_COUNT,
	PD_A_CLIENT_ADDRESS,
	PD_A_CLIENT_NAME,
	PD_A_HELO_NAME,
	PD_A_SASL_METHOD,
	PD_A_SASL_USERNAME,
	PD_A_SASL_SENDER,
	PD_A_SIZE,
	PD_A_COUNT
};

/* A value inside the parsed buffer: not NUL-terminated. */
struct pd_slice {
	const char *p;
	size_t len;
};

struct pd_request {
	struct pd_slice attr[PD_A_COUNT]; /* len 0 and p NULL when absent */
	size_t nattrs;                    /* all attributes, known or not */
	size_t consumed; /* bytes of the request, blank line included */
};

enum pd_parse {
	PD_PARSE_OK,   /* a whole request; req filled */
	PD_PARSE_MORE, /* a valid prefix: wait for more bytes */
	PD_PARSE_BAD,  /* malformed: err says why */
};

/*
 * Parses the first request in buf (len bytes, need not be
 * NUL-terminated): "name=value\n" lines up to an empty line.  Pure: no
 * I/O, no allocation; the slices in req point into buf.  Grammar and
 * limits in pd_request.c.
 */
enum pd_parse pd_request_parse(
    const char *buf, size_t len, struct pd_request *req, struct rk_err *err);
/* The attribute's name as Postfix spells it. */
const char *pd_attr_name(enum pd_attr a);
/* true if the attribute is present and equals s (ASCII case-insensitive). */
bool pd_slice_case_eq(struct pd_slice s, const char *str);

/* ------------------------------------------------------------- metrics */

struct pd_metrics {
	struct rk_metrics *reg;
	struct rk_metric *requests;      /* state, action */
	struct rk_metric *rule_hits;     /* rule */
	struct rk_metric *malformed;     /* reason */
	struct rk_metric *timeouts;      /* kind: request, idle */
	struct rk_metric *connections;   /* gauge */
	struct rk_metric *redis_errors;  /* kind */
	struct rk_metric *redis_latency; /* histogram */
	struct rk_metric *fail_mode;     /* mode: open, closed */
	struct rk_metric *reloads;       /* result */
	struct rk_metric *sender_rejects;
	struct rk_metric *duration; /* histogram: request in to answer out */
	struct rk_metric *auth;     /* mechanism, result */
	struct rk_metric *auth_lockout_unavailable;
	struct rk_metric *sasl_malformed; /* reason */
	struct rk_metric *gate;           /* result: forwarded, refused... */
	struct rk_metric *gate_active;    /* gauge */
	struct rk_process *proc;          /* build, process, last reload */
};

void pd_metrics_init(struct pd_metrics *m);
void pd_metrics_fini(struct pd_metrics *m);
/* Every rate-limit rule of cfg gets its rule_hits series, at 0. */
void pd_metrics_rules(struct pd_metrics *m, const struct rk_cfg *cfg);

/* --------------------------------------------------------------- Redis */

struct pd_redis;
struct pd_redis_op;

/*
 * The answer to one script run: reply is borrowed for the callback only,
 * NULL when Redis failed (down, timeout, error reply: err says which).
 */
typedef void pd_redis_cb(
    void *arg, const struct redisReply *reply, const char *err);

/* Takes nothing from cfg after return: options are copied. */
struct pd_redis *pd_redis_new(struct event_base *base,
    const struct rk_cfg_redis *cfg, struct pd_metrics *m);
void pd_redis_free(struct pd_redis *r);
/*
 * Runs the rate-limit script with these keys and args.  cb is called
 * exactly once, never before this returns (failures are reported from
 * the loop too), unless pd_redis_op_cancel() was called first.  Returns
 * a handle for cancelling, borrowed until cb runs or cancel.
 */
struct pd_redis_op *pd_redis_eval(struct pd_redis *r, size_t nkeys,
    const char *const *keys, size_t nargs, const char *const *args,
    pd_redis_cb *cb, void *arg);
/* The same with another script (s borrowed until cb runs). */
struct pd_redis_op *pd_redis_eval_script(struct pd_redis *r,
    const struct rk_redis_script *s, size_t nkeys, const char *const *keys,
    size_t nargs, const char *const *args, pd_redis_cb *cb, void *arg);
void pd_redis_op_cancel(struct pd_redis_op *op);
/* The key prefix, borrowed. */
const char *pd_redis_prefix(const struct pd_redis *r);
bool pd_redis_up(const struct pd_redis *r);

/* ------------------------------------------------------------ decisions */

struct pd_rule {
	const struct rk_cfg_rl_rule *cfg; /* borrowed from state->cfg */
	struct rk_cidr_set *nets;         /* clientAddress match, or NULL */
	char rate[64];                    /* "10/1s" */
};

/* One SASL user: auth.users, then auth.usersFile. */
struct pd_user {
	char *login;  /* owned */
	char *secret; /* owned, wiped on free: crypt(3) hash or clear text */
	bool hashed;
};

/* Everything derived from one config; refcounted, immutable. */
struct pd_state {
	struct rk_cfg *cfg; /* one reference */
	struct pd_rule *rules;
	size_t nrules;
	struct pd_user *users;
	size_t nusers;
	struct rk_cidr_set *proxy_nets; /* mail.proxyTrustedNetworks */
	int refs;
};

/* pd_auth.c: the users of st->cfg (and its usersFile); 0 or -1 with err. */
int pd_users_load(struct pd_state *st, struct rk_err *err);
void pd_users_free(struct pd_state *st);
/* The user of this login (ASCII case-insensitive), or NULL; borrowed. */
const struct pd_user *pd_user_find(
    const struct pd_state *st, const char *login);

/* pd_auth.c: password checks in worker threads, answered on the loop. */
struct pd_crypt_pool;
struct pd_crypt_job;
typedef void pd_crypt_cb(void *arg, bool ok);
struct pd_crypt_pool *pd_crypt_pool_new(struct event_base *base);
void pd_crypt_pool_free(struct pd_crypt_pool *p);
/* u NULL: an unknown login, hashed anyway and refused.  cb runs once on
   the loop unless cancelled; the job is borrowed until then. */
struct pd_crypt_job *pd_crypt_check(struct pd_crypt_pool *p,
    const struct pd_user *u, const char *password, pd_crypt_cb *cb, void *arg);
void pd_crypt_cancel(struct pd_crypt_job *j);
/* --hash: a yescrypt hash of the password on in; the exit status. */
int pd_hash_main(FILE *in, FILE *out, FILE *errf);

/* Takes over cfg's reference on success; on failure (NULL, err filled)
   the caller keeps it. */
struct pd_state *pd_state_new(struct rk_cfg *cfg, struct rk_err *err);
struct pd_state *pd_state_ref(struct pd_state *st);
void pd_state_unref(struct pd_state *st);

/* What the connection remembers between requests. */
#define PD_SEEN_MAX 32
struct pd_txn {
	char instance[64];          /* Postfix's per-transaction id */
	uint64_t seen[PD_SEEN_MAX]; /* per-message counters already counted */
	size_t nseen;
};

/* Listening descriptors of one kind, opened by main (see rk_listen). */
struct pd_fds {
	int *fd;
	size_t n;
};

/* Every socket policyd serves, opened before the worker starts. */
struct pd_sockets {
	struct pd_fds policy;   /* policyd.listen */
	struct pd_fds sasl;     /* policyd.saslListen, with auth.enabled */
	struct pd_fds gate;     /* mail.listeners[] with proxyProtocol */
	struct pd_fds sockmap;  /* policyd.socketmapListen, with pacing */
	uint16_t *gate_backend; /* the loopback port each gate forwards to */
};

struct pd_decision;
/* Delivers the action line ("DUNNO", "DEFER_IF_PERMIT 4.7.1 ..."). */
typedef void pd_answer_fn(void *arg, const char *action);

#define PD_EVENT_LOG_MS 100 /* at most one per-event line each 100 ms */

struct pd_ctx {
	struct event_base *base;
	struct pd_state *state; /* current; swapped on reload */
	struct pd_redis *redis;
	struct pd_metrics metrics;
	struct rk_ratelimit fail_log;
	uint64_t seq; /* for unique script member ids */
	char host_id[48];
	struct pd_crypt_pool *crypt;     /* NULL unless auth.enabled */
	struct rk_ratelimit lockout_log; /* Redis down for the lockout */
	/* per-event lines (a refusal, a deferral, a timed-out client): all
	   of them at a normal pace, at most 10 a second under a flood, the
	   rest counted in the next line and in the metrics */
	struct rk_ratelimit decision_log;
	struct rk_ratelimit timeout_log;
	uint64_t sasl_cuid;        /* connection ids for the handshake */
	struct pd_sockets sockets; /* borrowed from main */
};

/*
 * Decides one parsed request.  answer is called exactly once, maybe
 * before this returns; the returned handle (NULL when answered already)
 * lets the connection cancel a decision in flight when it closes.
 */
struct pd_decision *pd_decide(struct pd_ctx *ctx, const struct pd_request *req,
    struct pd_txn *txn, pd_answer_fn *answer, void *arg);
void pd_decision_cancel(struct pd_decision *d);

/* The Lua script: exposed for the benchmark and the unit tests. */
extern const char pd_ratelimit_lua[];

/* -------------------------------------------------------------- server */

struct pd_server;
struct evconnlistener;
struct sockaddr;
/* The listeners of one server, on descriptors the supervisor owns. */
struct pd_listeners {
	struct evconnlistener **ls;
	size_t nls;
};
/* One listener per descriptor; on error closes what it opened. */
int pd_listeners_open(struct pd_listeners *out, struct event_base *base,
    const struct pd_fds *fds,
    void (*cb)(struct evconnlistener *, int, struct sockaddr *, int, void *),
    void *arg, struct rk_err *err);
void pd_listeners_close(struct pd_listeners *l);
/* Stops or resumes accepting (the maxConnections pause). */
void pd_listeners_enable(struct pd_listeners *l, bool on);
struct pd_server *pd_server_new(struct pd_ctx *ctx, struct rk_err *err);

/* pd_gate.c: the PROXY gate in front of Postfix's PROXY listeners. */
struct pd_gate;
struct pd_gate *pd_gate_new(struct pd_ctx *ctx, struct rk_err *err);
void pd_gate_free(struct pd_gate *g); /* accepts NULL */
void pd_server_free(struct pd_server *s);
uint64_t pd_now_ms(void);
/* Microseconds, for latencies. */
uint64_t pd_now_us(void);

#endif
