/* SPDX-License-Identifier: MIT */
/*
 * opts.c — parse and check the options of `pyflare record`, `report`, `top` and `dump`
 * (their help: opts_help.c).
 */
#include "cli/opts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "agent/http_post.h"
#include "agent/metrics_server.h"
#include "agent/quantities.h"
#include "cli/spellings.h"
#include "render/frame_filter.h"
#include "session/idle_threads.h"
#include "record/proc_filter.h"
#include "host/proc_info.h"
#include "record/tick_clock.h"
#include "cli/version.h"

enum {
	OPT_GRANULARITY = 0x100,
	OPT_VERSION,
	OPT_HIDE,
	OPT_HIDE_REGEX,
	OPT_SHOW,
	OPT_SHOW_REGEX,
	OPT_SHOW_ALL,
	OPT_UNICODE,
	OPT_NO_UNICODE,
	OPT_COLOR,
	OPT_NO_COLOR,
	OPT_RENDER_OPTION,
	OPT_SORT,
	OPT_COLLAPSED_ROOTS,
	OPT_LAST,
	OPT_COMM,
	OPT_CMDLINE,
	OPT_CGROUP,
	OPT_CONTAINER,
	OPT_IDLE,
	OPT_NO_IDLE,
	OPT_MODE,
	OPT_MIN_BLOCK,
	OPT_GROUP_BY,
	OPT_DELAY,
	OPT_CLOCK,
	OPT_NONBLOCKING,
	OPT_ASYNC,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_DIR,
	OPT_METRICS,
	OPT_SLICE,
	OPT_KEEP_FOR,
	OPT_KEEP_SIZE,
	OPT_WINDOW,
	OPT_JSON,
	OPT_PUSH,
	OPT_PUSH_OTLP,
	OPT_PUSH_QUEUE,
	OPT_PUSH_QUEUE_SIZE,
	OPT_PUSH_TIMEOUT,
};

/* The options of the reports, the same for record and report. */
/* clang-format off */
#define VIEW_OPTIONS                                                                          \
	{ "output", required_argument, NULL, 'o' },                                           \
	{ "outfile", required_argument, NULL, 'o' },                                          \
	{ "format", required_argument, NULL, 'r' },                                           \
	{ "renderer", required_argument, NULL, 'r' },                                         \
	{ "granularity", required_argument, NULL, OPT_GRANULARITY },                          \
	{ "hide", required_argument, NULL, OPT_HIDE },                                        \
	{ "hide-regex", required_argument, NULL, OPT_HIDE_REGEX },                            \
	{ "show", required_argument, NULL, OPT_SHOW },                                        \
	{ "show-regex", required_argument, NULL, OPT_SHOW_REGEX },                            \
	{ "show-all", no_argument, NULL, OPT_SHOW_ALL },                                      \
	{ "unicode", no_argument, NULL, OPT_UNICODE },                                        \
	{ "no-unicode", no_argument, NULL, OPT_NO_UNICODE },                                  \
	{ "color", no_argument, NULL, OPT_COLOR },                                            \
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },                                      \
	{ "render-option", required_argument, NULL, OPT_RENDER_OPTION },                      \
	{ "timeline", no_argument, NULL, 't' },                                               \
	{ "sort", required_argument, NULL, OPT_SORT },                                        \
	{ "collapsed-roots", required_argument, NULL, OPT_COLLAPSED_ROOTS },                  \
	{ "idle", no_argument, NULL, OPT_IDLE },                                              \
	{ "no-idle", no_argument, NULL, OPT_NO_IDLE },                                        \
	{ "group-by", required_argument, NULL, OPT_GROUP_BY },                                \
	{ "verbose", no_argument, NULL, 'v' },                                                \
	{ "help", no_argument, NULL, 'h' },                                                   \
	{ "version", no_argument, NULL, OPT_VERSION }
/* clang-format on */

/* What to profile and how often: the same for record and top. */
/* clang-format off */
#define TARGET_OPTIONS                                                                        \
	{ "pid", required_argument, NULL, 'p' },                                              \
	{ "subprocesses", no_argument, NULL, 's' },                                           \
	{ "all", no_argument, NULL, 'a' },                                                    \
	{ "duration", required_argument, NULL, 'd' },                                         \
	{ "rate", required_argument, NULL, 'F' },                                             \
	{ "interval", required_argument, NULL, 'i' },                                         \
	{ "comm", required_argument, NULL, OPT_COMM },                                        \
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },                                  \
	{ "cgroup", required_argument, NULL, OPT_CGROUP },                                    \
	{ "mode", required_argument, NULL, OPT_MODE },                                        \
	{ "clock", required_argument, NULL, OPT_CLOCK },                                      \
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },                              \
	{ "container", required_argument, NULL, OPT_CONTAINER },                              \
	{ "nonblocking", no_argument, NULL, OPT_NONBLOCKING },                                \
	{ "async", no_argument, NULL, OPT_ASYNC }
/* clang-format on */

static const struct option record_options[] = {
	TARGET_OPTIONS,
	{ "quiet", no_argument, NULL, 'q' },
	VIEW_OPTIONS,
	{ 0 },
};

static const struct option dump_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "subprocesses", no_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "async", no_argument, NULL, OPT_ASYNC },
	{ "nonblocking", no_argument, NULL, OPT_NONBLOCKING },
	{ "color", no_argument, NULL, OPT_COLOR },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

static const struct option top_options[] = {
	TARGET_OPTIONS,
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "granularity", required_argument, NULL, OPT_GRANULARITY },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

static const struct option report_options[] = {
	{ "last", no_argument, NULL, OPT_LAST },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	VIEW_OPTIONS,
	{ 0 },
};

