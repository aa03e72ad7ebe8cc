/* SPDX-License-Identifier: MIT */
/*
 * rk_hmac: thin wrappers over OpenSSL so no caller hand-writes crypto or
 * compares MACs with memcmp.
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "rk_hmac.h"
#include "rk_log.h"

void
rk_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    uint8_t out[RK_HMAC_SHA256_LEN])
{
	static const uint8_t empty[1];
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		rk_panic("rk_hmac_sha256: key of %zu bytes", keylen);
	if (HMAC(EVP_sha256(), keylen ? key : empty, (int)keylen,
	        len ? data : empty, len, out, &outlen) == NULL ||
	    outlen != RK_HMAC_SHA256_LEN)
		rk_panic("rk_hmac_sha256: OpenSSL HMAC failed");
}

struct rk_hmac_key {
	EVP_MAC_CTX *ctx; /* keyed; EVP_MAC_init with no key starts again */
};

struct rk_hmac_key *
rk_hmac_key_new(const void *key, size_t keylen)
{
	static const uint8_t empty[1];
	struct rk_hmac_key *k = calloc(1, sizeof(*k));
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (k == NULL || mac == NULL ||
	    (k->ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(k->ctx, keylen ? key : empty, keylen, params) != 1)
		rk_panic("rk_hmac_key_new: OpenSSL HMAC failed");
	EVP_MAC_free(mac);
	return k;
}

void
rk_hmac_key_free(struct rk_hmac_key *k)
{
	if (k == NULL)
		return;
	EVP_MAC_CTX_free(k->ctx);
	free(k);
}

void
rk_hmac_sha256_k(struct rk_hmac_key *k, const void *data, size_t len,
    uint8_t out[RK_HMAC_SHA256_LEN])
{
	size_t outlen = 0;

	if (EVP_MAC_init(k->ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(k->ctx, data, len) != 1 ||
	    EVP_MAC_final(k->ctx, out, &outlen, RK_HMAC_SHA256_LEN) != 1 ||
	    outlen != RK_HMAC_SHA256_LEN)
		rk_panic("rk_hmac_sha256_k: OpenSSL HMAC failed");
}

bool
rk_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

char *
rk_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
	return out;
}
