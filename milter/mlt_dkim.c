/* SPDX-License-Identifier: MIT */
/*
 * mlt_dkim: canonicalization, From parsing, header selection and the
 * signature of RFC 6376 / RFC 8463.  Pure functions of their arguments
 * (fuzzed by t/fuzz/fuzz_dkim.c); the milter glue lives in mlt_sign.c.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "rk_addr.h"
#include "rk_mem.h"
#include "rk_str.h"

#include "mlt_dkim.h"

static inline bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static void
canon_name(struct rk_buf *out, bool relaxed, const char *name, size_t nlen)
{
	if (!relaxed) {
		rk_buf_append(out, name, nlen);
		return;
	}
	while (nlen > 0 && is_wsp(name[nlen - 1]))
		nlen--;
	for (size_t i = 0; i < nlen; i++)
		rk_buf_putc(out, rk_ascii_lower(name[i]));
}

/* Relaxed: unfold, runs of WSP to one SP, none at either end. */
static void
canon_value_relaxed(struct rk_buf *out, const char *v, size_t n)
{
	bool wsp = false, started = false;

	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (c == '\r' || c == '\n')
			continue;
		if (is_wsp(c)) {
			wsp = true;
			continue;
		}
		if (wsp && started)
			rk_buf_putc(out, ' ');
		wsp = false;
		started = true;
		rk_buf_putc(out, c);
	}
}

/* Simple: as received, with a bare LF (Postfix's line end) as CRLF. */
static void
canon_value_simple(struct rk_buf *out, const char *v, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i] != '\n' || (i > 0 && v[i - 1] == '\r'))
			continue;
		rk_buf_append(out, v + start, i - start);
		rk_buf_append(out, "\r\n", 2);
		start = i + 1;
	}
	rk_buf_append(out, v + start, n - start);
}

void
mlt_canon_header(struct rk_buf *out, bool relaxed, const char *name,
    size_t nlen, const char *value, size_t vlen)
{
	canon_name(out, relaxed, name, nlen);
	rk_buf_putc(out, ':');
	if (relaxed)
		canon_value_relaxed(out, value, vlen);
	else
		canon_value_simple(out, value, vlen);
	rk_buf_append(out, "\r\n", 2);
}

/* ---------------------------------------------------------------- body */

static void
body_flush(struct mlt_body *b)
{
	if (b->outlen > 0)
		b->emit(b->arg, b->out, b->outlen);
	b->total += b->outlen;
	b->outlen = 0;
}

static inline void
body_put(struct mlt_body *b, const char *p, size_t n)
{
	if (b->outlen + n > sizeof(b->out))
		body_flush(b);
	memcpy(b->out + b->outlen, p, n);
	b->outlen += n;
	b->any = true;
}

/* Content follows: the empty lines held back were not trailing after all. */
static void
body_release(struct mlt_body *b)
{
	for (; b->blank > 0; b->blank--)
		body_put(b, "\r\n", 2);
	if (b->wsp)
		body_put(b, " ", 1);
	b->wsp = false;
}

static void
body_eol(struct mlt_body *b)
{
	if (b->content)
		body_put(b, "\r\n", 2);
	else
		b->blank++;
	b->content = false;
	b->wsp = false;
}

static inline void
body_byte(struct mlt_body *b, char c)
{
	if (b->relaxed && is_wsp(c)) {
		b->wsp = true;
		return;
	}
	if (b->blank > 0 || b->wsp)
		body_release(b);
	if (b->outlen == sizeof(b->out))
		body_flush(b);
	b->out[b->outlen++] = c;
	b->any = true;
	b->content = true;
}

void
mlt_body_init(struct mlt_body *b, bool relaxed, mlt_emit_fn *emit, void *arg)
{
	memset(b, 0, offsetof(struct mlt_body, out));
	b->relaxed = relaxed;
	b->emit = emit;
	b->arg = arg;
}

