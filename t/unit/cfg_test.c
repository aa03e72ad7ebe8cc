/* SPDX-License-Identifier: MIT */
/*
 * rk_cfg: configs that must load, and what they load to: defaults, the
 * seeds' shapes, shorthands, secrets from files, inheritance, refcounts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "rk_cfg.h"
#include "rk_mem.h"
#include "tap.h"

static char tmpdir[] = "/tmp/rk_cfg_test.XXXXXX";

static struct rk_cfg *
load(const char *name, const char *yaml)
{
	struct rk_cfg_diag dg;
	struct rk_cfg *cfg = rk_cfg_load_buf(
	    "relaykit.yaml", tmpdir, yaml, strlen(yaml), 0, &dg);

	if (!ok(cfg != NULL, "%s: loads", name))
		for (size_t i = 0; i < dg.n; i++)
			diag("  %s", dg.msgs[i]);
	rk_cfg_diag_free(&dg);
	return cfg;
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void
test_defaults(void)
{
	struct rk_cfg *c = load("empty file", "");
	char buf[128];

	if (c == NULL)
		return;
	ok(c->mail.hostname == NULL, "no hostname: the system's is used");
	is_str(c->mail.banner, "$myhostname ESMTP", "banner hides software");
	is_int((intmax_t)c->mail.ntrustedNetworks, 2, "two trusted networks");
	is_str(rk_cidr_format(&c->mail.trustedNetworks[0], buf, sizeof(buf)),
	    "127.0.0.0/8", "trusted: IPv4 loopback only");
	is_str(rk_cidr_format(&c->mail.trustedNetworks[1], buf, sizeof(buf)),
	    "::1/128", "trusted: IPv6 loopback");
	is_int((intmax_t)c->mail.maxMessageSize, 25 << 20, "25M default size");
	ok(c->dkim.enabled, "dkim on by default");
	is_int(c->dkim.algorithm, RK_DKIM_RSA_SHA256, "rsa-sha256 default");
	is_int(c->dkim.keySize, 2048, "2048-bit keys");
	is_int((intmax_t)c->dkim.nheaders, 14, "14 signed headers");
	is_str(c->dkim.headers[13], "List-Unsubscribe-Post", "last signed");
	is_int((intmax_t)c->dkim.noversignHeaders, 1, "From oversigned");
	is_int((intmax_t)c->dkim.expiration, 0, "no x= by default");
	is_int(c->auth.nmethods, 2, "PLAIN and LOGIN");
	is_int(c->auth.methods[1], RK_AUTH_LOGIN, "LOGIN second");
	is_int(c->rateLimit.failMode, RK_FAIL_OPEN, "rate limits fail open");
	is_int(c->rateLimit.global.maxConnections, 100, "global connections");
	is_int((intmax_t)c->adaptiveRate.defaults.initialDelay, 5000,
	    "initialDelay 5s");
	ok(c->adaptiveRate.defaults.backoffMultiplier == 1.5, "backoff 1.5");
	is_int((intmax_t)c->adaptiveRate.ntiers, 11, "11 pacing tiers");
	is_str(c->inbound.clientIdHeader, "X-Message-ID", "client id header");
	is_int((intmax_t)c->inbound.nrecipients, 4, "four inbound locals");
	is_str(c->inbound.bounce.verpPrefix, "bounce+", "VERP prefix");
	is_int(c->inbound.bounce.maxAgeDays, 7, "7 days");
	is_int((intmax_t)c->webhooks.timeout, 5000, "webhook timeout 5s");
	is_str(c->dns.cloudflare.apiUrl, "https://api.cloudflare.com/client/v4",
	    "cloudflare API");
	is_int(c->dns.ttl, 300, "ttl");
	is_str(c->redis.host, "127.0.0.1", "redis host");
	is_int(c->redis.port, 6379, "redis port");
	is_str(c->redis.keyPrefix, "rk:", "key prefix");
	is_int((intmax_t)c->redis.commandTimeout, 500, "500 ms commands");
	is_int(c->milter.listen.kind, RK_EP_UNIX, "milter on a unix socket");
	is_str(c->milter.listen.path, "/var/spool/postfix/relaykit/milter.sock",
	    "milter socket path");
	is_int((intmax_t)c->policyd.nlisten, 1, "one policy socket");
	is_int(c->log.destination, 1, "syslog by default");
	is_int(c->refs, 1, "one reference");
	rk_cfg_unref(c);
}

/* The seed chart's shapes load as written in its README. */
static void
test_seed_shapes(void)
{
	struct rk_cfg *c = load("seed 000 values",
	    "mail:\n"
	    "  hostname: mail.example.com\n"
	    "  domains:\n"
	    "    - name: example.com\n"
	    "      dkimSelector: mail\n"
	    "    - name: Another.COM.\n"
	    "  trustedNetworks:\n"
	    "    - \"10.0.0.0/8\"\n"
	    "    - \"172.16.0.0/12\"\n"
	    "    - \"192.168.0.0/16\"\n"
	    "  relay:\n"
	    "    enabled: false\n"
	    "    host: smtp.sendgrid.net\n"
	    "    port: 587\n"
	    "    tls: true\n"
	    "    auth:\n"
	    "      enabled: true\n"
	    "      username: apikey\n"
	    "      password: \"\"\n"
	    "senderValidation:\n"
	    "  enabled: true\n"
	    "  checkFromHeader: true\n"
	    "  allowedFrom:\n"
	    "    - \"service@partner.com\"\n"
	    "    - \"partner.com\"\n"
	    "    - \"/.*@notifications\\\\./\"\n"
	    "  forbiddenFrom: [ceo@example.com, hr@example.com]\n"
	    "auth:\n"
	    "  enabled: true\n"
	    "  methods: \"PLAIN,LOGIN\"\n"
	    "  requireTls: true\n"
	    "  constrainSender: true\n"
	    "  users:\n"
	    "    sender@example.com: \"password123\"\n"
	    "rateLimit:\n"
	    "  enabled: true\n"
	    "  global: {maxConnections: 100, maxPerConnection: 50, "
	    "delayBetweenMessages: 0}\n"
	    "  domains:\n"
	    "    gmail.com: {enabled: true, maxConnections: 1, "
	    "maxPerConnection: 3, rate: \"1/20s\", delayMs: 15000}\n"
	    "    outlook.com: {enabled: true, maxConnections: 2, rate: 1/10s}\n"
	    "  customDomains:\n"
	    "    corporate.com: {maxConnections: 5, rate: \"10/1m\"}\n"
	    "adaptiveRate:\n"
	    "  enabled: true\n"
	    "  defaults: {minDelay: 1000, maxDelay: 60000, initialDelay: 5000,"
	    " backoffMultiplier: 1.5, recoveryRate: 0.9, successThreshold: 5}\n"
	    "  domains:\n"
	    "    gmail.com: {enabled: true, minDelay: 15000, maxDelay: 120000,"
	    " initialDelay: 20000, backoffMultiplier: 2.0, successThreshold: "
	    "10}\n"
	    "    yahoo.com: {maxDelay: 30s}\n"
	    "inbound:\n"
	    "  enabled: true\n"
	    "  clientIdHeader: \"X-Message-ID\"\n"
	    "  recipients: [postmaster, abuse, \"bounce+\", fbl]\n"
	    "  bounce: {enabled: true, verpPrefix: \"bounce+\", "
	    "useSenderDomain: true, hmacSecret: \"0123456789abcdef\", "
	    "requireHmac: true, maxAgeDays: 7}\n"
	    "webhooks:\n"
	    "  enabled: true\n"
	    "  timeout: 5000\n"
	    "  retry: true\n"
	    "  maxRetries: 3\n"
	    "  endpoints:\n"
	    "    - name: main\n"
	    "      url: \"https://api.example.com/webhooks/email\"\n"
	    "      events: [delivered, bounced, bounce_received, complaint]\n"
	    "      headers:\n"
	    "        Authorization: \"Bearer token123\"\n"
	    "dns:\n"
	    "  enabled: true\n"
	    "  provider: cloudflare\n"
	    "  cloudflare: {apiToken: abc}\n"
	    "  records: {a: true, mx: true, spf: true, dkim: true, dmarc: "
	    "true}\n"
	    "  spfPolicy: \"~all\"\n"
	    "  dmarcPolicy: none\n"
	    "  ttl: 300\n"
	    "  ip: {fromService: true, detectOutbound: true, static: []}\n"
	    "  watcher: {enabled: true, interval: 60}\n"
	    "  waitForRecords: {enabled: true, timeout: 600}\n"
	    "metrics:\n"
	    "  enabled: true\n"
	    "  serviceMonitor: {enabled: true, interval: 30s, labels: "
	    "{release: monitoring}}\n");

	if (c == NULL)
		return;
	is_str(c->mail.domains[1].name, "another.com",
	    "domain lower-cased, trailing dot dropped");
	is_str(c->mail.domains[1].dkimSelector, "mail", "selector default");
	is_int(c->senderValidation.allowedFrom[0].kind, RK_PAT_ADDRESS,
	    "allowedFrom address");
	is_int(c->senderValidation.allowedFrom[1].kind, RK_PAT_DOMAIN,
	    "allowedFrom domain");
	is_int(c->senderValidation.allowedFrom[2].kind, RK_PAT_REGEX,
	    "allowedFrom regex");
	is_str(c->senderValidation.allowedFrom[2].text, ".*@notifications\\.",
	    "regex source without slashes");
	is_int((intmax_t)c->auth.nusers, 1, "one user");
	is_str(c->auth.users[0].name, "sender@example.com", "login from key");
	is_str(c->auth.users[0].password, "password123", "password shorthand");
	is_int((intmax_t)c->rateLimit.ndomains, 2, "two paced domains");
	is_str(c->rateLimit.domains[0].name, "gmail.com", "domain key");
	is_int(
	    (intmax_t)c->rateLimit.domains[0].rate.period_ms, 20000, "1/20s");
	ok(c->rateLimit.domains[0].hasRate, "rate given");
	is_int((intmax_t)c->rateLimit.domains[0].delay, 15000, "delayMs");
	is_int((intmax_t)c->rateLimit.customDomains[0].rate.count, 10,
	    "custom domain rate");
	is_int((intmax_t)c->adaptiveRate.domains[0].minDelay, 15000,
	    "gmail minDelay");
	ok(c->adaptiveRate.domains[0].backoffMultiplier == 2.0,
	    "gmail backoff");
	ok(c->adaptiveRate.domains[0].recoveryRate == 0.9,
	    "gmail recoveryRate from defaults");
	is_int((intmax_t)c->adaptiveRate.domains[1].maxDelay, 30000,
	    "yahoo maxDelay as a duration");
	is_int((intmax_t)c->adaptiveRate.domains[1].initialDelay, 5000,
	    "yahoo initialDelay inherited");
	is_int((intmax_t)c->webhooks.endpoints[0].nevents, 4, "four events");
	is_int(c->webhooks.endpoints[0].events[3], RK_EV_COMPLAINT,
	    "complaint event");
	is_str(c->webhooks.endpoints[0].headers[0].key, "Authorization",
	    "header name");
	is_str(c->webhooks.endpoints[0].headers[0].value, "Bearer token123",
	    "header value");
	is_int((intmax_t)c->dns.watcher.interval, 60000, "bare seconds");
	is_str(c->metrics.serviceMonitor.labels[0].value, "monitoring",
	    "serviceMonitor label");
	rk_cfg_unref(c);
}

