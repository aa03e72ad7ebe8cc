/* SPDX-License-Identifier: MIT */
/*
 * rk_supervise: the parent that keeps one worker child alive.  See
 * rk_supervise.h.  Single-threaded by contract (called before threads).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "rk_daemon.h"
#include "rk_log.h"
#include "rk_supervise.h"

#define QUICK_DEATH_MS 1000
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

struct sup {
	const struct rk_supervisor *sv;
	sigset_t oldmask;
	pid_t child;
	uint64_t started_ms; /* when the child was forked */
	uint64_t restart_ms; /* 0: none pending */
	uint64_t backoff_ms;
	unsigned restarts;
	bool stopping;
	int status; /* to exit with */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
spawn(struct sup *s)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0) {
		rk_log_warn("%s: fork", s->sv->name);
		s->restart_ms = now_ms() + BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
		/* never outlive the parent that holds the sockets */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != parent)
			_exit(EX_OSERR);
		exit(s->sv->work(s->sv->arg));
	}
	s->child = pid;
	s->started_ms = now_ms();
	s->restart_ms = 0;
}

/* The exit statuses that mean "cannot start": retrying will not help. */
static bool
fatal_status(int st)
{
	return WIFEXITED(st) &&
	    (WEXITSTATUS(st) == EX_CONFIG || WEXITSTATUS(st) == EX_USAGE ||
	        WEXITSTATUS(st) == EX_UNAVAILABLE);
}

/* The child is gone: decide whether to start another, and when. */
static void
reaped(struct sup *s, int st)
{
	uint64_t lived = now_ms() - s->started_ms;

	s->child = 0;
	if (s->stopping || fatal_status(st)) {
		s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
		s->stopping = true;
		return;
	}
	s->backoff_ms = lived >= QUICK_DEATH_MS  ? 0
	    : s->backoff_ms == 0                 ? BACKOFF_MIN_MS
	    : s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                         : s->backoff_ms * 2;
	s->restarts++;
	if (WIFSIGNALED(st))
		rk_log_warnx("%s: worker killed by signal %d after %llu ms; "
		             "starting another in %llu ms (restart %u): the "
		             "listening sockets stayed open",
		    s->sv->name, WTERMSIG(st), (unsigned long long)lived,
		    (unsigned long long)s->backoff_ms, s->restarts);
	else
		rk_log_warnx("%s: worker exited with status %d after %llu "
		             "ms; starting another in %llu ms (restart %u)",
		    s->sv->name, WEXITSTATUS(st), (unsigned long long)lived,
		    (unsigned long long)s->backoff_ms, s->restarts);
	s->restart_ms = now_ms() + s->backoff_ms;
}

static void
on_signal(struct sup *s, int sig)
{
	int st;
	pid_t pid;

	if (sig == SIGCHLD) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			if (pid == s->child)
				reaped(s, st);
		return;
	}
	if (sig == SIGTERM || sig == SIGINT) {
		s->stopping = true;
		s->restart_ms = 0;
		rk_daemon_notify("STOPPING=1");
	}
	if (sig == SIGHUP) {
		rk_daemon_notify_reloading();
		if (s->sv->reload != NULL)
			s->sv->reload(s->sv->arg);
	}
	if (s->child > 0)
		kill(s->child, sig);
	if (sig == SIGHUP)
		rk_daemon_notify("READY=1");
}

int
rk_supervise(const struct rk_supervisor *sv)
{
	struct sup s = { .sv = sv };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &s.oldmask);
	spawn(&s);
	/* the sockets are bound: clients wait in their backlog until the
	   child accepts, so the service is ready as of now */
	rk_daemon_notify("READY=1");
	while (s.child > 0 || !s.stopping) {
		struct timespec ts = { 1, 0 };
		uint64_t now = now_ms();
		int sig;

		if (s.child == 0 && s.restart_ms != 0 && now >= s.restart_ms) {
			spawn(&s);
			continue;
		}
		if (s.restart_ms > now) {
			ts.tv_sec = (time_t)((s.restart_ms - now) / 1000);
			ts.tv_nsec =
			    (long)((s.restart_ms - now) % 1000) * 1000000;
		}
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			on_signal(&s, sig);
		else if (errno != EAGAIN && errno != EINTR)
			rk_log_fatal("%s: sigtimedwait", sv->name);
	}
	sigprocmask(SIG_SETMASK, &s.oldmask, NULL);
	return s.status;
}
