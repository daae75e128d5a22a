/* SPDX-License-Identifier: MIT */
/*
 * sample.bpf.h — what every sampling clock does when it interrupts a CPU (the perf timer's
 * on_timer, the scheduler tick's on_tick, and the walker's tests): sample the interrupted
 * thread if its process is profiled, and tell userspace about unknown tasks of a selected
 * cgroup.
 */
#ifndef PYFLARE_SAMPLE_BPF_H
#define PYFLARE_SAMPLE_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"
#include "py_walk.bpf.h"
#include "pyflare.h"
#include "select.bpf.h"

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

/* The interrupted (current) task: sampled if selected and profiled. Returns 0. */
static __always_inline int sample_running_task(enum walker walker)
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
	return sample_current_task(cfg, pid_tgid, walker);
}

#endif /* PYFLARE_SAMPLE_BPF_H */