/* record's targets but -p, -d and a command: the agent profiles a host, or its cgroups */
static const struct option agent_options[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "rate", required_argument, NULL, 'F' },
	{ "interval", required_argument, NULL, 'i' },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "slice", required_argument, NULL, OPT_SLICE },
	{ "keep-for", required_argument, NULL, OPT_KEEP_FOR },
	{ "keep-size", required_argument, NULL, OPT_KEEP_SIZE },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "push", required_argument, NULL, OPT_PUSH },
	{ "push-otlp", required_argument, NULL, OPT_PUSH_OTLP },
	{ "push-queue", required_argument, NULL, OPT_PUSH_QUEUE },
	{ "push-queue-size", required_argument, NULL, OPT_PUSH_QUEUE_SIZE },
	{ "push-timeout", required_argument, NULL, OPT_PUSH_TIMEOUT },
	{ "group-by", required_argument, NULL, OPT_GROUP_BY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

static const struct option status_options[] = {
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

static const struct option snapshot_options[] = {
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "last", required_argument, NULL, OPT_LAST },
	VIEW_OPTIONS,
	{ 0 },
};

/* getopt's short options: "+" stops at the command record or top runs, ":" reports a
 * missing value as ':' */
#define RECORD_SHORTS "+:p:sad:F:i:o:r:tqvh"
#define TOP_SHORTS "+:p:sad:F:i:vh"
#define REPORT_SHORTS ":p:o:r:tvh"
#define DUMP_SHORTS ":p:svh"
#define AGENT_SHORTS ":aF:i:qvh"
#define STATUS_SHORTS ":h"
#define SNAPSHOT_SHORTS ":o:r:p:tvh"

static const struct opts_command commands[] = {
	{ "record", RECORD_SHORTS, record_options },
	{ "top", TOP_SHORTS, top_options },
	{ "report", REPORT_SHORTS, report_options },
	{ "dump", DUMP_SHORTS, dump_options },
	{ "agent", AGENT_SHORTS, agent_options },
	{ "status", STATUS_SHORTS, status_options },
	{ "snapshot", SNAPSHOT_SHORTS, snapshot_options },
};

const struct opts_command *opts_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static enum opts_result usage(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum opts_result usage(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return OPTS_USAGE;
}

static bool parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && isfinite(*out);
}

/* Appends the PIDs of "PID[,PID...]" to @pids (holding *@n of at most OPTS_MAX_PIDS). */
static bool parse_pid_list(pid_t *pids, size_t *n, const char *arg)
{
	const char *p = arg;
	size_t before = *n;

	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v <= 0 || v > INT_MAX || (*end && *end != ','))
			return false;
		if (*n < OPTS_MAX_PIDS)
			pids[*n] = (pid_t)v;
		++*n; /* counted past the limit, for pid_list_option() to say so */
		p = *end ? end + 1 : end;
	}
	return *n > before;
}

/* -p LIST (given once or more): OPTS_OK, or a usage error that says what is wrong. */
static enum opts_result pid_list_option(pid_t *pids, size_t *n, const char *arg, char *err,
					size_t errlen)
{
	if (!parse_pid_list(pids, n, arg))
		return usage(err, errlen, "bad PID list '%.64s': expected PID[,PID...]", arg);
	if (*n > OPTS_MAX_PIDS) {
		usage(err, errlen, "-p names %zu PIDs, more than the limit of %d: give at most %d",
		      *n, OPTS_MAX_PIDS, OPTS_MAX_PIDS);
		*n = OPTS_MAX_PIDS;
		return OPTS_USAGE;
	}
	return OPTS_OK;
}

/* --- the view options, shared -------------------------------------------------------------- */

struct view {
	struct output_spec *outputs;
	size_t *n_outputs;
	struct render_opts *render;
	struct frame_filter *filter;
	enum opts_color *color;
	const char *format; /* -r */
	bool flat;	    /* -p flat */
	bool show_all;
	const char *hide;	       /* the first hiding rule, for the --show-all conflict */
	enum spelling_command command; /* whose options: for the hints */
};

static int add_rule(struct view *v, enum frame_filter_rule rule, const char *opt,
		    const char *pattern, char *err, size_t errlen)
{
	char why[128];
	int ret = frame_filter__add(v->filter, rule, pattern, why, sizeof(why));

	if (ret == -ENOMEM) {
		usage(err, errlen, "out of memory");
		return -1;
	}
	if (ret) {
		usage(err, errlen, "bad %s '%s': %s", opt, pattern, why);
		return -1;
	}
	if ((rule == FILTER_HIDE_GLOB || rule == FILTER_HIDE_REGEX) && !v->hide)
		v->hide = opt;
	return 0;
}

static bool parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	if (!value) {
		*out = true; /* a bare flag: -p flat */
		return true;
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(value, yes[i]) || !strcasecmp(value, no[i])) {
			*out = !strcasecmp(value, yes[i]);
			return true;
		}
	}
	return false;
}

static int parse_granularity(struct render_opts *render, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "function")) {
		render->granularity = GRANULARITY_FUNCTION;
	} else if (!strcmp(arg, "line")) {
		render->granularity = GRANULARITY_LINE;
	} else {
		usage(err, errlen, "bad granularity '%s': expected function or line", arg);
		return -1;
	}
	return 0;
}

/* --sort KEY into @render (record's flat view, top's first order). */
static int parse_sort(struct render_opts *render, const char *arg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum flat_sort sort;
	} keys[] = {
		{ "self", FLAT_SORT_SELF },
		{ "own", FLAT_SORT_SELF },     /* py-spy top's name */
		{ "tottime", FLAT_SORT_SELF }, /* pstats' names */
		{ "time", FLAT_SORT_SELF },
		{ "total", FLAT_SORT_TOTAL },
		{ "cumulative", FLAT_SORT_TOTAL },
		{ "cumtime", FLAT_SORT_TOTAL },
		{ "name", FLAT_SORT_NAME },
		{ "file", FLAT_SORT_FILE },
		{ "filename", FLAT_SORT_FILE },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strcmp(arg, keys[i].name)) {
			render->sort = keys[i].sort;
			return 0;
		}
	}
	usage(err, errlen, "bad sort key '%s': expected self, total, name or file", arg);
	return -1;
}

static int parse_roots(struct view *v, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;
	unsigned roots = 0;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 7 && !strncmp(p, "process", n))
			roots |= COLLAPSED_ROOT_PROCESS;
		else if (n == 6 && !strncmp(p, "thread", n))
			roots |= COLLAPSED_ROOT_THREAD;
		else if (!(n == 4 && !strncmp(p, "none", n)))
			break;
		p += n + (p[n] == ',');
	}
	if (*p || !*arg) {
		usage(err, errlen,
		      "bad --collapsed-roots '%s': expected process, thread, "
		      "process,thread or none",
		      arg);
		return -1;
	}
	v->render->collapsed_roots = roots;
	return 0;
}

/* "percent_of_total", "'x'" and "\"x\"" alike: pyinstrument parses values as JSON. */
static char *unquote(char *value)
{
	size_t n = strlen(value);

	if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
		value[n - 1] = '\0';
		return value + 1;
	}
	return value;
}

