/* SPDX-License-Identifier: MIT */
/*
 * bench_hooks.c — PYFLARE_BENCH_STAGE and PYFLARE_BENCH_HISTOGRAM (see bench_hooks.h). Built
 * into the bench binary only (the Makefile leaves it out of build/pyflare).
 */
#ifndef PYFLARE_BENCH
#error "bench_hooks.c belongs to the bench build only (-DPYFLARE_BENCH)"
#endif

#include "record/bench_hooks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/exit.h"
#include "lib/log.h"
#include "pyflare.h"
#include "pyflare.skel.h"

static const char *const stage_names[] = {
	[BENCH_FULL] = "full",
	[BENCH_EMPTY] = "empty",
	[BENCH_WALK] = "walk",
	[BENCH_RING] = "ring",
};

static const char *const prog_names[BENCH_PROGS] = {
	[BENCH_PROG_TIMER] = "on_timer",
	[BENCH_PROG_TICK] = "on_tick",
	[BENCH_PROG_SWITCH] = "on_switch",
};

/* The recording's stage: one environment, so one for the whole program. */
static enum bench_stage stage = BENCH_FULL;

int bench_hooks__configure(struct pyflare_bpf *skel)
{
	const char *want = getenv("PYFLARE_BENCH_STAGE");
	const char *hist = getenv("PYFLARE_BENCH_HISTOGRAM");

	stage = BENCH_FULL;
	if (want && *want) {
		size_t i;

		for (i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
			if (!strcmp(want, stage_names[i]))
				break;
		if (i == sizeof(stage_names) / sizeof(stage_names[0])) {
			pr_error("PYFLARE_BENCH_STAGE=%s: expected full, empty, walk or ring "
				 "(a setting of make bench; unset it to profile)\n",
				 want);
			return EXIT_USAGE;
		}
		stage = (enum bench_stage)i;
		if (stage != BENCH_FULL)
			pr_warn("PYFLARE_BENCH_STAGE=%s: samples stop early, this is no profile\n",
				want);
	}
	skel->rodata->bench_stage = stage;
	skel->rodata->bench_histogram = hist && *hist;
	return 0;
}

bool bench_hooks__drops_event(__u32 type)
{
	/* the transport's cost, not the collector's; the process events still find the targets */
	return stage == BENCH_RING && type != EVENT_EXEC && type != EVENT_FORK &&
	       type != EVENT_EXIT && type != EVENT_FOUND;
}

/* One handler's counts summed over the CPUs into @out. */
static int sum_over_cpus(const struct pyflare_bpf *skel, __u32 prog, __u64 *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct bench_hist *per_cpu;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	memset(out, 0, BENCH_BUCKETS * sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.bench_hist), &prog, per_cpu))
		err = -errno;
	for (int cpu = 0; !err && cpu < ncpus; cpu++)
		for (int b = 0; b < BENCH_BUCKETS; b++)
			out[b] += per_cpu[cpu].count[b];
	free(per_cpu);
	return err;
}

int bench_hooks__write(const struct pyflare_bpf *skel)
{
	const char *path = getenv("PYFLARE_BENCH_HISTOGRAM");
	__u64 counts[BENCH_BUCKETS];
	FILE *f;
	int err = 0;

	if (!path || !*path)
		return 0;
	f = fopen(path, "w");
	if (!f) {
		err = -errno;
		pr_error("PYFLARE_BENCH_HISTOGRAM: cannot write %s: %s\n", path, strerror(errno));
		return err;
	}
	fprintf(f, "{\"bucket_ns\": %d", BENCH_BUCKET_NS);
	for (__u32 p = 0; p < BENCH_PROGS && !err; p++) {
		/* trailing empty buckets are left out: the list ends at the longest run */
		int last = -1;

		err = sum_over_cpus(skel, p, counts);
		for (int b = 0; !err && b < BENCH_BUCKETS; b++)
			if (counts[b])
				last = b;
		fprintf(f, ", \"%s\": [", prog_names[p]);
		for (int b = 0; !err && b <= last; b++)
			fprintf(f, "%s%llu", b ? ", " : "", (unsigned long long)counts[b]);
		fputc(']', f);
	}
	fputs("}\n", f);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		pr_error("PYFLARE_BENCH_HISTOGRAM: cannot write %s: %s\n", path, strerror(-err));
	return err;
}
