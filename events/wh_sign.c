/* SPDX-License-Identifier: MIT */
/*
 * wh_sign: Standard Webhooks signatures and the retry plan, as pure
 * functions (unit-tested against the specification's example).
 * Signature: base64(HMAC-SHA256(key, "id.timestamp.body")), sent as
 * "v1,<sig>"; several keys (a rotation) give space-separated entries.
 * Threading: none of its own; every function is reentrant.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "rk_hmac.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "wh.h"

int
wh_key_parse(const char *secret, struct wh_key *out)
{
	size_t len = strlen(secret);
	int n;

	memset(out, 0, sizeof(*out));
	if (strncmp(secret, "whsec_", 6) != 0) {
		if (len > sizeof(out->k))
			return -1;
		memcpy(out->k, secret, len);
		out->n = len;
		out->mac = rk_hmac_key_new(out->k, out->n);
		return 0;
	}
	secret += 6;
	len -= 6;
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(out->k))
		return -1;
	n = EVP_DecodeBlock(out->k, (const unsigned char *)secret, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as bytes */
	while (len > 0 && secret[len - 1] == '=') {
		n--;
		len--;
	}
	out->n = (size_t)n;
	out->mac = rk_hmac_key_new(out->k, out->n);
	return 0;
}

void
wh_key_clear(struct wh_key *k)
{
	rk_hmac_key_free(k->mac);
	rk_memzero(k, sizeof(*k));
}

void
wh_sign(struct rk_buf *out, const struct wh_key *keys, size_t nkeys,
    const char *id, long long timestamp, const char *body, size_t len)
{
	struct rk_buf msg;
	unsigned char mac[32];
	char b64[48];

	rk_buf_init(&msg);
	rk_buf_printf(&msg, "%s.%lld.", id, timestamp);
	rk_buf_append(&msg, body, len);
	for (size_t i = 0; i < nkeys; i++) {
		rk_hmac_sha256_k(keys[i].mac, msg.data, msg.len, mac);
		EVP_EncodeBlock((unsigned char *)b64, mac, sizeof(mac));
		rk_buf_printf(out, "%sv1,%s", i ? " " : "", b64);
	}
	rk_memzero(mac, sizeof(mac));
	rk_buf_free(&msg);
}

uint64_t
wh_backoff_ms(const uint64_t *schedule, size_t n, int64_t attempt,
    double rand01, uint64_t retry_after_ms)
{
	uint64_t base;

	if (n == 0)
		base = 5000;
	else
		base = schedule[attempt < 1   ? 0
		        : (size_t)attempt > n ? n - 1
		                              : (size_t)attempt - 1];
	base += (uint64_t)((double)base * 0.1 * rand01);
	return base > retry_after_ms ? base : retry_after_ms;
}

enum wh_outcome
wh_outcome_of(long status)
{
	if (status >= 200 && status < 300)
		return WH_OK;
	if (status == 410)
		return WH_DISABLE;
	if (status == 0 || status == 408 || status == 409 || status == 425 ||
	    status == 429 || status >= 500)
		return WH_RETRY;
	return WH_FAIL;
}

uint64_t
wh_retry_after_ms(const char *value, long long now_s)
{
	struct tm tm;
	char *end;
	long long v;

	if (value == NULL)
		return 0;
	while (*value == ' ')
		value++;
	v = strtoll(value, &end, 10);
	if (end != value && (*end == '\0' || *end == '\r' || *end == ' '))
		return v > 0 && v < 86400 * 7 ? (uint64_t)v * 1000 : 0;
	/* an HTTP date: "Sun, 06 Nov 1994 08:49:37 GMT" */
	memset(&tm, 0, sizeof(tm));
	if (strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
		return 0;
	v = (long long)timegm(&tm) - now_s;
	return v > 0 && v < 86400 * 7 ? (uint64_t)v * 1000 : 0;
}
