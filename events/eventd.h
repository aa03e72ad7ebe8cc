/* SPDX-License-Identifier: MIT */
/*
 * relaykit-eventd's private header.  The pipeline, one direction:
 *
 *   ev_follow (the log file, rotations, restart position)
 *     -> ev_line (one line: pure parser, fuzzed)
 *     -> ev_track (per-message state: the events a line makes)
 *     -> ev_store (Redis: events, message state and log position in one
 *        transaction per batch)
 *   ev_stats counts every line for the Prometheus metrics.
 *
 * Threading: the follower, parser, tracker and store run on one thread
 * (the "reader"); the HTTP server (metrics, health) runs on the main
 * thread's loop.  They share only the metrics registry (lock-free) and a
 * few atomics.
 */
#ifndef EV_EVENTD_H
#define EV_EVENTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rk_event.h"
#include "rk_metrics.h"
#include "rk_str.h"

/* ------------------------------------------------------------- ev_line */

/* A piece of the line being parsed: not NUL-terminated. */
struct ev_str {
	const char *p;
	size_t n;
};

/* A line longer than this is cut (syslog daemons cut at 1024..8192). */
#define EV_LINE_MAX 16384

enum ev_kind {
	EV_L_NONE,        /* not a Postfix line (another program) */
	EV_L_UNSUPPORTED, /* Postfix, but a form we do not read */
	EV_L_INFO,        /* read, nothing to count or track */
	EV_L_DELIVERY,    /* QID: to=<>, relay=, ..., status=word (text) */
	EV_L_QUEUED,     /* qmgr QID: from=<>, size=N, nrcpt=N (queue active) */
	EV_L_EXPIRED,    /* qmgr QID: from=<>, status=expired, returned ... */
	EV_L_REMOVED,    /* qmgr QID: removed */
	EV_L_MESSAGE_ID, /* cleanup QID: message-id=<> */
	EV_L_CLEANUP_REJECT, /* cleanup QID: (milter-)reject: ... */
	EV_L_CLIENT,         /* smtpd QID: client=host[ip], sasl_... */
	EV_L_CONNECT,        /* smtpd connect from */
	EV_L_DISCONNECT,     /* smtpd disconnect from */
	EV_L_SMTPD_REJECT,   /* smtpd NOQUEUE: reject: RCPT from ...: CODE */
	EV_L_LOST,           /* smtpd lost connection after STAGE from */
	EV_L_SASL_FAILED, /* smtpd warning: ...: SASL X authentication failed */
	EV_L_FCRDNS,      /* smtpd warning: hostname X does not resolve */
	EV_L_TLS,         /* smtp(d) Trust TLS connection established */
	EV_L_TIMED_OUT,   /* smtp connect to host[ip]:port: Connection timed out
	                   */
	EV_L_NOTIFY,      /* bounce QID: sender non-delivery notification: Q2 */
};

struct ev_line {
	int64_t time_ms; /* UTC */
	struct ev_str host, instance, service, level, qid;
	enum ev_kind kind;
	/* EV_L_DELIVERY */
	struct ev_str to, orig_to, relay, dsn, status, response, tls;
	int64_t delay_ms, delays_ms[RK_STAGE_N];
	bool truncated; /* the response's closing parenthesis is missing */
	/* EV_L_QUEUED, EV_L_EXPIRED */
	struct ev_str from;
	int64_t size, nrcpt;
	bool forced; /* force-expired */
	/* EV_L_MESSAGE_ID */
	struct ev_str message_id;
	/* smtpd */
	struct ev_str sasl_method, code, stage;
	/* EV_L_TLS: trust, protocol, cipher, secret bits, algorithm bits */
	struct ev_str tls_f[5];
	bool tls_outgoing;
	/* EV_L_NOTIFY */
	struct ev_str child;
};

/* What dating BSD timestamps costs once per hour of log, not per line:
   zero it before first use; one per thread. */
struct ev_clock {
	int64_t now_s;
	int year, mon, day; /* now's local date */
	int64_t key;        /* the cached local hour, yyyymmddhh */
	int64_t hour_utc;   /* its start, seconds since the epoch */
};

/*
 * Parses one log line (without its newline; need not be NUL-terminated)
 * into out, whose strings point into buf.  now_ms dates BSD timestamps,
 * which carry no year (a date more than a day ahead is last year's) and
 * no zone (local time); clk (NULL: none) caches that work.  Returns 0,
 * or -1 when the line has no syslog shape at all (then out->kind is
 * EV_L_UNSUPPORTED with no service).  No I/O, no allocation; thread-safe
 * with a clock per thread.
 */
int ev_line_parse(const char *buf, size_t len, int64_t now_ms,
    struct ev_clock *clk, struct ev_line *out);

/* "QID" of a line: 5 to 20 letters and digits (short and long ids). */
bool ev_is_qid(const char *p, size_t n);

/* ------------------------------------------------------------ ev_track */

/*
 * What is known of one message, as kept in Redis next to the milter's
 * metadata (<prefix>msg:<queue id>), so a restarted eventd (or another
 * host reading the same queue's log) goes on where it stopped.
 */
