/* SPDX-License-Identifier: MIT */
/* render_json.c — the aggregated call tree as JSON ("pyflare-tree", docs/formats.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "render/render.h"
#include "render/render_json_common.h"

/*
 * Each thread's tree is a flat list of nodes in depth-first order, each naming its parent by
 * index: a 1024-frame stack nested as objects would pass the depth limits of common JSON
 * parsers (Python's json, jq, cJSON). Frames are listed once and referred to by index. No
 * frame is hidden: library code is flagged ("library") for the reader to fold, so every total
 * is the sum of what is listed. Times are seconds, exact to the nanosecond.
 */

#define FORMAT_NAME	"pyflare-tree"
#define FORMAT_VERSION	1

struct json {
	FILE *out;
	const struct session *s;
	struct render_tree t;
	int64_t *frame_index;	/* folded frame -> index in "frames", -1 if not listed */
	uint32_t *stack;	/* DFS: tree node */
	uint32_t *pos;		/* DFS: next child */
	uint32_t *index;	/* DFS: the node's index in its thread's list */
};

static void put_time(FILE *out, const char *key, uint64_t ns)
{
	fprintf(out, "\"%s\":", key);
	render_put_seconds(out, ns);
}

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
	default:
		return "unknown";
	}
}

static void put_meta(struct json *x, const struct render_opts *o)
{
	const struct session_meta *m = session__meta(x->s);
	FILE *out = x->out;
	char when[64];

	render_json_format_utc(when, sizeof(when), m->start_realtime_ns, 9);
	fputs("\"meta\":{", out);
	render_json_put_field(out, "recorded_at", when, NULL);
	fprintf(out, ",\"start_realtime_ns\":%llu,", (unsigned long long)m->start_realtime_ns);
	render_json_put_recording(out, x->s, o);
	fputs("},\n", out);
	render_json_put_health(out, x->s, NULL);
	fputs(",\n", out);
}

/* The folded frames the tree uses, in folded order. */
static int put_frames(struct json *x)
{
	const struct render_frames *rf = &x->t.stacks.frames;
	FILE *out = x->out;
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
	fputs("\"frames\":[", out);
	for (i = 0; i < rf->n; i++) {
		const struct session_frame *f = &rf->frames[i];

		if (x->frame_index[i] < 0)
			continue;
		x->frame_index[i] = next;
		fputs(next++ ? ",\n{" : "\n{", out);
		render_json_put_field(out, "name", render_frame_name(f), NULL);
		fprintf(out, ",\"kind\":\"%s\"", kind_name(f->kind));
		if (f->kind == FRAME_PYTHON) {
			putc(',', out);
			render_json_put_field(out, "file", f->file, NULL);
			fprintf(out, ",\"line\":%u,\"first_line\":%u", f->line, f->first_line);
		}
		putc('}', out);
	}
	fputs("],\n", out);
	return 0;
}

/* A thread's frames, depth first: each node before its children, children largest first. */
static void put_nodes(struct json *x, const struct session_process *p, uint32_t thread_node)
{
	const struct render_tree *t = &x->t;
	uint32_t count = 0;
	int sp = 0;

	fputs("\"nodes\":[", x->out);
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
		fprintf(x->out, "%s{\"frame\":%lld,\"parent\":%lld,", count ? ",\n" : "\n",
			(long long)x->frame_index[c->ref], sp ? (long long)x->index[sp] : -1LL);
		put_time(x->out, "total", c->total_ns);
		putc(',', x->out);
		put_time(x->out, "self", c->self_ns);
		fprintf(x->out, ",\"samples\":%llu,\"library\":%s}", (unsigned long long)c->samples,
			f->kind == FRAME_PYTHON && frame_is_library(p, f->file) ? "true" : "false");
		sp++;
		x->stack[sp] = child;
		x->pos[sp] = 0;
		x->index[sp] = count++;
	}
	fputs("]", x->out);
}

static void put_lib_dirs(FILE *out, const char *dirs)
{
	const char *p = dirs ? dirs : "";
	bool first = true;

	fputs("\"lib_dirs\":[", out);
	while (*p) {
		size_t n = strcspn(p, ":");

		if (n) {
			char *dir = strndup(p, n);

			if (!first)
				putc(',', out);
			render_put_json_string(out, dir ? dir : "");
			free(dir);
			first = false;
		}
		p += n;
		if (*p)
			p++;
	}
	putc(']', out);
}

static void put_processes(struct json *x)
{
	const struct session_process *procs;
	const struct session_thread *thr;
	size_t nprocs, nthreads, i, k;
	FILE *out = x->out;

	procs = session__processes(x->s, &nprocs);
	thr = session__threads(x->s, &nthreads);
	fputs("\"processes\":[", out);
	for (i = 0; i < nprocs; i++) {
		const struct session_process *p = &procs[i];
		const struct render_node *pn = &x->t.nodes[x->t.process_node[i]];
		bool first = true;

		fprintf(out, "%s{\"pid\":%u,\"start_time\":%llu,", i ? ",\n" : "\n", p->pid,
			(unsigned long long)p->start_time);
		render_json_put_process(out, p, "python_version", NULL);
		putc(',', out);
		put_lib_dirs(out, p->lib_dirs);
		putc(',', out);
		put_time(out, "total", x->t.process_node[i] ? pn->total_ns : 0);
		fprintf(out, ",\"samples\":%llu,\"threads\":[",
			x->t.process_node[i] ? (unsigned long long)pn->samples : 0ULL);
		for (k = 0; k < nthreads; k++) {
			const struct render_node *tn = &x->t.nodes[x->t.thread_node[k]];
			bool sampled = x->t.thread_node[k] != 0;

			if (thr[k].process != i)
				continue;
			fprintf(out, "%s{\"tid\":%u,", first ? "\n" : ",\n", thr[k].tid);
			render_json_put_field(out, "name", thr[k].name, NULL);
			fprintf(out, ",\"merged\":%u,",
				render_is_merged_thread(&thr[k]) ? thr[k].nmembers : 1);
			put_time(out, "total", sampled ? tn->total_ns : 0);
			fprintf(out, ",\"samples\":%llu,",
				sampled ? (unsigned long long)tn->samples : 0ULL);
			if (sampled)
				put_nodes(x, p, x->t.thread_node[k]);
			else
				fputs("\"nodes\":[]", out);
			putc('}', out);
			first = false;
		}
		fputs("]}", out);
	}
	fputs("]", out);
}

static int json_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct json x = { .out = out, .s = s };
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

	fprintf(out, "{\"format\":\"%s\",\"version\":%d,\"exporter\":\"pyflare %s\",\n",
		FORMAT_NAME, FORMAT_VERSION, PYFLARE_VERSION);
	put_meta(&x, o);
	put_time(out, "total", x.t.nodes[0].total_ns);
	fprintf(out, ",\"samples\":%llu,\n", (unsigned long long)x.t.nodes[0].samples);
	err = put_frames(&x);
	if (err)
		goto out;
	put_processes(&x);
	fputs("}\n", out);
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
