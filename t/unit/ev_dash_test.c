/* SPDX-License-Identifier: MIT */
/*
 * ev_dash_test: the dashboard's pure parts.  What an event becomes for
 * the page (only the table's fields: never a subject; masked addresses,
 * in reply texts too; long replies cut on a character boundary; anything
 * that is not an event refused), the rates and top deferring
 * destinations, and the login check for each way in and out.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rk_cfg.h"
#include "rk_event.h"
#include "rk_str.h"
#include "tap.h"

#include "ev_dash.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char event_json[] =
    "{\"id\":\"evt_0123456789abcdef0123456789abcdef\",\"event\":"
    "\"deferred\",\"timestamp\":\"2026-11-30T05:14:28.123Z\",\"host\":"
    "\"relay1\",\"source\":\"eventd\",\"queue_id\":\"4Bx1Yz2kLmz1\","
    "\"message_id\":\"<m1@app>\",\"client_id\":\"order-7\",\"from\":"
    "\"alice@example.com\",\"to\":[\"Bob.Smith@Gmail.COM\"],\"recipient\":"
    "\"Bob.Smith@Gmail.COM\",\"orig_to\":null,\"subject\":\"Secret plans\","
    "\"relay\":\"mx[192.0.2.1]:25\",\"dsn\":\"4.7.28\",\"status\":"
    "\"deferred\",\"response\":\"421 4.7.28 <Bob.Smith@Gmail.COM> rate "
    "limited\",\"tls\":null,\"delay\":1200,\"delays\":{\"before_queue\":0,"
    "\"queue_manager\":0,\"connection\":100,\"transmission\":1100},"
    "\"attempt\":2,\"size\":1234,\"nrcpt\":null,\"report\":null}";

static const char *
field(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_view(void)
{
	struct ev_dash_ev *e =
	    ev_dash_view(event_json, strlen(event_json), false);
	json_t *o;

	if (!ok(e != NULL, "an event is read"))
		return;
	is_int(e->type, RK_EVT_DEFERRED, "type");
	is_int(e->time_ms, 1796015668123LL, "time in ms");
	is_str(e->domain, "gmail.com", "recipient domain, lower case");
	is_str(e->dsn, "4.7.28", "dsn");
	is_str(e->from, "alice@example.com", "sender as sent");
	o = json_loads(e->json, 0, NULL);
	ok(o != NULL, "the page's object is JSON");
	is_str(field(o, "queue_id"), "4Bx1Yz2kLmz1", "queue id");
	is_str(field(o, "client_id"), "order-7", "client id");
	is_str(field(o, "to"), "Bob.Smith@Gmail.COM", "recipient");
	is_int(json_integer_value(json_object_get(o, "attempt")), 2, "attempt");
	ok(json_object_get(o, "subject") == NULL &&
	        json_object_get(o, "message_id") == NULL &&
	        strstr(e->json, "Secret") == NULL,
	    "no subject, no Message-ID reach the page");
	json_decref(o);
	free(e);

	e = ev_dash_view(event_json, strlen(event_json), true);
	if (!ok(e != NULL, "masked: read"))
		return;
	is_str(e->from, "a***@example.com", "masked sender");
	ok(strstr(e->json, "Bob.Smith") == NULL &&
	        strstr(e->json, "alice") == NULL,
	    "masked: no local part anywhere in the page's object");
	ok(strstr(e->json, "\"to\":\"B***@Gmail.COM\"") != NULL,
	    "masked recipient keeps its domain");
	ok(strstr(e->response, "<B***@Gmail.COM> rate limited") != NULL,
	    "masked reply text: %s", e->response);
	free(e);
}

static void
test_view_edges(void)
{
	static const char *const bad[] = { "", "{", "[]", "{\"event\":1}",
		"{\"event\":\"nope\"}", "null" };
	struct rk_buf big;
	struct ev_dash_ev *e;

	for (size_t i = 0; i < NELEMS(bad); i++) {
		e = ev_dash_view(bad[i], strlen(bad[i]), false);
		ok(e == NULL, "not an event: '%s'", bad[i]);
		free(e);
	}
	e = ev_dash_view("{\"event\":\"queued\"}", 18, true);
	ok(e != NULL && e->type == RK_EVT_QUEUED && e->domain[0] == '\0' &&
	        e->time_ms == 0,
	    "a bare event: unknowns empty");
	free(e);
	/* a reply of 400 bytes where a 3-byte character straddles 300 */
	rk_buf_init(&big);
	rk_buf_puts(&big, "{\"event\":\"bounced\",\"response\":\"");
	for (int i = 0; i < 299; i++)
		rk_buf_putc(&big, 'x');
	for (int i = 0; i < 33; i++)
		rk_buf_puts(&big, "\xe2\x82\xac");
	rk_buf_puts(&big, "\"}");
	e = ev_dash_view(big.data, big.len, false);
	ok(e != NULL && strlen(e->response) == 299,
	    "a long reply is cut before a character that would not fit "
	    "(%zu bytes)",
	    e ? strlen(e->response) : 0);
	free(e);
	rk_buf_free(&big);
}

