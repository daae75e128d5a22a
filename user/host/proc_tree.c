/* SPDX-License-Identifier: MIT */
/*
 * proc_tree.c — the descendants of a set of processes, found by their parents' PIDs in
 * /proc/PID/stat. /proc/PID/task/TID/children would name them directly, but it needs
 * CONFIG_PROC_CHILDREN, which not every kernel has (Debian's 6.18 has not).
 */
#include "host/proc_tree.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "host/proc_info.h"
#include "lib/grow.h"
#include "lib/keymap.h"

struct proc_link {
	pid_t pid, ppid;
};

/* Every process /proc shows now with its parent, in @links (reused between scans). */
static int scan_parents(struct proc_link **links, size_t *cap, size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int err = 0;

	if (!d)
		return -errno;
	*n = 0;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		pid_t ppid;

		if (*end || pid <= 0 || pid > INT32_MAX || proc_read_ppid((pid_t)pid, &ppid))
			continue; /* not a process, or gone since */
		if (GROW(*links, *cap, *n + 1, 256)) {
			err = -ENOMEM;
			break;
		}
		(*links)[(*n)++] = (struct proc_link){ (pid_t)pid, ppid };
	}
	closedir(d);
	return err;
}

static bool in_tree(const struct keymap *tree, pid_t pid)
{
	struct keymap_key key = { (uint64_t)pid, 0, 0 };
	uint64_t v;

	return keymap__get(tree, &key, &v);
}

/*
 * The descendants in @links not met before, each added to @tree and given to @fn, parents
 * first: passes over the list until one adds nothing (one pass a generation at worst).
 * Returns how many, or -errno.
 */
static int add_generations(struct keymap *tree, const struct proc_link *links, size_t n,
			   size_t *found, proc_tree_fn fn, void *ctx)
{
	pid_t self = getpid();
	int added = 0;
	bool more = true;

	while (more && *found < PROC_TREE_MAX) {
		more = false;
		for (size_t i = 0; i < n && *found < PROC_TREE_MAX; i++) {
			struct keymap_key key = { (uint64_t)links[i].pid, 0, 0 };
			int err;

			if (links[i].pid == self || !in_tree(tree, links[i].ppid) ||
			    in_tree(tree, links[i].pid))
				continue;
			if (keymap__set(tree, &key, 1))
				return -ENOMEM;
			(*found)++;
			added++;
			more = true;
			err = fn(links[i].pid, ctx);
			if (err < 0)
				return err;
		}
	}
	return added;
}

int proc_tree_walk(const pid_t *roots, size_t n_roots, proc_tree_fn fn, void *ctx)
{
	struct keymap *tree = keymap__new();
	struct proc_link *links = NULL;
	size_t cap = 0, n = 0, found = 0;
	int err = tree ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < n_roots; i++) {
		struct keymap_key key = { (uint64_t)roots[i], 0, 0 };

		err = keymap__set(tree, &key, 1);
	}
	for (int scan = 0; !err && scan < PROC_TREE_SCANS && found < PROC_TREE_MAX; scan++) {
		int added;

		err = scan_parents(&links, &cap, &n);
		if (err)
			break;
		added = add_generations(tree, links, n, &found, fn, ctx);
		if (added <= 0) {
			err = added;
			break;
		}
	}
	free(links);
	keymap__free(tree);
	return err ? err : (int)found;
}
