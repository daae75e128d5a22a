/* SPDX-License-Identifier: MIT */
/* render_order.c — samples in time order, per thread, for the views that keep time. */
#include <errno.h>
#include <stdlib.h>

#include "render/render_order.h"

static int by_time(const void *a, const void *b, void *arg)
{
	const struct session_sample *smp = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (smp[x].time_ns != smp[y].time_ns)
		return smp[x].time_ns < smp[y].time_ns ? -1 : 1;
	return x < y ? -1 : x > y;
}

void render_sort_by_time(uint32_t *idx, size_t n, const struct session_sample *samples)
{
	size_t k;

	/* Samples are mostly recorded in order: sort only when they are not. */
	for (k = 1; k < n && samples[idx[k - 1]].time_ns <= samples[idx[k]].time_ns; k++)
		;
	if (k < n)
		qsort_r(idx, n, sizeof(*idx), by_time, (void *)samples);
}

int render_order_samples(const struct session_sample *samples, size_t nsamples, size_t nthreads,
			 uint32_t **order, uint32_t **first)
{
	uint32_t *o, *f, *fill;
	size_t i, th;

	o = *order = malloc((nsamples ? nsamples : 1) * sizeof(*o));
	f = *first = calloc(nthreads + 1, sizeof(*f));
	fill = calloc(nthreads + 1, sizeof(*fill));
	if (!o || !f || !fill) {
		free(fill);
		return -ENOMEM;
	}
	/* Counting sort by thread keeps each thread's samples in recorded order. */
	for (i = 0; i < nsamples; i++)
		f[samples[i].thread + 1]++;
	for (th = 0; th < nthreads; th++)
		f[th + 1] += f[th];
	for (i = 0; i < nsamples; i++) {
		uint32_t t = samples[i].thread;

		o[f[t] + fill[t]++] = i;
	}
	free(fill);
	for (th = 0; th < nthreads; th++)
		render_sort_by_time(&o[f[th]], f[th + 1] - f[th], samples);
	return 0;
}
