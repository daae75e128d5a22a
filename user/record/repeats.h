/* SPDX-License-Identifier: MIT */
/*
 * repeats.h — the collector's copy of the stacks each CPU's kernel side remembers having sent
 * whole (bpf/sent_stacks.bpf.h), so that a short record (EVENT_SAMPLE_AGAIN) becomes the
 * whole sample it stands for. It keeps exactly the stacks the kernel does: per CPU, per slot,
 * the last whole sample whose name py_stack_rememberable() lets the kernel remember.
 */
#ifndef PYFLARE_REPEATS_H
#define PYFLARE_REPEATS_H

#include <stddef.h>
#include <linux/types.h>

#include "pyflare.h"

struct repeats;

/* Room for @ncpus CPUs (their copies are made as they first send). NULL: out of memory. */
struct repeats *repeats__new(int ncpus);
void repeats__free(struct repeats *r);

/* A whole sample of @size bytes arrived (any size: checked): kept if the kernel remembers
 * it. 0 or -ENOMEM. */
int repeats__keep(struct repeats *r, const struct py_sample *smp, size_t size);

/*
 * The whole sample the short record @again (of @size bytes) stands for: the frames kept for
 * its CPU and name, under its own header. NULL when none is kept (a record the kernel
 * should not have sent, or a malformed one); valid until the next call.
 */
const struct py_sample *repeats__expand(struct repeats *r, const struct py_sample *again,
					size_t size, size_t *whole_size);

/* Bytes held, for the collector's memory figures. */
size_t repeats__bytes(const struct repeats *r);

#endif /* PYFLARE_REPEATS_H */
