/* SPDX-License-Identifier: MIT */
/* test_session.c — the session data model: interning, validation, copies and scale. */
#include <errno.h>
#include <stdlib.h>

#include "session/session.h"
#include "samples_of.h"
#include "test.h"

static void test_new_free(void)
{
	struct session *s = session__new();
	size_t n = 99;
	const struct session_stack *st;

	CHECK(s != NULL);
	session__free(NULL);
	st = session__stacks(s, &n);
	CHECK_INT(n, 1);
	CHECK_INT(st[0].parent, 0);
	CHECK_INT(st[0].frame, 0);
	CHECK_INT(st[0].depth, 0);
	session__frames(s, &n);
	CHECK_INT(n, 0);
	samples_of(s, &n);
	CHECK_INT(n, 0);
	CHECK_STR(session__meta(s)->mode, "");
	CHECK_STR(session__meta(s)->target, "");
	session__free(s);
}

static void test_intern_frame(void)
{
	struct session *s = session__new();
	char name[16] = "work", file[16] = "app.py";
	struct session_frame f = { name, file, 10, 12, FRAME_PYTHON };
	struct session_frame g = f;
	const struct session_frame *frames;
	int64_t a, b, c, d, e, m1, m2;
	size_t n;

	a = session__intern_frame(s, &f);
	CHECK_INT(a, 0);
	/* Equal contents in other buffers give the same index. */
	g.name = "work";
	g.file = "app.py";
	CHECK_INT(session__intern_frame(s, &g), a);
	g.line = 13;
	b = session__intern_frame(s, &g);
	CHECK_INT(b, 1);
	g.line = 12;
	g.first_line = 11;
	c = session__intern_frame(s, &g);
	CHECK_INT(c, 2);
	g.first_line = 10;
	g.file = "other.py";
	d = session__intern_frame(s, &g);
	CHECK_INT(d, 3);
	g.file = "app.py";
	g.kind = FRAME_UNKNOWN;
	e = session__intern_frame(s, &g);
	CHECK_INT(e, 4);
	/* NULL strings are stored as "" and equal "". */
	m1 = session__intern_frame(s, &(struct session_frame){ NULL, NULL, 0, 0, FRAME_TRUNCATED });
	m2 = session__intern_frame(s, &(struct session_frame){ "", "", 0, 0, FRAME_TRUNCATED });
	CHECK_INT(m1, 5);
	CHECK_INT(m2, m1);
	CHECK_INT(session__intern_frame(s, NULL), -1);
	CHECK_INT(errno, EINVAL);

	/* Strings are copies: changing the caller's buffer changes nothing. */
	strcpy(name, "XXXX");
	strcpy(file, "YYYY");
	frames = session__frames(s, &n);
	CHECK_INT(n, 6);
	CHECK_STR(frames[0].name, "work");
	CHECK_STR(frames[0].file, "app.py");
	CHECK_INT(frames[0].first_line, 10);
	CHECK_INT(frames[0].line, 12);
	CHECK_STR(frames[3].file, "other.py");
	CHECK_INT(frames[4].kind, FRAME_UNKNOWN);
	CHECK_STR(frames[5].name, "");
	CHECK_STR(frames[5].file, "");
	session__free(s);
}

