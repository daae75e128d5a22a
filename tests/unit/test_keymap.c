/* SPDX-License-Identifier: MIT */
/*
 * test_keymap.c — the hash map under nine modules' caches: insert, get, replace, remove,
 * growth, keys that share a slot, removal in the middle of a probe chain, iteration.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/hash.h"
#include "lib/keymap.h"
#include "test.h"

static struct keymap_key key(uint64_t a, uint64_t b, uint64_t c)
{
	return (struct keymap_key){ a, b, c };
}

/* The address of a key made on the spot. */
#define K(a, b, c) (&(struct keymap_key){ (a), (b), (c) })

static bool has(const struct keymap *m, struct keymap_key k, uint64_t want)
{
	uint64_t v = ~want;

	return keymap__get(m, &k, &v) && v == want;
}

static bool absent(const struct keymap *m, struct keymap_key k)
{
	uint64_t v = 12345;

	return !keymap__get(m, &k, &v) && v == 12345; /* *value untouched */
}

static void test_set_get_replace_remove(void)
{
	struct keymap *m = keymap__new();
	struct keymap_key k = key(4242, 0x7f0000001000, 17);

	CHECK(m != NULL);
	CHECK(absent(m, k));
	CHECK_INT(keymap__set(m, &k, 1), 0);
	CHECK(has(m, k, 1));
	CHECK_INT(keymap__set(m, &k, 2), 0); /* replaces */
	CHECK(has(m, k, 2));
	keymap__remove(m, &k);
	CHECK(absent(m, k));
	keymap__remove(m, &k);		     /* absent: nothing */
	CHECK_INT(keymap__set(m, &k, 3), 0); /* again after removal */
	CHECK(has(m, k, 3));
	keymap__free(m);
}

