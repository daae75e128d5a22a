/* SPDX-License-Identifier: MIT */
/*
 * dump_tasks.c — `pyflare dump --async`: every asyncio task of a process (CPython 3.14+),
 * as `python -m asyncio pstree` lists them: its name, state, coroutine frames (the await
 * line innermost), what it awaits and the tasks awaiting it. Read and written here.
 */
#include "dump/dump_tasks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/json.h"
#include "python/py_asyncio.h"
#include "python/py_walk.h"
#include "python/symbolize.h"
#include "session/session.h"

#define TASKS_MAX 4096 /* tasks listed per thread */
#define FRAMES_MAX 128 /* coroutine frames per task */

static const char *state_name(enum py_task_state s)
{
	switch (s) {
	case PY_TASK_RUNNING:
		return "running";
	case PY_TASK_WAITING:
		return "waiting";
	case PY_TASK_READY:
		return "ready";
	default:
		return "done";
	}
}

static void task_awaits(const struct py_target *t, const struct py_asyncio *a,
			const struct py_task *task, const struct dump_frame *leaf, char *buf,
			size_t len)
{
	char what[PY_TASK_NAME_MAX];

	buf[0] = '\0';
	if (task->state != PY_TASK_WAITING)
		return;
	switch (py_asyncio_awaits(t, a, task->waiter, what, sizeof(what))) {
	case PY_AWAIT_TASK:
		snprintf(buf, len, "[await Task %s]", what);
		break;
	case PY_AWAIT_GATHER:
		snprintf(buf, len, "[await gather]");
		break;
	default:
		snprintf(buf, len,
			 leaf && !strcmp(leaf->name, "sleep") &&
					 strstr(leaf->file, "asyncio/tasks.py") ?
				 "[await sleep]" :
				 "[await I/O]");
	}
}

/* One task of thread @tid into @out. Returns 0, -ENOENT (gone meanwhile) or -ENOMEM. */
static int read_task(struct dump_tasks_reader *r, uint64_t addr, uint64_t running, uint32_t tid,
		     struct dump_task *out, struct py_frame *frames)
{
	const struct session_frame *all;
	struct py_task task;
	size_t nall;
	int n;

	if (py_asyncio_task(r->t, r->a, addr, &task))
		return -ENOENT;
	if (addr == running)
		task.state = PY_TASK_RUNNING;
	memset(out, 0, sizeof(*out));
	out->id = addr;
	out->tid = tid;
	snprintf(out->name, sizeof(out->name), "%s", task.name);
	out->state = state_name(task.state);
	for (size_t i = 0; i < task.n_awaited_by; i++)
		out->awaited_by[out->n_awaited_by++] = task.awaited_by[i];
	n = task.state == PY_TASK_RUNNING ?
		    0 :
		    py_asyncio_coro_frames(r->t, r->a, task.coro, frames, FRAMES_MAX);
	if (n > 0) {
		out->frames = calloc((size_t)n, sizeof(*out->frames));
		if (!out->frames)
			return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		int64_t f = symbolizer__frame(r->sy, r->t, r->proc_id, NULL, 0, &frames[i]);
		const struct session_frame *sf;

		if (f < 0)
			return -ENOMEM;
		all = session__frames(r->strings, &nall);
		sf = &all[f];
		/* innermost first, as a thread's frames */
		out->frames[n - 1 - i] = (struct dump_frame){
			.name = sf->name,
			.file = sf->file,
			.line = sf->kind == FRAME_PYTHON ? sf->line : 0,
		};
	}
	out->nframes = n > 0 ? (size_t)n : 0;
	task_awaits(r->t, r->a, &task, out->nframes ? &out->frames[0] : NULL, out->awaits,
		    sizeof(out->awaits));
	return 0;
}

int dump_tasks_read(struct dump_tasks_reader *r, uint64_t tstate, uint32_t tid,
		    struct dump_process *p)
{
	uint64_t *tasks = malloc(TASKS_MAX * sizeof(*tasks)), running = 0;
	struct py_frame *frames = malloc(FRAMES_MAX * sizeof(*frames));
	bool cut = false;
	int n, err = 0;