/* -p KEY[=VALUE]: pyinstrument's render options that mean something here. */
static int render_option(struct view *v, const char *arg, char *err, size_t errlen)
{
	char *copy = strdup(arg), *key, *value, *eq;
	bool flag;
	int ret = -1;

	if (!copy) {
		usage(err, errlen, "out of memory");
		return -1;
	}
	eq = strchr(copy, '=');
	if (eq)
		*eq = '\0';
	key = copy;
	value = eq ? unquote(eq + 1) : NULL;
	if (!strncmp(key, "processor_options.", 18))
		key += 18;

	if (!strcmp(key, "time")) {
		if (value && !strcmp(value, "percent_of_total"))
			v->render->percent = true;
		else if (value && !strcmp(value, "seconds"))
			v->render->percent = false;
		else
			goto bad_value;
	} else if (!strcmp(key, "filter_threshold")) {
		double t;

		if (!value || !parse_double(value, &t) || t < 0 || t > 1)
			goto bad_value;
		v->render->prune_share = t;
	} else if (!strcmp(key, "flat_time")) {
		if (!value || (strcmp(value, "self") && strcmp(value, "total")))
			goto bad_value;
		v->render->sort = value[0] == 's' ? FLAT_SORT_SELF : FLAT_SORT_TOTAL;
	} else if (!strcmp(key, "hide_regex") || !strcmp(key, "show_regex")) {
		if (!value)
			goto bad_value;
		if (add_rule(v, key[0] == 'h' ? FILTER_HIDE_REGEX : FILTER_SHOW_REGEX,
			     key[0] == 'h' ? "-p hide_regex" : "-p show_regex", value, err, errlen))
			goto out;
	} else if (!strcmp(key, "flat") || !strcmp(key, "timeline") || !strcmp(key, "show_all") ||
		   !strcmp(key, "unicode") || !strcmp(key, "color")) {
		if (!parse_bool(value, &flag))
			goto bad_value;
		if (key[0] == 'f')
			v->flat = flag;
		else if (key[0] == 't')
			v->render->timeline = flag;
		else if (key[0] == 's')
			v->show_all = flag;
		else if (key[0] == 'u')
			v->render->unicode = flag;
		else
			*v->color = flag ? OPTS_COLOR_ALWAYS : OPTS_COLOR_NEVER;
	} else {
		usage(err, errlen,
		      "unknown render option '%s' (-p takes time=percent_of_total, "
		      "filter_threshold=X, flat, flat_time=self|total, timeline, show_all, "
		      "unicode, color, hide_regex=RE or show_regex=RE)",
		      arg);
		goto out;
	}
	ret = 0;
	goto out;
bad_value:
	usage(err, errlen, "bad render option '%s': expected %s", arg,
	      !strcmp(key, "time")	       ? "time=seconds or time=percent_of_total" :
	      !strcmp(key, "filter_threshold") ? "filter_threshold=X, X from 0 to 1" :
	      !strcmp(key, "flat_time")	       ? "flat_time=self or flat_time=total" :
	      value			       ? "true or false" :
						 "a value");
out:
	free(copy);
	return ret;
}

/* Handles one view option: 1 done, 0 not one of them, -1 a usage error (in @err). */
static int view_option(struct view *v, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case 'o':
		if (*v->n_outputs == OPTS_MAX_OUTPUTS) {
			usage(err, errlen, "at most %d outputs (-o)", OPTS_MAX_OUTPUTS);
			return -1;
		}
		v->outputs[(*v->n_outputs)++].path = arg;
		return 1;
	case 'r':
		v->format = arg;
		return 1;
	case OPT_GRANULARITY:
		return parse_granularity(v->render, arg, err, errlen) ? -1 : 1;
	case OPT_HIDE:
		return add_rule(v, FILTER_HIDE_GLOB, "--hide", arg, err, errlen) ? -1 : 1;
	case OPT_HIDE_REGEX:
		return add_rule(v, FILTER_HIDE_REGEX, "--hide-regex", arg, err, errlen) ? -1 : 1;
	case OPT_SHOW:
		return add_rule(v, FILTER_SHOW_GLOB, "--show", arg, err, errlen) ? -1 : 1;
	case OPT_SHOW_REGEX:
		return add_rule(v, FILTER_SHOW_REGEX, "--show-regex", arg, err, errlen) ? -1 : 1;
	case OPT_SHOW_ALL:
		v->show_all = true;
		return 1;
	case OPT_UNICODE:
	case OPT_NO_UNICODE:
		v->render->unicode = c == OPT_UNICODE;
		return 1;
	case OPT_COLOR:
	case OPT_NO_COLOR:
		*v->color = c == OPT_COLOR ? OPTS_COLOR_ALWAYS : OPTS_COLOR_NEVER;
		return 1;
	case OPT_RENDER_OPTION:
		return render_option(v, arg, err, errlen) ? -1 : 1;
	case 't':
		v->render->timeline = true;
		return 1;
	case OPT_SORT:
		return parse_sort(v->render, arg, err, errlen) ? -1 : 1;
	case OPT_COLLAPSED_ROOTS:
		return parse_roots(v, arg, err, errlen) ? -1 : 1;
	case OPT_IDLE:
	case OPT_NO_IDLE:
		v->render->idle = c == OPT_IDLE ? IDLE_KEEP : IDLE_DROP;
		return 1;
	case OPT_GROUP_BY:
		if (!group_by_parse(arg, &v->render->group_by)) {
			usage(err, errlen,
			      "bad --group-by '%s': expected process, cmdline, "
			      "container or none",
			      arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

/* --color, --no-color, or auto: a terminal on stdout and no NO_COLOR (no-color.org). */
static bool want_color(enum opts_color color)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (color != OPTS_COLOR_AUTO)
		return color == OPTS_COLOR_ALWAYS;
	return isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
	       !(term && !strcmp(term, "dumb"));
}

/* -r NAME, or py-spy's name of the format (flamegraph is the SVG flame graph). */
static const struct renderer *format_by_name(const char *name)
{
	return renderer_by_name(spelling_format(name));
}

/* "text (.txt), speedscope (.speedscope.json), ..., flat, ...": the formats, their extensions. */
static void format_list(char *buf, size_t len)
{
	char names[256], *p, *next;
	size_t used = 0;

	renderer_names(names, sizeof(names));
	buf[0] = '\0';
	for (p = strtok_r(names, ", ", &next); p && used < len; p = strtok_r(NULL, ", ", &next)) {
		const struct renderer *r = renderer_by_name(p);
		const char *const *ext;

		used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "", p);
		for (ext = r ? r->extensions : NULL; ext && *ext && used < len; ext++)
			used += snprintf(buf + used, len - used, "%s%s",
					 ext == r->extensions ? " (" : " ", *ext);
		if (r && r->extensions && *r->extensions && used < len)
			used += snprintf(buf + used, len - used, ")");
	}
}

/*
 * An output's format when -r does not say: its extension's, text for a name without one
 * ("profile", "-"). An extension pyflare does not know is refused, not written as text.
 */
static const struct renderer *format_by_path(const char *path, char *err, size_t errlen)
{
	const struct renderer *r = renderer_by_path(path);
	const char *base = strrchr(path, '/'), *dot;
	char list[200];

	if (r)
		return r;
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot) {
		usage(err, errlen, "-o '%.80s' names no file", path);
		return NULL;
	}
	format_list(list, sizeof(list));
	usage(err, errlen, "unknown output extension '%.20s': give -r FORMAT, or one of %s", dot,
	      list);
	return NULL;
}

