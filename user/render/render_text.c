/* SPDX-License-Identifier: MIT */
/* render_text.c — the console report: a pyinstrument-like call tree per process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"

struct colors {
	const char *red, *yellow, *green, *dim_green, *faint, *bold, *app, *end;
};

/* pyinstrument's: time by share, application code white on blue. */
static const struct colors colors_on = {
	"\033[31m",
	"\033[33m",
	"\033[32m",
	"\033[92m\033[2m",
	"\033[2m",
	"\033[1m",
	"\033[48;5;24m\033[38;5;15m",
	"\033[0m",
};
static const struct colors colors_off = { "", "", "", "", "", "", "", "" };

struct glyphs {
	const char *branch, *last, *pipe, *space;
};

static const struct glyphs glyphs_unicode = { "├─ ", "└─ ", "│  ", "   " };
static const struct glyphs glyphs_ascii = { "|- ", "`- ", "|  ", "   " };

/* A row of the depth-first walk that draws the tree. */
struct stack_entry {
	uint32_t node;
	uint32_t pos; /* next child to look at */
	uint32_t end; /* one past the last child above the pruning threshold */
};

struct text {
	FILE *out;
	const struct session *s;
	const struct render_tree *t;
	const struct colors *c;
	const struct glyphs *g;
	const struct session_process *proc; /* the process being drawn */
	double prune;
	bool percent;	/* times as a share of the process's total */
	uint64_t total; /* of the process being drawn: shares and pruning */
	bool *is_last;	/* per depth: the row is its parent's last shown child */
	struct stack_entry *stack;
};

static void put_time(const struct text *x, uint64_t ns)
{
	char buf[32];

	if (x->percent)
		snprintf(buf, sizeof(buf), "%.1f%%", x->total ? 100.0 * ns / x->total : 100.0);
	else
		render_format_time(buf, sizeof(buf), ns, "");
	fputs(buf, x->out);
}

/* pyinstrument's thresholds, on the share of the process's time. */
static const char *time_color(const struct text *x, uint64_t ns)
{
	double share = x->total ? (double)ns / (double)x->total : 0;

	if (share > 0.6)
		return x->c->red;
	if (share > 0.2)
		return x->c->yellow;
	if (share > 0.05)
		return x->c->green;
	return x->c->dim_green;
}

static bool is_shown(const struct text *x, uint64_t ns)
{
	return (double)ns >= x->prune * (double)x->total;
}

static void put_row(struct text *x, uint32_t id, uint32_t depth)
{
	const struct render_node *n = &x->t->nodes[id];
	FILE *out = x->out;
	uint32_t d;

	for (d = 1; d < depth; d++)
		fputs(x->is_last[d] ? x->g->space : x->g->pipe, out);
	if (depth)
		fputs(x->is_last[depth] ? x->g->last : x->g->branch, out);
	fputs(time_color(x, n->total_ns), out);
	put_time(x, n->total_ns);
	fputs(x->c->end, out);
	putc(' ', out);
	if (n->kind == RENDER_NODE_GROUP) {
		const struct render_group *grp = &x->t->groups[n->ref];

		fprintf(out, "[%u frame%s hidden]", grp->nframes, grp->nframes == 1 ? "" : "s");
		if (grp->libs[0]) {
			fprintf(out, "  %s", x->c->faint);
			render_put_safe(out, grp->libs, NULL);
			fputs(x->c->end, out);
		}
	} else if (n->kind == RENDER_NODE_THREAD) {
		const struct session_thread *th = &session__threads(x->s, &(size_t){ 0 })[n->ref];

		/* a thread of a group stands for the threads of that name in its members */
		if (render_is_merged_thread(th))
			fprintf(out, "%s%u threads", x->c->bold, th->nmembers);
		else
			fprintf(out, "%sThread %u", x->c->bold, th->tid);
		if (*th->name) {
			putc(' ', out);
			render_put_safe(out, th->name, NULL);
		}
		fputs(x->c->end, out);
	} else {
		const struct session_frame *f = &x->t->stacks.frames.frames[n->ref];
		bool app = *x->c->app && f->kind == FRAME_PYTHON &&
			   !frame_is_library(x->proc, f->file);

		if (app)
			fputs(x->c->app, out);
		render_put_safe(out, render_frame_name(f), NULL);
		if (app)
			fputs(x->c->end, out);
		if (f->kind == FRAME_PYTHON) {
			fprintf(out, "  %s", x->c->faint);
			render_put_safe(out, render_short_path(x->proc, f->file), NULL);
			if (f->line)
				fprintf(out, ":%u", f->line);
			fputs(x->c->end, out);
		}
	}
	putc('\n', out);
}

