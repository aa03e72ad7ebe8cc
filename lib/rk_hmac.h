/* SPDX-License-Identifier: MIT */
/*
 * rk_hmac: HMAC-SHA256 (OpenSSL) and constant-time comparison, for VERP
 * tokens and webhook signatures.  Thread-safe; no allocation visible to the
 * caller.
 */
#ifndef RK_HMAC_H
#define RK_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RK_HMAC_SHA256_LEN 32

/* out receives 32 bytes.  key may be empty (keylen 0), data may be NULL if len
 * is 0. */
void rk_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, uint8_t out[RK_HMAC_SHA256_LEN]);

/*
 * A key made ready once, for many messages: HMAC-SHA256 without fetching
 * the digest and hashing the key again each time (a third of the work for
 * a short message).  One thread at a time per key.
 */
struct rk_hmac_key;
struct rk_hmac_key *rk_hmac_key_new(const void *key, size_t keylen);
void rk_hmac_key_free(struct rk_hmac_key *k);
void rk_hmac_sha256_k(struct rk_hmac_key *k, const void *data, size_t len,
    uint8_t out[RK_HMAC_SHA256_LEN]);

/*
 * true if the n bytes at a and b are equal; the time taken depends on n
 * only, never on where they differ.
 */
bool rk_ct_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of n bytes into out (2n + 1 bytes); returns out. */
char *rk_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
