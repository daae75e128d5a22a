/* SPDX-License-Identifier: MIT */
/*
 * top_capture.h — what would otherwise be written over pyflare top's screen: pyflare's
 * own diagnostics (its stderr) and the output of the command it runs, each kept in a
 * memory file and written out once the terminal is given back. Each keeps its last
 * 64 KiB when it grows past 1 MiB.
 */
#ifndef PYFLARE_TOP_CAPTURE_H
#define PYFLARE_TOP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct top_capture {
	int saved_stderr;		       /* the real stderr, while captured; -1 otherwise */
	int diag_fd;			       /* pyflare's stderr goes here */
	int output_fd;			       /* the command's stdout and stderr go here */
	uint64_t diag_dropped, output_dropped; /* bytes left out of each */
	uint64_t diag_seen;		       /* how far top_capture_last_line() has read */
};

/* Starts capturing pyflare's stderr. Returns 0 or -errno (nothing is captured then). */
int top_capture_start(struct top_capture *c);
/*
 * The last whole line written to pyflare's stderr since the previous call, into @buf
 * without its "pyflare: " prefix. Returns false when there is none.
 */
bool top_capture_last_line(struct top_capture *c, char *buf, size_t len);
/* Keeps each file to its last 64 KiB once it passes 1 MiB. */
void top_capture_trim(struct top_capture *c);
/* Puts stderr back and writes to it what the command, then pyflare, wrote meanwhile. */
void top_capture_stop(struct top_capture *c);

#endif /* PYFLARE_TOP_CAPTURE_H */
