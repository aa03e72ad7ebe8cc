/* SPDX-License-Identifier: MIT */
/*
 * rk_event: the one event schema every relaykit program speaks.  An event
 * is one outcome for one recipient (queued, delivered, deferred, bounced,
 * expired from relaykit-eventd; bounce_received, complaint from
 * relaykit-bounce).  The Redis Stream entry, the webhook body, the
 * `--parse` output and the dashboard carry the same JSON object, built
 * here and described by man/relaykit-event.schema.json (the tests
 * validate every payload against it).
 *
 * Non-goals: transport.  Producers write the JSON to the stream (see
 * rk_event_stream_key); consumers forward it unchanged.
 *
 * Ownership: struct rk_event only borrows its strings; rk_event_json
 * returns a string the caller frees with free(3).  Every function is
 * thread-safe on its own arguments (no globals).
 */
#ifndef RK_EVENT_H
#define RK_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rk_str.h"

enum rk_event_type {
	RK_EVT_QUEUED,
	RK_EVT_DELIVERED,
	RK_EVT_DEFERRED,
	RK_EVT_BOUNCED,
	RK_EVT_EXPIRED,
	RK_EVT_BOUNCE_RECEIVED,
	RK_EVT_COMPLAINT,
	RK_EVT_NTYPES
};

/* The four stages of Postfix's delays=a/b/c/d, in that order. */
enum rk_event_stage {
	RK_STAGE_BEFORE_QUEUE,
	RK_STAGE_QUEUE_MANAGER,
	RK_STAGE_CONNECTION,
	RK_STAGE_TRANSMISSION,
	RK_STAGE_N
};

/*
 * inbound.security's verdicts on a received report: RFC 8601 result
 * words ("pass", "fail", ...) and the domains they are about.
 */
struct rk_event_auth {
	const char *spf, *spf_domain;
	const char *dkim, *dkim_domain;
	const char *dmarc, *dmarc_policy, *from_domain;
};

/* Details of a report received by relaykit-bounce. */
struct rk_event_report {
	const char *reason;        /* sisimai's vocabulary: userunknown, ... */
	int hard;                  /* 1 hard, 0 soft, -1 unknown */
	const char *action;        /* DSN Action: failed, delayed, ... */
	const char *remote_mta;    /* Remote-MTA / Reporting-MTA */
	const char *diagnostic;    /* the remote diagnostic text */
	const char *feedback_type; /* ARF: abuse, auth-failure, ... */
	const char *user_agent;    /* ARF User-Agent */
	const char *verp;          /* the VERP address it came back to */
	const char *reporter;      /* envelope sender of the report */
	const struct rk_event_auth *auth; /* NULL: not checked */
};

/*
 * One event.  NULL strings and negative numbers mean "unknown" and are
 * written as JSON null, so every payload has the same keys.
 */
struct rk_event {
	enum rk_event_type type;
	const char *id;     /* unique, stable: the webhook-id */
	int64_t time_ms;    /* when it happened, ms since the epoch (UTC) */
	const char *host;   /* the relay that logged or received it */
	const char *source; /* "eventd", "bounce" */
	const char *queue_id;
	const char *message_id; /* Message-ID header, as written */
	const char *client_id;  /* the application's id header value */
	const char *from;       /* envelope sender ("" for <>) */
	const char *to;         /* the recipient */
	const char *orig_to;    /* original recipient, before aliasing */
	const char *subject;
	const char *relay;    /* "mx.example.com[192.0.2.1]:25", "none" */
	const char *dsn;      /* "2.0.0" */
	const char *status;   /* Postfix's word: sent, deferred, bounced... */
	const char *response; /* the remote reply or Postfix's reason */
	const char *tls;      /* Postfix 3.11+ tls= field, else NULL */
	int64_t delay_ms;     /* total delay; -1 unknown */
	int64_t delays_ms[RK_STAGE_N]; /* -1 unknown */
	int64_t attempt;               /* delivery attempt, 1-based; -1 */
	int64_t size;                  /* message bytes; -1 */
	int64_t nrcpt;                 /* recipients (queued); -1 */
	const struct rk_event_report *report; /* bounce_received, complaint */
};

/* Sets every field to unknown. */
void rk_event_init(struct rk_event *ev, enum rk_event_type type);

/* "delivered" ...; "unknown" out of range. */
const char *rk_event_type_name(int type);
/* The type for a name; -1 if none. */
int rk_event_type_parse(const char *name);

/*
 * The event as one line of compact JSON (no newline), keys in a fixed
 * order.  Invalid UTF-8 in a string is replaced (U+FFFD) rather than
 * dropping the event.  Caller frees with free(3).
 */
char *rk_event_json(const struct rk_event *ev);
/* The same, appended to out (no newline). */
void rk_event_json_buf(const struct rk_event *ev, struct rk_buf *out);

/*
 * A stable id for an event: "evt_" and 32 hex digits of SHA-256 over the
 * given parts (each NUL-terminated, NULL counted as empty).  Producers
 * pass what identifies the outcome, so reading the same log line twice
 * gives the same id.  out must hold RK_EVENT_ID_LEN bytes.
 */
#define RK_EVENT_ID_LEN 37
char *rk_event_make_id(char *out, size_t nparts, const char *const *parts);

/*
 * "2026-11-30T05:14:28.123Z" for ms since the epoch.  out must hold
 * RK_EVENT_TIME_LEN bytes.  Returns out.
 */
#define RK_EVENT_TIME_LEN 32
char *rk_event_time(int64_t ms, char *out);

/*
 * The Redis Stream every producer appends to: prefix + "events".  Entries
 * have two fields: "type" (the name) and "json" (rk_event_json).
 */
#define RK_EVENT_STREAM "events"
#define RK_EVENT_F_TYPE "type"
#define RK_EVENT_F_JSON "json"

#endif
