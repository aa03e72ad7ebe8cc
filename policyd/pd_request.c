/* SPDX-License-Identifier: MIT */
/*
 * pd_request: the Postfix SMTPD policy delegation request parser.
 *
 *   request   = 1*line LF           ; ends with an empty line
 *   line      = name "=" value LF
 *   name      = 1*(a-z / 0-9 / "_" / "-")
 *   value     = *(%x20-7E / %x80-FF)
 *
 * Strict, as Postfix's own attr_scan_plain is with ATTR_FLAG_STRICT: no
 * CR, NUL or other control characters, no line without "=", no known
 * attribute twice, "request=smtpd_access_policy" required.  A line longer
 * than PD_LINE_MAX, more than PD_ATTR_MAX attributes or a request over
 * PD_REQUEST_MAX is refused as soon as it is seen, without waiting for
 * the rest, so a flood never buffers more than the limits.
 *
 * Pure function of (buf, len): no I/O, no allocation, thread-safe.  The
 * fuzz target t/fuzz/fuzz_policy.c drives it.
 */
#include "config.h"

#include <string.h>

#include "rk_str.h"
#include "policyd.h"

static const char *const attr_names[PD_A_COUNT] = {
	[PD_A_REQUEST] = "request",
	[PD_A_PROTOCOL_STATE] = "protocol_state",
	[PD_A_PROTOCOL_NAME] = "protocol_name",
	[PD_A_QUEUE_ID] = "queue_id",
	[PD_A_INSTANCE] = "instance",
	[PD_A_SENDER] = "sender",
	[PD_A_RECIPIENT] = "recipient",
	[PD_A_RECIPIENT_COUNT] = "recipient_count",
	[PD_A_CLIENT_ADDRESS] = "client_address",
	[PD_A_CLIENT_NAME] = "client_name",
	[PD_A_HELO_NAME] = "helo_name",
	[PD_A_SASL_METHOD] = "sasl_method",
	[PD_A_SASL_USERNAME] = "sasl_username",
	[PD_A_SASL_SENDER] = "sasl_sender",
	[PD_A_SIZE] = "size",
};

const char *
pd_attr_name(enum pd_attr a)
{
	return (unsigned)a < PD_A_COUNT ? attr_names[a] : "?";
}

bool
pd_slice_case_eq(struct pd_slice s, const char *str)
{
	size_t n = strlen(str);

	return s.p != NULL && s.len == n && rk_mem_case_eq(s.p, str, n);
}

static bool
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-';
}

static bool
value_char(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

static int
attr_lookup(const char *name, size_t len)
{
	for (int i = 0; i < PD_A_COUNT; i++)
		if (strlen(attr_names[i]) == len &&
		    memcmp(attr_names[i], name, len) == 0)
			return i;
	return -1;
}

/*
 * Checks one line (without its LF) and records it.  Returns 0 or -1 with
 * err filled.
 */
static int
parse_line(
    const char *line, size_t len, struct pd_request *req, struct rk_err *err)
{
	const char *eq = memchr(line, '=', len);
	size_t nlen, i;
	int a;

	if (eq == NULL)
		return rk_err_set(
		    err, "attribute %zu: no '='", req->nattrs + 1);
	nlen = (size_t)(eq - line);
	if (nlen == 0)
		return rk_err_set(
		    err, "attribute %zu: empty name", req->nattrs + 1);
	for (i = 0; i < nlen; i++)
		if (!name_char((unsigned char)line[i]))
			return rk_err_set(err,
			    "attribute %zu: bad character 0x%02x in name",
			    req->nattrs + 1, (unsigned char)line[i]);
	for (i = nlen + 1; i < len; i++)
		if (!value_char((unsigned char)line[i]))
			return rk_err_set(err,
			    "attribute %zu: control character 0x%02x in value",
			    req->nattrs + 1, (unsigned char)line[i]);
	if (++req->nattrs > PD_ATTR_MAX)
		return rk_err_set(err, "more than %d attributes", PD_ATTR_MAX);
	if ((a = attr_lookup(line, nlen)) < 0)
		return 0;
	if (req->attr[a].p != NULL)
		return rk_err_set(
		    err, "attribute %s given twice", attr_names[a]);
	req->attr[a].p = eq + 1;
	req->attr[a].len = len - nlen - 1;
	return 0;
}

/* A request is complete: the attributes Postfix always sends must be
   there. */
static enum pd_parse
parse_finish(struct pd_request *req, size_t consumed, struct rk_err *err)
{
	if (req->nattrs == 0) {
		rk_err_set(err, "empty request");
		return PD_PARSE_BAD;
	}
	if (!pd_slice_case_eq(req->attr[PD_A_REQUEST], "smtpd_access_policy")) {
		rk_err_set(err, "no request=smtpd_access_policy");
		return PD_PARSE_BAD;
	}
	req->consumed = consumed;
	return PD_PARSE_OK;
}

enum pd_parse
pd_request_parse(
    const char *buf, size_t len, struct pd_request *req, struct rk_err *err)
{
	size_t off = 0;

	memset(req, 0, sizeof(*req));
	while (off < len) {
		size_t avail = len - off;
		const char *nl = memchr(
		    buf + off, '\n', avail < PD_LINE_MAX ? avail : PD_LINE_MAX);
		size_t llen;

		if (nl == NULL) {
			if (avail >= PD_LINE_MAX) {
				rk_err_set(err, "line %zu longer than %d bytes",
				    req->nattrs + 1, PD_LINE_MAX);
				return PD_PARSE_BAD;
			}
			/* Check the partial line now: binary junk is refused
			   at once, not after a timeout. */
			for (size_t i = off; i < len; i++)
				if (!value_char((unsigned char)buf[i])) {
					rk_err_set(err,
					    "control character 0x%02x",
					    (unsigned char)buf[i]);
					return PD_PARSE_BAD;
				}
			break;
		}
		llen = (size_t)(nl - (buf + off));
		if (off + llen + 1 > PD_REQUEST_MAX) {
			rk_err_set(err, "request longer than %d bytes",
			    PD_REQUEST_MAX);
			return PD_PARSE_BAD;
		}
		if (llen == 0)
			return parse_finish(req, off + 1, err);
		if (parse_line(buf + off, llen, req, err) != 0)
			return PD_PARSE_BAD;
		off += llen + 1;
	}
	if (len >= PD_REQUEST_MAX) {
		rk_err_set(err, "request longer than %d bytes", PD_REQUEST_MAX);
		return PD_PARSE_BAD;
	}
	return PD_PARSE_MORE;
}
