/* SPDX-License-Identifier: MIT */
/*
 * opts.h — the command lines of `pyflare record`, `report`, `dump` and `top`, parsed and
 * checked without side effects. Each command's options are declared beside the command
 * (record_opts.h, dump.h, top.h); report's, which only the command line uses, here.
 */
#ifndef PYFLARE_OPTS_H
#define PYFLARE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <getopt.h>
#include <sys/types.h>

#include "agent/agent.h"
#include "dump/dump.h"
#include "record/record_opts.h"
#include "render/outputs.h"
#include "render/render.h"
#include "top/top.h"

#define OPTS_MAX_FILES 64
/* -F's defaults and limit, which the help states */
#define RATE_COMMAND_HZ 999 /* launching a program: pyinstrument-like detail */
#define RATE_ATTACH_HZ 99   /* production processes: each timer interrupt costs ~20 us */
#define RATE_MAX_HZ 100000  /* kernel.perf_event_max_sample_rate default */

/* pyflare report FILE... | --last: render saved sessions (combined) again. */
struct report_opts {
	const char *files[OPTS_MAX_FILES]; /* .pyflare session files */
	size_t n_files;
	bool last; /* --last: the newest kept recording */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;   /* render.filter points at filter */
	struct frame_filter *filter; /* owned: opts_release_report() */
	enum opts_color color;	     /* what decided render.color */
	int verbose;
	/* --since/--until: only the samples of that window (wall clock, ns since the epoch) */
	uint64_t since_ns, until_ns; /* 0: not given */
};

/* pyflare status [--dir DIR] [--json]: the running agent's health. */
struct status_opts {
	char dir[4096];
	bool json;
};

/* pyflare snapshot [--dir DIR] [--last SECONDS] [-o FILE...]: the agent's last seconds. */
struct snapshot_opts {
	char dir[4096];
	double last_s; /* 0: the agent's whole window */
	struct output_spec outputs[OPTS_MAX_OUTPUTS];
	size_t n_outputs;
	struct render_opts render;
	struct frame_filter *filter; /* owned: opts_release_snapshot() */
	enum opts_color color;
	int verbose;
};

enum opts_result {
	OPTS_OK = 0,
	OPTS_EXIT,  /* --help or --version was printed: exit 0 */
	OPTS_USAGE, /* bad usage: the message is in err */
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

/* Parses `agent`'s arguments (argv[0] is "agent"). */
enum opts_result opts_parse_agent(int argc, char **argv, struct agent_opts *o, char *dir,
				  size_t dirlen, char *err, size_t errlen);
/* Parses `status`'s and `snapshot`'s arguments. Allocates nothing for status. */
enum opts_result opts_parse_status(int argc, char **argv, struct status_opts *o, char *err,
				   size_t errlen);
enum opts_result opts_parse_snapshot(int argc, char **argv, struct snapshot_opts *o, char *err,
				     size_t errlen);
void opts_release_snapshot(struct snapshot_opts *o);

/* Free what the parsers allocated (the frame and process filters); nothing is left after OPTS_EXIT/USAGE. */
void opts_release_record(struct record_opts *o);
void opts_release_report(struct report_opts *o);
void opts_release_top(struct top_opts *o);

/* A command's options as getopt_long() takes them: what completions.c reads. */
struct opts_command {
	const char *name;	    /* "record", "top", "report", "dump" */
	const char *shorts;	    /* getopt's optstring */
	const struct option *longs; /* ends with { 0 } */
};

/* The options of command @name, or NULL (doctor parses its one option itself). */
const struct opts_command *opts_command(const char *name);

void opts_print_usage(void);
void opts_print_record_help(void);
void opts_print_report_help(void);
void opts_print_dump_help(void);
void opts_print_agent_help(void);
void opts_print_status_help(void);
void opts_print_snapshot_help(void);
void opts_print_top_help(void);

#endif /* PYFLARE_OPTS_H */
