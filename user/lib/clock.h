/* SPDX-License-Identifier: MIT */
/* clock.h — the one clock pyflare's timers, deadlines and durations read, and the wall clock. */
#ifndef PYFLARE_CLOCK_H
#define PYFLARE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: the samples' clock too (bpf_ktime_get_ns). */
uint64_t now_ns(void);
/* CLOCK_REALTIME in nanoseconds since the epoch: what a time shown or sent is. */
uint64_t realtime_ns(void);

#endif /* PYFLARE_CLOCK_H */
