/* SPDX-License-Identifier: MIT */
/*
 * render.h — the boundary between a session and its output formats.
 *
 * Every format is one `struct renderer` in its own render_<name>.c. A renderer
 * reads a finished session and writes one document to a stream; it never
 * prints diagnostics and returns 0 or -errno. This is what callers (record, report, top, the
 * -o outputs) use; what the renderers share among themselves is in render_tree.h (the call
 * tree), render_order.h (time order) and render_util.h (names, times, safe text).
 */
#ifndef PYFLARE_RENDER_H
#define PYFLARE_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "session/session.h"
#include "session/session_group.h"

enum granularity {
	GRANULARITY_FUNCTION = 0, /* qualname, file, first line (pyinstrument) */
	GRANULARITY_LINE,	  /* qualname, file, current line (py-spy) */
};

enum flat_sort {
	FLAT_SORT_SELF = 0, /* -r flat --sort self (default) */
	FLAT_SORT_TOTAL,
	FLAT_SORT_NAME,
	FLAT_SORT_FILE,
};

enum collapsed_roots {
	COLLAPSED_ROOT_PROCESS = 1 << 0, /* --collapsed-roots process */
	COLLAPSED_ROOT_THREAD = 1 << 1,	 /* --collapsed-roots thread */
};

struct frame_filter;

struct render_opts {
	enum granularity granularity;
	double prune_share; /* text: hide rows below this share of the total (0.01) */
	bool color;	    /* text: ANSI colours */
	bool unicode;	    /* text: box-drawing characters */
	/* Which frames are hidden (library code by default); NULL shows every frame. */
	const struct frame_filter *filter;
	bool percent;  /* text: time as a percentage of the total (-p time=percent_of_total) */
	bool timeline; /* -t: time order, repeated calls not merged (text, speedscope) */
	enum flat_sort sort;	  /* flat: row order */
	unsigned collapsed_roots; /* enum collapsed_roots: frames prepended to each line */
	unsigned idle;		  /* enum idle_threads (idle_threads.h): --idle / --no-idle */
	/*
	 * --group-by: how the session was grouped before it reached the renderer (outputs.c
	 * groups it, session_group.h); the reports say so. The session format never groups.
	 */
	enum group_by group_by;
	/*
	 * pprof: no pid, tid, thread_name, process labels on the samples. The agent's --push
	 * sends them so: Pyroscope makes a series of each set of sample labels it meets.
	 */
	bool no_sample_labels;
	/* pprof: only the samples of this process of the session (NULL: all) */
	const struct session_process *only_process;
};

struct renderer {
	const char *name;	       /* value of -r/--format */
	const char *const *extensions; /* NULL-terminated, e.g. ".speedscope.json" */
	int (*render)(const struct session *s, const struct render_opts *o, FILE *out);
};

extern const struct renderer render_text;
extern const struct renderer render_speedscope;
extern const struct renderer render_collapsed;
extern const struct renderer render_flat;    /* -r flat: cProfile-like rows */
extern const struct renderer render_html;    /* .html */
extern const struct renderer render_svg;     /* .svg: a flame graph (-r flamegraph) */
extern const struct renderer render_json;    /* .json */
extern const struct renderer render_pstats;  /* .pstats, .prof */
extern const struct renderer render_pprof;   /* .pb.gz */
extern const struct renderer render_session; /* .pyflare: the raw session (session_file.h) */

/* Returns the renderer called @name, or NULL. */
const struct renderer *renderer_by_name(const char *name);
/* Returns the renderer whose extension ends @path (longest match), or NULL. */
const struct renderer *renderer_by_path(const char *path);
/* Writes the accepted format names, comma separated, into @buf. */
void renderer_names(char *buf, size_t len);

/* Default options: function granularity, 1% pruning, no colour, unicode. */
extern const struct render_opts render_opts_default;

#endif /* PYFLARE_RENDER_H */
