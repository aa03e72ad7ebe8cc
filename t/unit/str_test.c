/* SPDX-License-Identifier: MIT */
/* rk_str: buffers, ASCII case helpers, edit distance, rk_err. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "tap.h"

static void
test_buf(void)
{
	struct rk_buf b;
	char *s;

	rk_buf_init(&b);
	rk_buf_puts(&b, "queue_id=");
	rk_buf_printf(&b, "%s action=%d", "4Xb1Z", 5);
	rk_buf_putc(&b, '!');
	is_str(b.data, "queue_id=4Xb1Z action=5!", "puts + printf + putc");
	is_int((intmax_t)b.len, 24, "length tracked");
	rk_buf_reset(&b);
	is_str(b.data, "", "reset empties");
	for (int i = 0; i < 10000; i++)
		rk_buf_append(&b, "0123456789", 10);
	is_int((intmax_t)b.len, 100000, "grows to 100000 bytes");
	ok(b.data[b.len] == '\0', "always NUL-terminated");
	rk_buf_append(&b, "\0x", 2);
	is_int((intmax_t)b.len, 100002, "binary bytes kept");
	s = rk_buf_steal(&b);
	ok(b.data == NULL && b.len == 0, "steal resets the buffer");
	free(s);
	s = rk_buf_steal(&b);
	is_str(s, "", "stealing an empty buffer gives \"\"");
	free(s);
	rk_buf_free(&b);
	rk_buf_free(NULL);
}

static void
test_case(void)
{
	char s[] = "Example.COM";

	rk_str_lower(s);
	is_str(s, "example.com", "lower");
	ok(rk_str_case_eq("MAIL.Example.com", "mail.example.COM"), "case eq");
	ok(!rk_str_case_eq("example.com", "example.co"), "length differs");
	ok(rk_str_case_suffix("a.b.EXAMPLE.com", ".example.COM"), "suffix");
	ok(!rk_str_case_suffix("com", "example.com"), "longer suffix");
	ok(rk_ascii_lower('\xc4') == '\xc4', "non-ASCII untouched");
}

static void
test_distance(void)
{
	static const struct {
		const char *a, *b;
		size_t want;
	} cases[] = {
		{ "hostname", "hostname", 0 },
		{ "hostnme", "hostname", 1 },
		{ "databse", "database", 1 },
		{ "mial", "mail", 2 },
		{ "Enabled", "enabled", 0 },
		{ "", "abc", 3 },
		{ "completely", "different", 3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int((intmax_t)rk_str_distance(cases[i].a, cases[i].b, 2),
		    (intmax_t)(cases[i].want > 2 ? 3 : cases[i].want),
		    "distance %s ~ %s (cap 2)", cases[i].a, cases[i].b);
}

static void
test_err(void)
{
	struct rk_err e;

	is_int(rk_err_set(&e, "bad %s at %d", "rate", 3), -1, "returns -1");
	is_str(e.msg, "bad rate at 3", "formats the message");
	is_int(rk_err_set(NULL, "ignored"), -1, "NULL err is fine");
}

int
main(void)
{
	test_buf();
	test_case();
	test_distance();
	test_err();
	return done_testing();
}
