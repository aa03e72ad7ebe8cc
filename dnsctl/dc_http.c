/* SPDX-License-Identifier: MIT */
/*
 * dc_http: the HTTP client dnsctl's API calls share (libcurl): JSON
 * bodies, a bearer token, a CA file, a size cap on answers, and retries.
 *
 * A 429 is retried after its Retry-After (seconds or an HTTP date; 5
 * minutes without one, as Cloudflare documents), a 5xx or a failed
 * connection after an exponential back-off (1, 2, 4… s, at most 60),
 * req->tries times in all.  The token goes into a header list that is
 * wiped before it is freed, and is never printed (verbose mode is off).
 * curl_global_init is main's; single-threaded.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define BODY_MAX          (16 * 1024 * 1024)
#define RETRY_AFTER_UNSET (-1)
#define RETRY_AFTER_MAX   300
#define BACKOFF_MAX       60

struct sink {
	struct rk_buf *body;
	bool too_big;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->body->len + n > BODY_MAX) {
		s->too_big = true;
		return 0;
	}
	rk_buf_append(s->body, p, n);
	return n;
}

long
dc_http_backoff(long status, long retry_after, int n)
{
	long s;

	if (status == 429) {
		if (retry_after == RETRY_AFTER_UNSET)
			return RETRY_AFTER_MAX;
		return retry_after < 0              ? 0
		    : retry_after > RETRY_AFTER_MAX ? RETRY_AFTER_MAX
		                                    : retry_after;
	}
	s = 1L << (n > 7 ? 6 : n - 1);
	return s > BACKOFF_MAX ? BACKOFF_MAX : s;
}

/* Retry-After: delta-seconds or an HTTP date (RFC 9110 10.2.3). */
static long
retry_after(CURL *h)
{
	struct curl_header *hdr = NULL;
	char *end;
	long v;
	time_t when;

	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hdr) !=
	        CURLHE_OK ||
	    hdr == NULL)
		return RETRY_AFTER_UNSET;
	v = strtol(hdr->value, &end, 10);
	if (end != hdr->value && *end == '\0' && v >= 0)
		return v;
	when = curl_getdate(hdr->value, NULL);
	if (when == -1)
		return RETRY_AFTER_UNSET;
	return when > time(NULL) ? (long)(when - time(NULL)) : 0;
}

static struct curl_slist *
headers(const struct dc_http_req *req, struct rk_buf *auth)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Accept: application/json");
	if (req->body != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (req->bearer != NULL) {
		rk_buf_printf(auth, "Authorization: Bearer %s", req->bearer);
		h = curl_slist_append(h, auth->data);
	}
	if (h == NULL)
		rk_panic("curl_slist_append: out of memory");
	return h;
}

/* Wipes the header copies holding the token, then frees them. */
static void
headers_free(struct curl_slist *h, struct rk_buf *auth)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		rk_memzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
	rk_memzero(auth->data, auth->len);
	rk_buf_free(auth);
}

static void
setup(CURL *h, const struct dc_http_req *req, struct curl_slist *hdrs,
    struct sink *sink)
{
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, DC_PROG "/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? req->timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->cafile != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->cafile);
	if (req->body != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
}

/* One try: 0 with resp->status, or -1 when no answer came. */
static int
try_once(CURL *h, const struct dc_http_req *req, struct dc_http_resp *resp,
    long *after, struct rk_err *err)
{
	struct sink sink = { &resp->body, false };
	struct rk_buf auth;
	struct curl_slist *hdrs;
	CURLcode rc;

	rk_buf_init(&auth);
	hdrs = headers(req, &auth);
	rk_buf_reset(&resp->body);
	setup(h, req, hdrs, &sink);
	rc = curl_easy_perform(h);
	headers_free(hdrs, &auth);
	if (sink.too_big)
		return rk_err_set(err, "%s %s: answer over %d bytes",
		    req->method, req->url, BODY_MAX);
	if (rc != CURLE_OK)
		return rk_err_set(err, "%s %s: %s", req->method, req->url,
		    curl_easy_strerror(rc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	*after = retry_after(h);
	return 0;
}

int
dc_http_do(const struct dc_http_req *req, struct dc_http_resp *resp,
    struct rk_err *err)
{
	int tries = req->tries > 0 ? req->tries : 1;
	CURL *h = curl_easy_init();
	int rc = -1;

	if (h == NULL)
		rk_panic("curl_easy_init failed");
	rk_buf_init(&resp->body);
	resp->status = 0;
	for (int n = 1; n <= tries; n++) {
		long after = RETRY_AFTER_UNSET;

		rc = try_once(h, req, resp, &after, err);
		if (rc == 0 && resp->status != 429 && resp->status < 500)
			break;
		if (n == tries)
			break;
		sleep((unsigned)dc_http_backoff(
		    rc == 0 ? resp->status : 0, after, n));
		curl_easy_reset(h);
	}
	curl_easy_cleanup(h);
	return rc;
}

void
dc_http_resp_free(struct dc_http_resp *resp)
{
	rk_buf_free(&resp->body);
	resp->status = 0;
}
