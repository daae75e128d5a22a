/* SPDX-License-Identifier: MIT */
/*
 * events.c — what the ring buffer brings, into the session: samples (a thread's stack, its
 * frames symbolized and interned), wall mode's stacks and waits, code objects' names, and
 * the process events procs.c follows. A failure stops the recording through c->err.
 */
#include "record/recorder.h"

#include <errno.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/keymap.h"
#include "python/symbolize.h"
#include "record/bench_hooks.h"
#include "record/repeats.h"
#include "session/session_file.h"

/* what a recording keeps, a saved session must hold */
_Static_assert(PYFLARE_MAX_FRAMES + 2 <= SESSION_FILE_MAX_DEPTH,
	       "a recorded stack deeper than a file holds");

int64_t marker_frame(struct collector *c, enum frame_kind kind, const char *name)
{
	struct session_frame f = { .name = name, .file = "", .kind = kind };

	return session__intern_frame(c->s, &f);
}

/*
 * The session stack node of the frames of @smp (a sample or an EVENT_STACK) of process
 * instance @t, with a marker at the root when the walk was cut short. Returns the node
 * (> 0), 0 for an empty stack, or -ENOMEM.
 */
static int64_t stack_node(struct collector *c, struct tracked *t, const struct py_sample *smp)
{
	struct tracked *origin = tracked_by_id(c, t->forked_from);
	uint32_t n = smp->nr_frames;
	int64_t node = 0, frame;

	/* What is missing is at the root side: say so in the outermost frame */
	if (smp->flags & SAMPLE_TRUNCATED)
		frame = marker_frame(c, FRAME_TRUNCATED, "<truncated>");
	else if (smp->flags & SAMPLE_READ_ERROR)
		frame = marker_frame(c, FRAME_UNREADABLE, "<unreadable>");
	else
		frame = -2;
	if (frame == -1)
		return -ENOMEM;
	if (frame >= 0)
		node = session__intern_stack(c->s, 0, (uint32_t)frame);
	if (t->alive)
		symbolizer__prefetch(c->sym, &t->target, smp->proc_id, smp->frames, n);
	for (uint32_t i = n; i-- > 0 && node >= 0;) {
		frame = symbolizer__frame(c->sym, t->alive ? &t->target : NULL, smp->proc_id,
					  origin && origin->alive ? &origin->target : NULL,
					  t->forked_from, &smp->frames[i]);
		if (frame < 0)
			return -ENOMEM;
		node = session__intern_stack(c->s, (uint32_t)node, (uint32_t)frame);
	}
	return node < 0 ? -ENOMEM : node;
}

/*
 * Stacks a process instance keeps symbolized (struct tracked's stacks), some 300 KiB: when
 * full it starts over, and the stacks sampled often are back in it soon. (65,536 a process
 * was up to 10 MiB each: most of a 10-minute `record -a`'s memory, its leaf instructions
 * making a new key at nearly every sample.)
 */
#define STACKS_KEPT_MAX 4096

/*
 * What tells @smp's stack from another in its process: each frame's code object, instruction
 * and fingerprint (a code object made at a freed one's address has another), the count and
 * the flags. 64 bits: that two of a million stacks of one process share it is some 2^-25
 * likely (n^2 / 2^65). (The kernel's stack name, py_stack_hash_frame, is another hash of the same.)
 */
static uint64_t stack_key(const struct py_sample *smp)
{
	uint64_t h = hash_mix64((uint64_t)smp->nr_frames << 32 | smp->flags);

	for (uint32_t i = 0; i < smp->nr_frames; i++) {
		const struct py_frame *f = &smp->frames[i];

		h = hash_mix64(h ^ f->code);
		h = hash_mix64(h ^ ((uint64_t)(uint32_t)f->lasti << 32 | f->fingerprint));
	}
	return h;
}

/* Whether every frame from @node to the root was named: else it may be later, and is not kept. */
static bool fully_named(const struct session *s, uint32_t node)
{
	size_t nstacks, nframes;
	const struct session_stack *st = session__stacks(s, &nstacks);
	const struct session_frame *fr = session__frames(s, &nframes);

	for (; node && node < nstacks; node = st[node].parent)
		if (st[node].frame >= nframes || fr[st[node].frame].kind == FRAME_UNKNOWN)
			return false;
	return true;
}

/*
 * stack_node() for a sample, through @t's stacks: a stack met before costs a hash of its
 * frames and a look-up, not one symbolizer look-up per frame.
 */
static int64_t sample_stack_node(struct collector *c, struct tracked *t,
				 const struct py_sample *smp)
{
	struct keymap_key key = { stack_key(smp), 0, 0 };
	uint64_t known;
	int64_t node;

	if (t->stacks && keymap__get(t->stacks, &key, &known))
		return (int64_t)known;
	node = stack_node(c, t, smp);
	if (node <= 0 || !fully_named(c->s, (uint32_t)node))
		return node;
	if (t->stacks && keymap__count(t->stacks) >= STACKS_KEPT_MAX) {
		keymap__free(t->stacks);
		t->stacks = NULL;
	}
	if (!t->stacks)
		t->stacks = keymap__new();
	if (t->stacks)
		keymap__set(t->stacks, &key, (uint64_t)node); /* out of memory: not kept */
	return node;
}

