/* SPDX-License-Identifier: MIT */
/* render_pstats.c — the marshal'd stats dict of Python's pstats module, from samples. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/keymap.h"
#include "render/marshal.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "lib/utf8.h"
#include "lib/saturate.h"

/*
 * The file is what cProfile's Profile.dump_stats() writes: marshal.dump() of
 *
 *	{(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct), ...}), ...}
 *
 * (Lib/cProfile.py, snapshot_stats; Lib/pstats.py, load_stats), so pstats.Stats, snakeviz and
 * gprof2dot read it. A sampler sees no calls, only stacks, so:
 *
 *	tt	self time: the weight of the samples whose innermost frame is the function
 *	ct	cumulative time: the weight of the samples with the function anywhere on the
 *		stack, counted once per sample however often it recurses
 *	nc, cc	the number of those samples (both the same: no "3/1" recursion figures)
 *
 * and a caller's entry holds the same figures for the samples where that caller calls the
 * function directly. All processes and threads are merged, as pstats.Stats.add() would.
 * Markers (<truncated>, ...) get a key like cProfile's builtins: ("~", 0, "<truncated>").
 */

struct pkey {
	char *file; /* well-formed UTF-8, controls escaped (escape_dup_utf8) */
	char *name;
	uint32_t line;
};

struct pstat {
	uint64_t n; /* samples */
	uint64_t tt_ns;
	uint64_t ct_ns;
};

struct pedge {
	uint32_t caller, callee; /* keys */
	struct pstat st;
};

struct pstats {
	struct render_stacks rs;
	struct pkey *keys; /* per folded frame, then merged: keys[key_of[frame]] */
	uint32_t *key_of;  /* folded frame -> key */
	size_t nkeys;
	struct pstat *stat; /* per key */
	uint32_t *on_path;  /* per key, then per edge: times on the current DFS path */
	uint32_t *edge_on_path;
	struct pedge *edges;
	size_t nedges, edges_cap;
	struct keymap *edge_ids;
	/* per folded stack node */
	uint64_t *self_ns, *total_ns, *self_n, *total_n;
	uint32_t *first_child, *children;
};

static int pkey_cmp(const struct pkey *x, const struct pkey *y)
{
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int key_order(const void *a, const void *b, void *arg)
{
	const struct pkey *keys = arg;

	return pkey_cmp(&keys[*(const uint32_t *)a], &keys[*(const uint32_t *)b]);
}

/*
 * One key per folded frame, merged when equal: frames that differ only in ill-formed bytes
 * look alike once repaired, and a dict must not hold a key twice. Keys take the sorted
 * order, so the dict is written in a stable order.
 */
static int make_keys(struct pstats *x)
{
	const struct render_frames *rf = &x->rs.frames;
	size_t n = rf->n ? rf->n : 1, i;
	struct pkey *fk;
	uint32_t *order;
	int err = -ENOMEM;

	fk = calloc(n, sizeof(*fk));
	order = malloc(n * sizeof(*order));
	x->keys = calloc(n, sizeof(*x->keys));
	x->key_of = malloc(n * sizeof(*x->key_of));
	if (!fk || !order || !x->keys || !x->key_of)
		goto out;
	for (i = 0; i < rf->n; i++) {
		const struct session_frame *f = &rf->frames[i];
		bool py = f->kind == FRAME_PYTHON;

		/* pstats.Stats.print_stats() writes them to a terminal as they are */
		fk[i].file = escape_dup_utf8(py ? f->file : "~");
		fk[i].name = escape_dup_utf8(render_frame_name(f));
		fk[i].line = py ? f->line : 0;
		if (!fk[i].file || !fk[i].name)
			goto out;
		order[i] = i;
	}
	qsort_r(order, rf->n, sizeof(*order), key_order, fk);
	for (i = 0; i < rf->n; i++) {
		struct pkey *f = &fk[order[i]];

		if (x->nkeys && !pkey_cmp(&x->keys[x->nkeys - 1], f)) {
			x->key_of[order[i]] = x->nkeys - 1;
			continue;
		}
		x->key_of[order[i]] = x->nkeys;
		x->keys[x->nkeys++] = *f;
		*f = (struct pkey){ 0 };
	}
	err = 0;
out:
	for (i = 0; fk && i < rf->n; i++) {
		free(fk[i].file);
		free(fk[i].name);
	}
	free(fk);
	free(order);
	return err;
}

/* Sample weights and counts per folded stack node, itself and with everything below. */
static int sum_nodes(struct pstats *x, const struct session *s)
{
	struct session_cursor cur;
	struct session_sample smp;
	size_t nstacks, n = x->rs.n, i;
	uint32_t *fill;

	session__stacks(s, &nstacks);
	x->self_ns = calloc(n, sizeof(*x->self_ns));
	x->total_ns = calloc(n, sizeof(*x->total_ns));
	x->self_n = calloc(n, sizeof(*x->self_n));
	x->total_n = calloc(n, sizeof(*x->total_n));
	x->first_child = calloc(n + 1, sizeof(*x->first_child));
	x->children = malloc(n * sizeof(*x->children));
	fill = calloc(n, sizeof(*fill));
	if (!x->self_ns || !x->total_ns || !x->self_n || !x->total_n || !x->first_child ||
	    !x->children || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);) {
		uint32_t node;

		if (smp.stack >= nstacks) {
			free(fill);
			return -EINVAL;
		}
		node = x->rs.map[smp.stack];
		x->self_ns[node] = sat_add(x->self_ns[node], smp.weight_ns);
		x->self_n[node]++;
	}
	/* Folded parents come before their children, so one backward pass sums the totals. */
	for (i = 0; i < n; i++) {
		x->total_ns[i] = x->self_ns[i];
		x->total_n[i] = x->self_n[i];
	}
	for (i = n - 1; i > 0; i--) {
		uint32_t p = x->rs.nodes[i].parent;

		x->total_ns[p] = sat_add(x->total_ns[p], x->total_ns[i]);
		x->total_n[p] += x->total_n[i];
		x->first_child[p + 1]++;
	}
	for (i = 0; i < n; i++)
		x->first_child[i + 1] += x->first_child[i];
	for (i = 1; i < n; i++) {
		uint32_t p = x->rs.nodes[i].parent;

		x->children[x->first_child[p] + fill[p]++] = i;
	}
	free(fill);
	return 0;
}

