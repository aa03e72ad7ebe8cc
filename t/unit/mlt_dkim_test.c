/* SPDX-License-Identifier: MIT */
/*
 * milter/mlt_dkim: canonicalization (RFC 6376 3.4), From domains, header
 * selection, and RFC 8463 Appendix A reproduced bit for bit: Ed25519 is
 * deterministic, so the same key and message must give the RFC's b=.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "tap.h"

#include "../../milter/mlt_dkim.h"

static void
emit_buf(void *arg, const char *p, size_t n)
{
	rk_buf_append(arg, p, n);
}

/* Canonical body of in, fed whole and byte by byte (must agree). */
static char *
body(bool relaxed, const char *in, size_t chunk)
{
	struct rk_buf out;
	struct mlt_body *b = rk_malloc(sizeof(*b));
	size_t n = strlen(in);

	rk_buf_init(&out);
	mlt_body_init(b, relaxed, emit_buf, &out);
	for (size_t i = 0; i < n; i += chunk)
		mlt_body_feed(b, in + i, n - i < chunk ? n - i : chunk);
	mlt_body_final(b);
	free(b);
	return rk_buf_steal(&out);
}

static void
test_body(void)
{
	static const struct {
		const char *name, *in, *relaxed, *simple;
	} cases[] = {
		{ "empty body", "", "", "\r\n" },
		{ "only blank lines", "\r\n\r\n\r\n", "", "\r\n" },
		{ "no final CRLF", "abc", "abc\r\n", "abc\r\n" },
		{ "trailing blank lines dropped", "a\r\n\r\n\r\n", "a\r\n",
		    "a\r\n" },
		{ "inner blank lines kept", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n",
		    "a\r\n\r\nb\r\n" },
		{ "whitespace runs and line ends", "a \t b  \r\n \tc\r\n",
		    "a b\r\n c\r\n", "a \t b  \r\n \tc\r\n" },
		{ "whitespace-only line is blank in relaxed", "a\r\n  \r\n",
		    "a\r\n", "a\r\n  \r\n" },
		{ "bare LF is a line end", "a\nb\n\n", "a\r\nb\r\n",
		    "a\r\nb\r\n" },
		{ "lone CR is content", "a\rb\r\n", "a\rb\r\n", "a\rb\r\n" },
		{ "RFC 6376 3.4.6 example", " C \r\nD \t E\r\n\r\n\r\n",
		    " C\r\nD E\r\n", " C \r\nD \t E\r\n" },
		{ "8-bit bytes untouched", "caf\xc3\xa9 \r\n",
		    "caf\xc3\xa9\r\n", "caf\xc3\xa9 \r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t chunk = 1; chunk <= 64; chunk *= 64) {
			char *r = body(true, cases[i].in, chunk);
			char *s = body(false, cases[i].in, chunk);

			is_str(r, cases[i].relaxed,
			    "body relaxed: %s (chunk %zu)", cases[i].name,
			    chunk);
			is_str(s, cases[i].simple,
			    "body simple: %s (chunk %zu)", cases[i].name,
			    chunk);
			free(r);
			free(s);
		}
	}
}

