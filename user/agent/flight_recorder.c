/* SPDX-License-Identifier: MIT */
/* flight_recorder.c — the recent slices kept in memory, and a snapshot made of them. */
#include "agent/flight_recorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "session/session_merge.h"
#include "session/session_window.h"

void flight_recorder_add(struct flight_recorder *fr, struct session *slice, uint64_t end_ns)
{
	size_t drop = 0;

	while (drop < fr->n && fr->slices[drop].end_ns + fr->window_ns < end_ns)
		session__free(fr->slices[drop++].s);
	if (drop) {
		memmove(fr->slices, fr->slices + drop, (fr->n - drop) * sizeof(*fr->slices));
		fr->n -= drop;
	}
	if (!fr->window_ns || GROW(fr->slices, fr->cap, fr->n + 1, 8)) {
		session__free(slice);
		return;
	}
	fr->slices[fr->n++] = (struct flight_slice){ slice, end_ns };
}

static int by_start(const void *a, const void *b)
{
	uint64_t x = session__meta(*(const struct session *const *)a)->start_realtime_ns;
	uint64_t y = session__meta(*(const struct session *const *)b)->start_realtime_ns;

	return x < y ? -1 : x > y;
}

struct session *flight_recorder_snapshot(const struct flight_recorder *fr,
					 const struct session *newest, uint64_t now_ns,
					 uint64_t last_ns)
{
	const struct session **parts = malloc((fr->n + 1) * sizeof(*parts));
	struct session *all = session__new(), *out = NULL;
	struct session_window w = { .to_ns = UINT64_MAX };
	size_t n = 0;
	uint64_t duration;
	int err = 0;

	if (!parts || !all) {
		errno = ENOMEM;
		goto done;
	}
	if (last_ns > fr->window_ns && fr->window_ns)
		last_ns = fr->window_ns;
	for (size_t i = 0; i < fr->n; i++)
		if (fr->slices[i].end_ns + last_ns >= now_ns)
			parts[n++] = fr->slices[i].s;
	if (newest)
		parts[n++] = newest;
	/* in order of their wall-clock starts, as merging wants: a clock set back in the
	 * window stamped a later slice earlier */
	qsort(parts, n, sizeof(*parts), by_start);
	for (size_t i = 0; i < n && !err; i++)
		err = session_merge(all, parts[i]);
	if (err) {
		errno = -err;
		goto done;
	}
	duration = session__meta(all)->duration_ns;
	w.from_ns = duration > last_ns ? duration - last_ns : 0;
	out = session_window(all, &w);
done:
	free(parts);
	session__free(all);
	return out;
}

void flight_recorder_free(struct flight_recorder *fr)
{
	for (size_t i = 0; i < fr->n; i++)
		session__free(fr->slices[i].s);
	free(fr->slices);
	*fr = (struct flight_recorder){ 0 };
}
