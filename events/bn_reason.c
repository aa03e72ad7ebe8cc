/* SPDX-License-Identifier: MIT */
/*
 * bn_reason: why a recipient bounced, in sisimai's vocabulary (so users
 * can move between the two): userunknown, mailboxfull, hostunknown,
 * blocked, spamdetected, expired, ...
 *
 * Evidence is weighed in a fixed order: the DSN action (a delayed or
 * given-up delivery is "expired" whatever else is said), then the remote
 * server's own words (the most specific evidence: "user unknown" under
 * a generic 550 5.0.0), then the enhanced status code, then the whole
 * report text, then the reply code class.  The phrase tables are
 * substrings matched without regard to case; each table is one reason,
 * and the tables are tried in the order that resolves overlaps ("quota
 * of recipients exceeded" is a rate limit, not a full mailbox, so
 * speeding comes before mailboxfull).  Pure; thread-safe.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_log.h"
#include "rk_mem.h"

#include "bn.h"

struct reason_rule {
	const char *reason;
	const char *const *phrases;
};

#define PH(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Ordered: the first table with a matching phrase wins. */
static const struct reason_rule text_rules[] = {
	{ "rejected",
	    PH("permission to post", "groups.google.com", "not allowed to post",
	        "sender address rejected", "sender verify failed",
	        "domain of sender address", "sender rejected",
	        "sender domain does not exist", "sender domain must exist",
	        "unverified sender", "address that has been blacklisted",
	        "address has been blacklisted", "sender is in my black list",
	        "sender is blacklisted", "sender blacklisted") },
	/* a full mailbox is why a retry timed out, not the other way */
	{ "mailboxfull",
	    PH("mailbox full", "mailbox is full", "over quota",
	        "quota exceeded", "overquota") },
	{ "expired",
	    PH("retry timeout exceeded", "message expired",
	        "delivery time expired",
	        "retry time not reached for any host "
	        "after a long failure",
	        "could not be delivered within", "has been delayed",
	        "delivery attempts will continue", "was not delivered within",
	        "too long in queue", "message timed out", "i've given up",
	        "i have given up", "will be retried for", "requests to connect",
	        "repeated attempts", "cannot send message for",
	        "could not be delivered for", "queue timeout", "expired after",
	        "delivery expired", "message has been in the queue too long",
	        "ttl expired", "maximum time allowed", "server busy, retry",
	        "was delayed", "envelope expired", "giving up.",
	        "could not deliver for the last", "failing for a long time",
	        "retry period", "delivery period expired",
	        "delivery failed * attempts", "failed after * attempts",
	        "aborted after * hour", "aborted after * day") },
	{ "authfailure",
	    PH("spf check", "spf fail", "spf validation", "spf record",
	        "sender policy framework", "dmarc", "dkim", "5.7.26", "5.7.25",
	        "authentication failed", "unauthenticated email",
	        "does not pass authentication", "spf)", "spf=fail",
	        "not authorized to send", "is not designated to send",
	        "sender is not permitted") },
	{ "failedstarttls",
	    PH("does not support tls", "does not support starttls",
	        "starttls is required", "tls required but not supported",
	        "starttls failed", "tls negotiation failed",
	        "tls handshake failed", "could not establish tls") },
	{ "requireptr",
	    PH("reverse dns", "reverse lookup", "no ptr", "ptr record",
	        "reverse hostname", "cannot find your hostname",
	        "not resolve your address", "have no rdns",
	        "does not have a reverse", "no reverse", "rdns",
	        "client host rejected: cannot find", "unresolvable",
	        "reverse ip", "ip name lookup failed", "reverse-resolve",
	        "fcrdns", "unverifyable sending ip",
	        "unverifiable sending ip") },
	{ "virusdetected",
	    PH("virus", "malware", "infected", "harmful attachment",
	        "dangerous attachment") },
	{ "norelaying",
	    PH("relay access denied", "relaying denied",
	        "not permitted to relay", "relay not permitted",
	        "unable to relay", "relaying not allowed", "we do not relay",
	        "no relaying", "relay denied", "relay prohibited",
	        "relaying mail to", "not allowed to relay",
	        "relaying is prohibited", "not a gateway",
	        "mail server is not an open relay", "relay not authorized",
	        "relaying disallowed") },
	{ "speeding",
	    PH("rate limit", "too many messages", "sending rate",
	        "sent too many", "exceeded the rate", "rate of incoming",
	        "messages per", "receiving mail at a rate",
	        "too many recipients in", "quota of recipients",
	        "rate that prevents") },
	{ "toomanyconn",
	    PH("too many connections", "too many concurrent",
	        "too many simultaneous", "connection limit",
	        "too many sessions", "too many smtp sessions",
	        "connections from your") },
	{ "notaccept",
	    PH("no mx record", "no mx found", "no mx host", "has no mx",
	        "no smtp service", "null mx", "does not accept mail",
	        "doesn't accept mail", "accepts no mail") },
	{ "networkerror",
	    PH("not found, try again", "temporary failure in name",
	        "name service error", "dns query failed",
	        "unexpected name server reply") },
	{ "hostunknown",
	    PH("host unknown", "unknown host", "domain not found",
	        "host not found", "no such domain", "domain does not exist",
	        "unrouteable address", "unrouteable mail domain",
	        "name or service not known", "nxdomain",
	        "host or domain name not found") },
	{ "userunknown",
	    PH("user unknown", "unknown user", "no such user",
	        "recipient not found", "mailbox not found", "unknown recipient",
	        "invalid recipient", "no such mailbox", "not listed in domino",
	        "doesn't have a", "does not have an account",
	        "no such recipient", "recipient unknown", "user not found",
	        "invalid final delivery", "address does not exist",
	        "account does not exist", "mailbox does not exist",
	        "user does not exist", "unknown local part",
	        "recipient address rejected: access denied") },
	{ "mailboxfull",
	    PH("mailbox full", "mailbox is full", "over quota",
	        "quota exceeded", "mailbox exceeded", "mailbox size limit",
	        "overquota", "exceeded storage", "insufficient storage") },
	{ "spamdetected",
	    PH("spam", "junk mail", "unsolicited", "bulk mail", "bulk e-mail",
	        "message content rejected", "content filter rejection",
	        "scored", "classified as", "uce", "phishing",
	        "suspicious content", "message looked", "detected as",
	        "mail appears to be", "considered",
	        "reputation of the content") },
	{ "badreputation",
	    PH("reputation", "sender score", "ip reputation", "poor reputation",
	        "temporarily rate limited due to ip") },
	{ "blocked",
	    PH("blacklist", "black list", "blocklist", "block list", "dnsbl",
	        "rbl", "spamhaus", "spamcop", "barracuda", "listed in",
	        "listed at", "listed on", "client host rejected",
	        "access denied", "your ip", "ip address", "banned", "blocked",
	        "not allowed to send from", "host rejected",
	        "connection rejected", "your host", "refused by",
	        "service unavailable, client", "poor reputation", "dynamic ip",
	        "dial-up", "dialup", "residential", "not accepting mail from",
	        "domain is blocked", "connections not accepted from",
	        "sorry, your remotehost", "access denied", "your server",
	        "not accepting connections", "client ip", "network is",
	        "rejected due to", "invalid ip") },
	{ "suspend",
	    PH("account disabled", "account has been disabled",
	        "mailbox disabled", "mailbox is disabled", "is disabled",
	        "has been disabled", "suspended", "inactive", "deactivated",
	        "account is not active", "account expired",
	        "mailbox is inactive", "mailbox has been blocked",
	        "account has been locked", "account is locked", "not activated",
	        "temporary locked", "temporarily locked",
	        "temporarily deactivated", "frozen", "disabled by the user",
	        "mailbox unavailable for", "is not active", "no longer active",
	        "account deleted") },
	{ "mailboxfull",
	    PH("mailbox full", "mailbox is full", "mailbox size limit",
	        "over quota", "overquota", "quota exceeded", "exceeded quota",
	        "exceeds quota", "quota", "mailbox exceeds",
	        "insufficient storage", "exceeded storage", "not enough space",
	        "out of space", "full mailbox", "mail box full",
	        "mailbox has exceeded", "storage allocation", "disk full",
	        "is full", "too much mail", "user is over", "mailfolder full",
	        "mailbox space", "exceeded its", "exceeded the maximum",
	        "maildir over") },
	{ "mesgtoobig",
	    PH("message too big", "message too large", "message size exceeds",
	        "message is too large", "message is too big", "message exceeds",
	        "size limit", "exceeds size", "too large",
	        "message length exceeds", "max message size",
	        "maximum message size", "message size") },
	{ "hasmoved",
	    PH("has moved", "has been moved", "changed address", "new address",
	        "no longer with", "address changed") },
	{ "hostunknown",
	    PH("host unknown", "unknown host", "domain not found",
	        "host not found", "no such domain", "domain does not exist",
	        "unrouteable mail domain", "unroutable domain",
	        "name or service not known", "nxdomain", "dns lookup",
	        "invalid domain", "domain name not found", "unknown domain",
	        "recipient domain", "domain is not",
	        "host or domain name not found", "not a valid domain",
	        "could not be resolved", "domain could not be",
	        "domain doesn't exist", "no valid host", "bad domain",
	        "cannot resolve", "name server", "domain lookup failed") },
	{ "notaccept",
	    PH("does not accept mail", "null mx", "doesn't accept mail",
	        "accepts no mail", "not accepting mail",
	        "does not receive mail", "mail is not accepted") },
	{ "userunknown",
	    PH("user unknown", "unknown user", "no such user", "does not exist",
	        "doesn't exist", "mailbox unavailable", "invalid recipient",
	        "no mailbox", "unknown recipient", "no such mailbox",
	        "recipient not found", "user not found", "invalid mailbox",
	        "account does not exist", "mailbox not found",
	        "unknown local part", "not a valid mailbox",
	        "no such recipient", "recipient unknown", "bad destination",
	        "addressee unknown", "recipient address rejected",
	        "address rejected", "no such address", "unknown address",
	        "user doesn't exist", "is not a valid", "not our customer",
	        "recipient rejected", "unknown or illegal alias", "no account",
	        "mailbox does not", "not found", "name is not recognized",
	        "not recognized", "invalid address", "user invalid",
	        "address unknown", "not exist", "unknown mailbox", "no user",
	        "recipient invalid", "undeliverable address",
	        "rejected recipient", "mailbox not available",
	        "mailbox unknown", "invalid user", "bad address",
	        "unknown account", "no valid recipients", "not have an account",
	        "could not be found", "recipient does not", "user does not",
	        "destination address", "account is unavailable", "no mail box",
	        "disabled mailbox", "address does not", "unknown alias",
	        "no such person", "user has no", "user is unknown",
	        "not listed", "does not have", "permanently rejected") },
	{ "rejected",
	    PH("sender address rejected", "domain of sender", "sender rejected",
	        "sender verify failed", "sender domain", "sender is",
	        "sender not", "invalid sender", "bad sender", "from address",
	        "sender unknown", "unknown sender",
	        "address verification failed", "return path", "sender address",
	        "envelope sender", "mail from", "rejected by", "sender denied",
	        "senders are", "sender's", "your domain",
	        "not accept mail from") },
	{ "securityerror",
	    PH("tls required", "encryption required", "must issue a starttls",
	        "authentication required", "must authenticate", "certificate",
	        "security", "insecure", "submission port",
	        "requires authentication") },
	{ "networkerror",
	    PH("connection timed out", "connection refused", "lost connection",
	        "timed out", "could not connect", "unreachable",
	        "network error", "connection reset", "no route to host",
	        "connection dropped", "socket", "too many hops", "mail loop",
	        "routing loop", "loops back", "hop count", "loop detected",
	        "network is unreachable", "connect to") },
	{ "systemfull",
	    PH("insufficient system storage", "system storage", "disk is full",
	        "out of disk", "resources temporarily") },
	{ "mailererror",
	    PH("mailer error", "command died", "exited with", "command failed",
	        "procmail", "pipe to", "mail filter", "local delivery failed",
	        "delivery program") },
	{ "systemerror",
	    PH("system error", "internal error", "configuration error",
	        "server error", "temporary failure", "local error",
	        "system config", "misconfigured", "system problem",
	        "try again later", "server is busy", "service unavailable",
	        "temporarily unavailable", "processing error") },
	{ "notcompliantrfc",
	    PH("rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822",
	        "duplicate header", "not compliant", "multiple from",
	        "headers are not", "header is missing", "missing header",
	        "malformed header", "bare lf") },
	{ "policyviolation",
	    PH("policy", "not allowed", "prohibited", "forbidden", "violat",
	        "restricted", "not permitted", "denied") },
	{ "syntaxerror",
	    PH("syntax error", "command unrecognized", "unrecognized command",
	        "malformed address", "malformed recipient",
	        "incorrectly constructed", "bad sequence", "invalid command",
	        "command not", "line too long", "parameter") },
	{ "contenterror",
	    PH("content", "attachment", "illegal character", "encoding", "mime",
	        "message body") },
	{ "filtered",
	    PH("filtered", "filter", "mail rejected", "refused", "rejected",
	        "not accepted", "delivery not authorized", "not authorized") },
};

