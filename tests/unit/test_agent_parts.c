/* SPDX-License-Identifier: MIT */
/*
 * test_agent_parts.c — the agent's pieces without BPF: session windows (what a slice, a
 * snapshot and report --since keep), carrying a session's entries into another, the slicer's health parts, slice file names,
 * retention, the flight recorder's bound, durations, sizes and points in time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_health.h"
#include "agent/flight_recorder.h"
#include "agent/metrics_server.h"
#include "agent/quantities.h"
#include "agent/retention.h"
#include "agent/slice_files.h"
#include "agent/slicer.h"
#include "session/session_carry.h"
#include "session/session_file.h"
#include "session/session_window.h"
#include "test.h"

#define S 1000000000ULL

/*
 * Two processes, one thread each, three stacks; a sample every second from 0 to 9 s, each
 * 10 ms, alternately on the two threads; process 1 only samples in the first 5 s.
 */
static struct session *make_live(void)
{
	struct session *s = session__new();
	struct session_process p = { .pid = 100, .comm = "a", .cmdline = "python a.py" };
	struct session_meta m = { .start_realtime_ns = 1000 * S,
				  .duration_ns = 10 * S,
				  .rate_hz = 99,
				  .ncpus = 2,
				  .mode = "cpu",
				  .target = "-a" };
	struct session_frame f = { "main", "a.py", 1, 2, FRAME_PYTHON };
	int64_t fa, fb, s1, s2, s3;

	session__add_process(s, &p);
	p.pid = 200;
	p.comm = "b";
	session__add_process(s, &p);
	session__add_thread(s, 0, 100, "MainThread");
	session__add_thread(s, 1, 200, "MainThread");
	fa = session__intern_frame(s, &f);
	f.name = "leaf";
	fb = session__intern_frame(s, &f);
	f.name = "unused";
	session__intern_frame(s, &f);
	s1 = session__intern_stack(s, 0, (uint32_t)fa);
	s2 = session__intern_stack(s, (uint32_t)s1, (uint32_t)fb);
	s3 = session__intern_stack(s, 0, (uint32_t)fb);
	(void)s3; /* a node no sample uses */
	for (uint64_t t = 0; t < 10; t++) {
		struct session_sample smp = { .time_ns = t * S,
					      .weight_ns = 10000000,
					      .thread = t < 5 ? (uint32_t)(t % 2) : 1,
					      .stack = (uint32_t)(t % 2 ? s2 : s1) };

		session__add_sample(s, &smp);
	}
	session__add_refusal(s, 300, "c", "unsupported");
	session__set_meta(s, &m);
	session__set_health(
		s, &(struct session_health){
			   .samples = 12, .lost = 1, .no_python_frame = 3, .attached = 2 });
	return s;
}

static void test_window_keeps_only_what_it_uses(void)
{
	struct session *live = make_live(), *w;
	size_t n;
	struct session_sample *smp;

	/* 6 s to 8 s: process 2 only, times from the window's start */
	w = session_window(live, &(struct session_window){
					 .from_ns = 6 * S, .to_ns = 8 * S, .first_refusal = 1 });
	CHECK(w != NULL);
	smp = session__samples_copy(w, &n);
	CHECK(smp != NULL);
	CHECK_INT(n, 2);
	CHECK_INT(smp[0].time_ns, 0);
	CHECK_INT(smp[1].time_ns, 1 * S);
	free(smp);
	CHECK_INT(session__processes(w, &n)[0].pid, 200);
	CHECK_INT(n, 1);
	session__threads(w, &n);
	CHECK_INT(n, 1);
	session__frames(w, &n);
	CHECK_INT(n, 2); /* main and leaf; "unused" is not copied */
	session__stacks(w, &n);
	CHECK_INT(n, 3); /* the root, main, main>leaf */
	session__refusals(w, &n);
	CHECK_INT(n, 0);
	CHECK_INT(session__meta(w)->start_realtime_ns, 1006 * S);
	CHECK_INT(session__meta(w)->duration_ns, 2 * S);
	CHECK_STR(session__meta(w)->mode, "cpu");
	session__free(w);

	/* past the end: cut at the session's end */
	w = session_window(live, &(struct session_window){ .from_ns = 9 * S, .to_ns = 20 * S });
	CHECK_INT(session__meta(w)->duration_ns, 1 * S);
	session__refusals(w, &n);
	CHECK_INT(n, 1);
	session__free(w);

	/* take_earlier: what came before the start counts at it */
	w = session_window(live, &(struct session_window){
					 .from_ns = 8 * S, .to_ns = 9 * S, .take_earlier = true });
	smp = session__samples_copy(w, &n);
	CHECK(smp != NULL);
	CHECK_INT(n, 9);
	CHECK_INT(smp[0].time_ns, 0);
	free(smp);
	session__free(w);

	errno = 0;
	CHECK(session_window(live, &(struct session_window){ .from_ns = 2, .to_ns = 1 }) == NULL);
	CHECK_INT(errno, EINVAL);
	session__free(live);
}

