/* SPDX-License-Identifier: MIT */
/*
 * rk_dkimkey: DKIM keys as the config names them, as files hold them and
 * as DNS publishes them.  See rk_dkimkey.h.
 *
 * The key record parser (rk_dkimkey_txt_match) reads what an arbitrary DNS
 * server returned: it works on a length-bounded copy, caps the input, and
 * decodes base64 with OpenSSL.  No global state; thread-safe.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rk_dkimkey.h"
#include "rk_mem.h"

#define ED25519_RAW  32
#define KEY_TXT_MAX  8192
#define KEY_TAGS_MAX 32
#define SELECTOR_MAX (63 * 4)

void
rk_dkimkey_spec_clear(struct rk_dkimkey_spec *s)
{
	if (s == NULL)
		return;
	free(s->domain);
	free(s->selector);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

void
rk_dkimkey_specs_free(struct rk_dkimkey_spec *specs, size_t n)
{
	for (size_t i = 0; specs != NULL && i < n; i++)
		rk_dkimkey_spec_clear(&specs[i]);
	free(specs);
}

const char *
rk_dkimkey_alg_tag(int alg)
{
	return alg == RK_DKIMKEY_ED25519 ? "ed25519" : "rsa";
}

const char *
rk_dkimkey_alg_name(int alg)
{
	return alg == RK_DKIMKEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

static bool
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
rk_dkimkey_selector_check(const char *s, struct rk_err *err)
{
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > SELECTOR_MAX)
		return rk_err_set(err, "selector must be 1 to 252 characters");
	for (size_t i = 0; i <= total; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return rk_err_set(err,
				    "selector \"%s\": want dot-separated "
				    "letters, digits and inner hyphens",
				    s);
			label = 0;
			continue;
		}
		if (!is_ldh(s[i]))
			return rk_err_set(err,
			    "selector \"%s\": character '%c' not allowed "
			    "(letters, digits, '-' and '.' only)",
			    s, s[i]);
		label++;
	}
	return 0;
}

char *
rk_dkimkey_default_path(
    const char *keydir, const char *domain, const char *selector)
{
	struct rk_buf b;
	size_t len = strlen(keydir);

	/* "/a/b/" and "/a/b" name the same folder. */
	while (len > 1 && keydir[len - 1] == '/')
		len--;
	rk_buf_init(&b);
	rk_buf_printf(&b, "%.*s/%s/%s.pem", (int)len, keydir, domain, selector);
	return rk_buf_steal(&b);
}

/* ------------------------------------------------------------ plan */

static int
plan_add(struct rk_dkimkey_spec **out, size_t *n, const struct rk_cfg *cfg,
    const char *domain, const char *selector, int alg, int bits,
    const char *keyfile, struct rk_err *err)
{
	struct rk_dkimkey_spec *s;
	struct rk_err why;

	if (rk_dkimkey_selector_check(selector, &why) == -1)
		return rk_err_set(err, "%s: %s", domain, why.msg);
	*out = rk_reallocarray(*out, *n + 1, sizeof(**out));
	s = &(*out)[(*n)++];
	s->domain = rk_strdup(domain);
	s->selector = rk_strdup(selector);
	s->alg = alg;
	s->bits = bits;
	s->path = keyfile != NULL
	    ? rk_strdup(keyfile)
	    : rk_dkimkey_default_path(cfg->dkim.keyDir, domain, selector);
	return 0;
}

static int
plan_domain(const struct rk_cfg *cfg, const struct rk_cfg_domain *d,
    struct rk_dkimkey_spec **out, size_t *n, struct rk_err *err)
{
	int alg = cfg->dkim.algorithm, bits = (int)cfg->dkim.keySize;

	for (size_t i = 0; i < d->nkeys; i++) {
		const struct rk_cfg_dkim_key *k = &d->keys[i];

		if (plan_add(out, n, cfg, d->name, k->selector, k->algorithm,
		        (int)k->keySize, k->keyFile, err) == -1)
			return -1;
	}
	if (d->nkeys > 0)
		return 0;
	if (alg == RK_DKIM_RSA_SHA256 || alg == RK_DKIM_BOTH)
		if (plan_add(out, n, cfg, d->name, d->dkimSelector,
		        RK_DKIMKEY_RSA, bits, NULL, err) == -1)
			return -1;
	if (alg == RK_DKIM_ED25519_SHA256 || alg == RK_DKIM_BOTH)
		if (plan_add(out, n, cfg, d->name, d->ed25519Selector,
		        RK_DKIMKEY_ED25519, 0, NULL, err) == -1)
			return -1;
	return 0;
}

