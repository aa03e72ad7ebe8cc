/* SPDX-License-Identifier: MIT */
/*
 * ev_store: eventd's Redis side.  A batch of lines becomes one
 * transaction (MULTI ... EXEC, pipelined in one round trip): every event
 * XADDed to <prefix>events (trimmed to about eventd.streamMaxLen), every
 * message state that changed HSET into <prefix>msg:<queue id> (next to
 * the milter's metadata, expiring with it), and the log position SET
 * under <prefix>eventd:pos:<name>:<log file> (expiring POS_TTL after the
 * reader last ran: pods get new host names, and a name that never comes
 * back must not leave its key forever).  Either all of it lands or
 * none does, so after a crash the position says exactly which lines
 * made the events in the stream: none lost, none twice.
 *
 * Failover: replication is asynchronous, so a promoted replica may lack
 * the last transactions.  Each transaction (events and position
 * together) reaches a replica whole or not at all, so the position a new
 * master holds still matches its stream exactly.  On every new
 * connection the store compares that position with the one it last
 * wrote; if they differ, the reader re-reads the log from the one Redis
 * has, and the lost events come back with their same ids.
 *
 * Threading: the reader thread only (it owns the Redis connection).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_pace.h"
#include "rk_redis.h"

#include "eventd.h"

#define PACE_TTL "2592000" /* 30 days without an outcome: forgotten */
#define POS_TTL  "2592000" /* 30 days without this reader: forgotten */

struct ev_store {
	struct rk_redis *r;
	char *pos_key, *stream_key;
	char maxlen[24], ttl[24];
	uint64_t max_age_ms;
	struct ev_stats_io *io;
	struct rk_redis_script pace; /* rk_pace_lua */
	bool warmup;
	char last_pos[EV_POS_LEN]; /* last written or loaded; "" none */
	uint64_t conn_seen;        /* connections checked against it */
	size_t write_n;            /* replies the batch sent last will get */
};

struct ev_store *
ev_store_new(const struct rk_cfg *cfg, const char *name, struct ev_stats_io *io,
    struct rk_err *err)
{
	struct ev_store *s = rk_calloc(1, sizeof(*s));
	struct rk_redis_opts o;
	struct rk_buf b;

	rk_redis_opts_from_cfg(&o, &cfg->redis);
	if ((s->r = rk_redis_new(&o, err)) == NULL) {
		free(s);
		return NULL;
	}
	rk_buf_init(&b);
	s->pos_key = rk_strdup(rk_redis_key(
	    s->r, &b, "eventd:pos:%s:%s", name, cfg->eventd.logFile));
	s->stream_key = rk_strdup(rk_redis_key(s->r, &b, RK_EVENT_STREAM));
	rk_buf_free(&b);
	snprintf(s->maxlen, sizeof(s->maxlen), "%lld",
	    (long long)cfg->eventd.streamMaxLen);
	snprintf(s->ttl, sizeof(s->ttl), "%lld",
	    (long long)cfg->inbound.bounce.maxAgeDays * 86400);
	s->max_age_ms = cfg->eventd.streamMaxAge;
	s->io = io;
	rk_redis_script_init(&s->pace, rk_pace_lua);
	s->warmup = cfg->adaptiveRate.warmup.enabled;
	return s;
}

void
ev_store_free(struct ev_store *s)
{
	if (s == NULL)
		return;
	rk_redis_free(s->r);
	free(s->pos_key);
	free(s->stream_key);
	free(s);
}

static uint64_t
conn_count(const struct ev_store *s)
{
	struct rk_redis_stats st;

	rk_redis_stats(s->r, &st);
	return st.connects;
}

/* The length of "dev:ino:off" in a position, for messages. */
static int
pos_head(const char *pos)
{
	const char *p = pos;

	for (int colons = 0; *p != '\0'; p++)
		if (*p == ':' && ++colons == 3)
			break;
	return (int)(p - pos);
}

/*
 * On a connection not checked yet: 0 if Redis still holds the position
 * last written, EV_STORE_LOST if not, -1 if it could not be asked.
 */
