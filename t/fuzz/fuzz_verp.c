/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VERP decoder: any bytes as an address must
 * give a status, never a crash; an address that decodes must re-encode to
 * the same id.  The input is also encoded as a client id, and must round
 * trip.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_verp.h"
#include "fuzz.h"

#define INPUT_MAX 2048
#define NOW       ((time_t)1795246666)

static const struct rk_verp_opts opts = { "bounce+",
	"fuzzing-secret-0123456789", 25, 7 * 86400 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_verp_decoded d;
	struct rk_verp_encoded e;
	enum rk_verp_status st;
	char *s;

	if (size > INPUT_MAX)
		return 0;
	st = rk_verp_decode(&opts, (const char *)data, size, NOW, &d);
	if (st > RK_VERP_FUTURE)
		abort();
	if ((s = fuzz_cstr(data, size, INPUT_MAX)) == NULL)
		return 0;
	if (rk_verp_encode(&opts, s, strlen(s), "example.com", NOW, &e, NULL) ==
	    0) {
		st = rk_verp_decode(
		    &opts, e.address, strlen(e.address), NOW, &d);
		if (st != RK_VERP_OK || strchr(e.address, '@') - e.address > 64)
			abort();
		if (e.kind == RK_VERP_INLINE && strcmp(d.id, s) != 0)
			abort();
		if (e.kind == RK_VERP_REF && strcmp(d.ref_hex, e.ref_hex) != 0)
			abort();
	}
	free(s);
	return 0;
}