/* Status codes whose meaning is specific enough on its own. */
static const struct {
	const char *code; /* class digit replaced by 'x' */
	const char *reason;
} status_rules[] = {
	{ "x.1.1", "userunknown" },
	{ "x.1.2", "hostunknown" },
	{ "x.1.3", "userunknown" },
	{ "x.1.4", "userunknown" },
	{ "x.1.5", "userunknown" },
	{ "x.1.6", "hasmoved" },
	{ "x.1.7", "rejected" },
	{ "x.1.8", "rejected" },
	{ "x.1.9", "rejected" },
	{ "x.1.10", "notaccept" },
	{ "x.2.0", "filtered" },
	{ "x.2.1", "suspend" },
	{ "x.2.2", "mailboxfull" },
	{ "x.2.3", "exceedlimit" },
	{ "x.2.4", "systemerror" },
	{ "x.3.0", "systemerror" },
	{ "x.3.1", "systemfull" },
	{ "x.3.2", "notaccept" },
	{ "x.3.3", "systemerror" },
	{ "x.3.4", "mesgtoobig" },
	{ "x.3.5", "systemerror" },
	{ "x.4.0", "networkerror" },
	{ "x.4.1", "networkerror" },
	{ "x.4.2", "networkerror" },
	{ "x.4.3", "networkerror" },
	{ "x.4.4", "hostunknown" },
	{ "x.4.5", "systemfull" },
	{ "x.4.6", "networkerror" },
	{ "x.4.7", "expired" },
	{ "x.5.0", "syntaxerror" },
	{ "x.5.1", "syntaxerror" },
	{ "x.5.2", "syntaxerror" },
	{ "x.5.3", "toomanyconn" },
	{ "x.5.4", "syntaxerror" },
	{ "x.5.5", "syntaxerror" },
	{ "x.6.0", "contenterror" },
	{ "x.6.1", "contenterror" },
	{ "x.6.2", "contenterror" },
	{ "x.6.3", "contenterror" },
	{ "x.6.4", "contenterror" },
	{ "x.6.5", "contenterror" },
	{ "x.6.9", "contenterror" },
	{ "x.7.0", "securityerror" },
	{ "x.7.1", "blocked" },
	{ "x.7.2", "policyviolation" },
	{ "x.7.3", "securityerror" },
	{ "x.7.4", "securityerror" },
	{ "x.7.5", "securityerror" },
	{ "x.7.6", "securityerror" },
	{ "x.7.7", "securityerror" },
	{ "x.7.8", "securityerror" },
	{ "x.7.9", "policyviolation" },
	{ "x.7.10", "securityerror" },
	{ "x.7.11", "failedstarttls" },
	{ "x.7.13", "suspend" },
	{ "x.7.14", "securityerror" },
	{ "x.7.15", "securityerror" },
	{ "x.7.16", "securityerror" },
	{ "x.7.17", "suspend" },
	{ "x.7.18", "suspend" },
	{ "x.7.19", "securityerror" },
	{ "x.7.20", "authfailure" },
	{ "x.7.21", "authfailure" },
	{ "x.7.22", "authfailure" },
	{ "x.7.23", "authfailure" },
	{ "x.7.24", "authfailure" },
	{ "x.7.25", "requireptr" },
	{ "x.7.26", "authfailure" },
	{ "x.7.27", "notaccept" },
	{ "x.7.28", "speeding" },
	{ "x.7.29", "authfailure" },
	{ "x.7.30", "securityerror" },
};

