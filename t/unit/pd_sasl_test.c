/* SPDX-License-Identifier: MIT */
/*
 * pd_sasl_test: the Dovecot authentication protocol parser, base64 and
 * the PLAIN / LOGIN payloads, table-driven: what parses into which
 * command, what waits for more, what is refused and why, and the limits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pd_sasl.h"
#include "tap.h"

struct pcase {
	const char *name;
	const char *in;
	enum pd_sasl_parse want;
	int type;        /* enum pd_sasl_cmd_type when OK */
	const char *err; /* substring of the error when BAD */
};

#define AUTHP "AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"

static const struct pcase pcases[] = {
	{ "client VERSION", "VERSION\t1\t0\n", PD_SASL_OK, PD_SASL_VERSION,
	    NULL },
	{ "CPID", "CPID\t4242\n", PD_SASL_OK, PD_SASL_CPID, NULL },
	{ "Postfix AUTH with initial response",
	    AUTHP "rip=10.1.2.3\tsecured\tresp=AHUAcA==\n", PD_SASL_OK,
	    PD_SASL_AUTH, NULL },
	{ "AUTH without response", "AUTH\t1\tLOGIN\n", PD_SASL_OK, PD_SASL_AUTH,
	    NULL },
	{ "CONT", "CONT\t7\tdXNlcg==\n", PD_SASL_OK, PD_SASL_CONT, NULL },
	{ "CONT with empty data", "CONT\t7\t\n", PD_SASL_OK, PD_SASL_CONT,
	    NULL },
	{ "unknown command skipped", "FUTURE\tx\n", PD_SASL_OK, PD_SASL_OTHER,
	    NULL },
	{ "half a line waits", "AUTH\t1\tPL", PD_SASL_MORE, 0, NULL },
	{ "empty input waits", "", PD_SASL_MORE, 0, NULL },
	{ "VERSION without minor", "VERSION\t1\n", PD_SASL_BAD, 0, "VERSION" },
	{ "VERSION not a number", "VERSION\tone\t0\n", PD_SASL_BAD, 0,
	    "VERSION" },
	{ "AUTH id zero", "AUTH\t0\tPLAIN\n", PD_SASL_BAD, 0, "AUTH" },
	{ "AUTH id too long", "AUTH\t12345678901\tPLAIN\n", PD_SASL_BAD, 0,
	    "AUTH" },
	{ "AUTH without mechanism", "AUTH\t1\n", PD_SASL_BAD, 0, "AUTH" },
	{ "AUTH with resp= twice", "AUTH\t1\tPLAIN\tresp=\tresp=\n",
	    PD_SASL_BAD, 0, "twice" },
	{ "CONT without data", "CONT\t1\n", PD_SASL_BAD, 0, "CONT" },
	{ "lower-case command", "auth\t1\tPLAIN\n", PD_SASL_BAD, 0, "command" },
	{ "CR before LF", "CPID\t1\r\n", PD_SASL_BAD, 0, "0x0d" },
	{ "binary junk refused before its newline", "\x01\x02", PD_SASL_BAD, 0,
	    "control" },
};

static void
run_pcase(const struct pcase *t)
{
	size_t len = strlen(t->in);
	char *buf = malloc(len + 1);
	struct pd_sasl_cmd cmd;
	struct rk_err err = { "" };
	enum pd_sasl_parse got;

	memcpy(buf, t->in, len);
	got = pd_sasl_parse(buf, len, &cmd, &err);
	is_int(got, t->want, "%s", t->name);
	if (got == PD_SASL_OK && t->want == PD_SASL_OK)
		is_int(cmd.type, t->type, "%s: command type", t->name);
	if (t->err != NULL)
		ok(strstr(err.msg, t->err) != NULL, "%s: error \"%s\" names %s",
		    t->name, err.msg, t->err);
	free(buf);
}

static void
test_auth_fields(void)
{
	const char *in =
	    AUTHP "rip=10.1.2.3\tsecured\tresp=AHUAcA==\nCPID\t1\n";
	struct pd_sasl_cmd c;

	is_int(pd_sasl_parse(in, strlen(in), &c, NULL), PD_SASL_OK, "AUTH");
	is_int((intmax_t)c.id, 7, "AUTH id");
	ok(c.mech.len == 5 && memcmp(c.mech.p, "PLAIN", 5) == 0, "mechanism");
	ok(c.rip.len == 8 && memcmp(c.rip.p, "10.1.2.3", 8) == 0, "rip=");
	ok(c.service.len == 4 && memcmp(c.service.p, "smtp", 4) == 0,
	    "service=");
	ok(c.secured, "secured flag");
	ok(c.has_resp && c.resp.len == 8 &&
	        memcmp(c.resp.p, "AHUAcA==", 8) == 0,
	    "resp=");
	is_int(c.consumed, strchr(in, '\n') - in + 1,
	    "consumed stops after the first line");
	in = "AUTH\t1\tPLAIN\tresp=\n";
	pd_sasl_parse(in, strlen(in), &c, NULL);
	ok(c.has_resp && c.resp.len == 0 && !c.secured,
	    "empty resp= is given; no secured flag");
}

