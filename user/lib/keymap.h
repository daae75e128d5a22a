/* SPDX-License-Identifier: MIT */
/*
 * keymap.h — a hash map from a key of three 64-bit words to a 64-bit value.
 *
 * The caches of the collector key everything by a few numbers (process id, code
 * address, instruction offset); one small open-addressing table serves them all.
 */
#ifndef PYFLARE_KEYMAP_H
#define PYFLARE_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keymap_key {
	uint64_t a, b, c;
};

struct keymap;

/* Returns a new empty map or NULL (ENOMEM). */
struct keymap *keymap__new(void);
void keymap__free(struct keymap *m); /* accepts NULL */
/* Returns true and sets *value when @key is present. */
bool keymap__get(const struct keymap *m, const struct keymap_key *key, uint64_t *value);
/* Inserts or replaces. Returns 0 or -ENOMEM. */
int keymap__set(struct keymap *m, const struct keymap_key *key, uint64_t value);
/* How many keys it holds. */
size_t keymap__count(const struct keymap *m);
/* Removes @key if present. */
void keymap__remove(struct keymap *m, const struct keymap_key *key);
/* Calls @fn on every entry, in no particular order; @fn must not change @m. */
void keymap__each(const struct keymap *m,
		  void (*fn)(const struct keymap_key *key, uint64_t value, void *ctx), void *ctx);
/* Gives every entry the value @fn returns for it, in no particular order. */
void keymap__update_each(struct keymap *m,
			 uint64_t (*fn)(const struct keymap_key *key, uint64_t value, void *ctx),
			 void *ctx);

#endif /* PYFLARE_KEYMAP_H */