static int
check_pos(struct ev_store *s, struct rk_err *err)
{
	const char *argv[] = { "GET", s->pos_key }, *have;
	redisReply *rep;
	int rc = 0;

	if (rk_redis_connect(s->r, err) < 0)
		return -1;
	if (conn_count(s) == s->conn_seen)
		return 0;
	if ((rep = rk_redis_commandv(s->r, err, 2, argv, NULL)) == NULL)
		return -1;
	have = rep->type == REDIS_REPLY_STRING ? rep->str : "";
	if (rep->type == REDIS_REPLY_ERROR)
		rc = rk_err_set(err, "GET %s: %s", s->pos_key, rep->str);
	else if (strcmp(have, s->last_pos) != 0) {
		rk_err_set(err,
		    "the log position in Redis is \"%.*s\", not \"%.*s\" as "
		    "written last: Redis lost writes (a failover?), or ran a "
		    "transaction whose answer was lost",
		    pos_head(have), have, pos_head(s->last_pos), s->last_pos);
		rc = EV_STORE_LOST;
	}
	freeReplyObject(rep);
	if (rc == 0)
		s->conn_seen = conn_count(s);
	return rc;
}

int
ev_store_load_pos(struct ev_store *s, struct ev_pos *pos, struct rk_err *err)
{
	const char *argv[] = { "GET", s->pos_key };
	redisReply *rep = rk_redis_commandv(s->r, err, 2, argv, NULL);
	int rc = 0;

	if (rep == NULL)
		return -1;
	s->last_pos[0] = '\0';
	s->conn_seen = conn_count(s);
	if (rep->type == REDIS_REPLY_STRING) {
		if (ev_pos_parse(rep->str, pos) == 0) {
			rc = 1;
			snprintf(
			    s->last_pos, sizeof(s->last_pos), "%s", rep->str);
		} else
			rk_log_warnx("log position %s: \"%s\" cannot be read; "
			             "starting afresh",
			    s->pos_key, rep->str);
	} else if (rep->type == REDIS_REPLY_ERROR) {
		rk_err_set(err, "GET %s: %s", s->pos_key, rep->str);
		rc = -1;
	}
	freeReplyObject(rep);
	return rc;
}

/* ------------------------------------------------------------- fetch */

static void
restore_one(struct ev_track *t, const char *qid, const redisReply *rep)
{
	size_t n = rep->elements / 2;
	const char **f = rk_calloc(n ? n : 1, sizeof(*f));
	const char **v = rk_calloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		f[i] = rep->element[2 * i]->str;
		v[i] = rep->element[2 * i + 1]->str;
	}
	ev_track_restore(t, qid, f, v, n);
	free(f);
	free(v);
}

/* HGETALL of each message's state, queued. */
static int
append_fetch(struct ev_store *s, char (*qids)[24], size_t n, struct rk_err *err)
{
	struct rk_buf key;
	int rc = 0;

	rk_buf_init(&key);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *argv[] = { "HGETALL",
			rk_redis_key(s->r, &key, "msg:%s", qids[i]) };

		rc = rk_redis_append(s->r, err, 2, argv, NULL);
	}
	rk_buf_free(&key);
	return rc;
}

int
ev_store_fetch(struct ev_store *s, struct ev_track *t, char (*qids)[24],
    size_t n, struct rk_err *err)
{
	redisReply **reps = rk_calloc(n ? n : 1, sizeof(*reps));
	int rc = check_pos(s, err);

	if (rc == 0)
		rc = append_fetch(s, qids, n, err);
	if (rc == 0)
		rc = rk_redis_pipeline(s->r, err, n, reps);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (reps[i]->type == REDIS_REPLY_ARRAY &&
		    reps[i]->elements % 2 == 0)
			restore_one(t, qids[i], reps[i]);
		else
			ev_track_restore(t, qids[i], NULL, NULL, 0);
	for (size_t i = 0; rc == 0 && i < n; i++)
		freeReplyObject(reps[i]);
	free(reps);
	if (rc != 0)
		rk_metric_inc(s->io->redis_errors, RK_LABELS("read"));
	return rc;
}

