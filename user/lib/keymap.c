/* SPDX-License-Identifier: MIT */
/*
 * keymap.c — open addressing with linear probing; tombstones on removal.
 */
#include "lib/keymap.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/hash.h"

enum slot_state { SLOT_EMPTY = 0, SLOT_FULL, SLOT_DELETED };

struct slot {
	struct keymap_key key;
	uint64_t value;
	uint8_t state;
};

struct keymap {
	struct slot *slots;
	size_t cap;   /* power of two */
	size_t count; /* full slots */
	size_t used;  /* full and deleted slots: what probing sees */
};

static uint64_t hash_key(const struct keymap_key *k)
{
	return hash_mix64(k->a ^ hash_mix64(k->b ^ hash_mix64(k->c)));
}

static bool key_eq(const struct keymap_key *x, const struct keymap_key *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c;
}

struct keymap *keymap__new(void)
{
	struct keymap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cap = 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void keymap__free(struct keymap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static struct slot *find(const struct keymap *m, const struct keymap_key *key)
{
	size_t mask = m->cap - 1, i = hash_key(key) & mask;

	for (size_t n = 0; n < m->cap; n++, i = (i + 1) & mask) {
		struct slot *s = &m->slots[i];

		if (s->state == SLOT_EMPTY)
			return NULL;
		if (s->state == SLOT_FULL && key_eq(&s->key, key))
			return s;
	}
	return NULL;
}

bool keymap__get(const struct keymap *m, const struct keymap_key *key, uint64_t *value)
{
	struct slot *s = find(m, key);

	if (!s)
		return false;
	*value = s->value;
	return true;
}

static int resize(struct keymap *m, size_t cap)
{
	struct slot *old = m->slots, *slots = calloc(cap, sizeof(*slots));
	size_t old_cap = m->cap;

	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	m->cap = cap;
	m->count = m->used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].state == SLOT_FULL)
			keymap__set(m, &old[i].key, old[i].value);
	free(old);
	return 0;
}

int keymap__set(struct keymap *m, const struct keymap_key *key, uint64_t value)
{
	struct slot *s = find(m, key);
	size_t mask, i;

	if (s) {
		s->value = value;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3) { /* keep the load under 3/4 */
		int err = resize(m, m->count * 2 + 1 > m->cap / 2 ? m->cap * 2 : m->cap);

		if (err)
			return err;
	}
	mask = m->cap - 1;
	for (i = hash_key(key) & mask; m->slots[i].state == SLOT_FULL; i = (i + 1) & mask)
		;
	if (m->slots[i].state == SLOT_EMPTY)
		m->used++;
	m->slots[i] = (struct slot){ .key = *key, .value = value, .state = SLOT_FULL };
	m->count++;
	return 0;
}

size_t keymap__count(const struct keymap *m)
{
	return m->count;
}

void keymap__remove(struct keymap *m, const struct keymap_key *key)
{
	struct slot *s = find(m, key);

	if (s) {
		s->state = SLOT_DELETED;
		m->count--;
	}
}

void keymap__each(const struct keymap *m,
		  void (*fn)(const struct keymap_key *key, uint64_t value, void *ctx), void *ctx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].state == SLOT_FULL)
			fn(&m->slots[i].key, m->slots[i].value, ctx);
}

void keymap__update_each(struct keymap *m,
			 uint64_t (*fn)(const struct keymap_key *key, uint64_t value, void *ctx),
			 void *ctx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].state == SLOT_FULL)
			m->slots[i].value = fn(&m->slots[i].key, m->slots[i].value, ctx);
}
