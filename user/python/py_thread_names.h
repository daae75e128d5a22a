/* SPDX-License-Identifier: MIT */
/*
 * py_thread_names.h — the names Python gives a process's threads (threading.Thread.name),
 * read out of its memory as py-spy does: sys.modules["threading"]._active maps each
 * thread's ident (pthread_self(), also PyThreadState.thread_id) to its Thread object.
 *
 * 3.8-3.13 only: from 3.14 CPython names OS threads itself (gh-59705), so the kernel's name
 * is threading's (cut to 15 bytes). Anything that looks wrong gives no names, never an error:
 * the caller falls back on the kernel's names.
 */
#ifndef PYFLARE_PY_THREAD_NAMES_H
#define PYFLARE_PY_THREAD_NAMES_H

#include <stdint.h>

struct py_target;

#define PY_THREAD_NAME_MAX 64 /* bytes kept of a name, with its NUL (63 of UTF-8) */
#define PY_THREADS_MAX 4096   /* threads named per process; others keep the kernel's name */

struct py_thread_names;

/* An empty table. NULL with errno set. */
struct py_thread_names *py_thread_names__new(void);
void py_thread_names__free(struct py_thread_names *tn); /* accepts NULL */

/*
 * Reads threading's table of @t's threads afresh: each ident and its Thread object. Where
 * the table is gets remembered; while threading is not imported it is looked for again
 * after 0.1 s, then twice as long each time up to 2 s (@now_ns: a monotonic clock).
 * Empties the table when it cannot be read.
 */
void py_thread_names__read(struct py_thread_names *tn, const struct py_target *t, uint64_t now_ns);

/*
 * The name of the thread whose ident is @ident and TID @tid (the host's) in the table last
 * read, or NULL. A name is read from its Thread object the first time it is asked for after
 * each read, so that only the threads being sampled cost anything; it is given only if that
 * Thread is this thread, by its ident and its TID (_native_id): glibc hands a thread's ident
 * on to a later thread, and the table can be older than that. @tid 0 (not known): the ident
 * alone decides.
 */
const char *py_thread_names__find(struct py_thread_names *tn, const struct py_target *t,
				  uint64_t ident, uint32_t tid);

#endif /* PYFLARE_PY_THREAD_NAMES_H */
