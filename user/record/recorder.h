/* SPDX-License-Identifier: MIT */
/*
 * recorder.h — the recorder's own header: the collector's state and the functions its files
 * share, as bpftool's commands share main.h. Not for cli/ or top/: their API is collector.h.
 *
 *   collector.c   the loop, the BPF lifecycle, the session's metadata, collector.h's API
 *   procs.c       process tracking: attach, pending, exec/fork/exit, TLS slots to find
 *   threads.c     thread naming
 *   events.c      the ring buffer's events into the session
 *   offcpu.c      wall mode: waits off CPU, short waits drained, waits still going on, GILs
 *   waiting.c     wall mode: the threads already waiting when a process is attached
 *   clock.c       the sampling clocks: perf timers per CPU, or the scheduler tick
 *   tables.c      the size of what the collector keeps, under -v
 *   rebase.c      the agent's live session moved into a smaller one at each slice
 *
 * Errors: 0 or -errno, NULL with errno set, after the one message where the context is;
 * collector_record_live() alone turns a failure into an exit status (exit_status()).
 */
#ifndef PYFLARE_RECORDER_H
#define PYFLARE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <linux/types.h>

#include "pyflare.h"
#include "python/py_target.h"
#include "record/cgroup_select.h"
#include "lib/clock.h"
#include "record/collector.h"
#include "record/record_opts.h"
#include "session/session.h"

struct binary_cache;
struct bpf_link;
struct bpf_program;
struct keymap;
struct launch;
struct py_asyncio;
struct py_thread_names;
struct pyflare_bpf;
struct ring_buffer;
struct symbolizer;

struct sampled_thread;

/*
 * One process instance. A PID that execs or is reused gets a new one. Freed when it exits or
 * execs (untrack()), with its threads and caches: the session keeps what was read of them.
 */
struct tracked {
	uint64_t id; /* what the kernel's samples name it by (struct py_proc), never reused */
	struct py_target target;
	uint32_t session_proc; /* index in the session's process table */
	bool alive;
	bool explicit;			  /* named with -p: its exit ends the recording */
	uint64_t analysed_ns;		  /* when its analysis began: later execs make it stale */
	uint64_t tls_deadline;		  /* keep looking for the TLS slot until then */
	struct py_thread_names *py_names; /* threading's names, once wanted */
	uint64_t py_names_ms;		  /* when they were read (the samples' clock) */
	struct py_asyncio *asyncio;	  /* --async: its task layout, once asyncio is imported */
	uint64_t asyncio_retry_ns;	  /* --async: when to look for it again */
	uint32_t asyncio_tries;		  /* --async: how many times it was looked for */
	uint64_t asyncio_scan_ns;	  /* --async, wall mode: its tasks' last reading */
	uint64_t forked_from; /* the instance it was forked from (its code objects'), or 0 */
	struct sampled_thread *threads; /* its sampled threads, freed with it */
	/* (stack_key(), 0, 0) -> its session stack node: a stack sampled again is not
	 * symbolized again (events.c); NULL until its first sample */
	struct keymap *stacks;
};

/* A thread that was sampled, and how it is named. */
struct sampled_thread {
	struct sampled_thread *next; /* of the same process instance */
	uint64_t proc_id;	     /* its process instance */
	uint64_t ident;		     /* pthread_self(): threading's key for it */
	uint64_t first_ms;	     /* its first sample (the samples' clock) */
	uint64_t named_ms;	     /* when its name was last read */
	uint32_t name_every_ms;	     /* how long after named_ms it is read again */
	uint32_t tid;
	uint32_t session_thread;
	bool python_name; /* it bears threading's name */
};

struct pending {
	pid_t pid;
	uint64_t start_time; /* which process of that PID: another one is not retried */
	uint64_t next_try;
	uint64_t deadline;
};

