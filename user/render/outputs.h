/* SPDX-License-Identifier: MIT */
/*
 * outputs.h — the reports of one run (`-o` given N times): opened before the work, so an
 * unwritable path fails first, then rendered from the finished session. Shared by
 * `pyflare record` and `pyflare report`.
 */
#ifndef PYFLARE_OUTPUTS_H
#define PYFLARE_OUTPUTS_H

#include <stddef.h>

#include <stdbool.h>

#include "render/render.h"
#include "session/session.h"

#define OPTS_MAX_OUTPUTS 8

/* One report to write: "-" is stdout. */
struct output_spec {
	const char *path;
	const struct renderer *format;
};

/* --color / --no-color; auto: colours when stdout is a terminal and NO_COLOR is not set. */
enum opts_color {
	OPTS_COLOR_AUTO = 0,
	OPTS_COLOR_ALWAYS,
	OPTS_COLOR_NEVER,
};

/*
 * Whether a report in @format, on stdout (@to_stdout) or in a file, gets ANSI colours. The
 * parsers set render.color when colours are wanted: --color, or by default when stdout is a
 * terminal, NO_COLOR is not set and TERM is not dumb (--no-color: never). Only the text
 * views (text, flat) on stdout have them.
 */
bool opts_use_color(const struct render_opts *o, const struct renderer *format, bool to_stdout);

struct outputs {
	const struct output_spec *specs; /* path "-" is stdout */
	size_t n;
	struct output *files[OPTS_MAX_OUTPUTS]; /* NULL once written */
};

/*
 * Opens stdout or a temporary file for each report of @specs (at most OPTS_MAX_OUTPUTS). Returns
 * 0, or EXIT_TARGET after printing which path cannot be written.
 */
int outputs_open(struct outputs *outs, const struct output_spec *specs, size_t n);

/*
 * Prints the health line on stderr, then renders @s into every output, committing each
 * file: grouped by o->group_by (session_group.h), except a saved session, which keeps the
 * processes as recorded. An output whose reader closed it (EPIPE: `| head`) is said once
 * and is no failure. Returns 0, or EXIT_TARGET after printing each report that failed.
 */
int outputs_write(struct outputs *outs, const struct session *s, const struct render_opts *o);

/* Removes what was not written. Accepts a zeroed or finished @outs. */
void outputs_abort(struct outputs *outs);

#endif /* PYFLARE_OUTPUTS_H */
