/* SPDX-License-Identifier: MIT */
/*
 * dump_output.c — `pyflare dump` as text (like `py-spy dump`) or JSON (docs/formats.md).
 *
 * Everything shown comes from the target: names, paths and source lines go through
 * render_put_safe() in the text and render_put_json_string() in JSON.
 */
#include "dump/dump.h"

#include <inttypes.h>
#include <linux/types.h>

#include "pyflare.h"
#include "render/render.h"

struct colors {
	const char *bold, *dim, *green, *yellow, *red, *reset;
};

static const struct colors colors_on = {
	"\033[1m", "\033[2m", "\033[32m", "\033[33m", "\033[31m", "\033[0m",
};
static const struct colors colors_off = { "", "", "", "", "", "" };

static const char *activity_name(enum dump_activity a)
{
	switch (a) {
	case DUMP_ACTIVITY_RUNNING:
		return "running";
	case DUMP_ACTIVITY_WAITING:
		return "waiting";
	case DUMP_ACTIVITY_STOPPED:
		return "stopped";
	case DUMP_ACTIVITY_UNKNOWN:
		break;
	}
	return "unknown";
}

/* "Thread 4243 (deadlock-a) [holds the GIL] waiting: [lock] (changing, best effort)" */
static void text_thread_line(FILE *out, const struct dump_thread *th, const struct colors *c)
{
	fputs(c->bold, out);
	if (th->tid)
		fprintf(out, "Thread %" PRIu32, th->tid);
	else
		fputs("Thread ?", out);
	if (th->name[0]) {
		fputs(" (", out);
		render_put_safe(out, th->name, NULL);
		putc(')', out);
	}
	fputs(c->reset, out);
	if (th->holds_gil == 1)
		fprintf(out, " %s[holds the GIL]%s", c->yellow, c->reset);
	switch (th->activity) {
	case DUMP_ACTIVITY_RUNNING:
		fprintf(out, " %srunning%s", c->green, c->reset);
		break;
	case DUMP_ACTIVITY_WAITING:
		fprintf(out, " waiting: %s", c->red);
		render_put_safe(out, th->waiting_for ? th->waiting_for : "[wait]", NULL);
		fputs(c->reset, out);
		break;
	case DUMP_ACTIVITY_STOPPED:
		fprintf(out, " %sstopped%s", c->red, c->reset);
		break;
	case DUMP_ACTIVITY_UNKNOWN:
		fputs(" state unknown", out);
		break;
	}
	if (th->changing)
		fprintf(out, " %s(changing, best effort)%s", c->yellow, c->reset);
	putc('\n', out);
}

/* "    name (file:line)" and, below it, the line's source. */
static void text_frame(FILE *out, const struct dump_frame *f, const struct colors *c)
{
	fputs("    ", out);
	render_put_safe(out, f->name, NULL);
	if (f->file && f->file[0]) {
		fprintf(out, " %s(", c->dim);
		render_put_safe(out, f->file, NULL);
		if (f->line)
			fprintf(out, ":%" PRIu32, f->line);
		fprintf(out, ")%s", c->reset);
	}
	putc('\n', out);
	if (f->source) {
		fputs("        ", out);
		render_put_safe(out, f->source, NULL);
		putc('\n', out);
	}
}

static void text_thread(FILE *out, const struct dump_thread *th, const struct colors *c)
{
	text_thread_line(out, th, c);
	for (size_t i = 0; i < th->nframes; i++)
		text_frame(out, &th->frames[i], c);
	if (th->truncated)
		fprintf(out, "    %s<truncated: deeper than %d frames>%s\n", c->dim,
			PYFLARE_MAX_FRAMES, c->reset);
	else if (th->unreadable)
		fprintf(out, "    %s<unreadable: the frames below could not be read>%s\n", c->dim,
			c->reset);
	else if (!th->nframes)
		fprintf(out, "    %s(no Python frame)%s\n", c->dim, c->reset);
}

