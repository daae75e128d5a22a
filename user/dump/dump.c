/* SPDX-License-Identifier: MIT */
/*
 * dump.c — `pyflare dump`: read every Python thread of running processes, now.
 *
 * Per process: its interpreter (py_target_analyse), the main interpreter's thread states
 * (py_walk_threads), the GIL's holder, and for each thread its frames (py_walk_stack, read
 * until two walks agree), named by the symbolizer, with the source line of each frame
 * (source_line.c), the thread's host TID, its name and what it is blocked in (/proc).
 * Nothing is stopped: the process runs on while it is read.
 */
#include "dump/dump.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/exit.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "dump/dump.h"
#include "dump/dump_tasks.h"
#include "host/proc_info.h"
#include "python/py_asyncio.h"
#include "host/proc_tree.h"
#include "python/py_gil.h"
#include "python/py_target.h"
#include "python/py_thread_names.h"
#include "python/py_walk.h"
#include "session/session.h"
#include "host/source_line.h"
#include "host/thread_tids.h"
#include "python/symbolize.h"
#include "host/wait_reason.h"

#define READS_MAX 3 /* named walks of a thread whose frames keep changing */

struct dump {
	struct dump_process *procs;
	size_t n, cap;
	struct session *strings; /* frames' names and files, interned */
	struct symbolizer *sy;
	struct py_stack *walk[2];		  /* a thread's last two walks */
	uint32_t frame_index[PYFLARE_MAX_FRAMES]; /* walk[0]'s frames in strings */
	bool tasks;				  /* --async */
};

/* What reading one process needs besides the dump. */
struct reading {
	struct py_target t;
	uint64_t proc_id;    /* the symbolizer's name for this process */
	uint64_t gil_holder; /* the thread state holding the GIL, 0: none */
	bool gil_known;
	struct gil_range gil;
	struct thread_tids *tids; /* NULL: no thread's TID is known */
	struct py_thread_names *names;
	struct source_files *sources;
};

