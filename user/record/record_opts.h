/* SPDX-License-Identifier: MIT */
/*
 * record_opts.h — what a recording is asked to do (`pyflare record` and `pyflare top`):
 * targets, sampling, mode, and the reports to write afterwards. cli/opts.c fills it.
 */
#ifndef PYFLARE_RECORD_OPTS_H
#define PYFLARE_RECORD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record/launch.h"
#include "render/outputs.h"
#include "render/render.h"
#include "session/session.h"

struct proc_filter;

#define OPTS_MAX_PIDS 1024
#define OPTS_MAX_CGROUPS 8
#define MIN_BLOCK_NS 100000ULL /* --min-block default: 100 us */

/* --cgroup PATH or --container ID, resolved when recording starts (cgroup_select.h). */
struct cgroup_arg {
	const char *value;
	bool container;
};

/* What interrupts a CPU to take a sample (--clock). */
enum sample_clock {
	SAMPLE_CLOCK_TIMER = 0, /* a perf cpu-clock event on every CPU, at -F's rate */
	SAMPLE_CLOCK_TICK,	/* the scheduler tick, at the kernel's HZ: no interrupt added */
};

/* The clock when --clock is not given: chosen here only. */
#define SAMPLE_CLOCK_DEFAULT SAMPLE_CLOCK_TIMER

/* "timer" or "tick", as --clock takes them and the reports show them. */
static inline const char *sample_clock_name(enum sample_clock clock)
{
	return clock == SAMPLE_CLOCK_TICK ? "tick" : SESSION_CLOCK_TIMER;
}

enum target_kind {
	TARGET_NONE = 0,
	TARGET_PIDS,	/* -p */
	TARGET_ALL,	/* -a */
	TARGET_COMMAND, /* -- COMMAND ... */
};

struct record_opts {
	enum target_kind target;
	pid_t pids[OPTS_MAX_PIDS];
	size_t n_pids;
	bool subprocesses;	 /* --subprocesses: -p's descendants too, existing and new */
	char **argv;		 /* the command, NULL-terminated (points into main's argv) */
	double duration;	 /* seconds; 0 = until the targets exit or Ctrl-C */
	unsigned rate_hz;	 /* per CPU; --clock tick: the kernel's HZ, 0 if unknown */
	enum sample_clock clock; /* --clock */
	bool wall;		 /* --mode wall: off-CPU time too */
	bool async;		 /* --async: samples by asyncio task (3.14+) */
	uint64_t min_block_ns;	 /* --min-block */
	/* Reports to write. Without -o: one report on stdout. */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;   /* render.filter points at filter */
	struct frame_filter *filter; /* owned: opts_release_record() */
	struct proc_filter *procs;   /* --comm/--cmdline; NULL: every process. Owned */
	/* --cgroup/--container, in order; alone they select like -a, limited to them */
	struct cgroup_arg cgroups[OPTS_MAX_CGROUPS];
	size_t n_cgroups;
	enum opts_color color;		   /* what decided render.color */
	bool quiet;			   /* no progress line */
	int verbose;			   /* -v count */
	struct launch_stdio command_stdio; /* the command's streams: pyflare's unless top says */
};

#endif /* PYFLARE_RECORD_OPTS_H */
