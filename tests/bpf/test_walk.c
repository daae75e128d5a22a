/* SPDX-License-Identifier: MIT */
/*
 * test_walk.c — the frame walker (bpf/py_walk.bpf.h) run by BPF_PROG_TEST_RUN on fake CPython
 * thread states and frame chains built in this process's own memory.
 *
 * The fake interpreter is found the way a real one is: a Py_tss_t names a real pthread key,
 * and glibc's slot for that key in this thread's descriptor holds the fake thread state.
 * A raw_tp program test-run executes in the calling thread, so the walker reads our memory.
 * Needs root and BPF: without them it skips (exit 0), except under CI=true (exit 1).
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pyflare.h"
#include "test.h"
#include "fake_python.h"
#include "walk_test.skel.h"

/* --- running the walker ------------------------------------------------------------------ */

struct inst {
	const char *name;
	struct walk_test_bpf *skel;
	struct bpf_program *prog; /* the walker's program: test_walk or test_walk_noloop */
	struct ring_buffer *rb;
};

static struct inst with_loop = { .name = "bpf_loop" };
static struct inst no_loop = { .name = "no-bpf_loop" };
static struct inst *walker; /* the walker the battery runs with: each in turn */

/* What the last run produced. */
static struct {
	int n_samples;
	int n_codes;		       /* struct code_event received */
	struct code_event codes[8];    /* the first of them */
	size_t size;		       /* bytes of the last sample */
	struct py_sample s;	       /* the last sample */
	long long health[HEALTH__MAX]; /* each counter's change */
	uint64_t t0, t1;	       /* CLOCK_MONOTONIC around the run */
} R;

static int on_event(void *ctx, void *data, size_t size)
{
	__u32 type;

	(void)ctx;
	memcpy(&type, data, sizeof(type));
	if (type == EVENT_CODE) {
		if (size == sizeof(struct code_event) && R.n_codes < 8)
			memcpy(&R.codes[R.n_codes], data, size);
		R.n_codes++;
		return 0;
	}
	R.n_samples++;
	R.size = size;
	memcpy(&R.s, data, size < sizeof(R.s) ? size : sizeof(R.s));
	return 0;
}

static void read_health(const struct inst *in, long long *out)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpus > 0 ? ncpus : 1, sizeof(*v));

	for (__u32 k = 0; k < HEALTH__MAX; k++) {
		out[k] = 0;
		if (!v || bpf_map_lookup_elem(bpf_map__fd(in->skel->maps.health), &k, v))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += (long long)v[c];
	}
	free(v);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Zeroes entries 0 to @keys - 1 of the per-CPU array @map on every CPU. */
static void clear_per_cpu(const struct bpf_map *map, __u32 keys)
{
	int ncpus = libbpf_num_possible_cpus();
	size_t size = bpf_map__value_size(map) * (size_t)(ncpus > 0 ? ncpus : 1);
	void *zero = calloc(1, size);

	for (__u32 key = 0; zero && key < keys; key++)
		bpf_map_update_elem(bpf_map__fd(map), &key, zero, BPF_ANY);
	free(zero);
}

/* Whether run_walk() leaves the stacks each CPU sent whole as they are (test_sent_again). */
static bool keep_sent;

/* One timer tick in this thread, as the process described by @p (NULL: not profiled). */
static void run_walk(const struct inst *in, const struct py_proc *p)
{
	__u32 tgid = (__u32)getpid();
	__u64 args[1] = { 0 };
	long long before[HEALTH__MAX];
	int map = bpf_map__fd(in->skel->maps.procs), err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	ring_buffer__consume(in->rb);
	memset(&R, 0, sizeof(R));
	clear_per_cpu(in->skel->maps.seen, 1); /* which code objects each CPU has sent */
	if (!keep_sent)
		clear_per_cpu(in->skel->maps.sent_stacks, 1); /* each run's stack goes whole */
	if (p)
		CHECK_INT(bpf_map_update_elem(map, &tgid, p, BPF_ANY), 0);
	else
		bpf_map_delete_elem(map, &tgid);
	read_health(in, before);
	R.t0 = mono_ns();
	err = bpf_prog_test_run_opts(bpf_program__fd(in->prog), &opts);
	R.t1 = mono_ns();
	CHECK_INT(err, 0);
	CHECK_INT(opts.retval, 0);
	CHECK_INT(ring_buffer__consume(in->rb) >= 0, 1);
	read_health(in, R.health);
	for (int k = 0; k < HEALTH__MAX; k++)
		R.health[k] -= before[k];
}

/* The last run emitted exactly one sample: this thread's, with @nr frames and @fl flags. */
#define CHECK_SAMPLE(nr, fl)                                                                    \
	do {                                                                                    \
		CHECK_INT(R.n_samples, 1);                                                      \
		CHECK_INT(R.s.type, EVENT_SAMPLE);                                              \
		CHECK_INT(R.s.pid, getpid());                                                   \
		CHECK_INT(R.s.tid, gettid());                                                   \
		CHECK_INT(R.s.nr_frames, (nr));                                                 \
		CHECK_INT(R.s.flags, (fl));                                                     \
		CHECK_INT(R.s.proc_id, PROC_ID);                                                \
		CHECK_INT(R.s.weight_ns, WEIGHT_NS);                                            \
		CHECK_INT(R.s.thread_id, (uint64_t)pthread_self());                             \
		CHECK_INT(R.size,                                                               \
			  offsetof(struct py_sample, frames) + (nr) * sizeof(struct py_frame)); \
		CHECK(R.s.time_ns >= R.t0 && R.s.time_ns <= R.t1);                              \
	} while (0)

/* Every health counter's change in the last run. */
#define CHECK_HEALTH(samples, no_tstate, mismatch, read_error, truncated) \
	do {                                                              \
		CHECK_INT(R.health[HEALTH_SAMPLES], (samples));           \
		CHECK_INT(R.health[HEALTH_NO_TSTATE], (no_tstate));       \
		CHECK_INT(R.health[HEALTH_TSTATE_MISMATCH], (mismatch));  \
		CHECK_INT(R.health[HEALTH_READ_ERROR], (read_error));     \
		CHECK_INT(R.health[HEALTH_TRUNCATED], (truncated));       \
		CHECK_INT(R.health[HEALTH_RINGBUF_FULL], 0);              \
		CHECK_INT(R.health[HEALTH_EVENTS_LOST], 0);               \
	} while (0)

/*
 * The lasti a frame's bytes stand for, computed independently of the walker: from the
 * start of the code's bytecode, or of the thread's copy named by the frame's tlbc_index.
 */