/* The edge caller -> callee, created on first use; -1 when out of memory. */
static int64_t edge_id(struct pstats *x, uint32_t caller, uint32_t callee)
{
	struct keymap_key key = { caller, callee, 0 };
	uint64_t id;

	if (keymap__get(x->edge_ids, &key, &id))
		return (int64_t)id;
	if (x->nedges == x->edges_cap) {
		size_t cap = grow_capacity(x->edges_cap, x->nedges + 1, 256, SIZE_MAX);

		if (grow_resize(&x->edges, cap, sizeof(*x->edges)) ||
		    grow_resize(&x->edge_on_path, cap, sizeof(*x->edge_on_path)))
			return -1;
		x->edges_cap = cap;
	}
	if (keymap__set(x->edge_ids, &key, x->nedges))
		return -1;
	x->edges[x->nedges] = (struct pedge){ .caller = caller, .callee = callee };
	x->edge_on_path[x->nedges] = 0;
	return x->nedges++;
}

/*
 * Walks the stack tree depth first. A node adds its subtree's samples to its function's
 * cumulative figures only when the function is not already on the path above it: that is
 * "once per sample, however deep the recursion", for every sample at once. Edges likewise.
 */
struct entry {
	uint32_t node;
	uint32_t pos;
	int64_t edge; /* caller -> this node's function, -1 for an outermost frame */
};

