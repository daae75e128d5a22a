/* SPDX-License-Identifier: MIT */
/*
 * bench_hooks.h — the settings `make bench` gives a recording through the environment, to
 * split what a sample costs (bench/sec_ladder.py) and to see the spread of it:
 *
 *   PYFLARE_BENCH_STAGE=empty|walk|ring   where each timer sample stops (enum bench_stage)
 *   PYFLARE_BENCH_HISTOGRAM=FILE          write each handler's run-time histogram (JSON)
 *
 * Not options of the command line: a recording made this way is not a profile.
 */
#ifndef PYFLARE_BENCH_HOOKS_H
#define PYFLARE_BENCH_HOOKS_H

#include <linux/types.h>

#include "pyflare.h"

struct pyflare_bpf;

/* Sets the skeleton's bench settings before load. Returns 0, or EXIT_USAGE after a message. */
int bench_hooks__configure(struct pyflare_bpf *skel, enum bench_stage *stage);

/* Writes the histograms to PYFLARE_BENCH_HISTOGRAM's file, when it is set. Returns 0 or -errno. */
int bench_hooks__write(const struct pyflare_bpf *skel);

#endif /* PYFLARE_BENCH_HOOKS_H */
