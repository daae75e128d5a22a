/* SPDX-License-Identifier: MIT */
/*
 * thread_tids.c — a thread's host TID from its pthread_t: the TID glibc keeps in the thread
 * descriptor, matched with the NSpid of the process's tasks (see thread_tids.h).
 */
#include "host/thread_tids.h"

#include <errno.h>
#include <stdlib.h>

#include "host/proc_info.h"
#include "host/remote.h"

/*
 * offsetof(struct pthread, tid) in glibc on x86-64 (2.27 to 2.43 at least, as its own
 * libthread_db descriptor _thread_db_pthread_tid says): a thread's TID in its PID
 * namespace, found from its pthread_t in every Python version.
 */
#define GLIBC_PTHREAD_TID 0x2d0

/* A host TID and the TID its thread has in the process's own PID namespace. */
struct tid_pair {
	uint32_t host;
	uint32_t ns;
};

struct thread_tids {
	pid_t pid;
	bool glibc;
	size_t n;
	struct tid_pair pairs[];
};

struct thread_tids *thread_tids__read(pid_t pid, bool glibc)
{
	pid_t *tasks = malloc(THREAD_TIDS_MAX * sizeof(*tasks));
	int n = tasks ? proc_list_threads(pid, tasks, THREAD_TIDS_MAX) : -ENOMEM;
	struct thread_tids *m = NULL;

	if (n >= 0)
		m = malloc(sizeof(*m) + (size_t)n * sizeof(m->pairs[0]));
	if (m) {
		*m = (struct thread_tids){ .pid = pid, .glibc = glibc };
		for (int i = 0; glibc && i < n; i++) {
			uint32_t ns;

			if (proc_read_ns_tid(pid, tasks[i], &ns) == 0)
				m->pairs[m->n++] = (struct tid_pair){ (uint32_t)tasks[i], ns };
		}
	} else if (n >= 0) {
		n = -ENOMEM;
	}
	free(tasks);
	if (n < 0)
		errno = -n;
	return m;
}

uint32_t thread_tids__find(const struct thread_tids *m, uint64_t pthread)
{
	int32_t ns;

	if (!m || !m->glibc || !pthread ||
	    remote_read(m->pid, pthread + GLIBC_PTHREAD_TID, &ns, sizeof(ns)) || ns <= 0)
		return 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->pairs[i].ns == (uint32_t)ns)
			return m->pairs[i].host;
	return 0;
}

void thread_tids__free(struct thread_tids *m)
{
	free(m);
}
