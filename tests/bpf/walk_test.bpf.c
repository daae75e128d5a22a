/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * walk_test.bpf.c — the samplers' body as a raw_tp program, so BPF_PROG_TEST_RUN can run the
 * frame walker in the calling thread (perf_event programs cannot be test-run).
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "pyflare.h"
#include "maps.bpf.h"
#include "py_walk.bpf.h"
#include "sample.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The walker's step bounds, read back by the test instead of copied into it. */
const volatile __u32 walk_steps_max = WALK_STEPS_MAX;
const volatile __u32 walk_steps_no_loop = WALK_STEPS_NO_LOOP;

SEC("raw_tp")
int test_walk(void *ctx)
{
	(void)ctx;
	return sample_running_task();
}