/* What the agent's collector does at a cut (record/rebase.c), on the same parts. */
static void test_carry_on_demand(void)
{
	struct session *live = make_live(), *to = session__new(), *keep = live;
	struct session_carry *c = session_carry_new(live, to);
	const struct session_stack *st;
	const struct session_frame *fr;
	size_t n;

	CHECK(c != NULL);
	/* thread 1 brings its process, which becomes the first */
	CHECK_INT(session_carry_thread(c, 1), 0);
	CHECK_INT(session__processes(to, &n)[0].pid, 200);
	CHECK_INT(n, 1);
	CHECK_INT(session_carry_process(c, 1), 0); /* carried once */
	CHECK_INT(session_carry_process(c, 0), 1);
	/* node 2 (main>leaf) brings its caller and both frames; "unused" stays behind */
	CHECK_INT(session_carry_stack(c, 2), 2);
	CHECK_INT(session_carry_stack(c, 1), 1);
	st = session__stacks(to, &n);
	CHECK_INT(n, 3);
	CHECK_INT(st[2].parent, 1);
	CHECK_INT(st[2].depth, 2);
	fr = session__frames(to, &n);
	CHECK_INT(n, 2);
	CHECK_STR(fr[st[2].frame].name, "leaf");
	CHECK_INT(session_carry_frame(c, 2), 2); /* asked for: now it is there */
	errno = 0;
	CHECK_INT(session_carry_thread(c, 2), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(session_carry_stack(c, 99), -1);
	session_carry_free(c);

	/* the live session takes the smaller one's content and keeps its address */
	session__replace(live, to);
	CHECK(live == keep);
	session__processes(live, &n);
	CHECK_INT(n, 2);
	CHECK_INT(session__processes(live, &n)[0].pid, 200);
	CHECK_INT(session__nsamples(live), 0);
	session__free(live);
}

static void test_window_round_trips_through_a_file(void)
{
	struct session *live = make_live(), *w, *back;
	char err[128], path[] = "/tmp/pyflare-test-window-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	size_t n;

	w = session_window(live, &(struct session_window){ .from_ns = 0, .to_ns = 5 * S });
	CHECK_INT(session_file_write(w, f), 0);
	fclose(f);
	back = session_file_read(path, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		n = session__nsamples(back);
		CHECK_INT(n, 5);
		session__processes(back, &n);
		CHECK_INT(n, 2);
	}
	unlink(path);
	session__free(back);
	session__free(w);
	session__free(live);
}

static void test_slicer_cuts_and_lets_go(void)
{
	struct session *live = make_live(), *a, *b;
	struct slicer sl = { 0 };
	struct slicer_now now = { .elapsed_ns = 10 * S, .realtime_ns = 2000 * S };
	size_t n;

	a = slicer_cut(&sl, live, 5 * S, &now);
	CHECK(a != NULL);
	n = session__nsamples(a);
	CHECK_INT(n, 5);
	n = session__nsamples(live);
	CHECK_INT(n, 5); /* the cut samples left the live session */
	/* stamped by the wall clock now, less the time since the slice began */
	CHECK_INT(session__meta(a)->start_realtime_ns, 1990 * S);
	CHECK_INT(session__meta(a)->duration_ns, 5 * S);
	CHECK_INT(session__health(a)->samples, 12);
	CHECK_INT(session__health(a)->lost, 1);
	CHECK_INT(session__health(a)->no_python_frame, 3);
	CHECK_INT(session__health(a)->attached, 2);
	CHECK_INT(session__health(a)->refused, 1);

	/* the counters go on: the next slice has what came since */
	session__set_health(
		live, &(struct session_health){ .samples = 20, .lost = 1, .no_python_frame = 5 });
	b = slicer_cut(&sl, live, 9 * S, &now);
	CHECK_INT(session__health(b)->samples, 8);
	CHECK_INT(session__health(b)->lost, 0);
	CHECK_INT(session__health(b)->no_python_frame, 2);
	CHECK_INT(session__health(b)->refused, 0);
	CHECK_INT(session__health(b)->attached, 1);
	CHECK_INT(session__meta(b)->start_realtime_ns, 1995 * S);
	n = session__nsamples(b);
	CHECK_INT(n, 4);
	session__free(a);
	session__free(b);
	session__free(live);
}

static void test_slice_names(void)
{
	char name[96];
	struct slice_file f;

	CHECK_INT(slice_file_name(name, sizeof(name), SLICE_KIND, 1796583049227228398ULL,
				  60 * S + 5000000),
		  0);
	CHECK_STR(name, "slice-20261206T185049.227Z-60.005s.pyflare");
	CHECK(slice_file_parse(name, &f));
	CHECK(!f.snapshot);
	CHECK_INT(f.start_ns, 1796583049227000000ULL);
	CHECK_INT(f.duration_ns, 60 * S + 5000000);
	CHECK(slice_file_parse("snapshot-20261206T185049.227Z-300.000s.pyflare", &f));
	CHECK(f.snapshot);
	CHECK(!slice_file_parse("slice-20261206T185049.227Z-60.005s.pyflare.tmp.abc123", &f));
	CHECK(!slice_file_parse("slice-20261206T185049.227Z-60.005s.pyflarex", &f));
	CHECK(!slice_file_parse("slice-2026120T185049.227Z-60.005s.pyflare", &f));
	CHECK(!slice_file_parse("run.pyflare", &f));
	CHECK(!slice_file_parse("agent.sock", &f));
	CHECK_INT(slice_file_name(name, 10, SLICE_KIND, 0, 0), -ENAMETOOLONG);
}

static void touch(const char *dir, const char *name, size_t bytes)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	for (size_t i = 0; i < bytes; i++)
		fputc('x', f);
	fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_retention_oldest_first(void)
{
	char dir[] = "/tmp/pyflare-test-retention-XXXXXX";
	struct retention_stats st;
	/* 2026-12-06 18:50:49 UTC and one, two, three minutes later; 100 bytes each */
	const char *names[] = {
		"slice-20261206T185049.000Z-60.000s.pyflare",
		"snapshot-20261206T185149.000Z-60.000s.pyflare",
		"slice-20261206T185249.000Z-60.000s.pyflare",
		"slice-20261206T185349.000Z-60.000s.pyflare",
	};
	uint64_t now = 1796583049ULL * S + 300 * S; /* 5 minutes after the first */

	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < 4; i++)
		touch(dir, names[i], 100);
	touch(dir, "notes.txt", 100000);
	touch(dir, "slice-20261206T185049.000Z-60.000s.pyflare.tmp.AbC123", 10);

	/* no limits: nothing goes */
	CHECK_INT(retention_apply(dir, 0, 0, now, &st), 0);
	CHECK_INT(st.removed_files, 0);
	CHECK_INT(st.kept_files, 4);
	CHECK_INT(st.kept_bytes, 400);
	/* ended more than 3 minutes ago: the first (ended at +1 min) and the snapshot (+2) */
	CHECK_INT(retention_apply(dir, 150 * S, 0, now, &st), 0);
	CHECK_INT(st.removed_files, 2);
	CHECK(!exists(dir, names[0]) && !exists(dir, names[1]) && exists(dir, names[2]));
	/* at most 150 bytes: the older of the two left goes */
	CHECK_INT(retention_apply(dir, 0, 150, now, &st), 0);
	CHECK_INT(st.removed_files, 1);
	CHECK_INT(st.removed_bytes, 100);
	CHECK(!exists(dir, names[2]) && exists(dir, names[3]));
	CHECK(exists(dir, "notes.txt"));
	CHECK_INT(slice_files_remove_temporary(dir), 1);
	CHECK(!exists(dir, "slice-20261206T185049.000Z-60.000s.pyflare.tmp.AbC123"));
	CHECK_INT(retention_apply("/nonexistent/pyflare", 1, 1, now, &st), -ENOENT);

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_INT(system(cmd), 0);
	}
}

