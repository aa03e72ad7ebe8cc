/* SPDX-License-Identifier: MIT */
/*
 * rk_verp: the token layout and checks described in rk_verp.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rk_addr.h"
#include "rk_hmac.h"
#include "rk_verp.h"

#define LOCAL_MAX       64
#define HEAD_LEN        (1 + 4 + RK_VERP_MAC_LEN) /* flags, minutes, MAC */
#define FUTURE_SLACK_S  600
#define TOKEN_BYTES_MAX 64

enum {
	F_RAW = 0,
	F_UUID_LOWER = 1,
	F_UUID_UPPER = 2,
	F_REF = 3,
};

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static size_t
b32_encode(const uint8_t *in, size_t n, char *out)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Strict: canonical length, zero padding bits; -1 if not base32. */
static int
b32_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b32_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}

static bool
prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 24)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789!#$%&'*+-/=?^_`{|}~.",
		        p[i]) == NULL)
			return false;
	return true;
}

static void
compute_mac(const struct rk_verp_opts *o, const char *domain, size_t dlen,
    const uint8_t *tok, size_t toklen, uint8_t mac[RK_VERP_MAC_LEN])
{
	uint8_t buf[8 + RK_ADDR_DOMAIN_MAX + 1 + TOKEN_BYTES_MAX];
	uint8_t full[RK_HMAC_SHA256_LEN];
	size_t n = 0;

	memcpy(buf, "rk-verp1", 8);
	n = 8;
	for (size_t i = 0; i < dlen; i++)
		buf[n++] = (uint8_t)rk_ascii_lower(domain[i]);
	buf[n++] = 0;
	buf[n++] = tok[0];           /* flags */
	memcpy(buf + n, tok + 1, 4); /* minutes */
	n += 4;
	memcpy(buf + n, tok + HEAD_LEN, toklen - HEAD_LEN); /* payload */
	n += toklen - HEAD_LEN;
	rk_hmac_sha256(o->secret, o->secret_len, buf, n, full);
	memcpy(mac, full, RK_VERP_MAC_LEN);
}

static bool
is_uuid(const char *s, size_t n, bool upper)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-'
		         : !((c >= '0' && c <= '9') ||
		               (upper ? (c >= 'A' && c <= 'F')
		                      : (c >= 'a' && c <= 'f'))))
			return false;
	}
	return true;
}

static unsigned
hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0')
	                : (unsigned)((c | 0x20) - 'a' + 10);
}

/* A canonical UUID (checked by is_uuid) as its 16 bytes. */
static size_t
uuid_pack(const char *s, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < 36;) {
		if (s[i] == '-') {
			i++;
			continue;
		}
		out[o++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
		i += 2;
	}
	return o;
}

/* flags + payload for id; returns the payload length. */
static size_t
payload(const struct rk_verp_opts *o, const char *id, size_t id_len,
    size_t room, uint8_t *tok, struct rk_verp_encoded *out)
{
	uint8_t *p = tok + HEAD_LEN;
	uint8_t ref[RK_HMAC_SHA256_LEN];

	out->kind = RK_VERP_INLINE;
	if (is_uuid(id, id_len, false) || is_uuid(id, id_len, true)) {
		tok[0] =
		    is_uuid(id, id_len, false) ? F_UUID_LOWER : F_UUID_UPPER;
		return uuid_pack(id, p);
	}
	if (id_len <= room) {
		tok[0] = F_RAW;
		memcpy(p, id, id_len);
		return id_len;
	}
	/* keyed, so nobody can guess the reference of someone else's id */
	rk_hmac_sha256(o->secret, o->secret_len, id, id_len, ref);
	tok[0] = F_REF;
	memcpy(p, ref, RK_VERP_REF_LEN);
	out->kind = RK_VERP_REF;
	rk_hex_encode(ref, RK_VERP_REF_LEN, out->ref_hex);
	return RK_VERP_REF_LEN;
}

int
rk_verp_encode(const struct rk_verp_opts *o, const char *id, size_t id_len,
    const char *domain, time_t now, struct rk_verp_encoded *out,
    struct rk_err *err)
{
	uint8_t tok[TOKEN_BYTES_MAX];
	size_t plen = strlen(o->prefix), dlen = strlen(domain), room, n;
	uint32_t minutes = (uint32_t)(now / 60);
	char chars[2 * TOKEN_BYTES_MAX];

