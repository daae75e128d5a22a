/* SPDX-License-Identifier: MIT */
/*
 * remote.h — bounded reads of another process's memory.
 */
#ifndef PYFLARE_REMOTE_H
#define PYFLARE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly @len bytes at @addr of process @pid. Returns 0 or -errno (-EFAULT if short). */
int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len);
/* Reads a pointer-sized word. */
int remote_read_u64(pid_t pid, uint64_t addr, uint64_t *out);
/*
 * Reads @len bytes at each of the @n addresses @addrs into @out + i * @len, in as few
 * system calls as there are faults (one per 256 pieces when all are readable). Sets ok[i]
 * for each piece read whole. Returns how many were.
 */
size_t remote_read_many(pid_t pid, const uint64_t *addrs, size_t n, size_t len, void *out,
			bool *ok);

#endif /* PYFLARE_REMOTE_H */
