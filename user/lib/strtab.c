/* SPDX-License-Identifier: MIT */
/* strtab.c — a string table over open addressing with linear probing (strtab.h). */
#include "lib/strtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/hash.h"

/* Numbers are kept + 1 in 32-bit slots. */
#define MAX_STRINGS ((size_t)UINT32_MAX - 1)

enum take { BORROW, COPY, TAKE };

static uint64_t str_hash(const char *s)
{
	return hash_mix64(fnv1a_str(FNV1A_OFFSET, s));
}

/* Twice the slots (1024 at first), every string placed again. */
static int rehash(struct strtab *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 1024, mask = nslots - 1;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = str_hash(t->strs[i]) & mask;

		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

static int64_t intern(struct strtab *t, const char *str, enum take take)
{
	char *mine = take == TAKE ? (char *)str : NULL;
	size_t mask, j;

	if (!str) {
		if (take == TAKE)
			return -ENOMEM;
		str = "";
	}
	if ((t->n + 1) * 2 > t->nslots && rehash(t))
		goto nomem;
	mask = t->nslots - 1;
	for (j = str_hash(str) & mask; t->slots[j]; j = (j + 1) & mask) {
		if (!strcmp(t->strs[t->slots[j] - 1], str)) {
			free(mine);
			return t->slots[j] - 1;
		}
	}
	if (GROW_MAX(t->strs, t->cap, t->n + 1, 256, MAX_STRINGS))
		goto nomem;
	if (take != BORROW && GROW(t->owned, t->owned_cap, t->nowned + 1, 16))
		goto nomem;
	if (take == COPY && !(mine = strdup(str)))
		goto nomem;
	if (mine) {
		t->owned[t->nowned++] = mine;
		str = mine;
	}
	t->strs[t->n] = str;
	t->slots[j] = ++t->n;
	return t->n - 1;
nomem:
	free(mine);
	return -ENOMEM;
}

int64_t strtab_intern(struct strtab *t, const char *str)
{
	return intern(t, str, BORROW);
}

int64_t strtab_intern_copy(struct strtab *t, const char *str)
{
	return intern(t, str, COPY);
}

int64_t strtab_intern_take(struct strtab *t, char *str)
{
	return intern(t, str, TAKE);
}

void strtab_release(struct strtab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nowned; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->strs);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
