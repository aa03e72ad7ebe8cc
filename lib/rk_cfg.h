/* SPDX-License-Identifier: MIT */
/*
 * rk_cfg: relaykit.yaml, loaded strictly into typed structs.
 *
 * The schema (lib/rk_cfg_schema.c) is the contract between every program
 * and the Helm chart: one table row per key with its type, default and
 * bounds.  Loading collects every error as
 *     FILE:LINE:COL: path.to.key: what was wanted, what was found
 * and returns NULL if there was any: a bad file never half-loads.  All
 * defaults come from the schema, so an absent key and a key set to its
 * default load identically.
 *
 * Ownership: rk_cfg_load* returns a config with one reference.  A config
 * is immutable once loaded; share it between threads with rk_cfg_ref()
 * and drop it with rk_cfg_unref() (both thread-safe, atomic).  Reload
 * builds a new config and swaps the pointer, so a message in flight keeps
 * the config it started with.  Every string in the structs is owned by the
 * config; secrets are wiped when the last reference goes.
 *
 * Secrets (passwords, HMAC secrets, API tokens) can always be given as a
 * sibling key with the suffix "File" (hmacSecret / hmacSecretFile); the
 * file is read at load, a trailing newline dropped, and the value lands in
 * the same field.  Relative paths are relative to the config file's folder.
 */
#ifndef RK_CFG_H
#define RK_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rk_cidr.h"
#include "rk_parse.h"

/* ---------------------------------------------------------------- mail */

struct rk_cfg_dkim_key {
	char *selector;
	int algorithm;   /* enum rk_cfg_dkim_alg (not "both") */
	char *keyFile;   /* NULL: <dkim.keyDir>/<domain>/<selector>.pem */
	int64_t keySize; /* rsa bits */
};

struct rk_cfg_domain {
	char *name;                   /* normalised domain */
	char *dkimSelector;           /* rsa-sha256 selector */
	char *ed25519Selector;        /* ed25519-sha256 selector */
	bool subdomains;              /* sign and accept subdomains too */
	struct rk_cfg_dkim_key *keys; /* explicit keys; replace the above */
	size_t nkeys;
};

struct rk_cfg_listener {
	char *name;
	char *address; /* bind address ("" = all) */
	int64_t port;
	bool proxyProtocol;
	int64_t backendPort; /* proxyProtocol: Postfix's loopback port */
	bool submission;     /* STARTTLS + AUTH listener */
};

struct rk_cfg_relay {
	bool enabled;
	char *host;
	int64_t port;
	bool tls;
	struct {
		bool enabled;
		char *username;
		char *password; /* secret */
	} auth;
};

struct rk_cfg_tls {
	int level; /* enum rk_cfg_tls_level */
	char *certFile;
	char *keyFile;
};

struct rk_cfg_mail {
	char *hostname; /* NULL: the system's host name */
	char *banner;
	struct rk_cfg_domain *domains;
	size_t ndomains;
	struct rk_cidr *trustedNetworks;
	size_t ntrustedNetworks;
	bool allowWideNetworks;
	struct rk_cfg_relay relay;
	uint64_t maxMessageSize; /* bytes, 0 = unlimited */
	struct rk_cfg_tls tls;
	struct rk_cfg_listener *listeners;
	size_t nlisteners;
	struct rk_cidr *proxyTrustedNetworks;
	size_t nproxyTrustedNetworks;
};

/* ---------------------------------------------------------------- dkim */

enum rk_cfg_dkim_alg {
	RK_DKIM_RSA_SHA256,
	RK_DKIM_ED25519_SHA256,
	RK_DKIM_BOTH,
};

enum rk_cfg_canon {
	RK_CANON_RELAXED_RELAXED,
	RK_CANON_RELAXED_SIMPLE,
	RK_CANON_SIMPLE_RELAXED,
	RK_CANON_SIMPLE_SIMPLE,
};

enum rk_cfg_bad_from {
	RK_BAD_FROM_REJECT,
	RK_BAD_FROM_ACCEPT,
};

