/* SPDX-License-Identifier: MIT */
/*
 * relaykit-postconf: wires relaykit into an existing Postfix from
 * relaykit.yaml, through postconf(1).  Idempotent: a second run changes
 * nothing and says so.  --dry-run shows each change, old -> new.
 * --remove puts back everything an earlier run changed.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "pc.h"

enum mode {
	MODE_APPLY,
	MODE_DRY_RUN,
	MODE_REMOVE,
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relaykit-postconf [-c relaykit.yaml] [-C postfix-dir] "
	    "[--dry-run | --remove] [--check] [--reload]\n"
	    "       relaykit-postconf -n [-c relaykit.yaml]\n"
	    "       relaykit-postconf --daemons [-c relaykit.yaml]\n"
	    "\n"
	    "Applies relaykit.yaml to a Postfix configuration through "
	    "postconf(1).\n"
	    "  -c FILE     relaykit.yaml (default %s)\n"
	    "  -C DIR      Postfix configuration directory (default: "
	    "postconf -h config_directory)\n"
	    "  --dry-run   print what would change, old -> new; change "
	    "nothing\n"
	    "  --remove    restore every setting an earlier run changed\n"
	    "  --check     run 'postfix check' on the result\n"
	    "  --daemons   print the relaykit daemons the configuration "
	    "needs, one a line\n"
	    "  --reload    run 'postfix reload' after a change\n"
	    "  -n          check relaykit.yaml and exit\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "  -V, --version  print the version\n",
	    RK_CFG_DEFAULT_PATH);
}

static const char *
shown(const char *v)
{
	return v ? v : "(unset)";
}

static void
print_change(const struct pc_item *it, const char *old)
{
	printf("%s: %s: %s -> %s\n",
	    it->kind == PC_MAIN ? "main.cf" : "master.cf", it->key, shown(old),
	    shown(it->value));
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * The changes that take cur to want, recording originals in orig; items
 * an earlier run set but no longer wanted go back to their original.
 */
static void
plan(const struct pc_list *cur, const struct pc_list *want,
    struct pc_list *orig, struct pc_list *changes)
{
	for (size_t i = 0; i < want->n; i++) {
		const struct pc_item *w = &want->v[i];
		const struct pc_item *c = pc_list_find(cur, w->kind, w->key);
		const char *old = c ? c->value : NULL;

		if (same(old, w->value))
			continue;
		if (pc_list_find(orig, w->kind, w->key) == NULL)
			pc_list_add(orig, w->kind, w->key, old);
		pc_list_add(changes, w->kind, w->key, w->value);
	}
	for (size_t i = 0; i < orig->n; i++) {
		const struct pc_item *o = &orig->v[i];
		const struct pc_item *c = pc_list_find(cur, o->kind, o->key);

		if (pc_list_find(want, o->kind, o->key) != NULL ||
		    same(c ? c->value : NULL, o->value))
			continue;
		pc_list_add(changes, o->kind, o->key, o->value);
	}
}

/* What the configuration will be once changes are applied. */
static void
merged(const struct pc_list *cur, const struct pc_list *changes,
    struct pc_list *out)
{
	for (size_t i = 0; i < cur->n; i++)
		pc_list_add(
		    out, cur->v[i].kind, cur->v[i].key, cur->v[i].value);
	for (size_t i = 0; i < changes->n; i++)
		pc_list_add(out, changes->v[i].kind, changes->v[i].key,
		    changes->v[i].value);
}

/*
 * The relaykit daemons that the configuration has Postfix talk to, or
 * that keep its events, one a line: what a container image's entrypoint
 * starts next to Postfix.
 */
