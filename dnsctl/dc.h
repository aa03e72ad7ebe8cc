/* SPDX-License-Identifier: MIT */
/*
 * dc.h: relaykit-dnsctl's private interface.
 *
 * The records a relaykit.yaml asks for (dc_desired.c) are compared, zone
 * by zone, with what the zone holds (read by a backend: dc_cf.c for the
 * Cloudflare API, dc_rfc2136.c for dynamic update, dc_extdns.c for
 * external-dns) into a plan of changes (dc_plan.c), which the backend
 * applies.  dc_txt.c holds the pure text handling (TXT strings, SPF,
 * the ownership record), dc_dns.c the queries (ldns), dc_http.c the HTTP
 * client (libcurl), dc_ip.c the address detection, dc_check.c check and
 * wait.
 *
 * Ownership: dnsctl changes or deletes only records it created, and keeps
 * a list of them in DNS itself, one TXT record per relay at
 * "_relaykit-dnsctl.<zone>" (dc_reg_*), so any backend, any host and any
 * later run know what is theirs.
 *
 * Single-threaded.  Every struct owns its strings unless a comment says
 * "borrowed"; each has a _free or _clear that accepts a zeroed struct.
 */
#ifndef DC_H
#define DC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rk_cfg.h"
#include "rk_cidr.h"
#include "rk_str.h"

#define DC_PROG      "relaykit-dnsctl"
#define DC_REG_LABEL "_relaykit-dnsctl"
#define DC_NAME_MAX  253
/* A TXT value longer than this is not ours and not parsed. */
#define DC_TXT_MAX 65535

/* Exit statuses of plan and check (documented in relaykit-dnsctl(8)). */
enum { DC_EXIT_OK = 0, DC_EXIT_ERROR = 1, DC_EXIT_CHANGES = 2 };

/* ------------------------------------------------------------- records */

enum dc_type { DC_A, DC_AAAA, DC_MX, DC_TXT, DC_OTHER };

/* One resource record as dnsctl compares them. */
struct dc_rr {
	char *name; /* lower case, no trailing dot */
	int type;   /* enum dc_type */
	uint32_t ttl;
	/*
	 * A/AAAA: inet_ntop form; MX: "PRIO host" (host lower case, no
	 * trailing dot); TXT: the character-strings joined (RFC 7208 3.3,
	 * RFC 6376 3.6.2.2), a NUL byte written as "\000".
	 */
	char *value;
	char *id;  /* the backend's record id (Cloudflare), or NULL */
	char *raw; /* TXT read from DNS: its strings as in a zone file */
};

struct dc_rrs {
	struct dc_rr *v;
	size_t n;
};

const char *dc_type_name(int type);
/* "A", "AAAA", "MX", "TXT" (any case); -1 otherwise. */
int dc_type_parse(const char *s);
void dc_rr_clear(struct dc_rr *rr);
void dc_rr_copy(struct dc_rr *dst, const struct dc_rr *src);
void dc_rrs_add(struct dc_rrs *rrs, const char *name, int type, uint32_t ttl,
    const char *value, const char *id);
void dc_rrs_free(struct dc_rrs *rrs);
/* Lower-cases and drops one trailing dot, in place. */
void dc_name_norm(char *name);
/* true if name is zone or below it (both normalised). */
bool dc_name_in(const char *name, const char *zone);
/* name relative to zone: "@" for the apex; caller frees. */
char *dc_name_rel(const char *name, const char *zone);
/* The reverse: "@" -> zone, "mail" -> "mail.<zone>"; caller frees. */
char *dc_name_abs(const char *rel, const char *zone);

/* -------------------------------------------------------------- dc_txt */

/*
 * TXT character-strings: at most 255 bytes each (RFC 1035 3.3).  A value
 * is split into as few strings as possible.
 */
struct dc_strs {
	char **v;
	size_t *len;
	size_t n;
};
void dc_strs_free(struct dc_strs *s);
void dc_txt_split(const char *value, struct dc_strs *out);
/* Zone-file form: "…" "…" with \" \\ and \DDD escapes; caller frees. */
char *dc_txt_quote(const char *value);
/* One string of len bytes in that form, appended to b. */
void dc_txt_quote_bytes(const uint8_t *p, size_t len, struct rk_buf *b);
/*
 * Reads the zone-file form back (one or more quoted strings, or one bare
 * word) and joins the strings; len bytes, need not be NUL-terminated.
 * Caller frees *out.  -1 on a syntax error or a value over DC_TXT_MAX.
 */
int dc_txt_unquote(const char *s, size_t len, char **out, struct rk_err *err);