struct rk_cfg_dkim {
	bool enabled;
	int algorithm;   /* enum rk_cfg_dkim_alg */
	int64_t keySize; /* rsa bits: 1024, 2048, 3072, 4096 */
	char *keyDir;
	int canonicalization; /* enum rk_cfg_canon */
	char **headers;       /* header field names to sign */
	size_t nheaders;
	char **oversignHeaders;
	size_t noversignHeaders;
	uint64_t expiration;     /* ms; 0 = no x= tag */
	int badFromAction;       /* enum rk_cfg_bad_from */
	int64_t lineLengthLimit; /* Postfix's smtp_line_length_limit */
};

/* ---------------------------------------------------- senderValidation */

enum rk_cfg_pattern_kind {
	RK_PAT_ADDRESS, /* local@domain: exact local part, any-case domain */
	RK_PAT_DOMAIN,  /* domain: every address of it */
	RK_PAT_REGEX,   /* /…/: POSIX ERE, case-insensitive */
};

struct rk_cfg_pattern {
	int kind;   /* enum rk_cfg_pattern_kind */
	char *text; /* normalised address/domain, or the regex source */
};

enum rk_cfg_from_match {
	RK_FROM_MATCH_ADDRESS,
	RK_FROM_MATCH_DOMAIN,
};

struct rk_cfg_sender_validation {
	bool enabled;
	bool checkFromHeader;
	int fromHeaderMatch; /* enum rk_cfg_from_match */
	struct rk_cfg_pattern *allowedFrom;
	size_t nallowedFrom;
	struct rk_cfg_pattern *forbiddenFrom;
	size_t nforbiddenFrom;
};

/* ---------------------------------------------------------------- auth */

struct rk_cfg_user {
	char *name;         /* login (the map key) */
	char *password;     /* crypt(3) hash or plaintext; secret */
	char **allowedFrom; /* "addr@domain" or "@domain" */
	size_t nallowedFrom;
};

enum rk_cfg_auth_method {
	RK_AUTH_PLAIN,
	RK_AUTH_LOGIN,
};

struct rk_cfg_auth {
	bool enabled;
	int *methods; /* enum rk_cfg_auth_method */
	size_t nmethods;
	bool requireTls;
	bool constrainSender;
	struct rk_cfg_user *users;
	size_t nusers;
	char *usersFile; /* login:hash lines */
	struct {
		int64_t maxFailures;
		uint64_t window;   /* ms */
		uint64_t duration; /* ms */
	} lockout;
};

/* ----------------------------------------------------------- rateLimit */

enum rk_cfg_rl_key {
	RK_RL_SASL_USERNAME,
	RK_RL_SENDER,
	RK_RL_SENDER_DOMAIN,
	RK_RL_CLIENT_ADDRESS,
	RK_RL_RECIPIENT_DOMAIN,
};

enum rk_cfg_rl_count {
	RK_RL_PER_MESSAGE,
	RK_RL_PER_RECIPIENT,
};

enum rk_cfg_rl_action {
	RK_RL_DEFER,
	RK_RL_REJECT,
};

enum rk_cfg_fail_mode {
	RK_FAIL_OPEN,
	RK_FAIL_CLOSED,
};

struct rk_cfg_rl_rule {
	char *name;
	int key; /* enum rk_cfg_rl_key */
	struct rk_rate rate;
	char **match; /* values (or CIDRs for clientAddress); empty = all */
	size_t nmatch;
	int count;  /* enum rk_cfg_rl_count */
	int action; /* enum rk_cfg_rl_action */
};

struct rk_cfg_rl_domain {
	char *name; /* the map key: destination domain */
	bool enabled;
	int64_t maxConnections;
	int64_t maxPerConnection;
	struct rk_rate rate;
	bool hasRate;
	uint64_t delay; /* ms between deliveries; seed key delayMs */
};

struct rk_cfg_rate_limit {
	bool enabled;
	int failMode; /* enum rk_cfg_fail_mode */
	struct rk_cfg_rl_rule *rules;
	size_t nrules;
	struct {
		int64_t maxConnections;
		int64_t maxPerConnection;
		uint64_t delayBetweenMessages; /* ms */
	} global;
	struct rk_cfg_rl_domain *domains;
	size_t ndomains;
	struct rk_cfg_rl_domain *customDomains;
	size_t ncustomDomains;
};