struct collector {
	const struct record_opts *opts; /* &effective */
	uint64_t read_until_ns; /* handle_event stops reading the ring then (see POLL_BUDGET_NS) */
	uint32_t read_count;	/* events read in this turn of the loop */
	struct record_opts effective; /* the options, with the mode and clock this kernel allows */
	char kernel_notes[512];	      /* what this kernel could not do, for the session */
	struct bpf_program *sampler;  /* the clock's program, of the walker that loaded */
	uint64_t tick_handler;	      /* --clock tick: the kernel's tick handler */
	struct session *s;
	struct pyflare_bpf *skel;
	struct ring_buffer *rb;
	struct symbolizer *sym;
	struct binary_cache *binaries; /* interpreter files analysed so far */
	struct launch *launch;
	int *perf_fds;
	struct bpf_link **links;    /* --clock timer: one per CPU */
	struct bpf_link *tick_link; /* --clock tick */
	int ncpus;
	struct keymap *tracked; /* (id, 0, 0) -> its struct tracked *, while it runs */
	uint64_t last_id;	/* ids are never reused: a late sample of a freed one is dropped */
	struct keymap *by_pid;	/* (pid, 0, 0) -> id of its live instance */
	/*
	 * (pid, start time, 0) -> its session process + 1: one per process instance, however
	 * many times it is attached (each image it execs, or an image analysed mid-exec);
	 * (pid, start time, 1) -> 1 once it was refused;
	 * (pid, start time, 2) -> its main thread's session thread + 1, which the images it
	 * execs continue (one thread in the report, not one per image). Removed at its exit (or, for one
	 * refused, whose exit the kernel does not report, by sweep_exited()).
	 */
	struct keymap *instances;
	size_t n_instances;	  /* what the health line calls processes attached */
	struct keymap *threads;	  /* (id, tid, 0) -> its struct sampled_thread * */
	struct keymap *stacks;	  /* wall mode: (id, stack hash, 0) -> session stack node */
	struct repeats *repeats;  /* the stacks the kernel sends again as their header alone */
	uint64_t again;		  /* such short records, */
	uint64_t again_unmatched; /* and those with no stack kept for them (never, but counted) */
	/* --async: (id, task, 0) -> its coroutine's code, (id, task, 1) -> until when (ms, high
	 * 32 bits) its stack node (low 32) holds (async_tasks.c) */
	struct keymap *task_views;
	size_t n_task_views;
	uint64_t *ended; /* wall mode: ids gone since their stacks were last swept */
	size_t n_ended, cap_ended;
	/*
	 * Wall mode under a live view: (tid, wait start, 0) -> the part of that wait already
	 * added (collector_account_waits), | WAIT_CARRIED (offcpu.c) once the wait was seen
	 * to end.
	 */
	struct keymap *accounted;
	struct pending *pending;
	size_t n_pending, cap_pending;
	struct cgroup_selection cgroups; /* --cgroup/--container; n == 0: no such limit */
	uint64_t *tls_todo;		 /* ids of instances whose TLS slot is not confirmed yet */
	size_t n_tls_todo, cap_tls_todo;
	uint64_t start_ns;	 /* CLOCK_MONOTONIC at start, the samples' clock */
	uint64_t realtime_start; /* CLOCK_REALTIME then, ns since the epoch */
	bool usr1_hooked;	 /* SIGUSR1 goes to the hook, not warned about */
	uint64_t busy_at_start;	 /* --clock tick: the host's busy CPU time then */
	bool ticks_checked;	 /* --clock tick: check_ticks_seen() done */
	uint64_t samples, empty, explicit_alive;
	uint64_t no_access;	 /* processes skipped: their memory or files unreadable */
	uint32_t refusals_moved; /* refusals collector_rebase() left behind: still counted */
	uint64_t offcpu_waits;	 /* wall mode: waits accounted */
	uint64_t offcpu_unknown; /* wall mode: records whose stack never arrived */
	bool progress_shown;
	bool async_said; /* --async: a process whose tasks cannot be read was named */
	bool started;	 /* the clock runs: a process attached now was found during the recording */
	int err;	 /* first fatal error in the event handler */
};

/* --- procs.c: process tracking --------------------------------------------------------------- */

struct tracked *tracked_by_id(struct collector *c, uint64_t id);
/* The live instance of @pid, or NULL. */
struct tracked *tracked_by_pid(struct collector *c, pid_t pid);
/* Starts profiling @pid if it runs CPython. @explicit (-p): a failure is said and returned. */
int attach(struct collector *c, pid_t pid, bool explicit);
/* Every process on the host (or in the selected cgroups) that runs CPython. */
void attach_all(struct collector *c);
/* Calls @fn on each live process instance; @fn must not untrack any. */
void each_tracked(struct collector *c, void (*fn)(struct collector *c, struct tracked *t));
/* Frees @t and what it holds (its threads, names, asyncio layout); the caller unlists it. */
void free_tracked(struct collector *c, struct tracked *t);
/* Frees what is kept of ended processes that no exit event removed (every few seconds). */
void sweep_exited(struct collector *c);
/* Has the kernel report @pid's execs, forks and exit, and follow its children. */
void watch(struct collector *c, pid_t pid);
/*
 * Follows the descendants of @roots (-p's with --subprocesses): those to come through the
 * kernel's fork events (watch(), as for a launched command, which has none alive yet),
 * those alive now found in /proc, each watched, then attached if it runs CPython.
 * 0 or -errno.
 */
