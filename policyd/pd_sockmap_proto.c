/* SPDX-License-Identifier: MIT */
/*
 * pd_sockmap_proto: the socketmap protocol's pure part (see
 * pd_sockmap.h).  Grammar of a request (netstring, D. J. Bernstein's):
 *
 *   request = length ":" payload ","
 *   length  = 1*5DIGIT        ; the payload's bytes, at most PD_SM_MAX
 *   payload = name SP key     ; name: no space; key: anything else
 *
 * Leading zeros are accepted (Postfix writes none).  A payload without a
 * space is framed correctly and returned with an empty name, for the
 * server to answer PERM and go on.  No I/O, no allocation.
 */
#include "config.h"

#include <string.h>

#include "pd_sockmap.h"

enum pd_sm_parse
pd_sockmap_parse(
    const char *buf, size_t len, struct pd_sm_req *req, struct rk_err *err)
{
	size_t i = 0, n = 0;
	const char *payload, *sp;

	memset(req, 0, sizeof(*req));
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		if (i == 5) {
			rk_err_set(err, "netstring length over 5 digits");
			return PD_SM_BAD;
		}
		n = n * 10 + (size_t)(buf[i] - '0');
		i++;
	}
	if (i == len)
		return PD_SM_MORE;
	if (i == 0 || buf[i] != ':') {
		rk_err_set(err, "not a netstring (want digits and ':')");
		return PD_SM_BAD;
	}
	if (n > PD_SM_MAX) {
		rk_err_set(
		    err, "request of %zu bytes (at most %d)", n, PD_SM_MAX);
		return PD_SM_BAD;
	}
	if (len - i - 1 < n + 1)
		return PD_SM_MORE;
	payload = buf + i + 1;
	if (payload[n] != ',') {
		rk_err_set(err, "netstring without its ','");
		return PD_SM_BAD;
	}
	req->consumed = i + 1 + n + 1;
	sp = memchr(payload, ' ', n);
	if (sp == NULL || sp == payload) {
		req->key.p = payload;
		req->key.len = n;
		return PD_SM_OK;
	}
	req->name.p = payload;
	req->name.len = (size_t)(sp - payload);
	req->key.p = sp + 1;
	req->key.len = n - req->name.len - 1;
	return PD_SM_OK;
}

bool
pd_sockmap_domain(struct pd_sm_str key, struct pd_sm_str *domain)
{
	const char *at = NULL;

	for (size_t i = 0; i < key.len; i++)
		if (key.p[i] == '@')
			at = key.p + i;
	if (at != NULL) {
		domain->p = at + 1;
		domain->len = key.len - (size_t)(at + 1 - key.p);
	} else if (key.len > 0 && key.p[0] == '.') {
		domain->p = key.p + 1;
		domain->len = key.len - 1;
	} else {
		*domain = key;
	}
	return domain->len > 0 && !(domain->len == 1 && domain->p[0] == '*');
}

void
pd_sockmap_reply(struct rk_buf *out, const char *status, const char *text)
{
	size_t sl = strlen(status), tl = strlen(text);

	rk_buf_printf(out, "%zu:%s ", sl + 1 + tl, status);
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)text[i];

		rk_buf_putc(out, c < 32 || c == 127 ? '?' : (char)c);
	}
	rk_buf_putc(out, ',');
}
