/* SPDX-License-Identifier: MIT */
/*
 * repeats.c — the stacks each CPU last sent whole, one a slot, to make whole again the
 * samples the kernel sends as their header alone (repeats.h, bpf/sent_stacks.bpf.h).
 * A copy is the size of its stack: some 150 KiB a CPU for stacks of 32 frames, at most
 * STACKS_SENT_SLOTS copies of STACK_SENT_FRAMES_MAX frames (1 MiB) a CPU.
 */
#include "record/repeats.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES __builtin_offsetof(struct py_sample, frames)

struct kept_stack {
	struct py_sample *copy; /* the whole sample, its header as it came */
	size_t cap;		/* bytes allocated for it */
};

struct repeats {
	int ncpus;
	struct kept_stack **cpus; /* STACKS_SENT_SLOTS each, once that CPU sends */
	struct py_sample *whole;  /* what repeats__expand() returns */
	size_t bytes;
};

struct repeats *repeats__new(int ncpus)
{
	struct repeats *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ncpus = ncpus > 0 ? ncpus : 1;
	r->cpus = calloc((size_t)r->ncpus, sizeof(*r->cpus));
	r->whole = malloc(HEADER_BYTES + STACK_SENT_FRAMES_MAX * sizeof(struct py_frame));
	if (!r->cpus || !r->whole) {
		repeats__free(r);
		return NULL;
	}
	return r;
}

void repeats__free(struct repeats *r)
{
	if (!r)
		return;
	for (int c = 0; r->cpus && c < r->ncpus; c++) {
		for (size_t i = 0; r->cpus[c] && i < STACKS_SENT_SLOTS; i++)
			free(r->cpus[c][i].copy);
		free(r->cpus[c]);
	}
	free(r->cpus);
	free(r->whole);
	free(r);
}

/* The slot @smp's CPU keeps its stack in, or NULL (a CPU out of range). */
static struct kept_stack *slot_of(const struct repeats *r, const struct py_sample *smp)
{
	struct kept_stack *slots;

	if (smp->cpu >= (uint32_t)r->ncpus)
		return NULL;
	slots = r->cpus[smp->cpu];
	return slots ? &slots[py_stack_sent_slot(smp->stack)] : NULL;
}

int repeats__keep(struct repeats *r, const struct py_sample *smp, size_t size)
{
	size_t need;
	struct kept_stack *k;

	if (size < HEADER_BYTES)
		return 0; /* not a sample: on_sample() drops it too */
	need = HEADER_BYTES + (size_t)smp->nr_frames * sizeof(struct py_frame);
	if (!py_stack_rememberable(smp->stack, smp->nr_frames) || size < need ||
	    smp->cpu >= (uint32_t)r->ncpus)
		return 0;
	if (!r->cpus[smp->cpu]) {
		r->cpus[smp->cpu] = calloc(STACKS_SENT_SLOTS, sizeof(struct kept_stack));
		if (!r->cpus[smp->cpu])
			return -ENOMEM;
		r->bytes += STACKS_SENT_SLOTS * sizeof(struct kept_stack);
	}
	k = slot_of(r, smp);
	if (k->cap < need) {
		void *bigger = realloc(k->copy, need);

		if (!bigger) {
			free(k->copy); /* what it held is no longer the kernel's */
			*k = (struct kept_stack){ 0 };
			return -ENOMEM;
		}
		r->bytes += need - k->cap;
		k->copy = bigger;
		k->cap = need;
	}
	memcpy(k->copy, smp, need);
	return 0;
}

const struct py_sample *repeats__expand(struct repeats *r, const struct py_sample *again,
					size_t size, size_t *whole_size)
{
	const struct kept_stack *k;
	const struct py_sample *kept;

	if (size < HEADER_BYTES)
		return NULL;
	k = slot_of(r, again);
	kept = k ? k->copy : NULL;
	/* the name says it all; the rest guards against a record that is not what it says */
	if (!kept || kept->stack != again->stack || kept->proc_id != again->proc_id ||
	    kept->pid != again->pid || kept->nr_frames != again->nr_frames ||
	    kept->flags != again->flags)
		return NULL;
	memcpy(r->whole, again, HEADER_BYTES);
	r->whole->type = EVENT_SAMPLE;
	memcpy(r->whole->frames, kept->frames, (size_t)kept->nr_frames * sizeof(struct py_frame));
	*whole_size = HEADER_BYTES + (size_t)kept->nr_frames * sizeof(struct py_frame);
	return r->whole;
}

size_t repeats__bytes(const struct repeats *r)
{
	return r ? r->bytes : 0;
}
