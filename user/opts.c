/* SPDX-License-Identifier: MIT */
/*
 * opts.c — parse and check `pyflare record`'s options; print the help.
 */
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_COMMAND_HZ 999	/* launching a program: pyinstrument-like detail */
#define RATE_ATTACH_HZ 99	/* production processes: each timer interrupt costs ~20 us */
#define RATE_MAX_HZ 100000	/* kernel.perf_event_max_sample_rate default */

enum {
	OPT_GRANULARITY = 0x100,
	OPT_VERSION,
};

static const struct option record_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, 'F' },
	{ "interval", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'r' },
	{ "granularity", required_argument, NULL, OPT_GRANULARITY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

void opts_print_usage(void)
{
	printf("usage: pyflare record [options] (-p PID[,PID...] | -a | -- COMMAND [ARGS...])\n"
	       "\n"
	       "pyflare is a sampling profiler for CPython 3.8-3.14 that walks Python stacks\n"
	       "in the kernel with eBPF: no code change, no restart, no pause of the target.\n"
	       "\n"
	       "commands:\n"
	       "  record    profile a command, running processes or the whole host\n"
	       "\n"
	       "Run 'pyflare record --help' for the options. pyflare needs root, or\n"
	       "CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE, and a kernel >= 5.8 with BTF.\n");
}

void opts_print_record_help(void)
{
	char formats[128];

	renderer_names(formats, sizeof(formats));
	printf("usage: pyflare record [options] -- COMMAND [ARGS...]\n"
	       "       pyflare record [options] -p PID[,PID...]\n"
	       "       pyflare record [options] -a\n"
	       "\n"
	       "Sample the Python stacks of a command and its Python children, of running\n"
	       "processes, or of every Python process on the host, then print where the\n"
	       "time went. Recording stops at --duration, when the command or every target\n"
	       "exits, or on Ctrl-C / SIGTERM; the report is written in every case.\n"
	       "\n"
	       "targets:\n"
	       "  -p, --pid PID[,PID...]   attach to running processes (repeatable)\n"
	       "  -a, --all                every Python process on the host\n"
	       "  -- COMMAND [ARGS...]     run COMMAND as the invoking user (SUDO_USER under\n"
	       "                           sudo) and profile it; its exit status is pyflare's\n"
	       "\n"
	       "sampling:\n"
	       "  -d, --duration SECONDS   stop after this long (default: until the end)\n"
	       "  -F, --rate HZ            samples per second per CPU (default %d with a\n"
	       "                           command, %d when attaching: each sample costs the\n"
	       "                           sampled CPU some microseconds)\n"
	       "  -i, --interval SECONDS   the same as a period, as in pyinstrument (-i 0.001)\n"
	       "\n"
	       "output:\n"
	       "  -o, --output FILE        write the report to FILE (atomically; - is stdout);\n"
	       "                           the format follows the extension: .speedscope.json,\n"
	       "                           .collapsed or .folded, .txt; otherwise text.\n"
	       "                           Repeat -o to write several formats at once\n"
	       "  -r, --format FORMAT      one of: %s (default: text,\n"
	       "                           or from the -o extension)\n"
	       "      --granularity G      function (default: one frame per function, as\n"
	       "                           pyinstrument) or line (one per line, as py-spy)\n"
	       "  -q, --quiet              no progress line while recording\n"
	       "  -v, --verbose            more diagnostics (-vv: libbpf's too)\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n"
	       "\n"
	       "examples:\n"
	       "  sudo pyflare record -- python3 app.py\n"
	       "  sudo pyflare record -o app.speedscope.json -- python3 app.py --port 8000\n"
	       "  sudo pyflare record -o - -o run.speedscope.json -o run.folded -- ./job.py\n"
	       "  sudo pyflare record -p 4242,4243 -d 30 -o run.speedscope.json\n"
	       "  sudo pyflare record -a -d 10 -r collapsed | flamegraph.pl > host.svg\n"
	       "  sudo pyflare record --granularity line -F 499 -p $(pgrep -f celery)\n"
	       "\n"
	       "The health line printed at the end (and stored in every output) counts the\n"
	       "samples taken and lost, truncated stacks, unreadable frames and the\n"
	       "processes attached or refused, with the reason.\n",
	       RATE_COMMAND_HZ, RATE_ATTACH_HZ, formats);
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

static bool parse_pid_list(struct record_opts *o, const char *arg)
{
	const char *p = arg;

	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v <= 0 || v > INT_MAX || (*end && *end != ',') ||
		    o->n_pids >= OPTS_MAX_PIDS)
			return false;
		o->pids[o->n_pids++] = (pid_t)v;
		p = *end ? end + 1 : end;
	}
	return o->n_pids > 0;
}

