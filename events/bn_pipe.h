/* SPDX-License-Identifier: MIT */
/*
 * bn_pipe: relaykit-bounce as Postfix's pipe(8) transport (bn_pipe.c).
 */
#ifndef BN_PIPE_H
#define BN_PIPE_H

#include <stdbool.h>
#include <stdio.h>

struct bn_pipe_args {
	const char *cfgpath;
	const char *sender;         /* envelope sender of the report */
	const char *recipient;      /* our address it came to */
	const char *client_address; /* NULL: unknown (local submission) */
	const char *helo;
	bool foreground; /* log to stderr */
};

/* Handles the message on stdin; returns the exit status (0 or 75). */
int bn_pipe_main(const struct bn_pipe_args *a);

/* bounce.c: a whole stream, capped at BN_MAX_INPUT; caller frees. */
char *bn_read_all(FILE *fp, size_t *len);

#endif
