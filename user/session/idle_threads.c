/* SPDX-License-Identifier: MIT */
/* idle_threads.c — find the threads whose every sample is a wait (wall mode). */
#include "session/idle_threads.h"
#include "lib/saturate.h"

#include <errno.h>
#include <stdlib.h>

#define IDLE_WAIT_PERCENT 99 /* waiting this much of its time, a thread is idle */

long idle_threads_find(const struct session *s, enum idle_threads mode, bool **drop)
{
	size_t nthreads, nstacks, nframes, nprocs;
	const struct session_thread *thr = session__threads(s, &nthreads);
	const struct session_stack *st = session__stacks(s, &nstacks);
	const struct session_frame *fr = session__frames(s, &nframes);
	const struct session_process *procs = session__processes(s, &nprocs);
	struct session_cursor cur;
	struct session_sample smp;
	uint64_t *waited, *total;
	long n = 0;

	*drop = NULL;
	if (mode == IDLE_KEEP || !nthreads)
		return 0;
	waited = calloc(nthreads, sizeof(*waited));
	total = calloc(nthreads, sizeof(*total));
	*drop = calloc(nthreads, sizeof(**drop));
	if (!waited || !total || !*drop) {
		free(waited);
		free(total);
		free(*drop);
		*drop = NULL;
		return -ENOMEM;
	}
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);) {
		const struct session_stack *leaf = smp.stack < nstacks ? &st[smp.stack] : NULL;
		uint32_t t = smp.thread;

		if (t >= nthreads)
			continue;
		total[t] = sat_add(total[t], smp.weight_ns);
		if (leaf && leaf->frame < nframes && fr[leaf->frame].kind == FRAME_WAIT)
			waited[t] = sat_add(waited[t], smp.weight_ns);
	}
	for (size_t t = 0; t < nthreads; t++) {
		bool main_thread =
			thr[t].process < nprocs && procs[thr[t].process].pid == thr[t].tid;

		/* a pool worker starting up runs a little before it waits for good */
		if (!total[t] || waited[t] < total[t] / 100 * IDLE_WAIT_PERCENT ||
		    (mode == IDLE_AUTO && main_thread))
			continue;
		(*drop)[t] = true;
		n++;
	}
	free(waited);
	free(total);
	return n;
}
