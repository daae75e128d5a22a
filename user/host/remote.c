/* SPDX-License-Identifier: MIT */
/*
 * remote.c — bounded reads of another process's memory with process_vm_readv.
 *
 * process_vm_readv needs ptrace-read access (root or CAP_SYS_PTRACE); it never
 * stops the target.
 */
#include "host/remote.h"

#include <errno.h>
#include <sys/uio.h>

#define PIECES_PER_CALL 256 /* iovecs per process_vm_readv (the kernel takes 1024) */

int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	if (!addr)
		return -EFAULT;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int remote_read_u64(pid_t pid, uint64_t addr, uint64_t *out)
{
	return remote_read(pid, addr, out, sizeof(*out));
}

size_t remote_read_many(pid_t pid, const uint64_t *addrs, size_t n, size_t len, void *out, bool *ok)
{
	struct iovec local[PIECES_PER_CALL], remote[PIECES_PER_CALL];
	size_t index[PIECES_PER_CALL], got = 0, at = 0;

	for (size_t i = 0; i < n; i++)
		ok[i] = false;
	if (!len)
		return 0;
	while (at < n) {
		size_t k = 0, whole;
		ssize_t r;

		for (; at < n && k < PIECES_PER_CALL; at++) {
			if (!addrs[at])
				continue;
			index[k] = at;
			local[k] = (struct iovec){ (char *)out + at * len, len };
			remote[k] = (struct iovec){ (void *)(uintptr_t)addrs[at], len };
			k++;
		}
		if (!k)
			break;
		r = process_vm_readv(pid, local, k, remote, k, 0);
		if (r < 0 && errno != EFAULT)
			break; /* gone, or not ours to read: nothing more will be */
		/* the reads stop at the first piece that faults: go on after it */
		whole = r > 0 ? (size_t)r / len : 0;
		for (size_t i = 0; i < whole; i++)
			ok[index[i]] = true;
		got += whole;
		if (whole < k)
			at = index[whole] + 1;
	}
	return got;
}