static void test_keys_differ_in_every_word(void)
{
	struct keymap *m = keymap__new();

	/* all zeros is a key like any other, and 0 a value */
	CHECK_INT(keymap__set(m, K(0, 0, 0), 0), 0);
	CHECK_INT(keymap__set(m, K(1, 2, 3), 123), 0);
	CHECK_INT(keymap__set(m, K(2, 1, 3), 213), 0);
	CHECK_INT(keymap__set(m, K(3, 2, 1), 321), 0);
	CHECK_INT(keymap__set(m, K(1, 2, 4), 124), 0);
	CHECK_INT(keymap__set(m, K(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX), 0);
	CHECK(has(m, key(0, 0, 0), 0));
	CHECK(has(m, key(1, 2, 3), 123));
	CHECK(has(m, key(2, 1, 3), 213));
	CHECK(has(m, key(3, 2, 1), 321));
	CHECK(has(m, key(1, 2, 4), 124));
	CHECK(has(m, key(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX));
	CHECK(absent(m, key(0, 0, 1)));
	CHECK(absent(m, key(1, 3, 2)));
	keymap__free(m);
}

/* The slot keymap.c starts probing at for @k in a table of @cap slots (its hash_key()). */
static size_t home_slot(struct keymap_key k, size_t cap)
{
	return hash_mix64(k.a ^ hash_mix64(k.b ^ hash_mix64(k.c))) & (cap - 1);
}

static void test_colliding_keys(void)
{
	struct keymap *m = keymap__new();
	struct keymap_key same[8];
	size_t n = 0;

	/* keys whose probing starts at one slot of the first table (64 slots) */
	for (uint64_t i = 0; n < 8 && i < 100000; i++)
		if (home_slot(key(i, 7, 7), 64) == home_slot(key(0, 7, 7), 64))
			same[n++] = key(i, 7, 7);
	CHECK_INT(n, 8);
	for (size_t i = 0; i < n; i++)
		CHECK_INT(keymap__set(m, &same[i], 100 + i), 0);
	for (size_t i = 0; i < n; i++)
		CHECK(has(m, same[i], 100 + i));
	/* removed in the middle of the chain: the keys after it are still found */
	keymap__remove(m, &same[0]);
	keymap__remove(m, &same[3]);
	CHECK(absent(m, same[0]));
	CHECK(absent(m, same[3]));
	for (size_t i = 0; i < n; i++)
		if (i != 0 && i != 3)
			CHECK(has(m, same[i], 100 + i));
	/* a key set again reuses the chain, and is found once */
	CHECK_INT(keymap__set(m, &same[3], 303), 0);
	CHECK_INT(keymap__set(m, &same[7], 707), 0);
	CHECK(has(m, same[3], 303));
	CHECK(has(m, same[7], 707));
	keymap__free(m);
}

static void test_growth(void)
{
	struct keymap *m = keymap__new();
	const uint64_t n = 100000;

	/* far past the first 64 slots: the table grows many times */
	for (uint64_t i = 0; i < n; i++)
		if (keymap__set(m, K(i, i * 31, 0x7f0000000000 + i), i * 2)) {
			CHECK(!"set failed");
			break;
		}
	for (uint64_t i = 0; i < n; i++)
		if (!has(m, key(i, i * 31, 0x7f0000000000 + i), i * 2)) {
			CHECK(!"lost a key while growing");
			break;
		}
	CHECK(absent(m, key(n, n * 31, 0x7f0000000000 + n)));
	keymap__free(m);
}

static void test_churn(void)
{
	struct keymap *m = keymap__new();

	/*
	 * Many more insertions and removals than slots, with few keys alive at once: removals
	 * leave tombstones, which must be cleared (not fill the table and stall probing).
	 */
	for (uint64_t i = 0; i < 50000; i++) {
		CHECK_INT(keymap__set(m, K(i, 1, 2), i), 0);
		if (i >= 10)
			keymap__remove(m, K(i - 10, 1, 2));
	}
	for (uint64_t i = 0; i < 50000 - 10; i += 997)
		CHECK(absent(m, key(i, 1, 2)));
	for (uint64_t i = 50000 - 10; i < 50000; i++)
		CHECK(has(m, key(i, 1, 2), i));
	keymap__free(m);
}

struct seen {
	uint64_t sum_a;
	uint64_t sum_value;
	size_t n;
};

static void count(const struct keymap_key *k, uint64_t value, void *ctx)
{
	struct seen *s = ctx;

	s->sum_a += k->a;
	s->sum_value += value;
	s->n++;
}

static void test_each(void)
{
	struct keymap *m = keymap__new();
	struct seen s = { 0 };

	keymap__each(m, count, &s);
	CHECK_INT(s.n, 0);
	for (uint64_t i = 1; i <= 1000; i++)
		CHECK_INT(keymap__set(m, K(i, 0, 0), i * 10), 0);
	for (uint64_t i = 1; i <= 1000; i += 2)
		keymap__remove(m, K(i, 0, 0));
	CHECK_INT(keymap__set(m, K(2, 0, 0), 1), 0); /* replaced: still one entry */
	/* every live entry once, removed ones never */
	keymap__each(m, count, &s);
	CHECK_INT(s.n, 500);
	CHECK_INT(s.sum_a, 500 * 501); /* 2 + 4 + ... + 1000 */
	CHECK_INT(s.sum_value, 10 * 500 * 501 - 20 + 1);
	keymap__free(m);
}

static uint64_t plus_key(const struct keymap_key *k, uint64_t value, void *ctx)
{
	(*(size_t *)ctx)++;
	return value + k->a;
}

static void test_update_each(void)
{
	struct keymap *m = keymap__new();
	uint64_t v;
	size_t calls = 0;

	for (uint64_t i = 1; i <= 300; i++)
		CHECK_INT(keymap__set(m, K(i, 0, 0), i), 0);
	for (uint64_t i = 1; i <= 300; i += 3)
		keymap__remove(m, K(i, 0, 0));
	keymap__update_each(m, plus_key, &calls);
	CHECK_INT(calls, 200); /* live entries only, each once */
	CHECK_INT(keymap__count(m), 200);
	CHECK(keymap__get(m, K(2, 0, 0), &v) && v == 4);
	CHECK(keymap__get(m, K(300, 0, 0), &v) && v == 600);
	CHECK(!keymap__get(m, K(1, 0, 0), &v));
	keymap__free(m);
}

static void test_null(void)
{
	keymap__free(NULL); /* accepted, as every destructor */
	CHECK(1);
}

int main(void)
{
	RUN(test_set_get_replace_remove);
	RUN(test_keys_differ_in_every_word);
	RUN(test_colliding_keys);
	RUN(test_growth);
	RUN(test_churn);
	RUN(test_update_each);
	RUN(test_each);
	RUN(test_null);
	return test_summary();
}
