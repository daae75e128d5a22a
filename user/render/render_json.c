/* SPDX-License-Identifier: MIT */
/* render_json.c — the aggregated call tree as JSON ("pyflare-tree", docs/formats.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "render/frame_filter.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "render/render_json_common.h"

/*
 * Each thread's tree is a flat list of nodes in depth-first order, each naming its parent by
 * index: a 1024-frame stack nested as objects would pass the depth limits of common JSON
 * parsers (Python's json, jq, cJSON). Frames are listed once and referred to by index. No
 * frame is hidden: library code is flagged ("library") for the reader to fold, so every total
 * is the sum of what is listed. Times are seconds, exact to the nanosecond.
 */

#define FORMAT_NAME "pyflare-tree"
#define FORMAT_VERSION 1

struct json {
	struct json_writer w;
	const struct session *s;
	struct render_tree t;
	int64_t *frame_index; /* folded frame -> index in "frames", -1 if not listed */
	uint32_t *stack;      /* DFS: tree node */
	uint32_t *pos;	      /* DFS: next child */
	uint32_t *index;      /* DFS: the node's index in its thread's list */
};

static const char *kind_name(enum frame_kind kind)
{
	switch (kind) {
	case FRAME_PYTHON:
		return "python";
	case FRAME_TRUNCATED:
		return "truncated";
	case FRAME_UNREADABLE:
		return "unreadable";
	case FRAME_WAIT:
		return "wait";
	case FRAME_TASK:
		return "task";
	default:
		return "unknown";
	}
}

static void put_meta(struct json *x, const struct render_opts *o)
{
	const struct session_meta *m = session__meta(x->s);
	struct json_writer *w = &x->w;
	char when[64];

	render_json_format_utc(when, sizeof(when), m->start_realtime_ns, 9);
	json_key(w, "meta");
	json_begin_object(w);
	json_key_string(w, "recorded_at", when);
	json_key_u64(w, "start_realtime_ns", m->start_realtime_ns);
	render_json_put_recording(w, x->s, o);
	json_end_object(w);
	json_break(w, "\n");
	render_json_put_health(w, x->s);
	json_break(w, "\n");
}

/* The folded frames the tree uses, in folded order. */
static int put_frames(struct json *x)
{
	const struct render_frames *rf = &x->t.stacks.frames;
	struct json_writer *w = &x->w;
	int64_t next = 0;
	size_t i;

	x->frame_index = malloc((rf->n ? rf->n : 1) * sizeof(*x->frame_index));
	if (!x->frame_index)
		return -ENOMEM;
	for (i = 0; i < rf->n; i++)
		x->frame_index[i] = -1;
	for (i = 1; i < x->t.n; i++)
		if (x->t.nodes[i].kind == RENDER_NODE_FRAME)
			x->frame_index[x->t.nodes[i].ref] = 0;
	json_key(w, "frames");
	json_begin_array(w);
	for (i = 0; i < rf->n; i++) {
		const struct session_frame *f = &rf->frames[i];

		if (x->frame_index[i] < 0)
			continue;
		x->frame_index[i] = next++;
		json_break(w, "\n");
		json_begin_object(w);
		json_key_string(w, "name", render_frame_name(f));
		json_key_string(w, "kind", kind_name(f->kind));
		if (f->kind == FRAME_PYTHON) {
			json_key_string(w, "file", f->file);
			json_key_u64(w, "line", f->line);
			json_key_u64(w, "first_line", f->first_line);
		}
		json_end_object(w);
	}
	json_end_array(w);
	json_break(w, "\n");
	return 0;
}

/* A thread's frames, depth first: each node before its children, children largest first. */
static void put_nodes(struct json *x, const struct session_process *p, uint32_t thread_node)
{
	const struct render_tree *t = &x->t;
	struct json_writer *w = &x->w;
	uint32_t count = 0;
	int sp = 0;

	json_key(w, "nodes");
	json_begin_array(w);
	x->stack[0] = thread_node;
	x->pos[0] = 0;
	while (sp >= 0) {
		const struct render_node *n = &t->nodes[x->stack[sp]];
		const struct render_node *c;
		const struct session_frame *f;
		uint32_t child;

		if (x->pos[sp] == n->nchildren) {
			sp--;
			continue;
		}
		child = t->children[n->first_child + x->pos[sp]++];
		c = &t->nodes[child];
		f = &t->stacks.frames.frames[c->ref];
		json_break(w, "\n");
		json_begin_object(w);
		json_key(w, "frame");
		json_i64(w, x->frame_index[c->ref]);
		json_key(w, "parent");
		json_i64(w, sp ? (int64_t)x->index[sp] : -1);
		json_key_decimal(w, "total", c->total_ns, 9);
		json_key_decimal(w, "self", c->self_ns, 9);
		json_key_u64(w, "samples", c->samples);
		json_key(w, "library");
		json_bool(w, f->kind == FRAME_PYTHON && frame_is_library(p, f->file));
		json_end_object(w);
		sp++;
		x->stack[sp] = child;
		x->pos[sp] = 0;
		x->index[sp] = count++;
	}
	json_end_array(w);
}