struct ev_rcpt {
	char *addr;
	int64_t attempts; /* delivery attempts logged so far */
	bool pending;     /* its last outcome was deferred */
	bool dirty;
};
struct ev_msg {
	char qid[24];
	char *from, *message_id, *client_id, *subject;
	int64_t size, nrcpt;
	bool queued;   /* the queued event was sent */
	bool restored; /* Redis state merged in */
	bool dirty;    /* changed since the store last wrote it */
	bool removed;  /* qmgr removed it: freed once written */
	struct ev_rcpt *r;
	size_t nr;
	struct ev_msg *hnext, *prev, *next; /* hash chain, age list */
};

struct ev_track;

/* Called for every event the tracker makes (ev borrowed for the call). */
typedef void ev_emit_fn(void *arg, const struct rk_event *ev);

/* max_msgs: messages kept in memory (the oldest clean ones go first). */
struct ev_track *ev_track_new(size_t max_msgs, ev_emit_fn *emit, void *arg);
void ev_track_free(struct ev_track *t);
/* Feeds one parsed line; emits 0, 1 or more events. */
void ev_track_line(struct ev_track *t, const struct ev_line *l);
/*
 * The queue id (NUL-terminated, in buf of 24) of a line that makes
 * events about a message whose Redis state was not merged in yet: the
 * store fetches it and calls ev_track_restore before feeding the line.
 */
bool ev_track_wants(
    const struct ev_track *t, const struct ev_line *l, char *buf);
/*
 * Merges saved state (the Redis hash, as field/value pairs) into qid's:
 * what memory already holds wins, attempt counts take the larger.
 */
void ev_track_restore(struct ev_track *t, const char *qid,
    const char *const *fields, const char *const *values, size_t n);
/* Calls fn (unless NULL: nothing to store) for each message changed
   since the last call, then marks it clean.  The message is borrowed for
   the call. */
void ev_track_flush(struct ev_track *t,
    void (*fn)(void *arg, const struct ev_msg *m), void *arg);
size_t ev_track_count(const struct ev_track *t);

/* ----------------------------------------------------------- ev_follow */

/* Where the reader is in the log: the file, the offset after the last
   line handed out, and the bytes before it (a fingerprint). */
#define EV_TAIL_MAX 64
struct ev_pos {
	uint64_t dev, ino, off;
	unsigned char tail[EV_TAIL_MAX];
	size_t tail_n;
};
/* "dev:ino:off:hex" and back; parse returns 0 or -1. */
#define EV_POS_LEN (3 * 21 + 2 * EV_TAIL_MAX + 8)
void ev_pos_format(const struct ev_pos *p, char *out, size_t n);
int ev_pos_parse(const char *s, struct ev_pos *p);

struct ev_follow;
struct ev_stats_io;
typedef void ev_line_fn(void *arg, const char *line, size_t len);
/*
 * Follows path ("-": standard input) from pos (NULL or a zero inode: the
 * file's end, or its start with from_start).  Never fails: a file that
 * is not there yet is read from its start once it is.  st may be NULL.
 */
struct ev_follow *ev_follow_open(const char *path, const struct ev_pos *pos,
    bool from_start, struct ev_stats_io *st);
void ev_follow_close(struct ev_follow *f);
/* Hands out up to max_lines whole lines available now; the number, or
   -1 on a read error. */
int ev_follow_read(
    struct ev_follow *f, size_t max_lines, ev_line_fn *fn, void *arg);
/* The position after the last line handed out. */
void ev_follow_pos(const struct ev_follow *f, struct ev_pos *out);
/* Bytes of the file not handed out yet. */
uint64_t ev_follow_lag(const struct ev_follow *f);
/* Standard input ended and everything was handed out. */
bool ev_follow_eof(const struct ev_follow *f);

/* ------------------------------------------------------------ ev_stats */

/* The metrics: postfix_exporter's names and labels, plus relaykit's. */
struct ev_stats;
struct ev_stats *ev_stats_new(struct rk_metrics *reg);
void ev_stats_free(struct ev_stats *s);
void ev_stats_line(struct ev_stats *s, const struct ev_line *l);
void ev_stats_event(struct ev_stats *s, const struct rk_event *ev);
struct rk_cfg;
/* The destinations the config names (adaptiveRate.domains,
   rateLimit.domains and customDomains) get their own label in
   relaykit_eventd_destination_events_total; the rest count as "other". */
void ev_stats_destinations(struct ev_stats *s, const struct rk_cfg *cfg);
struct ev_stats_io {
	struct rk_metric *events_written; /* event */
	struct rk_metric *redis_errors;   /* what */
	struct rk_metric *rewinds;        /* Redis lost writes: re-read */
	struct rk_metric *lag_bytes;      /* gauge */
	struct rk_metric *batches;        /* histogram: batch seconds */
	struct rk_metric *rotations;      /* how */
	struct rk_metric *up;             /* gauge: reading and storing */
	struct rk_metric *pace;           /* destination, kind */
};
struct ev_stats_io *ev_stats_io(struct ev_stats *s);

