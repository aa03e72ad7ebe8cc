/* SPDX-License-Identifier: MIT */
/*
 * kg_test: relaykit-keygen's pure parts: the TXT record forms.  Selectors,
 * key paths and the keys a config implies are lib/rk_dkimkey's
 * (t/unit/dkimkey_test.c); key generation and files are covered by
 * t/integ/keygen.t against openssl.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "keygen.h"
#include "tap.h"

/* The zone form of a value of len bytes: strings, their sizes, joined. */
static void
test_zone_split(void)
{
	static const size_t lens[] = { 1, 200, 255, 256, 510, 511, 800 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t plen = lens[i] - (lens[i] > 22 ? 22 : 0);
		char *pub = rk_malloc(plen + 1), *buf = NULL, *joined, *q;
		struct kg_record r = { "example.com", "s", RK_DKIMKEY_RSA, pub,
			"k" };
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
		char *value = rk_dkimkey_txt_value(RK_DKIMKEY_RSA, pub);
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
	is_str(rk_dkimkey_alg_name(RK_DKIMKEY_ED25519), "ed25519-sha256",
	    "algorithm name");
}

int
main(void)
{
	test_zone_split();
	test_formats();
	return done_testing();
}
