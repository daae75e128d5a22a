/* SPDX-License-Identifier: MIT */
/* outputs.c — render a finished session into every report asked for, files written atomically. */
#include "outputs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "health.h"
#include "log.h"
#include "output.h"
#include "session_group.h"

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
		if (is_stdout(specs[i].path))
			continue;
		outs->files[i] = output__open(specs[i].path);
		if (!outs->files[i]) {
			pr_error("cannot write %s: %s\n", specs[i].path, strerror(errno));
			outputs_abort(outs);
			return EXIT_TARGET;
		}
	}
	return 0;
}

/* Renders one report into @out (a file to commit) or stdout. Returns 0 or -errno. */
static int render_one(const struct output_spec *spec, const struct render_opts *opts,
		      const struct session *s, struct output *out)
{
	struct render_opts ro = *opts;
	FILE *stream = out ? output__stream(out) : stdout;
	int err;

	ro.color = opts_use_color(opts, spec->format, !out);
	err = spec->format->render(s, &ro, stream);
	if (!err && !out && fflush(stdout))
		err = -errno;
	if (!out)
		return err;
	if (err) {
		output__abort(out);
		return err;
	}
	return output__commit(out);
}

int outputs_write(struct outputs *outs, const struct session *s, const struct render_opts *o)
{
	struct session *grouped = NULL;
	char health[1024];
	int ret = 0, err, group_err = 0;

	/* names in it come from the targets (or a file): escaped for the terminal */
	health_format(s, health, sizeof(health));
	fputs("pyflare: ", stderr);
	render_put_safe(stderr, health, NULL);
	fputc('\n', stderr);
	/* --group-by: every report shows the groups, but a saved session keeps the processes */
	if (o->group_by != GROUP_BY_PROCESS) {
		grouped = session_group(s, o->group_by);
		if (!grouped)
			group_err = -errno;
	}
	for (size_t i = 0; i < outs->n; i++) {
		const struct output_spec *spec = &outs->specs[i];
		const struct session *shown = s;

		if (o->group_by != GROUP_BY_PROCESS && spec->format != &render_session)
			shown = grouped;
		if (shown) {
			err = render_one(spec, o, shown, outs->files[i]);
		} else {
			output__abort(outs->files[i]);
			err = group_err;
		}
		outs->files[i] = NULL;
		if (err) {
			pr_error("cannot write the %s report to %s: %s\n", spec->format->name,
				 is_stdout(spec->path) ? "stdout" : spec->path, strerror(-err));
			ret = EXIT_TARGET;
		} else if (!is_stdout(spec->path)) {
			fprintf(stderr, "pyflare: wrote %s (%s)\n", spec->path, spec->format->name);
		}
	}
	session__free(grouped);
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
