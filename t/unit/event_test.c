/* SPDX-License-Identifier: MIT */
/* rk_event: the JSON every program emits, ids, times. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rk_event.h"
#include "tap.h"

static void
test_delivered(void)
{
	struct rk_event ev;
	char *j;

	rk_event_init(&ev, RK_EVT_DELIVERED);
	ev.id = "evt_00112233445566778899aabbccddeeff";
	ev.time_ms = 1764479668123LL;
	ev.host = "mail.example.com";
	ev.source = "eventd";
	ev.queue_id = "4F9D0B2C31";
	ev.from = "app@example.com";
	ev.to = "user@example.net";
	ev.dsn = "2.0.0";
	ev.status = "sent";
	ev.response = "250 2.0.0 Ok: queued as \"X\"";
	ev.delay_ms = 1234;
	ev.delays_ms[RK_STAGE_TRANSMISSION] = 40;
	ev.attempt = 1;
	j = rk_event_json(&ev);
	is_str(j,
	    "{\"id\":\"evt_00112233445566778899aabbccddeeff\","
	    "\"event\":\"delivered\","
	    "\"timestamp\":\"2025-11-30T05:14:28.123Z\","
	    "\"host\":\"mail.example.com\",\"source\":\"eventd\","
	    "\"queue_id\":\"4F9D0B2C31\",\"message_id\":null,"
	    "\"client_id\":null,\"from\":\"app@example.com\","
	    "\"to\":[\"user@example.net\"],\"recipient\":\"user@example.net\","
	    "\"orig_to\":null,\"subject\":null,\"relay\":null,"
	    "\"dsn\":\"2.0.0\",\"status\":\"sent\","
	    "\"response\":\"250 2.0.0 Ok: queued as \\\"X\\\"\",\"tls\":null,"
	    "\"delay\":1234,\"delays\":{\"before_queue\":null,"
	    "\"queue_manager\":null,\"connection\":null,"
	    "\"transmission\":40},\"attempt\":1,\"size\":null,"
	    "\"nrcpt\":null,\"report\":null}",
	    "a delivered event: every key, nulls for unknowns, fixed order");
	free(j);
}

static void
test_report(void)
{
	struct rk_event ev;
	struct rk_event_report r = { .reason = "userunknown",
		.hard = 1,
		.action = "failed",
		.feedback_type = NULL };
	char *j;

	rk_event_init(&ev, RK_EVT_BOUNCE_RECEIVED);
	ev.report = &r;
	j = rk_event_json(&ev);
	ok(strstr(j, "\"event\":\"bounce_received\"") != NULL,
	    "bounce_received named");
	ok(strstr(j,
	       "\"report\":{\"reason\":\"userunknown\",\"hard\":true,"
	       "\"action\":\"failed\"") != NULL,
	    "report object with reason and hard");
	ok(strstr(j, "\"to\":[]") != NULL, "unknown recipient: empty list");
	free(j);
	r.hard = -1;
	j = rk_event_json(&ev);
	ok(strstr(j, "\"hard\":null") != NULL, "unknown hardness is null");
	ok(strstr(j, "\"auth\":null") != NULL, "no inbound checks: auth null");
	free(j);
	r.auth = &(const struct rk_event_auth){ .spf = "pass",
		.spf_domain = "mx.example.net",
		.dkim = "none",
		.dmarc = "fail",
		.dmarc_policy = "reject",
		.from_domain = "example.net" };
	j = rk_event_json(&ev);
	ok(strstr(j,
	       "\"auth\":{\"spf\":\"pass\",\"spf_domain\":\"mx.example.net\","
	       "\"dkim\":\"none\",\"dkim_domain\":null,\"dmarc\":\"fail\","
	       "\"dmarc_policy\":\"reject\",\"from_domain\":\"example."
	       "net\"}") != NULL,
	    "inbound checks: the auth object, every key present");
	free(j);
}

static void
test_utf8(void)
{
	static const struct {
		const char *in, *want, *name;
	} cases[] = {
		{ "caf\xc3\xa9", "caf\xc3\xa9", "valid two-byte kept" },
		{ "a\xff"
		  "b",
		    "a\xef\xbf\xbd"
		    "b",
		    "0xff replaced" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "overlong refused" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		    "surrogate refused" },
		{ "x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd",
		    "cut sequence at end" },
		{ "\xf0\x9f\x93\xa7", "\xf0\x9f\x93\xa7", "4-byte kept" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rk_event ev;
		char *j, *p, want[128];

		rk_event_init(&ev, RK_EVT_DEFERRED);
		ev.subject = cases[i].in;
		j = rk_event_json(&ev);
		snprintf(
		    want, sizeof(want), "\"subject\":\"%s\"", cases[i].want);
		p = strstr(j, want);
		ok(p != NULL, "utf-8: %s", cases[i].name);
		free(j);
	}
}

static void
test_ids_and_names(void)
{
	const char *a[] = { "host", "Q1", "x@y", NULL };
	const char *b[] = { "host", "Q1", "x@y", "" };
	const char *c[] = { "host", "Q1x", "@y", "" };
	char ia[RK_EVENT_ID_LEN], ib[RK_EVENT_ID_LEN], ic[RK_EVENT_ID_LEN];
	char t[RK_EVENT_TIME_LEN];

	rk_event_make_id(ia, 4, a);
	rk_event_make_id(ib, 4, b);
	rk_event_make_id(ic, 4, c);
	is_int((long long)strlen(ia), 36, "id is evt_ + 32 hex");
	ok(strncmp(ia, "evt_", 4) == 0, "id prefix");
	is_str(ia, ib, "NULL part counts as empty: same id");
	ok(strcmp(ia, ic) != 0, "parts are delimited: no shifting collisions");
	is_str(rk_event_time(0, t), "1970-01-01T00:00:00.000Z", "epoch");
	is_str(rk_event_time(951782400007LL, t), "2000-02-29T00:00:00.007Z",
	    "leap day, ms padded");
	is_str(rk_event_time(1796015668999LL, t), "2026-11-30T05:14:28.999Z",
	    "every field two digits, ms three");
	is_str(rk_event_time(-5, t), "1970-01-01T00:00:00.000Z",
	    "before the epoch: the epoch");
	is_str(rk_event_time(253402300799000LL, t), "9999-12-31T23:59:59.000Z",
	    "the last four-digit year");
	is_str(rk_event_time(253402300800000LL, t), "10000-01-01T00:00:00.000Z",
	    "a five-digit year is written whole");
	for (int i = 0; i < RK_EVT_NTYPES; i++)
		is_int(rk_event_type_parse(rk_event_type_name(i)), i,
		    "type %s round-trips", rk_event_type_name(i));
	is_int(rk_event_type_parse("sent"), -1, "unknown type name");
	is_str(rk_event_type_name(99), "unknown", "out of range");
}

/*
 * The writer against a JSON parser: random strings with every byte value
 * (controls, quotes, backslashes, UTF-8, broken UTF-8) in every string
 * field come back from jansson as a valid object with the same text
 * (broken sequences as U+FFFD, which is why only valid inputs are
 * compared byte for byte).
 */
