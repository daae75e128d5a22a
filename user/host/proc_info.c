/* SPDX-License-Identifier: MIT */
/*
 * proc_info.c — bounded parsing of /proc/PID files.
 */
#include "host/proc_info.h"

#include <linux/capability.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a whole small /proc file into @buf (NUL-terminated). Returns bytes read or -errno. */
static ssize_t read_small_file(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

int proc_read_maps(pid_t pid, struct proc_mapping *maps, size_t max)
{
	char path[64], line[4096 + 512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, offset;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &offset,
			   &pos) < 4 ||
		    pos <= 0 || line[pos] != '/')
			continue;
		line[strcspn(line, "\n")] = '\0';
		maps[n].start = start;
		maps[n].end = end;
		maps[n].offset = offset;
		maps[n].exec = perms[2] == 'x';
		snprintf(maps[n].path, sizeof(maps[n].path), "%s", line + pos);
		n++;
	}
	fclose(f);
	return (int)n;
}

static int read_trimmed(const char *path, char *buf, size_t len)
{
	ssize_t n = read_small_file(path, buf, len);

	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int proc_read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	return read_trimmed(path, buf, len);
}

int proc_read_thread_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	return read_trimmed(path, buf, len);
}

int proc_read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n, i;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_small_file(path, buf, len);
	if (n < 0)
		return (int)n;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return 0;
}

/* The fields after the command name, which may itself hold spaces and parentheses. */
static int read_stat_tail(pid_t pid, char *buf, size_t len, char **tail)
{
	char path[64], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small_file(path, buf, len);
	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	*tail = p + 2; /* field 3, the state */
	return 0;
}

int proc_read_ppid(pid_t pid, pid_t *ppid)
{
	char buf[1024], *tail, *end;
	long v;
	int err = read_stat_tail(pid, buf, sizeof(buf), &tail);

	if (err)
		return err;
	tail = strchr(tail, ' '); /* past the state: field 4 is the parent's PID */
	if (!tail)
		return -EINVAL;
	v = strtol(++tail, &end, 10);
	if (end == tail || *end != ' ' || v < 0 || v > INT32_MAX)
		return -EINVAL;
	*ppid = (pid_t)v;
	return 0;
}

int proc_read_start_time(pid_t pid, uint64_t *start)
{
	char buf[1024], *tail, *end;
	int err = read_stat_tail(pid, buf, sizeof(buf), &tail), field;

	if (err)
		return err;
	for (field = 3; field < 22; field++) { /* starttime is field 22 */
		tail = strchr(tail, ' ');
		if (!tail)
			return -EINVAL;
		tail++;
	}
	*start = strtoull(tail, &end, 10);
	return end == tail ? -EINVAL : 0;
}

int proc_open_in_root(pid_t pid, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root_path[64];
	int root, fd;

	snprintf(root_path, sizeof(root_path), "/proc/%d/root", pid);
	root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		/* before Linux 5.6: the plain way, which a symbolic link can lead outside */
		char full[4200];

		snprintf(full, sizeof(full), "%s%s", root_path, path);
		fd = open(full, flags | O_CLOEXEC);
	}
	if (fd < 0)
		fd = -errno;
	close(root);
	return fd;
}

const char *proc_access_fix(void)
{
	/* with CAP_SYS_PTRACE already, more privileges would not help */
	return proc_self_has_cap(CAP_SYS_PTRACE) == 1 ?
		       "the process is in another user namespace, or a security module (LSM) "
		       "forbids reading it" :
		       "run pyflare as root or give it CAP_SYS_PTRACE";
}

int proc_self_has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (cap < 0 || cap >= 64)
		return -EINVAL;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/* include/linux/proc_ns.h: the initial namespaces have fixed inode numbers */
#define PROC_PID_INIT_INO 0xEFFFFFFCU

int proc_self_pid_ns(void)
{
	char link[64];
	ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
	unsigned long ino;

	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (sscanf(link, "pid:[%lu]", &ino) != 1)
		return -EINVAL;
	return ino == PROC_PID_INIT_INO ? 0 : 1;
}

/* The last number of the NSpid: line of a status file: the ID in the innermost namespace. */
static int read_ns_id(const char *path, uint32_t *nsid)
{
	char buf[4096], *line, *p, *end;
	unsigned long v, last = 0;
	bool any = false;
	ssize_t n;

	n = read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	line = strstr(buf, "\nNSpid:");
	if (!line)
		return -ENOENT; /* kernels before 4.1 */
	p = line + strlen("\nNSpid:");
	/* one PID per nested namespace, outermost first: the last is the innermost */
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		v = strtoul(p, &end, 10);
		if (v > UINT32_MAX)
			return -EINVAL;
		last = v;
		any = true;
		p = end;
	}
	if (!any)
		return -EINVAL;
	*nsid = (uint32_t)last;
	return 0;
}

int proc_read_ns_pid(pid_t pid, uint32_t *nspid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return read_ns_id(path, nspid);
}

int proc_read_ns_tid(pid_t pid, pid_t tid, uint32_t *nstid)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	return read_ns_id(path, nstid);
}

