/* SPDX-License-Identifier: MIT */
/*
 * test_py_walk.c — the userspace walker on fake interpreters built in this process's own
 * memory (process_vm_readv on oneself needs no privilege), for every version's layout:
 * thread state lists, frame chains with shim and C-entry frames, 3.14 tagged code
 * pointers, instruction units; and garbage: lists and chains that loop, misaligned and
 * unreadable pointers, chains deeper than the limit. tests/functional/test_dump.py walks
 * the real interpreters.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "python/py_layout.h"
#include "python/py_target.h"
#include "python/py_walk.h"
#include "pyflare.h"
#include "test.h"

#define FRAME_BYTES 128
#define ARENA_FRAMES 2200
#define CODE_BYTES 256

static unsigned char *runtime, *interp, *tstates, *cframe, *frames, *codes;
static unsigned char none_object[64];
static struct py_stack stack, other;

static void put_u64(unsigned char *obj, uint32_t off, uint64_t v)
{
	memcpy(obj + off, &v, sizeof(v));
}

static void put_ptr(unsigned char *obj, uint32_t off, const void *p)
{
	put_u64(obj, off, (uint64_t)(uintptr_t)p);
}

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static unsigned char *frame_at(size_t i)
{
	return frames + i * FRAME_BYTES;
}

static unsigned char *code_at(size_t i)
{
	return codes + i * CODE_BYTES;
}

/* A 3.@minor target whose _PyRuntime is `runtime`, its main interpreter `interp`. */
static void fake_target(struct py_target *t, unsigned minor)
{
	memset(t, 0, sizeof(*t));
	memset(runtime, 0, 4096);
	memset(interp, 0, 16384);
	memset(tstates, 0, 8 * 4096);
	memset(cframe, 0, 64);
	memset(frames, 0, (size_t)ARENA_FRAMES * FRAME_BYTES);
	t->pid = getpid();
	t->runtime_addr = addr(runtime);
	t->none_addr = addr(none_object);
	CHECK_INT(py_layout_builtin(minor, &t->layout), 0);
	put_ptr(runtime, t->layout.rt_interp_main, interp);
}

/* Thread state @i (of 8), its ident, linked to @next (NULL ends the list). */
static unsigned char *tstate(const struct py_target *t, int i, uint64_t ident, const void *next)
{
	unsigned char *ts = tstates + (size_t)i * 4096;

	put_u64(ts, t->layout.ts_thread_id, ident);
	put_ptr(ts, t->layout.ts_next, next);
	return ts;
}

/* Makes @ts's innermost frame @frame, through the cframe where the version has one. */
static void set_top(const struct py_target *t, unsigned char *ts, const void *frame)
{
	const struct py_layout *l = &t->layout;

	if (l->cframe_current != PY_NO_OFFSET) {
		put_ptr(ts, l->ts_frame, cframe);
		put_ptr(cframe, l->cframe_current, frame);
	} else {
		put_ptr(ts, l->ts_frame, frame);
	}
}

/* Frame @i runs code object @code at code unit @unit (byte offset up to 3.9), caller @back. */
static void set_frame(const struct py_target *t, size_t i, uint64_t code, int unit,
		      const void *back)
{
	const struct py_layout *l = &t->layout;
	unsigned char *f = frame_at(i);

	put_u64(f, l->fr_code, code);
	put_ptr(f, l->fr_back, back);
	if (l->lasti_unit == LASTI_POINTER) {
		put_u64(f, l->fr_instr, (code & ~3ULL) + l->co_code_adaptive + 2 * (int64_t)unit);
	} else {
		int32_t lasti = unit;

		memcpy(f + l->fr_instr, &lasti, sizeof(lasti));
	}
	if (l->fr_owner != PY_NO_OFFSET)
		f[l->fr_owner] = 0; /* FRAME_OWNED_BY_THREAD */
}

