/* SPDX-License-Identifier: MIT */
/* HMAC-SHA256 against the RFC 4231 test vectors; constant-time compare. */
#include "config.h"

#include <string.h>

#include "rk_hmac.h"
#include "tap.h"

static const struct {
	const char *name;
	const char *key_hex;
	const char *data;
	const char *mac_hex;
} vectors[] = {
	{ "RFC 4231 case 1: 20-byte key",
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff"
	    "7" },
	{ "RFC 4231 case 2: short key", "4a656665",
	    "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384"
	    "3" },
	{ "RFC 4231 case 6: key longer than the block",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaa",
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f5"
	    "4" },
	{ "empty key and empty data", "", "",
	    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5a"
	    "d" },
};

static size_t
unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	return n;
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned char key[256];
		uint8_t mac[RK_HMAC_SHA256_LEN];
		char hex[2 * RK_HMAC_SHA256_LEN + 1];
		size_t klen = unhex(vectors[i].key_hex, key);

		rk_hmac_sha256(
		    key, klen, vectors[i].data, strlen(vectors[i].data), mac);
		is_str(rk_hex_encode(mac, sizeof(mac), hex), vectors[i].mac_hex,
		    "%s", vectors[i].name);
		{
			/* a prepared key, used twice: the same answer */
			struct rk_hmac_key *k = rk_hmac_key_new(key, klen);

			for (int round = 1; round <= 2; round++) {
				memset(mac, 0, sizeof(mac));
				rk_hmac_sha256_k(k, vectors[i].data,
				    strlen(vectors[i].data), mac);
				is_str(rk_hex_encode(mac, sizeof(mac), hex),
				    vectors[i].mac_hex, "%s: prepared key, %d",
				    vectors[i].name, round);
			}
			rk_hmac_key_free(k);
		}
	}

	{
		uint8_t a[32], b[32];

		memset(a, 0x5a, sizeof(a));
		memcpy(b, a, sizeof(b));
		ok(rk_ct_equal(a, b, sizeof(a)), "equal buffers compare equal");
		b[31] ^= 1;
		ok(!rk_ct_equal(a, b, sizeof(a)), "last byte differs");
		b[31] ^= 1;
		b[0] ^= 0x80;
		ok(!rk_ct_equal(a, b, sizeof(a)), "first byte differs");
		ok(rk_ct_equal(a, b, 0), "zero-length compare is equal");
	}
	return done_testing();
}
