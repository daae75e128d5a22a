/* SPDX-License-Identifier: MIT */
/* test_session_group.c — --group-by: processes merged into groups, and how reports show them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "render/frame_filter.h"
#include "render/render.h"
#include "session/session_file.h"
#include "session/session_group.h"
#include "samples_of.h"
#include "test.h"

enum { F_APP, F_HANDLE, F_WORK, F_HELPER, F_CRON, NF };

static const struct session_frame frames[NF] = {
	[F_APP] = { "<module>", "/srv/app.py", 1, 1, FRAME_PYTHON },
	[F_HANDLE] = { "handle", "/srv/app.py", 5, 6, FRAME_PYTHON },
	[F_WORK] = { "work", "/srv/app.py", 9, 10, FRAME_PYTHON },
	/* library code of worker 101 only: its venv is one of its lib_dirs */
	[F_HELPER] = { "helper", "/srv/venv/lib/python3.12/helper.py", 3, 4, FRAME_PYTHON },
	[F_CRON] = { "tick", "/srv/cron.py", 2, 3, FRAME_PYTHON },
};

/*
 * Two gunicorn workers with one command line and one cron job:
 *   100 MainThread: 30 handle; worker 110: 10 work
 *   101 (started first, in a PID namespace) MainThread: 20 handle, 5 helper; an unnamed
 *       thread 111: 4 work
 *   200 cron MainThread: 7 tick
 * 76 samples; meta, health and one refusal.
 */
static struct session *workers(void)
{
	static const int handle[] = { F_APP, F_HANDLE }, work[] = { F_APP, F_WORK };
	static const int helper[] = { F_APP, F_HANDLE, F_HELPER }, tick[] = { F_CRON };
	struct session *s = session__new();
	int64_t a_main, a_worker, b_main, b_anon, c_main;
	uint64_t t = 1000;
	int i;

	fixture_meta(s, 1700000000000000000ULL, "-a");
	session__set_health(s, &(struct session_health){ 80, 1, 2, 0, 0, 3, 4, 3, 1 });
	session__add_refusal(s, 300, "python3.15", "unsupported Python 3.15");
	session__add_process(s, &(struct session_process){ .pid = 100,
							   .start_time = 50,
							   .comm = "gunicorn",
							   .cmdline = "gunicorn app:wsgi",
							   .exe = "/usr/bin/python3.12",
							   .python_version = "3.12.1",
							   .lib_dirs = "/usr/lib/python3.12",
							   .cgroup = "/system.slice/app.service" });
	session__add_process(s, &(struct session_process){
					.pid = 101,
					.start_time = 40,
					.comm = "gunicorn",
					.cmdline = "gunicorn app:wsgi",
					.exe = "/usr/bin/python3.12",
					.python_version = "3.12.2",
					.lib_dirs = "/usr/lib/python3.12:/srv/venv/lib/python3.12",
					.ns_pid = 7,
					.cgroup = "/system.slice/app.service" });
	session__add_process(s,
			     &(struct session_process){ .pid = 200,
							.start_time = 60,
							.comm = "python3",
							.cmdline = "python3 cron.py",
							.exe = "/usr/bin/python3.11",
							.python_version = "3.11.4",
							.lib_dirs = "/usr/lib/python3.11",
							.ns_pid = 9,
							.cgroup = "/system.slice/cron.service" });
	a_main = session__add_thread(s, 0, 100, "MainThread");
	a_worker = session__add_thread(s, 0, 110, "worker");
	b_main = session__add_thread(s, 1, 101, "MainThread");
	b_anon = session__add_thread(s, 1, 111, "");
	c_main = session__add_thread(s, 2, 200, "MainThread");
	for (i = 0; i < NF; i++)
		session__intern_frame(s, &frames[i]);
	add_n(s, a_main, stack_of(s, handle, 2), 30, W, &t);
	add_n(s, b_main, stack_of(s, handle, 2), 20, W, &t);
	add_n(s, a_worker, stack_of(s, work, 2), 10, W, &t);
	add_n(s, c_main, stack_of(s, tick, 1), 7, W, &t);
	add_n(s, b_main, stack_of(s, helper, 3), 5, W, &t);
	add_n(s, b_anon, stack_of(s, work, 2), 4, W, &t);
	return s;
}