static void test_intern_stack(void)
{
	struct session *s = session__new();
	const struct session_stack *st;
	int64_t f0, f1, a, b, c, a2;
	size_t n;

	f0 = session__intern_frame(s, &(struct session_frame){ "a", "x.py", 1, 1, FRAME_PYTHON });
	f1 = session__intern_frame(s, &(struct session_frame){ "b", "x.py", 5, 6, FRAME_PYTHON });
	a = session__intern_stack(s, 0, f0);
	b = session__intern_stack(s, a, f1);
	c = session__intern_stack(s, 0, f1);
	a2 = session__intern_stack(s, 0, f0);
	CHECK_INT(a, 1);
	CHECK_INT(b, 2);
	CHECK_INT(c, 3);
	CHECK_INT(a2, a);
	CHECK_INT(session__intern_stack(s, a, f1), b);
	st = session__stacks(s, &n);
	CHECK_INT(n, 4);
	CHECK_INT(st[b].parent, a);
	CHECK_INT(st[b].frame, f1);
	CHECK_INT(st[b].depth, 2);
	CHECK_INT(st[c].depth, 1);
	/* Unknown parent or frame. */
	CHECK_INT(session__intern_stack(s, 4, f0), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(session__intern_stack(s, 0, 2), -1);
	session__stacks(s, &n);
	CHECK_INT(n, 4);
	session__free(s);
}

static void test_tables(void)
{
	struct session *s = session__new();
	struct session_process p = { .pid = 42,
				     .start_time = 777,
				     .comm = "python3",
				     .cmdline = "python3 app.py",
				     .exe = NULL,
				     .python_version = "3.12.1" };
	const struct session_process *procs;
	const struct session_thread *thr;
	const struct session_sample *smp;
	const struct session_refusal *ref;
	int64_t pi, t0, t1, fr, st;
	size_t n;

	pi = session__add_process(s, &p);
	CHECK_INT(pi, 0);
	CHECK_INT(session__add_thread(s, 1, 43, "x"), -1);
	CHECK_INT(errno, EINVAL);
	t0 = session__add_thread(s, 0, 42, NULL);
	t1 = session__add_thread(s, 0, 43, "worker");
	CHECK_INT(t0, 0);
	CHECK_INT(t1, 1);
	CHECK_INT(session__set_thread_name(s, 0, "MainThread"), 0);
	CHECK_INT(session__set_thread_name(s, 2, "nope"), -EINVAL);

	fr = session__intern_frame(s, &(struct session_frame){ "f", "a.py", 1, 2, FRAME_PYTHON });
	st = session__intern_stack(s, 0, fr);
	CHECK_INT(session__add_sample(s, &(struct session_sample){ 10, 1000, 1, st }), 0);
	CHECK_INT(session__add_sample(s, &(struct session_sample){ 20, 1000, 2, st }), -EINVAL);
	CHECK_INT(session__add_sample(s, &(struct session_sample){ 20, 1000, 0, 0 }), -EINVAL);
	CHECK_INT(session__add_sample(s, &(struct session_sample){ 20, 1000, 0, st + 1 }), -EINVAL);
	CHECK_INT(session__add_refusal(s, 99, "python3.15", "unsupported Python 3.15"), 0);
	CHECK_INT(session__add_refusal(s, 100, NULL, NULL), 0);

	procs = session__processes(s, &n);
	CHECK_INT(n, 1);
	CHECK_INT(procs[0].pid, 42);
	CHECK_INT(procs[0].start_time, 777);
	CHECK_STR(procs[0].comm, "python3");
	CHECK_STR(procs[0].cmdline, "python3 app.py");
	CHECK_STR(procs[0].exe, "");
	CHECK_STR(procs[0].python_version, "3.12.1");
	thr = session__threads(s, &n);
	CHECK_INT(n, 2);
	CHECK_STR(thr[0].name, "MainThread");
	CHECK_STR(thr[1].name, "worker");
	CHECK_INT(thr[1].tid, 43);
	smp = samples_of(s, &n);
	CHECK_INT(n, 1);
	CHECK_INT(smp[0].time_ns, 10);
	CHECK_INT(smp[0].thread, 1);
	ref = session__refusals(s, &n);
	CHECK_INT(n, 2);
	CHECK_INT(ref[0].pid, 99);
	CHECK_STR(ref[0].reason, "unsupported Python 3.15");
	CHECK_STR(ref[1].comm, "");
	CHECK_STR(ref[1].reason, "");

	/* cleared: no sample left, the rest stays, and samples can be added again */
	session__clear_samples(s);
	session__clear_samples(NULL);
	samples_of(s, &n);
	CHECK_INT(n, 0);
	session__threads(s, &n);
	CHECK_INT(n, 2);
	CHECK_INT(session__add_sample(s, &(struct session_sample){ 30, 1000, 0, st }), 0);
	smp = samples_of(s, &n);
	CHECK_INT(n, 1);
	CHECK_INT(smp[0].time_ns, 30);
	session__free(s);
}

/* A group's members are copied (aligned, next to strings); a thread counts what it merges. */
static void test_members(void)
{
	uint32_t pids[3] = { 7, 8, 9 };
	struct session *s = session__new();
	struct session_process p = { .pid = 7, .comm = "odd", .nmembers = 3, .members = pids };
	const struct session_process *procs;
	const struct session_thread *thr;
	size_t n;

	CHECK_INT(session__add_process(s, &p), 0);
	pids[1] = 0;	   /* the session has its own copy */
	p.comm = "oddest"; /* a string of another length before the next members */
	p.members = (uint32_t[]){ 1, 2 };
	p.nmembers = 2;
	CHECK_INT(session__add_process(s, &p), 1);
	p.members = NULL;
	CHECK_INT(session__add_process(s, &p), -1);
	CHECK_INT(errno, EINVAL);
	p.nmembers = 0;
	CHECK_INT(session__add_process(s, &p), 2);
	procs = session__processes(s, &n);
	CHECK_INT(n, 3);
	CHECK(procs[0].members && procs[0].members[1] == 8 && procs[0].members[2] == 9);
	CHECK_INT((uintptr_t)procs[1].members % _Alignof(uint32_t), 0);
	CHECK(procs[1].nmembers == 2 && procs[1].members[1] == 2);
	CHECK(procs[2].nmembers == 0 && procs[2].members == NULL);

	CHECK_INT(session__add_thread(s, 0, 7, "MainThread"), 0);
	thr = session__threads(s, &n);
	CHECK_INT(thr[0].nmembers, 0);
	CHECK_INT(session__set_thread_members(s, 0, 3), 0);
	CHECK_INT(session__set_thread_members(s, 1, 3), -EINVAL);
	thr = session__threads(s, &n);
	CHECK_INT(thr[0].nmembers, 3);
	session__free(s);
}

/* An instance that execs is named after its latest image; the rest of it stays. */
static void test_process_image(void)
{
	struct session *s = session__new();
	struct session_process p = { .pid = 7, .start_time = 5, .comm = "python3.11", .ns_pid = 3 };
	const struct session_process *procs;
	size_t n;

	CHECK_INT(session__add_process(s, &p), 0);
	p = (struct session_process){ .comm = "python3.14",
				      .cmdline = "python3.14 -c pass",
				      .exe = "/usr/bin/python3.14",
				      .python_version = "3.14.1" };
	CHECK_INT(session__set_process_image(s, 0, &p), 0);
	CHECK_INT(session__set_process_image(s, 1, &p), -EINVAL);
	procs = session__processes(s, &n);
	CHECK_INT(n, 1);
	CHECK_STR(procs[0].comm, "python3.14");
	CHECK_STR(procs[0].cmdline, "python3.14 -c pass");
	CHECK_STR(procs[0].exe, "/usr/bin/python3.14");
	CHECK_STR(procs[0].python_version, "3.14.1");
	CHECK_STR(procs[0].lib_dirs, "");
	CHECK(procs[0].pid == 7 && procs[0].start_time == 5 && procs[0].ns_pid == 3);
	session__free(s);
}

static void test_meta_health(void)
{
	struct session *s = session__new();
	char target[32] = "python3 app.py";
	struct session_meta m = {
		1700000000000000000ULL,	     2000000000ULL, 999, 2, "cpu", target, "tick",
		"wall mode is not available"
	};
	struct session_health h = { 1, 2, 3, 4, 5, 6, 9, 7, 8 };

	CHECK_INT(session__set_meta(s, &m), 0);
	strcpy(target, "changed");
	CHECK_STR(session__meta(s)->target, "python3 app.py");
	CHECK_STR(session__meta(s)->mode, "cpu");
	CHECK_STR(session__meta(s)->clock, "tick");
	CHECK_STR(session__meta(s)->kernel_notes, "wall mode is not available");
	CHECK_INT(session__meta(s)->rate_hz, 999);
	CHECK_INT(session__meta(s)->duration_ns, 2000000000ULL);
	session__set_health(s, &h);
	CHECK_INT(session__health(s)->lost, 2);
	CHECK_INT(session__health(s)->no_thread_state, 6);
	CHECK_INT(session__health(s)->no_python_frame, 9);
	CHECK_INT(session__health(s)->refused, 8);
	m.mode = NULL;
	m.clock = NULL;
	CHECK_INT(session__set_meta(s, &m), 0);
	CHECK_STR(session__meta(s)->mode, "");
	/* a session that names no clock was sampled by the timer: all there was before */
	CHECK_STR(session__meta(s)->clock, "timer");
	m.clock = "";
	CHECK_INT(session__set_meta(s, &m), 0);
	CHECK_STR(session__meta(s)->clock, "timer");
	session__free(s);
}

/* Many frames and stacks: the indexes rehash many times and must still find everything. */
static void test_many(void)
{
	struct session *s = session__new();
	const struct session_frame *frames;
	const struct session_stack *st;
	const char *first_name;
	char name[32];
	uint32_t i, parent = 0, bad = 0;
	size_t n;

	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "f%u", i % 5000);
		if (session__intern_frame(s, &(struct session_frame){ name, "m.py", i % 5000, i,
								      FRAME_PYTHON }) != i)
			bad++;
	}
	CHECK_INT(bad, 0);
	frames = session__frames(s, &n);
	first_name = frames[0].name;
	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "f%u", i % 5000);
		if (session__intern_frame(s, &(struct session_frame){ name, "m.py", i % 5000, i,
								      FRAME_PYTHON }) != i)
			bad++;
	}
	CHECK_INT(bad, 0);
	frames = session__frames(s, &n);
	CHECK_INT(n, 50000);
	/* Strings never move, even after the tables grew. */
	CHECK(frames[0].name == first_name);
	CHECK_STR(frames[12345].name, "f2345");
	CHECK_INT(frames[12345].line, 12345);

	/* A 100000-deep chain, then every frame as an outermost frame, twice. */
	for (i = 0; i < 100000; i++)
		parent = session__intern_stack(s, parent, i % 50000);
	CHECK_INT(parent, 100000);
	for (i = 0; i < 100000; i++) {
		uint32_t f = i % 50000;
		/* (0, frame 0) is the chain's first node; the others are new, in order. */
		int64_t want = f == 0 ? 1 : 100000 + f;

		if (session__intern_stack(s, 0, f) != want)
			bad++;
	}
	CHECK_INT(bad, 0);
	st = session__stacks(s, &n);
	CHECK_INT(n, 100000 + 50000);
	CHECK_INT(st[100000].depth, 100000);
	CHECK_INT(st[100001].parent, 0);
	CHECK_INT(st[100001].frame, 1);
	session__free(s);
}

