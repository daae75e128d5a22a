/* SPDX-License-Identifier: MIT */
/* render_util.c — the escaping, number and header helpers every format shares. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "render/render_util.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/number.h"
#include "lib/saturate.h"
#include "session/health.h"

const char *render_granularity_name(enum granularity g)
{
	return g == GRANULARITY_LINE ? "line" : "function";
}

const char *render_time_label(const struct session *s)
{
	return strcmp(session__meta(s)->mode, "wall") ? "CPU time:" : "Time:    ";
}

const char *render_frame_name(const struct session_frame *f)
{
	if (f->name && *f->name)
		return f->name;
	switch (f->kind) {
	case FRAME_TRUNCATED:
		return "<truncated>";
	case FRAME_UNREADABLE:
		return "<unreadable>";
	case FRAME_UNKNOWN:
		return "<unsymbolized code>"; /* a file's frame without its address */
	default:
		return "<anonymous>";
	}
}

size_t render_put_safe(FILE *out, const char *str, const char *also)
{
	return escape_put(out, str, also);
}

void render_put_json_string(FILE *out, const char *str)
{
	json_put_string(out, str, 0);
}

void render_put_seconds(FILE *out, uint64_t ns)
{
	char buf[NUMBER_DECIMAL_LEN];

	fwrite(buf, 1, number_decimal(buf, ns, 9), out);
}

void render_format_local_time(char *buf, size_t len, uint64_t realtime_ns)
{
	time_t t = (time_t)(realtime_ns / 1000000000ULL);
	struct tm tm;

	if (!len)
		return;
	if (!realtime_ns || !localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, len, "unknown");
}

void render_format_time(char *buf, size_t len, uint64_t ns, const char *unit)
{
	uint64_t ms = ns / 1000000 + (ns % 1000000 >= 500000);

	snprintf(buf, len, "%llu.%03llu%s", (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000), unit);
}

const char *render_short_path(const struct session_process *proc, const char *file)
{
	static const char *const marks[] = { "/site-packages/", "/dist-packages/" };
	const char *best = NULL, *p, *dirs = proc && proc->lib_dirs ? proc->lib_dirs : "";
	size_t i;

	if (!file)
		return "";
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		for (p = strstr(file, marks[i]); p; p = strstr(p + 1, marks[i]))
			if (!best || p + strlen(marks[i]) > best)
				best = p + strlen(marks[i]);
	}
	if (best && *best)
		return best;
	/* The process's own stdlib folders, then the usual layout */
	while (*dirs) {
		size_t len = strcspn(dirs, ":");

		if (len && !strncmp(file, dirs, len) && file[len] == '/' && file[len + 1])
			return file + len + 1;
		dirs += len + (dirs[len] == ':');
	}
	/* ".../lib/python3.12/json/decoder.py" -> "json/decoder.py" */
	p = strstr(file, "/lib/python");
	if (p) {
		const char *q = strchr(p + strlen("/lib/python"), '/');

		if (q && q[1])
			return q + 1;
	}
	return file;
}

/* "  Grouped:  by cmdline, 5 processes in 2 groups" under --group-by. */
static void put_grouping(FILE *out, const struct session *s, enum group_by by)
{
	const struct session_process *p;
	size_t n, i, members = 0;

	if (by == GROUP_BY_PROCESS)
		return;
	p = session__processes(s, &n);
	for (i = 0; i < n; i++)
		members += render_is_group(&p[i]) ? p[i].nmembers : 1;
	fprintf(out, "  Grouped:  by %s, %zu process%s in %zu group%s\n", group_by_name(by),
		members, members == 1 ? "" : "es", n, n == 1 ? "" : "s");
}

/*
 * "Health:   935 samples taken = 923 shown + 0 lost + ...": the sum of session.h, which a
 * reader can add up, and what its counts mean.
 */
