/* SPDX-License-Identifier: MIT */
#include "config.h"
#include <sysexits.h>
#include "bn_pipe.h"
int
bn_pipe_main(const struct bn_pipe_args *a)
{
	(void)a;
	return EX_TEMPFAIL;
}
