/* SPDX-License-Identifier: MIT */
/*
 * py_walk.h — a process's Python threads and each one's frame chain, read from userspace
 * with process_vm_readv: what bpf/py_walk.bpf.h does for the thread on a CPU, for every
 * thread of the main interpreter, without stopping any (pyflare dump).
 *
 * The process runs on while it is read: a frame may be popped or pushed between two reads.
 * Every read and loop is bounded, a chain that loops or cannot be read is cut and flagged,
 * and py_stack_same() tells whether two walks of one thread saw the same chain.
 */
#ifndef PYFLARE_PY_WALK_H
#define PYFLARE_PY_WALK_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyflare.h"

struct py_target;

#define PY_WALK_THREADS_MAX 4096 /* thread states listed per process */

struct py_thread_state {
	uint64_t addr;	/* the PyThreadState */
	uint64_t ident; /* its thread_id: pthread_self(), threading's ident */
};

/*
 * The thread states of @t's main interpreter, in CPython's order (newest first), at most
 * @max. Returns how many, -EAGAIN while there is no interpreter yet, or -errno. A list
 * that loops back on itself or stops being readable ends there, with *@cut set.
 */
int py_walk_threads(const struct py_target *t, struct py_thread_state *out, size_t max, bool *cut);

/* One walk of one thread's frames (about 40 KiB: allocate it). */
struct py_stack {
	uint32_t n;				    /* frames, innermost first */
	uint16_t flags;				    /* SAMPLE_TRUNCATED, SAMPLE_READ_ERROR */
	struct py_frame frames[PYFLARE_MAX_FRAMES]; /* code object, instruction, fingerprint */
	uint64_t addrs[PYFLARE_MAX_FRAMES];	    /* where each frame lives */
};

/*
 * Walks the frames of the thread state at @tstate into @out, as the BPF walker does: shim
 * and C-entry frames skipped (3.12 gh-96421, 3.13 gh-100987), 3.14 stack-reference tags
 * masked (gh-127705), the instruction turned into what linetable_line() takes. At most
 * PYFLARE_MAX_FRAMES frames (more: the walk ends with SAMPLE_TRUNCATED); a frame that
 * cannot be read, a misaligned pointer or a chain that loops (py_chain_loops(), pyflare.h,
 * the BPF walker's rule) ends it with SAMPLE_READ_ERROR. Returns 0, or -errno when the
 * thread state itself cannot be read.
 */
int py_walk_stack(const struct py_target *t, uint64_t tstate, struct py_stack *out);

/*
 * One frame at @frame (a coroutine's own frame, gi_iframe, which no thread is running) as
 * the walk records it: its code object, instruction and fingerprint. Returns 0, -EFAULT
 * (unreadable) or -EINVAL (no Python code there).
 */
int py_walk_frame(const struct py_target *t, uint64_t frame, struct py_frame *out);

/*
 * Whether two walks of one thread saw the same chain: the same frames at the same
 * addresses running the same code, each at the same instruction except the innermost,
 * which a running thread moves on without changing the chain.
 */
bool py_stack_same(const struct py_stack *a, const struct py_stack *b);

#endif /* PYFLARE_PY_WALK_H */
