/* SPDX-License-Identifier: MIT */
/*
 * rk_sender: the allow/deny matrix (address, domain, regex, forbidden over
 * allowed, the mail.domains default) and From-header matching.
 */
#include "config.h"

#include <string.h>

#include "rk_sender.h"
#include "tap.h"

#define PAT(k, t)                                                              \
	{                                                                      \
		(k), (char *)(t)                                               \
	}

static const struct rk_cfg_pattern allowed[] = {
	PAT(RK_PAT_ADDRESS, "service@partner.com"),
	PAT(RK_PAT_DOMAIN, "example.com"),
	PAT(RK_PAT_REGEX, ".*@notifications\\."),
};
static const struct rk_cfg_pattern forbidden[] = {
	PAT(RK_PAT_ADDRESS, "ceo@example.com"),
	PAT(RK_PAT_REGEX, "^hr[.-]"),
};

static const struct {
	const char *addr;
	enum rk_sender_verdict want;
	const char *why;
} matrix[] = {
	{ "service@partner.com", RK_SENDER_OK, "service@partner.com" },
	{ "service@PARTNER.com", RK_SENDER_OK, "service@partner.com" },
	{ "Service@partner.com", RK_SENDER_NOT_ALLOWED, NULL },
	{ "other@partner.com", RK_SENDER_NOT_ALLOWED, NULL },
	{ "anyone@example.com", RK_SENDER_OK, "example.com" },
	{ "anyone@sub.example.com", RK_SENDER_NOT_ALLOWED, NULL },
	{ "alerts@notifications.shop.test", RK_SENDER_OK,
	    ".*@notifications\\." },
	{ "alerts@NOTIFICATIONS.shop.test", RK_SENDER_OK,
	    ".*@notifications\\." },
	{ "ceo@example.com", RK_SENDER_FORBIDDEN, "ceo@example.com" },
	{ "ceo@EXAMPLE.COM", RK_SENDER_FORBIDDEN, "ceo@example.com" },
	{ "CEO@example.com", RK_SENDER_OK, "example.com" },
	{ "hr.team@example.com", RK_SENDER_FORBIDDEN, "^hr[.-]" },
	{ "HR-x@example.com", RK_SENDER_FORBIDDEN, "^hr[.-]" },
	{ "someone@elsewhere.test", RK_SENDER_NOT_ALLOWED, NULL },
};

static void
test_matrix(void)
{
	struct rk_err err;
	struct rk_sender_rules *r =
	    rk_sender_rules_new(allowed, 3, forbidden, 2, NULL, NULL, 0, &err);

	if (!ok(r != NULL, "rules compile"))
		return;
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		const char *why = NULL;
		enum rk_sender_verdict v =
		    rk_sender_check(r, matrix[i].addr, &why);

		is_int(v, matrix[i].want, "%s", matrix[i].addr);
		if (matrix[i].why != NULL)
			is_str(why, matrix[i].why, "%s: decided by",
			    matrix[i].addr);
	}
	rk_sender_rules_free(r);
}

static void
test_domains_default(void)
{
	const char *doms[] = { "example.com", "corp.test" };
	const bool subs[] = { false, true };
	struct rk_sender_rules *r =
	    rk_sender_rules_new(NULL, 0, forbidden, 2, doms, subs, 2, NULL);
	const char *why;

	is_int(rk_sender_check(r, "app@example.com", &why), RK_SENDER_OK,
	    "no allowedFrom: mail.domains allowed");
	is_int(rk_sender_check(r, "app@mail.example.com", &why),
	    RK_SENDER_NOT_ALLOWED, "not its subdomains unless it says so");
	is_int(rk_sender_check(r, "app@eu.corp.test", &why), RK_SENDER_OK,
	    "subdomains when the domain says so");
	is_int(rk_sender_check(r, "app@other.test", &why),
	    RK_SENDER_NOT_ALLOWED, "other domains refused");
	is_int(rk_sender_check(r, "hr-x@example.com", &why),
	    RK_SENDER_FORBIDDEN, "forbidden still wins");
	rk_sender_rules_free(r);
	r = rk_sender_rules_new(NULL, 0, NULL, 0, NULL, NULL, 0, NULL);
	is_int(rk_sender_check(r, "a@b.test", &why), RK_SENDER_NOT_ALLOWED,
	    "no domains at all: nobody");
	is_str(why, "no domain is configured", "and says why");
	rk_sender_rules_free(r);
}

static void
test_bad_regex(void)
{
	const struct rk_cfg_pattern bad[] = { PAT(RK_PAT_REGEX, "[a-") };
	struct rk_err err;

	ok(rk_sender_rules_new(bad, 1, NULL, 0, NULL, NULL, 0, &err) == NULL &&
	        strstr(err.msg, "/[a-/") != NULL,
	    "a bad regex is refused: %s", err.msg);
}

static void
test_from_header(void)
{
	ok(rk_sender_from_matches("app@example.com", "app@EXAMPLE.com", false),
	    "same address, domain case differs");
	ok(!rk_sender_from_matches("app@example.com", "App@example.com", false),
	    "local part is exact");
	ok(!rk_sender_from_matches(
	       "app@example.com", "boss@example.com", false),
	    "other address refused in address mode");
	ok(rk_sender_from_matches("app@example.com", "boss@example.com", true),
	    "same domain accepted in domain mode");
	ok(!rk_sender_from_matches("app@example.com", "app@evil.test", true),
	    "other domain refused in domain mode");
	ok(!rk_sender_from_matches("app@example.com", "nodomain", true),
	    "no domain refused");
}

int
main(void)
{
	test_matrix();
	test_domains_default();
	test_bad_regex();
	test_from_header();
	return done_testing();
}
