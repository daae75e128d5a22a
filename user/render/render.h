/* SPDX-License-Identifier: MIT */
/*
 * render.h — the boundary between a session and its output formats.
 *
 * Every format is one `struct renderer` in its own render_<name>.c. A renderer
 * reads a finished session and writes one document to a stream; it never
 * prints diagnostics and returns 0 or -errno.
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

/* --- Helpers shared by the renderers (render.c, render_tree.c) --------------------------- */

/* Default options: function granularity, 1% pruning, no colour, unicode. */
extern const struct render_opts render_opts_default;

/*
 * Session frames folded to a granularity. Equal keys share one folded frame:
 * function = (kind, name, file, first line), line = (kind, name, file, line); markers fold by
 * (kind, name). A folded frame's `line` is the line to show; its strings are the session's.
 */
struct render_frames {
	struct session_frame *frames; /* the folded table */
	size_t n;
	uint32_t *map; /* session frame index -> folded index */
};

int render_frames__fold(struct render_frames *rf, const struct session *s, enum granularity g);
void render_frames__release(struct render_frames *rf);

/* Session stacks over folded frames: a prefix tree like the session's, node 0 the root. */
struct render_stacks {
	struct render_frames frames;
	struct session_stack *nodes; /* frame = folded frame index */
	size_t n;
	uint32_t *map; /* session stack node -> folded node */
	uint32_t max_depth;
};

int render_stacks__build(struct render_stacks *rs, const struct session *s, enum granularity g);
void render_stacks__release(struct render_stacks *rs);

enum render_node_kind {
	RENDER_NODE_ROOT = 0,
	RENDER_NODE_PROCESS, /* ref = session process index */
	RENDER_NODE_THREAD,  /* ref = session thread index */
	RENDER_NODE_FRAME,   /* ref = folded frame index */
	RENDER_NODE_GROUP,   /* hidden frames folded into one row: ref = index into groups */
};

struct render_node {
	uint32_t parent;
	uint32_t kind; /* enum render_node_kind */
	uint32_t ref;
	uint32_t first_child; /* into render_tree.children */
	uint32_t nchildren;
	uint64_t total_ns; /* weight of the samples at or below this node */
	uint64_t self_ns;  /* weight of the samples ending here */
	uint64_t samples;  /* samples at or below this node */
};

enum render_threads {
	RENDER_THREADS_AUTO = 0, /* thread level in processes with several sampled threads */
	RENDER_THREADS_MERGE,	 /* never a thread level */
	RENDER_THREADS_SPLIT,	 /* always a thread level */
};

/*
 * The aggregated call tree: root -> process -> [thread ->] frames. Children of node N are
 * children[nodes[N].first_child ...] sorted largest first (ties by name, file, line).
 */
struct render_tree {
	struct render_stacks stacks;
	struct render_node *nodes; /* node 0 is the root */
	size_t n;
	uint32_t *children;
	uint32_t *process_node; /* per session process: its node, 0 if it has no samples */
	uint32_t *thread_node;	/* per session thread: its thread node, 0 if none */
	size_t nprocesses_sampled;
	struct render_group *groups; /* render_tree__build_view() with a filter */
	size_t ngroups;
	bool timeline; /* children in time order, not sorted */
};

/* "[12 frames hidden]  json, re": a run of hidden frames below the call into them. */
struct render_group {
	uint32_t node;	  /* the RENDER_NODE_GROUP node */
	uint32_t nframes; /* call-tree frames folded into it */
	char libs[64];	  /* their libraries, most time first: "json, re"; "..." if cut */
};

int render_tree__build(struct render_tree *t, const struct session *s, enum granularity g,
		       enum render_threads threads);
void render_tree__release(struct render_tree *t);

/*
 * The call tree as a report shows it, after @o's granularity, filter and timeline:
 * - with o->filter, a run of hidden frames keeps its first frame (the call into the library,
 *   shown) and folds the rest into one RENDER_NODE_GROUP child of it, as pyinstrument's
 *   "[N frames hidden]" rows; samples ending inside the run are the group's self time, and the
 *   shown frames called from inside the run are the group's children;
 * - with o->timeline, children keep the time order of their first sample and a call repeated
 *   after another call in between is a new node (pyinstrument -t), per thread.
 * With neither it is render_tree__build().
 */