static void
test_mask(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "" },
		{ "no address here", "no address here" },
		{ "a@b.c", "a***@b.c" },
		{ "to=<bounce+x=y@ex.com>, x", "to=<b***@ex.com>, x" },
		{ "@nolocal.com", "@nolocal.com" },
		{ "trailing@", "trailing@" },
		{ "two: a1@x.org;b2@y.org", "two: a***@x.org;b***@y.org" },
		{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	};

	for (size_t i = 0; i < NELEMS(cases); i++) {
		struct rk_buf b;

		rk_buf_init(&b);
		ev_dash_mask(cases[i].in, &b);
		is_str(b.data ? b.data : "", cases[i].want, "mask '%s'",
		    cases[i].in);
		rk_buf_free(&b);
	}
}

static struct ev_dash_ev *
mk(int type, int64_t ms, const char *domain)
{
	struct rk_buf j;
	struct ev_dash_ev *e;
	char ts[RK_EVENT_TIME_LEN];

	rk_buf_init(&j);
	rk_buf_printf(&j,
	    "{\"id\":\"x\",\"event\":\"%s\",\"timestamp\":\"%s\","
	    "\"recipient\":\"u@%s\",\"dsn\":\"4.4.1\",\"response\":\"busy\"}",
	    rk_event_type_name(type), rk_event_time(ms, ts), domain);
	e = ev_dash_view(j.data, j.len, false);
	rk_buf_free(&j);
	return e;
}

static void
add(struct ev_dash_agg *a, int type, int64_t ms, const char *domain,
    int64_t now)
{
	struct ev_dash_ev *e = mk(type, ms, domain);

	ev_dash_agg_add(a, e, now);
	free(e);
}

static void
test_agg(void)
{
	const int64_t now = 1796015668000LL;
	struct ev_dash_agg *a = ev_dash_agg_new();
	struct rk_buf out;
	json_t *o, *rates, *top;

	for (int i = 0; i < 5; i++)
		add(a, RK_EVT_DELIVERED, now - 1000, "ok.test", now);
	add(a, RK_EVT_DELIVERED, now - 20 * 60000, "ok.test", now);
	for (int i = 0; i < 3; i++)
		add(a, RK_EVT_DEFERRED, now - 5 * 60000, "slow.test", now);
	add(a, RK_EVT_DEFERRED, now - 1000, "slow.test", now);
	add(a, RK_EVT_BOUNCED, now - 1000, "gone.test", now);
	add(a, RK_EVT_DEFERRED, now - 16 * 60000, "old.test", now);
	rk_buf_init(&out);
	ev_dash_agg_json(a, now, NULL, NULL, &out);
	o = json_loads(out.data, 0, NULL);
	rates = json_object_get(o, "rates");
	top = json_object_get(o, "top");
	is_int(json_array_size(json_object_get(rates, "delivered")),
	    EV_DASH_BUCKETS, "90 buckets per event");
	is_int(json_integer_value(json_array_get(
	           json_object_get(rates, "delivered"), EV_DASH_BUCKETS - 1)),
	    5, "the last bucket counts this moment's events");
	is_int(json_integer_value(json_object_get(o, "seen")), 12,
	    "every event seen counts, old ones too");
	is_int(json_array_size(top), 2,
	    "top: destinations with failures in the window (not old.test)");
	is_str(json_string_value(
	           json_object_get(json_array_get(top, 0), "domain")),
	    "slow.test", "most deferrals first");
	is_int(json_integer_value(
	           json_object_get(json_array_get(top, 0), "deferred")),
	    4, "... with its count");
	json_decref(o);
	rk_buf_free(&out);
	/* more destinations than it keeps: the busiest stay */
	for (int i = 0; i < EV_DASH_DOMAINS + 50; i++) {
		char d[32];

		snprintf(d, sizeof(d), "d%d.test", i);
		add(a, RK_EVT_DEFERRED, now - 500, d, now);
	}
	for (int i = 0; i < 20; i++)
		add(a, RK_EVT_DEFERRED, now - 400, "busy.test", now);
	rk_buf_init(&out);
	ev_dash_agg_json(a, now, NULL, NULL, &out);
	ok(strstr(out.data, "\"top\":[{\"domain\":\"busy.test\"") != NULL,
	    "full table: a new busy destination still rises to the top");
	rk_buf_free(&out);
	ev_dash_agg_free(a);
}

