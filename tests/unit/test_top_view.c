/* SPDX-License-Identifier: MIT */
/*
 * test_top_view.c — pyflare top's screen from a tally: rows, shares, sorting, filtering, one
 * process, waits, sizes from 1x1 to 250 columns, hostile names; and the tally itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "top/screen_text.h"
#include "test.h"
#include "top/top_tally.h"
#include "top/top_view.h"

#define MS 1000000ULL

enum { F_MAIN, F_HOT, F_HOT_LINE2, F_COLD, F_SLEEP, F_JSON, F_EVIL, F_LONG, NF };

struct fixture {
	struct session *s;
	struct top_tally t;
	uint32_t main_4242, worker_4242, main_4243, main_5000;
	uint32_t frame[NF];
};

static char long_name[160];

static uint32_t stack(struct session *s, int n, ...)
{
	uint32_t node = 0;
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		node = (uint32_t)session__intern_stack(s, node, va_arg(ap, uint32_t));
	va_end(ap);
	return node;
}

/*
 * Process 4242 python3 (two threads), 4243 python3 running the same code, and 5000 with a
 * hostile name. In 1.3 s shown: hot 0.7 s own (0.6 s in 4242, 0.1 s in 4243, half of it on
 * its line 22 in 4242), cold 0.2 s, main 0.05 s, a worker asleep 0.3 s, the hostile process
 * 0.05 s, and a long-named function 0.001 s.
 */
static void fixture(struct fixture *x)
{
	struct session *s = session__new();
	const struct session_frame frames[NF] = {
		[F_MAIN] = { "main", "/srv/app.py", 10, 12, FRAME_PYTHON },
		[F_HOT] = { "hot", "/srv/app.py", 20, 21, FRAME_PYTHON },
		[F_HOT_LINE2] = { "hot", "/srv/app.py", 20, 22, FRAME_PYTHON },
		[F_COLD] = { "cold", "/srv/app.py", 30, 31, FRAME_PYTHON },
		[F_SLEEP] = { "[sleep]", "", 0, 0, FRAME_WAIT },
		[F_JSON] = { "JSONDecoder.decode", "/usr/lib/python3.12/json/decoder.py", 332, 337,
			     FRAME_PYTHON },
		[F_EVIL] = { "\x1b[2J\xe2\x80\xae"
			     "evil\nname",
			     "/tmp/\x1b[31m.py", 1, 2, FRAME_PYTHON },
		[F_LONG] = { long_name, "/srv/app.py", 90, 91, FRAME_PYTHON },
	};
	uint32_t *f = x->frame;

	memset(long_name, 'x', sizeof(long_name) - 1);
	memcpy(long_name, "Handler.", 8);
	x->s = s;
	session__add_process(s, &(struct session_process){ .pid = 4242,
							   .comm = "python3",
							   .lib_dirs = "/usr/lib/python3.12" });
	session__add_process(s, &(struct session_process){ .pid = 4243,
							   .comm = "python3",
							   .lib_dirs = "/usr/lib/python3.12" });
	session__add_process(s, &(struct session_process){ .pid = 5000,
							   .comm = "\x1b]0;pwned\x07"
								   "evil" });
	x->main_4242 = (uint32_t)session__add_thread(s, 0, 4242, "MainThread");
	x->worker_4242 = (uint32_t)session__add_thread(s, 0, 4244, "worker");
	x->main_4243 = (uint32_t)session__add_thread(s, 1, 4243, "MainThread");
	x->main_5000 = (uint32_t)session__add_thread(s, 2, 5000, "");
	for (int i = 0; i < NF; i++)
		f[i] = (uint32_t)session__intern_frame(s, &frames[i]);

	top_tally_init(&x->t, 0);
	x->t.end_ns = 1000 * MS;
	x->t.received = 2000;
	x->t.lost = 3;
	x->t.self_cpu_ns = 12 * MS;
	top_tally_add(&x->t, x->main_4242, stack(s, 2, f[F_MAIN], f[F_HOT]), 300 * MS, 300);
	top_tally_add(&x->t, x->main_4242, stack(s, 2, f[F_MAIN], f[F_HOT_LINE2]), 300 * MS, 300);
	top_tally_add(&x->t, x->main_4242, stack(s, 2, f[F_MAIN], f[F_COLD]), 200 * MS, 200);
	top_tally_add(&x->t, x->main_4242, stack(s, 1, f[F_MAIN]), 50 * MS, 50);
	top_tally_add(&x->t, x->worker_4242, stack(s, 2, f[F_MAIN], f[F_SLEEP]), 300 * MS, 3);
	top_tally_add(&x->t, x->main_4243, stack(s, 2, f[F_MAIN], f[F_HOT]), 100 * MS, 100);
	top_tally_add(&x->t, x->main_5000, stack(s, 1, f[F_EVIL]), 49 * MS, 49);
	top_tally_add(&x->t, x->main_5000, stack(s, 1, f[F_LONG]), 1 * MS, 1);
}