/* A run of plain content bytes (no CR, LF, or in relaxed WSP): copied in
   bulk, since most of a body is such runs. */
static void
body_run(struct mlt_body *b, const char *p, size_t n)
{
	if (b->blank > 0 || b->wsp)
		body_release(b);
	while (n > 0) {
		size_t k = sizeof(b->out) - b->outlen;

		if (k == 0) {
			body_flush(b);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(b->out + b->outlen, p, k);
		b->outlen += k;
		p += k;
		n -= k;
	}
	b->any = true;
	b->content = true;
}

static inline bool
is_special(const struct mlt_body *b, char c)
{
	return c == '\r' || c == '\n' || (b->relaxed && is_wsp(c));
}

void
mlt_body_feed(struct mlt_body *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!b->cr && !is_special(b, c)) {
			size_t j = i + 1;

			while (j < n && !is_special(b, p[j]))
				j++;
			body_run(b, p + i, j - i);
			i = j - 1;
			continue;
		}

		if (b->cr) {
			b->cr = false;
			if (c == '\n') {
				body_eol(b);
				continue;
			}
			body_byte(b, '\r'); /* a lone CR is content */
		}
		if (c == '\r')
			b->cr = true;
		else if (c == '\n')
			body_eol(b);
		else
			body_byte(b, c);
	}
}

void
mlt_body_final(struct mlt_body *b)
{
	if (b->cr) {
		b->cr = false;
		body_byte(b, '\r');
	}
	if (b->content)
		body_eol(b);
	/* RFC 6376 3.4.3: an empty body is one CRLF in simple; 3.4.4:
	   nothing in relaxed. */
	if (!b->relaxed && !b->any)
		body_put(b, "\r\n", 2);
	body_flush(b);
}

/* ---------------------------------------------------------------- wrap */

void
mlt_wrap_init(struct mlt_wrap *w, size_t limit, size_t first_used,
    mlt_emit_fn *emit, void *arg)
{
	memset(w, 0, sizeof(*w));
	/* a piece after a break holds limit - 1 bytes: at least one */
	w->limit = limit == 1 ? 2 : limit;
	w->space = w->limit > first_used ? w->limit - first_used : 0;
	w->emit = emit;
	w->arg = arg;
}

/* Content bytes (no line end): broken where Postfix breaks them. */
static void
wrap_content(struct mlt_wrap *w, const char *p, size_t n)
{
	if (w->limit == 0) {
		w->emit(w->arg, p, n);
		return;
	}
	while (n > 0) {
		size_t k;

		if (w->space == 0) {
			/* more of this line follows a full one */
			w->emit(w->arg, "\r\n ", 3);
			w->space = w->limit - 1;
		}
		k = n < w->space ? n : w->space;
		w->emit(w->arg, p, k);
		w->space -= k;
		p += k;
		n -= k;
	}
}

static void
wrap_eol(struct mlt_wrap *w, const char *eol, size_t n)
{
	w->emit(w->arg, eol, n);
	w->space = w->limit;
}

void
mlt_wrap_feed(struct mlt_wrap *w, const char *p, size_t n)
{
	size_t i = 0;

	if (w->cr && n > 0) {
		w->cr = false;
		if (p[0] == '\n') {
			wrap_eol(w, "\r\n", 2);
			i = 1;
		} else {
			wrap_content(w, "\r", 1); /* a lone CR is content */
		}
	}
	while (i < n) {
		size_t j = i;

		while (j < n && p[j] != '\r' && p[j] != '\n')
			j++;
		wrap_content(w, p + i, j - i);
		if (j == n)
			break;
		if (p[j] == '\n') {
			wrap_eol(w, "\n", 1);
			i = j + 1;
		} else if (j + 1 == n) {
			w->cr = true; /* its LF may come in the next chunk */
			i = n;
		} else if (p[j + 1] == '\n') {
			wrap_eol(w, "\r\n", 2);
			i = j + 2;
		} else {
			wrap_content(w, "\r", 1);
			i = j + 1;
		}
	}
}

