/* SPDX-License-Identifier: MIT */
/*
 * rk_dkimkey: the DKIM keys a relaykit.yaml implies, where they live on
 * disk, and the TXT record that publishes each one (RFC 6376 3.6.1,
 * RFC 8463 4.2).  Shared by relaykit-keygen (which writes the keys) and
 * relaykit-dnsctl (which publishes them and checks what DNS serves).
 *
 * Key files are PEM private keys at <dkim.keyDir>/<domain>/<selector>.pem
 * unless a key names its own keyFile.  Everything here but
 * rk_dkimkey_read is pure; all of it is thread-safe.  EVP_PKEY pointers
 * are freed by the caller with EVP_PKEY_free.
 */
#ifndef RK_DKIMKEY_H
#define RK_DKIMKEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "rk_cfg.h"
#include "rk_str.h"

/* Key types; the values are enum rk_cfg_dkim_alg's. */
enum rk_dkimkey_alg {
	RK_DKIMKEY_RSA = RK_DKIM_RSA_SHA256,
	RK_DKIMKEY_ED25519 = RK_DKIM_ED25519_SHA256,
};

/* One key: where it lives and what it publishes. */
struct rk_dkimkey_spec {
	char *domain;   /* normalised */
	char *selector; /* checked with rk_dkimkey_selector_check */
	int alg;        /* enum rk_dkimkey_alg */
	int bits;       /* rsa only */
	char *path;     /* the PEM file */
};

/* Frees the strings and zeroes s; accepts NULL. */
void rk_dkimkey_spec_clear(struct rk_dkimkey_spec *s);
/* Clears n specs and frees the array; accepts NULL. */
void rk_dkimkey_specs_free(struct rk_dkimkey_spec *specs, size_t n);

/* "rsa" / "ed25519": the k= tag.  "rsa-sha256" / "ed25519-sha256". */
const char *rk_dkimkey_alg_tag(int alg);
const char *rk_dkimkey_alg_name(int alg);

/*
 * Checks a selector (RFC 6376 3.1: dot-separated LDH labels).  It names a
 * file, so this also keeps it inside the key folder.
 */
int rk_dkimkey_selector_check(const char *s, struct rk_err *err);

/* <keydir>/<domain>/<selector>.pem; caller frees. */
char *rk_dkimkey_default_path(
    const char *keydir, const char *domain, const char *selector);

/*
 * Every key cfg implies, in file order: a domain's keys[], or else
 * dkimSelector / ed25519Selector as dkim.algorithm asks.  Fills *out
 * (caller frees with rk_dkimkey_specs_free) and *n.  A selector that
 * cannot name a file is an error (-1, err; nothing to free).
 */
int rk_dkimkey_plan(const struct rk_cfg *cfg, struct rk_dkimkey_spec **out,
    size_t *n, struct rk_err *err);

/* Reads a PEM private key; caller frees with EVP_PKEY_free. */
EVP_PKEY *rk_dkimkey_read(const char *path, struct rk_err *err);

/* The key's enum rk_dkimkey_alg and (rsa) bits; -1 for other types. */
int rk_dkimkey_alg_of(EVP_PKEY *key, int *bits);

/*
 * The p= value: base64 of the SubjectPublicKeyInfo DER (rsa) or of the
 * raw 32-byte public key (ed25519).  Caller frees with free(3).
 */
char *rk_dkimkey_public_b64(EVP_PKEY *key, struct rk_err *err);

/* "v=DKIM1; k=rsa; p=…"; caller frees with free(3). */
char *rk_dkimkey_txt_value(int alg, const char *pub_b64);
/* "<selector>._domainkey.<domain>" (no trailing dot); caller frees. */
char *rk_dkimkey_txt_name(const char *domain, const char *selector);

/* What a published key record says about the key on disk. */
enum rk_dkimkey_match {
	RK_DKIMKEY_MATCH,    /* same key type and public key */
	RK_DKIMKEY_MISMATCH, /* another key (or key type) is published */
	RK_DKIMKEY_REVOKED,  /* p= is empty (RFC 6376 3.6.1) */
	RK_DKIMKEY_INVALID,  /* not a DKIM key record */
};

/*
 * Compares a published key record (the TXT strings joined, len bytes,
 * need not be NUL-terminated) with the key of alg whose p= is pub_b64, as
 * a verifier would read it: tag=value pairs, v= first if present, k=
 * defaulting to rsa, folding whitespace inside p= ignored.  err says why
 * for anything but a match.  Input over 8 KiB is INVALID.
 */
enum rk_dkimkey_match rk_dkimkey_txt_match(const char *txt, size_t len, int alg,
    const char *pub_b64, struct rk_err *err);

/* OpenSSL's oldest queued error as text in buf (size n), the queue
   cleared; "unknown OpenSSL error" when it is empty.  Returns buf. */
const char *rk_dkimkey_ssl_error(char *buf, size_t n);

#endif