/* The weight of the samples of process @p, or of thread @thread when it is not -1. */
static uint64_t total_of(const struct session *s, uint32_t p, int64_t thread)
{
	const struct session_sample *smp;
	const struct session_thread *thr;
	size_t n, i;
	uint64_t total = 0;

	smp = samples_of(s, &n);
	thr = session__threads(s, &(size_t){ 0 });
	for (i = 0; i < n; i++)
		if (thread >= 0 ? smp[i].thread == thread : thr[smp[i].thread].process == p)
			total += smp[i].weight_ns;
	return total;
}

/* "name(file:line)<..." of a stack node, leaf first. */
static void stack_text(const struct session *s, uint32_t node, char *buf, size_t len)
{
	const struct session_stack *st = session__stacks(s, &(size_t){ 0 });
	const struct session_frame *fr = session__frames(s, &(size_t){ 0 });
	size_t used = 0;

	buf[0] = '\0';
	for (; node && used < len; node = st[node].parent)
		used += snprintf(buf + used, len - used, "%s(%s:%u)<", fr[st[node].frame].name,
				 fr[st[node].frame].file, fr[st[node].frame].line);
}

/* Every sample of @g is @s's, in order: same time, weight and stack. */
static void check_same_samples(const struct session *s, const struct session *g)
{
	const struct session_sample *a, *b;
	size_t na, nb, i;
	char sa[512], sb[512];

	a = samples_of(s, &na);
	b = samples_of(g, &nb);
	CHECK_INT(nb, na);
	for (i = 0; i < na && i < nb; i++) {
		CHECK_INT(b[i].time_ns, a[i].time_ns);
		CHECK_INT(b[i].weight_ns, a[i].weight_ns);
		stack_text(s, a[i].stack, sa, sizeof(sa));
		stack_text(g, b[i].stack, sb, sizeof(sb));
		CHECK_STR(sb, sa);
	}
}

/* The same meta, health and refusals. */
static void check_same_recording(const struct session *s, const struct session *g)
{
	const struct session_meta *ma = session__meta(s), *mb = session__meta(g);
	const struct session_refusal *r;
	size_t n;

	CHECK_INT(mb->start_realtime_ns, ma->start_realtime_ns);
	CHECK_INT(mb->duration_ns, ma->duration_ns);
	CHECK_INT(mb->rate_hz, ma->rate_hz);
	CHECK_INT(mb->ncpus, ma->ncpus);
	CHECK_STR(mb->target, ma->target);
	CHECK_STR(mb->mode, ma->mode);
	CHECK(!memcmp(session__health(g), session__health(s), sizeof(struct session_health)));
	r = session__refusals(g, &n);
	CHECK_INT(n, 1);
	if (n) {
		CHECK_INT(r[0].pid, 300);
		CHECK_STR(r[0].reason, "unsupported Python 3.15");
	}
}

static void test_names(void)
{
	static const char *const names[] = { "process", "cmdline", "container", "none" };
	enum group_by by = GROUP_BY_NONE;
	size_t i;

	for (i = 0; i < 4; i++) {
		CHECK(group_by_parse(names[i], &by));
		CHECK_INT(by, i);
		CHECK_STR(group_by_name(by), names[i]);
	}
	by = GROUP_BY_CMDLINE;
	CHECK(!group_by_parse("", &by));
	CHECK(!group_by_parse("Cmdline", &by));
	CHECK(!group_by_parse("comm", &by));
	CHECK(!group_by_parse(NULL, &by));
	CHECK_INT(by, GROUP_BY_CMDLINE);
}

