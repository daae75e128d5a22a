/* SPDX-License-Identifier: MIT */
/* test_grow.c — growing arrays: doubling, bounds, overflow, and nothing changed on failure. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/grow.h"
#include "test.h"

struct item {
	uint64_t a, b;
};

static void test_capacity(void)
{
	CHECK_INT(grow_capacity(0, 1, 16, SIZE_MAX), 16);
	CHECK_INT(grow_capacity(0, 17, 16, SIZE_MAX), 32);
	CHECK_INT(grow_capacity(16, 16, 16, SIZE_MAX), 16); /* fits: unchanged */
	CHECK_INT(grow_capacity(16, 17, 16, SIZE_MAX), 32);
	CHECK_INT(grow_capacity(16, 100, 16, SIZE_MAX), 128);
	CHECK_INT(grow_capacity(0, 1, 0, SIZE_MAX), 1); /* no first: 1 */
	/* bounded: never past @max, which still serves what fits under it */
	CHECK_INT(grow_capacity(16, 17, 16, 20), 20);
	CHECK_INT(grow_capacity(0, 3, 16, 10), 10);
	CHECK_INT(grow_capacity(20, 21, 16, 20), 0);
	/* doubling near size_t's end stops at the bound instead of wrapping */
	CHECK(grow_capacity(SIZE_MAX / 2 + 2, SIZE_MAX / 2 + 3, 1, SIZE_MAX) == SIZE_MAX);
}

static void test_grow_keeps_elements(void)
{
	struct item *v = NULL;
	size_t n = 0, cap = 0;

	for (uint64_t i = 0; i < 1000; i++) {
		if (GROW(v, cap, n + 1, 8)) {
			CHECK(!"out of memory");
			break;
		}
		CHECK(cap >= n + 1);
		v[n++] = (struct item){ i, i * i };
	}
	CHECK_INT(n, 1000);
	CHECK_INT(cap, 1024);
	for (uint64_t i = 0; i < n; i++)
		CHECK(v[i].a == i && v[i].b == i * i);
	/* room already there: nothing moves */
	{
		struct item *before = v;

		CHECK_INT(GROW(v, cap, 10, 8), 0);
		CHECK(v == before);
		CHECK_INT(cap, 1024);
	}
	free(v);
}

static void test_grow_bytes(void)
{
	char *buf = NULL;
	size_t cap = 0;

	CHECK_INT(GROW(buf, cap, 5, 128), 0);
	CHECK_INT(cap, 128);
	memcpy(buf, "abcd", 5);
	CHECK_INT(GROW(buf, cap, 1000, 128), 0);
	CHECK_INT(cap, 1024);
	CHECK_STR(buf, "abcd");
	free(buf);
}

static void test_failure_changes_nothing(void)
{
	struct item *v = NULL;
	size_t cap = 0;

	CHECK_INT(GROW(v, cap, 4, 4), 0);
	v[3].a = 42;
	/* past the bound */
	errno = 0;
	CHECK_INT(GROW_MAX(v, cap, 5, 4, 4), -ENOMEM);
	CHECK_INT(errno, ENOMEM);
	CHECK_INT(cap, 4);
	CHECK(v[3].a == 42);
	/* elements times size overflows size_t */
	errno = 0;
	CHECK_INT(GROW(v, cap, SIZE_MAX / 2, 4), -ENOMEM);
	CHECK_INT(errno, ENOMEM);
	CHECK_INT(cap, 4);
	CHECK(v[3].a == 42);
	free(v);
}

static void test_parallel_arrays(void)
{
	uint32_t *ids = NULL;
	uint64_t *weights = NULL;
	size_t cap = 0, want = grow_capacity(cap, 1, 16, SIZE_MAX);

	CHECK_INT(grow_resize(&ids, want, sizeof(*ids)), 0);
	CHECK_INT(grow_resize(&weights, want, sizeof(*weights)), 0);
	cap = want;
	ids[15] = 7;
	weights[15] = 8;
	want = grow_capacity(cap, cap + 1, 16, SIZE_MAX);
	CHECK_INT(want, 32);
	CHECK_INT(grow_resize(&ids, want, sizeof(*ids)), 0);
	CHECK_INT(grow_resize(&weights, want, sizeof(*weights)), 0);
	CHECK(ids[15] == 7 && weights[15] == 8);
	/* a capacity of 0 (grow_capacity's "cannot") or an overflowing size fails, unchanged */
	CHECK_INT(grow_resize(&ids, 0, sizeof(*ids)), -ENOMEM);
	CHECK_INT(grow_resize(&ids, SIZE_MAX, sizeof(*ids)), -ENOMEM);
	CHECK(ids[15] == 7);
	free(ids);
	free(weights);
}

int main(void)
{
	RUN(test_capacity);
	RUN(test_grow_keeps_elements);
	RUN(test_grow_bytes);
	RUN(test_failure_changes_nothing);
	RUN(test_parallel_arrays);
	return test_summary();
}
