/* SPDX-License-Identifier: MIT */
/*
 * collector.c — the recording loop: BPF lifecycle, the sampling clock (perf timers or the
 * scheduler tick), process tracking, and the ring-buffer consumer that symbolizes stacks
 * into the session.
 */
#include "record/collector.h"

#include <errno.h>
#include <dirent.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "record/cgroup_select.h"
#include "record/bench_hooks.h"
#include "record/bpf_load.h"
#include "python/binary_cache.h"
#include "lib/keymap.h"
#include "record/launch.h"
#include "lib/log.h"
#include "record/proc_filter.h"
#include "host/proc_info.h"
#include "python/py_target.h"
#include "python/py_thread_names.h"
#include "pyflare.h"
#include "pyflare.skel.h"
#include "python/symbolize.h"
#include "record/tick_clock.h"
#include "host/wait_reason.h"

#define RINGBUF_MIN_BYTES (1u << 20)
#define RINGBUF_MAX_BYTES (64u << 20)
#define POLL_MS 10		/* the sampler does not wake us: we look this often (1 ms while a
				 * process waits for its libpython: see retry_pending()) */
#define HOUSEKEEPING_NS 50000000ULL	/* TLS and GIL checks: every 50 ms */
#define PENDING_TIMEOUT_NS 3000000000ULL	/* wait this long for libpython to be mapped */
#define PENDING_RETRY_NS 5000000ULL	/* the loader maps it within ms: a short process has no more */
#define TLS_CHECK_TIMEOUT_NS 10000000000ULL	/* give up finding a thread's TLS slot */
#define STOP_GRACE_NS 2000000000ULL	/* after Ctrl-C, let the command finish this long */
#define PROGRESS_NS 250000000ULL
/* A sampled thread's name (and threading's) is read again every THREAD_NAME_MS in its first
 * THREAD_YOUNG_MS, every THREAD_NAME_OLD_MS after: threads are mostly named as they start,
 * and a read costs ~150 us of the collector's time. */
#define THREAD_NAME_MS 100
#define THREAD_YOUNG_MS 2000
#define THREAD_NAME_OLD_MS 1000
#define DRAIN_NS 200000000ULL		/* wall mode: read the kernel's short-wait sums */
#define WAIT_CARRIED (1ULL << 63)	/* an accounted wait that ended: its record is due */
#define TASK_DEAD_STATE 0x80		/* the kernel's TASK_DEAD: a thread's last switch */
#define TICK_CHECK_NS 1000000000ULL	/* --clock tick: ticks must have been seen by then, */
#define TICK_CHECK_BUSY_NS 500000000ULL	/* if the host was busy this long meanwhile */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* One process instance. A PID that execs or is reused gets a new one. */
struct tracked {
	struct py_target target;
	uint32_t session_proc;	/* index in the session's process table */
	bool alive;
	bool explicit;		/* named with -p: its exit ends the recording */
	uint64_t analysed_ns;	/* when its analysis began: later execs make it stale */
	uint64_t tls_deadline;	/* keep looking for the TLS slot until then */
	struct py_thread_names *py_names;	/* threading's names, once wanted */
	uint64_t py_names_ms;	/* when they were read (the samples' clock) */
};

/* A thread that was sampled, and how it is named. */
struct sampled_thread {
	uint64_t proc_id;	/* its process instance */
	uint64_t ident;		/* pthread_self(): threading's key for it */
	uint64_t named_ms;	/* when its name was last read (the samples' clock) */
	uint64_t first_ms;	/* its first sample (the samples' clock) */
	uint32_t tid;
	uint32_t session_thread;
	bool python_name;	/* it bears threading's name */
};

struct pending {
	pid_t pid;
	uint64_t start_time;	/* which process of that PID: another one is not retried */
	uint64_t next_try;
	uint64_t deadline;
};

struct collector {
	const struct record_opts *opts;	/* &effective */
	struct record_opts effective;	/* the options, with the mode and clock this kernel allows */
	char kernel_notes[512];		/* what this kernel could not do, for the session */
	struct bpf_program *sampler;	/* the clock's program, of the walker that loaded */
	uint64_t tick_handler;		/* --clock tick: the kernel's tick handler */
	struct session *s;
	struct pyflare_bpf *skel;
	struct ring_buffer *rb;
	struct symbolizer *sym;
	struct binary_cache *binaries;	/* interpreter files analysed so far */
	struct launch *launch;
	int *perf_fds;
	struct bpf_link **links;	/* --clock timer: one per CPU */
	struct bpf_link *tick_link;	/* --clock tick */
	int ncpus;
	struct tracked *tracked;	/* index = id - 1 */
	size_t n_tracked, cap_tracked;
	struct keymap *by_pid;		/* (pid, 0, 0) -> id of its live instance */
	struct keymap *threads;		/* (id, tid, 0) -> index into sampled */
	struct sampled_thread *sampled;
	size_t n_sampled, cap_sampled;
	struct keymap *stacks;		/* wall mode: (id, stack hash, 0) -> session stack node */
	/*
	 * Wall mode under a live view: (tid, wait start, 0) -> the part of that wait already
	 * added (collector_account_waits), | WAIT_CARRIED once the wait was seen to end.
	 */
	struct keymap *accounted;
	struct pending *pending;
	size_t n_pending, cap_pending;
	struct cgroup_selection cgroups; /* --cgroup/--container; n == 0: no such limit */
	uint64_t *tls_todo;		/* ids of instances whose TLS slot is not confirmed yet */
	size_t n_tls_todo, cap_tls_todo;
	uint64_t start_ns;		/* CLOCK_MONOTONIC at start, the samples' clock */
	enum bench_stage bench_stage;	/* BENCH_FULL but under make bench */
	uint64_t busy_at_start;		/* --clock tick: the host's busy CPU time then */
	bool ticks_checked;		/* --clock tick: check_ticks_seen() done */
	uint64_t samples, empty, explicit_alive;
	uint64_t no_access;		/* processes skipped: their memory or files unreadable */
	uint64_t offcpu_waits;		/* wall mode: waits accounted */
	uint64_t offcpu_unknown;	/* wall mode: records whose stack never arrived */
	bool progress_shown;
	int err;			/* first fatal error in the event handler */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct tracked *tracked_by_id(struct collector *c, uint64_t id)
{
	return id >= 1 && id <= c->n_tracked ? &c->tracked[id - 1] : NULL;
}

static struct tracked *tracked_by_pid(struct collector *c, pid_t pid)
{
	struct keymap_key key = { (uint64_t)pid, 0, 0 };
	uint64_t id;

	return keymap__get(c->by_pid, &key, &id) ? tracked_by_id(c, id) : NULL;
}

static void add_pending(struct collector *c, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending[i].pid == pid)
			return;
	if (c->n_pending == c->cap_pending) {
		size_t cap = c->cap_pending ? c->cap_pending * 2 : 16;
		struct pending *p = realloc(c->pending, cap * sizeof(*p));

		if (!p)
			return;
		c->pending = p;
		c->cap_pending = cap;
	}
	c->pending[c->n_pending++] = (struct pending){
		.pid = pid,
		.start_time = start_time,
		.next_try = now_ns() + PENDING_RETRY_NS,
		.deadline = now_ns() + PENDING_TIMEOUT_NS,
	};
}

/* Instance @id's TLS slot is still to be found (housekeeping); forgotten if out of memory. */
static void remember_tls_todo(struct collector *c, uint64_t id)
{
	if (c->n_tls_todo == c->cap_tls_todo) {
		size_t cap = c->cap_tls_todo ? c->cap_tls_todo * 2 : 16;
		uint64_t *todo = realloc(c->tls_todo, cap * sizeof(*todo));

		if (!todo)
			return;
		c->tls_todo = todo;
		c->cap_tls_todo = cap;
	}
	c->tls_todo[c->n_tls_todo++] = id;
}

