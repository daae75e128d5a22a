/* SPDX-License-Identifier: MIT */
/* render_tree.c — folding frames to a granularity and aggregating samples into a call tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/keymap.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_order.h"
#include "lib/saturate.h"

/* --- frames ------------------------------------------------------------------------------- */

static uint64_t folded_hash(const struct session_frame *f)
{
	uint64_t h = fnv1a_str(FNV1A_OFFSET, f->name);

	h = fnv1a_str(fnv1a_byte(h, 0xff), f->file);
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

/* A library of a group, "json" in "[3 frames hidden]  json, re". */
struct group_lib {
	char name[32];
	uint64_t weight; /* of the samples through the library's frames in the group */
	uint64_t stamp;	 /* the last sample (or stack) counted + 1: one count each */
	uint32_t next;	 /* the group's next library + 1; 0 ends the list */
};

/* Timeline: how many newer siblings a call may look past to continue. */
#define TIMELINE_LOOKBACK 8

struct tree_build {
	struct render_tree *t;
	const struct session_process *procs;
	const struct frame_filter *filter;
	size_t cap, gcap, libcap, nlibs;
	struct keymap *memo;	/* (context node, folded stack node) -> tree node */
	struct keymap *kids;	/* (parent, kind, ref) -> child, when stacks can meet */
	struct keymap *hidden;	/* (process, folded frame) -> 1 + hidden */
	struct keymap *members; /* timeline: (group node, folded stack node) counted */
	uint32_t *last;		/* timeline: per node, its child used last + 1 */
	uint32_t *prev;		/* timeline: per node, the sibling used before it + 1 */
	uint32_t *hits;		/* timeline: per node, the sampling periods through it so far */
	uint64_t period_ns;	/* timeline: one sample's time */
	uint32_t *path;
	uint32_t *first_lib; /* per group: its first library + 1 */
	struct group_lib *libs;
};

static int64_t new_node(struct tree_build *b, uint32_t parent, uint32_t kind, uint32_t ref)
{
	struct render_tree *t = b->t;

	if (t->n == b->cap) {
		/* node ids are 32-bit */
		size_t cap = grow_capacity(b->cap, t->n + 1, 256, UINT32_MAX);

		if (grow_resize(&t->nodes, cap, sizeof(*t->nodes)) ||
		    (b->last && (grow_resize(&b->last, cap, sizeof(*b->last)) ||
				 grow_resize(&b->prev, cap, sizeof(*b->prev)) ||
				 grow_resize(&b->hits, cap, sizeof(*b->hits)))))
			return -ENOMEM;
		b->cap = cap;
	}
	t->nodes[t->n] = (struct render_node){ .parent = parent, .kind = kind, .ref = ref };
	if (b->last) {
		b->prev[t->n] = b->last[parent];
		b->last[parent] = t->n + 1;
		b->last[t->n] = b->hits[t->n] = 0;
	}
	return t->n++;
}

static int64_t new_group(struct tree_build *b, uint32_t parent)
{
	struct render_tree *t = b->t;
	int64_t node;

	if (t->ngroups == b->gcap) {
		size_t cap = grow_capacity(b->gcap, t->ngroups + 1, 16, SIZE_MAX);

		if (grow_resize(&t->groups, cap, sizeof(*t->groups)) ||
		    grow_resize(&b->first_lib, cap, sizeof(*b->first_lib)))
			return -ENOMEM;
		b->gcap = cap;
	}
	node = new_node(b, parent, RENDER_NODE_GROUP, t->ngroups);
	if (node < 0)
		return node;
	t->groups[t->ngroups] = (struct render_group){ .node = node };
	b->first_lib[t->ngroups++] = 0;
	return node;
}

/*
 * A frame that stands for what could not be read: <truncated>, <unreadable>, <unknown>. A wait
 * ("[sleep]") is none: it was measured, start to end, like a call.
 */
static bool is_marker(const struct render_tree *t, uint32_t kind, uint32_t ref)
{
	enum frame_kind k;

	if (kind != RENDER_NODE_FRAME)
		return false;
	k = t->stacks.frames.frames[ref].kind;
	return k != FRAME_PYTHON && k != FRAME_WAIT && k != FRAME_TASK;
}

/* The child (@kind, @ref) of @parent, made on first use. Groups match by kind alone. */
static int64_t child_of(struct tree_build *b, uint32_t parent, uint32_t kind, uint32_t ref)
{
	struct render_tree *t = b->t;
	struct keymap_key key = { parent, kind, kind == RENDER_NODE_GROUP ? 0 : ref };
	bool marker = is_marker(t, kind, ref);
	uint64_t hit;
	int64_t node;

	if (t->timeline) {
		/*
		 * Only the newest child continues: a call after another call is a new node. But
		 * what sampling cannot tell from noise is no call in between: a stack that could
		 * not be read whole (<unreadable>, <unknown>), or a call seen in one sample only.
		 */
		uint32_t l = b->last[parent], before = 0, steps = 0;

		for (; l && steps < TIMELINE_LOOKBACK; before = l, l = b->prev[l - 1], steps++) {
			const struct render_node *c = &t->nodes[l - 1];

			if (c->kind == kind && (kind == RENDER_NODE_GROUP || c->ref == ref)) {
				/* Siblings by their last use: what it looked past is older now */
				if (before) {
					b->prev[before - 1] = b->prev[l - 1];
					b->prev[l - 1] = b->last[parent];
					b->last[parent] = l;
				}
				return l - 1;
			}
			if (marker || (!is_marker(t, c->kind, c->ref) && b->hits[l - 1] > 1))
				break;
		}
	} else if (b->filter && keymap__get(b->kids, &key, &hit)) {
		/* (Unfiltered, a child is reached from one stack node only: memo has it.) */
		return (int64_t)hit;
	}
	node = kind == RENDER_NODE_GROUP ? new_group(b, parent) : new_node(b, parent, kind, ref);
	if (node < 0)
		return node;
	if (!t->timeline && b->filter && keymap__set(b->kids, &key, (uint64_t)node))
		return -ENOMEM;
	return node;
}

static int is_hidden(struct tree_build *b, uint32_t proc, uint32_t frame, bool *hidden)
{
	struct keymap_key key = { proc, frame, 0 };
	uint64_t v;

	*hidden = false;
	if (!b->filter)
		return 0;
	if (keymap__get(b->hidden, &key, &v)) {
		*hidden = v == 2;
		return 0;
	}
	*hidden =
		frame_filter__hides(b->filter, &b->procs[proc], &b->t->stacks.frames.frames[frame]);
	return keymap__set(b->hidden, &key, 1 + *hidden);
}

/*
 * The node folded stack node @fnode maps to below tree node @parent, in process @proc. A
 * hidden frame below a shown one is shown (the call into the library); one below that call
 * opens the group; one below the group joins it (*member).
 */
static int64_t step(struct tree_build *b, uint32_t parent, uint32_t fnode, uint32_t proc,
		    bool *member)
{
	uint32_t pkind = b->t->nodes[parent].kind, pref = b->t->nodes[parent].ref;
	uint32_t frame = b->t->stacks.nodes[fnode].frame;
	bool hidden, caller_hidden;
	int err;

	*member = false;
	err = is_hidden(b, proc, frame, &hidden);
	if (err)
		return err;
	if (hidden && pkind == RENDER_NODE_GROUP) {
		*member = true;
		return parent;
	}
	if (hidden && pkind == RENDER_NODE_FRAME) {
		err = is_hidden(b, proc, pref, &caller_hidden);
		if (err)
			return err;
		if (caller_hidden) {
			*member = true;
			return child_of(b, parent, RENDER_NODE_GROUP, 0);
		}
	}
	return child_of(b, parent, RENDER_NODE_FRAME, frame);
}

/* Counts @weight once per @stamp for the library of @frame in group @g. */
static int add_lib(struct tree_build *b, uint32_t g, uint32_t proc, uint32_t frame, uint64_t weight,
		   uint64_t stamp)
{
	char name[sizeof(b->libs->name)];
	uint32_t i;

	frame_library_name(&b->procs[proc], b->t->stacks.frames.frames[frame].file, name,
			   sizeof(name));
	for (i = b->first_lib[g]; i; i = b->libs[i - 1].next)
		if (!strcmp(b->libs[i - 1].name, name))
			break;
	if (!i) {
		if (GROW(b->libs, b->libcap, b->nlibs + 1, 16))
			return -ENOMEM;
		b->libs[b->nlibs] = (struct group_lib){ .next = b->first_lib[g] };
		memcpy(b->libs[b->nlibs].name, name, sizeof(name));
		i = b->first_lib[g] = ++b->nlibs;
	}
	if (b->libs[i - 1].stamp != stamp) {
		b->libs[i - 1].stamp = stamp;
		b->libs[i - 1].weight = sat_add(b->libs[i - 1].weight, weight);
	}
	return 0;
}

/* The tree node under @ctx for folded stack @fnode, created with its callers on first use. */
static int64_t node_for(struct tree_build *b, uint32_t ctx, uint32_t fnode, uint32_t proc)
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
		struct keymap_key key = { ctx, b->path[k], 0 };
		bool member;
		int64_t node = step(b, base, b->path[k], proc, &member);

		if (node < 0)
			return node;
		/* A new (context, stack node) is a frame of the call tree the group did not hold */
		if (member)
			b->t->groups[b->t->nodes[node].ref].nframes++;
		if (keymap__set(b->memo, &key, (uint64_t)node))
			return -ENOMEM;
		base = node;
	}
	return base;
}

