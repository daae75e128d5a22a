/* SPDX-License-Identifier: MIT */
/*
 * grow.h — growing arrays: one overflow-checked doubling for every (pointer, count, capacity).
 *
 * An array that grows keeps its elements at a pointer, a count in use and a capacity (its room,
 * in elements). GROW() makes room before an element is added:
 *
 *	if (GROW(t->items, t->cap, t->n + 1, 16))
 *		return -ENOMEM;
 *	t->items[t->n++] = item;
 *
 * Arrays that share one capacity (parallel arrays) take grow_capacity() once, then
 * grow_resize() for each array.
 */
#ifndef PYFLARE_GROW_H
#define PYFLARE_GROW_H

#include <stddef.h>
#include <stdint.h>

/*
 * The room for @need elements, grown from @cap: @first when @cap is 0, doubled until @need
 * fits, at most @max. Returns @cap itself when @need already fits, or 0 when @need > @max.
 */
size_t grow_capacity(size_t cap, size_t need, size_t first, size_t max);

/*
 * Reallocates the array whose address is at @arrp (the address of any object pointer) to @n
 * elements of @elem bytes (@n > 0). Returns 0, or -ENOMEM with errno set when the size
 * overflows or the memory is short; then the array is unchanged.
 */
int grow_resize(void *arrp, size_t n, size_t elem);

/*
 * Makes room for @need elements of @elem bytes in the array at @arrp, whose room is *@cap:
 * grow_capacity(*@cap, @need, @first, @max) then grow_resize(). Returns 0, or -ENOMEM with
 * errno set (memory, size_t or @max); then neither the array nor *@cap changed.
 */
int grow_array(void *arrp, size_t *cap, size_t need, size_t elem, size_t first, size_t max);

/* grow_array() of the array @arr and its capacity @cap (lvalues: a pointer and a size_t). */
#define GROW(arr, cap, need, first) \
	grow_array(&(arr), &(cap), (need), sizeof(*(arr)), (first), SIZE_MAX)

/* GROW() that never lets the room pass @max elements. */
#define GROW_MAX(arr, cap, need, first, max) \
	grow_array(&(arr), &(cap), (need), sizeof(*(arr)), (first), (max))

#endif /* PYFLARE_GROW_H */