static void release(struct fixture *x)
{
	top_tally_release(&x->t);
	session__free(x->s);
}

static const struct top_status status = {
	.wall = true,
	.clock = "12:03:04",
	.processes = 3,
	.ncpus = 2,
	.sample_clock = "tick",
	.rate_hz = 250,
};

static struct top_view_opts view(int width, int height)
{
	return (struct top_view_opts){ .width = width, .height = height, .max_rows = -1 };
}

/* Nothing a terminal would act on, and no line wider than @width (0: any) or uncounted. */
static void check_lines(const struct top_screen *sc, int width, int height)
{
	if (height)
		CHECK_INT(sc->n, height);
	for (size_t i = 0; i < sc->n; i++) {
		const char *t = sc->lines[i].text;

		CHECK_INT(screen_cells(t), sc->lines[i].cells);
		if (width && sc->lines[i].cells > width)
			fprintf(stderr, "  line %zu is %d cells: %s\n", i, sc->lines[i].cells, t);
		CHECK(!width || sc->lines[i].cells <= width);
		for (; *t; t++)
			CHECK((unsigned char)*t >= 0x20 && *t != 0x7f);
	}
}

static void dump(const struct top_screen *sc)
{
	if (getenv("TOP_VIEW_QUIET"))
		return;
	for (size_t i = 0; i < sc->n; i++)
		fprintf(stderr, "  |%s|\n", sc->lines[i].text);
}

/* The index of the first line holding @text, or -1. */
static int line_with(const struct top_screen *sc, const char *text)
{
	for (size_t i = 0; i < sc->n; i++)
		if (strstr(sc->lines[i].text, text))
			return (int)i;
	return -1;
}

/* The first row's line: the one after the titles. */
static const char *first_row(const struct top_screen *sc)
{
	for (size_t i = 0; i + 1 < sc->n; i++)
		if (sc->lines[i].style == TOP_LINE_TITLES)
			return sc->lines[i + 1].text;
	return "";
}

static struct top_screen build(struct fixture *x, const struct top_status *st,
			       const struct top_view_opts *o)
{
	struct top_screen sc;

	CHECK_INT(top_view_build(x->s, &x->t, st, o, &sc), 0);
	return sc;
}

static void test_default_80x24(void)
{
	struct fixture x;
	struct top_view_opts o = view(80, 24);
	struct top_screen sc;
	const char *row;

	fixture(&x);
	sc = build(&x, &status, &o);
	check_lines(&sc, 80, 24);
	/* hot first: 0.7 s of 1.3 s, in both python3 processes */
	row = first_row(&sc);
	CHECK(strstr(row, " 53.8 ") && strstr(row, "0.700") && strstr(row, "hot") &&
	      strstr(row, "app.py:20") && strstr(row, "2 processes"));
	CHECK(line_with(&sc, "OWN%") >= 0 && line_with(&sc, "TOTAL%") >= 0);
	CHECK(sc.lines[line_with(&sc, "FUNCTION")].style == TOP_LINE_TITLES);
	/* the header: mode figures, 4 threads sampled, shares of waiting */
	CHECK_INT(line_with(&sc, "pyflare top"), 0);
	CHECK(line_with(&sc, "last 1.0 s") >= 0);
	CHECK(line_with(&sc, "3 processes") >= 0);
	CHECK(line_with(&sc, "4 threads") >= 0);
	CHECK(line_with(&sc, "on CPU 77%, waiting 23%") >= 0);
	CHECK(line_with(&sc, "2000 samples/s") >= 0);
	CHECK(line_with(&sc, "250 Hz tick") >= 0);
	CHECK(line_with(&sc, "3 lost") >= 0);
	CHECK(line_with(&sc, "pyflare 1.2% CPU") >= 0);
	CHECK(line_with(&sc, "sort own") >= 0);
	/* [sleep] is a row of its own, its process named */
	CHECK(line_with(&sc, "[sleep]") >= 0 &&
	      strstr(sc.lines[line_with(&sc, "[sleep]")].text, "4242 python3"));
	/* library files shortened as the reports do */
	CHECK(line_with(&sc, "json/decoder.py:332") < 0); /* not sampled itself */
	CHECK_INT(sc.rows, 6);
	/* the key hint at the bottom */
	CHECK(strstr(sc.lines[23].text, "q quit") != NULL);
	if (test_failures_in_case || getenv("TOP_VIEW_SHOW"))
		dump(&sc);
	top_screen_release(&sc);
	release(&x);
}