static void drop_pending(struct collector *c, pid_t pid)
{
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending[i].pid == pid)
			c->pending[i--] = c->pending[--c->n_pending];
}

/* The process instance is over: its samples keep the names already read. */
static void untrack(struct collector *c, pid_t pid)
{
	struct tracked *t = tracked_by_pid(c, pid);
	struct keymap_key key = { (uint64_t)pid, 0, 0 };
	__u32 k = (__u32)pid;

	drop_pending(c, pid);
	if (!t)
		return;
	t->alive = false;
	symbolizer__forget(c->sym, (uint64_t)(t - c->tracked) + 1);
	py_thread_names__free(t->py_names);
	t->py_names = NULL;
	if (t->explicit && c->explicit_alive)
		c->explicit_alive--;
	keymap__set(c->by_pid, &key, 0);
	bpf_map__delete_elem(c->skel->maps.procs, &k, sizeof(k), 0);
}

/* @flags: BPF_ANY for a new instance, BPF_EXIST for one the kernel may have dropped since. */
static int push_proc(struct collector *c, struct tracked *t, uint64_t id, __u64 flags)
{
	struct py_proc proc;
	__u32 key = (__u32)t->target.pid;

	py_target_to_proc(&t->target, id, &proc);
	return bpf_map__update_elem(c->skel->maps.procs, &key, sizeof(key), &proc, sizeof(proc),
				    flags);
}

