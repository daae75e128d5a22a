/* SPDX-License-Identifier: MIT */
/*
 * output.h — write a report to a file atomically: a temporary file beside it, renamed
 * into place when complete, so a reader never sees half a report.
 */
#ifndef PYFLARE_OUTPUT_H
#define PYFLARE_OUTPUT_H

#include <stdio.h>

struct output;

/*
 * Opens a temporary file next to @path. Called before recording, so an unwritable path
 * fails at once. A path that exists and is not a regular file (/dev/null, a FIFO) is
 * opened and written in place instead. Returns NULL with errno set (EISDIR for a folder).
 */
struct output *output__open(const char *path);
/* The stream to write the report to. */
FILE *output__stream(struct output *out);
/* Flushes, syncs and renames over @path. Returns 0 or -errno; frees @out either way. */
int output__commit(struct output *out);
/* Removes the temporary file. Accepts NULL. */
void output__abort(struct output *out);

#endif /* PYFLARE_OUTPUT_H */
