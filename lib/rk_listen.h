/* SPDX-License-Identifier: MIT */
/*
 * rk_listen: listening sockets opened once, before a daemon forks its
 * worker (rk_supervise) or drops privileges, and kept open for its whole
 * life, so a worker that dies and is started again never leaves clients
 * with "connection refused": they wait in the kernel's backlog.
 *
 * Sockets passed by systemd (socket activation: LISTEN_PID, LISTEN_FDS)
 * are used instead of binding when one matches the endpoint, so a unit
 * with a .socket keeps them even across a full restart.  A unix socket
 * left by an earlier run is replaced (never any other file); a new one
 * gets the mode and group asked for, whatever the umask.
 *
 * Threading: call from main before threads start.  Ownership: the set
 * owns its descriptors and paths; rk_listen_set_close closes them and
 * removes the unix sockets it created (not those systemd passed).
 */
#ifndef RK_LISTEN_H
#define RK_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rk_parse.h"
#include "rk_str.h"

/* Who may connect to a unix socket. */
struct rk_listen_perm {
	unsigned mode; /* e.g. 0660; 0 = 0666 */
	gid_t gid;     /* (gid_t)-1 = leave the group alone */
};

struct rk_listen_set {
	int *fds;
	size_t n;
	char **paths; /* unix sockets we bound, removed on close */
	size_t npaths;
	bool *activated; /* fds[i] came from systemd */
};

/*
 * Opens a listening socket for ep (non-blocking, close-on-exec) and adds
 * it to set; returns its descriptor, or -1 with err.  perm may be NULL
 * (0666).
 */
int rk_listen_open(struct rk_listen_set *set, const struct rk_endpoint *ep,
    const struct rk_listen_perm *perm, struct rk_err *err);

/*
 * Makes the folder of a unix socket at path when it does not exist yet
 * (mode 0750, perm's group); for sockets others bind, such as
 * libmilter's.  0, or -1 with err.
 */
int rk_listen_folder(
    const char *path, const struct rk_listen_perm *perm, struct rk_err *err);

/* Closes every socket and removes the unix ones we created; set is empty
   again.  Accepts an empty set. */
void rk_listen_set_close(struct rk_listen_set *set);

/*
 * Forgets the descriptors without closing them or removing anything: a
 * worker process that inherited the set calls this, so only the process
 * that opened the sockets removes them.
 */
void rk_listen_set_forget(struct rk_listen_set *set);

/* The number of sockets systemd passed this process (0 if none). */
size_t rk_listen_activated(void);

#endif
