/* SPDX-License-Identifier: MIT */
/*
 * main.c — pyflare's entry point: dispatch the command, record, write the report.
 */
#include <errno.h>
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

static int render_report(const struct record_opts *o, const struct session *s,
			 struct output *out)
{
	struct render_opts ro = o->render;
	FILE *stream = out ? output__stream(out) : stdout;
	int err;

	if (!out && o->format == &render_text) {
		ro.color = isatty(STDOUT_FILENO);
		ro.unicode = true;
	} else {
		ro.unicode = true;
	}
	err = o->format->render(s, &ro, stream);
	if (!err && !out && fflush(stdout))
		err = -errno;
	if (!err && out)
		err = output__commit(out);
	else
		output__abort(out);
	return err;
}

static int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	struct output *out = NULL;
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
	if (o.output) {
		out = output__open(o.output);
		if (!out) {
			pr_error("cannot write %s: %s\n", o.output, strerror(errno));
			return EXIT_TARGET;
		}
	}
	s = session__new();
	if (!s) {
		pr_error("out of memory\n");
		output__abort(out);
		return EXIT_TARGET;
	}
	ret = collector_record(&o, s, &status);
	if (ret && session__meta(s)->duration_ns == 0) {
		/* nothing was recorded: no report */
		output__abort(out);
		session__free(s);
		return ret;
	}
	health_format(s, health, sizeof(health));
	fprintf(stderr, "pyflare: %s\n", health);
	err = render_report(&o, s, out);
	if (err) {
		pr_error("cannot write the report%s%s: %s\n", o.output ? " to " : "",
			 o.output ? o.output : "", strerror(-err));
		ret = EXIT_TARGET;
	} else if (o.output) {
		fprintf(stderr, "pyflare: wrote %s (%s)\n", o.output, o.format->name);
	}
	session__free(s);
	if (!ret && o.target == TARGET_COMMAND && status >= 0)
		return status;
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
