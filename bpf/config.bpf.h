/* SPDX-License-Identifier: MIT */
/*
 * config.bpf.h — the load-time settings: read-only data that userspace sets before it loads
 * the programs (configure_bpf() in user/record/collector.c, in this order), and that the
 * verifier then knows as constants. Nothing else in bpf/ is set from outside but the maps.
 */
#ifndef PYFLARE_CONFIG_BPF_H
#define PYFLARE_CONFIG_BPF_H

#include "kernel.h"
#ifdef PYFLARE_BENCH
#include "bench.h"
#endif

/* -F: what one on-CPU sample weighs, its sampling period */
const volatile __u64 sample_weight_ns = 1001001; /* one period at 999 Hz */
/* --clock tick: the address of the kernel's tick handler (tick_nohz_handler from 6.9) */
const volatile __u64 tick_handler = 0;
/* -a: report every exec, so new Python processes are found at once */
const volatile bool follow_all = false;
/* --cgroup/--container: only tasks in the first n_cgroups entries of `cgroups` count */
const volatile __u32 n_cgroups = 0;
/* --min-block (wall mode): a wait shorter than this is summed in the kernel, not sent */
const volatile __u64 min_block_ns = 100000;
/* --async: read the asyncio task each sampled thread runs (asyncio.bpf.h) */
const volatile bool async_tasks = false;

#ifdef PYFLARE_BENCH
/* the bench build (bench.bpf.h): where each sample stops, to split its cost (enum bench_stage) */
const volatile __u32 bench_stage = BENCH_FULL;
/* the bench build: keep a histogram of each handler's run time (two clock reads more a run) */
const volatile bool bench_histogram = false;
#endif

#endif /* PYFLARE_CONFIG_BPF_H */
