/* SPDX-License-Identifier: MIT */
/* slicer.c — time slices cut from the live session, with their part of the health. */
#include "agent/slicer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "session/session_window.h"

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static struct session *cut(const struct slicer *sl, const struct session *live, uint64_t end_ns,
			   const struct slicer_now *now)
{
	struct session_window w = {
		.from_ns = sl->start_ns,
		.to_ns = end_ns,
		.first_refusal = sl->first_refusal,
		.take_earlier = true,
	};
	const struct session_health *h = session__health(live);
	struct session_meta meta;
	struct session_health part;
	struct session *s = session_window(live, &w);
	size_t nprocs, nrefusals;

	if (!s)
		return NULL;
	meta = *session__meta(s);
	/* the wall clock now, less the recording's time since the slice started */
	meta.start_realtime_ns = now->realtime_ns - since(now->elapsed_ns, sl->start_ns);
	meta.duration_ns = since(end_ns, sl->start_ns);
	session__processes(s, &nprocs);
	session__refusals(s, &nrefusals);
	part = (struct session_health){
		.samples = since(h->samples, sl->last.samples),
		.lost = since(h->lost, sl->last.lost),
		.truncated = since(h->truncated, sl->last.truncated),
		.unreadable = since(h->unreadable, sl->last.unreadable),
		.unsymbolized = since(h->unsymbolized, sl->last.unsymbolized),
		.no_thread_state = since(h->no_thread_state, sl->last.no_thread_state),
		.no_python_frame = since(h->no_python_frame, sl->last.no_python_frame),
		.attached = (uint32_t)nprocs,
		.refused = (uint32_t)nrefusals,
	};
	session__set_health(s, &part);
	if (session__set_meta(s, &meta)) {
		session__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

struct session *slicer_cut(struct slicer *sl, struct session *live, uint64_t end_ns,
			   const struct slicer_now *now)
{
	struct session *s = cut(sl, live, end_ns, now);

	if (!s)
		return NULL;
	session__drop_samples_before(live, end_ns);
	session__refusals(live, &sl->first_refusal);
	sl->last = *session__health(live);
	sl->start_ns = end_ns;
	return s;
}

struct session *slicer_peek(const struct slicer *sl, const struct session *live,
			    const struct slicer_now *now)
{
	return cut(sl, live, now->elapsed_ns + 1, now);
}