/* A ten-minute recording on two CPUs at 999 Hz. */
static void test_million_samples(void)
{
	const size_t want = 2 * 999 * 600;
	struct session *s = session__new();
	const struct session_sample *smp;
	uint64_t sum = 0;
	int64_t fr, st;
	size_t i, n;
	int err = 0;

	session__add_process(s, &(struct session_process){ .pid = 1 });
	session__add_thread(s, 0, 1, "a");
	session__add_thread(s, 0, 2, "b");
	fr = session__intern_frame(s, &(struct session_frame){ "f", "a.py", 1, 1, FRAME_PYTHON });
	st = session__intern_stack(s, 0, fr);
	for (i = 0; i < want && !err; i++)
		err = session__add_sample(
			s, &(struct session_sample){ i * 500500, 1001001, i & 1, st });
	CHECK_INT(err, 0);
	smp = samples_of(s, &n);
	CHECK_INT(n, want);
	for (i = 0; i < n; i++)
		sum += smp[i].weight_ns;
	CHECK_INT(sum, (uint64_t)want * 1001001);
	CHECK_INT(smp[n - 1].time_ns, (uint64_t)(want - 1) * 500500);
	CHECK_INT(smp[n - 1].thread, (want - 1) & 1);
	/* kept packed: a sample of these takes 6 bytes, not 24 (struct session_sample) */
	CHECK(session__samples_bytes(s) <= want * 6 + 64 * 1024);
	session__free(s);
}

