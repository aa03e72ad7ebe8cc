/* SPDX-License-Identifier: MIT */
/*
 * mlt_sign: the DKIM check of the pipeline.  At end of headers it picks
 * the signing domain from the single From header (or says, once, why the
 * message goes unsigned or is refused); the body hash is streamed as
 * chunks arrive; at end of message each of the domain's keys adds one
 * DKIM-Signature field.  Threading: one message, one thread.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "rk_addr.h"
#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "milter.h"

struct mlt_msg_dkim {
	const struct mlt_domain *dom; /* borrowed from msg->st->keys */
	EVP_MD_CTX *bh;               /* body hash */
	struct mlt_wrap wrap;         /* Postfix's line breaking, first */
	struct mlt_body body;
};

static void
emit_hash(void *arg, const char *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

static void
emit_canon(void *arg, const char *p, size_t n)
{
	mlt_body_feed(arg, p, n);
}

static void
unsigned_msg(struct mlt_msg *msg, const char *reason, const char *from)
{
	char q[300];

	rk_log_info("queue_id=%s action=unsigned reason=%s from_domain=%s",
	    msg->queue_id, reason, rk_log_quote(q, sizeof(q), from));
	rk_metric_inc(msg->srv->m.unsigned_, RK_LABELS(reason));
	rk_metric_inc(msg->srv->m.messages, RK_LABELS("unsigned"));
}

/* A message for a signing domain that cannot be signed: never relayed
   unsigned, but refused (code 5xx: it will never sign) or tempfailed. */
static enum mlt_verdict
cannot_sign(struct mlt_msg *msg, const char *reason, const char *code,
    const char *xcode, const char *why, const char *domain)
{
	char q[300];

	snprintf(msg->reply.code, sizeof(msg->reply.code), "%s", code);
	snprintf(msg->reply.xcode, sizeof(msg->reply.xcode), "%s", xcode);
	snprintf(msg->reply.text, sizeof(msg->reply.text), "%s", why);
	rk_log_info("queue_id=%s action=%s reason=%s domain=%s text=%s",
	    msg->queue_id, *code == '5' ? "reject" : "tempfail", reason, domain,
	    rk_log_quote(q, sizeof(q), why));
	rk_metric_inc(msg->srv->m.unsigned_, RK_LABELS(reason));
	rk_metric_inc(msg->srv->m.messages,
	    RK_LABELS(*code == '5' ? "rejected" : "tempfail"));
	return *code == '5' ? MLT_REJECT : MLT_TEMPFAIL;
}

/* No single From: refuse (the default) or pass unsigned. */
static enum mlt_verdict
bad_from(struct mlt_msg *msg, const char *reason, const char *why)
{
	char q[300];

	if (msg->st->cfg->dkim.badFromAction == RK_BAD_FROM_ACCEPT) {
		unsigned_msg(msg, reason, "");
		return MLT_DONE;
	}
	snprintf(msg->reply.code, sizeof(msg->reply.code), "550");
	snprintf(msg->reply.xcode, sizeof(msg->reply.xcode), "5.7.1");
	snprintf(msg->reply.text, sizeof(msg->reply.text), "%s", why);
	rk_log_info("queue_id=%s action=reject reason=%s text=%s",
	    msg->queue_id, reason, rk_log_quote(q, sizeof(q), why));
	rk_metric_inc(msg->srv->m.unsigned_, RK_LABELS(reason));
	rk_metric_inc(msg->srv->m.messages, RK_LABELS("rejected"));
	return MLT_REJECT;
}

static const struct mlt_hdr *
find_from(const struct mlt_msg *msg)
{
	for (size_t i = 0; i < msg->nhdrs; i++)
		if (rk_str_case_eq(msg->hdrs[i].name, "From"))
			return &msg->hdrs[i];
	return NULL;
}

static enum mlt_verdict
dkim_eoh(struct mlt_msg *msg)
{
	const struct rk_cfg *cfg = msg->st->cfg;
	const struct mlt_hdr *from;
	const struct mlt_domain *dom;
	char fd[RK_ADDR_DOMAIN_MAX + 1], why[128];

	if (!cfg->dkim.enabled) {
		unsigned_msg(msg, "dkim_disabled", "");
		return MLT_DONE;
	}
	if (msg->nfrom == 0)
		return bad_from(msg, "no_from",
		    "message has no From header field; "
		    "it cannot be DKIM-signed (RFC 5322 requires one)");
	if (msg->nfrom > 1) {
		snprintf(why, sizeof(why),
		    "message has %zu From header fields; "
		    "exactly one is required for DKIM signing",
		    msg->nfrom);
		return bad_from(msg, "multiple_from", why);
	}
	from = find_from(msg);
	if (from == NULL ||
	    mlt_from_domain(from->value, from->vlen, fd, sizeof(fd)) != 0)
		return bad_from(msg, "bad_from",
		    "the From header field does not hold exactly one "
		    "valid address; it cannot be DKIM-signed");
	dom = mlt_keys_find(msg->st->keys, fd);
	if (dom == NULL) {
		unsigned_msg(msg, "domain_not_configured", fd);
		return MLT_DONE;
	}
	if (dom->nsigners == 0)
		return cannot_sign(msg, "key_missing", "451", "4.7.0",
		    "no DKIM key for the sender's domain; try again later", fd);
	if (msg->htoo_large)
		return cannot_sign(msg, "headers_too_large", "552", "5.3.4",
		    "message header too large to be DKIM-signed", fd);
	msg->dkim = rk_calloc(1, sizeof(*msg->dkim));
	msg->dkim->dom = dom;
	msg->dkim->bh = EVP_MD_CTX_new();
	if (msg->dkim->bh == NULL ||
	    EVP_DigestInit_ex(msg->dkim->bh, EVP_sha256(), NULL) != 1)
		rk_panic("sha256 init failed");
	mlt_body_init(&msg->dkim->body,
	    cfg->dkim.canonicalization == RK_CANON_RELAXED_RELAXED ||
	        cfg->dkim.canonicalization == RK_CANON_SIMPLE_RELAXED,
	    emit_hash, msg->dkim->bh);
	mlt_wrap_init(&msg->dkim->wrap, (size_t)cfg->dkim.lineLengthLimit, 0,
	    emit_canon, &msg->dkim->body);
	return MLT_CONTINUE;
}

static void
dkim_body(struct mlt_msg *msg, const unsigned char *p, size_t n)
{
	if (msg->dkim != NULL)
		mlt_wrap_feed(&msg->dkim->wrap, (const char *)p, n);
}

/*
 * The kept header fields as Postfix will send them (mlt_wrap): the same
 * array, with a private copy of each value whose lines get broken.  Free
 * with wire_free.
 */
static struct mlt_hdr *
wire_headers(const struct mlt_msg *msg)
{
	size_t limit = (size_t)msg->st->cfg->dkim.lineLengthLimit;
	struct mlt_hdr *v = rk_calloc(msg->nhdrs + 1, sizeof(*v));
	struct rk_buf b;

	rk_buf_init(&b);
	for (size_t i = 0; i < msg->nhdrs; i++) {
		const struct mlt_hdr *h = &msg->hdrs[i];

		v[i] = *h;
		if (!mlt_wrap_header(
		        &b, limit, h->name, h->value, h->vlen, msg->leadspc))
			continue;
		v[i].vlen = b.len;
		v[i].value = rk_buf_steal(&b);
	}
	rk_buf_free(&b);
	return v;
}

static void
wire_free(const struct mlt_msg *msg, struct mlt_hdr *v)
{
	for (size_t i = 0; i < msg->nhdrs; i++)
		if (v[i].value != msg->hdrs[i].value)
			free(v[i].value);
	free(v);
}

/* Appends "name:name:..." folding between names past ~70 columns. */
static void
put_hlist(struct rk_buf *b, const char *const *names, size_t n)
{
	size_t col = 3;

	rk_buf_puts(b, "h=");
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (i > 0) {
			rk_buf_putc(b, ':');
			col++;
			if (col + len > 72) {
				rk_buf_puts(b, "\r\n\t");
				col = 8;
			}
		}
		rk_buf_puts(b, names[i]);
		col += len;
	}
	rk_buf_putc(b, ';');
}