/* -------------------------------------------------------- adaptiveRate */

struct rk_cfg_adaptive {
	char *name; /* the map key (domains only) */
	bool enabled;
	uint64_t minDelay;     /* ms */
	uint64_t maxDelay;     /* ms */
	uint64_t initialDelay; /* ms */
	double backoffMultiplier;
	double severeBackoffMultiplier; /* on 4.7.28 */
	double recoveryRate;
	int64_t successThreshold;
	char **members; /* domains only: paced together with this one */
	size_t nmembers;
};

/* A new sending IP's daily caps per destination. */
struct rk_cfg_warmup {
	bool enabled;
	char *startDate;   /* YYYY-MM-DD (UTC): day 1 */
	int64_t *schedule; /* the cap of day 1, 2, ... */
	size_t nschedule;
	double growthFactor; /* after the schedule: the last cap x this per
	                        day; 0: no cap after it */
};

struct rk_cfg_adaptive_rate {
	bool enabled;
	struct rk_cfg_adaptive defaults;
	struct rk_cfg_adaptive *domains;
	size_t ndomains;
	uint64_t *tiers; /* ms delays of the pacing transports */
	size_t ntiers;
	char **rateLimitReplies; /* regexes: a deferral that is pacing */
	size_t nrateLimitReplies;
	char **severeReplies; /* regexes: the heavier penalty */
	size_t nsevereReplies;
	char **ignoreReplies; /* regexes: never pacing (greylisting) */
	size_t nignoreReplies;
	struct rk_cfg_warmup warmup;
};

/* ------------------------------------------------------------- inbound */

struct rk_cfg_inbound {
	bool enabled;
	char *clientIdHeader;
	char **recipients;
	size_t nrecipients;
	struct {
		bool enabled;
		char *verpPrefix;
		bool useSenderDomain;
		char *domain;     /* bounce domain when !useSenderDomain */
		char *hmacSecret; /* secret */
		bool requireHmac;
		int64_t maxAgeDays;
	} bounce;
	struct {
		struct {
			bool enabled;
			bool rejectFail;
		} spf;
		struct {
			bool enabled;
		} dkim;
		struct {
			bool enabled;
			bool rejectOnFail;
		} dmarc;
		char *resolver; /* "addr[:port]"; NULL: /etc/resolv.conf */
	} security;
};

/* ------------------------------------------------------------ webhooks */

enum rk_cfg_event {
	RK_EV_DELIVERED,
	RK_EV_BOUNCED,
	RK_EV_DEFERRED,
	RK_EV_EXPIRED,
	RK_EV_BOUNCE_RECEIVED,
	RK_EV_COMPLAINT,
	RK_EV_QUEUED,
};

struct rk_cfg_kv {
	char *key;
	char *value;
};

struct rk_cfg_endpoint {
	char *name;
	char *url;
	bool enabled;
	int *events; /* enum rk_cfg_event; empty = all but queued */
	size_t nevents;
	struct rk_cfg_kv *headers;
	size_t nheaders;
	struct rk_cfg_kv *headerFiles; /* header: file holding its value */
	size_t nheaderFiles;
	char *secret;         /* Standard Webhooks key, whsec_...; secret */
	char *previousSecret; /* also signed with, during a rotation */
	char *bearerToken;    /* secret */
	uint64_t timeout;     /* ms; 0 = webhooks.timeout */
	char *caFile;         /* NULL: the system's CA store */
};

enum rk_cfg_wh_start {
	RK_WH_START_END,
	RK_WH_START_BEGINNING,
};

struct rk_cfg_webhooks {
	bool enabled;
	uint64_t timeout; /* ms */
	bool retry;
	int64_t maxRetries;
	uint64_t *retrySchedule; /* ms before each retry; the last repeats */
	size_t nretrySchedule;
	int64_t concurrency; /* requests in flight per process */
	uint64_t claimAfter; /* ms: a dead dispatcher's events are taken over */
	char *consumerName;  /* NULL: the host name */
	int startAt;         /* enum rk_cfg_wh_start, for a new group */
	int64_t deadLetterMaxLen;
	struct rk_cfg_endpoint *endpoints;
	size_t nendpoints;
};

