/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pyflare.bpf.c — the samplers (a perf cpu-clock event on every CPU, or the scheduler
 * tick), the scheduler's switches in wall mode, and the process events (exec, fork, exit)
 * that keep userspace's view of the profiled processes fresh.
 * The events are BTF raw tracepoints (tp_btf): unlike classic tracepoints they need
 * no tracefs mounted, which containers and minimal hosts often lack.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "pyflare.h"
#include "config.bpf.h"
#include "maps.bpf.h"
#include "py_walk.bpf.h"
#include "select.bpf.h"
#include "sample.bpf.h"
#include "offcpu.bpf.h"
#include "bench.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * Each clock comes as two programs, one per walker (enum walker): userspace loads the
 * bpf_loop one where the kernel has the helper (5.17+) and the unrolled one elsewhere.
 */

static __always_inline int timer_fired(enum walker walker)
{
	__u64 start;

	if (bench_stops_at(BENCH_EMPTY))
		return 0;
	start = bench_start();
	sample_if_profiled(walker);
	bench_end(BENCH_PROG_TIMER, start);
	return 0;
}

/* --clock timer: a perf cpu-clock event on every CPU, at -F's rate. */
SEC("perf_event")
int on_timer(void *ctx)
{
	(void)ctx;
	return timer_fired(WALKER_BPF_LOOP);
}

SEC("perf_event")
int on_timer_noloop(void *ctx)
{
	(void)ctx;
	return timer_fired(WALKER_NO_BPF_LOOP);
}

/*
 * --clock tick: an hrtimer expires (hard interrupt, in the interrupted task's context). The
 * scheduler tick is one of them on every busy CPU, so sampling it adds no interrupt of its
 * own; every other hrtimer is let go after one load and one compare.
 * Arguments: struct hrtimer *timer, ktime_t *now.
 */
static __always_inline int hrtimer_expired(__u64 *ctx, enum walker walker)
{
	struct hrtimer *timer = (struct hrtimer *)ctx[0];
	__u64 start;

	if ((__u64)timer->function != tick_handler)
		return 0;
	health_inc(HEALTH_TICKS);
	if (bench_stops_at(BENCH_EMPTY))
		return 0;
	start = bench_start();
	sample_if_profiled(walker);
	bench_end(BENCH_PROG_TICK, start);
	return 0;
}

SEC("tp_btf/hrtimer_expire_entry")
int on_tick(__u64 *ctx)
{
	return hrtimer_expired(ctx, WALKER_BPF_LOOP);
}

SEC("tp_btf/hrtimer_expire_entry")
int on_tick_noloop(__u64 *ctx)
{
	return hrtimer_expired(ctx, WALKER_NO_BPF_LOOP);
}

/*
 * Wall mode (loaded only then): a context switch, in the outgoing task's context. The
 * incoming task's time away is accounted, and a profiled outgoing one's stack kept.
 * Arguments (5.18+): bool preempt, prev, next, unsigned int prev_state.
 */
SEC("tp_btf/sched_switch")
int on_switch(__u64 *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx[1];
	struct task_struct *next = (struct task_struct *)ctx[2];
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	const struct py_proc *cfg;
	__u64 start;

	if (bench_stops_at(BENCH_EMPTY))
		return 0;
	start = bench_start();
	offcpu_switched_in(next);
	cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (cfg && in_selected_cgroups())
		offcpu_switched_out(cfg, pid_tgid, prev, (__u32)ctx[3]);
	bench_end(BENCH_PROG_SWITCH, start);
	return 0;
}

static __always_inline bool is_followed(__u32 tgid)
{
	return bpf_map_lookup_elem(&procs, &tgid) || bpf_map_lookup_elem(&watched, &tgid);
}

/*
 * A new program image: the layout userspace recorded for this PID is no longer true.
 * Dropping it here (process context, not the sampler's interrupt context) means no
 * sample of the new image is ever walked or named with the old image's layout.
 */
SEC("tp_btf/sched_process_exec")
int on_exec(__u64 *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	bool followed = is_followed(tgid);

	(void)ctx;
	bpf_map_delete_elem(&procs, &tgid);
	if (n_cgroups)
		bpf_map_delete_elem(&announced, &tgid); /* the new image may be Python */
	if (followed || (follow_all && in_selected_cgroups()))
		send_proc_event(EVENT_EXEC, tgid, 0);
	return 0;
}

/* Children of followed processes are followed too (record -- COMMAND, multiprocessing). */
SEC("tp_btf/sched_process_fork")
int on_fork(__u64 *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx[0];
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (BPF_CORE_READ(child, pid) != (int)ctgid || !is_followed(ptgid))
		return 0; /* a new thread, or a process nobody follows */
	bpf_map_update_elem(&watched, &ctgid, &one, BPF_NOEXIST);
	send_proc_event(EVENT_FORK, ctgid, ptgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int on_exit(__u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	(void)ctx;
	if ((__u32)pid_tgid != tgid)
		return 0; /* a thread */
	if (n_cgroups)
		bpf_map_delete_elem(&announced, &tgid); /* the PID may be reused */
	if (!is_followed(tgid))
		return 0; /* not ours */
	bpf_map_delete_elem(&procs, &tgid);
	bpf_map_delete_elem(&watched, &tgid);
	send_proc_event(EVENT_EXIT, tgid, 0);
	return 0;
}
