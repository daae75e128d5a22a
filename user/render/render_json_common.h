/* SPDX-License-Identifier: MIT */
/*
 * render_json_common.h — the recording's metadata as the JSON formats write it (json,
 * speedscope, html): the same figures under the same names in each.
 */
#ifndef PYFLARE_RENDER_JSON_COMMON_H
#define PYFLARE_RENDER_JSON_COMMON_H

#include <stdio.h>

#include "render/render.h"

/*
 * Writes a string as a JSON value: render_put_json_string, or the HTML report's variant that
 * is also inert inside <script>. NULL means render_put_json_string.
 */
typedef void (*render_json_str_fn)(FILE *out, const char *str);

/* Writes "key":"value". */
void render_json_put_field(FILE *out, const char *key, const char *value, render_json_str_fn put);
/* Writes @realtime_ns as UTC "YYYY-MM-DDTHH:MM:SS.fffZ" with @digits (1-9) fraction digits. */
void render_json_format_utc(char *buf, size_t len, uint64_t realtime_ns, int digits);
/* "duration":S,"target":...,"mode":...,"clock":...,"rate_hz":N,"ncpus":N,"granularity":...,"group_by":... */
void render_json_put_recording(FILE *out, const struct session *s, const struct render_opts *o);
/* "health":{...},\n"refusals":[{"pid":N,"comm":...,"reason":...},...] */
void render_json_put_health(FILE *out, const struct session *s, render_json_str_fn put);
/*
 * "comm":...,"cmdline":...,"exe":...,"<python_key>":...,"ns_pid":N,"cgroup":...,
 * "container":...,"members":[PID,...] of @p.
 */
void render_json_put_process(FILE *out, const struct session_process *p, const char *python_key,
			     render_json_str_fn put);

#endif /* PYFLARE_RENDER_JSON_COMMON_H */
