/* SPDX-License-Identifier: MIT */
/* session_window.c — the part of a session between two times, with only what it uses. */
#include "session/session_window.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "session/session_carry.h"

static bool inside(const struct session_window *w, uint64_t time_ns)
{
	return time_ns < w->to_ns && (time_ns >= w->from_ns || w->take_earlier);
}

static bool sample_inside(uint64_t time_ns, const void *w)
{
	return inside(w, time_ns);
}

/* The processes, then the threads, the samples inside @w use, in their order: 0 or -errno. */
static int carry_threads(struct session_carry *c, const struct session *s,
			 const struct session_window *w)
{
	size_t nprocs, nthreads, i;
	const struct session_thread *threads = session__threads(s, &nthreads);
	struct session_cursor cur;
	struct session_sample smp;
	bool *used = calloc(nthreads ? nthreads : 1, sizeof(*used));
	bool *procs;
	int err = 0;

	session__processes(s, &nprocs);
	procs = calloc(nprocs ? nprocs : 1, sizeof(*procs));
	if (!used || !procs) {
		err = -ENOMEM;
		goto out;
	}
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
		if (inside(w, smp.time_ns) && smp.thread < nthreads)
			used[smp.thread] = true;
	for (i = 0; i < nthreads; i++)
		if (used[i] && threads[i].process < nprocs)
			procs[threads[i].process] = true;
	for (i = 0; i < nprocs && !err; i++)
		if (procs[i] && session_carry_process(c, (uint32_t)i) < 0)
			err = -errno;
	for (i = 0; i < nthreads && !err; i++)
		if (used[i] && threads[i].process < nprocs &&
		    session_carry_thread(c, (uint32_t)i) < 0)
			err = -errno;
out:
	free(used);
	free(procs);
	return err;
}

static int copy_rest(const struct session *s, struct session *to, const struct session_window *w)
{
	const struct session_meta *m = session__meta(s);
	struct session_meta meta = *m;
	size_t nref, i;
	const struct session_refusal *ref = session__refusals(s, &nref);
	uint64_t end = w->to_ns < m->duration_ns ? w->to_ns : m->duration_ns;

	for (i = w->first_refusal; i < nref; i++) {
		int err = session__add_refusal(to, ref[i].pid, ref[i].comm, ref[i].reason);

		if (err)
			return err;
	}
	meta.start_realtime_ns = m->start_realtime_ns + w->from_ns;
	meta.duration_ns = end > w->from_ns ? end - w->from_ns : 0;
	session__set_health(to, session__health(s));
	return session__set_meta(to, &meta);
}

struct session *session_window(const struct session *s, const struct session_window *w)
{
	struct session *to;
	struct session_carry *c;
	int err;

	if (!s || !w || w->to_ns < w->from_ns) {
		errno = EINVAL;
		return NULL;
	}
	to = session__new();
	c = to ? session_carry_new(s, to) : NULL;
	if (!c) {
		session__free(to);
		errno = ENOMEM;
		return NULL;
	}
	err = carry_threads(c, s, w);
	if (!err)
		err = session_carry_samples(c, sample_inside, w, w->from_ns);
	if (!err)
		err = copy_rest(s, to, w);
	session_carry_free(c);
	if (err) {
		session__free(to);
		errno = -err;
		return NULL;
	}
	return to;
}
