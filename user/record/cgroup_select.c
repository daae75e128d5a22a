/* SPDX-License-Identifier: MIT */
/*
 * cgroup_select.c — find the cgroup v2 folders --cgroup and --container name, open them for
 * the sampler's cgroup array, and list the processes inside them.
 */
#include "record/cgroup_select.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "host/proc_info.h"

#define WALK_MAX_DEPTH 32    /* cgroup.max.depth is unlimited; real trees are < 10 deep */
#define WALK_MAX_DIRS 200000 /* a scan never runs away on a huge or looping tree */
#define CONTAINER_ID_LEN 64
#define MAX_CANDIDATES 8 /* distinct containers named in an "ambiguous" message */

void cgroup_selection_init(struct cgroup_selection *sel)
{
	memset(sel, 0, sizeof(*sel));
	for (size_t i = 0; i < PYFLARE_MAX_CGROUPS; i++)
		sel->fds[i] = -1;
}

void cgroup_selection_close(struct cgroup_selection *sel)
{
	for (size_t i = 0; i < sel->n; i++)
		if (sel->fds[i] >= 0)
			close(sel->fds[i]);
	cgroup_selection_init(sel);
}

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The first cgroup2 mount of this mount namespace (/proc/self/mountinfo). */
static int own_cgroup2_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	/* "36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw" */
	while (ret && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *mnt, *save = NULL;
		int field = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (mnt = strtok_r(line, " ", &save); mnt && field < 4; field++)
			mnt = strtok_r(NULL, " ", &save);
		if (!mnt)
			continue;
		unescape_octal(mnt);
		snprintf(buf, len, "%s", mnt);
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* include/linux/proc_ns.h: the initial cgroup namespace's fixed inode number */
#define PROC_CGROUP_INIT_INO 0xEFFFFFFBU

static bool in_own_cgroup_ns(void)
{
	char link[64];
	ssize_t n = readlink("/proc/self/ns/cgroup", link, sizeof(link) - 1);
	unsigned long ino;

	if (n < 0)
		return false;
	link[n] = '\0';
	return sscanf(link, "cgroup:[%lu]", &ino) == 1 && ino != PROC_CGROUP_INIT_INO;
}

static bool is_cgroup2_dir(const char *path)
{
	struct statfs sfs;
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode) && !statfs(path, &sfs) &&
	       sfs.f_type == CGROUP2_MAGIC;
}

int cgroup_v2_mount(char *buf, size_t len)
{
	static const char *const host_mounts[] = { "/proc/1/root/sys/fs/cgroup",
						   "/proc/1/root/sys/fs/cgroup/unified" };

	/*
	 * In a container's cgroup namespace, its own cgroup2 mount shows only its own
	 * subtree; with the host's PID namespace the whole tree is the host init's.
	 */
	if (in_own_cgroup_ns()) {
		for (size_t i = 0; i < sizeof(host_mounts) / sizeof(host_mounts[0]); i++) {
			if (is_cgroup2_dir(host_mounts[i])) {
				snprintf(buf, len, "%s", host_mounts[i]);
				return 0;
			}
		}
	}
	return own_cgroup2_mount(buf, len);
}

/* What to add to a "not found" message when only part of the tree may be visible. */
static const char *namespace_hint(void)
{
	return in_own_cgroup_ns() ?
		       "; pyflare runs in a cgroup namespace of its own and sees only its own part of "
		       "the tree: run it with --cgroupns=host, or with the host's PID namespace and "
		       "CAP_SYS_PTRACE so it can reach /proc/1/root/sys/fs/cgroup" :
		       "";
}

/* Adds folder @path (a cgroup v2 one) to @sel; the same folder twice counts once. */
static int add_dir(struct cgroup_selection *sel, const char *path, const char *label, char *err,
		   size_t errlen)
{
	struct stat st, other;
	struct statfs sfs;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot open cgroup %s: %s", path,
			    strerror(errno));
	if (fstatfs(fd, &sfs) || sfs.f_type != CGROUP2_MAGIC || fstat(fd, &st)) {
		close(fd);
		return fail(err, errlen, -EINVAL, "%s is not a cgroup v2 folder", path);
	}
	for (size_t i = 0; i < sel->n; i++) {
		if (!fstat(sel->fds[i], &other) && other.st_dev == st.st_dev &&
		    other.st_ino == st.st_ino) {
			close(fd);
			return 0;
		}
	}
	if (sel->n == PYFLARE_MAX_CGROUPS) {
		close(fd);
		return fail(err, errlen, -E2BIG,
			    "too many cgroups: at most %d folders can be "
			    "selected at once",
			    PYFLARE_MAX_CGROUPS);
	}
	sel->fds[sel->n] = fd;
	snprintf(sel->dirs[sel->n], sizeof(sel->dirs[0]), "%s", path);
	sel->n++;
	if (label) {
		size_t at = strlen(sel->label);

		if (at < sizeof(sel->label) - 1)
			snprintf(sel->label + at, sizeof(sel->label) - at, "%s%s", at ? ", " : "",
				 label);
	}
	return 0;
}

