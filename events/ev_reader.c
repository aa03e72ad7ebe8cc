/* SPDX-License-Identifier: MIT */
/*
 * ev_reader: the reader thread.  Batch after batch: take the lines the
 * log has now (ev_follow), parse them (ev_line), count them (ev_stats),
 * fetch from Redis the state of messages they name that memory lacks,
 * feed them to the tracker (events), and store events, states and the
 * position after the batch's last line in one transaction (ev_store).
 * Pipelined: a batch's transaction goes out once the next batch's states
 * are fetched, and Redis runs it while this thread tracks that next
 * batch; its replies are read before the next one goes out, so one
 * batch at most is in flight, and one that waits for lines is stored at
 * once.
 * When Redis fails, the same batch is written again and again (backoff
 * 100 ms to 5 s) and no further line is read: the log itself is the
 * buffer, nothing is lost and memory does not grow.
 *
 * Threading: runs on its own thread; stop, up, done and the event count
 * are atomics read by the main thread (health, shutdown).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "eventd.h"

#define BATCH_LINES    4096
#define WANT_SLOTS     8192 /* a power of two, twice BATCH_LINES */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define TRIM_EVERY_MS  60000

struct ev_reader {
	struct ev_reader_opts o;
	struct ev_follow *f;
	struct ev_track *t;
	struct ev_store *store;
	struct ev_pace *pace; /* NULL unless adaptiveRate.enabled */
	struct ev_stats_io *io;
	struct ev_batch b;    /* the batch being built */
	struct ev_batch sent; /* built before it; stored once pending */
	bool pending;         /* sent holds a batch not yet stored */
	uint64_t sent_t0;     /* when its write began */
	struct rk_buf raw;    /* the batch's lines, each NUL-terminated */
	size_t *off;
	size_t nlines, caplines;
	struct ev_line *lines;
	char (*want)[24];
	uint16_t want_set[WANT_SLOTS]; /* 1 + index into want, 0: free */
	struct ev_clock clock;
	struct rk_ratelimit fail_log;
	uint64_t next_trim;
	bool failed; /* Redis failed this batch: say when it works again */
	_Atomic bool stop, up, done;
	_Atomic uint64_t events;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms, waking early when asked to stop. */
static void
nap(struct ev_reader *r, uint64_t ms)
{
	while (ms > 0 && !atomic_load(&r->stop)) {
		uint64_t step = ms < 50 ? ms : 50;
		struct timespec ts = { 0, (long)step * 1000000 };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* ------------------------------------------------------------- batch */

void
ev_batch_add_event(struct ev_batch *b, const struct rk_event *ev)
{
	if (b->nev + 1 >= b->capev) {
		b->capev = b->capev ? b->capev * 2 : 256;
		b->joff = rk_reallocarray(b->joff, b->capev, sizeof(*b->joff));
		b->type = rk_reallocarray(b->type, b->capev, sizeof(*b->type));
	}
	b->joff[b->nev] = b->json.len;
	rk_event_json_buf(ev, &b->json);
	b->type[b->nev++] = (int)ev->type;
	b->joff[b->nev] = b->json.len;
}

static void
kv(struct ev_update *u, const char *k, const char *v)
{
	u->kv = rk_reallocarray(u->kv, u->n + 1, sizeof(*u->kv));
	u->kv[u->n].k = rk_strdup(k);
	u->kv[u->n++].v = rk_strdup(v ? v : "");
}

static void
kv_int(struct ev_update *u, const char *k, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	kv(u, k, buf);
}

/* The fields of ev_track_restore, for what changed in m. */
void
ev_batch_add_state(struct ev_batch *b, const struct ev_msg *m)
{
	struct ev_update *u;

	if (b->nup == b->capup) {
		b->capup = b->capup ? b->capup * 2 : 64;
		b->up = rk_reallocarray(b->up, b->capup, sizeof(*b->up));
	}
	u = &b->up[b->nup++];
	memset(u, 0, sizeof(*u));
	snprintf(u->qid, sizeof(u->qid), "%s", m->qid);
	if (m->from)
		kv(u, "ev_from", m->from);
	if (m->message_id)
		kv(u, "ev_msgid", m->message_id);
	if (m->size >= 0)
		kv_int(u, "ev_size", m->size);
	if (m->nrcpt >= 0)
		kv_int(u, "ev_nrcpt", m->nrcpt);
	kv(u, "ev_queued", m->queued ? "1" : "0");
	for (size_t i = 0; i < m->nr; i++) {
		struct rk_buf k;

		if (!m->r[i].dirty)
			continue;
		rk_buf_init(&k);
		rk_buf_printf(&k, "a:%s", m->r[i].addr);
		kv_int(u, k.data, m->r[i].attempts);
		k.data[0] = 'p';
		kv(u, k.data, m->r[i].pending ? "1" : "0");
		rk_buf_free(&k);
	}
}

void
ev_batch_clear(struct ev_batch *b)
{
	rk_buf_reset(&b->json);
	for (size_t i = 0; i < b->nup; i++) {
		for (size_t j = 0; j < b->up[i].n; j++) {
			free(b->up[i].kv[j].k);
			free(b->up[i].kv[j].v);
		}
		free(b->up[i].kv);
	}
	for (size_t i = 0; i < b->npace; i++)
		rk_buf_free(&b->pace[i].letters);
	b->nev = b->nup = b->npace = 0;
}

static void
batch_free(struct ev_batch *b)
{
	ev_batch_clear(b);
	rk_buf_free(&b->json);
	free(b->joff);
	free(b->type);
	free(b->up);
	free(b->pace);
}

/* ------------------------------------------------------------ reader */

static void
on_event(void *arg, const struct rk_event *ev)
{
	struct ev_reader *r = arg;

	ev_stats_event(r->o.stats, ev);
	atomic_fetch_add(&r->events, 1);
	if (!r->o.dry_run) {
		ev_batch_add_event(&r->b, ev);
		ev_pace_note(r->pace, &r->b, ev);
	}
}

static void
collect(void *arg, const char *line, size_t len)
{
	struct ev_reader *r = arg;

	if (r->nlines == r->caplines) {
		r->caplines = r->caplines ? r->caplines * 2 : BATCH_LINES;
		r->off = rk_reallocarray(r->off, r->caplines, sizeof(*r->off));
	}
	r->off[r->nlines++] = r->raw.len;
	rk_buf_append(&r->raw, line, len);
	rk_buf_putc(&r->raw, '\0');
}

struct ev_reader *
ev_reader_new(const struct ev_reader_opts *o, struct rk_err *err)
{
	struct ev_reader *r = rk_calloc(1, sizeof(*r));

	r->o = *o;
	r->io = ev_stats_io(o->stats);
	if (!o->dry_run &&
	    (r->store = ev_store_new(o->cfg, o->name, r->io, err)) == NULL) {
		free(r);
		return NULL;
	}
	if (!o->dry_run && o->cfg->adaptiveRate.enabled &&
	    (r->pace = ev_pace_new(o->cfg, r->io, err)) == NULL) {
		ev_store_free(r->store);
		free(r);
		return NULL;
	}
	r->t = ev_track_new((size_t)o->cfg->eventd.maxMessages, on_event, r);
	r->lines = rk_calloc(BATCH_LINES, sizeof(*r->lines));
	r->want = rk_calloc(BATCH_LINES, sizeof(*r->want));
	rk_buf_init(&r->raw);
	rk_ratelimit_init(&r->fail_log, 60000);
	return r;
}

void
ev_reader_free(struct ev_reader *r)
{
	if (r == NULL)
		return;
	ev_follow_close(r->f);
	ev_track_free(r->t);
	ev_store_free(r->store);
	ev_pace_free(r->pace);
	batch_free(&r->b);
	batch_free(&r->sent);
	rk_buf_free(&r->raw);
	free(r->off);
	free(r->lines);
	free(r->want);
	free(r);
}

void
ev_reader_stop(struct ev_reader *r)
{
	atomic_store(&r->stop, true);
}

bool
ev_reader_up(const struct ev_reader *r)
{
	return atomic_load(&r->up);
}

bool
ev_reader_done(const struct ev_reader *r)
{
	return atomic_load(&r->done);
}

uint64_t
ev_reader_events(const struct ev_reader *r)
{
	return atomic_load(&r->events);
}

/* Redis failed: say so (once a minute), count, wait. */
static void
trouble(struct ev_reader *r, const char *what, const struct rk_err *err,
    uint64_t *backoff)
{
	unsigned long n = 0;

	atomic_store(&r->up, false);
	rk_metric_set(r->io->up, 0, NULL);
	if (rk_ratelimit_allow(&r->fail_log, mono_ms(), &n))
		rk_log_warnx("redis: %s failed: %s; the log waits, nothing is "
		             "lost (logged once a minute%s)",
		    what, err->msg, n ? ", more since" : "");
	nap(r, *backoff);
	*backoff =
	    *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
}

/* Where to start: the saved position, read from Redis (waiting for it). */
static void
open_log(struct ev_reader *r)
{
	struct ev_pos pos;
	uint64_t backoff = BACKOFF_MIN_MS;
	struct rk_err err;
	int have = 0;

	while (r->store != NULL && !atomic_load(&r->stop) &&
	    (have = ev_store_load_pos(r->store, &pos, &err)) < 0)
		trouble(r, "reading the log position", &err, &backoff);
	r->f = ev_follow_open(r->o.cfg->eventd.logFile, have > 0 ? &pos : NULL,
	    r->o.from_start || r->o.cfg->eventd.startAt == RK_START_BEGINNING,
	    r->io);
}

/*
 * Redis lost the latest transactions (a failover): start over as after a
 * restart, from the position Redis has, with the message state it has.
 * The lines in between are read again and give their events again, with
 * the same ids; only the line counters count them twice.
 */
static void
rewind_log(struct ev_reader *r, const struct rk_err *why)
{
	rk_log_warnx("redis: %s; re-reading the log from there", why->msg);
	rk_metric_inc(r->io->rewinds, NULL);
	ev_follow_close(r->f);
	r->f = NULL;
	ev_track_free(r->t);
	r->t = ev_track_new((size_t)r->o.cfg->eventd.maxMessages, on_event, r);
	ev_batch_clear(&r->b);
	ev_batch_clear(&r->sent);
	r->pending = false;
	open_log(r);
}

/* FNV-1a of a queue id, for the batch's set of wanted ids. */
static uint32_t
qid_hash(const char *q)
{
	uint32_t h = 2166136261u;

	for (; *q != '\0'; q++)
		h = (h ^ (unsigned char)*q) * 16777619u;
	return h;
}

/*
 * The queue ids of this batch whose state memory lacks, each once (an
 * open-addressing set over the batch: comparing each with every other
 * was a tenth of eventd's CPU).
 */
static size_t
wanted(struct ev_reader *r)
{
	size_t n = 0;

	memset(r->want_set, 0, sizeof(r->want_set));
	for (size_t i = 0; i < r->nlines; i++) {
		char q[24];
		uint32_t k;

		if (!ev_track_wants(r->t, &r->lines[i], q))
			continue;
		k = qid_hash(q) & (WANT_SLOTS - 1);
		while (r->want_set[k] != 0 &&
		    strcmp(r->want[r->want_set[k] - 1], q) != 0)
			k = (k + 1) & (WANT_SLOTS - 1);
		if (r->want_set[k] != 0)
			continue;
		memcpy(r->want[n++], q, sizeof(q));
		r->want_set[k] = (uint16_t)n;
	}
	return n;
}

/* A message Postfix has removed needs no state kept: it is done. */
static void
flush_state(void *arg, const struct ev_msg *m)
{
	if (!m->removed)
		ev_batch_add_state(arg, m);
}

static void
parse_lines(struct ev_reader *r)
{
	int64_t now = real_ms();

	for (size_t i = 0; i < r->nlines; i++) {
		const char *l = r->raw.data + r->off[i];

		ev_line_parse(l, strlen(l), now, &r->clock, &r->lines[i]);
		ev_stats_line(r->o.stats, &r->lines[i]);
	}
}

/* sent is stored: count it, say Redis works (again). */
static void
stored(struct ev_reader *r)
{
	rk_metric_observe(
	    r->io->batches, (double)(mono_ms() - r->sent_t0) / 1000, NULL);
	if (r->failed)
		rk_log_info("redis: events are written again");
	r->failed = false;
	atomic_store(&r->up, true);
	rk_metric_set(r->io->up, 1, NULL);
	ev_batch_clear(&r->sent);
	r->pending = false;
}

/*
 * The pipeline failed (rc, err): store sent and fetch the batch's states
 * again, one at a time, until Redis answers.  false when the log was
 * rewound (Redis lost writes) or the reader stops: the batch at hand is
 * dropped, and the position in Redis says where to read again.
 */
static bool
recover(struct ev_reader *r, size_t nw, int rc, struct rk_err *err)
{
	uint64_t backoff = BACKOFF_MIN_MS;

	for (;;) {
		if (rc == EV_STORE_LOST) {
			rewind_log(r, err);
			return false;
		}
		if (rc != 0) {
			trouble(r,
			    r->pending ? "writing events"
			               : "reading message state",
			    err, &backoff);
			r->failed = true;
		}
		if (rc != 0 && atomic_load(&r->stop))
			return false;
		if (r->pending) { /* tried once more even when stopping */
			if ((rc = ev_store_write(r->store, &r->sent, err)) == 0)
				stored(r);
			continue;
		}
		if (nw == 0 || atomic_load(&r->stop))
			return nw == 0;
		rc = ev_store_fetch(r->store, r->t, r->want, nw, err);
		if (rc == 0)
			return true;
	}
}

/* One batch: parsed, its states fetched (with the batch before it sent
   to be stored), tracked, and left in sent to go out with the next. */
static void
process(struct ev_reader *r)
{
	struct ev_pos pos;
	struct rk_err err;
	size_t nw;
	int rc;

	parse_lines(r);
	nw = r->store ? wanted(r) : 0;
	if (r->store != NULL) {
		/* the fetch first, on its own: Redis answers only once it has
		   run all it read, and a transaction behind it would delay it
		 */
		rc = nw > 0 ? ev_store_fetch(r->store, r->t, r->want, nw, &err)
		            : 0;
		r->sent_t0 = mono_ms();
		if (rc == 0 && r->pending)
			rc = ev_store_send(r->store, &r->sent, &err);
		if (rc != 0 && !recover(r, nw, rc, &err))
			return;
	}
	for (size_t i = 0; i < r->nlines; i++)
		ev_track_line(r->t, &r->lines[i]);
	if (r->store == NULL) {
		/* nothing is stored, but messages must turn clean: only clean
		   ones leave memory at eventd.maxMessages */
		ev_track_flush(r->t, NULL, NULL);
		return;
	}
	ev_follow_pos(r->f, &pos);
	ev_pos_format(&pos, r->b.pos, sizeof(r->b.pos));
	ev_track_flush(r->t, flush_state, &r->b);
	if (r->pending) {
		rc = ev_store_write_recv(r->store, &r->sent, &err);
		if (rc == 0)
			stored(r);
		else if (!recover(r, 0, rc, &err))
			return;
	}
	{
		struct ev_batch t = r->sent;

		r->sent = r->b;
		r->b = t;
		r->pending = true;
	}
}

/* The batch left in sent, stored now: no more lines come for a while. */
static void
store_pending(struct ev_reader *r)
{
	struct rk_err err;

	if (r->pending) {
		r->sent_t0 = mono_ms();
		(void)recover(r, 0, 0, &err);
	}
}

/* Nothing new: the periodic chores, then a nap. */
static void
idle(struct ev_reader *r)
{
	uint64_t now;

	store_pending(r);
	now = mono_ms();
	rk_metric_set(r->io->lag_bytes, (double)ev_follow_lag(r->f), NULL);
	if (r->store != NULL && now >= r->next_trim) {
		ev_store_trim(r->store);
		r->next_trim = now + TRIM_EVERY_MS;
	}
	if (r->store == NULL || atomic_load(&r->up))
		rk_metric_set(r->io->up, 1, NULL);
	if (r->store == NULL)
		atomic_store(&r->up, true);
	nap(r, r->o.cfg->eventd.pollInterval);
}

int
ev_reader_run(struct ev_reader *r)
{
	open_log(r);
	if (r->store == NULL)
		atomic_store(&r->up, true);
	while (!atomic_load(&r->stop)) {
		int n;

		r->nlines = 0;
		rk_buf_reset(&r->raw);
		n = ev_follow_read(r->f, BATCH_LINES, collect, r);
		if (n < 0)
			rk_log_warn("log: read %s", r->o.cfg->eventd.logFile);
		if (n > 0) {
			process(r);
			continue;
		}
		if (ev_follow_eof(r->f))
			break;
		idle(r);
	}
	store_pending(r);
	atomic_store(&r->done, true);
	return 0;
}
