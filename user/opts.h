/* SPDX-License-Identifier: MIT */
/*
 * opts.h — the command line of `pyflare record`, parsed and checked without side effects.
 */
#ifndef PYFLARE_OPTS_H
#define PYFLARE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "render.h"

#define OPTS_MAX_PIDS 1024
#define OPTS_MAX_OUTPUTS 8
#define OPTS_MAX_FILES 64

/* One report to write: "-" is stdout. */
struct output_spec {
	const char *path;
	const struct renderer *format;
};

enum target_kind {
	TARGET_NONE = 0,
	TARGET_PIDS,	/* -p */
	TARGET_ALL,	/* -a */
	TARGET_COMMAND,	/* -- COMMAND ... */
};

struct record_opts {
	enum target_kind target;
	pid_t pids[OPTS_MAX_PIDS];
	size_t n_pids;
	char **argv;			/* the command, NULL-terminated (points into main's argv) */
	double duration;		/* seconds; 0 = until the targets exit or Ctrl-C */
	unsigned rate_hz;		/* per CPU */
	/* Reports to write. Without -o: one report on stdout. */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;	/* render.filter points at filter */
	struct frame_filter *filter;	/* owned: opts_release_record() */
	bool quiet;			/* no progress line */
	int verbose;			/* -v count */
};

/* pyflare report FILE... | --last: render saved sessions (combined) again. */
struct report_opts {
	const char *files[OPTS_MAX_FILES];	/* .pyflare session files */
	size_t n_files;
	bool last;				/* --last: the newest kept recording */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;
	struct frame_filter *filter;		/* owned: opts_release_report() */
	int verbose;
};

enum opts_result {
	OPTS_OK = 0,
	OPTS_EXIT,	/* --help or --version was printed: exit 0 */
	OPTS_USAGE,	/* bad usage: the message is in err */
};

/* Parses `record`'s arguments (argv[0] is "record"). */
enum opts_result opts_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				   size_t errlen);

/* Parses `report`'s arguments (argv[0] is "report"). */
enum opts_result opts_parse_report(int argc, char **argv, struct report_opts *o, char *err,
				   size_t errlen);

/* Free what the parsers allocated (the frame filter). */
void opts_release_record(struct record_opts *o);
void opts_release_report(struct report_opts *o);

void opts_print_usage(void);
void opts_print_record_help(void);

#endif /* PYFLARE_OPTS_H */
