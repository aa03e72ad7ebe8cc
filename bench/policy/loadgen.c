/* SPDX-License-Identifier: MIT */
/*
 * bench/policy/loadgen: a policy delegation load generator.  K threads,
 * each with one persistent connection, send realistic RCPT requests
 * (Postfix 3.7's attribute set, 1000 senders) one at a time, as smtpd
 * processes do, for a fixed time after a warm-up, and print
 *
 *   requests/s  p50 ms  p99 ms  answers (DUNNO / other / errors)
 *
 * usage: loadgen ADDR CONNECTIONS SECONDS
 *   ADDR: unix:/path or HOST:PORT
 * Not a test: a benchmark, built and run by bench/policy/run.
 */
#define _DEFAULT_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_S    1.0
#define MAX_SAMPLES (1u << 20)

struct worker {
	pthread_t tid;
	int id;
	uint64_t n, dunno, other, errors;
	double *lat; /* ms */
	size_t nlat;
};

static const char *addr;
static double t_start, t_measure, t_stop;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(void)
{
	int fd;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			return -1;
		return fd;
	}
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

	snprintf(host, sizeof(host), "%s", addr);
	if ((port = strrchr(host, ':')) == NULL)
		return -1;
	*port++ = '\0';
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static size_t
build(char *buf, size_t n, unsigned seq, unsigned sender)
{
	return (size_t)snprintf(buf, n,
	    "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "protocol_name=ESMTP\nclient_address=10.1.%u.%u\n"
	    "client_name=app%u.internal\nreverse_client_name=app%u.internal\n"
	    "helo_name=app%u.internal\nsender=user%u@tenant%u.example\n"
	    "recipient=rcpt%u@example.org\nrecipient_count=0\nqueue_id=\n"
	    "instance=%x.%x.0\nsize=0\netrn_domain=\nstress=\n"
	    "sasl_method=\nsasl_username=\nsasl_sender=\nccert_subject=\n"
	    "ccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
	    "encryption_protocol=\nencryption_cipher=\n"
	    "encryption_keysize=0\npolicy_context=\nserver_address=127.0.0.1\n"
	    "server_port=25\n\n",
	    sender % 250, sender % 200, sender, sender, sender, sender,
	    sender % 50, seq, seq, sender);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	char req[2048], ans[4096];
	unsigned seq = (unsigned)w->id << 24, rnd = (unsigned)w->id * 7919u + 1;
	int fd = dial();

	if (fd < 0) {
		w->errors++;
		return NULL;
	}
	while (now() < t_stop) {
		size_t len, got = 0;
		double t0;

		rnd = rnd * 1103515245u + 12345u;
		len = build(req, sizeof(req), seq++, (rnd >> 8) % 1000);
		t0 = now();
		if (write(fd, req, len) != (ssize_t)len) {
			w->errors++;
			break;
		}
		for (;;) {
			ssize_t r = read(fd, ans + got, sizeof(ans) - 1 - got);

			if (r <= 0)
				goto broken;
			got += (size_t)r;
			ans[got] = '\0';
			if (got >= 2 && strstr(ans, "\n\n") != NULL)
				break;
		}
		if (t0 < t_measure)
			continue;
		w->n++;
		if (strncmp(ans, "action=DUNNO", 12) == 0 ||
		    strncmp(ans, "action=dunno", 12) == 0)
			w->dunno++;
		else
			w->other++;
		if (w->nlat < MAX_SAMPLES)
			w->lat[w->nlat++] = (now() - t0) * 1000.0;
	}
	close(fd);
	return NULL;
broken:
	w->errors++;
	close(fd);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int k;
	double secs;
	struct worker *w;
	uint64_t n = 0, dunno = 0, other = 0, errors = 0;
	double *all;
	size_t nall = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: loadgen ADDR CONNECTIONS SECONDS\n");
		return 64;
	}
	addr = argv[1];
	k = atoi(argv[2]);
	secs = atof(argv[3]);
	w = calloc((size_t)k, sizeof(*w));
	t_start = now();
	t_measure = t_start + WARMUP_S;
	t_stop = t_measure + secs;
	for (int i = 0; i < k; i++) {
		w[i].id = i + 1;
		w[i].lat = malloc(MAX_SAMPLES * sizeof(double));
		pthread_create(&w[i].tid, NULL, run, &w[i]);
	}
	for (int i = 0; i < k; i++)
		pthread_join(w[i].tid, NULL);
	for (int i = 0; i < k; i++)
		nall += w[i].nlat;
	all = malloc((nall ? nall : 1) * sizeof(double));
	nall = 0;
	for (int i = 0; i < k; i++) {
		n += w[i].n;
		dunno += w[i].dunno;
		other += w[i].other;
		errors += w[i].errors;
		memcpy(all + nall, w[i].lat, w[i].nlat * sizeof(double));
		nall += w[i].nlat;
		free(w[i].lat);
	}
	qsort(all, nall, sizeof(double), cmp);
	printf("%.0f %.3f %.3f %llu/%llu/%llu\n", (double)n / secs,
	    nall ? all[nall / 2] : 0.0, nall ? all[nall * 99 / 100] : 0.0,
	    (unsigned long long)dunno, (unsigned long long)other,
	    (unsigned long long)errors);
	free(all);
	free(w);
	return errors ? 1 : 0;
}