/* ----------------------------------------------------------------- dns */

enum rk_cfg_dns_provider {
	RK_DNS_CLOUDFLARE,
	RK_DNS_RFC2136,
	RK_DNS_EXTERNAL_DNS,
};

enum rk_cfg_spf_policy {
	RK_SPF_SOFTFAIL, /* ~all */
	RK_SPF_FAIL,     /* -all */
	RK_SPF_NEUTRAL,  /* ?all */
};

enum rk_cfg_dmarc_policy {
	RK_DMARC_NONE,
	RK_DMARC_QUARANTINE,
	RK_DMARC_REJECT,
};

enum rk_cfg_tsig_alg {
	RK_TSIG_HMAC_SHA256,
	RK_TSIG_HMAC_SHA512,
};

struct rk_cfg_dns {
	bool enabled;
	int provider; /* enum rk_cfg_dns_provider */
	struct {
		char *apiToken; /* secret */
		char *apiUrl;
		struct rk_cfg_kv *zoneIds;
		size_t nzoneIds;
	} cloudflare;
	struct {
		char *server; /* host[:port] */
		char *zone;   /* NULL: each name's SOA, asked of server */
		char *tsigKeyName;
		int tsigAlgorithm;
		char *tsigSecret; /* base64; secret */
	} rfc2136;
	struct {
		char *namespace;
		char *outputFile;
	} externalDns;
	struct {
		bool a, mx, spf, dkim, dmarc;
	} records;
	int spfPolicy; /* enum rk_cfg_spf_policy */
	char **spfInclude;
	size_t nspfInclude;
	int dmarcPolicy;
	char *dmarcRua;
	int64_t ttl;
	char **nameservers; /* host[:port]; empty: the zones' NS */
	size_t nnameservers;
	int64_t maxChangePercent;
	struct {
		bool fromService;
		bool detectOutbound;
		struct rk_ip *staticIps; /* YAML key "static" */
		size_t nstaticIps;
		char **echoUrls; /* answer with the caller's address */
		size_t nechoUrls;
		char *service;           /* "name" or "namespace/name" */
		char *kubernetesApi;     /* NULL: from KUBERNETES_SERVICE_* */
		char *serviceAccountDir; /* token, ca.crt, namespace */
	} ip;
	struct {
		bool enabled;
		uint64_t interval; /* ms */
	} watcher;
	struct {
		bool enabled;
		uint64_t timeout; /* ms */
	} waitForRecords;
};

/* --------------------------------------------------------------- redis */

struct rk_cfg_redis {
	char *host;
	int64_t port;
	char *socket;   /* unix socket path; wins over host/port */
	char *username; /* ACL user (Redis 6+); NULL: "default" */
	char *password; /* secret */
	int64_t database;
	uint64_t connectTimeout; /* ms */
	uint64_t commandTimeout; /* ms */
	char *keyPrefix;
	/* Sentinel: the master is asked of these, by name, at each connect. */
	struct rk_endpoint *sentinels; /* RK_EP_INET only */
	size_t nsentinels;
	char *masterName;
	char *sentinelUsername;
	char *sentinelPassword; /* secret */
};

/* ------------------------------------------------------------- metrics */

struct rk_cfg_metrics {
	bool enabled;
	char *address;
	int64_t milterPort;
	int64_t policydPort;
	int64_t eventdPort;
	int64_t webhookdPort;
	struct {
		bool enabled;
		uint64_t interval;
		struct rk_cfg_kv *labels;
		size_t nlabels;
	} serviceMonitor;
};

/* ----------------------------------------------------------- dashboard */