/* Groups workers() by @by, has @check look at the groups, and checks what grouping keeps. */
static void group_workers(enum group_by by,
			  void (*check)(const struct session *s, const struct session *g))
{
	struct session *s = workers(), *g = session_group(s, by);

	CHECK(g != NULL);
	if (g) {
		check(s, g);
		check_same_samples(s, g);
		check_same_recording(s, g);
	}
	session__free(g);
	session__free(s);
}

static void check_cmdline(const struct session *s, const struct session *g)
{
	const struct session_process *p;
	const struct session_thread *t;
	size_t np = 0, nt = 0;

	p = session__processes(g, &np);
	CHECK_INT(np, 2);
	if (np == 2) {
		CHECK_INT(p[0].pid, 100);
		CHECK_INT(p[0].nmembers, 2);
		CHECK(p[0].members && p[0].members[0] == 100 && p[0].members[1] == 101);
		CHECK_STR(p[0].comm, "gunicorn");
		CHECK_STR(p[0].cmdline, "gunicorn app:wsgi");
		CHECK_STR(p[0].exe, "/usr/bin/python3.12");
		CHECK_STR(p[0].python_version, "3.12.1 + 3.12.2");
		CHECK_STR(p[0].lib_dirs, "/usr/lib/python3.12:/srv/venv/lib/python3.12");
		CHECK_STR(p[0].cgroup, "/system.slice/app.service");
		CHECK_STR(p[0].container, "");
		CHECK_INT(p[0].start_time, 40);
		CHECK_INT(p[0].ns_pid, 0);
		/* the cron job is alone, and as it was */
		CHECK_INT(p[1].pid, 200);
		CHECK(p[1].nmembers <= 1);
		CHECK_STR(p[1].cmdline, "python3 cron.py");
		CHECK_INT(p[1].ns_pid, 9);
		CHECK_INT(p[1].start_time, 60);
		/* the union of lib_dirs: 101's venv is library code of the group */
		CHECK(frame_is_library(&p[0], frames[F_HELPER].file));
		CHECK(!frame_is_library(&p[0], frames[F_HANDLE].file));
	}
	/* MainThreads merged, the worker and the unnamed thread apart */
	t = session__threads(g, &nt);
	CHECK_INT(nt, 4);
	if (nt == 4) {
		CHECK(t[0].process == 0 && t[0].tid == 100 && !strcmp(t[0].name, "MainThread"));
		CHECK_INT(t[0].nmembers, 2);
		CHECK(t[1].process == 0 && t[1].tid == 110 && !strcmp(t[1].name, "worker"));
		CHECK(t[1].nmembers <= 1);
		CHECK(t[2].process == 0 && t[2].tid == 111 && !strcmp(t[2].name, ""));
		CHECK(t[3].process == 1 && t[3].tid == 200 && t[3].nmembers <= 1);
		CHECK_INT(total_of(g, 0, 0), (30 + 20 + 5) * W);
		CHECK_INT(total_of(g, 0, 1), 10 * W);
		CHECK_INT(total_of(g, 0, 2), 4 * W);
	}
	/* a group holds the sum of its members */
	CHECK_INT(total_of(g, 0, -1), total_of(s, 0, -1) + total_of(s, 1, -1));
	CHECK_INT(total_of(g, 0, -1), 69 * W);
	CHECK_INT(total_of(g, 1, -1), total_of(s, 2, -1));
}

static void test_cmdline(void)
{
	group_workers(GROUP_BY_CMDLINE, check_cmdline);
}

