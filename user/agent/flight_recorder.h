/* SPDX-License-Identifier: MIT */
/*
 * flight_recorder.h — the agent's last --window seconds in memory: the slices it cut
 * recently (each with its samples in time order), kept until they end more than the window
 * ago. What it holds is bounded by the window, not by how long the agent runs.
 */
#ifndef PYFLARE_FLIGHT_RECORDER_H
#define PYFLARE_FLIGHT_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

struct flight_slice {
	struct session *s;
	uint64_t end_ns; /* the recording's clock */
};

struct flight_recorder {
	uint64_t window_ns;	     /* 0: keeps nothing */
	struct flight_slice *slices; /* oldest first */
	size_t n, cap;
};

/*
 * Keeps @slice (taken: freed now when the window is 0 or memory is short), which ends at
 * @end_ns on the recording's clock, and lets go of those that ended more than the window
 * before it.
 */
void flight_recorder_add(struct flight_recorder *fr, struct session *slice, uint64_t end_ns);

/*
 * One session of the last @last_ns (at most the window) up to now, @newest (the slice so
 * far, not kept) included: a full session, its samples in time order. Returns NULL with
 * errno set.
 */
struct session *flight_recorder_snapshot(const struct flight_recorder *fr,
					 const struct session *newest, uint64_t now_ns,
					 uint64_t last_ns);

void flight_recorder_free(struct flight_recorder *fr);

#endif /* PYFLARE_FLIGHT_RECORDER_H */
