/* SPDX-License-Identifier: MIT */
/*
 * relaykit-milter's private header: the shared state, the per-connection
 * and per-message contexts, and the pipeline of checks a message passes.
 *
 * Threading: libmilter runs one thread per connection.  Everything a
 * connection or message owns is touched by that thread only.  What all
 * threads share is the server (its mutex guards the current state
 * pointer) and the state itself, which is immutable and refcounted: a
 * message takes a reference at MAIL FROM and keeps config and keys until
 * it ends, so a reload (SIGHUP) never changes anything under it.
 */
#ifndef MILTER_H
#define MILTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#include "rk_addr.h"
#include "rk_cfg.h"
#include "rk_inauth.h"
#include "rk_metrics.h"
#include "rk_redis_pool.h"
#include "rk_sender.h"

#include "mlt_dkim.h"
#include "mlt_keys.h"

/* Config and keys of one (re)load.  Immutable; use mlt_state_ref/unref. */
struct mlt_state {
	struct rk_cfg *cfg;
	struct mlt_keys *keys;
	char **hnames;  /* lower-case names worth keeping: signed + From, */
	size_t nhnames; /* then those VERP and the metadata read */
	size_t nsigned; /* the first nsigned names are the signed ones */
	struct rk_sender_rules *senders; /* senderValidation, compiled */
	struct rk_inauth_dns *dns;       /* inbound.security's DNS, or NULL */
	struct rk_inauth *inauth;        /* inbound.security, or NULL */
	_Atomic int refs;
};

/* Takes ownership of cfg's reference.  NULL when a key fails (err). */
struct mlt_state *mlt_state_new(struct rk_cfg *cfg, struct rk_err *err);
struct mlt_state *mlt_state_ref(struct mlt_state *st);
void mlt_state_unref(struct mlt_state *st); /* accepts NULL */

struct mlt_metrics {
	struct rk_metrics *reg;
	struct rk_metric
	    *messages; /* result: signed|unsigned|rejected|tempfail */
	struct rk_metric *unsigned_;  /* reason */
	struct rk_metric *signatures; /* algorithm */
	struct rk_metric *eom_seconds;
	struct rk_metric *reloads;        /* result: ok|failed */
	struct rk_metric *sender_rejects; /* reason */
	struct rk_metric *verp;           /* result: rewritten|failed */
	struct rk_metric *redis_errors;   /* what: verp_store|metadata */
	struct rk_process *proc;          /* build, process, last reload */
};

struct mlt_server {
	pthread_mutex_t lock; /* guards cur */
	struct mlt_state *cur;
	struct mlt_metrics m; /* lock-free updates */
	const char *cfgpath;
	struct rk_redis_pool *redis;     /* VERP references and metadata */
	_Atomic uint64_t redis_log_next; /* next outage log line, s */
	_Atomic bool listening;          /* for /readyz */
};

/* The current state, with a reference the caller drops. */
struct mlt_state *mlt_server_state(struct mlt_server *srv);
/* Swaps in st (takes its reference); the old one goes when unused. */
void mlt_server_swap(struct mlt_server *srv, struct mlt_state *st);

enum mlt_verdict {
	MLT_CONTINUE, /* this check wants more of the message */
	MLT_DONE,     /* this check has decided to let it pass */
	MLT_REJECT,   /* msg->reply says why */
	MLT_TEMPFAIL,
};

struct mlt_msg_dkim; /* mlt_sign.c */

struct mlt_msg {
	struct mlt_server *srv;
	struct mlt_state *st; /* referenced at MAIL FROM */
	char queue_id[32];
	struct mlt_hdr *hdrs; /* the fields hnames lists, in order */
	size_t nhdrs;
	size_t hbytes;
	bool htoo_large;
	size_t nfrom;
	bool leadspc; /* header values keep their leading space */
	struct {
		char code[4], xcode[8];
		char text[256];
	} reply;
	struct mlt_msg_dkim *dkim;
	char sender[RK_ADDR_PATH_MAX * 2]; /* normalised envelope sender */
	bool null_sender;                  /* MAIL FROM:<> */
	struct rk_buf rcpts;               /* "a@x,b@y" */
	uint64_t size;                     /* body bytes */
	bool inbound;             /* a stranger's mail: passes untouched */
	struct rk_inauth_msg *ia; /* inbound checks, for inbound.recipients */
};

struct mlt_conn {
	struct mlt_server *srv;
	unsigned long pflags; /* negotiated SMFIP_ flags */
	struct mlt_msg *msg;
	bool seen_connect;  /* the MTA told us who the client is */
	bool local_submit;  /* Postfix's own (non-SMTP) submission */
	char client_ip[64]; /* text; "" when not IP */
	char helo[256];
};

/*
 * A check: one step of the pipeline every message goes through (DKIM
 * sender validation, DKIM signing, VERP).  Hooks may be NULL.  envfrom
 * judges the envelope sender (msg->sender); eoh decides whether the
 * check wants the body; eom may modify the message through ctx.  free
 * releases what the check hung on msg.
 */
struct mlt_check {
	const char *name;
	enum mlt_verdict (*envfrom)(struct mlt_msg *msg);
	enum mlt_verdict (*eoh)(struct mlt_msg *msg);
	void (*body)(struct mlt_msg *msg, const unsigned char *p, size_t n);
	enum mlt_verdict (*eom)(struct mlt_msg *msg, SMFICTX *ctx);
	void (*free)(struct mlt_msg *msg);
};

extern const struct mlt_check mlt_check_sender;
extern const struct mlt_check mlt_check_dkim;
extern const struct mlt_check mlt_check_verp;

/* The address of the message's single From header; 0 or -1. */
int mlt_msg_from_address(const struct mlt_msg *msg, char *out, size_t n);

/* mlt_inbound.c: outbound or not, and the inbound checks. */
void mlt_client_set(
    struct mlt_conn *c, const char *host, const struct sockaddr *sa);
bool mlt_outbound(const struct mlt_state *st, const struct mlt_conn *c,
    const char *auth_authen);
bool mlt_inbound_rcpt(const struct mlt_state *st, const char *rcpt);
int mlt_inbound_state(struct mlt_state *st, struct rk_err *err);
void mlt_inbound_state_free(struct mlt_state *st);
void mlt_inbound_begin(struct mlt_msg *m, const struct mlt_conn *c);
enum mlt_verdict mlt_inbound_eom(struct mlt_msg *m);

/* mlt_conn.c: registers the callbacks with libmilter for srv. */
int mlt_conn_register(struct mlt_server *srv);
#endif
