/* SPDX-License-Identifier: MIT */
/*
 * render_order.h — samples in time order, per thread, for the views that keep time
 * (render_order.c).
 */
#ifndef PYFLARE_RENDER_ORDER_H
#define PYFLARE_RENDER_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

/* Sorts @n sample indices by their samples' time, ties by index. */
void render_sort_by_time(uint32_t *idx, size_t n, const struct session_sample *samples);
/*
 * The indices of @samples grouped by thread, each thread's in time order (ties by index):
 * thread T's are (*order)[(*first)[T] .. (*first)[T + 1]). Every sample's thread must be below
 * @nthreads. Returns 0 or -ENOMEM; the caller frees *order and *first either way.
 */
int render_order_samples(const struct session_sample *samples, size_t nsamples, size_t nthreads,
			 uint32_t **order, uint32_t **first);

#endif /* PYFLARE_RENDER_ORDER_H */
