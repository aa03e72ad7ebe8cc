/* SPDX-License-Identifier: MIT */
/*
 * rk_listen: binds (or takes from systemd) the listening sockets of a
 * daemon.  See rk_listen.h.  Main thread only, before workers start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rk_listen.h"
#include "rk_mem.h"

#define BACKLOG      511
#define SD_FDS_START 3

size_t
rk_listen_activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	char *end;
	long v;

	if (pid == NULL || n == NULL || strtol(pid, NULL, 10) != getpid())
		return 0;
	v = strtol(n, &end, 10);
	return *end == '\0' && v > 0 && v < 1024 ? (size_t)v : 0;
}

static bool
same_inet(const struct sockaddr *sa, const struct rk_endpoint *ep)
{
	struct addrinfo hints, *ai = NULL;
	char port[8];
	bool same = false;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sa->sa_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)ep->port);
	if (getaddrinfo(ep->host[0] ? ep->host : NULL, port, &hints, &ai) != 0)
		return false;
	for (struct addrinfo *a = ai; a && !same; a = a->ai_next)
		same = memcmp(a->ai_addr, sa,
		           sa->sa_family == AF_INET
		               ? sizeof(struct sockaddr_in)
		               : sizeof(struct sockaddr_in6)) == 0;
	freeaddrinfo(ai);
	return same;
}

/* A socket systemd passed that listens where ep says, or -1. */
static int
activated_fd(const struct rk_endpoint *ep)
{
	size_t n = rk_listen_activated();

	for (size_t i = 0; i < n; i++) {
		int fd = SD_FDS_START + (int)i;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct sockaddr *sa = (struct sockaddr *)&ss;

		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, sa, &len) != 0)
			continue;
		if (ep->kind == RK_EP_UNIX && sa->sa_family == AF_UNIX &&
		    strcmp(((struct sockaddr_un *)sa)->sun_path, ep->path) == 0)
			return fd;
		if (ep->kind == RK_EP_INET &&
		    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
		    same_inet(sa, ep))
			return fd;
	}
	return -1;
}

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * The socket's folder, when it does not exist yet (the first start on a
 * host without the package's tmpfiles entry): mode 0750 with the
 * sockets' group, so the group reaches the sockets and nobody else
 * lists them.  One level only; an existing folder is left as it is.
 */
int
rk_listen_folder(
    const char *path, const struct rk_listen_perm *perm, struct rk_err *err)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0)
		return errno == EEXIST
		    ? 0
		    : rk_err_set(err, "mkdir %s: %s", dir, strerror(errno));
	if (perm->gid != (gid_t)-1 && chown(dir, (uid_t)-1, perm->gid) != 0)
		return rk_err_set(err, "chown %s: %s", dir, strerror(errno));
	return 0;
}

static int
bind_unix(
    const char *path, const struct rk_listen_perm *perm, struct rk_err *err)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return rk_err_set(err, "unix:%s: path too long", path);
	strcpy(sun.sun_path, path);
	if (rk_listen_folder(path, perm, err) != 0)
		return -1;
	/* A socket left by a previous run; never remove anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return rk_err_set(err, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, BACKLOG) != 0) {
		rk_err_set(err, "unix:%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* the umask decides nothing: the mode and group are what we say */
	if ((perm->gid != (gid_t)-1 && chown(path, (uid_t)-1, perm->gid)) ||
	    chmod(path, perm->mode ? perm->mode : 0666) != 0) {
		rk_err_set(err, "unix:%s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	return fd;
}

static int
bind_inet(const struct rk_endpoint *ep, struct rk_err *err)
{
	struct addrinfo hints, *ai = NULL;
	char port[8];
	int fd = -1, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)ep->port);
	rc = getaddrinfo(ep->host[0] ? ep->host : NULL, port, &hints, &ai);
	if (rc != 0)
		return rk_err_set(
		    err, "inet:%s:%s: %s", ep->host, port, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, BACKLOG) != 0) {
		rk_err_set(
		    err, "inet:%s:%s: %s", ep->host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void
add(struct rk_listen_set *set, int fd, bool activated)
{
	set->fds = rk_reallocarray(set->fds, set->n + 1, sizeof(*set->fds));
	set->activated = rk_reallocarray(
	    set->activated, set->n + 1, sizeof(*set->activated));
	set->fds[set->n] = fd;
	set->activated[set->n++] = activated;
}

int
rk_listen_open(struct rk_listen_set *set, const struct rk_endpoint *ep,
    const struct rk_listen_perm *perm, struct rk_err *err)
{
	static const struct rk_listen_perm dflt = { 0666, (gid_t)-1 };
	int fd = activated_fd(ep);

	if (fd >= 0) {
		if (set_flags(fd) != 0)
			return rk_err_set(err, "fcntl: %s", strerror(errno));
		add(set, fd, true);
		return fd;
	}
	fd = ep->kind == RK_EP_UNIX
	    ? bind_unix(ep->path, perm ? perm : &dflt, err)
	    : bind_inet(ep, err);
	if (fd < 0)
		return -1;
	if (set_flags(fd) != 0) {
		rk_err_set(err, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	add(set, fd, false);
	if (ep->kind == RK_EP_UNIX) {
		set->paths = rk_reallocarray(
		    set->paths, set->npaths + 1, sizeof(*set->paths));
		set->paths[set->npaths++] = rk_strdup(ep->path);
	}
	return fd;
}

void
rk_listen_set_forget(struct rk_listen_set *set)
{
	for (size_t i = 0; i < set->npaths; i++)
		free(set->paths[i]);
	free(set->paths);
	free(set->fds);
	free(set->activated);
	memset(set, 0, sizeof(*set));
}

void
rk_listen_set_close(struct rk_listen_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		close(set->fds[i]);
	for (size_t i = 0; i < set->npaths; i++)
		(void)unlink(set->paths[i]);
	rk_listen_set_forget(set);
}