/* Picks each output's format and checks what the view options say together. */
static enum opts_result finish_view(struct view *v, char *err, size_t errlen)
{
	const struct renderer *chosen = NULL;
	size_t i;

	if (v->format) {
		chosen = format_by_name(v->format);
		if (!chosen) {
			char names[128], hint[200];

			if (spelling_format_refusal(v->format, v->command, hint, sizeof(hint)))
				return usage(err, errlen, "unknown format '%s': %s", v->format,
					     hint);
			renderer_names(names, sizeof(names));
			return usage(err, errlen, "unknown format '%s': expected one of %s",
				     v->format, names);
		}
		if (v->flat && chosen != &render_flat)
			return usage(err, errlen,
				     "-p flat asks for the flat view, -r for %s: "
				     "give one of them",
				     chosen->name);
	}
	if (v->show_all && v->hide)
		return usage(err, errlen,
			     "--show-all shows every frame: it cannot be combined "
			     "with %s",
			     v->hide);
	if (v->show_all)
		frame_filter__show_all(v->filter);
	if (*v->n_outputs == 0)
		v->outputs[(*v->n_outputs)++].path = "-";
	/* -r wins; otherwise the extension says (none: text) */
	for (i = 0; i < *v->n_outputs; i++) {
		const struct renderer *f =
			chosen ? chosen : format_by_path(v->outputs[i].path, err, errlen);

		if (!f)
			return OPTS_USAGE;

		/* -p flat is an option of the text report, as in pyinstrument */
		if (v->flat && f == &render_text)
			f = &render_flat;
		if (f == &render_flat && v->render->timeline)
			return usage(err, errlen,
				     "the flat view has no time order: give either "
				     "-t/--timeline or the flat view");
		v->outputs[i].format = f;
	}
	v->render->color = want_color(*v->color);
	return OPTS_OK;
}

/*
 * Default view options, the filter hiding library code, and getopt started afresh. Returns
 * false without memory.
 */
static bool init_view(struct view *v, enum spelling_command command, struct output_spec *outputs,
		      size_t *n_outputs, struct render_opts *render, struct frame_filter **filter,
		      enum opts_color *color)
{
	optind = 0; /* 0: glibc starts afresh (argument order, a cut-short cluster) */
	opterr = 0;
	*render = render_opts_default;
	*filter = frame_filter__new();
	render->filter = *filter;
	*v = (struct view){
		.outputs = outputs,
		.n_outputs = n_outputs,
		.render = render,
		.filter = *filter,
		.color = color,
		.command = command,
	};
	return *filter != NULL;
}

/* -p with no PID after it: `-p $(pgrep -d, x)` when nothing matched. */
static enum opts_result empty_pid(const char *next, char *err, size_t errlen)
{
	return usage(err, errlen,
		     "-p has no PID%s%s%s (did $(pgrep ...) find nothing?): give -p "
		     "PID[,PID...]",
		     *next ? " before '" : "", next, *next ? "'" : "");
}

/* An option no command takes, with what to type instead when it is a peer's spelling. */
static enum opts_result unknown_option(int argc, char **argv, enum spelling_command command,
				       char *err, size_t errlen)
{
	char opt[3] = { '-', (char)optopt, '\0' }, hint[256];
	/* a short option is in optopt (argv[optind - 1] may be an earlier word of a cluster) */
	const char *name = optopt ? opt : argv[optind - 1];
	const char *next = optopt && optind < argc && !strcmp(argv[optind], opt) ?
				   argv[optind + 1] :
			   optind < argc ? argv[optind] :
					   NULL;

	if (spelling_hint(name, next, command, hint, sizeof(hint)))
		return usage(err, errlen, "unknown option '%s': %s", name, hint);
	return usage(err, errlen, "unknown option '%s'", name);
}

/* What is left after each command's own options: help, version, and getopt's errors. */
static enum opts_result last_option(int c, int argc, char **argv, enum spelling_command command,
				    void (*print_help)(void), char *err, size_t errlen)
{
	switch (c) {
	case 'h':
		print_help();
		return OPTS_EXIT;
	case OPT_VERSION:
		version_print();
		return OPTS_EXIT;
	case ':':
		if (optopt == 'p')
			return usage(err, errlen,
				     "option '-p' needs a value: no PID (did $(pgrep ...) find "
				     "nothing?); give -p PID[,PID...]");
		return usage(err, errlen, "option '%s' needs a value", argv[optind - 1]);
	default:
		return unknown_option(argc, argv, command, err, errlen);
	}
}

/* Frees what init_view() allocated. */
static void release_view(struct frame_filter **filter, struct render_opts *render)
{
	frame_filter__free(*filter);
	*filter = NULL;
	render->filter = NULL;
}

/* --- record -------------------------------------------------------------------------------- */

/* --comm RE / --cmdline RE: one more rule every profiled process must match. */
static enum opts_result add_proc_rule(struct record_opts *o, enum proc_filter_field field,
				      const char *regex, char *err, size_t errlen)
{
	const char *opt = field == PROC_FILTER_COMM ? "--comm" : "--cmdline";
	char why[128];
	int ret;

	if (!o->procs && !(o->procs = proc_filter__new()))
		return usage(err, errlen, "out of memory");
	ret = proc_filter__add(o->procs, field, regex, why, sizeof(why));
	if (ret == -ENOMEM)
		return usage(err, errlen, "out of memory");
	if (ret)
		return usage(err, errlen, "bad %s '%s': %s", opt, regex, why);
	return OPTS_OK;
}

/* The options of the targets whose meaning depends on others: settled at the end. */
struct sampling {
	const char *rate, *interval, *mode, *clock;
	double min_block; /* < 0: not given */
};

/*
 * One option of the targets, process filters and sampling, the same for record and top:
 * 1 done, 0 not one of them, -1 a usage error (in @err).
 */
