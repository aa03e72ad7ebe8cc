/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_sockmap.c: libFuzzer target for the socketmap protocol
 * (policyd/pd_sockmap_proto.c) and the pacing decisions it feeds
 * (lib/rk_pace.c).  Parses the input as a connection's byte stream; for
 * each request takes the key's domain, finds its destination under a
 * fixed configuration, picks a tier, and formats a reply.  Checks: the
 * slices lie inside the netstring, nothing is consumed past the input,
 * a reply parses back as one netstring of its own length.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_pace.h"
#include "pd_sockmap.h"
#include "fuzz.h"

static struct rk_cfg *cfg;

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_sockmap: %s\n", what);
	abort();
}

static void
setup(void)
{
	static const char yaml[] =
	    "adaptiveRate:\n"
	    "  enabled: true\n"
	    "  domains:\n"
	    "    gmail.com: {members: [googlemail.com], minDelay: 15s,\n"
	    "                maxDelay: 120s, initialDelay: 20s}\n"
	    "    yahoo.com: {enabled: false}\n";
	struct rk_cfg_diag dg;

	cfg = rk_cfg_load_buf(
	    "fuzz.yaml", NULL, yaml, sizeof(yaml) - 1, RK_CFG_NO_FILES, &dg);
	require(cfg != NULL, "config");
}

static void
decide(struct pd_sm_str key)
{
	const struct rk_cfg_adaptive_rate *ar = &cfg->adaptiveRate;
	struct pd_sm_str dom;
	struct rk_pace_dest d;
	struct rk_buf b;
	struct pd_sm_req back;
	struct rk_err err;
	char tr[64], text[400];

	rk_buf_init(&b);
	if (pd_sockmap_domain(key, &dom) &&
	    rk_pace_find(cfg, dom.p, dom.len, &d)) {
		size_t t = rk_pace_tier(ar->tiers, ar->ntiers,
		    d.cfg->initialDelay, d.cfg->minDelay);

		require(t < ar->ntiers, "tier in range");
		require(ar->tiers[t] >= d.cfg->minDelay || t + 1 == ar->ntiers,
		    "never faster than minDelay");
		require(strlen(d.name) > 0 && strlen(d.name) < sizeof(d.name),
		    "destination name");
		rk_pace_transport(ar->tiers[t], tr, sizeof(tr));
		snprintf(text, sizeof(text), "%s:", tr);
		pd_sockmap_reply(&b, "OK", text);
	} else {
		snprintf(text, sizeof(text), "%.*s",
		    (int)(key.len < 300 ? key.len : 300), key.p);
		pd_sockmap_reply(&b, "PERM", text); /* echo: any bytes */
	}
	require(pd_sockmap_parse(b.data, b.len, &back, &err) == PD_SM_OK,
	    "a reply is a netstring");
	require(back.consumed == b.len, "of its own length");
	rk_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;

	if (cfg == NULL)
		setup();
	while (off < size) {
		struct pd_sm_req req;
		struct rk_err err;
		enum pd_sm_parse r =
		    pd_sockmap_parse(buf + off, size - off, &req, &err);

		if (r != PD_SM_OK)
			break;
		require(req.consumed > 0 && req.consumed <= size - off,
		    "consumed within the input");
		require(req.key.p >= buf + off &&
		        req.key.p + req.key.len <= buf + off + req.consumed,
		    "key inside");
		require(req.name.len == 0 ||
		        memchr(req.name.p, ' ', req.name.len) == NULL,
		    "no space in a name");
		decide(req.key);
		off += req.consumed;
	}
	return 0;
}