struct dump *dump__new(void)
{
	struct dump *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->strings = session__new();
	d->sy = d->strings ? symbolizer__new(d->strings) : NULL;
	d->walk[0] = malloc(sizeof(struct py_stack));
	d->walk[1] = malloc(sizeof(struct py_stack));
	if (!d->sy || !d->walk[0] || !d->walk[1]) {
		dump__free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

static void free_threads(struct dump_process *p)
{
	for (size_t i = 0; i < p->nthreads; i++) {
		for (size_t j = 0; j < p->threads[i].nframes; j++)
			free((char *)p->threads[i].frames[j].source);
		free(p->threads[i].frames);
	}
	free(p->threads);
	p->threads = NULL;
	p->nthreads = 0;
	dump_tasks_free(p);
}

void dump__want_tasks(struct dump *d)
{
	d->tasks = true;
}

/* --async: the tasks of every thread of @p, and of threads that are gone. */
static int read_tasks(struct dump *d, const struct reading *r, struct dump_process *p,
		      const struct py_thread_state *states, int n)
{
	struct py_asyncio a;
	struct dump_tasks_reader tr = { &r->t, &a, d->sy, d->strings, r->proc_id };
	int err = py_asyncio_find(&r->t, &a, false);

	p->async = true;
	if (err) {
		snprintf(p->tasks_note, sizeof(p->tasks_note), "%s",
			 py_asyncio_why_not(&r->t, err));
		return 0;
	}
	for (int i = 0; !err && i < n; i++)
		err = dump_tasks_read(&tr, states[i].addr,
				      thread_tids__find(r->tids, states[i].ident), p);
	return err ? err : dump_tasks_read(&tr, 0, 0, p);
}

void dump__free(struct dump *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free_threads(&d->procs[i]);
	free(d->procs);
	symbolizer__free(d->sy);
	session__free(d->strings);
	free(d->walk[0]);
	free(d->walk[1]);
	free(d);
}

const struct dump_process *dump__processes(const struct dump *d, size_t *n)
{
	*n = d->n;
	return d->procs;
}

static int fail(struct dump_process *p, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets why the process could not be read; returns @status. */
static int fail(struct dump_process *p, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->status = status;
	return status;
}

/* The verdict of py_target_analyse() as the process's status, with the message. */
static int analyse(struct dump_process *p, struct reading *r)
{
	char why[256];
	enum py_target_error e = py_target_analyse(NULL, p->pid, &r->t, why, sizeof(why));

	snprintf(p->comm, sizeof(p->comm), "%s", r->t.comm);
	snprintf(p->cmdline, sizeof(p->cmdline), "%s", r->t.cmdline);
	snprintf(p->version, sizeof(p->version), "%s", r->t.version);
	snprintf(p->exe, sizeof(p->exe), "%s", r->t.binary);
	switch (e) {
	case PY_TARGET_OK:
		return 0;
	case PY_TARGET_EXITED:
		p->no_python = true;
		return fail(p, EXIT_TARGET, "%s", "no such process");
	case PY_TARGET_NOT_PYTHON:
		p->no_python = true;
		return fail(p, EXIT_TARGET, "%s", proc_not_python_why(p->pid));
	case PY_TARGET_NO_ACCESS:
		return fail(p, EXIT_SYSTEM, "%s: %s", why, proc_access_fix());
	case PY_TARGET_NOT_YET:
	case PY_TARGET_UNSUPPORTED:
		break;
	}
	return fail(p, EXIT_TARGET, "%s", why);
}

/* Running, stopped or waiting, and for what: /proc's state and system call of the thread. */
static void read_activity(const struct reading *r, struct dump_thread *th)
{
	int32_t nr = -1;
	uint64_t arg0 = 0;
	char state;
	int got;

	th->syscall = -1;
	if (!th->tid || proc_read_thread_state(r->t.pid, (pid_t)th->tid, &state))
		return;
	if (state == 'R') {
		th->activity = DUMP_ACTIVITY_RUNNING;
		return;
	}
	if (state == 'T' || state == 't') {
		th->activity = DUMP_ACTIVITY_STOPPED;
		return;
	}
	if (state != 'S' && state != 'D')
		return; /* exiting ('Z', 'X'), or a state this does not know */
	got = proc_read_thread_syscall(r->t.pid, (pid_t)th->tid, &nr, &arg0);
	if (got == 1) {
		th->activity = DUMP_ACTIVITY_RUNNING; /* woke up in between */
		return;
	}
	if (got < 0)
		nr = -1;
	th->activity = DUMP_ACTIVITY_WAITING;
	th->syscall = nr;
	/* wait_reason's task states: TASK_INTERRUPTIBLE 1, TASK_UNINTERRUPTIBLE 2 */
	th->waiting_for = wait_reason(nr, arg0, state == 'D' ? 2 : 1, &r->gil);
}

/* Names walk[0]'s frames into frame_index. Returns 0 or -ENOMEM. */
static int symbolize(struct dump *d, const struct reading *r)
{
	const struct py_stack *s = d->walk[0];

	for (uint32_t i = 0; i < s->n; i++) {
		int64_t f = symbolizer__frame(d->sy, &r->t, r->proc_id, NULL, 0, &s->frames[i]);

		if (f < 0)
			return -ENOMEM;
		d->frame_index[i] = (uint32_t)f;
	}
	return 0;
}

/*
 * Walks the frames of @ts into walk[0], named, until two walks in a row agree: the code
 * objects were read while the frames running them stood still, so they were alive. A
 * thread whose frames still differ from the next walk after READS_MAX named walks is shown
 * from the last of them, marked as changing.
 */
static int read_frames(struct dump *d, const struct reading *r, uint64_t tstate,
		       struct dump_thread *th)
{
	int err = py_walk_stack(&r->t, tstate, d->walk[0]);

	if (err) {
		th->unreadable = true;
		return 0;
	}
	for (int walks = 1;; walks++) {
		struct py_stack *newer = d->walk[1];

		err = symbolize(d, r);
		if (err)
			return err;
		if (py_walk_stack(&r->t, tstate, newer) == 0 && py_stack_same(d->walk[0], newer))
			break;
		if (walks == READS_MAX) {
			th->changing = true;
			break;
		}
		d->walk[1] = d->walk[0];
		d->walk[0] = newer;
	}
	th->truncated = d->walk[0]->flags & SAMPLE_TRUNCATED;
	th->unreadable = d->walk[0]->flags & SAMPLE_READ_ERROR;
	return 0;
}

/* walk[0]'s frames, named, with their source lines, into @th. Returns 0 or -ENOMEM. */
static int keep_frames(struct dump *d, const struct reading *r, struct dump_thread *th)
{
	const struct session_frame *all;
	size_t nall;
	char source[SOURCE_LINE_MAX + 8];

	if (!d->walk[0]->n)
		return 0;
	th->frames = calloc(d->walk[0]->n, sizeof(*th->frames));
	if (!th->frames)
		return -ENOMEM;
	all = session__frames(d->strings, &nall);
	for (uint32_t i = 0; i < d->walk[0]->n; i++) {
		const struct session_frame *f = &all[d->frame_index[i]];
		struct dump_frame *out = &th->frames[th->nframes++];

		out->name = f->name;
		out->file = f->file;
		out->line = f->kind == FRAME_PYTHON ? f->line : 0;
		if (r->sources && out->line &&
		    source_files__line(r->sources, out->file, out->line, source, sizeof(source)) ==
			    0) {
			out->source = strdup(source);
			if (!out->source)
				return -ENOMEM;
		}
	}
	return 0;
}

static int read_thread(struct dump *d, const struct reading *r, const struct py_thread_state *ts,
		       struct dump_thread *th)
{
	const char *name;
	int err;

	th->ident = ts->ident;
	th->tid = thread_tids__find(r->tids, ts->ident);
	name = py_thread_names__find(r->names, &r->t, ts->ident, th->tid);
	th->holds_gil = r->gil_known ? r->gil_holder == ts->addr : -1;
	if (name)
		snprintf(th->name, sizeof(th->name), "%s", name);
	else if (th->tid)
		proc_read_thread_comm(r->t.pid, (pid_t)th->tid, th->name, sizeof(th->name));
	err = read_frames(d, r, ts->addr, th);
	if (!err)
		err = keep_frames(d, r, th);
	read_activity(r, th);
	return err;
}

/* By TID, threads whose TID is unknown last, each in CPython's order otherwise. */
static int by_tid(const void *a, const void *b)
{
	const struct dump_thread *x = a, *y = b;
	uint64_t kx = x->tid ? x->tid : UINT64_MAX, ky = y->tid ? y->tid : UINT64_MAX;

	return kx < ky ? -1 : kx > ky;
}

/* Everything about process p->pid that can be read; its status. */
static int read_process(struct dump *d, struct dump_process *p, struct reading *r)
{
	struct py_thread_state *states = NULL;
	char root[64], cwd[64];
	int n, err = analyse(p, r);

	if (err)
		return err;
	if (!r->t.gil_addr)
		py_target_find_gil(&r->t); /* 3.12+ (gh-99113): none at analysis, maybe */
	r->gil = (struct gil_range){ r->t.gil_addr, r->t.gil_size };
	r->gil_known = py_target_gil_holder(&r->t, &r->gil_holder) == 0;
	states = malloc(PY_WALK_THREADS_MAX * sizeof(*states));
	if (!states)
		return -ENOMEM;
	n = py_walk_threads(&r->t, states, PY_WALK_THREADS_MAX, &p->threads_cut);
	if (n == -EAGAIN)
		n = 0; /* no interpreter yet: no Python threads */
	if (n < 0) {
		free(states);
		return fail(p, n == -EPERM || n == -EACCES ? EXIT_SYSTEM : EXIT_TARGET,
			    "cannot read its thread states: %s", strerror(-n));
	}
	r->tids = thread_tids__read(r->t.pid, r->t.tls_kind == TLS_GLIBC);
	r->names = py_thread_names__new(); /* NULL: the kernel's names only */
	if (r->names)
		py_thread_names__read(r->names, &r->t, now_ns());
	snprintf(root, sizeof(root), "/proc/%d/root", p->pid);
	snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", p->pid);
	r->sources = source_files__open(root, cwd); /* NULL: no source lines */
	p->threads = n ? calloc((size_t)n, sizeof(*p->threads)) : NULL;
	err = n && !p->threads ? -ENOMEM : 0;
	for (int i = 0; !err && i < n; i++) {
		err = read_thread(d, r, &states[i], &p->threads[i]);
		p->nthreads++;
	}
	if (!err && d->tasks)
		err = read_tasks(d, r, p, states, n);
	free(states);
	if (err)
		return err;
	qsort(p->threads, p->nthreads, sizeof(*p->threads), by_tid);
	if (!proc_is_running(p->pid, r->t.start_time))
		return fail(p, EXIT_TARGET, "%s", "exited while it was read");
	return 0;
}

int dump__add(struct dump *d, pid_t pid)
{
	struct dump_process *p;
	struct reading r = { .proc_id = d->n + 1 };
	int status;

	if (GROW(d->procs, d->cap, d->n + 1, 4))
		return -ENOMEM;
	p = &d->procs[d->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	status = read_process(d, p, &r);
	if (status < 0)
		status = fail(p, EXIT_NOMEM, "%s", "out of memory");
	if (status)
		free_threads(p);
	thread_tids__free(r.tids);
	py_thread_names__free(r.names);
	source_files__close(r.sources);
	symbolizer__forget(d->sy, r.proc_id);
	return status;
}

static int add_descendant(pid_t pid, void *ctx)
{
	struct dump *d = ctx;
	int status = dump__add(d, pid);
	struct dump_process *p;

	if (status <= 0)
		return status;
	p = &d->procs[d->n - 1];
	/* only the Python ones are asked for: the shells and helpers between them are not */
	if (p->no_python)
		pr_debug("process %d: %s: left out\n", pid, p->error);
	else
		pr_warn("process %d, a descendant: %s: left out\n", pid, p->error);
	d->n--;
	return 0;
}

int dump__add_descendants(struct dump *d)
{
	pid_t *roots = malloc((d->n ? d->n : 1) * sizeof(*roots));
	size_t n = d->n;
	int found;

	if (!roots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		roots[i] = d->procs[i].pid;
	found = proc_tree_walk(roots, n, add_descendant, d);
	free(roots);
	if (found == -ENOMEM)
		return found;
	if (found < 0)
		pr_warn("cannot find the processes' descendants in /proc: %s\n", strerror(-found));
	return EXIT_OK;
}

int dump_run(const struct dump_opts *o)
{
	const struct dump_process *procs;
	struct dump *d;
	int ret = EXIT_OK;
	size_t n;

	log_level = LOG_WARN + o->verbose;
	d = dump__new();
	if (!d) {
		pr_error("out of memory\n");
		return EXIT_NOMEM;
	}
	if (o->async)
		dump__want_tasks(d);
	for (size_t i = 0; i < o->n_pids; i++) {
		int status = dump__add(d, o->pids[i]);

		if (status < 0) {
			pr_error("out of memory\n");
			dump__free(d);
			return EXIT_SYSTEM;
		}
		if (status) {
			pr_error("process %d: %s\n", o->pids[i], d->procs[d->n - 1].error);
			if (ret == EXIT_OK)
				ret = status;
		}
	}
	if (o->subprocesses && dump__add_descendants(d) < 0) {
		pr_error("out of memory\n");
		dump__free(d);
		return EXIT_NOMEM;
	}
	procs = dump__processes(d, &n);
	if (o->json)
		dump_write_json(stdout, procs, n);
	else
		dump_write_text(stdout, procs, n, o->color);
	if ((fflush(stdout) || ferror(stdout)) && errno == EPIPE) {
		/* `| head`: the reader had what it wanted (SIGPIPE is ignored: temp_files.h) */
		fprintf(stderr,
			"pyflare: stdout was closed by its reader: the dump is cut short\n");
	} else if (ferror(stdout)) {
		pr_error("cannot write the dump: %s\n", strerror(errno));
		ret = EXIT_TARGET;
	}
	dump__free(d);
	return ret;
}
