/* SPDX-License-Identifier: MIT */
/*
 * mlt_keys: the DKIM private keys the config names, parsed once into
 * EVP_PKEY at load so that signing a message never touches a PEM file.
 *
 * A struct mlt_keys is immutable once loaded and shared read-only by
 * every connection thread (OpenSSL allows concurrent signing with one
 * EVP_PKEY).  It borrows domain names from the config it was built from,
 * so it must not outlive it: struct mlt_state (milter.h) holds both.
 */
#ifndef MLT_KEYS_H
#define MLT_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "rk_cfg.h"
#include "rk_str.h"

#include "mlt_dkim.h"

struct mlt_signer {
	enum mlt_alg alg;
	char *selector; /* borrowed from the config */
	char *path;     /* owned */
	EVP_PKEY *key;  /* owned */
};

struct mlt_domain {
	const char *name; /* borrowed from the config */
	bool subdomains;
	struct mlt_signer *signers; /* owned */
	size_t nsigners;
};

struct mlt_keys {
	struct mlt_domain *domains;
	size_t ndomains;
};

/*
 * Loads every key cfg names (none when dkim.enabled is false).  A key
 * that cannot be read, is world-readable, or is not of its algorithm is
 * logged (one line each) and the whole load fails: returns NULL and err
 * says how many failed.  Caller frees with mlt_keys_free.
 */
struct mlt_keys *mlt_keys_load(const struct rk_cfg *cfg, struct rk_err *err);
void mlt_keys_free(struct mlt_keys *keys);

/* The domain that signs for from_domain (exact match first), or NULL. */
const struct mlt_domain *mlt_keys_find(
    const struct mlt_keys *keys, const char *from_domain);

/* Loads one PEM private key; returns NULL with err filled. */
EVP_PKEY *mlt_key_read(const char *path, enum mlt_alg alg, struct rk_err *err);

#endif
