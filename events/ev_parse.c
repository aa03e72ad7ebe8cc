/* SPDX-License-Identifier: MIT */
/*
 * ev_parse: relaykit-eventd --parse [FILE...]: log lines in, one JSON
 * event per line out, through the same parser and tracker as the daemon
 * but without Redis (message state lives in memory only), for tests and
 * for replaying old logs.  With --stats, the metrics the lines give are
 * printed after the events, prefixed by "# ".  Single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "rk_metrics.h"

#include "eventd.h"

struct parse_out {
	FILE *out;
	struct ev_stats *stats;
};

static void
print_event(void *arg, const struct rk_event *ev)
{
	struct parse_out *p = arg;
	char *json = rk_event_json(ev);

	fputs(json, p->out);
	fputc('\n', p->out);
	free(json);
	ev_stats_event(p->stats, ev);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Messages turn clean every FLUSH_EVERY lines, as a daemon's batch
   does: only clean ones leave memory, so memory stays flat. */
#define FLUSH_EVERY 4096

static void
parse_stream(FILE *in, struct ev_track *t, struct ev_stats *stats, int64_t now)
{
	struct ev_clock clk = { 0 };
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) >= 0) {
		struct ev_line l;

		ev_line_parse(line, (size_t)n, now, &clk, &l);
		ev_stats_line(stats, &l);
		ev_track_line(t, &l);
		if (++count % FLUSH_EVERY == 0)
			ev_track_flush(t, NULL, NULL);
	}
	ev_track_flush(t, NULL, NULL);
	free(line);
}

int
ev_parse_main(int nfiles, char **files, bool with_stats, int64_t now, FILE *out)
{
	struct rk_metrics *reg = rk_metrics_new();
	struct parse_out p = { out, ev_stats_new(reg) };
	struct ev_track *t = ev_track_new(1000000, print_event, &p);
	int status = 0;

	if (now <= 0)
		now = now_ms();
	if (nfiles == 0)
		parse_stream(stdin, t, p.stats, now);
	for (int i = 0; i < nfiles; i++) {
		FILE *in =
		    strcmp(files[i], "-") == 0 ? stdin : fopen(files[i], "r");

		if (in == NULL) {
			fprintf(stderr, "relaykit-eventd: %s: %s\n", files[i],
			    strerror(errno));
			status = EX_NOINPUT;
			continue;
		}
		parse_stream(in, t, p.stats, now);
		if (in != stdin)
			fclose(in);
	}
	if (with_stats) {
		struct rk_buf b;

		rk_buf_init(&b);
		rk_metrics_render(reg, &b);
		for (char *l = b.data, *nl; l && *l; l = nl + 1) {
			nl = strchr(l, '\n');
			if (nl == NULL)
				break;
			fprintf(out, "# %.*s\n", (int)(nl - l), l);
		}
		rk_buf_free(&b);
	}
	ev_track_free(t);
	ev_stats_free(p.stats);
	rk_metrics_free(reg);
	return status;
}
