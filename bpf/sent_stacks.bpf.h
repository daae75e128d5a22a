/* SPDX-License-Identifier: MIT */
/*
 * sent_stacks.bpf.h — the stacks each CPU has sent whole, so that a stack sampled again is
 * sent as its header alone (EVENT_SAMPLE_AGAIN).
 *
 * Copying a sample into the ring buffer is the largest part of what one costs (a 32-frame
 * stack is 584 bytes; the header alone measured 0.68-0.90 of the whole sample's mean), and a
 * busy thread is mostly sampled in a few stacks. Each CPU keeps the names of the stacks it
 * last sent whole, one a slot (pyflare.h, py_stack_sent_slot), and the collector a copy of
 * each of those stacks (record/repeats.c). A name is only written once its stack is in the
 * ring, and one CPU's records reach the collector in the order they were reserved, so a
 * short record always follows the whole one its slot names. The name holds every frame's
 * code object, instruction and fingerprint: a code object made at a freed one's address is
 * another stack. Only the samplers use it, which never interrupt one another.
 */
#ifndef PYFLARE_SENT_STACKS_BPF_H
#define PYFLARE_SENT_STACKS_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "pyflare.h"

struct sent_stacks {
	__u64 name[STACKS_SENT_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sent_stacks);
} sent_stacks SEC(".maps");

/* This CPU's slot for the stack of @smp, or NULL when it is always sent whole. */
static __always_inline __u64 *sent_stack_slot(const struct py_sample *smp)
{
	struct sent_stacks *sent;
	__u32 zero = 0;

	if (!py_stack_rememberable(smp->stack, smp->nr_frames))
		return NULL;
	sent = bpf_map_lookup_elem(&sent_stacks, &zero);
	return sent ? &sent->name[py_stack_sent_slot(smp->stack)] : NULL;
}

#endif /* PYFLARE_SENT_STACKS_BPF_H */
