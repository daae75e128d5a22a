/* SPDX-License-Identifier: MIT */
/*
 * collector.h — one recording: load and attach the BPF programs, follow the target
 * processes, turn the kernel's stacks into a session.
 */
#ifndef PYFLARE_COLLECTOR_H
#define PYFLARE_COLLECTOR_H

#include "opts.h"
#include "session.h"

/* Exit codes of pyflare (a launched command's own status replaces EXIT_OK). */
enum pyflare_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		/* bad command line */
	EXIT_SYSTEM = 2,	/* no permission, or the kernel lacks BPF/BTF */
	EXIT_TARGET = 3,	/* no such process, not Python, unsupported, output failed */
};

/*
 * Records into @s until the targets exit, the duration passes or a signal arrives.
 * Returns 0 or an enum pyflare_exit code after printing the one message that explains
 * it. With a command, *command_status is its exit status (128+N if killed by signal N),
 * or -1 if it was still running.
 */
int collector_record(const struct record_opts *o, struct session *s, int *command_status);

#endif /* PYFLARE_COLLECTOR_H */
