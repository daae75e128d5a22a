/* SPDX-License-Identifier: MIT */
/*
 * spellings.c — py-spy's and pyinstrument's spellings that pyflare does not take as they
 * are, each with what to type instead. py-spy's short options clash with ours (its -r is
 * our -F, its -F, -i and -t mean other things), so those are answered, never taken.
 */
#include "cli/spellings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_TOP (SPELLING_RECORD | SPELLING_TOP)

static const struct {
	const char *name, *ours;
} format_names[] = {
	{ "flamegraph", "svg" }, /* py-spy's default, flamegraph.pl's SVG */
	{ "raw", "collapsed" },	 /* py-spy's folded stacks */
};

const char *spelling_format(const char *name)
{
	for (size_t i = 0; name && i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (!strcmp(name, format_names[i].name))
			return format_names[i].ours;
	return name;
}

/* A whole number, as py-spy's -r RATE. */
static bool is_rate(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end != s && !*end && v > 0;
}

bool spelling_format_refusal(const char *name, enum spelling_command command, char *buf, size_t len)
{
	if (!strcmp(name, "chrometrace")) {
		snprintf(buf, len,
			 "pyflare writes no Chrome trace (py-spy's chrometrace); for the "
			 "threads' time line give -t -o run.speedscope.json (speedscope's "
			 "evented view) or -o run.html");
		return true;
	}
	if (is_rate(name)) {
		if (command & RECORD_TOP)
			snprintf(buf, len,
				 "-r is the format here (pyinstrument's -r); py-spy's -r RATE is "
				 "-F: did you mean -F %s?",
				 name);
		else
			snprintf(buf, len,
				 "-r is the format here; the rate is chosen when recording "
				 "(pyflare record -F %s)",
				 name);
		return true;
	}
	return false;
}

static const struct {
	const char *opt;
	unsigned commands;
	const char *hint; /* %s: the value that followed, or FORMAT */
} hints[] = {
	{ "-f", SPELLING_RECORD | SPELLING_REPORT,
	  "the format is -r here (py-spy's -f, also --format): did you mean -r %s?" },
	{ "--gil", RECORD_TOP,
	  "pyflare has no GIL-holder-only view (py-spy's --gil): --mode cpu counts only "
	  "time on a CPU, and --mode wall shows the waits for the GIL as [GIL]" },
	{ "--function", RECORD_TOP,
	  "frames are per function already (--granularity function, the default); one "
	  "frame per line, py-spy's default, is --granularity line" },
	{ "--native", RECORD_TOP | SPELLING_DUMP,
	  "pyflare reads Python frames only: time in C code counts on the Python line "
	  "that called it" },
	{ "--idle", SPELLING_TOP,
	  "top shows the waits of idle threads already in --mode wall (the default with "
	  "a command or -p); the i key hides or shows them" },
	{ "--threads", SPELLING_RECORD,
	  "every thread is shown apart already; for collapsed stacks give "
	  "--collapsed-roots thread" },
	{ "--load-prev", SPELLING_RECORD | SPELLING_REPORT,
	  "pyflare report --last shows the newest recording again" },
};

bool spelling_hint(const char *opt, const char *next, enum spelling_command command, char *buf,
		   size_t len)
{
	size_t n = strcspn(opt, "="); /* --gil=1 is --gil */

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		if (!(hints[i].commands & command) || strlen(hints[i].opt) != n ||
		    strncmp(opt, hints[i].opt, n))
			continue;
		/* the value, when it is one: not the next option */
		if (!next || !*next || *next == '-')
			next = "FORMAT";
		snprintf(buf, len, hints[i].hint, next);
		return true;
	}
	return false;
}

bool spelling_empty_pid(const char *arg)
{
	return !*arg || *arg == '-';
}