static int expect_lasti(const struct py_proc *p, const unsigned char *f, uint64_t code)
{
	if ((p->flags & PROC_TLBC) && get_s32(f, p->fr_tlbc) != 0) {
		const unsigned char *tlbc =
			(const void *)(uintptr_t)get_u64((void *)code, p->co_tlbc);
		int32_t idx = get_s32(f, p->fr_tlbc);

		if (idx < 0 || (uint64_t)idx >= get_u64(tlbc, 0))
			return -1;
		return (int)((int64_t)(get_u64(f, p->fr_instr) - get_u64(tlbc, 8 + 8 * idx)) / 2);
	}
	if (p->flags & PROC_LASTI_IS_PTR)
		return (int)(((int64_t)(get_u64(f, p->fr_instr) - code) - p->co_code_adaptive) / 2);
	return get_s32(f, p->fr_instr);
}

/*
 * Recorded frame k must be fake frame idx[k] (k itself when idx is NULL): its untagged code,
 * its lasti and its code's fingerprint. Returns the number of wrong frames, printing the first.
 */
static unsigned frame_mismatches(const struct py_proc *p, const unsigned *idx, unsigned n)
{
	unsigned bad = 0;

	for (unsigned k = 0; k < n && k < PYFLARE_MAX_FRAMES; k++) {
		unsigned i = idx ? idx[k] : k;
		const struct py_frame *got = &R.s.frames[k];
		uint64_t code = (uintptr_t)co[i];
		int lasti = expect_lasti(p, fr[i], code);
		uint32_t fp = code_fingerprint(co[i]);

		if (got->code == code && got->lasti == lasti && got->fingerprint == fp)
			continue;
		if (!bad++)
			fprintf(stderr,
				"  frame %u: code %#llx lasti %d fingerprint %#x, "
				"want fake frame %u: code %#llx lasti %d fingerprint %#x\n",
				k, (unsigned long long)got->code, got->lasti, got->fingerprint, i,
				(unsigned long long)code, lasti, fp);
	}
	return bad;
}

/* --- the cases --------------------------------------------------------------------------- */

static void test_glibc_tls_offset(void)
{
	CHECK(tls_offset >= 0);
	printf("glibc %s: specific_1stblock at pthread_self() + %#x (key %u)\n",
	       gnu_get_libc_version(), tls_offset, (unsigned)tss_key);
	if (tls_offset != 0x310)
		printf("note: not glibc 2.36's 0x310; the walk uses the measured value\n");
}

static void test_normal_chain(void)
{
	struct py_proc p;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 5));
	run_walk(walker, &p);
	CHECK_SAMPLE(5, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 5), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
	/* the lasti formula itself, on the frames built: -1 for "not started", then 36 */
	CHECK_INT(R.s.frames[0].lasti, -1);
	CHECK_INT(R.s.frames[1].lasti, 36);
}

/* 3.12+ C-stack shims, 3.13+ C-entry frames executing None, and a NULL code are not recorded. */
static void test_skipped_frames(void)
{
	static const unsigned want[] = { 0, 2, 4, 7 };
	struct py_proc p;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 9));
	fr[1][FR_OWNER] = OWNER_CSTACK;
	fr[2][FR_OWNER] = 2; /* FRAME_OWNED_BY_FRAME_OBJECT: a Python frame */
	put_u64(fr[3], FR_CODE, (uintptr_t)fake_none);
	fr[4][FR_OWNER] = 1; /* FRAME_OWNED_BY_GENERATOR */
	fr[5][FR_OWNER] = 4; /* 3.14 FRAME_OWNED_BY_INTERPRETER */
	put_u64(fr[6], FR_CODE, 0);
	fr[8][FR_OWNER] = OWNER_CSTACK; /* the entry shim at the bottom */
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(frame_mismatches(&p, want, 4), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

/*
 * Code objects a CPU meets for the first time come with their names, at most
 * CODE_EVENTS_PER_SAMPLE a sample; the same addresses in another process instance (a fork
 * child's objects, where its parent's were) come again, with that instance's id.
 */
static void test_code_names(void)
{
	struct py_proc p;

	proc_312(&p);
	p.co_name = CO_NAME;
	p.co_filename = CO_FILENAME;
	p.str_state = STR_STATE;
	p.str_ascii_data = STR_DATA;
	reset_fake();
	set_current_frame(build_chain(&p, CODE_EVENTS_PER_SAMPLE + 2));
	put_u64(co[0], CO_NAME, (uintptr_t)fake_str("Alpha.spin"));
	put_u64(co[0], CO_FILENAME, (uintptr_t)fake_str("/srv/app/alpha.py"));
	put_u64(co[1], CO_NAME, (uintptr_t)fake_str("beta.<locals>.inner"));
	/* a non-ASCII name is not copied: it arrives empty */
	put_u64(co[1], CO_FILENAME, (uintptr_t)fake_str("/srv/app/\xc3\xa9.py"));
	((unsigned char *)(uintptr_t)get_u64(co[1], CO_FILENAME))[STR_STATE] = 0x24;
	run_walk(walker, &p);
	CHECK_SAMPLE(CODE_EVENTS_PER_SAMPLE + 2, 0);
	CHECK_INT(R.n_codes, CODE_EVENTS_PER_SAMPLE);
	CHECK_INT(R.codes[0].code, (uintptr_t)co[0]);
	CHECK_INT(R.codes[0].proc_id, PROC_ID);
	CHECK_INT(R.codes[0].pid, getpid());
	CHECK_INT(R.codes[0].fingerprint, code_fingerprint(co[0]));
	CHECK_INT(R.codes[0].first_line, *(int32_t *)(co[0] + CO_FIRSTLINENO));
	CHECK_STR(R.codes[0].name, "Alpha.spin");
	CHECK_STR(R.codes[0].file, "/srv/app/alpha.py");
	CHECK_STR(R.codes[1].name, "beta.<locals>.inner");
	CHECK_STR(R.codes[1].file, "");
	CHECK_STR(R.codes[2].name, ""); /* no str object at all */
	/* on one CPU: the two left over come with the next sample, then nothing more */
	cpu_set_t all, one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CHECK_INT(sched_getaffinity(0, sizeof(all), &all), 0);
	CHECK_INT(sched_setaffinity(0, sizeof(one), &one), 0);
	for (int run = 0; run < 5; run++) {
		__u32 tgid = (__u32)getpid();
		__u64 args[1] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

		if (run == 0)
			clear_per_cpu(walker->skel->maps.seen, 1);
		if (run == 3) { /* another instance, same addresses: a fork child */
			p.id = PROC_ID + 1;
			CHECK_INT(bpf_map_update_elem(bpf_map__fd(walker->skel->maps.procs), &tgid,
						      &p, BPF_ANY),
				  0);
		}
		ring_buffer__consume(walker->rb);
		R.n_codes = 0;
		CHECK_INT(bpf_prog_test_run_opts(bpf_program__fd(walker->prog), &opts), 0);
		ring_buffer__consume(walker->rb);
		CHECK_INT(R.n_codes, run == 0 || run == 3 ? CODE_EVENTS_PER_SAMPLE :
				     run == 1 || run == 4 ? 2 :
							    0);
		if (run == 1)
			CHECK_INT(R.codes[1].code, (uintptr_t)co[CODE_EVENTS_PER_SAMPLE + 1]);
		if (run == 3)
			CHECK_INT(R.codes[0].proc_id, PROC_ID + 1);
	}
	sched_setaffinity(0, sizeof(all), &all);
}

/* Forgets the fingerprints every CPU keeps across samples (code_cache.bpf.h). */
static void clear_code_cache(const struct inst *in)
{
	clear_per_cpu(in->skel->maps.code_cache, 2);
}

/*
 * A process whose code cache serves (3.14+: generation @gen of interpreter @interp), 4
 * frames on one data stack; this thread pinned to CPU 0, as the caches are per CPU (*@all:
 * its CPUs before), whose code cache is emptied.
 */
static void proc_code_cached(struct py_proc *p, uint64_t *gen, uint64_t *interp, cpu_set_t *all)
{
	cpu_set_t one;

	proc_312(p);
	p->ts_datastack = TS_DATASTACK;
	p->ts_interp = TS_INTERP;
	p->interp = (uintptr_t)interp;
	p->code_gen = (uintptr_t)gen;
	reset_fake();
	set_current_frame(build_chain(p, 4));
	fake_tstate[TS_DATASTACK / 8] = (uintptr_t)fr[3];
	fake_tstate[TS_INTERP / 8] = (uintptr_t)interp;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CHECK_INT(sched_getaffinity(0, sizeof(*all), all), 0);
	CHECK_INT(sched_setaffinity(0, sizeof(one), &one), 0);
	clear_code_cache(walker);
}

/*
 * 3.14+: a fingerprint read once serves later samples on the CPU while the process's
 * code-object generation stands still, and never once it has moved (a code object was
 * freed: another may be at its address) or for a thread of another interpreter.
 */
static void test_code_cache(void)
{
	static uint64_t generation = 7, interp_mark[1];
	unsigned char *changed;
	struct py_proc p;
	cpu_set_t all;

	proc_code_cached(&p, &generation, interp_mark, &all);
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 4), 0);

	/* the header changes, the generation does not: the cache answers, not the object */
	changed = alloc_zeroed(CODE_BYTES);
	memcpy(changed, co[1], CODE_BYTES);
	put_u64(co[1], CO_FINGERPRINT + 8, 0xfeedULL);
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(R.s.frames[1].fingerprint, code_fingerprint(changed));

	/* a code object freed: the generation moves and the header is read again */
	generation++;
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 4), 0);

	/* a thread of another interpreter, whose frees this generation does not count */
	put_u64(co[2], CO_FINGERPRINT + 8, 0xbeefULL);
	fake_tstate[TS_INTERP / 8] = (uintptr_t)interp_mark + 8;
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 4), 0);
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * The set of two slots code object @code of PROC_ID falls in, in a table of 1 << @log2: the
 * kernel's hash, as seen_set() (py_walk.bpf.h, SEEN_CODES_LOG2 12) and code_cache_set()
 * (code_cache.bpf.h, CODE_CACHE_LOG2 10) compute it.
 */
