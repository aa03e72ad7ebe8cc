/* SPDX-License-Identifier: MIT */
/*
 * wh_store: the Redis side of relaykit-webhookd (see wh.h for the flow).
 * Keys, with the configured prefix P:
 *   P events            the event stream (eventd, relaykit-bounce)
 *   P wh:q:NAME         an endpoint's queue (a stream): id, type, json,
 *                       attempt per entry
 *   P wh:retry:NAME     its retries, a sorted set scored by epoch ms; a
 *                       member is "attempt\nid\ntype\njson"
 *   P wh:dead           dead letters (a stream, trimmed)
 *   P wh:disabled:NAME  why an endpoint is disabled (410 Gone)
 * Both streams are read through the consumer group "webhooks", so a
 * dispatcher that dies leaves what it took pending for another to claim;
 * its consumer, once it holds nothing and has been idle a day, is deleted
 * (pods get new names, and each would otherwise stay in the groups).
 * Every move between keys is one MULTI ... EXEC or one script.
 * Threading: the loop's thread only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "rk_log.h"
#include "rk_mem.h"

#include "wh.h"

#define GROUP "webhooks"

struct wh_store {
	struct rk_redis *r;
	char *consumer;
	char *stream;
	char minidle[24];
	char dead_maxlen[24];
	bool from_start;
	char claim_cursor[48]; /* XAUTOCLAIM's, on the event stream */
	size_t npending;       /* filing commands appended, not yet sent */
	struct rk_redis_script due, prune;
};

/* Retries that are due go back to the queue, atomically. */
static const char due_lua[] =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],\n"
    "    'LIMIT', 0, ARGV[2])\n"
    "for _, m in ipairs(due) do\n"
    "  local a, id, t, j = string.match(m, '^(%d+)\\n([^\\n]*)\\n([^\\n]*)"
    "\\n(.*)$')\n"
    "  if a then\n"
    "    redis.call('XADD', KEYS[2], '*', 'id', id, 'type', t,\n"
    "        'json', j, 'attempt', a)\n"
    "  end\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "return #due\n";

/* Consumers of group ARGV[1] on the streams KEYS that hold no pending
   entry and have been idle more than ARGV[2] ms, other than ARGV[3],
   leave the group.  One script: none can take an entry in between. */
static const char prune_lua[] =
    "local n = 0\n"
    "for _, k in ipairs(KEYS) do\n"
    "  local cs = redis.pcall('XINFO', 'CONSUMERS', k, ARGV[1])\n"
    "  if type(cs) == 'table' and not cs.err then\n"
    "    for _, c in ipairs(cs) do\n"
    "      local f = {}\n"
    "      for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "      if f.pending == 0 and f.idle > tonumber(ARGV[2]) and\n"
    "          f.name ~= ARGV[3] then\n"
    "        redis.call('XGROUP', 'DELCONSUMER', k, ARGV[1], f.name)\n"
    "        n = n + 1\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return n\n";

/* Nothing may be read while filing commands wait to be sent. */
static void
idle(const struct wh_store *s)
{
	if (s->npending != 0)
		rk_panic(
		    "wh_store: %zu filing commands not committed", s->npending);
}

void
wh_job_clear(struct wh_job *j)
{
	free(j->event_id);
	free(j->type);
	free(j->body);
	memset(j, 0, sizeof(*j));
}

struct wh_store *
wh_store_new(const struct rk_cfg *cfg, const char *consumer, struct rk_err *err)
{
	struct wh_store *s = rk_calloc(1, sizeof(*s));
	struct rk_redis_opts o;
	struct rk_buf b;

	rk_redis_opts_from_cfg(&o, &cfg->redis);
	if ((s->r = rk_redis_new(&o, err)) == NULL) {
		free(s);
		return NULL;
	}
	rk_buf_init(&b);
	s->stream = rk_strdup(rk_redis_key(s->r, &b, RK_EVENT_STREAM));
	rk_buf_free(&b);
	s->consumer = rk_strdup(consumer);
	snprintf(s->minidle, sizeof(s->minidle), "%llu",
	    (unsigned long long)cfg->webhooks.claimAfter);
	snprintf(s->dead_maxlen, sizeof(s->dead_maxlen), "%lld",
	    (long long)cfg->webhooks.deadLetterMaxLen);
	s->from_start = cfg->webhooks.startAt == RK_WH_START_BEGINNING;
	strcpy(s->claim_cursor, "0-0");
	rk_redis_script_init(&s->due, due_lua);
	rk_redis_script_init(&s->prune, prune_lua);
	return s;
}

