/* SPDX-License-Identifier: MIT */
/*
 * rk_str: error reports, a growable byte buffer and small string helpers.
 *
 * struct rk_err is how lib/ functions explain a failure: they return -1
 * and, when the caller passed a non-NULL err, fill err->msg.  There is no
 * global error state.
 *
 * struct rk_buf is a growable, always NUL-terminated byte buffer; it owns
 * its memory (free with rk_buf_free).  Not thread-safe: one owner at a time.
 */
#ifndef RK_STR_H
#define RK_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "rk_log.h"

struct rk_err {
	char msg[512];
};

/* Fills err (if not NULL) and returns -1, so callers can "return rk_err_set()".
 */
int rk_err_set(struct rk_err *err, const char *fmt, ...) RK_PRINTF(2, 3);

struct rk_buf {
	char *data; /* NUL-terminated; owned */
	size_t len;
	size_t cap;
};

void rk_buf_init(struct rk_buf *b);
void rk_buf_free(struct rk_buf *b);
void rk_buf_reset(struct rk_buf *b);
void rk_buf_reserve(struct rk_buf *b, size_t extra);
void rk_buf_append(struct rk_buf *b, const void *p, size_t n);
void rk_buf_puts(struct rk_buf *b, const char *s);
void rk_buf_putc(struct rk_buf *b, char c);
void rk_buf_printf(struct rk_buf *b, const char *fmt, ...) RK_PRINTF(2, 3);
void rk_buf_vprintf(struct rk_buf *b, const char *fmt, va_list ap)
    RK_PRINTF(2, 0);
/* Hands the data to the caller (free(3)) and resets b. */
char *rk_buf_steal(struct rk_buf *b);

/* ASCII-only case helpers: locale-independent, as mail protocols want. */
char rk_ascii_lower(char c);
void rk_str_lower(char *s);
bool rk_str_case_eq(const char *a, const char *b);
bool rk_mem_case_eq(const char *a, const char *b, size_t n);
/* true if s ends with suffix, ASCII case-insensitively. */
bool rk_str_case_suffix(const char *s, const char *suffix);

/*
 * Levenshtein distance between a and b, capped: returns a value > cap as
 * soon as the distance is known to exceed it.  For "did you mean" hints.
 */
size_t rk_str_distance(const char *a, const char *b, size_t cap);

#endif