/* The h= list: each configured name as often as it occurs, plus one for
   the oversigned ones.  Names are borrowed from the state. */
static const char **
h_list(const struct mlt_msg *msg, size_t *np)
{
	const struct rk_cfg_dkim *d = &msg->st->cfg->dkim;
	const char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < msg->st->nsigned; i++) {
		const char *name = msg->st->hnames[i];
		size_t k = 0;
		bool over = false;

		for (size_t j = 0; j < msg->nhdrs; j++)
			k += rk_str_case_eq(msg->hdrs[j].name, name);
		for (size_t j = 0; j < d->noversignHeaders; j++)
			over |= rk_str_case_eq(d->oversignHeaders[j], name);
		k += over;
		v = rk_reallocarray(v, n + k + 1, sizeof(*v));
		while (k-- > 0)
			v[n++] = name;
	}
	*np = n;
	return v;
}

static void
sig_value(struct rk_buf *b, const struct mlt_msg *msg,
    const struct mlt_signer *s, const char *bh, const char *const *h, size_t nh)
{
	static const char *const canon[] = { "relaxed/relaxed",
		"relaxed/simple", "simple/relaxed", "simple/simple" };
	const struct rk_cfg_dkim *d = &msg->st->cfg->dkim;
	time_t now = time(NULL);

	rk_buf_printf(b, " v=1; a=%s; c=%s;\r\n\td=%s; s=%s; t=%lld;",
	    s->alg == MLT_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256",
	    canon[d->canonicalization], msg->dkim->dom->name, s->selector,
	    (long long)now);
	if (d->expiration > 0)
		rk_buf_printf(b, " x=%lld;",
		    (long long)now + (long long)(d->expiration / 1000));
	rk_buf_puts(b, "\r\n\t");
	put_hlist(b, h, nh);
	rk_buf_printf(b, "\r\n\tbh=%s;\r\n\tb=", bh);
}

