/* SPDX-License-Identifier: MIT */
/* py_asyncio.c — asyncio tasks read from outside the process (3.14+): see py_asyncio.h. */
#include "python/py_asyncio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/elf_file.h"
#include "host/proc_info.h"
#include "host/remote.h"
#include "python/py_target.h"
#include "python/py_walk.h"
#include "python/symbolize.h"

#define ASYNCIO_SECTION ".AsyncioDebug"
#define ASYNCIO_DEBUG_BYTES (13 * 8) /* 3.14's _Py_AsyncioModuleDebugOffsets: 13 uint64_t */
#define TASKS_MAX_WALK 100000	     /* a task list longer than this is taken as looping */
#define SET_TABLE_MAX 4096	     /* awaited_by sets larger than this are not read */
#define TASK_READ_MAX 512	     /* bytes of a TaskObj read at once */

/* Py_TPFLAGS_LONG_SUBCLASS, Py_TPFLAGS_UNICODE_SUBCLASS (Include/object.h) */
#define TPFLAGS_LONG (1UL << 24)
#define TPFLAGS_UNICODE (1UL << 28)

/*
 * Where the fields py_asyncio reads sit inside _Py_DebugOffsets (each a uint64_t), which
 * grows between minors (Include/internal/pycore_debug_offsets.h); read from a running
 * Debian python3.14 (3.14.10) and checked against its known values (PyGenObject 160 bytes
 * with its 88-byte frame at 72; gi_frame_state at 67 after three char flags).
 */
struct asyncio_debug_pos {
	unsigned minor;
	uint16_t native_thread_id, stackpointer, tp_name, tp_flags;
	uint16_t set_used, set_table, set_mask, long_tag, long_digit;
	uint16_t gi_iframe, gi_frame_state;
	uint8_t yield_from_slot;
	/* gi_frame_state values (Include/internal/pycore_frame.h, renumbered in 3.15): suspended
	 * in an await (FRAME_SUSPENDED_YIELD_FROM), and running; the states before it (created,
	 * suspended) have a frame to show, those after (completed, cleared) none */
	int8_t frame_yield_from, frame_executing;
};

/* clang-format off */
static const struct asyncio_debug_pos debug_positions[] = {
	{ .minor = 14, .native_thread_id = 224, .stackpointer = 296, .tp_name = 424,
	  .tp_flags = 440, .set_used = 504, .set_table = 512, .set_mask = 520, .long_tag = 576,
	  .long_digit = 584, .gi_iframe = 680, .gi_frame_state = 688, .yield_from_slot = 1,
	  .frame_yield_from = -1, .frame_executing = 0 },
	/* 3.15 (Debian's 3.15.2, read the same way; the states and the awaited object's slot
	 * checked with ctypes in a running 3.15: two slots below the stack pointer, where
	 * CPython's own Modules/_remote_debugging/asyncio.c reads it, and run end to end by
	 * tests/functional/test_async.py) */
	{ .minor = 15, .native_thread_id = 224, .stackpointer = 360, .tp_name = 488,
	  .tp_flags = 504, .set_used = 600, .set_table = 608, .set_mask = 616, .long_tag = 672,
	  .long_digit = 680, .gi_iframe = 808, .gi_frame_state = 816, .yield_from_slot = 2,
	  .frame_yield_from = 2, .frame_executing = 4 },
};
/* clang-format on */

