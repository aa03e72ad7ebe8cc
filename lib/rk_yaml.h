/* SPDX-License-Identifier: MIT */
/*
 * rk_yaml: a YAML document as a small tree with source positions, built
 * from libyaml's event API.  It is the first half of the config loader and
 * a pure function of (buffer, length): no I/O, thread-safe.
 *
 * Refused, each with its position: more than one document, aliases (an
 * alias bomb would expand exponentially in the walk that follows),
 * nesting deeper than RK_YAML_MAX_DEPTH, more than RK_YAML_MAX_NODES
 * nodes, duplicate keys in a mapping, keys that are not scalars.
 */
#ifndef RK_YAML_H
#define RK_YAML_H

#include <stdbool.h>
#include <stddef.h>

#define RK_YAML_MAX_INPUT (4u << 20)
#define RK_YAML_MAX_DEPTH 64
#define RK_YAML_MAX_NODES 200000

enum rk_ynode_kind {
	RK_Y_SCALAR,
	RK_Y_SEQ,
	RK_Y_MAP,
};

struct rk_ynode {
	enum rk_ynode_kind kind;
	size_t line, col; /* 1-based, as editors count */
	/* RK_Y_SCALAR */
	char *value; /* NUL-terminated; may hold NULs up to len */
	size_t len;
	bool plain; /* unquoted: may be a number, boolean or null */
	/* RK_Y_SEQ: items; RK_Y_MAP: keys[i] (scalars) -> items[i] */
	struct rk_ynode **keys;
	struct rk_ynode **items;
	size_t n;
};

struct rk_yaml_error {
	size_t line, col; /* 1-based */
	char msg[256];
};

/*
 * Parses buf.  Returns 0 and *root (NULL for an empty document; caller
 * frees with rk_ynode_free), or -1 with err filled.
 */
int rk_yaml_parse(const char *buf, size_t len, struct rk_ynode **root,
    struct rk_yaml_error *err);
void rk_ynode_free(struct rk_ynode *node);

/* The value for key in a mapping, or NULL. */
const struct rk_ynode *rk_ynode_get(
    const struct rk_ynode *map, const char *key);
/* true for a plain "", "~", "null", "Null" or "NULL". */
bool rk_ynode_is_null(const struct rk_ynode *node);
/* "mapping", "list", or "string" / "number" / "boolean" / "null". */
const char *rk_ynode_describe(const struct rk_ynode *node);

#endif
