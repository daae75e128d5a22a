/* SPDX-License-Identifier: MIT */
/* test_session_file.c — saved sessions: exact round trips, merging, hostile files, history. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record/collector.h"
#include "fixture.h"
#include "session/health.h"
#include "session/history.h"
#include "render/render.h"
#include "cli/report.h"
#include "session/session_file.h"
#include "session/session_merge.h"
#include "samples_of.h"
#include "test.h"

#define DEEP 1025 /* deeper than the walker goes */

static char long_name[SESSION_FILE_MAX_STRING + 1]; /* the longest a file holds */

/*
 * Three processes (one hostile, one without samples), five threads, frames of every kind
 * with hostile names, a stack DEEP frames deep under a truncation marker, samples added out
 * of time order with varying weights, two refusals.
 */
static struct session *fixture(uint64_t start, uint32_t pid_base)
{
	const struct session_frame frames[] = {
		FX_MOD,
		FX_MAIN25,
		FX_MAIN27,
		{ "Worker.run", "/usr/lib/python3.12/threading.py", 100, 101, FRAME_PYTHON },
		FX_TRUNC,
		{ "<unreadable>", "", 0, 0, FRAME_UNREADABLE },
		{ "<unknown>", "", 0, 0, FRAME_UNKNOWN },
		{ "a;b\nc d", "/tmp/x;y z.py", 5, 6, FRAME_PYTHON },
		FX_BAD,
		{ "\x1b[31mred\x1b[0m\u202e", "<img src=x onerror=alert(1)>", 1, 2, FRAME_PYTHON },
		{ long_name, long_name, UINT32_MAX, UINT32_MAX - 1, FRAME_PYTHON },
		{ "recurse", "deep.py", 3, 4, FRAME_PYTHON },
		{ "[await sleep]", "", 0, 0, FRAME_WAIT },
		{ "Task \x1b[31mworker-1", "", 0, 0, FRAME_TASK },
	};
	struct session *s = session__new();
	uint32_t st[8], node;
	int64_t th[5];
	uint64_t t;
	int i;

	memset(long_name, 'n', sizeof(long_name) - 1);
	fixture_meta(s, start, "python3 app.py --name 'caf\xc3\xa9'");
	session__set_health(s, &(struct session_health){ 670, 3, 2, 1, 4, UINT64_MAX, 5, 3, 2 });
	session__add_refusal(s, pid_base + 7000, "python3.15", "unsupported Python 3.15");
	session__add_refusal(s, pid_base + 7001, "\x1b]0;evil\x07", "not a \"Python\"\nprocess");
	session__add_process(s, &(struct session_process){ pid_base + 4242, 111, "python3",
							   "python3 app.py", "/usr/bin/python3",
							   "3.12.1", "/usr/lib/python3.12:/x", 0,
							   "", "", 0, NULL });
	session__add_process(s, &(struct session_process){ pid_base + 5000, 222, "\x1b[31mevil",
							   "<script>alert(1)</script>\n\xff",
							   "/usr/bin/python3", "3.11.4", "", 0, "",
							   "", 0, NULL });
	session__add_process(s, &(struct session_process){ pid_base + 6000, 0, "idle", NULL, NULL,
							   NULL, NULL, 0, "", "", 0, NULL });
	th[0] = session__add_thread(s, 0, pid_base + 4243, "worker");
	th[1] = session__add_thread(s, 0, pid_base + 4242, "MainThread");
	th[2] = session__add_thread(s, 1, pid_base + 5000, "");
	th[3] = session__add_thread(s, 1, pid_base + 5001, "\xe2\x80\xae\tname");
	th[4] = session__add_thread(s, 2, pid_base + 6000, "MainThread");
	for (i = 0; i < (int)(sizeof(frames) / sizeof(frames[0])); i++)
		session__intern_frame(s, &frames[i]);
	st[0] = session__intern_stack(s, 0, 0);
	st[1] = session__intern_stack(s, st[0], 1);
	st[2] = session__intern_stack(s, st[0], 2);
	st[3] = session__intern_stack(s, 0, 3);
	st[4] = session__intern_stack(s, session__intern_stack(s, 0, 5), 7);
	st[5] = session__intern_stack(s, session__intern_stack(s, 0, 9), 8);
	st[6] = session__intern_stack(s, session__intern_stack(s, 0, 6), 10);
	node = session__intern_stack(s, 0, 4);
	for (i = 0; i < DEEP; i++)
		node = session__intern_stack(s, node, 11);
	st[7] = node;

	for (i = 299; i >= 0; i--) /* backwards in time */
		session__add_sample(
			s, &(struct session_sample){ 1000 + i * W, W, th[1], st[i % 3 ? 1 : 2] });
	t = 500000000;
	for (i = 0; i < 120; i++, t += W)
		session__add_sample(s, &(struct session_sample){ t, i % 7 ? W : 3 * W, th[0],
								 st[i % 5 ? 3 : 7] });
	for (i = 0; i < 60; i++)
		session__add_sample(s, &(struct session_sample){ i * 2 * W, W / 2, th[2 + i % 2],
								 st[4 + i % 3] });
	session__add_sample(s, &(struct session_sample){ 1999999999, 1, th[1], st[0] });
	(void)th[4];
	return s;
}

/* Writes @s into a buffer the caller frees. */
static uint8_t *save(const struct session *s, unsigned flags, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int err = session_file_write_flags(s, f, flags);

	fclose(f);
	CHECK_INT(err, 0);
	return (uint8_t *)buf;
}

/* Renders into a buffer the caller frees, which must go without an error. */
static char *render_ok(const struct renderer *r, const struct session *s,
		       const struct render_opts *o, size_t *len)
{
	int err;
	char *buf = render_n(r, s, o, &err, len);

	CHECK_INT(err, 0);
	return buf;
}

/* Tables @x and @y of rows without pointers hold the same bytes. */
static void same_rows(const void *x, size_t na, const void *y, size_t nb, size_t size)
{
	CHECK_INT(na, nb);
	CHECK(na == nb && (!na || !memcmp(x, y, na * size)));
}

