/* SPDX-License-Identifier: MIT */
/*
 * rk_yaml: libyaml events -> struct rk_ynode tree.  A stack of open
 * collections; each finished node is attached to its parent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rk_log.h"
#include "rk_mem.h"
#include "rk_yaml.h"

struct ybuild {
	struct rk_ynode *stack[RK_YAML_MAX_DEPTH + 1];
	struct rk_ynode
	    *pending[RK_YAML_MAX_DEPTH + 1]; /* key awaiting value */
	size_t depth;
	size_t nodes;
	struct rk_ynode *root;
	int docs;
	struct rk_yaml_error *err;
};

static int
yerr(struct rk_yaml_error *err, const yaml_mark_t *mark, const char *msg,
    const char *arg)
{
	err->line = mark->line + 1;
	err->col = mark->column + 1;
	if (arg != NULL)
		snprintf(err->msg, sizeof(err->msg), "%s \"%s\"", msg, arg);
	else
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -1;
}

void
rk_ynode_free(struct rk_ynode *node)
{
	if (node == NULL)
		return;
	for (size_t i = 0; i < node->n; i++) {
		if (node->keys != NULL)
			rk_ynode_free(node->keys[i]);
		rk_ynode_free(node->items[i]);
	}
	free(node->keys);
	free(node->items);
	free(node->value);
	free(node);
}

static struct rk_ynode *
ynode_new(enum rk_ynode_kind kind, const yaml_mark_t *mark)
{
	struct rk_ynode *n = rk_calloc(1, sizeof(*n));

	n->kind = kind;
	n->line = mark->line + 1;
	n->col = mark->column + 1;
	return n;
}

static void
ynode_push_item(struct rk_ynode *parent, struct rk_ynode *child)
{
	if ((parent->n & (parent->n - 1)) == 0) {
		size_t cap = parent->n ? parent->n * 2 : 4;

		parent->items =
		    rk_reallocarray(parent->items, cap, sizeof(*parent->items));
		if (parent->kind == RK_Y_MAP)
			parent->keys = rk_reallocarray(
			    parent->keys, cap, sizeof(*parent->keys));
	}
	parent->items[parent->n++] = child;
}

/*
 * A mapping arrives as alternating key and value events: the key waits in
 * b->pending[] for the depth of its mapping until its value is complete.
 */
static int
ybuild_attach(struct ybuild *b, struct rk_ynode *node, const yaml_mark_t *mark)
{
	struct rk_ynode *parent;

	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == RK_Y_SEQ) {
		ynode_push_item(parent, node);
		return 0;
	}
	if (b->pending[b->depth - 1] == NULL) {
		int rc = 0;

		if (node->kind != RK_Y_SCALAR)
			rc = yerr(b->err, mark,
			    "mapping keys must be strings, not lists or "
			    "mappings",
			    NULL);
		for (size_t i = 0; rc == 0 && i < parent->n; i++)
			if (strcmp(parent->keys[i]->value, node->value) == 0)
				rc = yerr(
				    b->err, mark, "duplicate key", node->value);
		if (rc != 0) {
			rk_ynode_free(node);
			return rc;
		}
		b->pending[b->depth - 1] = node;
		return 0;
	}
	ynode_push_item(parent, node);
	parent->keys[parent->n - 1] = b->pending[b->depth - 1];
	b->pending[b->depth - 1] = NULL;
	return 0;
}

static int
ybuild_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	struct rk_ynode *n = ynode_new(RK_Y_SCALAR, &ev->start_mark);

	n->value = rk_memdup0(ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    ev->data.scalar.plain_implicit;
	return ybuild_attach(b, n, &ev->start_mark);
}

static int
ybuild_open(struct ybuild *b, enum rk_ynode_kind kind, const yaml_event_t *ev)
{
	if (b->depth >= RK_YAML_MAX_DEPTH)
		return yerr(b->err, &ev->start_mark,
		    "nesting deeper than 64 levels", NULL);
	b->pending[b->depth] = NULL;
	b->stack[b->depth++] = ynode_new(kind, &ev->start_mark);
	return 0;
}

