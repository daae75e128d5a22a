/* SPDX-License-Identifier: MIT */
/*
 * clock_watch.h — notices when the wall clock is stepped (NTP, an operator, a VM resumed)
 * while the agent runs. Slices are scheduled by the monotonic clock and only named by the
 * wall clock, so a step loses or doubles no slice; it is said, so that a reader of DIR
 * knows why the slices' names jump.
 */
#ifndef PYFLARE_CLOCK_WATCH_H
#define PYFLARE_CLOCK_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_JUMP_NS 1000000000LL /* a step smaller than this is slewing, not a jump */

struct clock_watch {
	int64_t offset_ns; /* wall clock minus monotonic clock at the last look */
	bool known;
	uint64_t jumps; /* steps seen so far */
	int64_t last_jump_ns;
};

/*
 * Looks at the two clocks (@realtime_ns, @monotonic_ns of the same moment): returns the step
 * since the last look (positive: set forward), or 0 when there was none (under
 * CLOCK_JUMP_NS either way).
 */
int64_t clock_watch_look(struct clock_watch *w, uint64_t realtime_ns, uint64_t monotonic_ns);

#endif /* PYFLARE_CLOCK_WATCH_H */