int cgroup_select_path(struct cgroup_selection *sel, const char *arg, char *err, size_t errlen)
{
	char mount[256], path[1024], label[600];
	const char *rel = arg;

	snprintf(label, sizeof(label), "--cgroup %s", arg);
	if (arg[0] == '/' && is_cgroup2_dir(arg))
		return add_dir(sel, arg, label, err, errlen);
	if (cgroup_v2_mount(mount, sizeof(mount)))
		return fail(err, errlen, -ENOENT,
			    "--cgroup %s: this system has no cgroup v2 "
			    "hierarchy mounted; boot with systemd.unified_cgroup_hierarchy=1",
			    arg);
	/* /sys/fs/cgroup/X on a hybrid system, where v2 is at /sys/fs/cgroup/unified */
	if (!strncmp(arg, "/sys/fs/cgroup/", 15) && strncmp(arg, mount, strlen(mount)))
		rel = arg + 14;
	snprintf(path, sizeof(path), "%s%s%s", mount, rel[0] == '/' ? "" : "/", rel);
	if (is_cgroup2_dir(path))
		return add_dir(sel, path, label, err, errlen);
	return fail(err, errlen, -ENOENT,
		    "--cgroup %s: no such cgroup v2 folder (cgroup v2 is "
		    "mounted at %s; give a folder there, or a path as /proc/PID/cgroup shows it, "
		    "e.g. /system.slice/web.service)%s",
		    arg, mount, namespace_hint());
}

/* Depth-first walk of the folders under @dir; @visit returns false to skip a subtree. */
struct walk {
	bool (*visit)(struct walk *w, const char *path, const char *name);
	size_t dirs;
};

static void walk_tree(struct walk *w, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	char path[1024];

	if (depth > WALK_MAX_DEPTH || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)) && w->dirs < WALK_MAX_DIRS) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		w->dirs++;
		if (w->visit(w, path, de->d_name))
			walk_tree(w, path, depth + 1);
	}
	closedir(d);
}

struct container_search {
	struct walk walk; /* first: the visitor gets it back */
	const char *prefix;
	size_t prefix_len;
	char ids[MAX_CANDIDATES][CONTAINER_ID_LEN + 1]; /* distinct containers matched */
	size_t n_ids, n_more;
	char (*dirs)[1024]; /* folders of the first one */
	size_t n_dirs;
	char seen[MAX_CANDIDATES][13]; /* some containers present, for the "none" message */
	size_t n_seen;
};

static bool visit_container(struct walk *w, const char *path, const char *name)
{
	struct container_search *cs = (struct container_search *)w;
	const char *id = container_id_in_name(name);
	char full[CONTAINER_ID_LEN + 1];
	size_t i;

	if (!id)
		return true;
	snprintf(full, sizeof(full), "%.*s", CONTAINER_ID_LEN, id);
	for (i = 0; full[i]; i++)
		full[i] = (char)tolower((unsigned char)full[i]);
	if (strncmp(full, cs->prefix, cs->prefix_len)) {
		if (cs->n_seen < MAX_CANDIDATES)
			snprintf(cs->seen[cs->n_seen++], sizeof(cs->seen[0]), "%.12s", full);
		return true; /* a pod or a container holding containers */
	}
	for (i = 0; i < cs->n_ids; i++)
		if (!strcmp(cs->ids[i], full))
			break;
	if (i == cs->n_ids) {
		if (cs->n_ids == MAX_CANDIDATES) {
			cs->n_more++;
			return false;
		}
		memcpy(cs->ids[cs->n_ids++], full, sizeof(full));
	}
	/* its own folder holds what runs below it: no need to look inside */
	if (i == 0 && cs->n_dirs < PYFLARE_MAX_CGROUPS)
		snprintf(cs->dirs[cs->n_dirs++], sizeof(cs->dirs[0]), "%s", path);
	return false;
}