/* SPF (RFC 7208).  A record is "v=spf1" and terms separated by spaces. */
bool dc_spf_is(const char *txt);
struct dc_spf {
	char **terms; /* as written, minus "v=spf1" */
	size_t n;
};
int dc_spf_parse(const char *txt, struct dc_spf *out, struct rk_err *err);
void dc_spf_free(struct dc_spf *spf);
/* "v=spf1 term term…"; caller frees. */
char *dc_spf_format(const struct dc_spf *spf);
/* Index of the "all" mechanism (any qualifier), or -1. */
long dc_spf_find_all(const struct dc_spf *spf);
/* true if term names the same mechanism (case-insensitive). */
bool dc_spf_term_eq(const char *a, const char *b);

/*
 * Counts the DNS lookups evaluating a record costs (RFC 7208 4.6.4:
 * include, a, mx, ptr, exists, redirect), following include: and
 * redirect= targets through fetch, which fills *txt with the target's SPF
 * record (caller frees) and returns 0, or -1 when it cannot be had
 * (counted as 1, and named in *unresolved).
 */
struct dc_spf_fetch {
	int (*fn)(void *arg, const char *domain, char **txt);
	void *arg;
};
size_t dc_spf_lookups(const struct dc_spf *spf, const struct dc_spf_fetch *f,
    struct rk_buf *unresolved);

/*
 * The ownership record: "relaykit-dnsctl=1; owner=HOST; ENTRY; ENTRY…"
 * where each ENTRY is "NAME TAG [VALUE]": NAME relative to the zone ("@"
 * the apex), TAG a record type (the whole record is ours: A, AAAA and MX
 * by value, TXT for the DKIM or DMARC record at NAME) or "spf" (VALUE is
 * an SPF term relaykit added to NAME's record).
 */
struct dc_reg_entry {
	char *name; /* absolute */
	char *tag;  /* "A" "AAAA" "MX" "TXT" "spf" */
	char *value;
};
struct dc_reg {
	char *owner;
	struct dc_reg_entry *v;
	size_t n;
};
/* 1: parsed; 0: not an ownership record; -1: one, but broken. */
int dc_reg_parse(const char *txt, size_t len, const char *zone,
    struct dc_reg *out, struct rk_err *err);
void dc_reg_add(
    struct dc_reg *reg, const char *name, const char *tag, const char *value);
bool dc_reg_has(const struct dc_reg *reg, const char *name, const char *tag,
    const char *value);
/* Sorted, so equal registries format equally; caller frees. */
char *dc_reg_format(struct dc_reg *reg, const char *zone);
void dc_reg_free(struct dc_reg *reg);

/* ---------------------------------------------------------- dc_desired */

enum dc_role {
	DC_ROLE_ADDR,
	DC_ROLE_MX,
	DC_ROLE_SPF,
	DC_ROLE_DKIM,
	DC_ROLE_DMARC
};

/* One thing the config asks DNS to hold. */
struct dc_want {
	int role; /* enum dc_role */
	char *name;
	int type;      /* A, AAAA, MX, TXT */
	char **values; /* ADDR, MX: the set; DKIM, DMARC: one; SPF: terms */
	size_t nvalues;
	char *spf_all;  /* SPF: "~all", "-all" or "?all" */
	int dkim_alg;   /* DKIM: enum rk_dkimkey_alg */
	char *dkim_pub; /* DKIM: p= of the key on disk */
	char *dkim_file;
};

struct dc_desired {
	struct dc_want *v;
	size_t n;
	uint32_t ttl;
	char *owner; /* mail.hostname: names this relay's ownership record */
};

struct dc_ips {
	struct rk_ip *v;
	size_t n;
};
void dc_ips_add(struct dc_ips *ips, const struct rk_ip *ip);
void dc_ips_sort(struct dc_ips *ips);
bool dc_ips_equal(const struct dc_ips *a, const struct dc_ips *b);
void dc_ips_free(struct dc_ips *ips);
/* "192.0.2.1, 2001:db8::1" into b. */
void dc_ips_format(const struct dc_ips *ips, struct rk_buf *b);

/*
 * Reads the DKIM keys; -1 and err when a key cannot be read.  dkim_only:
 * the DKIM records alone (check on a host whose DNS dnsctl does not
 * manage: the opendkim-testkey use).
 */
int dc_desired_build(const struct rk_cfg *cfg, const struct dc_ips *ips,
    bool dkim_only, struct dc_desired *out, struct rk_err *err);
void dc_desired_free(struct dc_desired *d);
/* The system's host name when mail.hostname is unset; caller frees. */
char *dc_hostname(const struct rk_cfg *cfg);

/* ------------------------------------------------------------- dc_plan */

/* One zone: what it holds and what this relay wants in it. */
struct dc_zone {
	char *name;
	char *id;                     /* Cloudflare zone id */
	struct dc_rrs rrs;            /* A, AAAA, MX, TXT read from the zone */
	size_t total;                 /* records in the zone; 0: not known */
	const struct dc_want **wants; /* borrowed from a dc_desired */
	size_t nwants;
};
void dc_zone_clear(struct dc_zone *z);

