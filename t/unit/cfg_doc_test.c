/* SPDX-License-Identifier: MIT */
/*
 * The manual page documents the schema, both ways: every key of the schema
 * has a ".B key" entry in man/relaykit.yaml.5, and every such entry is a
 * key of the schema (no stale documentation).  With RK_KEYS_PRINT=1 the
 * schema's keys are printed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_mem.h"
#include "tap.h"

struct keys {
	char **v;
	size_t n;
};

static void
collect(const char *path, void *arg)
{
	struct keys *k = arg;

	k->v = rk_reallocarray(k->v, k->n + 1, sizeof(*k->v));
	k->v[k->n++] = rk_strdup(path);
}

static bool
has(const struct keys *k, const char *s)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], s) == 0)
			return true;
	return false;
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct keys schema = { NULL, 0 }, man = { NULL, 0 };
	char path[4096], line[1024];
	FILE *f;

	rk_cfg_keys(collect, &schema);
	if (getenv("RK_KEYS_PRINT") != NULL)
		for (size_t i = 0; i < schema.n; i++)
			printf("# %s\n", schema.v[i]);
	snprintf(path, sizeof(path), "%s/man/relaykit.yaml.5", top ? top : ".");
	f = fopen(path, "r");
	if (!ok(f != NULL, "manual page %s", path))
		return done_testing(); /* cppcheck-suppress resourceLeak */
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".B ", 3) == 0 &&
		    strchr(line + 3, ' ') == NULL)
			collect(line + 3, &man);
	}
	fclose(f);
	ok(schema.n > 150, "schema has %zu keys", schema.n);
	for (size_t i = 0; i < schema.n; i++)
		ok(has(&man, schema.v[i]), "documented: %s", schema.v[i]);
	for (size_t i = 0; i < man.n; i++) {
		if (strchr(man.v[i], '.') == NULL && !has(&schema, man.v[i]))
			continue; /* a section heading like ".B mail" */
		ok(has(&schema, man.v[i]), "in the schema: %s", man.v[i]);
	}
	for (size_t i = 0; i < schema.n; i++)
		free(schema.v[i]);
	for (size_t i = 0; i < man.n; i++)
		free(man.v[i]);
	free(schema.v);
	free(man.v);
	return done_testing();
}
