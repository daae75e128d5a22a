/* SPDX-License-Identifier: MIT */
/*
 * rebase.c — the agent's live session moved into a new one at a slice's cut, with only what
 * is still wanted: the samples not cut yet, and what the collector's tables name (the
 * processes it profiles, their threads, the names code events gave, wall mode's stacks).
 * What processes that ended left behind goes with the old one, and so do the stacks and
 * instructions the processes still running were sampled at (their caches start again with
 * each slice, made again from the code objects already read): an agent that runs for weeks
 * holds what runs now, not everything that ever ran.
 *
 * Three passes over the same references: mark what they name, carry it in its old order (a
 * slice lists processes and threads as they were met), then renumber them. Only the second
 * can fail, before anything of the collector has changed.
 */
#include "record/recorder.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/clock.h"
#include "lib/keymap.h"
#include "lib/log.h"
#include "python/symbolize.h"
#include "session/session_carry.h"

enum ref_kind { REF_PROCESS, REF_THREAD, REF_FRAME, REF_STACK, REF_KINDS };

struct rebase {
	struct collector *c;
	struct session_carry *carry;
	bool renumber;		 /* the third pass: references take their new index */
	bool *marked[REF_KINDS]; /* the first pass: what is referenced */
	size_t count[REF_KINDS]; /* entries of each kind in the old session */
	uint64_t from_ns;	 /* the samples from then on stay */
};

static int64_t carry(struct rebase *r, enum ref_kind kind, uint32_t idx)
{
	switch (kind) {
	case REF_PROCESS:
		return session_carry_process(r->carry, idx);
	case REF_THREAD:
		return session_carry_thread(r->carry, idx);
	case REF_FRAME:
		return session_carry_frame(r->carry, idx);
	default:
		return session_carry_stack(r->carry, idx);
	}
}

/* One reference to entry @idx: marked in the first pass, its new index in the third. */
static uint64_t ref(struct rebase *r, enum ref_kind kind, uint64_t idx)
{
	int64_t now;

	if (idx >= r->count[kind])
		return idx; /* names nothing: left as it is */
	if (!r->renumber) {
		r->marked[kind][idx] = true;
		return idx;
	}
	now = carry(r, kind, (uint32_t)idx); /* carried in the second pass: a look-up */
	return now < 0 ? idx : (uint64_t)now;
}

static uint64_t visit_stack(const struct keymap_key *key, uint64_t value, void *ctx)
{
	(void)key;
	return ref(ctx, REF_STACK, value);
}

static void visit_tracked(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct tracked *t = (struct tracked *)(uintptr_t)value;

	(void)key;
	t->session_proc = (uint32_t)ref(ctx, REF_PROCESS, t->session_proc);
}

/* The caches of stacks and frames last a slice: what they hold is made again when met. */
static void forget_stacks(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct tracked *t = (struct tracked *)(uintptr_t)value;

	(void)key;
	(void)ctx;
	keymap__free(t->stacks);
	t->stacks = NULL;
}

static void visit_thread(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct sampled_thread *st = (struct sampled_thread *)(uintptr_t)value;

	(void)key;
	st->session_thread = (uint32_t)ref(ctx, REF_THREAD, st->session_thread);
}

/* (pid, start, 0): its process + 1; (pid, start, 2): its main thread + 1; (.., 1): refused */
static uint64_t visit_instance(const struct keymap_key *key, uint64_t value, void *ctx)
{
	if (key->c == 1 || !value)
		return value;
	return ref(ctx, key->c == 0 ? REF_PROCESS : REF_THREAD, value - 1) + 1;
}

static uint64_t visit_frame(uint64_t frame, void *ctx)
{
	return ref(ctx, REF_FRAME, frame);
}

static bool kept(uint64_t time_ns, const void *from_ns)
{
	return time_ns >= *(const uint64_t *)from_ns;
}

static void visit(struct rebase *r)
{
	struct collector *c = r->c;

	keymap__each(c->tracked, visit_tracked, r);
	keymap__each(c->threads, visit_thread, r);
	keymap__update_each(c->instances, visit_instance, r);
	if (c->stacks)
		keymap__update_each(c->stacks, visit_stack, r);
	symbolizer__renumber(c->sym, visit_frame, r);
	if (!r->renumber) { /* the samples that stay are carried with their own */
		struct session_cursor cur;
		struct session_sample smp;

		for (session__samples_begin(c->s, &cur); session__samples_next(&cur, &smp);) {
			if (!kept(smp.time_ns, &r->from_ns))
				continue;
			ref(r, REF_THREAD, smp.thread);
			ref(r, REF_STACK, smp.stack);
		}
	}
}

/* The second pass: what was marked, kind by kind in its old order, then the rest. */
static int carry_marked(struct rebase *r, struct session *to, size_t first_refusal)
{
	const struct session *s = r->c->s;
	size_t nref;
	const struct session_refusal *refusals = session__refusals(s, &nref);
	int err;

	for (int k = 0; k < REF_KINDS; k++)
		for (size_t i = 0; i < r->count[k]; i++)
			if (r->marked[k][i] && carry(r, k, (uint32_t)i) < 0)
				return -errno;
	err = session_carry_samples(r->carry, kept, &r->from_ns, 0);
	for (size_t i = first_refusal; i < nref && !err; i++)
		err = session__add_refusal(to, refusals[i].pid, refusals[i].comm,
					   refusals[i].reason);
	if (!err)
		err = session__set_meta(to, session__meta(s));
	session__set_health(to, session__health(s));
	return err;
}

static size_t entries(const struct session *s)
{
	size_t np, nt, nf, ns;

	session__processes(s, &np);
	session__threads(s, &nt);
	session__frames(s, &nf);
	session__stacks(s, &ns);
	return np + nt + nf + ns;
}

int collector_rebase(struct collector *c, uint64_t from_ns, size_t first_refusal)
{
	struct rebase r = { .c = c, .from_ns = from_ns };
	struct session *to = session__new();
	size_t nref, before = entries(c->s);
	uint64_t start = now_ns();
	int err = -ENOMEM;

	session__processes(c->s, &r.count[REF_PROCESS]);
	session__threads(c->s, &r.count[REF_THREAD]);
	session__frames(c->s, &r.count[REF_FRAME]);
	session__stacks(c->s, &r.count[REF_STACK]);
	session__refusals(c->s, &nref);
	for (int k = 0; k < REF_KINDS; k++)
		if (!(r.marked[k] = calloc(r.count[k] ? r.count[k] : 1, sizeof(bool))))
			goto out;
	r.carry = to ? session_carry_new(c->s, to) : NULL;
	if (!r.carry)
		goto out;
	keymap__each(c->tracked, forget_stacks, NULL); /* no longer named: not carried */
	symbolizer__forget_frames(c->sym);
	visit(&r);
	err = carry_marked(&r, to, first_refusal < nref ? first_refusal : nref);
	if (err)
		goto out;
	r.renumber = true;
	visit(&r);
	/* --async's task views are a cache of stack nodes: made again as they are met */
	keymap__free(c->task_views);
	c->task_views = NULL;
	c->n_task_views = 0;
	c->refusals_moved += first_refusal < nref ? first_refusal : nref;
	session__replace(c->s, to);
	to = NULL;
	pr_info("session: kept %zu of %zu processes, threads, frames and stack nodes (%.1f ms)\n",
		entries(c->s), before, (double)(now_ns() - start) / 1e6);
out:
	session_carry_free(r.carry);
	session__free(to);
	for (int k = 0; k < REF_KINDS; k++)
		free(r.marked[k]);
	return err;
}