static void test_threads(void)
{
	for (unsigned minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		struct py_thread_state got[8];
		struct py_target t;
		unsigned char *a, *b;
		bool cut = true;

		fake_target(&t, minor);
		/* before any thread state */
		CHECK_INT(py_walk_threads(&t, got, 8, &cut), 0);
		CHECK(!cut);
		b = tstate(&t, 1, 0x2222, NULL);
		a = tstate(&t, 0, 0x1111, b);
		put_ptr(interp, t.layout.is_threads_head, a);
		CHECK_INT(py_walk_threads(&t, got, 8, &cut), 2);
		CHECK(!cut);
		CHECK(got[0].addr == addr(a) && got[0].ident == 0x1111);
		CHECK(got[1].addr == addr(b) && got[1].ident == 0x2222);
		/* bounded by @max */
		CHECK_INT(py_walk_threads(&t, got, 1, &cut), 1);
		CHECK(cut);
		/* a list that loops back */
		put_ptr(b, t.layout.ts_next, a);
		CHECK_INT(py_walk_threads(&t, got, 8, &cut), 2);
		CHECK(cut);
		/* a pointer that is not one, and one into nothing */
		put_u64(b, t.layout.ts_next, addr(a) + 3);
		CHECK_INT(py_walk_threads(&t, got, 8, &cut), 2);
		CHECK(cut);
		put_u64(b, t.layout.ts_next, 8);
		CHECK_INT(py_walk_threads(&t, got, 8, &cut), 2);
		CHECK(cut);
		/* no main interpreter yet */
		put_ptr(runtime, t.layout.rt_interp_main, NULL);
		CHECK_INT(py_walk_threads(&t, got, 8, &cut), -EAGAIN);
	}
}

/* A chain of three Python frames with the version's non-Python frames in between. */
static void test_chain(void)
{
	for (unsigned minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		struct py_target t;
		const struct py_layout *l = &t.layout;
		unsigned char *ts;
		uint64_t tag, c0, c1, c2;

		fake_target(&t, minor);
		tag = l->stackref ? 1 : 0; /* 3.14 marks its code references with tag bits */
		c0 = addr(code_at(0)), c1 = addr(code_at(1)), c2 = addr(code_at(2));
		ts = tstate(&t, 0, 0x1111, NULL);
		set_top(&t, ts, frame_at(0));
		set_frame(&t, 0, c0 | tag, 7, frame_at(1));
		set_frame(&t, 1, c1, 3, frame_at(2));
		set_frame(&t, 2, c2, 0, frame_at(3));
		if (l->fr_owner != PY_NO_OFFSET) {
			/* 3.12+: a C-stack shim frame, to be skipped */
			set_frame(&t, 3, c0, 0, frame_at(4));
			frame_at(3)[l->fr_owner] = (unsigned char)l->owner_skip;
		} else {
			set_frame(&t, 3, 0, 0, frame_at(4)); /* no code: skipped as well */
		}
		/* 3.13+: a C-entry frame executes None; before, no code at all */
		set_frame(&t, 4, minor >= 13 ? addr(none_object) : 0, 0, NULL);
		/* before its first instruction */
		if (l->lasti_unit == LASTI_POINTER)
			put_u64(frame_at(2), l->fr_instr, c2 + l->co_code_adaptive - 2);
		else
			memcpy(frame_at(2) + l->fr_instr, &(int32_t){ -1 }, 4);

		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK_INT(stack.n, 3);
		CHECK_INT(stack.flags, 0);
		CHECK(stack.frames[0].code == c0 && stack.frames[1].code == c1 &&
		      stack.frames[2].code == c2);
		CHECK(stack.addrs[0] == addr(frame_at(0)) && stack.addrs[2] == addr(frame_at(2)));
		CHECK_INT(stack.frames[0].lasti, 7);
		CHECK_INT(stack.frames[1].lasti, 3);
		CHECK_INT(stack.frames[2].lasti, -1);
		CHECK(stack.frames[0].fingerprint != 0); /* the code objects are readable */
		/* a thread state with no frame: an empty stack */
		set_top(&t, ts, NULL);
		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK_INT(stack.n, 0);
		CHECK_INT(stack.flags, 0);
		/* a thread state that cannot be read */
		CHECK(py_walk_stack(&t, 8, &stack) < 0);
	}
}

/*
 * A free-threaded 3.14t (the offsets its _Py_DebugOffsets give, test_py_target.c): three
 * threads in Python at once, each frame's code a deferred stack reference (tag bit set)
 * and its instruction in the thread's own bytecode copy (tlbc_index: 0 for the main
 * thread, the code's own bytecode); an index past the copies gives no instruction (-1).
 */
