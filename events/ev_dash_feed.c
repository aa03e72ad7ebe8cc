/* SPDX-License-Identifier: MIT */
/*
 * ev_dash_feed: the dashboard's reader of <prefix>events.  A thread of
 * its own with a Redis connection of its own, because XREAD BLOCK waits:
 * neither eventd's log reader nor its loop (metrics, probes, the pages)
 * may wait on it.  It is a plain reader, not a consumer group member: a
 * live view needs no acknowledgements, and several relays' dashboards
 * then all see every event.
 *
 * It starts with the latest dashboard.watch.backlog events, then reads
 * what comes after the last id it saw, so a Redis hiccup loses nothing
 * the stream still holds.  Each entry becomes an ev_dash_ev (parsed and
 * masked here, off the loop) in a bounded queue the loop empties every
 * tick; when the loop falls that far behind, new events are dropped and
 * counted.  Every 2 s it also reads the adaptive delay of the top
 * deferring destinations (P pace:DEST, written by eventd's pacing).
 * Threading: the queue and the pacing lists are the only shared state,
 * under one mutex.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rk_cfg.h"
#include "rk_event.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_redis.h"

#include "ev_dash.h"

#define BLOCK_MS   500   /* XREAD's wait: how soon stop is noticed */
#define READ_COUNT 1000  /* entries per XREAD */
#define QUEUE_MAX  16384 /* events between two ticks of the loop */
#define ID_LEN     48
#define PACE_EVERY 2000 /* ms between two reads of the delays */

struct pace_slot {
	char dest[EV_DASH_DEST_MAX];
	int64_t delay_ms; /* -1: no state */
};

struct ev_dash_feed {
	struct rk_redis *redis;
	struct rk_buf key;
	bool mask;
	size_t backlog;
	char last_id[ID_LEN];
	uint64_t connects; /* rk_redis' count when last_id was checked */
	pthread_t thread;
	_Atomic bool stop, up;
	pthread_mutex_t lock; /* guards the queue */
	struct ev_dash_ev **q;
	size_t head, n;
	uint64_t lost;
	char want[EV_DASH_TOP][EV_DASH_DEST_MAX]; /* the loop's wishes */
	size_t nwant;
	struct pace_slot have[EV_DASH_TOP]; /* what Redis said */
	size_t nhave;
	uint64_t pace_next; /* monotonic ms */
};

static void
push(struct ev_dash_feed *f, struct ev_dash_ev *e)
{
	pthread_mutex_lock(&f->lock);
	if (f->n == QUEUE_MAX) {
		f->lost++;
		free(e);
	} else {
		f->q[(f->head + f->n) % QUEUE_MAX] = e;
		f->n++;
	}
	pthread_mutex_unlock(&f->lock);
}

size_t
ev_dash_feed_take(
    struct ev_dash_feed *f, struct ev_dash_ev **out, size_t max, uint64_t *lost)
{
	size_t k;

	pthread_mutex_lock(&f->lock);
	k = f->n < max ? f->n : max;
	for (size_t i = 0; i < k; i++)
		out[i] = f->q[(f->head + i) % QUEUE_MAX];
	f->head = (f->head + k) % QUEUE_MAX;
	f->n -= k;
	*lost = f->lost;
	f->lost = 0;
	pthread_mutex_unlock(&f->lock);
	return k;
}

bool
ev_dash_feed_up(struct ev_dash_feed *f)
{
	return f->up;
}

/* The "json" field of an entry [id, [field, value, ...]]. */
static const redisReply *
entry_json(const redisReply *entry)
{
	const redisReply *kv;

	if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2 ||
	    entry->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	kv = entry->element[1];
	for (size_t i = 0; i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(kv->element[i]->str, RK_EVENT_F_JSON) == 0 &&
		    kv->element[i + 1]->type == REDIS_REPLY_STRING)
			return kv->element[i + 1];
	return NULL;
}