static void
test_secret_files(void)
{
	struct rk_cfg *c;

	write_file("redis.pass", "s3cret pass\n");
	write_file("hmac", "0123456789abcdef0123456789abcdef");
	c = load("secrets from files",
	    "redis:\n"
	    "  passwordFile: redis.pass\n"
	    "inbound:\n"
	    "  bounce:\n"
	    "    enabled: true\n"
	    "    hmacSecretFile: hmac\n"
	    "dkim:\n"
	    "  keyDir: keys\n");
	if (c == NULL)
		return;
	is_str(c->redis.password, "s3cret pass",
	    "relative file, trailing newline dropped");
	is_str(c->inbound.bounce.hmacSecret, "0123456789abcdef0123456789abcdef",
	    "hmac secret read");
	ok(strncmp(c->dkim.keyDir, tmpdir, strlen(tmpdir)) == 0 &&
	        strcmp(c->dkim.keyDir + strlen(tmpdir), "/keys") == 0,
	    "relative keyDir resolved against the config's folder");
	rk_cfg_unref(c);
}

static void
test_forms(void)
{
	struct rk_cfg *c = load("comma lists, nulls, durations",
	    "mail:\n"
	    "  hostname:\n"
	    "  trustedNetworks: \"10.1.0.0/16, 2001:db8::/32\"\n"
	    "  maxMessageSize: 10M\n"
	    "auth:\n"
	    "  methods: PLAIN\n"
	    "dkim:\n"
	    "  algorithm: both\n"
	    "  expiration: 7d\n"
	    "  headers: [From, Subject]\n"
	    "webhooks:\n"
	    "  timeout: 1m30s\n"
	    "policyd:\n"
	    "  listen: [\"inet:127.0.0.1:10040\", \"unix:/run/rk/p.sock\"]\n");

	if (c == NULL)
		return;
	ok(c->mail.hostname == NULL, "empty value keeps the default");
	is_int((intmax_t)c->mail.ntrustedNetworks, 2, "comma-separated list");
	is_int(c->mail.trustedNetworks[1].prefix, 32, "IPv6 network prefix");
	is_int((intmax_t)c->mail.maxMessageSize, 10 << 20, "10M");
	is_int((intmax_t)c->auth.nmethods, 1, "one method");
	is_int(c->dkim.algorithm, RK_DKIM_BOTH, "dual signing");
	is_int((intmax_t)c->dkim.expiration, 7 * 86400000LL, "7d expiration");
	is_int((intmax_t)c->dkim.nheaders, 2, "headers replaced, not merged");
	is_int((intmax_t)c->webhooks.timeout, 90000, "1m30s");
	is_int((intmax_t)c->policyd.nlisten, 2, "two listeners");
	is_int(c->policyd.listen[0].port, 10040, "inet port");
	is_str(c->policyd.listen[1].path, "/run/rk/p.sock", "unix path");
	rk_cfg_unref(c);
}