/* Codes that name the reason better than any prose around them. */
static bool
decisive_status(const char *code)
{
	static const char *const decisive[] = { "x.7.25", "x.7.26", "x.2.2",
		"x.1.6", "x.3.4", "x.7.27", "x.1.10", "x.7.28", NULL };

	for (size_t i = 0; decisive[i]; i++)
		if (strcmp(code + 1, decisive[i] + 1) == 0)
			return true;
	return false;
}

/*
 * A text folded to lower case once, with the set of byte pairs in it: a
 * phrase with a pair the text lacks cannot be in it, so most of the
 * several hundred phrases are ruled out without a strstr(3).
 */
struct folded {
	char *low;
	uint64_t pairs[65536 / 64];
};

static void
fold(struct folded *f, const char *text)
{
	f->low = rk_strdup(text);
	rk_str_lower(f->low);
	memset(f->pairs, 0, sizeof(f->pairs));
	for (const unsigned char *p = (const unsigned char *)f->low;
	     p[0] && p[1]; p++) {
		unsigned k = (unsigned)p[0] << 8 | p[1];

		f->pairs[k / 64] |= UINT64_C(1) << (k % 64);
	}
}

static bool
may_hold(const struct folded *f, const char *phrase)
{
	for (const unsigned char *p = (const unsigned char *)phrase;
	     p[0] && p[1]; p++) {
		unsigned k = (unsigned)p[0] << 8 | p[1];

		if (p[0] == '*' || p[1] == '*')
			continue;
		if (!(f->pairs[k / 64] & UINT64_C(1) << (k % 64)))
			return false;
	}
	return true;
}

