/* SPDX-License-Identifier: MIT */
/* number.c — decimal numbers (number.h). */
#include "lib/number.h"

char *number_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

size_t number_decimal(char *buf, uint64_t v, unsigned scale)
{
	uint64_t unit = 1, frac;
	char *p;

	if (scale > 9)
		scale = 9;
	for (unsigned i = 0; i < scale; i++)
		unit *= 10;
	frac = v % unit;
	p = number_u64(buf, v / unit);
	if (frac) {
		/* the fraction's digits, leading zeros kept, trailing zeros dropped */
		while (frac % 10 == 0) {
			frac /= 10;
			scale--;
		}
		*p++ = '.';
		for (unsigned i = scale; i-- > 0; frac /= 10)
			p[i] = '0' + frac % 10;
		p += scale;
	}
	*p = '\0';
	return p - buf;
}