void
wh_store_free(struct wh_store *s)
{
	if (s == NULL)
		return;
	rk_redis_free(s->r);
	free(s->consumer);
	free(s->stream);
	free(s);
}

struct rk_redis *
wh_store_redis(struct wh_store *s)
{
	return s->r;
}

/* P wh:q:NAME and friends, into b; returns b->data. */
static const char *
key(struct wh_store *s, struct rk_buf *b, const char *what, const char *ep)
{
	return rk_redis_key(
	    s->r, b, "wh:%s%s%s", what, ep ? ":" : "", ep ? ep : "");
}

/* One command; -1 with err when it got no answer or an error reply
   (other than the one allowed, e.g. BUSYGROUP). */
static int
cmd(struct wh_store *s, struct rk_err *err, const char *allowed, size_t argc,
    const char **argv, redisReply **out)
{
	redisReply *rep;

	idle(s);
	rep = rk_redis_commandv(s->r, err, argc, argv, NULL);
	if (out != NULL)
		*out = NULL;
	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ERROR) {
		bool ok = allowed != NULL &&
		    strncmp(rep->str, allowed, strlen(allowed)) == 0;

		if (!ok)
			rk_err_set(err, "%s: %s", argv[0], rep->str);
		freeReplyObject(rep);
		return ok ? 0 : -1;
	}
	if (out != NULL)
		*out = rep;
	else
		freeReplyObject(rep);
	return 0;
}

static int
create_group(struct wh_store *s, const char *stream, const char *start,
    struct rk_err *err)
{
	const char *argv[] = { "XGROUP", "CREATE", stream, GROUP, start,
		"MKSTREAM" };

	return cmd(s, err, "BUSYGROUP", 6, argv, NULL);
}

int
wh_store_setup(struct wh_store *s, const char *const *endpoints, size_t n,
    struct rk_err *err)
{
	struct rk_buf b;
	int rc;

	rc = create_group(s, s->stream, s->from_start ? "0" : "$", err);
	rk_buf_init(&b);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = create_group(s, key(s, &b, "q", endpoints[i]), "0", err);
	rk_buf_free(&b);
	/* A group made again later means Redis lost it (a restart without
	   persistence, a failover to an empty replica): what the stream
	   holds then is all undelivered, eventd's re-read included. */
	if (rc == 0)
		s->from_start = true;
	return rc;
}

/* ------------------------------------------------------------ reading */

/* The value of field name in a stream entry's field array, or NULL. */
static const char *
field(const redisReply *fields, const char *name, size_t *len)
{
	if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, name) == 0) {
			if (len)
				*len = fields->element[i + 1]->len;
			return fields->element[i + 1]->str;
		}
	return NULL;
}

/* The entries of an XREADGROUP (one stream) or XAUTOCLAIM reply. */
static const redisReply *
entries_of(const redisReply *rep, bool claim)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY)
		return NULL;
	if (claim)
		return rep->elements >= 2 ? rep->element[1] : NULL;
	if (rep->elements < 1 || rep->element[0]->elements < 2)
		return NULL;
	return rep->element[0]->element[1];
}

/* Reads up to count entries of stream for us: new ones (cursor NULL),
   ours still pending after cursor, or (claim) claimed ones. */
