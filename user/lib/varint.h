/* SPDX-License-Identifier: MIT */
/*
 * varint.h — LEB128 varints (7 bits a byte, low first, the high bit set on all but the last)
 * and zigzag steps, so that small numbers and small differences either way take few bytes.
 */
#ifndef PYFLARE_VARINT_H
#define PYFLARE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX_BYTES 10 /* of a uint64_t */

/* Writes @v at @p (room for VARINT_MAX_BYTES); returns the bytes written. */
static inline size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads a varint at @p, before @end, into *@v; returns its bytes, or 0 if it runs past @end
 * or past VARINT_MAX_BYTES. */
static inline size_t varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t n = 0; n < VARINT_MAX_BYTES && p + n < end; n++) {
		r |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80)) {
			*v = r;
			return n + 1;
		}
	}
	return 0;
}

/* The step @cur - @prev (mod 2^64), zigzag-encoded: -1 is 1, 1 is 2, -2 is 3... */
static inline uint64_t zigzag_step(uint64_t cur, uint64_t prev)
{
	uint64_t d = cur - prev;

	return (d << 1) ^ (0 - (d >> 63));
}

/* The value @zz steps from @prev (zigzag_step's inverse). */
static inline uint64_t zigzag_apply(uint64_t prev, uint64_t zz)
{
	return prev + ((zz >> 1) ^ (0 - (zz & 1)));
}

#endif /* PYFLARE_VARINT_H */
