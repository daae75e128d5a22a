/* SPDX-License-Identifier: MIT */
/*
 * bench.bpf.h — hooks for `make bench` only (PYFLARE_BENCH_STAGE, PYFLARE_BENCH_HISTOGRAM;
 * see user/record/bench_hooks.c). Both settings (bench_stage, bench_histogram: config.bpf.h)
 * are read-only data fixed before load: at their defaults the verifier removes this code, so a
 * normal recording pays nothing for it.
 */
#ifndef PYFLARE_BENCH_BPF_H
#define PYFLARE_BENCH_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "config.bpf.h"
#include "pyflare.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_PROGS);
	__type(key, __u32);
	__type(value, struct bench_hist);
} bench_hist SEC(".maps");

static __always_inline __u64 bench_start(void)
{
	return bench_histogram ? bpf_ktime_get_ns() : 0;
}

/* Counts one run of handler @prog that began at @start (bench_start's value). */
static __always_inline void bench_end(__u32 prog, __u64 start)
{
	struct bench_hist *h;
	__u64 bucket;

	if (!bench_histogram)
		return;
	h = bpf_map_lookup_elem(&bench_hist, &prog);
	if (!h)
		return;
	bucket = (bpf_ktime_get_ns() - start) / BENCH_BUCKET_NS;
	if (bucket >= BENCH_BUCKETS)
		bucket = BENCH_BUCKETS - 1;	/* the last bucket holds everything longer */
	h->count[bucket]++;
}

#endif /* PYFLARE_BENCH_BPF_H */
