/* SPDX-License-Identifier: MIT */
/*
 * offcpu.bpf.h — wall mode: the time profiled Python threads spend off CPU, from the
 * scheduler's own switch events.
 *
 * When a profiled thread is switched out, its Python stack is walked (it is still the
 * current task, so its memory is readable) and remembered by hash with the system call it
 * sits in; when it is switched back in, one record weighted by the time away is sent, or,
 * below --min-block, added to a per-(thread, stack, reason) sum that userspace drains.
 * Each distinct stack travels once, as an EVENT_STACK, and is then named by its hash.
 */
#ifndef PYFLARE_OFFCPU_BPF_H
#define PYFLARE_OFFCPU_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "config.bpf.h"
#include "maps.bpf.h"
#include "py_walk.bpf.h"
#include "pyflare.h"
#include "sample.bpf.h"

#define OFFCPU_THREADS 16384 /* threads off CPU at once */
#define TASK_DEAD 0x80	     /* include/linux/sched.h: a thread's final switch-out */
#define STACKS_SENT 65536    /* stacks userspace has been sent, by hash */
#define SHORT_WAITS 16384    /* (thread, stack, reason) sums between two drains */
#define EEXIST 17	     /* include/uapi/asm-generic/errno-base.h */

/* Profiled threads now off CPU, by TID. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_THREADS);
	__type(key, __u32);
	__type(value, struct offcpu_started);
} offcpu_threads SEC(".maps");

/* Stacks already sent as EVENT_STACK. LRU: a forgotten one is simply sent again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STACKS_SENT);
	__type(key, __u64);
	__type(value, __u8);
} stacks_sent SEC(".maps");

/* Waits shorter than --min-block, added up; userspace reads and deletes them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHORT_WAITS);
	__type(key, struct offcpu_wait);
	__type(value, struct offcpu_sum);
} short_waits SEC(".maps");

static __always_inline void send_offcpu(const struct offcpu_wait *wait, __u64 first_ns,
					__u64 total_ns, __u64 count)
{
	struct offcpu_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		health_inc(HEALTH_RINGBUF_FULL);
		return;
	}
	e->type = EVENT_OFFCPU;
	e->_pad = 0;
	e->sum.first_ns = first_ns;
	e->sum.total_ns = total_ns;
	e->sum.count = count;
	e->wait = *wait;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* @next runs again: account the time since it was switched out, if it is ours. */
static __always_inline void offcpu_switched_in(struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct offcpu_started *st = bpf_map_lookup_elem(&offcpu_threads, &tid);
	struct offcpu_sum *sum, fresh;
	__u64 away;

	if (!st)
		return; /* the one lookup a task that is not ours costs */
	away = bpf_ktime_get_ns() - st->start_ns;
	if (away >= min_block_ns) {
		send_offcpu(&st->wait, st->start_ns, away, 1);
	} else if ((sum = bpf_map_lookup_elem(&short_waits, &st->wait))) {
		__sync_fetch_and_add(&sum->total_ns, away);
		__sync_fetch_and_add(&sum->count, 1);
	} else {
		fresh = (struct offcpu_sum){ st->start_ns, away, 1 };
		if (bpf_map_update_elem(&short_waits, &st->wait, &fresh, BPF_NOEXIST))
			send_offcpu(&st->wait, st->start_ns, away, 1); /* full or raced */
	}
	bpf_map_delete_elem(&offcpu_threads, &tid);
}

/* The current task, a thread of @cfg's process, leaves the CPU in state @state. */
static __always_inline void offcpu_switched_out(const struct py_proc *cfg, __u64 pid_tgid,
						struct task_struct *task, __u32 state)
{
	__u32 key = SCRATCH_SWITCH, tid = (__u32)pid_tgid;
	struct walk_scratch *ws = bpf_map_lookup_elem(&scratch, &key);
	struct offcpu_started st = {};
	struct pt_regs *regs;
	__u64 size, ident = 0;
	__u8 one = 1;
	long err;

	if (state & TASK_DEAD)
		return; /* its last switch: it will not come back to be accounted */
	/* wall mode needs 5.18+ (prev_state), which always has bpf_loop */
	if (!ws || !walk_current_task(cfg, pid_tgid, ws, WALKER_BPF_LOOP, SCRATCH_SWITCH, &ident) ||
	    (!ws->walk.n && !ws->walk.flags))
		return; /* not a Python thread, or no Python code on it yet */
	send_code_names(ws, SCRATCH_SWITCH);
	size = fill_sample(ws, cfg, EVENT_STACK, pid_tgid, ident, 0);
	/* --async: the task it was stepping names the stack too (the same frames under another
	 * task are another stack); 0, the stack's name unchanged, outside a task */
	ws->sample.task = running_task(cfg, pid_tgid >> 32, ws->walk.tstate);
	ws->sample.stack ^= ws->sample.task * 0x9e3779b97f4a7c15ULL;
	st.wait.stack = ws->sample.stack;
	/* sent unless known to be: a mark that could not be written (not -EEXIST) would leave
	 * the collector without the stack of this wait */
	err = bpf_map_update_elem(&stacks_sent, &st.wait.stack, &one, BPF_NOEXIST);
	if (err != -EEXIST && bpf_ringbuf_output(&events, &ws->sample, size, wakeup_flag(ws))) {
		health_inc(HEALTH_RINGBUF_FULL);
		if (!err)
			bpf_map_delete_elem(&stacks_sent, &st.wait.stack);
		return;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	st.wait.proc_id = cfg->id;
	st.wait.pid = pid_tgid >> 32;
	st.wait.tid = tid;
	st.wait.syscall = (__s32)(long)BPF_CORE_READ(regs, orig_ax);
	st.wait.arg0 = BPF_CORE_READ(regs, di);
	st.wait.state = state;
	st.wait.ident = ident;
	bpf_get_current_comm(st.wait.comm, sizeof(st.wait.comm));
	st.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&offcpu_threads, &tid, &st, BPF_ANY);
}

#endif /* PYFLARE_OFFCPU_BPF_H */
