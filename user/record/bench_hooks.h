/* SPDX-License-Identifier: MIT */
/*
 * bench_hooks.h — the settings `make bench` gives a recording through the environment, to
 * split what a sample costs (bench/sec_ladder.py) and to see the spread of it:
 *
 *   PYFLARE_BENCH_STAGE=empty|walk|ring   where each timer sample stops (enum bench_stage)
 *   PYFLARE_BENCH_HISTOGRAM=FILE          write each handler's run-time histogram (JSON)
 *
 * Not options of the command line: a recording made this way is not a profile. Only the bench
 * build has them (-DPYFLARE_BENCH: build/bench/pyflare, `make bench-binary`); in the shipped
 * one the hooks below do nothing, and are macros so that not even their names are left in it.
 */
#ifndef PYFLARE_BENCH_HOOKS_H
#define PYFLARE_BENCH_HOOKS_H

#ifdef PYFLARE_BENCH

#include <stdbool.h>

#include <linux/types.h>

#include "bench.h"

struct pyflare_bpf;

/* Sets the skeleton's bench settings before load. Returns 0, or EXIT_USAGE after a message. */
int bench_hooks__configure(struct pyflare_bpf *skel);

/* Whether the collector drops an event of @type unread (the ladder's ring stage). */
bool bench_hooks__drops_event(__u32 type);

/* Writes the histograms to PYFLARE_BENCH_HISTOGRAM's file, when it is set. Returns 0 or -errno. */
int bench_hooks__write(const struct pyflare_bpf *skel);

#else

#define bench_hooks__configure(skel) ((void)(skel), 0)
#define bench_hooks__drops_event(type) ((void)(type), 0)
#define bench_hooks__write(skel) ((void)(skel), 0)

#endif /* PYFLARE_BENCH */

#endif /* PYFLARE_BENCH_HOOKS_H */
