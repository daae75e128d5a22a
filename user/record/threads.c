/* SPDX-License-Identifier: MIT */
/*
 * threads.c — thread naming: the session thread of each sampled thread, named after
 * threading's Thread.name when it can be read, else the kernel's name, and named again
 * while it keeps being sampled, since threads are often named after they start.
 */
#include "record/recorder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/proc_info.h"
#include "lib/grow.h"
#include "lib/keymap.h"
#include "python/py_thread_names.h"

/* A sampled thread's name (and threading's) is read again THREAD_NAME_MS after its first
 * sample, then twice as long after each read that found the name unchanged, up to every
 * THREAD_NAME_YOUNG_MS in its first THREAD_YOUNG_MS, up to every THREAD_NAME_OLD_MS after;
 * a new name starts that over. Threads are mostly named as they start, and a read costs
 * tens of system calls: at every second, the threads of long-lived processes made it a
 * fifth of the agent's time at 99 Hz. */
#define THREAD_NAME_MS 100
#define THREAD_NAME_YOUNG_MS 1000
#define THREAD_YOUNG_MS 10000
#define THREAD_NAME_OLD_MS 10000

/* Whether @t, alive when its names were read, still runs as the instance it was: once it
 * has ended, its PID (and its main thread's TID) may be another process's, whose names it
 * must not take. Asked after the reads: a zombie still has its names, a new process its own
 * start. */
static bool still_running(const struct tracked *t)
{
	uint64_t start_time;

	return !proc_read_start_time(t->target.pid, &start_time) &&
	       start_time == t->target.start_time;
}

/* threading's table of @t's threads, read again when older than THREAD_NAME_MS. Its entries
 * may be of threads that ended since, whose idents glibc hands on to new threads: a name is
 * only given to the thread whose TID its Thread holds (py_thread_names__find). */
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
static int read_thread_name(struct tracked *t, struct sampled_thread *st, uint64_t ms, char *name,
			    size_t len)
{
	const char *py;

	if (!t->alive)
		return -1;
	/* only the Thread whose TID is @st's names it: a thread gone (an off-CPU record is read
	 * after it ends) may share its ident with a newer one, as glibc reuses descriptors */
	py = py_thread_names__find(python_names(t, ms), &t->target, st->ident, st->tid);
	if (py) {
		snprintf(name, len, "%s", py);
		st->python_name = true;
	} else if (st->python_name ||
		   proc_read_thread_comm(t->target.pid, (pid_t)st->tid, name, len)) {
		return -1;
	}
	if (!still_running(t)) {
		name[0] = '\0';
		return -1;
	}
	return 0;
}

/* Renames session thread @st after what read_thread_name() finds now: 0 or -errno. */
static int rename_thread(struct collector *c, struct tracked *t, struct sampled_thread *st,
			 uint64_t ms)
{
	uint32_t most =
		ms < st->first_ms + THREAD_YOUNG_MS ? THREAD_NAME_YOUNG_MS : THREAD_NAME_OLD_MS;
	const struct session_thread *threads;
	char name[PY_THREAD_NAME_MAX];
	size_t count;

	st->named_ms = ms;
	st->name_every_ms = st->name_every_ms * 2 < most ? st->name_every_ms * 2 : most;
	if (read_thread_name(t, st, ms, name, sizeof(name)))
		return 0;
	threads = session__threads(c->s, &count);
	if (st->session_thread < count && strcmp(threads[st->session_thread].name, name) != 0) {
		st->name_every_ms = THREAD_NAME_MS; /* renamed: maybe again soon */
		return session__set_thread_name(c->s, st->session_thread, name);
	}
	return 0;
}

/*
 * The session thread of @tid, the main thread of @t, if an image before @t (which exec
 * replaced) had one already: renamed @name. -ENOENT if none.
 */
static int64_t main_thread_continued(struct collector *c, const struct tracked *t, uint32_t tid,
				     const char *name)
{
	struct keymap_key main = { (uint64_t)tid, t->target.start_time, 2 };
	const struct session_thread *threads;
	uint64_t known;
	size_t count;

	if (tid != (uint32_t)t->target.pid || !keymap__get(c->instances, &main, &known))
		return -ENOENT;
	threads = session__threads(c->s, &count);
	if (known - 1 >= count)
		return -EINVAL;
	if (*name && strcmp(threads[known - 1].name, name) &&
	    session__set_thread_name(c->s, (uint32_t)(known - 1), name))
		return -ENOMEM;
	return (int64_t)(known - 1);
}

