/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_bounce.c: the bounce parser (MIME, RFC 3464 DSN, RFC 5965
 * ARF, non-standard text, JSON notifications) and the JSON it prints,
 * on any bytes.  The parser must never crash, read out of bounds or
 * leak, and every record must serialise.
 */
#include "config.h"

#include <stdlib.h>

#include "bn.h"
#include "bn_out.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bn_opts o = { "X-Message-ID" };
	struct bn_report r;

	if (size > (1u << 20))
		return 0;
	bn_parse((const char *)data, size, &o, &r);
	for (size_t i = 0; i < r.nrcpts; i++)
		free(bn_out_record("fuzz", &r, i));
	bn_report_free(&r);
	return 0;
}
