/* SPDX-License-Identifier: MIT */
/*
 * rk_mem: allocators that abort instead of returning NULL.  Running out of
 * memory in a mail daemon is an environment failure we cannot answer
 * sensibly mid-protocol; a core file is more useful than a half-handled
 * message.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rk_log.h"
#include "rk_mem.h"

size_t
rk_size_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		rk_panic("size overflow: %zu + %zu", a, b);
	return a + b;
}

size_t
rk_size_mul(size_t a, size_t b)
{
	if (b != 0 && a > SIZE_MAX / b)
		rk_panic("size overflow: %zu * %zu", a, b);
	return a * b;
}

void *
rk_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		rk_panic("out of memory allocating %zu bytes", size);
	return p;
}

void *
rk_calloc(size_t nmemb, size_t size)
{
	void *p;

	(void)rk_size_mul(nmemb, size);
	p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		rk_panic(
		    "out of memory allocating %zu * %zu bytes", nmemb, size);
	return p;
}

void *
rk_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total = rk_size_mul(nmemb, size);
	void *p = realloc(ptr, total ? total : 1);

	if (p == NULL)
		rk_panic("out of memory reallocating %zu bytes", total);
	return p;
}

char *
rk_memdup0(const void *src, size_t n)
{
	char *p = rk_malloc(rk_size_add(n, 1));

	if (n > 0)
		memcpy(p, src, n);
	p[n] = '\0';
	return p;
}

char *
rk_strdup(const char *s)
{
	return rk_memdup0(s, strlen(s));
}

char *
rk_strndup(const char *s, size_t n)
{
	return rk_memdup0(s, strnlen(s, n));
}

void
rk_memzero(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
rk_free_secret(char *s)
{
	if (s == NULL)
		return;
	rk_memzero(s, strlen(s));
	free(s);
}