static void test_small_40x10(void)
{
	struct fixture x;
	struct top_view_opts o = view(40, 10);
	struct top_screen sc;
	int titles;

	fixture(&x);
	sc = build(&x, &status, &o);
	check_lines(&sc, 40, 10);
	titles = line_with(&sc, "FUNCTION");
	CHECK(titles >= 1 && titles <= 2); /* the header keeps to two lines */
	CHECK(strstr(sc.lines[titles].text, "OWN%") && strstr(sc.lines[titles].text, "TOTAL%"));
	CHECK(strstr(first_row(&sc), "hot") != NULL);
	CHECK(strstr(first_row(&sc), "53.8") != NULL);
	/* the long name is cut with an ellipsis, not wrapped */
	CHECK(line_with(&sc, "Handler.xx") < 0 || line_with(&sc, "\xe2\x80\xa6") >= 0);
	if (test_failures_in_case || getenv("TOP_VIEW_SHOW"))
		dump(&sc);
	top_screen_release(&sc);
	release(&x);
}

static void test_wide_250(void)
{
	struct fixture x;
	struct top_view_opts o = view(250, 30);
	struct top_screen sc;
	int titles, evil;

	fixture(&x);
	sc = build(&x, &status, &o);
	check_lines(&sc, 250, 30);
	titles = line_with(&sc, "FUNCTION");
	CHECK(titles >= 0 && strstr(sc.lines[titles].text, "FILE:LINE") &&
	      strstr(sc.lines[titles].text, "PROCESS") && strstr(sc.lines[titles].text, "OWN s") &&
	      strstr(sc.lines[titles].text, "TOTAL s"));
	CHECK_INT(titles, 1); /* the whole header on one line */
	/* the long name is whole at this width */
	CHECK(line_with(&sc, long_name) >= 0);
	/* hostile names arrive escaped */
	evil = line_with(&sc, "evil\\x0aname");
	CHECK(evil >= 0);
	if (evil >= 0) {
		CHECK(strstr(sc.lines[evil].text, "\\x1b[2J\\u202eevil\\x0aname") != NULL);
		CHECK(strstr(sc.lines[evil].text, "/tmp/\\x1b[31m.py:1") != NULL);
		CHECK(strstr(sc.lines[evil].text, "5000 \\x1b]0;pwned\\x07evil") != NULL);
	}
	if (test_failures_in_case)
		dump(&sc);
	top_screen_release(&sc);
	release(&x);
}

/* Every size from 1x1 up: lines fit, never more than the height, nothing fails. */
static void test_every_size(void)
{
	struct fixture x;

	fixture(&x);
	for (int w = 1; w <= 90; w++) {
		for (int h = 1; h <= 14; h++) {
			struct top_view_opts o = view(w, h);
			struct top_screen sc;
			int failures = test_failures_in_case;

			o.help = (w + h) % 5 == 0;
			o.prompt = (w + h) % 7 == 0 ? "filter: some long text typed here" : NULL;
			CHECK_INT(top_view_build(x.s, &x.t, &status, &o, &sc), 0);
			check_lines(&sc, w, h);
			if (test_failures_in_case > failures) {
				fprintf(stderr, "  at %dx%d\n", w, h);
				dump(&sc);
			}
			top_screen_release(&sc);
		}
	}
	release(&x);
}

