/* SPDX-License-Identifier: MIT */
/*
 * ev_dash_auth: the dashboard's login check (see ev_dash.h).  Holds no
 * secret after setup: only digests under a key drawn at start, and the
 * session cookie's value.  Not thread-safe (the HMAC key's context): the
 * loop thread alone uses it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "rk_cfg.h"
#include "rk_hmac.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "ev_dash.h"

#define COOKIE      "rk_dash"
#define SESSION_TAG "relaykit dashboard session 1"

struct ev_dash_auth {
	struct rk_hmac_key *key; /* random: digests for comparisons */
	bool open;               /* no login configured */
	bool has_basic, has_bearer;
	uint8_t basic[RK_HMAC_SHA256_LEN];   /* of base64("user:password") */
	uint8_t bearer[RK_HMAC_SHA256_LEN];  /* of the token */
	uint8_t session[RK_HMAC_SHA256_LEN]; /* of the cookie's value */
	char cookie[128];                    /* the Set-Cookie value */
};

static void
digest(struct ev_dash_auth *a, const char *s, size_t n, uint8_t *out)
{
	rk_hmac_sha256_k(a->key, s, n, out);
}

static void
setup_basic(struct ev_dash_auth *a, const char *user, const char *pass)
{
	size_t n = rk_size_add(strlen(user), strlen(pass) + 1);
	char *plain = rk_malloc(n + 1);
	unsigned char *b64 = rk_malloc(rk_size_add(n / 3 * 4, 8));
	int len;

	snprintf(plain, n + 1, "%s:%s", user, pass);
	len = EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)n);
	digest(a, (const char *)b64, (size_t)len, a->basic);
	rk_memzero(plain, n);
	rk_memzero(b64, (size_t)len);
	free(plain);
	free(b64);
	a->has_basic = true;
}

static void
setup_bearer(struct ev_dash_auth *a, const char *token)
{
	uint8_t mac[RK_HMAC_SHA256_LEN];
	char hex[2 * RK_HMAC_SHA256_LEN + 1];

	digest(a, token, strlen(token), a->bearer);
	/* the cookie: an HMAC of a fixed text under the token, so it changes
	   when the token does and never reveals it */
	rk_hmac_sha256(
	    token, strlen(token), SESSION_TAG, strlen(SESSION_TAG), mac);
	rk_hex_encode(mac, sizeof(mac), hex);
	digest(a, hex, strlen(hex), a->session);
	snprintf(a->cookie, sizeof(a->cookie),
	    COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", hex);
	rk_memzero(mac, sizeof(mac));
	rk_memzero(hex, sizeof(hex));
	a->has_bearer = true;
}

struct ev_dash_auth *
ev_dash_auth_new(const struct rk_cfg_dashboard *c)
{
	struct ev_dash_auth *a = rk_calloc(1, sizeof(*a));
	uint8_t k[32];

	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		rk_log_fatal("getrandom");
	a->key = rk_hmac_key_new(k, sizeof(k));
	rk_memzero(k, sizeof(k));
	if (c->auth.username != NULL && c->auth.password != NULL)
		setup_basic(a, c->auth.username, c->auth.password);
	if (c->auth.bearerToken != NULL)
		setup_bearer(a, c->auth.bearerToken);
	a->open = !a->has_basic && !a->has_bearer;
	return a;
}

void
ev_dash_auth_free(struct ev_dash_auth *a)
{
	if (a == NULL)
		return;
	rk_hmac_key_free(a->key);
	rk_memzero(a, sizeof(*a));
	free(a);
}

/* s's digest equals want's, in time that does not depend on s. */
static bool
matches(struct ev_dash_auth *a, const char *s, size_t n, const uint8_t *want)
{
	uint8_t got[RK_HMAC_SHA256_LEN];
	bool eq;

	digest(a, s, n, got);
	eq = rk_ct_equal(got, want, sizeof(got));
	rk_memzero(got, sizeof(got));
	return eq;
}

/* The credentials after "Scheme " (case-insensitive), or NULL. */
static const char *
after_scheme(const char *h, const char *scheme)
{
	size_t n = strlen(scheme);

	if (h == NULL || strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
		return NULL;
	h += n;
	while (*h == ' ')
		h++;
	return h;
}

/* The value of the cookie named COOKIE in a Cookie header; its length in
 *n. */
static const char *
cookie_value(const char *h, size_t *n)
{
	const size_t cl = strlen(COOKIE);

	while (h != NULL && *h != '\0') {
		h += strspn(h, " ;");
		if (strncmp(h, COOKIE "=", cl + 1) == 0) {
			h += cl + 1;
			*n = strcspn(h, ";");
			return h;
		}
		h = strchr(h, ';');
	}
	return NULL;
}

enum ev_dash_login
ev_dash_auth_check(struct ev_dash_auth *a, const char *authorization,
    const char *cookie, const char *token)
{
	const char *v;
	size_t n;

	if (a->open)
		return EV_DASH_ALLOWED;
	if (a->has_basic && (v = after_scheme(authorization, "Basic")) &&
	    matches(a, v, strlen(v), a->basic))
		return EV_DASH_ALLOWED;
	if (!a->has_bearer)
		return EV_DASH_DENIED;
	if ((v = after_scheme(authorization, "Bearer")) &&
	    matches(a, v, strlen(v), a->bearer))
		return EV_DASH_ALLOWED;
	if ((v = cookie_value(cookie, &n)) && matches(a, v, n, a->session))
		return EV_DASH_ALLOWED;
	if (token != NULL && matches(a, token, strlen(token), a->bearer))
		return EV_DASH_TOKEN;
	return EV_DASH_DENIED;
}

const char *
ev_dash_auth_cookie(const struct ev_dash_auth *a)
{
	return a->cookie;
}

const char *
ev_dash_auth_challenge(const struct ev_dash_auth *a)
{
	return a->has_basic ? "Basic realm=\"relaykit dashboard\", "
	                      "charset=\"UTF-8\""
	                    : "Bearer realm=\"relaykit dashboard\"";
}
