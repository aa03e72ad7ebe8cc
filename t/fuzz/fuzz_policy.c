/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_policy.c: libFuzzer target for the policy request parser
 * (policyd/pd_request.c).  Parses the input as a stream of pipelined
 * requests, as a connection would, and checks the invariants: every slice
 * lies inside the request, a request never exceeds the limits, and what
 * parsed still parses the same when cut out on its own.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyd.h"
#include "fuzz.h"

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_policy: %s\n", what);
	abort();
}

static void
check_request(const char *buf, size_t len, const struct pd_request *req)
{
	struct pd_request again;

	require(req->consumed >= 2 && req->consumed <= len, "consumed");
	require(req->consumed <= PD_REQUEST_MAX, "request cap");
	require(req->nattrs >= 1 && req->nattrs <= PD_ATTR_MAX, "attr cap");
	require(
	    buf[req->consumed - 1] == '\n' && buf[req->consumed - 2] == '\n',
	    "ends with a blank line");
	for (int a = 0; a < PD_A_COUNT; a++) {
		const struct pd_slice *s = &req->attr[a];

		if (s->p == NULL) {
			require(s->len == 0, "absent slice has no length");
			continue;
		}
		require(s->p >= buf && s->p + s->len < buf + req->consumed,
		    "slice inside the request");
		require(memchr(s->p, '\n', s->len) == NULL, "no LF in a value");
	}
	require(
	    pd_request_parse(buf, req->consumed, &again, NULL) == PD_PARSE_OK &&
	        again.consumed == req->consumed && again.nattrs == req->nattrs,
	    "the request alone parses the same");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past the end. */
	char *buf = size ? malloc(size) : NULL;
	size_t off = 0;

	if (size && buf == NULL)
		return 0;
	if (size)
		memcpy(buf, data, size);
	while (off < size) {
		struct pd_request req;
		struct rk_err err;
		enum pd_parse r =
		    pd_request_parse(buf + off, size - off, &req, &err);

		if (r != PD_PARSE_OK) {
			require(r == PD_PARSE_MORE || err.msg[0] != '\0',
			    "a refusal says why");
			break;
		}
		check_request(buf + off, size - off, &req);
		off += req.consumed;
	}
	free(buf);
	return 0;
}
