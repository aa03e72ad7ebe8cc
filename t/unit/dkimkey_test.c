/* SPDX-License-Identifier: MIT */
/*
 * dkimkey_test: lib/rk_dkimkey: selector checks, key paths, the keys a
 * config implies, and reading a published key record the way a verifier
 * does (what relaykit-dnsctl check compares with the key on disk).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_dkimkey.h"
#include "rk_mem.h"
#include "tap.h"

static void
test_selectors(void)
{
	static const struct {
		const char *name;
		const char *sel;
		bool ok;
	} cases[] = {
		{ "plain", "mail", true },
		{ "dated", "s20261121", true },
		{ "ed25519 default", "mail-ed25519", true },
		{ "dotted", "a.b-c.d", true },
		{ "empty", "", false },
		{ "parent folder", "..", false },
		{ "path", "../etc/x", false },
		{ "slash", "a/b", false },
		{ "leading dot", ".mail", false },
		{ "trailing dot", "mail.", false },
		{ "leading hyphen", "-mail", false },
		{ "trailing hyphen", "mail-", false },
		{ "label hyphen", "a.-b", false },
		{ "underscore", "m_ail", false },
		{ "space", "ma il", false },
		{ "label of 64",
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaa",
		    false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rk_err err;

		is_int(rk_dkimkey_selector_check(cases[i].sel, &err) == 0,
		    cases[i].ok, "selector %s: %s", cases[i].name,
		    cases[i].ok ? "accepted" : "refused");
	}
}

static void
test_paths(void)
{
	char *p = rk_dkimkey_default_path(
	    "/var/lib/relaykit/dkim", "example.com", "mail");

	is_str(p, "/var/lib/relaykit/dkim/example.com/mail.pem",
	    "default path: keyDir/domain/selector.pem");
	free(p);
	p = rk_dkimkey_default_path("/k//", "example.com", "s1");
	is_str(p, "/k/example.com/s1.pem", "default path: trailing slashes");
	free(p);
	p = rk_dkimkey_txt_name("example.com", "mail");
	is_str(p, "mail._domainkey.example.com", "record name");
	free(p);
	p = rk_dkimkey_txt_value(RK_DKIMKEY_ED25519, "AAAA");
	is_str(p, "v=DKIM1; k=ed25519; p=AAAA", "ed25519 value");
	free(p);
}

static const char plan_yaml[] = "mail:\n"
                                "  domains:\n"
                                "    - name: a.example\n"
                                "    - name: b.example\n"
                                "      dkimSelector: r\n"
                                "      ed25519Selector: e\n"
                                "    - name: c.example\n"
                                "      keys:\n"
                                "        - selector: k1\n"
                                "          algorithm: ed25519-sha256\n"
                                "        - selector: k2\n"
                                "          keySize: 4096\n"
                                "          keyFile: /etc/k2.pem\n"
                                "dkim:\n"
                                "  algorithm: ALG\n"
                                "  keySize: 3072\n"
                                "  keyDir: /keys\n";

/* Plans the config with dkim.algorithm alg; "|"-joined specs. */
static char *
plan_str(const char *alg)
{
	struct rk_cfg_diag diag;
	struct rk_buf y, out;
	struct rk_dkimkey_spec *specs;
	struct rk_err err;
	struct rk_cfg *cfg;
	size_t n;
	const char *at = strstr(plan_yaml, "ALG");

	rk_buf_init(&y);
	rk_buf_append(&y, plan_yaml, (size_t)(at - plan_yaml));
	rk_buf_printf(&y, "%s%s", alg, at + 3);
	cfg = rk_cfg_load_buf("t.yaml", "/", y.data, y.len, 0, &diag);
	rk_buf_free(&y);
	if (cfg == NULL) {
		rk_cfg_diag_print(&diag, stdout);
		rk_cfg_diag_free(&diag);
		return rk_strdup("load failed");
	}
	if (rk_dkimkey_plan(cfg, &specs, &n, &err) == -1) {
		rk_cfg_unref(cfg);
		return rk_strdup(err.msg);
	}
	rk_buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		rk_buf_printf(&out, "%s%s %s %s %d %s", i ? "|" : "",
		    specs[i].domain, specs[i].selector,
		    rk_dkimkey_alg_tag(specs[i].alg), specs[i].bits,
		    specs[i].path);
		rk_dkimkey_spec_clear(&specs[i]);
	}
	free(specs);
	rk_cfg_unref(cfg);
	return rk_buf_steal(&out);
}

