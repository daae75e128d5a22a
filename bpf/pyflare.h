/* SPDX-License-Identifier: MIT */
/*
 * pyflare.h — the types shared by the BPF programs and the userspace collector.
 *
 * This header includes nothing: the BPF side gets __u32/__u64 from vendor/kernel.h,
 * the user side from <linux/types.h>. Fixed-width types only, remote addresses travel
 * as __u64, padding is explicit and the asserts at the end pin the layouts.
 */
#ifndef PYFLARE_PYFLARE_H
#define PYFLARE_PYFLARE_H

/*
 * Frames walked per stack: CPython's default recursion limit is 1000 (Py_DEFAULT_RECURSION_LIMIT),
 * so every stack a program reaches without raising the limit fits whole. A power of two: the
 * walker stores frames[n & (PYFLARE_MAX_FRAMES - 1)], a bound the verifier can see.
 */
#define PYFLARE_MAX_FRAMES 1024

/*
 * The frame walkers' limits, shared by the kernel's (bpf/py_walk.bpf.h) and dump's
 * (user/python/py_walk.c), which must judge every chain alike.
 */
/* Frames visited, counting C-stack shim frames that are skipped, not recorded. */
#define PYFLARE_WALK_STEPS_MAX (PYFLARE_MAX_FRAMES + PYFLARE_MAX_FRAMES / 2)
/* A frame's bytes read at once: every field a walker reads lies in a frame's first bytes. */
#define PYFLARE_FRAME_BYTES_MAX 128
#define PYFLARE_FP_MEMO 8      /* code-object fingerprints remembered within one walk */
#define PYFLARE_MAX_PROCS 8192 /* processes profiled at once (py_procs entries) */
/* until userspace sizes it by rate and CPUs (collector.c) */
#define PYFLARE_RINGBUF_BYTES (8u << 20)
#define PYFLARE_NO_OFFSET 0xffff /* a field this CPython version does not have */
#define PYFLARE_MAX_CGROUPS 8	 /* cgroup folders --cgroup/--container select at once */

/* Health counters: the key of the per-CPU `health` array. */
enum pyflare_health {
	HEALTH_SAMPLES = 0,	/* timer hits on a thread of a profiled process */
	HEALTH_NO_TSTATE,	/* the thread has no Python thread state (not a Python thread) */
	HEALTH_TSTATE_MISMATCH, /* the thread-state slot held someone else's state */
	HEALTH_READ_ERROR,	/* a frame could not be read: stack cut short */
	HEALTH_TRUNCATED,	/* deeper than PYFLARE_MAX_FRAMES */
	HEALTH_RINGBUF_FULL,	/* sample dropped */
	HEALTH_EVENTS_LOST,	/* process event dropped (ring buffer full) */
	HEALTH_TICKS,		/* --clock tick: scheduler ticks seen, whichever task they hit */
	HEALTH__MAX,
};

/* How a thread finds its PyThreadState through the C library's TLS. */
enum pyflare_tls {
	TLS_GLIBC = 0, /* fsbase + specific_1stblock + key * 16 + 8 */
	TLS_MUSL,      /* (*(fsbase + tsd_offset))[key] */
};

enum pyflare_proc_flags {
	PROC_CFRAME = 1 << 0,	    /* 3.11/3.12: tstate->cframe->current_frame */
	PROC_LASTI_IS_PTR = 1 << 1, /* 3.11+: the frame holds an instruction pointer */
	PROC_STACKREF = 1 << 2,	    /* 3.14+: f_executable is a tagged _PyStackRef */
	PROC_DATA_STACK = 1 << 3,   /* 3.11+: callers sit below callees in one memory block */
	PROC_TSS_KEY = 1 << 4,	    /* tss_key holds autoTSSkey's key: no need to read it */
	PROC_THREAD_CACHE = 1 << 5, /* ts_status tells a stale thread state: cache them */
	PROC_TLS_VAR = 1 << 6,	    /* 3.15+: the thread state is a C thread-local (tls_var) */
	PROC_TLBC = 1 << 7,	    /* free-threaded 3.14+: frames may run a thread's copy of
				     * the bytecode (fr_tlbc, co_tlbc) */
	PROC_CHUNK_END = 1 << 8,    /* datastack_limit, the chunk's end, is read with the
				     * thread state (TS_CHUNK_END_AFTER bytes after ts_datastack) */
};

/*
 * PyThreadState's datastack_chunk, datastack_top and datastack_limit stand in a row in
 * 3.11 to 3.15 (Include/cpython/pystate.h): the current chunk's end is 16 bytes after it.
 */
