/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_sasl.c: libFuzzer target for the Dovecot authentication
 * protocol parser (policyd/pd_sasl_proto.c).  Parses the input as a stream
 * of lines, as a connection would, and for every AUTH or CONT decodes the
 * base64 and the PLAIN and LOGIN payloads as the server does.  Checks:
 * slices lie inside the line, no line over the cap, a line parses the same
 * on its own, base64 round-trips.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd_sasl.h"
#include "fuzz.h"

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_sasl: %s\n", what);
	abort();
}

static void
inside(const char *buf, size_t len, struct pd_sasl_str s)
{
	if (s.p == NULL)
		return;
	require(s.p >= buf && s.p + s.len <= buf + len, "slice inside");
	require(memchr(s.p, '\t', s.len) == NULL, "no TAB in a field");
}

static void
payload(struct pd_sasl_str b64)
{
	unsigned char out[3 * PD_SASL_CRED_MAX + 8];
	char again[sizeof(out) * 2];
	struct pd_sasl_str login, password;
	long n = pd_base64_decode(b64.p, b64.len, out, sizeof(out));

	if (n < 0)
		return;
	require((size_t)n <= b64.len, "decoded not longer than text");
	pd_base64_encode(out, (size_t)n, again);
	require(strlen(again) == b64.len && memcmp(again, b64.p, b64.len) == 0,
	    "base64 round trip");
	if (pd_sasl_plain(out, (size_t)n, &login, &password, NULL) == 0) {
		require(
		    login.len > 0 && login.len <= PD_SASL_CRED_MAX, "login");
		require(password.len > 0 && password.len <= PD_SASL_CRED_MAX,
		    "password");
	}
	(void)pd_sasl_login_field(out, (size_t)n, true, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = size ? malloc(size) : NULL;
	size_t off = 0;

	if (size && buf == NULL)
		return 0;
	if (size)
		memcpy(buf, data, size);
	while (off < size) {
		struct pd_sasl_cmd cmd, again;
		struct rk_err err;
		enum pd_sasl_parse r =
		    pd_sasl_parse(buf + off, size - off, &cmd, &err);

		if (r != PD_SASL_OK) {
			require(r == PD_SASL_MORE || err.msg[0] != '\0',
			    "a refusal says why");
			break;
		}
		require(cmd.consumed >= 1 && cmd.consumed <= size - off &&
		        cmd.consumed <= PD_SASL_LINE_MAX,
		    "consumed");
		require(buf[off + cmd.consumed - 1] == '\n', "ends with LF");
		inside(buf + off, cmd.consumed, cmd.mech);
		inside(buf + off, cmd.consumed, cmd.resp);
		inside(buf + off, cmd.consumed, cmd.rip);
		inside(buf + off, cmd.consumed, cmd.service);
		require(pd_sasl_parse(buf + off, cmd.consumed, &again, NULL) ==
		            PD_SASL_OK &&
		        again.type == cmd.type && again.id == cmd.id,
		    "the line alone parses the same");
		if (cmd.has_resp)
			payload(cmd.resp);
		off += cmd.consumed;
	}
	free(buf);
	return 0;
}
