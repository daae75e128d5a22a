/* SPDX-License-Identifier: MIT */
/*
 * test.h — a tiny test harness for the unit tests (no root, no BPF).
 *
 * Each test file defines `static void test_xxx(void)` functions and lists them
 * in main() with RUN(test_xxx). CHECK* record a failure and go on, so one run
 * shows every broken expectation. main() ends with `return test_summary();`,
 * which prints the "N passed, N failed" line CI reads.
 */
#ifndef PYFLARE_TEST_H
#define PYFLARE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_in_case;
static int test_passed, test_failed;
static const char *test_current = "";

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, \
				test_current, #cond);                                        \
			test_failures_in_case++;                                             \
		}                                                                            \
	} while (0)

#define CHECK_INT(got, want)                                                                      \
	do {                                                                                      \
		long long g_ = (long long)(got), w_ = (long long)(want);                          \
		if (g_ != w_) {                                                                   \
			fprintf(stderr, "%s:%d: %s: %s is %lld, want %lld\n", __FILE__, __LINE__, \
				test_current, #got, g_, w_);                                      \
			test_failures_in_case++;                                                  \
		}                                                                                 \
	} while (0)

#define CHECK_STR(got, want)                                                                \
	do {                                                                                \
		const char *g_ = (got), *w_ = (want);                                       \
		if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                    \
			fprintf(stderr, "%s:%d: %s: %s is \"%s\", want \"%s\"\n", __FILE__, \
				__LINE__, test_current, #got, g_ ? g_ : "(null)",           \
				w_ ? w_ : "(null)");                                        \
			test_failures_in_case++;                                            \
		}                                                                           \
	} while (0)

#define RUN(fn)                                            \
	do {                                               \
		test_current = #fn;                        \
		test_failures_in_case = 0;                 \
		fn();                                      \
		if (test_failures_in_case) {               \
			test_failed++;                     \
			fprintf(stderr, "FAIL %s\n", #fn); \
		} else {                                   \
			test_passed++;                     \
			fprintf(stderr, "PASS %s\n", #fn); \
		}                                          \
	} while (0)

/* Whether this is CI (CI=true), where nothing a test needs may be missing. */
static inline int test_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

/* A prerequisite this machine should have: missing is a skip, or a failure under CI=true. */
static inline void test_missing(const char *what)
{
	fprintf(stderr, "%s: %s missing%s\n", test_current, what,
		test_in_ci() ? " (CI=true: required)" : ", skipped");
	if (test_in_ci())
		test_failures_in_case++;
}

static inline int test_summary(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif /* PYFLARE_TEST_H */
