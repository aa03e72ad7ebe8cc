/* SPDX-License-Identifier: MIT */
/*
 * rk_daemon: what every relaykit daemon does about its own process, in
 * one place: the permissions of its unix sockets (daemon.socketGroup,
 * daemon.socketMode), giving up root once its sockets are bound
 * (daemon.user), and telling systemd how it is doing over the
 * sd_notify(3) datagram protocol ($NOTIFY_SOCKET), without libsystemd.
 *
 * Threading: rk_daemon_perm and rk_daemon_drop from main (glibc's
 * setuid changes every thread of the process, but a thread in the middle
 * of opening a file would see either user: drop before serving).
 * rk_daemon_notify is thread-safe.
 */
#ifndef RK_DAEMON_H
#define RK_DAEMON_H

#include "rk_cfg.h"
#include "rk_listen.h"
#include "rk_str.h"

/* The mode and group daemon.* asks for; -1 with err for a group that
   does not exist. */
int rk_daemon_perm(const struct rk_cfg_daemon *d, struct rk_listen_perm *perm,
    struct rk_err *err);

/*
 * Started as root with daemon.user set: becomes that user (its groups
 * from the group file, so membership of postfix or adm carries over),
 * for good.  Not root, or no user: nothing (a root daemon without a user
 * says so once).  -1 with err when the user does not exist or a step
 * fails: the caller must not go on as root.
 */
int rk_daemon_drop(const struct rk_cfg_daemon *d, struct rk_err *err);

/* Sends state ("READY=1", "STOPPING=1") to systemd when it asked for it;
   nothing otherwise. */
void rk_daemon_notify(const char *state);

/* RELOADING=1 with the monotonic time systemd wants; READY=1 follows
   from the caller when the reload is done. */
void rk_daemon_notify_reloading(void);

#endif
