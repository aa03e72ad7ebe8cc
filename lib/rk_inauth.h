/* SPDX-License-Identifier: MIT */
/*
 * rk_inauth: SPF (RFC 7208), DKIM (RFC 6376) and DMARC (RFC 7489) results
 * for mail that comes in to the relay (bounces, feedback reports), for
 * relaykit-bounce's events and relaykit-milter's refusals at SMTP time.
 *
 * The checks are the well-kept libraries': libspf2 evaluates SPF,
 * libopendkim verifies signatures, libopendmarc applies the DMARC policy
 * to those two results.  This module feeds them and reads their answers.
 * Every DNS question they ask goes through one ops struct (struct
 * rk_inauth_dns): by default ldns against the system's resolver or a
 * configured one, so tests use a loopback BIND with real records.
 *
 * Non-goals: ARC, DMARC reports, signing (the milter's).
 *
 * Threading: a struct rk_inauth is immutable once made and may be shared
 * by threads; a struct rk_inauth_msg belongs to one thread.  libopendmarc
 * keeps the public suffix list in library globals: it is loaded once per
 * process (pthread_once) and only read afterwards.
 *
 * Ownership: rk_inauth_new's result is freed with rk_inauth_free;
 * rk_inauth_begin's with rk_inauth_msg_free.  Results hold copies.
 */
#ifndef RK_INAUTH_H
#define RK_INAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "rk_str.h"

/* RFC 8601 result words, in this order. */
enum rk_auth {
	RK_AUTH_NONE,
	RK_AUTH_PASS,
	RK_AUTH_FAIL,
	RK_AUTH_SOFTFAIL,
	RK_AUTH_NEUTRAL,
	RK_AUTH_TEMPERROR,
	RK_AUTH_PERMERROR,
};

/* "none", "pass", ... */
const char *rk_auth_name(enum rk_auth a);

/* ------------------------------------------------------------- DNS */

enum rk_dns_status {
	RK_DNS_OK,
	RK_DNS_NXDOMAIN,
	RK_DNS_NODATA,
	RK_DNS_TEMPFAIL, /* timeout, SERVFAIL, no server */
};

/* Record types asked for (the RFC 1035 numbers). */
enum rk_dns_type {
	RK_DNS_A = 1,
	RK_DNS_PTR = 12,
	RK_DNS_MX = 15,
	RK_DNS_TXT = 16,
	RK_DNS_AAAA = 28,
};

/*
 * One lookup: the answers of type in *rrs (*n of them), as text: a TXT
 * record's strings joined, an address in presentation form, a host name
 * without the final dot.  The caller frees them with rk_dns_rrs_free.
 * Must be thread-safe.
 */
struct rk_inauth_dns {
	enum rk_dns_status (*query)(void *arg, const char *name,
	    enum rk_dns_type type, char ***rrs, size_t *n);
	void *arg;
};

void rk_dns_rrs_free(char **rrs, size_t n);

/*
 * The ldns resolver: server "ADDRESS" or "ADDRESS:PORT" ("127.0.0.1:5353",
 * "[::1]:53"), or NULL for /etc/resolv.conf.  The result lives until
 * rk_inauth_dns_ldns_free.  NULL with err on a bad server.
 */
struct rk_inauth_dns *rk_inauth_dns_ldns(
    const char *server, struct rk_err *err);
void rk_inauth_dns_ldns_free(struct rk_inauth_dns *d); /* accepts NULL */

/* ---------------------------------------------------------- checks */

struct rk_inauth_opts {
	bool spf, dkim, dmarc;
	const char *psl_file; /* public suffix list; NULL: Debian's */
	const struct rk_inauth_dns *dns; /* borrowed for the object's life */
};

struct rk_inauth;
struct rk_inauth_msg;

struct rk_inauth_result {
	enum rk_auth spf;
	char spf_domain[256]; /* the identity checked (MAIL FROM or HELO) */
	enum rk_auth dkim;    /* pass if any signature verifies */
	char dkim_domain[256];
	enum rk_auth dmarc;
	char from_domain[256];
	/* the policy DMARC asks for on failure: "none", "quarantine",
	   "reject", or "" without a record */
	char dmarc_policy[16];
};

struct rk_inauth *rk_inauth_new(
    const struct rk_inauth_opts *o, struct rk_err *err);
void rk_inauth_free(struct rk_inauth *a); /* accepts NULL */

/*
 * A message from client_ip (text) that said helo and gave mail_from
 * ("" for the null sender).  Headers as "Name: value" lines (folding
 * kept, any line ending), then the body in chunks of any size and line
 * ending, then the result.
 */
struct rk_inauth_msg *rk_inauth_begin(const struct rk_inauth *a,
    const char *client_ip, const char *helo, const char *mail_from);
void rk_inauth_header(
    struct rk_inauth_msg *m, const char *name, const char *value);
void rk_inauth_body(struct rk_inauth_msg *m, const void *p, size_t n);
void rk_inauth_end(struct rk_inauth_msg *m, struct rk_inauth_result *out);
void rk_inauth_msg_free(struct rk_inauth_msg *m); /* accepts NULL */

/* The whole message in buf (as relaykit-bounce reads it). */
void rk_inauth_check(const struct rk_inauth *a, const char *client_ip,
    const char *helo, const char *mail_from, const char *buf, size_t len,
    struct rk_inauth_result *out);

/*
 * The refusal rejectFail / rejectOnFail ask for, if any: 550 5.7.1 for
 * an SPF fail or a DMARC fail under p=reject or p=quarantine, 451 4.7.1
 * when a DNS error left the answer open.  0 to let the message in.
 * code and xcode get "550"/"5.7.1"; text the reason (size >= 128).
 */
int rk_inauth_refusal(const struct rk_inauth_result *r, bool spf_reject,
    bool dmarc_reject, char code[4], char xcode[8], char *text, size_t n);

#endif
