/* SPDX-License-Identifier: MIT */
/*
 * idle_threads.h — wall mode's --idle / --no-idle: threads that did nothing but wait.
 */
#ifndef PYFLARE_IDLE_THREADS_H
#define PYFLARE_IDLE_THREADS_H

#include <stdbool.h>

#include "session/session.h"

enum idle_threads {
	IDLE_AUTO = 0, /* drop idle threads, but never a process's main thread */
	IDLE_KEEP,     /* --idle */
	IDLE_DROP,     /* --no-idle */
};

/*
 * Which threads to leave out under @mode: flags per thread, in *drop (the caller frees it).
 * A thread is idle when 99% of its time or more ends in a wait ("[sleep]", "[lock]"...).
 * Returns how many threads are dropped (0: nothing to do), or -ENOMEM.
 */
long idle_threads_find(const struct session *s, enum idle_threads mode, bool **drop);

#endif /* PYFLARE_IDLE_THREADS_H */