/* The order of the rows' functions, "hot cold main ..." */
static void row_names(const struct top_screen *sc, char *buf, size_t len)
{
	int titles = line_with(sc, "FUNCTION");

	buf[0] = '\0';
	for (size_t i = (size_t)titles + 1; titles >= 0 && i < sc->n; i++) {
		static const char *const names[] = { "JSONDecoder", "main", "hot",    "cold",
						     "[sleep]",	    "evil", "Handler" };

		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			if (strstr(sc->lines[i].text, names[k])) {
				strncat(buf, names[k], len - strlen(buf) - 2);
				strcat(buf, " ");
				break;
			}
		}
	}
}

static void test_sort(void)
{
	struct fixture x;
	struct top_view_opts o = view(120, 30);
	struct top_screen sc;
	char order[256];

	fixture(&x);
	o.sort = FLAT_SORT_SELF;
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "hot [sleep] cold main evil Handler ");
	top_screen_release(&sc);

	o.sort = FLAT_SORT_TOTAL;
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "main hot [sleep] cold evil Handler ");
	CHECK(line_with(&sc, "sort total") >= 0);
	top_screen_release(&sc);

	o.sort = FLAT_SORT_NAME;
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "Handler [sleep] evil cold hot main ");
	top_screen_release(&sc);

	/* by file, then line: [sleep] has none */
	o.sort = FLAT_SORT_FILE;
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "[sleep] main hot cold Handler evil ");
	top_screen_release(&sc);
	release(&x);
}

static void test_filter(void)
{
	struct fixture x;
	struct top_view_opts o = view(120, 30);
	struct top_screen sc;
	char order[256];

	fixture(&x);
	o.filter = "COLD";
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "cold ");
	CHECK_INT(sc.rows, 1);
	CHECK(line_with(&sc, "filter \"COLD\"") >= 0);
	/* shares stay those of all the time shown */
	CHECK(strstr(first_row(&sc), " 15.4 ") != NULL);
	top_screen_release(&sc);

	o.filter = "app.py:9"; /* file:line as shown */
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "Handler ");
	top_screen_release(&sc);

	o.filter = "nothing like it";
	sc = build(&x, &status, &o);
	CHECK_INT(sc.rows, 0);
	CHECK(line_with(&sc, "no function matches") >= 0);
	check_lines(&sc, 120, 30);
	top_screen_release(&sc);
	release(&x);
}

static void test_lines(void)
{
	struct fixture x;
	struct top_view_opts o = view(120, 30);
	struct top_screen sc;
	int l21, l22;

	fixture(&x);
	o.granularity = GRANULARITY_LINE;
	sc = build(&x, &status, &o);
	l21 = line_with(&sc, "app.py:21");
	l22 = line_with(&sc, "app.py:22");
	CHECK(l21 >= 0 && l22 >= 0);
	if (l21 >= 0 && l22 >= 0) {
		/* 0.4 s on line 21 in two processes, 0.3 s on 22 in one */
		const char *t21 = sc.lines[l21].text, *t22 = sc.lines[l22].text;

		CHECK(strstr(t21, "0.400") && strstr(t21, "2 processes"));
		CHECK(strstr(t22, "0.300") && strstr(t22, "4242 python3"));
		CHECK(l21 < l22);
	}
	CHECK(line_with(&sc, "per line") >= 0);
	top_screen_release(&sc);
	release(&x);
}

static void test_one_process(void)
{
	struct fixture x;
	struct top_view_opts o = view(120, 30);
	struct top_screen sc;
	char order[256];

	fixture(&x);
	o.pid = 4243;
	sc = build(&x, &status, &o);
	row_names(&sc, order, sizeof(order));
	CHECK_STR(order, "hot main ");
	/* one process: the header names it, no column does */
	CHECK(strstr(first_row(&sc), "100.0") && !strstr(first_row(&sc), "4243"));
	CHECK(line_with(&sc, "PROCESS") < 0);
	CHECK(line_with(&sc, "process 4243 python3") >= 0);
	CHECK(line_with(&sc, "1 thread ") >= 0);
	top_screen_release(&sc);

	o.pid = 5000; /* its name escaped in the header too */
	sc = build(&x, &status, &o);
	CHECK(line_with(&sc, "process 5000 \\x1b]0;pwned\\x07evil") >= 0);
	top_screen_release(&sc);

	o.pid = 9999;
	sc = build(&x, &status, &o);
	CHECK_INT(sc.rows, 0);
	CHECK(line_with(&sc, "no samples from this process") >= 0);
	top_screen_release(&sc);
	release(&x);
}

