/* SPDX-License-Identifier: MIT */
/*
 * relaykit-webhookd's pure parts: the Standard Webhooks signature (the
 * specification's own example), secrets in the whsec_ form and as plain
 * bytes, two signatures during a rotation, the retry plan and what each
 * HTTP answer means.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wh.h"

static void
test_sign(void)
{
	struct wh_key k[2];
	struct rk_buf b;
	const char *body = "{\"test\": 2432232314}";

	ok(wh_key_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k[0]) == 0,
	    "whsec_ key parses");
	is_int((long long)k[0].n, 24, "24 bytes of key");
	rk_buf_init(&b);
	wh_sign(&b, k, 1, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	    strlen(body));
	is_str(b.data, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "the specification's example signature");
	ok(wh_key_parse("plain-secret", &k[1]) == 0 && k[1].n == 12,
	    "a plain secret is its bytes");
	rk_buf_reset(&b);
	wh_sign(&b, k, 2, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	    strlen(body));
	ok(strncmp(b.data,
	       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,",
	       51) == 0 &&
	        strlen(b.data) == 51 + 44,
	    "a rotation: two space-separated signatures");
	wh_key_clear(&k[0]);
	wh_key_clear(&k[1]);
	ok(wh_key_parse("whsec_not*base64!", &k[0]) != 0,
	    "whsec_ with bad base64 is refused");
	rk_buf_free(&b);
}

static void
test_plan(void)
{
	const uint64_t sched[] = { 5000, 300000, 1800000 };

	is_int((long long)wh_backoff_ms(sched, 3, 1, 0, 0), 5000,
	    "first retry: the first pause");
	is_int((long long)wh_backoff_ms(sched, 3, 2, 0.999, 0), 329970,
	    "second: with at most 10%% jitter");
	is_int((long long)wh_backoff_ms(sched, 3, 9, 0, 0), 1800000,
	    "past the list: its last entry");
	is_int((long long)wh_backoff_ms(sched, 3, 1, 0, 120000), 120000,
	    "Retry-After longer than the pause wins");
	is_int(wh_outcome_of(200), WH_OK, "200 ok");
	is_int(wh_outcome_of(204), WH_OK, "204 ok");
	is_int(wh_outcome_of(0), WH_RETRY, "no answer: retry");
	is_int(wh_outcome_of(500), WH_RETRY, "500: retry");
	is_int(wh_outcome_of(429), WH_RETRY, "429: retry");
	is_int(wh_outcome_of(408), WH_RETRY, "408: retry");
	is_int(wh_outcome_of(400), WH_FAIL, "400: failed for good");
	is_int(wh_outcome_of(404), WH_FAIL, "404: failed for good");
	is_int(wh_outcome_of(410), WH_DISABLE, "410: disable the endpoint");
	is_int((long long)wh_retry_after_ms("120", 0), 120000,
	    "Retry-After in seconds");
	is_int((long long)wh_retry_after_ms(
	           " Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30),
	    30000, "Retry-After as an HTTP date");
	is_int((long long)wh_retry_after_ms("soon", 0), 0,
	    "an unreadable Retry-After is ignored");
	is_int((long long)wh_retry_after_ms("999999999", 0), 0,
	    "a Retry-After over a week is ignored");
}

int
main(void)
{
	test_sign();
	test_plan();
	return done_testing();
}