static int target_option(struct record_opts *o, struct sampling *sm, int c, const char *arg,
			 char *err, size_t errlen)
{
	switch (c) {
	case 'p':
		if (spelling_empty_pid(arg)) {
			empty_pid(arg, err, errlen);
			return -1;
		}
		if (pid_list_option(o->pids, &o->n_pids, arg, err, errlen) != OPTS_OK)
			return -1;
		if (o->target && o->target != TARGET_PIDS) {
			usage(err, errlen, "-p cannot be combined with -a");
			return -1;
		}
		o->target = TARGET_PIDS;
		return 1;
	case 's': /* py-spy's; a command's descendants and -a's processes are followed anyway */
		o->subprocesses = true;
		return 1;
	case 'a':
		if (o->target == TARGET_PIDS) {
			usage(err, errlen, "-a cannot be combined with -p");
			return -1;
		}
		o->target = TARGET_ALL;
		return 1;
	case 'd':
		/* py-spy's -d unlimited: the default, until the targets exit or Ctrl-C */
		if (!strcmp(arg, "unlimited")) {
			o->duration = 0;
			return 1;
		}
		if (!parse_double(arg, &o->duration) || o->duration <= 0) {
			usage(err, errlen,
			      "bad duration '%s': expected seconds > 0 (or unlimited, the "
			      "default)",
			      arg);
			return -1;
		}
		return 1;
	case 'F':
		sm->rate = arg;
		return 1;
	case 'i':
		sm->interval = arg;
		return 1;
	case OPT_COMM:
	case OPT_CMDLINE:
		return add_proc_rule(o, c == OPT_COMM ? PROC_FILTER_COMM : PROC_FILTER_CMDLINE, arg,
				     err, errlen) ?
			       -1 :
			       1;
	case OPT_CGROUP:
	case OPT_CONTAINER:
		if (o->n_cgroups == OPTS_MAX_CGROUPS) {
			usage(err, errlen, "too many --cgroup/--container: at most %d",
			      OPTS_MAX_CGROUPS);
			return -1;
		}
		if (!*arg) {
			usage(err, errlen, "empty --%s", c == OPT_CGROUP ? "cgroup" : "container");
			return -1;
		}
		if (c == OPT_CONTAINER && !container_id_prefix_ok(arg)) {
			usage(err, errlen,
			      "bad container id '%s': expected 1 to 64 hex digits, as "
			      "`docker ps` or `crictl ps` shows them",
			      arg);
			return -1;
		}
		o->cgroups[o->n_cgroups++] = (struct cgroup_arg){ arg, c == OPT_CONTAINER };
		return 1;
	case OPT_MODE:
		if (strcmp(arg, "wall") && strcmp(arg, "cpu")) {
			usage(err, errlen,
			      "bad mode '%s': expected wall (on- and off-CPU time) or "
			      "cpu (on-CPU only)",
			      arg);
			return -1;
		}
		sm->mode = arg;
		return 1;
	case OPT_CLOCK:
		if (strcmp(arg, sample_clock_name(SAMPLE_CLOCK_TIMER)) &&
		    strcmp(arg, sample_clock_name(SAMPLE_CLOCK_TICK))) {
			usage(err, errlen,
			      "bad clock '%s': expected timer (a perf timer at -F's "
			      "rate) or tick (the scheduler tick, at the kernel's rate)",
			      arg);
			return -1;
		}
		sm->clock = arg;
		return 1;
	case OPT_MIN_BLOCK:
		if (!parse_double(arg, &sm->min_block) || sm->min_block < 0 || sm->min_block > 10) {
			usage(err, errlen,
			      "bad --min-block '%s': expected seconds from 0 to 10 "
			      "(default 0.0001)",
			      arg);
			return -1;
		}
		return 1;
	case 'v':
		o->verbose++;
		return 1;
	case OPT_ASYNC:
		o->async = true;
		return 1;
	case OPT_NONBLOCKING: /* py-spy's: pyflare never pauses its targets anyway */
		return 1;
	default:
		return 0;
	}
}

/*
 * --clock tick: the rate is the kernel's (0 when unknown: recording says why and what to
 * do), and one asked for is a mistake.
 */
static enum opts_result tick_rate(struct record_opts *o, const struct sampling *sm, char *err,
				  size_t errlen)
{
	char here[32] = "unknown here";

	if (tick_clock_hz(&o->rate_hz))
		o->rate_hz = 0;
	else
		snprintf(here, sizeof(here), "%u Hz here", o->rate_hz);
	if (sm->rate || sm->interval)
		return usage(err, errlen,
			     "--clock tick samples at the kernel's tick rate (%s); "
			     "drop %s or use --clock timer",
			     here, sm->rate ? "-F" : "-i");
	return OPTS_OK;
}

/* After the options: the command (argv[optind...]), the target, the mode and the rate. */
static enum opts_result finish_targets(struct record_opts *o, const struct sampling *sm, int argc,
				       char **argv, char *err, size_t errlen)
{
	if (optind < argc) {
		if (o->target)
			return usage(err, errlen, "a command cannot be combined with -p or -a");
		o->target = TARGET_COMMAND;
		o->argv = argv + optind;
	}
	if (!o->target && o->n_cgroups)
		o->target = TARGET_ALL; /* every Python process of those cgroups */
	if (!o->target)
		return usage(err, errlen,
			     "nothing to profile: give -p PID, -a, --container ID, "
			     "--cgroup PATH or -- COMMAND");

	/* pyinstrument's wall time for a program; on-CPU time host-wide, as the eBPF agents */
	o->wall = sm->mode ? !strcmp(sm->mode, "wall") :
			     o->target == TARGET_COMMAND || o->target == TARGET_PIDS;
	if (sm->min_block >= 0 && !o->wall)
		return usage(err, errlen, "--min-block is for --mode wall");
	o->min_block_ns =
		sm->min_block >= 0 ? (uint64_t)llround(sm->min_block * 1e9) : MIN_BLOCK_NS;
	if (sm->rate && sm->interval)
		return usage(err, errlen, "give either --rate or --interval, not both");
	o->clock = SAMPLE_CLOCK_DEFAULT;
	if (sm->clock)
		o->clock = strcmp(sm->clock, sample_clock_name(SAMPLE_CLOCK_TICK)) ?
				   SAMPLE_CLOCK_TIMER :
				   SAMPLE_CLOCK_TICK;
	if (o->clock == SAMPLE_CLOCK_TICK)
		return tick_rate(o, sm, err, errlen);
	o->rate_hz = o->target == TARGET_COMMAND ? RATE_COMMAND_HZ : RATE_ATTACH_HZ;
	if (sm->rate) {
		double hz;

		if (!parse_double(sm->rate, &hz) || hz < 1 || hz > RATE_MAX_HZ || hz != floor(hz))
			return usage(err, errlen,
				     "bad rate '%s': expected a whole number of Hz "
				     "from 1 to %d",
				     sm->rate, RATE_MAX_HZ);
		o->rate_hz = (unsigned)hz;
	}
	if (sm->interval) {
		double s;

		if (!parse_double(sm->interval, &s) || s < 1.0 / RATE_MAX_HZ || s > 1)
			return usage(err, errlen,
				     "bad interval '%s': expected seconds from "
				     "0.00001 to 1",
				     sm->interval);
		o->rate_hz = (unsigned)lround(1 / s);
	}
	return OPTS_OK;
}

