/* SPDX-License-Identifier: MIT */
/*
 * relaykit-bounce: what comes back to the relay (bounces, feedback-loop
 * complaints, auto-replies), read into one report per message with one
 * record per affected recipient.
 *
 * The parser is structure first: a MIME tree (lib/rk_mime), then the
 * standard parts if there are any (RFC 3464 / RFC 6533 delivery status,
 * RFC 5965 feedback report, the returned message or its headers), then
 * the human-readable text for what the standard parts leave out or for
 * bounces that have none (bn_text.c), and last a classifier that maps
 * status code, reply code and diagnostic text onto sisimai's vocabulary
 * of reasons (bn_reason.c).  Every step is a pure function of the bytes:
 * no I/O, no globals, thread-safe; the pipe side (bn_pipe.c) does the
 * I/O.
 *
 * Ownership: a struct bn_report owns every string in it; free it with
 * bn_report_free.  Reason names are static strings.
 */
#ifndef BN_H
#define BN_H

#include <stdbool.h>
#include <stddef.h>

#include "rk_mime.h"
#include "rk_str.h"

/* Records per report: a bounce naming more recipients is cut there. */
#define BN_MAX_RCPTS 100

enum bn_kind {
	BN_NONE,      /* not a bounce: nothing to report */
	BN_BOUNCE,    /* a delivery status notification, standard or not */
	BN_COMPLAINT, /* a feedback-loop report */
	BN_AUTOREPLY, /* vacation / out of office */
};

struct bn_rcpt {
	char *recipient;      /* the bounced (or complained-about) address */
	char *orig_recipient; /* Original-Recipient, when given */
	char *status;         /* "5.1.1", or NULL */
	char *action;         /* failed, delayed, delivered, ..., or NULL */
	char *diagnostic;     /* the remote's words, one line, or NULL */
	char *remote_mta;     /* host name or address, or NULL */
	char *replycode;      /* "550", or NULL */
	char *command;        /* SMTP command it answered: RCPT, DATA... */
	const char *reason;   /* static: "userunknown", ... */
	int hard;             /* 1 hard, 0 soft */
	char *feedback_type;  /* complaints: abuse, auth-failure, ... */
};

/* Headers of the original message, recovered from the report. */
struct bn_orig {
	char *message_id;
	char *client_id;    /* the header named by inbound.clientIdHeader */
	char *queue_id;     /* X-Postfix-Queue-ID of the report or original */
	char *received_ids; /* ids of Postfix's Received: lines, spaced */
	char *from;
	char *to;
	char *subject;
	char *mail_from; /* envelope sender, from the report */
};

struct bn_report {
	enum bn_kind kind;
	struct bn_rcpt *rcpts;
	size_t nrcpts;
	char *message_id;    /* the report's own Message-ID */
	char *from;          /* the report's From */
	char *subject;       /* the report's Subject, decoded */
	char *reporting_mta; /* Reporting-MTA */
	char *user_agent;    /* ARF User-Agent */
	char *source_ip;     /* ARF Source-IP */
	struct bn_orig orig;
};

struct bn_opts {
	const char *client_id_header; /* e.g. "X-Message-ID"; NULL: none */
};

/* Inputs longer than this are read up to it (the report is up front). */
#define BN_MAX_INPUT (8u << 20)

/*
 * Reads len bytes of one message into out (zeroed first).  Returns 0;
 * out->kind is BN_NONE for mail that reports nothing.  Never fails on
 * input: hostile bytes give BN_NONE or a partial report.
 */
int bn_parse(const char *buf, size_t len, const struct bn_opts *opts,
    struct bn_report *out);
/* Frees what out holds (not out itself); accepts NULL. */
void bn_report_free(struct bn_report *r);

/* ------------------------------------------------ internal, per file */

/* bn_parse.c helpers the others share. */
struct bn_rcpt *bn_add_rcpt(struct bn_report *r, const char *addr);
struct bn_rcpt *bn_find_rcpt(struct bn_report *r, const char *addr);
void bn_set(char **field, const char *value);
/* The bare address in s ("Name <a@b>", "rfc822; a@b"), or NULL; frees. */
char *bn_address(const char *s);
/* A line (or lines) as one line: control characters and runs of space
 * become one space; caller frees. */
char *bn_oneline(const char *s, size_t n);
/* Case-insensitive substring search in the first n bytes. */
const char *bn_memcasestr(const char *hay, size_t n, const char *needle);

/* bn_dsn.c: RFC 3464 / 6533 fields; returns records added. */
size_t bn_dsn_parse(struct bn_report *r, const char *body, size_t len);
/* "5.1.1 (User unknown)" -> "5.1.1" when it is a status code; frees. */
char *bn_status_code(const char *s);
/* Fills in status, reply code and command from a diagnostic line. */
void bn_diag_scan(struct bn_rcpt *rc);
/* Sets rc->command, if it has none, from what text says it answered. */
void bn_command_scan(struct bn_rcpt *rc, const char *text);

/* bn_arf.c: RFC 5965; and complaint formats without the standard part. */
size_t bn_arf_parse(struct bn_report *r, const struct rk_mime_part *fb,
    const struct rk_mime_part *orig);
bool bn_complaint_text(struct bn_report *r, const struct rk_mime_part *root,
    const char *text, const struct rk_mime_part *orig);

/* bn_json.c: JSON notifications (Amazon SES); sets r->kind. */
bool bn_json_parse(struct bn_report *r, const char *text, size_t len);

/* bn_text.c: the human-readable part (len: up to bn_text_cut). */
size_t bn_text_parse(struct bn_report *r, const char *text, size_t len);
void bn_text_enrich(struct bn_report *r, const char *text, size_t len);
/* Where the copy of the original message starts in text, or len. */
size_t bn_text_cut(const char *text, size_t len);
/* The SMTP command the text's lines about rc answered, if rc has none. */
void bn_text_command(struct bn_rcpt *rc, const char *text, size_t len);

/* bn_reason.c: the classifier. */
struct bn_context {
	const char *text;   /* the report's words, one line; borrowed */
	const char *reason; /* what they say, once read */
	bool read;
};
void bn_classify(struct bn_rcpt *rc, struct bn_context *context);
/* true for reasons sisimai counts as hard bounces. */
bool bn_reason_hard(const char *reason, const char *status);

#endif
