/* SPDX-License-Identifier: MIT */
/*
 * ev_follow: reads a log file line by line as it grows, through every
 * rotation users do, and knows exactly where it is so a restart resumes
 * at the next line.
 *
 * The position is (device, inode, offset) plus a fingerprint: the last
 * bytes before the offset.  Rotations:
 *  - rename + new file (logrotate create, postfix logrotate), and delete
 *    + recreate: the path names another inode.  The old file is read to
 *    its end (until it stays idle for a poll, since the writer may not
 *    have reopened yet), then the new one from its start.
 *  - copytruncate: the file shrank under the offset.  The lines written
 *    between the last read and the truncation are in the copy: a sibling
 *    (NAME.1, NAME-DATE, ...) whose bytes before the offset are the
 *    fingerprint; it is read from the offset to its end, then the file
 *    from its start.
 *  - while eventd was down: the saved inode is looked for among the
 *    siblings (renamed), or the fingerprint (copied), the same way.
 * Standard input ("-") has no position.  Single-threaded: one owner.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rk_log.h"
#include "rk_mem.h"

#include "eventd.h"

#define CHUNK (64u << 10)

struct ev_follow {
	char *path;
	int fd;
	bool is_stdin;
	bool old;       /* fd is a rotated file: drain it, then switch */
	int idle_polls; /* polls without new data on the old file */
	uint64_t dev, ino, off;
	unsigned char tail[EV_TAIL_MAX];
	size_t tail_n;
	char *buf; /* bytes read past off, not yet a whole line */
	size_t len, cap;
	bool skipping; /* inside a line longer than EV_LINE_MAX */
	bool eof;      /* standard input ended */
	struct ev_stats_io *st;
};

/* ------------------------------------------------------------ position */

void
ev_pos_format(const struct ev_pos *p, char *out, size_t n)
{
	size_t o;

	o = (size_t)snprintf(out, n, "%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":",
	    p->dev, p->ino, p->off);
	for (size_t i = 0; i < p->tail_n && o + 3 <= n; i++)
		o += (size_t)snprintf(out + o, n - o, "%02x", p->tail[i]);
}

int
ev_pos_parse(const char *s, struct ev_pos *p)
{
	const char *hex;
	int used = 0;

	memset(p, 0, sizeof(*p));
	if (sscanf(s, "%" SCNu64 ":%" SCNu64 ":%" SCNu64 ":%n", &p->dev,
	        &p->ino, &p->off, &used) != 3 ||
	    used == 0)
		return -1;
	hex = s + used;
	for (; hex[0] && hex[1] && p->tail_n < EV_TAIL_MAX; hex += 2) {
		unsigned v;

		if (sscanf(hex, "%2x", &v) != 1)
			return -1;
		p->tail[p->tail_n++] = (unsigned char)v;
	}
	return *hex == '\0' ? 0 : -1;
}

static void
remember_tail(struct ev_follow *f, const char *p, size_t n)
{
	if (n >= EV_TAIL_MAX) {
		memcpy(f->tail, p + n - EV_TAIL_MAX, EV_TAIL_MAX);
		f->tail_n = EV_TAIL_MAX;
		return;
	}
	if (f->tail_n + n > EV_TAIL_MAX) {
		size_t drop = f->tail_n + n - EV_TAIL_MAX;

		memmove(f->tail, f->tail + drop, f->tail_n - drop);
		f->tail_n -= drop;
	}
	memcpy(f->tail + f->tail_n, p, n);
	f->tail_n += n;
}

void
ev_follow_pos(const struct ev_follow *f, struct ev_pos *out)
{
	memset(out, 0, sizeof(*out));
	out->dev = f->dev;
	out->ino = f->ino;
	out->off = f->off;
	memcpy(out->tail, f->tail, f->tail_n);
	out->tail_n = f->tail_n;
}

/* ------------------------------------------------------------ files */

static int
open_at(struct ev_follow *f, const char *path, uint64_t off)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || lseek(fd, (off_t)off, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	if (f->fd >= 0 && !f->is_stdin)
		close(f->fd);
	f->fd = fd;
	f->dev = (uint64_t)st.st_dev;
	f->ino = (uint64_t)st.st_ino;
	f->off = off;
	f->len = 0;
	f->skipping = false;
	f->idle_polls = 0;
	return 0;
}

/* Do the tail_n bytes before off in fd equal the fingerprint? */
static bool
tail_matches(int fd, uint64_t off, const unsigned char *tail, size_t n)
{
	unsigned char got[EV_TAIL_MAX];

	if (n == 0)
		return true;
	if (off < n || pread(fd, got, n, (off_t)(off - n)) != (ssize_t)n)
		return false;
	return memcmp(got, tail, n) == 0;
}

/* Is the file at path the inode ino (when ino is not 0), or one whose
   bytes before off are the fingerprint? */
