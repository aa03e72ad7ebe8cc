/* SPDX-License-Identifier: MIT */
/*
 * rk_mem: copies, wiping, and the overflow checks that abort (run in a
 * child process, since rk_panic aborts by design).
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "tap.h"

static void
quiet(enum rk_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

/* true if fn aborts in a child process. */
static bool
aborts(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		rk_log_set_sink(quiet, NULL);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void
overflow_mul(void)
{
	volatile size_t big = SIZE_MAX / 2 + 1;

	(void)rk_size_mul(big, 2);
}

static void
overflow_add(void)
{
	volatile size_t big = SIZE_MAX;

	(void)rk_size_add(big, 1);
}

static void
overflow_reallocarray(void)
{
	volatile size_t big = SIZE_MAX / 8 + 1;

	free(rk_reallocarray(NULL, big, 16));
}

int
main(void)
{
	char *s = rk_strdup("relaykit");
	char *n = rk_strndup("relaykit", 5);
	char *m = rk_memdup0("a\0b", 3);
	char secret[] = "hunter2";
	unsigned char *z = rk_calloc(16, 4);
	bool zero = true;

	is_str(s, "relaykit", "strdup");
	is_str(n, "relay", "strndup cuts");
	ok(m[0] == 'a' && m[1] == '\0' && m[2] == 'b' && m[3] == '\0',
	    "memdup0 copies NULs and terminates");
	for (size_t i = 0; i < 64; i++)
		zero = zero && z[i] == 0;
	ok(zero, "calloc zeroes");
	rk_memzero(secret, sizeof(secret));
	ok(secret[0] == '\0' && secret[6] == '\0', "memzero wipes");
	rk_free_secret(rk_strdup("password"));
	rk_free_secret(NULL);
	is_int((intmax_t)rk_size_add(2, 3), 5, "size_add");
	is_int((intmax_t)rk_size_mul(6, 7), 42, "size_mul");
	ok(aborts(overflow_mul), "size_mul overflow aborts");
	ok(aborts(overflow_add), "size_add overflow aborts");
	ok(aborts(overflow_reallocarray), "reallocarray overflow aborts");
	free(s);
	free(n);
	free(m);
	free(z);
	return done_testing();
}