static void
print_daemons(const struct rk_cfg *c)
{
	bool proxy = false;

	for (size_t i = 0; i < c->mail.nlisteners; i++)
		proxy = proxy || c->mail.listeners[i].proxyProtocol;
	if (c->dkim.enabled || c->senderValidation.enabled ||
	    c->inbound.bounce.enabled)
		puts("milter");
	if (c->rateLimit.enabled || c->auth.enabled ||
	    c->adaptiveRate.enabled || proxy)
		puts("policyd");
	if (c->adaptiveRate.enabled || c->webhooks.enabled ||
	    c->eventd.configurePostfix || c->dashboard.watch.enabled)
		puts("eventd");
	if (c->webhooks.enabled)
		puts("webhookd");
}

/* Postfix reads main.cf and master.cf again on reload: do it, or say so. */
static int
after_change(const char *confdir, bool reload)
{
	char *argv[] = { (char *)(uintptr_t) "postfix",
		(char *)(uintptr_t) "-c", (char *)(uintptr_t)confdir,
		(char *)(uintptr_t) "reload", NULL };
	struct rk_err err;

	if (!reload) {
		printf("relaykit-postconf: run 'postfix -c %s reload' (or "
		       "relaykit-postconf --reload) for Postfix to use it\n",
		    confdir);
		return 0;
	}
	if (pc_run(argv, NULL, &err) != 0) {
		fprintf(stderr,
		    "relaykit-postconf: postfix reload failed: %s (is "
		    "Postfix running? 'postfix start' reads the new "
		    "configuration)\n",
		    err.msg);
		return EX_UNAVAILABLE;
	}
	printf("relaykit-postconf: Postfix reloaded\n");
	return 0;
}

static int
postfix_check(const char *confdir, struct rk_err *err)
{
	char *argv[] = { (char *)(uintptr_t) "postfix",
		(char *)(uintptr_t) "-c", (char *)(uintptr_t)confdir,
		(char *)(uintptr_t) "check", NULL };

	return pc_run(argv, NULL, err);
}

static int
run_mode(struct pc_ctx *ctx, enum mode mode, struct rk_err *err)
{
	struct pc_list cur = { 0 }, want = { 0 }, orig = { 0 }, changes = { 0 },
	               result = { 0 };
	int rc = -1;

	if (pc_current(ctx, &cur, err) != 0 ||
	    pc_state_load(ctx->confdir, &orig, err) != 0)
		goto out;
	ctx->cur = &cur;
	ctx->orig = &orig;
	if (mode != MODE_REMOVE && pc_desired(ctx, &want, err) != 0)
		goto out;
	plan(&cur, &want, &orig, &changes);
	merged(&cur, &changes, &result);
	if (mode != MODE_REMOVE &&
	    pc_check_relay_safety(ctx->cfg, &result, err) != 0)
		goto out;
	for (size_t i = 0; i < changes.n; i++) {
		const struct pc_item *c =
		    pc_list_find(&cur, changes.v[i].kind, changes.v[i].key);

		print_change(&changes.v[i], c ? c->value : NULL);
	}
	if (mode == MODE_DRY_RUN) {
		printf("relaykit-postconf: %zu change%s (dry run: nothing "
		       "changed)\n",
		    changes.n, changes.n == 1 ? "" : "s");
		rc = 0;
		goto out;
	}
	/* record first, so an interrupted apply can still be removed */
	if ((mode != MODE_REMOVE && pc_state_save(ctx->confdir, &orig, err)) ||
	    pc_apply(ctx, &changes, err) != 0)
		goto out;
	if (mode == MODE_REMOVE) {
		if (pc_state_remove(ctx->confdir, err) != 0)
			goto out;
	} else {
		for (size_t i = 0; i < orig.n;) { /* drop restored records */
			if (pc_list_find(
			        &want, orig.v[i].kind, orig.v[i].key)) {
				i++;
				continue;
			}
			free(orig.v[i].key);
			free(orig.v[i].value);
			orig.v[i] = orig.v[--orig.n];
		}
		if (pc_state_save(ctx->confdir, &orig, err) != 0)
			goto out;
	}
	if (changes.n == 0)
		printf("relaykit-postconf: nothing to change\n");
	else
		printf("relaykit-postconf: %zu change%s applied to %s\n",
		    changes.n, changes.n == 1 ? "" : "s", ctx->confdir);
	ctx->changed = changes.n > 0;
	rc = 0;
out:
	pc_list_free(&cur);
	pc_list_free(&want);
	pc_list_free(&orig);
	pc_list_free(&changes);
	pc_list_free(&result);
	return rc;
}

