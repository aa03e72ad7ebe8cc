/* SPDX-License-Identifier: MIT */
/*
 * rk_mime: a tolerant MIME reader for mail that comes back from the
 * internet (bounces, feedback reports): headers unfolded, multipart split,
 * message/rfc822 and text/rfc822-headers parsed as embedded messages,
 * quoted-printable and base64 undone, text parts converted to UTF-8 with
 * iconv(3), RFC 2047 encoded words decoded on request.  CRLF, LF and lone
 * CR line endings are all read as LF.
 *
 * Non-goals: writing MIME, S/MIME, message/partial reassembly, strict
 * validation.  Broken input is read as well as it can be, never refused:
 * a multipart without its boundary becomes a text part, an unknown
 * charset keeps its bytes.
 *
 * Limits: input beyond RK_MIME_MAX_INPUT is ignored, nesting stops at
 * RK_MIME_MAX_DEPTH, a message has at most RK_MIME_MAX_PARTS parts and a
 * part at most RK_MIME_MAX_HEADERS header fields.
 *
 * Pure functions of their input, no I/O; thread-safe (iconv handles are
 * opened per call).  A tree is owned by its root: free it with
 * rk_mime_free.
 */
#ifndef RK_MIME_H
#define RK_MIME_H

#include <stdbool.h>
#include <stddef.h>

#define RK_MIME_MAX_INPUT   (16u << 20)
#define RK_MIME_MAX_DEPTH   12
#define RK_MIME_MAX_PARTS   256
#define RK_MIME_MAX_HEADERS 1000

struct rk_mime_header {
	char *name;  /* as written */
	char *value; /* unfolded, surrounding space trimmed, not decoded */
};

struct rk_mime_part {
	struct rk_mime_header *hdrs;
	size_t nhdrs;
	char type[80];   /* "text/plain", lower case; the default if none */
	char *charset;   /* lower case, or NULL */
	char *boundary;  /* multipart only, or NULL */
	char *params;    /* the Content-Type parameters, lower case, or NULL */
	char *body;      /* decoded; UTF-8 for text/ parts; NUL-terminated */
	size_t body_len; /* bytes in body */
	bool headers_only;           /* text/rfc822-headers: no body */
	struct rk_mime_part **kids;  /* multipart parts, or the message */
	size_t nkids;                /* of message/rfc822 */
	struct rk_mime_part *parent; /* NULL for the root */
};

/*
 * Reads a whole message (len bytes, need not be NUL-terminated).  Never
 * fails: any input gives a tree.  Caller frees with rk_mime_free.
 */
struct rk_mime_part *rk_mime_parse(const char *buf, size_t len);
/* Accepts NULL. */
void rk_mime_free(struct rk_mime_part *p);

/* The first header field called name (any case), or NULL.  Borrowed. */
const char *rk_mime_header(const struct rk_mime_part *p, const char *name);

/*
 * The value of Content-Type parameter name in params ("charset"), or NULL
 * (caller frees with free(3)).  Quotes are removed.
 */
char *rk_mime_param(const char *params, const char *name);

/*
 * A header value with RFC 2047 encoded words decoded to UTF-8 (Q and B,
 * any charset iconv knows; undecodable words are kept as written).
 * Caller frees with free(3).
 */
char *rk_mime_decode_words(const char *value);

/*
 * len bytes in charset converted to UTF-8 (invalid sequences kept as
 * they are, so nothing is lost); NULL or an unknown charset copies.
 * Always NUL-terminated; *outlen (if not NULL) gets the length.  Caller
 * frees with free(3).
 */
char *rk_mime_to_utf8(
    const char *charset, const char *buf, size_t len, size_t *outlen);

/* Transfer decodings into a new buffer; caller frees with free(3). */
char *rk_mime_qp_decode(const char *buf, size_t len, size_t *outlen);
char *rk_mime_b64_decode(const char *buf, size_t len, size_t *outlen);

/*
 * The line-ending normalisation rk_mime_parse applies: CRLF and lone CR
 * become LF.  Caller frees with free(3).
 */
char *rk_mime_lf(const char *buf, size_t len, size_t *outlen);

/*
 * Depth-first walk: calls fn for every part (root first); stops when fn
 * returns false.
 */
void rk_mime_walk(const struct rk_mime_part *root,
    bool (*fn)(const struct rk_mime_part *p, void *arg), void *arg);

#endif