static bool
sibling_matches(const char *path, uint64_t ino, uint64_t off,
    const unsigned char *tail, size_t tail_n)
{
	struct stat st;
	bool same;
	int fd;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < off)
		return false;
	if (ino != 0)
		return (uint64_t)st.st_ino == ino;
	if (tail_n == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	same = tail_matches(fd, off, tail, tail_n);
	close(fd);
	return same;
}

/* A sibling of the path (same folder, a longer name that starts with its
   name: NAME.1, NAME-20261130...) that matches; caller frees. */
static char *
find_sibling(const struct ev_follow *f, uint64_t ino, uint64_t off,
    const unsigned char *tail, size_t tail_n)
{
	char *dcopy = rk_strdup(f->path), *bcopy = rk_strdup(f->path);
	const char *dir = dirname(dcopy), *base = basename(bcopy);
	size_t blen = strlen(base);
	char *found = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d != NULL && found == NULL && (de = readdir(d)) != NULL) {
		struct rk_buf p;

		if (strncmp(de->d_name, base, blen) != 0 ||
		    de->d_name[blen] == '\0')
			continue;
		rk_buf_init(&p);
		rk_buf_printf(&p, "%s/%s", dir, de->d_name);
		if (sibling_matches(p.data, ino, off, tail, tail_n))
			found = rk_buf_steal(&p);
		rk_buf_free(&p);
	}
	if (d != NULL)
		closedir(d);
	free(dcopy);
	free(bcopy);
	return found;
}

/* Goes on reading a rotated-away file (its rest) before the path. */
static bool
resume_in_sibling(struct ev_follow *f, const char *sib, uint64_t off,
    const unsigned char *tail, size_t tail_n)
{
	if (open_at(f, sib, off) != 0)
		return false;
	memcpy(f->tail, tail, tail_n);
	f->tail_n = tail_n;
	f->old = true;
	rk_log_info("log: reading the rest of %s (rotated) from byte %" PRIu64,
	    sib, off);
	return true;
}

/* The saved position is in another inode than the path's now. */
static void
resume_rotated(struct ev_follow *f, const struct ev_pos *p)
{
	char *sib = find_sibling(f, p->ino, p->off, p->tail, p->tail_n);

	if (sib == NULL)
		sib = find_sibling(f, 0, p->off, p->tail, p->tail_n);
	if (sib != NULL &&
	    resume_in_sibling(f, sib, p->off, p->tail, p->tail_n)) {
		free(sib);
		return;
	}
	free(sib);
	rk_log_warnx("log: %s was rotated while eventd was stopped and the "
	             "old file is gone: lines written after the saved "
	             "position and before the rotation are lost",
	    f->path);
	if (open_at(f, f->path, 0) != 0)
		f->fd = -1;
}

struct ev_follow *
ev_follow_open(const char *path, const struct ev_pos *pos, bool from_start,
    struct ev_stats_io *st)
{
	struct ev_follow *f = rk_calloc(1, sizeof(*f));
	struct stat s;

	f->path = rk_strdup(path);
	f->fd = -1;
	f->st = st;
	if (strcmp(path, "-") == 0) {
		int fl = fcntl(0, F_GETFL);

		f->is_stdin = true;
		f->fd = 0;
		/* the reader polls: never block in read(2) */
		if (fl >= 0)
			(void)fcntl(0, F_SETFL, fl | O_NONBLOCK);
		return f;
	}
	if (stat(path, &s) != 0) /* not there yet: read it from its start */
		return f;
	if (pos == NULL || pos->ino == 0) {
		if (open_at(f, path, from_start ? 0 : (uint64_t)s.st_size) != 0)
			f->fd = -1;
		return f;
	}
	if ((uint64_t)s.st_ino != pos->ino) {
		resume_rotated(f, pos);
		return f;
	}
	if ((uint64_t)s.st_size >= pos->off &&
	    open_at(f, path, pos->off) == 0 &&
	    tail_matches(f->fd, pos->off, pos->tail, pos->tail_n)) {
		memcpy(f->tail, pos->tail, pos->tail_n);
		f->tail_n = pos->tail_n;
		return f;
	}
	/* the same inode, but shorter or rewritten: copied and truncated */
	resume_rotated(f, pos);
	return f;
}

void
ev_follow_close(struct ev_follow *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0 && !f->is_stdin)
		close(f->fd);
	free(f->path);
	free(f->buf);
	free(f);
}

/* ------------------------------------------------------------ reading */

