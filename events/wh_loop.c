/* SPDX-License-Identifier: MIT */
/*
 * wh_loop: relaykit-webhookd's dispatch loop.  Each turn it fans new
 * events out to the endpoints' queues, moves due retries back, takes
 * events for the endpoints that have free request slots, runs libcurl's
 * multi interface (many requests at once, connections reused), and files
 * each finished request: done, a retry at the scheduled time, a dead
 * letter, or the endpoint disabled (410).
 *
 * No head-of-line blocking: each endpoint has its own queue and at most
 * concurrency / endpoints requests in flight, and a failing event waits
 * in the retry set, not in front of the next one.  Memory: at most
 * webhooks.concurrency events at a time.  When Redis fails, finished
 * requests wait in memory (bounded by the same number) to be filed, and
 * nothing new is taken.  Threading: one thread; stop and up are atomics.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "rk_log.h"
#include "rk_mem.h"

#include "wh.h"

#define FANOUT_BATCH     256
#define FANOUT_IDLE_MS   50
#define CLAIM_EVERY_MS   5000
#define DUE_EVERY_MS     500
#define BACKLOG_EVERY_MS 5000
#define PRUNE_EVERY_MS   3600000  /* consumers that left: once an hour */
#define PRUNE_IDLE_MS    86400000 /* a consumer idle a day has left */
#define ANSWER_MAX       4096 /* bytes of a response body kept, for the log */

struct wh_endpoint {
	const struct rk_cfg_endpoint *cfg;
	struct wh_key keys[2];
	size_t nkeys;
	struct curl_slist *headers; /* the fixed ones */
	bool wants[RK_EVT_NTYPES];
	bool disabled;
	size_t inflight;
	char own[48]; /* our pending entries to resend after a restart; ""
	                 when done */
	struct rk_series *ok, *retry, *failed, *dead, *disabled_s, *backlog;
	struct rk_series *latency;
};

struct wh_req {
	struct wh_loop *l;
	struct wh_endpoint *ep;
	struct wh_job job;
	CURL *h;
	struct curl_slist *headers;
	char retry_after[64];
	char errbuf[CURL_ERROR_SIZE];
	struct rk_buf answer;
	uint64_t started;
	long status;
	CURLcode code;
	bool finished; /* the request is over; filing may still be due */
	enum {
		FILED_OK,
		FILED_RETRY,
		FILED_DEAD,   /* out of retries */
		FILED_FAILED, /* refused for good */
		FILED_GONE,   /* 410 */
	} filed;
	char why[CURL_ERROR_SIZE + 32]; /* a failure, for log and dead letter */
	struct wh_req *next;
};

