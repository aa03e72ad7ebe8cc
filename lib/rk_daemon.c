/* SPDX-License-Identifier: MIT */
/*
 * rk_daemon: socket permissions, dropping root, and readiness for
 * systemd.  See rk_daemon.h.  Threading: see there.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rk_daemon.h"
#include "rk_log.h"

int
rk_daemon_perm(const struct rk_cfg_daemon *d, struct rk_listen_perm *perm,
    struct rk_err *err)
{
	perm->mode = d->mode ? d->mode : 0660;
	perm->gid = (gid_t)-1;
	if (d->socketGroup == NULL)
		return 0;
	errno = 0;
	struct group *g = getgrnam(d->socketGroup);
	if (g == NULL)
		return rk_err_set(err,
		    "daemon.socketGroup: no group \"%s\" on this host "
		    "(Postfix's "
		    "smtpd must be in it to reach the sockets)",
		    d->socketGroup);
	perm->gid = g->gr_gid;
	return 0;
}

int
rk_daemon_drop(const struct rk_cfg_daemon *d, struct rk_err *err)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (d->user == NULL) {
		rk_log_info("running as root: set daemon.user to run as an "
		            "unprivileged user once the sockets are bound");
		return 0;
	}
	if ((pw = getpwnam(d->user)) == NULL)
		return rk_err_set(
		    err, "daemon.user: no user \"%s\" on this host", d->user);
	if (pw->pw_uid == 0)
		return rk_err_set(err, "daemon.user: \"%s\" is root", d->user);
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return rk_err_set(
		    err, "cannot become %s: %s", d->user, strerror(errno));
	if (setuid(0) == 0) /* must be gone for good */
		return rk_err_set(
		    err, "still able to become root after setuid");
	rk_log_info(
	    "running as %s (uid %lu)", d->user, (unsigned long)pw->pw_uid);
	return 0;
}

void
rk_daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	        (struct sockaddr *)&sun, len) < 0)
		rk_log_debug("sd_notify %s: %s", path, strerror(errno));
	close(fd);
}

void
rk_daemon_notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	        (unsigned long long)ts.tv_nsec / 1000ULL);
	rk_daemon_notify(msg);
}