static void test_hide_waits(void)
{
	struct fixture x;
	struct top_view_opts o = view(120, 30);
	struct top_screen sc;

	fixture(&x);
	o.hide_waits = true;
	sc = build(&x, &status, &o);
	CHECK(line_with(&sc, "[sleep]") < 0);
	/* 0.7 s of the 1.0 s on CPU */
	CHECK(strstr(first_row(&sc), " 70.0 ") != NULL);
	CHECK(line_with(&sc, "waits hidden") >= 0);
	CHECK(line_with(&sc, "on CPU 1.00 of 2 CPUs") >= 0);
	CHECK(line_with(&sc, "3 threads") >= 0);
	top_screen_release(&sc);
	release(&x);
}

static void test_cpu_mode_header(void)
{
	struct fixture x;
	struct top_view_opts o = view(200, 30);
	struct top_status st = status;
	struct top_screen sc;

	fixture(&x);
	st.wall = false;
	st.whole_run = true;
	st.paused = true;
	sc = build(&x, &st, &o);
	CHECK(line_with(&sc, "on CPU 1.30 of 2 CPUs") >= 0);
	CHECK(line_with(&sc, "waiting") < 0);
	CHECK(line_with(&sc, "whole run 1.0 s") >= 0);
	CHECK(line_with(&sc, "PAUSED") >= 0);
	top_screen_release(&sc);
	release(&x);
}

/* Piped: no width, one header line, at most max_rows rows and a count of the rest. */
static void test_piped(void)
{
	struct fixture x;
	struct top_view_opts o = view(0, 0);
	struct top_screen sc;

	fixture(&x);
	o.max_rows = 2;
	sc = build(&x, &status, &o);
	check_lines(&sc, 0, 0);
	CHECK_INT(sc.n, 1 + 1 + 2 + 1);
	CHECK(strstr(sc.lines[0].text, "pyflare top") && strstr(sc.lines[0].text, "12:03:04"));
	CHECK(strstr(sc.lines[1].text, "PROCESS") != NULL);
	CHECK(strstr(sc.lines[2].text, "hot") != NULL);
	CHECK_STR(sc.lines[4].text, "(4 more functions)");
	top_screen_release(&sc);

	/* every row, the long name whole */
	o.max_rows = -1;
	sc = build(&x, &status, &o);
	CHECK_INT(sc.n, 2 + 6);
	CHECK(line_with(&sc, long_name) >= 0);
	top_screen_release(&sc);
	release(&x);
}

static void test_help_prompt_message(void)
{
	struct fixture x;
	struct top_view_opts o = view(60, 20);
	struct top_screen sc;

	fixture(&x);
	o.help = true;
	sc = build(&x, &status, &o);
	check_lines(&sc, 60, 20);
	CHECK(line_with(&sc, "q Ctrl-C  quit") >= 0);
	CHECK(line_with(&sc, "/ f       filter") >= 0);
	CHECK(line_with(&sc, "FUNCTION") < 0);
	top_screen_release(&sc);

	o.help = false;
	o.prompt = "filter: \x1b[31mabc";
	o.message = "not shown";
	sc = build(&x, &status, &o);
	CHECK_STR(sc.lines[19].text, "filter: \\x1b[31mabc");
	top_screen_release(&sc);

	o.prompt = NULL;
	sc = build(&x, &status, &o);
	CHECK_STR(sc.lines[19].text, "not shown");
	top_screen_release(&sc);
	release(&x);
}

static void test_empty(void)
{
	struct fixture x;
	struct top_view_opts o = view(80, 12);
	struct top_status st = status;
	struct top_screen sc;

	fixture(&x);
	top_tally_reset(&x.t, 5000 * MS);
	sc = build(&x, &st, &o);
	check_lines(&sc, 80, 12);
	CHECK(line_with(&sc, "(no samples yet)") >= 0); /* no interval over yet */
	CHECK(line_with(&sc, "0 threads") >= 0);
	top_screen_release(&sc);
	x.t.end_ns = 6000 * MS;
	sc = build(&x, &st, &o);
	CHECK(line_with(&sc, "(no samples in this interval)") >= 0);
	top_screen_release(&sc);
	st.whole_run = true;
	sc = build(&x, &st, &o);
	CHECK(line_with(&sc, "(no samples yet)") >= 0);
	top_screen_release(&sc);
	release(&x);
}

