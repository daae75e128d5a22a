/* SPDX-License-Identifier: MIT */
/*
 * async_tasks.c — --async: samples by asyncio task (CPython 3.14+).
 *
 * The kernel reads, with each sample, the task its thread was stepping
 * (bpf/asyncio.bpf.h); here that task's name and the chain of tasks awaiting it become
 * frames of kind FRAME_TASK, outermost awaiter first, put where the task's coroutine
 * begins in the stack: the event loop's frames below it are cut. Names are read from the
 * process when the sample is handled (a poll later at most), so a task renamed or freed in
 * between is shown by its new name, or not at all (its coroutine is no longer in the stack).
 *
 * In wall mode the tasks that do not run are read at every poll: each one suspended on a
 * future is charged the time since the last poll at its await, ending in what it awaits.
 * The event loop's own idle wait stays the thread's, under no task.
 */
#include "record/recorder.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keymap.h"
#include "lib/log.h"
#include "python/py_asyncio.h"
#include "python/py_walk.h"
#include "python/symbolize.h"
#include "host/thread_tids.h"
#include "pyflare.skel.h"

/* asyncio imported later: looked for after 50 ms, then ever less often, up to every 2 s (a
 * host-wide recording has many processes that never import it) */
#define FIND_RETRY_NS 50000000ULL
#define FIND_RETRY_MAX_NS 2000000000ULL
#define CHAIN_MAX 16			 /* awaiting tasks shown above a task */
#define CORO_FRAMES_MAX 128		 /* frames of a suspended task's coroutines */
#define TASKS_MAX 4096			 /* tasks of a thread read in wall mode */
#define TASK_VIEW_MS 100		 /* a task's name and awaiters, read again after this */
#define TASK_VIEWS_MAX 65536		 /* entries of the tasks' cache before it starts over */
#define WAIT_WEIGHT_MAX_NS 1000000000ULL /* a poll late by more is not charged whole */

struct find_ctx {
	struct collector *c;
	uint64_t now;
};

static void find_one(const struct keymap_key *k, uint64_t value, void *ctx)
{
	struct find_ctx *f = ctx;
	struct collector *c = f->c;
	struct tracked *t = (struct tracked *)(uintptr_t)value;
	struct py_async_proc entry;
	struct py_asyncio a;
	__u32 key = (__u32)t->target.pid;
	int err;

	(void)k;
	if (!t->alive || t->asyncio || f->now < t->asyncio_retry_ns)
		return;
	err = py_asyncio_find(&t->target, &a, t->asyncio_tries != 0);
	t->asyncio_retry_ns = f->now + (t->asyncio_tries < 6 ? FIND_RETRY_NS << t->asyncio_tries :
							       FIND_RETRY_MAX_NS);
	t->asyncio_tries++;
	if (err && err != -ENOENT) {
		t->asyncio_retry_ns = UINT64_MAX; /* it will not change */
		/* said once a recording; each process with -v (-a meets many) */
		if (!c->async_said)
			pr_warn("process %d: --async: %s; its samples are not split by task\n",
				t->target.pid, py_asyncio_why_not(&t->target, err));
		else
			pr_info("process %d: --async: %s\n", t->target.pid,
				py_asyncio_why_not(&t->target, err));
		c->async_said = true;
	}
	if (err)
		return;
	t->asyncio = malloc(sizeof(*t->asyncio));
	if (!t->asyncio)
		return;
	*t->asyncio = a;
	entry = (struct py_async_proc){ .proc_id = t->id, .ts_running_task = a.ts_running_task };
	if (bpf_map__update_elem(c->skel->maps.async_procs, &key, sizeof(key), &entry,
				 sizeof(entry), BPF_ANY))
		pr_warn("process %d: --async: cannot enter it in the kernel's table\n",
			t->target.pid);
	pr_debug("process %d: asyncio tasks readable (running task at +%u)\n", t->target.pid,
		 a.ts_running_task);
}

/* Looks for the asyncio offsets of the processes that have none yet. */
void async_find(struct collector *c, uint64_t now)
{
	struct find_ctx f = { c, now };

	keymap__each(c->tracked, find_one, &f);
}

/* Forgets a process instance's asyncio state (it exited or exec'd). */
void async_forget(struct collector *c, struct tracked *t)
{
	__u32 key = (__u32)t->target.pid;

	if (t->asyncio && c->skel)
		bpf_map__delete_elem(c->skel->maps.async_procs, &key, sizeof(key), 0);
	free(t->asyncio);
	t->asyncio = NULL;
}

/* The frame of task @task, "Task NAME". */
static int64_t task_frame(struct collector *c, const struct py_task *task)
{
	char name[PY_TASK_NAME_MAX + 8];

	snprintf(name, sizeof(name), "Task %s", task->name);
	return marker_frame(c, FRAME_TASK, name);
}

/*
 * The stack nodes of task @addr and the tasks awaiting it, outermost first: *@node is the
 * task's own. Returns 0, or -ENOENT when @addr is no task now, or -ENOMEM.
 */
