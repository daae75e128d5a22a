/* SPDX-License-Identifier: MIT */
/* render_text.c — the console report: a pyinstrument-like call tree per process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

struct colors {
	const char *red, *yellow, *green, *dim_green, *faint, *bold, *end;
};

static const struct colors colors_on = {
	"\033[31m", "\033[33m", "\033[32m", "\033[92m\033[2m", "\033[2m", "\033[1m", "\033[0m",
};
static const struct colors colors_off = { "", "", "", "", "", "", "" };

struct glyphs {
	const char *branch, *last, *pipe, *space, *dash;
};

static const struct glyphs glyphs_unicode = { "├─ ", "└─ ", "│  ", "   ", "—" };
static const struct glyphs glyphs_ascii = { "|- ", "`- ", "|  ", "   ", "-" };

struct text {
	FILE *out;
	const struct session *s;
	const struct render_tree *t;
	const struct colors *c;
	const struct glyphs *g;
	double prune;
	uint64_t total;		/* of the process being drawn: shares and pruning */
	bool *is_last;		/* per depth: the row is its parent's last shown child */
	struct stack_entry {
		uint32_t node;
		uint32_t pos;	/* next child to draw */
		uint32_t shown;	/* children above the pruning threshold */
	} *stack;
};

/* Seconds with 3 decimals, rounded, without going through a double. */
static void fmt_time(char *buf, size_t len, uint64_t ns, const char *unit)
{
	uint64_t ms = ns / 1000000 + (ns % 1000000 >= 500000);

	snprintf(buf, len, "%llu.%03llu%s", (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000), unit);
}

static void put_time(FILE *out, uint64_t ns)
{
	char buf[32];

	fmt_time(buf, sizeof(buf), ns, "");
	fputs(buf, out);
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

/* Library and standard-library paths shortened like pyinstrument's, from the package down. */
static const char *short_path(const char *file)
{
	static const char *const marks[] = { "/site-packages/", "/dist-packages/" };
	const char *best = NULL, *p;
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		for (p = strstr(file, marks[i]); p; p = strstr(p + 1, marks[i]))
			if (!best || p + strlen(marks[i]) > best)
				best = p + strlen(marks[i]);
	}
	if (best && *best)
		return best;
	/* ".../lib/python3.12/json/decoder.py" -> "json/decoder.py" */
	p = strstr(file, "/lib/python");
	if (p) {
		const char *q = strchr(p + strlen("/lib/python"), '/');

		if (q && q[1])
			return q + 1;
	}
	return file;
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
	put_time(out, n->total_ns);
	fputs(x->c->end, out);
	putc(' ', out);
	if (n->kind == RENDER_NODE_THREAD) {
		const struct session_thread *th = &session__threads(x->s, &(size_t){ 0 })[n->ref];

		fprintf(out, "%sThread %u", x->c->bold, th->tid);
		if (*th->name) {
			putc(' ', out);
			render_put_safe(out, th->name, NULL);
		}
		fputs(x->c->end, out);
	} else {
		const struct session_frame *f = &x->t->stacks.frames.frames[n->ref];

		render_put_safe(out, render_frame_name(f), NULL);
		if (f->kind == FRAME_PYTHON) {
			fprintf(out, "  %s", x->c->faint);
			render_put_safe(out, short_path(f->file), NULL);
			if (f->line)
				fprintf(out, ":%u", f->line);
			fputs(x->c->end, out);
		}
	}
	putc('\n', out);
}

static uint32_t shown_children(const struct text *x, const struct render_node *n)
{
	uint32_t k = 0;

	/* Children are sorted largest first, so the shown ones are a prefix. */
	while (k < n->nchildren &&
	       is_shown(x, x->t->nodes[x->t->children[n->first_child + k]].total_ns))
		k++;
	return k;
}

/* Draws @top at the left margin and its shown descendants below it; no recursion. */
static void put_subtree(struct text *x, uint32_t top)
{
	const struct render_tree *t = x->t;
	int sp = 0;

	put_row(x, top, 0);
	x->stack[0] = (struct stack_entry){
		.node = top,
		.shown = shown_children(x, &t->nodes[top]),
	};
	while (sp >= 0) {
		struct stack_entry *e = &x->stack[sp];
		uint32_t child;

		if (e->pos == e->shown) {
			sp--;
			continue;
		}
		child = t->children[t->nodes[e->node].first_child + e->pos++];
		x->is_last[sp + 1] = e->pos == e->shown;
		put_row(x, child, sp + 1);
		sp++;
		x->stack[sp] = (struct stack_entry){
			.node = child,
			.shown = shown_children(x, &t->nodes[child]),
		};
	}
}