void dump_write_text(FILE *out, const struct dump_process *procs, size_t n, bool color)
{
	const struct colors *c = color ? &colors_on : &colors_off;
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		const struct dump_process *p = &procs[i];

		if (p->status)
			continue;	/* its error went to stderr */
		if (!first)
			putc('\n', out);
		first = false;
		fprintf(out, "%sProcess %d:%s ", c->bold, (int)p->pid, c->reset);
		render_put_safe(out, p->cmdline[0] ? p->cmdline : p->comm, NULL);
		fputs("\nPython ", out);
		render_put_safe(out, p->version, NULL);
		fputs(" (", out);
		render_put_safe(out, p->exe, NULL);
		fputs(")\n", out);
		if (!p->nthreads)
			fputs("\nNo Python thread: the interpreter has not started.\n", out);
		for (size_t t = 0; t < p->nthreads; t++) {
			putc('\n', out);
			text_thread(out, &p->threads[t], c);
		}
		if (p->threads_cut)
			fputs("\n(the list of threads could not be read to its end)\n", out);
	}
}

/* --- JSON ------------------------------------------------------------------------------ */

static void json_key_string(FILE *out, const char *key, const char *value)
{
	fprintf(out, "\"%s\": ", key);
	if (value)
		render_put_json_string(out, value);
	else
		fputs("null", out);
}

static void json_thread(FILE *out, const struct dump_thread *th)
{
	fputs("        {", out);
	if (th->tid)
		fprintf(out, "\"tid\": %" PRIu32, th->tid);
	else
		fputs("\"tid\": null", out);
	fprintf(out, ", \"ident\": %" PRIu64 ", ", th->ident);
	json_key_string(out, "name", th->name);
	fprintf(out, ", \"holds_gil\": %s", th->holds_gil < 0 ? "null" :
					      th->holds_gil ? "true" : "false");
	fprintf(out, ", \"state\": \"%s\", ", activity_name(th->activity));
	json_key_string(out, "waiting_for",
			th->activity == DUMP_ACTIVITY_WAITING ? th->waiting_for : NULL);
	if (th->activity == DUMP_ACTIVITY_WAITING && th->syscall >= 0)
		fprintf(out, ", \"syscall\": %" PRId32, th->syscall);
	else
		fputs(", \"syscall\": null", out);
	fprintf(out, ",\n         \"consistent\": %s, \"truncated\": %s, \"unreadable\": %s,\n"
		"         \"frames\": [", th->changing ? "false" : "true",
		th->truncated ? "true" : "false", th->unreadable ? "true" : "false");
	for (size_t i = 0; i < th->nframes; i++) {
		const struct dump_frame *f = &th->frames[i];

		fputs(i ? ",\n           {" : "\n           {", out);
		json_key_string(out, "name", f->name);
		fputs(", ", out);
		json_key_string(out, "file", f->file);
		if (f->line)
			fprintf(out, ", \"line\": %" PRIu32 ", ", f->line);
		else
			fputs(", \"line\": null, ", out);
		json_key_string(out, "source", f->source);
		putc('}', out);
	}
	fputs(th->nframes ? "\n         ]}" : "]}", out);
}

static void json_process(FILE *out, const struct dump_process *p)
{
	fprintf(out, "    {\"pid\": %d, ", (int)p->pid);
	json_key_string(out, "comm", p->comm);
	fputs(", ", out);
	json_key_string(out, "cmdline", p->cmdline);
	fputs(", ", out);
	json_key_string(out, "python_version", p->version[0] ? p->version : NULL);
	fputs(", ", out);
	json_key_string(out, "exe", p->exe[0] ? p->exe : NULL);
	fputs(",\n     ", out);
	if (p->status) {
		json_key_string(out, "error", p->error);
		fprintf(out, ", \"exit_status\": %d}", p->status);
		return;
	}
	fprintf(out, "\"error\": null, \"threads_cut\": %s,\n     \"threads\": [",
		p->threads_cut ? "true" : "false");
	for (size_t i = 0; i < p->nthreads; i++) {
		fputs(i ? ",\n" : "\n", out);
		json_thread(out, &p->threads[i]);
	}
	fputs(p->nthreads ? "\n     ]}" : "]}", out);
}

void dump_write_json(FILE *out, const struct dump_process *procs, size_t n)
{
	fputs("{\"format\": \"pyflare-dump\", \"version\": 1, \"exporter\": \"pyflare "
	      PYFLARE_VERSION "\",\n \"processes\": [", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", out);
		json_process(out, &procs[i]);
	}
	fputs(n ? "\n ]}\n" : "]}\n", out);
}
