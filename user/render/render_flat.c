/* SPDX-License-Identifier: MIT */
/* render_flat.c — the flat view (-r flat): one row per function and process, as pstats prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "lib/keymap.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "lib/saturate.h"

/*
 * Self time is the time of the samples ending in the function; total time that of the samples
 * holding it anywhere, once per sample however deep it recurses (cProfile's cumtime). Every
 * function is listed, library code too: hiding is for the call tree, the flat view is where
 * to find a hot function wherever it lives (pyinstrument's -p flat does the same). Rows under
 * the threshold (-p filter_threshold) of total time are left out, and counted at the end.
 */

/* A distinct stack of one process, with its samples added up. */
struct leaf {
	uint32_t proc, fnode;
	uint64_t weight, samples;
};

struct row {
	uint32_t frame;
	uint64_t self, total, samples;
	uint64_t stamp; /* the last leaf counted + 1: recursion counts once */
};

struct flat {
	FILE *out;
	const struct session *s;
	const struct render_opts *o;
	struct render_stacks rs;
	struct leaf *leaves;
	size_t nleaves;
	struct row *rows; /* per folded frame */
	uint32_t *order;  /* the frames of the process being drawn */
};

static int by_proc(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;

	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return x->fnode < y->fnode ? -1 : x->fnode > y->fnode;
}

/* Adds the samples up per (process, stack), grouped by process. */
static int gather(struct flat *x)
{
	const struct session_thread *thr;
	struct session_cursor cur;
	struct session_sample smp;
	struct keymap *index = keymap__new();
	size_t n, nthreads, nstacks;
	int err = -ENOMEM;

	n = session__nsamples(x->s);
	thr = session__threads(x->s, &nthreads);
	session__stacks(x->s, &nstacks);
	x->leaves = malloc((n ? n : 1) * sizeof(*x->leaves));
	if (!index || !x->leaves)
		goto out;
	for (session__samples_begin(x->s, &cur); session__samples_next(&cur, &smp);) {
		struct keymap_key key;
		uint64_t at;

		if (smp.thread >= nthreads || smp.stack >= nstacks) {
			err = -EINVAL;
			goto out;
		}
		key = (struct keymap_key){ thr[smp.thread].process, x->rs.map[smp.stack], 0 };
		if (!keymap__get(index, &key, &at)) {
			at = x->nleaves++;
			x->leaves[at] = (struct leaf){ key.a, key.b, 0, 0 };
			if (keymap__set(index, &key, at))
				goto out;
		}
		x->leaves[at].weight = sat_add(x->leaves[at].weight, smp.weight_ns);
		x->leaves[at].samples++;
	}
	qsort(x->leaves, x->nleaves, sizeof(*x->leaves), by_proc);
	err = 0;
out:
	keymap__free(index);
	return err;
}

static int name_cmp(const struct session_frame *a, const struct session_frame *b)
{
	int c = strcmp(render_frame_name(a), render_frame_name(b));

	if (!c)
		c = strcmp(a->file, b->file);
	if (!c && a->line != b->line)
		c = a->line < b->line ? -1 : 1;
	return c;
}

static int file_cmp(const struct session_frame *a, const struct session_frame *b)
{
	int c = strcmp(a->file, b->file);

	if (!c && a->line != b->line)
		c = a->line < b->line ? -1 : 1;
	if (!c)
		c = strcmp(render_frame_name(a), render_frame_name(b));
	return c;
}

static int desc(uint64_t a, uint64_t b)
{
	return a == b ? 0 : a > b ? -1 : 1;
}

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct flat *x = arg;
	const struct row *ra = &x->rows[*(const uint32_t *)a], *rb = &x->rows[*(const uint32_t *)b];
	const struct session_frame *fa = &x->rs.frames.frames[ra->frame];
	const struct session_frame *fb = &x->rs.frames.frames[rb->frame];
	int c = 0;

	switch (x->o->sort) {
	case FLAT_SORT_TOTAL:
		c = desc(ra->total, rb->total);
		if (!c)
			c = desc(ra->self, rb->self);
		break;
	case FLAT_SORT_NAME:
		c = name_cmp(fa, fb);
		break;
	case FLAT_SORT_FILE:
		c = file_cmp(fa, fb);
		break;
	case FLAT_SORT_SELF:
	default:
		c = desc(ra->self, rb->self);
		if (!c)
			c = desc(ra->total, rb->total);
		break;
	}
	if (!c)
		c = name_cmp(fa, fb);
	return c ? c : ra->frame < rb->frame ? -1 : ra->frame > rb->frame;
}

