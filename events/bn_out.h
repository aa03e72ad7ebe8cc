/* SPDX-License-Identifier: MIT */
/*
 * bn_out: JSON output of relaykit-bounce (see bn_out.c).
 */
#ifndef BN_OUT_H
#define BN_OUT_H

#include <stddef.h>

#include "bn.h"

/* Record i of r as one line of JSON (no newline); caller frees. */
char *bn_out_record(const char *file, const struct bn_report *r, size_t i);

#endif