/* The live page relaykit-eventd serves, and the chart's Grafana side. */
struct rk_cfg_dashboard {
	struct {
		bool enabled;
		bool sampling;              /* above maxEventsPerSecond */
		int64_t maxEventsPerSecond; /* per browser */
		bool maskAddresses;
		int64_t backlog;    /* latest events shown when a page opens */
		int64_t maxClients; /* pages open at once */
	} watch;
	char *address;
	int64_t port;
	struct {
		char *username;
		char *password;    /* secret */
		char *bearerToken; /* secret */
	} auth;
	struct {
		bool enabled; /* the chart provisions the Grafana dashboard */
		struct rk_cfg_kv *labels;
		size_t nlabels;
	} grafana;
};

/* ----------------------------------------------------- programs, log */

enum rk_cfg_milter_order { RK_MILTER_AFTER, RK_MILTER_BEFORE };

struct rk_cfg_milter {
	struct rk_endpoint listen;
	uint64_t timeout;  /* ms, libmilter's socket timeout */
	bool metadata;     /* per-message metadata to Redis */
	int order;         /* enum rk_cfg_milter_order: among the host's */
	bool outboundOnly; /* act on trusted, authenticated, local mail only */
};

enum rk_cfg_pd_action {
	RK_PD_DEFER,  /* DEFER_IF_PERMIT 4.x */
	RK_PD_DUNNO,  /* let Postfix's other restrictions decide */
	RK_PD_REJECT, /* REJECT 5.x */
};

struct rk_cfg_policyd {
	struct rk_endpoint *listen;
	size_t nlisten;
	struct rk_endpoint *saslListen;
	size_t nsaslListen;
	struct rk_endpoint *socketmapListen;
	size_t nsocketmapListen;
	int64_t maxConnections;
	uint64_t requestTimeout; /* ms */
	uint64_t idleTimeout;    /* ms */
	int malformedAction;     /* enum rk_cfg_pd_action */
};

enum rk_cfg_start_at {
	RK_START_END,
	RK_START_BEGINNING,
};

struct rk_cfg_eventd {
	char *logFile;         /* "-" = standard input */
	int startAt;           /* enum rk_cfg_start_at, without a position */
	char *name;            /* the position's key; NULL = host name */
	int64_t streamMaxLen;  /* events kept in the stream, about */
	uint64_t streamMaxAge; /* ms; 0 = no age limit */
	uint64_t pollInterval; /* ms */
	int64_t maxMessages;   /* message states kept in memory */
	bool configurePostfix; /* relaykit-postconf sets maillog_file */
};

enum rk_cfg_tls_level {
	RK_TLS_NONE,
	RK_TLS_MAY,
	RK_TLS_ENCRYPT,
};

struct rk_cfg_log {
	int level;       /* enum rk_log_level */
	int destination; /* enum rk_log_dest */
};

/* The daemons' process: who they run as, who may use their sockets. */
struct rk_cfg_daemon {
	char *user;        /* started as root: drop to this user; NULL = stay */
	char *socketGroup; /* group of the unix sockets; NULL = leave it */
	char *socketMode;  /* octal text, e.g. "0660" */
	unsigned mode;     /* socketMode, parsed */
};

/* ---------------------------------------------------------------- all */

struct rk_cfg {
	struct rk_cfg_mail mail;
	struct rk_cfg_dkim dkim;
	struct rk_cfg_sender_validation senderValidation;
	struct rk_cfg_auth auth;
	struct rk_cfg_rate_limit rateLimit;
	struct rk_cfg_adaptive_rate adaptiveRate;
	struct rk_cfg_inbound inbound;
	struct rk_cfg_webhooks webhooks;
	struct rk_cfg_dns dns;
	struct rk_cfg_redis redis;
	struct rk_cfg_metrics metrics;
	struct rk_cfg_dashboard dashboard;
	struct rk_cfg_milter milter;
	struct rk_cfg_policyd policyd;
	struct rk_cfg_eventd eventd;
	struct rk_cfg_log log;
	struct rk_cfg_daemon daemon;

	char *path;       /* the file it came from (owned) */
	_Atomic int refs; /* use rk_cfg_ref/unref */
};

/* Errors found while loading: every one, in file order. */
struct rk_cfg_diag {
	char **msgs; /* owned; "FILE:LINE:COL: path: text" */
	size_t n;
};