/* Appends the base64 signature broken every 72 characters. */
static void
put_b(struct rk_buf *b, const char *sig)
{
	size_t len = strlen(sig);

	for (size_t i = 0; i < len; i += 72) {
		if (i > 0)
			rk_buf_puts(b, "\r\n\t");
		rk_buf_append(b, sig + i, len - i > 72 ? 72 : len - i);
	}
}

/* Postfix wants LF line ends in the fields a milter adds. */
static char *
to_lf(const char *s, bool leadspc)
{
	char *out = rk_malloc(strlen(s) + 1), *o = out;

	if (!leadspc && *s == ' ')
		s++;
	for (; *s != '\0'; s++)
		if (*s != '\r')
			*o++ = *s;
	*o = '\0';
	return out;
}

static int
add_signature(struct mlt_msg *msg, SMFICTX *ctx, const struct mlt_signer *s,
    const char *bh, const char *const *h, size_t nh, const struct mlt_hdr *wire)
{
	const struct rk_cfg_dkim *d = &msg->st->cfg->dkim;
	bool hrelaxed = d->canonicalization == RK_CANON_RELAXED_RELAXED ||
	    d->canonicalization == RK_CANON_RELAXED_SIMPLE;
	struct rk_buf val, data;
	char sig[1400], *field;
	struct rk_err err;
	int rc = -1;

	rk_buf_init(&val);
	rk_buf_init(&data);
	sig_value(&val, msg, s, bh, h, nh);
	mlt_dkim_header_data(
	    &data, hrelaxed, wire, msg->nhdrs, h, nh, val.data);
	if (mlt_dkim_sign(s->key, s->alg, data.data, data.len, sig, sizeof(sig),
	        &err) != 0) {
		rk_log_warnx("queue_id=%s action=tempfail reason=sign_error "
		             "selector=%s: %s",
		    msg->queue_id, s->selector, err.msg);
		goto out;
	}
	put_b(&val, sig);
	field = to_lf(val.data, msg->leadspc);
	rc = smfi_insheader(ctx, 0, "DKIM-Signature", field) == MI_SUCCESS ? 0
	                                                                   : -1;
	free(field);
	if (rc != 0)
		rk_log_warnx("queue_id=%s action=tempfail reason=insheader "
		             "selector=%s",
		    msg->queue_id, s->selector);
out:
	rk_buf_free(&val);
	rk_buf_free(&data);
	return rc;
}

static enum mlt_verdict
dkim_eom(struct mlt_msg *msg, SMFICTX *ctx)
{
	const struct mlt_domain *dom;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char bh[64], sels[256] = "";
	struct mlt_hdr *wire;
	const char **h;
	size_t nh, off = 0;

	if (msg->dkim == NULL)
		return MLT_DONE;
	dom = msg->dkim->dom;
	mlt_wrap_final(&msg->dkim->wrap);
	mlt_body_final(&msg->dkim->body);
	EVP_DigestFinal_ex(msg->dkim->bh, md, &mdlen);
	EVP_EncodeBlock((unsigned char *)bh, md, (int)mdlen);
	h = h_list(msg, &nh);
	wire = wire_headers(msg);
	for (size_t i = dom->nsigners; i-- > 0;) {
		const struct mlt_signer *s = &dom->signers[i];

		if (add_signature(msg, ctx, s, bh, h, nh, wire) != 0) {
			wire_free(msg, wire);
			free(h);
			rk_metric_inc(
			    msg->srv->m.messages, RK_LABELS("tempfail"));
			return MLT_TEMPFAIL;
		}
		rk_metric_inc(msg->srv->m.signatures,
		    RK_LABELS(s->alg == MLT_RSA_SHA256 ? "rsa-sha256"
		                                       : "ed25519-sha256"));
		off += (size_t)snprintf(sels + off, sizeof(sels) - off, "%s%s",
		    off ? "," : "", s->selector);
		if (off >= sizeof(sels))
			off = sizeof(sels) - 1;
	}
	wire_free(msg, wire);
	free(h);
	rk_log_info("queue_id=%s action=signed domain=%s selectors=%s "
	            "body_bytes=%llu",
	    msg->queue_id, dom->name, sels,
	    (unsigned long long)msg->dkim->body.total);
	rk_metric_inc(msg->srv->m.messages, RK_LABELS("signed"));
	return MLT_DONE;
}

static void
dkim_free(struct mlt_msg *msg)
{
	if (msg->dkim == NULL)
		return;
	EVP_MD_CTX_free(msg->dkim->bh);
	free(msg->dkim);
	msg->dkim = NULL;
}

const struct mlt_check mlt_check_dkim = {
	.name = "dkim",
	.eoh = dkim_eoh,
	.body = dkim_body,
	.eom = dkim_eom,
	.free = dkim_free,
};
