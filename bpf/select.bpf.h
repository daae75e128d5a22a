/* SPDX-License-Identifier: MIT */
/*
 * select.bpf.h — which tasks count: -a's exec reports and the --cgroup/--container check,
 * and the process events every program sends.
 */
#ifndef PYFLARE_SELECT_BPF_H
#define PYFLARE_SELECT_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"
#include "pyflare.h"

/* -a: report every exec, so new Python processes are found at once. */
const volatile bool follow_all = false;
/* --cgroup/--container: only tasks in the first n_cgroups entries of `cgroups` count. */
const volatile __u32 n_cgroups = 0;

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
	bpf_ringbuf_submit(e, 0);
}

/* Whether the current task is in a selected cgroup or below one (always, with none). */
static __always_inline bool in_selected_cgroups(void)
{
	if (!n_cgroups)
		return true;
	for (__u32 i = 0; i < PYFLARE_MAX_CGROUPS && i < n_cgroups; i++)
		if (bpf_current_task_under_cgroup(&cgroups, i) == 1)
			return true;
	return false;
}

#endif /* PYFLARE_SELECT_BPF_H */