static void watch(struct collector *c, pid_t pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;

	bpf_map__update_elem(c->skel->maps.watched, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
}

static void unwatch(struct collector *c, pid_t pid)
{
	__u32 key = (__u32)pid;

	bpf_map__delete_elem(c->skel->maps.watched, &key, sizeof(key), 0);
}

/*
 * Whether --comm/--cmdline select @pid, read now: a process may rename itself after exec.
 * One that cannot be read is let through, for py_target_analyse() to say why.
 */
static bool selected(struct collector *c, pid_t pid, bool explicit)
{
	char comm[64], cmdline[4096];
	const char *miss;

	if (!proc_filter__active(c->opts->procs))
		return true;
	if (proc_read_comm(pid, comm, sizeof(comm)) ||
	    proc_read_cmdline(pid, cmdline, sizeof(cmdline)))
		return true;
	miss = proc_filter__mismatch(c->opts->procs, comm, cmdline);
	if (!miss)
		return true;
	if (explicit)
		pr_error("process %d (%s) does not match %s\n", pid, comm, miss);
	else
		pr_debug("process %d (%s): skipped, it does not match %s\n", pid, comm, miss);
	return false;
}

/*
 * Starts profiling @pid if it runs CPython. @explicit: the user named it, so failure is
 * reported as an error (returned), not just noted. Returns 0 or an enum pyflare_exit.
 */
static int attach(struct collector *c, pid_t pid, bool explicit)
{
	struct session_process sp;
	char cgroup[1024], container[16];
	uint32_t ns_pid = 0;
	struct tracked *t;
	struct py_target target;
	char why[256];
	enum py_target_error r;
	uint64_t id, analysed_ns = now_ns();
	int64_t idx;

	/* before the analysis, which reads the process's ELF files */
	if (!selected(c, pid, explicit))
		return explicit ? EXIT_TARGET : 0;
	r = py_target_analyse(c->binaries, pid, &target, why, sizeof(why));
	switch (r) {
	case PY_TARGET_OK:
		break;
	case PY_TARGET_NOT_YET:
		add_pending(c, pid, target.start_time);
		return 0;
	case PY_TARGET_NOT_PYTHON:
	case PY_TARGET_EXITED:
		if (explicit) {
			pr_error("process %d: %s\n", pid, r == PY_TARGET_EXITED ? "no such process" :
				 "not a Python process (no CPython runtime in its executable or "
				 "libraries)");
			return EXIT_TARGET;
		}
		return 0;
	case PY_TARGET_NO_ACCESS:
		if (explicit) {
			pr_error("process %d: %s: %s\n", pid, why, proc_access_fix());
			return EXIT_SYSTEM;
		}
		/* host-wide: a process we cannot look into may not even be Python */
		if (proc_self_has_cap(CAP_SYS_PTRACE) == 1) {
			/* another user namespace or an LSM: nothing the user can change here */
			pr_debug("process %d: %s\n", pid, why);
		} else if (!c->no_access++) {
			pr_warn("process %d: %s: without CAP_SYS_PTRACE pyflare cannot tell whether "
				"such processes run Python, and skips them\n", pid, why);
		}
		return 0;
	case PY_TARGET_UNSUPPORTED:
		if (explicit) {
			pr_error("process %d (%s): %s\n", pid, target.comm, why);
			return EXIT_TARGET;
		}
		pr_warn("not profiling process %d (%s): %s\n", pid, target.comm, why);
		session__add_refusal(c->s, (uint32_t)pid, target.comm, why);
		return 0;
	}

	if (tracked_by_pid(c, pid))
		untrack(c, pid);	/* an older image of the same PID */
	if (c->n_tracked == c->cap_tracked) {
		size_t cap = c->cap_tracked ? c->cap_tracked * 2 : 64;
		struct tracked *tr = realloc(c->tracked, cap * sizeof(*tr));

		if (!tr)
			return EXIT_TARGET;
		c->tracked = tr;
		c->cap_tracked = cap;
	}
	/* where it runs: shown, never relied on, so a failure leaves them empty */
	if (proc_read_ns_pid(pid, &ns_pid) || ns_pid == (uint32_t)pid)
		ns_pid = 0;
	if (proc_read_cgroup(pid, cgroup, sizeof(cgroup)) < 0)
		cgroup[0] = '\0';
	container_id_from_cgroup(cgroup, container, sizeof(container));
	sp = (struct session_process){
		.pid = (uint32_t)pid,
		.start_time = target.start_time,
		.comm = target.comm,
		.cmdline = target.cmdline,
		.exe = target.binary,
		.python_version = target.version,
		.lib_dirs = target.lib_dirs,
		.ns_pid = ns_pid,
		.cgroup = cgroup,
		.container = container,
	};
	idx = session__add_process(c->s, &sp);
	if (idx < 0)
		return EXIT_TARGET;
	id = c->n_tracked + 1;
	t = &c->tracked[c->n_tracked++];
	*t = (struct tracked){
		.target = target,
		.session_proc = (uint32_t)idx,
		.alive = true,
		.explicit = explicit,
		.analysed_ns = analysed_ns,
		.tls_deadline = now_ns() + TLS_CHECK_TIMEOUT_NS,
	};
	if (explicit)
		c->explicit_alive++;
	{
		struct keymap_key key = { (uint64_t)pid, 0, 0 };

		keymap__set(c->by_pid, &key, id);
	}
	py_target_check_tls(&t->target);	/* -EAGAIN before the interpreter starts */
	if (push_proc(c, t, id, BPF_ANY)) {
		pr_error("process %d: cannot add it to the BPF map: %s\n", pid, strerror(errno));
		return EXIT_SYSTEM;
	}
	watch(c, pid);
	drop_pending(c, pid);
	/*
	 * An exit before the entries above were written went unseen by the kernel side, which
	 * only cleans up after the processes it follows: clean up here. One that starts later
	 * is seen there (see proc_is_running()).
	 */
	if (!proc_is_running(pid, target.start_time)) {
		untrack(c, pid);
		unwatch(c, pid);
		pr_debug("process %d exited while being attached\n", pid);
		return 0;
	}
	if (!t->target.tls_checked)
		remember_tls_todo(c, id);
	pr_info("profiling process %d (%s), Python %s, offsets from %s\n", pid, target.comm,
		target.version, target.layout.source);
	return 0;
}

/*
 * The kernel's name of thread @tid of @t, while @t runs: once it has ended, its PID (and
 * its main thread's TID) may be another process's, whose names it must not take.
 */
static int read_kernel_thread_name(const struct tracked *t, uint32_t tid, char *buf, size_t len)
{
	uint64_t start_time;
	int err;

	if (!t->alive)
		return -ESRCH;
	err = proc_read_thread_comm(t->target.pid, (pid_t)tid, buf, len);
	/* read, then checked: a zombie still has its names, a new process its own start */
	if (!err && (proc_read_start_time(t->target.pid, &start_time) ||
		     start_time != t->target.start_time)) {
		buf[0] = '\0';
		return -ESRCH;
	}
	return err;
}

/* threading's table of @t's threads, read again when older than THREAD_NAME_MS. */
static struct py_thread_names *python_names(struct tracked *t, uint64_t ms)
{
	if (!t->alive)
		return NULL;
	if (!t->py_names) {
		t->py_names = py_thread_names__new();
		if (!t->py_names)
			return NULL;
	} else if (ms < t->py_names_ms + THREAD_NAME_MS) {
		return t->py_names;
	}
	py_thread_names__read(t->py_names, &t->target, ms * 1000000);
	t->py_names_ms = ms;
	return t->py_names;
}

/*
 * The name of @st, a thread of @t, into @name: threading's (threading.Thread.name) when it
 * can be read, else the kernel's. A thread that bore threading's name keeps it once it
 * leaves threading's table (it is ending) rather than turn into the process's name.
 * Returns 0, or -1 when there is no name to give (the thread keeps the one it has).
 */
static int read_thread_name(struct tracked *t, struct sampled_thread *st, uint64_t ms,
			    char *name, size_t len)
{
	char kernel_name[64];
	const char *py;

	/* a thread gone (an off-CPU record is read after it ends) may share its ident with a
	 * newer one: glibc reuses thread descriptors */
	if (read_kernel_thread_name(t, st->tid, kernel_name, sizeof(kernel_name)))
		return -1;
	py = py_thread_names__find(python_names(t, ms), &t->target, st->ident);
	if (py) {
		snprintf(name, len, "%s", py);
		st->python_name = true;
		return 0;
	}
	if (st->python_name)
		return -1;
	snprintf(name, len, "%s", kernel_name);
	return 0;
}

/* Renames session thread @st after what read_thread_name() finds now. */
static int rename_thread(struct collector *c, struct tracked *t, struct sampled_thread *st,
			 uint64_t ms)
{
	const struct session_thread *threads;
	char name[PY_THREAD_NAME_MAX];
	size_t count;

	st->named_ms = ms;
	if (read_thread_name(t, st, ms, name, sizeof(name)))
		return 0;
	threads = session__threads(c->s, &count);
	if (st->session_thread < count && strcmp(threads[st->session_thread].name, name) != 0 &&
	    session__set_thread_name(c->s, st->session_thread, name))
		return -1;
	return 0;
}

/*
 * The session thread of (@t, @tid) at @time_ns. A thread's name is read at its first
 * sample and again at most every THREAD_NAME_MS while it keeps being sampled: threads
 * are often named after they start (threading names OS threads from 3.14, applications
 * call prctl or set Thread.name), and the last name is the one people know them by.
 */
static int64_t thread_of(struct collector *c, uint64_t id, struct tracked *t, uint32_t tid,
			 uint64_t ident, uint64_t time_ns)
{
	struct keymap_key key = { id, tid, 0 };
	uint64_t idx, ms = time_ns / 1000000;
	struct sampled_thread *st;
	char name[PY_THREAD_NAME_MAX] = "";
	int64_t n;

	if (keymap__get(c->threads, &key, &idx) && idx < c->n_sampled) {
		st = &c->sampled[idx];
		if (st->ident != ident) {	/* another thread under a reused TID */
			st->ident = ident;
			st->python_name = false;
		} else if (ms < st->named_ms + (ms < st->first_ms + THREAD_YOUNG_MS ?
						  THREAD_NAME_MS : THREAD_NAME_OLD_MS)) {
			return st->session_thread;
		}
		return rename_thread(c, t, st, ms) ? -1 : (int64_t)st->session_thread;
	}
	if (c->n_sampled == c->cap_sampled) {
		size_t cap = c->cap_sampled ? c->cap_sampled * 2 : 64;
		struct sampled_thread *more = realloc(c->sampled, cap * sizeof(*more));

		if (!more)
			return -1;
		c->sampled = more;
		c->cap_sampled = cap;
	}
	st = &c->sampled[c->n_sampled];
	*st = (struct sampled_thread){ .proc_id = id, .ident = ident, .named_ms = ms,
				       .first_ms = ms, .tid = tid };
	read_thread_name(t, st, ms, name, sizeof(name));
	n = session__add_thread(c->s, t->session_proc, tid, name);
	if (n < 0)
		return -1;
	st->session_thread = (uint32_t)n;
	if (keymap__set(c->threads, &key, c->n_sampled))
		return -1;
	c->n_sampled++;
	return n;
}

static int64_t marker_frame(struct collector *c, enum frame_kind kind, const char *name)
{
	struct session_frame f = { .name = name, .file = "", .kind = kind };

	return session__intern_frame(c->s, &f);
}

/*
 * The session stack node of the frames of @smp (a sample or an EVENT_STACK) of process
 * instance @t, with a marker at the root when the walk was cut short. Returns the node
 * (> 0), 0 for an empty stack, or -ENOMEM.
 */
static int64_t stack_node(struct collector *c, struct tracked *t, const struct py_sample *smp)
{
	uint32_t n = smp->nr_frames;
	int64_t node = 0, frame;

	/* What is missing is at the root side: say so in the outermost frame */
	if (smp->flags & SAMPLE_TRUNCATED)
		frame = marker_frame(c, FRAME_TRUNCATED, "<truncated>");
	else if (smp->flags & SAMPLE_READ_ERROR)
		frame = marker_frame(c, FRAME_UNREADABLE, "<unreadable>");
	else
		frame = -2;
	if (frame == -1)
		return -ENOMEM;
	if (frame >= 0)
		node = session__intern_stack(c->s, 0, (uint32_t)frame);
	for (uint32_t i = n; i-- > 0 && node >= 0;) {
		frame = symbolizer__frame(c->sym, t->alive ? &t->target : NULL, smp->proc_id,
					  &smp->frames[i]);
		if (frame < 0)
			return -ENOMEM;
		node = session__intern_stack(c->s, (uint32_t)node, (uint32_t)frame);
	}
	return node < 0 ? -ENOMEM : node;
}

/* A well-formed stack event of a known process instance, or NULL. */
static struct tracked *stack_event_owner(struct collector *c, const struct py_sample *smp,
					 size_t size)
{
	uint32_t n = smp->nr_frames;

	if (size < sizeof(*smp) - sizeof(smp->frames) || n > PYFLARE_MAX_FRAMES ||
	    size < sizeof(*smp) - sizeof(smp->frames) + n * sizeof(smp->frames[0]))
		return NULL;
	return tracked_by_id(c, smp->proc_id);
}

static int on_sample(struct collector *c, const struct py_sample *smp, size_t size)
{
	struct session_sample out;
	struct tracked *t = stack_event_owner(c, smp, size);
	int64_t thread, node;

	if (!t)
		return 0;
	c->samples++;
	if (smp->nr_frames == 0 && !smp->flags) {
		c->empty++;	/* a Python thread with no Python frame yet */
		return 0;
	}
	thread = thread_of(c, smp->proc_id, t, smp->tid, smp->thread_id, smp->time_ns);
	if (thread < 0)
		return -ENOMEM;
	node = stack_node(c, t, smp);
	if (node <= 0)
		return (int)node;
	out = (struct session_sample){
		.time_ns = smp->time_ns > c->start_ns ? smp->time_ns - c->start_ns : 0,
		.weight_ns = smp->weight_ns,
		.thread = (uint32_t)thread,
		.stack = (uint32_t)node,
	};
	return session__add_sample(c->s, &out);
}

/* Wall mode: a stack off-CPU records will name by its hash. */
static int on_stack(struct collector *c, const struct py_sample *smp, size_t size)
{
	struct tracked *t = stack_event_owner(c, smp, size);
	struct keymap_key key = { smp->proc_id, smp->stack, 0 };
	int64_t node;

	if (!t)
		return 0;
	node = stack_node(c, t, smp);
	if (node <= 0)
		return (int)node;
	return keymap__set(c->stacks, &key, (uint64_t)node) ? -ENOMEM : 0;
}

/*
 * The kernel's name of a thread as it left the CPU (@comm, from the switch): a thread that
 * only waits is rarely sampled, and may be gone by the time its record is read, so this is
 * often the newest name there is. A Python name (threading's) stays.
 */
static void name_at_switch(struct collector *c, uint64_t id, uint32_t tid, uint32_t thread,
			   const char *comm, size_t len)
{
	struct keymap_key key = { id, tid, 0 };
	const struct session_thread *threads;
	char name[17];
	uint64_t idx;
	size_t n;

	if (!keymap__get(c->threads, &key, &idx) || idx >= c->n_sampled ||
	    c->sampled[idx].python_name || !len || !*comm)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(len < 16 ? len : 16), comm);
	threads = session__threads(c->s, &n);
	if (thread < n && strcmp(threads[thread].name, name))
		session__set_thread_name(c->s, thread, name);
}

