/* SPDX-License-Identifier: MIT */
/*
 * launch.c — fork the command, drop root to the user who ran sudo, exec when released.
 *
 * Two pipes: the gate (the child blocks reading it until the profiler is attached, then
 * gets a go byte; plain EOF means the profiler gave up) and
 * the exec report (close-on-exec; the child writes errno into it if exec fails, so the
 * parent can tell "command not found" from a command that ran and failed).
 */
#include "record/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/user_db.h"

struct launch {
	pid_t pid;
	int gate;   /* write end: closing it releases the child */
	int report; /* read end: errno of a failed exec, or EOF */
	bool exited;
	int status;
};

/* Under sudo, run the command as the user who typed it, as it would run without us. */
static int drop_to_sudo_user(void)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	const char *user = getenv("SUDO_USER");
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0 || !uid_s || !gid_s)
		return 0;
	uid = (uid_t)strtoul(uid_s, NULL, 10);
	gid = (gid_t)strtoul(gid_s, NULL, 10);
	if (uid == 0)
		return 0;
	if (user ? user_set_groups(user, gid) : setgroups(0, NULL) ? -errno : 0)
		return -errno;
	if (setgid(gid) || setuid(uid))
		return -errno;
	return 0;
}

/* The streams @io asks for; 0 or -errno. */
static int set_stdio(const struct launch_stdio *io)
{
	int fd;

	if (io && io->null_input) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
			return -errno;
		if (fd != STDIN_FILENO)
			close(fd);
	}
	if (io && io->redirect) {
		if (io->out_fd >= 0 && dup2(io->out_fd, STDOUT_FILENO) < 0)
			return -errno;
		if (io->err_fd >= 0 && dup2(io->err_fd, STDERR_FILENO) < 0)
			return -errno;
	}
	return 0;
}

static void child(int gate_rd, int report_wr, char **argv, const struct launch_stdio *io)
{
	char go = 0;
	ssize_t n;
	int err;

	/* EOF without the go byte: the profiler failed to start, so do not run unobserved */
	while ((n = read(gate_rd, &go, 1)) < 0 && errno == EINTR)
		;
	close(gate_rd);
	if (n != 1 || go != 'g')
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	err = set_stdio(io);
	if (!err)
		err = drop_to_sudo_user();
	if (!err) {
		execvp(argv[0], argv);
		err = -errno;
	}
	err = -err;
	if (write(report_wr, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

struct launch *launch__new(char **argv, const struct launch_stdio *io)
{
	struct launch *l = calloc(1, sizeof(*l));
	int gate[2] = { -1, -1 }, report[2] = { -1, -1 }, err;

	if (!l)
		return NULL;
	if (pipe2(gate, O_CLOEXEC) || pipe2(report, O_CLOEXEC)) {
		err = errno;
		goto fail;
	}
	fflush(NULL);
	l->pid = fork();
	if (l->pid < 0) {
		err = errno;
		goto fail;
	}
	if (l->pid == 0) {
		close(gate[1]);
		close(report[0]);
		child(gate[0], report[1], argv, io);
	}
	close(gate[0]);
	close(report[1]);
	l->gate = gate[1];
	l->report = report[0];
	return l;
fail:
	for (int i = 0; i < 2; i++) {
		if (gate[i] >= 0)
			close(gate[i]);
		if (report[i] >= 0)
			close(report[i]);
	}
	free(l);
	errno = err;
	return NULL;
}

pid_t launch__pid(const struct launch *l)
{
	return l->pid;
}

int launch__release(struct launch *l)
{
	int child_err = 0;
	ssize_t n;

	if (write(l->gate, "g", 1) != 1)
		return -errno;
	close(l->gate);
	l->gate = -1;
	do
		n = read(l->report, &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(l->report);
	l->report = -1;
	return n == (ssize_t)sizeof(child_err) ? -child_err : 0;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

bool launch__poll(struct launch *l, int *status)
{
	int st;

	if (!l->exited && waitpid(l->pid, &st, WNOHANG) == l->pid) {
		l->exited = true;
		l->status = decode_status(st);
	}
	if (l->exited)
		*status = l->status;
	return l->exited;
}

int launch__wait(struct launch *l)
{
	int st;

	while (!l->exited) {
		if (waitpid(l->pid, &st, 0) == l->pid) {
			l->exited = true;
			l->status = decode_status(st);
		} else if (errno != EINTR) {
			return 1;
		}
	}
	return l->status;
}

void launch__free(struct launch *l)
{
	if (!l)
		return;
	if (l->gate >= 0)
		close(l->gate);
	if (l->report >= 0)
		close(l->report);
	free(l);
}