static redisReply *
read_entries(struct wh_store *s, const char *stream, size_t count, bool claim,
    char *cursor, struct rk_err *err)
{
	char cnt[24];
	redisReply *rep = NULL;

	idle(s);
	snprintf(cnt, sizeof(cnt), "%zu", count);
	if (claim) {
		const char *argv[] = { "XAUTOCLAIM", stream, GROUP, s->consumer,
			s->minidle, cursor, "COUNT", cnt };

		if (cmd(s, err, NULL, 8, argv, &rep) != 0)
			return NULL;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
		    rep->element[0]->type == REDIS_REPLY_STRING)
			snprintf(cursor, 48, "%s", rep->element[0]->str);
	} else {
		const char *argv[] = { "XREADGROUP", "GROUP", GROUP,
			s->consumer, "COUNT", cnt, "STREAMS", stream,
			cursor ? cursor : ">" };

		if (cmd(s, err, NULL, 9, argv, &rep) != 0)
			return NULL;
	}
	return rep;
}

/* relaykit's writer puts the id first, as evt_ and 32 hex digits: read it
   there without parsing the whole event (which costs more than the rest
   of a delivery).  NULL when the event starts otherwise. */
static char *
event_id_first(const char *json, size_t len)
{
	static const char head[] = "{\"id\":\"evt_";
	const size_t hl = sizeof(head) - 1, idl = 4 + 32;

	if (len < hl + 32 + 2 || memcmp(json, head, hl) != 0 ||
	    strspn(json + hl, "0123456789abcdef") < 32 ||
	    json[hl + 32] != '"' || json[hl + 33] != ',')
		return NULL;
	return rk_memdup0(json + hl - 4, idl);
}

/* The "id" of an event's JSON (the webhook-id); caller frees. */
static char *
event_id(const char *json, size_t len)
{
	json_error_t jerr;
	json_t *o;
	const char *id;
	char *out = event_id_first(json, len);

	if (out != NULL)
		return out;
	o = json_loadb(json, len, 0, &jerr);
	id = o ? json_string_value(json_object_get(o, "id")) : NULL;
	out = id ? rk_strdup(id) : NULL;
	json_decref(o);
	return out;
}

/* ------------------------------------------------------------ fan-out */

static int
append(struct wh_store *s, struct rk_err *err, size_t argc, const char **argv,
    const size_t *lens, size_t *n)
{
	(*n)++;
	return rk_redis_append(s->r, err, argc, argv, lens);
}

/* Runs the n appended commands (one or more MULTI ... EXEC); -1 if any
   failed or a transaction was aborted. */
static int
flush(struct wh_store *s, size_t n, struct rk_err *err)
{
	redisReply **reps = rk_calloc(n ? n : 1, sizeof(*reps));
	int rc = rk_redis_pipeline(s->r, err, n, reps);

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (reps[i]->type == REDIS_REPLY_ERROR ||
		    reps[i]->type == REDIS_REPLY_NIL)
			rc = rk_err_set(err, "transaction: %s",
			    reps[i]->type == REDIS_REPLY_ERROR ? reps[i]->str
			                                       : "aborted");
	for (size_t i = 0; i < n && reps[i] != NULL; i++)
		freeReplyObject(reps[i]);
	free(reps);
	return rc;
}

/* Queues one event for every endpoint that wants it. */
static int
fan_one(struct wh_store *s, const redisReply *e, const char *const *eps,
    size_t n, bool (*wants)(void *, size_t, const char *), void *arg,
    size_t *ncmd, struct rk_err *err)
{
	const redisReply *f = e->element[1];
	size_t jlen = 0;
	const char *type = field(f, RK_EVENT_F_TYPE, NULL);
	const char *json = field(f, RK_EVENT_F_JSON, &jlen);
	char *id = json ? event_id(json, jlen) : NULL;
	struct rk_buf q;
	int rc = 0;

	rk_buf_init(&q);
	for (size_t i = 0; id && type && i < n && rc == 0; i++) {
		const char *argv[] = { "XADD", key(s, &q, "q", eps[i]), "*",
			"id", id, "type", type, "json", json, "attempt", "1" };
		size_t lens[11];

		if (!wants(arg, i, type))
			continue;
		for (size_t k = 0; k < 11; k++)
			lens[k] = k == 8 ? jlen : strlen(argv[k]);
		rc = append(s, err, 11, argv, lens, ncmd);
	}
	if (id == NULL)
		rk_log_warnx("webhooks: stream entry %s is no event; skipped",
		    e->element[0]->str);
	if (rc == 0) {
		const char *ack[] = { "XACK", s->stream, GROUP,
			e->element[0]->str };

		rc = append(s, err, 4, ack, NULL, ncmd);
	}
	free(id);
	rk_buf_free(&q);
	return rc;
}

