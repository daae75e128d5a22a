/* SPDX-License-Identifier: MIT */
/*
 * maps.bpf.h — the maps shared by the sampler, the process-event programs and the tests.
 */
#ifndef PYFLARE_MAPS_BPF_H
#define PYFLARE_MAPS_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>

#include "pyflare.h"

/* Per-process CPython layout, keyed by host TGID. Userspace fills it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PYFLARE_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct py_proc);
} procs SEC(".maps");

/* Processes whose forks and execs userspace wants to hear about, keyed by host TGID. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PYFLARE_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} watched SEC(".maps");

/* The cgroup v2 folders --cgroup/--container select: userspace puts their fds in. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, PYFLARE_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

/*
 * Processes of the selected cgroups that userspace has heard of (EVENT_FOUND), once per
 * program image: exec and exit take them out again. LRU: it can never fill up.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PYFLARE_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} announced SEC(".maps");

/* Samples and process events, in the order they happened. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PYFLARE_RINGBUF_BYTES);
} events SEC(".maps");

/* enum pyflare_health counters; per CPU, so no atomics in the sampling path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HEALTH__MAX);
	__type(key, __u32);
	__type(value, __u64);
} health SEC(".maps");

#define SEEN_CODES_LOG2 12		  /* 32 KiB: the most a per-CPU value may be */
#define SEEN_CODES (1 << SEEN_CODES_LOG2) /* per-CPU cache of code objects already sent */

/* A stack is far larger than the 512-byte BPF stack: build it here, then copy it out. */
#define WINDOW_BYTES 8192 /* data-stack bytes read at once (3.11+): many frames per probe */

/*
 * What a walk changes from frame to frame. It lives in map memory, never on the BPF stack:
 * the verifier tracks the stack's contents, so loop-varying values there make every loop
 * iteration a new state to explore (the walker then failed to load on Linux 6.18.44 and
 * 6.19+ at the verifier's 1M-instruction limit); map contents it does not track.
 */
struct walk_state {
	__u64 frame;	 /* next frame to visit; 0 = done */
	__u64 stack_lo;	 /* where the data stack's current chunk begins; 0: unknown */
	__u64 stack_hi;	 /* where it ends (datastack_limit); 0: unknown */
	__u64 window_lo; /* address of window[0]; window_len 0: empty */
	__u64 hash;	 /* of the frames recorded so far: names a stack (off-CPU) */
	__u64 loop_mark; /* py_chain_loops()'s frame kept */
	__u64 tstate;	 /* the thread state walked (--async reads its running task) */
	__u64 code_gen;	 /* the process's code-object generation (code_cache.bpf.h) */
	/* Fingerprints already read in this sample: a code object cannot be freed while it
	 * runs, so one read serves all its frames (recursion, repeated layers). */
	__u64 fp_code[PYFLARE_FP_MEMO];
	__u32 fp_value[PYFLARE_FP_MEMO];
	/* Code objects not in `seen`, with their fingerprints: names to send after the walk. */
	__u64 new_code[CODE_EVENTS_PER_SAMPLE];
	__u32 new_fingerprint[CODE_EVENTS_PER_SAMPLE];
	__u32 n;      /* frames recorded */
	__u32 visits; /* frames visited, shims too */
	__u32 window_len;
	__u32 window_next; /* bytes the next window read asks for: grows as the stack does */
	__u32 pid;
	__u16 flags;	    /* enum pyflare_sample_flags */
	__u8 fresh;	    /* a code object not in `seen`: wake the collector */
	__u8 n_new;	    /* entries of new_code */
	__u8 code_gen_read; /* code_gen holds this sample's: the code cache serves the walk */
};

/* new_code is indexed by a mask, which the verifier needs to see the index bounded */
_Static_assert(!(CODE_EVENTS_PER_SAMPLE & (CODE_EVENTS_PER_SAMPLE - 1)),
	       "CODE_EVENTS_PER_SAMPLE must be a power of 2");

struct walk_scratch {
	struct py_sample sample;
	struct walk_state walk;
	struct py_proc proc;		    /* the process's layout, for the global functions */
	unsigned char tstate[TSTATE_BYTES]; /* the thread state's fields, read in a single probe */
	unsigned char frame[PYFLARE_FRAME_BYTES_MAX]; /* one frame, read in a single probe */
	unsigned char window[WINDOW_BYTES];	      /* a run of a thread's data stack */
};

/*
 * One scratch area for the samplers and one for the switch handler: a timer interrupt can
 * land while the switch handler walks on the same CPU, and must not overwrite its walk.
 */
enum scratch_user { SCRATCH_SAMPLER, SCRATCH_SWITCH, SCRATCH_USERS };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_USERS);
	__type(key, __u32);
	__type(value, struct walk_scratch);
} scratch SEC(".maps");

/*
 * Code objects this CPU has sent recently. A sample with a code object not in here
 * wakes the collector at once, so it reads the object while it still exists (the body
 * of an imported module is freed right after it runs), and carries a copy of its names
 * in case it is gone all the same; other samples wait for the collector's next poll,
 * which costs the sampled CPU nothing.
 */
struct seen_codes {
	__u64 code[SEEN_CODES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seen_codes);
} seen SEC(".maps");

static __always_inline void health_inc(__u32 counter)
{
	__u64 *n = bpf_map_lookup_elem(&health, &counter);

	if (n)
		(*n)++;
}

#endif /* PYFLARE_MAPS_BPF_H */