#define TS_CHUNK_END_AFTER 16

/* _PyInterpreterFrame.owner of a frame on its thread's data stack, 3.11+ (pycore_frame.h) */
#define FRAME_OWNED_BY_THREAD 0

/*
 * Everything the walker needs to know about one profiled process, written by userspace
 * (user/record/procs.c) into the `procs` hash map, keyed by host TGID.
 */
struct py_proc {
	__u64 id;		/* userspace's id of this process instance, copied to samples */
	__u64 tss_addr;		/* &_PyRuntime.autoTSSkey (Py_tss_t: int initialised, key) */
	__u64 none_addr;	/* &_Py_NoneStruct: 3.13+ C-entry frames execute None */
	__u16 tls_kind;		/* enum pyflare_tls */
	__u16 tls_offset;	/* glibc: offsetof(struct pthread, specific_1stblock); musl: tsd */
	__u16 flags;		/* enum pyflare_proc_flags */
	__u16 ts_thread_id;	/* PyThreadState.thread_id (== pthread_self() == fsbase) */
	__u16 ts_frame;		/* PyThreadState.frame / .cframe / .current_frame */
	__u16 cframe_current;	/* _PyCFrame.current_frame (PROC_CFRAME only) */
	__u16 fr_code;		/* f_code / f_executable */
	__u16 fr_back;		/* f_back / previous */
	__u16 fr_instr;		/* f_lasti (int) or prev_instr / instr_ptr */
	__u16 fr_owner;		/* owner (char) or PYFLARE_NO_OFFSET */
	__u16 fr_size;		/* bytes to read per frame: covers every field above */
	__u16 owner_skip;	/* owner values >= this are not Python frames (C stack shims) */
	__u16 co_code_adaptive; /* offsetof(PyCodeObject, co_code_adaptive) (3.11+) */
	__u16 co_fingerprint;	/* 16 bytes at this offset of a code object make its fingerprint */
	__u16 co_filename;	/* for the names the kernel copies of code objects it */
	__u16 co_name;		/* has not sent before (co_qualname where it exists) */
	__u16 str_state;	/* PyASCIIObject.state */
	__u16 str_ascii_data;	/* sizeof(PyASCIIObject): where compact ASCII text starts */
	__u16 co_firstlineno;	/* for the names the kernel copies */
	__u16 ts_datastack;	/* PyThreadState.datastack_chunk (PROC_DATA_STACK); 0: unknown */
	__u32 tss_key;		/* PROC_TSS_KEY: the key, fixed once the interpreter is up */
	__u16 ts_interp;	/* PyThreadState.interp, when code_gen is set */
	__u16 ts_status;	/* PyThreadState._status (PROC_THREAD_CACHE); 0: not read */
	/*
	 * 3.14+: &interp->_code_object_generation of the main interpreter @interp, which
	 * CPython bumps for every code object it frees. While it stands still no code object
	 * address has been reused, and the walker may take a code object's fingerprint from
	 * its cache (bpf/code_cache.bpf.h) instead of reading it. 0: no such counter.
	 */
	__u64 interp;
	__u64 code_gen;
	/*
	 * PROC_TLS_VAR (3.15+, where autoTSSkey is gone): CPython's _Py_tss_gilstate thread-local.
	 * tls_module 0: at fsbase + tls_var (the executable's static TLS, x86-64 variant II:
	 * tls_var < 0); else at tls_var bytes into the TLS block of module tls_module, which
	 * the thread's DTV (fsbase + 8) points to.
	 */
	__u32 tls_module;
	/* PROC_TLBC: _PyInterpreterFrame.tlbc_index (int32) and PyCodeObject.co_tlbc, the
	 * _PyCodeArray { Py_ssize_t size; char *entries[]; } of the code's bytecode copies */
	__u16 fr_tlbc;
	__u16 co_tlbc;
	__s64 tls_var;
};

/* Bytes of a PyThreadState the walker reads at once: its frame, thread id and data stack. */
#define TSTATE_BYTES 256

/* One frame of a stack, innermost first. */
struct py_frame {
	__u64 code;	   /* PyCodeObject address (tag bits masked) */
	__s32 lasti;	   /* f_lasti, or code units since co_code_adaptive (3.11+) */
	__u32 fingerprint; /* py_fingerprint() of the code object; 0 = not read */
};