/*
 * A phrase is a substring, or two joined by "*": the second follows the
 * first within a few words ("delivery failed * attempts" matches
 * "delivery failed 20 attempts").
 */
#define GAP_MAX 40

static bool
phrase_in(const struct folded *f, const char *phrase)
{
	const char *star = strchr(phrase, '*');
	char head[64];
	size_t hl;

	if (!may_hold(f, phrase))
		return false;
	if (star == NULL)
		return strstr(f->low, phrase) != NULL;
	hl = (size_t)(star - phrase);
	if (hl == 0 || hl >= sizeof(head))
		rk_panic("bn_reason: bad phrase \"%s\"", phrase);
	memcpy(head, phrase, hl);
	head[hl] = '\0';
	for (const char *a = strstr(f->low, head); a; a = strstr(a + 1, head)) {
		const char *tail = strstr(a + hl, star + 1);

		if (tail == NULL)
			return false;
		if ((size_t)(tail - (a + hl)) <= GAP_MAX)
			return true;
	}
	return false;
}

/* The first table with a phrase in text; the tables of skip left out. */
static const char *
by_text_but(const char *text, const char *skip)
{
	const char *found = NULL;
	struct folded fo, *f = &fo; /* 8 KB: a stack, not a heap, affair */

	if (text == NULL || *text == '\0')
		return NULL;
	fold(f, text);
	for (size_t i = 0;
	     found == NULL && i < sizeof(text_rules) / sizeof(text_rules[0]);
	     i++) {
		if (skip != NULL && strcmp(text_rules[i].reason, skip) == 0)
			continue;
		for (const char *const *p = text_rules[i].phrases; *p; p++)
			if (phrase_in(f, *p)) {
				found = text_rules[i].reason;
				break;
			}
	}
	free(f->low);
	return found;
}