static void test_flight_recorder_is_bounded(void)
{
	struct flight_recorder fr = { .window_ns = 30 * S };
	struct session *snap;
	size_t n;

	/* a slice every 10 s for 10 minutes: never more than the window's worth kept */
	for (uint64_t end = 10; end <= 600; end += 10) {
		struct session *live = make_live();
		struct session *sl = session_window(
			live, &(struct session_window){ .from_ns = 0, .to_ns = 10 * S });
		struct session_meta m = *session__meta(sl);

		m.start_realtime_ns = (end - 10) * S; /* one after the other */
		session__set_meta(sl, &m);
		session__free(live);
		flight_recorder_add(&fr, sl, end * S);
		CHECK(fr.n <= 4);
	}
	CHECK_INT(fr.n, 4); /* ends at 570 to 600: within 30 s of the last */
	snap = flight_recorder_snapshot(&fr, NULL, 600 * S, 1000 * S);
	CHECK(snap != NULL);
	if (snap) {
		CHECK(session__meta(snap)->duration_ns <= 30 * S);
		n = session__nsamples(snap);
		CHECK(n > 0 && n <= 30);
		session__free(snap);
	}
	/* the wall clock set back: the newest slice starts before the others */
	{
		struct session *live = make_live();
		struct session *sl = session_window(
			live, &(struct session_window){ .from_ns = 0, .to_ns = 10 * S });
		struct session_meta m = *session__meta(sl);

		m.start_realtime_ns = 100 * S;
		session__set_meta(sl, &m);
		session__free(live);
		flight_recorder_add(&fr, sl, 610 * S);
		snap = flight_recorder_snapshot(&fr, NULL, 610 * S, 30 * S);
		CHECK(snap != NULL);
		session__free(snap);
	}
	flight_recorder_free(&fr);
	fr.window_ns = 0;
	flight_recorder_add(&fr, session__new(), 1);
	CHECK_INT(fr.n, 0);
}