static unsigned set_of(const void *code, unsigned log2)
{
	uint64_t h = (((uintptr_t)code >> 4) ^ (PROC_ID * 0x9e3779b1ULL)) * 0x9e3779b97f4a7c15ULL;

	return (unsigned)(h >> (64 - log2)) & ((1u << log2) - 2);
}

/* A code object falling in the same set as @other (of 1 << @log2 slots), made anew. */
static unsigned char *code_beside(const unsigned char *other, unsigned log2, unsigned *seed)
{
	for (;;) {
		unsigned char *c = new_code((*seed)++);

		if (set_of(c, log2) == set_of(other, log2))
			return c;
	}
}

/*
 * Two code objects whose hashes meet share a set of `seen` and of the code cache: a CPU
 * that sent their names sends them no more, and reads neither fingerprint again while the
 * generation stands still (with one slot each, the two pushed each other out at every
 * sample: two names sent and two headers read again, each time).
 */
static void test_colliding_code_objects(void)
{
	static uint64_t generation = 7, interp_mark[1];
	__u64 args[1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	unsigned seed = 1000;
	uint32_t fp[4];
	struct py_proc p;
	cpu_set_t all;

	proc_code_cached(&p, &generation, interp_mark, &all);
	co[1] = code_beside(co[0], 12, &seed); /* one set of `seen` */
	co[3] = code_beside(co[2], 10, &seed); /* one set of the code cache */
	for (unsigned i = 0; i < 4; i++) {
		put_u64(fr[i], p.fr_code, (uintptr_t)co[i]);
		put_u64(fr[i], p.fr_instr,
			(uintptr_t)co[i] + p.co_code_adaptive + 2 * lasti_for(i));
		fp[i] = code_fingerprint(co[i]);
	}
	run_walk(walker, &p); /* clears `seen`: every name goes */
	CHECK_SAMPLE(4, 0);
	CHECK_INT(R.n_codes, 4);
	/* again, `seen` kept: no name, and, headers changed, the cache answers for all four */
	for (unsigned i = 0; i < 4; i++)
		put_u64(co[i], CO_FINGERPRINT + 8, 0xfeed0000ULL + i);
	R.n_codes = 0;
	R.n_samples = 0;
	CHECK_INT(bpf_prog_test_run_opts(bpf_program__fd(walker->prog), &opts), 0);
	ring_buffer__consume(walker->rb);
	CHECK_INT(R.n_codes, 0);
	CHECK_INT(R.n_samples, 1);
	/* the stack's name holds each fingerprint: a header read again would make another
	 * stack, sent whole, instead of the short record of the one sent before */
	CHECK_INT(R.s.type, EVENT_SAMPLE_AGAIN);
	for (unsigned i = 0; i < 4; i++)
		CHECK_INT(fp[i] != code_fingerprint(co[i]), 1);
	sched_setaffinity(0, sizeof(all), &all);
}

/* The last run sent one short record: this thread's, of the stack named @name, @nr frames. */
#define CHECK_AGAIN(name, nr)                                          \
	do {                                                           \
		CHECK_INT(R.n_samples, 1);                             \
		CHECK_INT(R.s.type, EVENT_SAMPLE_AGAIN);               \
		CHECK_INT(R.size, offsetof(struct py_sample, frames)); \
		CHECK_INT(R.s.stack, (name));                          \
		CHECK_INT(R.s.nr_frames, (nr));                        \
		CHECK_INT(R.s.pid, getpid());                          \
		CHECK_INT(R.s.tid, gettid());                          \
		CHECK_INT(R.s.thread_id, (uint64_t)pthread_self());    \
		CHECK_INT(R.s.cpu, 0);                                 \
		CHECK(R.s.time_ns >= R.t0 && R.s.time_ns <= R.t1);     \
	} while (0)

/*
 * A stack this CPU sent whole goes again as its header alone, under the same name
 * (sent_stacks.bpf.h); a code object made at a freed one's address (another fingerprint)
 * makes another stack, sent whole; a stack too deep for the collector's copy always goes
 * whole; and another CPU has not sent it.
 */
static void test_sent_again(void)
{
	struct py_proc p;
	cpu_set_t all, cpu0, cpu1;
	uint64_t first, second;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 5));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	CHECK_INT(sched_getaffinity(0, sizeof(all), &all), 0);
	CHECK_INT(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	run_walk(walker, &p); /* clears what was sent: whole */
	CHECK_SAMPLE(5, 0);
	CHECK_INT(R.s.cpu, 0);
	first = R.s.stack;
	CHECK(first != 0);
	keep_sent = true;
	run_walk(walker, &p);
	CHECK_AGAIN(first, 5);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* the same addresses, another code object in the middle: whole, under another name */
	put_u64(co[2], CO_FINGERPRINT + 8, 0xbeefULL);
	run_walk(walker, &p);
	CHECK_SAMPLE(5, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 5), 0);
	second = R.s.stack;
	CHECK(second != first);
	run_walk(walker, &p);
	CHECK_AGAIN(second, 5);

	/* another CPU has sent nothing yet */
	if (CPU_ISSET(1, &all)) {
		CPU_ZERO(&cpu1);
		CPU_SET(1, &cpu1);
		CHECK_INT(sched_setaffinity(0, sizeof(cpu1), &cpu1), 0);
		run_walk(walker, &p);
		CHECK_SAMPLE(5, 0);
		CHECK_INT(R.s.cpu, 1);
		CHECK_INT(R.s.stack, second);
		CHECK_INT(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	}

	/* deeper than the collector keeps: whole, every time */
	reset_fake();
	set_current_frame(build_chain(&p, STACK_SENT_FRAMES_MAX + 1));
	for (int run = 0; run < 2; run++) {
		run_walk(walker, &p);
		CHECK_SAMPLE(STACK_SENT_FRAMES_MAX + 1, 0);
	}
	reset_fake();
	set_current_frame(build_chain(&p, STACK_SENT_FRAMES_MAX));
	run_walk(walker, &p);
	CHECK_SAMPLE(STACK_SENT_FRAMES_MAX, 0);
	first = R.s.stack;
	run_walk(walker, &p);
	CHECK_AGAIN(first, STACK_SENT_FRAMES_MAX);
	keep_sent = false;
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * 3.13+: a thread's state is kept across its samples while it says it is still bound to
 * the thread; one that no longer does is dropped, and the slot names the thread's state.
 */
static void test_thread_cache(void)
{
	static uint64_t other_tstate[TSTATE_BYTES / 8] __attribute__((aligned(64)));
	__u32 tid = (__u32)gettid();
	struct py_proc p;

	proc_312(&p);
	p.flags |= PROC_TSS_KEY | PROC_THREAD_CACHE;
	p.tss_key = tss_key;
	p.ts_datastack = TS_DATASTACK;
	p.ts_status = TS_STATUS;
	bpf_map_delete_elem(bpf_map__fd(walker->skel->maps.thread_cache), &tid);
	reset_fake();
	fake_tstate[TS_STATUS / 8] = STATUS_BOUND;
	set_current_frame(build_chain(&p, 3));
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 3), 0);

	/* the slot now names another state: the thread's cached one is still walked */
	memcpy(other_tstate, fake_tstate, sizeof(other_tstate));
	other_tstate[TS_FRAME / 8] = (uintptr_t)fr[1];
	pthread_setspecific(tss_key, other_tstate);
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(R.s.frames[0].code, (uintptr_t)co[0]);

	/* the cached state unbound (CPython is freeing it): the slot's is walked */
	fake_tstate[TS_STATUS / 8] = STATUS_UNBOUND;
	run_walk(walker, &p);
	CHECK_SAMPLE(2, 0);
	CHECK_INT(R.s.frames[0].code, (uintptr_t)co[1]);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* and an unbound state is no thread's, even through the slot */
	other_tstate[TS_STATUS / 8] = STATUS_UNBOUND;
	run_walk(walker, &p);
	CHECK_INT(R.n_samples, 0);
	CHECK_HEALTH(1, 0, 1, 0, 0);
	pthread_setspecific(tss_key, fake_tstate);
}