struct wh_loop {
	const struct rk_cfg *cfg;
	struct wh_store *st;
	CURLM *multi;
	struct wh_endpoint *eps;
	const char **names;
	size_t neps;
	size_t inflight, per_endpoint;
	struct wh_req *reqs; /* in flight or waiting to be filed */
	uint64_t next_claim, next_due, next_backlog, next_fanout, redis_retry;
	uint64_t next_prune;
	struct rk_ratelimit fail_log;
	struct rk_metric *m_deliveries, *m_latency, *m_backlog, *m_disabled,
	    *m_dead, *m_fanout, *m_inflight, *m_redis;
	_Atomic bool stop, up;
	bool need_setup; /* the consumer groups must be made (again) */
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ set up */

static const char *const l_ep_result[] = { "endpoint", "result" };
static const char *const l_ep[] = { "endpoint" };
static const char *const l_what[] = { "what" };

static void
metrics_init(struct wh_loop *l, struct rk_metrics *reg)
{
	l->m_deliveries =
	    rk_metrics_counter(reg, "relaykit_webhookd_deliveries_total",
	        "Requests finished, by endpoint and result (ok; retry: failed, "
	        "tried again later; failed: refused for good; dead: out of "
	        "retries; disabled: 410).",
	        2, l_ep_result);
	l->m_latency =
	    rk_metrics_histogram(reg, "relaykit_webhookd_request_seconds",
	        "Time from request to answer, by endpoint.", 0, NULL, 1, l_ep);
	l->m_backlog = rk_metrics_gauge(reg, "relaykit_webhookd_backlog",
	    "Events waiting for an endpoint (queued, taken, to retry).", 1,
	    l_ep);
	l->m_disabled = rk_metrics_gauge(reg,
	    "relaykit_webhookd_endpoint_disabled",
	    "1 when an endpoint is disabled (it answered 410 Gone).", 1, l_ep);
	l->m_dead = rk_metrics_counter(reg,
	    "relaykit_webhookd_dead_letters_total",
	    "Events given up for an endpoint, kept as dead letters.", 1, l_ep);
	l->m_fanout = rk_metrics_counter(reg, "relaykit_webhookd_events_total",
	    "Events read from the stream and queued for the endpoints.", 0,
	    NULL);
	l->m_inflight = rk_metrics_gauge(
	    reg, "relaykit_webhookd_inflight", "Requests in flight.", 0, NULL);
	l->m_redis =
	    rk_metrics_counter(reg, "relaykit_webhookd_redis_errors_total",
	        "Redis operations that failed (retried), by what.", 1, l_what);
	rk_metric_add(l->m_redis, 0, RK_LABELS("read"));
	rk_metric_add(l->m_redis, 0, RK_LABELS("write"));
}

static void
endpoint_series(struct wh_loop *l, struct wh_endpoint *e)
{
	const char *n = e->cfg->name;

	e->ok = rk_metric_series(l->m_deliveries, RK_LABELS(n, "ok"));
	e->retry = rk_metric_series(l->m_deliveries, RK_LABELS(n, "retry"));
	e->failed = rk_metric_series(l->m_deliveries, RK_LABELS(n, "failed"));
	e->dead = rk_metric_series(l->m_deliveries, RK_LABELS(n, "dead"));
	e->disabled_s =
	    rk_metric_series(l->m_deliveries, RK_LABELS(n, "disabled"));
	e->latency = rk_metric_series(l->m_latency, RK_LABELS(n));
	e->backlog = rk_metric_series(l->m_backlog, RK_LABELS(n));
	rk_metric_add(l->m_dead, 0, RK_LABELS(n));
	rk_metric_set(l->m_disabled, 0, RK_LABELS(n));
}

/* A header value from a file: its first line. */
static int
header_file(struct curl_slist **h, const char *name, const char *path,
    struct rk_err *err)
{
	char line[4096];
	struct rk_buf b;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return rk_err_set(err, "headerFiles: cannot read %s", path);
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	rk_buf_init(&b);
	rk_buf_printf(&b, "%s: %s", name, line);
	*h = curl_slist_append(*h, b.data);
	rk_memzero(line, sizeof(line));
	rk_memzero(b.data, b.len);
	rk_buf_free(&b);
	return 0;
}

static int
endpoint_init(struct wh_loop *l, struct wh_endpoint *e,
    const struct rk_cfg_endpoint *c, struct rk_err *err)
{
	struct rk_buf b;
	const char *secrets[2] = { c->secret, c->previousSecret };

	e->cfg = c;
	strcpy(e->own, "0");
	for (size_t i = 0; i < 2; i++)
		if (secrets[i] != NULL &&
		    wh_key_parse(secrets[i], &e->keys[e->nkeys++]) != 0)
			return rk_err_set(err,
			    "webhooks endpoint %s: its %s is whsec_ but not "
			    "base64",
			    c->name, i ? "previousSecret" : "secret");
	for (size_t i = 0; i < RK_EVT_NTYPES; i++)
		e->wants[i] = c->nevents == 0 && i != RK_EVT_QUEUED;
	for (size_t i = 0; i < c->nevents; i++) {
		int t = rk_event_type_parse(rk_cfg_event_name(c->events[i]));

		if (t >= 0)
			e->wants[t] = true;
	}
	rk_buf_init(&b);
	e->headers = curl_slist_append(NULL, "Content-Type: application/json");
	e->headers = curl_slist_append(e->headers, "Expect:");
	rk_buf_printf(&b, "User-Agent: relaykit-webhookd/%s", PACKAGE_VERSION);
	e->headers = curl_slist_append(e->headers, b.data);
	for (size_t i = 0; i < c->nheaders; i++) {
		rk_buf_reset(&b);
		rk_buf_printf(
		    &b, "%s: %s", c->headers[i].key, c->headers[i].value);
		e->headers = curl_slist_append(e->headers, b.data);
	}
	if (c->bearerToken != NULL) {
		rk_buf_reset(&b);
		rk_buf_printf(&b, "Authorization: Bearer %s", c->bearerToken);
		e->headers = curl_slist_append(e->headers, b.data);
		rk_memzero(b.data, b.len);
	}
	rk_buf_free(&b);
	for (size_t i = 0; i < c->nheaderFiles; i++)
		if (header_file(&e->headers, c->headerFiles[i].key,
		        c->headerFiles[i].value, err) != 0)
			return -1;
	endpoint_series(l, e);
	return 0;
}

struct wh_loop *
wh_loop_new(const struct rk_cfg *cfg, struct wh_store *st,
    struct rk_metrics *reg, struct rk_err *err)
{
	struct wh_loop *l = rk_calloc(1, sizeof(*l));
	const struct rk_cfg_webhooks *w = &cfg->webhooks;

