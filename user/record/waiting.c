/* SPDX-License-Identifier: MIT */
/*
 * waiting.c — wall mode: the threads already off CPU when a process is attached. The
 * kernel learns of a wait at the thread's switch-out, so a wait that began before the
 * process was in `procs` (a hung service, the first reason to attach) would never count.
 * Each such thread is read as `pyflare dump` reads it (its Python stack from userspace, its
 * state and system call from /proc) and entered in `offcpu_threads` as if the kernel had
 * seen it leave: its switch-in, the end of the recording or a live view's refresh then
 * account it like any other wait.
 *
 * The stack is named as the kernel names it (py_stack_hash_frame), so the same frames
 * make the same name whichever side saw them first. Races, and why none counts time that
 * was not a wait:
 *   - the thread switches out after `procs` has the process: the kernel's entry is there
 *     first (ours is entered BPF_NOEXIST) or replaces ours (its switch-out writes BPF_ANY);
 *   - it wakes between /proc's answer and the entry: it runs with an entry no switch-in
 *     will take. /proc is asked again after the entry is made: a thread that runs then,
 *     or exited, has the entry taken back if it is still ours (the kernel's own entry, made
 *     meanwhile by a switch-out, is left; taking it back in the instant between the two
 *     map calls would lose that one wait, never add one). A thread that runs at that
 *     second look has been switched in since the first, so its next switch-out writes over
 *     anything left;
 *   - the process execs (the kernel then drops its `procs` entry) or exits while this runs:
 *     its entries are taken back, as its stacks were read from an image that is gone.
 */
#include "record/recorder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "host/proc_info.h"
#include "host/thread_tids.h"
#include "lib/keymap.h"
#include "lib/log.h"
#include "python/py_walk.h"
#include "pyflare.skel.h"

#define TASK_INTERRUPTIBLE 0x1	 /* include/linux/sched.h: the S state */
#define TASK_UNINTERRUPTIBLE 0x2 /* the D state */

/* What reading one process's waiting threads needs. */
struct reading {
	struct collector *c;
	struct tracked *t;
	uint64_t id;
	uint64_t since_ns;
	struct thread_tids *tids;
	struct py_stack *stack;
	struct py_sample *sample;
	struct offcpu_started *entered; /* the entries made, to take back if the image is gone */
	size_t n_entered;
};

/* The task state of a thread off CPU now (S or D), or 0 when it runs, stopped or exited. */
static uint32_t off_cpu_state(pid_t pid, uint32_t tid)
{
	char state;

	if (proc_read_thread_state(pid, (pid_t)tid, &state))
		return 0;
	return state == 'S' ? TASK_INTERRUPTIBLE : state == 'D' ? TASK_UNINTERRUPTIBLE : 0;
}

/* Takes back the entry of @tid if it is still @mine (none of the kernel's replaced it). */
static void take_back(struct collector *c, uint32_t tid, const struct offcpu_started *mine)
{
	struct bpf_map *m = c->skel->maps.offcpu_threads;
	struct offcpu_started now;

	if (!bpf_map__lookup_elem(m, &tid, sizeof(tid), &now, sizeof(now), 0) &&
	    !memcmp(&now, mine, sizeof(now)))
		bpf_map__delete_elem(m, &tid, sizeof(tid), 0);
}

/* @r's stack as the kernel would have sent it: named, its frames in c->stacks. */
static int name_stack(struct reading *r, __u64 *name)
{
	const struct py_stack *s = r->stack;
	struct py_sample *smp = r->sample;
	struct keymap_key key;
	uint64_t h = 0, node;

	for (uint32_t i = 0; i < s->n; i++)
		h = py_stack_hash_frame(h, s->frames[i].code, s->frames[i].lasti,
					s->frames[i].fingerprint);
	*name = py_stack_name(h, r->id, s->flags, s->n);
	key = (struct keymap_key){ r->id, *name, 0 };
	if (keymap__get(r->c->stacks, &key, &node))
		return 0;
	memset(smp, 0, __builtin_offsetof(struct py_sample, frames));
	smp->type = EVENT_STACK;
	smp->pid = (uint32_t)r->t->target.pid;
	smp->nr_frames = (uint16_t)s->n;
	smp->flags = s->flags;
	smp->proc_id = r->id;
	smp->stack = *name;
	memcpy(smp->frames, s->frames, s->n * sizeof(s->frames[0]));
	return remember_stack(r->c, r->t, smp);
}