void
mlt_wrap_final(struct mlt_wrap *w)
{
	if (w->cr) {
		w->cr = false;
		wrap_content(w, "\r", 1);
	}
}

static void
emit_buf(void *arg, const char *p, size_t n)
{
	rk_buf_append(arg, p, n);
}

/* The longest physical line of a folded value, the first one counted
   from the start of the field. */
static size_t
longest_line(size_t first, const char *v, size_t n)
{
	size_t best = 0, cur = first;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\n') {
			cur -= i > 0 && cur > 0 && v[i - 1] == '\r';
			best = cur > best ? cur : best;
			cur = 0;
		} else {
			cur++;
		}
	}
	return cur > best ? cur : best;
}

bool
mlt_wrap_header(struct rk_buf *out, size_t limit, const char *name,
    const char *value, size_t vlen, bool leadspc)
{
	size_t first = strlen(name) + 1 + !leadspc;
	struct mlt_wrap w;

	if (limit == 0 || longest_line(first, value, vlen) <= limit)
		return false;
	rk_buf_reset(out);
	/* "Name:" (and the space Postfix writes when value lacks its own)
	   is on the wire before the value */
	mlt_wrap_init(&w, limit, first, emit_buf, out);
	mlt_wrap_feed(&w, value, vlen);
	mlt_wrap_final(&w);
	return true;
}

/* ---------------------------------------------------------------- From */

struct from_scan {
	struct rk_buf angle; /* inside <...> */
	struct rk_buf bare;  /* everything else but comments and spaces */
	bool has_angle;
	size_t count;
	struct rk_buf addr; /* the last complete mailbox */
};

static void
from_segment_end(struct from_scan *s)
{
	struct rk_buf *a = s->has_angle ? &s->angle : &s->bare;

	if (a->len > 0) {
		s->count++;
		rk_buf_reset(&s->addr);
		rk_buf_append(&s->addr, a->data, a->len);
	}
	rk_buf_reset(&s->angle);
	rk_buf_reset(&s->bare);
	s->has_angle = false;
}

