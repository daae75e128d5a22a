/* SPDX-License-Identifier: MIT */
/*
 * bench.bpf.h — the hooks of `make bench` (PYFLARE_BENCH_STAGE, PYFLARE_BENCH_HISTOGRAM; see
 * user/record/bench_hooks.h), in the bench build only (-DPYFLARE_BENCH: build/bench/pyflare).
 * There its settings (bench_stage, bench_histogram: config.bpf.h) are read-only data fixed
 * before load, and at their defaults the verifier drops the branches they guard, though not
 * the loads and tests of the settings: a few instructions a run. In the shipped build the
 * hooks are empty, and its object has neither the settings nor the bench_hist map.
 */
#ifndef PYFLARE_BENCH_BPF_H
#define PYFLARE_BENCH_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "config.bpf.h"

#ifdef PYFLARE_BENCH
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_PROGS);
	__type(key, __u32);
	__type(value, struct bench_hist);
} bench_hist SEC(".maps");

/* Whether a sample stops at ladder stage @stage (enum bench_stage). */
static __always_inline bool bench_stops_at(__u32 stage)
{
	return bench_stage == stage;
}

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
		bucket = BENCH_BUCKETS - 1; /* the last bucket holds everything longer */
	h->count[bucket]++;
}

#else /* the shipped build: hooks that are nothing and name nothing, not even in debug info */

#define bench_stops_at(stage) false
#define bench_start() 0
#define bench_end(prog, start) ((void)(start))

#endif /* PYFLARE_BENCH */

#endif /* PYFLARE_BENCH_BPF_H */
