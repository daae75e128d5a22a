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
 * Forks a child that will exec @argv as the invoking user (SUDO_UID/SUDO_GID when run
 * by root through sudo), but only after launch__release(). Returns NULL with errno set.
 */
struct launch *launch__new(char **argv);
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
void launch__free(struct launch *l);	/* accepts NULL; does not kill the child */

#endif /* PYFLARE_LAUNCH_H */
