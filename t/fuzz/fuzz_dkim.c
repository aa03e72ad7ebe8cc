/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_dkim.c: libFuzzer target for milter/mlt_dkim.c.  The input
 * is a header block and a body.  Checks: body canonicalization gives the
 * same bytes whatever the chunking and as a slow line-by-line reference,
 * relaxed output has no trailing whitespace or trailing empty line and is a
 * fixed point, header canonicalization ends in CRLF with one ':' and no CR/LF
 * inside, and From parsing yields a lower-case domain without '@'.  The
 * line breaking Postfix's smtp(8) applies (mlt_wrap) gives the same bytes
 * whatever the chunking and as a line-by-line reference, never leaves a
 * line longer than the limit, and only ever inserts CRLF SPACE.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rk_mem.h"
#include "rk_str.h"

#include "../../milter/mlt_dkim.h"

#define INPUT_MAX (256 * 1024)

static void
require(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_dkim: %s\n", what);
	abort();
}

static void
emit_buf(void *arg, const char *p, size_t n)
{
	rk_buf_append(arg, p, n);
}

static void
canon_body(
    struct rk_buf *out, bool relaxed, const char *p, size_t n, size_t chunk)
{
	struct mlt_body *b = rk_malloc(sizeof(*b));

	mlt_body_init(b, relaxed, emit_buf, out);
	for (size_t i = 0; i < n; i += chunk)
		mlt_body_feed(b, p + i, n - i < chunk ? n - i : chunk);
	mlt_body_final(b);
	free(b);
}

/* The RFC's wording done the slow way, line by line, on the whole body:
   what the streaming code must agree with. */
static void
ref_line(struct rk_buf *out, bool relaxed, const char *p, size_t n)
{
	bool wsp = false;

	for (size_t i = 0; i < n; i++) {
		bool w = p[i] == ' ' || p[i] == '\t';

		if (relaxed && w) {
			wsp = true;
			continue;
		}
		if (wsp)
			rk_buf_putc(out, ' ');
		wsp = false;
		rk_buf_putc(out, p[i]);
	}
	rk_buf_append(out, "\r\n", 2);
}

static void
ref_body(struct rk_buf *out, bool relaxed, const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && p[j] != '\n' &&
		    !(p[j] == '\r' && j + 1 < n && p[j + 1] == '\n'))
			j++;
		ref_line(out, relaxed, p + i, j - i);
		i = j >= n ? n : p[j] == '\n' ? j + 1 : j + 2;
	}
	while (out->len >= 4 &&
	    memcmp(out->data + out->len - 4, "\r\n\r\n", 4) == 0)
		out->len -= 2;
	if (out->len == 2 && memcmp(out->data, "\r\n", 2) == 0)
		out->len = 0;
	if (!relaxed && out->len == 0)
		rk_buf_append(out, "\r\n", 2);
}

static void
check_body(const char *p, size_t n, size_t chunk)
{
	for (int relaxed = 0; relaxed <= 1; relaxed++) {
		struct rk_buf a, b, c;

		rk_buf_init(&a);
		rk_buf_init(&b);
		rk_buf_init(&c);
		canon_body(&a, relaxed, p, n, n ? n : 1);
		canon_body(&b, relaxed, p, n, chunk);
		require(a.len == b.len &&
		        (a.len == 0 || memcmp(a.data, b.data, a.len) == 0),
		    "chunking changes the canonical body");
		require(a.len == 0 ||
		        (a.len >= 2 &&
		            memcmp(a.data + a.len - 2, "\r\n", 2) == 0),
		    "canonical body ends in CRLF");
		require(!(a.len >= 4 &&
		            memcmp(a.data + a.len - 4, "\r\n\r\n", 4) == 0),
		    "trailing empty line kept");
		rk_buf_reset(&c);
		ref_body(&c, relaxed, p, n);
		require(c.len == a.len &&
		        (a.len == 0 || memcmp(a.data, c.data, a.len) == 0),
		    "streaming and reference canonicalization differ");
		rk_buf_reset(&c);
		canon_body(&c, relaxed, a.len ? a.data : "", a.len, 7);
		require(c.len == a.len &&
		        (a.len == 0 || memcmp(a.data, c.data, a.len) == 0),
		    "canonicalization is not idempotent");
		if (relaxed)
			for (size_t i = 2; i < a.len; i++)
				require(
				    !(a.data[i] == '\r' &&
				        (a.data[i - 1] == ' ' ||
				            a.data[i - 1] == '\t') &&
				        i + 1 < a.len && a.data[i + 1] == '\n'),
				    "relaxed: whitespace before CRLF");
		rk_buf_free(&a);
		rk_buf_free(&b);
		rk_buf_free(&c);
	}
}