enum opts_result opts_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				   size_t errlen)
{
	const char *format = NULL, *rate = NULL, *interval = NULL;
	const struct renderer *chosen = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->render.prune_share = 0.01;
	optind = 1;
	opterr = 0;
	/* "+": stop at the first non-option, so the command's own options are left alone */
	while ((c = getopt_long(argc, argv, "+p:ad:F:i:o:r:qvh", record_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_pid_list(o, optarg))
				return usage(err, errlen, "bad PID list '%s': expected PID[,PID...]",
					     optarg);
			if (o->target && o->target != TARGET_PIDS)
				return usage(err, errlen, "-p cannot be combined with -a");
			o->target = TARGET_PIDS;
			break;
		case 'a':
			if (o->target == TARGET_PIDS)
				return usage(err, errlen, "-a cannot be combined with -p");
			o->target = TARGET_ALL;
			break;
		case 'd':
			if (!parse_double(optarg, &o->duration) || o->duration <= 0)
				return usage(err, errlen, "bad duration '%s': expected seconds > 0",
					     optarg);
			break;
		case 'F':
			rate = optarg;
			break;
		case 'i':
			interval = optarg;
			break;
		case 'o':
			if (o->n_outputs == OPTS_MAX_OUTPUTS)
				return usage(err, errlen, "at most %d outputs (-o)", OPTS_MAX_OUTPUTS);
			o->outputs[o->n_outputs++].path = optarg;
			break;
		case 'r':
			format = optarg;
			break;
		case OPT_GRANULARITY:
			if (strcmp(optarg, "function") == 0)
				o->render.granularity = GRANULARITY_FUNCTION;
			else if (strcmp(optarg, "line") == 0)
				o->render.granularity = GRANULARITY_LINE;
			else
				return usage(err, errlen, "bad granularity '%s': expected function "
					     "or line", optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			opts_print_record_help();
			return OPTS_EXIT;
		case OPT_VERSION:
			printf("pyflare %s\n", PYFLARE_VERSION);
			return OPTS_EXIT;
		case ':':
			return usage(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		if (o->target)
			return usage(err, errlen, "a command cannot be combined with -p or -a");
		o->target = TARGET_COMMAND;
		o->argv = argv + optind;
	}
	if (!o->target)
		return usage(err, errlen, "nothing to profile: give -p PID, -a or -- COMMAND");

	if (rate && interval)
		return usage(err, errlen, "give either --rate or --interval, not both");
	o->rate_hz = o->target == TARGET_COMMAND ? RATE_COMMAND_HZ : RATE_ATTACH_HZ;
	if (rate) {
		double hz;

		if (!parse_double(rate, &hz) || hz < 1 || hz > RATE_MAX_HZ || hz != floor(hz))
			return usage(err, errlen, "bad rate '%s': expected a whole number of Hz "
				     "from 1 to %d", rate, RATE_MAX_HZ);
		o->rate_hz = (unsigned)hz;
	}
	if (interval) {
		double s;

		if (!parse_double(interval, &s) || s < 1.0 / RATE_MAX_HZ || s > 1)
			return usage(err, errlen, "bad interval '%s': expected seconds from "
				     "0.00001 to 1", interval);
		o->rate_hz = (unsigned)lround(1 / s);
	}

	if (format) {
		chosen = renderer_by_name(format);
		if (!chosen) {
			char names[128];

			renderer_names(names, sizeof(names));
			return usage(err, errlen, "unknown format '%s': expected one of %s", format,
				     names);
		}
	}
	if (o->n_outputs == 0)
		o->outputs[o->n_outputs++].path = "-";
	/* -r wins; otherwise the extension says, and text is the fallback */
	for (size_t i = 0; i < o->n_outputs; i++) {
		const struct renderer *by_ext = renderer_by_path(o->outputs[i].path);

		o->outputs[i].format = chosen ? chosen : by_ext ? by_ext : &render_text;
	}
	return OPTS_OK;
}
