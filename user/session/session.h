/* SPDX-License-Identifier: MIT */
/*
 * session.h — the one data model every renderer reads.
 *
 * A session is a list of samples (time, thread, weight, stack) over interned
 * stacks and frames, plus process, thread and run metadata and the health
 * counters of the recording. Frames are always stored at line granularity
 * (qualname, file, first line of the function, current line); renderers fold
 * them to function granularity when asked, so a saved session can be shown
 * either way.
 *
 * Stacks are nodes of a prefix tree: node N = (parent node, frame), node 0 is
 * the empty stack. A sample points at its leaf node; walking the parents gives
 * the stack leaf first.
 *
 * Strings passed in are copied; strings handed out live as long as the session.
 * Indices handed out are dense, starting at 0 (stacks at 1, 0 being the root).
 */
#ifndef PYFLARE_SESSION_H
#define PYFLARE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_kind {
	FRAME_PYTHON = 0, /* a Python function: name, file and lines are set */
	FRAME_TRUNCATED,  /* stack deeper than the walk limit: outer frames missing */
	FRAME_UNREADABLE, /* the frame chain could not be read past this point */
	FRAME_UNKNOWN, /* a code object that could not be symbolized: session_unsymbolized_name() */
	FRAME_WAIT,    /* wall mode: what an off-CPU thread waited for, "[sleep]" */
	FRAME_TASK,    /* --async: an asyncio task, "Task NAME", above its coroutine */
};

struct session_frame {
	const char *name;    /* co_qualname (co_name before 3.11, bpo-44530), or a <marker> */
	const char *file;    /* co_filename; "" for markers */
	uint32_t first_line; /* co_firstlineno; 0 if unknown */
	uint32_t line;	     /* line being executed; 0 if unknown */
	enum frame_kind kind;
};

/* A node of the stack tree. */
struct session_stack {
	uint32_t parent; /* caller's node; 0 = this frame is the outermost */
	uint32_t frame;	 /* index into the frame table */
	uint32_t depth;	 /* number of frames from the root, 1 for outermost */
};

struct session_process {
	uint32_t pid;		    /* host PID */
	uint64_t start_time;	    /* /proc/PID/stat starttime: tells reused PIDs apart */
	const char *comm;	    /* kernel name of the process */
	const char *cmdline;	    /* arguments joined by spaces */
	const char *exe;	    /* interpreter binary as the process sees it */
	const char *python_version; /* "3.12.1" */
	/*
	 * Where this process's library code lives, as the process sees it: its stdlib
	 * folders (e.g. "/usr/lib/python3.11"), separated by ':'. Files under them, in any
	 * site-packages or dist-packages folder, and <frozen ...> modules are library code
	 * (frame_filter.h).
	 */
	const char *lib_dirs;
	uint32_t ns_pid;       /* PID inside its own PID namespace; 0 = the same as pid */
	const char *cgroup;    /* cgroup v2 path ("0::" line of /proc/PID/cgroup); "" if unknown */
	const char *container; /* short (12 hex) container id from the cgroup; "" if none */
	/*
	 * A group of processes (--group-by, session_group.h) has nmembers > 1: the host PIDs of
	 * its members, in the order they were met (pid is the first). 0 or 1: one process.
	 */
	uint32_t nmembers;
	const uint32_t *members;
};

struct session_thread {
	uint32_t process; /* index into the process table */
	uint32_t tid;	  /* host TID */
	const char *name; /* thread name; may be "" */
	/* In a group of processes: how many threads of that name it stands for; 0 or 1: one. */
	uint32_t nmembers;
};

struct session_sample {
	uint64_t time_ns;   /* since the recording started (CLOCK_MONOTONIC) */
	uint64_t weight_ns; /* the time this sample stands for */
	uint32_t thread;    /* index into the thread table */
	uint32_t stack;	    /* leaf node; never 0 */
};

/* Where a walk over the samples is (session__samples_begin); its fields are the session's. */
struct session_cursor {
	const void *block;
	size_t at;
	uint64_t time_ns, weight_ns;
};

/* Why a process was not profiled. */
struct session_refusal {
	uint32_t pid;
	const char *comm;
	const char *reason; /* one line, e.g. "unsupported Python 3.15" */
};

/*
 * Figures of the recording's health; shown at the end and inside outputs. Every timer hit on a
 * thread of a profiled process is a sample taken, and either shown (a sample of the session
 * whose leaf is no wait) or not shown for one of the reasons counted here:
 *   samples = shown + lost + no_thread_state + no_python_frame
 * (health_samples_shown() counts the shown, health.h). Wall mode's waits off CPU are samples
 * of the session too, but no timer hits: they are not in this sum.
 */
struct session_health {
	uint64_t samples;	  /* taken: timer hits on a thread of a profiled process */
	uint64_t lost;		  /* not shown: dropped, the ring buffer was full */
	uint64_t truncated;	  /* stacks deeper than the walk limit */
	uint64_t unreadable;	  /* stacks cut short by a failed memory read */
	uint64_t unsymbolized;	  /* frames shown as <unsymbolized code 0x...>, over the samples */
	uint64_t no_thread_state; /* not shown: the thread had no Python thread state */
	uint64_t no_python_frame; /* not shown: a thread state but no Python frame on it */
	uint32_t attached;	  /* processes profiled */
	uint32_t refused;	  /* processes not profiled (see refusals) */
};

/* The clock of a session that names none: all there was before --clock. */
#define SESSION_CLOCK_TIMER "timer"