static void
check_header(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t nlen = colon ? (size_t)(colon - p) : 0, start;
	const char *v = colon ? colon + 1 : p + nlen;
	size_t vlen = n - (size_t)(v - p);
	struct rk_buf r;
	char dom[256];

	rk_buf_init(&r);
	mlt_canon_header(&r, true, p, nlen, v, vlen);
	require(r.len >= 3 && memcmp(r.data + r.len - 2, "\r\n", 2) == 0,
	    "header ends in CRLF");
	/* a field name from libmilter has no CR, LF or ':' of its own */
	start = strcspn(r.data, ":") + 1;
	for (size_t i = start; i + 2 < r.len; i++)
		require(r.data[i] != '\r' && r.data[i] != '\n' &&
		        (i == start || r.data[i] != ' ' ||
		            r.data[i - 1] != ' '),
		    "relaxed header: CR/LF or double space inside");
	rk_buf_free(&r);
	rk_buf_init(&r);
	mlt_canon_header(&r, false, p, nlen, v, vlen);
	require(r.len >= nlen + 3, "simple header is never shorter");
	rk_buf_free(&r);
	if (mlt_from_domain(v, vlen, dom, sizeof(dom)) == 0) {
		require(strchr(dom, '@') == NULL && dom[0] != '\0',
		    "From domain empty or with '@'");
		for (const char *d = dom; *d; d++)
			require(
			    *d < 'A' || *d > 'Z', "From domain not lower case");
	}
}

static void
wrap_stream(
    struct rk_buf *out, size_t limit, const char *p, size_t n, size_t chunk)
{
	struct mlt_wrap w;

	mlt_wrap_init(&w, limit, 0, emit_buf, out);
	for (size_t i = 0; i < n; i += chunk)
		mlt_wrap_feed(&w, p + i, n - i < chunk ? n - i : chunk);
	mlt_wrap_final(&w);
}

/* Postfix's loop, one line at a time (lines end at LF; a CR before it
   is part of the line end, any other CR is content): pieces of limit
   bytes, then of limit - 1 after CRLF SPACE. */
static void
wrap_ref(struct rk_buf *out, size_t limit, const char *p, size_t n)
{
	while (n > 0) {
		const char *lf = memchr(p, '\n', n);
		size_t len = lf ? (size_t)(lf - p) : n, end = len,
		       space = limit;
		const char *q = p;

		if (lf != NULL && len > 0 && p[len - 1] == '\r')
			end = len - 1;
		for (size_t left = end; limit > 0 && left > space;) {
			rk_buf_append(out, q, space);
			rk_buf_append(out, "\r\n ", 3);
			q += space;
			left -= space;
			space = limit - 1;
		}
		rk_buf_append(out, q, (size_t)(p + len - q) + (lf != NULL));
		p += len + (lf != NULL);
		n -= len + (lf != NULL);
	}
}

static void
check_wrap(const char *p, size_t n, size_t chunk)
{
	/* 0 (no breaking) or 2..40; mlt_wrap reads 1 as 2 */
	size_t limit = n > 0 ? (unsigned char)p[0] % 41 : 0;
	struct rk_buf a, b, r;
	size_t line = 0;

	if (limit == 1)
		limit = 0;
	rk_buf_init(&a);
	rk_buf_init(&b);
	rk_buf_init(&r);
	wrap_stream(&a, limit, p, n, n ? n : 1);
	wrap_stream(&b, limit, p, n, chunk);
	require(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	    "wrap: output depends on chunking");
	/* lines of the output, split at LF, never exceed the limit */
	for (size_t i = 0; i < a.len && limit > 0; i++) {
		if (a.data[i] == '\n') {
			line = 0;
			continue;
		}
		if (a.data[i] == '\r' && i + 1 < a.len && a.data[i + 1] == '\n')
			continue;
		require(++line <= limit, "wrap: a line longer than the limit");
	}
	wrap_ref(&r, limit, p, n);
	require(a.len == r.len && memcmp(a.data, r.data, a.len) == 0,
	    "wrap: differs from Postfix's line-by-line algorithm");
	require(limit > 0 || (a.len == n && memcmp(a.data, p, n) == 0),
	    "wrap: limit 0 changed bytes");
	rk_buf_free(&a);
	rk_buf_free(&b);
	rk_buf_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *sep;
	size_t hlen;
	char *copy;

	if (size > INPUT_MAX || size == 0)
		return 0;
	copy = rk_memdup0(p, size);
	sep = memchr(copy, '\0', size);
	hlen = sep ? (size_t)(sep - copy) : size;
	check_header(copy, hlen);
	check_body(copy, size, (size_t)data[0] % 13 + 1);
	check_wrap(copy, size, (size_t)data[0] % 13 + 1);
	free(copy);
	return 0;
}
