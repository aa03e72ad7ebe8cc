/* SPDX-License-Identifier: MIT */
/*
 * relaykit-postconf: applies relaykit.yaml to a Postfix configuration
 * directory through postconf(1), never by editing main.cf or master.cf.
 *
 * The flow: pc_desired() turns the config into a list of items (main.cf
 * parameters and master.cf services with the values they should have);
 * pc_current() reads what the directory has (postconf -n, -M); pc_plan()
 * compares them, also against the record of what an earlier run changed
 * (pc_state), so that items no longer wanted go back to what they were;
 * pc_apply() runs postconf -e/-X/-M/-MX.  Single-threaded.
 */
#ifndef PC_H
#define PC_H

#include <stdbool.h>
#include <stddef.h>

#include "rk_cfg.h"
#include "rk_str.h"

enum pc_kind {
	PC_MAIN,   /* main.cf parameter: key "name" */
	PC_MASTER, /* master.cf service: key "service/type" */
};

/* One setting; value NULL means "absent" (unset, or no such service). */
struct pc_item {
	enum pc_kind kind;
	char *key;
	char *value; /* main: the value; master: the entry, single-spaced */
};

struct pc_list {
	struct pc_item *v;
	size_t n;
};

void pc_list_add(
    struct pc_list *l, enum pc_kind kind, const char *key, const char *value);
/* The item of kind and key, or NULL. Borrowed. */
struct pc_item *pc_list_find(
    const struct pc_list *l, enum pc_kind kind, const char *key);
void pc_list_free(struct pc_list *l);

struct pc_ctx {
	const struct rk_cfg *cfg;
	const char *confdir; /* Postfix config directory */
	char *queuedir;      /* its queue_directory */
	bool smtpd_chroot;   /* the smtp service runs chrooted */
	bool dry_run;
	char *files; /* confdir/relaykit: maps and TLS we write */
	/* what the directory has now, and the originals an earlier run
	   recorded: together, what the host itself set (see pc_desired) */
	const struct pc_list *cur, *orig;
	bool changed; /* an apply or remove changed something */
};

/* pc_postfix.c: talking to postconf(1) and postmap(1). */
int pc_run(char *const argv[], struct rk_buf *out, struct rk_err *err);
int pc_current(struct pc_ctx *ctx, struct pc_list *cur, struct rk_err *err);
int pc_apply(
    struct pc_ctx *ctx, const struct pc_list *changes, struct rk_err *err);
int pc_postmap(struct pc_ctx *ctx, const char *file, struct rk_err *err);
/* Single-spaced tokens of a master.cf entry; caller frees. */
char *pc_normalize(const char *entry);

/* pc_desired.c: what relaykit.yaml asks of Postfix. */
int pc_desired(struct pc_ctx *ctx, struct pc_list *want, struct rk_err *err);
/*
 * Refuses a result that could relay for strangers (restrictions, or trust
 * widened by networks, PROXY listeners, anonymous SASL); 0 or -1 with why.
 */
int pc_check_relay_safety(
    const struct rk_cfg *cfg, const struct pc_list *result, struct rk_err *err);

/* pc_state.c: the record of original values, in confdir. */
int pc_state_load(
    const char *confdir, struct pc_list *orig, struct rk_err *err);
int pc_state_save(
    const char *confdir, const struct pc_list *orig, struct rk_err *err);
int pc_state_remove(const char *confdir, struct rk_err *err);

/* pc_tls.c: a self-signed certificate for STARTTLS on first run. */
int pc_tls_selfsigned(const char *hostname, const char *certfile,
    const char *keyfile, struct rk_err *err);

/* pc_files.c: files we write next to main.cf, atomically. */
int pc_write_file(
    const char *path, const char *text, unsigned mode, struct rk_err *err);

#endif
