/* SPDX-License-Identifier: MIT */
/*
 * rk_pace: which destination paces a domain, what real providers' replies
 * mean, the ladder's choice of tier, the warm-up calendar.
 */
#include "config.h"

#include <string.h>

#include "rk_pace.h"
#include "tap.h"

static struct rk_cfg *
load(const char *yaml)
{
	struct rk_cfg_diag dg;
	struct rk_cfg *c = rk_cfg_load_buf(
	    "relaykit.yaml", NULL, yaml, strlen(yaml), RK_CFG_NO_FILES, &dg);

	for (size_t i = 0; c == NULL && i < dg.n; i++)
		diag("%s", dg.msgs[i]);
	rk_cfg_diag_free(&dg);
	return c;
}

static const char *
dest(const struct rk_cfg *c, const char *domain)
{
	static struct rk_pace_dest d;

	return rk_pace_find(c, domain, strlen(domain), &d) ? d.name : "-";
}

static void
test_find(void)
{
	struct rk_cfg *c = load("adaptiveRate:\n"
	                        "  enabled: true\n"
	                        "  domains:\n"
	                        "    gmail.com: {members: [googlemail.com]}\n"
	                        "    outlook.com: {minDelay: 2s}\n"
	                        "    yahoo.com: {enabled: false}\n");
	struct rk_pace_dest d;

	if (!ok(c != NULL, "config loads"))
		return;
	is_str(dest(c, "gmail.com"), "gmail.com", "a listed domain");
	is_str(dest(c, "GMail.COM."), "gmail.com", "any case, a final dot");
	is_str(dest(c, "googlemail.com"), "gmail.com", "a member");
	is_str(dest(c, "mx.eu.outlook.com"), "outlook.com", "a subdomain");
	is_str(dest(c, "yahoo.com"), "-", "a disabled entry: not paced");
	is_str(dest(c, "example.org"), "example.org",
	    "unlisted: paced on its own with the defaults");
	is_str(dest(c, "bad domain"), "-", "not a domain");
	is_str(dest(c, "a..b"), "-", "an empty label");
	ok(rk_pace_find(c, "outlook.com", 11, &d) && d.listed &&
	        d.cfg->minDelay == 2000 && d.cfg->maxDelay == 60000,
	    "an entry's settings, the rest from the defaults");
	ok(rk_pace_find(c, "example.org", 11, &d) && !d.listed &&
	        d.cfg == &c->adaptiveRate.defaults,
	    "an unlisted domain gets the defaults");
	rk_cfg_unref(c);
	c = load("adaptiveRate:\n"
	         "  enabled: true\n"
	         "  defaults: {enabled: false}\n"
	         "  domains: {gmail.com: {enabled: true}}\n");
	is_str(dest(c, "gmail.com"), "gmail.com", "defaults off: listed only");
	is_str(dest(c, "example.org"), "-", "defaults off: others not paced");
	rk_cfg_unref(c);
	c = load("adaptiveRate: {enabled: false, domains: {gmail.com: {}}}\n");
	is_str(dest(c, "gmail.com"), "-", "adaptiveRate off: nothing paced");
	rk_cfg_unref(c);
}

static void
test_classify(void)
{
	struct rk_cfg *c = load("");
	struct rk_err err;
	struct rk_pace_rules *r = rk_pace_rules_new(&c->adaptiveRate, &err);
	static const struct {
		const char *dsn, *text;
		enum rk_pace_kind want;
	} cases[] = {
		{ "4.7.28",
		    "host gmail-smtp-in.l.google.com[142.250.1.26] said: "
		    "421-4.7.28 [192.0.2.1] Our system has detected an unusual "
		    "rate of unsolicited mail originating from your IP "
		    "address.",
		    RK_PACE_SEVERE },
		{ "4.7.0",
		    "host mta7.am0.yahoodns.net[67.195.204.72] said: 421 4.7.0 "
		    "[TSS04] Messages from 192.0.2.1 temporarily deferred due "
		    "to unexpected volume or user complaints",
		    RK_PACE_SEVERE },
		{ "4.7.500",
		    "host outlook-com.olc.protection.outlook.com[52.101.1.1] "
		    "said: 451 4.7.500 Server busy. Please try again later.",
		    RK_PACE_LIMITED },
		{ "4.4.2",
		    "host mx.example.com[192.0.2.9] refused to talk to me: 421 "
		    "Too many concurrent SMTP connections",
		    RK_PACE_LIMITED },
		{ "4.2.1",
		    "host mx.example.net said: 450 4.2.1 The user you are "
		    "trying to contact is receiving mail at a rate that "
		    "prevents additional messages from being delivered.",
		    RK_PACE_OTHER }, /* one mailbox's limit, not the host's */
		{ "4.7.1",
		    "host mx.example.org said: 451 4.7.1 Greylisting in "
		    "action, "
		    "please come back later",
		    RK_PACE_OTHER },
		{ "4.2.2", "host mx.example.org said: 452 4.2.2 Mailbox full",
		    RK_PACE_OTHER },
		{ "4.4.1",
		    "connect to mx.example.org[192.0.2.7]:25: Connection timed "
		    "out",
		    RK_PACE_OTHER },
		{ "4.7.0",
		    RK_PACE_OWN_TAG
		    " the warm-up cap of gmail.com (50 a day) is "
		    "used up; deferred until tomorrow (UTC)",
		    RK_PACE_OWN },
		{ NULL, NULL, RK_PACE_OTHER },
	};

	if (!ok(r != NULL, "the default patterns compile"))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(rk_pace_classify(r, cases[i].dsn, cases[i].text),
		    cases[i].want, "%s %.40s",
		    cases[i].dsn ? cases[i].dsn : "-",
		    cases[i].text ? cases[i].text : "(none)");
	is_int(rk_pace_letter(RK_PACE_SEVERE), 's', "letters for the script");
	is_int(rk_pace_letter(RK_PACE_OWN), 0, "ours: none");
	rk_pace_rules_free(r);
	rk_cfg_unref(c);
}

