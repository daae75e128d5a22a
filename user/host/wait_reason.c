/* SPDX-License-Identifier: MIT */
/*
 * wait_reason.c — name an off-CPU wait after its system call (x86-64 numbers, from
 * arch/x86/entry/syscalls/syscall_64.tbl) and, for futexes, after whose lock it is.
 */
#include "host/wait_reason.h"

#include <stddef.h>

#define TASK_UNINTERRUPTIBLE 0x2 /* include/linux/sched.h: D state */

struct reason {
	int32_t nr;
	const char *label;
};

/* Sorted by nothing: a few dozen entries, looked at once per distinct wait. */
static const struct reason reasons[] = {
	{ 0, "[I/O read]" },	  /* read */
	{ 17, "[I/O read]" },	  /* pread64 */
	{ 19, "[I/O read]" },	  /* readv */
	{ 295, "[I/O read]" },	  /* preadv */
	{ 327, "[I/O read]" },	  /* preadv2 */
	{ 45, "[I/O read]" },	  /* recvfrom */
	{ 47, "[I/O read]" },	  /* recvmsg */
	{ 299, "[I/O read]" },	  /* recvmmsg */
	{ 1, "[I/O write]" },	  /* write */
	{ 18, "[I/O write]" },	  /* pwrite64 */
	{ 20, "[I/O write]" },	  /* writev */
	{ 296, "[I/O write]" },	  /* pwritev */
	{ 328, "[I/O write]" },	  /* pwritev2 */
	{ 44, "[I/O write]" },	  /* sendto */
	{ 46, "[I/O write]" },	  /* sendmsg */
	{ 307, "[I/O write]" },	  /* sendmmsg */
	{ 40, "[I/O write]" },	  /* sendfile */
	{ 74, "[I/O sync]" },	  /* fsync */
	{ 75, "[I/O sync]" },	  /* fdatasync */
	{ 277, "[I/O sync]" },	  /* sync_file_range */
	{ 7, "[poll]" },	  /* poll */
	{ 23, "[poll]" },	  /* select (nfds 0 is a sleep: see below) */
	{ 270, "[poll]" },	  /* pselect6 */
	{ 271, "[poll]" },	  /* ppoll */
	{ 232, "[poll]" },	  /* epoll_wait */
	{ 281, "[poll]" },	  /* epoll_pwait */
	{ 441, "[poll]" },	  /* epoll_pwait2 */
	{ 35, "[sleep]" },	  /* nanosleep */
	{ 230, "[sleep]" },	  /* clock_nanosleep */
	{ 34, "[sleep]" },	  /* pause */
	{ 43, "[accept]" },	  /* accept */
	{ 288, "[accept]" },	  /* accept4 */
	{ 42, "[connect]" },	  /* connect */
	{ 61, "[wait child]" },	  /* wait4 */
	{ 247, "[wait child]" },  /* waitid */
	{ 202, "[lock]" },	  /* futex: the GIL is told apart below */
	{ 449, "[lock]" },	  /* futex_waitv */
	{ 454, "[lock]" },	  /* futex_wait */
	{ 2, "[I/O open]" },	  /* open */
	{ 257, "[I/O open]" },	  /* openat */
	{ 437, "[I/O open]" },	  /* openat2 */
	{ 128, "[signal wait]" }, /* rt_sigtimedwait */
	{ 130, "[signal wait]" }, /* rt_sigsuspend */
};

const char *wait_reason(int32_t syscall, uint64_t arg0, uint32_t state, const struct gil_range *gil)
{
	if (state == 0)
		return "[CPU wait]"; /* preempted: runnable, waiting for a CPU */
	if (syscall < 0)
		return state & TASK_UNINTERRUPTIBLE ? "[page fault]" : "[wait]";
	/* time.sleep() is select(0, NULL, NULL, NULL, &t) before 3.11 (glibc: pselect6), then
	 * clock_nanosleep (bpo-21302) */
	if ((syscall == 23 || syscall == 270) && arg0 == 0)
		return "[sleep]";
	/* take_gil() waits on the condition variable and mutex inside the GIL's state */
	if (syscall == 202 && gil && gil->size && arg0 >= gil->addr && arg0 - gil->addr < gil->size)
		return "[GIL]";
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].nr == syscall)
			return reasons[i].label;
	return "[syscall]";
}