/* Wall mode: time a thread spent off CPU, @sum of it with @wait, as one sample. */
static int add_wait(struct collector *c, const struct offcpu_wait *wait,
		    const struct offcpu_sum *sum)
{
	struct keymap_key key = { wait->proc_id, wait->stack, 0 };
	struct tracked *t = tracked_by_id(c, wait->proc_id);
	struct session_sample out;
	struct gil_range gil;
	uint64_t node;
	int64_t thread, reason, leaf;

	if (!t || !sum->total_ns || sum->first_ns < c->start_ns)
		return 0;	/* gone before we knew it, or asleep since before the start */
	if (!keymap__get(c->stacks, &key, &node)) {
		c->offcpu_unknown++;
		return 0;
	}
	gil = (struct gil_range){ t->target.gil_addr, t->target.gil_size };
	reason = marker_frame(c, FRAME_WAIT, wait_reason(wait->syscall, wait->arg0, wait->state,
							 &gil));
	thread = thread_of(c, wait->proc_id, t, wait->tid, wait->ident, sum->first_ns);
	if (reason < 0 || thread < 0)
		return -ENOMEM;
	name_at_switch(c, wait->proc_id, wait->tid, (uint32_t)thread, wait->comm,
		       sizeof(wait->comm));
	leaf = session__intern_stack(c->s, (uint32_t)node, (uint32_t)reason);
	if (leaf <= 0)
		return -ENOMEM;
	c->offcpu_waits += sum->count;
	out = (struct session_sample){
		.time_ns = sum->first_ns - c->start_ns,
		.weight_ns = sum->total_ns,
		.thread = (uint32_t)thread,
		.stack = (uint32_t)leaf,
	};
	return session__add_sample(c->s, &out);
}

/* A wait that ended: all of it, or the rest of what a live view was already given. */
static int on_offcpu(struct collector *c, const struct offcpu_wait *wait,
		     const struct offcpu_sum *sum)
{
	struct keymap_key key = { wait->tid, sum->first_ns, 0 };
	struct offcpu_sum rest = *sum;
	uint64_t done;

	if (c->accounted && sum->count == 1 && keymap__get(c->accounted, &key, &done)) {
		keymap__remove(c->accounted, &key);
		done &= ~WAIT_CARRIED;
		if (done >= sum->total_ns)
			return 0;
		rest.first_ns += done;
		rest.total_ns -= done;
	}
	return add_wait(c, wait, &rest);
}

static void on_proc_event(struct collector *c, const struct proc_event *e)
{
	switch (e->type) {
	case EVENT_EXEC: {
		struct tracked *t = tracked_by_pid(c, (pid_t)e->pid);

		/* events are read late: an image analysed after this exec is the new one */
		if (t && t->analysed_ns > e->time_ns)
			break;
		untrack(c, (pid_t)e->pid);
		attach(c, (pid_t)e->pid, false);
		break;
	}
	case EVENT_FORK:
		attach(c, (pid_t)e->pid, false);
		break;
	case EVENT_EXIT:
		untrack(c, (pid_t)e->pid);
		break;
	case EVENT_FOUND:
		/* ran in a selected cgroup: moved in, or started before the scan saw it */
		if (!tracked_by_pid(c, (pid_t)e->pid))
			attach(c, (pid_t)e->pid, false);
		break;
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	__u32 type;
	int err = 0;

	if (size < sizeof(type))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (c->bench_stage == BENCH_RING && type != EVENT_EXEC && type != EVENT_FORK &&
	    type != EVENT_EXIT && type != EVENT_FOUND)
		return 0;	/* the bench's ladder: the transport's cost, not the collector's */
	if (type == EVENT_SAMPLE)
		err = on_sample(c, data, size);
	else if (type == EVENT_STACK)
		err = on_stack(c, data, size);
	else if (type == EVENT_OFFCPU && size >= sizeof(struct offcpu_event))
		err = on_offcpu(c, &((const struct offcpu_event *)data)->wait,
				&((const struct offcpu_event *)data)->sum);
	else if (type == EVENT_CODE && size >= sizeof(struct code_event))
		err = symbolizer__remember(c->sym, data);
	else if (size >= sizeof(struct proc_event))
		on_proc_event(c, data);
	if (err && !c->err)
		c->err = err;
	return 0;
}

/* --clock tick: on_tick on the hrtimer tracepoint, which the tick of every CPU goes through. */
static int start_tick(struct collector *c, int ncpus)
{
	c->ncpus = ncpus;
	/* without /proc/stat check_ticks_seen() cannot tell a busy host: no check */
	c->ticks_checked = tick_clock_host_busy_ns(&c->busy_at_start) != 0;
	c->tick_link = bpf_program__attach(c->sampler);
	return c->tick_link ? 0 : -errno;
}

/* --clock timer: a cpu-clock timer on every online CPU, each running on_timer. */
static int start_timers(struct collector *c, const bool *online, int n)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		/* cpu-clock periods are nanoseconds: a fixed period gives every sample one weight */
		.sample_period = 1000000000ULL / c->opts->rate_hz,
	};

	c->perf_fds = calloc((size_t)n, sizeof(*c->perf_fds));
	c->links = calloc((size_t)n, sizeof(*c->links));
	if (!c->perf_fds || !c->links)
		return -ENOMEM;
	for (int cpu = 0; cpu < n; cpu++)
		c->perf_fds[cpu] = -1;
	c->ncpus = 0;
	for (int cpu = 0; cpu < n; cpu++) {
		if (!online[cpu])
			continue;
		c->perf_fds[cpu] = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
						PERF_FLAG_FD_CLOEXEC);
		if (c->perf_fds[cpu] < 0)
			return -errno;
		c->links[cpu] = bpf_program__attach_perf_event(c->sampler, c->perf_fds[cpu]);
		if (!c->links[cpu])
			return -errno;
		c->ncpus++;
	}
	return 0;
}

