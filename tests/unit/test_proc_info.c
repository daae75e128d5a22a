/* SPDX-License-Identifier: MIT */
/* test_proc_info.c — container ids from the cgroup paths each runtime writes, and /proc reads. */
#include <stdio.h>
#include <string.h>
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

int main(void)
{
	RUN(test_container_ids);
	RUN(test_self);
	return test_summary();
}
