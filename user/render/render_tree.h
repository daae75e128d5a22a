/* SPDX-License-Identifier: MIT */
/*
 * render_tree.h — a session folded to a granularity and aggregated into the call tree the
 * tree-shaped reports draw (text, svg, json); the folded stacks the others walk (render_tree.c).
 */
#ifndef PYFLARE_RENDER_TREE_H
#define PYFLARE_RENDER_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/render.h"
#include "session/session.h"

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

#endif /* PYFLARE_RENDER_TREE_H */