static void put_sample_sum(FILE *out, const struct session *s)
{
	uint64_t shown = health_samples_shown(s);
	char sum[256];
	size_t all = session__nsamples(s);

	health_format_sum(s, sum, sizeof(sum));
	fprintf(out, "  Health:   %s", sum);
	/* wall mode: the Samples above count the waits off CPU too, which no timer took */
	if (all > shown)
		fprintf(out, "; and %llu waits off CPU", (unsigned long long)(all - shown));
	fprintf(out, "\n            (%s)\n", health_legend);
}

void render_put_text_header(FILE *out, const struct session *s, const struct render_opts *o)
{
	const struct session_meta *m = session__meta(s);
	const struct session_health *h = session__health(s);
	struct session_cursor cur;
	struct session_sample smp;
	const struct session_refusal *r;
	const char *bold = o->color ? "\033[1m" : "", *end = o->color ? "\033[0m" : "";
	size_t nref, nsamples, i;
	uint64_t cpu_ns = 0;
	char when[64], duration[32], cpu[32];

	nsamples = session__nsamples(s);
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
		cpu_ns = sat_add(cpu_ns, smp.weight_ns);
	render_format_local_time(when, sizeof(when), m->start_realtime_ns);
	render_format_time(duration, sizeof(duration), m->duration_ns, " s");
	render_format_time(cpu, sizeof(cpu), cpu_ns, " s");
	fprintf(out, "%spyflare %s%s\n", bold, PYFLARE_VERSION, end);
	fprintf(out, "  Recorded: %-26s Samples:  %zu\n", when, nsamples);
	fprintf(out, "  Duration: %-26s %s %s\n", duration, render_time_label(s), cpu);
	fputs("  Target:   ", out);
	render_put_safe(out, *m->target ? m->target : "?", NULL);
	putc('\n', out);
	put_grouping(out, s, o->group_by);
	fputs("  Mode:     ", out);
	render_put_safe(out, *m->mode ? m->mode : "?", NULL);
	fprintf(out, ", %u Hz ", m->rate_hz);
	render_put_safe(out, m->clock, NULL);
	fprintf(out, " on %u CPU%s%s\n", m->ncpus, m->ncpus == 1 ? "" : "s",
		!strcmp(m->mode, "wall") ? " + time off CPU (sleep, I/O, locks, GIL)" : "");
	if (*m->kernel_notes) {
		fputs("  Kernel:   ", out);
		render_put_safe(out, m->kernel_notes, NULL);
		putc('\n', out);
	}
	put_sample_sum(out, s);
	fprintf(out,
		"            %llu stacks truncated, %llu cut short by a failed read, %llu frames "
		"not symbolized%s\n",
		(unsigned long long)h->truncated, (unsigned long long)h->unreadable,
		(unsigned long long)h->unsymbolized,
		h->unsymbolized ? " (shown as <unsymbolized code 0x...>)" : "");
	fprintf(out, "  Processes: %u attached, %u refused\n", h->attached, h->refused);
	r = session__refusals(s, &nref);
	for (i = 0; i < nref; i++) {
		fprintf(out, "  Refused:  %u ", r[i].pid);
		render_put_safe(out, *r[i].comm ? r[i].comm : "?", NULL);
		fputs(": ", out);
		render_put_safe(out, r[i].reason, NULL);
		putc('\n', out);
	}
	putc('\n', out);
}

#define DUMP_PIDS_SHOWN 4 /* PIDs the "No samples" hint names; more: "PID" */

/* "pyflare dump -p 12,34": where the threads of @procs stand now, their PIDs if few. */
static void put_dump_command(FILE *out, const struct session_process *procs, size_t n)
{
	size_t shown = 0;

	fputs("`pyflare dump -p ", out);
	for (size_t i = 0; n <= DUMP_PIDS_SHOWN && i < n; i++)
		if (procs[i].pid)
			fprintf(out, "%s%u", shown++ ? "," : "", procs[i].pid);
	fputs(shown ? "`" : "PID`", out);
}