static uint64_t u64_at(const unsigned char *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

/* The .AsyncioDebug section of mapped file @m, read from the process: 0 or -errno. */
static int read_section(pid_t pid, const struct proc_mapping *m, unsigned char *buf)
{
	struct elf_file *e;
	uint64_t addr, size, bias;
	int fd, err;

	fd = py_target_open_mapped(pid, m);
	if (fd < 0)
		return fd;
	e = elf_file__open_fd(fd);
	close(fd);
	if (!e)
		return -errno;
	err = elf_file__section(e, ASYNCIO_SECTION, &addr, &size);
	if (!err && size < ASYNCIO_DEBUG_BYTES)
		err = -EINVAL;
	if (!err)
		err = elf_file__load_bias(e, m->start, m->offset, &bias);
	elf_file__free(e);
	return err ? err : remote_read(pid, bias + addr, buf, ASYNCIO_DEBUG_BYTES);
}

/* Whether @path (as the process names it, like t->binary) may hold the section: the
 * _asyncio module, or the interpreter itself unless @modules_only (a build with _asyncio
 * built in, as Debian's python3.15, whose symbol is _Py_AsyncioDebug: 3.14's was
 * _AsyncioDebug; the section's name and layout are the same). */
static bool may_hold_asyncio(const struct py_target *t, const char *path, bool modules_only)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "_asyncio.", strlen("_asyncio.")) ||
	       (!modules_only && !strcmp(path, t->binary));
}

static int find_section(const struct py_target *t, unsigned char *buf, bool modules_only)
{
	struct proc_mapping *maps = calloc(2048, sizeof(*maps));
	int n, err = -ENOENT;

	if (!maps)
		return -ENOMEM;
	n = py_target_read_maps(t->pid, maps, 2048);
	for (int i = 0; i < n && err; i++) {
		bool first = true;

		for (int j = 0; j < i && first; j++)
			first = strcmp(maps[j].path, maps[i].path) != 0;
		if (first && may_hold_asyncio(t, maps[i].path, modules_only)) {
			int e = read_section(t->pid, &maps[i], buf);

			if (e != -ENOENT)
				err = e;
		}
	}
	free(maps);
	return n < 0 ? n : err;
}

static int take32(uint32_t *dst, uint64_t v, uint64_t max)
{
	if (v >= max)
		return -EINVAL;
	*dst = (uint32_t)v;
	return 0;
}

