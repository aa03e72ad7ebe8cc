/* SPDX-License-Identifier: MIT */
/*
 * mlt_conn: the libmilter callbacks.  A connection context lives from
 * negotiate to close; a message context from MAIL FROM to end of message
 * (or abort, or an early verdict) and holds a reference to the state it
 * started with.  Each message runs through the checks in order; once
 * every check is done with it the milter accepts it, so Postfix stops
 * sending its body.
 *
 * With milter.outboundOnly (mlt_inbound.c) a message from a client that
 * is neither trusted, nor authenticated, nor Postfix itself skips the
 * checks and passes untouched, or, addressed to inbound.recipients, gets
 * the inbound SPF/DKIM/DMARC checks instead.
 *
 * libmilter's callbacks carry no user pointer but the per-connection
 * private data, so the server is reached through one file-scope pointer
 * set once before smfi_main and never written again.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rk_log.h"
#include "rk_mem.h"

#include "milter.h"

static struct mlt_server *server; /* set before smfi_main, then read-only */

/* The pipeline, in order: refuse early, sign, then set the return path. */
static const struct mlt_check *const checks[] = { &mlt_check_sender,
	&mlt_check_dkim, &mlt_check_verp };
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

/* Total header bytes a message may keep for signing; past it, a message
   for a signing domain is refused (552 5.3.4), never relayed unsigned. */
#define MSG_HEADER_CAP (4u << 20)

static struct mlt_conn *
conn_get(SMFICTX *ctx)
{
	struct mlt_conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		c = rk_calloc(1, sizeof(*c));
		c->srv = server;
		smfi_setpriv(ctx, c);
	}
	return c;
}

static void
msg_free(struct mlt_conn *c)
{
	struct mlt_msg *m = c->msg;

	if (m == NULL)
		return;
	for (size_t i = 0; i < NCHECKS; i++)
		if (checks[i]->free != NULL)
			checks[i]->free(m);
	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	rk_buf_free(&m->rcpts);
	rk_inauth_msg_free(m->ia);
	mlt_state_unref(m->st);
	free(m);
	c->msg = NULL;
}

static void
queue_id(SMFICTX *ctx, struct mlt_msg *m)
{
	const char *q = smfi_getsymval(ctx, "i");

	if (q != NULL && m->queue_id[0] == '\0')
		snprintf(m->queue_id, sizeof(m->queue_id), "%s", q);
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1,
    unsigned long *pf2, unsigned long *pf3)
{
	struct mlt_conn *c = conn_get(ctx);
	/* No replies to headers and body chunks save a round trip each;
	   the steps no check uses are not sent at all.  MAIL keeps its
	   reply: Postfix then waits until the message holds its state, so
	   a reload after MAIL FROM never reaches it (SMFIP_NR_MAIL let the
	   MAIL wait in libmilter's queue past a reload).  CONNECT and HELO
	   are wanted: the client decides whether a message is outbound, and
	   SPF checks a bounce's HELO name. */
	unsigned long want = SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_BODY |
	    SMFIP_NR_RCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)f2;
	(void)f3;
	if (!(f0 & SMFIF_ADDHDRS))
		return SMFIS_REJECT;
	/* CHGFROM is for VERP: Postfix offers it with milter_protocol 6;
	   without it a VERP message tempfails rather than leave un-VERPed */
	*pf0 = SMFIF_ADDHDRS | (f0 & SMFIF_CHGFROM);
	if (!(f0 & SMFIF_CHGFROM))
		rk_log_warnx("the MTA does not offer SMFIF_CHGFROM (set "
		             "milter_protocol = 6): VERP cannot work");
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	c->pflags = *pf1;
	if (!(c->pflags & SMFIP_HDR_LEADSPC))
		rk_log_warnx("the MTA does not offer SMFIP_HDR_LEADSPC: "
		             "simple header canonicalization may not verify");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct mlt_conn *c = conn_get(ctx);

	mlt_client_set(c, host, sa);
	return (c->pflags & SMFIP_NR_CONN) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct mlt_conn *c = conn_get(ctx);

	snprintf(c->helo, sizeof(c->helo), "%s", helo ? helo : "");
	return (c->pflags & SMFIP_NR_HELO) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat verdict(SMFICTX *ctx, struct mlt_conn *c, enum mlt_verdict v);

