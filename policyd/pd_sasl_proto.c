/* SPDX-License-Identifier: MIT */
/*
 * pd_sasl_proto: the client side of Dovecot's authentication protocol as
 * Postfix's xsasl_dovecot_server.c writes it, parsed one line at a time.
 *
 *   line    = command *(TAB field) LF
 *   command = 1*16(A-Z)
 *   field   = *(%x20-FF)              ; no TAB, LF, CR, NUL, controls
 *   VERSION TAB major TAB minor       ; numbers: 1*9DIGIT
 *   CPID    TAB pid
 *   AUTH    TAB id TAB mech *(TAB param)   ; param = name ["=" value]
 *   CONT    TAB id TAB base64
 *
 * Strict where Postfix is predictable (field counts, numbers, a parameter
 * given once), lenient where Dovecot is (an unknown command or parameter is
 * skipped).  A line over PD_SASL_LINE_MAX, more than PD_SASL_FIELDS_MAX
 * fields or a control character is refused as soon as it is seen.
 *
 * Pure functions of their input: no I/O, no allocation, thread-safe.
 */
#include "config.h"

#include <string.h>

#include "pd_sasl.h"

static bool
field_char(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

static bool
str_is(struct pd_sasl_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool
str_starts(struct pd_sasl_str s, const char *lit, struct pd_sasl_str *rest)
{
	size_t n = strlen(lit);

	if (s.len < n || memcmp(s.p, lit, n) != 0)
		return false;
	rest->p = s.p + n;
	rest->len = s.len - n;
	return true;
}

/* A decimal number of 1..9 digits (fits in 32 bits unsigned). */
static int
str_number(struct pd_sasl_str s, unsigned long *out)
{
	unsigned long v = 0;

	if (s.len == 0 || s.len > 9)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s.p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Splits a line (without LF) at TABs.  Returns the field count or -1. */
static int
split(const char *line, size_t len, struct pd_sasl_str *f, struct rk_err *err)
{
	size_t start = 0;
	int n = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t') {
			if (!field_char((unsigned char)line[i]))
				return rk_err_set(err,
				    "control character 0x%02x",
				    (unsigned char)line[i]);
			continue;
		}
		if (n == PD_SASL_FIELDS_MAX)
			return rk_err_set(
			    err, "more than %d fields", PD_SASL_FIELDS_MAX);
		f[n].p = line + start;
		f[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static int
parse_auth(const struct pd_sasl_str *f, int n, struct pd_sasl_cmd *cmd,
    struct rk_err *err)
{
	bool seen_rip = false, seen_service = false;

	if (n < 3 || str_number(f[1], &cmd->id) != 0 || cmd->id == 0)
		return rk_err_set(err, "AUTH: want id and mechanism");
	if (f[2].len == 0 || f[2].len > 64)
		return rk_err_set(err, "AUTH: bad mechanism name");
	cmd->mech = f[2];
	for (int i = 3; i < n; i++) {
		struct pd_sasl_str v;

		if (str_starts(f[i], "resp=", &v)) {
			if (cmd->has_resp)
				return rk_err_set(err, "AUTH: resp= twice");
			cmd->resp = v;
			cmd->has_resp = true;
		} else if (str_starts(f[i], "rip=", &v)) {
			if (seen_rip)
				return rk_err_set(err, "AUTH: rip= twice");
			cmd->rip = v;
			seen_rip = true;
		} else if (str_starts(f[i], "service=", &v)) {
			if (seen_service)
				return rk_err_set(err, "AUTH: service= twice");
			cmd->service = v;
			seen_service = true;
		} else if (str_is(f[i], "secured")) {
			cmd->secured = true;
		}
	}
	return 0;
}

static int
parse_fields(const struct pd_sasl_str *f, int n, struct pd_sasl_cmd *cmd,
    struct rk_err *err)
{
	unsigned long a, b;

	if (f[0].len == 0 || f[0].len > 16)
		return rk_err_set(err, "bad command name");
	for (size_t i = 0; i < f[0].len; i++)
		if (f[0].p[i] < 'A' || f[0].p[i] > 'Z')
			return rk_err_set(err, "bad command name");
	if (str_is(f[0], "VERSION")) {
		if (n != 3 || str_number(f[1], &a) != 0 ||
		    str_number(f[2], &b) != 0)
			return rk_err_set(err, "VERSION: want major and minor");
		cmd->type = PD_SASL_VERSION;
		cmd->major = (unsigned)a;
		cmd->minor = (unsigned)b;
	} else if (str_is(f[0], "CPID")) {
		if (n != 2 || str_number(f[1], &a) != 0)
			return rk_err_set(err, "CPID: want a process id");
		cmd->type = PD_SASL_CPID;
	} else if (str_is(f[0], "AUTH")) {
		cmd->type = PD_SASL_AUTH;
		return parse_auth(f, n, cmd, err);
	} else if (str_is(f[0], "CONT")) {
		if (n != 3 || str_number(f[1], &cmd->id) != 0 || cmd->id == 0)
			return rk_err_set(err, "CONT: want id and data");
		cmd->type = PD_SASL_CONT;
		cmd->resp = f[2];
		cmd->has_resp = true;
	} else {
		cmd->type = PD_SASL_OTHER;
	}
	return 0;
}

enum pd_sasl_parse
pd_sasl_parse(
    const char *buf, size_t len, struct pd_sasl_cmd *cmd, struct rk_err *err)
{
	size_t scan = len < PD_SASL_LINE_MAX ? len : PD_SASL_LINE_MAX;
	const char *nl = memchr(buf, '\n', scan);
	struct pd_sasl_str f[PD_SASL_FIELDS_MAX];
	int n;

	memset(cmd, 0, sizeof(*cmd));
	if (nl == NULL) {
		if (len >= PD_SASL_LINE_MAX) {
			rk_err_set(
			    err, "line longer than %d bytes", PD_SASL_LINE_MAX);
			return PD_SASL_BAD;
		}
		/* Refuse binary junk now, not after a timeout. */
		for (size_t i = 0; i < len; i++)
			if (buf[i] != '\t' &&
			    !field_char((unsigned char)buf[i])) {
				rk_err_set(err, "control character 0x%02x",
				    (unsigned char)buf[i]);
				return PD_SASL_BAD;
			}
		return PD_SASL_MORE;
	}
	if ((n = split(buf, (size_t)(nl - buf), f, err)) < 0 ||
	    parse_fields(f, n, cmd, err) != 0) {
		memset(cmd, 0, sizeof(*cmd));
		return PD_SASL_BAD;
	}
	cmd->consumed = (size_t)(nl - buf) + 1;
	return PD_SASL_OK;
}

/* ------------------------------------------------------------ base64 */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
pd_base64_decode(const char *in, size_t len, unsigned char *out, size_t n)
{
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		bool last = i + 4 == len;

		for (int k = 0; k < 4; k++) {
			if (last && k >= 2 && in[i + k] == '=' &&
			    (k == 3 || in[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			if ((v[k] = b64_value(in[i + k])) < 0)
				return -1;
		}
		/* Canonical only: the bits padding drops must be zero. */
		if ((pad == 1 && (v[2] & 3) != 0) ||
		    (pad == 2 && (v[1] & 15) != 0))
			return -1;
		if (o + 3 - (size_t)pad > n)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] =
			    (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

void
pd_base64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = b64[in[i + 2] & 63];
	}
	if (i < len) {
		out[o++] = b64[in[i] >> 2];
		if (i + 1 < len) {
			out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
			out[o++] = b64[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = b64[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* ------------------------------------------------------ PLAIN, LOGIN */

int
pd_sasl_login_field(
    const unsigned char *p, size_t len, bool is_login, struct rk_err *err)
{
	if (len == 0)
		return rk_err_set(
		    err, is_login ? "empty login" : "empty password");
	if (len > PD_SASL_CRED_MAX)
		return rk_err_set(err, "%s longer than %d bytes",
		    is_login ? "login" : "password", PD_SASL_CRED_MAX);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0')
			return rk_err_set(err, "NUL in the %s",
			    is_login ? "login" : "password");
		if (is_login && (p[i] < 0x20 || p[i] == 0x7f))
			return rk_err_set(
			    err, "control character in the login");
	}
	return 0;
}

int
pd_sasl_plain(const unsigned char *msg, size_t len, struct pd_sasl_str *login,
    struct pd_sasl_str *password, struct rk_err *err)
{
	const unsigned char *a = memchr(msg, '\0', len), *b;
	struct pd_sasl_str authz;

	if (a == NULL ||
	    (b = memchr(a + 1, '\0', len - (size_t)(a + 1 - msg))) == NULL)
		return rk_err_set(err,
		    "PLAIN: want authzid NUL authcid NUL "
		    "passwd");
	authz.p = (const char *)msg;
	authz.len = (size_t)(a - msg);
	login->p = (const char *)a + 1;
	login->len = (size_t)(b - a - 1);
	password->p = (const char *)b + 1;
	password->len = len - (size_t)(b + 1 - msg);
	if (pd_sasl_login_field(
	        (const unsigned char *)login->p, login->len, true, err) != 0 ||
	    pd_sasl_login_field((const unsigned char *)password->p,
	        password->len, false, err) != 0)
		return -1;
	if (authz.len != 0 &&
	    (authz.len != login->len ||
	        memcmp(authz.p, login->p, authz.len) != 0))
		return rk_err_set(err,
		    "PLAIN: authorization identity differs "
		    "from the login");
	return 0;
}