int proc_list_threads(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (n < max && (d = readdir(dir))) {
		char *end;
		long tid = strtol(d->d_name, &end, 10);

		if (end != d->d_name && !*end && tid > 0 && tid <= INT32_MAX)
			tids[n++] = (pid_t)tid;
	}
	closedir(dir);
	return (int)n;
}

int proc_read_thread_state(pid_t pid, pid_t tid, char *state)
{
	char path[96], buf[1024], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	*state = p[2];
	return 0;
}

bool proc_is_zombie(pid_t pid)
{
	char state = 0;

	return !proc_read_thread_state(pid, pid, &state) && state == 'Z';
}

const char *proc_not_python_why(pid_t pid)
{
	if (proc_is_zombie(pid))
		return "it has exited (a zombie its parent has not reaped): nothing runs there to "
		       "profile";
	return "not a Python process (no CPython runtime in its executable or libraries)";
}

int proc_read_thread_syscall(pid_t pid, pid_t tid, int32_t *nr, uint64_t *arg0)
{
	char path[96], buf[256], *end;
	long long v;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (!strncmp(buf, "running", 7))
		return 1;
	/* "NR ARG0 ... SP PC", or "-1 SP PC" when blocked outside a system call */
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (end == buf || errno || v < -1 || v > INT32_MAX)
		return -EINVAL;
	*nr = (int32_t)v;
	*arg0 = 0;
	if (v >= 0) {
		char *p = end;

		errno = 0;
		*arg0 = strtoull(p, &end, 16);
		if (end == p || errno)
			return -EINVAL;
	}
	return 0;
}

int proc_read_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64], data[8192], *line, *next, *first = NULL, *path_of;
	ssize_t n;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	n = read_small_file(path, data, sizeof(data));
	if (n < 0)
		return (int)n;
	/* "hierarchy-id:controllers:path" a line; v2 is "0::path" */
	for (line = data; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		path_of = strchr(line, ':');
		path_of = path_of ? strchr(path_of + 1, ':') : NULL;
		if (!path_of)
			continue;
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, len, "%s", path_of + 1);
			return 2;
		}
		if (!first)
			first = path_of + 1;
	}
	if (!first)
		return -ENOENT;
	snprintf(buf, len, "%s", first);
	return 1;
}

#define CONTAINER_ID_LEN 64
#define CONTAINER_SHORT_LEN 12

/* Whether @p starts with exactly 64 hex digits, followed by the end, '/' or '.'. */
static bool is_container_id(const char *p)
{
	int i;

	for (i = 0; i < CONTAINER_ID_LEN; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	return p[i] == '\0' || p[i] == '/' || p[i] == '.';
}

bool container_id_prefix_ok(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)prefix[i]))
			return false;
	return n >= 1 && n <= CONTAINER_ID_LEN;
}

const char *container_id_in_name(const char *name)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-",
						"libpod-", "containerd-",     "" };

	for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		size_t pl = strlen(prefixes[k]);

		if (!strncmp(name, prefixes[k], pl) && is_container_id(name + pl))
			return name + pl;
	}
	return NULL;
}

size_t container_id_from_cgroup(const char *path, char *buf, size_t len)
{
	const char *comp, *found = NULL, *id;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (!path)
		return 0;
	/*
	 * The innermost component that names one wins: a container nested in another
	 * (or a kubepods pod slice above it) names the inner one last.
	 */
	for (comp = path; comp; comp = strchr(comp, '/')) {
		if (*comp == '/')
			comp++;
		id = container_id_in_name(comp);
		if (id)
			found = id;
	}
	if (!found)
		return 0;
	snprintf(buf, len, "%.*s", CONTAINER_SHORT_LEN, found);
	return strlen(buf);
}

#define PF_EXITING 0x00000004 /* include/linux/sched.h: getting shut down */

bool proc_is_running(pid_t pid, uint64_t start_time)
{
	char buf[1024], state, *tail, *end;
	unsigned long long flags, start;
	int field;

	if (read_stat_tail(pid, buf, sizeof(buf), &tail))
		return false;
	state = *tail; /* field 3 */
	if (state == 'Z' || state == 'X' || state == 'x')
		return false;
	for (field = 3; field < 9; field++) {
		tail = strchr(tail, ' ');
		if (!tail)
			return false;
		tail++;
	}
	flags = strtoull(tail, &end, 10); /* field 9 */
	if (end == tail || (flags & PF_EXITING))
		return false;
	for (; field < 22; field++) {
		tail = strchr(tail, ' ');
		if (!tail)
			return false;
		tail++;
	}
	start = strtoull(tail, &end, 10); /* field 22 */
	return end != tail && start == start_time;
}

int sys_online_cpus(bool *online, int max)
{
	char buf[1024], *p = buf;
	ssize_t n = read_small_file("/sys/devices/system/cpu/online", buf, sizeof(buf));
	int count = 0;

	if (n < 0)
		return (int)n;
	memset(online, 0, (size_t)max * sizeof(*online));
	while (*p && *p != '\n') {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return -EINVAL;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
			if (end == p || hi < lo)
				return -EINVAL;
		}
		for (long cpu = lo; cpu <= hi && cpu < max; cpu++) {
			if (cpu >= 0 && !online[cpu]) {
				online[cpu] = true;
				count++;
			}
		}
		p = *end == ',' ? end + 1 : end;
	}
	return count;
}
