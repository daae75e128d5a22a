/* SPDX-License-Identifier: MIT */
/*
 * dump_output.c — `pyflare dump` as text (like `py-spy dump`) or JSON (docs/formats.md).
 *
 * Everything shown comes from the target: names, paths and source lines go through
 * escape_put() in the text and the JSON writer's strings (lib/json.h) in JSON.
 */
#include "dump/dump.h"

#include <inttypes.h>
#include <linux/types.h>

#include "dump/dump_tasks.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "pyflare.h"

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
		escape_put(out, th->name, NULL);
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
		escape_put(out, th->waiting_for ? th->waiting_for : "[wait]", NULL);
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
	escape_put(out, f->name, NULL);
	if (f->file && f->file[0]) {
		fprintf(out, " %s(", c->dim);
		escape_put(out, f->file, NULL);
		if (f->line)
			fprintf(out, ":%" PRIu32, f->line);
		fprintf(out, ")%s", c->reset);
	}
	putc('\n', out);
	if (f->source) {
		fputs("        ", out);
		escape_put(out, f->source, NULL);
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
			continue; /* its error went to stderr */
		if (!first)
			putc('\n', out);
		first = false;
		fprintf(out, "%sProcess %d:%s ", c->bold, (int)p->pid, c->reset);
		escape_put(out, p->cmdline[0] ? p->cmdline : p->comm, NULL);
		fputs("\nPython ", out);
		escape_put(out, p->version, NULL);
		fputs(" (", out);
		escape_put(out, p->exe, NULL);
		fputs(")\n", out);
		if (!p->nthreads)
			fputs("\nNo Python thread: the interpreter has not started.\n", out);
		for (size_t t = 0; t < p->nthreads; t++) {
			putc('\n', out);
			text_thread(out, &p->threads[t], c);
		}
		if (p->threads_cut)
			fputs("\n(the list of threads could not be read to its end)\n", out);
		if (p->async)
			dump_tasks_write_text(out, p);
	}
}

/* --- JSON ---------------------------------------------------------------------------- */

/* "key": "value", or "key": null without a value. */
static void json_key_string_or_null(struct json_writer *w, const char *key, const char *value)
{
	json_key(w, key);
	if (value)
		json_string(w, value);
	else
		json_null(w);
}

static void json_thread(struct json_writer *w, const struct dump_thread *th)
{
	json_break(w, "\n        ");
	json_begin_object(w);
	json_key(w, "tid");
	if (th->tid)
		json_u64(w, th->tid);
	else
		json_null(w);
	json_key_u64(w, "ident", th->ident);
	json_key_string_or_null(w, "name", th->name);
	json_key(w, "holds_gil");
	if (th->holds_gil < 0)
		json_null(w);
	else
		json_bool(w, th->holds_gil);
	json_key_string(w, "state", activity_name(th->activity));
	json_key_string_or_null(w, "waiting_for",
				th->activity == DUMP_ACTIVITY_WAITING ? th->waiting_for : NULL);
	json_key(w, "syscall");
	if (th->activity == DUMP_ACTIVITY_WAITING && th->syscall >= 0)
		json_i64(w, th->syscall);
	else
		json_null(w);
	json_break(w, "\n         ");
	json_key(w, "consistent");
	json_bool(w, !th->changing);
	json_key(w, "truncated");
	json_bool(w, th->truncated);
	json_key(w, "unreadable");
	json_bool(w, th->unreadable);
	json_break(w, "\n         ");
	json_key(w, "frames");
	json_begin_array(w);
	for (size_t i = 0; i < th->nframes; i++) {
		const struct dump_frame *f = &th->frames[i];

		json_break(w, "\n           ");
		json_begin_object(w);
		json_key_string_or_null(w, "name", f->name);
		json_key_string_or_null(w, "file", f->file);
		json_key(w, "line");
		if (f->line)
			json_u64(w, f->line);
		else
			json_null(w);
		json_key_string_or_null(w, "source", f->source);
		json_end_object(w);
	}
	if (th->nframes)
		json_break(w, "\n         ");
	json_end_array(w);
	json_end_object(w);
}

static void json_process(struct json_writer *w, const struct dump_process *p)
{
	json_break(w, "\n    ");
	json_begin_object(w);
	json_key(w, "pid");
	json_i64(w, p->pid);
	json_key_string_or_null(w, "comm", p->comm);
	json_key_string_or_null(w, "cmdline", p->cmdline);
	json_key_string_or_null(w, "python_version", p->version[0] ? p->version : NULL);
	json_key_string_or_null(w, "exe", p->exe[0] ? p->exe : NULL);
	json_break(w, "\n     ");
	if (p->status) {
		json_key_string_or_null(w, "error", p->error);
		json_key(w, "exit_status");
		json_i64(w, p->status);
		json_end_object(w);
		return;
	}
	json_key(w, "error");
	json_null(w);
	json_key(w, "threads_cut");
	json_bool(w, p->threads_cut);
	json_break(w, "\n     ");
	json_key(w, "threads");
	json_begin_array(w);
	for (size_t i = 0; i < p->nthreads; i++)
		json_thread(w, &p->threads[i]);
	if (p->nthreads)
		json_break(w, "\n     ");
	json_end_array(w);
	if (p->async)
		dump_tasks_write_json(w, p);
	json_end_object(w);
}

void dump_write_json(FILE *out, const struct dump_process *procs, size_t n)
{
	struct json_writer w;

	json_init(&w, out, JSON_SPACED);
	json_begin_object(&w);
	json_key_string(&w, "format", "pyflare-dump");
	json_key_u64(&w, "version", 1);
	json_key_string(&w, "exporter", "pyflare " PYFLARE_VERSION);
	json_break(&w, "\n ");
	json_key(&w, "processes");
	json_begin_array(&w);
	for (size_t i = 0; i < n; i++)
		json_process(&w, &procs[i]);
	if (n)
		json_break(&w, "\n ");
	json_end_array(&w);
	json_end_object(&w);
	json_space(&w, "\n");
}