static void test_free_threaded(void)
{
	struct py_thread_state threads[8];
	struct py_target t;
	struct py_layout *l = &t.layout;
	unsigned char *ts[3], *copies[3][3];
	bool cut = true;

	fake_target(&t, 14);
	l->free_threaded = true;
	l->ob_header = 32;
	l->ob_type = 24;
	l->fr_owner = 78;
	l->fr_tlbc = 72;
	l->co_tlbc = 224;
	l->co_code_adaptive = 232;
	for (unsigned c = 0; c < 3; c++) {
		/* _PyCodeArray: size 3, entry 0 the code's own bytecode, 1 and 2 copies */
		unsigned char *tlbc = code_at(10 + c);

		put_u64(tlbc, 0, 3);
		put_u64(tlbc, 8, addr(code_at(c)) + 232);
		for (unsigned k = 1; k < 3; k++) {
			copies[c][k] = code_at(20 + 3 * c + k);
			put_ptr(tlbc, 8 + 8 * k, copies[c][k]);
		}
		put_ptr(code_at(c), 224, tlbc);
	}
	for (int k = 2; k >= 0; k--) {
		ts[k] = tstate(&t, k, 0x1000 + (uint64_t)k, k < 2 ? ts[k + 1] : NULL);
		set_top(&t, ts[k], frame_at(10 * (size_t)k));
		for (unsigned c = 0; c < 3; c++) {
			size_t i = 10 * (size_t)k + c;
			uint64_t bytecode = k ? addr(copies[c][k]) : addr(code_at(c)) + 232;

			set_frame(&t, i, addr(code_at(c)) | 1, 0, c < 2 ? frame_at(i + 1) : NULL);
			put_u64(frame_at(i), l->fr_instr, bytecode + 2 * (5 * (uint64_t)k + c));
			memcpy(frame_at(i) + 72, &(int32_t){ k }, 4);
		}
	}
	put_ptr(interp, l->is_threads_head, ts[0]);
	CHECK_INT(py_walk_threads(&t, threads, 8, &cut), 3);
	for (int k = 0; k < 3; k++) {
		CHECK_INT(threads[k].ident, 0x1000 + (uint64_t)k);
		CHECK_INT(py_walk_stack(&t, threads[k].addr, &stack), 0);
		CHECK_INT(stack.n, 3);
		CHECK_INT(stack.flags, 0);
		for (unsigned c = 0; c < 3; c++) {
			CHECK_INT(stack.frames[c].code, addr(code_at(c)));
			CHECK_INT(stack.frames[c].lasti, 5 * k + (int)c);
		}
	}
	memcpy(frame_at(20) + 72, &(int32_t){ 3 }, 4); /* past co_tlbc's three entries */
	CHECK_INT(py_walk_stack(&t, addr(ts[2]), &stack), 0);
	CHECK_INT(stack.n, 3);
	CHECK_INT(stack.frames[0].lasti, -1);
	CHECK_INT(stack.frames[1].lasti, 11);
}

/* Garbage ends the walk, flagged (chains that loop: test_loops). */
static void test_garbage(void)
{
	for (unsigned minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		struct py_target t;
		const struct py_layout *l = &t.layout;
		unsigned char *ts;
		uint64_t c0;
		size_t i;

		fake_target(&t, minor);
		c0 = addr(code_at(0));
		ts = tstate(&t, 0, 0x1111, NULL);
		set_top(&t, ts, frame_at(0));
		/* a misaligned caller, an unreadable one, a misaligned code object */
		set_frame(&t, 0, c0, 0, frame_at(1) + 4);
		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK(stack.n == 1 && stack.flags == SAMPLE_READ_ERROR);
		set_frame(&t, 0, c0, 0, (void *)8);
		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK(stack.n == 1 && stack.flags == SAMPLE_READ_ERROR);
		set_frame(&t, 0, c0 + 4, 0, NULL);
		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK(stack.n == 0 && stack.flags == SAMPLE_READ_ERROR);
		/* an instruction pointer far from its code: clamped, never wrapped */
		if (l->lasti_unit == LASTI_POINTER) {
			set_frame(&t, 0, c0, 0, NULL);
			put_u64(frame_at(0), l->fr_instr, 0);
			CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
			CHECK_INT(stack.frames[0].lasti, -1);
			put_u64(frame_at(0), l->fr_instr, c0 + (1ULL << 40));
			CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
			CHECK_INT(stack.frames[0].lasti, INT32_MAX);
		}
		/* deeper than the limit: the first PYFLARE_MAX_FRAMES, then truncated */
		for (i = 0; i < ARENA_FRAMES; i++)
			set_frame(&t, i, c0, (int)(i % 100),
				  i + 1 < ARENA_FRAMES ? frame_at(i + 1) : NULL);
		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK_INT(stack.n, PYFLARE_MAX_FRAMES);
		CHECK_INT(stack.flags, SAMPLE_TRUNCATED);
		/* endless non-Python frames: the steps run out, nothing recorded */
		for (i = 0; i < ARENA_FRAMES; i++)
			set_frame(&t, i, 0, 0, i + 1 < ARENA_FRAMES ? frame_at(i + 1) : NULL);
		CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
		CHECK_INT(stack.n, 0);
		CHECK_INT(stack.flags, SAMPLE_TRUNCATED);
	}
}

/* Two walks agree when only the innermost frame's instruction moved on. */
/*
 * Chains that loop, judged as the BPF walker judges them (tests/bpf/test_walk.c walks the
 * same chains): read errors, with the frames met until the walk noticed.
 */