static void test_quantities(void)
{
	uint64_t v, now = 1796583049ULL * S;
	time_t t;
	struct tm tm;

	CHECK(parse_duration_ns("90", &v) && v == 90 * S);
	CHECK(parse_duration_ns("10m", &v) && v == 600 * S);
	CHECK(parse_duration_ns("1.5h", &v) && v == 5400 * S);
	CHECK(parse_duration_ns("7d", &v) && v == 7 * 86400 * S);
	CHECK(parse_duration_ns("0", &v) && v == 0);
	CHECK(!parse_duration_ns("-1h", &v));
	CHECK(!parse_duration_ns("1w", &v));
	CHECK(!parse_duration_ns("", &v));
	CHECK(!parse_duration_ns("1e30d", &v));
	CHECK(parse_size_bytes("1G", &v) && v == 1ULL << 30);
	CHECK(parse_size_bytes("500M", &v) && v == 500ULL << 20);
	CHECK(parse_size_bytes("64KiB", &v) && v == 64ULL << 10);
	CHECK(parse_size_bytes("12345", &v) && v == 12345);
	CHECK(!parse_size_bytes("1Q", &v));
	CHECK(!parse_size_bytes("lots", &v));

	CHECK(parse_time_point("now", now, &v) && v == now);
	CHECK(parse_time_point("10m", now, &v) && v == now - 600 * S);
	CHECK(parse_time_point("@1700000000", now, &v) && v == 1700000000ULL * S);
	CHECK(parse_time_point("2026-12-06 18:00Z", now, &v) && v == (1796583049ULL - 3049) * S);
	CHECK(parse_time_point("2026-12-06T18:00:30Z", now, &v) && v == (1796583049ULL - 3019) * S);
	/* a time of day: today's, local time, and never after now */
	CHECK(parse_time_point("00:00", now, &v));
	t = (time_t)(v / S);
	localtime_r(&t, &tm);
	CHECK_INT(tm.tm_hour, 0);
	CHECK_INT(tm.tm_min, 0);
	CHECK_INT(tm.tm_sec, 0);
	CHECK(v <= now && now - v < 86400 * S);
	CHECK(parse_time_point("23:59:59", now, &v) && v <= now && now - v < 86400 * S);
	CHECK(!parse_time_point("25:00", now, &v));
	CHECK(!parse_time_point("yesterday", now, &v));
	CHECK(!parse_time_point("2026-12-06", now, &v));
	CHECK(!parse_time_point("2026-12-06 18:00 UTC", now, &v));
	CHECK(!parse_time_point("100000d", now, &v));
}

