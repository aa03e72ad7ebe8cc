/* SPDX-License-Identifier: MIT */
/*
 * rk_verp: HMAC-protected VERP return paths.
 *
 *   <prefix><token>@<domain>      e.g. bounce+aeaqcaj3...@example.com
 *
 * The token is lower-case base32 (RFC 4648 alphabet, no padding) of
 *   flags(1) | minutes since the epoch (4, big-endian) | MAC(8) | payload
 * so it survives MTAs that change the case of local parts, uses only
 * characters valid unquoted, and keeps the local part within RFC 5321's
 * 64 octets for any client id.  The payload is the client id itself when
 * it fits, a packed UUID (16 bytes) when the id is one, or else a 10-byte
 * reference under which the caller stores the id in Redis
 * (RK_VERP_REF: the caller does the I/O, so this module stays pure).
 * MAC = the first 8 bytes of HMAC-SHA256(secret, "rk-verp1" | lower-case
 * domain | 0 | flags | minutes | payload): a forged, truncated or
 * re-targeted token fails, compared in constant time.
 *
 * Pure functions of their inputs; thread-safe.
 */
#ifndef RK_VERP_H
#define RK_VERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rk_str.h"

#define RK_VERP_MAC_LEN 8
#define RK_VERP_REF_LEN 10
#define RK_VERP_ID_MAX  1000 /* longer client ids are refused */

struct rk_verp_opts {
	const char *prefix; /* e.g. "bounce+": 1..24 atext characters */
	const void *secret; /* borrowed */
	size_t secret_len;
	uint64_t max_age_s; /* older tokens are RK_VERP_EXPIRED */
};

enum rk_verp_kind {
	RK_VERP_INLINE, /* the id is in the token */
	RK_VERP_REF,    /* the id is in Redis under the reference */
};

/* What encoding made; the caller stores id under ref_hex for RK_VERP_REF. */
struct rk_verp_encoded {
	char address[256 + 1]; /* local part <= 64, whole <= 256 */
	enum rk_verp_kind kind;
	char ref_hex[2 * RK_VERP_REF_LEN + 1]; /* RK_VERP_REF only */
};

enum rk_verp_status {
	RK_VERP_OK,
	RK_VERP_NOT_VERP,  /* no prefix: not one of ours */
	RK_VERP_MALFORMED, /* bad characters, length or layout (truncated) */
	RK_VERP_BAD_MAC,   /* forged, tampered or for another domain */
	RK_VERP_EXPIRED,   /* older than max_age_s */
	RK_VERP_FUTURE,    /* stamped more than 10 minutes ahead */
};

struct rk_verp_decoded {
	enum rk_verp_kind kind;
	char id[RK_VERP_ID_MAX + 1]; /* RK_VERP_INLINE: the client id */
	char ref_hex[2 * RK_VERP_REF_LEN + 1]; /* RK_VERP_REF: Redis key part */
	time_t stamped;                        /* when the token was made */
};

/*
 * Encodes client id (id_len bytes, any bytes but NUL) for domain at time
 * now.  Returns 0, or -1 with err when an input is unusable (empty or
 * over-long id, bad prefix, no secret, domain too long).
 */
int rk_verp_encode(const struct rk_verp_opts *o, const char *id, size_t id_len,
    const char *domain, time_t now, struct rk_verp_encoded *out,
    struct rk_err *err);

/*
 * Decodes address (len bytes; "local@domain", no angle brackets), at time
 * now.  Returns the status; out is filled for RK_VERP_OK only.
 */
enum rk_verp_status rk_verp_decode(const struct rk_verp_opts *o,
    const char *address, size_t len, time_t now, struct rk_verp_decoded *out);

/* "ok", "not_verp", "malformed", "bad_mac", "expired", "future". */
const char *rk_verp_status_name(enum rk_verp_status st);

#endif
