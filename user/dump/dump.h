/* SPDX-License-Identifier: MIT */
/*
 * dump.h — `pyflare dump`: the Python stack of every thread of running processes, as it
 * is now, read from userspace without stopping them (no BPF), like `py-spy dump`.
 *
 * dump.c reads the processes into the model below; dump_output.c writes it as text or
 * JSON (docs/formats.md). Every string in the model comes from the target and is escaped
 * by the writers.
 */
#ifndef PYFLARE_DUMP_H
#define PYFLARE_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define DUMP_MAX_PIDS 1024 /* as record's -p */

/* pyflare dump -p PID...: every thread's Python stack, now. */
struct dump_opts {
	pid_t pids[DUMP_MAX_PIDS];
	size_t n_pids;
	bool subprocesses; /* --subprocesses: their descendants too */
	bool json;	   /* --json */
	bool async;	   /* --async: every asyncio task too (3.14+) */
	bool color;	   /* ANSI colours in the text */
	int verbose;
};

struct dump_frame {
	const char *name;   /* co_qualname (co_name before 3.11), or "<unsymbolized code 0x...>" */
	const char *file;   /* co_filename; "" when the code object could not be read */
	uint32_t line;	    /* the line running; 0 when unknown */
	const char *source; /* that line's text, trimmed; NULL when it cannot be read */
};

enum dump_activity {
	DUMP_ACTIVITY_UNKNOWN = 0, /* its thread was not found, or /proc could not say */
	DUMP_ACTIVITY_RUNNING,	   /* on a CPU, or runnable */
	DUMP_ACTIVITY_WAITING,	   /* blocked: waiting_for says on what */
	DUMP_ACTIVITY_STOPPED,	   /* stopped by a signal or a debugger */
};

struct dump_thread {
	uint32_t tid;	/* host TID; 0 when it could not be found */
	uint64_t ident; /* threading's ident: pthread_self() */
	char name[64];	/* threading's name, else the kernel's; may be "" */
	int holds_gil;	/* 1, 0, or -1 when the GIL could not be read */
	enum dump_activity activity;
	const char *waiting_for;   /* DUMP_ACTIVITY_WAITING: "[lock]", "[sleep]", ... */
	int32_t syscall;	   /* the system call it waits in; -1: none or unknown */
	bool changing;		   /* its frames changed on every read: best effort */
	bool truncated;		   /* more frames than shown (the walk's limit) */
	bool unreadable;	   /* the frame chain could not be followed further */
	struct dump_frame *frames; /* innermost first */
	size_t nframes;
};

/* dump --async: one asyncio task (CPython 3.14+). */
struct dump_task {
	uint64_t id;		/* the task object's address, as pstree's ids */
	char name[128];		/* Task.get_name() */
	const char *state;	/* "running", "waiting", "ready", "done" */
	uint32_t tid;		/* its event loop's thread; 0: that thread is gone */
	char awaits[160];	/* "[await sleep]", "[await Task NAME]", ...; "" when not waiting */
	uint64_t awaited_by[8]; /* ids of the tasks awaiting it */
	size_t n_awaited_by;
	struct dump_frame *frames; /* its coroutines, innermost (the await line) first */
	size_t nframes;
};

struct dump_process {
	pid_t pid;
	int status;	 /* 0, or the enum pyflare_exit it could not be read with */
	char error[256]; /* why, when status is not 0 */
	bool no_python;	 /* why is that it exited or runs no Python */
	char comm[32];
	char cmdline[1024];
	char version[24];	     /* "3.12.1" */
	char exe[256];		     /* the interpreter binary, as the process sees it */
	bool threads_cut;	     /* the list of thread states could not be read to its end */
	struct dump_thread *threads; /* by TID, unknown TIDs last */
	size_t nthreads;
	bool async;	      /* --async: tasks were asked for */
	char tasks_note[256]; /* --async: why there are none to show, else "" */
	bool tasks_cut;	      /* a list of tasks could not be read to its end */
	struct dump_task *tasks;
	size_t ntasks;
};

struct dump;

/* An empty dump. NULL with errno set. */
struct dump *dump__new(void);
void dump__free(struct dump *d); /* accepts NULL */

/*
 * Reads process @pid now and appends it, read or not (then with its status and error).
 * Returns its status: 0, EXIT_SYSTEM (no permission) or EXIT_TARGET (no such process, not
 * Python, unsupported); -ENOMEM when it could not even be appended.
 */
int dump__add(struct dump *d, pid_t pid);

/* dump --async: processes added from now on have their asyncio tasks read too. */
void dump__want_tasks(struct dump *d);

/*
 * The same for the descendants of the processes added so far (--subprocesses), those
 * /proc shows now: each that runs Python is appended, the others left out, said at -v.
 * Returns EXIT_OK, or -ENOMEM.
 */
int dump__add_descendants(struct dump *d);

const struct dump_process *dump__processes(const struct dump *d, size_t *n);

/* Writers (dump_output.c). */
void dump_write_text(FILE *out, const struct dump_process *procs, size_t n, bool color);
void dump_write_json(FILE *out, const struct dump_process *procs, size_t n);

/* `pyflare dump`: reads every -p process and writes them; returns the exit status. */
int dump_run(const struct dump_opts *o);

#endif /* PYFLARE_DUMP_H */
