/* SPDX-License-Identifier: MIT */
/*
 * render_json_common.h — the recording's metadata as the JSON formats write it (json,
 * speedscope, html): the same figures under the same names in each, through one writer
 * (lib/json.h), whose flags say how strings are escaped (JSON_SCRIPT in the HTML report).
 */
#ifndef PYFLARE_RENDER_JSON_COMMON_H
#define PYFLARE_RENDER_JSON_COMMON_H

#include "lib/json.h"
#include "render/render.h"

/* Writes @realtime_ns as UTC "YYYY-MM-DDTHH:MM:SS.fffZ" with @digits (1-9) fraction digits. */
void render_json_format_utc(char *buf, size_t len, uint64_t realtime_ns, int digits);
/* "duration":S,"target":...,"mode":...,"clock":...,"rate_hz":N,"ncpus":N,"granularity":...,"group_by":... */
void render_json_put_recording(struct json_writer *w, const struct session *s,
			       const struct render_opts *o);
/* "health":{...},\n"refusals":[{"pid":N,"comm":...,"reason":...},...] */
void render_json_put_health(struct json_writer *w, const struct session *s);
/*
 * "comm":...,"cmdline":...,"exe":...,"<python_key>":...,"ns_pid":N,"cgroup":...,
 * "container":...,"members":[PID,...] of @p.
 */
void render_json_put_process(struct json_writer *w, const struct session_process *p,
			     const char *python_key);

#endif /* PYFLARE_RENDER_JSON_COMMON_H */