/* 3.14: f_executable is a _PyStackRef; the tag bits go before the address is used. */
static void test_stackref_tags(void)
{
	static const unsigned want[] = { 0, 2, 3 };
	struct py_proc p;

	proc_312(&p);
	p.flags |= PROC_STACKREF;
	reset_fake();
	set_current_frame(build_chain(&p, 4));
	put_u64(fr[0], FR_CODE, (uintptr_t)co[0] | 1);
	put_u64(fr[1], FR_CODE, (uintptr_t)fake_none | 1); /* PyStackRef_None: skipped */
	put_u64(fr[2], FR_CODE, (uintptr_t)co[2] | 1);
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, want, 3), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

/* A free-threaded 3.14t process (FT_* above); the thread state as the fake's. */
static void proc_314t(struct py_proc *p)
{
	proc_312(p);
	p->flags |= PROC_STACKREF | PROC_TLBC;
	p->fr_owner = FT_FR_OWNER;
	p->fr_size = FT_FR_SIZE;
	p->fr_tlbc = FT_FR_TLBC;
	p->co_tlbc = FT_CO_TLBC;
	p->co_code_adaptive = FT_CO_ADAPTIVE;
	p->co_fingerprint = FT_CO_FINGERPRINT;
	p->owner_skip = FT_OWNER_INTERPRETER;
}

/* The free-threaded fake: code objects the threads share, each thread's own chain. */
static struct {
	unsigned char *code[FT_DEPTH];
	unsigned char *frame[FT_THREADS][FT_DEPTH]; /* [k][0] innermost */
	uint64_t *tstate[FT_THREADS];
	pthread_barrier_t turn;
	struct py_proc proc;
	unsigned bad[FT_THREADS]; /* wrong frames each thread's sample had */
	int samples[FT_THREADS];
} ft;

/*
 * Thread @k's frames: each runs code ft.code[i] at a lasti of its own, in its own copy of the
 * bytecode (thread k uses entry k of co_tlbc; the main thread, k 0, the code's own), every
 * f_executable a deferred stack reference (tag bit set). Frame 3 is a C-entry frame (None,
 * tagged) and the last the thread state's base frame (FRAME_OWNED_BY_INTERPRETER).
 */
