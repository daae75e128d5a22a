/* SPDX-License-Identifier: MIT */
/*
 * thread_tids.h — which host TID a thread of a process has, known by its pthread_t (what
 * pthread_self() returns: Python's thread ident). glibc keeps a thread's TID in its thread
 * descriptor, as the process's PID namespace numbers it; the process's tasks' NSpid lines
 * turn that into the host's TID. Used by pyflare dump and by wall mode's waits found at attach.
 */
#ifndef PYFLARE_THREAD_TIDS_H
#define PYFLARE_THREAD_TIDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define THREAD_TIDS_MAX 8192 /* threads of a process listed */

struct thread_tids;

/*
 * The threads of @pid now, each with its TID in the process's own PID namespace. @glibc:
 * the process's C library is glibc (another keeps the TID elsewhere: every lookup then
 * finds nothing). Returns NULL with errno set.
 */
struct thread_tids *thread_tids__read(pid_t pid, bool glibc);
/* The host TID of @pid's thread whose pthread_t is @pthread; 0 when unknown (or exited). */
uint32_t thread_tids__find(const struct thread_tids *m, uint64_t pthread);
void thread_tids__free(struct thread_tids *m);

#endif /* PYFLARE_THREAD_TIDS_H */