enum pyflare_sample_flags {
	SAMPLE_TRUNCATED = 1 << 0,  /* more frames than PYFLARE_MAX_FRAMES */
	SAMPLE_READ_ERROR = 1 << 1, /* the chain could not be followed further */
};

enum pyflare_event_type {
	EVENT_SAMPLE = 1, /* struct py_sample */
	EVENT_EXEC,	  /* struct proc_event: a process called exec */
	EVENT_FORK,	  /* struct proc_event: a followed process forked */
	EVENT_EXIT,	  /* struct proc_event: a process exited */
	EVENT_CODE,	  /* struct code_event: names of a code object seen the first time */
	EVENT_FOUND,	  /* struct proc_event: an unknown process ran in a selected cgroup */
	EVENT_STACK,	  /* struct py_sample, weight 0: the frames `stack` names (wall mode) */
	EVENT_OFFCPU,	  /* struct offcpu_event: time a thread spent off CPU */
	/* struct py_sample without its frames: a sample whose stack this CPU sent whole before
	 * (bpf/sent_stacks.bpf.h); the collector keeps the frames (record/repeats.c) */
	EVENT_SAMPLE_AGAIN,
};

struct py_sample {
	__u32 type;	 /* EVENT_SAMPLE */
	__u32 pid;	 /* host TGID */
	__u32 tid;	 /* host TID */
	__u16 nr_frames; /* valid entries in frames[] */
	__u16 flags;	 /* enum pyflare_sample_flags */
	__u64 proc_id;	 /* py_proc.id at the time of the sample */
	__u64 time_ns;	 /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 weight_ns; /* time this sample stands for */
	__u64 thread_id; /* pthread_self() (== PyThreadState.thread_id): threading's ident */
	__u64 stack;	 /* hash of pid instance and frames: EVENT_STACK defines it */
	__u64 task;	 /* --async: the asyncio task the thread ran (3.14+), else 0 */
	__u32 cpu;	 /* the CPU that sent it: EVENT_SAMPLE_AGAIN names its stack by both */
	__u32 _pad;
	struct py_frame frames[PYFLARE_MAX_FRAMES];
};

/* --async (bpf/asyncio.bpf.h): where a process's threads keep the task they run. */
struct py_async_proc {
	__u64 proc_id;	       /* the py_proc.id this is for: an exec makes another */
	__u64 ts_running_task; /* _PyThreadStateImpl.asyncio_running_task (3.14+) */
};

struct proc_event {
	__u32 type;   /* EVENT_EXEC / EVENT_FORK / EVENT_EXIT / EVENT_FOUND */
	__u32 pid;    /* host TGID of the process concerned */
	__u32 parent; /* EVENT_FORK: the parent's TGID */
	__u32 _pad;
	__u64 time_ns; /* bpf_ktime_get_ns() when it happened */
};

/*
 * What a thread went off CPU with (wall mode): its stack, sent once as an EVENT_STACK, and
 * the system call it was in. Also the key under which the kernel adds up short waits.
 */
struct offcpu_wait {
	__u64 proc_id;
	__u64 stack;   /* py_sample.stack of the EVENT_STACK */
	__u64 arg0;    /* the system call's first argument: a futex's address */
	__u32 pid;     /* host TGID */
	__u32 tid;     /* host TID */
	__s32 syscall; /* x86-64 system call number; -1: none (a fault, preemption) */
	__u32 state;   /* task state at switch-out: 0 = preempted, still runnable */
	char comm[16]; /* the thread's name then: it may be gone when this is read */
	__u64 ident;   /* pthread_self(), as py_sample.thread_id */
};

/* A profiled thread off CPU now (the value of `offcpu_threads`, by TID): its wait, since when. */
struct offcpu_started {
	struct offcpu_wait wait;
	__u64 start_ns; /* bpf_ktime_get_ns() at its switch-out, or when userspace found it waiting */
};

/* Waits added up: a thread off CPU @count times with one offcpu_wait, @total_ns in all. */
struct offcpu_sum {
	__u64 first_ns; /* bpf_ktime_get_ns() when the first began */
	__u64 total_ns;
	__u64 count;
};

/* Waits of at least --min-block go to userspace one by one; shorter ones are summed. */
struct offcpu_event {
	__u32 type; /* EVENT_OFFCPU */
	__u32 _pad;
	struct offcpu_sum sum;
	struct offcpu_wait wait;
};

#define CODE_NAME_LEN 96
#define CODE_FILE_LEN 160
/* names a sample sends at most: a new process's first samples meet up to ~30 (imports nest
 * 5 frames deep each), and one that lives a few ms has few samples to send them in */
