/* SPDX-License-Identifier: MIT */
/*
 * top_tally.h — the time of one span of a live recording (pyflare top), added up per
 * (thread, stack): what a window between two refreshes, or the whole run, shows.
 *
 * Samples are folded in as they arrive and the session lets them go, so a tally's size
 * grows with the distinct stacks seen, never with the length of the run.
 */
#ifndef PYFLARE_TOP_TALLY_H
#define PYFLARE_TOP_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

struct keymap;

struct top_tally_entry {
	uint32_t thread; /* session thread */
	uint32_t stack;	 /* session stack node (the leaf) */
	uint64_t weight_ns;
	uint64_t samples;
};

struct top_tally {
	struct top_tally_entry *entries;
	size_t n, cap;
	struct keymap *index;	   /* (thread, stack) -> entry */
	uint64_t begin_ns, end_ns; /* the span, on the recording's clock */
	/* What the owner measured over the span, for the header */
	uint64_t received;    /* stacks the collector received */
	uint64_t lost;	      /* records the kernel could not send */
	uint64_t self_cpu_ns; /* pyflare's own CPU time */
};

/* An empty tally from @at_ns. Nothing to free until something is added. */
void top_tally_init(struct top_tally *t, uint64_t at_ns);
void top_tally_release(struct top_tally *t);
/* Empties @t, now starting at @at_ns. */
void top_tally_reset(struct top_tally *t, uint64_t at_ns);
/* Adds @samples samples of @weight_ns on (@thread, @stack). Returns 0 or -ENOMEM. */
int top_tally_add(struct top_tally *t, uint32_t thread, uint32_t stack, uint64_t weight_ns,
		  uint64_t samples);
/* Adds every sample of @s. Returns 0 or -ENOMEM. */
int top_tally_add_session(struct top_tally *t, const struct session *s);
/* Adds @src to @dst: entries, counters, and the span covering both. Returns 0 or -ENOMEM. */
int top_tally_merge(struct top_tally *dst, const struct top_tally *src);
/* Exchanges two tallies. */
void top_tally_swap(struct top_tally *a, struct top_tally *b);

#endif /* PYFLARE_TOP_TALLY_H */