static const char *share_color(bool color, uint64_t ns, uint64_t total)
{
	double share = total ? (double)ns / (double)total : 0;

	if (!color)
		return "";
	if (share > 0.6)
		return "\033[31m";
	if (share > 0.2)
		return "\033[33m";
	if (share > 0.05)
		return "\033[32m";
	return "\033[92m\033[2m";
}

static void put_cells(struct flat *x, uint64_t ns, uint64_t total, int width)
{
	const char *end = x->o->color ? "\033[0m" : "";
	char secs[32], pct[16];

	render_format_time(secs, sizeof(secs), ns, "");
	snprintf(pct, sizeof(pct), "%.1f%%", total ? 100.0 * ns / total : 0.0);
	fprintf(x->out, "%s%*s%s %7s", share_color(x->o->color, ns, total), width, secs, end, pct);
}

static void put_row(struct flat *x, const struct session_process *p, const struct row *r,
		    uint64_t total)
{
	const struct session_frame *f = &x->rs.frames.frames[r->frame];
	bool color = x->o->color;
	bool app = color && f->kind == FRAME_PYTHON && !frame_is_library(p, f->file);
	FILE *out = x->out;

	put_cells(x, r->self, total, 8);
	putc(' ', out);
	put_cells(x, r->total, total, 9);
	fprintf(out, " %9llu  %s", (unsigned long long)r->samples,
		app ? "\033[48;5;24m\033[38;5;15m" : "");
	render_put_safe(out, render_frame_name(f), NULL);
	fputs(app ? "\033[0m" : "", out);
	if (f->kind == FRAME_PYTHON) {
		fprintf(out, "  %s", color ? "\033[2m" : "");
		render_put_safe(out, render_short_path(p, f->file), NULL);
		if (f->line)
			fprintf(out, ":%u", f->line);
		fputs(color ? "\033[0m" : "", out);
	}
	putc('\n', out);
}

/* The rows of one process, from its leaves [from, to), which ran in @threads threads. */
static void put_process(struct flat *x, size_t from, size_t to, uint32_t threads)
{
	const struct session_process *p = session__processes(x->s, &(size_t){ 0 });
	const struct session_stack *fn = x->rs.nodes;
	uint64_t total = 0, samples = 0;
	size_t n = 0, i, shown = 0;
	double prune = x->o->prune_share > 0 ? x->o->prune_share : 0;
	char cpu[32];

	p += x->leaves[from].proc;
	for (i = from; i < to; i++) {
		uint32_t fnode = x->leaves[i].fnode;

		total = sat_add(total, x->leaves[i].weight);
		samples += x->leaves[i].samples;
		if (fnode)
			x->rows[fn[fnode].frame].self =
				sat_add(x->rows[fn[fnode].frame].self, x->leaves[i].weight);
		for (; fnode; fnode = fn[fnode].parent) {
			struct row *r = &x->rows[fn[fnode].frame];

			if (r->stamp == i + 1)
				continue;
			if (!r->stamp)
				x->order[n++] = fn[fnode].frame;
			r->stamp = i + 1;
			r->total = sat_add(r->total, x->leaves[i].weight);
			r->samples += x->leaves[i].samples;
		}
	}
	qsort_r(x->order, n, sizeof(*x->order), row_cmp, x);

	render_put_process_line(x->out, p, x->o->color, x->o->unicode);
	render_format_time(cpu, sizeof(cpu), total, " s");
	fprintf(x->out, "  Samples: %llu   %s %s", (unsigned long long)samples,
		render_time_label(x->s), cpu);
	if (threads > 1)
		fprintf(x->out, "   Threads: %u", threads);
	fputs("\n\n", x->out);
	fprintf(x->out, "%8s %7s %9s %7s %9s  %s\n", "self s", "self %", "total s", "total %",
		"samples", "function  file:line");
	for (i = 0; i < n; i++) {
		struct row *r = &x->rows[x->order[i]];

		if ((double)r->total >= prune * (double)total) {
			put_row(x, p, r, total);
			shown++;
		}
	}
	if (shown < n)
		fprintf(x->out,
			"(%zu more function%s below %g%% of the time: "
			"-p filter_threshold=0 shows them)\n",
			n - shown, n - shown == 1 ? "" : "s", prune * 100);
	putc('\n', x->out);
	for (i = 0; i < n; i++)
		x->rows[x->order[i]] = (struct row){ .frame = x->order[i] };
}