	l->cfg = cfg;
	l->st = st;
	l->multi = curl_multi_init();
	if (l->multi == NULL)
		rk_panic("curl_multi_init failed");
	metrics_init(l, reg);
	l->eps = rk_calloc(w->nendpoints ? w->nendpoints : 1, sizeof(*l->eps));
	l->names =
	    rk_calloc(w->nendpoints ? w->nendpoints : 1, sizeof(*l->names));
	for (size_t i = 0; i < w->nendpoints; i++) {
		if (!w->endpoints[i].enabled)
			continue;
		if (endpoint_init(l, &l->eps[l->neps], &w->endpoints[i], err)) {
			wh_loop_free(l);
			return NULL;
		}
		l->names[l->neps++] = w->endpoints[i].name;
	}
	l->per_endpoint = (size_t)w->concurrency / (l->neps ? l->neps : 1);
	if (l->per_endpoint == 0)
		l->per_endpoint = 1;
	rk_ratelimit_init(&l->fail_log, 60000);
	return l;
}

static void
req_free(struct wh_req *r)
{
	if (r->h != NULL) {
		curl_multi_remove_handle(r->l->multi, r->h);
		curl_easy_cleanup(r->h);
	}
	curl_slist_free_all(r->headers);
	wh_job_clear(&r->job);
	rk_buf_free(&r->answer);
	free(r);
}

void
wh_loop_free(struct wh_loop *l)
{
	if (l == NULL)
		return;
	while (l->reqs != NULL) {
		struct wh_req *r = l->reqs;

		l->reqs = r->next;
		req_free(r);
	}
	for (size_t i = 0; i < l->neps; i++) {
		curl_slist_free_all(l->eps[i].headers);
		for (size_t k = 0; k < l->eps[i].nkeys; k++)
			wh_key_clear(&l->eps[i].keys[k]);
	}
	curl_multi_cleanup(l->multi);
	free(l->eps);
	free(l->names);
	free(l);
}

void
wh_loop_stop(struct wh_loop *l)
{
	atomic_store(&l->stop, true);
}

bool
wh_loop_up(struct wh_loop *l)
{
	return atomic_load(&l->up);
}

/* ------------------------------------------------------------ Redis */

/* Redis failed: log (once a minute), count, and wait before the next
   Redis step. */
static void
trouble(struct wh_loop *l, const char *what, const struct rk_err *err)
{
	unsigned long n = 0;

	atomic_store(&l->up, false);
	rk_metric_inc(l->m_redis, RK_LABELS(what));
	l->redis_retry = mono_ms() + 1000;
	if (strstr(err->msg, "NOGROUP") != NULL)
		l->need_setup = true; /* Redis lost its groups: make them */
	if (rk_ratelimit_allow(&l->fail_log, mono_ms(), &n))
		rk_log_warnx("redis: %s failed: %s; events wait in Redis and "
		             "in the log, nothing is lost (logged once a "
		             "minute)",
		    what, err->msg);
}

/* A disabled endpoint gets nothing queued: it may never come back. */
static bool
wants(void *arg, size_t i, const char *type)
{
	struct wh_loop *l = arg;
	int t = rk_event_type_parse(type);

	return t >= 0 && !l->eps[i].disabled && l->eps[i].wants[t];
}

/* New (and, with claim, orphaned) events into the endpoints' queues.
   When the stream had nothing new, it is read again FANOUT_IDLE_MS
   later, not at every turn of the loop. */
static void
fanout(struct wh_loop *l, uint64_t now, bool claim)
{
	struct rk_err err;
	int n, total = 0;

	if (now < l->next_fanout && !claim)
		return;
	do {
		n = wh_store_fanout(l->st, FANOUT_BATCH, claim, l->names,
		    l->neps, wants, l, &err);
		if (n < 0) {
			trouble(l, "read", &err);
			return;
		}
		total += n;
		rk_metric_add(l->m_fanout, n, NULL);
	} while (n == FANOUT_BATCH && !claim);
	l->next_fanout = total > 0 ? now : now + FANOUT_IDLE_MS;
}

/* ---------------------------------------------------------- requests */

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct wh_req *r = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.*s",
		    (int)(len - 12 < 63 ? len - 12 : 63), p + 12);
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct wh_req *r = arg;
	size_t len = size * n;

	if (r->answer.len < ANSWER_MAX)
		rk_buf_append(&r->answer, p,
		    len < ANSWER_MAX - r->answer.len
		        ? len
		        : ANSWER_MAX - r->answer.len);
	return len;
}

