/* SPDX-License-Identifier: MIT */
/* top_tally.c — a span's time per (thread, stack) (top_tally.h). */
#include "top/top_tally.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/grow.h"
#include "lib/keymap.h"

void top_tally_init(struct top_tally *t, uint64_t at_ns)
{
	*t = (struct top_tally){ .begin_ns = at_ns, .end_ns = at_ns };
}

void top_tally_release(struct top_tally *t)
{
	free(t->entries);
	keymap__free(t->index);
	top_tally_init(t, t->begin_ns);
}

void top_tally_reset(struct top_tally *t, uint64_t at_ns)
{
	/* a fresh index costs less than emptying one: a window has few entries */
	keymap__free(t->index);
	t->index = NULL;
	t->n = 0;
	t->begin_ns = t->end_ns = at_ns;
	t->received = t->lost = t->self_cpu_ns = 0;
}

int top_tally_add(struct top_tally *t, uint32_t thread, uint32_t stack, uint64_t weight_ns,
		  uint64_t samples)
{
	struct keymap_key key = { thread, stack, 0 };
	uint64_t at;

	if (!t->index && !(t->index = keymap__new()))
		return -ENOMEM;
	if (!keymap__get(t->index, &key, &at)) {
		if (GROW(t->entries, t->cap, t->n + 1, 64))
			return -ENOMEM;
		at = t->n;
		if (keymap__set(t->index, &key, at))
			return -ENOMEM;
		t->entries[t->n++] = (struct top_tally_entry){ thread, stack, 0, 0 };
	}
	t->entries[at].weight_ns += weight_ns;
	t->entries[at].samples += samples;
	return 0;
}

int top_tally_add_session(struct top_tally *t, const struct session *s)
{
	struct session_cursor cur;
	struct session_sample smp;

	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
		if (top_tally_add(t, smp.thread, smp.stack, smp.weight_ns, 1))
			return -ENOMEM;
	return 0;
}

int top_tally_merge(struct top_tally *dst, const struct top_tally *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct top_tally_entry *e = &src->entries[i];

		if (top_tally_add(dst, e->thread, e->stack, e->weight_ns, e->samples))
			return -ENOMEM;
	}
	if (src->begin_ns < dst->begin_ns)
		dst->begin_ns = src->begin_ns;
	if (src->end_ns > dst->end_ns)
		dst->end_ns = src->end_ns;
	dst->received += src->received;
	dst->lost += src->lost;
	dst->self_cpu_ns += src->self_cpu_ns;
	return 0;
}

void top_tally_swap(struct top_tally *a, struct top_tally *b)
{
	struct top_tally tmp = *a;

	*a = *b;
	*b = tmp;
}