static void put_lib_dirs(struct json_writer *w, const char *dirs)
{
	const char *p = dirs ? dirs : "";

	json_key(w, "lib_dirs");
	json_begin_array(w);
	while (*p) {
		size_t n = strcspn(p, ":");

		if (n) {
			char *dir = strndup(p, n);

			json_string(w, dir ? dir : "");
			free(dir);
		}
		p += n;
		if (*p)
			p++;
	}
	json_end_array(w);
}

static void put_processes(struct json *x)
{
	const struct session_process *procs;
	const struct session_thread *thr;
	struct json_writer *w = &x->w;
	size_t nprocs, nthreads, i, k;

	procs = session__processes(x->s, &nprocs);
	thr = session__threads(x->s, &nthreads);
	json_key(w, "processes");
	json_begin_array(w);
	for (i = 0; i < nprocs; i++) {
		const struct session_process *p = &procs[i];
		const struct render_node *pn = &x->t.nodes[x->t.process_node[i]];

		json_break(w, "\n");
		json_begin_object(w);
		json_key_u64(w, "pid", p->pid);
		json_key_u64(w, "start_time", p->start_time);
		render_json_put_process(w, p, "python_version");
		put_lib_dirs(w, p->lib_dirs);
		json_key_decimal(w, "total", x->t.process_node[i] ? pn->total_ns : 0, 9);
		json_key_u64(w, "samples", x->t.process_node[i] ? pn->samples : 0);
		json_key(w, "threads");
		json_begin_array(w);
		for (k = 0; k < nthreads; k++) {
			const struct render_node *tn = &x->t.nodes[x->t.thread_node[k]];
			bool sampled = x->t.thread_node[k] != 0;

			if (thr[k].process != i)
				continue;
			json_break(w, "\n");
			json_begin_object(w);
			json_key_u64(w, "tid", thr[k].tid);
			json_key_string(w, "name", thr[k].name);
			json_key_u64(w, "merged",
				     render_is_merged_thread(&thr[k]) ? thr[k].nmembers : 1);
			json_key_decimal(w, "total", sampled ? tn->total_ns : 0, 9);
			json_key_u64(w, "samples", sampled ? tn->samples : 0);
			if (sampled) {
				put_nodes(x, p, x->t.thread_node[k]);
			} else {
				json_key(w, "nodes");
				json_begin_array(w);
				json_end_array(w);
			}
			json_end_object(w);
		}
		json_end_array(w);
		json_end_object(w);
	}
	json_end_array(w);
}

static int json_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct json x = { .s = s };
	size_t depth;
	int err;

	if (!s || !out)
		return -EINVAL;
	if (!o)
		o = &render_opts_default;
	err = render_tree__build(&x.t, s, o->granularity, RENDER_THREADS_SPLIT);
	if (err)
		return err;
	/* Tree depth: process, thread, then frames. */
	depth = x.t.stacks.max_depth + 3;
	x.stack = malloc(depth * sizeof(*x.stack));
	x.pos = malloc(depth * sizeof(*x.pos));
	x.index = malloc(depth * sizeof(*x.index));
	err = -ENOMEM;
	if (!x.stack || !x.pos || !x.index)
		goto out;

	json_init(&x.w, out, 0);
	json_begin_object(&x.w);
	json_key_string(&x.w, "format", FORMAT_NAME);
	json_key_u64(&x.w, "version", FORMAT_VERSION);
	json_key_string(&x.w, "exporter", "pyflare " PYFLARE_VERSION);
	json_break(&x.w, "\n");
	put_meta(&x, o);
	json_key_decimal(&x.w, "total", x.t.nodes[0].total_ns, 9);
	json_key_u64(&x.w, "samples", x.t.nodes[0].samples);
	json_break(&x.w, "\n");
	err = put_frames(&x);
	if (err)
		goto out;
	put_processes(&x);
	json_end_object(&x.w);
	json_space(&x.w, "\n");
	err = ferror(out) ? -EIO : 0;
out:
	free(x.frame_index);
	free(x.stack);
	free(x.pos);
	free(x.index);
	render_tree__release(&x.t);
	return err;
}

static const char *const json_extensions[] = { ".json", NULL };

const struct renderer render_json = {
	.name = "json",
	.extensions = json_extensions,
	.render = json_render,
};
