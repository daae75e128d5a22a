/* SPDX-License-Identifier: MIT */
/*
 * cgroup_select.h — the cgroup v2 folders `record --cgroup` and `--container` choose.
 *
 * The sampler checks membership itself (a cgroup array map, bpf_current_task_under_cgroup),
 * so a process that moves in or out is followed; userspace only finds the folders, opens
 * them for that map, and lists the processes already inside when recording starts.
 */
#ifndef PYFLARE_CGROUP_SELECT_H
#define PYFLARE_CGROUP_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <sys/types.h>

#include "pyflare.h"

#define CGROUP2_MAGIC 0x63677270 /* statfs f_type of a cgroup v2 file system */

struct cgroup_selection {
	size_t n;
	int fds[PYFLARE_MAX_CGROUPS];	      /* open folders, for the BPF cgroup array */
	char dirs[PYFLARE_MAX_CGROUPS][1024]; /* where they are in this mount namespace */
	char label[512];		      /* "--container 3f9c2a1b2c3d, --cgroup /x" */
};

void cgroup_selection_init(struct cgroup_selection *sel);
void cgroup_selection_close(struct cgroup_selection *sel);

/* Where the cgroup v2 hierarchy is mounted (/proc/self/mountinfo). Returns 0 or -ENOENT. */
int cgroup_v2_mount(char *buf, size_t len);

/*
 * --cgroup @arg: a folder of the cgroup v2 hierarchy, given as a file path
 * (/sys/fs/cgroup/system.slice/web.service) or as /proc/PID/cgroup shows it
 * (/system.slice/web.service). Returns 0, or -errno with a message for the user in @err.
 */
int cgroup_select_path(struct cgroup_selection *sel, const char *arg, char *err, size_t errlen);

/*
 * --container @prefix: the cgroup folders of the one container whose id starts with
 * @prefix, found by scanning the hierarchy for the names docker, containerd, CRI-O, podman
 * and Kubernetes give them. No match or several containers is an error, in @err.
 */
int cgroup_select_container(struct cgroup_selection *sel, const char *prefix, char *err,
			    size_t errlen);

/*
 * Calls @fn for every process now in a selected folder or below it (their cgroup.procs,
 * as PIDs of this PID namespace). Returns how many were found, or -errno.
 */
int cgroup_selection_for_each_pid(const struct cgroup_selection *sel,
				  void (*fn)(pid_t pid, void *ctx), void *ctx);

/* Whether @pid is now in a selected folder or below it. */
bool cgroup_selection_has_pid(const struct cgroup_selection *sel, pid_t pid);

#endif /* PYFLARE_CGROUP_SELECT_H */