static void
test_tier(void)
{
	static const uint64_t t[] = { 1000, 2000, 5000, 10000, 15000, 20000,
		30000, 45000, 60000, 90000, 120000 };
	const size_t n = sizeof(t) / sizeof(t[0]);
	char name[32];

	is_int((intmax_t)t[rk_pace_tier(t, n, 0, 0)], 1000, "0 ms: the first");
	is_int((intmax_t)t[rk_pace_tier(t, n, 3400, 0)], 2000, "3.4 s: 2 s");
	is_int((intmax_t)t[rk_pace_tier(t, n, 3500, 0)], 5000,
	    "3.5 s: a tie, the slower");
	is_int(
	    (intmax_t)t[rk_pace_tier(t, n, 16000, 15000)], 15000, "16 s: 15 s");
	is_int((intmax_t)t[rk_pace_tier(t, n, 16000, 17000)], 20000,
	    "never faster than the floor");
	is_int((intmax_t)t[rk_pace_tier(t, n, 900000, 0)], 120000,
	    "beyond the last: the last");
	rk_pace_transport(15000, name, sizeof(name));
	is_str(name, "rk_pace_15s", "the transport's name");
}

static void
test_warmup(void)
{
	struct rk_cfg *c = load("adaptiveRate:\n"
	                        "  warmup:\n"
	                        "    enabled: true\n"
	                        "    startDate: 2026-11-29\n"
	                        "    schedule: [50, 100, 200]\n"
	                        "    growthFactor: 2\n");
	const struct rk_cfg_warmup *w;
	char stamp[9];
	const time_t nov30 = 1796000000; /* 2026-11-30T00:53:20Z */

	if (!ok(c != NULL, "warm-up config loads"))
		return;
	w = &c->adaptiveRate.warmup;
	is_int(rk_pace_warmup_day(w, nov30), 2, "the day after the start: 2");
	is_int(rk_pace_warmup_day(w, nov30 - 86400), 1, "the start: day 1");
	is_int(rk_pace_warmup_day(w, nov30 - 2 * 86400), 0, "before: day 0");
	is_int(rk_pace_warmup_cap(w, 0), 50, "before the start: day 1's cap");
	is_int(rk_pace_warmup_cap(w, 2), 100, "day 2");
	is_int(rk_pace_warmup_cap(w, 3), 200, "day 3");
	is_int(rk_pace_warmup_cap(w, 5), 800, "day 5: 200 x 2 x 2");
	is_int(rk_pace_warmup_cap(w, 60), -1, "the cap outgrows: no cap");
	rk_pace_day_stamp(nov30, stamp);
	is_str(stamp, "20261130", "the counter's day");
	rk_cfg_unref(c);
	c = load("adaptiveRate: {warmup: {enabled: true, startDate: "
	         "2026-11-29, schedule: [10]}}\n");
	is_int(rk_pace_warmup_cap(&c->adaptiveRate.warmup, 2), -1,
	    "no growth factor: no cap after the schedule");
	rk_cfg_unref(c);
	c = load("");
	is_int(rk_pace_warmup_cap(&c->adaptiveRate.warmup, 1), -1,
	    "warm-up off: no cap");
	rk_cfg_unref(c);
}

int
main(void)
{
	test_find();
	test_classify();
	test_tier();
	test_warmup();
	return done_testing();
}