/* A well-formed stack event of a known process instance, or NULL. */
static struct tracked *stack_event_owner(struct collector *c, const struct py_sample *smp,
					 size_t size)
{
	uint32_t n = smp->nr_frames;

	if (size < sizeof(*smp) - sizeof(smp->frames) || n > PYFLARE_MAX_FRAMES ||
	    size < sizeof(*smp) - sizeof(smp->frames) + n * sizeof(smp->frames[0]))
		return NULL;
	return tracked_by_id(c, smp->proc_id);
}

static int on_sample(struct collector *c, const struct py_sample *smp, size_t size)
{
	struct session_sample out;
	struct tracked *t = stack_event_owner(c, smp, size);
	int64_t thread, node;

	if (!t)
		return 0;
	c->samples++;
	if (smp->nr_frames == 0 && !smp->flags) {
		c->empty++; /* a Python thread with no Python frame yet */
		return 0;
	}
	thread = thread_of(c, smp->proc_id, t, smp->tid, smp->thread_id, smp->time_ns);
	if (thread < 0)
		return (int)thread;
	node = c->opts->async ? async_sample_stack(c, t, smp) : 0;
	if (node == 0)
		node = sample_stack_node(c, t, smp);
	if (node <= 0)
		return (int)node;
	out = (struct session_sample){
		.time_ns = smp->time_ns > c->start_ns ? smp->time_ns - c->start_ns : 0,
		.weight_ns = smp->weight_ns,
		.thread = (uint32_t)thread,
		.stack = (uint32_t)node,
	};
	return session__add_sample(c->s, &out);
}

int remember_stack(struct collector *c, struct tracked *t, const struct py_sample *smp)
{
	struct keymap_key key = { smp->proc_id, smp->stack, 0 };
	int64_t node = c->opts->async ? async_sample_stack(c, t, smp) : 0;

	if (node == 0)
		node = sample_stack_node(c, t, smp);
	if (node <= 0)
		return (int)node;
	return keymap__set(c->stacks, &key, (uint64_t)node) ? -ENOMEM : 0;
}

/* A whole sample: its stack kept if its CPU remembers having sent it, and recorded (even
 * when there was no memory to keep it: its repeats then come unmatched, counted lost). */
static int on_whole_sample(struct collector *c, const struct py_sample *smp, size_t size)
{
	int kept = repeats__keep(c->repeats, smp, size);
	int err = on_sample(c, smp, size);

	return err ? err : kept;
}

/* A sample sent as its header alone: the stack its CPU sent whole before. */
static int on_sample_again(struct collector *c, const struct py_sample *again, size_t size)
{
	size_t whole_size;
	const struct py_sample *whole = repeats__expand(c->repeats, again, size, &whole_size);

	c->again++;
	if (!whole) {
		c->again_unmatched++;
		return 0;
	}
	return on_sample(c, whole, whole_size);
}

/* Wall mode: a stack off-CPU records will name by its hash. */
static int on_stack(struct collector *c, const struct py_sample *smp, size_t size)
{
	struct tracked *t = stack_event_owner(c, smp, size);

	return t ? remember_stack(c, t, smp) : 0;
}

/* The names of a code object the kernel met first, kept while its process instance is. */
static int on_code(struct collector *c, const struct code_event *e)
{
	return tracked_by_id(c, e->proc_id) ? symbolizer__remember(c->sym, e) : 0;
}

int handle_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	__u32 type;
	int err = 0;

	if (size < sizeof(type))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (bench_hooks__drops_event(type))
		return 0; /* the bench's ladder: the transport's cost, not the collector's */
	if (type == EVENT_SAMPLE)
		err = on_whole_sample(c, data, size);
	else if (type == EVENT_SAMPLE_AGAIN)
		err = on_sample_again(c, data, size);
	else if (type == EVENT_STACK)
		err = on_stack(c, data, size);
	else if (type == EVENT_OFFCPU && size >= sizeof(struct offcpu_event))
		err = on_offcpu(c, &((const struct offcpu_event *)data)->wait,
				&((const struct offcpu_event *)data)->sum);
	else if (type == EVENT_CODE && size >= sizeof(struct code_event))
		err = on_code(c, data);
	else if (size >= sizeof(struct proc_event))
		on_proc_event(c, data);
	if (err && !c->err)
		c->err = err;
	/* a turn's time is up: the loop's other work (slices, signals) before the rest */
	if (++c->read_count % 256 == 0 && now_ns() >= c->read_until_ns)
		return -EAGAIN;
	return 0;
}