enum dc_op { DC_OP_ADD, DC_OP_DEL, DC_OP_UPDATE };

struct dc_change {
	int op;           /* enum dc_op */
	struct dc_rr old; /* DEL, UPDATE: as read (with its id) */
	struct dc_rr rr;  /* ADD, UPDATE: the new record */
	bool registry;    /* the ownership record */
};

struct dc_plan {
	struct dc_change *v;
	size_t n;
	struct dc_rrs final; /* every record of ours after the plan */
	char **notes;        /* conflicts and records left alone */
	size_t nnotes;
	size_t risky;  /* existing records (not ownership) changed or deleted */
	bool spf_over; /* an SPF record would exceed the lookup limit */
};

struct dc_plan_opts {
	const char *owner;
	uint32_t ttl;
	bool adopt; /* take over conflicting records nobody owns */
	bool prune; /* delete our records the config no longer asks for */
	const struct dc_spf_fetch *fetch; /* include: targets; may be NULL */
};

/* 0 and *out (free with dc_plan_free), or -1 and err (nothing to free). */
int dc_plan_zone(const struct dc_zone *z, const struct dc_plan_opts *o,
    struct dc_plan *out, struct rk_err *err);
void dc_plan_free(struct dc_plan *p);
void dc_plan_print(FILE *fp, const struct dc_zone *z, const struct dc_plan *p);
/*
 * true if the plan changes more of the zone than percent allows (zones
 * of 10 records or more; new records do not count).
 */
bool dc_plan_too_big(const struct dc_zone *z, const struct dc_plan *p,
    int64_t percent, struct rk_err *err);

/* -------------------------------------------------------------- dc_dns */

struct dc_server {
	char host[256];
	uint16_t port;
};
/* "host", "host:port", "[v6]:port", "v6"; port 53 by default. */
int dc_server_parse(const char *s, struct dc_server *out, struct rk_err *err);
char *dc_server_format(const struct dc_server *s, char *buf, size_t n);

struct dc_tsig {
	const char *name;      /* borrowed */
	const char *algorithm; /* "hmac-sha256" or "hmac-sha512" */
	const char *secret;    /* borrowed; base64 */
};

struct dc_dns; /* one server (or the system's resolvers); opaque */

/* Caller frees with dc_dns_free.  recursive: set RD. */
struct dc_dns *dc_dns_new(const struct dc_server *server, bool recursive,
    const struct dc_tsig *tsig, struct rk_err *err);
/* The resolvers of /etc/resolv.conf, recursion on. */
struct dc_dns *dc_dns_new_system(struct rk_err *err);
void dc_dns_free(struct dc_dns *dns);
const char *dc_dns_label(const struct dc_dns *dns);

struct dc_answer {
	int rcode;
	bool aa;
	struct dc_rrs rrs; /* owner == the name asked, of the type asked */
	char *zone;        /* the SOA's owner (answer or authority), or NULL */
	bool cname;        /* the name is an alias */
};
void dc_answer_clear(struct dc_answer *a);

/*
 * Turns a DNS message (wire form, len bytes) into an answer for name and
 * type: pure, for the fuzzer and for dc_dns_query.  -1 for a message
 * that does not parse.
 */
int dc_answer_from_wire(const uint8_t *wire, size_t len, const char *name,
    int type, struct dc_answer *out, struct rk_err *err);

int dc_dns_query(struct dc_dns *dns, const char *name, int type,
    struct dc_answer *out, struct rk_err *err);
/* The zone name belongs to, from the SOA the server names. */
int dc_dns_zone_of(
    struct dc_dns *dns, const char *name, char **zone, struct rk_err *err);
/* Zone transfer (TSIG-signed when the handle has a key). */
int dc_dns_axfr(struct dc_dns *dns, const char *zone, struct dc_rrs *out,
    size_t *total, struct rk_err *err);
/*
 * The servers to ask about zone: cfg's dns.nameservers, else the zone's
 * NS records through the system's resolvers.  Caller frees *out.
 */
int dc_dns_authorities(const struct rk_cfg *cfg, const char *zone,
    struct dc_server **out, size_t *n, struct rk_err *err);

/*
 * The records at the names z's wants name (and its ownership record),
 * asked one by one, into z->rrs.
 */
int dc_dns_read_names(
    struct dc_dns *dns, struct dc_zone *z, struct rk_err *err);
/* A dc_spf_fetch function: the one SPF record of domain at arg's server. */
int dc_dns_spf_fetch(void *arg, const char *domain, char **txt);
/*
 * Where dnsctl asks about names outside its zones (SPF include: targets,
 * which zone holds a name): the first of dns.nameservers, with recursion
 * off, or the system's resolvers.
 */