/* Every table of @a equals @b's, field by field, at the same indices. */
static void check_same(const struct session *a, const struct session *b)
{
	const struct session_meta *ma = session__meta(a), *mb = session__meta(b);
	size_t na, nb, i;

	CHECK_INT(ma->start_realtime_ns, mb->start_realtime_ns);
	CHECK_INT(ma->duration_ns, mb->duration_ns);
	CHECK_INT(ma->rate_hz, mb->rate_hz);
	CHECK_INT(ma->ncpus, mb->ncpus);
	CHECK_STR(ma->mode, mb->mode);
	CHECK_STR(ma->target, mb->target);
	CHECK_STR(ma->clock, mb->clock);
	CHECK_STR(ma->kernel_notes, mb->kernel_notes);
	CHECK(!memcmp(session__health(a), session__health(b), sizeof(struct session_health)));
	{
		const struct session_refusal *x = session__refusals(a, &na), *y;

		y = session__refusals(b, &nb);
		CHECK_INT(na, nb);
		for (i = 0; i < na && i < nb; i++) {
			CHECK_INT(x[i].pid, y[i].pid);
			CHECK_STR(x[i].comm, y[i].comm);
			CHECK_STR(x[i].reason, y[i].reason);
		}
	}
	{
		const struct session_process *x = session__processes(a, &na), *y;

		y = session__processes(b, &nb);
		CHECK_INT(na, nb);
		for (i = 0; i < na && i < nb; i++) {
			CHECK_INT(x[i].pid, y[i].pid);
			CHECK_INT(x[i].start_time, y[i].start_time);
			CHECK_STR(x[i].comm, y[i].comm);
			CHECK_STR(x[i].cmdline, y[i].cmdline);
			CHECK_STR(x[i].exe, y[i].exe);
			CHECK_STR(x[i].python_version, y[i].python_version);
			CHECK_STR(x[i].lib_dirs, y[i].lib_dirs);
		}
	}
	{
		const struct session_thread *x = session__threads(a, &na), *y;

		y = session__threads(b, &nb);
		CHECK_INT(na, nb);
		for (i = 0; i < na && i < nb; i++) {
			CHECK_INT(x[i].process, y[i].process);
			CHECK_INT(x[i].tid, y[i].tid);
			CHECK_STR(x[i].name, y[i].name);
		}
	}
	{
		const struct session_frame *x = session__frames(a, &na), *y;

		y = session__frames(b, &nb);
		CHECK_INT(na, nb);
		for (i = 0; i < na && i < nb; i++) {
			CHECK_STR(x[i].name, y[i].name);
			CHECK_STR(x[i].file, y[i].file);
			CHECK_INT(x[i].first_line, y[i].first_line);
			CHECK_INT(x[i].line, y[i].line);
			CHECK_INT(x[i].kind, y[i].kind);
		}
	}
	{
		const struct session_stack *x = session__stacks(a, &na), *y;

		y = session__stacks(b, &nb);
		same_rows(x, na, y, nb, sizeof(*x));
	}
	{
		const struct session_sample *x = samples_of(a, &na), *y;

		y = samples_of(b, &nb);
		same_rows(x, na, y, nb, sizeof(*x));
	}
}

/* Every renderer there is, with a few option sets, writes the same bytes for @a and @b. */
static void check_same_renders(const struct session *a, const struct session *b)
{
	static const char *const names[] = { "text", "speedscope", "collapsed", "flat",
					     "json", "pstats",	   "pprof",	"html" };
	struct render_opts opts[4];
	size_t la, lb, i, k, rendered = 0;

	for (k = 0; k < 4; k++)
		opts[k] = render_opts_default;
	opts[1].granularity = GRANULARITY_LINE;
	opts[2].timeline = true;
	opts[3].prune_share = 0;
	opts[3].collapsed_roots = COLLAPSED_ROOT_PROCESS | COLLAPSED_ROOT_THREAD;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct renderer *r = renderer_by_name(names[i]);

		if (!r)
			continue; /* not in this build yet */
		for (k = 0; k < 4; k++) {
			char *x = render_ok(r, a, &opts[k], &la);
			char *y = render_ok(r, b, &opts[k], &lb);

			if (la != lb || memcmp(x, y, la)) {
				fprintf(stderr, "  %s, options %zu: renders differ\n", names[i], k);
				CHECK(!"same render");
			}
			free(x);
			free(y);
		}
		rendered++;
	}
	CHECK(rendered >= 3);
}

/* @back, read from what @s was saved or rendered as, is @s again; frees @back. */
static void check_read_back(const struct session *s, struct session *back, bool renders)
{
	CHECK(back != NULL);
	if (back) {
		check_same(s, back);
		if (renders)
			check_same_renders(s, back);
	}
	session__free(back);
}

static void test_round_trip(void)
{
	struct session *s = fixture(1700000000123456789ULL, 0), *back;
	unsigned flags[] = { 0, SESSION_FILE_UNCOMPRESSED };
	char err[256];

	for (int k = 0; k < 2; k++) {
		size_t len, len2;
		uint8_t *buf = save(s, flags[k], &len), *again;

		back = session_file_parse(buf, len, err, sizeof(err));
		CHECK(back != NULL);
		if (!back) {
			fprintf(stderr, "  %s\n", err);
			free(buf);
			continue;
		}
		check_same(s, back);
		check_same_renders(s, back);
		/* and what is read writes the same file again */
		again = save(back, flags[k], &len2);
		CHECK(len == len2 && !memcmp(buf, again, len));
		free(again);
		free(buf);
		session__free(back);
	}
	session__free(s);
}

/* The corner values: empty session, times and weights at the ends of their range. */
static void test_round_trip_extremes(void)
{
	struct session *s = session__new();
	size_t len;
	uint8_t *buf;
	int64_t t;

	buf = save(s, 0, &len);
	check_read_back(s, session_file_parse(buf, len, NULL, 0), false);
	free(buf);

	session__set_meta(s, &(struct session_meta){
				     UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX, "", "", NULL,
				     "wall mode is not available (on_switch: \"R1\")" });
	session__add_process(
		s, &(struct session_process){ .pid = UINT32_MAX, .start_time = UINT64_MAX });
	t = session__add_thread(s, 0, UINT32_MAX, NULL);
	session__intern_frame(s, &(struct session_frame){ "", "", 0, 0, FRAME_PYTHON });
	session__intern_stack(s, 0, 0);
	session__add_sample(s, &(struct session_sample){ UINT64_MAX, 0, t, 1 });
	session__add_sample(s, &(struct session_sample){ 0, UINT64_MAX, t, 1 });
	session__add_sample(s, &(struct session_sample){ UINT64_MAX, 1, t, 1 });
	buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	check_read_back(s, session_file_parse(buf, len, NULL, 0), false);
	free(buf);
	session__free(s);
}

static void test_render_session(void)
{
	struct session *s = fixture(1700000000123456789ULL, 0);
	size_t len;
	char *buf = render_ok(&render_session, s, &render_opts_default, &len);

	CHECK_STR(render_session.name, "pyflare");
	CHECK_STR(render_session.extensions[0], ".pyflare");
	check_read_back(s, session_file_parse(buf, len, NULL, 0), false);
	CHECK(renderer_by_name("pyflare") == &render_session);
	CHECK(renderer_by_path("run.pyflare") == &render_session);
	free(buf);
	session__free(s);
}