void render_put_no_samples(FILE *out, const struct session *s)
{
	size_t nprocs, nrefused;
	const struct session_process *procs = session__processes(s, &nprocs);
	bool wall = !strcmp(session__meta(s)->mode, "wall");

	session__refusals(s, &nrefused);
	if (nprocs) {
		fprintf(out, "No samples: the %zu process%s profiled %s while recording. ", nprocs,
			nprocs == 1 ? "" : "es",
			wall ? "had no Python code on a thread's stack, on a CPU or off it," :
			       "ran no Python code on a CPU");
		put_dump_command(out, procs, nprocs);
		fprintf(out, " shows where %s threads are now%s.\n\n",
			nprocs == 1 ? "its" : "their",
			wall ? "" : "; --mode wall counts their time off CPU too");
	} else if (nrefused)
		fputs("No samples: no Python process could be profiled (see Refused above).\n\n",
		      out);
	else
		fputs("No samples: no Python process was found for this target. `pyflare "
		      "doctor` checks the system; -v says what was skipped.\n\n",
		      out);
}

bool render_is_group(const struct session_process *p)
{
	return p->nmembers > 1 && p->members;
}

bool render_is_merged_thread(const struct session_thread *t)
{
	return t->nmembers > 1;
}

/* PIDs a report lists before "…": the group of 20 workers is still one line. */
#define MEMBERS_SHOWN 6

void render_format_members(char *buf, const struct session_process *p, bool unicode)
{
	char *at = buf;
	uint32_t i, n = render_is_group(p) ? p->nmembers : 0;

	if (!n) {
		snprintf(buf, RENDER_MEMBERS_LEN, "%u", p->pid);
		return;
	}
	for (i = 0; i < n && i < MEMBERS_SHOWN; i++) {
		if (i) {
			*at++ = ',';
			*at++ = ' ';
		}
		at = number_u64(at, p->members[i]);
	}
	strcpy(at, n > MEMBERS_SHOWN ? (unicode ? ", …" : ", ...") : "");
}

void render_put_idle_process(FILE *out, const struct session_process *p, size_t *n, bool unicode)
{
	char members[RENDER_MEMBERS_LEN];

	fputs((*n)++ ? ", " : "No samples from: ", out);
	render_format_members(members, p, unicode);
	if (render_is_group(p))
		fprintf(out, "%u processes (%s) ", p->nmembers, members);
	else
		fprintf(out, "%u ", p->pid);
	render_put_safe(out, p->comm, NULL);
}

void render_put_process_line(FILE *out, const struct session_process *p, bool color, bool unicode)
{
	const char *dash = unicode ? "—" : "-";
	char members[RENDER_MEMBERS_LEN];

	fputs(color ? "\033[1m" : "", out);
	if (render_is_group(p)) {
		render_format_members(members, p, unicode);
		fprintf(out, "%u processes (%s) ", p->nmembers, members);
	} else {
		fprintf(out, "Process %u ", p->pid);
	}
	if (p->ns_pid)
		fprintf(out, "(%u in its namespace) ", p->ns_pid);
	render_put_safe(out, *p->comm ? p->comm : "?", NULL);
	fputs(color ? "\033[0m" : "", out);
	/* a container says where it runs; a bare cgroup only when it is not the root */
	if (*p->container) {
		fprintf(out, " %s container ", dash);
		render_put_safe(out, p->container, NULL);
	} else if (*p->cgroup && strcmp(p->cgroup, "/")) {
		fprintf(out, " %s cgroup ", dash);
		render_put_safe(out, p->cgroup, NULL);
	}
	if (*p->cmdline) {
		fprintf(out, " %s ", dash);
		render_put_safe(out, p->cmdline, NULL);
	}
	if (*p->python_version) {
		fprintf(out, " %s Python ", dash);
		render_put_safe(out, p->python_version, NULL);
	}
	putc('\n', out);
}
