/* SPDX-License-Identifier: MIT */
/*
 * kernel.h — the few kernel types the BPF programs touch, declared by hand.
 *
 * Instead of a generated vmlinux.h (thousands of types from one build host), we declare
 * only the fields we read, with preserve_access_index: libbpf's CO-RE relocates each
 * access against the running kernel's BTF, so field offsets never come from here.
 * Everything else comes from the kernel's UAPI headers.
 */
#ifndef PYFLARE_KERNEL_H
#define PYFLARE_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>

/* x86-64: the user FS base, which glibc and musl point at the thread descriptor. */
struct thread_struct {
	unsigned long fsbase;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct thread_struct thread;
} __attribute__((preserve_access_index));

/* --clock tick: an expiring hrtimer, told apart by the function it calls. */
struct hrtimer {
	void *function;
} __attribute__((preserve_access_index));

/* x86-64: a task's user registers at its last kernel entry (bpf_task_pt_regs). */
struct pt_regs {
	unsigned long di;      /* first system call argument */
	unsigned long orig_ax; /* the system call number, -1 outside one */
} __attribute__((preserve_access_index));

#endif /* PYFLARE_KERNEL_H */