static void test_merge(void)
{
	struct session *a = fixture(1700000000000000000ULL, 0);
	struct session *b = fixture(1700000001000000000ULL, 100000);
	struct session *m = session__new(), *copy = session__new();
	const struct session_sample *smp;
	const struct session_process *p;
	const struct session_thread *t;
	const struct session_meta *meta;
	size_t na, nb, nm, ntm, nta, len1, len2, i;
	uint8_t *f1, *f2;

	/* one session into an empty one is an exact copy */
	CHECK_INT(session_merge(copy, a), 0);
	check_same(a, copy);
	f1 = save(a, SESSION_FILE_UNCOMPRESSED, &len1);
	f2 = save(copy, SESSION_FILE_UNCOMPRESSED, &len2);
	CHECK(len1 == len2 && !memcmp(f1, f2, len1));
	free(f1);
	free(f2);

	/* two recordings, one second apart, of other processes */
	CHECK_INT(session_merge(m, a), 0);
	CHECK_INT(session_merge(m, b), 0);
	meta = session__meta(m);
	CHECK_INT(meta->start_realtime_ns, 1700000000000000000ULL);
	CHECK_INT(meta->duration_ns, 3000000000ULL);
	CHECK_STR(meta->target, "python3 app.py --name 'caf\xc3\xa9'");
	CHECK_STR(meta->mode, "cpu");
	p = session__processes(m, &nm);
	CHECK_INT(nm, 6);
	CHECK_INT(p[3].pid, 104242);
	session__threads(m, &ntm);
	CHECK_INT(ntm, 10);
	samples_of(a, &na);
	samples_of(b, &nb);
	smp = samples_of(m, &nm);
	CHECK_INT(nm, na + nb);
	/* b's samples moved by the second between the starts, onto b's threads */
	CHECK_INT(smp[na].time_ns, 1000 + 299 * W + 1000000000ULL);
	CHECK_INT(smp[na].thread, 5 + 1);
	CHECK_INT(session__health(m)->samples, 2 * 670);
	CHECK_INT(session__health(m)->no_thread_state, UINT64_MAX);
	CHECK_INT(session__health(m)->no_python_frame, 2 * 5);
	CHECK_INT(session__health(m)->attached, 6);
	session__refusals(m, &nm);
	CHECK_INT(nm, 4);
	/* frames and stacks are shared, not repeated */
	session__frames(m, &nm);
	session__frames(a, &na);
	CHECK_INT(nm, na);
	session__stacks(m, &nm);
	session__stacks(a, &na);
	CHECK_INT(nm, na);

	/* the same processes again (attached twice): one process each, samples added */
	CHECK_INT(session_merge(m, a), 0);
	session__processes(m, &nm);
	CHECK_INT(nm, 7); /* the one with no start time is not known to be the same */
	t = session__threads(m, &ntm);
	session__threads(a, &nta);
	CHECK_INT(ntm, 11);
	smp = samples_of(m, &nm);
	samples_of(a, &na);
	CHECK_INT(nm, 2 * na + nb);
	CHECK_INT(smp[na + nb].thread, 1);
	CHECK_INT(t[smp[na + nb].thread].tid, 4242);
	CHECK_INT(session__health(m)->attached, 7);
	CHECK_INT(session__health(m)->refused, 4);
	session__refusals(m, &nm);
	CHECK_INT(nm, 4);

	/* earlier than what is there: the caller merges in start order */
	CHECK_INT(session_merge(b, a), -EINVAL);
	CHECK_INT(session_merge(m, m), -EINVAL);

	/* renders of the combined session work, and it round-trips too */
	{
		char *buf = (char *)save(m, 0, &len1);

		check_read_back(m, session_file_parse(buf, len1, NULL, 0), true);
		free(buf);
	}
	for (i = 0; i < 1; i++)
		session__free(copy);
	session__free(a);
	session__free(b);
	session__free(m);
}

static void test_merge_targets(void)
{
	struct session *m = session__new(), *x = session__new();
	char big[700];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	session__set_meta(x, &(struct session_meta){ 10, 5, 99, 1, "cpu", "a.py", NULL, NULL });
	CHECK_INT(session_merge(m, x), 0);
	session__set_meta(x, &(struct session_meta){ 12, 1, 999, 4, "cpu", "b.py", NULL, NULL });
	CHECK_INT(session_merge(m, x), 0);
	session__set_meta(x, &(struct session_meta){ 12, 1, 999, 4, "wall", "a.py", NULL, NULL });
	CHECK_INT(session_merge(m, x), 0);
	CHECK_STR(session__meta(m)->target, "a.py + b.py");
	CHECK_STR(session__meta(m)->mode, "cpu + wall");
	CHECK_STR(session__meta(m)->clock, "timer");
	session__set_meta(x, &(struct session_meta){ 12, 1, 250, 4, "cpu", "a.py", "tick", NULL });
	CHECK_INT(session_merge(m, x), 0);
	CHECK_STR(session__meta(m)->clock, "timer + tick");
	CHECK_INT(session__meta(m)->rate_hz, 999);
	CHECK_INT(session__meta(m)->ncpus, 4);
	CHECK_INT(session__meta(m)->duration_ns, 5);
	/* the joined target stops growing */
	for (int i = 0; i < 5; i++) {
		big[0] = 'a' + i;
		session__set_meta(x,
				  &(struct session_meta){ 20, 1, 99, 1, "cpu", big, NULL, NULL });
		CHECK_INT(session_merge(m, x), 0);
	}
	CHECK(strlen(session__meta(m)->target) < 1024 + 700);
	CHECK(strstr(session__meta(m)->target, " + ...") != NULL);
	CHECK_INT(session__meta(m)->duration_ns, 11);
	session__free(m);
	session__free(x);
}

/* A small file, for the exhaustive tests. */
static struct session *small(void)
{
	struct session *s = session__new();
	uint32_t node;

	session__set_meta(s, &(struct session_meta){ 1700000000000000000ULL, 1000000, 999, 2, "cpu",
						     "t.py", NULL, NULL });
	session__set_health(s, &(struct session_health){ 3, 0, 1, 0, 0, 0, 0, 1, 1 });
	session__add_refusal(s, 9, "sh", "not Python");
	session__add_process(s, &(struct session_process){
					42, 7, "python3", "python3 t.py", "/usr/bin/python3",
					"3.12.1", "/usr/lib/python3.12", 0, "", "", 0, NULL });
	session__add_thread(s, 0, 42, "MainThread");
	session__intern_frame(s, &(struct session_frame){ "<module>", "t.py", 1, 3, FRAME_PYTHON });
	session__intern_frame(s, &(struct session_frame){ "f", "t.py", 5, 6, FRAME_PYTHON });
	node = session__intern_stack(s, session__intern_stack(s, 0, 0), 1);
	session__add_sample(s, &(struct session_sample){ 10, W, 0, node });
	session__add_sample(s, &(struct session_sample){ 5, W, 0, node - 1 });
	session__add_sample(s, &(struct session_sample){ 20, 2 * W, 0, node });
	return s;
}