static void
take_entry(struct ev_dash_feed *f, const redisReply *entry)
{
	const redisReply *j = entry_json(entry);
	struct ev_dash_ev *e;

	if (entry->type == REDIS_REPLY_ARRAY && entry->elements >= 1 &&
	    entry->element[0]->type == REDIS_REPLY_STRING)
		snprintf(f->last_id, sizeof(f->last_id), "%s",
		    entry->element[0]->str);
	if (j != NULL && (e = ev_dash_view(j->str, j->len, f->mask)) != NULL)
		push(f, e);
}

/* "ms-seq" ids compare as number pairs. */
static bool
id_before(const char *a, const char *b)
{
	unsigned long long am = 0, as = 0, bm = 0, bs = 0;

	sscanf(a, "%llu-%llu", &am, &as);
	sscanf(b, "%llu-%llu", &bm, &bs);
	return am < bm || (am == bm && as < bs);
}

/*
 * Where to read from: at start, the latest backlog entries (queued,
 * oldest first) and the newest id; after a reconnection, the newest id
 * if the stream went back (Redis lost its data), else where we were.
 * 0, or -1 when Redis did not answer.
 */
static int
seek(struct ev_dash_feed *f, bool first)
{
	char cnt[24];
	const char *argv[] = { "XREVRANGE", f->key.data, "+", "-", "COUNT",
		cnt };
	struct rk_redis_stats st;
	struct rk_err err;
	redisReply *rep;

	snprintf(cnt, sizeof(cnt), "%zu",
	    first && f->backlog > 0 ? f->backlog : (size_t)1);
	if ((rep = rk_redis_commandv(f->redis, &err, 6, argv, NULL)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 0 && first)
		snprintf(f->last_id, sizeof(f->last_id), "0-0");
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0) {
		const redisReply *newest = rep->element[0];

		if (first && f->backlog > 0)
			for (size_t i = rep->elements; i-- > 0;)
				take_entry(f, rep->element[i]);
		else if (newest->elements > 0 &&
		    newest->element[0]->type == REDIS_REPLY_STRING &&
		    (first || id_before(newest->element[0]->str, f->last_id)))
			snprintf(f->last_id, sizeof(f->last_id), "%s",
			    newest->element[0]->str);
	}
	freeReplyObject(rep);
	rk_redis_stats(f->redis, &st);
	f->connects = st.connects;
	return 0;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (long i = 0; i < ms / 50; i++)
		nanosleep(&ts, NULL);
}