static enum opts_result parse_record(int argc, char **argv, struct record_opts *o, char *err,
				     size_t errlen)
{
	struct sampling sm = { .min_block = -1 };
	enum opts_result res;
	struct view v;
	int c, r;

	if (!init_view(&v, SPELLING_RECORD, o->outputs, &o->n_outputs, &o->render, &o->filter,
		       &o->color))
		return usage(err, errlen, "out of memory");
	/* "+": stop at the first non-option, so the command's own options are left alone */
	while ((c = getopt_long(argc, argv, RECORD_SHORTS, record_options, NULL)) != -1) {
		/* PIDs start with a digit, pyinstrument's render options never do */
		if (c == 'p' && !spelling_empty_pid(optarg) &&
		    !(optarg[0] >= '0' && optarg[0] <= '9')) {
			if (render_option(&v, optarg, err, errlen))
				return OPTS_USAGE;
			continue;
		}
		r = view_option(&v, c, optarg, err, errlen);
		if (!r)
			r = target_option(o, &sm, c, optarg, err, errlen);
		if (r < 0)
			return OPTS_USAGE;
		if (r)
			continue;
		if (c == 'q')
			o->quiet = true;
		else
			return last_option(c, argc, argv, SPELLING_RECORD, opts_print_record_help,
					   err, errlen);
	}
	res = finish_targets(o, &sm, argc, argv, err, errlen);
	return res ? res : finish_view(&v, err, errlen);
}

enum opts_result opts_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				   size_t errlen)
{
	enum opts_result res;

	memset(o, 0, sizeof(*o));
	res = parse_record(argc, argv, o, err, errlen);
	/* Nothing to release unless the caller goes on */
	if (res != OPTS_OK)
		opts_release_record(o);
	return res;
}

void opts_release_record(struct record_opts *o)
{
	if (!o)
		return;
	release_view(&o->filter, &o->render);
	proc_filter__free(o->procs);
	o->procs = NULL;
}

/* --- top ----------------------------------------------------------------------------------- */

static enum opts_result parse_top(int argc, char **argv, struct top_opts *o, char *err,
				  size_t errlen)
{
	struct record_opts *rec = &o->record;
	struct sampling sm = { .min_block = -1 };
	int c, r;

	optind = 0;
	opterr = 0;
	rec->render = render_opts_default;
	rec->quiet = true; /* the view is the progress */
	o->delay = TOP_DELAY_DEFAULT;
	while ((c = getopt_long(argc, argv, TOP_SHORTS, top_options, NULL)) != -1) {
		r = target_option(rec, &sm, c, optarg, err, errlen);
		if (r < 0)
			return OPTS_USAGE;
		if (r)
			continue;
		switch (c) {
		case OPT_DELAY:
			if (!parse_double(optarg, &o->delay) || o->delay < TOP_DELAY_MIN ||
			    o->delay > TOP_DELAY_MAX)
				return usage(err, errlen,
					     "bad --delay '%s': expected seconds from "
					     "%g to %g",
					     optarg, TOP_DELAY_MIN, TOP_DELAY_MAX);
			break;
		case OPT_GRANULARITY:
			if (parse_granularity(&rec->render, optarg, err, errlen))
				return OPTS_USAGE;
			break;
		case OPT_SORT:
			if (parse_sort(&rec->render, optarg, err, errlen))
				return OPTS_USAGE;
			break;
		default:
			return last_option(c, argc, argv, SPELLING_TOP, opts_print_top_help, err,
					   errlen);
		}
	}
	return finish_targets(rec, &sm, argc, argv, err, errlen);
}

enum opts_result opts_parse_top(int argc, char **argv, struct top_opts *o, char *err, size_t errlen)
{
	enum opts_result res;

	memset(o, 0, sizeof(*o));
	res = parse_top(argc, argv, o, err, errlen);
	if (res != OPTS_OK)
		opts_release_top(o);
	return res;
}

void opts_release_top(struct top_opts *o)
{
	if (o)
		opts_release_record(&o->record);
}

/* --- report -------------------------------------------------------------------------------- */

static uint64_t realtime_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* --since/--until TIME into *@t: 0, or -1 after a usage error. */
static int time_option(const char *opt, const char *arg, uint64_t *t, char *err, size_t errlen)
{
	if (parse_time_point(arg, realtime_now_ns(), t) && *t)
		return 0;
	usage(err, errlen,
	      "bad %s '%s': expected a time before now (10m, 2h, 1d), a time of day (03:05, "
	      "03:05:30), a date and time (2026-12-06 03:05, Z after it for UTC), @SECONDS "
	      "or now",
	      opt, arg);
	return -1;
}

static enum opts_result parse_report(int argc, char **argv, struct report_opts *o, char *err,
				     size_t errlen)
{
	struct view v;
	int c, r;

	if (!init_view(&v, SPELLING_REPORT, o->outputs, &o->n_outputs, &o->render, &o->filter,
		       &o->color))
		return usage(err, errlen, "out of memory");
	while ((c = getopt_long(argc, argv, REPORT_SHORTS, report_options, NULL)) != -1) {
		r = view_option(&v, c == 'p' ? OPT_RENDER_OPTION : c, optarg, err, errlen);
		if (r < 0)
			return OPTS_USAGE;
		if (r)
			continue;
		switch (c) {
		case OPT_LAST:
			o->last = true;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (time_option(c == OPT_SINCE ? "--since" : "--until", optarg,
					c == OPT_SINCE ? &o->since_ns : &o->until_ns, err, errlen))
				return OPTS_USAGE;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			return last_option(c, argc, argv, SPELLING_REPORT, opts_print_report_help,
					   err, errlen);
		}
	}
	for (; optind < argc; optind++) {
		if (o->n_files == OPTS_MAX_FILES)
			return usage(err, errlen, "at most %d recordings at once", OPTS_MAX_FILES);
		o->files[o->n_files++] = argv[optind];
	}
	if (o->last && o->n_files)
		return usage(err, errlen, "give either recordings or --last, not both");
	if (!o->last && !o->n_files)
		return usage(err, errlen,
			     "nothing to report: give FILE..., an agent's folder or --last");
	if (o->since_ns && o->until_ns && o->until_ns <= o->since_ns)
		return usage(err, errlen, "--until is not after --since: the window is empty");
	return finish_view(&v, err, errlen);
}