/* The process identity section: read back, optional, and checked. */
static void test_process_identity(void)
{
	struct session *s = small(), *back;
	const struct session_process *p;
	size_t len, plain_len, n;
	uint8_t *buf, *plain;
	char err[256];

	plain = save(s, SESSION_FILE_UNCOMPRESSED, &plain_len);
	CHECK_INT(session__set_process_identity(s, 0, 2, "/docker/abc", "abc"), 0);
	buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	/* 1 id, 1 length, count, ns pid, 11 + 1 cgroup, 3 + 1 container */
	CHECK_INT(len, plain_len + 2 + 1 + 1 + 12 + 4);
	back = session_file_parse(buf, len, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		p = session__processes(back, &n);
		CHECK_INT(n, 1);
		CHECK_INT(p[0].ns_pid, 2);
		CHECK_STR(p[0].cgroup, "/docker/abc");
		CHECK_STR(p[0].container, "abc");
		session__free(back);
	}
	/* without it, as older writers wrote: empty */
	back = session_file_parse(plain, plain_len, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		p = session__processes(back, &n);
		CHECK_INT(p[0].ns_pid, 0);
		CHECK_STR(p[0].cgroup, "");
		CHECK_STR(p[0].container, "");
		session__free(back);
	}
	free(buf);
	free(plain);
	session__free(s);
}

/* Reads the varint at *@at of @buf, moving past it. */
static uint64_t varint_at(const uint8_t *buf, size_t *at)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b = buf[(*at)++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* Takes the section @id out of the uncompressed file @buf, as a writer without it wrote. */
static bool drop_section(uint8_t *buf, size_t *len, uint64_t id)
{
	size_t at = SESSION_FILE_HEADER_SIZE;

	while (at < *len) {
		size_t start = at;
		uint64_t this = varint_at(buf, &at), n = varint_at(buf, &at);

		at += n;
		if (this != id)
			continue;
		memmove(buf + start, buf + at, *len - at);
		*len -= at - start;
		for (int i = 0; i < 8; i++) /* the body's length, after magic, version, flags */
			buf[16 + i] = (uint8_t)((*len - SESSION_FILE_HEADER_SIZE) >> (8 * i));
		return true;
	}
	return false;
}

/*
 * The sample sum (session.h) read back, and from a file of the writers before it, which have
 * no samples-not-shown section: they counted the samples received, the 2 without a Python
 * frame among them and among the 7 without thread state, and unsymbolized frames by stack.
 */
static void test_sample_sum(void)
{
	struct session *s = small(), *back;
	struct session_health h = { 13, 1, 0, 0, 0, 7, 2, 1, 1 };
	size_t len;
	uint8_t *buf;
	char err[256];

	session__set_health(s, &h);
	CHECK_INT(health_samples_shown(s), 3);
	CHECK_INT(health_unaccounted(s), 0);
	buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	back = session_file_parse(buf, len, err, sizeof(err));
	CHECK(back && !memcmp(session__health(back), &h, sizeof(h)));
	session__free(back);
	free(buf);

	/* as an old writer: 5 received (3 shown), 7 without thread state (2 of them empty) */
	h = (struct session_health){ 5, 1, 0, 0, 9, 7, 0, 1, 1 };
	session__set_health(s, &h);
	CHECK_INT(health_unaccounted(s), 5 - (3 + 1 + 7));
	buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	CHECK(drop_section(buf, &len, 12));
	back = session_file_parse(buf, len, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		const struct session_health *got = session__health(back);

		CHECK_INT(got->samples, 3 + 1 + 5 + 2);
		CHECK_INT(got->no_thread_state, 5);
		CHECK_INT(got->no_python_frame, 2);
		CHECK_INT(got->unsymbolized, 0); /* counted again: this session has none */
		CHECK_INT(health_unaccounted(back), 0);
	}
	session__free(back);
	free(buf);
	session__free(s);
}

static void test_truncations(void)
{
	struct session *s = small(), *back;
	char err[256];

	for (int k = 0; k < 2; k++) {
		size_t len, cut, bad = 0;
		uint8_t *buf = save(s, k ? SESSION_FILE_UNCOMPRESSED : 0, &len);

		for (cut = 0; cut < len; cut++) {
			/* a copy of exactly @cut bytes, so ASan sees a read past it */
			uint8_t *part = malloc(cut ? cut : 1);

			memcpy(part, buf, cut);
			errno = 0;
			back = session_file_parse(part, cut, err, sizeof(err));
			if (back || errno != EINVAL ||
			    !strstr(err, cut ? "truncated" : "the file is empty")) {
				if (bad++ < 5)
					fprintf(stderr, "  %s, cut at %zu: %s\n",
						k ? "raw" : "compressed", cut, err);
			}
			session__free(back);
			free(part);
		}
		CHECK_INT(bad, 0);
		free(buf);
	}
	session__free(s);
}

/* Where a raw file truncated at each section's start says it stops. */
static void test_truncation_messages(void)
{
	struct session *s = small();
	size_t len;
	uint8_t *buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	char err[256];
	const char *seen[24];
	size_t nseen = 0, cut;

	for (cut = SESSION_FILE_HEADER_SIZE; cut < len; cut++) {
		session_file_parse(buf, cut, err, sizeof(err));
		if (!nseen || strcmp(seen[nseen - 1], err)) {
			if (nseen < 24)
				seen[nseen++] = strdup(err);
		}
	}
	/* every section is named as the place it stops */
	for (size_t k = 0; k < 8; k++) {
		static const char *const names[] = { "meta",	"health", "refusals", "processes",
						     "threads", "frames", "stacks",   "samples" };
		char want[64];
		bool found = false;

		snprintf(want, sizeof(want), "truncated in the %s section", names[k]);
		for (size_t i = 0; i < nseen; i++)
			found |= !strcmp(seen[i], want);
		if (!found)
			fprintf(stderr, "  no \"%s\"\n", want);
		CHECK(found);
	}
	CHECK_STR(seen[nseen - 1], "truncated in the samples section");
	for (size_t i = 0; i < nseen; i++)
		free((void *)seen[i]);
	free(buf);
	session__free(s);
}

/* Every single-bit flip of a small file: a clean answer either way, never a crash. */
static void test_bit_flips(void)
{
	struct session *s = small(), *back;
	char err[256];

	for (int k = 0; k < 2; k++) {
		size_t len, i, accepted = 0, no_message = 0;
		uint8_t *buf = save(s, k ? SESSION_FILE_UNCOMPRESSED : 0, &len);

		for (i = 0; i < len * 8; i++) {
			buf[i / 8] ^= 1 << (i % 8);
			err[0] = '\0';
			back = session_file_parse(buf, len, err, sizeof(err));
			if (back) {
				size_t l2;
				uint8_t *again = save(back, SESSION_FILE_UNCOMPRESSED, &l2);
				struct session *b2 = session_file_parse(again, l2, NULL, 0);

				CHECK(b2 != NULL);
				session__free(b2);
				free(again);
				accepted++;
			} else if (!err[0]) {
				no_message++;
			}
			session__free(back);
			buf[i / 8] ^= 1 << (i % 8);
		}
		CHECK_INT(no_message, 0);
		/* the compressed stream's checksum catches every flip of the body */
		if (!k)
			CHECK(accepted <= 8 * 8);
		free(buf);
	}
	session__free(s);
}

/* Random multi-byte damage to a raw file, deterministic. */
static void test_random_damage(void)
{
	struct session *s = fixture(1700000000123456789ULL, 0), *back;
	size_t len, i;
	uint8_t *buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	uint8_t *copy = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char err[256];

	for (i = 0; i < 3000; i++) {
		int n = 1 + i % 4;

		memcpy(copy, buf, len);
		while (n--) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			copy[SESSION_FILE_HEADER_SIZE + x % (len - SESSION_FILE_HEADER_SIZE)] =
				x >> 32;
		}
		err[0] = '\0';
		back = session_file_parse(copy, len, err, sizeof(err));
		CHECK(back || err[0]);
		session__free(back);
	}
	free(copy);
	free(buf);
	session__free(s);
}

