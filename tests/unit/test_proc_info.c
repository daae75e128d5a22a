/* SPDX-License-Identifier: MIT */
/* test_proc_info.c — container ids from the cgroup paths each runtime writes, and /proc reads. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_info.h"
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
	       ".scope/container", "3f9c2a1b4d5e");
	/* Kubernetes: cgroupfs and systemd drivers */
	expect("/kubepods/burstable/pod" UID "/" ID, "3f9c2a1b4d5e");
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID
	       ".slice/cri-containerd-" ID ".scope", "3f9c2a1b4d5e");
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID
	       ".slice/crio-" ID ".scope", "3f9c2a1b4d5e");
	/* none */
	expect("/", "");
	expect("", "");
	expect(NULL, "");
	expect("/user.slice/user-1000.slice/session-2.scope", "");
	expect("/system.slice/docker.service", "");
	/* one digit short, one too many, not hex */
	expect("/docker/" "3f9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f", "");
	expect("/docker/" ID "0", "");
	expect("/docker-" "zz9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
	       ".scope", "");
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
	CHECK(!proc_is_running(getpid(), start + 1));	/* another process with this PID */
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

int main(void)
{
	RUN(test_container_ids);
	RUN(test_self);
	RUN(test_is_running);
	return test_summary();
}
