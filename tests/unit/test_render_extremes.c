/* SPDX-License-Identifier: MIT */
/*
 * test_render_extremes.c — every format renders sessions whose numbers sit at the edges of
 * their types (durations, times and weights near 2^64, rates of 0 and 2^32-1), as a crafted
 * session file can hold them: no crash, no division by zero, no share above the whole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "render/frame_filter.h"
#include "render/render.h"
#include "session/session_file.h"
#include "test.h"

static const char *const formats[] = { "text",	 "speedscope", "collapsed", "flat", "json",
				       "pstats", "pprof",      "html",	    "svg" };

/* A one-thread session with @n samples at @times, of @weights, sample i 1 + i % 3 frames deep. */
static struct session *extreme(uint64_t duration, uint32_t rate, const uint64_t *times,
			       const uint64_t *weights, int n)
{
	static const struct session_frame frames[] = { FX_MOD, FX_MAIN25, FX_WORK };
	static const int st[] = { 0, 1, 2 };
	struct session *s = session__new();
	int i;

	session__set_meta(s, &(struct session_meta){ .start_realtime_ns = UINT64_MAX,
						     .duration_ns = duration,
						     .rate_hz = rate,
						     .ncpus = UINT32_MAX,
						     .mode = "cpu",
						     .target = "edge" });
	session__add_process(s, &(struct session_process){ 1, UINT64_MAX, "python3", "", "", "3.12",
							   "", 0, "", "", 0, NULL });
	session__add_thread(s, 0, 1, "MainThread");
	for (i = 0; i < 3; i++)
		session__intern_frame(s, &frames[i]);
	for (i = 0; i < n; i++)
		session__add_sample(s, &(struct session_sample){ times[i], weights[i], 0,
								 stack_of(s, st, 1 + i % 3) });
	return s;
}

/* The session as `report FILE` sees it: written, then loaded back. */
static struct session *through_file(struct session *s)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct session *back;

	CHECK(session_file_write(s, f) == 0);
	fclose(f);
	back = session_file_parse(buf, len, err, sizeof(err));
	if (!back)
		fprintf(stderr, "  refused: %s\n", err);
	free(buf);
	session__free(s);
	return back;
}

/* No percentage in @text above 100. */
static bool shares_at_most_whole(const char *text)
{
	const char *p;

	for (p = strchr(text, '%'); p; p = strchr(p + 1, '%')) {
		const char *q = p;

		while (q > text && (q[-1] == '.' || (q[-1] >= '0' && q[-1] <= '9')))
			q--;
		if (q < p && strtod(q, NULL) > 100.0001)
			return false;
	}
	return true;
}

static void render_every_format(const struct session *s, const char *what)
{
	struct frame_filter *filter = frame_filter__new();
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct render_opts o = render_opts_default;
		int pass;

		for (pass = 0; pass < 2; pass++) {
			size_t len = 0;
			char *out;
			int err;

			if (pass) {
				o.granularity = GRANULARITY_LINE;
				o.timeline = true;
				o.percent = true;
				o.filter = filter;
				o.collapsed_roots = COLLAPSED_ROOT_PROCESS | COLLAPSED_ROOT_THREAD;
			}
			out = render_n(renderer_by_name(formats[i]), s, &o, &err, &len);
			if (err)
				fprintf(stderr, "  %s, %s (pass %d): error %d\n", what, formats[i],
					pass, err);
			CHECK_INT(err, 0);
			CHECK(len > 0);
			if (!strcmp(formats[i], "text") || !strcmp(formats[i], "flat")) {
				if (!shares_at_most_whole(out))
					fprintf(stderr, "  %s, %s: a share above 100%%:\n%s\n",
						what, formats[i], out);
				CHECK(shares_at_most_whole(out));
			}
			free(out);
		}
	}
	frame_filter__free(filter);
}