/* A header followed by hand-made sections. */
struct built {
	uint8_t b[1 << 16];
	size_t len;
};

static void b_raw(struct built *x, const void *p, size_t n)
{
	memcpy(x->b + x->len, p, n);
	x->len += n;
}

static void b_var(struct built *x, uint64_t v)
{
	do {
		x->b[x->len++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
}

static void b_str(struct built *x, const char *s)
{
	b_var(x, strlen(s));
	b_raw(x, s, strlen(s));
}

static void b_header(struct built *x, uint32_t version, uint32_t flags)
{
	x->len = 0;
	b_raw(x, "PYFLARE\0", 8);
	for (int i = 0; i < 4; i++)
		x->b[x->len++] = version >> (8 * i);
	for (int i = 0; i < 4; i++)
		x->b[x->len++] = flags >> (8 * i);
	x->len += 8; /* body length: b_finish() */
}

static void b_finish(struct built *x)
{
	uint64_t body = x->len - SESSION_FILE_HEADER_SIZE;

	for (int i = 0; i < 8; i++)
		x->b[16 + i] = body >> (8 * i);
}

/* A section from the bytes in @sec. */
static void b_section(struct built *x, unsigned id, const struct built *sec)
{
	b_var(x, id);
	b_var(x, sec->len);
	b_raw(x, sec->b, sec->len);
}

/*
 * A samples section of @n samples whose four columns hold one varint each of @v (time step,
 * weight step, thread, stack step: zigzag values as written).
 */
static void b_samples(struct built *sec, uint64_t n, const uint64_t v[4])
{
	struct built col;

	sec->len = 0;
	b_var(sec, n);
	for (int k = 0; k < 4; k++) {
		col.len = 0;
		b_var(&col, v[k]);
		b_var(sec, col.len);
	}
	for (int k = 0; k < 4; k++)
		b_var(sec, v[k]);
}

/* A header and a valid meta section. */
static void b_meta(struct built *x, struct built *sec)
{
	b_header(x, 1, 0);
	sec->len = 0;
	b_var(sec, 1), b_var(sec, 2), b_var(sec, 999), b_var(sec, 1);
	b_str(sec, "cpu"), b_str(sec, "t"), b_str(sec, "test");
	b_section(x, 1, sec);
}

/*
 * A valid body up to the stacks: one process, a thread of @process, a frame of @kind called
 * @name.
 */
static void b_prefix_named(struct built *x, struct built *sec, unsigned process, unsigned kind,
			   const char *name)
{
	b_meta(x, sec);
	sec->len = 0;
	for (int i = 0; i < 8; i++)
		b_var(sec, 0);
	b_section(x, 2, sec);
	sec->len = 0;
	b_var(sec, 0);
	b_section(x, 3, sec);
	sec->len = 0;
	b_var(sec, 1), b_var(sec, 42), b_var(sec, 7);
	for (int i = 0; i < 5; i++)
		b_str(sec, "p");
	b_section(x, 4, sec);
	sec->len = 0;
	b_var(sec, 1), b_var(sec, process), b_var(sec, 42), b_str(sec, "main");
	b_section(x, 5, sec);
	sec->len = 0;
	b_var(sec, 1), b_var(sec, kind), b_str(sec, name), b_str(sec, "t.py"), b_var(sec, 1),
		b_var(sec, 2);
	b_section(x, 6, sec);
}

static void b_prefix_of(struct built *x, struct built *sec, unsigned process, unsigned kind)
{
	b_prefix_named(x, sec, process, kind, "f");
}

/* A samples section without samples. */
static void b_no_samples(struct built *x, struct built *sec)
{
	sec->len = 0;
	for (int i = 0; i < 5; i++)
		b_var(sec, 0);
	b_section(x, 8, sec);
}

static void b_prefix(struct built *x, struct built *sec)
{
	b_prefix_of(x, sec, 0, FRAME_PYTHON);
}

static void expect_error(const struct built *x, int want_errno, const char *want)
{
	char err[256] = "";
	struct session *s;

	errno = 0;
	s = session_file_parse(x->b, x->len, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, want_errno);
	CHECK_STR(err, want);
	session__free(s);
}

static void test_messages(void)
{
	struct built x, sec;
	struct session *s;
	char err[256];
	size_t len;

	expect_error(&(struct built){ .len = 0 }, EINVAL, "the file is empty");
	memcpy(x.b, "{\"$schema\": 1}", 14);
	x.len = 14;
	expect_error(&x, EINVAL, "not a pyflare session file");
	memcpy(x.b, "PYFLA", 5);
	x.len = 5;
	expect_error(&x, EINVAL, "truncated in the header");

	b_header(&x, 7, 0);
	b_finish(&x);
	expect_error(&x, ENOTSUP, "unsupported format version 7 (this pyflare reads version 1)");
	b_header(&x, 1, 6);
	b_finish(&x);
	expect_error(&x, ENOTSUP, "unsupported format flags 0x6 (this pyflare knows 0x1)");
	b_header(&x, 1, 0);
	b_finish(&x);
	expect_error(&x, EINVAL, "the meta section is missing");
	b_header(&x, 1, 0);
	memset(x.b + 16, 0xff, 8);
	expect_error(&x, EINVAL,
		     "corrupted: a body of 18446744073709551615 bytes is over the 2048 MiB limit");

	/* a valid file, then each way of breaking its last sections */
	b_prefix(&x, &sec);
	sec.len = 0;
	b_var(&sec, 1), b_var(&sec, 1), b_var(&sec, 0);
	b_section(&x, 7, &sec);
	b_samples(&sec, 1, (const uint64_t[4]){ 2, 2, 0, 2 });
	b_section(&x, 8, &sec);
	b_finish(&x);
	s = session_file_parse(x.b, x.len, err, sizeof(err));
	CHECK(s != NULL);
	if (s) {
		const struct session_sample *smp = samples_of(s, &len);

		CHECK_INT(len, 1);
		CHECK_INT(smp[0].time_ns, 1);
		CHECK_INT(smp[0].weight_ns, 1);
		CHECK_INT(smp[0].stack, 1);
	}
	session__free(s);
	/* an unknown section anywhere is skipped */
	x.len -= 2 + sec.len;
	sec.len = 0;
	b_raw(&sec, "\x01\x02\x03", 3);
	b_section(&x, 99, &sec);
	b_samples(&sec, 1, (const uint64_t[4]){ 2, 2, 0, 2 });
	b_section(&x, 8, &sec);
	b_finish(&x);
	s = session_file_parse(x.b, x.len, err, sizeof(err));
	CHECK(s != NULL);
	session__free(s);
	x.b[x.len++] = 0;
	expect_error(&x, EINVAL, "1 byte after the end of the session");

	struct {
		uint64_t stack[3]; /* count, distance, frame */
		uint64_t nsamples;
		uint64_t sample[4]; /* time step, weight step, thread, stack step (zigzag) */
		const char *want;
	} cases[] = {
		{ { 1, 0, 0 }, 0, { 0 }, "stack node 1 has a parent out of range" },
		{ { 1, 2, 0 }, 0, { 0 }, "stack node 1 has a parent out of range" },
		{ { 1, 1, 1 }, 0, { 0 }, "stack node 1 names frame 1 of 1" },
		{ { 1, 1, 0 }, 1, { 0, 0, 1, 2 }, "sample 0 names thread 1 of 1" },
		{ { 1, 1, 0 }, 1, { 0, 0, 0, 0 }, "sample 0 names stack node 0 of 1" },
		{ { 1, 1, 0 }, 1, { 0, 0, 0, 4 }, "sample 0 names stack node 2 of 1" },
		{ { 1, 1, 0 },
		  1,
		  { 0, 0, 0, 1 },
		  "sample 0 names stack node 18446744073709551615 of 1" },
		{ { 1, 1, 0 },
		  1,
		  { 0, 0, 1ULL << 32, 2 },
		  "sample 0 names thread 4294967296 of 1" },
		{ { 1, 1, 0 }, 2, { 0, 0, 0, 2 }, "truncated in the samples section" },
		{ { 1000, 1, 0 }, 0, { 0 }, "truncated in the stacks section" },
		{ { 1, 1, 0 },
		  0,
		  { 0, 0, 0, 2 },
		  "1 unexpected byte at the end of a column of "
		  "the samples section" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_current = cases[i].want;
		b_prefix(&x, &sec);
		sec.len = 0;
		for (int k = 0; k < 3; k++)
			b_var(&sec, cases[i].stack[k]);
		b_section(&x, 7, &sec);
		b_samples(&sec, cases[i].nsamples, cases[i].sample);
		b_section(&x, 8, &sec);
		b_finish(&x);
		expect_error(&x, EINVAL, cases[i].want);
	}
	test_current = "test_messages";

	/* a duplicate section, one out of order, one too long, a NUL in a string, a bad kind */
	b_prefix(&x, &sec);
	sec.len = 0;
	b_var(&sec, 0);
	b_section(&x, 6, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "a second frames section");
	b_prefix(&x, &sec);
	sec.len = 0;
	b_var(&sec, 0);
	b_section(&x, 8, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "the stacks section is missing");
	b_prefix(&x, &sec);
	b_var(&x, 7);
	b_var(&x, 100);
	b_var(&x, 0);
	b_finish(&x);
	expect_error(&x, EINVAL, "truncated in the stacks section");
	b_prefix(&x, &sec);
	sec.len = 0;
	b_var(&sec, 0), b_var(&sec, 0);
	b_section(&x, 7, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "1 unexpected byte at the end of the stacks section");
	/* the samples' column lengths must add up to the section */
	b_prefix(&x, &sec);
	sec.len = 0;
	b_var(&sec, 0);
	b_section(&x, 7, &sec);
	sec.len = 0;
	b_var(&sec, 0), b_var(&sec, 0), b_var(&sec, 0), b_var(&sec, 0), b_var(&sec, 2);
	b_var(&sec, 0);
	b_section(&x, 8, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "truncated in the samples section");
	x.len -= 2 + sec.len;
	sec.len = 0;
	b_var(&sec, 0), b_var(&sec, 0), b_var(&sec, 0), b_var(&sec, 0), b_var(&sec, 0);
	b_var(&sec, 0);
	b_section(&x, 8, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "1 unexpected byte at the end of the samples section");

	b_header(&x, 1, 0);
	sec.len = 0;
	b_var(&sec, 1), b_var(&sec, 2), b_var(&sec, 999), b_var(&sec, 1);
	b_raw(&sec,
	      "\x03"
	      "c\0u",
	      4);
	b_str(&sec, "t"), b_str(&sec, "w");
	b_section(&x, 1, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "a string holds a NUL byte in the meta section");

	b_header(&x, 1, 0);
	sec.len = 0;
	for (int i = 0; i < 11; i++)
		sec.b[sec.len++] = 0xff;
	b_section(&x, 1, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL, "a number out of range in the meta section");
}

/*
 * A recording's limits hold on load: a name longer than a recording keeps, or a stack deeper
 * than the walker goes, is refused (a 31 KB file with one 16 MB name on a 2,000-deep stack
 * made `report -o x.txt` write gigabytes). At the limits a file is read.
 */
static void test_live_limits(void)
{
	static struct built x, sec;
	static char name[SESSION_FILE_MAX_STRING + 2];
	char err[256] = "";
	struct session *s;
	size_t depth;

	for (size_t len = SESSION_FILE_MAX_STRING; len <= SESSION_FILE_MAX_STRING + 1; len++) {
		memset(name, 'n', len);
		name[len] = '\0';
		b_prefix_named(&x, &sec, 0, FRAME_PYTHON, name);
		sec.len = 0;
		b_var(&sec, 0);
		b_section(&x, 7, &sec);
		b_no_samples(&x, &sec);
		b_finish(&x);
		s = session_file_parse(x.b, x.len, err, sizeof(err));
		CHECK((s != NULL) == (len == SESSION_FILE_MAX_STRING));
		if (!s)
			CHECK_STR(err,
				  "a string of 4097 bytes in the frames section, longer than a "
				  "recording keeps (4096)");
		session__free(s);
	}
	for (depth = SESSION_FILE_MAX_DEPTH; depth <= SESSION_FILE_MAX_DEPTH + 1; depth++) {
		b_prefix(&x, &sec);
		sec.len = 0;
		b_var(&sec, depth);
		for (size_t i = 0; i < depth; i++)
			b_var(&sec, 1), b_var(&sec, 0); /* each node the child of the one before */
		b_section(&x, 7, &sec);
		b_no_samples(&x, &sec);
		b_finish(&x);
		s = session_file_parse(x.b, x.len, err, sizeof(err));
		CHECK((s != NULL) == (depth == SESSION_FILE_MAX_DEPTH));
		if (!s)
			CHECK_STR(err, "stack node 1027 is deeper than 1026 frames");
		session__free(s);
	}

	/* what the writer is given longer, it cuts to the limit, at a character */
	s = session__new();
	name[0] = 'x';
	for (size_t i = 1; i + 2 <= SESSION_FILE_MAX_STRING + 1; i += 2)
		memcpy(name + i, "\xc3\xa9", 2);
	name[SESSION_FILE_MAX_STRING + 1] = '\0';
	session__intern_frame(s, &(struct session_frame){ name, name, 1, 1, FRAME_PYTHON });
	{
		size_t len, n;
		uint8_t *buf = save(s, 0, &len);
		struct session *back = session_file_parse(buf, len, err, sizeof(err));
		const struct session_frame *f = back ? session__frames(back, &n) : NULL;

		CHECK(f != NULL);
		if (f) {
			CHECK_INT(strlen(f[0].name), SESSION_FILE_MAX_STRING - 1);
			CHECK(valid_utf8(f[0].name));
		}
		session__free(back);
		free(buf);
	}
	session__free(s);
}

/* The clock section: written for a clock other than the timer only, read back, checked. */
static void test_clock(void)
{
	struct session *s = small(), *back;
	struct session_meta m = *session__meta(s);
	struct built x, sec, meta;
	size_t len, plain_len;
	uint8_t *buf, *plain;
	char err[256];

	/* a session that names no clock was the timer's, as every one before --clock */
	CHECK_STR(m.clock, "timer");
	plain = save(s, SESSION_FILE_UNCOMPRESSED, &plain_len);
	m.clock = "tick";
	CHECK_INT(session__set_meta(s, &m), 0);
	buf = save(s, SESSION_FILE_UNCOMPRESSED, &len);
	/* 1 id, 1 length, 1 + 4 "tick" */
	CHECK_INT(len, plain_len + 2 + 5);
	back = session_file_parse(buf, len, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		check_same(s, back);
		CHECK_STR(session__meta(back)->clock, "tick");
		session__free(back);
	}
	back = session_file_parse(plain, plain_len, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		CHECK_STR(session__meta(back)->clock, "timer");
		session__free(back);
	}
	free(buf);
	free(plain);
	session__free(s);

	/* it adds to the meta section: after it, and once */
	meta.len = 0;
	b_str(&meta, "tick");
	b_header(&x, 1, 0);
	b_section(&x, 10, &meta);
	b_finish(&x);
	expect_error(&x, EINVAL, "the clock section comes before the meta section");
	b_prefix(&x, &sec);
	b_section(&x, 10, &meta);
	b_section(&x, 10, &meta);
	b_finish(&x);
	expect_error(&x, EINVAL, "a second clock section");
	b_prefix(&x, &sec);
	meta.b[meta.len++] = 0;
	b_section(&x, 10, &meta);
	b_finish(&x);
	expect_error(&x, EINVAL, "1 unexpected byte at the end of the clock section");
	/* the process identity section likewise follows the processes */
	b_meta(&x, &sec);
	sec.len = 0;
	b_var(&sec, 0);
	b_section(&x, 9, &sec);
	b_finish(&x);
	expect_error(&x, EINVAL,
		     "the process identity section comes before the processes "
		     "section");
}

static void test_bad_frame_and_thread(void)
{
	struct built x, sec;

	b_prefix_of(&x, &sec, 0, 9);
	b_finish(&x);
	expect_error(&x, EINVAL, "frame 0 is of unknown kind 9");
	b_prefix_of(&x, &sec, 0, FRAME_TASK + 1); /* the first kind after the newest */
	b_finish(&x);
	expect_error(&x, EINVAL, "frame 0 is of unknown kind 6");
	b_prefix_of(&x, &sec, 1, FRAME_PYTHON);
	b_finish(&x);
	expect_error(&x, EINVAL, "thread 0 names process 1 of 1");
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static char tmpdir[64];

static void test_read_file(void)
{
	struct session *s = small(), *back;
	char path[128], err[256];
	size_t len;
	uint8_t *buf = save(s, 0, &len);

	snprintf(path, sizeof(path), "%s/s.pyflare", tmpdir);
	write_file(path, buf, len);
	back = session_file_read(path, err, sizeof(err));
	CHECK(back != NULL);
	if (back)
		check_same(s, back);
	session__free(back);

	write_file(path, buf, len - 3);
	back = session_file_read(path, err, sizeof(err));
	CHECK(back == NULL);
	CHECK(strstr(err, "truncated") != NULL);

	snprintf(path, sizeof(path), "%s/missing.pyflare", tmpdir);
	back = session_file_read(path, err, sizeof(err));
	CHECK(back == NULL);
	CHECK_INT(errno, ENOENT);
	CHECK_STR(err, strerror(ENOENT));
	back = session_file_read(tmpdir, err, sizeof(err));
	CHECK(back == NULL);
	CHECK_INT(errno, EISDIR);
	back = session_file_read("/dev/null", err, sizeof(err));
	CHECK(back == NULL);
	CHECK_STR(err, "the file is empty");
	/* an endless device is refused at its first bytes */
	back = session_file_read("/dev/zero", err, sizeof(err));
	CHECK(back == NULL);
	CHECK_STR(err, "not a pyflare session file");
	free(buf);
	session__free(s);
}

static int count_files(const char *dir, const char *suffix)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c '%s$'", dir, suffix);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void test_history(void)
{
	struct session *s = small();
	char xdg[128], dir[256], last[512], want[1024], path[512], fresh[512];
	struct stat st;
	int i;

	snprintf(xdg, sizeof(xdg), "%s/data", tmpdir);
	setenv("XDG_DATA_HOME", xdg, 1);
	unsetenv("SUDO_USER");
	CHECK_INT(history_dir(dir, sizeof(dir)), 0);
	snprintf(want, sizeof(want), "%s/pyflare/sessions", xdg);
	CHECK_STR(dir, want);
	CHECK_INT(history_last(last, sizeof(last)), -ENOENT);

	/* twelve recordings, a second apart, saved out of order: the newest ten stay */
	for (i = 0; i < 12; i++) {
		uint64_t start = 1700000000000000000ULL + (uint64_t)((i * 5) % 12) * 1000000000ULL;

		session__set_meta(
			s, &(struct session_meta){ start, 1, 99, 1, "cpu", "t", NULL, NULL });
		CHECK_INT(history_save(s), 0);
	}
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "mine", 4);
	CHECK_INT(count_files(dir, ".pyflare"), 10);
	CHECK_INT(history_last(last, sizeof(last)), 0);
	snprintf(want, sizeof(want), "%s/20231114T221331.000000Z.pyflare", dir);
	CHECK_STR(last, want);
	CHECK(stat(last, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* a save a killed pyflare left: removed once old */
	snprintf(path, sizeof(path), "%s/.999999.pyflare.tmp", dir);
	write_file(path, "x", 1);
	{
		struct timespec old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };

		utimensat(AT_FDCWD, path, old, 0);
	}
	snprintf(fresh, sizeof(fresh), "%s/.1.pyflare.tmp", dir);
	write_file(fresh, "x", 1); /* a save in progress */

	/* the same start twice: a microsecond apart, both kept; other files are left alone */
	CHECK_INT(history_save(s), 0);
	CHECK_INT(history_last(last, sizeof(last)), 0);
	snprintf(want, sizeof(want), "%s/20231114T221327.000001Z.pyflare", dir);
	CHECK(access(want, F_OK) == 0);
	CHECK_INT(count_files(dir, ".pyflare"), 10);
	CHECK_INT(count_files(dir, "notes.txt"), 1);
	CHECK_INT(count_files(dir, ".tmp"), 1);
	CHECK(access(fresh, F_OK) == 0); /* a save in progress stays */

	/* a relative XDG_DATA_HOME is ignored: HOME's .local/share */
	setenv("XDG_DATA_HOME", "relative", 1);
	setenv("HOME", tmpdir, 1);
	CHECK_INT(history_dir(dir, sizeof(dir)), 0);
	snprintf(want, sizeof(want), "%s/.local/share/pyflare/sessions", tmpdir);
	CHECK_STR(dir, want);
	CHECK_INT(history_save(s), 0);
	CHECK_INT(count_files(dir, ".pyflare"), 1);

	/* root working for a sudo user: their home's folder, made theirs */
	if (geteuid() == 0) {
		snprintf(xdg, sizeof(xdg), "%s/sudo", tmpdir);
		mkdir(xdg, 0755);
		setenv("XDG_DATA_HOME", xdg, 1);
		setenv("SUDO_USER", "nobody", 1);
		setenv("SUDO_UID", "65534", 1);
		setenv("SUDO_GID", "65534", 1);
		CHECK_INT(history_save(s), 0);
		CHECK_INT(history_last(last, sizeof(last)), 0);
		CHECK(stat(last, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534);
		snprintf(path, sizeof(path), "%s/pyflare", xdg);
		CHECK(stat(path, &st) == 0 && st.st_uid == 65534);
		/* a link planted where the folder goes is not followed */
		snprintf(path, sizeof(path), "%s/sudo2", tmpdir);
		mkdir(path, 0755);
		setenv("XDG_DATA_HOME", path, 1);
		snprintf(want, sizeof(want), "%s/pyflare", path);
		CHECK(symlink("/etc", want) == 0);
		CHECK(history_save(s) < 0);
		unsetenv("SUDO_USER");
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
	}
	unsetenv("XDG_DATA_HOME");
	session__free(s);
}

static void test_report_run(void)
{
	struct session *a = fixture(1700000000000000000ULL, 0);
	struct session *b = fixture(1700000005000000000ULL, 100000);
	char pa[128], pb[128], pbad[128], out1[128], out2[128], xdg[128];
	struct report_opts o = { 0 };
	struct session *back;
	size_t len;
	uint8_t *buf;

	snprintf(pa, sizeof(pa), "%s/a.pyflare", tmpdir);
	snprintf(pb, sizeof(pb), "%s/b.pyflare", tmpdir);
	snprintf(pbad, sizeof(pbad), "%s/bad.pyflare", tmpdir);
	snprintf(out1, sizeof(out1), "%s/out.txt", tmpdir);
	snprintf(out2, sizeof(out2), "%s/out.pyflare", tmpdir);
	buf = save(a, 0, &len);
	write_file(pa, buf, len);
	free(buf);
	buf = save(b, 0, &len);
	write_file(pb, buf, len);
	write_file(pbad, buf, len / 2);
	free(buf);

	/* later file first: combined in start order all the same */
	o.files[0] = pb;
	o.files[1] = pa;
	o.n_files = 2;
	o.outputs[0] = (struct output_spec){ out1, &render_text };
	o.outputs[1] = (struct output_spec){ out2, &render_session };
	o.n_outputs = 2;
	o.render = render_opts_default;
	CHECK_INT(report_run(&o), 0);
	back = session_file_read(out2, NULL, 0);
	CHECK(back != NULL);
	if (back) {
		size_t n;

		session__processes(back, &n);
		CHECK_INT(n, 6);
		CHECK_INT(session__meta(back)->start_realtime_ns, 1700000000000000000ULL);
		CHECK_INT(session__meta(back)->duration_ns, 7000000000ULL);
	}
	session__free(back);
	CHECK(access(out1, F_OK) == 0);

	/* one file: exactly that session */
	o.files[0] = pa;
	o.n_files = 1;
	CHECK_INT(report_run(&o), 0);
	check_read_back(a, session_file_read(out2, NULL, 0), true);

	/* a bad file among good ones: exit 3, and no report left half written */
	unlink(out1);
	o.files[1] = pbad;
	o.n_files = 2;
	CHECK_INT(report_run(&o), EXIT_TARGET);
	CHECK(access(out1, F_OK) != 0);
	CHECK_INT(count_files(tmpdir, ".tmp.*"), 0);

	/* --last: the newest recording kept */
	snprintf(xdg, sizeof(xdg), "%s/lastdata", tmpdir);
	setenv("XDG_DATA_HOME", xdg, 1);
	o.n_files = 0;
	o.last = true;
	CHECK_INT(report_run(&o), EXIT_TARGET); /* none kept yet */
	history_save(a);
	history_save(b);
	CHECK_INT(report_run(&o), 0);
	back = session_file_read(out2, NULL, 0);
	CHECK(back != NULL);
	if (back)
		check_same(b, back);
	session__free(back);
	unsetenv("XDG_DATA_HOME");

	o.last = false;
	CHECK_INT(report_run(&o), EXIT_USAGE);
	session__free(a);
	session__free(b);
}

/* The fuzzing corpus's valid files: `test_session_file --write-corpus DIR`. */
static int write_corpus(const char *dir)
{
	struct session *s[4] = { small(), fixture(1700000000123456789ULL, 0), session__new(),
				 session__new() };
	struct session *a = small(), *b = fixture(1700000001000000000ULL, 100000);
	static const char *const names[] = { "small", "rich", "empty", "merged" };
	char path[4096];
	size_t len;

	session_merge(s[3], a);
	session_merge(s[3], b);
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 2; k++) {
			uint8_t *buf = save(s[i], k ? 0 : SESSION_FILE_UNCOMPRESSED, &len);

			snprintf(path, sizeof(path), "%s/valid-%s%s.pyflare", dir, names[i],
				 k ? "-gz" : "");
			write_file(path, buf, len);
			free(buf);
		}
		session__free(s[i]);
	}
	session__free(a);
	session__free(b);
	return test_failed || test_failures_in_case;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pyflare-test-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("SUDO_USER");
	RUN(test_round_trip);
	RUN(test_round_trip_extremes);
	RUN(test_render_session);
	RUN(test_merge);
	RUN(test_merge_targets);
	RUN(test_process_identity);
	RUN(test_clock);
	RUN(test_truncations);
	RUN(test_truncation_messages);
	RUN(test_bit_flips);
	RUN(test_random_damage);
	RUN(test_messages);
	RUN(test_live_limits);
	RUN(test_sample_sum);
	RUN(test_bad_frame_and_thread);
	RUN(test_read_file);
	RUN(test_history);
	RUN(test_report_run);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return test_summary();
}
