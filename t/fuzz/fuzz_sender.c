/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the sender matcher: line 1 is a pattern as
 * relaykit.yaml writes it (address, domain or /regex/), line 2 an address.
 * Compiling and matching must never crash; an address pattern must match
 * itself; forbidden must win over the same pattern allowed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_sender.h"
#include "fuzz.h"

#define INPUT_MAX 512

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_cfg_pattern p;
	struct rk_sender_rules *r;
	char *s, *nl, *addr;
	size_t plen;

	if ((s = fuzz_cstr(data, size, INPUT_MAX)) == NULL)
		return 0;
	nl = strchr(s, '\n');
	addr = nl ? nl + 1 : s;
	if (nl)
		*nl = '\0';
	plen = strlen(s);
	if (plen >= 2 && s[0] == '/' && s[plen - 1] == '/') {
		s[plen - 1] = '\0';
		p.kind = RK_PAT_REGEX;
		p.text = s + 1;
	} else {
		p.kind = strchr(s, '@') ? RK_PAT_ADDRESS : RK_PAT_DOMAIN;
		p.text = s;
	}
	r = rk_sender_rules_new(&p, 1, NULL, 0, NULL, NULL, 0, NULL);
	if (r != NULL) {
		enum rk_sender_verdict v = rk_sender_check(r, addr, NULL);

		if (p.kind == RK_PAT_ADDRESS &&
		    rk_sender_check(r, p.text, NULL) != RK_SENDER_OK)
			abort();
		rk_sender_rules_free(r);
		r = rk_sender_rules_new(&p, 1, &p, 1, NULL, NULL, 0, NULL);
		if (r == NULL ||
		    (v == RK_SENDER_OK &&
		        rk_sender_check(r, addr, NULL) != RK_SENDER_FORBIDDEN))
			abort();
		rk_sender_rules_free(r);
	}
	free(s);
	return 0;
}
