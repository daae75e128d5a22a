/* SPDX-License-Identifier: MIT */
/* live.h — real interpreters started by the unit tests that look into live processes. */
#ifndef PYFLARE_LIVE_H
#define PYFLARE_LIVE_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child running @argv, once it has printed "ready" (a started interpreter), or -1. */
static inline pid_t live_spawn(char *const argv[])
{
	struct pollfd pfd;
	char buf[16] = "";
	int p[2];
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	n = poll(&pfd, 1, 20000) == 1 ? read(p[0], buf, sizeof(buf) - 1) : -1;
	close(p[0]);
	if (n < 5 || strncmp(buf, "ready", 5) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* The CPython @exe, sleeping once started. */
static inline pid_t live_spawn_python(const char *exe)
{
	char *argv[] = { (char *)exe, "-c",
			 "import sys, time\nsys.stdout.write('ready\\n')\nsys.stdout.flush()\n"
			 "time.sleep(60)\n",
			 NULL };

	return live_spawn(argv);
}

static inline void live_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

#endif /* PYFLARE_LIVE_H */