static void
test_header(void)
{
	static const struct {
		const char *name, *hname, *value, *relaxed, *simple;
	} cases[] = {
		{ "RFC 6376 3.4.6 A", "A", " X", "a:X\r\n", "A: X\r\n" },
		{ "RFC 6376 3.4.6 B", "B ", " Y\t\r\n\tZ  ", "b:Y Z\r\n",
		    "B : Y\t\r\n\tZ  \r\n" },
		{ "LF folding from Postfix", "Subject", " a\n b",
		    "subject:a b\r\n", "Subject: a\r\n b\r\n" },
		{ "empty value", "X", "", "x:\r\n", "X:\r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rk_buf r, s;

		rk_buf_init(&r);
		rk_buf_init(&s);
		mlt_canon_header(&r, true, cases[i].hname,
		    strlen(cases[i].hname), cases[i].value,
		    strlen(cases[i].value));
		mlt_canon_header(&s, false, cases[i].hname,
		    strlen(cases[i].hname), cases[i].value,
		    strlen(cases[i].value));
		is_str(r.data, cases[i].relaxed, "header relaxed: %s",
		    cases[i].name);
		is_str(s.data, cases[i].simple, "header simple: %s",
		    cases[i].name);
		rk_buf_free(&r);
		rk_buf_free(&s);
	}
}

static void
test_from(void)
{
	static const struct {
		const char *name, *value, *want; /* want NULL: refused */
	} cases[] = {
		{ "angle address", " Joe <joe@Example.COM>", "example.com" },
		{ "bare address", " joe@example.com", "example.com" },
		{ "comment after", " joe@example.com (Joe)", "example.com" },
		{ "quoted display name with comma and @",
		    " \"Doe, J@x.org\" <j@example.com>", "example.com" },
		{ "folded", " Joe\n <joe@example.com>", "example.com" },
		{ "encoded word", " =?UTF-8?Q?J=C3=B6?= <j@sub.example.com>",
		    "sub.example.com" },
		{ "trailing dot", " j@example.com.", "example.com" },
		{ "two mailboxes", " a@example.com, b@example.org", NULL },
		{ "no address", " Joe", NULL },
		{ "empty", "", NULL },
		{ "address literal", " j@[192.0.2.1]", NULL },
		{ "bad domain", " j@exa mple..com", NULL },
		{ "group of one", " team: j@example.com;", "example.com" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dom[256] = "";
		int rc = mlt_from_domain(
		    cases[i].value, strlen(cases[i].value), dom, sizeof(dom));

		if (cases[i].want == NULL)
			ok(rc == -1, "from refused: %s", cases[i].name);
		else
			is_str(rc == 0 ? dom : "(refused)", cases[i].want,
			    "from: %s", cases[i].name);
	}
}

/* RFC 8463 Appendix A: the example message and key. */
static void
test_rfc8463(void)
{
	static const struct mlt_hdr hdrs[] = {
		{ "From", " Joe SixPack <joe@football.example.com>", 0 },
		{ "To", " Suzie Q <suzie@shopping.example.net>", 0 },
		{ "Subject", " Is dinner ready?", 0 },
		{ "Date", " Fri, 11 Jul 2003 21:00:37 -0700 (PDT)", 0 },
		{ "Message-ID",
		    " <20030712040037.46341.5F8J@football.example.com>", 0 },
	};
	static const char *const names[] = { "from", "to", "subject", "date",
		"message-id", "from", "subject", "date" };
	static const char msgbody[] = "Hi.\r\n\r\nWe lost the game.  Are you "
	                              "hungry yet?\r\n\r\nJoe.\r\n";
	static const char sigval[] =
	    " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	    " d=football.example.com; i=@football.example.com;\r\n"
	    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
	    " subject : date : message-id : from : subject : date;\r\n"
	    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	    " b=";
	static const char seed_b64[] =
	    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
	struct mlt_hdr h[5];
	unsigned char seed[48], md[32];
	char bh[64], sig[200], *canon;
	struct rk_buf data;
	EVP_PKEY *key;
	struct rk_err err;

	memcpy(h, hdrs, sizeof(h));
	for (size_t i = 0; i < 5; i++)
		h[i].vlen = strlen(h[i].value);
	canon = body(true, msgbody, 7);
	EVP_Digest(canon, strlen(canon), md, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)bh, md, 32);
	is_str(bh, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=",
	    "RFC 8463 A: relaxed body hash");
	free(canon);
	EVP_DecodeBlock(seed, (const unsigned char *)seed_b64, 44);
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	ok(key != NULL, "RFC 8463 A: key from the RFC's seed");
	rk_buf_init(&data);
	mlt_dkim_header_data(&data, true, h, 5, names, 8, sigval);
	ok(mlt_dkim_sign(key, MLT_ED25519_SHA256, data.data, data.len, sig,
	       sizeof(sig), &err) == 0,
	    "RFC 8463 A: signs");
	is_str(sig,
	    "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus"
	    "Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
	    "RFC 8463 A: the RFC's ed25519 signature, bit for bit");
	rk_buf_free(&data);
	EVP_PKEY_free(key);
}

/* Oversigning: a name listed once more than it occurs adds nothing. */
static void
test_header_selection(void)
{
	struct mlt_hdr h[] = {
		{ "Received", " x", 2 },
		{ "Subject", " one", 4 },
		{ "From", " a@b.c", 6 },
		{ "subject", " two", 4 },
	};
	static const char *const names[] = { "subject", "subject", "from",
		"from", "subject" };
	struct rk_buf data;

	rk_buf_init(&data);
	mlt_dkim_header_data(&data, true, h, 4, names, 5, " b=");
	is_str(data.data,
	    "subject:two\r\nsubject:one\r\nfrom:a@b.c\r\ndkim-signature:b=",
	    "bottom-up selection, oversigned names add nothing");
	rk_buf_free(&data);
}

/*
 * Postfix's smtp_text_out, line by line, written from its description:
 * each line is sent in pieces, the first of limit bytes, the next ones of
 * limit - 1 after a CRLF and a space.
 */
static void
ref_line(struct rk_buf *out, size_t limit, size_t used, const char *p, size_t n)
{
	size_t space = limit > used ? limit - used : 0;

	while (limit > 0 && n > space) {
		rk_buf_append(out, p, space);
		rk_buf_append(out, "\r\n ", 3);
		p += space;
		n -= space;
		space = limit - 1;
	}
	rk_buf_append(out, p, n);
}

static char *
ref_wrap(size_t limit, const char *in)
{
	struct rk_buf out;

	rk_buf_init(&out);
	for (const char *p = in; *p;) {
		size_t n = strcspn(p, "\n");
		size_t content =
		    n > 0 && p[n] == '\n' && p[n - 1] == '\r' ? n - 1 : n;

		ref_line(&out, limit, 0, p, content);
		rk_buf_append(&out, p + content, n - content + (p[n] == '\n'));
		p += n + (p[n] == '\n');
	}
	return rk_buf_steal(&out);
}

static char *
wrap(size_t limit, const char *in, size_t chunk)
{
	struct rk_buf out;
	struct mlt_wrap w;
	size_t n = strlen(in);

	rk_buf_init(&out);
	mlt_wrap_init(&w, limit, 0, emit_buf, &out);
	for (size_t i = 0; i < n; i += chunk)
		mlt_wrap_feed(&w, in + i, n - i < chunk ? n - i : chunk);
	mlt_wrap_final(&w);
	return rk_buf_steal(&out);
}

static void
test_wrap(void)
{
	static const struct {
		const char *name, *in, *want;
		size_t limit;
	} cases[] = {
		{ "a line of exactly limit bytes is left alone", "abcde\r\n",
		    "abcde\r\n", 5 },
		{ "limit + 1: one break, CRLF SPACE", "abcdef\r\n",
		    "abcde\r\n f\r\n", 5 },
		{ "later pieces hold limit - 1 bytes", "abcdefghijklm\r\n",
		    "abcde\r\n fghi\r\n jklm\r\n", 5 },
		{ "a lone CR is content", "ab\rcdef\r\n", "ab\rcd\r\n ef\r\n",
		    5 },
		{ "LF line ends too", "abcdefg\nxy\n", "abcde\r\n fg\nxy\n",
		    5 },
		{ "no final line end", "abcdefg", "abcde\r\n fg", 5 },
		{ "limit 0: nothing broken", "abcdefghij\r\n", "abcdefghij\r\n",
		    0 },
	};
	char big[5000];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *a = wrap(cases[i].limit, cases[i].in, 1000);
		char *b = wrap(cases[i].limit, cases[i].in, 1);

		is_str(a, cases[i].want, "wrap: %s", cases[i].name);
		is_str(
		    b, cases[i].want, "wrap: %s (byte by byte)", cases[i].name);
		free(a);
		free(b);
	}
	/* random lines against the reference, in random chunks */
	srand(7);
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)(rand() % (int)(sizeof(big) - 1)), chunk;
		size_t limit = (size_t)(rand() % 3 == 0 ? 0 : 2 + rand() % 40);
		char *a, *b;

		for (size_t i = 0; i < n; i++) {
			int r = rand() % 60;

			big[i] = r == 0 ? '\n'
			    : r == 1    ? '\r'
			                : (char)('a' + r % 26);
		}
		big[n] = '\0';
		chunk = (size_t)(1 + rand() % 97);
		a = wrap(limit, big, chunk);
		b = ref_wrap(limit, big);
		if (!ok(strcmp(a, b) == 0,
		        "wrap: random %d (%zu bytes, limit "
		        "%zu) matches Postfix's algorithm",
		        round, n, limit))
			break;
		free(a);
		free(b);
	}
}

