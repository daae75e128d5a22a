/* SPDX-License-Identifier: MIT */
/*
 * wait_reason.h — what an off-CPU thread waited for, from the system call it was in.
 */
#ifndef PYFLARE_WAIT_REASON_H
#define PYFLARE_WAIT_REASON_H

#include <stdint.h>

/* The interpreter's GIL state, [addr, addr + size): futex waits inside it wait for the GIL. */
struct gil_range {
	uint64_t addr;
	uint64_t size; /* 0: unknown, no wait is told to be the GIL */
};

/*
 * The leaf shown under the Python stack of a wait: "[sleep]", "[I/O read]", "[GIL]", ...
 * @syscall is the x86-64 system call number (-1: none), @arg0 its first argument, @state
 * the task state at switch-out (0: preempted while runnable).
 */
const char *wait_reason(int32_t syscall, uint64_t arg0, uint32_t state,
			const struct gil_range *gil);

#endif /* PYFLARE_WAIT_REASON_H */
