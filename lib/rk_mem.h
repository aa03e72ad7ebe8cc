/* SPDX-License-Identifier: MIT */
/*
 * rk_mem: allocation that never returns NULL, overflow-checked size math,
 * and wiping of secrets.
 *
 * Every allocator aborts (rk_panic, with a core) when memory runs out or a
 * size computation overflows, so callers never test for NULL.  All functions
 * are thread-safe.  Memory is freed with free(3); rk_free_secret() wipes a
 * NUL-terminated secret before freeing it.
 */
#ifndef RK_MEM_H
#define RK_MEM_H

#include <stddef.h>

/* Caller frees with free(3). */
void *rk_malloc(size_t size);
/* Caller frees with free(3); memory is zeroed. */
void *rk_calloc(size_t nmemb, size_t size);
/* Like realloc(3) with nmemb * size checked for overflow. */
void *rk_reallocarray(void *ptr, size_t nmemb, size_t size);
/* Caller frees with free(3). */
char *rk_strdup(const char *s);
/* Copies at most n bytes and adds a NUL; caller frees with free(3). */
char *rk_strndup(const char *s, size_t n);
/* Copies exactly n bytes (may contain NULs) and adds a NUL. */
char *rk_memdup0(const void *p, size_t n);

/* Overwrites n bytes in a way the compiler cannot remove. */
void rk_memzero(void *p, size_t n);
/* Wipes a NUL-terminated secret and frees it; accepts NULL. */
void rk_free_secret(char *s);

/* a + b and a * b, panicking on overflow. */
size_t rk_size_add(size_t a, size_t b);
size_t rk_size_mul(size_t a, size_t b);

#endif
