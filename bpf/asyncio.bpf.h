/* SPDX-License-Identifier: MIT */
/*
 * asyncio.bpf.h — --async: the asyncio task a sampled thread runs, read with its stack.
 *
 * CPython 3.14+ keeps the task being stepped in its thread state (_PyThreadStateImpl
 * asyncio_running_task, set by the _asyncio module around each step); userspace finds that
 * field in the module's _AsyncioDebug offsets and enters it in `async_procs` once the
 * process has imported asyncio. Read here, at the sample, the task is the one that ran; read
 * by userspace when it handles the sample (up to a poll later), it could be the next one.
 * The names and the awaiting chain are read by userspace (user/python/py_asyncio.c).
 */
#ifndef PYFLARE_ASYNCIO_BPF_H
#define PYFLARE_ASYNCIO_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "config.bpf.h"
#include "py_walk.bpf.h"
#include "pyflare.h"

/* --async: per host TGID, where its threads keep their running task. Userspace fills it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PYFLARE_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct py_async_proc);
} async_procs SEC(".maps");

/* The task thread state @tstate of process instance @cfg runs, or 0 (none, or not --async). */
static __always_inline __u64 running_task(const struct py_proc *cfg, __u32 tgid, __u64 tstate)
{
	const struct py_async_proc *a;
	int err = 0;
	__u64 task;

	if (!async_tasks || !tstate)
		return 0;
	a = bpf_map_lookup_elem(&async_procs, &tgid);
	/* an entry left from the image before an exec names another instance */
	if (!a || a->proc_id != cfg->id || !a->ts_running_task)
		return 0;
	task = read_user_u64(tstate + a->ts_running_task, &err);
	return err ? 0 : task;
}

#endif /* PYFLARE_ASYNCIO_BPF_H */
