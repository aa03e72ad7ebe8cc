/* SPDX-License-Identifier: MIT */
/*
 * mlt_http: the Prometheus scrape endpoint, GET /metrics on one thread.
 *
 * A scrape is one short GET every few seconds from one client, so one
 * thread answering one connection at a time (2 s timeouts, 4 KiB request
 * cap) is enough, and ~100 lines here cost less to audit than a
 * libmicrohttpd dependency.  Non-goals: keep-alive, TLS, other paths.
 * Threading: the thread only reads the registry (rk_metrics_render is
 * safe against concurrent updates); stop joins it.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_str.h"

#include "milter.h"

struct mlt_http {
	struct rk_metrics *reg; /* borrowed */
	int fd;
	_Atomic bool stop;
	pthread_t thread;
};

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
answer(struct mlt_http *h, int fd)
{
	struct timeval tv = { 2, 0 };
	char req[4096];
	size_t len = 0;
	struct rk_buf body, out;
	bool metrics;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len < sizeof(req) - 1) {
		ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);

		if (r <= 0)
			return;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			break;
	}
	metrics = strncmp(req, "GET /metrics ", 13) == 0 ||
	    strncmp(req, "GET /metrics?", 13) == 0;
	rk_buf_init(&body);
	rk_buf_init(&out);
	if (metrics)
		rk_metrics_render(h->reg, &body);
	else
		rk_buf_puts(&body, "not found\n");
	rk_buf_printf(&out,
	    "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    metrics ? "200 OK" : "404 Not Found",
	    metrics ? RK_METRICS_CONTENT_TYPE : "text/plain", body.len);
	rk_buf_append(&out, body.data, body.len);
	write_all(fd, out.data, out.len);
	rk_buf_free(&body);
	rk_buf_free(&out);
}

static void *
serve(void *arg)
{
	struct mlt_http *h = arg;

	while (!h->stop) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 500) <= 0)
			continue;
		if ((c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		answer(h, c);
		close(c);
	}
	return NULL;
}

static int
listen_on(const char *address, int port, struct rk_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char ps[16];
	int fd, one = 1, gai;

	snprintf(ps, sizeof(ps), "%d", port);
	if ((gai = getaddrinfo(address, ps, &hints, &res)) != 0)
		return rk_err_set(
		    err, "metrics address %s: %s", address, gai_strerror(gai));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
		    listen(fd, 16) != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		rk_err_set(
		    err, "metrics %s:%d: %s", address, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

struct mlt_http *
mlt_http_start(
    struct rk_metrics *reg, const char *address, int port, struct rk_err *err)
{
	struct mlt_http *h;
	int fd = listen_on(address, port, err);

	if (fd < 0)
		return NULL;
	h = rk_calloc(1, sizeof(*h));
	h->reg = reg;
	h->fd = fd;
	if (pthread_create(&h->thread, NULL, serve, h) != 0) {
		close(fd);
		free(h);
		rk_err_set(err, "metrics thread: cannot start");
		return NULL;
	}
	return h;
}

void
mlt_http_stop(struct mlt_http *h)
{
	if (h == NULL)
		return;
	h->stop = true;
	pthread_join(h->thread, NULL);
	close(h->fd);
	free(h);
}