int py_asyncio_find(const struct py_target *t, struct py_asyncio *out, bool modules_only)
{
	const struct asyncio_debug_pos *pos = NULL;
	unsigned char sec[ASYNCIO_DEBUG_BYTES], rt[1024];
	int err = 0;

	/* a free-threaded build's TaskObj fields other than the section's move with its header */
	if (t->layout.free_threaded)
		return -ENOTSUP;
	for (size_t i = 0; i < sizeof(debug_positions) / sizeof(debug_positions[0]); i++)
		if (debug_positions[i].minor == t->layout.minor)
			pos = &debug_positions[i];
	if (!pos)
		return -ENOTSUP;
	err = find_section(t, sec, modules_only);
	if (err)
		return err;
	/* _asyncio_task_object: size, name, awaited_by, is_task, awaited_by_is_set, coro, node */
	err |= take32(&out->task_size, u64_at(sec, 0), TASK_READ_MAX + 1);
	err |= take32(&out->task_name, u64_at(sec, 8), out->task_size);
	err |= take32(&out->task_awaited_by, u64_at(sec, 16), out->task_size);
	err |= take32(&out->task_is_task, u64_at(sec, 24), out->task_size);
	err |= take32(&out->task_awaited_by_is_set, u64_at(sec, 32), out->task_size);
	err |= take32(&out->task_coro, u64_at(sec, 40), out->task_size);
	err |= take32(&out->task_node, u64_at(sec, 48), out->task_size);
	/* _asyncio_interpreter_state: size, tasks_head */
	err |= take32(&out->is_tasks_head, u64_at(sec, 64), u64_at(sec, 56));
	/* _asyncio_thread_state: size, running_loop, running_task, tasks_head */
	err |= take32(&out->ts_running_loop, u64_at(sec, 80), u64_at(sec, 72));
	err |= take32(&out->ts_running_task, u64_at(sec, 88), u64_at(sec, 72));
	err |= take32(&out->ts_tasks_head, u64_at(sec, 96), u64_at(sec, 72));
	/* the future a task waits on (task_fut_waiter) is the field before its coroutine, and its
	 * state (fut_state, an int) the one before is_task, in 3.14's and 3.15's TaskObj */
	if (err || out->task_coro < 8 || out->task_is_task < 4 || out->task_size < 16)
		return -EINVAL;
	err = remote_read(t->pid, t->runtime_addr, rt, sizeof(rt));
	if (err)
		return err;
	out->ts_native_thread_id = (uint16_t)u64_at(rt, pos->native_thread_id);
	out->fr_stackpointer = (uint16_t)u64_at(rt, pos->stackpointer);
	out->tp_name = (uint16_t)u64_at(rt, pos->tp_name);
	out->tp_flags = (uint16_t)u64_at(rt, pos->tp_flags);
	out->set_used = (uint16_t)u64_at(rt, pos->set_used);
	out->set_table = (uint16_t)u64_at(rt, pos->set_table);
	out->set_mask = (uint16_t)u64_at(rt, pos->set_mask);
	out->long_tag = (uint16_t)u64_at(rt, pos->long_tag);
	out->long_digit = (uint16_t)u64_at(rt, pos->long_digit);
	out->gi_iframe = (uint16_t)u64_at(rt, pos->gi_iframe);
	out->gi_frame_state = (uint16_t)u64_at(rt, pos->gi_frame_state);
	out->yield_from_slot = pos->yield_from_slot;
	out->frame_yield_from = pos->frame_yield_from;
	out->frame_executing = pos->frame_executing;
	if (u64_at(rt, pos->stackpointer) >= 256 || u64_at(rt, pos->gi_iframe) >= 512 ||
	    u64_at(rt, pos->gi_frame_state) >= 512 || u64_at(rt, pos->tp_flags) >= 1024 ||
	    u64_at(rt, pos->tp_name) >= 1024 || u64_at(rt, pos->set_mask) >= 256 ||
	    u64_at(rt, pos->set_table) >= 256 || u64_at(rt, pos->set_used) >= 256 ||
	    u64_at(rt, pos->long_digit) >= 256 || u64_at(rt, pos->native_thread_id) >= 4096)
		return -EINVAL;
	return 0;
}

const char *py_asyncio_why_not(const struct py_target *t, int err)
{
	if (t->layout.free_threaded)
		return "asyncio task attribution is not read on free-threaded builds yet";
	if (t->layout.minor < 14)
		return "asyncio task attribution needs CPython 3.14 or newer, whose _asyncio "
		       "module publishes its task layout for debuggers";
	if (err == -ENOENT)
		return "asyncio is not imported (yet)";
	if (err == -ENOTSUP)
		return "this pyflare does not know where this CPython keeps coroutine and set "
		       "offsets in _Py_DebugOffsets";
	return "its _asyncio module's debug offsets could not be read";
}

/* The type of object @obj, and that type's flags. */
static int type_of(const struct py_target *t, const struct py_asyncio *a, uint64_t obj,
		   uint64_t *type, uint64_t *flags)
{
	int err = remote_read_u64(t->pid, obj + t->layout.ob_type, type);

	return err ? err : remote_read_u64(t->pid, *type + a->tp_flags, flags);
}