/*
 * @hits plus a sample of @weight in sampling periods, at least 1: a wait (one sample of its
 * whole length) counts for the time it took, so a long one is a call, not noise.
 */
static uint32_t add_periods(const struct tree_build *b, uint32_t hits, uint64_t weight)
{
	uint64_t periods = weight / b->period_ns;

	periods = periods ? periods : 1;
	return periods >= UINT32_MAX - hits ? UINT32_MAX : hits + (uint32_t)periods;
}

/* Timeline: the node for a sample at the end of @ctx's newest branch, or a new branch. */
static int64_t node_in_time(struct tree_build *b, uint32_t ctx, uint32_t fnode, uint32_t proc,
			    uint64_t weight, uint64_t stamp)
{
	const struct session_stack *fn = b->t->stacks.nodes;
	uint32_t base = ctx, k = 0;

	for (; fnode; fnode = fn[fnode].parent)
		b->path[k++] = fnode;
	while (k--) {
		bool member;
		int64_t node = step(b, base, b->path[k], proc, &member);

		if (node < 0)
			return node;
		if (node != base)
			b->hits[node] = add_periods(b, b->hits[node], weight);
		if (member) {
			struct keymap_key key = { (uint64_t)node, b->path[k], 0 };
			uint32_t g = b->t->nodes[node].ref;
			uint64_t hit;

			if (!keymap__get(b->members, &key, &hit)) {
				if (keymap__set(b->members, &key, 1))
					return -ENOMEM;
				b->t->groups[g].nframes++;
			}
			if (add_lib(b, g, proc, fn[b->path[k]].frame, weight, stamp))
				return -ENOMEM;
		}
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

/* Children in creation order (time order for a timeline), sorted largest first otherwise. */
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
	for (i = 0; i < t->n && !t->timeline; i++)
		if (t->nodes[i].nchildren > 1)
			qsort_r(&t->children[t->nodes[i].first_child], t->nodes[i].nchildren,
				sizeof(uint32_t), node_cmp, t);
	return 0;
}

/* The context (process or thread node) sample @smp was counted in. */
static uint32_t context_of(const struct render_tree *t, const struct session_thread *thr,
			   const struct session_sample *smp)
{
	uint32_t th = smp->thread;

	return t->thread_node[th] ? t->thread_node[th] : t->process_node[thr[th].process];
}

/* A distinct (context, stack) of weigh_groups() and its weight. */
struct leaf {
	uint32_t ctx, fnode, proc;
	uint64_t weight;
};

/*
 * Weighs the libraries of each group (aggregated trees): every distinct (context, stack)
 * once, each library counted once per stack.
 */
static int weigh_groups(struct tree_build *b, const struct session *s)
{
	const struct render_tree *t = b->t;
	const struct session_stack *fn = t->stacks.nodes;
	const struct session_thread *thr = session__threads(s, &(size_t){ 0 });
	struct session_cursor cur;
	struct session_sample smp;
	struct leaf *leaves;
	struct keymap *index = keymap__new();
	size_t nsamples, nleaves = 0, i;
	int err = -ENOMEM;

	nsamples = session__nsamples(s);
	leaves = malloc((nsamples ? nsamples : 1) * sizeof(*leaves));
	if (!index || !leaves)
		goto out;
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);) {
		struct keymap_key key = { context_of(t, thr, &smp), t->stacks.map[smp.stack], 0 };
		uint64_t at;

		if (!keymap__get(index, &key, &at)) {
			at = nleaves++;
			leaves[at] = (struct leaf){ .ctx = key.a,
						    .fnode = key.b,
						    .proc = thr[smp.thread].process };
			if (keymap__set(index, &key, at))
				goto out;
		}
		leaves[at].weight = sat_add(leaves[at].weight, smp.weight_ns);
	}
	for (i = 0; i < nleaves; i++) {
		uint32_t fnode;

		for (fnode = leaves[i].fnode; fnode; fnode = fn[fnode].parent) {
			struct keymap_key key = { leaves[i].ctx, fnode, 0 };
			uint64_t node;

			if (!keymap__get(b->memo, &key, &node) ||
			    t->nodes[node].kind != RENDER_NODE_GROUP)
				continue;
			if (add_lib(b, t->nodes[node].ref, leaves[i].proc, fn[fnode].frame,
				    leaves[i].weight, i + 1))
				goto out;
		}
	}
	err = 0;
