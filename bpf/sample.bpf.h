/* SPDX-License-Identifier: MIT */
/*
 * sample.bpf.h — what the programs send userspace through the `events` ring buffer (but wall
 * mode's own records, offcpu.bpf.h): walked stacks, as samples or as the stacks of off-CPU
 * waits, the names of the code objects new to this CPU, and process events.
 *
 * And what every sampling clock does when it interrupts a CPU (the perf timer's on_timer,
 * the scheduler tick's on_tick, and the walker's tests): sample the interrupted thread if
 * its process is profiled, and tell userspace about unknown tasks of a selected cgroup.
 */
#ifndef PYFLARE_SAMPLE_BPF_H
#define PYFLARE_SAMPLE_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "asyncio.bpf.h"
#include "bench.bpf.h"
#include "config.bpf.h"
#include "maps.bpf.h"
#include "py_walk.bpf.h"
#include "pyflare.h"
#include "select.bpf.h"
#include "sent_stacks.bpf.h"

/*
 * A process event (struct proc_event): exec, fork, exit, or a task found (announce). An exec
 * or a fork wakes the collector at once: behind samples sent without a wakeup it would wait
 * for the collector's next look (the agent's: 100 ms), and a process that lives a few ms
 * would be gone before it was attached. An exit or an announce can wait for that look.
 */
static __always_inline void send_proc_event(__u32 type, __u32 pid, __u32 parent)
{
	struct proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		health_inc(HEALTH_EVENTS_LOST);
		return;
	}
	e->type = type;
	e->pid = pid;
	e->parent = parent;
	e->_pad = 0;
	e->time_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, type == EVENT_EXEC || type == EVENT_FORK ? BPF_RB_FORCE_WAKEUP : 0);
}

/*
 * A task of a selected cgroup that userspace does not profile: tell it once, so a process
 * that was moved into the cgroup (or started before we looked) is found when it runs.
 */
static __always_inline void announce(__u32 tgid)
{
	__u8 one = 1;

	if (tgid && !bpf_map_update_elem(&announced, &tgid, &one, BPF_NOEXIST))
		send_proc_event(EVENT_FOUND, tgid, 0);
}

/* Copies a str object's text if it is compact ASCII (all that names usually are). */
static __always_inline void copy_ascii(const struct py_proc *cfg, __u64 str, char *dst, __u32 len)
{
	__u32 state = 0;

	dst[0] = '\0';
	if (!str ||
	    bpf_probe_read_user(&state, sizeof(state), (const void *)(str + cfg->str_state)))
		return;
	if ((state & 0x60) != 0x60) /* compact (bit 5) and ascii (bit 6) */
		return;
	bpf_probe_read_user_str(dst, len, (const void *)(str + cfg->str_ascii_data));
}

/*
 * Sends the names of the @i-th code object that the walk in scratch area @user listed as new
 * to this CPU (struct code_event); the walk marked it in `seen`, and one that finds the ring
 * buffer full is unmarked, to stay new for the next sample. A global function, so the verifier
 * checks it once, not once for each code object a sample may send; as before Linux 5.12 it
 * takes no pointer, it finds the walk in `scratch` and the process's layout in the walk's
 * copy, ws->proc. Returns 0.
 */
__noinline int send_code_name(__u32 user, __u32 i)
{
	struct walk_scratch *ws = bpf_map_lookup_elem(&scratch, &user);
	const struct py_proc *cfg;
	struct seen_codes *cache;
	struct code_event *e;
	__u32 zero = 0, set;
	__u64 code, tag;
	int err = 0;

	cache = bpf_map_lookup_elem(&seen, &zero);
	if (!ws || !cache)
		return 0;
	cfg = &ws->proc;
	i &= CODE_EVENTS_PER_SAMPLE - 1; /* an unknown scalar to the verifier */
	code = ws->walk.new_code[i];
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* not sent: not seen either */
		set = seen_set(code, cfg->id);
		tag = seen_tag(code, cfg->id);
		if (cache->code[set] == tag)
			cache->code[set] = 0;
		else if (cache->code[set + 1] == tag)
			cache->code[set + 1] = 0;
		return 0;
	}
	e->type = EVENT_CODE;
	e->pid = ws->walk.pid;
	e->proc_id = cfg->id;
	e->code = code;
	e->fingerprint = ws->walk.new_fingerprint[i];
	e->first_line = 0;
	bpf_probe_read_user(&e->first_line, sizeof(e->first_line),
			    (const void *)(code + cfg->co_firstlineno));
	copy_ascii(cfg, read_user_u64(code + cfg->co_name, &err), e->name, sizeof(e->name));
	copy_ascii(cfg, read_user_u64(code + cfg->co_filename, &err), e->file, sizeof(e->file));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Sends the names of the code objects the walk in scratch area @user listed as new. */