/* ------------------------------------------------------------ ev_store */

/* A field of a message's state in Redis. */
struct ev_kv {
	char *k, *v;
};
struct ev_update {
	char qid[24];
	struct ev_kv *kv;
	size_t n;
};
/* A paced destination's outcomes in one batch, in order (rk_pace). */
struct ev_pace_out {
	char dest[256];
	const struct rk_cfg_adaptive *cfg; /* borrowed from the config */
	struct rk_buf letters;             /* o, l, s, d */
};
/* What one batch of lines writes: events, states, the position after. */
struct ev_batch {
	struct rk_buf json; /* the events' JSON, one after the other */
	size_t *joff;       /* event i is json.data[joff[i] .. joff[i+1]) */
	int *type;          /* enum rk_event_type */
	size_t nev, capev;
	struct ev_update *up;
	size_t nup, capup;
	struct ev_pace_out *pace;
	size_t npace, cappace;
	char pos[EV_POS_LEN];
};
void ev_batch_add_event(struct ev_batch *b, const struct rk_event *ev);
void ev_batch_add_state(struct ev_batch *b, const struct ev_msg *m);
void ev_batch_clear(struct ev_batch *b);

/* ------------------------------------------------------------- ev_pace */

/* eventd's side of adaptive pacing: outcomes into the batch. */
struct ev_pace;
struct rk_cfg;
/* NULL when adaptiveRate is off (then ev_pace_note does nothing), or on
   a bad pattern (err set: cannot happen with a checked config). */
struct ev_pace *ev_pace_new(
    const struct rk_cfg *cfg, struct ev_stats_io *io, struct rk_err *err);
void ev_pace_free(struct ev_pace *p);
/* Notes ev's outcome for its destination, if paced; p may be NULL. */
void ev_pace_note(
    struct ev_pace *p, struct ev_batch *b, const struct rk_event *ev);

struct ev_store;
/* Connects lazily; NULL with err on a bad redis option. */
struct ev_store *ev_store_new(const struct rk_cfg *cfg, const char *name,
    struct ev_stats_io *io, struct rk_err *err);
void ev_store_free(struct ev_store *s);
/* 1 and pos filled, 0 when none is saved, -1 (err) when Redis failed. */
int ev_store_load_pos(
    struct ev_store *s, struct ev_pos *pos, struct rk_err *err);
/* Merges the saved state of n messages into the tracker; 0, -1 or
   EV_STORE_LOST (below). */
int ev_store_fetch(struct ev_store *s, struct ev_track *t, char (*qids)[24],
    size_t n, struct rk_err *err);
/*
 * One transaction: events, states, position; 0 or -1 (nothing written).
 * EV_STORE_LOST (nothing written) when, on a new connection, Redis no
 * longer holds the position this store last wrote: a failover promoted a
 * replica that had not received the latest transactions.  The caller
 * then re-reads the log from the position Redis has (ev_store_load_pos),
 * which brings back exactly the events that were lost.
 */
#define EV_STORE_LOST (-2)
int ev_store_write(
    struct ev_store *s, const struct ev_batch *b, struct rk_err *err);
/*
 * ev_store_write in two halves, so that eventd works while Redis runs
 * the transaction: send checks the position and sends it, write_recv
 * reads its answers (nothing else may use the store in between).  Each
 * returns as ev_store_write; after a failure of send, nothing is to be
 * read (the connection is gone).
 */
int ev_store_send(
    struct ev_store *s, const struct ev_batch *b, struct rk_err *err);
int ev_store_write_recv(
    struct ev_store *s, const struct ev_batch *b, struct rk_err *err);
/* Refreshes the position's expiry; trims the stream by
   eventd.streamMaxAge, if set.  Once a minute. */
void ev_store_trim(struct ev_store *s);

/* ----------------------------------------------------------- ev_reader */

struct ev_reader;
struct ev_reader_opts {
	const struct rk_cfg *cfg; /* borrowed for the reader's life */
	const char *name;         /* the position's name */
	bool dry_run;             /* no Redis: parse, track, count */
	bool from_start;          /* no saved position: read from the start */
	struct ev_stats *stats;
};
struct ev_reader *ev_reader_new(
    const struct ev_reader_opts *o, struct rk_err *err);
/* The reader thread's body: follows the log until ev_reader_stop (or
   the end of standard input).  Returns 0. */
int ev_reader_run(struct ev_reader *r);
void ev_reader_stop(struct ev_reader *r);             /* thread-safe */
bool ev_reader_up(const struct ev_reader *r);         /* thread-safe */
bool ev_reader_done(const struct ev_reader *r);       /* thread-safe */
uint64_t ev_reader_events(const struct ev_reader *r); /* thread-safe */
void ev_reader_free(struct ev_reader *r);

/* ------------------------------------------------------------ ev_parse */

/* --parse: files (none: standard input) to JSON events on out; now_ms
   dates BSD timestamps (0: the clock). */
int ev_parse_main(
    int nfiles, char **files, bool with_stats, int64_t now_ms, FILE *out);

#endif