static void check_none(const struct session *s, const struct session *g)
{
	const struct session_process *p;
	const struct session_thread *t;
	size_t np = 0, nt = 0;

	CHECK_INT(total_of(s, 0, -1) + total_of(s, 1, -1) + total_of(s, 2, -1), 76 * W);
	p = session__processes(g, &np);
	CHECK_INT(np, 1);
	if (np == 1) {
		CHECK_INT(p[0].pid, 100);
		CHECK_INT(p[0].nmembers, 3);
		CHECK(p[0].members && p[0].members[0] == 100 && p[0].members[1] == 101 &&
		      p[0].members[2] == 200);
		/* what differs is joined, each value once */
		CHECK_STR(p[0].comm, "gunicorn + python3");
		CHECK_STR(p[0].cmdline, "gunicorn app:wsgi + python3 cron.py");
		CHECK_STR(p[0].exe, "/usr/bin/python3.12 + /usr/bin/python3.11");
		CHECK_STR(p[0].python_version, "3.12.1 + 3.12.2 + 3.11.4");
		CHECK_STR(p[0].lib_dirs,
			  "/usr/lib/python3.12:/srv/venv/lib/python3.12:/usr/lib/python3.11");
		CHECK_STR(p[0].cgroup, "/system.slice/app.service + /system.slice/cron.service");
		CHECK_INT(p[0].ns_pid, 0);
		CHECK_INT(p[0].start_time, 40);
	}
	t = session__threads(g, &nt);
	CHECK_INT(nt, 3);
	if (nt == 3) {
		CHECK(!strcmp(t[0].name, "MainThread") && t[0].nmembers == 3 && t[0].tid == 100);
		CHECK(!strcmp(t[1].name, "worker") && t[1].nmembers <= 1);
		CHECK(!strcmp(t[2].name, "") && t[2].tid == 111);
		CHECK_INT(total_of(g, 0, 0), (30 + 20 + 5 + 7) * W);
	}
	CHECK_INT(total_of(g, 0, -1), 76 * W);
}

static void test_none(void)
{
	group_workers(GROUP_BY_NONE, check_none);
}

/* Container ids first, then cgroups; a process with neither stays alone. */
static void test_container(void)
{
	static const struct {
		uint32_t pid;
		const char *cgroup, *container;
	} procs[] = {
		{ 1, "/kubepods/pod1/aaa", "aaaaaaaaaaaa" },
		{ 2, "/system.slice/web.service", "" },
		{ 3, "/kubepods/pod1/aaa2", "aaaaaaaaaaaa" }, /* the same container */
		{ 4, "", "" },				      /* nothing known: alone */
		{ 5, "/system.slice/web.service", "" },	      /* the same cgroup */
		{ 6, "/kubepods/pod2/bbb", "bbbbbbbbbbbb" },
		{ 7, "", "" },
		/* a container id equal to a cgroup path is still another key */
		{ 8, "/x", "/system.slice/web.service" },
	};
	static const uint32_t want[][3] = { { 1, 3 }, { 2, 5 }, { 4 }, { 6 }, { 7 }, { 8 } };
	struct session *s = session__new(), *g;
	const struct session_process *p;
	size_t n = 0, i, k;

	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		session__add_process(s,
				     &(struct session_process){ .pid = procs[i].pid,
								.comm = "python3",
								.cmdline = "python3 app.py",
								.cgroup = procs[i].cgroup,
								.container = procs[i].container });
		session__add_thread(s, i, procs[i].pid, "MainThread");
	}
	g = session_group(s, GROUP_BY_CONTAINER);
	CHECK(g != NULL);
	p = g ? session__processes(g, &n) : NULL;
	CHECK_INT(n, 6);
	for (i = 0; i < n && i < 6; i++) {
		size_t want_n = want[i][1] ? 2 : 1;

		CHECK_INT(p[i].pid, want[i][0]);
		if (want_n == 1) {
			CHECK(p[i].nmembers <= 1);
			continue;
		}
		CHECK_INT(p[i].nmembers, want_n);
		for (k = 0; k < want_n && k < p[i].nmembers; k++)
			CHECK_INT(p[i].members[k], want[i][k]);
	}
	if (n == 6) {
		CHECK_STR(p[0].container, "aaaaaaaaaaaa");
		CHECK_STR(p[0].cgroup, "/kubepods/pod1/aaa + /kubepods/pod1/aaa2");
		CHECK_STR(p[1].container, "");
		CHECK_STR(p[1].cgroup, "/system.slice/web.service");
	}
	session__free(g);
	/* every process has the same command line: one group */
	g = session_group(s, GROUP_BY_CMDLINE);
	CHECK(g != NULL && session__processes(g, &n) && n == 1);
	session__free(g);
	session__free(s);
}

