/* SPDX-License-Identifier: MIT */
/*
 * launch.h — start the command to profile, held at the gate until the profiler is ready.
 */
#ifndef PYFLARE_LAUNCH_H
#define PYFLARE_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

struct launch;

/*
 * Where the command's standard streams go. All zero: they are pyflare's. pyflare top keeps
 * the command off its screen and its keys: no input, output into a file it shows later.
 */
struct launch_stdio {
	bool null_input; /* stdin from /dev/null */
	bool redirect;	 /* stdout to out_fd and stderr to err_fd (each if >= 0) */
	int out_fd, err_fd;
};

/*
 * Forks a child that will exec @argv as the invoking user (SUDO_UID/SUDO_GID when run
 * by root through sudo), with the streams @io says (NULL: pyflare's), but only after
 * launch__release(). Returns NULL with errno set.
 */
struct launch *launch__new(char **argv, const struct launch_stdio *io);
pid_t launch__pid(const struct launch *l);
/*
 * Lets the child exec. Returns 0, or -errno when exec failed (e.g. -ENOENT: no such
 * command; the child has then exited with 127).
 */
int launch__release(struct launch *l);
/* Non-blocking: true once the child has exited; *status is its exit code (128+N: signal N). */
bool launch__poll(struct launch *l, int *status);
/* Waits for the child's exit. */
int launch__wait(struct launch *l);
void launch__free(struct launch *l); /* accepts NULL; does not kill the child */

#endif /* PYFLARE_LAUNCH_H */
