/* SPDX-License-Identifier: MIT */
/*
 * keygen.h: relaykit-keygen's private interface.
 *
 * kg_key.c makes and writes DKIM private keys (OpenSSL 3 EVP); kg_txt.c
 * prints the TXT record in zone-file, plain or JSON form.  What
 * relaykit-dnsctl needs too (the keys a relaykit.yaml implies, reading a
 * key, its public half, the TXT name and value) is in lib/rk_dkimkey.
 *
 * Single-threaded command-line tool.  EVP_PKEY pointers are freed by the
 * caller with EVP_PKEY_free.
 */
#ifndef KEYGEN_H
#define KEYGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "rk_cfg.h"
#include "rk_dkimkey.h"
#include "rk_str.h"

#define KG_DEFAULT_KEYDIR "/var/lib/relaykit/dkim"
#define KG_DEFAULT_BITS   2048

/* ------------------------------------------------------------ kg_key.c */

/* true for 1024, 2048, 3072, 4096. */
bool kg_bits_ok(long bits);
/* Accepts rsa, rsa-sha256, ed25519, ed25519-sha256; 0 or -1. */
int kg_alg_parse(const char *s, int *alg);

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

/*
 * Output of n records.  Zone: one record per key, its value split into
 * character-strings of at most 255 bytes (RFC 1035 3.3).  Text: the value,
 * one line per key.  JSON: one array, one object per key.
 */
void kg_txt_print(FILE *fp, int fmt, const struct kg_record *recs, size_t n);

#endif