/* The envelope sender, normalised; false for one Postfix let through but
   we cannot read (then no rule can vouch for it). */
static bool
parse_sender(struct mlt_msg *m, const char *arg)
{
	struct rk_addr a;

	if (rk_addr_parse(arg, strlen(arg),
	        RK_ADDR_BRACKETS | RK_ADDR_NULL | RK_ADDR_UTF8, &a, NULL) != 0)
		return false;
	m->null_sender = a.null;
	rk_addr_format(&a, m->sender, sizeof(m->sender));
	return true;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct mlt_conn *c = conn_get(ctx);
	struct mlt_msg *m;

	msg_free(c);
	m = c->msg = rk_calloc(1, sizeof(*m));
	m->srv = c->srv;
	m->st = mlt_server_state(c->srv);
	m->leadspc = (c->pflags & SMFIP_HDR_LEADSPC) != 0;
	queue_id(ctx, m);
	if (argv[0] == NULL || !parse_sender(m, argv[0])) {
		snprintf(m->reply.code, sizeof(m->reply.code), "550");
		snprintf(m->reply.xcode, sizeof(m->reply.xcode), "5.1.7");
		snprintf(m->reply.text, sizeof(m->reply.text),
		    "Sender address %s cannot be parsed",
		    argv[0] ? "syntax" : "missing");
		return verdict(ctx, c, MLT_REJECT);
	}
	m->inbound =
	    !mlt_outbound(m->st, c, smfi_getsymval(ctx, "{auth_authen}"));
	for (size_t i = 0; i < NCHECKS && !m->inbound; i++) {
		enum mlt_verdict v =
		    checks[i]->envfrom ? checks[i]->envfrom(m) : MLT_CONTINUE;

		if (v == MLT_REJECT || v == MLT_TEMPFAIL)
			return verdict(ctx, c, v);
	}
	return (c->pflags & SMFIP_NR_MAIL) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mlt_conn *c = conn_get(ctx);
	struct mlt_msg *m = c->msg;
	struct rk_addr a;
	char buf[RK_ADDR_PATH_MAX * 2];

	if (m != NULL && argv[0] != NULL && m->rcpts.len < 65536 &&
	    rk_addr_parse(argv[0], strlen(argv[0]),
	        RK_ADDR_BRACKETS | RK_ADDR_UTF8, &a, NULL) == 0) {
		if (m->rcpts.len > 0)
			rk_buf_putc(&m->rcpts, ',');
		rk_buf_puts(&m->rcpts, rk_addr_format(&a, buf, sizeof(buf)));
		if (m->inbound && mlt_inbound_rcpt(m->st, buf))
			mlt_inbound_begin(m, c);
	}
	return (c->pflags & SMFIP_NR_RCPT) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static bool
wanted(const struct mlt_state *st, const char *name)
{
	for (size_t i = 0; i < st->nhnames; i++)
		if (rk_str_case_eq(st->hnames[i], name))
			return true;
	return false;
}

/* Without SMFIP_HDR_LEADSPC Postfix drops the space after the colon. */
static void
inbound_header(struct mlt_msg *m, const char *name, const char *value)
{
	char *v;

	if (m->ia == NULL)
		return;
	if (m->leadspc) {
		rk_inauth_header(m->ia, name, value);
		return;
	}
	v = rk_malloc(strlen(value) + 2);
	v[0] = ' ';
	memcpy(v + 1, value, strlen(value) + 1);
	rk_inauth_header(m->ia, name, v);
	free(v);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct mlt_conn *c = conn_get(ctx);
	struct mlt_msg *m = c->msg;
	sfsistat ok =
	    (c->pflags & SMFIP_NR_HDR) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	size_t vlen = strlen(value);
	struct mlt_hdr *h;

	if (m == NULL)
		return ok;
	if (m->inbound) {
		inbound_header(m, name, value);
		return ok;
	}
	if (rk_str_case_eq(name, "From") && m->nfrom++ == 0 &&
	    vlen <= MLT_HDR_MAX)
		goto keep; /* past the cap too: it names the signing domain */
	if (!wanted(m->st, name) || m->htoo_large)
		return ok;
	m->hbytes += strlen(name) + vlen;
	if (m->hbytes > MSG_HEADER_CAP || vlen > MLT_HDR_MAX) {
		m->htoo_large = true;
		return ok;
	}
keep:
	m->hdrs = rk_reallocarray(m->hdrs, m->nhdrs + 1, sizeof(*m->hdrs));
	h = &m->hdrs[m->nhdrs++];
	h->name = rk_strdup(name);
	h->value = rk_memdup0(value, vlen);
	h->vlen = vlen;
	return ok;
}

static sfsistat
verdict(SMFICTX *ctx, struct mlt_conn *c, enum mlt_verdict v)
{
	struct mlt_msg *m = c->msg;

	if (v == MLT_REJECT || (v == MLT_TEMPFAIL && m->reply.code[0]))
		smfi_setreply(
		    ctx, m->reply.code, m->reply.xcode, m->reply.text);
	msg_free(c);
	return v == MLT_REJECT  ? SMFIS_REJECT
	    : v == MLT_TEMPFAIL ? SMFIS_TEMPFAIL
	                        : SMFIS_ACCEPT;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct mlt_conn *c = conn_get(ctx);
	struct mlt_msg *m = c->msg;
	bool more = false;

	if (m == NULL)
		return SMFIS_ACCEPT;
	queue_id(ctx, m);
	if (m->inbound) /* untouched, unless the inbound checks want more */
		return m->ia ? SMFIS_CONTINUE : verdict(ctx, c, MLT_DONE);
	for (size_t i = 0; i < NCHECKS; i++) {
		enum mlt_verdict v =
		    checks[i]->eoh ? checks[i]->eoh(m) : MLT_CONTINUE;

		if (v == MLT_REJECT || v == MLT_TEMPFAIL)
			return verdict(ctx, c, v);
		more |= v == MLT_CONTINUE;
	}
	return more ? SMFIS_CONTINUE : verdict(ctx, c, MLT_DONE);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct mlt_conn *c = conn_get(ctx);

	if (c->msg != NULL && c->msg->ia != NULL)
		rk_inauth_body(c->msg->ia, p, n);
	else if (c->msg != NULL && !c->msg->inbound)
		for (size_t i = 0; i < NCHECKS; i++)
			if (checks[i]->body != NULL)
				checks[i]->body(c->msg, p, n);
	return (c->pflags & SMFIP_NR_BODY) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct mlt_conn *c = conn_get(ctx);
	struct mlt_msg *m = c->msg;
	double t0 = now_s();
	enum mlt_verdict v = MLT_DONE;

	if (m == NULL)
		return SMFIS_ACCEPT;
	queue_id(ctx, m);
	if (m->inbound)
		v = m->ia ? mlt_inbound_eom(m) : MLT_DONE;
	for (size_t i = 0; i < NCHECKS && v == MLT_DONE && !m->inbound; i++)
		if (checks[i]->eom != NULL)
			v = checks[i]->eom(m, ctx);
	rk_metric_observe(c->srv->m.eom_seconds, now_s() - t0, NULL);
	return verdict(ctx, c, v);
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	msg_free(conn_get(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct mlt_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_free(c);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

int
mlt_conn_register(struct mlt_server *srv)
{
	struct smfiDesc desc = {
		.xxfi_name = "relaykit-milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGFROM,
		.xxfi_connect = cb_connect,
		.xxfi_helo = cb_helo,
		.xxfi_envfrom = cb_envfrom,
		.xxfi_envrcpt = cb_envrcpt,
		.xxfi_header = cb_header,
		.xxfi_eoh = cb_eoh,
		.xxfi_body = cb_body,
		.xxfi_eom = cb_eom,
		.xxfi_abort = cb_abort,
		.xxfi_close = cb_close,
		.xxfi_negotiate = cb_negotiate,
	};

	server = srv;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
