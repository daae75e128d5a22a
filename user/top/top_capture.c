/* SPDX-License-Identifier: MIT */
/* top_capture.c — stderr and a command's output kept off the screen (top_capture.h). */
#include "top/top_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRIM_AT (1u << 20)
#define KEEP (64u << 10)

/* A memory file every write appends to, however many processes share it. */
static int memory_file(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && fcntl(fd, F_SETFL, O_APPEND)) {
		close(fd);
		return -1;
	}
	return fd;
}

int top_capture_start(struct top_capture *c)
{
	int err;

	*c = (struct top_capture){ .saved_stderr = -1, .diag_fd = -1, .output_fd = -1 };
	c->diag_fd = memory_file("pyflare-stderr");
	c->output_fd = memory_file("pyflare-command-output");
	fflush(stderr);
	if (c->diag_fd < 0 || c->output_fd < 0 ||
	    (c->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    dup2(c->diag_fd, STDERR_FILENO) < 0) {
		err = -errno;
		if (c->saved_stderr >= 0)
			close(c->saved_stderr);
		if (c->diag_fd >= 0)
			close(c->diag_fd);
		if (c->output_fd >= 0)
			close(c->output_fd);
		*c = (struct top_capture){ .saved_stderr = -1, .diag_fd = -1, .output_fd = -1 };
		return err;
	}
	return 0;
}

static uint64_t file_size(int fd)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) ? (uint64_t)st.st_size : 0;
}

bool top_capture_last_line(struct top_capture *c, char *buf, size_t len)
{
	char tail[1024];
	uint64_t size = file_size(c->diag_fd), from;
	ssize_t n;
	char *end, *start;

	fflush(stderr);
	if (size <= c->diag_seen || !len)
		return false;
	from = size - c->diag_seen > sizeof(tail) - 1 ? size - (sizeof(tail) - 1) : c->diag_seen;
	n = pread(c->diag_fd, tail, sizeof(tail) - 1, (off_t)from);
	if (n <= 0)
		return false;
	tail[n] = '\0';
	end = strrchr(tail, '\n');
	if (!end)
		return false; /* a line being written: next time */
	c->diag_seen = from + (uint64_t)(end - tail) + 1;
	*end = '\0';
	start = strrchr(tail, '\n');
	start = start ? start + 1 : tail;
	if (!strncmp(start, "pyflare: ", 9))
		start += 9;
	snprintf(buf, len, "%s", start);
	return *buf != '\0';
}

/* Keeps the last KEEP bytes of @fd once it holds TRIM_AT; adds what went to *@dropped. */
static void trim(int fd, uint64_t *dropped, uint64_t *seen)
{
	static char keep[KEEP];
	uint64_t size = file_size(fd);
	ssize_t n;

	if (size < TRIM_AT)
		return;
	n = pread(fd, keep, sizeof(keep), (off_t)(size - KEEP));
	if (n < 0 || ftruncate(fd, 0))
		return;
	/* what was written between the read and the truncation is lost: a diagnostic tail */
	*dropped += size - (uint64_t)n;
	if (write(fd, keep, (size_t)n) != n)
		return;
	if (seen)
		*seen = (uint64_t)n;
}

void top_capture_trim(struct top_capture *c)
{
	fflush(stderr);
	trim(c->diag_fd, &c->diag_dropped, &c->diag_seen);
	trim(c->output_fd, &c->output_dropped, NULL);
}

/* Writes what @fd holds to @to, saying first how much was left out. */
static void replay(int fd, int to, uint64_t dropped, const char *what)
{
	char buf[8192];
	off_t at = 0;
	ssize_t n;

	if (dropped)
		dprintf(to, "pyflare: (the first %llu bytes of %s are left out)\n",
			(unsigned long long)dropped, what);
	while ((n = pread(fd, buf, sizeof(buf), at)) > 0) {
		if (write(to, buf, (size_t)n) != n)
			return;
		at += n;
	}
}

void top_capture_stop(struct top_capture *c)
{
	if (c->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);
	close(c->saved_stderr);
	c->saved_stderr = -1;
	replay(c->output_fd, STDERR_FILENO, c->output_dropped, "the command's output");
	replay(c->diag_fd, STDERR_FILENO, c->diag_dropped, "pyflare's messages");
	close(c->output_fd);
	close(c->diag_fd);
	c->output_fd = c->diag_fd = -1;
}
