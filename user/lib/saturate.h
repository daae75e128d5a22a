/* SPDX-License-Identifier: MIT */
/*
 * saturate.h — sums that stop at the type's maximum instead of wrapping: a crafted session
 * file can hold weights whose total passes 2^64, and a wrapped total would make a part
 * larger than its whole (shares above 100%, bars wider than the graph).
 */
#ifndef PYFLARE_SATURATE_H
#define PYFLARE_SATURATE_H

#include <stdint.h>

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint32_t sat_add32(uint32_t a, uint32_t b)
{
	return a + b < a ? UINT32_MAX : a + b;
}

#endif /* PYFLARE_SATURATE_H */
