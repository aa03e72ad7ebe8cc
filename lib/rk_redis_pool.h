/* SPDX-License-Identifier: MIT */
/*
 * rk_redis_pool: synchronous Redis connections shared by threads (the
 * milter's libmilter threads).  A thread borrows one connection for a
 * moment and gives it back; idle connections are kept for the next one,
 * so a busy milter does not connect per message.  When Redis is down, each
 * connection's own backoff makes a borrow-and-command fail fast.
 *
 * Thread-safe: the pool's lists are guarded by a mutex; a borrowed
 * connection belongs to its borrower alone until rk_redis_pool_put.
 */
#ifndef RK_REDIS_POOL_H
#define RK_REDIS_POOL_H

#include <stddef.h>

#include "rk_redis.h"

struct rk_redis_pool; /* opaque */

/*
 * max_idle connections are kept between uses.  opts is copied (as
 * rk_redis_new copies it).  NULL with err on bad options.  Caller frees
 * with rk_redis_pool_free once no connection is borrowed.
 */
struct rk_redis_pool *rk_redis_pool_new(
    const struct rk_redis_opts *opts, size_t max_idle, struct rk_err *err);
void rk_redis_pool_free(struct rk_redis_pool *p); /* accepts NULL */

/* A connection for the caller alone; never NULL (it may be down). */
struct rk_redis *rk_redis_pool_get(struct rk_redis_pool *p);
/* Gives it back; closed instead when max_idle are already kept. */
void rk_redis_pool_put(struct rk_redis_pool *p, struct rk_redis *r);

#endif