/* Skips a comment starting at v[i] == '('; returns the index after it. */
static size_t
skip_comment(const char *v, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		if (v[i] == '\\')
			i++;
		else if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* Copies a quoted string starting at v[i] == '"' to out. */
static size_t
copy_quoted(struct rk_buf *out, const char *v, size_t len, size_t i)
{
	rk_buf_putc(out, '"');
	for (i++; i < len && v[i] != '"'; i++) {
		if (v[i] == '\\' && i + 1 < len)
			rk_buf_putc(out, v[i++]);
		rk_buf_putc(out, v[i]);
	}
	rk_buf_putc(out, '"');
	return i < len ? i + 1 : len;
}

static void
from_scan(struct from_scan *s, const char *v, size_t len)
{
	bool in_angle = false;

	for (size_t i = 0; i < len;) {
		char c = v[i];
		struct rk_buf *dst = in_angle ? &s->angle : &s->bare;

		if (c == '(') {
			i = skip_comment(v, len, i);
		} else if (c == '"') {
			i = copy_quoted(dst, v, len, i);
		} else if (c == '<' && !in_angle) {
			in_angle = true;
			s->has_angle = true;
			rk_buf_reset(&s->angle);
			i++;
		} else if (c == '>' && in_angle) {
			in_angle = false;
			i++;
		} else if (!in_angle && (c == ',' || c == ';' || c == ':')) {
			/* ':' ends a group's display name, ';' the group */
			if (c == ':')
				rk_buf_reset(&s->bare);
			else
				from_segment_end(s);
			i++;
		} else {
			if (!is_wsp(c) && c != '\r' && c != '\n')
				rk_buf_putc(dst, c);
			i++;
		}
	}
	from_segment_end(s);
}

int
mlt_from_domain(const char *value, size_t len, char *dom, size_t n)
{
	struct from_scan s;
	const char *at;
	size_t dlen;
	int rc = -1;

	if (len > MLT_HDR_MAX || n == 0)
		return -1;
	memset(&s, 0, sizeof(s));
	rk_buf_init(&s.angle);
	rk_buf_init(&s.bare);
	rk_buf_init(&s.addr);
	from_scan(&s, value, len);
	if (s.count != 1 || (at = strrchr(s.addr.data, '@')) == NULL)
		goto out;
	at++;
	dlen = strlen(at);
	if (dlen >= n || rk_domain_check(at, dlen, RK_ADDR_UTF8, NULL) != 0)
		goto out;
	memcpy(dom, at, dlen + 1);
	rk_domain_normalize(dom);
	rc = 0;
out:
	rk_buf_free(&s.angle);
	rk_buf_free(&s.bare);
	rk_buf_free(&s.addr);
	return rc;
}

int
mlt_from_address(const char *value, size_t len, char *out, size_t n)
{
	struct from_scan s;
	struct rk_addr a;
	int rc = -1;

	if (len > MLT_HDR_MAX || n == 0)
		return -1;
	memset(&s, 0, sizeof(s));
	rk_buf_init(&s.angle);
	rk_buf_init(&s.bare);
	rk_buf_init(&s.addr);
	from_scan(&s, value, len);
	if (s.count == 1 && s.addr.data != NULL &&
	    rk_addr_parse(s.addr.data, s.addr.len, RK_ADDR_UTF8, &a, NULL) ==
	        0 &&
	    !a.null) {
		rk_addr_format(&a, out, n);
		rc = 0;
	}
	rk_buf_free(&s.angle);
	rk_buf_free(&s.bare);
	rk_buf_free(&s.addr);
	return rc;
}

/* ------------------------------------------------------------- headers */

void
mlt_dkim_header_data(struct rk_buf *out, bool relaxed,
    const struct mlt_hdr *hdrs, size_t nhdrs, const char *const *names,
    size_t nnames, const char *sigval)
{
	bool *used = rk_calloc(nhdrs ? nhdrs : 1, sizeof(*used));

	for (size_t i = 0; i < nnames; i++) {
		for (size_t j = nhdrs; j-- > 0;) {
			if (used[j] || !rk_str_case_eq(hdrs[j].name, names[i]))
				continue;
			used[j] = true;
			mlt_canon_header(out, relaxed, hdrs[j].name,
			    strlen(hdrs[j].name), hdrs[j].value, hdrs[j].vlen);
			break;
		}
	}
	free(used);
	mlt_canon_header(
	    out, relaxed, "DKIM-Signature", 14, sigval, strlen(sigval));
	out->len -= 2; /* the signature field is hashed without its CRLF */
	out->data[out->len] = '\0';
}

/* ------------------------------------------------------------ signing */

int
mlt_dkim_sign(EVP_PKEY *key, enum mlt_alg alg, const char *data, size_t len,
    char *out, size_t n, struct rk_err *err)
{
	unsigned char sig[1024], digest[SHA256_DIGEST_LENGTH];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -1;

	if (md == NULL)
		return rk_err_set(err, "EVP_MD_CTX_new failed");
	if (alg == MLT_ED25519_SHA256) {
		/* RFC 8463 3: PureEdDSA over the SHA-256 of the data */
		SHA256((const unsigned char *)data, len, digest);
		if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
		    EVP_DigestSign(md, sig, &siglen, digest, sizeof(digest)) !=
		        1) {
			rk_err_set(err, "ed25519 signing failed");
			goto out;
		}
	} else if (EVP_PKEY_get_size(key) > (int)sizeof(sig) ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(
	        md, sig, &siglen, (const unsigned char *)data, len) != 1) {
		rk_err_set(err, "rsa signing failed");
		goto out;
	}
	if (n < (siglen + 2) / 3 * 4 + 1) {
		rk_err_set(err, "signature buffer too small");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)out, sig, (int)siglen);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}
