/* SPDX-License-Identifier: MIT */
/*
 * output.h — where one report goes: a file written atomically (a temporary file beside it,
 * renamed into place when complete, so a reader never sees half a report), a device or FIFO
 * written in place, or stdout. A write error is kept with its errno (ENOSPC, EPIPE), which
 * a renderer's stream error alone would not tell.
 */
#ifndef PYFLARE_OUTPUT_H
#define PYFLARE_OUTPUT_H

#include <stdio.h>

struct output;

/*
 * Opens a temporary file next to @path. Called before recording, so an unwritable path
 * fails at once. A path that exists and is not a regular file (/dev/null, a FIFO) is
 * written in place instead, opened only by output__start(). Returns NULL with errno set
 * (EISDIR for a folder).
 */
struct output *output__open(const char *path);
/* stdout, as an output. Returns NULL with errno set. */
struct output *output__open_stdout(void);
/*
 * The stream to write the report to. A FIFO is opened now, without blocking: while it has
 * no reader pyflare says so once and waits (a signal ends the wait). Returns NULL with
 * errno set.
 */
FILE *output__start(struct output *out);
/*
 * Flushes, syncs and renames over the path. Returns 0 or -errno: the errno of the first
 * write that failed (-ENOSPC, -EPIPE for a reader that closed), else @render_err, else the
 * commit's. Frees @out either way; a file is removed when anything failed.
 */
int output__commit(struct output *out, int render_err);
/* Removes the temporary file. Accepts NULL. */
void output__abort(struct output *out);

#endif /* PYFLARE_OUTPUT_H */