static const char *
by_text(const char *text)
{
	return by_text_but(text, NULL);
}

/* The report's text says the same for every record: read it once. */
static const char *
by_context(struct bn_context *ctx)
{
	if (ctx == NULL)
		return NULL;
	if (!ctx->read) {
		ctx->reason = by_text(ctx->text);
		ctx->read = true;
	}
	return ctx->reason;
}

static const char *
by_status(const char *status)
{
	if (status == NULL || strlen(status) < 5)
		return NULL;
	for (size_t i = 0; i < sizeof(status_rules) / sizeof(status_rules[0]);
	     i++)
		if (strcmp(status + 1, status_rules[i].code + 1) == 0)
			return status_rules[i].reason;
	return NULL;
}

static bool
is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

bool
bn_reason_hard(const char *reason, const char *status)
{
	if (is(reason, "userunknown") || is(reason, "hostunknown") ||
	    is(reason, "hasmoved"))
		return true;
	return is(reason, "notaccept") && status != NULL && status[0] == '5';
}

/*
 * A delayed or given-up delivery is "expired" unless the remote server
 * named a cause that outlasts the retries (a full mailbox, a missing
 * PTR record, a domain without MX): that cause is the reason.  Words
 * about the network or a busy server only say why it kept failing.
 */
static const char *
delayed_cause(const char *diagnostic)
{
	static const char *const transient[] = { "networkerror", "systemerror",
		"toomanyconn", "speeding", NULL };
	/* "delivery attempts will continue": what delayed means anyway */
	const char *r = by_text_but(diagnostic, "expired");

	for (size_t i = 0; r != NULL && transient[i]; i++)
		if (strcmp(r, transient[i]) == 0)
			return "expired";
	return r ? r : "expired";
}