static int walk(struct pstats *x)
{
	struct entry *stack;
	int sp = 0, err = 0;

	stack = malloc((x->rs.max_depth + 2) * sizeof(*stack));
	x->stat = calloc(x->nkeys ? x->nkeys : 1, sizeof(*x->stat));
	x->on_path = calloc(x->nkeys ? x->nkeys : 1, sizeof(*x->on_path));
	x->edge_ids = keymap__new();
	if (!stack || !x->stat || !x->on_path || !x->edge_ids) {
		free(stack);
		return -ENOMEM;
	}
	stack[0] = (struct entry){ 0, 0, -1 };
	while (sp >= 0) {
		struct entry *e = &stack[sp];
		uint32_t child, key, parent;
		int64_t edge = -1;

		if (e->pos == x->first_child[e->node + 1] - x->first_child[e->node]) {
			if (e->node) {
				x->on_path[x->key_of[x->rs.nodes[e->node].frame]]--;
				if (e->edge >= 0)
					x->edge_on_path[e->edge]--;
			}
			sp--;
			continue;
		}
		child = x->children[x->first_child[e->node] + e->pos++];
		if (!x->total_n[child])
			continue; /* a stack no sample ends in or below */
		key = x->key_of[x->rs.nodes[child].frame];
		parent = x->rs.nodes[child].parent;
		if (!x->on_path[key]++) {
			x->stat[key].n += x->total_n[child];
			x->stat[key].ct_ns = sat_add(x->stat[key].ct_ns, x->total_ns[child]);
		}
		x->stat[key].tt_ns = sat_add(x->stat[key].tt_ns, x->self_ns[child]);
		if (parent) {
			edge = edge_id(x, x->key_of[x->rs.nodes[parent].frame], key);
			if (edge < 0) {
				err = -ENOMEM;
				break;
			}
			if (!x->edge_on_path[edge]++) {
				x->edges[edge].st.n += x->total_n[child];
				x->edges[edge].st.ct_ns =
					sat_add(x->edges[edge].st.ct_ns, x->total_ns[child]);
			}
			x->edges[edge].st.tt_ns =
				sat_add(x->edges[edge].st.tt_ns, x->self_ns[child]);
		}
		stack[++sp] = (struct entry){ child, 0, edge };
	}
	free(stack);
	return err;
}

static int edge_cmp(const void *a, const void *b)
{
	const struct pedge *x = a, *y = b;

	if (x->callee != y->callee)
		return x->callee < y->callee ? -1 : 1;
	return x->caller < y->caller ? -1 : x->caller > y->caller;
}

static int put_key(FILE *out, const struct pkey *k)
{
	int err;

	marshal_put_tuple(out, 3);
	err = marshal_put_str(out, k->file);
	marshal_put_int(out, k->line);
	return err ? err : marshal_put_str(out, k->name);
}

/* cProfile's tuples: (cc, nc, tt, ct) for a function, (nc, cc, tt, ct) for a caller. */
static void put_figures(FILE *out, const struct pstat *st)
{
	marshal_put_int(out, st->n);
	marshal_put_int(out, st->n);
	marshal_put_float(out, st->tt_ns / 1e9);
	marshal_put_float(out, st->ct_ns / 1e9);
}

static int put_stats(struct pstats *x, FILE *out)
{
	size_t k, e = 0;
	int err;

	if (x->nedges)
		qsort(x->edges, x->nedges, sizeof(*x->edges), edge_cmp);
	marshal_put_dict_begin(out);
	for (k = 0; k < x->nkeys; k++) {
		if (!x->stat[k].n)
			continue;
		err = put_key(out, &x->keys[k]);
		if (err)
			return err;
		marshal_put_tuple(out, 5);
		put_figures(out, &x->stat[k]);
		marshal_put_dict_begin(out);
		for (; e < x->nedges && x->edges[e].callee == k; e++) {
			err = put_key(out, &x->keys[x->edges[e].caller]);
			if (err)
				return err;
			marshal_put_tuple(out, 4);
			put_figures(out, &x->edges[e].st);
		}
		marshal_put_dict_end(out);
	}
	marshal_put_dict_end(out);
	return 0;
}

static int pstats_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct pstats x = { 0 };
	size_t i;
	int err;

	if (!s || !out)
		return -EINVAL;
	if (!o)
		o = &render_opts_default;
	err = render_stacks__build(&x.rs, s, o->granularity);
	if (err)
		return err;
	err = make_keys(&x);
	if (!err)
		err = sum_nodes(&x, s);
	if (!err)
		err = walk(&x);
	if (!err)
		err = put_stats(&x, out);
	if (!err && ferror(out))
		err = -EIO;
	for (i = 0; x.keys && i < x.nkeys; i++) {
		free(x.keys[i].file);
		free(x.keys[i].name);
	}
	free(x.keys);
	free(x.key_of);
	free(x.stat);
	free(x.on_path);
	free(x.edge_on_path);
	free(x.edges);
	keymap__free(x.edge_ids);
	free(x.self_ns);
	free(x.total_ns);
	free(x.self_n);
	free(x.total_n);
	free(x.first_child);
	free(x.children);
	render_stacks__release(&x.rs);
	return err;
}

static const char *const pstats_extensions[] = { ".pstats", ".prof", NULL };

const struct renderer render_pstats = {
	.name = "pstats",
	.extensions = pstats_extensions,
	.render = pstats_render,
};
