/* SPDX-License-Identifier: MIT */
/*
 * thread_cache.bpf.h — what stays true of a thread while it lives, kept across its samples:
 * where its PyThreadState is. A sample of a known thread then reads the thread state and
 * the frames, not the C library's thread-specific slot that points to the state (a probe,
 * or two for a key past the first TLS block, that costs as much as the state's own).
 *
 * A hash map by TID, which every kernel pyflare loads on has (5.10 too; task storage would
 * be cheaper to look up, from 5.11, in programs of their own). An entry is used only when
 * the thread state it names still says it is this thread's (read_thread_state): thread_id
 * is the thread's fs base, and _status says it is bound and not yet unbound (CPython sets
 * `unbound` before it frees a thread state, and leaves thread_id as it was). So a state
 * freed since, or a TID or TCB reused by a new thread, fails that check, is dropped, and
 * the sample finds the thread state through the slot as before. Only where _status's place
 * is known (3.13+, _Py_DebugOffsets: PROC_THREAD_CACHE) is an entry ever made.
 * The chunk of the data stack the thread is in is read with the state, in the same probe:
 * caching it would save nothing.
 */
#ifndef PYFLARE_THREAD_CACHE_BPF_H
#define PYFLARE_THREAD_CACHE_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "pyflare.h"

#define THREAD_CACHE_ENTRIES 16384 /* LRU: threads of exited processes go first */

struct thread_cache_entry {
	__u64 proc_id; /* py_proc.id: the process instance */
	__u64 fsbase;  /* the thread's fs base when the entry was made */
	__u64 tstate;  /* its PyThreadState */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, THREAD_CACHE_ENTRIES);
	__type(key, __u32); /* host TID */
	__type(value, struct thread_cache_entry);
} thread_cache SEC(".maps");

/* PyThreadState._status bits (Include/cpython/pystate.h, 3.13, 3.14): bound, unbound, finalized */
#define TSTATE_BOUND (1u << 1)
#define TSTATE_UNBOUND (1u << 2)
#define TSTATE_FINALIZED (1u << 8)

/* Whether _status value @status is that of a state bound to its thread, in use. */
static __always_inline bool tstate_status_bound(__u32 status)
{
	return (status & (TSTATE_BOUND | TSTATE_UNBOUND | TSTATE_FINALIZED)) == TSTATE_BOUND;
}

/* The thread state cached for thread @tid of process @cfg with fs base @fsbase, or 0. */
static __always_inline __u64 thread_cache_get(const struct py_proc *cfg, __u32 tid, __u64 fsbase)
{
	struct thread_cache_entry *e;

	if (!(cfg->flags & PROC_THREAD_CACHE))
		return 0;
	e = bpf_map_lookup_elem(&thread_cache, &tid);
	if (!e || e->proc_id != cfg->id || e->fsbase != fsbase)
		return 0;
	return e->tstate;
}

static __always_inline void thread_cache_put(const struct py_proc *cfg, __u32 tid, __u64 fsbase,
					     __u64 tstate)
{
	struct thread_cache_entry e = { .proc_id = cfg->id, .fsbase = fsbase, .tstate = tstate };

	if (cfg->flags & PROC_THREAD_CACHE)
		bpf_map_update_elem(&thread_cache, &tid, &e, BPF_ANY);
}

static __always_inline void thread_cache_forget(__u32 tid)
{
	bpf_map_delete_elem(&thread_cache, &tid);
}

#endif /* PYFLARE_THREAD_CACHE_BPF_H */