int
rk_dkimkey_plan(const struct rk_cfg *cfg, struct rk_dkimkey_spec **out,
    size_t *n, struct rk_err *err)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < cfg->mail.ndomains; i++) {
		if (plan_domain(cfg, &cfg->mail.domains[i], out, n, err) ==
		    -1) {
			rk_dkimkey_specs_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ keys */

/* The first OpenSSL error queued, for a message; clears the queue. */
const char *
rk_dkimkey_ssl_error(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, n, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

EVP_PKEY *
rk_dkimkey_read(const char *path, struct rk_err *err)
{
	EVP_PKEY *key;
	char ebuf[256];
	BIO *bio = BIO_new_file(path, "r");

	if (bio == NULL) {
		int e = errno;

		ERR_clear_error();
		rk_err_set(err, "%s: %s", path, strerror(e));
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		rk_err_set(err, "%s: not a PEM private key: %s", path,
		    rk_dkimkey_ssl_error(ebuf, sizeof(ebuf)));
	return key;
}

int
rk_dkimkey_alg_of(EVP_PKEY *key, int *bits)
{
	if (EVP_PKEY_is_a(key, "ED25519")) {
		*bits = 0;
		return RK_DKIMKEY_ED25519;
	}
	if (EVP_PKEY_is_a(key, "RSA")) {
		*bits = EVP_PKEY_get_bits(key);
		return RK_DKIMKEY_RSA;
	}
	return -1;
}

static char *
b64(const unsigned char *p, size_t n)
{
	/* EVP_EncodeBlock: 4 output bytes per 3 input, plus a NUL. */
	size_t len = rk_size_add(rk_size_mul((n + 2) / 3, 4), 1);
	char *out = rk_malloc(len);

	if (n > INT_MAX)
		rk_panic("b64: %zu bytes", n);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

char *
rk_dkimkey_public_b64(EVP_PKEY *key, struct rk_err *err)
{
	unsigned char raw[ED25519_RAW], *der = NULL;
	size_t rawlen = sizeof(raw);
	char ebuf[256], *out;
	int bits, derlen;

	switch (rk_dkimkey_alg_of(key, &bits)) {
	case RK_DKIMKEY_ED25519:
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 ||
		    rawlen != ED25519_RAW) {
			rk_err_set(err, "ed25519 public key: %s",
			    rk_dkimkey_ssl_error(ebuf, sizeof(ebuf)));
			return NULL;
		}
		return b64(raw, rawlen);
	case RK_DKIMKEY_RSA:
		derlen = i2d_PUBKEY(key, &der);
		if (derlen <= 0) {
			rk_err_set(err, "rsa public key: %s",
			    rk_dkimkey_ssl_error(ebuf, sizeof(ebuf)));
			return NULL;
		}
		out = b64(der, (size_t)derlen);
		OPENSSL_free(der);
		return out;
	default:
		rk_err_set(err,
		    "key type %s is not a DKIM key type (rsa, ed25519)",
		    EVP_PKEY_get0_type_name(key));
		return NULL;
	}
}

char *
rk_dkimkey_txt_value(int alg, const char *pub_b64)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_printf(
	    &b, "v=DKIM1; k=%s; p=%s", rk_dkimkey_alg_tag(alg), pub_b64);
	return rk_buf_steal(&b);
}

char *
rk_dkimkey_txt_name(const char *domain, const char *selector)
{
	struct rk_buf b;

	rk_buf_init(&b);
	rk_buf_printf(&b, "%s._domainkey.%s", selector, domain);
	return rk_buf_steal(&b);
}

/* ----------------------------------------------- published records */

/* One tag=value of a tag-list (RFC 6376 3.2), as slices of the input. */
struct tag {
	const char *name, *val;
	size_t nlen, vlen;
};

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && is_wsp(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_wsp((*p)[*n - 1]))
		(*n)--;
}

static bool
tag_name_ok(const char *p, size_t n)
{
	if (n == 0 ||
	    !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
		return false;
	/* ALNUMPUNC: letters, digits and '_' (no '-'). */
	for (size_t i = 1; i < n; i++)
		if (p[i] == '-' || !(is_ldh(p[i]) || p[i] == '_'))
			return false;
	return true;
}

/* Splits txt into tags; -1 on a syntax error, a duplicate or too many. */
static int
tags_split(const char *txt, size_t len, struct tag *tags, size_t *ntags,
    struct rk_err *err)
{
	size_t n = 0, off = 0;

	while (off < len) {
		const char *semi = memchr(txt + off, ';', len - off);
		size_t end = semi ? (size_t)(semi - txt) : len;
		const char *p = txt + off, *eq;
		size_t plen = end - off;

		off = end + 1;
		trim(&p, &plen);
		if (plen == 0 && semi == NULL)
			break; /* a trailing ";" */
		eq = memchr(p, '=', plen);
		if (eq == NULL || n == KEY_TAGS_MAX)
			return rk_err_set(err, "not a tag=value list");
		tags[n].name = p;
		tags[n].nlen = (size_t)(eq - p);
		tags[n].val = eq + 1;
		tags[n].vlen = plen - tags[n].nlen - 1;
		trim(&tags[n].name, &tags[n].nlen);
		trim(&tags[n].val, &tags[n].vlen);
		if (!tag_name_ok(tags[n].name, tags[n].nlen))
			return rk_err_set(err, "bad tag name");
		for (size_t i = 0; i < n; i++)
			if (tags[i].nlen == tags[n].nlen &&
			    memcmp(tags[i].name, tags[n].name, tags[n].nlen) ==
			        0)
				return rk_err_set(err, "tag %.*s twice",
				    (int)tags[n].nlen, tags[n].name);
		n++;
	}
	*ntags = n;
	return 0;
}

static const struct tag *
tag_find(const struct tag *tags, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (tags[i].nlen == strlen(name) &&
		    memcmp(tags[i].name, name, tags[i].nlen) == 0)
			return &tags[i];
	return NULL;
}

/*
 * Decodes base64 (whitespace already removed) into a new buffer; NULL for
 * anything that is not base64.  Caller frees.
 */
static unsigned char *
b64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out;
	size_t pad = 0;
	int n;

	if (len == 0 || len % 4 != 0 || len > INT_MAX)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/';

		if (c == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (!alnum || pad > 0)
			return NULL;
	}
	out = rk_malloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n - pad;
	return out;
}

/* The p= value without folding whitespace; caller frees. */
static char *
p_unfold(const struct tag *p)
{
	char *s = rk_malloc(p->vlen + 1);
	size_t n = 0;

	for (size_t i = 0; i < p->vlen; i++)
		if (!is_wsp(p->val[i]))
			s[n++] = p->val[i];
	s[n] = '\0';
	return s;
}

static bool
same_key(const char *published, const char *ours)
{
	size_t alen = 0, blen = 0;
	unsigned char *a = b64_decode(published, strlen(published), &alen);
	unsigned char *b = b64_decode(ours, strlen(ours), &blen);
	bool same =
	    a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;

	free(a);
	free(b);
	return same;
}

static enum rk_dkimkey_match
match_tags(const struct tag *tags, size_t n, int alg, const char *pub_b64,
    struct rk_err *err)
{
	const struct tag *v = tag_find(tags, n, "v");
	const struct tag *k = tag_find(tags, n, "k");
	const struct tag *p = tag_find(tags, n, "p");
	const char *want = rk_dkimkey_alg_tag(alg);
	enum rk_dkimkey_match rc = RK_DKIMKEY_MATCH;
	char *pub;

	if (v != NULL &&
	    (v != &tags[0] || v->vlen != 5 ||
	        memcmp(v->val, "DKIM1", 5) != 0)) {
		rk_err_set(err, "v= must come first and be DKIM1");
		return RK_DKIMKEY_INVALID;
	}
	if (p == NULL) {
		rk_err_set(err, "no p= tag");
		return RK_DKIMKEY_INVALID;
	}
	if (k != NULL
	        ? k->vlen != strlen(want) || memcmp(k->val, want, k->vlen) != 0
	        : alg != RK_DKIMKEY_RSA) {
		rk_err_set(err,
		    "published key type k=%.*s, the key on disk is %s",
		    k ? (int)k->vlen : 3, k ? k->val : "rsa", want);
		return RK_DKIMKEY_MISMATCH;
	}
	pub = p_unfold(p);
	if (pub[0] == '\0') {
		rk_err_set(err, "the key is revoked (empty p=)");
		rc = RK_DKIMKEY_REVOKED;
	} else if (!same_key(pub, pub_b64)) {
		rk_err_set(err, "the published p= is not the key on disk");
		rc = RK_DKIMKEY_MISMATCH;
	}
	free(pub);
	return rc;
}

enum rk_dkimkey_match
rk_dkimkey_txt_match(const char *txt, size_t len, int alg, const char *pub_b64,
    struct rk_err *err)
{
	struct tag tags[KEY_TAGS_MAX];
	size_t n = 0;

	if (len > KEY_TXT_MAX) {
		rk_err_set(err, "record of %zu bytes is too long", len);
		return RK_DKIMKEY_INVALID;
	}
	if (memchr(txt, '\0', len) != NULL) {
		rk_err_set(err, "record holds a NUL byte");
		return RK_DKIMKEY_INVALID;
	}
	if (tags_split(txt, len, tags, &n, err) == -1)
		return RK_DKIMKEY_INVALID;
	return match_tags(tags, n, alg, pub_b64, err);
}