static void
test_plan(void)
{
	static const char keys[] = "c.example k1 ed25519 2048 "
	                           "/keys/c.example/k1.pem|"
	                           "c.example k2 rsa 4096 /etc/k2.pem";
	static const struct {
		const char *alg;
		const char *want;
	} cases[] = {
		{ "rsa-sha256",
		    "a.example mail rsa 3072 /keys/a.example/mail.pem|"
		    "b.example r rsa 3072 /keys/b.example/r.pem|" },
		{ "ed25519-sha256",
		    "a.example mail-ed25519 ed25519 0 "
		    "/keys/a.example/mail-ed25519.pem|"
		    "b.example e ed25519 0 /keys/b.example/e.pem|" },
		{ "both",
		    "a.example mail rsa 3072 /keys/a.example/mail.pem|"
		    "a.example mail-ed25519 ed25519 0 "
		    "/keys/a.example/mail-ed25519.pem|"
		    "b.example r rsa 3072 /keys/b.example/r.pem|"
		    "b.example e ed25519 0 /keys/b.example/e.pem|" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = plan_str(cases[i].alg);
		struct rk_buf want;

		rk_buf_init(&want);
		rk_buf_printf(&want, "%s%s", cases[i].want, keys);
		is_str(got, want.data,
		    "plan, dkim.algorithm %s: keys[] replace the selectors",
		    cases[i].alg);
		free(got);
		rk_buf_free(&want);
	}
}

/* A published record against two generated keys of each type. */
static void
test_match(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *prsa = rk_dkimkey_public_b64(rsa, NULL);
	char *ped = rk_dkimkey_public_b64(ed, NULL);
	char *ped2 = rk_dkimkey_public_b64(ed2, NULL);
	char *vrsa = rk_dkimkey_txt_value(RK_DKIMKEY_RSA, prsa);
	char *ved = rk_dkimkey_txt_value(RK_DKIMKEY_ED25519, ped);
	struct rk_buf folded, nov;
	struct {
		const char *name;
		const char *txt;
		int alg;
		const char *pub;
		enum rk_dkimkey_match want;
	} cases[] = {
		{ "rsa as built", vrsa, RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_MATCH },
		{ "ed25519 as built", ved, RK_DKIMKEY_ED25519, ped,
		    RK_DKIMKEY_MATCH },
		{ "another ed25519 key", ved, RK_DKIMKEY_ED25519, ped2,
		    RK_DKIMKEY_MISMATCH },
		{ "rsa record, ed25519 key", vrsa, RK_DKIMKEY_ED25519, ped,
		    RK_DKIMKEY_MISMATCH },
		{ "revoked", "v=DKIM1; k=rsa; p=", RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_REVOKED },
		{ "no p=", "v=DKIM1; k=rsa", RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_INVALID },
		{ "v= not first", "k=rsa; v=DKIM1; p=AAAA", RK_DKIMKEY_RSA,
		    prsa, RK_DKIMKEY_INVALID },
		{ "v=DKIM2", "v=DKIM2; p=AAAA", RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_INVALID },
		{ "duplicate tag", "p=AAAA; p=AAAA", RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_INVALID },
		{ "not base64", "p=!!!!", RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_MISMATCH },
		{ "spf record", "v=spf1 -all", RK_DKIMKEY_RSA, prsa,
		    RK_DKIMKEY_INVALID },
		{ "empty", "", RK_DKIMKEY_RSA, prsa, RK_DKIMKEY_INVALID },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rk_err err = { "" };

		is_int(rk_dkimkey_txt_match(cases[i].txt, strlen(cases[i].txt),
		           cases[i].alg, cases[i].pub, &err),
		    cases[i].want, "key record: %s (%s)", cases[i].name,
		    err.msg);
	}
	/* Folding whitespace inside p= and no v= (both allowed). */
	rk_buf_init(&folded);
	rk_buf_printf(
	    &folded, "v=DKIM1 ;k=ed25519;\tp=%.20s  %s ;", ped, ped + 20);
	is_int(rk_dkimkey_txt_match(
	           folded.data, folded.len, RK_DKIMKEY_ED25519, ped, NULL),
	    RK_DKIMKEY_MATCH, "key record: folded p= matches");
	rk_buf_init(&nov);
	rk_buf_printf(&nov, "p=%s", prsa);
	is_int(
	    rk_dkimkey_txt_match(nov.data, nov.len, RK_DKIMKEY_RSA, prsa, NULL),
	    RK_DKIMKEY_MATCH, "key record: no v=, no k= means rsa");
	is_int(rk_dkimkey_txt_match(
	           nov.data, nov.len - 4, RK_DKIMKEY_RSA, prsa, NULL),
	    RK_DKIMKEY_MISMATCH, "key record: a truncated p= does not match");
	rk_buf_free(&folded);
	rk_buf_free(&nov);
	free(prsa);
	free(ped);
	free(ped2);
	free(vrsa);
	free(ved);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ed2);
}

int
main(void)
{
	test_selectors();
	test_paths();
	test_plan();
	test_match();
	return done_testing();
}