int
wh_store_fanout(struct wh_store *s, size_t count, bool claim,
    const char *const *eps, size_t n,
    bool (*wants)(void *arg, size_t i, const char *type), void *arg,
    struct rk_err *err)
{
	redisReply *rep = read_entries(
	    s, s->stream, count, claim, claim ? s->claim_cursor : NULL, err);
	const redisReply *ents = entries_of(rep, claim);
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	size_t ncmd = 0, nev = ents ? ents->elements : 0;
	int rc = rep ? 0 : -1;

	if (rc == 0 && nev > 0) {
		rc = append(s, err, 1, multi, NULL, &ncmd);
		for (size_t i = 0; i < nev && rc == 0; i++)
			if (ents->element[i]->type == REDIS_REPLY_ARRAY &&
			    ents->element[i]->elements == 2)
				rc = fan_one(s, ents->element[i], eps, n, wants,
				    arg, &ncmd, err);
		if (rc == 0)
			rc = append(s, err, 1, exec, NULL, &ncmd);
		if (rc == 0)
			rc = flush(s, ncmd, err);
	}
	if (rep != NULL)
		freeReplyObject(rep);
	return rc == 0 ? (int)nev : -1;
}

/* ----------------------------------------------------------- delivery */

static bool
job_from(const redisReply *e, struct wh_job *j)
{
	const redisReply *f;
	const char *id, *type, *json, *att;
	size_t jlen = 0;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return false;
	f = e->element[1];
	id = field(f, "id", NULL);
	type = field(f, "type", NULL);
	json = field(f, "json", &jlen);
	att = field(f, "attempt", NULL);
	if (id == NULL || type == NULL || json == NULL)
		return false;
	snprintf(j->entry, sizeof(j->entry), "%s", e->element[0]->str);
	j->event_id = rk_strdup(id);
	j->type = rk_strdup(type);
	j->body = rk_memdup0(json, jlen);
	j->attempt = att ? strtoll(att, NULL, 10) : 1;
	return true;
}

int
wh_store_take(struct wh_store *s, const char *ep, size_t max, enum wh_take how,
    char *cursor, struct wh_job *out, struct rk_err *err)
{
	bool claim = how == WH_TAKE_CLAIM;
	struct rk_buf q;
	char from[48] = "0-0";
	redisReply *rep;
	const redisReply *ents;
	int n = 0;

	rk_buf_init(&q);
	rep = read_entries(s, key(s, &q, "q", ep), max, claim,
	    how == WH_TAKE_NEW       ? NULL
	        : how == WH_TAKE_OWN ? cursor
	                             : from,
	    err);
	ents = entries_of(rep, claim);
	for (size_t i = 0; ents && i < ents->elements && (size_t)n < max; i++) {
		const redisReply *e = ents->element[i];

		if (how == WH_TAKE_OWN && e->type == REDIS_REPLY_ARRAY &&
		    e->elements >= 1 &&
		    e->element[0]->type == REDIS_REPLY_STRING)
			snprintf(cursor, 48, "%s", e->element[0]->str);
		memset(&out[n], 0, sizeof(out[n]));
		if (job_from(e, &out[n])) {
			out[n].claimed = how != WH_TAKE_NEW;
			n++;
		}
	}
	if (how == WH_TAKE_OWN && ents != NULL && ents->elements == 0)
		strcpy(cursor, "");
	if (rep != NULL)
		freeReplyObject(rep);
	rk_buf_free(&q);
	return rep ? n : -1;
}

/* Appends MULTI; the extra commands; XACK and XDEL of the job's entry;
   EXEC.  Sent by wh_store_commit. */
