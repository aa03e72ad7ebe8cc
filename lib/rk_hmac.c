/* SPDX-License-Identifier: MIT */
/*
 * rk_hmac: thin wrappers over OpenSSL so no caller hand-writes crypto or
 * compares MACs with memcmp.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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
