/* SPDX-License-Identifier: MIT */
/*
 * main.c — pyflare's entry point: dispatch the command (record, report, dump, doctor), write
 * the reports.
 */
#include <stdio.h>
#include <string.h>

#include "record/collector.h"
#include "agent/agent.h"
#include "cli/agent_client.h"
#include "cli/completions.h"
#include "cli/doctor.h"
#include "cli/version.h"
#include "dump/dump.h"
#include "session/history.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "lib/temp_files.h"
#include "cli/opts.h"
#include "render/outputs.h"
#include "cli/report.h"
#include "session/session.h"
#include "top/top.h"

static int cmd_record(int argc, char **argv)
{
	struct outputs outs = { 0 };
	struct record_opts o;
	struct session *s = NULL;
	char err_msg[256];
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
	ret = outputs_open(&outs, o.outputs, o.n_outputs);
	if (ret)
		goto out;
	s = session__new();
	if (!s) {
		pr_error("out of memory\n");
		ret = EXIT_NOMEM;
		goto out;
	}
	ret = collector_record(&o, s, &status);
	if (ret && session__meta(s)->duration_ns == 0) {
		/* nothing was recorded: no report; a command that could not run says 126/127 */
		if (o.target == TARGET_COMMAND && status >= 0)
			ret = status;
		goto out;
	}
	err = outputs_write(&outs, s, &o.render);
	if (err)
		ret = err;
	history_save(s); /* only warns: keeping a copy never fails a recording */
	if (!ret && o.target == TARGET_COMMAND && status >= 0)
		ret = status;
	if (!ret) /* last, after every line that names a refusal */
		ret = collector_nothing_profiled(s);
out:
	outputs_abort(&outs);
	opts_release_record(&o);
	session__free(s);
	return ret;
}

static int cmd_report(int argc, char **argv)
{
	struct report_opts o;
	char err_msg[256];
	int ret;

	switch (opts_parse_report(argc, argv, &o, err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare report --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	log_level = LOG_WARN + o.verbose;
	ret = report_run(&o);
	opts_release_report(&o);
	return ret;
}

static int cmd_dump(int argc, char **argv)
{
	struct dump_opts o;
	char err_msg[256];

	switch (opts_parse_dump(argc, argv, &o, err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare dump --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	return dump_run(&o);
}

static int cmd_top(int argc, char **argv)
{
	struct top_opts o;
	char err_msg[256];
	int ret;

	switch (opts_parse_top(argc, argv, &o, err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare top --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	ret = top_run(&o);
	opts_release_top(&o);
	return ret;
}

static int cmd_agent(int argc, char **argv)
{
	struct agent_opts o;
	char err_msg[256], dir[4096];
	int ret;

	switch (opts_parse_agent(argc, argv, &o, dir, sizeof(dir), err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare agent --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	log_level = LOG_WARN + o.record.verbose;
	log_setup_libbpf();
	ret = agent_run(&o);
	opts_release_record(&o.record);
	return ret;
}

static int cmd_status(int argc, char **argv)
{
	struct status_opts o;
	char err_msg[256];

	switch (opts_parse_status(argc, argv, &o, err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare status --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	return status_run(&o);
}

static int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_opts o;
	char err_msg[256];
	int ret;

	switch (opts_parse_snapshot(argc, argv, &o, err_msg, sizeof(err_msg))) {
	case OPTS_EXIT:
		return EXIT_OK;
	case OPTS_USAGE:
		pr_error("%s (see pyflare snapshot --help)\n", err_msg);
		return EXIT_USAGE;
	case OPTS_OK:
		break;
	}
	log_level = LOG_WARN + o.verbose;
	ret = snapshot_run(&o);
	opts_release_snapshot(&o);
	return ret;
}

int main(int argc, char **argv)
{
	temp_files_handle_signals();
	if (argc < 2) {
		opts_print_usage();
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_dump(argc - 1, argv + 1);
	if (strcmp(argv[1], "top") == 0)
		return cmd_top(argc - 1, argv + 1);
	if (strcmp(argv[1], "agent") == 0)
		return cmd_agent(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "snapshot") == 0)
		return cmd_snapshot(argc - 1, argv + 1);
	if (strcmp(argv[1], "doctor") == 0)
		return doctor_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "completions") == 0) {
		if (argc == 3 && !completions_print(argv[2], stdout))
			return EXIT_OK;
		pr_error("usage: pyflare completions bash|zsh|fish (a script for the shell to "
			 "source, or to install: make install does)\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		version_print();
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