/* One XREAD; -1 when Redis did not answer. */
static int
read_once(struct ev_dash_feed *f)
{
	char cnt[24], block[24];
	const char *argv[] = { "XREAD", "COUNT", cnt, "BLOCK", block, "STREAMS",
		f->key.data, f->last_id };
	const redisReply *entries;
	struct rk_err err;
	redisReply *rep;

	snprintf(cnt, sizeof(cnt), "%d", READ_COUNT);
	snprintf(block, sizeof(block), "%d", BLOCK_MS);
	if ((rep = rk_redis_commandv(f->redis, &err, 8, argv, NULL)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
	    rep->element[0]->type == REDIS_REPLY_ARRAY &&
	    rep->element[0]->elements >= 2) {
		entries = rep->element[0]->element[1];
		for (size_t i = 0; i < entries->elements; i++)
			take_entry(f, entries->element[i]);
	}
	freeReplyObject(rep);
	return 0;
}

void
ev_dash_feed_want_pace(
    struct ev_dash_feed *f, char (*dests)[EV_DASH_DEST_MAX], size_t n)
{
	pthread_mutex_lock(&f->lock);
	f->nwant = n < EV_DASH_TOP ? n : EV_DASH_TOP;
	for (size_t i = 0; i < f->nwant; i++)
		memcpy(f->want[i], dests[i], EV_DASH_DEST_MAX);
	pthread_mutex_unlock(&f->lock);
}

int64_t
ev_dash_feed_pace(struct ev_dash_feed *f, const char *dest)
{
	int64_t ms = -1;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->nhave; i++)
		if (strcmp(f->have[i].dest, dest) == 0)
			ms = f->have[i].delay_ms;
	pthread_mutex_unlock(&f->lock);
	return ms;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One pipelined HGET per wanted destination; the answers replace what
   was known.  A Redis failure keeps the old answers. */
static void
read_pace(struct ev_dash_feed *f)
{
	struct pace_slot got[EV_DASH_TOP];
	redisReply *rep[EV_DASH_TOP];
	struct rk_buf key;
	struct rk_err err;
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->nwant;
	for (size_t i = 0; i < n; i++)
		memcpy(got[i].dest, f->want[i], EV_DASH_DEST_MAX);
	pthread_mutex_unlock(&f->lock);
	if (n == 0)
		return;
	rk_buf_init(&key);
	for (size_t i = 0; i < n; i++) {
		const char *argv[] = { "HGET",
			rk_redis_key(f->redis, &key, "pace:%s", got[i].dest),
			"delay" };

		/* only connecting can fail, so before anything is queued */
		if (rk_redis_append(f->redis, &err, 3, argv, NULL) != 0) {
			rk_buf_free(&key);
			return;
		}
	}
	rk_buf_free(&key);
	if (rk_redis_pipeline(f->redis, &err, n, rep) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		got[i].delay_ms = rep[i]->type == REDIS_REPLY_STRING
		    ? strtoll(rep[i]->str, NULL, 10)
		    : -1;
		freeReplyObject(rep[i]);
	}
	pthread_mutex_lock(&f->lock);
	memcpy(f->have, got, n * sizeof(got[0]));
	f->nhave = n;
	pthread_mutex_unlock(&f->lock);
}

static void *
run(void *arg)
{
	struct ev_dash_feed *f = arg;
	bool seeked = false;

	while (!f->stop) {
		struct rk_redis_stats st;

		rk_redis_stats(f->redis, &st);
		if (!seeked || st.connects != f->connects) {
			if (seek(f, !seeked) != 0) {
				f->up = false;
				pause_ms(200);
				continue;
			}
			seeked = true;
		}
		f->up = read_once(f) == 0;
		if (!f->up)
			pause_ms(200);
		else if (mono_ms() >= f->pace_next) {
			read_pace(f);
			f->pace_next = mono_ms() + PACE_EVERY;
		}
	}
	return NULL;
}

struct ev_dash_feed *
ev_dash_feed_start(const struct rk_cfg *cfg, struct rk_err *err)
{
	struct ev_dash_feed *f = rk_calloc(1, sizeof(*f));
	struct rk_redis_opts ro;

	rk_redis_opts_from_cfg(&ro, &cfg->redis);
	ro.command_timeout_ms += BLOCK_MS; /* XREAD waits that long */
	if ((f->redis = rk_redis_new(&ro, err)) == NULL) {
		free(f);
		return NULL;
	}
	rk_redis_key(f->redis, &f->key, "%s", RK_EVENT_STREAM);
	f->mask = cfg->dashboard.watch.maskAddresses;
	f->backlog = (size_t)cfg->dashboard.watch.backlog;
	f->q = rk_reallocarray(NULL, QUEUE_MAX, sizeof(*f->q));
	pthread_mutex_init(&f->lock, NULL);
	if ((errno = pthread_create(&f->thread, NULL, run, f)) != 0) {
		rk_err_set(
		    err, "dashboard: pthread_create: %s", strerror(errno));
		pthread_mutex_destroy(&f->lock);
		rk_redis_free(f->redis);
		rk_buf_free(&f->key);
		free(f->q);
		free(f);
		return NULL;
	}
	return f;
}

void
ev_dash_feed_stop(struct ev_dash_feed *f)
{
	if (f == NULL)
		return;
	f->stop = true;
	pthread_join(f->thread, NULL);
	for (size_t i = 0; i < f->n; i++)
		free(f->q[(f->head + i) % QUEUE_MAX]);
	pthread_mutex_destroy(&f->lock);
	rk_redis_free(f->redis);
	rk_buf_free(&f->key);
	free(f->q);
	free(f);
}