static void ft_build_thread(unsigned k)
{
	const struct py_proc *p = &ft.proc;

	for (unsigned i = FT_DEPTH; i-- > 0;) {
		unsigned char *f = alloc_zeroed(FRAME_BYTES);
		const unsigned char *tlbc =
			(const void *)(uintptr_t)get_u64(ft.code[i], FT_CO_TLBC);
		uint64_t bytecode = get_u64(tlbc, 8 + 8 * k);

		put_u64(f, p->fr_code, (uintptr_t)ft.code[i] | PY_TAG_DEFERRED);
		put_u64(f, p->fr_instr, bytecode + 2 * (unsigned)(10 * k + i));
		memcpy(f + FT_FR_TLBC, &(int32_t){ (int32_t)k }, 4);
		put_u64(f, p->fr_back, i + 1 < FT_DEPTH ? (uintptr_t)ft.frame[k][i + 1] : 0);
		ft.frame[k][i] = f;
	}
	put_u64(ft.frame[k][3], p->fr_code, (uintptr_t)fake_none | PY_TAG_DEFERRED);
	ft.frame[k][FT_DEPTH - 1][FT_FR_OWNER] = FT_OWNER_INTERPRETER;
}

/* The frames thread @k's sample must hold, innermost first: all but the None and base ones. */
static unsigned ft_check_sample(unsigned k)
{
	unsigned bad = 0, n = 0;

	for (unsigned i = 0; i + 1 < FT_DEPTH; i++) {
		const struct py_frame *got = &R.s.frames[n];
		uint64_t code = (uintptr_t)ft.code[i];

		if (i == 3)
			continue;
		if (got->code != code ||
		    got->lasti != expect_lasti(&ft.proc, ft.frame[k][i], code) ||
		    got->lasti != (int)(10 * k + i) ||
		    got->fingerprint != code_fingerprint(ft.code[i]))
			bad++;
		n++;
	}
	return bad + (R.s.nr_frames != n);
}

/* One Python thread of the fake: its state bound, its frames current; walked in its turn. */
static void *ft_thread(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;

	ft.tstate[k][TS_THREAD_ID / 8] = (uint64_t)pthread_self();
	ft.tstate[k][TS_FRAME / 8] = (uintptr_t)ft.frame[k][0];
	pthread_setspecific(tss_key, ft.tstate[k]);
	for (unsigned turn = 0; turn < FT_THREADS; turn++) {
		pthread_barrier_wait(&ft.turn); /* every thread in Python, none ended */
		if (turn == k) {
			run_walk(walker, &ft.proc);
			ft.samples[k] = R.n_samples == 1 && R.s.tid == (uint32_t)gettid() &&
					R.s.thread_id == (uint64_t)pthread_self();
			ft.bad[k] = ft_check_sample(k);
		}
	}
	pthread_barrier_wait(&ft.turn);
	return NULL;
}

/*
 * Free-threaded 3.14t: several threads run Python at once, each with a current frame chain
 * of its own whose f_executable stack references carry the deferred tag, and each running
 * its own copy of the shared code objects' bytecode (thread-local bytecode); each thread's
 * sample has its own frames, code objects untagged, lines counted in its own copy.
 */
static void test_free_threaded(void)
{
	pthread_t threads[FT_THREADS];

	proc_314t(&ft.proc);
	reset_fake();
	for (unsigned i = 0; i < FT_DEPTH; i++) {
		/* _PyCodeArray: size, entries; entry 0 the code object's own bytecode */
		unsigned char *tlbc = alloc_zeroed(8 + 8 * FT_THREADS);

		ft.code[i] = new_code(i + 1);
		put_u64(ft.code[i], FT_CO_TLBC, (uintptr_t)tlbc);
		put_u64(tlbc, 0, FT_THREADS);
		put_u64(tlbc, 8, (uintptr_t)ft.code[i] + FT_CO_ADAPTIVE);
		for (unsigned k = 1; k < FT_THREADS; k++)
			put_u64(tlbc, 8 + 8 * k, (uintptr_t)alloc_zeroed(512));
	}
	for (unsigned k = 0; k < FT_THREADS; k++) {
		ft.tstate[k] = alloc_zeroed(TSTATE_BYTES);
		ft_build_thread(k);
	}
	/* thread 0 is this one (the main thread, bytecode copy 0) */
	memset(ft.bad, 0, sizeof(ft.bad));
	memset(ft.samples, 0, sizeof(ft.samples));
	CHECK_INT(pthread_barrier_init(&ft.turn, NULL, FT_THREADS), 0);
	for (unsigned k = 1; k < FT_THREADS; k++)
		CHECK_INT(pthread_create(&threads[k], NULL, ft_thread, (void *)(uintptr_t)k), 0);
	ft_thread((void *)0);
	for (unsigned k = 1; k < FT_THREADS; k++)
		pthread_join(threads[k], NULL);
	pthread_barrier_destroy(&ft.turn);
	for (unsigned k = 0; k < FT_THREADS; k++) {
		CHECK_INT(ft.samples[k], 1);
		CHECK_INT(ft.bad[k], 0);
	}
	pthread_setspecific(tss_key, fake_tstate);
}

/*
 * A frame whose tlbc_index names no copy (past co_tlbc's size, or negative: a frame half
 * made) has no instruction (-1), never one counted from another copy; the walk goes on.
 */
static void test_free_threaded_bad_tlbc(void)
{
	struct py_proc p;
	unsigned char *tlbc;

	proc_314t(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 3));
	for (unsigned i = 0; i < 3; i++) {
		tlbc = alloc_zeroed(16);
		put_u64(tlbc, 0, 1); /* one entry: the code's own */
		put_u64(tlbc, 8, (uintptr_t)co[i] + FT_CO_ADAPTIVE);
		put_u64(co[i], FT_CO_TLBC, (uintptr_t)tlbc);
		put_u64(fr[i], FR_CODE, (uintptr_t)co[i] | PY_TAG_DEFERRED);
	}
	memcpy(fr[0] + FT_FR_TLBC, &(int32_t){ 1 }, 4);	 /* past the array */
	memcpy(fr[1] + FT_FR_TLBC, &(int32_t){ -2 }, 4); /* negative */
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(R.s.frames[0].lasti, -1);
	CHECK_INT(R.s.frames[1].lasti, -1);
	CHECK_INT(R.s.frames[2].code, (uintptr_t)co[2]);
	CHECK_INT(R.s.frames[2].lasti, lasti_for(2));
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

/*
 * Chains that loop are corrupt, whatever the loop's length: SAMPLE_READ_ERROR, with the
 * frames met until the walk noticed (py_chain_loops(), pyflare.h, the rule dump's walker
 * follows too: tests/unit/test_py_walk.c walks the same chains).
 */

