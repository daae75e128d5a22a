/* SPDX-License-Identifier: MIT */
/* render_collapsed.c — folded stacks for flamegraph.pl and inferno: "root;...;leaf weight". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keymap.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "lib/saturate.h"

/*
 * One line per distinct stack after folding, root first, weighing its time in integer
 * microseconds (rounded, at least 1), in byte order as stackcollapse-perf.pl writes them.
 * Only Python frames by default, so equal stacks of different threads and processes add up
 * and two recordings compare line by line (difffolded.pl); --collapsed-roots process,thread
 * leads each line with "process PID (comm)" and "thread TID (name)" frames ("processes 4242,
 * 4243, 4244 (comm)" and "threads 4242+2 (name)" for a group, --group-by). ';' and control
 * characters in names become \xNN so every line stays one stack.
 */

/* A distinct (root frames, stack) and its time; its text is at .text in the buffer. */
struct line {
	uint32_t ctx; /* 0, or the process or thread index + 1 */
	uint32_t fnode;
	uint64_t weight;
	size_t text;
};

struct collapsed {
	const struct session *s;
	const struct render_opts *o;
	struct render_stacks rs;
	struct line *lines;
	size_t n;
	uint32_t *path;
	char *buf; /* every line's text, NUL-terminated */
};

static void put_frame(FILE *out, const struct session_frame *f)
{
	render_put_safe(out, render_frame_name(f), ";");
	if (f->kind == FRAME_PYTHON) {
		fputs(" (", out);
		render_put_safe(out, f->file, ";");
		if (f->line)
			fprintf(out, ":%u", f->line);
		putc(')', out);
	}
}

static void put_roots(FILE *out, const struct collapsed *x, uint32_t ctx)
{
	const struct session_process *procs = session__processes(x->s, &(size_t){ 0 });
	const struct session_thread *thr = session__threads(x->s, &(size_t){ 0 });
	unsigned roots = x->o->collapsed_roots;
	const struct session_process *p;

	if (!ctx)
		return;
	p = roots & COLLAPSED_ROOT_THREAD ? &procs[thr[ctx - 1].process] : &procs[ctx - 1];
	if (roots & COLLAPSED_ROOT_PROCESS) {
		char members[RENDER_MEMBERS_LEN];

		render_format_members(members, p, false);
		fprintf(out, "process%s %s (", render_is_group(p) ? "es" : "", members);
		render_put_safe(out, p->comm, ";");
		fputs(")", out);
	}
	if (roots & COLLAPSED_ROOT_THREAD) {
		const struct session_thread *th = &thr[ctx - 1];

		fputs(roots & COLLAPSED_ROOT_PROCESS ? ";" : "", out);
		/* the first one's TID keeps every thread's root apart */
		if (render_is_merged_thread(th))
			fprintf(out, "threads %u+%u", th->tid, th->nmembers - 1);
		else
			fprintf(out, "thread %u", th->tid);
		if (*th->name) {
			fputs(" (", out);
			render_put_safe(out, th->name, ";");
			putc(')', out);
		}
	}
}

/* Adds the samples up per line. */
static int gather(struct collapsed *x)
{
	struct session_cursor cur;
	struct session_sample smp;
	const struct session_thread *thr;
	struct keymap *index = keymap__new();
	size_t nsmp, nthr, nprocs, nstacks, i;
	unsigned roots = x->o->collapsed_roots;
	int err = -ENOMEM;

	nsmp = session__nsamples(x->s);
	thr = session__threads(x->s, &nthr);
	session__processes(x->s, &nprocs);
	session__stacks(x->s, &nstacks);
	x->lines = malloc((nsmp ? nsmp : 1) * sizeof(*x->lines));
	if (!index || !x->lines)
		goto out;
	for (i = 0; i < nthr; i++) {
		if (thr[i].process >= nprocs) {
			err = -EINVAL;
			goto out;
		}
	}
	for (session__samples_begin(x->s, &cur); session__samples_next(&cur, &smp);) {
		struct keymap_key key = { 0 };
		uint64_t at;

		if (smp.thread >= nthr || smp.stack >= nstacks) {
			err = -EINVAL;
			goto out;
		}
		if (roots & COLLAPSED_ROOT_THREAD)
			key.a = smp.thread + 1;
		else if (roots & COLLAPSED_ROOT_PROCESS)
			key.a = thr[smp.thread].process + 1;
		key.b = x->rs.map[smp.stack];
		if (!key.b)
			continue; /* an empty stack has no line */
		if (!keymap__get(index, &key, &at)) {
			at = x->n++;
			x->lines[at] = (struct line){ .ctx = key.a, .fnode = key.b };
			if (keymap__set(index, &key, at))
				goto out;
		}
		x->lines[at].weight = sat_add(x->lines[at].weight, smp.weight_ns);
	}
	err = 0;
out:
	keymap__free(index);
	return err;
}

/* Writes every line's text into one buffer. */
static int write_texts(struct collapsed *x)
{
	size_t len = 0, i;
	FILE *out = open_memstream(&x->buf, &len);

	if (!out)
		return -ENOMEM;
	for (i = 0; i < x->n; i++) {
		uint32_t fnode = x->lines[i].fnode, k = 0;

		x->lines[i].text = ftell(out);
		put_roots(out, x, x->lines[i].ctx);
		for (; fnode; fnode = x->rs.nodes[fnode].parent)
			x->path[k++] = x->rs.nodes[fnode].frame;
		if (x->lines[i].ctx)
			putc(';', out);
		while (k--) {
			put_frame(out, &x->rs.frames.frames[x->path[k]]);
			if (k)
				putc(';', out);
		}
		putc('\0', out);
	}
	if (fclose(out))
		return -ENOMEM;
	return 0;
}

static int line_cmp(const void *a, const void *b, void *arg)
{
	const char *buf = arg;

	return strcmp(buf + ((const struct line *)a)->text, buf + ((const struct line *)b)->text);
}

static int collapsed_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct collapsed x = { .s = s, .o = o ? o : &render_opts_default };
	size_t i;
	int err;

	if (!s || !out)
		return -EINVAL;
	err = render_stacks__build(&x.rs, s, x.o->granularity);
	if (err)
		return err;
	err = gather(&x);
	if (err)
		goto out;
	err = -ENOMEM;
	x.path = malloc((x.rs.max_depth + 1) * sizeof(*x.path));
	if (!x.path)
		goto out;
	err = write_texts(&x);
	if (err)
		goto out;
	qsort_r(x.lines, x.n, sizeof(*x.lines), line_cmp, x.buf);
	for (i = 0; i < x.n; i++) {
		uint64_t ns = x.lines[i].weight, us;

		/* Two frames may print alike (a name holding " (f:1)"): one line, not two */
		while (i + 1 < x.n && !strcmp(x.buf + x.lines[i].text, x.buf + x.lines[i + 1].text))
			ns = sat_add(ns, x.lines[++i].weight);
		us = ns / 1000 + (ns % 1000 >= 500); /* rounded, even near 2^64 */
		fprintf(out, "%s %llu\n", x.buf + x.lines[i].text,
			(unsigned long long)(us ? us : 1));
	}
	err = ferror(out) ? -EIO : 0;
out:
	free(x.buf);
	free(x.path);
	free(x.lines);
	render_stacks__release(&x.rs);
	return err;
}

static const char *const collapsed_extensions[] = { ".collapsed", ".folded", NULL };

const struct renderer render_collapsed = {
	.name = "collapsed",
	.extensions = collapsed_extensions,
	.render = collapsed_render,
};
