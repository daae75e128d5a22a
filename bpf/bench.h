/* SPDX-License-Identifier: MIT */
/*
 * bench.h — what the bench build (-DPYFLARE_BENCH, build/bench/pyflare) adds to the types
 * pyflare.h shares between the BPF programs and the collector: the settings `make bench` gives
 * a recording (user/record/bench_hooks.h) and the handlers' run-time histograms. The shipped
 * build compiles none of it in: bench.bpf.h and bench_hooks.h then stand in with nothing.
 *
 * Like pyflare.h, this header includes nothing.
 */
#ifndef PYFLARE_BENCH_H
#define PYFLARE_BENCH_H

/* make bench's ladder: where each sample stops (PYFLARE_BENCH_STAGE). */
enum bench_stage {
	BENCH_FULL = 0, /* a normal recording */
	BENCH_EMPTY,	/* the sampler and the switch handler return at once: the call alone */
	BENCH_WALK,	/* the stack is walked and nothing is sent */
	BENCH_RING,	/* sent through the ring buffer; the collector drops the samples */
};

/* Run-time histograms of the handlers (PYFLARE_BENCH_HISTOGRAM): one per program. */
enum bench_prog { BENCH_PROG_TIMER, BENCH_PROG_TICK, BENCH_PROG_SWITCH, BENCH_PROGS };
#define BENCH_BUCKET_NS 50
#define BENCH_BUCKETS 512 /* up to 25.6 us; the last bucket holds everything longer */

struct bench_hist {
	__u64 count[BENCH_BUCKETS];
};

#endif /* PYFLARE_BENCH_H */