/* One past the last child above the threshold (a timeline's children are in time order). */
static uint32_t shown_end(const struct text *x, const struct render_node *n)
{
	uint32_t k = n->nchildren;

	while (k && !is_shown(x, x->t->nodes[x->t->children[n->first_child + k - 1]].total_ns))
		k--;
	return k;
}

/* Draws @top at the left margin and its shown descendants below it; no recursion. */
static void put_subtree(struct text *x, uint32_t top)
{
	const struct render_tree *t = x->t;
	int sp = 0;

	put_row(x, top, 0);
	x->stack[0] = (struct stack_entry){ .node = top, .end = shown_end(x, &t->nodes[top]) };
	while (sp >= 0) {
		struct stack_entry *e = &x->stack[sp];
		uint32_t child;

		if (e->pos == e->end) {
			sp--;
			continue;
		}
		child = t->children[t->nodes[e->node].first_child + e->pos++];
		if (!is_shown(x, t->nodes[child].total_ns))
			continue;
		x->is_last[sp + 1] = e->pos == e->end;
		put_row(x, child, sp + 1);
		sp++;
		x->stack[sp] = (struct stack_entry){
			.node = child,
			.end = shown_end(x, &t->nodes[child]),
		};
	}
}

static void put_process(struct text *x, uint32_t pnode)
{
	const struct render_tree *t = x->t;
	const struct render_node *n = &t->nodes[pnode];
	const struct session_process *p = &session__processes(x->s, &(size_t){ 0 })[n->ref];
	uint32_t i, nthreads = 0;
	char cpu[32];

	for (i = 0; i < n->nchildren; i++)
		nthreads += t->nodes[t->children[n->first_child + i]].kind == RENDER_NODE_THREAD;
	x->total = n->total_ns;
	x->proc = p;
	render_put_process_line(x->out, p, x->c == &colors_on, x->g == &glyphs_unicode);
	render_format_time(cpu, sizeof(cpu), n->total_ns, " s");
	fprintf(x->out, "  Samples: %llu   %s %s", (unsigned long long)n->samples,
		render_time_label(x->s), cpu);
	if (nthreads)
		fprintf(x->out, "   Threads: %u", nthreads);
	fputs("\n\n", x->out);
	for (i = 0; i < n->nchildren; i++) {
		uint32_t c = t->children[n->first_child + i];

		if (is_shown(x, t->nodes[c].total_ns))
			put_subtree(x, c);
	}
	putc('\n', x->out);
}

static int text_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	const struct session_process *procs;
	struct render_tree t;
	struct text x = { .out = out, .s = s, .t = &t };
	size_t nprocs, i, n_idle;
	int err;

	if (!s || !out)
		return -EINVAL;
	if (!o)
		o = &render_opts_default;
	err = render_tree__build_view(&t, s, o, RENDER_THREADS_AUTO);
	if (err)
		return err;
	x.c = o->color ? &colors_on : &colors_off;
	x.g = o->unicode ? &glyphs_unicode : &glyphs_ascii;
	x.prune = o->prune_share > 0 ? o->prune_share : 0;
	x.percent = o->percent;
	/* Rows sit at most two levels (process, thread) above the deepest frame. */
	x.is_last = calloc(t.stacks.max_depth + 4, sizeof(*x.is_last));
	x.stack = calloc(t.stacks.max_depth + 4, sizeof(*x.stack));
	if (!x.is_last || !x.stack) {
		err = -ENOMEM;
		goto out;
	}

	render_put_text_header(out, s, o);
	procs = session__processes(s, &nprocs);
	if (!t.nodes[0].samples)
		render_put_no_samples(out, s);
	for (i = 0; i < t.nodes[0].nchildren; i++)
		put_process(&x, t.children[t.nodes[0].first_child + i]);
	/* Host-wide, most processes idle: one line for all of them, not a section each */
	for (i = 0, n_idle = 0; i < nprocs; i++) {
		if (t.process_node[i])
			continue;
		render_put_idle_process(out, &procs[i], &n_idle, o->unicode);
	}
	if (n_idle)
		fputs("\n", out);
	err = ferror(out) ? -EIO : 0;
out:
	free(x.is_last);
	free(x.stack);
	render_tree__release(&t);
	return err;
}

static const char *const text_extensions[] = { ".txt", NULL };

const struct renderer render_text = {
	.name = "text",
	.extensions = text_extensions,
	.render = text_render,
};