enum {
	/* Do not read *File secrets or check paths (fuzzing, linting
	   elsewhere). */
	RK_CFG_NO_FILES = 1 << 0,
	/* Read only the *File secrets of the sections below that are set
	   (least privilege: each program reads the secrets it uses, and the
	   others may be unreadable to its user); the rest hold a
	   placeholder, never to be used.  Without it: every secret. */
	RK_CFG_SECRETS = 1 << 1,
	RK_CFG_SEC_MAIL = 1 << 8,     /* mail.relay.auth */
	RK_CFG_SEC_AUTH = 1 << 9,     /* auth.users */
	RK_CFG_SEC_INBOUND = 1 << 10, /* inbound.bounce.hmacSecret */
	RK_CFG_SEC_WEBHOOKS = 1 << 11,
	RK_CFG_SEC_DNS = 1 << 12,
	RK_CFG_SEC_REDIS = 1 << 13,
	RK_CFG_SEC_DASHBOARD = 1 << 14, /* dashboard.auth */
};

/*
 * Loads path.  Returns a config (one reference) or NULL with every error
 * in diag (the caller frees diag with rk_cfg_diag_free).  An unreadable
 * file is one diag entry.
 */
struct rk_cfg *rk_cfg_load_file(
    const char *path, unsigned flags, struct rk_cfg_diag *diag);

/*
 * rk_cfg_load_file for a daemon: each problem logged as an error with
 * its FILE:LINE:COL, then a count; NULL when the file was refused.
 */
struct rk_cfg *rk_cfg_load_logged(const char *path, unsigned flags);

/*
 * Loads len bytes of YAML; name is used in messages and, with basedir,
 * for relative paths (basedir NULL = current directory).  buf need not be
 * NUL-terminated.  Input over 4 MiB is refused.
 */
struct rk_cfg *rk_cfg_load_buf(const char *name, const char *basedir,
    const char *buf, size_t len, unsigned flags, struct rk_cfg_diag *diag);

struct rk_cfg *rk_cfg_ref(struct rk_cfg *cfg);
/* Frees the config when the last reference goes; accepts NULL. */
void rk_cfg_unref(struct rk_cfg *cfg);

/* Prints each message on its own line. */
void rk_cfg_diag_print(const struct rk_cfg_diag *diag, FILE *fp);
void rk_cfg_diag_free(struct rk_cfg_diag *diag);

/*
 * Calls fn once per key of the schema with its documented path, e.g.
 * "mail.domains[].name", "rateLimit.domains.*.rate" ("[]" a list item,
 * "*" a map key chosen by the user).  For the manual-page check.
 */
void rk_cfg_keys(void (*fn)(const char *path, void *arg), void *arg);

/*
 * The mail.domains entry that owns domain: an exact match, else the
 * longest listed parent that has subdomains: true.  NULL when the relay
 * does not own it.  Borrowed from cfg.
 */
const struct rk_cfg_domain *rk_cfg_domain_find(
    const struct rk_cfg *cfg, const char *domain);

/* Names for enum values, as written in relaykit.yaml. */
const char *rk_cfg_event_name(int event);
const char *rk_cfg_dkim_alg_name(int alg);

/*
 * The config helpers programs share: -c FILE default path, and the
 * standard "-n" check (prints errors or "configuration OK").  Returns the
 * exit status: 0 or EX_CONFIG.
 */
#ifndef RK_CONFDIR
#define RK_CONFDIR "/etc/relaykit"
#endif
#define RK_CFG_DEFAULT_PATH RK_CONFDIR "/relaykit.yaml"
int rk_cfg_check_main(const char *path, FILE *out, FILE *err);

/* -n -v: rk_cfg_check_main also prints the effective configuration,
   every key with its value or default, secrets masked.  Set from main
   before calling it. */
extern bool rk_cfg_check_dump;

/* Every key of cfg as "path = value", secrets as "(set, not shown)". */
void rk_cfg_dump(const struct rk_cfg *cfg, FILE *out);

#endif
