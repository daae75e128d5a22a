/* SPDX-License-Identifier: MIT */
/* grow.c — growing arrays by doubling (grow.h). */
#include "lib/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t grow_capacity(size_t cap, size_t need, size_t first, size_t max)
{
	size_t ncap = cap ? cap : first ? first : 1;

	if (need <= cap)
		return cap;
	if (need > max)
		return 0;
	if (ncap > max)
		ncap = max;
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	return ncap;
}

int grow_resize(void *arrp, size_t n, size_t elem)
{
	void *arr, *p;

	if (!n || !elem || n > SIZE_MAX / elem) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	/* through memcpy: *arrp is a pointer of some other type, read and written as bytes */
	memcpy(&arr, arrp, sizeof(arr));
	p = realloc(arr, n * elem);
	if (!p)
		return -ENOMEM;
	memcpy(arrp, &p, sizeof(p));
	return 0;
}

int grow_array(void *arrp, size_t *cap, size_t need, size_t elem, size_t first, size_t max)
{
	size_t ncap;

	if (need <= *cap)
		return 0;
	if (elem && max > SIZE_MAX / elem)
		max = SIZE_MAX / elem;
	ncap = grow_capacity(*cap, need, first, max);
	if (!ncap) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	if (grow_resize(arrp, ncap, elem))
		return -ENOMEM;
	*cap = ncap;
	return 0;
}