/* Enters the thread of @ts if it waits now. Returns 1 if entered, 0 if not, or -ENOMEM. */
static int enter_thread(struct reading *r, const struct py_thread_state *ts)
{
	struct bpf_map *m = r->c->skel->maps.offcpu_threads;
	pid_t pid = r->t->target.pid;
	uint32_t tid = thread_tids__find(r->tids, ts->ident), state;
	struct offcpu_started st = { 0 };
	int32_t nr = -1;
	uint64_t arg0 = 0;
	int err;

	if (!tid || !(state = off_cpu_state(pid, tid)))
		return 0; /* unknown (not glibc), running, or gone */
	err = proc_read_thread_syscall(pid, (pid_t)tid, &nr, &arg0);
	if (err == 1)
		return 0; /* woke up meanwhile */
	if (err < 0)
		nr = -1; /* waiting, for what /proc does not say */
	if (py_walk_stack(&r->t->target, ts->addr, r->stack) || (!r->stack->n && !r->stack->flags))
		return 0; /* as the kernel: no Python code on it yet, or unreadable */
	err = name_stack(r, &st.wait.stack);
	if (err)
		return err;
	st.wait.proc_id = r->id;
	st.wait.pid = (uint32_t)pid;
	st.wait.tid = tid;
	st.wait.syscall = nr;
	st.wait.arg0 = arg0;
	st.wait.state = state;
	st.wait.ident = ts->ident;
	proc_read_thread_comm(pid, (pid_t)tid, st.wait.comm, sizeof(st.wait.comm));
	st.start_ns = r->since_ns;
	if (bpf_map__update_elem(m, &tid, sizeof(tid), &st, sizeof(st), BPF_NOEXIST))
		return 0; /* the kernel saw it switch out: its entry is the true one */
	if (!off_cpu_state(pid, tid)) {
		take_back(r->c, tid, &st); /* woke up before the entry was made */
		return 0;
	}
	r->entered[r->n_entered++] = st;
	return 1;
}

/* Whether @pid still runs the image analysed as instance @id: an exec drops it from `procs`. */
static bool same_image(struct collector *c, pid_t pid, uint64_t id)
{
	struct py_proc proc;
	__u32 key = (__u32)pid;

	return !bpf_map__lookup_elem(c->skel->maps.procs, &key, sizeof(key), &proc, sizeof(proc),
				     0) &&
	       proc.id == id;
}

int enter_waiting_threads(struct collector *c, struct tracked *t, uint64_t id, uint64_t since_ns)
{
	struct reading r = { .c = c, .t = t, .id = id, .since_ns = since_ns };
	struct py_thread_state *states = malloc(PY_WALK_THREADS_MAX * sizeof(*states));
	bool cut;
	int n = 0, entered = 0, err = 0;

	r.tids = thread_tids__read(t->target.pid, t->target.tls_kind == TLS_GLIBC);
	if (!r.tids && errno != ENOMEM)
		goto out; /* gone: nothing waits */
	r.stack = malloc(sizeof(*r.stack));
	r.sample = malloc(sizeof(*r.sample));
	if (!states || !r.tids || !r.stack || !r.sample) {
		err = -ENOMEM;
		goto out;
	}
	n = py_walk_threads(&t->target, states, PY_WALK_THREADS_MAX, &cut);
	if (n > 0) {
		r.entered = malloc((size_t)n * sizeof(*r.entered));
		err = r.entered ? 0 : -ENOMEM;
	}
	for (int i = 0; !err && i < n; i++) {
		int got = enter_thread(&r, &states[i]);

		if (got < 0)
			err = got;
		entered += got > 0;
	}
	if (r.n_entered && !same_image(c, t->target.pid, id)) {
		for (size_t i = 0; i < r.n_entered; i++)
			take_back(c, r.entered[i].wait.tid, &r.entered[i]);
		entered = 0;
	}
	if (entered)
		pr_debug("process %d: %d thread%s waiting already\n", t->target.pid, entered,
			 entered == 1 ? "" : "s");
out:
	free(r.entered);
	free(r.sample);
	free(r.stack);
	thread_tids__free(r.tids);
	free(states);
	return err ? err : entered;
}