/* Starts the sampling clock on every online CPU: 0 or -errno. */
static int start_clock(struct collector *c)
{
	int n = libbpf_num_possible_cpus(), err;
	bool *online;

	if (n <= 0)
		return n ? n : -EINVAL;
	online = calloc((size_t)n, sizeof(*online));
	if (!online)
		return -ENOMEM;
	err = sys_online_cpus(online, n);
	if (err >= 0)
		err = c->opts->clock == SAMPLE_CLOCK_TICK ? start_tick(c, err) :
							     start_timers(c, online, n);
	free(online);
	return err;
}

static void stop_clock(struct collector *c)
{
	int n = libbpf_num_possible_cpus();

	if (c->skel) {
		bpf_link__destroy(c->tick_link);	/* NULL with --clock timer */
		c->tick_link = NULL;
	}

	for (int cpu = 0; c->links && c->perf_fds && cpu < n; cpu++) {
		bpf_link__destroy(c->links[cpu]);
		c->links[cpu] = NULL;
		if (c->perf_fds[cpu] >= 0)
			close(c->perf_fds[cpu]);
		c->perf_fds[cpu] = -1;
	}
}

static uint64_t health_counter(struct collector *c, __u32 key)
{
	int n = libbpf_num_possible_cpus();
	__u64 *values = calloc((size_t)n, sizeof(*values)), sum = 0;

	if (!values)
		return 0;
	if (!bpf_map__lookup_elem(c->skel->maps.health, &key, sizeof(key), values,
				  sizeof(*values) * (size_t)n, 0))
		for (int i = 0; i < n; i++)
			sum += values[i];
	free(values);
	return sum;
}

static uint32_t count_attached(struct collector *c)
{
	return (uint32_t)c->n_tracked;
}

/*
 * --clock tick: a second in, ticks must have been seen if the host was busy at all. A tick
 * that is no hrtimer (low-resolution mode, which a pyflare that cannot read
 * /proc/timer_list does not see coming) would otherwise record nothing, silently.
 */
static void check_ticks_seen(struct collector *c, uint64_t now)
{
	uint64_t busy;

	c->ticks_checked = true;
	if (health_counter(c, HEALTH_TICKS) || tick_clock_host_busy_ns(&busy) ||
	    busy - c->busy_at_start < TICK_CHECK_BUSY_NS)
		return;
	pr_warn("--clock tick: no scheduler tick seen in %.1f s while the CPUs were busy for "
		"%.1f s: this kernel's tick does not run as an hrtimer (high-resolution timers "
		"off?), so nothing is sampled; record with --clock timer\n",
		(double)(now - c->start_ns) / 1e9, (double)(busy - c->busy_at_start) / 1e9);
}

static void show_progress(struct collector *c, uint64_t now)
{
	if (c->opts->quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\rpyflare: recording %.1f s, %llu samples, %u process%s, %llu lost  ",
		(double)(now - c->start_ns) / 1e9, (unsigned long long)c->samples,
		count_attached(c), count_attached(c) == 1 ? "" : "es",
		(unsigned long long)health_counter(c, HEALTH_RINGBUF_FULL));
	c->progress_shown = true;
}

static void clear_progress(struct collector *c)
{
	if (c->progress_shown)
		fprintf(stderr, "\r\033[K");
	c->progress_shown = false;
}

/* At the end: the last names of the sampled threads of live processes (see thread_of). */
static void refresh_thread_names(struct collector *c)
{
	uint64_t ms = now_ns() / 1000000;

	for (size_t i = 0; i < c->n_sampled; i++) {
		struct sampled_thread *st = &c->sampled[i];
		struct tracked *t = tracked_by_id(c, st->proc_id);

		if (t && t->alive)
			rename_thread(c, t, st, ms);
	}
}

/* Wall mode: the short waits the kernel added up since the last drain, taken out. */
static int drain_short_waits(struct collector *c)
{
	struct bpf_map *m = c->skel->maps.short_waits;
	struct offcpu_wait key;
	struct offcpu_sum sum;
	int err = 0;

	/* each taken key is gone, so the first key is always one not yet taken */
	while (!err && !bpf_map__get_next_key(m, NULL, &key, sizeof(key))) {
		if (bpf_map__lookup_and_delete_elem(m, &key, sizeof(key), &sum, sizeof(sum), 0)) {
			if (bpf_map__lookup_elem(m, &key, sizeof(key), &sum, sizeof(sum), 0) ||
			    bpf_map__delete_elem(m, &key, sizeof(key), 0))
				break;
		}
		err = on_offcpu(c, &key, &sum);
	}
	return err;
}

/* Wall mode, at the end: threads still off CPU waited until now. */
static int flush_waiting_threads(struct collector *c, uint64_t end_ns)
{
	struct bpf_map *m = c->skel->maps.offcpu_threads;
	struct { struct offcpu_wait wait; __u64 start_ns; } st;
	struct tracked *t;
	__u32 tid, next;
	bool first = true;
	int err = 0;

	while (!err && !bpf_map__get_next_key(m, first ? NULL : &tid, &next, sizeof(next))) {
		first = false;
		tid = next;
		if (bpf_map__lookup_elem(m, &tid, sizeof(tid), &st, sizeof(st), 0) ||
		    st.start_ns > end_ns)
			continue;
		/* a process that ended waits no more (its threads' last switches are not kept) */
		t = tracked_by_id(c, st.wait.proc_id);
		if (!t || !t->alive)
			continue;
		err = on_offcpu(c, &st.wait, &(struct offcpu_sum){ st.start_ns, end_ns - st.start_ns,
								   1 });
	}
	return err;
}

struct carry {
	struct keymap *into;
	int err;
};

/* Keeps for one more pass an accounted wait that ended: its record may still be on its way. */
static void carry_ended(const struct keymap_key *key, uint64_t done, void *ctx)
{
	struct carry *cr = ctx;
	uint64_t now;

	if (done & WAIT_CARRIED || keymap__get(cr->into, key, &now))
		return;
	if (keymap__set(cr->into, key, done | WAIT_CARRIED))
		cr->err = -ENOMEM;
}