/* ------------------------------------------------------------- write */

static int
append(struct ev_store *s, struct rk_err *err, size_t argc, const char **argv)
{
	return rk_redis_append(s->r, err, argc, argv, NULL);
}

static int
append_updates(
    struct ev_store *s, const struct ev_batch *b, size_t *n, struct rk_err *err)
{
	struct rk_buf key;
	int rc = 0;

	rk_buf_init(&key);
	for (size_t i = 0; i < b->nup && rc == 0; i++) {
		const struct ev_update *u = &b->up[i];
		const char **argv = rk_calloc(2 + 2 * u->n, sizeof(*argv));
		const char *exp[3] = { "EXPIRE", NULL, s->ttl };

		argv[0] = "HSET";
		argv[1] = exp[1] = rk_redis_key(s->r, &key, "msg:%s", u->qid);
		for (size_t j = 0; j < u->n; j++) {
			argv[2 + 2 * j] = u->kv[j].k;
			argv[3 + 2 * j] = u->kv[j].v;
		}
		rc = append(s, err, 2 + 2 * u->n, argv);
		if (rc == 0)
			rc = append(s, err, 3, exp);
		free(argv);
		*n += 2;
	}
	rk_buf_free(&key);
	return rc;
}

/* One destination's outcomes through rk_pace_lua (loaded just before
   MULTI on this connection, so EVALSHA finds it). */
static int
append_pace(struct ev_store *s, const struct ev_pace_out *o, const char *now,
    const char *day, struct rk_err *err)
{
	struct rk_buf k1, k2;
	char a[7][32];
	int rc;

	rk_buf_init(&k1);
	rk_buf_init(&k2);
	rk_pace_args(o->cfg, a);
	{
		const char *argv[] = { "EVALSHA", s->pace.sha1, "2",
			rk_redis_key(s->r, &k1, "pace:%s", o->dest),
			rk_redis_key(s->r, &k2, "warm:%s:%s", o->dest, day),
			o->letters.data, now, a[0], a[1], a[2], a[3], a[4],
			a[5], a[6], PACE_TTL, s->warmup ? "1" : "0" };

		rc = append(s, err, sizeof(argv) / sizeof(argv[0]), argv);
	}
	rk_buf_free(&k1);
	rk_buf_free(&k2);
	return rc;
}

/* SCRIPT LOAD before MULTI when the batch paces anything; returns the
   number of replies it adds (0 or 1), or -1. */
static int
append_pace_load(
    struct ev_store *s, const struct ev_batch *b, struct rk_err *err)
{
	const char *argv[] = { "SCRIPT", "LOAD", s->pace.source };

	if (b->npace == 0)
		return 0;
	return append(s, err, 3, argv) == 0 ? 1 : -1;
}

static int
append_batch(
    struct ev_store *s, const struct ev_batch *b, size_t *n, struct rk_err *err)
{
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	const char *set[] = { "SET", s->pos_key, b->pos, "EX", POS_TTL };
	int pre = append_pace_load(s, b, err);
	int rc = pre < 0 ? -1 : append(s, err, 1, multi);
	char now[24], day[9];

	*n = 1 + (size_t)(pre > 0);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL) * 1000);
	rk_pace_day_stamp(time(NULL), day);
	for (size_t i = 0; i < b->nev && rc == 0; i++, (*n)++) {
		const char *argv[] = { "XADD", s->stream_key, "*",
			RK_EVENT_F_TYPE, rk_event_type_name(b->type[i]),
			RK_EVENT_F_JSON, b->json.data + b->joff[i] };
		size_t len[7];

		for (size_t k = 0; k < 6; k++)
			len[k] = strlen(argv[k]);
		len[6] = b->joff[i + 1] - b->joff[i];
		rc = rk_redis_append(s->r, err, 7, argv, len);
	}
	if (rc == 0 && b->nev > 0) {
		/* once per batch, not per XADD: a tenth less work for Redis */
		const char *trim[] = { "XTRIM", s->stream_key, "MAXLEN", "~",
			s->maxlen };

		rc = append(s, err, 5, trim);
		(*n)++;
	}
	if (rc == 0)
		rc = append_updates(s, b, n, err);
	for (size_t i = 0; i < b->npace && rc == 0; i++, (*n)++)
		rc = append_pace(s, &b->pace[i], now, day, err);
	if (rc == 0)
		rc = append(s, err, 5, set);
	if (rc == 0)
		rc = append(s, err, 1, exec);
	*n += 2;
	return rc;
}