static int
ybuild_close(struct ybuild *b, const yaml_event_t *ev)
{
	struct rk_ynode *n = b->stack[--b->depth];

	return ybuild_attach(b, n, &ev->start_mark);
}

static int
ybuild_event(struct ybuild *b, const yaml_event_t *ev)
{
	if (++b->nodes > RK_YAML_MAX_NODES)
		return yerr(b->err, &ev->start_mark,
		    "too many nodes (more than 200000)", NULL);
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1)
			return yerr(b->err, &ev->start_mark,
			    "more than one YAML document in the file", NULL);
		return 0;
	case YAML_ALIAS_EVENT:
		return yerr(b->err, &ev->start_mark,
		    "YAML aliases (*name) are not supported", NULL);
	case YAML_SCALAR_EVENT:
		return ybuild_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return ybuild_open(b, RK_Y_SEQ, ev);
	case YAML_MAPPING_START_EVENT:
		return ybuild_open(b, RK_Y_MAP, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return ybuild_close(b, ev);
	default:
		return 0;
	}
}

static void
ybuild_unwind(struct ybuild *b)
{
	while (b->depth > 0) {
		--b->depth;
		rk_ynode_free(b->pending[b->depth]);
		rk_ynode_free(b->stack[b->depth]);
	}
	rk_ynode_free(b->root);
	b->root = NULL;
}

static int
yparser_error(const yaml_parser_t *p, struct rk_yaml_error *err)
{
	const yaml_mark_t *m = &p->problem_mark;

	err->line = m->line + 1;
	err->col = m->column + 1;
	if (p->context != NULL)
		snprintf(err->msg, sizeof(err->msg), "YAML syntax: %s %s",
		    p->problem ? p->problem : "error", p->context);
	else
		snprintf(err->msg, sizeof(err->msg), "YAML syntax: %s",
		    p->problem ? p->problem : "error");
	return -1;
}

int
rk_yaml_parse(const char *buf, size_t len, struct rk_ynode **root,
    struct rk_yaml_error *err)
{
	yaml_parser_t parser;
	struct ybuild b = { .err = err };
	int rc = 0, done = 0;

	*root = NULL;
	if (len > RK_YAML_MAX_INPUT) {
		err->line = err->col = 1;
		snprintf(err->msg, sizeof(err->msg),
		    "file larger than %u bytes", RK_YAML_MAX_INPUT);
		return -1;
	}
	if (!yaml_parser_initialize(&parser))
		rk_panic("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			rc = yparser_error(&parser, err);
			break;
		}
		rc = ybuild_event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc != 0) {
		ybuild_unwind(&b);
		return -1;
	}
	*root = b.root;
	return 0;
}

const struct rk_ynode *
rk_ynode_get(const struct rk_ynode *map, const char *key)
{
	if (map == NULL || map->kind != RK_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->value, key) == 0)
			return map->items[i];
	return NULL;
}

bool
rk_ynode_is_null(const struct rk_ynode *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (node == NULL)
		return true;
	if (node->kind != RK_Y_SCALAR || !node->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(node->value, nulls[i]) == 0)
			return true;
	return false;
}

static bool
looks_boolean(const char *s)
{
	static const char *const bools[] = { "true", "True", "TRUE", "false",
		"False", "FALSE" };

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strcmp(s, bools[i]) == 0)
			return true;
	return false;
}

static bool
looks_number(const char *s)
{
	char *end;

	if (*s == '\0')
		return false;
	(void)strtod(s, &end);
	return *end == '\0';
}

const char *
rk_ynode_describe(const struct rk_ynode *node)
{
	if (node == NULL)
		return "nothing";
	if (node->kind == RK_Y_MAP)
		return "a mapping";
	if (node->kind == RK_Y_SEQ)
		return "a list";
	if (rk_ynode_is_null(node))
		return "null";
	if (node->plain && looks_boolean(node->value))
		return "a boolean";
	if (node->plain && looks_number(node->value))
		return "a number";
	return "a string";
}
