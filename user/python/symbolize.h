/* SPDX-License-Identifier: MIT */
/*
 * symbolize.h — turn (code object address, instruction) into a session frame.
 *
 * Code objects are read from the live process as soon as an address is first seen,
 * cached by (process instance, address) and checked against the fingerprint the
 * kernel took, so a freed and reused address never gets the old name.
 */
#ifndef PYFLARE_SYMBOLIZE_H
#define PYFLARE_SYMBOLIZE_H

#include <stdint.h>

#include "session/session.h"

struct py_target;
struct py_frame;
struct code_event;
struct symbolizer;

/* Frames are interned into @s. Returns NULL with errno set. */
struct symbolizer *symbolizer__new(struct session *s);
void symbolizer__free(struct symbolizer *sy); /* accepts NULL */

/*
 * The session frame of @f, sampled in process instance @proc_id (@t, NULL once it is gone).
 * @origin (instance @origin_id), when not NULL, is the live process it was forked from: a
 * code object the child no longer has is read there, at the same address, if it is still
 * the same object (its fingerprint), which gives the frame its line. Always yields a
 * frame: one of kind FRAME_UNKNOWN when the code object cannot be read.
 * Returns the frame index or -1 (ENOMEM).
 */
int64_t symbolizer__frame(struct symbolizer *sy, const struct py_target *t, uint64_t proc_id,
			  const struct py_target *origin, uint64_t origin_id,
			  const struct py_frame *f);

/*
 * Reads the code objects of @frames (of @proc_id, @t live) that are not cached yet, a batch
 * in two system calls, so that symbolizer__frame() finds them: a new process's first stacks
 * are mostly code objects never read.
 */
void symbolizer__prefetch(struct symbolizer *sy, const struct py_target *t, uint64_t proc_id,
			  const struct py_frame *frames, uint32_t n);

/*
 * Remembers the names the kernel copied of a code object it met for the first time
 * (struct code_event), used when the object is gone before it could be read.
 * Returns 0 or -ENOMEM.
 */
int symbolizer__remember(struct symbolizer *sy, const struct code_event *e);

/* What the caches hold (pyflare -v shows it): for a look at their size. */
struct symbolizer_stats {
	size_t instances; /* process instances with a cache */
	size_t codes;	  /* code objects read */
	size_t entries;	  /* entries of the instances' maps (codes, frames, kernel names) */
};
void symbolizer__stats(const struct symbolizer *sy, struct symbolizer_stats *st);

/*
 * Gives each session frame its caches name the index @frame returns for it: the session
 * was moved into a new one (record/rebase.c). Called with @frame returning its argument,
 * it lists them.
 */
void symbolizer__renumber(struct symbolizer *sy, uint64_t (*frame)(uint64_t frame, void *ctx),
			  void *ctx);

/*
 * Forgets which session frame each (code object, instruction) was named by, keeping what
 * was read of the code objects and the names code events gave: the agent's collector, at
 * each slice, so that the instructions a long-lived process was ever sampled at do not pile
 * up (the next sample of one finds its line again in the line table it keeps).
 */
void symbolizer__forget_frames(struct symbolizer *sy);

/* Drops the caches of one process instance (it exited or exec'd). */
void symbolizer__forget(struct symbolizer *sy, uint64_t proc_id);

/*
 * Reads a str object of the target into @buf as UTF-8, cut at a character boundary to fit
 * @len; a NUL inside is written as "\x00", so the whole name is kept. -EINVAL for an object
 * that is not a str (its ob_type is not the target's PyUnicode_Type, when that is known).
 * Shared with py_thread_names.c, and exposed for tests.
 */
int symbolize_read_str(const struct py_target *t, uint64_t addr, char *buf, size_t len);

#endif /* PYFLARE_SYMBOLIZE_H */
