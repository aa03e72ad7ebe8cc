/* SPDX-License-Identifier: MIT */
/*
 * pc_postfix: every change goes through postconf(1) (and maps through
 * postmap(1)), run without a shell so no value is ever interpreted.
 */
#include "config.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rk_mem.h"
#include "pc.h"

extern char **environ;

void
pc_list_add(
    struct pc_list *l, enum pc_kind kind, const char *key, const char *value)
{
	struct pc_item *it = pc_list_find(l, kind, key);

	if (it == NULL) {
		l->v = rk_reallocarray(l->v, l->n + 1, sizeof(*l->v));
		it = &l->v[l->n++];
		it->kind = kind;
		it->key = rk_strdup(key);
	} else {
		free(it->value);
	}
	it->value = value ? rk_strdup(value) : NULL;
}

struct pc_item *
pc_list_find(const struct pc_list *l, enum pc_kind kind, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == kind && strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	return NULL;
}

void
pc_list_free(struct pc_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
pc_run(char *const argv[], struct rk_buf *out, struct rk_err *err)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], status, rc;
	pid_t pid;
	char chunk[4096];
	ssize_t r;

	if (pipe(pfd) != 0)
		return rk_err_set(err, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return rk_err_set(
		    err, "cannot run %s: %s", argv[0], strerror(rc));
	}
	while ((r = read(pfd[0], chunk, sizeof(chunk))) > 0)
		if (out != NULL)
			rk_buf_append(out, chunk, (size_t)r);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return rk_err_set(err, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return rk_err_set(err, "%s %s failed (status %d)", argv[0],
		    argv[1] ? argv[1] : "",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

char *
pc_normalize(const char *entry)
{
	struct rk_buf b;
	char *copy = rk_strdup(entry), *save = NULL;

	rk_buf_init(&b);
	for (char *t = strtok_r(copy, " \t\n", &save); t;
	     t = strtok_r(NULL, " \t\n", &save)) {
		if (b.len > 0)
			rk_buf_putc(&b, ' ');
		rk_buf_puts(&b, t);
	}
	free(copy);
	return rk_buf_steal(&b);
}

/* Runs "postconf -c DIR ARGS..." capturing stdout. */
static int
postconf(struct pc_ctx *ctx, struct rk_buf *out, struct rk_err *err,
    char **args, size_t nargs)
{
	char **argv = rk_calloc(nargs + 4, sizeof(*argv));
	int rc;

	argv[0] = (char *)(uintptr_t) "postconf";
	argv[1] = (char *)(uintptr_t) "-c";
	argv[2] = (char *)(uintptr_t)ctx->confdir;
	for (size_t i = 0; i < nargs; i++)
		argv[3 + i] = args[i];
	rc = pc_run(argv, out, err);
	free(argv);
	return rc;
}

static void
parse_main(const char *text, struct pc_list *cur)
{
	char *copy = rk_strdup(text), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(l, " = ");

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(l, "config_directory") != 0)
			pc_list_add(cur, PC_MAIN, l, eq + 3);
	}
	free(copy);
}

static void
parse_master(struct pc_ctx *ctx, const char *text, struct pc_list *cur)
{
	char *copy = rk_strdup(text), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *norm = pc_normalize(l), key[512], f[7][128];

		if (sscanf(norm, "%127s %127s %127s %127s %127s", f[0], f[1],
		        f[2], f[3], f[4]) == 5) {
			snprintf(key, sizeof(key), "%s/%s", f[0], f[1]);
			pc_list_add(cur, PC_MASTER, key, norm);
			if (strcmp(key, "smtp/inet") == 0)
				ctx->smtpd_chroot = strcmp(f[4], "y") == 0;
		}
		free(norm);
	}
	free(copy);
}

int
pc_current(struct pc_ctx *ctx, struct pc_list *cur, struct rk_err *err)
{
	struct rk_buf out;
	char *n[] = { (char *)(uintptr_t) "-n" };
	char *m[] = { (char *)(uintptr_t) "-M" };
	char *q[] = { (char *)(uintptr_t) "-h",
		(char *)(uintptr_t) "queue_directory" };

	rk_buf_init(&out);
	if (postconf(ctx, &out, err, n, 1) != 0)
		goto fail;
	parse_main(out.data ? out.data : "", cur);
	rk_buf_reset(&out);
	if (postconf(ctx, &out, err, m, 1) != 0)
		goto fail;
	parse_master(ctx, out.data ? out.data : "", cur);
	rk_buf_reset(&out);
	if (postconf(ctx, &out, err, q, 2) != 0)
		goto fail;
	free(ctx->queuedir);
	ctx->queuedir = pc_normalize(out.data ? out.data : "");
	rk_buf_free(&out);
	return 0;
fail:
	rk_buf_free(&out);
	return -1;
}

/* Runs postconf FLAG with one argument per item, if any. */
static int
apply_group(struct pc_ctx *ctx, const struct pc_list *changes,
    enum pc_kind kind, bool set, const char *flag, struct rk_err *err)
{
	char **args = rk_calloc(changes->n + 1, sizeof(*args));
	size_t n = 1;
	int rc = 0;

	args[0] = (char *)(uintptr_t)flag;
	for (size_t i = 0; i < changes->n; i++) {
		const struct pc_item *it = &changes->v[i];
		struct rk_buf b;

		if (it->kind != kind || (it->value != NULL) != set)
			continue;
		rk_buf_init(&b);
		rk_buf_puts(&b, it->key);
		if (set)
			rk_buf_printf(&b, "=%s", it->value);
		args[n++] = rk_buf_steal(&b);
	}
	if (n > 1)
		rc = postconf(ctx, NULL, err, args, n);
	for (size_t i = 1; i < n; i++)
		free(args[i]);
	free(args);
	return rc;
}

int
pc_apply(struct pc_ctx *ctx, const struct pc_list *changes, struct rk_err *err)
{
	if (apply_group(ctx, changes, PC_MASTER, false, "-MX", err) != 0 ||
	    apply_group(ctx, changes, PC_MASTER, true, "-M", err) != 0 ||
	    apply_group(ctx, changes, PC_MAIN, false, "-X", err) != 0 ||
	    apply_group(ctx, changes, PC_MAIN, true, "-e", err) != 0)
		return -1;
	return 0;
}

int
pc_postmap(struct pc_ctx *ctx, const char *file, struct rk_err *err)
{
	char *argv[] = { (char *)(uintptr_t) "postmap",
		(char *)(uintptr_t) "-c", (char *)(uintptr_t)ctx->confdir,
		(char *)(uintptr_t)file, NULL };

	return pc_run(argv, NULL, err);
}