int follow_descendants(struct collector *c, const pid_t *roots, size_t n_roots);
/* An exec, fork, exit or process found in a selected cgroup. */
void on_proc_event(struct collector *c, const struct proc_event *e);
/* The processes whose libpython was not mapped yet, tried again. */
void retry_pending(struct collector *c, uint64_t now);
/* The TLS slots not confirmed yet, looked for again. */
void housekeeping(struct collector *c, uint64_t now);

/* --- threads.c: thread naming ---------------------------------------------------------------- */

/* The session thread of (@t, @tid) at @time_ns, named or renamed now: its index or -errno. */
int64_t thread_of(struct collector *c, uint64_t id, struct tracked *t, uint32_t tid, uint64_t ident,
		  uint64_t time_ns);
/* Wall mode: a thread's kernel name as it left the CPU, unless it has threading's. */
void name_at_switch(struct collector *c, uint64_t id, uint32_t tid, uint32_t thread,
		    const char *comm, size_t len);
/* At the end: the last names of the sampled threads of live processes. */
void refresh_thread_names(struct collector *c);
/* Frees the sampled threads of @t (it ended), and their entries in c->threads. */
void forget_threads(struct collector *c, struct tracked *t);

/* --- events.c: the ring buffer's events ------------------------------------------------------ */

/* The ring buffer's callback (@ctx: the collector). Failures go to c->err. */
int handle_event(void *ctx, void *data, size_t size);
/* Wall mode: the frames of @smp (of @t), named in c->stacks by its hash. 0 or -ENOMEM. */
int remember_stack(struct collector *c, struct tracked *t, const struct py_sample *smp);
/* A frame of its own for a marker ("<truncated>", a wait's reason): its index, or -1 (ENOMEM). */
int64_t marker_frame(struct collector *c, enum frame_kind kind, const char *name);

/* --- offcpu.c: wall mode --------------------------------------------------------------------- */

/* A wait that ended, as a sample: 0 or -errno. */
int on_offcpu(struct collector *c, const struct offcpu_wait *wait, const struct offcpu_sum *sum);
/* The short waits the kernel added up since the last drain: 0 or -errno. */
int drain_short_waits(struct collector *c);
/* At the end: threads still off CPU waited until @end_ns: 0 or -errno. */
int flush_waiting_threads(struct collector *c, uint64_t end_ns);
/* The GILs of interpreters that had not allocated theirs yet (3.12+). */
void find_gils(struct collector *c);

/* --- waiting.c: wall mode, waits under way at attach ------------------------------------------ */

/*
 * Wall mode: the threads of @t (instance @id, in `procs` already) that are off CPU now,
 * each entered in `offcpu_threads` as waiting since @since_ns with its stack, unless the
 * kernel has an entry of its own for it. Returns how many, or -ENOMEM.
 */
int enter_waiting_threads(struct collector *c, struct tracked *t, uint64_t id, uint64_t since_ns);

/* --- async_tasks.c: --async, samples by asyncio task ---------------------------------------- */
/* Looks for the asyncio offsets of the processes that have none yet (entered in the kernel). */
void async_find(struct collector *c, uint64_t now);
/* Forgets @t's asyncio state (it exited or exec'd). */
void async_forget(struct collector *c, struct tracked *t);
/*
 * The stack node of sample @smp under its asyncio task and the tasks awaiting it, the event
 * loop's frames cut; 0 when the sample ran no task that can be read; -ENOMEM.
 */
int64_t async_sample_stack(struct collector *c, struct tracked *t, const struct py_sample *smp);
/* Wall mode: the time since the last call charged to each suspended task: 0 or -errno. */
int async_charge_waits(struct collector *c, uint64_t now);
/* --- clock.c: the sampling clocks ------------------------------------------------------------ */

/* --clock tick: the address of the tick's hrtimer function, or 0 after saying why not. */
uint64_t find_tick(struct collector *c);
/* Starts the sampling clock on every online CPU: 0 or -errno. */
int start_clock(struct collector *c);
void stop_clock(struct collector *c);
/* --clock tick, a second in: warns if no tick was seen while the host was busy. */
void check_ticks_seen(struct collector *c, uint64_t now);

/* --- tables.c: sizes -------------------------------------------------------------------------- */

/* Under -v: one line with the size of every table the collector keeps ("tables: ..."). */
void log_tables(struct collector *c);

/* --- collector.c ----------------------------------------------------------------------------- */

/* A BPF health counter (HEALTH_*), summed over the CPUs; 0 if it cannot be read. */
uint64_t health_counter(struct collector *c, __u32 key);

#endif /* PYFLARE_RECORDER_H */
