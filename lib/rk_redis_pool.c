/* SPDX-License-Identifier: MIT */
/*
 * rk_redis_pool: a mutex-guarded stack of idle connections.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_redis_pool.h"

struct rk_redis_pool {
	pthread_mutex_t lock;
	struct rk_redis_opts opts; /* strings point into copies below */
	char *host, *unix_path, *password, *prefix;
	struct rk_redis **idle;
	size_t nidle, max_idle;
};

static char *
dup_or_null(const char *s)
{
	return s ? rk_strdup(s) : NULL;
}

struct rk_redis_pool *
rk_redis_pool_new(
    const struct rk_redis_opts *opts, size_t max_idle, struct rk_err *err)
{
	struct rk_redis_pool *p;
	struct rk_redis *probe = rk_redis_new(opts, err);

	if (probe == NULL)
		return NULL; /* the options are checked once, here */
	p = rk_calloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->opts = *opts;
	p->opts.host = p->host = dup_or_null(opts->host);
	p->opts.unix_path = p->unix_path = dup_or_null(opts->unix_path);
	p->opts.password = p->password = dup_or_null(opts->password);
	p->opts.prefix = p->prefix = dup_or_null(opts->prefix);
	p->max_idle = max_idle ? max_idle : 1;
	p->idle = rk_calloc(p->max_idle, sizeof(*p->idle));
	p->idle[p->nidle++] = probe;
	return p;
}

void
rk_redis_pool_free(struct rk_redis_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nidle; i++)
		rk_redis_free(p->idle[i]);
	free(p->idle);
	free(p->host);
	free(p->unix_path);
	rk_free_secret(p->password);
	free(p->prefix);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct rk_redis *
rk_redis_pool_get(struct rk_redis_pool *p)
{
	struct rk_redis *r = NULL;
	struct rk_err err;

	pthread_mutex_lock(&p->lock);
	if (p->nidle > 0)
		r = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->lock);
	if (r == NULL && (r = rk_redis_new(&p->opts, &err)) == NULL)
		rk_panic("rk_redis_pool_get: options checked at start "
		         "now fail: %s",
		    err.msg);
	return r;
}

void
rk_redis_pool_put(struct rk_redis_pool *p, struct rk_redis *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->nidle < p->max_idle) {
		p->idle[p->nidle++] = r;
		r = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	rk_redis_free(r);
}