/* One process instance met twice (the same PID and start time) is one member, its thread one. */
static void test_same_process_twice(void)
{
	struct session *s = session__new(), *g;
	const struct session_process *p;
	const struct session_thread *t;
	struct session_process proc = {
		.pid = 100, .start_time = 50, .comm = "python3", .cmdline = "python3 w.py"
	};
	size_t n = 0;

	session__add_process(s, &proc);
	session__add_process(s, &proc);
	proc.pid = 101;
	session__add_process(s, &proc);
	session__add_thread(s, 0, 100, "MainThread");
	session__add_thread(s, 1, 100, "MainThread");
	session__add_thread(s, 2, 101, "MainThread");
	g = session_group(s, GROUP_BY_CMDLINE);
	p = g ? session__processes(g, &n) : NULL;
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(p[0].nmembers, 2);
		CHECK(p[0].members[0] == 100 && p[0].members[1] == 101);
		t = session__threads(g, &n);
		CHECK(n == 1 && t[0].nmembers == 2);
	}
	session__free(g);
	session__free(s);
}

/* --group-by process changes nothing: every report is the same, to the byte. */
static void test_process(void)
{
	const struct renderer *rs[] = { &render_text,	   &render_json,  &render_speedscope,
					&render_collapsed, &render_pprof, &render_html };
	struct session *s = workers(), *g = session_group(s, GROUP_BY_PROCESS);
	char *a = NULL, *b = NULL;
	size_t la = 0, lb = 0, i;
	FILE *f;
	int err;

	CHECK(g != NULL);
	if (!g) {
		session__free(s);
		return;
	}
	for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		a = render_n(rs[i], s, NULL, &err, &la);
		CHECK_INT(err, 0);
		b = render_n(rs[i], g, NULL, &err, &lb);
		CHECK_INT(err, 0);
		CHECK(la == lb && !memcmp(a, b, la));
		free(a);
		free(b);
	}
	f = open_memstream(&a, &la);
	CHECK_INT(session_file_write_flags(s, f, SESSION_FILE_UNCOMPRESSED), 0);
	fclose(f);
	f = open_memstream(&b, &lb);
	CHECK_INT(session_file_write_flags(g, f, SESSION_FILE_UNCOMPRESSED), 0);
	fclose(f);
	CHECK(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
	session__free(g);
	session__free(s);
}

/* A grouped session groups again to the same groups, its members not nested. */
static void test_regroup(void)
{
	struct session *s = workers(), *g = session_group(s, GROUP_BY_CMDLINE), *gg = NULL;
	const struct session_process *p;
	const struct session_thread *t;
	size_t n = 0;

	CHECK(g != NULL);
	gg = g ? session_group(g, GROUP_BY_NONE) : NULL;
	CHECK(gg != NULL);
	p = gg ? session__processes(gg, &n) : NULL;
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(p[0].nmembers, 3);
		CHECK(p[0].members[0] == 100 && p[0].members[1] == 101 && p[0].members[2] == 200);
		t = session__threads(gg, &n);
		CHECK(n == 3 && t[0].nmembers == 3);
	}
	session__free(gg);
	session__free(g);
	session__free(s);
}

static void test_bad_input(void)
{
	struct session *s = session__new(), *g;
	size_t n = 9;

	errno = 0;
	CHECK(session_group(NULL, GROUP_BY_NONE) == NULL);
	CHECK_INT(errno, EINVAL);
	/* an empty session groups into an empty one */
	g = session_group(s, GROUP_BY_NONE);
	CHECK(g != NULL);
	if (g) {
		session__processes(g, &n);
		CHECK_INT(n, 0);
	}
	session__free(g);
	session__free(s);
}

/* --- how the reports show a group ------------------------------------------------------- */