	if (!prefix_ok(o->prefix))
		return rk_err_set(
		    err, "VERP prefix must be 1..24 atext characters");
	if (o->secret_len == 0)
		return rk_err_set(err, "no HMAC secret");
	if (id_len == 0 || id_len > RK_VERP_ID_MAX || memchr(id, 0, id_len))
		return rk_err_set(err,
		    "client id must be 1..%d bytes without NUL",
		    RK_VERP_ID_MAX);
	if (rk_domain_check(domain, dlen, RK_ADDR_UTF8, err) != 0)
		return -1;
	/* base32 carries 5 bits a character */
	room = (LOCAL_MAX - plen) * 5 / 8;
	if (room < HEAD_LEN + RK_VERP_REF_LEN)
		return rk_err_set(
		    err, "VERP prefix leaves no room for a token");
	memset(out, 0, sizeof(*out));
	n = HEAD_LEN + payload(o, id, id_len, room - HEAD_LEN, tok, out);
	tok[1] = (uint8_t)(minutes >> 24);
	tok[2] = (uint8_t)(minutes >> 16);
	tok[3] = (uint8_t)(minutes >> 8);
	tok[4] = (uint8_t)minutes;
	compute_mac(o, domain, dlen, tok, n, tok + 5);
	b32_encode(tok, n, chars);
	snprintf(out->address, sizeof(out->address), "%s%s@%s", o->prefix,
	    chars, domain);
	for (char *d = strchr(out->address, '@'); *d; d++)
		*d = rk_ascii_lower(*d);
	return 0;
}

static void
uuid_unpack(const uint8_t *p, bool upper, char *out)
{
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	const char *digits = upper ? up : lo;
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[p[i] >> 4];
		out[o++] = digits[p[i] & 15];
	}
	out[o] = '\0';
}

static enum rk_verp_status
fill(const uint8_t *tok, size_t n, struct rk_verp_decoded *out)
{
	const uint8_t *p = tok + HEAD_LEN;
	size_t plen = n - HEAD_LEN;

	memset(out, 0, sizeof(*out));
	out->stamped =
	    (time_t)(((uint32_t)tok[1] << 24 | (uint32_t)tok[2] << 16 |
	                 (uint32_t)tok[3] << 8 | tok[4]) *
	        60ULL);
	switch (tok[0]) {
	case F_RAW:
		if (plen == 0 || memchr(p, 0, plen) != NULL)
			return RK_VERP_MALFORMED;
		memcpy(out->id, p, plen);
		return RK_VERP_OK;
	case F_UUID_LOWER:
	case F_UUID_UPPER:
		if (plen != 16)
			return RK_VERP_MALFORMED;
		uuid_unpack(p, tok[0] == F_UUID_UPPER, out->id);
		return RK_VERP_OK;
	case F_REF:
		if (plen != RK_VERP_REF_LEN)
			return RK_VERP_MALFORMED;
		out->kind = RK_VERP_REF;
		rk_hex_encode(p, RK_VERP_REF_LEN, out->ref_hex);
		return RK_VERP_OK;
	default:
		return RK_VERP_MALFORMED;
	}
}

enum rk_verp_status
rk_verp_decode(const struct rk_verp_opts *o, const char *address, size_t len,
    time_t now, struct rk_verp_decoded *out)
{
	const char *at = NULL;
	size_t plen = strlen(o->prefix), llen, toklen;
	uint8_t tok[TOKEN_BYTES_MAX], mac[RK_VERP_MAC_LEN];
	enum rk_verp_status st;

	for (size_t i = 0; i < len; i++)
		if (address[i] == '@')
			at = address + i;
	if (at == NULL)
		return RK_VERP_NOT_VERP;
	llen = (size_t)(at - address);
	if (llen < plen || !rk_mem_case_eq(address, o->prefix, plen))
		return RK_VERP_NOT_VERP;
	if (llen > LOCAL_MAX || len - llen - 1 > RK_ADDR_DOMAIN_MAX ||
	    b32_decode(
	        address + plen, llen - plen, tok, sizeof(tok), &toklen) != 0 ||
	    toklen <= HEAD_LEN)
		return RK_VERP_MALFORMED;
	compute_mac(o, at + 1, len - llen - 1, tok, toklen, mac);
	if (!rk_ct_equal(mac, tok + 5, RK_VERP_MAC_LEN))
		return RK_VERP_BAD_MAC;
	st = fill(tok, toklen, out);
	if (st != RK_VERP_OK)
		return st;
	if (out->stamped > now + FUTURE_SLACK_S)
		return RK_VERP_FUTURE;
	if (now - out->stamped > (time_t)o->max_age_s)
		return RK_VERP_EXPIRED;
	return RK_VERP_OK;
}

const char *
rk_verp_status_name(enum rk_verp_status st)
{
	static const char *const names[] = { "ok", "not_verp", "malformed",
		"bad_mac", "expired", "future" };

	return st <= RK_VERP_FUTURE ? names[st] : "unknown";
}
