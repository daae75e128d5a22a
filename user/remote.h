/* SPDX-License-Identifier: MIT */
/*
 * remote.h — bounded reads of another process's memory.
 */
#ifndef PYFLARE_REMOTE_H
#define PYFLARE_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly @len bytes at @addr of process @pid. Returns 0 or -errno (-EFAULT if short). */
int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len);
/* Reads a pointer-sized word. */
int remote_read_u64(pid_t pid, uint64_t addr, uint64_t *out);

#endif /* PYFLARE_REMOTE_H */