static void put_process_line(struct text *x, const struct session_process *p)
{
	FILE *out = x->out;

	fprintf(out, "%sProcess %u ", x->c->bold, p->pid);
	render_put_safe(out, *p->comm ? p->comm : "?", NULL);
	fputs(x->c->end, out);
	if (*p->cmdline) {
		fprintf(out, " %s ", x->g->dash);
		render_put_safe(out, p->cmdline, NULL);
	}
	if (*p->python_version) {
		fprintf(out, " %s Python ", x->g->dash);
		render_put_safe(out, p->python_version, NULL);
	}
	putc('\n', out);
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
	put_process_line(x, p);
	fmt_time(cpu, sizeof(cpu), n->total_ns, " s");
	fprintf(x->out, "  Samples: %llu   CPU time: %s", (unsigned long long)n->samples, cpu);
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

static void put_header(struct text *x)
{
	const struct session_meta *m = session__meta(x->s);
	const struct session_health *h = session__health(x->s);
	const struct session_refusal *r;
	const struct render_node *root = &x->t->nodes[0];
	FILE *out = x->out;
	size_t nref, i;
	char when[64], duration[32], cpu[32];

	render_format_local_time(when, sizeof(when), m->start_realtime_ns);
	fmt_time(duration, sizeof(duration), m->duration_ns, " s");
	fmt_time(cpu, sizeof(cpu), root->total_ns, " s");
	fprintf(out, "%spyflare %s%s\n", x->c->bold, PYFLARE_VERSION, x->c->end);
	fprintf(out, "  Recorded: %-26s Samples:  %llu\n", when, (unsigned long long)root->samples);
	fprintf(out, "  Duration: %-26s CPU time: %s\n", duration, cpu);
	fputs("  Target:   ", out);
	render_put_safe(out, *m->target ? m->target : "?", NULL);
	fputs("\n  Mode:     ", out);
	render_put_safe(out, *m->mode ? m->mode : "?", NULL);
	fprintf(out, ", %u Hz on %u CPU%s\n", m->rate_hz, m->ncpus, m->ncpus == 1 ? "" : "s");
	fprintf(out, "  Health:   %llu samples taken, %llu lost (ring buffer full), %llu stacks "
		"truncated,\n            %llu cut short by a failed read, %llu frames not "
		"symbolized, %llu without thread state\n",
		(unsigned long long)h->samples, (unsigned long long)h->lost,
		(unsigned long long)h->truncated, (unsigned long long)h->unreadable,
		(unsigned long long)h->unsymbolized, (unsigned long long)h->no_thread_state);
	fprintf(out, "  Processes: %u attached, %u refused\n", h->attached, h->refused);
	r = session__refusals(x->s, &nref);
	for (i = 0; i < nref; i++) {
		fprintf(out, "  Refused:  %u ", r[i].pid);
		render_put_safe(out, *r[i].comm ? r[i].comm : "?", NULL);
		fputs(": ", out);
		render_put_safe(out, r[i].reason, NULL);
		putc('\n', out);
	}
	putc('\n', out);
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
	err = render_tree__build(&t, s, o->granularity, RENDER_THREADS_AUTO);
	if (err)
		return err;
	x.c = o->color ? &colors_on : &colors_off;
	x.g = o->unicode ? &glyphs_unicode : &glyphs_ascii;
	x.prune = o->prune_share > 0 ? o->prune_share : 0;
	/* Rows sit at most two levels (process, thread) above the deepest frame. */
	x.is_last = calloc(t.stacks.max_depth + 4, sizeof(*x.is_last));
	x.stack = calloc(t.stacks.max_depth + 4, sizeof(*x.stack));
	if (!x.is_last || !x.stack) {
		err = -ENOMEM;
		goto out;
	}

	put_header(&x);
	procs = session__processes(s, &nprocs);
	if (!t.nodes[0].samples)
		fputs("No samples were recorded.\n\n", out);
	for (i = 0; i < t.nodes[0].nchildren; i++)
		put_process(&x, t.children[t.nodes[0].first_child + i]);
	/* Host-wide, most processes idle: one line for all of them, not a section each */
	for (i = 0, n_idle = 0; i < nprocs; i++) {
		if (t.process_node[i])
			continue;
		fputs(n_idle++ ? ", " : "No samples from: ", out);
		fprintf(out, "%u ", procs[i].pid);
		render_put_safe(out, procs[i].comm, NULL);
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
