/* SPDX-License-Identifier: MIT */
/*
 * pc_state: what each setting was before relaykit-postconf first changed
 * it, kept in CONFDIR/relaykit-postconf.state so --remove (and a later
 * apply that no longer wants a setting) can put it back.  One line per
 * item: "main|master TAB key TAB 1 TAB value" or "... TAB 0 TAB" for a
 * setting that did not exist.  Postfix values never hold a newline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rk_mem.h"
#include "pc.h"

#define STATE_NAME "relaykit-postconf.state"

static void
state_path(const char *confdir, struct rk_buf *b)
{
	rk_buf_init(b);
	rk_buf_printf(b, "%s/%s", confdir, STATE_NAME);
}

int
pc_state_load(const char *confdir, struct pc_list *orig, struct rk_err *err)
{
	struct rk_buf path;
	char line[8192];
	FILE *f;
	int lineno = 0;

	state_path(confdir, &path);
	f = fopen(path.data, "r");
	if (f == NULL) {
		int e = errno;

		rk_buf_free(&path);
		return e == ENOENT ? 0
		                   : rk_err_set(err, "cannot read %s/%s: %s",
		                         confdir, STATE_NAME, strerror(e));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *kind, *key, *set, *value, *save = NULL;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		kind = strtok_r(line, "\t", &save);
		key = strtok_r(NULL, "\t", &save);
		set = strtok_r(NULL, "\t", &save);
		value = strtok_r(NULL, "", &save);
		if (kind == NULL || key == NULL || set == NULL ||
		    (strcmp(kind, "main") && strcmp(kind, "master"))) {
			fclose(f);
			rk_err_set(
			    err, "%s:%d: damaged record", path.data, lineno);
			rk_buf_free(&path);
			return -1;
		}
		pc_list_add(orig, strcmp(kind, "main") ? PC_MASTER : PC_MAIN,
		    key, strcmp(set, "1") == 0 ? (value ? value : "") : NULL);
	}
	fclose(f);
	rk_buf_free(&path);
	return 0;
}

int
pc_state_save(
    const char *confdir, const struct pc_list *orig, struct rk_err *err)
{
	struct rk_buf path, text;
	int rc;

	state_path(confdir, &path);
	rk_buf_init(&text);
	for (size_t i = 0; i < orig->n; i++) {
		const struct pc_item *it = &orig->v[i];

		rk_buf_printf(&text, "%s\t%s\t%d\t%s\n",
		    it->kind == PC_MAIN ? "main" : "master", it->key,
		    it->value != NULL, it->value ? it->value : "");
	}
	rc = pc_write_file(path.data, text.data ? text.data : "", 0644, err);
	rk_buf_free(&path);
	rk_buf_free(&text);
	return rc;
}

int
pc_state_remove(const char *confdir, struct rk_err *err)
{
	struct rk_buf path;
	int rc = 0;

	state_path(confdir, &path);
	if (unlink(path.data) != 0 && errno != ENOENT)
		rc = rk_err_set(
		    err, "unlink %s: %s", path.data, strerror(errno));
	rk_buf_free(&path);
	return rc;
}

/* Temp file in the same folder, fsync, rename: never half a file. */
int
pc_write_file(
    const char *path, const char *text, unsigned mode, struct rk_err *err)
{
	struct rk_buf tmp;
	size_t len = strlen(text);
	int fd, rc = 0;

	rk_buf_init(&tmp);
	rk_buf_printf(&tmp, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp.data);
	if (fd < 0) {
		rc = rk_err_set(
		    err, "cannot create %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) != 0) {
		rc = rk_err_set(
		    err, "cannot write %s: %s", tmp.data, strerror(errno));
		close(fd);
		unlink(tmp.data);
		goto out;
	}
	close(fd);
	if (rename(tmp.data, path) != 0) {
		rc = rk_err_set(err, "cannot rename %s to %s: %s", tmp.data,
		    path, strerror(errno));
		unlink(tmp.data);
	}
out:
	rk_buf_free(&tmp);
	return rc;
}
