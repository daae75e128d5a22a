/* SPDX-License-Identifier: MIT */
/* sample_log.c — a session's samples packed as varints in blocks (sample_log.h). */
#include "session/sample_log.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/varint.h"

/* Blocks grow from the first size to the last by doubling: a session of a few samples (a
 * test, a live view's refresh) stays small, a long one allocates a block every 64 KiB. */
#define BLOCK_FIRST 1024
#define BLOCK_LAST (64 * 1024)
/* The most one sample takes: thread and flag, time step, stack, weight. */
#define SAMPLE_MAX_BYTES (4 * VARINT_MAX_BYTES)

struct sample_block {
	struct sample_block *next;
	size_t used, cap;
	uint8_t data[];
};

void sample_log_clear(struct sample_log *l)
{
	struct sample_block *b, *next;

	for (b = l->head; b; b = next) {
		next = b->next;
		free(b);
	}
	*l = (struct sample_log){ 0 };
}

/* Room for one more sample at the tail: 0 or -ENOMEM. */
static int reserve(struct sample_log *l)
{
	struct sample_block *b = l->tail;
	size_t cap;

	if (b && b->cap - b->used >= SAMPLE_MAX_BYTES)
		return 0;
	cap = b ? 2 * b->cap : BLOCK_FIRST;
	if (cap > BLOCK_LAST)
		cap = BLOCK_LAST;
	b = malloc(sizeof(*b) + cap);
	if (!b)
		return -ENOMEM;
	b->next = NULL;
	b->used = 0;
	b->cap = cap;
	if (l->tail)
		l->tail->next = b;
	else
		l->head = b;
	l->tail = b;
	l->bytes += sizeof(*b) + cap;
	return 0;
}

int sample_log_append(struct sample_log *l, const struct session_sample *smp)
{
	bool same_weight = smp->weight_ns == l->last_weight;
	struct sample_block *b;
	uint8_t *p;

	if (reserve(l))
		return -ENOMEM;
	b = l->tail;
	p = b->data + b->used;
	p += varint_put(p, (uint64_t)smp->thread << 1 | same_weight);
	p += varint_put(p, zigzag_step(smp->time_ns, l->last_time));
	p += varint_put(p, smp->stack);
	if (!same_weight)
		p += varint_put(p, smp->weight_ns);
	b->used = (size_t)(p - b->data);
	l->last_time = smp->time_ns;
	l->last_weight = smp->weight_ns;
	l->n++;
	return 0;
}

void sample_log_begin(const struct sample_log *l, struct session_cursor *c)
{
	*c = (struct session_cursor){ .block = l->head };
}

bool sample_log_next(struct session_cursor *c, struct session_sample *out)
{
	const struct sample_block *b = c->block;
	const uint8_t *p, *end;
	uint64_t head, step, stack;
	size_t k;

	if (!b)
		return false;
	/* at the end of the last block the cursor stays there, for samples added later */
	while (c->at >= b->used) {
		if (!b->next)
			return false;
		b = b->next;
		c->block = b;
		c->at = 0;
	}
	/* the log wrote these bytes itself: a short read means a bug, and ends the walk */
	p = b->data + c->at;
	end = b->data + b->used;
	if (!(k = varint_get(p, end, &head)))
		goto corrupt;
	p += k;
	if (!(k = varint_get(p, end, &step)))
		goto corrupt;
	p += k;
	if (!(k = varint_get(p, end, &stack)))
		goto corrupt;
	p += k;
	if (!(head & 1)) {
		if (!(k = varint_get(p, end, &c->weight_ns)))
			goto corrupt;
		p += k;
	}
	c->time_ns = zigzag_apply(c->time_ns, step);
	c->at = (size_t)(p - b->data);
	*out = (struct session_sample){
		.time_ns = c->time_ns,
		.weight_ns = c->weight_ns,
		.thread = (uint32_t)(head >> 1),
		.stack = (uint32_t)stack,
	};
	return true;
corrupt:
	c->block = NULL;
	return false;
}
