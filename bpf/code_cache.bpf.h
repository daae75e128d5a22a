/* SPDX-License-Identifier: MIT */
/*
 * code_cache.bpf.h — code objects' fingerprints kept across samples, per CPU: a sample reads
 * the header of a code object this CPU has met before only when the object may have changed.
 *
 * A fingerprint tells a code object from another one later made at its address (pyflare.h,
 * py_fingerprint). Reading it costs a probe (~100 ns) per distinct code object per sample,
 * most of what a stack of distinct functions costs. Remembering it by address alone would
 * name a new object after a freed one, so an entry also holds the process's code-object
 * generation when it was read: CPython 3.14+ counts every code object it frees
 * (interp->_code_object_generation, struct py_proc's code_gen). While the count has not
 * moved, nothing was freed, so the object at that address is still the one read. The walker
 * reads the count once per sample, before any frame: a code object its thread runs cannot
 * be freed while the thread is stopped in the interrupt. Older versions have no such count
 * and read every fingerprint (code_gen 0).
 *
 * One cache per scratch user (enum scratch_user): a sample may interrupt the switch handler
 * on its CPU, and must not leave an entry half written under it.
 */
#ifndef PYFLARE_CODE_CACHE_BPF_H
#define PYFLARE_CODE_CACHE_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"

#define CODE_CACHE_LOG2 10 /* 32 KiB a CPU and user: the most a per-CPU value may be */
#define CODE_CACHE_SLOTS (1 << CODE_CACHE_LOG2)

struct code_cache_entry {
	__u64 code;    /* the code object's address; 0: empty */
	__u64 proc_id; /* py_proc.id: the process instance */
	__u64 gen;     /* its code-object generation when the fingerprint was read */
	__u32 fingerprint;
	__u32 _pad;
};

struct code_cache {
	struct code_cache_entry slot[CODE_CACHE_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_USERS);
	__type(key, __u32);
	__type(value, struct code_cache);
} code_cache SEC(".maps");

/*
 * The set of two slots that may hold @code of @proc_id: two ways, so that two objects whose
 * hash meets do not push each other out at each sample (with one way, 2-6 of 128 distinct
 * functions were read again at every sample).
 */
static __always_inline __u32 code_cache_set(__u64 code, __u64 proc_id)
{
	__u64 h = ((code >> 4) ^ (proc_id * 0x9e3779b1)) * 0x9e3779b97f4a7c15ULL;

	return (h >> (64 - CODE_CACHE_LOG2)) & (CODE_CACHE_SLOTS - 2);
}

static __always_inline bool code_cache_holds(const struct code_cache_entry *e, __u64 code,
					     __u64 proc_id)
{
	return e->code == code && e->proc_id == proc_id;
}

/* The fingerprint of @code read at generation @gen of process @proc_id, or 0. */
static __always_inline __u32 code_cache_get(struct code_cache *c, __u64 code, __u64 proc_id,
					    __u64 gen)
{
	__u32 set = code_cache_set(code, proc_id);

	if (code_cache_holds(&c->slot[set], code, proc_id) && c->slot[set].gen == gen)
		return c->slot[set].fingerprint;
	if (code_cache_holds(&c->slot[set + 1], code, proc_id) && c->slot[set + 1].gen == gen)
		return c->slot[set + 1].fingerprint;
	return 0;
}

/* Keeps @fingerprint: in @code's own slot of the set if it has one, else in place of the
 * older of the two. */
static __always_inline void code_cache_put(struct code_cache *c, __u64 code, __u64 proc_id,
					   __u64 gen, __u32 fingerprint)
{
	__u32 set = code_cache_set(code, proc_id);
	struct code_cache_entry *e = &c->slot[set];

	if (!code_cache_holds(e, code, proc_id)) {
		if (code_cache_holds(&c->slot[set + 1], code, proc_id))
			e = &c->slot[set + 1];
		else
			c->slot[set + 1] = *e;
	}
	e->code = code;
	e->proc_id = proc_id;
	e->gen = gen;
	e->fingerprint = fingerprint;
}

#endif /* PYFLARE_CODE_CACHE_BPF_H */