static void
test_wrap_header(void)
{
	struct rk_buf out;
	char refs[2100];

	rk_buf_init(&out);
	ok(!mlt_wrap_header(&out, 998, "Subject", " short", 6, true),
	    "wrap_header: a short field is left alone");
	memset(refs, 'r', sizeof(refs) - 1);
	refs[0] = ' ';
	refs[sizeof(refs) - 1] = '\0';
	/* "References:" is 11 bytes of the first 998 on the wire */
	ok(mlt_wrap_header(&out, 998, "References", refs, strlen(refs), true),
	    "wrap_header: a 2100-byte References is broken");
	ok(out.len == strlen(refs) + 2 * 3 &&
	        memcmp(out.data + 987, "\r\n ", 3) == 0 &&
	        memcmp(out.data + 987 + 3 + 997, "\r\n ", 3) == 0,
	    "wrap_header: at 998 - 11 bytes of value, then every 997");
	ok(mlt_wrap_header(&out, 10, "X", " 1234567\n\t12345678901", 21, true),
	    "wrap_header: a folded field's long second line");
	is_str(out.data, " 1234567\n\t123456789\r\n 01",
	    "wrap_header: only that line is broken, counted from its start");
	ok(mlt_wrap_header(&out, 10, "X", "123456789", 9, false),
	    "wrap_header: without leadspc the space Postfix adds counts");
	is_str(out.data, "1234567\r\n 89", "wrap_header: \"X: \" takes 3");
	rk_buf_free(&out);
}

int
main(void)
{
	test_wrap();
	test_wrap_header();
	test_body();
	test_header();
	test_from();
	test_rfc8463();
	test_header_selection();
	return done_testing();
}
