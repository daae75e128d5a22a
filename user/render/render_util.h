/* SPDX-License-Identifier: MIT */
/*
 * render_util.h — what the renderers share to write a report: names, times and paths as a
 * report shows them, safe text, the text views' header and process lines (render_util.c).
 * A helper for the renderers, not part of the interface callers use (render.h).
 */
#ifndef PYFLARE_RENDER_UTIL_H
#define PYFLARE_RENDER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render/render.h"
#include "session/session.h"

/* "function" or "line", as --granularity takes it. */
const char *render_granularity_name(enum granularity g);
/* "CPU time:" or, in wall mode, "Time:" (on and off CPU), padded alike. */
const char *render_time_label(const struct session *s);
/* The name to show for @f: its name, or "<truncated>" etc. when a marker has none. */
const char *render_frame_name(const struct session_frame *f);

/*
 * Writes @str for a terminal or a line-based file, as escape_put() (lib/escape.h) does:
 * control characters, C1 controls, bidirectional overrides, line separators and invalid
 * UTF-8 become \xNN or \uNNNN, as does every ASCII character in @also (e.g. ";" for
 * collapsed stacks). Returns bytes written.
 */
size_t render_put_safe(FILE *out, const char *str, const char *also);
/* Writes @str as a quoted JSON string (json_put_string(), lib/json.h); bad UTF-8: U+FFFD. */
void render_put_json_string(FILE *out, const char *str);
/* Writes @ns as exact decimal seconds, without trailing zeros ("0.001001", "2"). */
void render_put_seconds(FILE *out, uint64_t ns);
/* Writes "YYYY-MM-DD HH:MM:SS TZ" local time of @realtime_ns into @buf. */
void render_format_local_time(char *buf, size_t len, uint64_t realtime_ns);
/* Writes @ns as seconds with 3 decimals ("0.408"), rounded, then @unit, into @buf. */
void render_format_time(char *buf, size_t len, uint64_t ns, const char *unit);
/*
 * @file shortened as pyinstrument shows it: from the package down for library code
 * ("json/decoder.py", "requests/api.py"), unchanged for the program's own files.
 */
const char *render_short_path(const struct session_process *proc, const char *file);
/* Why the report is empty: no process found, all refused, or processes that never ran. */
void render_put_no_samples(FILE *out, const struct session *s);
/*
 * The text views' header: recording time, duration, target, grouping, rate, health,
 * refusals; in colour with o->color.
 */
void render_put_text_header(FILE *out, const struct session *s, const struct render_opts *o);
/*
 * Adds @p to the "No samples from: 4242 sh, 3 processes (4243, 4244, 4245) bash" line of
 * the processes attached but never sampled; *n counts them, and the caller ends the line
 * when it is not 0.
 */
void render_put_idle_process(FILE *out, const struct session_process *p, size_t *n, bool unicode);
/*
 * "Process 4242 python3 — python3 app.py — Python 3.12.1", or for a group
 * "3 processes (4242, 4243, 4244) python3 — python3 app.py — Python 3.12.1".
 */
void render_put_process_line(FILE *out, const struct session_process *p, bool color, bool unicode);
/*
 * Whether @p is a group of processes (--group-by), and the first of its PIDs as a report
 * shows them: "4242, 4243, 4244" or "4242, 4243, 4244, 4245, 4246, 4247, …" (@unicode;
 * "..." otherwise). @buf has RENDER_MEMBERS_LEN bytes.
 */
#define RENDER_MEMBERS_LEN 96
bool render_is_group(const struct session_process *p);
void render_format_members(char *buf, const struct session_process *p, bool unicode);
/* Whether thread @t stands for several threads of a group (--group-by). */
bool render_is_merged_thread(const struct session_thread *t);

#endif /* PYFLARE_RENDER_UTIL_H */
