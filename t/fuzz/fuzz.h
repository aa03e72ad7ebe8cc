/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz.h: helpers shared by the libFuzzer targets.
 */
#ifndef RK_FUZZ_H
#define RK_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input as a NUL-terminated string in a buffer of exactly size + 1
 * bytes (so ASan sees any read past it), or NULL when it is longer than
 * max.  Caller frees.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size, size_t max)
{
	char *s;

	if (size > max || (s = malloc(size + 1)) == NULL)
		return NULL;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