static char *
default_confdir(void)
{
	char *argv[] = { (char *)(uintptr_t) "postconf",
		(char *)(uintptr_t) "-h",
		(char *)(uintptr_t) "config_directory", NULL };
	struct rk_buf out;
	char *dir;

	rk_buf_init(&out);
	if (pc_run(argv, &out, NULL) != 0) {
		rk_buf_free(&out);
		return rk_strdup("/etc/postfix");
	}
	dir = pc_normalize(out.data ? out.data : "/etc/postfix");
	rk_buf_free(&out);
	return dir;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'd' },
		{ "remove", no_argument, NULL, 'r' },
		{ "check", no_argument, NULL, 'k' },
		{ "daemons", no_argument, NULL, 'D' },
		{ "reload", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = RK_CFG_DEFAULT_PATH;
	char *confdir = NULL;
	enum mode mode = MODE_APPLY;
	bool check = false, check_cfg = false, daemons = false;
	bool reload = false;
	struct rk_cfg_diag diag;
	struct rk_err err = { "" };
	struct pc_ctx ctx = { 0 };
	struct rk_buf files;
	int ch, rc = 0;

	rk_log_open("relaykit-postconf", RK_LOG_STDERR, RK_LOG_INFO);
	while (
	    (ch = getopt_long(argc, argv, "c:C:nVhv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'C':
			free(confdir);
			confdir = rk_strdup(optarg);
			break;
		case 'd':
			mode = MODE_DRY_RUN;
			break;
		case 'r':
			mode = MODE_REMOVE;
			break;
		case 'k':
			check = true;
			break;
		case 'D':
			daemons = true;
			break;
		case 'R':
			reload = true;
			break;
		case 'n':
			check_cfg = true;
			break;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf("relaykit-postconf %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (check_cfg)
		return rk_cfg_check_main(cfgpath, stdout, stderr);
	ctx.cfg = rk_cfg_load_file(cfgpath, 0, &diag);
	if (ctx.cfg == NULL) {
		rk_cfg_diag_print(&diag, stderr);
		rk_cfg_diag_free(&diag);
		free(confdir);
		return EX_CONFIG;
	}
	if (daemons) {
		print_daemons(ctx.cfg);
		rk_cfg_unref((struct rk_cfg *)(uintptr_t)ctx.cfg);
		free(confdir);
		return 0;
	}
	ctx.confdir = confdir ? confdir : (confdir = default_confdir());
	ctx.dry_run = mode == MODE_DRY_RUN;
	rk_buf_init(&files);
	rk_buf_printf(&files, "%s/relaykit", ctx.confdir);
	ctx.files = rk_buf_steal(&files);
	if (run_mode(&ctx, mode, &err) != 0) {
		fprintf(stderr, "relaykit-postconf: %s\n", err.msg);
		rc = EX_CONFIG;
	} else if (check && mode != MODE_DRY_RUN &&
	    postfix_check(ctx.confdir, &err) != 0) {
		fprintf(stderr,
		    "relaykit-postconf: postfix check failed: %s (its "
		    "findings are in the mail log)\n",
		    err.msg);
		rc = EX_CONFIG;
	} else if (check && mode != MODE_DRY_RUN) {
		printf("relaykit-postconf: postfix check passed\n");
	}
	if (rc == 0 && ctx.changed)
		rc = after_change(ctx.confdir, reload);
	rk_cfg_unref((struct rk_cfg *)(uintptr_t)ctx.cfg);
	free(ctx.files);
	free(ctx.queuedir);
	free(confdir);
	return rc;
}
