/* SPDX-License-Identifier: MIT */
/* test_wait_reason.c — what an off-CPU wait is called, from its system call (x86-64). */
#include "test.h"
#include "host/wait_reason.h"

#define TASK_INTERRUPTIBLE 1
#define TASK_UNINTERRUPTIBLE 2

static const struct gil_range gil = { 0x7f0000001000ULL, 208 };

static void test_syscalls(void)
{
	CHECK_STR(wait_reason(230, 0, TASK_INTERRUPTIBLE, &gil), "[sleep]");   /* clock_nanosleep */
	CHECK_STR(wait_reason(35, 0, TASK_INTERRUPTIBLE, &gil), "[sleep]");    /* nanosleep */
	CHECK_STR(wait_reason(0, 3, TASK_INTERRUPTIBLE, &gil), "[I/O read]");  /* read */
	CHECK_STR(wait_reason(45, 3, TASK_INTERRUPTIBLE, &gil), "[I/O read]"); /* recvfrom */
	CHECK_STR(wait_reason(1, 3, TASK_UNINTERRUPTIBLE, &gil), "[I/O write]"); /* write */
	CHECK_STR(wait_reason(232, 5, TASK_INTERRUPTIBLE, &gil), "[poll]");	 /* epoll_wait */
	CHECK_STR(wait_reason(61, 0, TASK_INTERRUPTIBLE, &gil), "[wait child]"); /* wait4 */
	CHECK_STR(wait_reason(288, 4, TASK_INTERRUPTIBLE, &gil), "[accept]");	 /* accept4 */
	CHECK_STR(wait_reason(999, 0, TASK_INTERRUPTIBLE, &gil), "[syscall]");	 /* unknown */
}

/* time.sleep() before 3.11 is select(0, ...); glibc makes it pselect6 */
static void test_select_sleep(void)
{
	CHECK_STR(wait_reason(23, 0, TASK_INTERRUPTIBLE, &gil), "[sleep]");
	CHECK_STR(wait_reason(270, 0, TASK_INTERRUPTIBLE, &gil), "[sleep]");
	CHECK_STR(wait_reason(270, 4, TASK_INTERRUPTIBLE, &gil), "[poll]");
}

/* futex: the GIL when the address is inside its state, any other lock else */
static void test_futex(void)
{
	CHECK_STR(wait_reason(202, gil.addr, TASK_INTERRUPTIBLE, &gil), "[GIL]");
	CHECK_STR(wait_reason(202, gil.addr + 72, TASK_INTERRUPTIBLE, &gil), "[GIL]");
	CHECK_STR(wait_reason(202, gil.addr + 207, TASK_INTERRUPTIBLE, &gil), "[GIL]");
	CHECK_STR(wait_reason(202, gil.addr + 208, TASK_INTERRUPTIBLE, &gil), "[lock]");
	CHECK_STR(wait_reason(202, gil.addr - 4, TASK_INTERRUPTIBLE, &gil), "[lock]");
	CHECK_STR(wait_reason(202, gil.addr, TASK_INTERRUPTIBLE, NULL), "[lock]");
	/* an unknown GIL (size 0) makes no wait a GIL wait */
	CHECK_STR(wait_reason(202, 0, TASK_INTERRUPTIBLE, &(struct gil_range){ 0, 0 }), "[lock]");
}

/* preempted (still runnable), or off CPU outside a system call */
static void test_states(void)
{
	CHECK_STR(wait_reason(230, 0, 0, &gil), "[CPU wait]");
	CHECK_STR(wait_reason(-1, 0, 0, &gil), "[CPU wait]");
	CHECK_STR(wait_reason(-1, 0, TASK_UNINTERRUPTIBLE, &gil), "[page fault]");
	CHECK_STR(wait_reason(-1, 0, TASK_INTERRUPTIBLE, &gil), "[wait]");
}

int main(void)
{
	RUN(test_syscalls);
	RUN(test_select_sleep);
	RUN(test_futex);
	RUN(test_states);
	return test_summary();
}