/* Only the text before the remote server's words counts as context. */
static const char *
decide(struct bn_rcpt *rc, struct bn_context *context)
{
	const char *r;

	if (is(rc->action, "delayed") || is(rc->action, "expired"))
		return delayed_cause(rc->diagnostic);
	if (is(rc->action, "delivered") || is(rc->action, "relayed") ||
	    is(rc->action, "expanded"))
		return "delivered";
	if (rc->status && decisive_status(rc->status))
		return by_status(rc->status);
	if ((r = by_text(rc->diagnostic)) != NULL)
		return r;
	if ((r = by_status(rc->status)) != NULL)
		return r;
	if ((r = by_context(context)) != NULL)
		return r;
	if (rc->status && rc->status[0] == '4')
		return "expired";
	return rc->status || rc->replycode ? "onhold" : "undefined";
}

/*
 * A recipient refused only after the message was sent (at DATA) was
 * refused for what the message said, whatever the words: a content
 * filter posing as "user unknown".
 */
static const char *
after_data(const struct bn_rcpt *rc, const char *reason)
{
	bool addressing = rc->status && strncmp(rc->status + 1, ".1.", 3) == 0;

	if (!is(reason, "userunknown") || addressing)
		return reason;
	if (is(rc->command, "DATA") ||
	    (rc->command == NULL && rc->replycode != NULL))
		return "filtered";
	return reason;
}

/*
 * Refused before any recipient was named (at the greeting or HELO): the
 * refusal is about the client, whatever the words say about mailboxes
 * ("you've reached your daily relay quota").
 */
static const char *
before_rcpt(const struct bn_rcpt *rc, const char *reason)
{
	static const char *const about_rcpt[] = { "mailboxfull", "userunknown",
		"filtered", "suspend", "hasmoved", "mesgtoobig", NULL };

	if (!is(rc->command, "CONN") && !is(rc->command, "HELO"))
		return reason;
	for (size_t i = 0; about_rcpt[i]; i++)
		if (is(reason, about_rcpt[i]))
			return "blocked";
	return reason;
}

/* The diagnostic without the recipient's own address in it. */
static char *
without_address(const char *d, const char *addr)
{
	char *out = rk_strdup(d);
	size_t al = addr ? strlen(addr) : 0;
	char *p;

	while (al > 0 &&
	    (p = (char *)(uintptr_t)bn_memcasestr(out, strlen(out), addr)) !=
	        NULL)
		memset(p, ' ', al);
	return out;
}

void
bn_classify(struct bn_rcpt *rc, struct bn_context *context)
{
	char *orig = rc->diagnostic;

	if (orig != NULL)
		rc->diagnostic = without_address(orig, rc->recipient);
	rc->reason = before_rcpt(rc, after_data(rc, decide(rc, context)));
	/* a name that does not resolve for now is a DNS failure */
	if (is(rc->reason, "hostunknown") && rc->status && rc->status[0] == '4')
		rc->reason = "networkerror";
	if (orig != NULL) {
		free(rc->diagnostic);
		rc->diagnostic = orig;
	}
	if (rc->status == NULL && rc->replycode != NULL) {
		char s[8];

		snprintf(s, sizeof(s), "%c.0.0", rc->replycode[0]);
		rc->status = rk_strdup(s);
	}
	if (is(rc->reason, "delivered"))
		rc->hard = 0;
	else
		rc->hard = bn_reason_hard(rc->reason, rc->status);
}
