/* SPDX-License-Identifier: MIT */
/*
 * main.c — pyflare's entry point: dispatch the command, record, write the report.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "health.h"
#include "log.h"
#include "opts.h"
#include "output.h"
#include "render.h"
#include "session.h"

/* Renders one report into @out (a committed file) or stdout. Returns 0 or -errno. */
static int render_report(const struct renderer *format, const struct render_opts *opts,
			 const struct session *s, struct output *out)
{
	struct render_opts ro = *opts;
	FILE *stream = out ? output__stream(out) : stdout;
	int err;

	ro.unicode = true;
	ro.color = !out && format == &render_text && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	err = format->render(s, &ro, stream);
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

static bool is_stdout(const char *path)
{
	return strcmp(path, "-") == 0;
}

static int cmd_record(int argc, char **argv)
{
	struct output *outs[OPTS_MAX_OUTPUTS] = { 0 };
	struct record_opts o;
	struct session *s = NULL;
	char err_msg[256], health[1024];
	int ret, status, err;

	switch (opts_parse_record(argc, argv, &o, err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare record --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	log_level = o.quiet ? LOG_WARN : LOG_WARN + o.verbose;
	log_setup_libbpf();

	/* Before recording: an output that cannot be written fails now, not after an hour */
	for (size_t i = 0; i < o.n_outputs; i++) {
		if (is_stdout(o.outputs[i].path))
			continue;
		outs[i] = output__open(o.outputs[i].path);
		if (!outs[i]) {
			pr_error("cannot write %s: %s\n", o.outputs[i].path, strerror(errno));
			ret = EXIT_TARGET;
			goto out;
		}
	}
	s = session__new();
	if (!s) {
		pr_error("out of memory\n");
		ret = EXIT_TARGET;
		goto out;
	}
	ret = collector_record(&o, s, &status);
	if (ret && session__meta(s)->duration_ns == 0) {
		/* nothing was recorded: no report; a command that could not run says 126/127 */
		if (o.target == TARGET_COMMAND && status >= 0)
			ret = status;
		goto out;
	}
	health_format(s, health, sizeof(health));
	fprintf(stderr, "pyflare: %s\n", health);
	for (size_t i = 0; i < o.n_outputs; i++) {
		err = render_report(o.outputs[i].format, &o.render, s, outs[i]);
		outs[i] = NULL;
		if (err) {
			pr_error("cannot write the %s report to %s: %s\n", o.outputs[i].format->name,
				 is_stdout(o.outputs[i].path) ? "stdout" : o.outputs[i].path,
				 strerror(-err));
			ret = EXIT_TARGET;
		} else if (!is_stdout(o.outputs[i].path)) {
			fprintf(stderr, "pyflare: wrote %s (%s)\n", o.outputs[i].path,
				o.outputs[i].format->name);
		}
	}
	if (!ret && o.target == TARGET_COMMAND && status >= 0)
		ret = status;
out:
	for (size_t i = 0; i < o.n_outputs; i++)
		output__abort(outs[i]);
	session__free(s);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		opts_print_usage();
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("pyflare %s\n", PYFLARE_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		opts_print_usage();
		return EXIT_OK;
	}
	pr_error("unknown command '%s' (see pyflare --help)\n", argv[1]);
	return EXIT_USAGE;
}
