/* SPDX-License-Identifier: MIT */
/*
 * bench/webhookd/sink.c: the loopback webhook receiver of the benchmark.
 * Answers every POST with 200 and counts it; GET /count prints the count.
 * libevent's evhttp on one thread, connections kept alive, so the
 * receiver's own ceiling (measured with wrk in the same run) is well
 * above what is benchmarked.  usage: sink PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static unsigned long long count;

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	(void)arg;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		count++;
		evbuffer_add(out, "{}", 2);
	} else {
		evbuffer_add_printf(out, "%llu\n", count);
	}
	evhttp_send_reply(req, 200, "OK", NULL);
}

int
main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);

	if (argc != 2 || base == NULL || http == NULL ||
	    evhttp_bind_socket(
	        http, "127.0.0.1", (unsigned short)atoi(argv[1])))
		return 1;
	evhttp_set_gencb(http, on_request, NULL);
	event_base_dispatch(base);
	return 0;
}
