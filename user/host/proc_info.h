/* SPDX-License-Identifier: MIT */
/*
 * proc_info.h — what /proc says about a process: its mappings, names and identity.
 */
#ifndef PYFLARE_PROC_INFO_H
#define PYFLARE_PROC_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_mapping {
	uint64_t start;
	uint64_t end;
	uint64_t offset; /* file offset of start */
	bool exec;	 /* mapped executable */
	char path[256];	 /* as the process sees it; "" for anonymous */
};

/*
 * Reads /proc/@pid/maps. Fills at most @max mappings that have a file path and returns
 * their number, or -errno (-ENOENT: no such process).
 */
int proc_read_maps(pid_t pid, struct proc_mapping *maps, size_t max);

/* /proc/@pid/comm, sanitised later by whoever shows it. Returns 0 or -errno. */
int proc_read_comm(pid_t pid, char *buf, size_t len);
/* /proc/@pid/task/@tid/comm. */
int proc_read_thread_comm(pid_t pid, pid_t tid, char *buf, size_t len);
/* /proc/@pid/cmdline with NULs turned into spaces, truncated to @len - 1. */
int proc_read_cmdline(pid_t pid, char *buf, size_t len);
/* Field 22 of /proc/@pid/stat: clock ticks after boot. Tells a reused PID apart. */
int proc_read_start_time(pid_t pid, uint64_t *start);
/* Field 4 of /proc/@pid/stat: its parent's PID (0 for the namespace's first). 0 or -errno. */
int proc_read_ppid(pid_t pid, pid_t *ppid);
/*
 * Whether pyflare itself runs in the host's PID namespace (0) or one of its own (1), where
 * its PIDs differ from the host PIDs the kernel side reports. -errno if it cannot tell.
 */
int proc_self_pid_ns(void);
/*
 * Opens @path (absolute) as process @pid sees it, with its root as "/": a symbolic link in
 * a container's files cannot lead to the host's. fd or -errno.
 */
int proc_open_in_root(pid_t pid, const char *path, int flags);
/* What to do when reading a process is denied, for an error message. */
const char *proc_access_fix(void);
/* Whether pyflare has capability @cap (CAP_*) in its effective set: 1, 0 or -errno. */
int proc_self_has_cap(int cap);
/*
 * The PID of @pid inside its own PID namespace: the last number of the NSpid: line of
 * /proc/@pid/status (the host PID itself when it has no namespace of its own).
 * Returns 0 or -errno.
 */
int proc_read_ns_pid(pid_t pid, uint32_t *nspid);
/* The same for thread @tid of @pid: its TID inside its own PID namespace. */
int proc_read_ns_tid(pid_t pid, pid_t tid, uint32_t *nstid);
/* The TIDs of @pid's threads (/proc/@pid/task), at most @max. Returns how many or -errno. */
int proc_list_threads(pid_t pid, pid_t *tids, size_t max);
/* Field 3 of /proc/@pid/task/@tid/stat: 'R' running or runnable, 'S', 'D', 'T', ... */
int proc_read_thread_state(pid_t pid, pid_t tid, char *state);
/* Whether @pid has exited and waits for its parent to reap it (a zombie: state 'Z'). */
bool proc_is_zombie(pid_t pid);
/* Why process @pid cannot be profiled when it is no (more a) Python process: for messages. */
const char *proc_not_python_why(pid_t pid);
/*
 * What /proc/@pid/task/@tid/syscall says: 1 when the thread is running (no system call to
 * tell), 0 when it is blocked, with the system call number in *@nr (-1: blocked outside
 * one, e.g. in a page fault) and its first argument in *@arg0; or -errno (reading it
 * takes ptrace access to the process).
 */
int proc_read_thread_syscall(pid_t pid, pid_t tid, int32_t *nr, uint64_t *arg0);
/*
 * The cgroup path of @pid: its cgroup v2 ("0::") line of /proc/@pid/cgroup, or on a system
 * with only v1 hierarchies the first line's path. Returns 2 for a v2 path, 1 for a v1 path,
 * or -errno; @buf is "" on failure and cut at @len - 1.
 */
int proc_read_cgroup(pid_t pid, char *buf, size_t len);
/*
 * The container id a cgroup path names, as docker, containerd/CRI, CRI-O, podman and
 * Kubernetes name it (64 hex digits), shortened to its first 12 characters as docker shows
 * it. "" when the path names none. Returns the length written.
 */
size_t container_id_from_cgroup(const char *path, char *buf, size_t len);
/*
 * The container id (64 hex digits, then the end, '/' or '.') that one cgroup folder name
 * such as "docker-<id>.scope" or "cri-containerd-<id>.scope" carries, or NULL.
 */
const char *container_id_in_name(const char *name);
/* Whether @prefix can start a container id: 1 to 64 hex digits. */
bool container_id_prefix_ok(const char *prefix);
/*
 * Marks the online CPUs ("0-3,6" in /sys/devices/system/cpu/online) in @online[0..@max).
 * Returns how many are online, or -errno.
 */
int sys_online_cpus(bool *online, int max);
/*
 * Whether @pid is still the process that started at @start_time (field 22 of its stat)
 * and has not begun to exit: its main thread is not a zombie and has no PF_EXITING flag
 * (field 9), which the kernel sets before the exit tracepoint fires. So a process found
 * running here will still have its exit seen by anyone hooked to that tracepoint.
 */
bool proc_is_running(pid_t pid, uint64_t start_time);

#endif /* PYFLARE_PROC_INFO_H */
