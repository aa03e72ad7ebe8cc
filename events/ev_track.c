/* SPDX-License-Identifier: MIT */
/*
 * ev_track: the per-message state that turns log lines into events.
 *
 * A delivery line names the queue id and one recipient; the event also
 * needs what other lines said about the message (cleanup's Message-ID,
 * qmgr's sender and size) and what the milter recorded (the client id,
 * the Subject), plus how many times this recipient was tried before.  The
 * tracker keeps that per queue id, in memory (bounded: the oldest clean
 * messages go first) and, through the store, in Redis next to the
 * milter's metadata, so state survives a restart.
 *
 * Events: qmgr's first "from=... (queue active)" of a message: queued;
 * status=sent: delivered, deferred: deferred, bounced: bounced (also an
 * expired recipient written by the error agent); qmgr's "status=expired,
 * returned to sender": expired, one per recipient still deferred (one
 * without a recipient when none is known).  Probe results of address
 * verification (deliverable, undeliverable) make none.
 *
 * Threading: one owner (the reader thread).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"

#include "eventd.h"

struct ev_track {
	struct ev_msg **tab;
	size_t nbuckets; /* a power of two */
	struct ev_msg *oldest,
	    *newest;           /* age list: least recently used first */
	struct ev_msg **dirty; /* changed since the last flush */
	size_t ndirty, dirtycap;
	size_t count, max;
	ev_emit_fn *emit;
	void *arg;
};

static size_t
hash(const struct ev_track *t, const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & (t->nbuckets - 1);
}

struct ev_track *
ev_track_new(size_t max_msgs, ev_emit_fn *emit, void *arg)
{
	struct ev_track *t = rk_calloc(1, sizeof(*t));

	t->max = max_msgs ? max_msgs : 1;
	for (t->nbuckets = 64;
	     t->nbuckets < t->max && t->nbuckets < (1u << 20);)
		t->nbuckets *= 2;
	t->tab = rk_calloc(t->nbuckets, sizeof(*t->tab));
	t->emit = emit;
	t->arg = arg;
	return t;
}

static void
msg_free(struct ev_msg *m)
{
	for (size_t i = 0; i < m->nr; i++)
		free(m->r[i].addr);
	free(m->r);
	free(m->from);
	free(m->message_id);
	free(m->client_id);
	free(m->subject);
	free(m);
}

static void
unlink_msg(struct ev_track *t, struct ev_msg *m)
{
	struct ev_msg **pp = &t->tab[hash(t, m->qid)];

	while (*pp != m)
		pp = &(*pp)->hnext;
	*pp = m->hnext;
	if (m->prev)
		m->prev->next = m->next;
	else
		t->oldest = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		t->newest = m->prev;
	t->count--;
}

void
ev_track_free(struct ev_track *t)
{
	if (t == NULL)
		return;
	while (t->oldest != NULL) {
		struct ev_msg *m = t->oldest;

		unlink_msg(t, m);
		msg_free(m);
	}
	free(t->tab);
	free(t->dirty);
	free(t);
}

size_t
ev_track_count(const struct ev_track *t)
{
	return t->count;
}

static struct ev_msg *
find(const struct ev_track *t, const char *qid)
{
	for (struct ev_msg *m = t->tab[hash(t, qid)]; m; m = m->hnext)
		if (strcmp(m->qid, qid) == 0)
			return m;
	return NULL;
}

/*
 * Drops the oldest clean messages past the bound, never the newest: that
 * is the one get() just made and hands out (when every other message is
 * dirty, it would be the only candidate).
 */
static void
evict(struct ev_track *t)
{
	struct ev_msg *m = t->oldest;

	while (t->count > t->max && m != NULL) {
		struct ev_msg *next = m->next;

		if (!m->dirty && m != t->newest) {
			unlink_msg(t, m);
			msg_free(m);
		}
		m = next;
	}
}

static struct ev_msg *
get(struct ev_track *t, const char *qid)
{
	struct ev_msg *m = find(t, qid);
	size_t h;

	if (m != NULL)
		return m;
	m = rk_calloc(1, sizeof(*m));
	snprintf(m->qid, sizeof(m->qid), "%s", qid);
	m->size = m->nrcpt = -1;
	h = hash(t, qid);
	m->hnext = t->tab[h];
	t->tab[h] = m;
	m->prev = t->newest;
	if (t->newest)
		t->newest->next = m;
	else
		t->oldest = m;
	t->newest = m;
	t->count++;
	evict(t);
	return m;
}

/* Moves m to the young end of the age list. */
static void
age_touch(struct ev_track *t, struct ev_msg *m)
{
	if (t->newest == m)
		return;
	if (m->prev)
		m->prev->next = m->next;
	else
		t->oldest = m->next;
	m->next->prev = m->prev;
	m->prev = t->newest;
	m->next = NULL;
	t->newest->next = m;
	t->newest = m;
}