/*
 * Samples come back as they went in, whatever their values: times that step back (another
 * CPU's sample read late) or jump by the whole range, weights that change or not, the
 * largest thread and stack indices; through a cursor that adding more does not disturb,
 * and after dropping some threads' samples.
 */
static void test_samples_packed(void)
{
	static const uint64_t times[] = { 0, 5, 3, UINT64_MAX, 0, 1ULL << 63, 1000000, 999999 };
	static const uint64_t weights[] = { 0, 1001001, 1001001, UINT64_MAX, 7, 7, 0, 1 };
	const size_t nthreads = 300, want = 50000;
	struct session *s = session__new();
	struct session_sample smp, *all;
	struct session_cursor cur;
	int64_t st[3];
	bool drop[300] = { 0 };
	size_t i, n, dropped;

	session__add_process(s, &(struct session_process){ .pid = 1 });
	for (i = 0; i < nthreads; i++)
		session__add_thread(s, 0, (uint32_t)i + 1, "t");
	st[0] = session__intern_stack(
		s, 0,
		session__intern_frame(s,
				      &(struct session_frame){ "f", "a.py", 1, 1, FRAME_PYTHON }));
	st[1] = session__intern_stack(s, st[0], 0);
	st[2] = session__intern_stack(s, st[1], 0);
	for (i = 0; i < want; i++)
		CHECK_INT(session__add_sample(
				  s, &(struct session_sample){ times[i % 8] + i / 8, weights[i % 7],
							       (uint32_t)(i * 7 % nthreads),
							       st[i % 3] }),
			  0);
	CHECK_INT(session__nsamples(s), want);
	session__samples_begin(s, &cur);
	for (i = 0; i < want; i++) {
		CHECK(session__samples_next(&cur, &smp));
		if (smp.time_ns != times[i % 8] + i / 8 || smp.weight_ns != weights[i % 7] ||
		    smp.thread != i * 7 % nthreads || smp.stack != st[i % 3]) {
			CHECK_INT(i, (size_t)-1); /* says which one */
			break;
		}
	}
	CHECK(!session__samples_next(&cur, &smp));
	/* one more: the cursor at the end sees it */
	CHECK_INT(session__add_sample(s, &(struct session_sample){ 42, 43, 299, st[2] }), 0);
	CHECK(session__samples_next(&cur, &smp));
	CHECK_INT(smp.time_ns, 42);
	CHECK_INT(smp.weight_ns, 43);
	CHECK_INT(smp.thread, 299);
	CHECK(!session__samples_next(&cur, &smp));

	for (i = 0; i < nthreads; i += 2)
		drop[i] = true;
	dropped = session__drop_thread_samples(s, drop);
	all = session__samples_copy(s, &n);
	CHECK(all != NULL);
	CHECK_INT(n + dropped, want + 1);
	for (i = 0; all && i < n; i++)
		CHECK(!drop[all[i].thread]);
	CHECK_INT(all[n - 1].time_ns, 42);
	free(all);
	session__clear_samples(s);
	CHECK_INT(session__nsamples(s), 0);
	CHECK_INT(session__samples_bytes(s), 0);
	session__free(s);
}

