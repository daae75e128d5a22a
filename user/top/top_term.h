/* SPDX-License-Identifier: MIT */
/*
 * top_term.h — the terminal while pyflare top draws on it: keys read raw, the alternate
 * screen, and the terminal given back as it was on every way out: q, Ctrl-C, SIGTERM,
 * SIGHUP, an error, exit(), and a crash.
 */
#ifndef PYFLARE_TOP_TERM_H
#define PYFLARE_TOP_TERM_H

#include <stdbool.h>
#include <sys/types.h>

#include "top/top_view.h"

/*
 * Takes the terminal on stdin and stdout: keys unbuffered and unechoed (Ctrl-C still
 * interrupts, Ctrl-Z does not suspend), the alternate screen, no cursor. SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT become top_term_stop_signal(). Returns 0 or -errno.
 */
int top_term_enter(void);
/* Gives the terminal back as it was. Safe to call again, and from a signal handler. */
void top_term_leave(void);
/* The terminal's size in cells; 80x24 when it does not say. */
void top_term_size(int *width, int *height);
/* What was typed, without waiting: up to @len bytes. Returns the count, 0, or -errno. */
ssize_t top_term_read(char *buf, size_t len);
/* Waits up to @ms for a key, a signal or a resize. */
void top_term_wait(int ms);
/*
 * Draws @sc from the top left: every line of the @height rewritten, the column titles in
 * reverse video across the @width. Returns 0 or -errno.
 */
int top_term_draw(const struct top_screen *sc, int width, int height);
/* Whether the terminal was resized since the last call. */
bool top_term_resized(void);
/* The stop signal that came (SIGINT, SIGTERM, SIGHUP, SIGQUIT), or 0. */
int top_term_stop_signal(void);

#endif /* PYFLARE_TOP_TERM_H */
