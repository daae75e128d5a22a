/* SPDX-License-Identifier: MIT */
/*
 * proc_tree.h — the descendants of a set of processes, as /proc shows them now: for
 * --subprocesses, the workers a gunicorn or celery master forked before recording started.
 */
#ifndef PYFLARE_PROC_TREE_H
#define PYFLARE_PROC_TREE_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_TREE_MAX 65536 /* descendants found at most: bounds the memory and the work */
#define PROC_TREE_SCANS 8   /* /proc read at most this often, for the forks made meanwhile */

/* Called once for each descendant found: 0 goes on, a negative -errno stops the walk. */
typedef int (*proc_tree_fn)(pid_t pid, void *ctx);

/*
 * Calls @fn for each descendant of @roots alive now (their children, the children's
 * children...), a parent before its children, never for a root or pyflare itself. /proc
 * is read again after the calls until it shows no new one (PROC_TREE_SCANS at most): a
 * descendant whose forks @fn starts following cannot have forked one unseen before.
 * Returns how many were found, or -errno (-ENOMEM, /proc unreadable, or @fn's).
 */
int proc_tree_walk(const pid_t *roots, size_t n_roots, proc_tree_fn fn, void *ctx);

#endif /* PYFLARE_PROC_TREE_H */
