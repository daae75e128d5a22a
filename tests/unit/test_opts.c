/* SPDX-License-Identifier: MIT */
/* test_opts.c — record's, report's and dump's command lines: every option, conflicts, clear
 * errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "cli/opts.h"
#include "record/proc_filter.h"
#include "session/idle_threads.h"
#include "test.h"
#include "record/tick_clock.h"

#define MAX_ARGS 32

static char err[256];

/* args = @cmd + the NULL-terminated arguments of @ap; clears err. Returns argc. */
static char *args[MAX_ARGS];

static int collect_args(const char *cmd, va_list ap)
{
	int argc = 0;

	args[argc++] = (char *)cmd;
	while (argc < MAX_ARGS - 1 && (args[argc] = va_arg(ap, char *)))
		argc++;
	args[argc] = NULL;
	err[0] = '\0';
	return argc;
}

/* Parses "record" + the NULL-terminated arguments. stdout (help) goes to /dev/null. */
static enum opts_result record(struct record_opts *o, ...)
{
	va_list ap;
	int argc;

	va_start(ap, o);
	argc = collect_args("record", ap);
	va_end(ap);
	return opts_parse_record(argc, args, o, err, sizeof(err));
}

static enum opts_result report(struct report_opts *o, ...)
{
	va_list ap;
	int argc;

	va_start(ap, o);
	argc = collect_args("report", ap);
	va_end(ap);
	return opts_parse_report(argc, args, o, err, sizeof(err));
}

static enum opts_result top(struct top_opts *o, ...)
{
	va_list ap;
	int argc;

	va_start(ap, o);
	argc = collect_args("top", ap);
	va_end(ap);
	return opts_parse_top(argc, args, o, err, sizeof(err));
}

#define CHECK_TOP_ERROR(want, ...)                                                     \
	do {                                                                           \
		struct top_opts o_;                                                    \
		CHECK_INT(top(&o_, __VA_ARGS__, NULL), OPTS_USAGE);                    \
		if (!strstr(err, want))                                                \
			fprintf(stderr, "  error was: %s (want \"%s\")\n", err, want); \
		CHECK(strstr(err, want) != NULL);                                      \
		CHECK(o_.record.procs == NULL);                                        \
	} while (0)

/* The usage error of a record command line contains @want. */
/* "1,2,...,1025": one PID past -p's limit. */
static char *pid_list_1_to_1025(void)
{
	static char list[1025 * 6];
	size_t at = 0;

	for (int pid = 1; pid <= 1025; pid++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%d", pid > 1 ? "," : "",
				       pid);
	return list;
}

#define CHECK_RECORD_ERROR(want, ...)                                                  \
	do {                                                                           \
		struct record_opts o_;                                                 \
		CHECK_INT(record(&o_, __VA_ARGS__, NULL), OPTS_USAGE);                 \
		if (!strstr(err, want))                                                \
			fprintf(stderr, "  error was: %s (want \"%s\")\n", err, want); \
		CHECK(strstr(err, want) != NULL);                                      \
		CHECK(o_.filter == NULL && o_.procs == NULL);                          \
	} while (0)

#define CHECK_REPORT_ERROR(want, ...)                                                  \
	do {                                                                           \
		struct report_opts o_;                                                 \
		CHECK_INT(report(&o_, __VA_ARGS__, NULL), OPTS_USAGE);                 \
		if (!strstr(err, want))                                                \
			fprintf(stderr, "  error was: %s (want \"%s\")\n", err, want); \
		CHECK(strstr(err, want) != NULL);                                      \
	} while (0)

static struct session_frame py(const char *file)
{
	return (struct session_frame){ "f", file, 1, 1, FRAME_PYTHON };
}

static const struct session_process proc = { .pid = 1, .lib_dirs = "/usr/lib/python3.12" };

