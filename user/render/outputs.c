/* SPDX-License-Identifier: MIT */
/* outputs.c — render a finished session into every report asked for, files written atomically. */
#include "render/outputs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/exit.h"
#include "lib/log.h"
#include "render/output.h"
#include "render/render_util.h"
#include "session/health.h"
#include "session/idle_threads.h"
#include "session/session_file.h"
#include "session/session_merge.h"
#include "session/session_group.h"

static bool is_stdout(const char *path)
{
	return strcmp(path, "-") == 0;
}

int outputs_open(struct outputs *outs, const struct output_spec *specs, size_t n)
{
	memset(outs, 0, sizeof(*outs));
	if (n > OPTS_MAX_OUTPUTS)
		n = OPTS_MAX_OUTPUTS;
	outs->specs = specs;
	outs->n = n;
	for (size_t i = 0; i < n; i++) {
		outs->files[i] = is_stdout(specs[i].path) ? output__open_stdout() :
							    output__open(specs[i].path);
		if (!outs->files[i]) {
			pr_error("cannot write %s: %s\n", specs[i].path, strerror(errno));
			outputs_abort(outs);
			return EXIT_TARGET;
		}
	}
	return 0;
}

bool opts_use_color(const struct render_opts *o, const struct renderer *format, bool to_stdout)
{
	return o->color && to_stdout && (format == &render_text || format == &render_flat);
}

/* Renders one report into @out and commits it. Returns 0 or -errno. */
static int render_one(const struct output_spec *spec, const struct render_opts *opts,
		      const struct session *s, struct output *out)
{
	struct render_opts ro = *opts;
	FILE *stream = output__start(out);

	if (!stream) {
		int err = -errno;

		output__abort(out);
		return err;
	}
	ro.color = opts_use_color(opts, spec->format, is_stdout(spec->path));
	return output__commit(out, spec->format->render(s, &ro, stream));
}

/*
 * A reader that went away (`| head`, a FIFO's reader) closed that output, nothing more: the
 * other outputs are written and the session kept. Said once.
 */
static void say_output_closed(const char *path, const char *format, bool *said)
{
	if (*said)
		return;
	*said = true;
	fprintf(stderr,
		"pyflare: %s was closed by its reader: the %s report there is cut short; "
		"the other outputs are written\n",
		is_stdout(path) ? "stdout" : path, format);
}

/*
 * What the reports show of @s: without the threads that only waited (--idle, wall mode),
 * grouped (--group-by). Returns a new session to free, NULL with *err = 0 when that is @s
 * itself, or NULL with *err < 0.
 */
static struct session *report_view(const struct session *s, const struct render_opts *o, int *err)
{
	struct session *trimmed = NULL, *grouped;
	bool *drop = NULL;
	long n = idle_threads_find(s, (enum idle_threads)o->idle, &drop);

	*err = n < 0 ? (int)n : 0;
	if (n > 0) {
		fprintf(stderr,
			"pyflare: %ld thread%s that only waited left out of the reports "
			"(--idle shows them)\n",
			n, n == 1 ? "" : "s");
		trimmed = session__new();
		*err = trimmed ? session_merge(trimmed, s) : -ENOMEM; /* a copy */
		if (!*err)
			session__drop_thread_samples(trimmed, drop);
	}
	free(drop);
	if (*err || o->group_by == GROUP_BY_PROCESS) {
		if (*err) {
			session__free(trimmed);
			trimmed = NULL;
		}
		return trimmed;
	}
	grouped = session_group(trimmed ? trimmed : s, o->group_by);
	if (!grouped)
		*err = -errno;
	session__free(trimmed);
	return grouped;
}

int outputs_write(struct outputs *outs, const struct session *s, const struct render_opts *o)
{
	struct session *view;
	char health[1024];
	int ret = 0, err, view_err;
	bool said_closed = false;

	/* names in it come from the targets (or a file): escaped for the terminal */
	health_format(s, health, sizeof(health));
	fputs("pyflare: ", stderr);
	render_put_safe(stderr, health, NULL);
	fputc('\n', stderr);
	/* every report shows the view, but a saved session keeps everything as recorded */
	view = report_view(s, o, &view_err);
	for (size_t i = 0; i < outs->n; i++) {
		const struct output_spec *spec = &outs->specs[i];
		const struct session *shown = view && spec->format != &render_session ? view : s;

		if (!view_err || spec->format == &render_session) {
			err = render_one(spec, o, shown, outs->files[i]);
		} else {
			output__abort(outs->files[i]);
			err = view_err;
		}
		outs->files[i] = NULL;
		if (err == -EPIPE) {
			say_output_closed(spec->path, spec->format->name, &said_closed);
		} else if (err) {
			pr_error("cannot write the %s report to %s: %s%s\n", spec->format->name,
				 is_stdout(spec->path) ? "stdout" : spec->path, strerror(-err),
				 err == -ENOSPC || err == -EDQUOT ?
					 " (free some space there, or write it elsewhere)" :
					 "");
			ret = EXIT_TARGET;
		} else if (!is_stdout(spec->path)) {
			fprintf(stderr, "pyflare: wrote %s (%s)\n", spec->path, spec->format->name);
		}
	}
	session__free(view);
	return ret;
}

void outputs_abort(struct outputs *outs)
{
	if (!outs)
		return;
	for (size_t i = 0; i < outs->n && i < OPTS_MAX_OUTPUTS; i++) {
		output__abort(outs->files[i]);
		outs->files[i] = NULL;
	}
}