static int
finish(struct wh_store *s, const char *ep, const struct wh_job *j, size_t ncmd,
    const size_t *argc, const char **const *argv, const size_t *const *lens,
    struct rk_err *err)
{
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	struct rk_buf q;
	size_t n = 0;
	int rc;

	rk_buf_init(&q);
	key(s, &q, "q", ep);
	{
		const char *ack[] = { "XACK", q.data, GROUP, j->entry };
		const char *del[] = { "XDEL", q.data, j->entry };

		rc = append(s, err, 1, multi, NULL, &n);
		for (size_t i = 0; i < ncmd && rc == 0; i++)
			rc = append(s, err, argc[i], argv[i], lens[i], &n);
		if (rc == 0)
			rc = append(s, err, 4, ack, NULL, &n);
		if (rc == 0)
			rc = append(s, err, 3, del, NULL, &n);
		if (rc == 0)
			rc = append(s, err, 1, exec, NULL, &n);
	}
	rk_buf_free(&q);
	s->npending += n;
	if (rc != 0)
		s->npending = 0; /* the connection is gone, and with it the
		                    commands appended */
	return rc;
}

int
wh_store_commit(struct wh_store *s, struct rk_err *err)
{
	size_t n = s->npending;

	s->npending = 0;
	return n == 0 ? 0 : flush(s, n, err);
}

int
wh_store_done(struct wh_store *s, const char *ep, const struct wh_job *j,
    struct rk_err *err)
{
	return finish(s, ep, j, 0, NULL, NULL, NULL, err);
}

/* The retry set's member for a job's next attempt; caller frees out. */
static void
retry_member(struct rk_buf *out, const struct wh_job *j)
{
	rk_buf_printf(out, "%lld\n%s\n%s\n%s", (long long)j->attempt + 1,
	    j->event_id, j->type, j->body);
}

int
wh_store_retry(struct wh_store *s, const char *ep, const struct wh_job *j,
    uint64_t at_ms, bool gone, struct rk_err *err)
{
	struct rk_buf k, member, d;
	char score[24];
	int rc;

	rk_buf_init(&k);
	rk_buf_init(&member);
	rk_buf_init(&d);
	retry_member(&member, j);
	snprintf(score, sizeof(score), "%llu", (unsigned long long)at_ms);
	{
		const char *zadd[] = { "ZADD", key(s, &k, "retry", ep), score,
			member.data };
		const char *set[] = { "SET", key(s, &d, "disabled", ep),
			"410 Gone" };
		size_t zlens[] = { 4, k.len, strlen(score), member.len };
		size_t slens[] = { 3, d.len, 8 };
		size_t argc[] = { 4, 3 };
		const char **argv[] = { zadd, set };
		const size_t *lens[] = { zlens, slens };

		rc = finish(s, ep, j, gone ? 2 : 1, argc, argv, lens, err);
	}
	rk_buf_free(&k);
	rk_buf_free(&member);
	rk_buf_free(&d);
	return rc;
}

int
wh_store_dead(struct wh_store *s, const char *ep, const struct wh_job *j,
    const char *why, struct rk_err *err)
{
	char att[24], when[24];
	struct rk_buf k;
	int rc;

	snprintf(att, sizeof(att), "%lld", (long long)j->attempt);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
	rk_buf_init(&k);
	{
		const char *xadd[] = { "XADD", key(s, &k, "dead", NULL),
			"MAXLEN", "~", s->dead_maxlen, "*", "endpoint", ep,
			"id", j->event_id, "type", j->type, "json", j->body,
			"attempts", att, "error", why, "time", when };
		size_t argc[] = { sizeof(xadd) / sizeof(xadd[0]) };
		const char **argv[] = { xadd };
		const size_t *lens[] = { NULL };

		rc = finish(s, ep, j, 1, argc, argv, lens, err);
	}
	rk_buf_free(&k);
	return rc;
}

