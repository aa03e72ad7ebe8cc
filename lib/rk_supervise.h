/* SPDX-License-Identifier: MIT */
/*
 * rk_supervise: a daemon's work runs in a child process; the parent only
 * holds the listening sockets (rk_listen), forwards signals and starts a
 * new child at once when one dies unasked (a crash, kill -9, the OOM
 * killer).  Clients meanwhile wait in the sockets' backlog instead of
 * being refused: a Postfix smtpd that cannot reach its SASL server exits
 * fatally and Postfix's master then throttles the whole service for a
 * minute, so "refused" must never happen.
 *
 * The parent does nothing a peer can influence: it reads no input, so
 * it cannot be crashed by one.  It tells systemd READY=1 once the first
 * child runs, RELOADING=1 and READY=1 around a SIGHUP, STOPPING=1 at the
 * end (rk_daemon_notify).  SIGHUP is passed on (reload); SIGTERM and
 * SIGINT are passed on and end the parent when the child has exited.  A
 * child that keeps dying within a second of its start is restarted with a
 * growing pause (50 ms to 1 s); one that exits with EX_CONFIG,
 * EX_UNAVAILABLE or EX_USAGE (it cannot start at all) ends the parent
 * with that status.
 *
 * Threading: call from main, before any thread exists.  The child gets a
 * fresh process: it builds its event loop and threads itself.  It dies
 * with the parent (PR_SET_PDEATHSIG), so a killed parent never leaves an
 * orphan serving unlinked sockets.
 */
#ifndef RK_SUPERVISE_H
#define RK_SUPERVISE_H

#include <sys/types.h>

struct rk_supervisor {
	const char *name; /* in log lines */
	/* The work done in each child; returns its exit status. */
	int (*work)(void *arg);
	/* Called in the parent on SIGHUP before the child gets it, so the
	   next child starts from the reloaded state too; may be NULL. */
	void (*reload)(void *arg);
	void *arg;
};

/*
 * Runs sv->work in a child and keeps one running until SIGTERM or
 * SIGINT.  Returns the status the parent should exit with.
 */
int rk_supervise(const struct rk_supervisor *sv);

#endif
