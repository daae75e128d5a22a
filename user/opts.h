/* SPDX-License-Identifier: MIT */
/*
 * opts.h — the command lines of `pyflare record`, `pyflare report` and `pyflare dump`,
 * parsed and checked without side effects.
 */
#ifndef PYFLARE_OPTS_H
#define PYFLARE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "launch.h"
#include "render.h"

struct proc_filter;

#define OPTS_MAX_PIDS 1024
#define OPTS_MAX_OUTPUTS 8
#define OPTS_MAX_FILES 64
#define OPTS_MAX_CGROUPS 8
#define MIN_BLOCK_NS 100000ULL	/* --min-block default: 100 us */

/* One report to write: "-" is stdout. */
struct output_spec {
	const char *path;
	const struct renderer *format;
};

/* --cgroup PATH or --container ID, resolved when recording starts (cgroup_select.h). */
struct cgroup_arg {
	const char *value;
	bool container;
};

/* --color / --no-color; auto: colours when stdout is a terminal and NO_COLOR is not set. */
enum opts_color {
	OPTS_COLOR_AUTO = 0,
	OPTS_COLOR_ALWAYS,
	OPTS_COLOR_NEVER,
};

/* What interrupts a CPU to take a sample (--clock). */
enum sample_clock {
	SAMPLE_CLOCK_TIMER = 0,	/* a perf cpu-clock event on every CPU, at -F's rate */
	SAMPLE_CLOCK_TICK,	/* the scheduler tick, at the kernel's HZ: no interrupt added */
};

/* The clock when --clock is not given: chosen here only. */
#define SAMPLE_CLOCK_DEFAULT SAMPLE_CLOCK_TIMER

/* "timer" or "tick", as --clock takes them and the reports show them. */
const char *sample_clock_name(enum sample_clock clock);

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
	unsigned rate_hz;		/* per CPU; --clock tick: the kernel's HZ, 0 if unknown */
	enum sample_clock clock;	/* --clock */
	bool wall;			/* --mode wall: off-CPU time too */
	uint64_t min_block_ns;		/* --min-block */
	/* Reports to write. Without -o: one report on stdout. */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;	/* render.filter points at filter */
	struct frame_filter *filter;	/* owned: opts_release_record() */
	struct proc_filter *procs;	/* --comm/--cmdline; NULL: every process. Owned */
	/* --cgroup/--container, in order; alone they select like -a, limited to them */
	struct cgroup_arg cgroups[OPTS_MAX_CGROUPS];
	size_t n_cgroups;
	enum opts_color color;		/* what decided render.color */
	bool quiet;			/* no progress line */
	int verbose;			/* -v count */
	struct launch_stdio command_stdio; /* the command's streams: pyflare's unless top says */
};

/* pyflare report FILE... | --last: render saved sessions (combined) again. */
struct report_opts {
	const char *files[OPTS_MAX_FILES];	/* .pyflare session files */
	size_t n_files;
	bool last;				/* --last: the newest kept recording */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;		/* render.filter points at filter */
	struct frame_filter *filter;		/* owned: opts_release_report() */
	enum opts_color color;			/* what decided render.color */
	int verbose;
};

/* pyflare dump -p PID...: every thread's Python stack, now. */
struct dump_opts {
	pid_t pids[OPTS_MAX_PIDS];
	size_t n_pids;
	bool json;			/* --json */
	bool color;			/* ANSI colours in the text */
	int verbose;
};

/* pyflare top: record's targets, filters and sampling, shown live instead of written. */
#define TOP_DELAY_DEFAULT 1.0
#define TOP_DELAY_MIN 0.1
#define TOP_DELAY_MAX 3600.0

struct top_opts {
	/* No outputs: record.render's sort and granularity are the view's first ones */
	struct record_opts record;
	double delay;			/* --delay: seconds between two refreshes */
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

/* Parses `dump`'s arguments (argv[0] is "dump"). Allocates nothing. */
enum opts_result opts_parse_dump(int argc, char **argv, struct dump_opts *o, char *err,
				 size_t errlen);
/* Parses `top`'s arguments (argv[0] is "top"). */
enum opts_result opts_parse_top(int argc, char **argv, struct top_opts *o, char *err,
				size_t errlen);

/* Free what the parsers allocated (the frame and process filters); nothing is left after OPTS_EXIT/USAGE. */
void opts_release_record(struct record_opts *o);
void opts_release_report(struct report_opts *o);
void opts_release_top(struct top_opts *o);

/*
 * Whether a report in @format, on stdout (@to_stdout) or in a file, gets ANSI colours. The
 * parsers set render.color when colours are wanted: --color, or by default when stdout is a
 * terminal, NO_COLOR is not set and TERM is not dumb (--no-color: never). Only the text
 * views (text, flat) on stdout have them.
 */
bool opts_use_color(const struct render_opts *o, const struct renderer *format, bool to_stdout);

void opts_print_usage(void);
void opts_print_record_help(void);
void opts_print_report_help(void);
void opts_print_dump_help(void);
void opts_print_top_help(void);

#endif /* PYFLARE_OPTS_H */