/* A chain of @n frames whose last one's caller is fr[@to]: @want[0..@nwant) recorded. */
static void check_loop(unsigned n, unsigned to, const unsigned *want, unsigned nwant)
{
	struct py_proc p;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, n));
	set_back(&p, fr[n - 1], fr[to]);
	run_walk(walker, &p);
	CHECK_SAMPLE(nwant, SAMPLE_READ_ERROR);
	CHECK_INT(frame_mismatches(&p, want, nwant), 0);
	CHECK_HEALTH(1, 0, 0, 1, 0);
}

/* A → B → A: the frames up to the second visit of B, then a read error. */
static void test_cycle(void)
{
	static const unsigned want[] = { 0, 1, 0 };

	check_loop(2, 0, want, 3);
}

/* A frame that is its own caller, below two others. */
static void test_self_loop(void)
{
	static const unsigned want[] = { 0, 1, 2, 2 };

	check_loop(3, 2, want, 4);
}

/* 30 frames, then a loop of 10 (the 40th frame's caller is the 31st). */
static void test_loop_after_prefix(void)
{
	static unsigned want[41];

	for (unsigned k = 0; k < 40; k++)
		want[k] = k;
	want[40] = 30;
	check_loop(40, 30, want, 41);
}

static void test_null_back(void)
{
	struct py_proc p;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 5));
	set_back(&p, fr[2], NULL);
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 3), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

static uint64_t unmapped_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *a = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(a != MAP_FAILED);
	if (a == MAP_FAILED)
		return 0x10;
	munmap(a, (size_t)pg);
	return (uintptr_t)a;
}

static void test_unreadable(void)
{
	uint64_t bad[] = { unmapped_page(), 0x10, KERNEL_ADDR, 0 };
	struct py_proc p;

	proc_312(&p);
	for (unsigned b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		reset_fake();
		set_current_frame(build_chain(&p, 5));
		/* the last case: readable, but not 8-aligned */
		put_u64(fr[2], FR_BACK, bad[b] ? bad[b] : (uintptr_t)fr[3] + 4);
		run_walk(walker, &p);
		CHECK_SAMPLE(3, SAMPLE_READ_ERROR);
		CHECK_INT(frame_mismatches(&p, NULL, 3), 0);
		CHECK_HEALTH(1, 0, 0, 1, 0);
	}

	/* a frame being pushed (switch-out caught it half made): its code pointer is not one */
	reset_fake();
	set_current_frame(build_chain(&p, 5));
	put_u64(fr[2], FR_CODE, 0xffffffff);
	run_walk(walker, &p);
	CHECK_SAMPLE(2, SAMPLE_READ_ERROR);
	CHECK_INT(frame_mismatches(&p, NULL, 2), 0);

	/* the innermost frame itself */
	reset_fake();
	set_current_frame((void *)(uintptr_t)unmapped_page());
	run_walk(walker, &p);
	CHECK_SAMPLE(0, SAMPLE_READ_ERROR);
	CHECK_HEALTH(1, 0, 0, 1, 0);

	/* an unreadable code object: the frame is kept, without a fingerprint */
	reset_fake();
	set_current_frame(build_chain(&p, 2));
	bad[0] = unmapped_page();
	put_u64(fr[0], FR_CODE, bad[0]);
	put_u64(fr[0], FR_INSTR, bad[0] + CO_ADAPTIVE + 2 * 5);
	run_walk(walker, &p);
	CHECK_SAMPLE(2, 0);
	CHECK_INT(R.s.frames[0].code, bad[0]);
	CHECK_INT(R.s.frames[0].lasti, 5);
	CHECK_INT(R.s.frames[0].fingerprint, 0);
	CHECK_INT(R.s.frames[1].code, (uintptr_t)co[1]);
	CHECK_INT(R.s.frames[1].fingerprint, code_fingerprint(co[1]));
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

/* An instruction pointer outside its code object is clamped, not wrapped. */
static void test_lasti_clamp(void)
{
	struct py_proc p;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 3));
	put_u64(fr[0], FR_INSTR, (uintptr_t)co[0] - 4096);
	put_u64(fr[1], FR_INSTR, (uintptr_t)co[1] + CO_ADAPTIVE + (1ULL << 33));
	put_u64(fr[2], FR_INSTR, (uintptr_t)co[2] + CO_ADAPTIVE + 2 * 7 + 1); /* mid-unit */
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(R.s.frames[0].lasti, -1);
	CHECK_INT(R.s.frames[1].lasti, 0x7fffffff);
	CHECK_INT(R.s.frames[2].lasti, 7);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