static void check_loop(const struct py_target *t, const unsigned char *ts, const unsigned *want,
		       uint32_t n)
{
	CHECK_INT(py_walk_stack(t, addr(ts), &stack), 0);
	CHECK_INT(stack.n, n);
	CHECK_INT(stack.flags, SAMPLE_READ_ERROR);
	for (uint32_t k = 0; k < n && k < stack.n; k++)
		CHECK(stack.addrs[k] == addr(frame_at(want[k])));
}

static void test_loops(void)
{
	static const unsigned own[] = { 0 }, two[] = { 0, 1, 0 }, three[] = { 0, 1, 2, 0, 1, 2 },
			      self[] = { 0, 1, 2, 2 };
	static unsigned prefix[41];

	for (unsigned k = 0; k < 40; k++)
		prefix[k] = k;
	prefix[40] = 30;
	for (unsigned minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		struct py_target t;
		unsigned char *ts;
		uint64_t c0;

		fake_target(&t, minor);
		c0 = addr(code_at(0));
		ts = tstate(&t, 0, 0x1111, NULL);
		set_top(&t, ts, frame_at(0));
		/* a frame that is its own caller */
		set_frame(&t, 0, c0, 0, frame_at(0));
		check_loop(&t, ts, own, 1);
		/* A -> B -> C -> A */
		set_frame(&t, 0, c0, 0, frame_at(1));
		set_frame(&t, 1, c0, 0, frame_at(2));
		set_frame(&t, 2, c0, 0, frame_at(0));
		check_loop(&t, ts, three, 6);
		/* A -> B -> A */
		set_frame(&t, 0, c0, 0, frame_at(1));
		set_frame(&t, 1, c0, 0, frame_at(0));
		check_loop(&t, ts, two, 3);
		/* a frame that is its own caller, below two others */
		set_frame(&t, 1, c0, 0, frame_at(2));
		set_frame(&t, 2, c0, 0, frame_at(2));
		check_loop(&t, ts, self, 4);
		/* 30 frames, then a loop of 10 */
		for (size_t i = 0; i < 40; i++)
			set_frame(&t, i, c0, 0, frame_at(i + 1 < 40 ? i + 1 : 30));
		check_loop(&t, ts, prefix, 41);
	}
}

static void test_same(void)
{
	struct py_target t;
	unsigned char *ts;

	fake_target(&t, 12);
	ts = tstate(&t, 0, 0x1111, NULL);
	set_top(&t, ts, frame_at(0));
	set_frame(&t, 0, addr(code_at(0)), 5, frame_at(1));
	set_frame(&t, 1, addr(code_at(1)), 9, NULL);
	CHECK_INT(py_walk_stack(&t, addr(ts), &stack), 0);
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(py_stack_same(&stack, &other));
	set_frame(&t, 0, addr(code_at(0)), 6, frame_at(1)); /* the running line moved */
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(py_stack_same(&stack, &other));
	set_frame(&t, 1, addr(code_at(1)), 10, NULL); /* a caller moved: a new call */
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(!py_stack_same(&stack, &other));
	set_frame(&t, 1, addr(code_at(2)), 9, NULL); /* other code at the same place */
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(!py_stack_same(&stack, &other));
	set_frame(&t, 1, addr(code_at(1)), 9, NULL);
	set_top(&t, ts, frame_at(1)); /* returned */
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(!py_stack_same(&stack, &other));
	/* the code object changed under the same address: its fingerprint tells */
	set_top(&t, ts, frame_at(0));
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(py_stack_same(&stack, &other));
	memset(code_at(1), 0x5a, CODE_BYTES);
	CHECK_INT(py_walk_stack(&t, addr(ts), &other), 0);
	CHECK(!py_stack_same(&stack, &other));
}

int main(void)
{
	runtime = calloc(1, 4096);
	interp = calloc(1, 16384);
	tstates = calloc(8, 4096);
	cframe = calloc(1, 64);
	frames = aligned_alloc(64, (size_t)ARENA_FRAMES * FRAME_BYTES);
	codes = aligned_alloc(64, 32 * CODE_BYTES);
	if (!runtime || !interp || !tstates || !cframe || !frames || !codes)
		return 1;
	memset(codes, 0, 4 * CODE_BYTES);
	for (int i = 0; i < 4; i++)
		memset(code_at((size_t)i), i + 1, CODE_BYTES); /* four different objects */
	RUN(test_threads);
	RUN(test_chain);
	RUN(test_free_threaded);
	RUN(test_garbage);
	RUN(test_loops);
	RUN(test_same);
	free(runtime);
	free(interp);
	free(tstates);
	free(cframe);
	free(frames);
	free(codes);
	return test_summary();
}
