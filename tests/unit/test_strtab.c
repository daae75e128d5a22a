/* SPDX-License-Identifier: MIT */
/* test_strtab.c — the string table: numbering, ownership, growth; and FNV-1a's known values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/hash.h"
#include "lib/strtab.h"
#include "test.h"

static void test_fnv1a(void)
{
	/* the published FNV-1a 64-bit test vectors */
	CHECK(fnv1a_str(FNV1A_OFFSET, "") == 0xcbf29ce484222325ULL);
	CHECK(fnv1a_str(FNV1A_OFFSET, "a") == 0xaf63dc4c8601ec8cULL);
	CHECK(fnv1a_str(FNV1A_OFFSET, "foobar") == 0x85944171f73967e8ULL);
	/* a string in two parts hashes as the whole */
	CHECK(fnv1a_str(fnv1a_str(FNV1A_OFFSET, "foo"), "bar") ==
	      fnv1a_str(FNV1A_OFFSET, "foobar"));
	CHECK(fnv1a_byte(FNV1A_OFFSET, 'a') == fnv1a_str(FNV1A_OFFSET, "a"));
}

static void test_numbers_in_order(void)
{
	struct strtab t = { 0 };

	CHECK_INT(strtab_intern(&t, ""), 0);
	CHECK_INT(strtab_intern(&t, "main"), 1);
	CHECK_INT(strtab_intern(&t, "app.py"), 2);
	CHECK_INT(strtab_intern(&t, "main"), 1);
	CHECK_INT(strtab_intern(&t, NULL), 0); /* NULL is "" */
	CHECK_INT(t.n, 3);
	CHECK_STR(t.strs[1], "main");
	CHECK_STR(t.strs[2], "app.py");
	strtab_release(&t);
	CHECK_INT(t.n, 0);
	strtab_release(&t); /* twice, and NULL: nothing */
	strtab_release(NULL);
}

static void test_copy_and_take(void)
{
	struct strtab t = { 0 };
	char buf[16];
	char *made;

	/* a copy outlives the caller's buffer */
	snprintf(buf, sizeof(buf), "json");
	CHECK_INT(strtab_intern_copy(&t, buf), 0);
	snprintf(buf, sizeof(buf), "re");
	CHECK_INT(strtab_intern_copy(&t, buf), 1);
	CHECK_STR(t.strs[0], "json");
	CHECK(t.strs[1] != buf);
	CHECK_INT(t.nowned, 2);
	/* known already: no second copy */
	CHECK_INT(strtab_intern_copy(&t, "json"), 0);
	CHECK_INT(t.nowned, 2);
	/* taken: kept when new, freed when known (ASan sees a leak otherwise) */
	made = strdup("4242,4243");
	CHECK_INT(strtab_intern_take(&t, made), 2);
	CHECK(t.strs[2] == made);
	CHECK_INT(strtab_intern_take(&t, strdup("4242,4243")), 2);
	CHECK_INT(strtab_intern_take(&t, NULL), -ENOMEM);
	/* a borrowed string equal to an owned one gets the owned one's number */
	CHECK_INT(strtab_intern(&t, "re"), 1);
	strtab_release(&t);
}

static void test_many(void)
{
	struct strtab t = { 0 };
	char name[32];

	/* past the first 1024 slots and the first 256 entries, several times */
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		if (strtab_intern_copy(&t, name) != i) {
			CHECK(!"numbered in order");
			break;
		}
	}
	CHECK_INT(t.n, 20000);
	CHECK(t.nslots >= 2 * t.n);
	for (int i = 0; i < 20000; i += 997) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_INT(strtab_intern(&t, name), i);
		CHECK_STR(t.strs[i], name);
	}
	CHECK_INT(t.n, 20000);
	strtab_release(&t);
}

int main(void)
{
	RUN(test_fnv1a);
	RUN(test_numbers_in_order);
	RUN(test_copy_and_take);
	RUN(test_many);
	return test_summary();
}
