/* SPDX-License-Identifier: MIT */
/*
 * pd_sockmap.h: Postfix's socketmap protocol (socketmap_table(5)) and the
 * pacing table relaykit-policyd serves with it on
 * policyd.socketmapListen.
 *
 * A request is one netstring, "LEN:NAME KEY,"; the answer one netstring,
 * "LEN:OK VALUE," / "NOTFOUND " / "TEMP reason" / "PERM reason".  The
 * queue manager's trivial-rewrite asks "pace user@domain" for every
 * recipient it schedules (a socketmap is a pattern table to Postfix: it
 * gets the whole address, never the domain alone).
 *
 * pd_sockmap_proto.c is the pure part (framing, keys, replies), fuzzed
 * by t/fuzz/fuzz_sockmap.c; pd_sockmap.c runs the connections on the
 * daemon's loop; pd_pace.c answers from memory, with each destination's
 * delay and warm-up use refreshed from Redis in the background.
 */
#ifndef PD_SOCKMAP_H
#define PD_SOCKMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rk_str.h"

/* A request's netstring payload, at most: Postfix sends a map name and
   an address (smtpd's line limit keeps those far smaller). */
#define PD_SM_MAX 4096

struct pd_sm_str {
	const char *p;
	size_t len;
};

struct pd_sm_req {
	struct pd_sm_str name; /* empty when the payload has no space */
	struct pd_sm_str key;
	size_t consumed; /* bytes of the netstring, comma included */
};

enum pd_sm_parse {
	PD_SM_OK,   /* one netstring; req filled (name may be empty) */
	PD_SM_MORE, /* a valid prefix: wait for more bytes */
	PD_SM_BAD,  /* not a netstring (or over PD_SM_MAX): err says why;
	               the stream cannot be trusted any more */
};

/* Parses the first netstring in buf (len bytes, need not be
   NUL-terminated).  Pure: the slices point into buf. */
enum pd_sm_parse pd_sockmap_parse(
    const char *buf, size_t len, struct pd_sm_req *req, struct rk_err *err);

/*
 * The domain of a lookup key: after the last '@' of an address, a bare
 * domain as is, ".domain" (a parent-style key) without its dot.  false
 * for keys that name no domain ("*", "user@", empty).
 */
bool pd_sockmap_domain(struct pd_sm_str key, struct pd_sm_str *domain);

/* Appends the netstring "LEN:STATUS TEXT," (status OK, NOTFOUND, TEMP,
   PERM; text may be empty); control characters in text become '?'. */
void pd_sockmap_reply(struct rk_buf *out, const char *status, const char *text);

/* -------------------------------------------------------------- pacing */

struct pd_ctx;
struct pd_pace;

/* The pacing table: NULL when adaptiveRate is off. */
struct pd_pace *pd_pace_new(struct pd_ctx *ctx, struct rk_err *err);
void pd_pace_free(struct pd_pace *p);
/* After a reload: the listed destinations of the new configuration. */
void pd_pace_reload(struct pd_pace *p);
/* Answers one lookup key of the map RK_PACE_MAP into status and text
   ("OK" "rk_pace_5s:", "NOTFOUND" ""); never waits. */
void pd_pace_lookup(struct pd_pace *p, struct pd_sm_str key,
    const char **status, struct rk_buf *text);

/* The socketmap service on ctx->sockets.sockmap. */
struct pd_sm_server;
struct pd_sm_server *pd_sm_server_new(
    struct pd_ctx *ctx, struct pd_pace *pace, struct rk_err *err);
void pd_sm_server_free(struct pd_sm_server *s);

/* --pacing: prints every destination's state from Redis; the exit
   status. */
int pd_pace_status(const char *cfgpath, FILE *out, FILE *errf);

#endif