/* m changed: the store writes it with the next batch. */
static void
touch(struct ev_track *t, struct ev_msg *m)
{
	age_touch(t, m);
	if (m->dirty)
		return;
	m->dirty = true;
	if (t->ndirty == t->dirtycap) {
		t->dirtycap = t->dirtycap ? t->dirtycap * 2 : 256;
		t->dirty =
		    rk_reallocarray(t->dirty, t->dirtycap, sizeof(*t->dirty));
	}
	t->dirty[t->ndirty++] = m;
}

static struct ev_rcpt *
rcpt(struct ev_msg *m, const char *addr)
{
	for (size_t i = 0; i < m->nr; i++)
		if (strcmp(m->r[i].addr, addr) == 0)
			return &m->r[i];
	m->r = rk_reallocarray(m->r, m->nr + 1, sizeof(*m->r));
	memset(&m->r[m->nr], 0, sizeof(m->r[0]));
	m->r[m->nr].addr = rk_strdup(addr);
	return &m->r[m->nr++];
}

static void
set_str(char **dst, const char *p, size_t n)
{
	free(*dst);
	*dst = rk_strndup(p, n);
}

/* ------------------------------------------------------------ events */

/* NUL-terminated copies of a line's pieces, for one event. */
struct scratch {
	char buf[EV_LINE_MAX + 1024];
	size_t used;
};

/* s->used must be set first; the buffer itself is never cleared (it is
   big, and only its used part is read). */
static const char *
sc(struct scratch *s, struct ev_str v)
{
	char *out;

	if (v.p == NULL || s->used + v.n + 1 > sizeof(s->buf))
		return NULL;
	out = s->buf + s->used;
	memcpy(out, v.p, v.n);
	out[v.n] = '\0';
	s->used += v.n + 1;
	return out;
}

static void
emit(struct ev_track *t, struct rk_event *ev)
{
	char id[RK_EVENT_ID_LEN], att[24], when[24];
	const char *parts[] = { ev->host, ev->queue_id,
		rk_event_type_name((int)ev->type), ev->to, ev->orig_to, att,
		when, ev->dsn };

	snprintf(att, sizeof(att), "%lld", (long long)ev->attempt);
	snprintf(when, sizeof(when), "%lld", (long long)ev->time_ms);
	ev->id = rk_event_make_id(id, sizeof(parts) / sizeof(parts[0]), parts);
	ev->source = "eventd";
	t->emit(t->arg, ev);
}

static void
base_event(struct rk_event *ev, enum rk_event_type type,
    const struct ev_line *l, const struct ev_msg *m, struct scratch *s)
{
	rk_event_init(ev, type);
	ev->time_ms = l->time_ms;
	ev->host = sc(s, l->host);
	ev->queue_id = m->qid;
	ev->message_id = m->message_id;
	ev->client_id = m->client_id;
	ev->from = m->from;
	ev->subject = m->subject;
	ev->size = m->size;
	ev->nrcpt = m->nrcpt;
}

