/* SPDX-License-Identifier: MIT */
/*
 * exit.h — pyflare's exit statuses (docs/pyflare.1, EXIT STATUS). A launched command's own
 * status replaces EXIT_OK and EXIT_NOTHING. Leaf code returns -errno; the command layer turns it into one of
 * these, once, after the message that explains it.
 */
#ifndef PYFLARE_EXIT_H
#define PYFLARE_EXIT_H

#include <errno.h>

enum pyflare_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 1,	 /* bad command line */
	EXIT_SYSTEM = 2, /* no permission, or the kernel lacks BPF/BTF */
	EXIT_TARGET = 3, /* no such process, not Python, unsupported, output failed */
	EXIT_NOMEM = 4,	 /* out of memory */
	/* a recording that profiled nothing: every process it found was refused (a CI job
	 * must notice), its report written all the same */
	EXIT_NOTHING = 5,
};

/* The status for a failure of -errno @err: out of memory, permissions, or the target's. */
static inline int exit_status_of(int err)
{
	if (err == -ENOMEM)
		return EXIT_NOMEM;
	if (err == -EPERM || err == -EACCES || err == -ENOSYS)
		return EXIT_SYSTEM;
	return EXIT_TARGET;
}

#endif /* PYFLARE_EXIT_H */