int collector_account_waits(struct collector *c)
{
	struct bpf_map *m = c->skel->maps.offcpu_threads;
	struct { struct offcpu_wait wait; __u64 start_ns; } st;
	struct carry cr = { 0 };
	uint64_t now = now_ns();
	__u32 tid, next;
	bool first = true;

	if (!c->opts->wall)
		return 0;
	cr.into = keymap__new();
	if (!cr.into)
		return -ENOMEM;
	while (!cr.err && !bpf_map__get_next_key(m, first ? NULL : &tid, &next, sizeof(next))) {
		struct tracked *t;
		struct keymap_key key;
		uint64_t done = 0;

		first = false;
		tid = next;
		/* a wait under --min-block may still end as a short one, summed by the kernel */
		if (bpf_map__lookup_elem(m, &tid, sizeof(tid), &st, sizeof(st), 0) ||
		    st.start_ns < c->start_ns || now < st.start_ns + c->opts->min_block_ns)
			continue;
		/* a thread that left the CPU to die, or of a process that ended, waits no more */
		t = tracked_by_id(c, st.wait.proc_id);
		if (!t || !t->alive || st.wait.state & TASK_DEAD_STATE)
			continue;
		/* its stack not read yet: the whole wait comes with its record */
		key = (struct keymap_key){ st.wait.proc_id, st.wait.stack, 0 };
		if (!keymap__get(c->stacks, &key, &done))
			continue;
		key = (struct keymap_key){ tid, st.start_ns, 0 };
		done = 0;
		if (c->accounted && keymap__get(c->accounted, &key, &done))
			done &= ~WAIT_CARRIED;
		if (now - st.start_ns > done) {
			struct offcpu_sum part = { st.start_ns + done, now - st.start_ns - done, 1 };

			cr.err = add_wait(c, &st.wait, &part);
		}
		if (!cr.err && keymap__set(cr.into, &key, now - st.start_ns))
			cr.err = -ENOMEM;
	}
	if (c->accounted && !cr.err)
		keymap__each(c->accounted, carry_ended, &cr);
	if (cr.err) {
		keymap__free(cr.into);
		return cr.err;
	}
	keymap__free(c->accounted);
	c->accounted = cr.into;
	return 0;
}

void collector_status(struct collector *c, struct collector_status *st)
{
	uint32_t alive = 0;

	for (size_t i = 0; i < c->n_tracked; i++)
		alive += c->tracked[i].alive;
	*st = (struct collector_status){
		.elapsed_ns = now_ns() - c->start_ns,
		.samples = c->samples,
		.lost = health_counter(c, HEALTH_RINGBUF_FULL),
		.processes = alive,
		.ncpus = (uint32_t)c->ncpus,
		.wall = c->opts->wall,
		.clock = c->opts->clock,
	};
}

/*
 * Retries the processes waiting for their libpython to be mapped, each every
 * PENDING_RETRY_NS: an interpreter runs its first Python code some 15-30 ms after
 * libpython is mapped, and a short program may be asleep (off CPU, unseen in wall
 * mode) by the time a slower retry would attach it; a short-lived process is gone
 * after a few tries.
 */
static void retry_pending(struct collector *c, uint64_t now)
{
	for (size_t i = 0; i < c->n_pending;) {
		struct pending p = c->pending[i];

		if (now < p.next_try) {
			i++;
			continue;
		}
		if (now > p.deadline || !proc_is_running(p.pid, p.start_time)) {
			c->pending[i] = c->pending[--c->n_pending];
			continue;
		}
		c->pending[i].next_try = now + PENDING_RETRY_NS;
		attach(c, p.pid, false);
		/* once attached it left the list, and slot i holds another */
		if (i < c->n_pending && c->pending[i].pid == p.pid)
			i++;
	}
}

/* 3.12+: the GIL is allocated as the interpreter starts; wall mode needs it. */
static void find_gils(struct collector *c)
{
	for (size_t i = 0; i < c->n_tracked; i++) {
		struct tracked *t = &c->tracked[i];

		if (t->alive && !t->target.gil_addr && t->target.layout.gil_size)
			py_target_find_gil(&t->target);
	}
}

/* Looks for the TLS slots not confirmed yet (processes caught before their first thread). */
static void housekeeping(struct collector *c, uint64_t now)
{
	for (size_t i = 0; i < c->n_tls_todo;) {
		struct tracked *t = tracked_by_id(c, c->tls_todo[i]);
		uint16_t kind, off;
		int err;

		if (!t || !t->alive || t->target.tls_checked || now > t->tls_deadline) {
			c->tls_todo[i] = c->tls_todo[--c->n_tls_todo];
			continue;
		}
		i++;
		kind = t->target.tls_kind;
		off = t->target.tls_offset;
		err = py_target_check_tls(&t->target);
		if (err == -ENOENT) {
			pr_warn("process %d: cannot find its Python thread state in the C library's "
				"thread data; its stacks may be missing\n", t->target.pid);
			t->tls_deadline = 0;
		}
		if (!err) {
			pr_debug("process %d: TLS slot at offset %u (kind %u, was %u at %u)\n",
				 t->target.pid, t->target.tls_offset, t->target.tls_kind, kind, off);
			/* the slot, and the key the sampler need not read any more; not if it
			 * exec'd or exited meanwhile: the kernel dropped it then */
			push_proc(c, t, (uint64_t)(t - c->tracked) + 1, BPF_EXIST);
		}
	}
}

static void attach_found(pid_t pid, void *ctx)
{
	struct collector *c = ctx;

	if (pid != getpid() && !tracked_by_pid(c, pid))
		attach(c, pid, false);
}

/* Every process on the host (or in the selected cgroups) that runs CPython. */
static void attach_all(struct collector *c)
{
	DIR *d;
	struct dirent *de;
	pid_t self = getpid();

	if (c->cgroups.n) {
		cgroup_selection_for_each_pid(&c->cgroups, attach_found, c);
		return;
	}
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		attach(c, (pid_t)pid, false);
	}
	closedir(d);
}

/* Finds the folders of --cgroup/--container before anything is loaded. */
static int select_cgroups(struct collector *c)
{
	const struct record_opts *o = c->opts;
	char err[1024];

	for (size_t i = 0; i < o->n_cgroups; i++) {
		int r = o->cgroups[i].container ?
			cgroup_select_container(&c->cgroups, o->cgroups[i].value, err, sizeof(err)) :
			cgroup_select_path(&c->cgroups, o->cgroups[i].value, err, sizeof(err));

		if (r) {
			pr_error("%s\n", err);
			return r == -EACCES || r == -EPERM ? EXIT_SYSTEM : EXIT_TARGET;
		}
	}
	for (size_t i = 0; i < c->cgroups.n; i++) {
		/* a folder name a container made: no control characters to the terminal */
		char shown[sizeof(c->cgroups.dirs[0])];
		size_t k;

		for (k = 0; c->cgroups.dirs[i][k] && k < sizeof(shown) - 1; k++) {
			unsigned char ch = (unsigned char)c->cgroups.dirs[i][k];

			shown[k] = ch < 0x20 || (ch >= 0x7f && ch < 0xa0) ? '?' : (char)ch;
		}
		shown[k] = '\0';
		pr_info("selected cgroup %s\n", shown);
	}
	return 0;
}

/* The sampler's cgroup array: the folders' fds, which the kernel resolves to cgroups. */
static int fill_cgroup_map(struct collector *c)
{
	for (__u32 i = 0; i < c->cgroups.n; i++) {
		__u32 fd = (__u32)c->cgroups.fds[i];

		if (bpf_map__update_elem(c->skel->maps.cgroups, &i, sizeof(i), &fd, sizeof(fd),
					 BPF_ANY)) {
			pr_error("cannot select cgroup %s in BPF: %s\n", c->cgroups.dirs[i],
				 strerror(errno));
			return EXIT_SYSTEM;
		}
	}
	return 0;
}

/* How often an interpreter file was read, rather than recognised: each should be once. */
static void log_binaries(struct collector *c, const char *when)
{
	struct binary_cache_stats st;

	binary_cache__stats(c->binaries, &st);
	pr_info("%s: interpreter files analysed %llu times, recognised %llu times (%zu kept, "
		"%llu dropped)\n", when, (unsigned long long)st.misses,
		(unsigned long long)st.hits, st.entries, (unsigned long long)st.evictions);
}

