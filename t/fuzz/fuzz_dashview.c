/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_dashview.c: libFuzzer target for what the dashboard reads
 * from peers: an event of the stream (the page's view of it, masked and
 * not, then counted by the aggregator, whose JSON must read back), the
 * address masker over the raw bytes, and the login check over the input's
 * lines as Authorization, Cookie and token= values.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "rk_cfg.h"
#include "rk_str.h"

#include "ev_dash.h"

#define INPUT_MAX (64 * 1024)

static void
require(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_dashview: %s\n", what);
		abort();
	}
}

static void
check_view(struct ev_dash_agg *agg, const uint8_t *data, size_t size, bool mask)
{
	struct ev_dash_ev *e = ev_dash_view((const char *)data, size, mask);
	json_t *o;

	if (e == NULL)
		return;
	require(strlen(e->response) <= EV_DASH_RESPONSE_MAX, "reply too long");
	require(strlen(e->json) == e->json_len, "json length");
	o = json_loads(e->json, 0, NULL);
	require(o != NULL && json_is_object(o), "the page's JSON reads back");
	require(json_object_get(o, "subject") == NULL, "a subject leaked");
	json_decref(o);
	ev_dash_agg_add(agg, e, 1796015668000LL);
	free(e);
}

static void
check_login(const char *s)
{
	static struct rk_cfg_dashboard c;
	static struct ev_dash_auth *a;
	char *copy = strdup(s), *cookie, *token;

	if (a == NULL) {
		c.auth.username = "ops";
		c.auth.password = "pw";
		c.auth.bearerToken = "tok";
		a = ev_dash_auth_new(&c);
	}
	cookie = strchr(copy, '\n');
	if (cookie != NULL)
		*cookie++ = '\0';
	token = cookie ? strchr(cookie, '\n') : NULL;
	if (token != NULL)
		*token++ = '\0';
	(void)ev_dash_auth_check(a, copy, cookie, token);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_dash_agg
	    *agg; /* one allocation: 160 KB each run is slow under ASan */
	struct rk_buf out;
	char *s;

	if (size > INPUT_MAX)
		return 0;
	if (agg == NULL)
		agg = ev_dash_agg_new();
	ev_dash_agg_reset(agg);
	check_view(agg, data, size, false);
	check_view(agg, data, size, true);
	rk_buf_init(&out);
	ev_dash_agg_json(agg, 1796015668000LL, NULL, NULL, &out);
	{
		json_t *o = json_loads(out.data, 0, NULL);

		require(o != NULL, "the stats JSON reads back");
		json_decref(o);
	}
	rk_buf_free(&out);
	if ((s = fuzz_cstr(data, size, INPUT_MAX)) != NULL) {
		rk_buf_init(&out);
		ev_dash_mask(s, &out);
		rk_buf_free(&out);
		check_login(s);
		free(s);
	}
	return 0;
}