/*
 * Eight workers with a hostile comm, command line and thread name, each 10 samples, and two
 * idle processes of another command line.
 */
static struct session *hostile_pool(void)
{
	static const int handle[] = { F_APP, F_HANDLE };
	struct session *s = session__new();
	uint64_t t = 0;
	uint32_t i;

	fixture_meta(s, 1700000000000000000ULL, "gunicorn \x1b[2J");
	for (i = 0; i < NF; i++)
		session__intern_frame(s, &frames[i]);
	for (i = 0; i < 8; i++) {
		session__add_process(s,
				     &(struct session_process){ .pid = 1000 + i,
								.comm = "\x1b[31mevil",
								.cmdline = "run\n\xe2\x80\xaepool",
								.python_version = "3.12.1" });
		add_n(s, session__add_thread(s, i, 1000 + i, "\x1b]0;t\x07"),
		      stack_of(s, handle, 2), 10, W, &t);
	}
	for (i = 0; i < 2; i++) {
		session__add_process(s, &(struct session_process){ .pid = 2000 + i,
								   .comm = "idle",
								   .cmdline = "idle.py" });
		session__add_thread(s, 8 + i, 2000 + i, "MainThread");
	}
	return s;
}

static void test_text(void)
{
	struct session *s = hostile_pool(), *g = session_group(s, GROUP_BY_CMDLINE);
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	CHECK(g != NULL);
	o.group_by = GROUP_BY_CMDLINE;
	out = g ? render(&render_text, g, &o, &err) : NULL;
	CHECK(out != NULL);
	if (out) {
		CHECK_INT(err, 0);
		CHECK(strstr(out, "  Grouped:  by cmdline, 10 processes in 2 groups\n") != NULL);
		CHECK(strstr(out, "8 processes (1000, 1001, 1002, 1003, 1004, 1005, …) "
				  "\\x1b[31mevil — run\\x0a\\u202epool — Python 3.12.1\n") != NULL);
		CHECK(strstr(out, "  Samples: 80   CPU time: 0.080 s") != NULL);
		CHECK(strstr(out, "No samples from: 2 processes (2000, 2001) idle\n") != NULL);
		/* one sampled thread: no thread row, but the speedscope name says it (below) */
		CHECK(strstr(out, "Thread") == NULL);
		CHECK(strchr(out, '\x1b') == NULL && strchr(out, '\x07') == NULL);
		CHECK(strstr(out, "\xe2\x80\xae") == NULL);
		CHECK(valid_utf8(out));
	}
	free(out);

	o.unicode = false;
	out = g ? render(&render_flat, g, &o, &err) : NULL;
	CHECK(out != NULL);
	if (out) {
		CHECK(strstr(out, "8 processes (1000, 1001, 1002, 1003, 1004, 1005, ...) "
				  "\\x1b[31mevil - run\\x0a\\u202epool - Python 3.12.1\n") != NULL);
		CHECK(strstr(out, "No samples from: 2 processes (2000, 2001) idle\n") != NULL);
		CHECK(strstr(out, "  Grouped:  by cmdline") != NULL);
		CHECK(strchr(out, '\x1b') == NULL);
	}
	free(out);

	/* without --group-by the header has no Grouped line */
	out = render(&render_text, s, NULL, &err);
	CHECK(out && !strstr(out, "Grouped") && strstr(out, "Process 1000 \\x1b[31mevil"));
	free(out);
	session__free(g);
	session__free(s);
}

/* Several sampled threads: a merged thread's row counts the threads it stands for. */
static void test_text_threads(void)
{
	struct session *s = workers(), *g = session_group(s, GROUP_BY_CMDLINE);
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	o.group_by = GROUP_BY_CMDLINE;
	out = g ? render(&render_text, g, &o, &err) : NULL;
	CHECK(out != NULL);
	if (out) {
		CHECK(strstr(out,
			     "2 processes (100, 101) gunicorn — cgroup /system.slice/app.service "
			     "— gunicorn app:wsgi — Python 3.12.1 + 3.12.2\n") != NULL);
		CHECK(strstr(out, "2 threads MainThread") != NULL);
		CHECK(strstr(out, "Thread 110 worker") != NULL);
		CHECK(strstr(out, "Thread 111") != NULL);
		/* the cron job alone keeps its line, namespace PID included */
		CHECK(strstr(out, "Process 200 (9 in its namespace) python3 — ") != NULL);
	}
	free(out);
	session__free(g);
	session__free(s);
}