static void test_depth_limit(void)
{
	struct py_proc p;

	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, PYFLARE_MAX_FRAMES + 10));
	run_walk(walker, &p);
	CHECK_SAMPLE(PYFLARE_MAX_FRAMES, SAMPLE_TRUNCATED);
	CHECK_INT(frame_mismatches(&p, NULL, PYFLARE_MAX_FRAMES), 0);
	CHECK_HEALTH(1, 0, 0, 0, 1);

	reset_fake();
	set_current_frame(build_chain(&p, PYFLARE_MAX_FRAMES));
	run_walk(walker, &p);
	CHECK_SAMPLE(PYFLARE_MAX_FRAMES, 0);
	CHECK_INT(frame_mismatches(&p, NULL, PYFLARE_MAX_FRAMES), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

static void test_no_tstate(void)
{
	struct py_proc p;

	proc_312(&p);

	/* the slot holds another thread's state */
	reset_fake();
	set_current_frame(build_chain(&p, 2));
	fake_tstate[TS_THREAD_ID / 8] = (uint64_t)pthread_self() + 0x1000;
	run_walk(walker, &p);
	CHECK_INT(R.n_samples, 0);
	/* one hit, one reason: the collector adds NO_TSTATE and MISMATCH together */
	CHECK_HEALTH(1, 0, 1, 0, 0);

	/* Py_tss_t not initialised yet */
	reset_fake();
	set_current_frame(build_chain(&p, 2));
	fake_tss.initialised = 0;
	run_walk(walker, &p);
	CHECK_INT(R.n_samples, 0);
	CHECK_HEALTH(1, 1, 0, 0, 0);

	/* a thread that never ran Python: its slot is empty */
	reset_fake();
	pthread_setspecific(tss_key, NULL);
	run_walk(walker, &p);
	CHECK_INT(R.n_samples, 0);
	CHECK_HEALTH(1, 1, 0, 0, 0);

	/* a Python thread with no frame (between calls): an empty sample */
	reset_fake();
	run_walk(walker, &p);
	CHECK_SAMPLE(0, 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* a process nobody profiles: nothing at all */
	reset_fake();
	set_current_frame(build_chain(&p, 2));
	run_walk(walker, NULL);
	CHECK_INT(R.n_samples, 0);
	CHECK_HEALTH(0, 0, 0, 0, 0);
}

/*
 * The data stack's current chunk, read with the frame and thread id: the first window stops
 * at its start. Frames below it (an older chunk) are still walked, through a read of their own.
 */
static void test_data_stack_chunk(void)
{
	struct py_proc p;

	proc_312(&p);
	p.ts_datastack = TS_DATASTACK;
	for (unsigned lowest = 0; lowest < 5; lowest += 2) {
		reset_fake();
		set_current_frame(build_chain(&p, 5));
		/* fr[4] is the outermost frame, the lowest address: the chunk starts at fr[lowest] */
		fake_tstate[TS_DATASTACK / 8] = (uintptr_t)fr[4 - lowest];
		run_walk(walker, &p);
		CHECK_SAMPLE(5, 0);
		CHECK_INT(frame_mismatches(&p, NULL, 5), 0);
		CHECK_HEALTH(1, 0, 0, 0, 0);
	}
}

/* A 3.12 process whose data stack's chunk, start and end, is read; 6 frames on it. */
static void proc_chunked(struct py_proc *p)
{
	proc_312(p);
	p->flags |= PROC_CHUNK_END;
	p->ts_datastack = TS_DATASTACK;
	reset_fake();
	set_current_frame(build_chain(p, 6));
}

/*
 * With the chunk's end known (PROC_CHUNK_END), a frame past it (the interpreter's entry frame
 * on the C stack, 3.12+) is read alone, and the chunk's frames under it are still walked;
 * an end that is wrong (none, before the start, among the frames) loses no frame either.
 */
static void test_chunk_end(void)
{
	static const unsigned want[] = { 0, 1, 3, 4, 5 };
	unsigned char *entry;
	struct py_proc p;
	uint64_t ends[4];

	proc_chunked(&p);
	/* fr[2] becomes the entry shim, moved past the chunk: fr[1] -> entry -> fr[3] */
	entry = alloc_zeroed(FRAME_BYTES + 4096) + 4096;
	memcpy(entry, fr[2], FRAME_BYTES);
	entry[FR_OWNER] = OWNER_CSTACK;
	set_back(&p, fr[1], entry);
	ends[0] = (uintptr_t)fr[0] + FRAME_BYTES; /* right: the chunk ends after fr[0] */
	ends[1] = 0;
	ends[2] = (uintptr_t)fr[5] - 8; /* before its start */
	ends[3] = (uintptr_t)fr[3];	/* among its frames */
	for (unsigned i = 0; i < 4; i++) {
		CHECK((uintptr_t)entry > ends[0] && fr[0] > fr[5]);
		fake_tstate[TS_DATASTACK / 8] = (uintptr_t)fr[5];
		fake_tstate[(TS_DATASTACK + TS_CHUNK_END_AFTER) / 8] = ends[i];
		run_walk(walker, &p);
		CHECK_SAMPLE(5, 0);
		CHECK_INT(frame_mismatches(&p, want, 5), 0);
		CHECK_HEALTH(1, 0, 0, 0, 0);
	}
}

/*
 * A stack deeper than a chunk: the older chunk, above the current one (mmap hands out
 * addresses downwards), holds the outer frames, which the thread owns. Past the current
 * chunk's end, the first of them is read alone, and the rest are still all walked.
 */
static void test_older_chunk_above(void)
{
	unsigned char *older;
	struct py_proc p;

	proc_chunked(&p);
	/* fr[3..5] move to a block above fr[0..2], the outermost lowest in it as on a chunk */
	older = alloc_zeroed(3 * FRAME_BYTES);
	for (unsigned i = 3; i < 6; i++) {
		memcpy(older + (5 - i) * FRAME_BYTES, fr[i], FRAME_BYTES);
		fr[i] = older + (5 - i) * FRAME_BYTES;
	}
	for (unsigned i = 2; i < 5; i++)
		set_back(&p, fr[i], fr[i + 1]);
	CHECK(fr[5] > fr[0]);
	fake_tstate[TS_DATASTACK / 8] = (uintptr_t)fr[2];
	fake_tstate[(TS_DATASTACK + TS_CHUNK_END_AFTER) / 8] = (uintptr_t)fr[0] + FRAME_BYTES;
	run_walk(walker, &p);
	CHECK_SAMPLE(6, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 6), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

/* Once userspace knows autoTSSkey's key, the sampler does not read it: a wrong one finds no state. */
static void test_known_tss_key(void)
{
	struct py_proc p;

	proc_312(&p);
	p.flags |= PROC_TSS_KEY;
	p.tss_key = tss_key;
	reset_fake();
	set_current_frame(build_chain(&p, 3));
	fake_tss.initialised = 0; /* would stop a sampler that read it */
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 3), 0);

	p.tss_key = tss_key + 1; /* a key this thread never set: an empty slot */
	reset_fake();
	set_current_frame(build_chain(&p, 3));
	run_walk(walker, &p);
	CHECK_INT(R.n_samples, 0);
	CHECK_HEALTH(1, 1, 0, 0, 0);
}

/* The DTV entry of module @modid of this thread (glibc: dtv_t is 16 bytes, fsbase + 8). */
static uintptr_t dtv_block(unsigned modid)
{
	uintptr_t dtv = *(const uintptr_t *)((uintptr_t)pthread_self() + 8);

	return *(const uintptr_t *)(dtv + (uintptr_t)modid * 16);
}

/*
 * 3.15+: the thread state is the _Py_tss_gilstate thread-local, at a fixed offset from the
 * fs base in an executable's static TLS, or found through the thread's DTV for a shared
 * libpython. Both find it with autoTSSkey gone (no key, no Py_tss_t), and nothing when the
 * thread-local is empty.
 */
static void test_tls_var(void)
{
	uintptr_t var = (uintptr_t)&fake_gilstate, block = dtv_block(1);
	struct py_proc p;

	proc_312(&p);
	p.flags |= PROC_TLS_VAR | PROC_STACKREF;
	p.tss_addr = 0; /* 3.15 has no autoTSSkey: reading it would fault */

	/* the executable's static TLS: a negative offset from the thread pointer */
	p.tls_var = (__s64)(var - (uintptr_t)pthread_self());
	CHECK(p.tls_var < 0);
	reset_fake();
	pthread_setspecific(tss_key, NULL); /* not the TSS slot: the thread-local is read */
	set_current_frame(build_chain(&p, 3));
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 3), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* through the DTV: module 1 (this executable), the variable's offset in its block */
	CHECK(block && var >= block && var - block < 4096);
	p.tls_module = 1;
	p.tls_var = (__s64)(var - block);
	reset_fake();
	set_current_frame(build_chain(&p, 4));
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 4), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* a thread whose thread-local is empty (no Python thread state bound): no sample */
	reset_fake();
	set_current_frame(build_chain(&p, 2));
	fake_gilstate = NULL;
	run_walk(walker, &p);
	CHECK_INT(R.n_samples, 0);
	CHECK_HEALTH(1, 1, 0, 0, 0);
}

