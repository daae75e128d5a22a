/* SPDX-License-Identifier: MIT */
/* test_proc_info.c — container ids from the cgroup paths each runtime writes, and /proc reads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/proc_info.h"
#include "test.h"

#define ID "3f9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define UID "0a1b2c3d_4e5f_6789_abcd_ef0123456789"

static void expect(const char *path, const char *want)
{
	char buf[16];
	size_t n = container_id_from_cgroup(path, buf, sizeof(buf));

	if (strcmp(buf, want))
		fprintf(stderr, "  path %s\n", path ? path : "(null)");
	CHECK_STR(buf, want);
	CHECK_INT(n, strlen(want));
}

static void test_container_ids(void)
{
	/* docker: cgroupfs and systemd drivers */
	expect("/docker/" ID, "3f9c2a1b4d5e");
	expect("/system.slice/docker-" ID ".scope", "3f9c2a1b4d5e");
	/* containerd / CRI */
	expect("/system.slice/cri-containerd-" ID ".scope", "3f9c2a1b4d5e");
	/* CRI-O */
	expect("/machine.slice/crio-" ID ".scope", "3f9c2a1b4d5e");
	/* podman */
	expect("/machine.slice/libpod-" ID ".scope", "3f9c2a1b4d5e");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	       ".scope/container",
	       "3f9c2a1b4d5e");
	/* Kubernetes: cgroupfs and systemd drivers */
	expect("/kubepods/burstable/pod" UID "/" ID, "3f9c2a1b4d5e");
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID
	       ".slice/cri-containerd-" ID ".scope",
	       "3f9c2a1b4d5e");
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID
	       ".slice/crio-" ID ".scope",
	       "3f9c2a1b4d5e");
	/* none */
	expect("/", "");
	expect("", "");
	expect(NULL, "");
	expect("/user.slice/user-1000.slice/session-2.scope", "");
	expect("/system.slice/docker.service", "");
	/* one digit short, one too many, not hex */
	expect("/docker/"
	       "3f9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f",
	       "");
	expect("/docker/" ID "0", "");
	expect("/docker-"
	       "zz9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
	       ".scope",
	       "");
	/* a short buffer is cut, never overrun */
	{
		char small[5];

		container_id_from_cgroup("/docker/" ID, small, sizeof(small));
		CHECK_STR(small, "3f9c");
	}
}

static void test_self(void)
{
	char buf[512];
	uint32_t nspid = 0;
	int r;

	CHECK_INT(proc_read_ns_pid(getpid(), &nspid), 0);
	CHECK(nspid != 0);
	r = proc_read_cgroup(getpid(), buf, sizeof(buf));
	CHECK(r == 1 || r == 2);
	CHECK(buf[0] == '/');
	CHECK(proc_read_ns_pid(-1, &nspid) < 0);
	CHECK(proc_read_cgroup(-1, buf, sizeof(buf)) < 0);
	CHECK_STR(buf, "");
}