int
wh_store_due(
    struct wh_store *s, const char *ep, uint64_t now_ms, struct rk_err *err)
{
	struct rk_buf rk, qk;
	char now[24];
	const char *keys[2], *args[2];
	redisReply *rep;
	int n = -1;

	idle(s);
	rk_buf_init(&rk);
	rk_buf_init(&qk);
	snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms);
	keys[0] = key(s, &rk, "retry", ep);
	keys[1] = key(s, &qk, "q", ep);
	args[0] = now;
	args[1] = "100";
	rep = rk_redis_eval(s->r, err, &s->due, 2, keys, 2, args);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		n = (int)rep->integer;
	else if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
		rk_err_set(err, "retries: %s", rep->str);
	if (rep != NULL)
		freeReplyObject(rep);
	rk_buf_free(&rk);
	rk_buf_free(&qk);
	return n;
}

int
wh_store_prune(struct wh_store *s, const char *const *endpoints, size_t n,
    uint64_t idle_ms, struct rk_err *err)
{
	const char **keys = rk_calloc(n + 1, sizeof(*keys));
	struct rk_buf *b = rk_calloc(n ? n : 1, sizeof(*b));
	const char *args[3];
	char idle_s[24];
	redisReply *rep;
	int rc = -1;

	idle(s);
	snprintf(idle_s, sizeof(idle_s), "%llu", (unsigned long long)idle_ms);
	keys[0] = s->stream;
	for (size_t i = 0; i < n; i++) {
		rk_buf_init(&b[i]);
		keys[i + 1] = key(s, &b[i], "q", endpoints[i]);
	}
	args[0] = GROUP;
	args[1] = idle_s;
	args[2] = s->consumer;
	rep = rk_redis_eval(s->r, err, &s->prune, n + 1, keys, 3, args);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		rc = (int)rep->integer;
	else if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
		rk_err_set(err, "consumers: %s", rep->str);
	if (rep != NULL)
		freeReplyObject(rep);
	for (size_t i = 0; i < n; i++)
		rk_buf_free(&b[i]);
	free(b);
	free(keys);
	return rc;
}

long long
wh_store_backlog(struct wh_store *s, const char *ep)
{
	struct rk_buf q, z;
	struct rk_err err;
	long long n = -1;
	const char *x[2], *y[2];
	redisReply *reps[2] = { NULL, NULL };

	idle(s);
	rk_buf_init(&q);
	rk_buf_init(&z);
	x[0] = "XLEN";
	x[1] = key(s, &q, "q", ep);
	y[0] = "ZCARD";
	y[1] = key(s, &z, "retry", ep);
	if (rk_redis_append(s->r, &err, 2, x, NULL) == 0 &&
	    rk_redis_append(s->r, &err, 2, y, NULL) == 0 &&
	    rk_redis_pipeline(s->r, &err, 2, reps) == 0) {
		if (reps[0]->type == REDIS_REPLY_INTEGER &&
		    reps[1]->type == REDIS_REPLY_INTEGER)
			n = reps[0]->integer + reps[1]->integer;
		freeReplyObject(reps[0]);
		freeReplyObject(reps[1]);
	}
	rk_buf_free(&q);
	rk_buf_free(&z);
	return n;
}

/* ----------------------------------------------------- disabled, dead */

int
wh_store_set_disabled(
    struct wh_store *s, const char *ep, const char *reason, struct rk_err *err)
{
	struct rk_buf k;
	int rc;

	rk_buf_init(&k);
	key(s, &k, "disabled", ep);
	if (reason != NULL) {
		const char *argv[] = { "SET", k.data, reason };

		rc = cmd(s, err, NULL, 3, argv, NULL);
	} else {
		const char *argv[] = { "DEL", k.data };

		rc = cmd(s, err, NULL, 2, argv, NULL);
	}
	rk_buf_free(&k);
	return rc;
}