static struct curl_slist *
request_headers(const struct wh_endpoint *e, const struct wh_job *j)
{
	struct curl_slist *h = NULL;
	struct rk_buf b;
	long long now = (long long)time(NULL);

	for (const struct curl_slist *s = e->headers; s; s = s->next)
		h = curl_slist_append(h, s->data);
	rk_buf_init(&b);
	rk_buf_printf(&b, "webhook-id: %s", j->event_id);
	h = curl_slist_append(h, b.data);
	rk_buf_reset(&b);
	rk_buf_printf(&b, "webhook-timestamp: %lld", now);
	h = curl_slist_append(h, b.data);
	if (e->nkeys > 0) {
		rk_buf_reset(&b);
		rk_buf_puts(&b, "webhook-signature: ");
		wh_sign(&b, e->keys, e->nkeys, j->event_id, now, j->body,
		    strlen(j->body));
		h = curl_slist_append(h, b.data);
	}
	rk_buf_free(&b);
	return h;
}

static void
start(struct wh_loop *l, struct wh_endpoint *e, struct wh_job *j)
{
	struct wh_req *r = rk_calloc(1, sizeof(*r));
	uint64_t timeout =
	    e->cfg->timeout ? e->cfg->timeout : l->cfg->webhooks.timeout;

	r->l = l;
	r->ep = e;
	r->job = *j;
	rk_buf_init(&r->answer);
	r->headers = request_headers(e, j);
	r->h = curl_easy_init();
	if (r->h == NULL)
		rk_panic("curl_easy_init failed");
	curl_easy_setopt(r->h, CURLOPT_URL, e->cfg->url);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_POST, 1L);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->job.body);
	curl_easy_setopt(
	    r->h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->job.body));
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout < 10000 ? timeout : 10000));
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	if (e->cfg->caFile != NULL)
		curl_easy_setopt(r->h, CURLOPT_CAINFO, e->cfg->caFile);
	r->started = mono_ms();
	curl_multi_add_handle(l->multi, r->h);
	r->next = l->reqs;
	l->reqs = r;
	e->inflight++;
	l->inflight++;
}

/* Whether an entry is ours already: in flight, or finished and waiting
   to be filed (XAUTOCLAIM hands back our own pending entries too). */
static bool
held(const struct wh_loop *l, const struct wh_endpoint *e, const char *entry)
{
	for (const struct wh_req *r = l->reqs; r != NULL; r = r->next)
		if (r->ep == e && strcmp(r->job.entry, entry) == 0)
			return true;
	return false;
}

/* Takes events for endpoints with free slots: first what this dispatcher
   had taken before it restarted, then new ones (with claim: another
   dispatcher's orphans). */
