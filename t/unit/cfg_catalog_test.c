/* SPDX-License-Identifier: MIT */
/*
 * The broken-config catalog: every t/data/badconf/NAME.yaml must fail to
 * load with exactly the messages its "# expect: " lines give, in order
 * (file name "relaykit.yaml", line, column, key path, text).
 * With RK_CATALOG_PRINT=1 the actual messages are printed instead, for
 * writing a new case.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "rk_cfg.h"
#include "rk_mem.h"
#include "tap.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct rk_buf b;
	char chunk[4096];
	size_t r;

	rk_buf_init(&b);
	if (f == NULL)
		return NULL;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rk_buf_append(&b, chunk, r);
	fclose(f);
	*len = b.len;
	return rk_buf_steal(&b);
}

static void
run_case(const char *dir, const char *name)
{
	char path[8192];
	size_t len = 0, nexp = 0;
	char *text, *exp[32], *save = NULL, *copy;
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = slurp(path, &len);
	if (!ok(text != NULL, "%s: readable", name))
		return;
	copy = rk_strdup(text);
	for (char *line = strtok_r(copy, "\n", &save); line && nexp < 32;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "# expect: ", 10) == 0)
			exp[nexp++] = line + 10;
	cfg = rk_cfg_load_buf("relaykit.yaml", dir, text, len, 0, &diag);
	if (getenv("RK_CATALOG_PRINT") != NULL) {
		for (size_t i = 0; i < diag.n; i++)
			printf("# %s: %s\n", name, diag.msgs[i]);
	}
	ok(cfg == NULL && nexp > 0, "%s: refused (%zu expected messages)", name,
	    nexp);
	is_int((intmax_t)diag.n, (intmax_t)nexp, "%s: message count", name);
	for (size_t i = 0; i < nexp && i < diag.n; i++)
		is_str(diag.msgs[i], exp[i], "%s: message %zu", name, i + 1);
	rk_cfg_unref(cfg);
	rk_cfg_diag_free(&diag);
	free(copy);
	free(text);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];
	char *names[512];
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/t/data/badconf", top ? top : ".");
	d = opendir(dir);
	if (!ok(d != NULL, "catalog folder %s", dir))
		return done_testing();
	while ((de = readdir(d)) != NULL && n < 512) {
		size_t l = strlen(de->d_name);

		if (l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0)
			names[n++] = rk_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	ok(n >= 30, "catalog has at least 30 cases (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	return done_testing();
}
