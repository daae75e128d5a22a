/* SPDX-License-Identifier: MIT */
/* clock_watch.c — the wall clock's steps, seen against the monotonic clock. */
#include "agent/clock_watch.h"

int64_t clock_watch_look(struct clock_watch *w, uint64_t realtime_ns, uint64_t monotonic_ns)
{
	int64_t offset = (int64_t)(realtime_ns - monotonic_ns), step = offset - w->offset_ns;
	bool first = !w->known;

	w->offset_ns = offset;
	w->known = true;
	if (first || (step < CLOCK_JUMP_NS && step > -CLOCK_JUMP_NS))
		return 0;
	w->jumps++;
	w->last_jump_ns = step;
	return step;
}