static void
test_roundtrip(void)
{
	int bad = 0;

	srand(11);
	for (int round = 0; round < 2000; round++) {
		char s[64];
		size_t n = (size_t)(rand() % 63);
		struct rk_event ev;
		json_error_t jerr;
		json_t *o;
		char *j;
		bool valid = true;

		for (size_t i = 0; i < n; i++) {
			s[i] = (char)(1 + rand() % 255);
			valid &= (unsigned char)s[i] < 0x80;
		}
		s[n] = '\0';
		rk_event_init(&ev, RK_EVT_BOUNCED);
		ev.id = "evt_00112233445566778899aabbccddeeff";
		ev.subject = ev.response = ev.to = s;
		j = rk_event_json(&ev);
		o = json_loads(j, 0, &jerr);
		if (o == NULL ||
		    !json_is_string(json_object_get(o, "subject")) ||
		    (valid &&
		        strcmp(
		            json_string_value(json_object_get(o, "response")),
		            s) != 0))
			bad++;
		json_decref(o);
		free(j);
	}
	is_int(bad, 0,
	    "2000 random strings: jansson reads every event back, "
	    "same text");
}

int
main(void)
{
	test_roundtrip();
	test_delivered();
	test_report();
	test_utf8();
	test_ids_and_names();
	return done_testing();
}