/* A recursive function's total counts each sample once; a bad entry is refused. */
static void test_recursion_and_bad_entries(void)
{
	struct fixture x;
	struct top_view_opts o = view(120, 20);
	struct top_screen sc;
	int row;

	fixture(&x);
	top_tally_reset(&x.t, 0);
	x.t.end_ns = 1000 * MS;
	top_tally_add(&x.t, x.main_4242,
		      stack(x.s, 3, x.frame[F_HOT], x.frame[F_HOT], x.frame[F_HOT]), 100 * MS, 100);
	sc = build(&x, &status, &o);
	row = line_with(&sc, "hot");
	CHECK(row >= 0 && strstr(sc.lines[row].text, "100.0  100.0   0.100   0.100"));
	top_screen_release(&sc);

	top_tally_add(&x.t, 99, 1, MS, 1);
	CHECK_INT(top_view_build(x.s, &x.t, &status, &o, &sc), -EINVAL);
	top_screen_release(&sc);
	release(&x);
}

static void test_tally(void)
{
	struct session *s = session__new();
	struct top_tally a, b;
	uint32_t st, f;

	session__add_process(s, &(struct session_process){ .pid = 1 });
	session__add_thread(s, 0, 1, "");
	f = (uint32_t)session__intern_frame(
		s, &(struct session_frame){ "f", "a.py", 1, 1, FRAME_PYTHON });
	st = (uint32_t)session__intern_stack(s, 0, f);
	session__add_sample(s, &(struct session_sample){ 10, 5, 0, st });
	session__add_sample(s, &(struct session_sample){ 20, 7, 0, st });

	top_tally_init(&a, 100);
	top_tally_init(&b, 300);
	top_tally_release(&b); /* nothing added: nothing to free */
	CHECK_INT(top_tally_add_session(&a, s), 0);
	CHECK_INT(a.n, 1);
	CHECK_INT(a.entries[0].weight_ns, 12);
	CHECK_INT(a.entries[0].samples, 2);
	a.end_ns = 200;
	a.received = 2;
	top_tally_init(&b, 300);
	b.end_ns = 400;
	b.lost = 1;
	CHECK_INT(top_tally_add(&b, 0, st, 3, 1), 0);
	CHECK_INT(top_tally_add(&b, 1, st, 4, 1), 0); /* another thread: another entry */
	CHECK_INT(top_tally_merge(&a, &b), 0);
	CHECK_INT(a.n, 2);
	CHECK_INT(a.entries[0].weight_ns, 15);
	CHECK_INT(a.entries[1].weight_ns, 4);
	CHECK_INT(a.begin_ns, 100);
	CHECK_INT(a.end_ns, 400);
	CHECK_INT(a.received, 2);
	CHECK_INT(a.lost, 1);
	top_tally_swap(&a, &b);
	CHECK_INT(a.begin_ns, 300);
	CHECK_INT(b.begin_ns, 100);
	CHECK_INT(b.n, 2);
	top_tally_reset(&b, 500);
	CHECK_INT(b.n, 0);
	CHECK_INT(b.begin_ns, 500);
	CHECK_INT(b.lost, 0);
	CHECK_INT(top_tally_add(&b, 0, st, 1, 1), 0);
	CHECK_INT(b.n, 1);
	CHECK_INT(b.entries[0].weight_ns, 1);
	top_tally_release(&a);
	top_tally_release(&b);
	session__free(s);
}

int main(void)
{
	RUN(test_default_80x24);
	RUN(test_small_40x10);
	RUN(test_wide_250);
	RUN(test_every_size);
	RUN(test_sort);
	RUN(test_filter);
	RUN(test_lines);
	RUN(test_one_process);
	RUN(test_hide_waits);
	RUN(test_cpu_mode_header);
	RUN(test_piped);
	RUN(test_help_prompt_message);
	RUN(test_empty);
	RUN(test_recursion_and_bad_entries);
	RUN(test_tally);
	return test_summary();
}