/* --metrics ADDR: the forms it takes, 127.0.0.1 by default, and those it refuses. */
static void test_metrics_address(void)
{
	struct metrics_address a;
	struct sockaddr_in *in = (struct sockaddr_in *)&a.sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.sa;
	char err[512], text[INET6_ADDRSTRLEN];
	static const char *const bad[] = { "",	    ":",     "x",     "65536",	     "9733:",
					   "1:2:3", "[::1]", "[]:80", "[::1]80",     "-1",
					   "+80",   "0x50",  "80 ",   "[1.2.3.4]:80" };

	CHECK_INT(metrics_address_parse("9733", &a, err, sizeof(err)), 0);
	CHECK_INT(in->sin_family, AF_INET);
	CHECK_INT(ntohs(in->sin_port), 9733);
	CHECK_STR(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)), "127.0.0.1");
	CHECK_INT(metrics_address_parse(":80", &a, err, sizeof(err)), 0);
	CHECK_STR(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)), "127.0.0.1");
	CHECK_INT(ntohs(in->sin_port), 80);
	CHECK_INT(metrics_address_parse("0.0.0.0:0", &a, err, sizeof(err)), 0);
	CHECK_STR(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)), "0.0.0.0");
	CHECK_INT(metrics_address_parse("[::]:9733", &a, err, sizeof(err)), 0);
	CHECK_INT(in6->sin6_family, AF_INET6);
	CHECK_INT(ntohs(in6->sin6_port), 9733);
	CHECK_STR(inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)), "::");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_INT(metrics_address_parse(bad[i], &a, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "bad --metrics") != NULL && strstr(err, "[IPv6]:PORT") != NULL);
	}
	/* a terminal's escape in the address is not sent to it */
	metrics_address_parse("\033[2J", &a, err, sizeof(err));
	CHECK(strchr(err, '\033') == NULL);
}

/* The health as Prometheus text: a # HELP and # TYPE per family, label values escaped. */
static void test_health_metrics(void)
{
	struct agent_health h = { .mode = "cpu",
				  .clock = "ti\"ck\\\n",
				  .samples_taken = 7,
				  .cpu_ns = 1500000000,
				  .last_slice_realtime_ns = 1765000000123456789,
				  .events_lost = 3,
				  .metrics_url = "" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	agent_health_prometheus(&h, f);
	fclose(f);
	CHECK(strstr(text, "# HELP pyflare_samples_taken_total ") != NULL);
	CHECK(strstr(text,
		     "# TYPE pyflare_samples_taken_total counter\npyflare_samples_taken_total 7\n") !=
	      NULL);
	CHECK(strstr(text, "\npyflare_cpu_seconds_total 1.5\n") != NULL);
	CHECK(strstr(text, "\npyflare_last_slice_written_timestamp_seconds 1765000000.123456\n") !=
	      NULL);
	CHECK(strstr(text, "pyflare_ring_buffer_drops_total{record=\"process_event\"} 3\n") !=
	      NULL);
	CHECK(strstr(text, "clock=\"ti\\\"ck\\\\\\n\"") != NULL);
	/* every sample line follows its family's # TYPE */
	for (char *line = text; *line; line = strchr(line, '\n') + 1) {
		if (line[0] != '#') {
			size_t name = strcspn(line, "{ ");
			char want[160];

			snprintf(want, sizeof(want), "# TYPE %.*s ", (int)name, line);
			CHECK(strstr(text, want) != NULL && strstr(text, want) < line);
		}
	}
	free(text);
}

int main(void)
{
	RUN(test_window_keeps_only_what_it_uses);
	RUN(test_carry_on_demand);
	RUN(test_window_round_trips_through_a_file);
	RUN(test_slicer_cuts_and_lets_go);
	RUN(test_slice_names);
	RUN(test_retention_oldest_first);
	RUN(test_flight_recorder_is_bounded);
	RUN(test_quantities);
	RUN(test_metrics_address);
	RUN(test_health_metrics);
	return test_summary();
}
