/* SPDX-License-Identifier: MIT */
/*
 * outputs.h — the reports of one run (`-o` given N times): opened before the work, so an
 * unwritable path fails first, then rendered from the finished session. Shared by
 * `pyflare record` and `pyflare report`.
 */
#ifndef PYFLARE_OUTPUTS_H
#define PYFLARE_OUTPUTS_H

#include <stddef.h>

#include "opts.h"
#include "render.h"
#include "session.h"

struct outputs {
	const struct output_spec *specs;	/* path "-" is stdout */
	size_t n;
	struct output *files[OPTS_MAX_OUTPUTS];	/* NULL for stdout, or once written */
};

/*
 * Opens a temporary file for each report file of @specs (at most OPTS_MAX_OUTPUTS). Returns
 * 0, or EXIT_TARGET after printing which path cannot be written.
 */
int outputs_open(struct outputs *outs, const struct output_spec *specs, size_t n);

/*
 * Prints the health line on stderr, then renders @s into every output, committing each
 * file: grouped by o->group_by (session_group.h), except a saved session, which keeps the
 * processes as recorded. Returns 0, or EXIT_TARGET after printing each report that failed.
 */
int outputs_write(struct outputs *outs, const struct session *s, const struct render_opts *o);

/* Removes what was not written. Accepts a zeroed or finished @outs. */
void outputs_abort(struct outputs *outs);

#endif /* PYFLARE_OUTPUTS_H */