/* --clock tick: the address of the tick's hrtimer function, or 0 after saying why not. */
static uint64_t find_tick(struct collector *c)
{
	struct tick_clock_problem p;
	struct tick_clock tc;
	char nohz_full[256];

	if (tick_clock_find(&tc, &p)) {
		pr_error("cannot sample with --clock tick: %s; %s\n", p.why, p.fix);
		return 0;
	}
	if (tc.hz != c->opts->rate_hz) {	/* read twice: a config changed meanwhile */
		pr_error("--clock tick: the kernel's tick rate changed from %u to %u Hz while "
			 "pyflare started\n", c->opts->rate_hz, tc.hz);
		return 0;
	}
	pr_info("sampling at the scheduler tick: %u Hz, %s at 0x%llx\n", tc.hz, tc.handler_name,
		(unsigned long long)tc.handler);
	if (tick_clock_nohz_full(nohz_full, sizeof(nohz_full)))
		pr_warn("--clock tick: CPUs %s are nohz_full: their tick stops while one task "
			"runs there, so programs on them are sampled too little (--clock timer "
			"is not)\n", nohz_full);
	return tc.handler;
}

/*
 * The ring buffer's size: half a second of 64-frame samples at @rate_hz on every CPU, a power
 * of two between 1 and 64 MiB. Its pages count in pyflare's memory (twice: the kernel maps the
 * data twice), so a fixed size big enough for many CPUs at 9999 Hz would be most of the
 * collector's footprint at the usual 999 Hz on a few CPUs.
 */
static unsigned ringbuf_bytes(unsigned rate_hz, int ncpus)
{
	uint64_t want = (uint64_t)(ncpus > 0 ? ncpus : 1) * rate_hz *
			(__builtin_offsetof(struct py_sample, frames) + 64 * sizeof(struct py_frame)) / 2;
	unsigned bytes = RINGBUF_MIN_BYTES;

	while (bytes < want && bytes < RINGBUF_MAX_BYTES)
		bytes *= 2;
	return bytes;
}

/* What every attempt at loading sets before it loads (bpf_load's configure). */
static int configure_bpf(struct pyflare_bpf *skel, void *ctx)
{
	struct collector *c = ctx;
	unsigned rb_bytes = ringbuf_bytes(c->opts->rate_hz, libbpf_num_possible_cpus());
	int err;

	skel->rodata->sample_weight_ns = 1000000000ULL / c->opts->rate_hz;
	err = bpf_map__set_max_entries(skel->maps.events, rb_bytes);
	if (err) {
		pr_error("cannot size the ring buffer (%u bytes): %s\n", rb_bytes, strerror(-err));
		return EXIT_SYSTEM;
	}
	skel->rodata->tick_handler = c->tick_handler;
	skel->rodata->follow_all = c->opts->target == TARGET_ALL;
	skel->rodata->n_cgroups = (__u32)c->cgroups.n;
	skel->rodata->min_block_ns = c->opts->min_block_ns;
	return bench_hooks__configure(skel, &c->bench_stage);
}

/*
 * Loads the programs the options ask for, or the nearest this kernel loads: what was given
 * up is said now and kept in the session (c->kernel_notes), and c->opts becomes what the
 * recording really does (its mode and clock).
 */
static int load_bpf(struct collector *c)
{
	struct bpf_choice want = {
		.wall = c->opts->wall,
		.tick = c->opts->clock == SAMPLE_CLOCK_TICK,
		.bpf_loop = true,
	}, got;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_error("this kernel has no BTF (/sys/kernel/btf/vmlinux): pyflare needs Linux "
			 ">= 5.8 built with CONFIG_DEBUG_INFO_BTF=y\n");
		return EXIT_SYSTEM;
	}
	if (want.tick && !(c->tick_handler = find_tick(c)))
		return EXIT_SYSTEM;
	err = bpf_load(&want, configure_bpf, c, &c->skel, &got, c->kernel_notes,
		       sizeof(c->kernel_notes));
	if (err)
		return err > 0 ? err : EXIT_SYSTEM;
	if (c->kernel_notes[0])
		pr_warn("%s\n", c->kernel_notes);
	c->effective.wall = got.wall;
	c->effective.clock = got.tick ? SAMPLE_CLOCK_TICK : SAMPLE_CLOCK_TIMER;
	c->sampler = got.tick ? (got.bpf_loop ? c->skel->progs.on_tick :
						c->skel->progs.on_tick_noloop) :
				(got.bpf_loop ? c->skel->progs.on_timer :
						c->skel->progs.on_timer_noloop);
	err = fill_cgroup_map(c);
	if (err)
		return err;
	err = pyflare_bpf__attach(c->skel);
	if (err) {
		pr_error("cannot attach to the scheduler's process events: %s\n", strerror(-err));
		return EXIT_SYSTEM;
	}
	return 0;
}

/* Why the recording should end now, or NULL to go on. */
static const char *should_stop(struct collector *c, uint64_t now, uint64_t *stop_at,
			       int *command_status)
{
	const struct record_opts *o = c->opts;

	if (c->err)
		return "error";
	if (o->duration > 0 && now - c->start_ns >= (uint64_t)(o->duration * 1e9))
		return "duration";
	if (c->launch && launch__poll(c->launch, command_status))
		return "command exited";
	if (o->target == TARGET_PIDS && c->explicit_alive == 0)
		return "targets exited";
	if (stop_signal) {
		/* a terminal's Ctrl-C reaches the command too: give it time to finish */
		if (!c->launch || stop_signal != SIGINT)
			return "signal";
		if (!*stop_at)
			*stop_at = now + STOP_GRACE_NS;
		else if (now > *stop_at)
			return "signal";
	}
	return NULL;
}

static void fill_session(struct collector *c, uint64_t end_ns, uint64_t realtime_start)
{
	const struct record_opts *o = c->opts;
	struct session_health h = { 0 };
	struct session_meta meta = { 0 };
	char target[1024] = "";
	size_t at = 0;
	size_t n_refusals;

	if (o->target == TARGET_COMMAND) {
		for (char **a = o->argv; *a && at < sizeof(target) - 1; a++)
			at += (size_t)snprintf(target + at, sizeof(target) - at, "%s%s",
					       a == o->argv ? "" : " ", *a);
	} else if (o->target == TARGET_PIDS) {
		at = (size_t)snprintf(target, sizeof(target), "-p ");
		for (size_t i = 0; i < o->n_pids && at < sizeof(target) - 1; i++)
			at += (size_t)snprintf(target + at, sizeof(target) - at, "%s%d",
					       i ? "," : "", o->pids[i]);
	} else if (!c->cgroups.n) {
		snprintf(target, sizeof(target), "-a (all Python processes)");
	}
	at = strlen(target);
	if (c->cgroups.n && at < sizeof(target) - 1)
		at += (size_t)snprintf(target + at, sizeof(target) - at, "%s%s", at ? " in " : "",
				       c->cgroups.label);
	if (proc_filter__active(o->procs) && at < sizeof(target) - 1) {
		char rules[512];

		proc_filter__describe(o->procs, rules, sizeof(rules));
		snprintf(target + at, sizeof(target) - at, " %s", rules);
	}
	meta.start_realtime_ns = realtime_start;
	meta.duration_ns = end_ns - c->start_ns;
	meta.rate_hz = o->rate_hz;
	meta.ncpus = (uint32_t)c->ncpus;
	meta.mode = o->wall ? "wall" : "cpu";
	meta.clock = sample_clock_name(o->clock);
	meta.kernel_notes = c->kernel_notes;
	meta.target = target;
	session__set_meta(c->s, &meta);

	session__refusals(c->s, &n_refusals);
	h.samples = c->samples;
	h.lost = health_counter(c, HEALTH_RINGBUF_FULL);
	h.truncated = health_counter(c, HEALTH_TRUNCATED);
	h.unreadable = health_counter(c, HEALTH_READ_ERROR);
	h.unsymbolized = symbolizer__unknown(c->sym);
	h.no_thread_state = health_counter(c, HEALTH_NO_TSTATE) +
			    health_counter(c, HEALTH_TSTATE_MISMATCH) + c->empty;
	h.attached = count_attached(c);
	h.refused = (uint32_t)n_refusals;
	session__set_health(c->s, &h);
}