int render_tree__build_view(struct render_tree *t, const struct session *s,
			    const struct render_opts *o, enum render_threads threads);

/* Sorts @n sample indices by their samples' time, ties by index. */
void render_sort_by_time(uint32_t *idx, size_t n, const struct session_sample *samples);
/*
 * The indices of @samples grouped by thread, each thread's in time order (ties by index):
 * thread T's are (*order)[(*first)[T] .. (*first)[T + 1]). Every sample's thread must be below
 * @nthreads. Returns 0 or -ENOMEM; the caller frees *order and *first either way.
 */
int render_order_samples(const struct session_sample *samples, size_t nsamples, size_t nthreads,
			 uint32_t **order, uint32_t **first);

/* "function" or "line", as --granularity takes it. */
const char *render_granularity_name(enum granularity g);
/* "CPU time:" or, in wall mode, "Time:" (on and off CPU), padded alike. */
const char *render_time_label(const struct session *s);
/* The name to show for @f: its name, or "<truncated>" etc. when a marker has none. */
const char *render_frame_name(const struct session_frame *f);

/*
 * Writes @str for a terminal or a line-based file, as escape_put() (lib/escape.h) does:
 * control characters, C1 controls, bidirectional overrides, line separators and invalid
 * UTF-8 become \xNN or \uNNNN, as does every ASCII character in @also (e.g. ";" for
 * collapsed stacks). Returns bytes written.
 */
size_t render_put_safe(FILE *out, const char *str, const char *also);
/* Writes @str as a quoted JSON string (json_put_string(), lib/json.h); bad UTF-8: U+FFFD. */
void render_put_json_string(FILE *out, const char *str);
/* Writes @ns as exact decimal seconds, without trailing zeros ("0.001001", "2"). */
void render_put_seconds(FILE *out, uint64_t ns);
/* Writes "YYYY-MM-DD HH:MM:SS TZ" local time of @realtime_ns into @buf. */
void render_format_local_time(char *buf, size_t len, uint64_t realtime_ns);
/* Writes @ns as seconds with 3 decimals ("0.408"), rounded, then @unit, into @buf. */
void render_format_time(char *buf, size_t len, uint64_t ns, const char *unit);
/*
 * @file shortened as pyinstrument shows it: from the package down for library code
 * ("json/decoder.py", "requests/api.py"), unchanged for the program's own files.
 */
const char *render_short_path(const struct session_process *proc, const char *file);
/* Why the report is empty: no process found, all refused, or processes that never ran. */
void render_put_no_samples(FILE *out, const struct session *s);
/*
 * The text views' header: recording time, duration, target, grouping, rate, health,
 * refusals; in colour with o->color.
 */
void render_put_text_header(FILE *out, const struct session *s, const struct render_opts *o);
/*
 * Adds @p to the "No samples from: 4242 sh, 3 processes (4243, 4244, 4245) bash" line of
 * the processes attached but never sampled; *n counts them, and the caller ends the line
 * when it is not 0.
 */
void render_put_idle_process(FILE *out, const struct session_process *p, size_t *n, bool unicode);
/*
 * "Process 4242 python3 — python3 app.py — Python 3.12.1", or for a group
 * "3 processes (4242, 4243, 4244) python3 — python3 app.py — Python 3.12.1".
 */
void render_put_process_line(FILE *out, const struct session_process *p, bool color, bool unicode);
/*
 * Whether @p is a group of processes (--group-by), and the first of its PIDs as a report
 * shows them: "4242, 4243, 4244" or "4242, 4243, 4244, 4245, 4246, 4247, …" (@unicode;
 * "..." otherwise). @buf has RENDER_MEMBERS_LEN bytes.
 */
#define RENDER_MEMBERS_LEN 96
bool render_is_group(const struct session_process *p);
void render_format_members(char *buf, const struct session_process *p, bool unicode);
/* Whether thread @t stands for several threads of a group (--group-by). */
bool render_is_merged_thread(const struct session_thread *t);

#endif /* PYFLARE_RENDER_H */