/* A task's name: a str, or the int of an unnamed task (Task.get_name() says "Task-N"). */
static void task_name(const struct py_target *t, const struct py_asyncio *a, uint64_t obj,
		      char *buf, size_t len)
{
	uint64_t type, flags, tag, digits[2] = { 0, 0 };

	snprintf(buf, len, "?");
	if (!obj || type_of(t, a, obj, &type, &flags))
		return;
	if (flags & TPFLAGS_UNICODE) {
		if (symbolize_read_str(t, obj, buf, len))
			snprintf(buf, len, "?");
		return;
	}
	if (!(flags & TPFLAGS_LONG) || remote_read_u64(t->pid, obj + a->long_tag, &tag))
		return;
	/* 3.12+ lv_tag: digit count << 3 | sign; 30-bit digits (Include/cpython/longintrepr.h) */
	if ((tag & 3) == 1 || (tag >> 3) == 0) {
		snprintf(buf, len, "Task-0");
		return;
	}
	if ((tag >> 3) > 2 || remote_read(t->pid, obj + a->long_digit, digits, 8))
		return;
	{
		uint32_t d[2];

		memcpy(d, digits, sizeof(d));
		snprintf(buf, len, "Task-%llu",
			 (unsigned long long)(d[0] & 0x3fffffff) +
				 ((tag >> 3) > 1 ? (unsigned long long)(d[1] & 0x3fffffff) << 30 :
						   0));
	}
}

/* Whether @obj is a task (its is_task byte, in every C Future and Task). */
static bool is_task(const struct py_target *t, const struct py_asyncio *a, uint64_t obj)
{
	unsigned char b = 0;

	return obj && !(obj & 7) && !remote_read(t->pid, obj + a->task_is_task, &b, 1) && b == 1;
}

/* The tasks in awaited_by, a single future or a set of them. */
static void awaiters(const struct py_target *t, const struct py_asyncio *a, uint64_t obj,
		     bool is_set, struct py_task *out)
{
	uint64_t mask, used, table, entry[2];

	if (!obj)
		return;
	if (!is_set) {
		if (is_task(t, a, obj))
			out->awaited_by[out->n_awaited_by++] = obj;
		return;
	}
	if (remote_read_u64(t->pid, obj + a->set_mask, &mask) ||
	    remote_read_u64(t->pid, obj + a->set_used, &used) ||
	    remote_read_u64(t->pid, obj + a->set_table, &table) || mask >= SET_TABLE_MAX)
		return;
	/* setentry: { key, hash }; a NULL key is empty, a dummy key is no task */
	for (uint64_t i = 0; i <= mask && out->n_awaited_by < PY_TASK_AWAITERS_MAX; i++) {
		if (remote_read(t->pid, table + i * 16, entry, sizeof(entry)))
			return;
		if (is_task(t, a, entry[0]))
			out->awaited_by[out->n_awaited_by++] = entry[0];
	}
}

int py_asyncio_task(const struct py_target *t, const struct py_asyncio *a, uint64_t addr,
		    struct py_task *out)
{
	unsigned char buf[TASK_READ_MAX];
	int32_t state;
	int err;

	memset(out, 0, sizeof(*out));
	if (!addr || (addr & 7))
		return -EINVAL;
	err = remote_read(t->pid, addr, buf, a->task_size);
	if (err)
		return err;
	if (buf[a->task_is_task] != 1)
		return -EINVAL;
	out->addr = addr;
	out->coro = u64_at(buf, a->task_coro) & ~3ULL;
	out->waiter = u64_at(buf, a->task_coro - 8);
	memcpy(&state, buf + a->task_is_task - 4, sizeof(state));
	out->state = state != 0 ? PY_TASK_DONE : out->waiter ? PY_TASK_WAITING : PY_TASK_READY;
	task_name(t, a, u64_at(buf, a->task_name) & ~3ULL, out->name, sizeof(out->name));
	awaiters(t, a, u64_at(buf, a->task_awaited_by), buf[a->task_awaited_by_is_set] != 0, out);
	return 0;
}

int py_asyncio_running_task(const struct py_target *t, const struct py_asyncio *a, uint64_t tstate,
			    uint64_t *task)
{
	return remote_read_u64(t->pid, tstate + a->ts_running_task, task);
}