#define CODE_EVENTS_PER_SAMPLE 16

/*
 * The names of a code object, copied by the kernel when it first meets the object. The
 * collector reads code objects itself, with their line tables; this copy is what it
 * falls back on when the object is already gone (an imported module's body is freed as
 * soon as it has run). Only compact ASCII names are copied; others arrive empty.
 */
struct code_event {
	__u32 type; /* EVENT_CODE */
	__u32 pid;
	__u64 proc_id;
	__u64 code;
	__u32 fingerprint;
	__s32 first_line;
	char name[CODE_NAME_LEN];
	char file[CODE_FILE_LEN];
};

/* Folds 16 bytes of a code object's header into a tag that changes when the object does. */
static inline __u32 py_fingerprint(__u64 a, __u64 b)
{
	__u64 x = a * 0x9e3779b97f4a7c15ULL ^ b;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (__u32)x | 1; /* never 0: 0 means "not read" */
}

/*
 * Whether a frame chain loops: called with every frame a walk visits (shims too) before it
 * is read, @visits the frames visited before it, *@mark 0 at the start. A chain that comes
 * back to a frame it visited is corrupt (or was read while it changed), and both walkers
 * end it with SAMPLE_READ_ERROR, as a frame that cannot be read. A walker cannot afford a
 * set of the frames met (the kernel's has no room for one), so this is Brent's cycle
 * detection: the frame at visit 0, 1, 3, 7, 15... is kept, and meeting it again is a loop.
 * Any loop is seen within about twice its start plus its length in visits: a loop that
 * starts too deep to be seen within the walk's limits ends the walk as SAMPLE_TRUNCATED.
 */
static inline int py_chain_loops(__u64 *mark, __u32 visits, __u64 frame)
{
	if (frame == *mark)
		return 1;
	if (!(visits & (visits + 1))) /* visits + 1 is a power of two */
		*mark = frame;
	return 0;
}

/*
 * The name of a stack, built as the walker goes, innermost frame first: the kernel's walker
 * and userspace's (a thread found waiting at attach) name a stack alike. The fingerprint is
 * in it: a code object made where a freed one was is another stack, never sent as the old.
 */
static inline __u64 py_stack_hash_frame(__u64 h, __u64 code, __s32 lasti, __u32 fingerprint)
{
	h = (h ^ code) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ ((__u64)fingerprint << 32 | (__u32)lasti)) * 0xbf58476d1ce4e5b9ULL;
	/* a product carries bits up only: folded down, two frames' differences in their top
	 * bits (a fingerprint's bit 31) cannot cancel; a short record trusts this name */
	return h ^ (h >> 31);
}

/* The frames' hash @h made the stack's name: of process instance @proc_id, with its flags. */
static inline __u64 py_stack_name(__u64 h, __u64 proc_id, __u64 flags, __u64 n)
{
	return h ^ proc_id ^ ((__u64)flags << 48) ^ n;
}

/*
 * Each CPU remembers the stacks it sent whole in STACKS_SENT_SLOTS slots, one a name
 * (its low bits choose it), and sends a stack of its slot's name again as its header alone,
 * EVENT_SAMPLE_AGAIN: 72 bytes instead of 72 + 16 a frame. The collector keeps a copy of
 * what each slot names, and must keep exactly the stacks the kernel does: both ask this.
 */
#define STACKS_SENT_SLOTS 256
#define STACK_SENT_FRAMES_MAX 256 /* deeper stacks always go whole: the collector's copy */

static inline __u32 py_stack_sent_slot(__u64 name)
{
	return (__u32)name & (STACKS_SENT_SLOTS - 1);
}

/* Whether a sample of @n frames named @name is remembered once sent (0: never). */
static inline int py_stack_rememberable(__u64 name, __u32 n)
{
	return name && n && n <= STACK_SENT_FRAMES_MAX;
}

_Static_assert(sizeof(struct py_proc) == 104, "py_proc layout changed");
_Static_assert(sizeof(struct code_event) == 288, "code_event layout changed");
_Static_assert(sizeof(struct py_frame) == 16, "py_frame layout changed");
_Static_assert(sizeof(struct offcpu_event) == 96, "offcpu_event layout changed");
_Static_assert(sizeof(struct offcpu_started) == 72, "offcpu_started layout changed");
_Static_assert(__builtin_offsetof(struct py_sample, frames) == 72, "py_sample layout changed");

#endif /* PYFLARE_PYFLARE_H */