out:
	keymap__free(index);
	free(leaves);
	return err;
}

static int lib_cmp(const void *a, const void *b)
{
	const struct group_lib *x = *(const struct group_lib *const *)a;
	const struct group_lib *y = *(const struct group_lib *const *)b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Joins each group's libraries, most time first, cut as pyinstrument cuts them (40 columns). */
static int name_groups(struct tree_build *b)
{
	const struct group_lib **order = malloc((b->nlibs ? b->nlibs : 1) * sizeof(*order));
	size_t g;

	if (!order)
		return -ENOMEM;
	for (g = 0; g < b->t->ngroups; g++) {
		struct render_group *grp = &b->t->groups[g];
		size_t n = 0, k, used = 0;
		uint32_t i;

		for (i = b->first_lib[g]; i; i = b->libs[i - 1].next)
			if (b->libs[i - 1].name[0])
				order[n++] = &b->libs[i - 1];
		qsort(order, n, sizeof(*order), lib_cmp);
		grp->libs[0] = '\0';
		for (k = 0; k < n; k++) {
			size_t len = strlen(order[k]->name) + (k ? 2 : 0);

			if (k && used + len > 40) {
				strcpy(grp->libs + used, "...");
				break;
			}
			used += snprintf(grp->libs + used, sizeof(grp->libs) - used, "%s%s",
					 k ? ", " : "", order[k]->name);
		}
	}
	free(order);
	return 0;
}

int render_tree__build_view(struct render_tree *t, const struct session *s,
			    const struct render_opts *o, enum render_threads threads)
{
	struct session_sample *samples = NULL, one;
	struct session_cursor cur;
	const struct session_thread *thr;
	struct tree_build b = { .t = t, .cap = 256 };
	size_t nsamples, nthreads, nprocs, nstacks, i;
	uint32_t *sampled_threads = NULL, *order = NULL, rate_hz;
	uint8_t *seen = NULL;
	int err;

	memset(t, 0, sizeof(*t));
	if (!o)
		o = &render_opts_default;
	t->timeline = o->timeline;
	b.filter = o->filter;
	rate_hz = session__meta(s)->rate_hz;
	b.period_ns = rate_hz ? 1000000000ULL / rate_hz : 1000000ULL;
	if (!b.period_ns)
		b.period_ns = 1; /* a rate above 1 GHz: a crafted file */
	err = render_stacks__build(&t->stacks, s, o->granularity);
	if (err)
		return err;
	nsamples = session__nsamples(s);
	thr = session__threads(s, &nthreads);
	b.procs = session__processes(s, &nprocs);
	session__stacks(s, &nstacks);

	err = -ENOMEM;
	t->nodes = malloc(b.cap * sizeof(*t->nodes));
	t->process_node = calloc(nprocs ? nprocs : 1, sizeof(*t->process_node));
	t->thread_node = calloc(nthreads ? nthreads : 1, sizeof(*t->thread_node));
	sampled_threads = calloc(nprocs ? nprocs : 1, sizeof(*sampled_threads));
	seen = calloc(nthreads ? nthreads : 1, 1);
	b.path = malloc((t->stacks.max_depth + 1) * sizeof(*b.path));
	if (!t->nodes || !t->process_node || !t->thread_node || !sampled_threads || !seen ||
	    !b.path || !(b.memo = keymap__new()) || !(b.kids = keymap__new()) ||
	    !(b.hidden = keymap__new()) || !(b.members = keymap__new()))
		goto out;
	if (t->timeline && (!(b.last = calloc(b.cap, sizeof(*b.last))) ||
			    !(b.prev = calloc(b.cap, sizeof(*b.prev))) ||
			    !(b.hits = calloc(b.cap, sizeof(*b.hits)))))
		goto out;
	t->nodes[0] = (struct render_node){ .kind = RENDER_NODE_ROOT };
	t->n = 1;

	for (session__samples_begin(s, &cur); session__samples_next(&cur, &one);) {
		uint32_t th = one.thread;

		if (th >= nthreads || thr[th].process >= nprocs || one.stack >= nstacks) {
			err = -EINVAL;
			goto out;
		}
		if (!seen[th]) {
			seen[th] = 1;
			sampled_threads[thr[th].process]++;
		}
	}
	/* A timeline takes the samples in time order (side by side, to sort them); an aggregate
	 * in any order, as they are kept. */
	if (t->timeline) {
		samples = session__samples_copy(s, &nsamples);
		order = malloc((nsamples ? nsamples : 1) * sizeof(*order));
		if (!samples || !order) {
			err = -ENOMEM;
			goto out;
		}
		for (i = 0; i < nsamples; i++)
			order[i] = i;
		render_sort_by_time(order, nsamples, samples);
	}

	session__samples_begin(s, &cur);
	for (i = 0; i < nsamples; i++) {
		const struct session_sample *smp = order ? &samples[order[i]] : &one;
		uint32_t th, p, ctx;
		int64_t node;

		if (!order && !session__samples_next(&cur, &one))
			break;
		th = smp->thread;
		p = thr[th].process;

		if (!t->process_node[p]) {
			node = new_node(&b, 0, RENDER_NODE_PROCESS, p);
			if (node < 0)
				goto fail;
			t->process_node[p] = node;
			t->nprocesses_sampled++;
		}
		ctx = t->process_node[p];
		if (threads == RENDER_THREADS_SPLIT ||
		    (threads == RENDER_THREADS_AUTO && sampled_threads[p] > 1)) {
			if (!t->thread_node[th]) {
				node = new_node(&b, ctx, RENDER_NODE_THREAD, th);
				if (node < 0)
					goto fail;
				t->thread_node[th] = node;
			}
			ctx = t->thread_node[th];
		}
		if (t->timeline)
			node = node_in_time(&b, ctx, t->stacks.map[smp->stack], p, smp->weight_ns,
					    i + 1);
		else
			node = node_for(&b, ctx, t->stacks.map[smp->stack], p);
		if (node < 0)
			goto fail;
		t->nodes[node].self_ns = sat_add(t->nodes[node].self_ns, smp->weight_ns);
		t->nodes[node].samples++;
	}

	/* Parents are created before their children, so one backward pass sums the totals. */
	for (i = 0; i < t->n; i++)
		t->nodes[i].total_ns = t->nodes[i].self_ns;
	for (i = t->n - 1; i > 0; i--) {
		struct render_node *p = &t->nodes[t->nodes[i].parent];

		p->total_ns = sat_add(p->total_ns, t->nodes[i].total_ns);
		p->samples += t->nodes[i].samples;
	}
	err = 0;
	if (t->ngroups && !t->timeline)
		err = weigh_groups(&b, s);
	if (!err && t->ngroups)
		err = name_groups(&b);
	if (!err)
		err = link_children(t);
	goto out;
fail:
	err = -ENOMEM;
out:
	keymap__free(b.memo);
	keymap__free(b.kids);
	keymap__free(b.hidden);
	keymap__free(b.members);
	free(b.last);
	free(b.prev);
	free(b.hits);
	free(b.path);
	free(b.first_lib);
	free(b.libs);
	free(order);
	free(samples);
	free(sampled_threads);
	free(seen);
	if (err)
		render_tree__release(t);
	return err;
}

int render_tree__build(struct render_tree *t, const struct session *s, enum granularity g,
		       enum render_threads threads)
{
	struct render_opts o = render_opts_default;

	o.granularity = g;
	o.filter = NULL;
	o.timeline = false;
	return render_tree__build_view(t, s, &o, threads);
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
	free(t->groups);
	memset(t, 0, sizeof(*t));
}