int
wh_store_disabled(struct wh_store *s, const char *ep, char *buf, size_t n)
{
	struct rk_buf k;
	struct rk_err err;
	redisReply *rep;
	int rc;

	rk_buf_init(&k);
	{
		const char *argv[] = { "GET", key(s, &k, "disabled", ep) };

		rc = cmd(s, &err, NULL, 2, argv, &rep);
	}
	rk_buf_free(&k);
	if (rc != 0)
		return -1;
	rc = rep->type == REDIS_REPLY_STRING;
	if (rc)
		snprintf(buf, n, "%s", rep->str);
	freeReplyObject(rep);
	return rc;
}

/* The dead letters, as a reply to XRANGE P wh:dead FROM TO. */
static redisReply *
dead_range(
    struct wh_store *s, const char *from, const char *to, struct rk_err *err)
{
	struct rk_buf k;
	redisReply *rep = NULL;

	rk_buf_init(&k);
	{
		const char *argv[] = { "XRANGE", key(s, &k, "dead", NULL), from,
			to };

		(void)cmd(s, err, NULL, 4, argv, &rep);
	}
	rk_buf_free(&k);
	return rep;
}

int
wh_store_list_dead(
    struct wh_store *s, const char *ep, FILE *out, struct rk_err *err)
{
	redisReply *rep = dead_range(s, "-", "+", err);
	int n = 0;

	if (rep == NULL)
		return -1;
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i], *f = e->element[1];
		const char *name = field(f, "endpoint", NULL);
		json_t *o;
		char *line;

		if (name == NULL || (ep != NULL && strcmp(ep, name) != 0))
			continue;
		o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?}",
		    "entry", e->element[0]->str, "endpoint", name, "id",
		    field(f, "id", NULL), "type", field(f, "type", NULL),
		    "attempts", field(f, "attempts", NULL), "error",
		    field(f, "error", NULL), "time", field(f, "time", NULL));
		line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
		         : NULL;
		if (line != NULL)
			fprintf(out, "%s\n", line);
		free(line);
		json_decref(o);
		n++;
	}
	freeReplyObject(rep);
	return n;
}

static int
replay_one(struct wh_store *s, const redisReply *e, struct rk_err *err)
{
	const redisReply *f = e->element[1];
	const char *name = field(f, "endpoint", NULL),
	           *id = field(f, "id", NULL);
	const char *type = field(f, "type", NULL);
	size_t jlen = 0;
	const char *json = field(f, "json", &jlen);
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	struct rk_buf q, d;
	size_t n = 0;
	int rc;

	if (name == NULL || id == NULL || type == NULL || json == NULL)
		return 0;
	rk_buf_init(&q);
	rk_buf_init(&d);
	{
		const char *add[] = { "XADD", key(s, &q, "q", name), "*", "id",
			id, "type", type, "json", json, "attempt", "1" };
		const char *del[] = { "XDEL", key(s, &d, "dead", NULL),
			e->element[0]->str };
		size_t lens[11];

		for (size_t k = 0; k < 11; k++)
			lens[k] = k == 8 ? jlen : strlen(add[k]);
		rc = append(s, err, 1, multi, NULL, &n);
		if (rc == 0)
			rc = append(s, err, 11, add, lens, &n);
		if (rc == 0)
			rc = append(s, err, 3, del, NULL, &n);
		if (rc == 0)
			rc = append(s, err, 1, exec, NULL, &n);
		if (rc == 0)
			rc = flush(s, n, err);
	}
	rk_buf_free(&q);
	rk_buf_free(&d);
	return rc == 0 ? 1 : -1;
}

int
wh_store_replay(
    struct wh_store *s, const char *ep, const char *which, struct rk_err *err)
{
	bool all = strcmp(which, "all") == 0;
	redisReply *rep =
	    dead_range(s, all ? "-" : which, all ? "+" : which, err);
	int n = 0;

	if (rep == NULL)
		return -1;
	for (size_t i = 0; i < rep->elements && n >= 0; i++) {
		const char *name =
		    field(rep->element[i]->element[1], "endpoint", NULL);
		int r;

		if (ep != NULL && (name == NULL || strcmp(ep, name) != 0))
			continue;
		r = replay_one(s, rep->element[i], err);
		n = r < 0 ? -1 : n + r;
	}
	freeReplyObject(rep);
	return n;
}
