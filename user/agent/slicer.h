/* SPDX-License-Identifier: MIT */
/*
 * slicer.h — the agent's time slices, cut from the recorder's live session: the samples of
 * one slice with only the processes, threads, frames and stacks they use, its part of the
 * health counters, its refusals. A cut lets the slice's samples go from the live session,
 * so that what the agent holds does not grow with the time it runs.
 */
#ifndef PYFLARE_SLICER_H
#define PYFLARE_SLICER_H

#include <stdint.h>

#include "session/session.h"

struct slicer {
	uint64_t start_ns;	    /* the current slice's start, the recording's clock */
	size_t first_refusal;	    /* the live session's refusals not in a slice yet */
	struct session_health last; /* the live session's counters at the last cut */
};

/* Where the live session stands now: its meta and health just set, the clocks now. */
struct slicer_now {
	uint64_t elapsed_ns;  /* the recording's clock (the samples') */
	uint64_t realtime_ns; /* the wall clock, ns since the epoch */
};

/*
 * The slice from the current start to @end_ns (the recording's clock) as a new session,
 * stamped with the wall clock @now says (a clock that jumped stamps the slices after the
 * jump with the new time). Its samples leave @live, and the next slice starts at @end_ns.
 * Returns NULL with errno set (ENOMEM): @live is left as it was.
 */
struct session *slicer_cut(struct slicer *sl, struct session *live, uint64_t end_ns,
			   const struct slicer_now *now);

/* The same without cutting: the slice so far, up to now (a snapshot's newest part). */
struct session *slicer_peek(const struct slicer *sl, const struct session *live,
			    const struct slicer_now *now);

#endif /* PYFLARE_SLICER_H */
