/* SPDX-License-Identifier: MIT */
/*
 * select.bpf.h — which tasks count: the --cgroup/--container check.
 */
#ifndef PYFLARE_SELECT_BPF_H
#define PYFLARE_SELECT_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "config.bpf.h"
#include "maps.bpf.h"
#include "pyflare.h"

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
