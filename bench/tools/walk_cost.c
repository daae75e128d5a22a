/* SPDX-License-Identifier: MIT */
/*
 * walk_cost.c — what the samplers' body costs with every cache line warm, and what its parts
 * cost alone: the floor under `make bench`'s kernel table, whose samples of real processes
 * also pay for cold caches, the timer's interrupt and the hypervisor.
 *
 * The samplers' body (tests/bpf/walk_test.bpf.c: sample_if_profiled, the bpf_loop walker)
 * is test-run in this thread, pinned to one CPU, on a fake interpreter in this process's own
 * memory (tests/bpf/fake_python.c) whose frames sit on one data stack, as from 3.11, below
 * the interpreter's entry frame on this thread's C stack, as from 3.12. Each
 * figure is the kernel's own accounting (BPF_STATS_RUN_TIME: run_time_ns / run_cnt) over
 * rounds of runs back to back, all caches warm, or each run after 4 MiB of other memory was
 * written (cold); the median of the rounds. The stack is the same at every run,
 * so after the first it goes as a short record (sent_stacks.bpf.h), as a steady program's do.
 *
 * Usage: walk_cost [--rounds N] — prints a Markdown table. Needs root and bpf_loop (5.17+).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fake_python.h"
#include "walk_floor.skel.h"
#include "walk_test.skel.h"

#define RUNS 2000
#define COLD_RUNS 200
#define EVICT_BYTES (4u << 20) /* twice this CPU's L2: what other work leaves of the caches */
#define ROUNDS_MAX 31
#define FRAME_STRIDE 96 /* a small function's frame on 3.12: 72 bytes and its locals */
#define DEPTH_MAX 256

static struct walk_test_bpf *walk;
static struct walk_floor_bpf *floor_skel;
static struct ring_buffer *rb;
static int rounds = 7;
static unsigned char *evict;	   /* written between cold runs */
static unsigned char *entry_frame; /* on main()'s C stack, as _PyEval_EvalFrameDefault's is */

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "walk_cost: %s failed: %s\n", what, strerror(errno ? errno : EIO));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The kernel's mean run time of program @fd, the median of `rounds` rounds: of RUNS runs back
 * to back, or, @cold, of COLD_RUNS runs each after EVICT_BYTES of other memory were written,
 * as a sample finds the caches after the program it interrupts ran for a while. Exits when a
 * run fails: a table with a figure missing would read as a measurement.
 */