/*
 * The agent's slicing on the packed log: the samples at or after the cut stay, in order, with
 * their own times and weights (kept as steps from the sample before, which is another now).
 */
static void test_drop_samples_before(void)
{
	const size_t want = 40000, cut = 15000;
	struct session *s = session__new();
	struct session_sample smp;
	struct session_cursor cur;
	int64_t st;
	size_t i, kept = 0, bytes;

	session__add_process(s, &(struct session_process){ .pid = 1 });
	session__add_thread(s, 0, 1, "a");
	session__add_thread(s, 0, 2, "b");
	st = session__intern_stack(
		s, 0,
		session__intern_frame(s,
				      &(struct session_frame){ "f", "a.py", 1, 1, FRAME_PYTHON }));
	/* times mostly rising, every fifth one late (before the cut when near it) */
	for (i = 0; i < want; i++)
		CHECK_INT(session__add_sample(
				  s, &(struct session_sample){ i % 5 ? i : i - (i > 3 ? 3 : i),
							       i % 11 ? 1000 : i, (uint32_t)(i % 2),
							       (uint32_t)st }),
			  0);
	bytes = session__samples_bytes(s);
	session__drop_samples_before(s, cut);
	session__samples_begin(s, &cur);
	for (i = 0; i < want; i++) {
		uint64_t t = i % 5 ? i : i - (i > 3 ? 3 : i);

		if (t < cut)
			continue;
		kept++;
		CHECK(session__samples_next(&cur, &smp));
		if (smp.time_ns != t || smp.weight_ns != (i % 11 ? 1000 : i) ||
		    smp.thread != i % 2 || smp.stack != (uint32_t)st) {
			CHECK_INT(i, (size_t)-1); /* says which one */
			break;
		}
	}
	CHECK(!session__samples_next(&cur, &smp));
	CHECK_INT(session__nsamples(s), kept);
	CHECK(session__samples_bytes(s) < bytes); /* the blocks of the samples gone are freed */
	session__drop_samples_before(s, UINT64_MAX);
	CHECK_INT(session__nsamples(s), 0);
	session__drop_samples_before(NULL, 0);
	session__free(s);
}

int main(void)
{
	RUN(test_new_free);
	RUN(test_intern_frame);
	RUN(test_intern_stack);
	RUN(test_tables);
	RUN(test_members);
	RUN(test_process_image);
	RUN(test_meta_health);
	RUN(test_many);
	RUN(test_million_samples);
	RUN(test_samples_packed);
	RUN(test_drop_samples_before);
	return test_summary();
}