enum opts_result opts_parse_report(int argc, char **argv, struct report_opts *o, char *err,
				   size_t errlen)
{
	enum opts_result res;

	memset(o, 0, sizeof(*o));
	res = parse_report(argc, argv, o, err, errlen);
	if (res != OPTS_OK)
		opts_release_report(o);
	return res;
}

void opts_release_report(struct report_opts *o)
{
	if (o)
		release_view(&o->filter, &o->render);
}

/* --- dump ---------------------------------------------------------------------------------- */

static enum opts_result parse_dump(int argc, char **argv, struct dump_opts *o, char *err,
				   size_t errlen)
{
	enum opts_color color = OPTS_COLOR_AUTO;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, DUMP_SHORTS, dump_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (spelling_empty_pid(optarg))
				return empty_pid(optarg, err, errlen);
			if (pid_list_option(o->pids, &o->n_pids, optarg, err, errlen) != OPTS_OK)
				return OPTS_USAGE;
			break;
		case 's':
			o->subprocesses = true;
			break;
		case 'j':
			o->json = true;
			break;
		case OPT_ASYNC:
			o->async = true;
			break;
		case OPT_NONBLOCKING: /* py-spy's: dump never stops the process anyway */
			break;
		case OPT_COLOR:
		case OPT_NO_COLOR:
			color = c == OPT_COLOR ? OPTS_COLOR_ALWAYS : OPTS_COLOR_NEVER;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			return last_option(c, argc, argv, SPELLING_DUMP, opts_print_dump_help, err,
					   errlen);
		}
	}
	if (optind < argc)
		return usage(err, errlen, "unexpected argument '%s': give processes with -p",
			     argv[optind]);
	if (!o->n_pids)
		return usage(err, errlen, "nothing to dump: give -p PID[,PID...]");
	/* JSON is for programs: never coloured */
	o->color = !o->json && want_color(color);
	return OPTS_OK;
}

enum opts_result opts_parse_dump(int argc, char **argv, struct dump_opts *o, char *err,
				 size_t errlen)
{
	memset(o, 0, sizeof(*o));
	return parse_dump(argc, argv, o, err, errlen);
}

/* --- agent, status, snapshot ----------------------------------------------------------------- */

/* --dir DIR (or the default) into @dir: OPTS_OK or a usage error. */
static enum opts_result dir_option(const char *arg, char *dir, size_t len, char *err, size_t errlen)
{
	if (arg) {
		if (!*arg || strlen(arg) >= len)
			return usage(err, errlen, "bad --dir '%.64s': expected a folder", arg);
		snprintf(dir, len, "%s", arg);
		return OPTS_OK;
	}
	if (agent_default_dir(dir, len))
		return usage(err, errlen, "no folder for the agent (no HOME): give --dir DIR");
	return OPTS_OK;
}

/* --push-queue's number: profiles from 1 to 100000. */
static bool parse_push_queue(const char *arg, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 10);
	return !errno && end != arg && !*end && *arg != '-' && *v >= 1 && *v <= 100000;
}

/* --push and what goes with it. */
static enum opts_result push_option(struct agent_opts *o, int c, const char *arg, char *err,
				    size_t errlen)
{
	struct http_url url;
	uint64_t v;

	switch (c) {
	case OPT_PUSH:
		if (http_url_parse(arg, &url, err, errlen))
			return OPTS_USAGE;
		explicit_bzero(&url, sizeof(url));
		o->push.url = arg;
		return OPTS_OK;
	case OPT_PUSH_OTLP:
		/* opentelemetry-proto v1.10.0 renumbered the fields of profiles' Sample */
		return usage(err, errlen,
			     "--push-otlp is not supported: OTLP profiles is still in development "
			     "(opentelemetry-proto v1.10.0, profiles/v1development, changed its "
			     "wire format since v1.9.0); use --push (a Pyroscope server, or an "
			     "OpenTelemetry Collector's pyroscope receiver)");
	case OPT_GROUP_BY:
		if (!group_by_parse(arg, &o->push.group_by))
			return usage(err, errlen,
				     "bad --group-by '%s': expected process, cmdline, container or "
				     "none (what --push sends as one application)",
				     arg);
		return OPTS_OK;
	case OPT_PUSH_QUEUE:
		if (!parse_push_queue(arg, &v))
			return usage(err, errlen,
				     "bad --push-queue '%s': expected profiles from 1 to 100000 "
				     "(default %d)",
				     arg, PUSH_QUEUE_DEFAULT);
		o->push.max_profiles = (size_t)v;
		return OPTS_OK;
	case OPT_PUSH_QUEUE_SIZE:
		if (!parse_size_bytes(arg, &v) || v < 1024)
			return usage(err, errlen,
				     "bad --push-queue-size '%s': expected a size of 1K or more "
				     "(default 16M)",
				     arg);
		o->push.max_bytes = v;
		return OPTS_OK;
	case OPT_PUSH_TIMEOUT:
		if (!parse_duration_ns(arg, &v) || v < 100000000ULL || v > 600ULL * 1000000000ULL)
			return usage(err, errlen,
				     "bad --push-timeout '%s': expected seconds from 0.1 to 600 "
				     "(default %.0f)",
				     arg, PUSH_TIMEOUT_DEFAULT);
		o->push.timeout_s = (double)v / 1e9;
		return OPTS_OK;
	default:
		return OPTS_USAGE;
	}
}

