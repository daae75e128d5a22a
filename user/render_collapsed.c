/* SPDX-License-Identifier: MIT */
/* render_collapsed.c — folded stacks for flamegraph.pl and inferno: "root;...;leaf weight". */
#include <errno.h>
#include <stdlib.h>

#include "render.h"

/*
 * One line per distinct stack after folding, root first, weighing its time in integer
 * microseconds (rounded, at least 1). A process frame leads each line when several processes
 * have samples, and a thread frame when a process has several sampled threads, as in the
 * text tree. ';' and control characters in names become \xNN so every line stays one stack.
 */

static void put_element(FILE *out, const struct session *s, const struct render_tree *t,
			const struct render_node *n)
{
	size_t cnt;

	if (n->kind == RENDER_NODE_PROCESS) {
		const struct session_process *p = &session__processes(s, &cnt)[n->ref];

		fprintf(out, "process %u (", p->pid);
		render_put_safe(out, p->comm, ";");
		putc(')', out);
	} else if (n->kind == RENDER_NODE_THREAD) {
		const struct session_thread *th = &session__threads(s, &cnt)[n->ref];

		fprintf(out, "thread %u", th->tid);
		if (*th->name) {
			fputs(" (", out);
			render_put_safe(out, th->name, ";");
			putc(')', out);
		}
	} else {
		const struct session_frame *f = &t->stacks.frames.frames[n->ref];

		render_put_safe(out, render_frame_name(f), ";");
		if (f->kind == FRAME_PYTHON) {
			fputs(" (", out);
			render_put_safe(out, f->file, ";");
			if (f->line)
				fprintf(out, ":%u", f->line);
			putc(')', out);
		}
	}
}

static int collapsed_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct render_tree t;
	struct entry {
		uint32_t node;
		uint32_t pos;
	} *stack;
	bool with_process;
	int sp = 0, err;

	if (!s || !out)
		return -EINVAL;
	if (!o)
		o = &render_opts_default;
	err = render_tree__build(&t, s, o->granularity, RENDER_THREADS_AUTO);
	if (err)
		return err;
	stack = calloc(t.stacks.max_depth + 4, sizeof(*stack));
	if (!stack) {
		render_tree__release(&t);
		return -ENOMEM;
	}
	with_process = t.nprocesses_sampled > 1;
	stack[0] = (struct entry){ 0, 0 };
	while (sp >= 0) {
		struct entry *e = &stack[sp];
		const struct render_node *n = &t.nodes[e->node];
		int i;

		if (e->pos == 0 && n->kind == RENDER_NODE_FRAME && n->self_ns) {
			bool first = true;
			uint64_t us = (n->self_ns + 500) / 1000;

			for (i = 1; i <= sp; i++) {
				const struct render_node *p = &t.nodes[stack[i].node];

				if (p->kind == RENDER_NODE_PROCESS && !with_process)
					continue;
				if (!first)
					putc(';', out);
				put_element(out, s, &t, p);
				first = false;
			}
			fprintf(out, " %llu\n", (unsigned long long)(us ? us : 1));
		}
		if (e->pos == n->nchildren) {
			sp--;
			continue;
		}
		stack[sp + 1] = (struct entry){ t.children[n->first_child + e->pos++], 0 };
		sp++;
	}
	free(stack);
	render_tree__release(&t);
	return ferror(out) ? -EIO : 0;
}

static const char *const collapsed_extensions[] = { ".collapsed", ".folded", NULL };

const struct renderer render_collapsed = {
	.name = "collapsed",
	.extensions = collapsed_extensions,
	.render = collapsed_render,
};