static void test_durations(void)
{
	static const uint64_t durations[] = { UINT64_MAX, UINT64_MAX - 1, 1ULL << 63,
					      (1ULL << 63) + 1, 0 };
	static const uint64_t t[] = { 0, 1000, 5000 }, w[] = { 1000, 1000, 1000 };
	size_t i;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		struct session *s = through_file(extreme(durations[i], 999, t, w, 3));

		CHECK(s != NULL);
		if (s)
			render_every_format(s, "duration");
		session__free(s);
	}
}

static void test_times(void)
{
	static const uint64_t t[] = { 0, UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX },
			      w[] = { 1, 1, UINT64_MAX, 1 };
	static const uint32_t rates[] = { 0, 1, 999, UINT32_MAX };
	size_t i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct session *s = through_file(extreme(0, rates[i], t, w, 4));

		CHECK(s != NULL);
		if (s)
			render_every_format(s, "times");
		session__free(s);
	}
}

/* Weights whose sum passes 2^64 (wrapped, main's part would pass the whole): shares stay shares. */
static void test_weights(void)
{
	static const uint64_t t[] = { 1, 2, 3, 4 }, w[] = { UINT64_MAX, 2, UINT64_MAX / 2, 0 };
	struct session *s = through_file(extreme(10, 999, t, w, 4));

	CHECK(s != NULL);
	if (s)
		render_every_format(s, "weights");
	session__free(s);
}

/*
 * A session at a recording's limits: a 1,026-deep stack of names @len characters long (a
 * recording keeps 1,024), a new frame at each depth.
 */
static struct session *deepest(size_t len)
{
	static char name[1025];
	struct session *s;
	uint32_t node = 0;
	int i;

	memset(name, 'n', len);
	name[len] = '\0';
	s = extreme(3000, 999, (const uint64_t[]){ 0 }, (const uint64_t[]){ 1 }, 0);
	for (i = 0; i < SESSION_FILE_MAX_DEPTH; i++) {
		name[i % len] = 'a' + i % 26;
		node = session__intern_stack(
			s, node,
			session__intern_frame(
				s, &(struct session_frame){ name, name, 1, i, FRAME_PYTHON }));
	}
	session__add_sample(s, &(struct session_sample){ 0, 1000, 0, node });
	return s;
}

/*
 * The seeds of the render fuzzer (tests/fuzz/corpus/session_render): these sessions as
 * files. `test_render_extremes --write-corpus DIR`.
 */
static int write_corpus(const char *dir)
{
	static const uint64_t durations[] = { UINT64_MAX, 1ULL << 63, 0 };
	static const uint64_t t[] = { 0, UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX },
			      w[] = { UINT64_MAX, 2, UINT64_MAX / 2, 1 };
	static const uint64_t early[] = { 0, 1000, 5000 }, ms[] = { 1000, 1000, 1000 };
	struct session *s[6];
	char path[4096];
	size_t i;

	for (i = 0; i < 3; i++)
		s[i] = extreme(durations[i], i ? 999 : 0, t, w, 4);
	s[3] = extreme(10, UINT32_MAX, t + 1, w, 3);
	s[4] = deepest(256); /* within the fuzzer's TEXT_BUDGET */
	/* a duration near 2^64, the samples early: the HTML buckets' SIGFPE */
	s[5] = extreme(UINT64_MAX, 999, early, ms, 3);
	for (i = 0; i < 6; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/edge-%zu.pyflare", dir, i);
		f = fopen(path, "w");
		/* the deepest compressed: under the fuzzer's input size */
		CHECK(f && session_file_write_flags(s[i], f,
						    i == 4 ? 0 : SESSION_FILE_UNCOMPRESSED) == 0);
		if (f)
			fclose(f);
		session__free(s[i]);
	}
	return test_failures_in_case != 0;
}

/* The longest names down the deepest stack: every format renders them. */
static void test_deepest(void)
{
	struct session *s = through_file(deepest(1024));

	CHECK(s != NULL);
	if (s)
		render_every_format(s, "deepest");
	session__free(s);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	RUN(test_durations);
	RUN(test_times);
	RUN(test_weights);
	RUN(test_deepest);
	return test_summary();
}