static enum opts_result agent_option(struct agent_opts *o, int c, const char *arg, const char **dir,
				     char *err, size_t errlen)
{
	uint64_t v;

	switch (c) {
	case OPT_DIR:
		*dir = arg;
		return OPTS_OK;
	case OPT_METRICS: {
		struct metrics_address unused;

		if (metrics_address_parse(arg, &unused, err, errlen))
			return OPTS_USAGE;
		o->metrics = arg;
		return OPTS_OK;
	}
	case OPT_SLICE:
		if (!parse_duration_ns(arg, &v) || v < (uint64_t)(AGENT_SLICE_MIN * 1e9) ||
		    v > 86400ULL * 1000000000ULL)
			return usage(err, errlen,
				     "bad --slice '%s': expected seconds from 1 to 86400 (or 5m, "
				     "1h; default 60)",
				     arg);
		o->slice_s = (double)v / 1e9;
		return OPTS_OK;
	case OPT_KEEP_FOR:
		if (!parse_duration_ns(arg, &o->keep_for_ns))
			return usage(err, errlen,
				     "bad --keep-for '%s': expected a duration (24h, 7d, 90m; 0: "
				     "no age limit)",
				     arg);
		return OPTS_OK;
	case OPT_KEEP_SIZE:
		if (!parse_size_bytes(arg, &o->keep_bytes))
			return usage(err, errlen,
				     "bad --keep-size '%s': expected a size (1G, 500M; 0: no size "
				     "limit)",
				     arg);
		return OPTS_OK;
	case OPT_WINDOW:
		if (!parse_duration_ns(arg, &v) || v > 86400ULL * 1000000000ULL)
			return usage(err, errlen,
				     "bad --window '%s': expected seconds up to 86400 (or 5m; 0: "
				     "no flight recorder; default 300)",
				     arg);
		o->window_s = (double)v / 1e9;
		return OPTS_OK;
	case 'q':
		o->record.quiet = true;
		return OPTS_OK;
	default:
		return push_option(o, c, arg, err, errlen);
	}
}

enum opts_result opts_parse_agent(int argc, char **argv, struct agent_opts *o, char *dir,
				  size_t dirlen, char *err, size_t errlen)
{
	struct sampling sm = { .min_block = -1 };
	const char *dir_arg = NULL;
	enum opts_result res;
	int c, r;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	o->record.render = render_opts_default;
	o->slice_s = AGENT_SLICE_DEFAULT;
	o->keep_for_ns = AGENT_KEEP_FOR_DEFAULT;
	o->keep_bytes = AGENT_KEEP_SIZE_DEFAULT;
	o->window_s = AGENT_WINDOW_DEFAULT;
	o->push = (struct push_opts){
		.group_by = AGENT_GROUP_BY_DEFAULT,
		.max_profiles = PUSH_QUEUE_DEFAULT,
		.max_bytes = PUSH_QUEUE_BYTES_DEFAULT,
		.timeout_s = PUSH_TIMEOUT_DEFAULT,
	};
	while ((c = getopt_long(argc, argv, AGENT_SHORTS, agent_options, NULL)) != -1) {
		r = target_option(&o->record, &sm, c, optarg, err, errlen);
		if (r < 0)
			goto bad;
		if (r)
			continue;
		if (c == OPT_DIR || c == OPT_METRICS || c == OPT_SLICE || c == OPT_KEEP_FOR ||
		    c == OPT_KEEP_SIZE || c == OPT_WINDOW || c == 'q' || c == OPT_PUSH ||
		    c == OPT_PUSH_OTLP || c == OPT_GROUP_BY || c == OPT_PUSH_QUEUE ||
		    c == OPT_PUSH_QUEUE_SIZE || c == OPT_PUSH_TIMEOUT) {
			if (agent_option(o, c, optarg, &dir_arg, err, errlen))
				goto bad;
			continue;
		}
		res = last_option(c, argc, argv, SPELLING_RECORD, opts_print_agent_help, err,
				  errlen);
		opts_release_record(&o->record);
		return res;
	}
	if (optind < argc) {
		usage(err, errlen,
		      "unexpected argument '%s': the agent profiles every Python process (or "
		      "those of --container, --cgroup, --comm, --cmdline), not a command",
		      argv[optind]);
		goto bad;
	}
	o->record.target = TARGET_ALL;
	o->record.quiet = true; /* no progress line: a service's log is not a terminal */
	if (finish_targets(&o->record, &sm, argc, argv, err, errlen) ||
	    dir_option(dir_arg, dir, dirlen, err, errlen))
		goto bad;
	o->dir = dir;
	return OPTS_OK;
bad:
	opts_release_record(&o->record);
	return OPTS_USAGE;
}

enum opts_result opts_parse_status(int argc, char **argv, struct status_opts *o, char *err,
				   size_t errlen)
{
	const char *dir = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, STATUS_SHORTS, status_options, NULL)) != -1) {
		if (c == OPT_DIR)
			dir = optarg;
		else if (c == OPT_JSON)
			o->json = true;
		else
			return last_option(c, argc, argv, SPELLING_REPORT, opts_print_status_help,
					   err, errlen);
	}
	if (optind < argc)
		return usage(err, errlen,
			     "unexpected argument '%s': give the agent's folder with --dir",
			     argv[optind]);
	return dir_option(dir, o->dir, sizeof(o->dir), err, errlen);
}

static enum opts_result parse_snapshot(int argc, char **argv, struct snapshot_opts *o, char *err,
				       size_t errlen)
{
	const char *dir = NULL;
	struct view v;
	uint64_t ns;
	int c, r;

	if (!init_view(&v, SPELLING_REPORT, o->outputs, &o->n_outputs, &o->render, &o->filter,
		       &o->color))
		return usage(err, errlen, "out of memory");
	while ((c = getopt_long(argc, argv, SNAPSHOT_SHORTS, snapshot_options, NULL)) != -1) {
		r = view_option(&v, c == 'p' ? OPT_RENDER_OPTION : c, optarg, err, errlen);
		if (r < 0)
			return OPTS_USAGE;
		if (r)
			continue;
		switch (c) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_LAST:
			if (!parse_duration_ns(optarg, &ns) || !ns)
				return usage(err, errlen,
					     "bad --last '%s': expected seconds > 0 (or 2m)",
					     optarg);
			o->last_s = (double)ns / 1e9;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			return last_option(c, argc, argv, SPELLING_REPORT, opts_print_snapshot_help,
					   err, errlen);
		}
	}
	if (optind < argc)
		return usage(err, errlen, "unexpected argument '%s': give the reports with -o FILE",
			     argv[optind]);
	if (dir_option(dir, o->dir, sizeof(o->dir), err, errlen))
		return OPTS_USAGE;
	return finish_view(&v, err, errlen);
}

enum opts_result opts_parse_snapshot(int argc, char **argv, struct snapshot_opts *o, char *err,
				     size_t errlen)
{
	enum opts_result res;

	memset(o, 0, sizeof(*o));
	res = parse_snapshot(argc, argv, o, err, errlen);
	if (res != OPTS_OK)
		opts_release_snapshot(o);
	return res;
}

void opts_release_snapshot(struct snapshot_opts *o)
{
	if (o)
		release_view(&o->filter, &o->render);
}
