/* SPDX-License-Identifier: MIT */
/* idle_threads.c — find the threads whose every sample is a wait (wall mode). */
#include "idle_threads.h"

#include <errno.h>
#include <stdlib.h>

long idle_threads_find(const struct session *s, enum idle_threads mode, bool **drop)
{
	size_t nthreads, nsamples, nstacks, nframes, nprocs;
	const struct session_thread *thr = session__threads(s, &nthreads);
	const struct session_sample *smp = session__samples(s, &nsamples);
	const struct session_stack *st = session__stacks(s, &nstacks);
	const struct session_frame *fr = session__frames(s, &nframes);
	const struct session_process *procs = session__processes(s, &nprocs);
	bool *busy;
	long n = 0;

	*drop = NULL;
	if (mode == IDLE_KEEP || !nthreads)
		return 0;
	busy = calloc(nthreads, sizeof(*busy));
	*drop = calloc(nthreads, sizeof(**drop));
	if (!busy || !*drop) {
		free(busy);
		free(*drop);
		*drop = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < nsamples; i++) {
		const struct session_stack *leaf = smp[i].stack < nstacks ? &st[smp[i].stack] : NULL;

		if (smp[i].thread < nthreads &&
		    (!leaf || leaf->frame >= nframes || fr[leaf->frame].kind != FRAME_WAIT))
			busy[smp[i].thread] = true;
	}
	for (size_t t = 0; t < nthreads; t++) {
		bool main_thread = thr[t].process < nprocs && procs[thr[t].process].pid == thr[t].tid;

		if (busy[t] || (mode == IDLE_AUTO && main_thread))
			continue;
		(*drop)[t] = true;
		n++;
	}
	free(busy);
	return n;
}