static void
take(struct wh_loop *l, bool claim)
{
	struct wh_job *jobs = rk_calloc(l->per_endpoint, sizeof(*jobs));
	struct rk_err err;

	for (size_t i = 0; i < l->neps && mono_ms() >= l->redis_retry; i++) {
		struct wh_endpoint *e = &l->eps[i];
		size_t room = l->per_endpoint - e->inflight;
		int n;

		if (e->disabled || e->inflight >= l->per_endpoint ||
		    l->inflight >= (size_t)l->cfg->webhooks.concurrency)
			continue;
		n = wh_store_take(l->st, e->cfg->name, room,
		    e->own[0]   ? WH_TAKE_OWN
		        : claim ? WH_TAKE_CLAIM
		                : WH_TAKE_NEW,
		    e->own, jobs, &err);
		if (n < 0) {
			trouble(l, "read", &err);
			break;
		}
		for (int k = 0; k < n; k++) {
			if (held(l, e, jobs[k].entry))
				wh_job_clear(&jobs[k]);
			else
				start(l, e, &jobs[k]);
		}
	}
	free(jobs);
}

/* -------------------------------------------------------------- filing */

static void
log_failure(const struct wh_req *r, const char *outcome)
{
	char q[300];

	rk_log_info("endpoint=%s id=%s attempt=%lld result=%s reason=%s",
	    r->ep->cfg->name, r->job.event_id, (long long)r->job.attempt,
	    outcome, rk_log_quote(q, sizeof(q), r->why));
}

/* Why a request failed, for the log and the dead letter. */
static void
failure_text(const struct wh_req *r, char *buf, size_t n)
{
	if (r->code != CURLE_OK)
		snprintf(buf, n, "%s",
		    r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->code));
	else
		snprintf(buf, n, "HTTP %ld", r->status);
}

/* Appends the transaction that files a finished request where its
   outcome says (see wh_store_commit). */
static int
plan(struct wh_loop *l, struct wh_req *r, struct rk_err *err)
{
	const struct rk_cfg_webhooks *w = &l->cfg->webhooks;
	const char *ep = r->ep->cfg->name;
	uint64_t wait;

	failure_text(r, r->why, sizeof(r->why));
	switch (r->code == CURLE_OK ? wh_outcome_of(r->status) : WH_RETRY) {
	case WH_OK:
		r->filed = FILED_OK;
		return wh_store_done(l->st, ep, &r->job, err);
	case WH_FAIL:
		r->filed = FILED_FAILED;
		return wh_store_dead(l->st, ep, &r->job, r->why, err);
	case WH_DISABLE: /* it waits in the retry set until --enable */
		r->filed = FILED_GONE;
		return wh_store_retry(
		    l->st, ep, &r->job, epoch_ms(), true, err);
	case WH_RETRY:
		break;
	}
	if (!w->retry || r->job.attempt > w->maxRetries) {
		r->filed = FILED_DEAD;
		return wh_store_dead(l->st, ep, &r->job, r->why, err);
	}
	wait = wh_backoff_ms(w->retrySchedule, w->nretrySchedule,
	    r->job.attempt, (double)rand() / ((double)RAND_MAX + 1),
	    wh_retry_after_ms(r->retry_after, (long long)time(NULL)));
	r->filed = FILED_RETRY;
	return wh_store_retry(
	    l->st, ep, &r->job, epoch_ms() + wait, false, err);
}

/* Logs and counts a request once it is filed. */
static void
account(struct wh_loop *l, struct wh_req *r)
{
	struct wh_endpoint *e = r->ep;

	switch (r->filed) {
	case FILED_OK:
		rk_series_add(e->ok, 1);
		break;
	case FILED_RETRY:
		log_failure(r, "retry");
		rk_series_add(e->retry, 1);
		break;
	case FILED_DEAD:
	case FILED_FAILED:
		log_failure(r, r->filed == FILED_DEAD ? "dead" : "failed");
		rk_series_add(r->filed == FILED_DEAD ? e->dead : e->failed, 1);
		rk_metric_inc(l->m_dead, RK_LABELS(e->cfg->name));
		break;
	case FILED_GONE:
		if (!e->disabled)
			rk_log_warnx("endpoint=%s answered 410 Gone: disabled "
			             "until relaykit-webhookd --enable %s",
			    e->cfg->name, e->cfg->name);
		rk_series_add(e->disabled_s, 1);
		e->disabled = true;
		rk_metric_set(l->m_disabled, 1, RK_LABELS(e->cfg->name));
		break;
	}
}

static void
collect(struct wh_loop *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
		struct wh_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		r->code = m->data.result;
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
		rk_series_observe(
		    r->ep->latency, (double)(mono_ms() - r->started) / 1000);
		r->finished = true;
	}
}