static double ns_per_run(int fd, bool cold)
{
	double mean[ROUNDS_MAX];
	__u64 args[1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	for (int r = 0; r < rounds; r++) {
		struct bpf_prog_info a, b;
		__u32 len = sizeof(a);

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		if (bpf_obj_get_info_by_fd(fd, &a, &len))
			die("reading the program's run time");
		for (int i = 0; i < (cold ? COLD_RUNS : RUNS); i++) {
			if (cold)
				memset(evict, i, EVICT_BYTES);
			if (bpf_prog_test_run_opts(fd, &opts) || opts.retval)
				die("a test run");
			ring_buffer__consume(rb);
		}
		len = sizeof(b);
		if (bpf_obj_get_info_by_fd(fd, &b, &len) || b.run_cnt == a.run_cnt)
			die("reading the program's run time (is kernel.bpf_stats_enabled on?)");
		mean[r] = (double)(b.run_time_ns - a.run_time_ns) / (double)(b.run_cnt - a.run_cnt);
	}
	qsort(mean, (size_t)rounds, sizeof(mean[0]), cmp_double);
	return mean[rounds / 2];
}

/* The interpreters walk_cost stands for: where their samples differ. */
enum layout {
	LAYOUT_READ_ALL,     /* 3.11/3.12: every fingerprint read, the TLS slot read */
	LAYOUT_THREAD_CACHE, /* 3.13: every fingerprint read, the thread state cached */
	LAYOUT_CODE_CACHE,   /* 3.14: both caches */
	LAYOUT__MAX
};

static const char *const layout_name[LAYOUT__MAX] = {
	"3.11/3.12 (no cache applies)",
	"3.13 (thread cache)",
	"3.14 (thread and code caches)",
};

static uint64_t code_generation = 7, interp_mark[1];

/*
 * This thread's fake interpreter, as @layout, running @depth frames on one data stack: each
 * its own function, or one function recursing.
 */
static void setup(struct py_proc *p, enum layout layout, unsigned depth, bool recursing)
{
	unsigned char *stack;

	proc_312(p);
	p->flags |= PROC_TSS_KEY;
	p->tss_key = tss_key;
	p->ts_datastack = TS_DATASTACK;
	p->flags |= PROC_CHUNK_END;
	if (layout >= LAYOUT_THREAD_CACHE) {
		p->flags |= PROC_THREAD_CACHE;
		p->ts_status = TS_STATUS;
	}
	if (layout >= LAYOUT_CODE_CACHE) {
		p->ts_interp = TS_INTERP;
		p->interp = (uintptr_t)interp_mark;
		p->code_gen = (uintptr_t)&code_generation;
	}
	reset_fake();
	fake_tstate[TS_STATUS / 8] = STATUS_BOUND;
	fake_tstate[TS_INTERP / 8] = (uintptr_t)interp_mark;
	for (unsigned i = 0; i < depth; i++)
		co[i] = recursing && i ? co[0] : new_code(i + 1);
	/* the outermost frame lowest, as on CPython's data stack */
	stack = alloc_zeroed((size_t)depth * FRAME_STRIDE + FRAME_BYTES);
	for (unsigned i = 0; i < depth; i++) {
		unsigned char *f = stack + (size_t)(depth - 1 - i) * FRAME_STRIDE;

		fr[i] = f;
		put_u64(f, p->fr_code, (uintptr_t)co[i]);
		put_u64(f, p->fr_instr, (uintptr_t)co[i] + p->co_code_adaptive + 2 * lasti_for(i));
	}
	/* the outermost frame's caller: the entry frame, a shim owned by the C stack */
	memset(entry_frame, 0, FRAME_BYTES);
	entry_frame[FR_OWNER] = OWNER_CSTACK;
	for (unsigned i = 0; i < depth; i++)
		set_back(p, fr[i], i + 1 < depth ? fr[i + 1] : entry_frame);
	fake_tstate[TS_DATASTACK / 8] = (uintptr_t)stack;
	fake_tstate[(TS_DATASTACK + TS_CHUNK_END_AFTER) / 8] =
		(uintptr_t)stack + (size_t)depth * FRAME_STRIDE + FRAME_BYTES;
	set_current_frame(fr[0]);
}

/* The mean run of the sampler on this thread as @layout at @depth frames. */
static double sample_ns(enum layout layout, unsigned depth, bool recursing, bool cold)
{
	__u32 tgid = (__u32)getpid(), tid = (__u32)gettid();
	struct py_proc p;

	setup(&p, layout, depth, recursing);
	bpf_map_delete_elem(bpf_map__fd(walk->maps.thread_cache), &tid);
	if (bpf_map_update_elem(bpf_map__fd(walk->maps.procs), &tgid, &p, BPF_ANY))
		die("entering the fake process");
	return ns_per_run(bpf_program__fd(walk->progs.test_walk), cold);
}

/* The mean run of the sampler on a thread whose process is not profiled. */
static double unprofiled_ns(void)
{
	__u32 tgid = (__u32)getpid();

	bpf_map_delete_elem(bpf_map__fd(walk->maps.procs), &tgid);
	return ns_per_run(bpf_program__fd(walk->progs.test_walk), false);
}

static double floor_ns(struct bpf_program *prog, unsigned steps, uint64_t addr, unsigned stride)
{
	floor_skel->bss->floor_steps = steps;
	floor_skel->bss->floor_addr = addr;
	floor_skel->bss->floor_stride = stride;
	return ns_per_run(bpf_program__fd(prog), false);
}

/* Per step: the difference of @steps2 and @steps1 steps, divided. */
static double slope(double at1, double at2, unsigned steps1, unsigned steps2)
{
	return (at2 - at1) / (double)(steps2 - steps1);
}

static int load(void)
{
	int err;

	walk = walk_test_bpf__open();
	floor_skel = walk_floor_bpf__open_and_load();
	if (!walk || !floor_skel)
		return -errno;
	bpf_program__set_autoload(walk->progs.test_walk_noloop, false);
	walk->rodata->sample_weight_ns = 1000000;
	err = walk_test_bpf__load(walk);
	if (err)
		return err;
	rb = ring_buffer__new(bpf_map__fd(walk->maps.events), on_event, NULL, NULL);
	return rb ? 0 : -errno;
}

static void print_table(void)
{
	static const unsigned depths[] = { 8, 32, 128 };
	double t[2][3];
	unsigned char *reads;

	for (int cold = 0; cold < 2; cold++) {
		printf("%s| %s | 8 frames | 32 frames | 128 frames | per extra frame (32 to 128) "
		       "|\n|---|---|---|---|---|\n",
		       cold ? "\n" : "",
		       cold ? "caches cold (4 MiB written before each run)" : "caches warm");
		if (!cold)
			printf("| not profiled (the program's floor) | %.0f ns | | | |\n",
			       unprofiled_ns());
		for (int l = 0; l < LAYOUT__MAX; l++) {
			for (int rec = 0; rec < 2; rec++) {
				for (int d = 0; d < 3; d++)
					t[rec][d] = sample_ns((enum layout)l, depths[d], rec, cold);
				printf("| %s, %s | %.0f ns | %.0f ns | %.0f ns | %.1f ns |\n",
				       layout_name[l],
				       rec ? "one function recursing" : "a function a frame",
				       t[rec][0], t[rec][1], t[rec][2],
				       slope(t[rec][1], t[rec][2], 32, 128));
			}
		}
	}
	reads = alloc_zeroed(256 * 128);
	printf("\n| a part alone | per step (32 to 128 steps) |\n|---|---|\n");
	printf("| a bpf_loop iteration that does nothing | %.1f ns |\n",
	       slope(floor_ns(floor_skel->progs.floor_loop, 32, 0, 0),
		     floor_ns(floor_skel->progs.floor_loop, 128, 0, 0), 32, 128));
	printf("| and a 16-byte bpf_probe_read_user, one address | %.1f ns |\n",
	       slope(floor_ns(floor_skel->progs.floor_read, 32, (uintptr_t)reads, 0),
		     floor_ns(floor_skel->progs.floor_read, 128, (uintptr_t)reads, 0), 32, 128));
	printf("| and a 16-byte bpf_probe_read_user, 256 bytes apart | %.1f ns |\n",
	       slope(floor_ns(floor_skel->progs.floor_read, 32, (uintptr_t)reads, 256),
		     floor_ns(floor_skel->progs.floor_read, 128, (uintptr_t)reads, 256), 32, 128));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "rounds", required_argument, NULL, 'r' }, { 0 } };
	const char *why = bpf_unavailable();
	unsigned char entry[FRAME_BYTES];
	cpu_set_t one;
	int c, err, stats;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'r' || (rounds = atoi(optarg)) < 1 || rounds > ROUNDS_MAX) {
			fprintf(stderr, "usage: walk_cost [--rounds 1..%d]\n", ROUNDS_MAX);
			return 2;
		}
	}
	if (why) {
		fprintf(stderr, "walk_cost: %s\n", why);
		return 1;
	}
	entry_frame = entry;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	evict = malloc(EVICT_BYTES);
	if (!evict || sched_setaffinity(0, sizeof(one), &one) || fake_python_init() ||
	    tls_offset < 0) {
		fprintf(stderr, "walk_cost: cannot set up the fake interpreter on CPU 0\n");
		return 1;
	}
	err = load();
	stats = err ? -1 : bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (err || stats < 0) {
		fprintf(stderr, "walk_cost: %s: %s\n", err ? "loading the programs" : "BPF stats",
			strerror(err ? -err : errno));
		return 1;
	}
	print_table();
	close(stats);
	ring_buffer__free(rb);
	walk_floor_bpf__destroy(floor_skel);
	walk_test_bpf__destroy(walk);
	free(evict);
	return 0;
}