static void
test_limits(void)
{
	char *buf = malloc(PD_SASL_LINE_MAX + 1);
	struct pd_sasl_cmd c;
	struct rk_err err;
	size_t off;

	memcpy(buf, "CONT\t1\t", 7);
	memset(buf + 7, 'A', PD_SASL_LINE_MAX - 7);
	is_int(pd_sasl_parse(buf, PD_SASL_LINE_MAX, &c, &err), PD_SASL_BAD,
	    "PD_SASL_LINE_MAX bytes without LF refused");
	buf[PD_SASL_LINE_MAX - 1] = '\n';
	is_int(pd_sasl_parse(buf, PD_SASL_LINE_MAX, &c, &err), PD_SASL_OK,
	    "a line of exactly PD_SASL_LINE_MAX bytes with its LF is accepted");
	off = (size_t)sprintf(buf, "AUTH\t1\tPLAIN");
	for (int i = 3; i < PD_SASL_FIELDS_MAX; i++)
		off += (size_t)sprintf(buf + off, "\tx");
	buf[off] = '\n';
	is_int(pd_sasl_parse(buf, off + 1, &c, &err), PD_SASL_OK,
	    "PD_SASL_FIELDS_MAX fields accepted");
	off += (size_t)sprintf(buf + off, "\tx\n");
	is_int(pd_sasl_parse(buf, off, &c, &err), PD_SASL_BAD,
	    "one field more refused: %s", err.msg);
	free(buf);
}

static void
test_base64(void)
{
	unsigned char out[64];
	char enc[64];

	is_int(pd_base64_decode("AHUAcA==", 8, out, sizeof(out)), 4,
	    "base64 with == padding");
	ok(memcmp(out, "\0u\0p", 4) == 0, "decoded bytes");
	is_int(pd_base64_decode("dXNlcg==", 8, out, sizeof(out)), 4, "user");
	is_int(pd_base64_decode("YWJj", 4, out, sizeof(out)), 3, "no padding");
	is_int(pd_base64_decode("", 0, out, sizeof(out)), 0, "empty");
	is_int(pd_base64_decode("YWJ", 3, out, sizeof(out)), -1,
	    "length not a multiple of 4");
	is_int(pd_base64_decode("YW=j", 4, out, sizeof(out)), -1,
	    "padding in the middle");
	is_int(
	    pd_base64_decode("YWJj\n", 5, out, sizeof(out)), -1, "white space");
	is_int(pd_base64_decode("YWJjYWJj", 8, out, 5), -1, "does not fit");
	pd_base64_encode((const unsigned char *)"Password:", 9, enc);
	is_str(enc, "UGFzc3dvcmQ6", "encode");
	pd_base64_encode((const unsigned char *)"ab", 2, enc);
	is_str(enc, "YWI=", "encode with padding");
}

static void
test_plain(void)
{
	struct pd_sasl_str l, p;
	struct rk_err err = { "" };

	is_int(pd_sasl_plain(
	           (const unsigned char *)"\0app\0secret", 11, &l, &p, &err),
	    0, "PLAIN without authzid");
	ok(l.len == 3 && memcmp(l.p, "app", 3) == 0, "PLAIN login");
	ok(p.len == 6 && memcmp(p.p, "secret", 6) == 0, "PLAIN password");
	is_int(pd_sasl_plain(
	           (const unsigned char *)"app\0app\0secret", 14, &l, &p, &err),
	    0, "PLAIN with authzid = login");
	is_int(pd_sasl_plain((const unsigned char *)"boss\0app\0secret", 15, &l,
	           &p, &err),
	    -1, "PLAIN with another authzid refused");
	is_int(pd_sasl_plain((const unsigned char *)"\0app", 4, &l, &p, &err),
	    -1, "PLAIN with one NUL refused");
	is_int(
	    pd_sasl_plain((const unsigned char *)"\0\0secret", 8, &l, &p, &err),
	    -1, "PLAIN with an empty login refused");
	is_int(pd_sasl_plain((const unsigned char *)"\0app\0", 5, &l, &p, &err),
	    -1, "PLAIN with an empty password refused");
	is_int(pd_sasl_plain(
	           (const unsigned char *)"\0app\0se\0cret", 12, &l, &p, &err),
	    -1, "PLAIN with a NUL in the password refused");
	is_int(
	    pd_sasl_login_field((const unsigned char *)"a\tb", 3, true, &err),
	    -1, "a TAB in a LOGIN user name refused");
	is_int(
	    pd_sasl_login_field((const unsigned char *)"a\tb", 3, false, &err),
	    0, "a TAB in a password is fine");
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++)
		run_pcase(&pcases[i]);
	test_auth_fields();
	test_limits();
	test_base64();
	test_plain();
	return done_testing();
}
