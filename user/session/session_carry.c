/* SPDX-License-Identifier: MIT */
/* session_carry.c — entries of one session copied into another on demand, each once. */
#include "session/session_carry.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/grow.h"

/* A map's slot holds the entry's index in @to + 1; 0: not carried yet. */
struct session_carry {
	const struct session *from;
	struct session *to;
	uint32_t *procs, *threads, *frames, *stacks;
	uint32_t *path; /* stack nodes waiting for their caller, innermost first */
	size_t path_cap;
};

struct session_carry *session_carry_new(const struct session *from, struct session *to)
{
	struct session_carry *c = calloc(1, sizeof(*c));
	size_t np, nt, nf, ns;

	if (!c || !from || !to) {
		free(c);
		errno = c ? EINVAL : ENOMEM;
		return NULL;
	}
	session__processes(from, &np);
	session__threads(from, &nt);
	session__frames(from, &nf);
	session__stacks(from, &ns);
	*c = (struct session_carry){ .from = from, .to = to };
	c->procs = calloc(np ? np : 1, sizeof(*c->procs));
	c->threads = calloc(nt ? nt : 1, sizeof(*c->threads));
	c->frames = calloc(nf ? nf : 1, sizeof(*c->frames));
	c->stacks = calloc(ns ? ns : 1, sizeof(*c->stacks));
	if (!c->procs || !c->threads || !c->frames || !c->stacks) {
		session_carry_free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->stacks[0] = 1; /* the root is every session's node 0 */
	return c;
}

void session_carry_free(struct session_carry *c)
{
	if (!c)
		return;
	free(c->procs);
	free(c->threads);
	free(c->frames);
	free(c->stacks);
	free(c->path);
	free(c);
}

/* The entry's new index, kept in @slot: -1 with errno set when @idx failed. */
static int64_t remember(uint32_t *slot, int64_t idx)
{
	if (idx >= 0)
		*slot = (uint32_t)idx + 1;
	return idx;
}

static int64_t fail(int e)
{
	errno = e;
	return -1;
}

int64_t session_carry_process(struct session_carry *c, uint32_t process)
{
	size_t n;
	const struct session_process *procs = session__processes(c->from, &n);

	if (process >= n)
		return fail(EINVAL);
	if (c->procs[process])
		return c->procs[process] - 1;
	return remember(&c->procs[process], session__add_process(c->to, &procs[process]));
}

int64_t session_carry_thread(struct session_carry *c, uint32_t thread)
{
	size_t n;
	const struct session_thread *threads = session__threads(c->from, &n);
	int64_t p, t;

	if (thread >= n)
		return fail(EINVAL);
	if (c->threads[thread])
		return c->threads[thread] - 1;
	p = session_carry_process(c, threads[thread].process);
	if (p < 0)
		return -1;
	t = session__add_thread(c->to, (uint32_t)p, threads[thread].tid, threads[thread].name);
	if (t >= 0 && threads[thread].nmembers &&
	    session__set_thread_members(c->to, (uint32_t)t, threads[thread].nmembers))
		return fail(EINVAL);
	return remember(&c->threads[thread], t);
}

int64_t session_carry_frame(struct session_carry *c, uint32_t frame)
{
	size_t n;
	const struct session_frame *frames = session__frames(c->from, &n);

	if (frame >= n)
		return fail(EINVAL);
	if (c->frames[frame])
		return c->frames[frame] - 1;
	return remember(&c->frames[frame], session__intern_frame(c->to, &frames[frame]));
}

int64_t session_carry_stack(struct session_carry *c, uint32_t node)
{
	size_t n, depth = 0;
	const struct session_stack *stacks = session__stacks(c->from, &n);
	uint32_t at = node;

	if (node >= n)
		return fail(EINVAL);
	/* up to the first node already there (the root always is) */
	while (!c->stacks[at]) {
		if (GROW(c->path, c->path_cap, depth + 1, 64))
			return fail(ENOMEM);
		c->path[depth++] = at;
		if (stacks[at].parent >= at) /* callers come first: no loop */
			return fail(EINVAL);
		at = stacks[at].parent;
	}
	while (depth--) {
		uint32_t s = c->path[depth];
		int64_t f = session_carry_frame(c, stacks[s].frame);

		if (f < 0)
			return -1;
		if (remember(&c->stacks[s],
			     session__intern_stack(c->to, c->stacks[stacks[s].parent] - 1,
						   (uint32_t)f)) < 0)
			return -1;
	}
	return c->stacks[node] - 1;
}

int session_carry_samples(struct session_carry *c, bool (*keep)(uint64_t time_ns, const void *ctx),
			  const void *ctx, uint64_t shift_ns)
{
	struct session_cursor cur;
	struct session_sample smp;

	for (session__samples_begin(c->from, &cur); session__samples_next(&cur, &smp);) {
		struct session_sample out = smp;
		int64_t thread, stack;
		int err;

		if (!keep(smp.time_ns, ctx))
			continue;
		thread = session_carry_thread(c, smp.thread);
		stack = session_carry_stack(c, smp.stack);
		if (thread < 0 || stack < 0)
			return -errno;
		out.time_ns = out.time_ns > shift_ns ? out.time_ns - shift_ns : 0;
		out.thread = (uint32_t)thread;
		out.stack = (uint32_t)stack;
		err = session__add_sample(c->to, &out);
		if (err)
			return err;
	}
	return 0;
}
