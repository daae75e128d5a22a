/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * walk_floor.bpf.c — the parts a walk is made of, alone, for bench/tools/walk_cost.c: a
 * bpf_loop iteration that does nothing, and a 16-byte bpf_probe_read_user (what a code
 * object's fingerprint costs). Test-run in the calling thread, which the reads read.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by walk_cost.c before each run: the iterations, and where the reads go. */
__u32 floor_steps;
__u64 floor_addr;
__u32 floor_stride; /* bytes between two reads' addresses: 0, one address read again */

static long empty_step(__u32 i, void *ctx)
{
	(void)i;
	(void)ctx;
	return 0;
}

static long read_step(__u32 i, void *ctx)
{
	__u64 head[2];

	(void)ctx;
	bpf_probe_read_user(head, sizeof(head),
			    (const void *)(floor_addr + (__u64)i * floor_stride));
	return 0;
}

SEC("raw_tp")
int floor_loop(void *ctx)
{
	(void)ctx;
	bpf_loop(floor_steps, empty_step, NULL, 0);
	return 0;
}

SEC("raw_tp")
int floor_read(void *ctx)
{
	(void)ctx;
	bpf_loop(floor_steps, read_step, NULL, 0);
	return 0;
}