struct session_meta {
	uint64_t start_realtime_ns; /* wall clock at start, ns since the epoch */
	uint64_t duration_ns;	    /* length of the recording */
	uint32_t rate_hz;	    /* sampling rate per CPU */
	uint32_t ncpus;		    /* CPUs sampled */
	const char *mode;	    /* "cpu" */
	const char *target;	    /* command line, "-p 1,2" or "-a" */
	const char *clock;	    /* what sampled: "timer" (NULL or "" set it) or "tick" */
	const char *kernel_notes;   /* what the kernel could not do (wall mode, the tick), or "" */
};

struct session;

/* Room for session_unsymbolized_name()'s longest name. */
#define SESSION_UNSYMBOLIZED_LEN 48
/*
 * Writes into @buf (SESSION_UNSYMBOLIZED_LEN bytes) the name every view shows for a frame whose
 * code object at @code could not be read: "<unsymbolized code 0x7f6f6b89cd50>". The one place
 * it is made, so that a user finds the same marker in each format.
 */
void session_unsymbolized_name(char *buf, uint64_t code);

/* Returns a new empty session, or NULL with errno set. */
struct session *session__new(void);
/* Accepts NULL. */
void session__free(struct session *s);
/*
 * Gives @s the content of @with, frees what @s held and @with itself: the pointers others
 * keep to @s stay good (the agent's collector moves its live session into a smaller one).
 */
void session__replace(struct session *s, struct session *with);

/*
 * Interning. Each returns the index (frame) or node id (stack), or -1 on
 * allocation failure (errno = ENOMEM). Equal inputs give equal results.
 */
int64_t session__intern_frame(struct session *s, const struct session_frame *f);
int64_t session__intern_stack(struct session *s, uint32_t parent, uint32_t frame);

/*
 * Returns the new index or -1 (ENOMEM, or EINVAL for nmembers > 0 without members). Strings
 * may be NULL (stored as ""); members are copied.
 */
int64_t session__add_process(struct session *s, const struct session_process *p);
int64_t session__add_thread(struct session *s, uint32_t process, uint32_t tid, const char *name);
/* Returns 0 or -ENOMEM / -EINVAL (bad thread or stack index). */
int session__add_sample(struct session *s, const struct session_sample *smp);
int session__add_refusal(struct session *s, uint32_t pid, const char *comm, const char *reason);
/*
 * Sets what process @process runs, from @p (comm, cmdline, exe, python_version, lib_dirs):
 * its latest image, when one process instance execs. Returns 0 or -ENOMEM / -EINVAL.
 */
int session__set_process_image(struct session *s, uint32_t process,
			       const struct session_process *p);
/*
 * Sets what tells where process @process runs (read back after the processes table).
 * Returns 0 or -ENOMEM / -EINVAL (bad process index).
 */
int session__set_process_identity(struct session *s, uint32_t process, uint32_t ns_pid,
				  const char *cgroup, const char *container);
/*
 * Removes the samples of every thread T with @drop[T] (one flag per thread); the threads
 * stay, sampleless. Returns how many samples went.
 */
size_t session__drop_thread_samples(struct session *s, const bool *drop);
/*
 * Removes every sample; the rest stays. A live view (pyflare top) adds samples up as they
 * come and clears them, so a long run does not keep each one.
 */
void session__clear_samples(struct session *s);
/*
 * Removes the samples before @time_ns, keeping the others in order: the agent lets a time
 * slice go once it is written, keeping the samples of the next one already received. The
 * packed log is built anew for the samples kept: with no memory for that, every sample goes.
 */
void session__drop_samples_before(struct session *s, uint64_t time_ns);
/* Replaces the thread's name (threads are often named after their first sample). */
int session__set_thread_name(struct session *s, uint32_t thread, const char *name);
/* Sets how many threads a thread of a group stands for. Returns 0 or -EINVAL. */
int session__set_thread_members(struct session *s, uint32_t thread, uint32_t nmembers);

/* Copies meta's strings. */
int session__set_meta(struct session *s, const struct session_meta *meta);
void session__set_health(struct session *s, const struct session_health *h);

/* Read access. The arrays stay valid until the next call that adds to them. */
const struct session_meta *session__meta(const struct session *s);
const struct session_health *session__health(const struct session *s);
const struct session_frame *session__frames(const struct session *s, size_t *n);
/* Index 0 is the root node {0, 0, 0}; real nodes start at 1. */
const struct session_stack *session__stacks(const struct session *s, size_t *n);
const struct session_process *session__processes(const struct session *s, size_t *n);
const struct session_thread *session__threads(const struct session *s, size_t *n);
/*
 * Samples are kept packed (session/sample_log.h: a few bytes each) and read in the order they
 * were added, through a cursor that adding samples does not disturb:
 *
 *	struct session_cursor cur;
 *	struct session_sample smp;
 *
 *	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
 *		...
 */
size_t session__nsamples(const struct session *s);
void session__samples_begin(const struct session *s, struct session_cursor *cur);
/* The next sample into @out: false after the last. */
bool session__samples_next(struct session_cursor *cur, struct session_sample *out);
/*
 * Every sample in one array of *@n, for the views that need them side by side (sorted by
 * thread and time: the HTML time line, speedscope): the caller frees it. NULL with errno
 * ENOMEM; an empty session gives an array of none (not NULL).
 */
struct session_sample *session__samples_copy(const struct session *s, size_t *n);
/* The memory the samples take, in bytes. */
size_t session__samples_bytes(const struct session *s);
const struct session_refusal *session__refusals(const struct session *s, size_t *n);

#endif /* PYFLARE_SESSION_H */