/* Files what finished, all in one round trip (Redis permitting), and
   frees it.  Returns how many were filed. */
static size_t
file_finished(struct wh_loop *l, uint64_t now)
{
	struct wh_req **pp = &l->reqs;
	struct rk_err err;
	size_t n = 0;

	if (now < l->redis_retry)
		return 0;
	for (struct wh_req *r = l->reqs; r != NULL; r = r->next) {
		if (!r->finished)
			continue;
		if (plan(l, r, &err) != 0) {
			trouble(l, "write", &err);
			return 0;
		}
		n++;
	}
	if (n == 0)
		return 0;
	if (wh_store_commit(l->st, &err) != 0) {
		trouble(l, "write", &err); /* all of them again, later */
		return 0;
	}
	while (*pp != NULL) {
		struct wh_req *r = *pp;

		if (!r->finished) {
			pp = &r->next;
			continue;
		}
		account(l, r);
		*pp = r->next;
		r->ep->inflight--;
		l->inflight--;
		req_free(r);
	}
	return n;
}

/* --------------------------------------------------------------- loop */

static void
chores(struct wh_loop *l, uint64_t now)
{
	struct rk_err err;
	char why[128];

	if (now >= l->next_due) {
		for (size_t i = 0; i < l->neps; i++)
			if (!l->eps[i].disabled &&
			    wh_store_due(l->st, l->eps[i].cfg->name, epoch_ms(),
			        &err) < 0) {
				trouble(l, "read", &err);
				return;
			}
		l->next_due = now + DUE_EVERY_MS;
	}
	if (now >= l->next_prune) {
		int n = wh_store_prune(
		    l->st, l->names, l->neps, PRUNE_IDLE_MS, &err);

		if (n > 0)
			rk_log_info("webhooks: %d idle consumer%s left the "
			            "groups",
			    n, n == 1 ? "" : "s");
		l->next_prune = now + PRUNE_EVERY_MS;
	}
	if (now < l->next_backlog)
		return;
	for (size_t i = 0; i < l->neps; i++) {
		struct wh_endpoint *e = &l->eps[i];
		long long b = wh_store_backlog(l->st, e->cfg->name);
		int d =
		    wh_store_disabled(l->st, e->cfg->name, why, sizeof(why));

		if (b >= 0)
			rk_series_set(e->backlog, (double)b);
		if (d >= 0) {
			e->disabled = d == 1;
			rk_metric_set(
			    l->m_disabled, d, RK_LABELS(e->cfg->name));
		}
	}
	l->next_backlog = now + BACKLOG_EVERY_MS;
}

int
wh_loop_run(struct wh_loop *l)
{
	struct rk_err err;

	while (!atomic_load(&l->stop) &&
	    wh_store_setup(l->st, l->names, l->neps, &err) != 0) {
		trouble(l, "read", &err);
		for (int i = 0; i < 20 && !atomic_load(&l->stop); i++) {
			struct timespec ts = { 0, 50000000 };

			nanosleep(&ts, NULL);
		}
	}
	while (!atomic_load(&l->stop)) {
		uint64_t now = mono_ms();
		int running = 0;
		size_t filed;

		if (now >= l->redis_retry && l->need_setup) {
			l->need_setup = false;
			if (wh_store_setup(l->st, l->names, l->neps, &err) != 0)
				trouble(l, "read", &err);
			else
				rk_log_warnx(
				    "redis: the consumer groups were "
				    "gone (Redis lost its data): made "
				    "again; events still in the stream "
				    "are delivered, some maybe twice "
				    "(same webhook-id)");
		}
		if (now >= l->redis_retry) {
			bool claim = now >= l->next_claim;

			atomic_store(&l->up, true);
			fanout(l, now, claim);
			chores(l, now);
			take(l, claim);
			if (claim)
				l->next_claim = now + CLAIM_EVERY_MS;
		}
		curl_multi_perform(l->multi, &running);
		collect(l);
		filed = file_finished(l, mono_ms());
		rk_metric_set(l->m_inflight, (double)l->inflight, NULL);
		if (filed == 0) /* else slots are free: take more at once */
			curl_multi_poll(
			    l->multi, NULL, 0, running ? 20 : 100, NULL);
	}
	return 0;
}
