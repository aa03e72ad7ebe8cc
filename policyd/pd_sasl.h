/* SPDX-License-Identifier: MIT */
/*
 * pd_sasl.h: the Dovecot authentication protocol (server side, version
 * 1.2) that Postfix's smtpd speaks with smtpd_sasl_type = dovecot, and the
 * SMTP AUTH service relaykit-policyd runs on policyd.saslListen.
 *
 * pd_sasl_proto.c is the pure part: one client line in, a typed command
 * out, plus base64 and the PLAIN / LOGIN payloads; no I/O, no allocation,
 * fuzzed by t/fuzz/fuzz_sasl.c.  pd_sasl.c runs the connections on the
 * daemon's loop; pd_auth.c checks passwords (crypt(3) in worker threads)
 * and counts failures in Redis.
 */
#ifndef PD_SASL_H
#define PD_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rk_str.h"

/*
 * Limits.  Postfix's AUTH line carries at most smtpd's line_length_limit
 * (2048) of base64; a LOGIN or PLAIN payload decodes to a few hundred
 * bytes at most.
 */
#define PD_SASL_LINE_MAX   8192 /* one line, LF included */
#define PD_SASL_FIELDS_MAX 32   /* tab-separated fields in one line */
#define PD_SASL_CRED_MAX   1024 /* a decoded login or password */

enum pd_sasl_cmd_type {
	PD_SASL_VERSION, /* VERSION major minor */
	PD_SASL_CPID,    /* CPID pid */
	PD_SASL_AUTH,    /* AUTH id mech [params] */
	PD_SASL_CONT,    /* CONT id base64 */
	PD_SASL_OTHER,   /* a command we do not know: ignored */
};

/* A value inside the parsed buffer: not NUL-terminated. */
struct pd_sasl_str {
	const char *p;
	size_t len;
};

struct pd_sasl_cmd {
	enum pd_sasl_cmd_type type;
	unsigned major, minor;      /* VERSION */
	unsigned long id;           /* AUTH, CONT */
	struct pd_sasl_str mech;    /* AUTH */
	struct pd_sasl_str resp;    /* AUTH resp=, CONT data (base64) */
	bool has_resp;              /* AUTH: resp= given (may be empty) */
	bool secured;               /* AUTH: the client used TLS */
	struct pd_sasl_str rip;     /* AUTH: the SMTP client's address */
	struct pd_sasl_str service; /* AUTH: "smtp" */
	size_t consumed;            /* bytes of the line, LF included */
};

enum pd_sasl_parse {
	PD_SASL_OK,   /* one line; cmd filled */
	PD_SASL_MORE, /* a valid prefix: wait for more bytes */
	PD_SASL_BAD,  /* malformed: err says why; close the connection */
};

/*
 * Parses the first line in buf (len bytes, need not be NUL-terminated).
 * Pure: the slices point into buf.  Grammar in pd_sasl_proto.c.
 */
enum pd_sasl_parse pd_sasl_parse(
    const char *buf, size_t len, struct pd_sasl_cmd *cmd, struct rk_err *err);

/*
 * Decodes standard base64 (RFC 4648, padding required, no white space)
 * into out (room for n bytes).  Returns the decoded length, or -1 when the
 * text is not base64 or does not fit.
 */
long pd_base64_decode(const char *in, size_t len, unsigned char *out, size_t n);
/* Encodes len bytes; out needs 4 * ((len + 2) / 3) + 1 bytes. */
void pd_base64_encode(const unsigned char *in, size_t len, char *out);

/*
 * The PLAIN message (RFC 4616): authzid NUL authcid NUL passwd.  Fills the
 * slices (pointing into msg) and returns 0, or -1 with err: missing NUL,
 * empty login or password, a NUL or a field over PD_SASL_CRED_MAX, an
 * authorization identity other than the login.
 */
int pd_sasl_plain(const unsigned char *msg, size_t len,
    struct pd_sasl_str *login, struct pd_sasl_str *password,
    struct rk_err *err);
/* A LOGIN answer (login or password): 1..PD_SASL_CRED_MAX bytes, no NUL,
   no control characters in a login.  0 or -1 with err. */
int pd_sasl_login_field(
    const unsigned char *p, size_t len, bool is_login, struct rk_err *err);

/* ---------------------------------------------------------- the server */

struct pd_ctx;
struct pd_sasl_server;
/* Listens on policyd.saslListen; NULL with err on a bind failure. */
struct pd_sasl_server *pd_sasl_server_new(
    struct pd_ctx *ctx, struct rk_err *err);
void pd_sasl_server_free(struct pd_sasl_server *s);

#endif
