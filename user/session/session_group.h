/* SPDX-License-Identifier: MIT */
/*
 * session_group.h — --group-by: a finished session whose processes are merged by command
 * line, by container, or all into one, so that a pool of 20 workers reads as one service.
 *
 * Only the reports see groups: a saved session (.pyflare) always holds the processes as
 * recorded, and `pyflare report --group-by` groups them again when it renders.
 */
#ifndef PYFLARE_SESSION_GROUP_H
#define PYFLARE_SESSION_GROUP_H

#include <stdbool.h>

#include "session/session.h"

enum group_by {
	GROUP_BY_PROCESS = 0, /* every process on its own (the default) */
	GROUP_BY_CMDLINE,     /* processes with the same command line */
	GROUP_BY_CONTAINER,   /* the same container id, else the same cgroup */
	GROUP_BY_NONE,	      /* every process in one group */
};

/* "process", "cmdline", "container" or "none", as --group-by takes it. */
const char *group_by_name(enum group_by by);
/* Sets *@by from its name; returns false for any other name. */
bool group_by_parse(const char *name, enum group_by *by);

/*
 * A new session holding @s's samples, frames, stacks, meta, health and refusals, with its
 * processes merged by @by. A process with no key (an empty command line; no container and
 * no cgroup) stays on its own. A group of one is the process as it was; GROUP_BY_PROCESS
 * gives a copy of @s.
 *
 * A group of several processes (nmembers > 1) lists its members' PIDs, in the order they
 * were met (a process met twice, with the same PID and start time, once), and takes the
 * first one's PID; its start time is the earliest; its comm,
 * command line, executable, Python version, cgroup and container are the members' values,
 * the distinct non-empty ones joined by " + " (up to about 1 KiB); its lib_dirs are the union of the
 * members', so that library code stays library code; its ns_pid is 0. Its threads are
 * merged by name (20 workers' MainThreads are one thread, which keeps the first one's TID
 * and counts them in nmembers); threads without a name stay apart, by TID.
 *
 * Returns the session, or NULL with errno set (EINVAL for a malformed @s, ENOMEM).
 */
struct session *session_group(const struct session *s, enum group_by by);

#endif /* PYFLARE_SESSION_GROUP_H */
