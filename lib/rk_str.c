/* SPDX-License-Identifier: MIT */
/*
 * rk_str: error reports, growable buffers, ASCII case helpers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"

int
rk_err_set(struct rk_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
rk_buf_init(struct rk_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
rk_buf_free(struct rk_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	rk_buf_init(b);
}

void
rk_buf_reset(struct rk_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
rk_buf_reserve(struct rk_buf *b, size_t extra)
{
	size_t need, cap = b->cap ? b->cap : 64;

	if (b->cap > b->len && extra < b->cap - b->len)
		return; /* room for extra and the NUL: the common case */
	need = rk_size_add(rk_size_add(b->len, extra), 1);
	if (need <= b->cap)
		return;
	while (cap < need)
		cap = rk_size_mul(cap, 2);
	b->data = rk_reallocarray(b->data, cap, 1);
	b->cap = cap;
}

void
rk_buf_append(struct rk_buf *b, const void *p, size_t n)
{
	rk_buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
rk_buf_puts(struct rk_buf *b, const char *s)
{
	rk_buf_append(b, s, strlen(s));
}

void
rk_buf_putc(struct rk_buf *b, char c)
{
	rk_buf_append(b, &c, 1);
}

void
rk_buf_vprintf(struct rk_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		rk_panic("rk_buf_vprintf: bad format \"%s\"", fmt);
	rk_buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
rk_buf_printf(struct rk_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rk_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
rk_buf_steal(struct rk_buf *b)
{
	char *p = b->data ? b->data : rk_strdup("");

	rk_buf_init(b);
	return p;
}

char
rk_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

void
rk_str_lower(char *s)
{
	for (; *s; s++)
		*s = rk_ascii_lower(*s);
}

bool
rk_mem_case_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rk_ascii_lower(a[i]) != rk_ascii_lower(b[i]))
			return false;
	return true;
}

bool
rk_str_case_eq(const char *a, const char *b)
{
	size_t la = strlen(a);

	return la == strlen(b) && rk_mem_case_eq(a, b, la);
}

bool
rk_str_case_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return lx <= ls && rk_mem_case_eq(s + ls - lx, suffix, lx);
}

size_t
rk_str_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row, best, result;

	if (la > 64 || lb > 64)
		return cap + 1;
	row = rk_calloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost =
			    rk_ascii_lower(a[i - 1]) == rk_ascii_lower(b[j - 1])
			    ? 0
			    : 1;
			size_t v = diag + cost;

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > cap) {
			free(row);
			return cap + 1;
		}
	}
	result = row[lb];
	free(row);
	return result;
}
