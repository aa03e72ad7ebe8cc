/* SPDX-License-Identifier: MIT */
/*
 * kg_test: relaykit-keygen's pure parts: selector checks, key paths, the
 * keys a config implies, and the TXT record forms.  Key generation and
 * files are covered by t/integ/keygen.t against openssl.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_mem.h"
#include "keygen.h"
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

		is_int(kg_selector_check(cases[i].sel, &err) == 0, cases[i].ok,
		    "selector %s: %s", cases[i].name,
		    cases[i].ok ? "accepted" : "refused");
	}
}

static void
test_paths(void)
{
	char *p =
	    kg_default_path("/var/lib/relaykit/dkim", "example.com", "mail");

	is_str(p, "/var/lib/relaykit/dkim/example.com/mail.pem",
	    "default path: keyDir/domain/selector.pem");
	free(p);
	p = kg_default_path("/k//", "example.com", "s1");
	is_str(p, "/k/example.com/s1.pem", "default path: trailing slashes");
	free(p);
	p = kg_txt_name("example.com", "mail");
	is_str(p, "mail._domainkey.example.com", "record name");
	free(p);
	p = kg_txt_value(KG_ED25519, "AAAA");
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
	struct kg_spec *specs;
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
	if (kg_plan(cfg, &specs, &n, &err) == -1) {
		rk_cfg_unref(cfg);
		return rk_strdup(err.msg);
	}
	rk_buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		rk_buf_printf(&out, "%s%s %s %s %d %s", i ? "|" : "",
		    specs[i].domain, specs[i].selector,
		    kg_alg_tag(specs[i].alg), specs[i].bits, specs[i].path);
		kg_spec_clear(&specs[i]);
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

/* The zone form of a value of len bytes: strings, their sizes, joined. */
static void
test_zone_split(void)
{
	static const size_t lens[] = { 1, 200, 255, 256, 510, 511, 800 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t plen = lens[i] - (lens[i] > 22 ? 22 : 0);
		char *pub = rk_malloc(plen + 1), *buf = NULL, *joined, *q;
		struct kg_record r = { "example.com", "s", KG_RSA, pub, "k" };
		size_t size = 0, nstr = 0, maxlen = 0, jl = 0;
		FILE *fp = open_memstream(&buf, &size);

		memset(pub, 'A', plen);
		pub[plen] = '\0';
		kg_txt_print(fp, KG_FMT_ZONE, &r, 1);
		fclose(fp);
		joined = rk_calloc(size + 1, 1);
		for (q = strchr(buf, '"'); q != NULL; q = strchr(q + 1, '"')) {
			char *end = strchr(q + 1, '"');
			size_t l = (size_t)(end - q - 1);

			memcpy(joined + jl, q + 1, l);
			jl += l;
			nstr++;
			maxlen = l > maxlen ? l : maxlen;
			q = end;
		}
		char *value = kg_txt_value(KG_RSA, pub);
		size_t vl = strlen(value);

		ok(maxlen <= 255 && nstr == (vl + 254) / 255 &&
		        strcmp(joined, value) == 0,
		    "zone: %zu-byte value in %zu strings of <= 255 bytes", vl,
		    nstr);
		ok(strncmp(buf, "s._domainkey.example.com. IN TXT ( \"", 36) ==
		            0 &&
		        strcmp(buf + size - 3, " )\n") == 0,
		    "zone: %zu-byte value: record syntax", vl);
		free(value);
		free(joined);
		free(buf);
		free(pub);
	}
}

static void
test_formats(void)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "zone", KG_FMT_ZONE },
		{ "text", KG_FMT_TEXT },
		{ "plain", KG_FMT_TEXT },
		{ "json", KG_FMT_JSON },
		{ "xml", -1 },
		{ "", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fmt = -1;

		if (kg_format_parse(cases[i].s, &fmt) == -1)
			fmt = -1;
		is_int(fmt, cases[i].want, "format \"%s\"", cases[i].s);
	}
	is_str(kg_alg_name(KG_ED25519), "ed25519-sha256", "algorithm name");
}

int
main(void)
{
	test_selectors();
	test_paths();
	test_plan();
	test_zone_split();
	test_formats();
	return done_testing();
}
