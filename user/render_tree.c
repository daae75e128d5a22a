/* SPDX-License-Identifier: MIT */
/* render_tree.c — folding frames to a granularity and aggregating samples into a call tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"
#include "render.h"

/* --- frames ------------------------------------------------------------------------------- */

static uint64_t folded_hash(const struct session_frame *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *p;

	for (p = f->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;
	for (p = f->file; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return hash_mix64(h ^ ((uint64_t)f->kind << 32 | f->line));
}

/* Folded frames hold their key in (kind, name, file, line). */
static bool folded_eq(const struct session_frame *a, const struct session_frame *b)
{
	return a->kind == b->kind && a->line == b->line && !strcmp(a->name, b->name) &&
	       !strcmp(a->file, b->file);
}

int render_frames__fold(struct render_frames *rf, const struct session *s, enum granularity g)
{
	const struct session_frame *frames;
	uint32_t *slots = NULL;
	size_t n, i, cap = 64;

	memset(rf, 0, sizeof(*rf));
	frames = session__frames(s, &n);
	while (cap < n * 2)
		cap *= 2;
	rf->frames = malloc((n ? n : 1) * sizeof(*rf->frames));
	rf->map = malloc((n ? n : 1) * sizeof(*rf->map));
	slots = calloc(cap, sizeof(*slots));
	if (!rf->frames || !rf->map || !slots) {
		free(slots);
		render_frames__release(rf);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct session_frame key = frames[i];
		size_t j;

		key.name = key.name ? key.name : "";
		key.file = key.file ? key.file : "";
		if (key.kind != FRAME_PYTHON) {
			key.file = "";
			key.first_line = key.line = 0;
		} else if (g == GRANULARITY_FUNCTION) {
			key.line = key.first_line;
		}
		for (j = folded_hash(&key) & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			if (folded_eq(&rf->frames[slots[j] - 1], &key))
				break;
		if (!slots[j]) {
			rf->frames[rf->n] = key;
			slots[j] = ++rf->n;
		}
		rf->map[i] = slots[j] - 1;
	}
	free(slots);
	return 0;
}

void render_frames__release(struct render_frames *rf)
{
	if (!rf)
		return;
	free(rf->frames);
	free(rf->map);
	memset(rf, 0, sizeof(*rf));
}

/* --- stacks ------------------------------------------------------------------------------- */

int render_stacks__build(struct render_stacks *rs, const struct session *s, enum granularity g)
{
	const struct session_stack *stacks;
	struct keymap *children = keymap__new();
	size_t n, nframes, i;
	int err;

	memset(rs, 0, sizeof(*rs));
	err = render_frames__fold(&rs->frames, s, g);
	if (err)
		return err;
	session__frames(s, &nframes);
	stacks = session__stacks(s, &n);
	rs->nodes = malloc((n ? n : 1) * sizeof(*rs->nodes));
	rs->map = malloc((n ? n : 1) * sizeof(*rs->map));
	if (!rs->nodes || !rs->map || !children) {
		err = -ENOMEM;
		goto out;
	}
	rs->nodes[0] = (struct session_stack){ 0, 0, 0 };
	rs->map[0] = 0;
	rs->n = 1;
	for (i = 1; i < n; i++) {
		uint32_t parent, frame, node;
		struct keymap_key key = { 0 };
		uint64_t found;

		/* The session interns parents first; anything else is a corrupt session. */
		if (stacks[i].parent >= i || stacks[i].frame >= nframes) {
			err = -EINVAL;
			goto out;
		}
		parent = rs->map[stacks[i].parent];
		frame = rs->frames.map[stacks[i].frame];
		key.a = parent;
		key.b = frame;
		if (keymap__get(children, &key, &found)) {
			node = (uint32_t)found;
		} else {
			node = rs->n++;
			rs->nodes[node] = (struct session_stack){
				.parent = parent,
				.frame = frame,
				.depth = rs->nodes[parent].depth + 1,
			};
			if (rs->nodes[node].depth > rs->max_depth)
				rs->max_depth = rs->nodes[node].depth;
			if (keymap__set(children, &key, node)) {
				err = -ENOMEM;
				goto out;
			}
		}
		rs->map[i] = node;
	}
out:
	keymap__free(children);
	if (err)
		render_stacks__release(rs);
	return err;
}

void render_stacks__release(struct render_stacks *rs)
{
	if (!rs)
		return;
	render_frames__release(&rs->frames);
	free(rs->nodes);
	free(rs->map);
	memset(rs, 0, sizeof(*rs));
}

/* --- call tree ---------------------------------------------------------------------------- */

struct tree_build {
	struct render_tree *t;
	size_t cap;
	struct keymap *memo;	/* (context node, folded stack node) -> tree node */
	uint32_t *path;
};

static int64_t new_node(struct tree_build *b, uint32_t parent, uint32_t kind, uint32_t ref)
{
	struct render_tree *t = b->t;

	if (t->n == b->cap) {
		size_t cap = b->cap * 2;
		struct render_node *nodes;

		if (cap > UINT32_MAX)
			return -ENOMEM;
		nodes = realloc(t->nodes, cap * sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
		t->nodes = nodes;
		b->cap = cap;
	}
	t->nodes[t->n] = (struct render_node){ .parent = parent, .kind = kind, .ref = ref };
	return t->n++;
}

/* The tree node under @ctx for folded stack @fnode, created with its callers on first use. */
static int64_t node_for(struct tree_build *b, uint32_t ctx, uint32_t fnode)
{
	const struct session_stack *fn = b->t->stacks.nodes;
	uint32_t base = ctx, k = 0;

	while (fnode) {
		struct keymap_key key = { ctx, fnode, 0 };
		uint64_t hit;

		if (keymap__get(b->memo, &key, &hit)) {
			base = (uint32_t)hit;
			break;
		}
		b->path[k++] = fnode;
		fnode = fn[fnode].parent;
	}
	while (k--) {
		int64_t node = new_node(b, base, RENDER_NODE_FRAME, fn[b->path[k]].frame);
		struct keymap_key key = { ctx, b->path[k], 0 };

		if (node < 0)
			return node;
		if (keymap__set(b->memo, &key, (uint64_t)node))
			return -ENOMEM;
		base = node;
	}
	return base;
}

static int node_cmp(const void *a, const void *b, void *arg)
{
	const struct render_tree *t = arg;
	const struct render_node *x = &t->nodes[*(const uint32_t *)a];
	const struct render_node *y = &t->nodes[*(const uint32_t *)b];
	int c;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->kind == RENDER_NODE_FRAME) {
		const struct session_frame *fx = &t->stacks.frames.frames[x->ref];
		const struct session_frame *fy = &t->stacks.frames.frames[y->ref];

		c = strcmp(fx->name, fy->name);
		if (!c)
			c = strcmp(fx->file, fy->file);
		if (c)
			return c;
		if (fx->line != fy->line)
			return fx->line < fy->line ? -1 : 1;
	}
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int link_children(struct render_tree *t)
{
	size_t i;
	uint32_t *fill;

	t->children = malloc(t->n * sizeof(*t->children));
	fill = calloc(t->n, sizeof(*fill));
	if (!t->children || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (i = 1; i < t->n; i++)
		t->nodes[t->nodes[i].parent].nchildren++;
	for (i = 0; i + 1 < t->n; i++)
		t->nodes[i + 1].first_child = t->nodes[i].first_child + t->nodes[i].nchildren;
	for (i = 1; i < t->n; i++) {
		struct render_node *p = &t->nodes[t->nodes[i].parent];

		t->children[p->first_child + fill[t->nodes[i].parent]++] = i;
	}
	free(fill);
	for (i = 0; i < t->n; i++)
		if (t->nodes[i].nchildren > 1)
			qsort_r(&t->children[t->nodes[i].first_child], t->nodes[i].nchildren,
				sizeof(uint32_t), node_cmp, t);
	return 0;
}

int render_tree__build(struct render_tree *t, const struct session *s, enum granularity g,
		       enum render_threads threads)
{
	const struct session_sample *samples;
	const struct session_thread *thr;
	struct tree_build b = { .t = t, .cap = 256 };
	size_t nsamples, nthreads, nprocs, nstacks, i;
	uint32_t *sampled_threads = NULL;
	uint8_t *seen = NULL;
	int err;

	memset(t, 0, sizeof(*t));
	err = render_stacks__build(&t->stacks, s, g);
	if (err)
		return err;
	samples = session__samples(s, &nsamples);
	thr = session__threads(s, &nthreads);
	session__processes(s, &nprocs);
	session__stacks(s, &nstacks);

	err = -ENOMEM;
	t->nodes = malloc(b.cap * sizeof(*t->nodes));
	t->process_node = calloc(nprocs ? nprocs : 1, sizeof(*t->process_node));
	t->thread_node = calloc(nthreads ? nthreads : 1, sizeof(*t->thread_node));
	sampled_threads = calloc(nprocs ? nprocs : 1, sizeof(*sampled_threads));
	seen = calloc(nthreads ? nthreads : 1, 1);
	b.path = malloc((t->stacks.max_depth + 1) * sizeof(*b.path));
	if (!t->nodes || !t->process_node || !t->thread_node || !sampled_threads || !seen ||
	    !b.path || !(b.memo = keymap__new()))
		goto out;
	t->nodes[0] = (struct render_node){ .kind = RENDER_NODE_ROOT };
	t->n = 1;

	for (i = 0; i < nsamples; i++) {
		uint32_t th = samples[i].thread;

		if (th >= nthreads || thr[th].process >= nprocs || samples[i].stack >= nstacks) {
			err = -EINVAL;
			goto out;
		}
		if (!seen[th]) {
			seen[th] = 1;
			sampled_threads[thr[th].process]++;
		}
	}

	for (i = 0; i < nsamples; i++) {
		const struct session_sample *smp = &samples[i];
		uint32_t th = smp->thread, p = thr[th].process, ctx;
		int64_t node;

		if (!t->process_node[p]) {
			node = new_node(&b, 0, RENDER_NODE_PROCESS, p);
			if (node < 0)
				goto out;
			t->process_node[p] = node;
			t->nprocesses_sampled++;
		}
		ctx = t->process_node[p];
		if (threads == RENDER_THREADS_SPLIT ||
		    (threads == RENDER_THREADS_AUTO && sampled_threads[p] > 1)) {
			if (!t->thread_node[th]) {
				node = new_node(&b, ctx, RENDER_NODE_THREAD, th);
				if (node < 0)
					goto out;
				t->thread_node[th] = node;
			}
			ctx = t->thread_node[th];
		}
		node = node_for(&b, ctx, t->stacks.map[smp->stack]);
		if (node < 0)
			goto out;
		t->nodes[node].self_ns += smp->weight_ns;
		t->nodes[node].samples++;
	}

	/* Parents are created before their children, so one backward pass sums the totals. */
	for (i = 0; i < t->n; i++)
		t->nodes[i].total_ns = t->nodes[i].self_ns;
	for (i = t->n - 1; i > 0; i--) {
		struct render_node *p = &t->nodes[t->nodes[i].parent];

		p->total_ns += t->nodes[i].total_ns;
		p->samples += t->nodes[i].samples;
	}
	err = link_children(t);
out:
	keymap__free(b.memo);
	free(b.path);
	free(sampled_threads);
	free(seen);
	if (err)
		render_tree__release(t);
	return err;
}

void render_tree__release(struct render_tree *t)
{
	if (!t)
		return;
	render_stacks__release(&t->stacks);
	free(t->nodes);
	free(t->children);
	free(t->process_node);
	free(t->thread_node);
	memset(t, 0, sizeof(*t));
}
