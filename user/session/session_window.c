/* SPDX-License-Identifier: MIT */
/* session_window.c — the part of a session between two times, with only what it uses. */
#include "session/session_window.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

#define UNMAPPED UINT32_MAX

struct cut {
	const struct session *from;
	struct session *to;
	uint32_t *fmap; /* frame of @from -> frame of @to, or UNMAPPED */
	uint32_t *smap; /* node of @from -> node of @to; 0: not yet (node 0 is the root) */
	uint32_t *path; /* nodes waiting for their parent, innermost first */
	size_t path_cap;
};

static int64_t frame_of(struct cut *c, uint32_t frame)
{
	size_t n;
	const struct session_frame *frames = session__frames(c->from, &n);
	int64_t f;

	if (frame >= n)
		return -1;
	if (c->fmap[frame] != UNMAPPED)
		return c->fmap[frame];
	f = session__intern_frame(c->to, &frames[frame]);
	if (f >= 0)
		c->fmap[frame] = (uint32_t)f;
	return f;
}

/* Node @node of @from in @to, interning it and the callers not there yet: 0 or -errno. */
static int map_node(struct cut *c, uint32_t node)
{
	size_t nstacks, depth = 0;
	const struct session_stack *stacks = session__stacks(c->from, &nstacks);

	/* up to the first node already there (the root always is) */
	while (node && !c->smap[node]) {
		if (GROW(c->path, c->path_cap, depth + 1, 64))
			return -ENOMEM;
		c->path[depth++] = node;
		if (stacks[node].parent >= node) /* parents come first: no loop */
			return -EINVAL;
		node = stacks[node].parent;
	}
	while (depth--) {
		uint32_t n = c->path[depth];
		int64_t f = frame_of(c, stacks[n].frame), id;

		if (f < 0)
			return errno == ENOMEM ? -ENOMEM : -EINVAL;
		id = session__intern_stack(c->to, c->smap[stacks[n].parent], (uint32_t)f);
		if (id < 0)
			return -errno;
		c->smap[n] = (uint32_t)id;
	}
	return 0;
}

/* The processes and threads the samples inside @w use, in their order: 0 or -errno. */
static bool inside(const struct session_window *w, uint64_t time_ns)
{
	return time_ns < w->to_ns && (time_ns >= w->from_ns || w->take_earlier);
}

static int copy_threads(struct cut *c, const struct session_window *w, uint32_t *tmap)
{
	size_t nprocs, nthreads, i;
	const struct session_process *procs = session__processes(c->from, &nprocs);
	const struct session_thread *threads = session__threads(c->from, &nthreads);
	struct session_cursor cur;
	struct session_sample smp;
	uint32_t *pmap = malloc((nprocs ? nprocs : 1) * sizeof(*pmap));
	int err = 0;

	if (!pmap)
		return -ENOMEM;
	for (i = 0; i < nprocs; i++)
		pmap[i] = UNMAPPED;
	for (session__samples_begin(c->from, &cur); session__samples_next(&cur, &smp);)
		if (inside(w, smp.time_ns) && smp.thread < nthreads)
			tmap[smp.thread] = 0; /* used: numbered below */
	for (i = 0; i < nthreads; i++) {
		if (tmap[i] == UNMAPPED)
			continue;
		if (threads[i].process < nprocs)
			pmap[threads[i].process] = 0;
	}
	for (i = 0; i < nprocs; i++) {
		int64_t p;

		if (pmap[i] == UNMAPPED)
			continue;
		p = session__add_process(c->to, &procs[i]);
		if (p < 0) {
			err = -errno;
			goto out;
		}
		pmap[i] = (uint32_t)p;
	}
	for (i = 0; i < nthreads; i++) {
		int64_t t;

		if (tmap[i] == UNMAPPED || threads[i].process >= nprocs)
			continue;
		t = session__add_thread(c->to, pmap[threads[i].process], threads[i].tid,
					threads[i].name);
		if (t < 0) {
			err = -errno;
			goto out;
		}
		tmap[i] = (uint32_t)t;
		if (threads[i].nmembers)
			session__set_thread_members(c->to, (uint32_t)t, threads[i].nmembers);
	}
out:
	free(pmap);
	return err;
}

static int copy_samples(struct cut *c, const struct session_window *w, const uint32_t *tmap)
{
	size_t nstacks;
	struct session_cursor cur;
	struct session_sample smp;

	session__stacks(c->from, &nstacks);
	for (session__samples_begin(c->from, &cur); session__samples_next(&cur, &smp);) {
		struct session_sample out = smp;
		int err;

		if (!inside(w, smp.time_ns))
			continue;
		if (smp.stack >= nstacks || tmap[smp.thread] == UNMAPPED)
			return -EINVAL;
		err = map_node(c, smp.stack);
		if (err)
			return err;
		out.time_ns = out.time_ns > w->from_ns ? out.time_ns - w->from_ns : 0;
		out.thread = tmap[smp.thread];
		out.stack = c->smap[smp.stack];
		err = session__add_sample(c->to, &out);
		if (err)
			return err;
	}
	return 0;
}

static int copy_rest(struct cut *c, const struct session_window *w)
{
	const struct session_meta *m = session__meta(c->from);
	struct session_meta meta = *m;
	size_t nref, i;
	const struct session_refusal *ref = session__refusals(c->from, &nref);
	uint64_t end = w->to_ns < m->duration_ns ? w->to_ns : m->duration_ns;

	for (i = w->first_refusal; i < nref; i++) {
		int err = session__add_refusal(c->to, ref[i].pid, ref[i].comm, ref[i].reason);

		if (err)
			return err;
	}
	meta.start_realtime_ns = m->start_realtime_ns + w->from_ns;
	meta.duration_ns = end > w->from_ns ? end - w->from_ns : 0;
	session__set_health(c->to, session__health(c->from));
	return session__set_meta(c->to, &meta);
}

struct session *session_window(const struct session *s, const struct session_window *w)
{
	struct cut c = { .from = s };
	size_t nframes, nstacks, nthreads, i;
	uint32_t *tmap = NULL;
	int err = -ENOMEM;

	if (!s || !w || w->to_ns < w->from_ns) {
		errno = EINVAL;
		return NULL;
	}
	session__frames(s, &nframes);
	session__stacks(s, &nstacks);
	session__threads(s, &nthreads);
	c.to = session__new();
	c.fmap = malloc((nframes ? nframes : 1) * sizeof(*c.fmap));
	c.smap = calloc(nstacks ? nstacks : 1, sizeof(*c.smap));
	tmap = malloc((nthreads ? nthreads : 1) * sizeof(*tmap));
	if (!c.to || !c.fmap || !c.smap || !tmap)
		goto out;
	for (i = 0; i < nframes; i++)
		c.fmap[i] = UNMAPPED;
	for (i = 0; i < nthreads; i++)
		tmap[i] = UNMAPPED;
	err = copy_threads(&c, w, tmap);
	if (!err)
		err = copy_samples(&c, w, tmap);
	if (!err)
		err = copy_rest(&c, w);
out:
	free(c.fmap);
	free(c.smap);
	free(c.path);
	free(tmap);
	if (err) {
		session__free(c.to);
		errno = -err;
		return NULL;
	}
	return c.to;
}