static void
test_auth(void)
{
	struct rk_cfg_dashboard c;
	struct ev_dash_auth *a;
	char cookie[256];

	memset(&c, 0, sizeof(c));
	a = ev_dash_auth_new(&c);
	is_int(ev_dash_auth_check(a, NULL, NULL, NULL), EV_DASH_ALLOWED,
	    "no login configured: open");
	ev_dash_auth_free(a);

	c.auth.username = "ops";
	c.auth.password = "s3cret";
	a = ev_dash_auth_new(&c);
	/* base64("ops:s3cret") */
	is_int(ev_dash_auth_check(a, "Basic b3BzOnMzY3JldA==", NULL, NULL),
	    EV_DASH_ALLOWED, "basic: right user and password");
	is_int(ev_dash_auth_check(a, "basic b3BzOnMzY3JldA==", NULL, NULL),
	    EV_DASH_ALLOWED, "basic: the scheme in any case");
	is_int(ev_dash_auth_check(a, "Basic b3BzOnMzY3JldB==", NULL, NULL),
	    EV_DASH_DENIED, "basic: a wrong password");
	is_int(ev_dash_auth_check(a, NULL, NULL, NULL), EV_DASH_DENIED,
	    "basic: nothing sent");
	is_int(ev_dash_auth_check(a, "Bearer s3cret", NULL, "s3cret"),
	    EV_DASH_DENIED, "basic only: no token way in");
	ok(strncmp(ev_dash_auth_challenge(a), "Basic ", 6) == 0,
	    "basic: the challenge asks for it");
	ev_dash_auth_free(a);

	memset(&c, 0, sizeof(c));
	c.auth.bearerToken = "tok-123";
	a = ev_dash_auth_new(&c);
	is_int(ev_dash_auth_check(a, "Bearer tok-123", NULL, NULL),
	    EV_DASH_ALLOWED, "bearer: the token");
	is_int(ev_dash_auth_check(a, "Bearer tok-12", NULL, NULL),
	    EV_DASH_DENIED, "bearer: a prefix of it");
	is_int(ev_dash_auth_check(a, "Bearer tok-1234", NULL, NULL),
	    EV_DASH_DENIED, "bearer: longer");
	is_int(ev_dash_auth_check(a, NULL, NULL, "tok-123"), EV_DASH_TOKEN,
	    "?token=: allowed, to become a cookie");
	is_int(ev_dash_auth_check(a, NULL, NULL, "nope"), EV_DASH_DENIED,
	    "?token= wrong");
	ok(strstr(ev_dash_auth_cookie(a), "tok-123") == NULL &&
	        strstr(ev_dash_auth_cookie(a), "HttpOnly") != NULL &&
	        strstr(ev_dash_auth_cookie(a), "SameSite=Strict") != NULL,
	    "the cookie never holds the token: %s", ev_dash_auth_cookie(a));
	snprintf(cookie, sizeof(cookie), "a=1; %.*s; b=2",
	    (int)strcspn(ev_dash_auth_cookie(a), ";"), ev_dash_auth_cookie(a));
	is_int(ev_dash_auth_check(a, NULL, cookie, NULL), EV_DASH_ALLOWED,
	    "the cookie among others");
	is_int(ev_dash_auth_check(a, NULL, "rk_dash=00", NULL), EV_DASH_DENIED,
	    "a forged cookie");
	ev_dash_auth_free(a);
}

int
main(void)
{
	test_view();
	test_view_edges();
	test_mask();
	test_agg();
	test_auth();
	return done_testing();
}
