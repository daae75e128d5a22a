/* SPDX-License-Identifier: MIT */
/*
 * py_asyncio.h — a process's asyncio tasks, read from outside it (CPython 3.14+), as
 * `python -m asyncio pstree` reads them: through the offsets the _asyncio module publishes
 * for debuggers (_AsyncioDebug, section .AsyncioDebug, Modules/_asynciomodule.c) and the
 * interpreter's own _Py_DebugOffsets (coroutines, sets, types).
 *
 * Every task lives in a linked list of its thread state (its loop's thread) or, once that
 * thread is gone, of its interpreter. A task's name, its coroutine, the future it waits on
 * and the tasks that await it are fields of the task object; what a suspended coroutine
 * awaits is the top of its frame's value stack. The process runs on while it is read:
 * every read is bounded and a list that loops or stops being readable is cut.
 */
#ifndef PYFLARE_PY_ASYNCIO_H
#define PYFLARE_PY_ASYNCIO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyflare.h"

struct py_target;

/* Byte offsets: the module's _Py_AsyncioModuleDebugOffsets and the interpreter's. */
struct py_asyncio {
	/* TaskObj (Modules/_asynciomodule.c) */
	uint32_t task_size, task_name, task_awaited_by, task_is_task, task_awaited_by_is_set;
	uint32_t task_coro, task_node;
	uint32_t is_tasks_head;	  /* PyInterpreterState: tasks of threads that are gone */
	uint32_t ts_running_loop; /* _PyThreadStateImpl */
	uint32_t ts_running_task, ts_tasks_head;
	/* from _Py_DebugOffsets */
	uint16_t tp_name, tp_flags;		/* PyTypeObject */
	uint16_t set_used, set_table, set_mask; /* PySetObject */
	uint16_t long_tag, long_digit;		/* PyLongObject (3.12+ layout) */
	uint16_t gi_iframe, gi_frame_state;	/* PyGenObject: the coroutine's own frame */
	uint16_t fr_stackpointer;		/* _PyInterpreterFrame */
	uint16_t ts_native_thread_id;		/* PyThreadState */
	uint8_t yield_from_slot; /* a suspended frame's awaitable: stackpointer[-slot] */
	int8_t frame_yield_from; /* gi_frame_state of a coroutine suspended in an await */
	int8_t frame_executing;	 /* gi_frame_state of a running one; above: no frame */
};

/* Finds @t's asyncio offsets: 0, -ENOENT (asyncio not imported yet), -ENOTSUP (before
 * 3.14, or a 3.14+ this build has no _Py_DebugOffsets positions for), -EINVAL (offsets
 * that make no sense), or another -errno. @modules_only: look in a mapped _asyncio module
 * only, not in the interpreter file (which, if _asyncio is built in, has it from the
 * start: a search repeated until asyncio is imported need not read it again). */
int py_asyncio_find(const struct py_target *t, struct py_asyncio *out, bool modules_only);

/* Why task attribution is not available for @t (py_asyncio_find()'s @err), in a sentence. */
const char *py_asyncio_why_not(const struct py_target *t, int err);

enum py_task_state {
	PY_TASK_RUNNING = 0, /* its thread steps it now */
	PY_TASK_WAITING,     /* suspended on a future (waiter) */
	PY_TASK_READY,	     /* scheduled: waits for the loop to step it */
	PY_TASK_DONE,	     /* finished or cancelled, not freed yet */
};

#define PY_TASK_AWAITERS_MAX 8 /* awaiting tasks kept per task */
#define PY_TASK_NAME_MAX 128

struct py_task {
	uint64_t addr;
	char name[PY_TASK_NAME_MAX]; /* "Task-3" for an unnamed one, as get_name() says */
	uint64_t coro;		     /* its coroutine; 0 once done */
	uint64_t waiter;	     /* the future it is suspended on; 0 when none */
	enum py_task_state state;    /* RUNNING is for the caller to tell (running task) */
	uint64_t awaited_by[PY_TASK_AWAITERS_MAX]; /* the tasks awaiting it */
	size_t n_awaited_by;
};

/* Reads the task at @addr. Returns 0, or -errno (-EINVAL: not a task). */
int py_asyncio_task(const struct py_target *t, const struct py_asyncio *a, uint64_t addr,
		    struct py_task *out);

/* The task thread state @tstate steps now, 0 for none, or -errno. */
int py_asyncio_running_task(const struct py_target *t, const struct py_asyncio *a, uint64_t tstate,
			    uint64_t *task);

/* The tasks of thread state @tstate (@tstate 0: those of the main interpreter whose thread
 * is gone), at most @max. Returns how many, or -errno; *@cut when the list was cut short. */
int py_asyncio_tasks(const struct py_target *t, const struct py_asyncio *a, uint64_t tstate,
		     uint64_t *out, size_t max, bool *cut);

/* The frames of coroutine @coro and those it awaits, outermost first, at most @max:
 * how many (0 when it is done), or -errno. */
int py_asyncio_coro_frames(const struct py_target *t, const struct py_asyncio *a, uint64_t coro,
			   struct py_frame *out, size_t max);

/* The code object coroutine @coro runs (to find its frame in a thread's stack), or 0. */
uint64_t py_asyncio_coro_code(const struct py_target *t, const struct py_asyncio *a, uint64_t coro);

enum py_await_kind {
	PY_AWAIT_FUTURE = 0, /* a future something else completes (I/O, a timer, a queue) */
	PY_AWAIT_TASK,	     /* another task: @name is its name */
	PY_AWAIT_GATHER,     /* asyncio.gather()'s future */
};

/* What the future @waiter a task is suspended on is. */
enum py_await_kind py_asyncio_awaits(const struct py_target *t, const struct py_asyncio *a,
				     uint64_t waiter, char *name, size_t len);

#endif /* PYFLARE_PY_ASYNCIO_H */
