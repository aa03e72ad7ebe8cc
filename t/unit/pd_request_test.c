/* SPDX-License-Identifier: MIT */
/*
 * pd_request_test: the policy request parser, table-driven: what parses,
 * what waits for more bytes, what is refused and why, and the limits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policyd.h"
#include "tap.h"

#define REQ "request=smtpd_access_policy\n"

struct tcase {
	const char *name;
	const char *in;
	enum pd_parse want;
	const char *err; /* substring of the error, for PD_PARSE_BAD */
};

static const struct tcase cases[] = {
	{ "minimal request", REQ "\n", PD_PARSE_OK, NULL },
	{ "typical rcpt",
	    REQ "protocol_state=RCPT\nprotocol_name=ESMTP\n"
	        "sender=a@b.example\nrecipient=c@d.example\n"
	        "instance=1a.2b.3c\nsasl_username=\n\n",
	    PD_PARSE_OK, NULL },
	{ "unknown attribute skipped", REQ "x_future=1\n\n", PD_PARSE_OK,
	    NULL },
	{ "utf-8 value", REQ "sender=j\xc3\xb6rg@b.example\n\n", PD_PARSE_OK,
	    NULL },
	{ "empty input waits", "", PD_PARSE_MORE, NULL },
	{ "no blank line waits", REQ "sender=a@b\n", PD_PARSE_MORE, NULL },
	{ "half a line waits", REQ "send", PD_PARSE_MORE, NULL },
	{ "empty request", "\n", PD_PARSE_BAD, "empty" },
	{ "no request attribute", "sender=a@b\n\n", PD_PARSE_BAD, "request=" },
	{ "wrong request type", "request=other\n\n", PD_PARSE_BAD, "request=" },
	{ "line without =", REQ "garbage\n\n", PD_PARSE_BAD, "no '='" },
	{ "empty name", REQ "=x\n\n", PD_PARSE_BAD, "empty name" },
	{ "upper-case name", REQ "Sender=x\n\n", PD_PARSE_BAD, "in name" },
	{ "CR before LF", REQ "sender=a@b\r\n\n", PD_PARSE_BAD, "0x0d" },
	{ "NUL in value", REQ "sender=a\0b\n\n", PD_PARSE_BAD, "0x00" },
	{ "binary junk refused before its newline", "\x01\x02\x03",
	    PD_PARSE_BAD, "control" },
	{ "duplicate known attribute", REQ "sender=a\nsender=b\n\n",
	    PD_PARSE_BAD, "twice" },
};

static void
run_case(const struct tcase *t)
{
	/* The NUL case has an embedded NUL: measure up to the blank line. */
	size_t len = strlen(t->in);
	struct pd_request req;
	struct rk_err err = { "" };
	enum pd_parse got;
	char *buf;

	if (strcmp(t->name, "NUL in value") == 0)
		len = sizeof(REQ "sender=a\0b\n\n") - 1;
	buf = malloc(len + 1);
	memcpy(buf, t->in, len);
	got = pd_request_parse(buf, len, &req, &err);
	is_int(got, t->want, "%s", t->name);
	if (t->err != NULL)
		ok(strstr(err.msg, t->err) != NULL, "%s: error \"%s\" names %s",
		    t->name, err.msg, t->err);
	free(buf);
}

static void
test_fields(void)
{
	const char *in = REQ "protocol_state=RCPT\nsender=a@b\n"
	                     "recipient=c@d\n\nrequest=smtpd_access_policy\n\n";
	struct pd_request req;

	is_int(pd_request_parse(in, strlen(in), &req, NULL), PD_PARSE_OK,
	    "pipelined: first request");
	is_int(req.consumed,
	    strlen(REQ "protocol_state=RCPT\nsender=a@b\n"
	               "recipient=c@d\n\n"),
	    "consumed stops after the first blank line");
	ok(req.attr[PD_A_SENDER].len == 3 &&
	        memcmp(req.attr[PD_A_SENDER].p, "a@b", 3) == 0,
	    "sender slice");
	ok(pd_slice_case_eq(req.attr[PD_A_PROTOCOL_STATE], "rcpt"),
	    "protocol_state compares case-insensitively");
	ok(req.attr[PD_A_SASL_USERNAME].p == NULL, "absent attribute is NULL");
	is_int(req.nattrs, 4, "attribute count");
}

static void
test_limits(void)
{
	size_t n = PD_REQUEST_MAX * 2;
	char *buf = malloc(n);
	struct pd_request req;
	struct rk_err err;
	size_t off;

	/* A line one byte over the limit, no newline yet: refused at once. */
	memcpy(buf, "sender=", 7);
	memset(buf + 7, 'a', PD_LINE_MAX);
	is_int(pd_request_parse(buf, PD_LINE_MAX, &req, &err), PD_PARSE_BAD,
	    "line of PD_LINE_MAX bytes without newline refused");
	memset(buf + 7, 'a', PD_LINE_MAX - 8);
	buf[PD_LINE_MAX - 1] = '\n';
	is_int(pd_request_parse(buf, PD_LINE_MAX, &req, &err), PD_PARSE_MORE,
	    "line of exactly PD_LINE_MAX bytes with its newline accepted");

	/* PD_ATTR_MAX attributes pass, one more does not. */
	off = 0;
	off += (size_t)sprintf(buf, REQ);
	for (int i = 1; i < PD_ATTR_MAX; i++)
		off += (size_t)sprintf(buf + off, "x%d=y\n", i);
	buf[off] = '\n';
	is_int(pd_request_parse(buf, off + 1, &req, &err), PD_PARSE_OK,
	    "%d attributes accepted", PD_ATTR_MAX);
	off += (size_t)sprintf(buf + off, "one_more=y\n");
	buf[off] = '\n';
	is_int(pd_request_parse(buf, off + 1, &req, &err), PD_PARSE_BAD,
	    "%d attributes refused", PD_ATTR_MAX + 1);

	/* Long valid lines up to the request cap: refused past it. */
	off = (size_t)sprintf(buf, REQ);
	for (int i = 0; off < PD_REQUEST_MAX + 100; i++) {
		off += (size_t)sprintf(buf + off, "v%d=", i);
		memset(buf + off, 'z', 3000);
		off += 3000;
		buf[off++] = '\n';
		if (i > PD_ATTR_MAX)
			break;
	}
	is_int(pd_request_parse(buf, off, &req, &err), PD_PARSE_BAD,
	    "request over PD_REQUEST_MAX refused: %s", err.msg);
	free(buf);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_fields();
	test_limits();
	return done_testing();
}