/* Hands out each whole line in buf, keeping the rest. */
static size_t
split(struct ev_follow *f, size_t max_lines, ev_line_fn *fn, void *arg,
    bool flush_partial)
{
	size_t start = 0, lines = 0;

	while (lines < max_lines && start < f->len) {
		char *nl = memchr(f->buf + start, '\n', f->len - start);
		size_t n =
		    nl ? (size_t)(nl - (f->buf + start)) : f->len - start;

		if (nl == NULL && !flush_partial && n < EV_LINE_MAX)
			break;
		if (!f->skipping)
			fn(arg, f->buf + start,
			    n > EV_LINE_MAX ? EV_LINE_MAX : n);
		/* a line longer than the cap: the rest of it is skipped */
		f->skipping = nl == NULL && !flush_partial;
		n += nl != NULL;
		remember_tail(f, f->buf + start, n);
		f->off += n;
		start += n;
		lines++;
	}
	if (start > 0) { /* buf is NULL before the first read */
		memmove(f->buf, f->buf + start, f->len - start);
		f->len -= start;
	}
	return lines;
}

/* The old file is done: go on with the path's file from its start. */
static void
switch_to_path(struct ev_follow *f, const char *how)
{
	struct stat s;

	if (stat(f->path, &s) != 0) {
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		f->old = false;
		return;
	}
	f->old = false;
	if (open_at(f, f->path, 0) != 0) {
		f->fd = -1;
		return;
	}
	f->tail_n = 0;
	if (f->st != NULL)
		rk_metric_inc(f->st->rotations, RK_LABELS(how));
	rk_log_info(
	    "log: following %s again from its start (%s)", f->path, how);
}

/* Did the file shrink under the offset (copytruncate)? */
static bool
truncated(struct ev_follow *f, struct stat *fs)
{
	return !f->is_stdin && fs->st_size >= 0 &&
	    (uint64_t)fs->st_size < f->off + f->len;
}

static void
on_truncate(struct ev_follow *f)
{
	/* the copy holds what the file held: read on in it from here */
	char *sib = find_sibling(f, 0, f->off, f->tail, f->tail_n);
	unsigned char tail[EV_TAIL_MAX];
	size_t n = f->tail_n;

	memcpy(tail, f->tail, n);
	if (sib != NULL && resume_in_sibling(f, sib, f->off, tail, n)) {
		free(sib);
		if (f->st != NULL)
			rk_metric_inc(f->st->rotations, RK_LABELS("truncate"));
		return;
	}
	free(sib);
	rk_log_warnx("log: %s was truncated and no copy holds the lines "
	             "after byte %" PRIu64 ": they are lost",
	    f->path, f->off);
	switch_to_path(f, "truncate");
}

/* Rotation checks before reading; true when reading may go on. */
static bool
check_rotation(struct ev_follow *f)
{
	struct stat ps, fs;

	if (f->is_stdin)
		return true;
	if (f->fd < 0) {
		if (stat(f->path, &ps) == 0) {
			switch_to_path(f, "recreate");
			return f->fd >= 0;
		}
		return false;
	}
	if (fstat(f->fd, &fs) == 0 && !f->old && truncated(f, &fs)) {
		on_truncate(f);
		return f->fd >= 0;
	}
	if (!f->old &&
	    (stat(f->path, &ps) != 0 || (uint64_t)ps.st_ino != f->ino ||
	        (uint64_t)ps.st_dev != f->dev))
		f->old = true; /* renamed or deleted: drain, then switch */
	return true;
}

int
ev_follow_read(struct ev_follow *f, size_t max_lines, ev_line_fn *fn, void *arg)
{
	size_t lines = 0;
	bool error = false, ended = false;

	if (f->eof || !check_rotation(f))
		return 0;
	lines += split(f, max_lines, fn, arg, false);
	while (lines < max_lines) {
		ssize_t r;

		if (f->cap - f->len < CHUNK) {
			f->cap = f->len + CHUNK;
			f->buf = rk_reallocarray(f->buf, f->cap, 1);
		}
		r = read(f->fd, f->buf + f->len, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* standard input: nothing now */
		if (r <= 0) {
			error = r < 0;
			ended = r == 0;
			break;
		}
		f->len += (size_t)r;
		f->idle_polls = 0;
		lines += split(f, max_lines - lines, fn, arg, false);
	}
	if (f->is_stdin && ended) {
		/* the last line may lack its newline */
		lines += split(f, max_lines - lines, fn, arg, true);
		f->eof = f->len == 0;
	} else if (lines == 0 && f->old && ++f->idle_polls >= 2) {
		/* the rotated file is idle: its last line may lack a newline */
		lines += split(f, max_lines, fn, arg, true);
		if (f->len == 0) {
			struct stat ps;

			switch_to_path(
			    f, stat(f->path, &ps) == 0 ? "rename" : "recreate");
		}
	}
	return error ? -1 : (int)lines;
}

bool
ev_follow_eof(const struct ev_follow *f)
{
	return f->eof;
}

uint64_t
ev_follow_lag(const struct ev_follow *f)
{
	struct stat s;
	uint64_t pending = f->len;

	if (f->is_stdin || f->fd < 0 || fstat(f->fd, &s) != 0)
		return pending;
	if ((uint64_t)s.st_size > f->off)
		return (uint64_t)s.st_size - f->off;
	return pending;
}