/* Running means: this very process (its start time), not a zombie, not exiting. */
static void test_is_running(void)
{
	uint64_t start = 0, child_start = 0;
	pid_t child;
	int status;

	CHECK_INT(proc_read_start_time(getpid(), &start), 0);
	CHECK(proc_is_running(getpid(), start));
	CHECK(!proc_is_running(getpid(), start + 1)); /* another process with this PID */
	CHECK(!proc_is_running(-1, start));
	child = fork();
	if (child == 0)
		_exit(0);
	CHECK(child > 0);
	/* a zombie until reaped: still there, no longer running */
	for (int i = 0; i < 1000; i++) {
		char stat[64], buf[256] = "";
		FILE *f;

		snprintf(stat, sizeof(stat), "/proc/%d/stat", (int)child);
		f = fopen(stat, "r");
		if (f && fgets(buf, sizeof(buf), f) && strstr(buf, ") Z ")) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	CHECK_INT(proc_read_start_time(child, &child_start), 0);
	CHECK(!proc_is_running(child, child_start));
	waitpid(child, &status, 0);
	CHECK(!proc_is_running(child, child_start));
}

static int pipe_fds[2];
static pid_t reader_tid;

/* A thread blocked in read(2) until the pipe is written to. */
static void *read_pipe(void *arg)
{
	char c;

	(void)arg;
	reader_tid = gettid();
	return read(pipe_fds[0], &c, 1) == 1 ? NULL : arg;
}

/* This process's threads: listed, their state, their system call, their namespace TID. */
static void test_threads(void)
{
	pid_t tids[64], self = gettid();
	int32_t nr = 0;
	uint64_t arg0 = 0;
	uint32_t ns = 0;
	pthread_t thread;
	bool found_self = false, found_reader = false;
	char state = 0;
	int n, got = -1;

	CHECK_INT(pipe(pipe_fds), 0);
	CHECK_INT(pthread_create(&thread, NULL, read_pipe, NULL), 0);
	/* wait until the reader sits in read() */
	for (int i = 0; i < 2000; i++) {
		if (reader_tid) {
			got = proc_read_thread_syscall(getpid(), reader_tid, &nr, &arg0);
			if (got == 0 && nr == 0)
				break;
		}
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	CHECK_INT(got, 0);
	CHECK_INT(nr, 0);		      /* read */
	CHECK(arg0 == (uint64_t)pipe_fds[0]); /* its first argument: the descriptor */
	CHECK_INT(proc_read_thread_state(getpid(), reader_tid, &state), 0);
	CHECK(state == 'S');
	CHECK_INT(proc_read_ns_tid(getpid(), reader_tid, &ns), 0);
	CHECK(ns == (uint32_t)reader_tid); /* the same PID namespace */
	CHECK_INT(proc_read_thread_state(getpid(), self, &state), 0);
	CHECK(state == 'R');
	n = proc_list_threads(getpid(), tids, 64);
	CHECK(n >= 2);
	for (int i = 0; i < n; i++) {
		found_self |= tids[i] == self;
		found_reader |= tids[i] == reader_tid;
	}
	CHECK(found_self && found_reader);
	CHECK_INT(proc_list_threads(getpid(), tids, 1), 1); /* bounded */
	CHECK(proc_list_threads(-1, tids, 64) < 0);
	CHECK(proc_read_thread_state(getpid(), -1, &state) < 0);
	CHECK(proc_read_thread_syscall(getpid(), -1, &nr, &arg0) < 0);
	CHECK(proc_read_ns_tid(getpid(), -1, &ns) < 0);
	CHECK_INT(write(pipe_fds[1], "x", 1), 1);
	pthread_join(thread, NULL);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

/*
 * A process chrooted into the sid root (scripts/sid-root.sh): an absolute symbolic link in
 * its files resolves inside its root, never on the host's.
 */
static void test_open_in_root(void)
{
	static const char root[] = "/var/cache/pyflare/sid-root";
	char link[256], buf[4096];
	ssize_t n;
	pid_t pid;
	int fd;

	if (geteuid() != 0 || access(root, F_OK)) {
		test_missing("root and the sid root");
		return;
	}
	snprintf(link, sizeof(link), "%s/tmp/pyflare-test-link-%d", root, getpid());
	unlink(link);
	CHECK_INT(symlink("/etc/os-release", link), 0);
	pid = fork();
	if (pid == 0) {
		if (chroot(root) || chdir("/"))
			_exit(1);
		pause();
		_exit(0);
	}
	usleep(200000);
	fd = proc_open_in_root(pid, link + strlen(root), O_RDONLY);
	CHECK(fd >= 0);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	/* the container's file (sid), not the host's (bookworm) */
	CHECK(strstr(buf, "sid") != NULL || strstr(buf, "forky") != NULL);
	CHECK(strstr(buf, "bookworm") == NULL);
	if (fd >= 0)
		close(fd);
	CHECK(proc_open_in_root(pid, "/no/such/file", O_RDONLY) == -ENOENT);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(link);
}

int main(void)
{
	RUN(test_container_ids);
	RUN(test_self);
	RUN(test_is_running);
	RUN(test_threads);
	RUN(test_open_in_root);
	return test_summary();
}