/* The EXEC reply: an array, every element an answer, none an error. */
static int
check_exec(const redisReply *exec, struct rk_err *err)
{
	if (exec->type == REDIS_REPLY_ERROR)
		return rk_err_set(err, "EXEC: %s", exec->str);
	if (exec->type != REDIS_REPLY_ARRAY)
		return rk_err_set(err, "EXEC: the transaction was aborted");
	for (size_t i = 0; i < exec->elements; i++)
		if (exec->element[i]->type == REDIS_REPLY_ERROR)
			return rk_err_set(err, "in the transaction: %s",
			    exec->element[i]->str);
	return 0;
}

int
ev_store_send(struct ev_store *s, const struct ev_batch *b, struct rk_err *err)
{
	int rc = check_pos(s, err);

	if (rc == 0)
		rc = append_batch(s, b, &s->write_n, err);
	if (rc == 0)
		rc = rk_redis_flush(s->r, err);
	if (rc != 0)
		rk_metric_inc(s->io->redis_errors, RK_LABELS("write"));
	return rc;
}

int
ev_store_write_recv(
    struct ev_store *s, const struct ev_batch *b, struct rk_err *err)
{
	size_t n = s->write_n;
	redisReply **reps = rk_calloc(n, sizeof(*reps));
	int rc = rk_redis_pipeline(s->r, err, n, reps);

	if (rc == 0) {
		/* a command refused while queueing shows in its own reply */
		for (size_t i = 0; i + 1 < n && rc == 0; i++)
			if (reps[i]->type == REDIS_REPLY_ERROR)
				rc = rk_err_set(err, "%s", reps[i]->str);
		if (rc == 0)
			rc = check_exec(reps[n - 1], err);
		for (size_t i = 0; i < n; i++)
			freeReplyObject(reps[i]);
	}
	free(reps);
	if (rc != 0) {
		rk_metric_inc(s->io->redis_errors, RK_LABELS("write"));
		return -1;
	}
	for (size_t i = 0; i < b->nev; i++)
		rk_metric_inc(s->io->events_written,
		    RK_LABELS(rk_event_type_name(b->type[i])));
	snprintf(s->last_pos, sizeof(s->last_pos), "%s", b->pos);
	return 0;
}

int
ev_store_write(struct ev_store *s, const struct ev_batch *b, struct rk_err *err)
{
	int rc = ev_store_send(s, b, err);

	return rc != 0 ? rc : ev_store_write_recv(s, b, err);
}

/* Keeps the position from expiring while this reader runs (an idle log
   writes no batch), and trims events older than eventd.streamMaxAge (when
   set). */
void
ev_store_trim(struct ev_store *s)
{
	char minid[32];
	struct timespec ts;
	struct rk_err err;
	redisReply *rep;

	{
		const char *argv[] = { "EXPIRE", s->pos_key, POS_TTL };

		if ((rep = rk_redis_commandv(s->r, &err, 3, argv, NULL)))
			freeReplyObject(rep);
	}
	if (s->max_age_ms == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(minid, sizeof(minid), "%lld-0",
	    (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
	        (long long)s->max_age_ms);
	{
		const char *argv[] = { "XTRIM", s->stream_key, "MINID", "~",
			minid };

		rep = rk_redis_commandv(s->r, &err, 5, argv, NULL);
	}
	if (rep != NULL)
		freeReplyObject(rep);
}
