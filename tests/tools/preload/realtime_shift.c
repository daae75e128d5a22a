/* SPDX-License-Identifier: MIT */
/*
 * realtime_shift.c — LD_PRELOAD library for the tests: CLOCK_REALTIME as the kernel has it,
 * plus the whole seconds written in the file $REALTIME_SHIFT_FILE (read at each call, so a
 * test steps the clock of one process by rewriting it). The monotonic clocks are untouched.
 * A step of the wall clock without setting the machine's: other processes depend on it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long shift_seconds(void)
{
	const char *path = getenv("REALTIME_SHIFT_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	int r;

	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	r = real(id, ts);
	if (!r && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += shift_seconds();
	return r;
}
