/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * walk_test.bpf.c — the samplers' body as a raw_tp program, so BPF_PROG_TEST_RUN can run the
 * frame walker in the calling thread (perf_event programs cannot be test-run).
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "pyflare.h"
#include "config.bpf.h"
#include "maps.bpf.h"
#include "py_walk.bpf.h"
#include "sample.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The walkers as the samplers run them (bpf/pyflare.bpf.c): one program each. */
SEC("raw_tp")
int test_walk(void *ctx)
{
	(void)ctx;
	return sample_if_profiled(WALKER_BPF_LOOP);
}

SEC("raw_tp")
int test_walk_noloop(void *ctx)
{
	(void)ctx;
	return sample_if_profiled(WALKER_NO_BPF_LOOP);
}
