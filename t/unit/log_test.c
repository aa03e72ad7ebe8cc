/* SPDX-License-Identifier: MIT */
/* rk_log: levels, errno suffixes, quoting of values, stderr format. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "tap.h"

static char last[2048];
static int lines;

static void
capture(enum rk_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last, sizeof(last), "%s", line);
	lines++;
}

static void
test_levels(void)
{
	rk_log_open("log_test", RK_LOG_STDERR, RK_LOG_INFO);
	rk_log_set_sink(capture, NULL);
	rk_log_debug("hidden");
	is_int(lines, 0, "debug below info is dropped");
	rk_log_info("queue_id=%s action=%s", "4Xb1Z", "sign");
	is_str(last, "queue_id=4Xb1Z action=sign", "info line as given");
	errno = ENOENT;
	rk_log_warn("open key=%s", "/k.pem");
	is_str(last, "open key=/k.pem: No such file or directory",
	    "warn appends strerror(errno)");
	is_int(errno, ENOENT, "errno preserved");
	rk_log_warnx("reason=%s", "no_from");
	is_str(last, "reason=no_from", "warnx does not");
	rk_log_set_level(RK_LOG_DEBUG);
	rk_log_debug("now shown");
	is_str(last, "now shown", "debug after set_level");
	rk_log_set_sink(NULL, NULL);
}

static void
test_parse_level(void)
{
	enum rk_log_level l;

	ok(rk_log_level_parse("warn", &l) == 0 && l == RK_LOG_WARN, "warn");
	ok(rk_log_level_parse("debug", &l) == 0 && l == RK_LOG_DEBUG, "debug");
	ok(rk_log_level_parse("loud", &l) == -1, "unknown level refused");
}

static void
test_quote(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "plain" },
		{ "", "\"\"" },
		{ "two words", "\"two words\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "line\nbreak", "\"line\\x0abreak\"" },
		{ "a=b", "\"a=b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(rk_log_quote(buf, sizeof(buf), cases[i].in),
		    cases[i].want, "quote %zu", i);
	rk_log_quote(buf, 16, "a very long value with spaces in it");
	ok(strlen(buf) < 16 && strstr(buf, "...") != NULL,
	    "long values are cut with ...: %s", buf);
}

/* The stderr form: "STAMP ident[pid]: level: text", one write per line. */
static void
test_stderr(void)
{
	char path[] = "/tmp/rk_log_test.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char buf[512] = "";
	ssize_t n;

	dup2(fd, STDERR_FILENO);
	rk_log_open("relaykit-test", RK_LOG_STDERR, RK_LOG_INFO);
	rk_log_warnx("reason=%s", "key_missing");
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, " relaykit-test[") != NULL &&
	        strstr(buf, "]: warning: reason=key_missing\n") != NULL &&
	        buf[4] == '-' && buf[10] == 'T',
	    "stderr line: %s", buf);
}

int
main(void)
{
	test_levels();
	test_parse_level();
	test_quote();
	test_stderr();
	return done_testing();
}
