/* SPDX-License-Identifier: MIT */
/*
 * keygen.h: relaykit-keygen's private interface.
 *
 * kg_key.c makes, writes and reads DKIM private keys (OpenSSL 3 EVP) and
 * derives the public half DNS publishes; kg_txt.c turns that into the TXT
 * record in zone-file, plain or JSON form; kg_plan.c lists the keys a
 * relaykit.yaml implies, with the file each one lives in.
 *
 * Single-threaded command-line tool.  Strings in a struct kg_spec are
 * owned by it (kg_spec_clear); EVP_PKEY pointers are freed by the caller
 * with EVP_PKEY_free.
 */
#ifndef KEYGEN_H
#define KEYGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "rk_cfg.h"
#include "rk_str.h"

#define KG_DEFAULT_KEYDIR "/var/lib/relaykit/dkim"
#define KG_DEFAULT_BITS   2048

/* DKIM key types; the values match enum rk_cfg_dkim_alg. */
enum kg_alg {
	KG_RSA = RK_DKIM_RSA_SHA256,
	KG_ED25519 = RK_DKIM_ED25519_SHA256,
};

/* One key: where it lives and what it publishes. */
struct kg_spec {
	char *domain;   /* normalised */
	char *selector; /* checked with kg_selector_check */
	int alg;        /* enum kg_alg */
	int bits;       /* rsa only */
	char *path;     /* the PEM file */
};

void kg_spec_clear(struct kg_spec *s);

/* ------------------------------------------------------------ kg_key.c */

/* true for 1024, 2048, 3072, 4096. */
bool kg_bits_ok(long bits);
/* "rsa" / "ed25519" (the DNS k= tag); and the config's names. */
const char *kg_alg_tag(int alg);
const char *kg_alg_name(int alg);
/* Accepts rsa, rsa-sha256, ed25519, ed25519-sha256; 0 or -1. */
int kg_alg_parse(const char *s, int *alg);

/*
 * Checks a DKIM selector (RFC 6376 3.1: dot-separated LDH labels).  It
 * names a file, so this also keeps it inside the key folder.
 */
int kg_selector_check(const char *s, struct rk_err *err);

/* A new key; caller frees with EVP_PKEY_free.  NULL and err on failure. */
EVP_PKEY *kg_key_generate(int alg, int bits, struct rk_err *err);

enum kg_write {
	KG_WRITE_OK,
	KG_WRITE_EXISTS, /* path exists and force was false */
	KG_WRITE_ERROR,
};

/*
 * Writes key as a PKCS#8 PEM file at path, mode 0600, atomically: a temp
 * file in the same folder, fsync, then link (no overwrite) or rename
 * (force), then fsync of the folder.  Missing folders are created 0700.
 */
enum kg_write kg_key_write(
    const char *path, EVP_PKEY *key, bool force, struct rk_err *err);

/* Reads a PEM private key; caller frees with EVP_PKEY_free. */
EVP_PKEY *kg_key_read(const char *path, struct rk_err *err);

/* The key's enum kg_alg and (rsa) bits; -1 for a type DKIM has no use for. */
int kg_key_alg(EVP_PKEY *key, int *bits);

/*
 * The DNS p= value: base64 of the SubjectPublicKeyInfo DER (rsa, RFC 6376
 * 3.6.1) or of the raw 32-byte public key (ed25519, RFC 8463 4.2).
 * Caller frees with free(3).
 */
char *kg_key_public_b64(EVP_PKEY *key, struct rk_err *err);

/* Creates every missing folder of path's parent, mode 0700. */
int kg_mkdir_parents(const char *path, struct rk_err *err);

/* ------------------------------------------------------------ kg_txt.c */

enum kg_format {
	KG_FMT_ZONE,
	KG_FMT_TEXT,
	KG_FMT_JSON,
};

int kg_format_parse(const char *s, int *fmt);

/* One published key. */
struct kg_record {
	const char *domain;
	const char *selector;
	int alg;
	char *pub_b64; /* p=; freed by whoever filled the record */
	const char *path;
};

/* "v=DKIM1; k=rsa; p=…"; caller frees with free(3). */
char *kg_txt_value(int alg, const char *pub_b64);
/* "<selector>._domainkey.<domain>" (no trailing dot); caller frees. */
char *kg_txt_name(const char *domain, const char *selector);

/*
 * Output of n records.  Zone: one record per key, its value split into
 * character-strings of at most 255 bytes (RFC 1035 3.3).  Text: the value,
 * one line per key.  JSON: one array, one object per key.
 */
void kg_txt_print(FILE *fp, int fmt, const struct kg_record *recs, size_t n);

/* ----------------------------------------------------------- kg_plan.c */

/* The default key file: <keydir>/<domain>/<selector>.pem; caller frees. */
char *kg_default_path(
    const char *keydir, const char *domain, const char *selector);

/*
 * Every key cfg implies: for each mail.domains[] entry, its keys[] or
 * else dkimSelector / ed25519Selector as dkim.algorithm asks.  Fills
 * *out (caller frees each with kg_spec_clear, then the array) and *n.
 * A selector that cannot name a file is an error (-1, err).
 */
int kg_plan(const struct rk_cfg *cfg, struct kg_spec **out, size_t *n,
    struct rk_err *err);

#endif