static int
delivery_type(const struct ev_str *status)
{
	static const struct {
		const char *word;
		enum rk_event_type type;
	} map[] = {
		{ "sent", RK_EVT_DELIVERED },
		{ "deferred", RK_EVT_DEFERRED },
		{ "bounced", RK_EVT_BOUNCED },
		{ "expired", RK_EVT_EXPIRED },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (status->n == strlen(map[i].word) &&
		    memcmp(status->p, map[i].word, status->n) == 0)
			return (int)map[i].type;
	return -1;
}

static void
on_delivery(struct ev_track *t, const struct ev_line *l, struct ev_msg *m)
{
	struct scratch s;
	struct rk_event ev;
	struct ev_rcpt *r;
	int type = delivery_type(&l->status);

	s.used = 0;
	if (type < 0)
		return;
	base_event(&ev, (enum rk_event_type)type, l, m, &s);
	ev.to = sc(&s, l->to);
	r = rcpt(m, ev.to ? ev.to : "");
	r->attempts++;
	r->pending = type == RK_EVT_DEFERRED;
	r->dirty = true;
	touch(t, m);
	ev.orig_to = sc(&s, l->orig_to);
	ev.relay = sc(&s, l->relay);
	ev.dsn = sc(&s, l->dsn);
	ev.status = sc(&s, l->status);
	ev.response = sc(&s, l->response);
	ev.tls = sc(&s, l->tls);
	ev.delay_ms = l->delay_ms;
	memcpy(ev.delays_ms, l->delays_ms, sizeof(ev.delays_ms));
	ev.attempt = r->attempts;
	emit(t, &ev);
}

/* The message outlived maximal_queue_lifetime: its deferred recipients
   are returned to the sender. */
static void
on_expired(struct ev_track *t, const struct ev_line *l, struct ev_msg *m)
{
	struct scratch s;
	bool any = false;

	s.used = 0;
	set_str(&m->from, l->from.p, l->from.n);
	for (size_t i = 0; i < m->nr; i++) {
		struct rk_event ev;

		if (!m->r[i].pending)
			continue;
		s.used = 0;
		base_event(&ev, RK_EVT_EXPIRED, l, m, &s);
		ev.to = m->r[i].addr;
		ev.status = l->forced ? "force-expired" : "expired";
		ev.response = "returned to sender";
		ev.attempt = m->r[i].attempts;
		m->r[i].pending = false;
		m->r[i].dirty = true;
		touch(t, m);
		any = true;
		emit(t, &ev);
	}
	if (!any && m->nr == 0) { /* no recipient known: say it once */
		struct rk_event ev;

		base_event(&ev, RK_EVT_EXPIRED, l, m, &s);
		ev.status = l->forced ? "force-expired" : "expired";
		ev.response = "returned to sender";
		emit(t, &ev);
	}
}

static void
on_queued(struct ev_track *t, const struct ev_line *l, struct ev_msg *m)
{
	struct scratch s;
	struct rk_event ev;

	s.used = 0;
	set_str(&m->from, l->from.p, l->from.n);
	m->size = l->size;
	m->nrcpt = l->nrcpt;
	touch(t, m);
	if (m->queued)
		return; /* a retry enters the active queue again */
	m->queued = true;
	base_event(&ev, RK_EVT_QUEUED, l, m, &s);
	ev.status = "queued";
	emit(t, &ev);
}

static bool
qid_of(const struct ev_line *l, char *buf)
{
	if (l->qid.n == 0 || l->qid.n >= 24)
		return false;
	memcpy(buf, l->qid.p, l->qid.n);
	buf[l->qid.n] = '\0';
	return true;
}

void
ev_track_line(struct ev_track *t, const struct ev_line *l)
{
	char qid[24];
	struct ev_msg *m;

	if (!qid_of(l, qid))
		return;
	switch (l->kind) {
	case EV_L_MESSAGE_ID:
		m = get(t, qid);
		set_str(&m->message_id, l->message_id.p, l->message_id.n);
		touch(t, m);
		break;
	case EV_L_QUEUED:
		on_queued(t, l, get(t, qid));
		break;
	case EV_L_DELIVERY:
		on_delivery(t, l, get(t, qid));
		break;
	case EV_L_EXPIRED:
		on_expired(t, l, get(t, qid));
		break;
	case EV_L_REMOVED:
		if ((m = find(t, qid)) == NULL)
			break;
		if (m->dirty) {
			m->removed = true; /* freed once written */
		} else {
			unlink_msg(t, m);
			msg_free(m);
		}
		break;
	default:
		break;
	}
}

bool
ev_track_wants(const struct ev_track *t, const struct ev_line *l, char *buf)
{
	const struct ev_msg *m;

	if (l->kind != EV_L_QUEUED && l->kind != EV_L_DELIVERY &&
	    l->kind != EV_L_EXPIRED)
		return false;
	if (!qid_of(l, buf))
		return false;
	m = find(t, buf);
	return m == NULL || !m->restored;
}

/* ----------------------------------------------------------- restore */

static void
fill(char **dst, const char *v)
{
	if (*dst == NULL && v != NULL && *v != '\0')
		*dst = rk_strdup(v);
}

static void
restore_rcpt(struct ev_msg *m, const char *f, const char *v)
{
	struct ev_rcpt *r = rcpt(m, f + 2);

	if (f[0] == 'a') {
		int64_t a = strtoll(v, NULL, 10);

		if (a > r->attempts)
			r->attempts = a;
	} else if (!r->dirty) {
		r->pending = strcmp(v, "1") == 0;
	}
}

void
ev_track_restore(struct ev_track *t, const char *qid, const char *const *fields,
    const char *const *values, size_t n)
{
	struct ev_msg *m = get(t, qid);

	for (size_t i = 0; i < n; i++) {
		const char *f = fields[i], *v = values[i];

		if (strcmp(f, "client_id") == 0)
			fill(&m->client_id, v);
		else if (strcmp(f, "subject") == 0)
			fill(&m->subject, v);
		else if (strcmp(f, "ev_msgid") == 0 ||
		    strcmp(f, "message_id") == 0)
			fill(&m->message_id, v);
		else if (strcmp(f, "ev_from") == 0 || strcmp(f, "sender") == 0)
			fill(&m->from, v);
		else if ((strcmp(f, "ev_size") == 0 ||
		             strcmp(f, "size") == 0) &&
		    m->size < 0)
			m->size = strtoll(v, NULL, 10);
		else if (strcmp(f, "ev_nrcpt") == 0 && m->nrcpt < 0)
			m->nrcpt = strtoll(v, NULL, 10);
		else if (strcmp(f, "ev_queued") == 0)
			m->queued |= strcmp(v, "1") == 0;
		else if ((f[0] == 'a' || f[0] == 'p') && f[1] == ':')
			restore_rcpt(m, f, v);
	}
	m->restored = true;
}

void
ev_track_flush(struct ev_track *t,
    void (*fn)(void *arg, const struct ev_msg *m), void *arg)
{
	for (size_t i = 0; i < t->ndirty; i++) {
		struct ev_msg *m = t->dirty[i];

		if (fn != NULL)
			fn(arg, m);
		m->dirty = false;
		for (size_t j = 0; j < m->nr; j++)
			m->r[j].dirty = false;
		if (m->removed) {
			unlink_msg(t, m);
			msg_free(m);
		}
	}
	t->ndirty = 0;
	evict(t);
}