/* Keys past the first 32 live in a second-level block that glibc allocates on first use. */
static void test_second_level_key(void)
{
	pthread_key_t keys[64];
	unsigned n = 0;
	struct py_proc p;

	while (n < 64 && pthread_key_create(&keys[n], NULL) == 0 && keys[n] < 40)
		n++;
	CHECK(n < 64 && keys[n] >= 40);
	if (n >= 64)
		return;
	proc_312(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 3));
	CHECK_INT(pthread_setspecific(keys[n], fake_tstate), 0);
	fake_tss.key = keys[n];
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 3), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);
	for (unsigned k = 0; k <= n; k++)
		pthread_key_delete(keys[k]);
}

/* 3.11: tstate->cframe->current_frame. */
static void test_311_cframe(void)
{
	unsigned char *cframe;
	struct py_proc p;

	proc_312(&p);
	p.flags |= PROC_CFRAME;
	p.cframe_current = CF_CURRENT;
	reset_fake();
	cframe = alloc_zeroed(FRAME_BYTES);
	put_u64(cframe, 0, 0xc0ffee); /* what reading the cframe as a frame would record */
	put_u64(cframe, CF_CURRENT, (uintptr_t)build_chain(&p, 3));
	set_current_frame(cframe);
	run_walk(walker, &p);
	CHECK_SAMPLE(3, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 3), 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* no Python frame on this C stack yet */
	put_u64(cframe, CF_CURRENT, 0);
	run_walk(walker, &p);
	CHECK_SAMPLE(0, 0);
	CHECK_HEALTH(1, 0, 0, 0, 0);

	/* a cframe that cannot be read */
	set_current_frame((void *)(uintptr_t)unmapped_page());
	run_walk(walker, &p);
	CHECK_SAMPLE(0, SAMPLE_READ_ERROR);
	CHECK_HEALTH(1, 0, 0, 1, 0);
}

/* ≤3.10: PyFrameObject with an int f_lasti in code units, no owner, no tags. */
static void test_310_lasti(void)
{
	struct py_proc p;

	proc_310(&p);
	reset_fake();
	set_current_frame(build_chain(&p, 4));
	fr[1][FR_OWNER] = 0xff; /* not an owner in this layout: must be ignored */
	memcpy(fr[2] + FR310_LASTI, &(int32_t){ 0x12345 }, 4);
	run_walk(walker, &p);
	CHECK_SAMPLE(4, 0);
	CHECK_INT(frame_mismatches(&p, NULL, 4), 0);
	CHECK_INT(R.s.frames[0].lasti, -1);
	CHECK_INT(R.s.frames[2].lasti, 0x12345);
	CHECK_HEALTH(1, 0, 0, 0, 0);
}

/* --- setup ------------------------------------------------------------------------------- */

/* The bound on every kernel: verification must stay cheap by construction. */
#define VERIFIED_MAX 20000

/* What the verifier did to load the walker; verified_insns is reported from Linux 5.16. */
static void check_verified(const struct inst *in)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	CHECK_INT(bpf_obj_get_info_by_fd(bpf_program__fd(in->prog), &info, &len), 0);
	printf("%s walker: %u instructions, %u verified%s\n", in->name, info.xlated_prog_len / 8,
	       info.verified_insns, info.verified_insns ? "" : " (not reported before 5.16)");
	CHECK(info.verified_insns <= VERIFIED_MAX);
}

static int load(struct inst *in, bool loop)
{
	int err;

	in->skel = walk_test_bpf__open();
	if (!in->skel)
		return -errno;
	in->prog = loop ? in->skel->progs.test_walk : in->skel->progs.test_walk_noloop;
	bpf_program__set_autoload(in->skel->progs.test_walk, loop);
	bpf_program__set_autoload(in->skel->progs.test_walk_noloop, !loop);
	in->skel->rodata->sample_weight_ns = WEIGHT_NS;
	err = walk_test_bpf__load(in->skel);
	if (!err) {
		in->rb = ring_buffer__new(bpf_map__fd(in->skel->maps.events), on_event, NULL, NULL);
		if (!in->rb)
			err = -errno;
	}
	if (err) {
		fprintf(stderr, "test_walk: loading the %s walker failed: %s\n", in->name,
			strerror(-err));
		walk_test_bpf__destroy(in->skel);
		in->skel = NULL;
		return err;
	}
	check_verified(in);
	return 0;
}

/* The bpf_loop walker loads wherever the kernel has bpf_loop (5.17+). */
static void test_load_bpf_loop(void)
{
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL) != 1) {
		printf("no bpf_loop helper in this kernel: the bpf_loop walker is not tested\n");
		return;
	}
	CHECK_INT(load(&with_loop, true), 0);
}

/* The other walker loads on every kernel, bpf_loop or not. */
static void test_load_no_bpf_loop(void)
{
	CHECK_INT(load(&no_loop, false), 0);
}

/* Every check of the walker, with @in's walker. */
static void run_battery(struct inst *in)
{
	if (!in->skel || tls_offset < 0)
		return;
	printf("== the %s walker\n", in->name);
	walker = in;
	RUN(test_normal_chain);
	RUN(test_skipped_frames);
	RUN(test_stackref_tags);
	RUN(test_free_threaded);
	RUN(test_free_threaded_bad_tlbc);
	RUN(test_code_names);
	RUN(test_cycle);
	RUN(test_self_loop);
	RUN(test_loop_after_prefix);
	RUN(test_null_back);
	RUN(test_unreadable);
	RUN(test_lasti_clamp);
	RUN(test_depth_limit);
	RUN(test_no_tstate);
	RUN(test_data_stack_chunk);
	RUN(test_chunk_end);
	RUN(test_older_chunk_above);
	RUN(test_code_cache);
	RUN(test_colliding_code_objects);
	RUN(test_sent_again);
	RUN(test_thread_cache);
	RUN(test_known_tss_key);
	RUN(test_tls_var);
	RUN(test_second_level_key);
	RUN(test_311_cframe);
	RUN(test_310_lasti);
}

static void unload(struct inst *in)
{
	ring_buffer__free(in->rb);
	walk_test_bpf__destroy(in->skel);
}

int main(void)
{
	const char *why = bpf_unavailable();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (why) {
		bool ci = getenv("CI") && !strcmp(getenv("CI"), "true");

		printf("test_walk: SKIP: %s%s\n", why, ci ? " (an error under CI=true)" : "");
		return ci ? 1 : 0;
	}
	if (fake_python_init())
		return 1;

	RUN(test_glibc_tls_offset);
	RUN(test_load_bpf_loop);
	RUN(test_load_no_bpf_loop);
	run_battery(&with_loop);
	run_battery(&no_loop);
	unload(&with_loop);
	unload(&no_loop);
	return test_summary();
}