	if (!tasks || !frames) {
		free(tasks);
		free(frames);
		return -ENOMEM;
	}
	if (tstate)
		py_asyncio_running_task(r->t, r->a, tstate, &running);
	n = py_asyncio_tasks(r->t, r->a, tstate, tasks, TASKS_MAX, &cut);
	p->tasks_cut |= cut;
	for (int i = 0; i < n && !err; i++) {
		struct dump_task *grown = realloc(p->tasks, (p->ntasks + 1) * sizeof(*p->tasks));

		if (!grown) {
			err = -ENOMEM;
			break;
		}
		p->tasks = grown;
		err = read_task(r, tasks[i], running, tid, &p->tasks[p->ntasks], frames);
		if (!err)
			p->ntasks++;
		else if (err == -ENOENT)
			err = 0;
	}
	free(tasks);
	free(frames);
	return err;
}

void dump_tasks_free(struct dump_process *p)
{
	for (size_t i = 0; i < p->ntasks; i++)
		free(p->tasks[i].frames);
	free(p->tasks);
	p->tasks = NULL;
	p->ntasks = 0;
}

/* The name of the task @id of @p, or NULL when it is not listed. */
static const char *task_name(const struct dump_process *p, uint64_t id)
{
	for (size_t i = 0; i < p->ntasks; i++)
		if (p->tasks[i].id == id)
			return p->tasks[i].name;
	return NULL;
}

void dump_tasks_write_text(FILE *out, const struct dump_process *p)
{
	if (p->tasks_note[0]) {
		fputs("\nAsyncio tasks: ", out);
		escape_put(out, p->tasks_note, NULL);
		putc('\n', out);
		return;
	}
	fprintf(out, "\nAsyncio tasks (%zu):\n", p->ntasks);
	for (size_t i = 0; i < p->ntasks; i++) {
		const struct dump_task *t = &p->tasks[i];

		fputs("  Task ", out);
		escape_put(out, t->name, NULL);
		fprintf(out, " (0x%llx) %s, thread %u", (unsigned long long)t->id, t->state,
			(unsigned)t->tid);
		if (t->awaits[0])
			fprintf(out, " %s", t->awaits);
		for (size_t j = 0; j < t->n_awaited_by; j++) {
			const char *by = task_name(p, t->awaited_by[j]);

			fputs(j ? ", " : "; awaited by ", out);
			if (by)
				escape_put(out, by, NULL);
			else
				fprintf(out, "0x%llx", (unsigned long long)t->awaited_by[j]);
		}
		putc('\n', out);
		for (size_t j = 0; j < t->nframes; j++) {
			fputs("      ", out);
			escape_put(out, t->frames[j].name, NULL);
			fputs(" (", out);
			escape_put(out, t->frames[j].file, NULL);
			fprintf(out, ":%u)\n", t->frames[j].line);
		}
	}
	if (p->tasks_cut)
		fputs("  (a list of tasks could not be read to its end)\n", out);
}

void dump_tasks_write_json(struct json_writer *w, const struct dump_process *p)
{
	json_break(w, "\n     ");
	json_key(w, "tasks_note");
	if (p->tasks_note[0])
		json_string(w, p->tasks_note);
	else
		json_null(w);
	json_key(w, "tasks");
	json_begin_array(w);
	for (size_t i = 0; i < p->ntasks; i++) {
		const struct dump_task *t = &p->tasks[i];

		json_break(w, "\n      ");
		json_begin_object(w);
		json_key_u64(w, "id", t->id);
		json_key_string(w, "name", t->name);
		json_key_string(w, "state", t->state);
		json_key_u64(w, "thread_tid", t->tid);
		json_key(w, "awaits");
		if (t->awaits[0])
			json_string(w, t->awaits);
		else
			json_null(w);
		json_key(w, "awaited_by");
		json_begin_array(w);
		for (size_t j = 0; j < t->n_awaited_by; j++) {
			const char *by = task_name(p, t->awaited_by[j]);

			if (by)
				json_string(w, by);
		}
		json_end_array(w);
		json_key(w, "frames");
		json_begin_array(w);
		for (size_t j = 0; j < t->nframes; j++) {
			json_begin_object(w);
			json_key_string(w, "name", t->frames[j].name);
			json_key_string(w, "file", t->frames[j].file);
			json_key_u64(w, "line", t->frames[j].line);
			json_end_object(w);
		}
		json_end_array(w);
		json_end_object(w);
	}
	json_end_array(w);
}