static void test_speedscope(void)
{
	struct session *s = hostile_pool(), *g = session_group(s, GROUP_BY_CMDLINE);
	struct render_opts o = render_opts_default;
	const cJSON *profiles, *procs, *members;
	cJSON *doc = NULL;
	char *out;
	int err;

	o.group_by = GROUP_BY_CMDLINE;
	out = g ? render(&render_speedscope, g, &o, &err) : NULL;
	CHECK(out != NULL);
	doc = out ? cJSON_Parse(out) : NULL;
	CHECK(doc != NULL);
	if (doc) {
		profiles = item(doc, "profiles");
		CHECK_INT(cJSON_GetArraySize(profiles), 1);
		CHECK_STR(str(cJSON_GetArrayItem(profiles, 0), "name"),
			  "8 processes (1000, 1001, 1002, 1003, 1004, 1005, …) \x1b[31mevil / "
			  "8 threads \x1b]0;t\x07");
		CHECK_STR(str(item(doc, "pyflare"), "group_by"), "cmdline");
		procs = item(item(doc, "pyflare"), "processes");
		CHECK_INT(cJSON_GetArraySize(procs), 2);
		members = item(cJSON_GetArrayItem(procs, 0), "members");
		CHECK_INT(cJSON_GetArraySize(members), 8);
		CHECK_INT(cJSON_GetArrayItem(members, 7)->valueint, 1007);
		members = item(cJSON_GetArrayItem(procs, 1), "members");
		CHECK_INT(cJSON_GetArraySize(members), 2);
	}
	cJSON_Delete(doc);
	free(out);
	session__free(g);
	session__free(s);
}

static void test_collapsed(void)
{
	struct session *s = workers(), *g = session_group(s, GROUP_BY_CMDLINE);
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	o.collapsed_roots = COLLAPSED_ROOT_PROCESS | COLLAPSED_ROOT_THREAD;
	out = g ? render(&render_collapsed, g, &o, &err) : NULL;
	CHECK(out != NULL);
	if (out) {
		CHECK(strstr(out,
			     "processes 100, 101 (gunicorn);threads 100+1 (MainThread);"
			     "<module> (/srv/app.py:1);handle (/srv/app.py:5) 50050\n") != NULL);
		CHECK(strstr(out, "processes 100, 101 (gunicorn);thread 110 (worker);") != NULL);
		CHECK(strstr(out, "process 200 (python3);thread 200 (MainThread);") != NULL);
	}
	free(out);
	session__free(g);
	session__free(s);
	/* hostile names stay escaped in the roots */
	s = hostile_pool();
	g = session_group(s, GROUP_BY_NONE);
	out = g ? render(&render_collapsed, g, &o, &err) : NULL;
	CHECK(out != NULL);
	if (out) {
		CHECK(strstr(out, "processes 1000, 1001, 1002, 1003, 1004, 1005, ... "
				  "(\\x1b[31mevil + idle);threads 1000+7 (\\x1b]0\\x3bt\\x07);") !=
		      NULL);
		CHECK(strchr(out, '\x1b') == NULL);
	}
	free(out);
	session__free(g);
	session__free(s);
}

int main(void)
{
	RUN(test_names);
	RUN(test_cmdline);
	RUN(test_none);
	RUN(test_container);
	RUN(test_same_process_twice);
	RUN(test_process);
	RUN(test_regroup);
	RUN(test_bad_input);
	RUN(test_text);
	RUN(test_text_threads);
	RUN(test_speedscope);
	RUN(test_collapsed);
	return test_summary();
}
