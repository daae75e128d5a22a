/* SPDX-License-Identifier: MIT */
/*
 * top_view.h — pyflare top's screen, built from a tally and the figures of the header:
 * no terminal, no clock, so every size, order and filter is unit-tested.
 *
 * One row per function (or line), merged across processes: own and total time and their
 * shares of all the time shown, the function, its file:line and the process it ran in or
 * how many. Every line fits the width; names are escaped (screen_text.h).
 */
#ifndef PYFLARE_TOP_VIEW_H
#define PYFLARE_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/render.h"
#include "session/session.h"
#include "top/top_tally.h"

/* The figures of the header, measured by the caller. */
struct top_status {
	bool wall;		  /* wall mode: waits are part of the time */
	const char *clock;	  /* local time of the refresh ("12:03:04"); NULL: none */
	bool whole_run;		  /* the tally is the whole run, not the last interval */
	uint32_t processes;	  /* processes profiled now */
	uint32_t ncpus;		  /* CPUs sampled */
	const char *sample_clock; /* --clock: "timer" or "tick"; NULL: not shown */
	uint32_t rate_hz;	  /* its rate per CPU */
	bool paused;
};

struct top_view_opts {
	enum flat_sort sort;
	enum granularity granularity;
	const char *filter; /* only rows whose function or file:line holds it (any case) */
	uint32_t pid;	    /* only this process (host PID); 0: every one */
	bool hide_waits;    /* wall mode: leave the time spent waiting out */
	int width;	    /* cells; 0: columns as wide as their text (piped) */
	int height;	    /* lines; 0: as many as there are, up to max_rows rows (piped) */
	int max_rows;	    /* with height 0 */
	bool help;	    /* the keys instead of the rows */
	/*
	 * With a height, the last line is the prompt being typed, else the message, else
	 * the key hint.
	 */
	const char *prompt;
	const char *message;
};

enum top_line_style {
	TOP_LINE_PLAIN = 0,
	TOP_LINE_TITLES, /* the column titles: shown in reverse video */
};

struct top_line {
	char *text; /* terminal-safe UTF-8: no control character */
	int cells;  /* never more than the width */
	enum top_line_style style;
};

struct top_screen {
	struct top_line *lines;
	size_t n;
	size_t rows; /* function rows matching, shown or not */
};

/* Builds @out (released by the caller, even on error). Returns 0 or -ENOMEM / -EINVAL. */
int top_view_build(const struct session *s, const struct top_tally *t, const struct top_status *st,
		   const struct top_view_opts *o, struct top_screen *out);
void top_screen_release(struct top_screen *sc);

/* The keys, one line each ("q Ctrl-C  quit"), NULL-terminated: the help screen and --help. */
extern const char *const top_key_help[];

#endif /* PYFLARE_TOP_VIEW_H */
