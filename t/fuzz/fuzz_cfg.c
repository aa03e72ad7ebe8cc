/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config loader: YAML bytes -> rk_cfg or a list
 * of errors.  Secret files are not read (RK_CFG_NO_FILES).  Invariants: a
 * refused config has at least one message and every message starts with
 * "relaykit.yaml:LINE:COL: "; an accepted one has one reference.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_message(const char *m)
{
	const char *p = m + strlen("relaykit.yaml:");
	char *end;

	if (strncmp(m, "relaykit.yaml:", 14) != 0)
		abort();
	if (strtoul(p, &end, 10) == 0 || *end != ':')
		abort();
	if (strtoul(end + 1, &end, 10) == 0 || strncmp(end, ": ", 2) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg;

	if (size > 64 * 1024)
		return 0;
	cfg = rk_cfg_load_buf("relaykit.yaml", "/nonexistent",
	    (const char *)data, size, RK_CFG_NO_FILES, &diag);
	if (cfg == NULL && diag.n == 0)
		abort();
	if (cfg != NULL && (diag.n != 0 || cfg->refs != 1))
		abort();
	for (size_t i = 0; i < diag.n; i++)
		check_message(diag.msgs[i]);
	rk_cfg_diag_free(&diag);
	rk_cfg_unref(cfg);
	return 0;
}