static void collector_free(struct collector *c)
{
	stop_clock(c);
	free(c->links);
	free(c->perf_fds);
	ring_buffer__free(c->rb);
	pyflare_bpf__destroy(c->skel);
	symbolizer__free(c->sym);
	binary_cache__free(c->binaries);
	keymap__free(c->by_pid);
	keymap__free(c->threads);
	keymap__free(c->stacks);
	keymap__free(c->accounted);
	free(c->sampled);
	for (size_t i = 0; i < c->n_tracked; i++)
		py_thread_names__free(c->tracked[i].py_names);
	free(c->tracked);
	free(c->pending);
	free(c->tls_todo);
	launch__free(c->launch);
	cgroup_selection_close(&c->cgroups);
}

int collector_record(const struct record_opts *o, struct session *s, int *command_status)
{
	return collector_record_live(o, s, NULL, command_status);
}

int collector_record_live(const struct record_opts *o, struct session *s,
			  const struct collector_hook *hook, int *command_status)
{
	struct collector c = { .effective = *o, .opts = &c.effective, .s = s };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t now, last_housekeeping = 0, last_progress = 0, last_drain = 0, stop_at = 0;
	uint64_t realtime_start;
	struct timespec rt;
	const char *why = NULL;
	bool hook_stop = false;
	int err, ret = 0;

	*command_status = -1;
	cgroup_selection_init(&c.cgroups);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	c.by_pid = keymap__new();
	c.threads = keymap__new();
	c.stacks = keymap__new();
	c.sym = symbolizer__new(s);
	c.binaries = binary_cache__new(0);
	if (!c.by_pid || !c.threads || !c.stacks || !c.sym || !c.binaries) {
		pr_error("out of memory\n");
		ret = EXIT_NOMEM;
		goto out;
	}
	if (proc_self_pid_ns() == 1) {
		pr_error("pyflare runs in a PID namespace of its own, but the kernel reports host "
			 "PIDs: run it in the host's (docker run --pid=host, Kubernetes hostPID: "
			 "true; see docs/containers.md)\n");
		ret = EXIT_SYSTEM;
		goto out;
	}
	ret = select_cgroups(&c);
	if (!ret)
		ret = load_bpf(&c);
	if (ret)
		goto out;
	o = c.opts;	/* the mode and clock this kernel allows */
	c.rb = ring_buffer__new(bpf_map__fd(c.skel->maps.events), handle_event, &c, NULL);
	if (!c.rb) {
		pr_error("cannot open the BPF ring buffer: %s\n", strerror(errno));
		ret = EXIT_SYSTEM;
		goto out;
	}

	clock_gettime(CLOCK_REALTIME, &rt);
	realtime_start = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
	c.start_ns = now_ns();
	if (o->target == TARGET_COMMAND) {
		c.launch = launch__new(o->argv, &o->command_stdio);
		if (!c.launch) {
			pr_error("cannot start %s: %s\n", o->argv[0], strerror(errno));
			ret = EXIT_TARGET;
			goto out;
		}
		watch(&c, launch__pid(c.launch));
	} else {
		uint64_t begin = now_ns();

		if (o->target == TARGET_PIDS) {
			for (size_t i = 0; i < o->n_pids; i++) {
				ret = attach(&c, o->pids[i], true);
				if (ret)
					goto out;
				if (c.cgroups.n &&
				    !cgroup_selection_has_pid(&c.cgroups, o->pids[i]))
					pr_warn("process %d is not in %s now: it is sampled only "
						"while it is\n", o->pids[i], c.cgroups.label);
			}
		} else {
			attach_all(&c);
		}
		pr_info("attached %zu processes in %.3f s\n", c.n_tracked,
			(double)(now_ns() - begin) / 1e9);
		log_binaries(&c, "attach");
	}

	err = start_clock(&c);
	if (err) {
		pr_error("cannot start %s: %s%s\n", o->clock == SAMPLE_CLOCK_TICK ?
			 "sampling at the scheduler tick (hrtimer_expire_entry)" :
			 "the cpu-clock timers", strerror(-err),
			 err == -EACCES || err == -EPERM ? " (need root or CAP_PERFMON)" : "");
		ret = EXIT_SYSTEM;
		goto out;
	}
	if (c.launch) {
		err = launch__release(c.launch);
		if (err) {
			pr_error("cannot run %s: %s\n", o->argv[0], strerror(-err));
			launch__wait(c.launch);
			*command_status = err == -ENOENT ? 127 : 126;
			ret = EXIT_TARGET;
			goto out;
		}
	}

	while (!(why = should_stop(&c, now = now_ns(), &stop_at, command_status))) {
		err = ring_buffer__poll(c.rb, c.n_pending ? 1 : POLL_MS);
		if (err >= 0 || err == -EINTR)
			err = ring_buffer__consume(c.rb);
		if (err < 0 && err != -EINTR) {
			pr_error("reading the ring buffer failed: %s\n", strerror(-err));
			break;
		}
		retry_pending(&c, now);
		if (o->wall && now - last_drain >= DRAIN_NS) {
			c.err = c.err ? c.err : drain_short_waits(&c);
			last_drain = now;
		}
		if (now - last_housekeeping >= HOUSEKEEPING_NS) {
			housekeeping(&c, now);
			if (o->wall)
				find_gils(&c);
			last_housekeeping = now;
		}
		if (o->clock == SAMPLE_CLOCK_TICK && !c.ticks_checked &&
		    now - c.start_ns >= TICK_CHECK_NS)
			check_ticks_seen(&c, now);
		if (now - last_progress >= PROGRESS_NS) {
			show_progress(&c, now);
			last_progress = now;
		}
		if (hook && hook->poll(&c, hook->ctx)) {
			why = "the live view ended";
			hook_stop = true;
			break;
		}
	}
	/* the view's q reaches no command the way a terminal's Ctrl-C does */
	if (hook_stop && hook->stop_command && c.launch && !launch__poll(c.launch, command_status))
		kill(launch__pid(c.launch), SIGTERM);
	stop_clock(&c);
	bpf_link__destroy(c.skel->links.on_switch);	/* NULL outside wall mode */
	c.skel->links.on_switch = NULL;
	now = now_ns();
	ring_buffer__consume(c.rb);	/* what the sampler sent before the timers stopped */
	if (o->wall && !c.err)
		c.err = drain_short_waits(&c);
	if (o->wall && !c.err)
		c.err = flush_waiting_threads(&c, now);
	refresh_thread_names(&c);
	clear_progress(&c);
	pr_debug("recording stopped: %s\n", why ? why : "error");
	log_binaries(&c, "end");
	if (bench_hooks__write(c.skel) && !ret)
		ret = EXIT_TARGET;
	if (c.err) {
		pr_error("recording failed: %s\n", strerror(-c.err));
		ret = exit_status_of(c.err);
	}
	if (c.no_access > 1)
		pr_warn("%llu processes were skipped: permission denied reading them (give pyflare "
			"CAP_SYS_PTRACE)\n", (unsigned long long)c.no_access);
	fill_session(&c, now, realtime_start);
	if (c.launch && *command_status < 0)
		launch__poll(c.launch, command_status);
	if (hook && hook->end)
		hook->end(&c, hook->ctx);
out:
	clear_progress(&c);
	collector_free(&c);
	return ret;
}