static void
test_refs_and_files(void)
{
	struct rk_cfg_diag dg;
	struct rk_cfg *c = load("refcount", "");
	char path[256];
	FILE *out, *err;
	char obuf[256] = "", ebuf[4096] = "";

	if (c != NULL) {
		ok(rk_cfg_ref(c) == c, "ref returns the config");
		is_int(c->refs, 2, "two references");
		rk_cfg_unref(c);
		is_int(c->refs, 1, "one reference left");
		rk_cfg_unref(c);
	}
	rk_cfg_unref(NULL);
	ok(rk_cfg_load_file("/nonexistent/relaykit.yaml", 0, &dg) == NULL,
	    "missing file refused");
	is_int((intmax_t)dg.n, 1, "one message");
	is_str(dg.n ? dg.msgs[0] : "",
	    "/nonexistent/relaykit.yaml: cannot read: No such file or "
	    "directory",
	    "names the file and the reason");
	rk_cfg_diag_free(&dg);

	write_file("good.yaml", "mail:\n  hostname: relay.example.com\n");
	write_file("bad.yaml", "mail:\n  hostname: [x]\nredis:\n  port: 0\n");
	snprintf(path, sizeof(path), "%s/good.yaml", tmpdir);
	out = fmemopen(obuf, sizeof(obuf), "w");
	err = fmemopen(ebuf, sizeof(ebuf), "w");
	is_int(rk_cfg_check_main(path, out, err), 0, "-n on a good file: 0");
	fclose(out);
	fclose(err);
	is_str(obuf, "configuration OK\n", "-n prints configuration OK");
	snprintf(path, sizeof(path), "%s/bad.yaml", tmpdir);
	out = fmemopen(obuf, sizeof(obuf), "w");
	err = fmemopen(ebuf, sizeof(ebuf), "w");
	is_int(rk_cfg_check_main(path, out, err), EX_CONFIG,
	    "-n on a bad file: EX_CONFIG");
	fclose(out);
	fclose(err);
	ok(strstr(ebuf,
	       "bad.yaml:2:13: mail.hostname: want a domain name, "
	       "got a list\n") != NULL &&
	        strstr(ebuf,
	            "bad.yaml:4:9: redis.port: want an integer in "
	            "1..65535, got \"0\"\n") != NULL &&
	        strstr(ebuf, "bad.yaml: 2 errors\n") != NULL,
	    "-n prints every error and a count");
}