static __always_inline void send_code_names(const struct walk_scratch *ws, enum scratch_user user)
{
	if (bench_stops_at(BENCH_WALK))
		return;
	for (__u32 i = 0; i < CODE_EVENTS_PER_SAMPLE; i++) {
		if (i >= ws->walk.n_new)
			break;
		send_code_name(user, i);
	}
}

/* Fills the header of the walked stack in ws->sample; returns the bytes to send. */
static __always_inline __u64 fill_sample(struct walk_scratch *ws, const struct py_proc *cfg,
					 __u32 type, __u64 pid_tgid, __u64 ident, __u64 weight_ns)
{
	const struct walk_state *st = &ws->walk;
	__u32 n = st->n;
	__u16 flags = st->flags;

	if (n > PYFLARE_MAX_FRAMES)
		n = PYFLARE_MAX_FRAMES; /* never: the walk stops there (for the verifier) */
	ws->sample.type = type;
	ws->sample.pid = pid_tgid >> 32;
	ws->sample.tid = (__u32)pid_tgid;
	ws->sample.nr_frames = n;
	ws->sample.flags = flags;
	ws->sample.proc_id = cfg->id;
	ws->sample.time_ns = bpf_ktime_get_ns();
	ws->sample.weight_ns = weight_ns;
	ws->sample.thread_id = ident;
	ws->sample.stack = py_stack_name(st->hash, cfg->id, flags, n);
	ws->sample.task = 0;
	ws->sample.cpu = bpf_get_smp_processor_id();
	ws->sample._pad = 0;
	return __builtin_offsetof(struct py_sample, frames) + (__u64)n * sizeof(struct py_frame);
}

/* Wake the collector for new code objects or a filling buffer; else it polls. */
static __always_inline __u64 wakeup_flag(const struct walk_scratch *ws)
{
	/* a quarter of the ring, whose size userspace chooses; asked, not a read-only constant,
	 * which the verifier would fold in and then search far more states (seconds of load) */
	return ws->walk.fresh || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
					 bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4 ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

/*
 * Walks the current thread's Python stack and sends it as a sample, with the names of the
 * code objects new to this CPU: whole, or its header alone when this CPU sent the same stack
 * whole before (sent_stacks.bpf.h). @cfg is the process's entry in `procs`. Returns 0.
 */
static __always_inline int walk_and_send_sample(const struct py_proc *cfg, __u64 pid_tgid,
						enum walker walker)
{
	__u32 key = SCRATCH_SAMPLER;
	struct walk_scratch *ws = bpf_map_lookup_elem(&scratch, &key);
	__u64 size, ident = 0, *sent;

	health_inc(HEALTH_SAMPLES);
	if (!ws || !walk_current_task(cfg, pid_tgid, ws, walker, SCRATCH_SAMPLER, &ident))
		return 0;
	send_code_names(ws, SCRATCH_SAMPLER);
	size = fill_sample(ws, cfg, EVENT_SAMPLE, pid_tgid, ident, sample_weight_ns);
	ws->sample.task = running_task(cfg, pid_tgid >> 32, ws->walk.tstate);
	if (bench_stops_at(BENCH_WALK))
		return 0;
	sent = sent_stack_slot(&ws->sample);
	if (sent && *sent == ws->sample.stack) {
		ws->sample.type = EVENT_SAMPLE_AGAIN;
		size = __builtin_offsetof(struct py_sample, frames);
	}
	if (bpf_ringbuf_output(&events, &ws->sample, size, wakeup_flag(ws)))
		health_inc(HEALTH_RINGBUF_FULL);
	else if (sent)
		*sent = ws->sample.stack; /* in the ring: the collector will have its frames */
	return 0;
}

/*
 * What a clock does when it interrupts a CPU: the interrupted task is sampled if it counts
 * (--cgroup/--container) and its process is profiled; an unknown task of a selected cgroup
 * is announced. Returns 0 (the perf-event convention).
 */
static __always_inline int sample_if_profiled(enum walker walker)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	const struct py_proc *cfg;

	/* checked at every sample: a process that moves out stops counting at once */
	if (n_cgroups && !in_selected_cgroups())
		return 0;
	cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (!cfg) {
		if (n_cgroups && follow_all)
			announce(tgid);
		return 0;
	}
	return walk_and_send_sample(cfg, pid_tgid, walker);
}

#endif /* PYFLARE_SAMPLE_BPF_H */