struct dc_dns *dc_dns_helper(const struct rk_cfg *cfg, struct rk_err *err);

/*
 * One request and its answer over TCP, TSIG-signed and verified when the
 * handle has a key; a TSIG error or a bad signature is an error saying
 * so.  The caller frees *ans (ldns_pkt_free), which may be set on error.
 */
struct ldns_struct_pkt;
int dc_dns_exchange(struct dc_dns *dns, struct ldns_struct_pkt *q,
    struct ldns_struct_pkt **ans, const char *what, struct rk_err *err);
/* "NOTAUTH", "REFUSED"… into buf. */
const char *dc_dns_rcode_str(int rcode, char *buf, size_t n);
/* The TSIG error an answer carries, in words; NULL for none. */
const char *dc_dns_tsig_error(const struct ldns_struct_pkt *pkt);

/* ------------------------------------------------------------- dc_http */

struct dc_http_req {
	const char *method; /* GET, POST, PATCH, PUT, DELETE */
	const char *url;
	const char *bearer; /* borrowed secret; never logged */
	const char *body;   /* JSON, or NULL */
	const char *cafile; /* NULL: the system's */
	long timeout_ms;
	int tries; /* 429 and 5xx are retried this many times in all */
};

struct dc_http_resp {
	long status;
	struct rk_buf body;
};

/* The body is capped at 16 MiB.  -1 only when no answer came at all. */
int dc_http_do(const struct dc_http_req *req, struct dc_http_resp *resp,
    struct rk_err *err);
void dc_http_resp_free(struct dc_http_resp *resp);
/* For tests of the retry policy: seconds to wait before try n (1-based). */
long dc_http_backoff(long status, long retry_after, int n);

/* --------------------------------------------------------------- dc_ip */

/* The relay's public addresses, as the config says to find them. */
int dc_ip_detect(const struct rk_cfg *cfg, struct dc_ips *out, FILE *log,
    struct rk_err *err);
/* The body of an echo service: one address and optional white space. */
int dc_ip_parse_echo(
    const char *body, size_t len, struct rk_ip *out, struct rk_err *err);
/* A Service object (JSON): its load-balancer ingress IPs. */
int dc_ip_parse_service(
    const char *json, size_t len, struct dc_ips *out, struct rk_err *err);

/* ---------------------------------------------------------- backends */

struct dc_ctx;

struct dc_backend {
	const char *name;
	/* The zone of name (and its id); caller frees. */
	int (*zone_of)(struct dc_ctx *ctx, const char *name, char **zone,
	    char **id, struct rk_err *err);
	/* Fills z->rrs (and z->total when the backend knows it). */
	int (*read)(struct dc_ctx *ctx, struct dc_zone *z, struct rk_err *err);
	int (*apply)(struct dc_ctx *ctx, const struct dc_zone *z,
	    const struct dc_plan *p, struct rk_err *err);
	/* After every zone (external-dns writes its file); may be NULL. */
	int (*finish)(struct dc_ctx *ctx, struct rk_err *err);
	void (*close)(struct dc_ctx *ctx);
};

extern const struct dc_backend dc_backend_cloudflare;
extern const struct dc_backend dc_backend_rfc2136;
extern const struct dc_backend dc_backend_extdns;

struct dc_ctx {
	const struct rk_cfg *cfg; /* borrowed */
	const struct dc_backend *be;
	void *state;        /* the backend's */
	FILE *out;          /* plan output */
	FILE *log;          /* messages */
	const char *output; /* external-dns: -o FILE, or NULL */
	/* Plans applied this run, for external-dns's file. */
	struct dc_rrs final;
};

/* Cloudflare's JSON, pure (fuzzed). */
int dc_cf_parse_page(const char *json, size_t len, struct dc_rrs *out,
    size_t *total_pages, size_t *total_count, struct rk_err *err);
/* "code: message" of every error in a response body, into b. */
void dc_cf_errors(const char *json, size_t len, struct rk_buf *b);

/* External-dns: the DNSEndpoint document of records. */
void dc_extdns_write(
    FILE *fp, const struct rk_cfg *cfg, const struct dc_rrs *records);

/* ------------------------------------------------------------ dc_check */

/*
 * check: every wanted record at every authoritative server; prints one
 * line per record and server.  Returns DC_EXIT_OK, _CHANGES (something
 * missing or different) or _ERROR.
 */
int dc_check(
    const struct rk_cfg *cfg, const struct dc_desired *d, FILE *out, FILE *log);
/* wait: until check would pass at every server, or timeout_ms. */
int dc_wait(const struct rk_cfg *cfg, const struct dc_desired *d,
    uint64_t timeout_ms, FILE *log);

#endif