/* Each program reads the secrets of its sections only. */
static void
test_secret_scope(void)
{
	static const char yaml[] =
	    "redis: {passwordFile: redis.pw}\n"
	    "webhooks:\n"
	    "  endpoints:\n"
	    "    - {name: app, url: 'https://h.example/x', secretFile: "
	    "missing.key}\n";
	struct rk_cfg_diag dg;
	struct rk_cfg *c;

	write_file("redis.pw", "s3cret-redis\n");
	c = rk_cfg_load_buf("relaykit.yaml", tmpdir, yaml, strlen(yaml),
	    RK_CFG_SECRETS | RK_CFG_SEC_REDIS, &dg);
	ok(c != NULL,
	    "scope redis: another section's unreadable secret "
	    "does not matter");
	if (c != NULL) {
		is_str(c->redis.password, "s3cret-redis", "redis's is read");
		ok(c->webhooks.endpoints[0].secret != NULL,
		    "the other holds a placeholder");
	}
	rk_cfg_unref(c);
	rk_cfg_diag_free(&dg);
	c = rk_cfg_load_buf("relaykit.yaml", tmpdir, yaml, strlen(yaml),
	    RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_WEBHOOKS, &dg);
	ok(c == NULL && dg.n == 1 && strstr(dg.msgs[0], "missing.key"),
	    "scope webhooks: its missing secret is an error");
	rk_cfg_unref(c);
	rk_cfg_diag_free(&dg);
	c = rk_cfg_load_buf(
	    "relaykit.yaml", tmpdir, yaml, strlen(yaml), 0, &dg);
	ok(c == NULL, "no scope (-n): every secret is read");
	rk_cfg_unref(c);
	rk_cfg_diag_free(&dg);
}