static int task_chain(struct collector *c, struct tracked *t, uint64_t addr, struct py_task *task,
		      int64_t *node)
{
	struct py_task chain[CHAIN_MAX];
	size_t n = 0;

	if (py_asyncio_task(&t->target, t->asyncio, addr, task))
		return -ENOENT;
	chain[n++] = *task;
	/* the first awaiting task of each: a task awaited by several (a shared one) is shown
	 * under one of them */
	while (n < CHAIN_MAX && chain[n - 1].n_awaited_by) {
		bool seen = false;

		for (size_t i = 0; i < n && !seen; i++)
			seen = chain[i].addr == chain[n - 1].awaited_by[0];
		if (seen ||
		    py_asyncio_task(&t->target, t->asyncio, chain[n - 1].awaited_by[0], &chain[n]))
			break;
		n++;
	}
	*node = 0;
	while (n-- > 0) {
		int64_t f = task_frame(c, &chain[n]);

		if (f < 0)
			return -ENOMEM;
		*node = session__intern_stack(c->s, (uint32_t)*node, (uint32_t)f);
		if (*node < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Interns frames @f[0..n) (outermost first) under @node: the new node, or -ENOMEM. */
static int64_t add_frames(struct collector *c, struct tracked *t, uint64_t proc_id, int64_t node,
			  const struct py_frame *f, size_t n, bool innermost_first)
{
	for (size_t i = 0; i < n && node >= 0; i++) {
		const struct py_frame *fr = innermost_first ? &f[n - 1 - i] : &f[i];
		int64_t frame = symbolizer__frame(c->sym, t->alive ? &t->target : NULL, proc_id,
						  NULL, 0, fr);

		if (frame < 0)
			return -ENOMEM;
		node = session__intern_stack(c->s, (uint32_t)node, (uint32_t)frame);
	}
	return node < 0 ? -ENOMEM : node;
}

/*
 * What samples of task @addr need: the code its coroutine runs and the stack node of the
 * task under those awaiting it. Kept TASK_VIEW_MS of the samples' clock, so a task
 * sampled a thousand times a second is read ten times. Returns 0, -ENOENT (no task that
 * can be read there) or -ENOMEM.
 */
static int task_view(struct collector *c, struct tracked *t, uint64_t proc_id, uint64_t addr,
		     uint64_t time_ns, uint64_t *code, int64_t *node)
{
	struct keymap_key kcode = { proc_id, addr, 0 }, knode = { proc_id, addr, 1 };
	uint64_t ms = time_ns / 1000000, v;
	struct py_task task;
	int err;

	if (c->task_views && keymap__get(c->task_views, &kcode, code) &&
	    keymap__get(c->task_views, &knode, &v) && ms <= v >> 32) {
		*node = (int64_t)(uint32_t)v;
		return *code ? 0 : -ENOENT;
	}
	*code = py_asyncio_task(&t->target, t->asyncio, addr, &task) ?
			0 :
			py_asyncio_coro_code(&t->target, t->asyncio, task.coro);
	*node = 0;
	if (*code) {
		err = task_chain(c, t, addr, &task, node);
		if (err == -ENOMEM)
			return err;
		if (err)
			*code = 0;
	}
	if (!c->task_views || c->n_task_views >= TASK_VIEWS_MAX) {
		keymap__free(c->task_views); /* a long recording's tasks come and go */
		c->task_views = keymap__new();
		c->n_task_views = 0;
		if (!c->task_views)
			return -ENOMEM;
	}
	if (keymap__set(c->task_views, &kcode, *code) ||
	    keymap__set(c->task_views, &knode, (ms + TASK_VIEW_MS) << 32 | (uint32_t)*node))
		return -ENOMEM;
	c->n_task_views += 2;
	return *code ? 0 : -ENOENT;
}

int64_t async_sample_stack(struct collector *c, struct tracked *t, const struct py_sample *smp)
{
	uint64_t code;
	int64_t node;
	uint32_t at;
	int err;

	if (!smp->task || !t->asyncio || !t->alive)
		return 0;
	err = task_view(c, t, smp->proc_id, smp->task, smp->time_ns, &code, &node);
	if (err)
		return err == -ENOENT ? 0 : err;
	/* the task's coroutine: the outermost frame running its code */
	for (at = smp->nr_frames; at-- > 0;)
		if (smp->frames[at].code == code)
			break;
	if (at >= smp->nr_frames)
		return 0; /* the task no longer runs that coroutine: not shown as the task */
	return add_frames(c, t, smp->proc_id, node, smp->frames, at + 1, true);
}

/* What a suspended task waits for, as its stack's last frame: "[await sleep]"... */
static int64_t await_frame(struct collector *c, struct tracked *t, const struct py_task *task,
			   int64_t leaf_frame)
{
	const struct session_frame *frames;
	char what[PY_TASK_NAME_MAX], name[PY_TASK_NAME_MAX + 16];
	size_t nframes;

	frames = session__frames(c->s, &nframes);
	switch (py_asyncio_awaits(&t->target, t->asyncio, task->waiter, what, sizeof(what))) {
	case PY_AWAIT_TASK:
		snprintf(name, sizeof(name), "[await Task %s]", what);
		break;
	case PY_AWAIT_GATHER:
		snprintf(name, sizeof(name), "[await gather]");
		break;
	default:
		/* asyncio.sleep() awaits a future a timer completes: told by its frame */
		if (leaf_frame >= 0 && (size_t)leaf_frame < nframes &&
		    !strcmp(frames[leaf_frame].name, "sleep") &&
		    strstr(frames[leaf_frame].file, "asyncio/tasks.py"))
			snprintf(name, sizeof(name), "[await sleep]");
		else
			snprintf(name, sizeof(name), "[await I/O]");
	}
	return marker_frame(c, FRAME_WAIT, name);
}

/* Wall mode: charges @weight_ns to each suspended task of thread state @tstate. */
static int charge_thread(struct collector *c, struct tracked *t, uint64_t id,
			 const struct py_thread_state *ts, const struct thread_tids *tids,
			 uint64_t weight_ns, uint64_t now, uint64_t *tasks, struct py_frame *frames)
{
	uint64_t running = 0;
	int64_t thread = -1;
	bool cut;
	int n = py_asyncio_tasks(&t->target, t->asyncio, ts->addr, tasks, TASKS_MAX, &cut);

	py_asyncio_running_task(&t->target, t->asyncio, ts->addr, &running);
	for (int i = 0; i < n; i++) {
		struct py_task task;
		struct session_sample out;
		int64_t node, leaf = -1, wait;
		size_t nstacks;
		int nf, err;

		if (tasks[i] == running ||
		    py_asyncio_task(&t->target, t->asyncio, tasks[i], &task) ||
		    task.state != PY_TASK_WAITING)
			continue;
		nf = py_asyncio_coro_frames(&t->target, t->asyncio, task.coro, frames,
					    CORO_FRAMES_MAX);
		if (nf <= 0)
			continue;
		err = task_chain(c, t, tasks[i], &task, &node);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		node = add_frames(c, t, id, node, frames, (size_t)nf, false);
		if (node < 0)
			return (int)node;
		leaf = (int64_t)session__stacks(c->s, &nstacks)[node].frame;
		wait = await_frame(c, t, &task, leaf);
		if (wait < 0)
			return -ENOMEM;
		node = session__intern_stack(c->s, (uint32_t)node, (uint32_t)wait);
		if (node < 0)
			return -ENOMEM;
		if (thread < 0) {
			thread = thread_of(c, id, t, thread_tids__find(tids, ts->ident), ts->ident,
					   now);
			if (thread < 0)
				return (int)thread;
		}
		out = (struct session_sample){
			.time_ns = now > c->start_ns ? now - c->start_ns : 0,
			.weight_ns = weight_ns,
			.thread = (uint32_t)thread,
			.stack = (uint32_t)node,
		};
		err = session__add_sample(c->s, &out);
		if (err)
			return err;
	}
	return 0;
}

struct charge_ctx {
	struct collector *c;
	uint64_t now;
	struct py_thread_state *states;
	uint64_t *tasks;
	struct py_frame *frames;
	int err;
};

static void charge_one(const struct keymap_key *k, uint64_t value, void *ctx)
{
	struct charge_ctx *w = ctx;
	struct tracked *t = (struct tracked *)(uintptr_t)value;
	struct thread_tids *tids;
	uint64_t weight;
	bool cut;
	int n;

	(void)k;
	if (w->err || !t->alive || !t->asyncio)
		return;
	weight = t->asyncio_scan_ns ? w->now - t->asyncio_scan_ns : 0;
	t->asyncio_scan_ns = w->now;
	if (!weight)
		return;
	if (weight > WAIT_WEIGHT_MAX_NS)
		weight = WAIT_WEIGHT_MAX_NS;
	if (!w->states) {
		w->states = malloc(PY_WALK_THREADS_MAX * sizeof(*w->states));
		w->tasks = malloc(TASKS_MAX * sizeof(*w->tasks));
		w->frames = malloc(CORO_FRAMES_MAX * sizeof(*w->frames));
		if (!w->states || !w->tasks || !w->frames) {
			w->err = -ENOMEM;
			return;
		}
	}
	n = py_walk_threads(&t->target, w->states, PY_WALK_THREADS_MAX, &cut);
	tids = thread_tids__read(t->target.pid, t->target.tls_kind == TLS_GLIBC);
	for (int j = 0; j < n && !w->err; j++)
		w->err = charge_thread(w->c, t, t->id, &w->states[j], tids, weight, w->now,
				       w->tasks, w->frames);
	thread_tids__free(tids);
}

int async_charge_waits(struct collector *c, uint64_t now)
{
	struct charge_ctx w = { .c = c, .now = now };

	keymap__each(c->tracked, charge_one, &w);
	free(w.states);
	free(w.tasks);
	free(w.frames);
	return w.err;
}