int cgroup_select_container(struct cgroup_selection *sel, const char *prefix, char *err,
			    size_t errlen)
{
	struct container_search cs = { .walk.visit = visit_container };
	char mount[256], lower[CONTAINER_ID_LEN + 1], dirs[PYFLARE_MAX_CGROUPS][1024];
	char label[128], list[512] = "";
	size_t len = strlen(prefix), at = 0;
	int ret;

	if (!container_id_prefix_ok(prefix))
		return fail(err, errlen, -EINVAL,
			    "bad container id '%.80s': expected 1 to 64 hex "
			    "digits, as `docker ps` or `crictl ps` shows them",
			    prefix);
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)prefix[i]);
	lower[len] = '\0';
	if (cgroup_v2_mount(mount, sizeof(mount)))
		return fail(err, errlen, -ENOENT,
			    "--container %s: this system has no cgroup v2 "
			    "hierarchy mounted; boot with systemd.unified_cgroup_hierarchy=1",
			    prefix);
	cs.prefix = lower;
	cs.prefix_len = len;
	cs.dirs = dirs;
	walk_tree(&cs.walk, mount, 0);

	if (cs.n_ids > 1) {
		for (size_t i = 0; i < cs.n_ids && at < sizeof(list); i++)
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%.12s",
					       i ? ", " : "", cs.ids[i]);
		return fail(err, errlen, -EINVAL,
			    "--container %s matches %zu containers (%s%s): "
			    "give more digits",
			    prefix, cs.n_ids + cs.n_more, list, cs.n_more ? ", ..." : "");
	}
	if (!cs.n_ids) {
		for (size_t i = 0; i < cs.n_seen && at < sizeof(list); i++)
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "",
					       cs.seen[i]);
		if (cs.n_seen)
			return fail(err, errlen, -ENOENT,
				    "--container %s: no such container in the "
				    "cgroup v2 hierarchy at %s (there are: %s%s)%s",
				    prefix, mount, list, cs.n_seen == MAX_CANDIDATES ? ", ..." : "",
				    namespace_hint());
		return fail(err, errlen, -ENOENT,
			    "--container %s: no container at all in the "
			    "cgroup v2 hierarchy at %s (is the runtime using cgroup v1? `pyflare "
			    "doctor` checks)%s",
			    prefix, mount, namespace_hint());
	}
	snprintf(label, sizeof(label), "--container %.12s", cs.ids[0]);
	for (size_t i = 0; i < cs.n_dirs; i++) {
		ret = add_dir(sel, dirs[i], i ? NULL : label, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- the processes inside ------------------------------------------------------------------ */

struct pid_walk {
	struct walk walk; /* first: the visitor gets it back */
	void (*fn)(pid_t pid, void *ctx);
	void *ctx;
	int found;
};

static void read_procs(struct pid_walk *pw, const char *dir)
{
	char path[1100], line[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *end;
		long pid = strtol(line, &end, 10);

		/* 0: a process outside this PID namespace */
		if (pid > 0 && pid <= 0x3fffffff && (*end == '\n' || !*end)) {
			pw->fn((pid_t)pid, pw->ctx);
			pw->found++;
		}
	}
	fclose(f);
}

static bool visit_procs(struct walk *w, const char *path, const char *name)
{
	(void)name;
	read_procs((struct pid_walk *)w, path);
	return true;
}

int cgroup_selection_for_each_pid(const struct cgroup_selection *sel,
				  void (*fn)(pid_t pid, void *ctx), void *ctx)
{
	struct pid_walk pw = { .walk.visit = visit_procs, .fn = fn, .ctx = ctx };

	for (size_t i = 0; i < sel->n; i++) {
		read_procs(&pw, sel->dirs[i]);
		walk_tree(&pw.walk, sel->dirs[i], 0);
	}
	return pw.found;
}

struct pid_probe {
	pid_t pid;
	bool found;
};

static void match_pid(pid_t pid, void *ctx)
{
	struct pid_probe *p = ctx;

	if (pid == p->pid)
		p->found = true;
}

bool cgroup_selection_has_pid(const struct cgroup_selection *sel, pid_t pid)
{
	struct pid_probe p = { pid, false };

	cgroup_selection_for_each_pid(sel, match_pid, &p);
	return p.found;
}