static void test_defaults(void)
{
	struct record_opts o;
	struct session_frame lib = py("/usr/lib/python3.12/json/x.py"), app = py("/app/a.py");

	CHECK_INT(record(&o, "--", "python3", "app.py", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_COMMAND);
	CHECK_STR(o.argv[0], "python3");
	CHECK_INT(o.rate_hz, 999);
	CHECK_INT(o.n_outputs, 1);
	CHECK_STR(o.outputs[0].path, "-");
	CHECK(o.outputs[0].format == &render_text);
	/* Library code hidden; unicode; 1% threshold; seconds; aggregated */
	CHECK(o.filter != NULL && o.render.filter == o.filter);
	CHECK(frame_filter__hides(o.render.filter, &proc, &lib));
	CHECK(!frame_filter__hides(o.render.filter, &proc, &app));
	CHECK(o.render.unicode);
	CHECK(o.render.prune_share == 0.01);
	CHECK(!o.render.percent && !o.render.timeline);
	CHECK_INT(o.render.sort, FLAT_SORT_SELF);
	CHECK_INT(o.render.collapsed_roots, 0);
	CHECK_INT(o.render.granularity, GRANULARITY_FUNCTION);
	CHECK_INT(o.render.group_by, GROUP_BY_PROCESS);
	CHECK_INT(o.color, OPTS_COLOR_AUTO);
	opts_release_record(&o);
	CHECK(o.filter == NULL);
	opts_release_record(&o);
	opts_release_record(NULL);
}

static void test_targets(void)
{
	struct record_opts o;

	CHECK_INT(record(&o, "-p", "12,13", "-p", "14", "-d", "2.5", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_PIDS);
	CHECK_INT(o.n_pids, 3);
	CHECK_INT(o.pids[2], 14);
	CHECK(o.duration == 2.5);
	CHECK_INT(o.rate_hz, 99);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-a", "-F", "499", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_ALL);
	CHECK_INT(o.rate_hz, 499);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-i", "0.002", "python3", "-p", "x", NULL), OPTS_OK);
	CHECK_INT(o.rate_hz, 500);
	/* The command's own options are its own */
	CHECK_STR(o.argv[1], "-p");
	opts_release_record(&o);

	CHECK_RECORD_ERROR("nothing to profile", "-q");
	CHECK_RECORD_ERROR("bad PID list '12x'", "-p", "12x");
	CHECK_RECORD_ERROR("bad PID list '0'", "-p", "0");
	{
		/* past the limit: said as such, whether in one list or over several -p */
		char *many = pid_list_1_to_1025();

		CHECK_RECORD_ERROR("-p names 1025 PIDs, more than the limit of 1024", "-p", many);
		many[strlen(many) - 5] = '\0'; /* 1..1024, then one more */
		CHECK_RECORD_ERROR("-p names 1025 PIDs, more", "-p", many, "-p", "7");
	}
	CHECK_RECORD_ERROR("-a cannot be combined with -p", "-p", "1", "-a");
	CHECK_RECORD_ERROR("-p cannot be combined with -a", "-a", "-p", "1");
	CHECK_RECORD_ERROR("cannot be combined with -p or -a", "-a", "python3");
	CHECK_RECORD_ERROR("bad duration", "-d", "0", "-a");
	CHECK_RECORD_ERROR("bad rate", "-F", "0", "-a");
	CHECK_RECORD_ERROR("either --rate or --interval", "-F", "9", "-i", "0.1", "-a");
	CHECK_RECORD_ERROR("bad interval", "-i", "2", "-a");
	CHECK_RECORD_ERROR("unknown option '--frobnicate'", "--frobnicate", "-a");
	CHECK_RECORD_ERROR("option '--hide' needs a value", "-a", "--hide");
	CHECK_RECORD_ERROR("option '-o' needs a value", "-a", "-o");
}

/* -p PID for record, as py-spy; -p KEY=VALUE, as pyinstrument: both in one command line */
static void test_p_conflict(void)
{
	struct record_opts o;

	CHECK_INT(record(&o, "-p", "4242", "-p", "time=percent_of_total", "-p", "flat", "-p",
			 "filter_threshold=0.001", NULL),
		  OPTS_OK);
	CHECK_INT(o.target, TARGET_PIDS);
	CHECK_INT(o.n_pids, 1);
	CHECK_INT(o.pids[0], 4242);
	CHECK(o.render.percent);
	CHECK(o.render.prune_share == 0.001);
	CHECK(o.outputs[0].format == &render_flat);
	opts_release_record(&o);

	/* A render option alone is no target */
	CHECK_RECORD_ERROR("nothing to profile", "-p", "time=seconds");
	CHECK_RECORD_ERROR("unknown render option 'short_mode'", "-p", "short_mode", "-a");
	CHECK_RECORD_ERROR("-p takes time=percent_of_total", "-p", "bogus", "-a");
	CHECK_RECORD_ERROR("bad render option 'time=minutes'", "-p", "time=minutes", "-a");
	CHECK_RECORD_ERROR("filter_threshold=X, X from 0 to 1", "-p", "filter_threshold=2", "-a");
	CHECK_RECORD_ERROR("filter_threshold=X", "-p", "filter_threshold=", "-a");
	CHECK_RECORD_ERROR("expected true or false", "-p", "flat=maybe", "-a");

	/* --render-option is always a render option */
	CHECK_INT(record(&o, "--render-option", "time=percent_of_total", "-a", NULL), OPTS_OK);
	CHECK(o.render.percent);
	opts_release_record(&o);
}

static void test_render_options(void)
{
	struct record_opts o;
	struct session_frame lib = py("/usr/lib/python3.12/json/x.py");

	/* Values as pyinstrument writes them: JSON strings, dotted processor options */
	CHECK_INT(record(&o, "-p", "time=\"percent_of_total\"", "-p",
			 "processor_options.filter_threshold=0", "-p", "flat_time=total", "-p",
			 "unicode=false", "-p", "color=true", "-p", "timeline", "-a", NULL),
		  OPTS_OK);
	CHECK(o.render.percent);
	CHECK(o.render.prune_share == 0);
	CHECK_INT(o.render.sort, FLAT_SORT_TOTAL);
	CHECK(!o.render.unicode);
	CHECK(o.render.color);
	CHECK_INT(o.color, OPTS_COLOR_ALWAYS);
	CHECK(o.render.timeline);
	opts_release_record(&o);

	CHECK_INT(record(&o, "-p", "show_all", "-a", NULL), OPTS_OK);
	CHECK(!frame_filter__hides(o.render.filter, &proc, &lib));
	opts_release_record(&o);
	CHECK_INT(record(&o, "-p", "show_all=false", "-p", "flat=0", "-a", NULL), OPTS_OK);
	CHECK(frame_filter__hides(o.render.filter, &proc, &lib));
	CHECK(o.outputs[0].format == &render_text);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-p", "processor_options.show_regex=json", "-a", NULL), OPTS_OK);
	CHECK(!frame_filter__hides(o.render.filter, &proc, &lib));
	opts_release_record(&o);
	CHECK_RECORD_ERROR("bad -p hide_regex '(': ", "-p", "hide_regex=(", "-a");
	CHECK_RECORD_ERROR("a value", "-p", "hide_regex", "-a");
}

static void test_filters(void)
{
	struct record_opts o;
	struct session_frame lib = py("/usr/lib/python3.12/json/x.py");
	struct session_frame app = py("/srv/app/views.py"), test = py("/srv/app/tests/t.py");

	CHECK_INT(record(&o, "--hide", "*/app/*", "--show", "*/json/*", "--show-regex", "tests/",
			 "-a", NULL),
		  OPTS_OK);
	CHECK(frame_filter__hides(o.render.filter, &proc, &app));
	CHECK(!frame_filter__hides(o.render.filter, &proc, &test));
	CHECK(!frame_filter__hides(o.render.filter, &proc, &lib));
	opts_release_record(&o);
	CHECK_INT(record(&o, "--hide-regex", "^/srv/", "-a", NULL), OPTS_OK);
	CHECK(frame_filter__hides(o.render.filter, &proc, &test));
	opts_release_record(&o);
	CHECK_INT(record(&o, "--show-all", "--show", "*x*", "-a", NULL), OPTS_OK);
	CHECK(!frame_filter__hides(o.render.filter, &proc, &lib));
	opts_release_record(&o);

	CHECK_RECORD_ERROR("bad --hide-regex 'a(': ", "--hide-regex", "a(", "-a");
	CHECK_RECORD_ERROR("bad --show-regex '[z-a]': ", "--show-regex", "[z-a]", "-a");
	CHECK_RECORD_ERROR("--show-all shows every frame: it cannot be combined with --hide",
			   "--hide", "x", "--show-all", "-a");
	CHECK_RECORD_ERROR("cannot be combined with --hide-regex", "--show-all", "--hide-regex",
			   "x", "-a");
	CHECK_RECORD_ERROR("cannot be combined with -p hide_regex", "-p", "show_all", "-p",
			   "hide_regex=x", "-a");
}

/* --comm and --cmdline: with -a, -p or a command, and with each other */
static void test_proc_filters(void)
{
	struct record_opts o;

	CHECK_INT(record(&o, "-a", NULL), OPTS_OK);
	CHECK(o.procs == NULL);
	opts_release_record(&o);

	CHECK_INT(record(&o, "-a", "--comm", "gunicorn|celery", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_ALL);
	CHECK(proc_filter__active(o.procs));
	CHECK(proc_filter__matches(o.procs, "celery", "python3 -m celery"));
	CHECK(!proc_filter__matches(o.procs, "python3", "python3 -m celery"));
	opts_release_record(&o);
	CHECK(o.procs == NULL);

	CHECK_INT(record(&o, "--cmdline", "a\\.py", "--comm", "^python", "-p", "12", NULL),
		  OPTS_OK);
	CHECK_INT(o.target, TARGET_PIDS);
	CHECK_INT(o.n_pids, 1);
	CHECK(proc_filter__matches(o.procs, "python3", "python3 a.py"));
	CHECK(!proc_filter__matches(o.procs, "python3", "python3 b.py"));
	CHECK(!proc_filter__matches(o.procs, "bash", "python3 a.py"));
	opts_release_record(&o);

	/* before the command; the command's own --comm is its own */
	CHECK_INT(record(&o, "--comm", "worker", "--", "python3", "app.py", "--comm", "x", NULL),
		  OPTS_OK);
	CHECK_INT(o.target, TARGET_COMMAND);
	CHECK_STR(o.argv[2], "--comm");
	CHECK(proc_filter__matches(o.procs, "worker", ""));
	CHECK(!proc_filter__matches(o.procs, "x", ""));
	opts_release_record(&o);

	CHECK_RECORD_ERROR("bad --comm 'a(': ", "--comm", "a(", "-a");
	CHECK_RECORD_ERROR("bad --cmdline '[z-a]': ", "-a", "--cmdline", "[z-a]");
	CHECK_RECORD_ERROR("option '--comm' needs a value", "-a", "--comm");
	CHECK_RECORD_ERROR("nothing to profile", "--comm", "python");
	CHECK_RECORD_ERROR("-a cannot be combined with -p", "--comm", "x", "-p", "1", "-a");
}

/* --cgroup and --container: alone they select like -a; they combine with the rest */
static void test_cgroup_options(void)
{
	struct record_opts o;

	CHECK_INT(record(&o, "--container", "3f9c2A", "-d", "5", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_ALL);
	CHECK_INT(o.n_cgroups, 1);
	CHECK_STR(o.cgroups[0].value, "3f9c2A");
	CHECK(o.cgroups[0].container);
	CHECK_INT(o.rate_hz, 99); /* attaching, not launching */
	opts_release_record(&o);

	CHECK_INT(record(&o, "--cgroup", "/system.slice/web.service", "--container", "ab", "--comm",
			 "gunicorn", NULL),
		  OPTS_OK);
	CHECK_INT(o.target, TARGET_ALL);
	CHECK_INT(o.n_cgroups, 2);
	CHECK(!o.cgroups[0].container);
	CHECK_STR(o.cgroups[1].value, "ab");
	opts_release_record(&o);

	CHECK_INT(record(&o, "--cgroup", "/a", "-p", "12", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_PIDS);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--cgroup", "/a", "--", "python3", "x.py", NULL), OPTS_OK);
	CHECK_INT(o.target, TARGET_COMMAND);
	opts_release_record(&o);

	CHECK_RECORD_ERROR("bad container id 'web': expected 1 to 64 hex digits", "--container",
			   "web");
	CHECK_RECORD_ERROR("bad container id", "--container",
			   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0");
	CHECK_RECORD_ERROR("empty --cgroup", "--cgroup", "");
	CHECK_RECORD_ERROR("too many --cgroup/--container: at most 8", "--cgroup", "1", "--cgroup",
			   "2", "--cgroup", "3", "--cgroup", "4", "--cgroup", "5", "--cgroup", "6",
			   "--cgroup", "7", "--cgroup", "8", "--cgroup", "9");
}

static void test_switches(void)
{
	struct record_opts o;

	CHECK_INT(record(&o, "--no-unicode", "--color", "-a", NULL), OPTS_OK);
	CHECK(!o.render.unicode);
	CHECK_INT(o.color, OPTS_COLOR_ALWAYS);
	CHECK(o.render.color);
	CHECK(opts_use_color(&o.render, &render_text, true));
	CHECK(opts_use_color(&o.render, &render_flat, true));
	/* Only text views on stdout */
	CHECK(!opts_use_color(&o.render, &render_text, false));
	CHECK(!opts_use_color(&o.render, &render_speedscope, true));
	opts_release_record(&o);
	CHECK_INT(record(&o, "--color", "--no-color", "--no-unicode", "--unicode", "-a", NULL),
		  OPTS_OK);
	CHECK(o.render.unicode);
	CHECK_INT(o.color, OPTS_COLOR_NEVER);
	CHECK(!o.render.color);
	CHECK(!opts_use_color(&o.render, &render_text, true));
	opts_release_record(&o);
	/* Auto: the tests' stdout is no terminal, or NO_COLOR says no */
	setenv("NO_COLOR", "1", 1);
	CHECK_INT(record(&o, "-a", NULL), OPTS_OK);
	CHECK(!o.render.color);
	opts_release_record(&o);
	unsetenv("NO_COLOR");
}

/* --clock: the timer by default, or the tick at the kernel's rate, which takes no -F / -i. */
static void test_clock(void)
{
	struct record_opts o;
	struct top_opts t;
	unsigned hz = 0;
	char want[128];

	CHECK_INT(record(&o, "-a", NULL), OPTS_OK);
	CHECK_INT(o.clock, SAMPLE_CLOCK_DEFAULT);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--clock", "timer", "-F", "499", "-a", NULL), OPTS_OK);
	CHECK_INT(o.clock, SAMPLE_CLOCK_TIMER);
	CHECK_INT(o.rate_hz, 499);
	opts_release_record(&o);
	CHECK_STR(sample_clock_name(SAMPLE_CLOCK_TIMER), "timer");
	CHECK_STR(sample_clock_name(SAMPLE_CLOCK_TICK), "tick");
	CHECK_RECORD_ERROR("bad clock 'hrtimer': expected timer", "--clock", "hrtimer", "-a");
	CHECK_RECORD_ERROR("option '--clock' needs a value", "-a", "--clock");

	if (tick_clock_hz(&hz)) {
		test_missing("the kernel's CONFIG_HZ");
		return;
	}
	/* the rate is the kernel's; the mode is as without it */
	CHECK_INT(record(&o, "--clock", "tick", "--", "python3", "app.py", NULL), OPTS_OK);
	CHECK_INT(o.clock, SAMPLE_CLOCK_TICK);
	CHECK_INT(o.rate_hz, hz);
	CHECK(o.wall);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--clock", "tick", "--mode", "cpu", "-p", "12", NULL), OPTS_OK);
	CHECK_INT(o.rate_hz, hz);
	CHECK(!o.wall);
	opts_release_record(&o);
	/* the last --clock counts */
	CHECK_INT(record(&o, "--clock", "tick", "--clock", "timer", "-F", "99", "-a", NULL),
		  OPTS_OK);
	CHECK_INT(o.clock, SAMPLE_CLOCK_TIMER);
	CHECK_INT(o.rate_hz, 99);
	opts_release_record(&o);

	snprintf(want, sizeof(want),
		 "--clock tick samples at the kernel's tick rate (%u Hz here); "
		 "drop -F or use --clock timer",
		 hz);
	CHECK_RECORD_ERROR(want, "--clock", "tick", "-F", "99", "-a");
	CHECK_RECORD_ERROR(want, "-F", "99", "--clock", "tick", "-a");
	CHECK_RECORD_ERROR(want, "--rate", "250", "--clock", "tick", "-a");
	CHECK_RECORD_ERROR("drop -i or use --clock timer", "-i", "0.004", "--clock", "tick", "-a");

	/* top takes it as record does */
	CHECK_INT(top(&t, "--clock", "tick", "-a", NULL), OPTS_OK);
	CHECK_INT(t.record.clock, SAMPLE_CLOCK_TICK);
	CHECK_INT(t.record.rate_hz, hz);
	opts_release_top(&t);
	CHECK_INT(top(&t, "-a", NULL), OPTS_OK);
	CHECK_INT(t.record.clock, SAMPLE_CLOCK_DEFAULT);
	opts_release_top(&t);
	CHECK_TOP_ERROR(want, "--clock", "tick", "-F", "99", "-a");
}

static void test_formats(void)
{
	struct record_opts o;

	CHECK_INT(record(&o, "-o", "a.speedscope.json", "-o", "a.folded", "-o", "-", "-o", "a.txt",
			 "-a", NULL),
		  OPTS_OK);
	CHECK_INT(o.n_outputs, 4);
	CHECK(o.outputs[0].format == &render_speedscope);
	CHECK(o.outputs[1].format == &render_collapsed);
	CHECK(o.outputs[2].format == &render_text);
	CHECK(o.outputs[3].format == &render_text);
	opts_release_record(&o);
	/* -r wins over extensions */
	CHECK_INT(record(&o, "-r", "flat", "-o", "a.speedscope.json", "-a", NULL), OPTS_OK);
	CHECK(o.outputs[0].format == &render_flat);
	opts_release_record(&o);
	/* -p flat turns the text reports into flat ones, as pyinstrument's text renderer */
	CHECK_INT(record(&o, "-p", "flat", "-o", "a.speedscope.json", "-o", "-", "-o", "a.txt",
			 "-a", NULL),
		  OPTS_OK);
	CHECK(o.outputs[0].format == &render_speedscope);
	CHECK(o.outputs[1].format == &render_flat);
	CHECK(o.outputs[2].format == &render_flat);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-p", "flat", "-r", "flat", "-a", NULL), OPTS_OK);
	opts_release_record(&o);
	/* -t with a timeline format; --sort, --collapsed-roots, --granularity */
	CHECK_INT(record(&o, "-t", "-o", "x.speedscope.json", "--sort", "cumulative",
			 "--collapsed-roots", "thread,process", "--granularity", "line", "-a",
			 NULL),
		  OPTS_OK);
	CHECK(o.render.timeline);
	CHECK_INT(o.render.sort, FLAT_SORT_TOTAL);
	CHECK_INT(o.render.collapsed_roots, COLLAPSED_ROOT_PROCESS | COLLAPSED_ROOT_THREAD);
	CHECK_INT(o.render.granularity, GRANULARITY_LINE);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--sort", "name", "--collapsed-roots", "none", "-a", NULL), OPTS_OK);
	CHECK_INT(o.render.sort, FLAT_SORT_NAME);
	CHECK_INT(o.render.collapsed_roots, 0);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--sort", "filename", "--collapsed-roots", "process", "-a", NULL),
		  OPTS_OK);
	CHECK_INT(o.render.sort, FLAT_SORT_FILE);
	CHECK_INT(o.render.collapsed_roots, COLLAPSED_ROOT_PROCESS);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--sort", "tottime", "-a", NULL), OPTS_OK);
	CHECK_INT(o.render.sort, FLAT_SORT_SELF);
	opts_release_record(&o);
	/* --group-by, the last one wins */
	CHECK_INT(record(&o, "--group-by", "none", "--group-by=cmdline", "-a", NULL), OPTS_OK);
	CHECK_INT(o.render.group_by, GROUP_BY_CMDLINE);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--group-by", "container", "--", "python3", "--group-by", "x", NULL),
		  OPTS_OK);
	CHECK_INT(o.render.group_by, GROUP_BY_CONTAINER);
	CHECK_STR(o.argv[2], "x");
	opts_release_record(&o);

	/* the SVG flame graph, by extension or by either name (py-spy's and flamegraph.pl's) */
	CHECK_INT(record(&o, "-o", "a.svg", "-o", "b", "-a", NULL), OPTS_OK);
	CHECK(o.outputs[0].format == &render_svg);
	CHECK(o.outputs[1].format == &render_text); /* no extension: text, as before */
	opts_release_record(&o);
	CHECK_INT(record(&o, "-r", "flamegraph", "-a", NULL), OPTS_OK);
	CHECK(o.outputs[0].format == &render_svg);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-r", "svg", "-o", "x.foo", "-a", NULL), OPTS_OK);
	CHECK(o.outputs[0].format == &render_svg);
	opts_release_record(&o);
	/* an extension pyflare does not know is refused, naming the formats and extensions */
	CHECK_RECORD_ERROR("unknown output extension '.foo': give -r FORMAT, or one of text "
			   "(.txt), speedscope (.speedscope.json), collapsed (.collapsed .folded), "
			   "flat, ",
			   "-o", "a.svg", "-o", "x.foo", "-a");
	CHECK_RECORD_ERROR("html (.html .htm), svg (.svg), pyflare (.pyflare)", "-o", "x.foo",
			   "-a");
	CHECK_RECORD_ERROR("unknown output extension '.speedscope'", "-o", "run.speedscope", "-a");
	CHECK_RECORD_ERROR("-o 'out/' names no file", "-o", "out/", "-a");
	CHECK_RECORD_ERROR("unknown format 'pdf': expected one of text, speedscope, collapsed, "
			   "flat",
			   "-r", "pdf", "-a");
	CHECK_RECORD_ERROR("-p flat asks for the flat view, -r for speedscope", "-p", "flat", "-r",
			   "speedscope", "-a");
	CHECK_RECORD_ERROR("the flat view has no time order", "-t", "-r", "flat", "-a");
	CHECK_RECORD_ERROR("the flat view has no time order", "-t", "-p", "flat", "-a");
	CHECK_RECORD_ERROR("bad sort key 'calls': expected self, total, name or file", "--sort",
			   "calls", "-a");
	CHECK_RECORD_ERROR("bad --collapsed-roots 'proc'", "--collapsed-roots", "proc", "-a");
	CHECK_RECORD_ERROR("bad --collapsed-roots ''", "--collapsed-roots", "", "-a");
	CHECK_RECORD_ERROR("bad --collapsed-roots 'process,x'", "--collapsed-roots", "process,x",
			   "-a");
	CHECK_RECORD_ERROR("bad granularity", "--granularity", "word", "-a");
	CHECK_RECORD_ERROR("bad --group-by 'comm': expected process, cmdline, container or none",
			   "--group-by", "comm", "-a");
	CHECK_RECORD_ERROR("option '--group-by' needs a value", "-a", "--group-by");
	CHECK_RECORD_ERROR("at most 8 outputs", "-o", "1", "-o", "2", "-o", "3", "-o", "4", "-o",
			   "5", "-o", "6", "-o", "7", "-o", "8", "-o", "9", "-a");
}

static void test_report(void)
{
	struct report_opts o;
	struct session_frame lib = py("/usr/lib/python3.12/json/x.py");

	CHECK_INT(report(&o, "a.pyflare", "-r", "flat", "b.pyflare", "--sort", "total", NULL),
		  OPTS_OK);
	CHECK_INT(o.n_files, 2);
	CHECK_STR(o.files[1], "b.pyflare");
	CHECK(!o.last);
	CHECK_INT(o.n_outputs, 1);
	CHECK(o.outputs[0].format == &render_flat);
	CHECK_INT(o.render.sort, FLAT_SORT_TOTAL);
	CHECK(frame_filter__hides(o.render.filter, &proc, &lib));
	opts_release_report(&o);
	CHECK(o.filter == NULL);

	/* -p is only a render option here */
	CHECK_INT(report(&o, "--last", "-p", "time=percent_of_total", "--show-all", "-t", "-o",
			 "x.speedscope.json", "-v", NULL),
		  OPTS_OK);
	CHECK(o.last);
	CHECK(o.render.percent && o.render.timeline);
	CHECK(!frame_filter__hides(o.render.filter, &proc, &lib));
	CHECK(o.outputs[0].format == &render_speedscope);
	CHECK_INT(o.verbose, 1);
	opts_release_report(&o);
	/* a FILE that starts with a dash comes after -- */
	CHECK_INT(report(&o, "--no-color", "--", "-odd.pyflare", NULL), OPTS_OK);
	CHECK_STR(o.files[0], "-odd.pyflare");
	CHECK_INT(o.color, OPTS_COLOR_NEVER);
	opts_release_report(&o);
	CHECK_INT(report(&o, "--group-by", "none", "a.pyflare", NULL), OPTS_OK);
	CHECK_INT(o.render.group_by, GROUP_BY_NONE);
	opts_release_report(&o);

	CHECK_REPORT_ERROR("nothing to report: give FILE..., an agent's folder or --last", "-r",
			   "text");
	/* a window */
	CHECK_INT(report(&o, "d", "--since", "10m", "--until", "now", NULL), OPTS_OK);
	CHECK(o.since_ns > 0 && o.until_ns > o.since_ns);
	CHECK(o.until_ns - o.since_ns >= 599000000000ULL &&
	      o.until_ns - o.since_ns < 601000000000ULL);
	opts_release_report(&o);
	CHECK_REPORT_ERROR("bad --since 'soon'", "d", "--since", "soon");
	CHECK_REPORT_ERROR("--until is not after --since", "d", "--since", "1m", "--until", "2m");
	CHECK_REPORT_ERROR("either recordings or --last", "--last", "a.pyflare");
	CHECK_REPORT_ERROR("unknown render option '4242'", "-p", "4242", "a.pyflare");
	CHECK_REPORT_ERROR("unknown option '-a'", "-a", "a.pyflare");
	CHECK_REPORT_ERROR("bad --hide-regex", "--hide-regex", "(", "a.pyflare");
	CHECK_REPORT_ERROR("unknown format", "-r", "pdf", "a.pyflare");
	CHECK_REPORT_ERROR("unknown output extension '.foo'", "a.pyflare", "-o", "x.foo");
	CHECK_REPORT_ERROR("bad --group-by 'all'", "--group-by", "all", "a.pyflare");
}

static enum opts_result agent(struct agent_opts *o, char *dir, ...)
{
	va_list ap;
	int argc;

	va_start(ap, dir);
	argc = collect_args("agent", ap);
	va_end(ap);
	return opts_parse_agent(argc, args, o, dir, 4096, err, sizeof(err));
}

/* agent: record's -a with its filters and sampling, and its own files' options. */
static void test_agent(void)
{
	static char dir[4096];
	struct agent_opts o;

	CHECK_INT(agent(&o, dir, "--dir", "/srv/pf", NULL), OPTS_OK);
	CHECK_STR(o.dir, "/srv/pf");
	CHECK_INT(o.record.target, TARGET_ALL);
	CHECK(!o.record.wall);
	CHECK_INT(o.record.rate_hz, 99);
	CHECK_INT(o.record.clock, SAMPLE_CLOCK_TIMER);
	CHECK(o.slice_s == 60.0 && o.window_s == 300.0);
	CHECK_INT(o.keep_for_ns, 24ULL * 3600 * 1000000000ULL);
	CHECK_INT(o.keep_bytes, 1ULL << 30);
	CHECK(o.metrics == NULL); /* off by default */
	opts_release_record(&o.record);

	CHECK_INT(agent(&o, dir, "--metrics", "[::1]:9733", NULL), OPTS_OK);
	CHECK_STR(o.metrics, "[::1]:9733");
	opts_release_record(&o.record);
	CHECK_INT(agent(&o, dir, "--metrics", "9733:x", NULL), OPTS_USAGE);
	CHECK(strstr(err, "bad --metrics '9733:x'") != NULL);

	CHECK_INT(agent(&o, dir, "--dir", "d", "--container", "3f2a9c", "--comm", "gunicorn",
			"--mode", "wall", "-F", "49", "--slice", "5m", "--keep-for", "7d",
			"--keep-size", "5G", "--window", "0", NULL),
		  OPTS_OK);
	CHECK_INT(o.record.n_cgroups, 1);
	CHECK(o.record.procs != NULL && o.record.wall);
	CHECK_INT(o.record.rate_hz, 49);
	CHECK(o.slice_s == 300.0 && o.window_s == 0.0);
	CHECK_INT(o.keep_for_ns, 7ULL * 86400 * 1000000000ULL);
	CHECK_INT(o.keep_bytes, 5ULL << 30);
	opts_release_record(&o.record);
	CHECK(o.record.procs == NULL);

	CHECK_INT(agent(&o, dir, "--slice", "0.5", NULL), OPTS_USAGE);
	CHECK(strstr(err, "bad --slice") != NULL);
	CHECK_INT(agent(&o, dir, "-p", "1", NULL), OPTS_USAGE);
	CHECK(strstr(err, "unknown option '-p'") != NULL);
	CHECK_INT(agent(&o, dir, "--comm", "x", "python3", NULL), OPTS_USAGE);
	CHECK(strstr(err, "unexpected argument 'python3'") != NULL);
	CHECK(o.record.procs == NULL);
	CHECK_INT(agent(&o, dir, "--keep-size", "big", NULL), OPTS_USAGE);
	CHECK(strstr(err, "bad --keep-size") != NULL);
}

/* top: record's targets and sampling, its own view options, no outputs. */
static void test_top(void)
{
	struct top_opts o;

	CHECK_INT(top(&o, "--", "python3", "app.py", "-p", "1", NULL), OPTS_OK);
	CHECK_INT(o.record.target, TARGET_COMMAND);
	CHECK_STR(o.record.argv[0], "python3");
	CHECK_STR(o.record.argv[2], "-p"); /* the command's own */
	CHECK(o.record.wall);
	CHECK_INT(o.record.rate_hz, 999);
	CHECK(o.delay == 1.0);
	CHECK_INT(o.record.render.sort, FLAT_SORT_SELF);
	CHECK_INT(o.record.render.granularity, GRANULARITY_FUNCTION);
	CHECK_INT(o.record.n_outputs, 0);
	CHECK(o.record.quiet);
	opts_release_top(&o);

	CHECK_INT(top(&o, "-a", NULL), OPTS_OK);
	CHECK_INT(o.record.target, TARGET_ALL);
	CHECK(!o.record.wall);
	CHECK_INT(o.record.rate_hz, 99);
	opts_release_top(&o);

	CHECK_INT(top(&o, "-p", "12,13", "--delay", "0.5", "--sort", "total", "--granularity",
		      "line", "--mode", "cpu", "-F", "49", "-d", "10", "--comm", "^py", "-v", NULL),
		  OPTS_OK);
	CHECK_INT(o.record.target, TARGET_PIDS);
	CHECK_INT(o.record.n_pids, 2);
	CHECK_INT(o.record.pids[1], 13);
	CHECK(o.delay == 0.5);
	CHECK_INT(o.record.render.sort, FLAT_SORT_TOTAL);
	CHECK_INT(o.record.render.granularity, GRANULARITY_LINE);
	CHECK(!o.record.wall);
	CHECK_INT(o.record.rate_hz, 49);
	CHECK(o.record.duration == 10);
	CHECK(o.record.procs != NULL);
	CHECK_INT(o.record.verbose, 1);
	opts_release_top(&o);
	CHECK(o.record.procs == NULL);

	CHECK_INT(top(&o, "--container", "3f9c2a", "--sort", "own", "--min-block", "0.001",
		      "--mode", "wall", NULL),
		  OPTS_OK);
	CHECK_INT(o.record.target, TARGET_ALL);
	CHECK_INT(o.record.n_cgroups, 1);
	CHECK_INT(o.record.min_block_ns, 1000000);
	opts_release_top(&o);

	CHECK_TOP_ERROR("nothing to profile", "--delay", "2");
	CHECK_TOP_ERROR("unknown option '-o'", "-o", "x.html", "-a");
	CHECK_TOP_ERROR("unknown option '-r'", "-r", "flat", "-a");
	CHECK_TOP_ERROR("unknown option '--hide'", "--hide", "*", "-a");
	CHECK_TOP_ERROR("bad --delay '0'", "--delay", "0", "-a");
	CHECK_TOP_ERROR("bad --delay 'x'", "--delay", "x", "-a");
	CHECK_TOP_ERROR("bad PID list 'time=percent_of_total'", "-p", "time=percent_of_total");
	CHECK_TOP_ERROR("bad sort key 'bogus'", "--sort", "bogus", "-a");
	CHECK_TOP_ERROR("bad granularity", "--granularity", "file", "-a");
	CHECK_TOP_ERROR("--min-block is for --mode wall", "-a", "--min-block", "0.001");
	CHECK_TOP_ERROR("-a cannot be combined with -p", "-p", "1", "-a");
	CHECK_TOP_ERROR("a command cannot be combined", "-a", "--", "python3");
	CHECK_TOP_ERROR("bad --comm", "--comm", "(", "-a");
	CHECK_TOP_ERROR("option '--delay' needs a value", "-a", "--delay");
}

/* --help and --version print and ask to exit 0. */
static void test_help(void)
{
	struct record_opts o;
	struct report_opts r;
	FILE *saved = stdout;

	stdout = fopen("/dev/null", "w");
	CHECK_INT(record(&o, "--help", NULL), OPTS_EXIT);
	CHECK_INT(record(&o, "--version", NULL), OPTS_EXIT);
	CHECK_INT(report(&r, "-h", NULL), OPTS_EXIT);
	CHECK_INT(report(&r, "--version", NULL), OPTS_EXIT);
	{
		struct top_opts t;

		CHECK_INT(top(&t, "--help", NULL), OPTS_EXIT);
		CHECK_INT(top(&t, "-h", NULL), OPTS_EXIT);
		CHECK(t.record.procs == NULL);
	}
	fclose(stdout);
	stdout = saved;
	CHECK(o.filter == NULL && r.filter == NULL);
}

/* Parses "dump" + the NULL-terminated arguments. */
static enum opts_result dump(struct dump_opts *o, ...)
{
	va_list ap;
	int argc;

	va_start(ap, o);
	argc = collect_args("dump", ap);
	va_end(ap);
	return opts_parse_dump(argc, args, o, err, sizeof(err));
}

#define CHECK_DUMP_ERROR(want, ...)                                                    \
	do {                                                                           \
		struct dump_opts o_;                                                   \
		CHECK_INT(dump(&o_, __VA_ARGS__, NULL), OPTS_USAGE);                   \
		if (!strstr(err, want))                                                \
			fprintf(stderr, "  error was: %s (want \"%s\")\n", err, want); \
		CHECK(strstr(err, want) != NULL);                                      \
	} while (0)

/* py-spy's and pyinstrument's spellings: taken when they mean the same, else answered */
static void test_peer_spellings(void)
{
	struct record_opts o;
	struct top_opts t;
	struct dump_opts d;

	CHECK_INT(record(&o, "--pid", "42", "--rate", "100", "--duration", "unlimited",
			 "--nonblocking", "--idle", "--format", "flamegraph", "--outfile", "p.svg",
			 NULL),
		  OPTS_OK);
	CHECK_INT(o.pids[0], 42);
	CHECK_INT(o.rate_hz, 100);
	CHECK(o.duration == 0);
	CHECK_INT(o.render.idle, IDLE_KEEP);
	CHECK_STR(o.outputs[0].path, "p.svg");
	CHECK(o.outputs[0].format == &render_svg);
	opts_release_record(&o);
	CHECK_INT(record(&o, "--format", "raw", "-a", NULL), OPTS_OK);
	CHECK(o.outputs[0].format == &render_collapsed);
	opts_release_record(&o);
	CHECK_INT(top(&t, "--nonblocking", "--rate", "50", "-a", NULL), OPTS_OK);
	CHECK_INT(t.record.rate_hz, 50);
	opts_release_top(&t);
	CHECK_INT(dump(&d, "--nonblocking", "-p", "7", NULL), OPTS_OK);
	CHECK(!d.subprocesses);

	/* --subprocesses, py-spy's -s: wherever -p is taken */
	CHECK_INT(record(&o, "-p", "42", "--subprocesses", NULL), OPTS_OK);
	CHECK(o.subprocesses && o.target == TARGET_PIDS);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-s", "-p", "42", NULL), OPTS_OK);
	CHECK(o.subprocesses);
	opts_release_record(&o);
	CHECK_INT(record(&o, "-p", "42", NULL), OPTS_OK);
	CHECK(!o.subprocesses);
	opts_release_record(&o);
	CHECK_INT(top(&t, "-p", "42", "-s", NULL), OPTS_OK);
	CHECK(t.record.subprocesses);
	opts_release_top(&t);
	CHECK_INT(dump(&d, "--subprocesses", "-p", "7", NULL), OPTS_OK);
	CHECK(d.subprocesses);

	/* -r is still the format, -F still the rate: py-spy's -r 100 gets a hint */
	CHECK_RECORD_ERROR("did you mean -F 100?", "-r", "100", "-a");
	CHECK_REPORT_ERROR("pyflare record -F 100", "-r", "100", "x.pyflare");
	CHECK_RECORD_ERROR("-t -o run.speedscope.json", "--format", "chrometrace", "-a");
	CHECK_RECORD_ERROR("did you mean -r speedscope?", "-f", "speedscope", "-a");
	CHECK_RECORD_ERROR("did you mean -r FORMAT?", "-a", "-f");
	CHECK_RECORD_ERROR("unknown option '--gil': ", "--gil", "-a");
	CHECK_RECORD_ERROR("--mode wall shows the waits for the GIL", "--gil", "-a");
	CHECK_TOP_ERROR("--mode cpu", "--gil", "-a");
	CHECK_TOP_ERROR("the i key hides or shows them", "--idle", "-a");
	CHECK_RECORD_ERROR("--granularity line", "--function", "-a");
	CHECK_RECORD_ERROR("Python frames only", "--native", "-a");
	CHECK_RECORD_ERROR("bad duration 'forever'", "-d", "forever", "-a");

	/* -p $(pgrep ...) that found nothing: the next option is no render option or PID */
	CHECK_RECORD_ERROR("-p has no PID before '-d'", "-p", "-d", "5");
	CHECK_RECORD_ERROR("-p has no PID before '--'", "-p", "--", "python3");
	CHECK_RECORD_ERROR("-p has no PID (did $(pgrep", "-p", "", "-a");
	CHECK_RECORD_ERROR("needs a value: no PID (did $(pgrep", "-a", "-p");
	CHECK_TOP_ERROR("-p has no PID before '-d'", "-p", "-d", "5");
	CHECK_DUMP_ERROR("-p has no PID before '--json'", "-p", "--json");
}

static void test_dump(void)
{
	struct dump_opts o;
	FILE *saved = stdout;

	CHECK_INT(dump(&o, "-p", "4242,4243", "--pid", "7", NULL), OPTS_OK);
	CHECK_INT(o.n_pids, 3);
	CHECK(o.pids[0] == 4242 && o.pids[1] == 4243 && o.pids[2] == 7);
	CHECK(!o.json && !o.color); /* the tests' stdout is no terminal */
	CHECK_INT(dump(&o, "--json", "-p", "1", "--color", NULL), OPTS_OK);
	CHECK(o.json && !o.color); /* JSON is never coloured */
	CHECK_INT(dump(&o, "-p", "1", "--color", NULL), OPTS_OK);
	CHECK(o.color);
	CHECK_INT(dump(&o, "-p", "1", "--color", "--no-color", "-vv", NULL), OPTS_OK);
	CHECK(!o.color && o.verbose == 2);
	CHECK_DUMP_ERROR("nothing to dump: give -p PID", "--json");
	CHECK_DUMP_ERROR("bad PID list 'x'", "-p", "x");
	CHECK_DUMP_ERROR("bad PID list '1,,2'", "-p", "1,,2");
	CHECK_DUMP_ERROR("bad PID list '0'", "-p", "0");
	{
		char *many = pid_list_1_to_1025();

		CHECK_DUMP_ERROR("-p names 1025 PIDs, more than the limit of 1024", "-p", many);
	}
	CHECK_DUMP_ERROR("unexpected argument '4242'", "-p", "1", "4242");
	CHECK_DUMP_ERROR("unknown option '-a'", "-a");
	CHECK_DUMP_ERROR("option '-p' needs a value", "-p");
	stdout = fopen("/dev/null", "w");
	CHECK_INT(dump(&o, "--help", NULL), OPTS_EXIT);
	CHECK_INT(dump(&o, "--version", NULL), OPTS_EXIT);
	fclose(stdout);
	stdout = saved;
}

int main(void)
{
	unsetenv("NO_COLOR");
	RUN(test_defaults);
	RUN(test_agent);
	RUN(test_targets);
	RUN(test_p_conflict);
	RUN(test_render_options);
	RUN(test_filters);
	RUN(test_proc_filters);
	RUN(test_cgroup_options);
	RUN(test_switches);
	RUN(test_clock);
	RUN(test_formats);
	RUN(test_report);
	RUN(test_top);
	RUN(test_help);
	RUN(test_dump);
	RUN(test_peer_spellings);
	return test_summary();
}