int py_asyncio_tasks(const struct py_target *t, const struct py_asyncio *a, uint64_t tstate,
		     uint64_t *out, size_t max, bool *cut)
{
	uint64_t head, node, interp;
	size_t n = 0, steps = 0;
	int err;

	*cut = false;
	if (tstate) {
		head = tstate + a->ts_tasks_head;
	} else {
		err = remote_read_u64(t->pid, t->runtime_addr + t->layout.rt_interp_main, &interp);
		if (err || !interp)
			return err ? err : 0;
		head = interp + a->is_tasks_head;
	}
	/* struct llist_node { next, prev }: a circle through the head */
	err = remote_read_u64(t->pid, head, &node);
	if (err)
		return err;
	while (node && node != head) {
		if ((node & 7) || ++steps > TASKS_MAX_WALK || n >= max) {
			*cut = true;
			break;
		}
		out[n++] = node - a->task_node;
		if (remote_read_u64(t->pid, node, &node)) {
			*cut = true;
			break;
		}
	}
	return (int)n;
}

/* The coroutine's own frame (gi_iframe), and whether it is suspended in an await. */
static int coro_frame(const struct py_target *t, const struct py_asyncio *a, uint64_t coro,
		      uint64_t *frame, bool *awaiting)
{
	int8_t state;
	int err = remote_read(t->pid, coro + a->gi_frame_state, &state, 1);

	if (err)
		return err;
	*frame = coro + a->gi_iframe;
	*awaiting = state == a->frame_yield_from;
	return state > a->frame_executing ? -ENOENT : 0; /* completed or cleared */
}

uint64_t py_asyncio_coro_code(const struct py_target *t, const struct py_asyncio *a, uint64_t coro)
{
	struct py_frame f;
	uint64_t frame;
	bool awaiting;

	if (!coro || coro_frame(t, a, coro, &frame, &awaiting) || py_walk_frame(t, frame, &f))
		return 0;
	return f.code;
}

int py_asyncio_coro_frames(const struct py_target *t, const struct py_asyncio *a, uint64_t coro,
			   struct py_frame *out, size_t max)
{
	uint64_t type, next_type, flags, frame, sp, next;
	size_t n = 0;
	bool awaiting;

	if (!coro || type_of(t, a, coro, &type, &flags))
		return 0;
	while (coro && n < max) {
		if (coro_frame(t, a, coro, &frame, &awaiting) || py_walk_frame(t, frame, &out[n]))
			break;
		n++;
		/* what it awaits: the top of its value stack, followed while it is a coroutine
		 * of the same type (as Lib/asyncio/tools.py's reader does) */
		if (!awaiting || remote_read_u64(t->pid, frame + a->fr_stackpointer, &sp) || !sp ||
		    remote_read_u64(t->pid, sp - 8ULL * a->yield_from_slot, &next))
			break;
		next &= ~3ULL; /* a _PyStackRef's tag bits */
		if (!next || type_of(t, a, next, &next_type, &flags) || next_type != type)
			break;
		coro = next;
	}
	return (int)n;
}

enum py_await_kind py_asyncio_awaits(const struct py_target *t, const struct py_asyncio *a,
				     uint64_t waiter, char *name, size_t len)
{
	uint64_t type, flags, tp_name = 0;
	char type_name[32] = "";
	struct py_task task;

	if (len)
		name[0] = '\0';
	if (is_task(t, a, waiter)) {
		if (!py_asyncio_task(t, a, waiter, &task))
			snprintf(name, len, "%s", task.name);
		return PY_AWAIT_TASK;
	}
	if (!waiter || type_of(t, a, waiter, &type, &flags) ||
	    remote_read_u64(t->pid, type + a->tp_name, &tp_name) ||
	    remote_read(t->pid, tp_name, type_name, sizeof(type_name) - 1))
		return PY_AWAIT_FUTURE;
	type_name[sizeof(type_name) - 1] = '\0';
	/* tasks.py's class _GatheringFuture(futures.Future) */
	return !strcmp(type_name, "_GatheringFuture") ? PY_AWAIT_GATHER : PY_AWAIT_FUTURE;
}