/*
 * The session thread of (@t, @tid) at @time_ns, or -errno. A thread's name is read at its
 * first sample and again while it keeps being sampled (see THREAD_NAME_MS above): threads
 * are often named after they start (threading names OS threads from 3.14, applications
 * call prctl or set Thread.name), and the last name is the one people know them by.
 */
int64_t thread_of(struct collector *c, uint64_t id, struct tracked *t, uint32_t tid, uint64_t ident,
		  uint64_t time_ns)
{
	struct keymap_key key = { id, tid, 0 };
	uint64_t ptr, ms = time_ns / 1000000;
	struct sampled_thread *st;
	char name[PY_THREAD_NAME_MAX] = "";
	int64_t n;

	if (keymap__get(c->threads, &key, &ptr)) {
		int err;

		st = (struct sampled_thread *)(uintptr_t)ptr;
		if (st->ident != ident) { /* another thread under a reused TID */
			st->ident = ident;
			st->python_name = false;
			st->first_ms = ms;
			st->name_every_ms = THREAD_NAME_MS;
		} else if (ms < st->named_ms + st->name_every_ms) {
			return st->session_thread;
		}
		err = rename_thread(c, t, st, ms);
		return err ? err : (int64_t)st->session_thread;
	}
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	*st = (struct sampled_thread){ .proc_id = id,
				       .ident = ident,
				       .first_ms = ms,
				       .named_ms = ms,
				       .name_every_ms = THREAD_NAME_MS,
				       .tid = tid };
	read_thread_name(t, st, ms, name, sizeof(name));
	n = main_thread_continued(c, t, tid, name);
	if (n == -ENOENT) {
		n = session__add_thread(c->s, t->session_proc, tid, name);
		if (n >= 0 && tid == (uint32_t)t->target.pid) {
			struct keymap_key main = { (uint64_t)tid, t->target.start_time, 2 };

			if (keymap__set(c->instances, &main, (uint64_t)n + 1))
				n = -ENOMEM;
		}
	}
	if (n < 0 || keymap__set(c->threads, &key, (uint64_t)(uintptr_t)st)) {
		free(st);
		return -ENOMEM;
	}
	st->session_thread = (uint32_t)n;
	st->next = t->threads;
	t->threads = st;
	return n;
}

void forget_threads(struct collector *c, struct tracked *t)
{
	struct sampled_thread *st, *next;

	for (st = t->threads; st; st = next) {
		struct keymap_key key = { st->proc_id, st->tid, 0 };

		next = st->next;
		keymap__remove(c->threads, &key);
		free(st);
	}
	t->threads = NULL;
}

/*
 * The kernel's name of a thread as it left the CPU (@comm, from the switch): a thread that
 * only waits is rarely sampled, and may be gone by the time its record is read, so this is
 * often the newest name there is. A Python name (threading's) stays.
 */
void name_at_switch(struct collector *c, uint64_t id, uint32_t tid, uint32_t thread,
		    const char *comm, size_t len)
{
	struct keymap_key key = { id, tid, 0 };
	const struct session_thread *threads;
	char name[17];
	uint64_t ptr;
	size_t n;

	if (!keymap__get(c->threads, &key, &ptr) ||
	    ((struct sampled_thread *)(uintptr_t)ptr)->python_name || !len || !*comm)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(len < 16 ? len : 16), comm);
	threads = session__threads(c->s, &n);
	if (thread < n && strcmp(threads[thread].name, name))
		session__set_thread_name(c->s, thread, name);
}

static void refresh_names_of(struct collector *c, struct tracked *t)
{
	uint64_t ms = now_ns() / 1000000;

	if (!t->alive)
		return; /* ended: its PID may be another process's now */
	for (struct sampled_thread *st = t->threads; st; st = st->next)
		rename_thread(c, t, st, ms);
}

/* At the end: the last names of the sampled threads of live processes (see thread_of). */
void refresh_thread_names(struct collector *c)
{
	each_tracked(c, refresh_names_of);
}