static int proc_cmp(const void *a, const void *b, void *arg)
{
	const uint64_t *total = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (total[x] != total[y])
		return total[x] > total[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int flat_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct flat x = { .out = out, .s = s };
	const struct session_process *procs;
	size_t nprocs, i, from, np = 0, n_idle = 0;
	struct session_cursor cur;
	struct session_sample smp;
	const struct session_thread *thr;
	uint64_t *ptotal = NULL;
	uint32_t *porder = NULL, *pthreads = NULL;
	uint8_t *seen = NULL;
	size_t nthr;
	size_t *pfrom = NULL, *pto = NULL;
	int err;

	if (!s || !out)
		return -EINVAL;
	x.o = o ? o : &render_opts_default;
	err = render_stacks__build(&x.rs, s, x.o->granularity);
	if (err)
		return err;
	err = gather(&x);
	if (err)
		goto out;
	procs = session__processes(s, &nprocs);
	err = -ENOMEM;
	x.rows = calloc(x.rs.frames.n ? x.rs.frames.n : 1, sizeof(*x.rows));
	x.order = malloc((x.rs.frames.n ? x.rs.frames.n : 1) * sizeof(*x.order));
	ptotal = calloc(nprocs ? nprocs : 1, sizeof(*ptotal));
	porder = malloc((nprocs ? nprocs : 1) * sizeof(*porder));
	pfrom = calloc(nprocs ? nprocs : 1, sizeof(*pfrom));
	pto = calloc(nprocs ? nprocs : 1, sizeof(*pto));
	pthreads = calloc(nprocs ? nprocs : 1, sizeof(*pthreads));
	thr = session__threads(s, &nthr);
	seen = calloc(nthr ? nthr : 1, 1);
	if (!x.rows || !x.order || !ptotal || !porder || !pfrom || !pto || !pthreads || !seen)
		goto out;
	for (i = 0; i < x.rs.frames.n; i++)
		x.rows[i].frame = i;
	/* Sampled threads per process (gather() checked the indices) */
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);) {
		if (!seen[smp.thread] && thr[smp.thread].process < nprocs)
			pthreads[thr[smp.thread].process]++;
		seen[smp.thread] = 1;
	}

	/* Processes with the most time first, as in the text view */
	for (from = 0; from < x.nleaves;) {
		uint32_t p = x.leaves[from].proc;
		size_t to = from;

		if (p >= nprocs) {
			err = -EINVAL;
			goto out;
		}
		for (; to < x.nleaves && x.leaves[to].proc == p; to++)
			ptotal[p] = sat_add(ptotal[p], x.leaves[to].weight);
		pfrom[p] = from;
		pto[p] = to;
		porder[np++] = p;
		from = to;
	}
	qsort_r(porder, np, sizeof(*porder), proc_cmp, ptotal);

	render_put_text_header(out, s, x.o);
	if (!x.nleaves)
		render_put_no_samples(out, s);
	for (i = 0; i < np; i++)
		put_process(&x, pfrom[porder[i]], pto[porder[i]], pthreads[porder[i]]);
	for (i = 0; i < nprocs; i++) {
		if (pto[i])
			continue;
		render_put_idle_process(out, &procs[i], &n_idle, x.o->unicode);
	}
	if (n_idle)
		fputs("\n", out);
	err = ferror(out) ? -EIO : 0;
out:
	free(ptotal);
	free(porder);
	free(pfrom);
	free(pto);
	free(pthreads);
	free(seen);
	free(x.rows);
	free(x.order);
	free(x.leaves);
	render_stacks__release(&x.rs);
	return err;
}

const struct renderer render_flat = {
	.name = "flat",
	.extensions = NULL,
	.render = flat_render,
};
