/* SPDX-License-Identifier: MIT */
/*
 * mlt_dkim: DKIM signing (RFC 6376, RFC 8463) as pure functions of bytes:
 * header and body canonicalization, the From header's domain, header
 * selection for h=, and the signature itself through OpenSSL EVP.
 *
 * Non-goals: verification, l=, i=, z=.  No I/O, no globals: every
 * function is thread-safe on its own arguments; a struct mlt_body belongs
 * to one message.  Keys (EVP_PKEY) are borrowed, only read.
 */
#ifndef MLT_DKIM_H
#define MLT_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "rk_str.h"

/* Caps on what one header field may hold; longer input is refused. */
#define MLT_HDR_MAX (256 * 1024)

/* Appends name ":" value CRLF in relaxed or simple form. */
void mlt_canon_header(struct rk_buf *out, bool relaxed, const char *name,
    size_t nlen, const char *value, size_t vlen);

/*
 * Body canonicalization, streamed: feed chunks as they come, then final.
 * Canonical bytes go to emit (in chunks of at most MLT_BODY_OUT), so
 * memory does not grow with the body.  Bare LF counts as a line end.
 */
#define MLT_BODY_OUT 8192
typedef void mlt_emit_fn(void *arg, const char *p, size_t n);
struct mlt_body {
	bool relaxed;
	bool cr;        /* a CR seen, its LF not yet */
	bool wsp;       /* relaxed: whitespace seen, not yet written */
	bool content;   /* the current line has content */
	bool any;       /* anything written */
	uint64_t blank; /* empty lines held back (dropped at the end) */
	uint64_t total; /* canonical bytes emitted */
	mlt_emit_fn *emit;
	void *arg;
	size_t outlen;
	char out[MLT_BODY_OUT];
};
void mlt_body_init(
    struct mlt_body *b, bool relaxed, mlt_emit_fn *emit, void *arg);
void mlt_body_feed(struct mlt_body *b, const char *p, size_t n);
void mlt_body_final(struct mlt_body *b);

/*
 * What Postfix's smtp(8) client does to a line longer than
 * smtp_line_length_limit (after the milter has signed): it sends the
 * first limit bytes, then CRLF and a SPACE, then limit - 1 more bytes,
 * and so on (a line of exactly limit bytes is left alone).  A signature
 * must cover those bytes, not the ones the milter saw, or every verifier
 * fails.  mlt_wrap applies the same breaking, streamed: feed the message
 * bytes (CRLF, or LF, line ends; a lone CR is content), get the bytes
 * Postfix will send.  limit 0: Postfix breaks nothing; bytes pass as is.
 * A limit of 1 counts as 2 (Postfix itself would loop forever on it).
 */
struct mlt_wrap {
	size_t limit;
	size_t space; /* bytes the current output line may still take */
	bool cr;      /* a CR seen, its LF not yet */
	mlt_emit_fn *emit;
	void *arg;
};
/* first_used: bytes of the first line already on the wire (a header's
   "Name:"), counted against the limit. */
void mlt_wrap_init(struct mlt_wrap *w, size_t limit, size_t first_used,
    mlt_emit_fn *emit, void *arg);
void mlt_wrap_feed(struct mlt_wrap *w, const char *p, size_t n);
void mlt_wrap_final(struct mlt_wrap *w);

/*
 * A header field's value as Postfix will send it: name ":" value, each
 * physical line broken at limit.  Returns true and fills out (reset
 * first) when something was broken; false when the value goes out as it
 * is (out untouched).  leadspc: the value holds its leading white space
 * (SMFIP_HDR_LEADSPC); otherwise one space follows the colon.
 */
bool mlt_wrap_header(struct rk_buf *out, size_t limit, const char *name,
    const char *value, size_t vlen, bool leadspc);

/*
 * The domain of the single mailbox in a From header value: "a <x@D>",
 * "x@D", "\"q, x\" <x@D> (c)"...  Writes it lower-cased into dom (size
 * n) and returns 0; -1 when there is no mailbox, more than one, or the
 * domain is not a valid name.
 */
int mlt_from_domain(const char *value, size_t len, char *dom, size_t n);
/* The single mailbox itself, normalised (rk_addr_format); 0 or -1. */
int mlt_from_address(const char *value, size_t len, char *out, size_t n);

/* One header field of the message, as received (value may be folded). */
struct mlt_hdr {
	char *name;
	char *value;
	size_t vlen;
};

/*
 * Appends the canonical header data for the h= list names[0..nnames-1]
 * (each picks the last not yet used field of that name, bottom up; a
 * name with none left adds nothing, which is how oversigning works),
 * then the DKIM-Signature field sigval (b= empty) without its CRLF.
 */
void mlt_dkim_header_data(struct rk_buf *out, bool relaxed,
    const struct mlt_hdr *hdrs, size_t nhdrs, const char *const *names,
    size_t nnames, const char *sigval);

enum mlt_alg {
	MLT_RSA_SHA256,
	MLT_ED25519_SHA256,
};

/*
 * Signs header data: rsa-sha256 signs it directly, ed25519-sha256 signs
 * its SHA-256 (RFC 8463 section 3).  Writes base64 into out (size n).
 * Returns 0 or -1 (an OpenSSL failure; err says which).
 */
int mlt_dkim_sign(EVP_PKEY *key, enum mlt_alg alg, const char *data, size_t len,
    char *out, size_t n, struct rk_err *err);

#endif