static void
test_example_file(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct rk_cfg_diag dg;
	struct rk_cfg *c;

	snprintf(path, sizeof(path), "%s/etc/relaykit.yaml", top ? top : ".");
	c = rk_cfg_load_file(path, RK_CFG_NO_FILES, &dg);
	if (!ok(c != NULL, "etc/relaykit.yaml loads"))
		for (size_t i = 0; i < dg.n; i++)
			diag("  %s", dg.msgs[i]);
	rk_cfg_diag_free(&dg);
	rk_cfg_unref(c);
}

/* auth.constrainSender follows auth.enabled unless it is set. */
static void
test_constrain_default(void)
{
	struct rk_cfg *c;

	if ((c = load("no auth", "mail: {domains: [a.example]}\n")) != NULL)
		ok(!c->auth.constrainSender,
		    "auth off: logins of another SASL server are not "
		    "constrained");
	rk_cfg_unref(c);
	if ((c = load("auth on",
	         "auth: {enabled: true, users: {u: {password: "
	         "x}}}\n")) != NULL)
		ok(c->auth.constrainSender, "relaykit's own AUTH: constrained");
	rk_cfg_unref(c);
	if ((c = load("asked for", "auth: {constrainSender: true}\n")) != NULL)
		ok(c->auth.constrainSender, "set explicitly: as set");
	rk_cfg_unref(c);
	if ((c = load("refused",
	         "auth: {enabled: true, constrainSender: "
	         "false, users: {u: {password: x}}}\n")) != NULL)
		ok(!c->auth.constrainSender, "turned off explicitly: off");
	rk_cfg_unref(c);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_defaults();
	test_seed_shapes();
	test_secret_files();
	test_forms();
	test_refs_and_files();
	test_secret_scope();
	test_example_file();
	test_constrain_default();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return done_testing();
}
