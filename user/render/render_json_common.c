/* SPDX-License-Identifier: MIT */
/* render_json_common.c — metadata, health and process fields the JSON formats share. */
#include <time.h>

#include "render/render_json_common.h"
#include "render/render_util.h"
#include "session/health.h"

void render_json_format_utc(char *buf, size_t len, uint64_t realtime_ns, int digits)
{
	time_t t = realtime_ns / 1000000000ULL;
	unsigned long long frac = realtime_ns % 1000000000ULL;
	struct tm tm;
	size_t used;
	int i;

	if (!len)
		return;
	buf[0] = '\0';
	/* No clock was read: an empty string, not 1970 */
	if (!realtime_ns || !gmtime_r(&t, &tm))
		return;
	used = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	for (i = digits; i < 9; i++)
		frac /= 10;
	snprintf(buf + used, len - used, ".%0*lluZ", digits, frac);
}

void render_json_put_recording(struct json_writer *w, const struct session *s,
			       const struct render_opts *o)
{
	const struct session_meta *m = session__meta(s);

	json_key_decimal(w, "duration", m->duration_ns, 9);
	json_key_string(w, "target", m->target);
	json_key_string(w, "mode", m->mode);
	json_key_string(w, "clock", m->clock);
	if (*m->kernel_notes)
		json_key_string(w, "kernel_notes", m->kernel_notes);
	json_key_u64(w, "rate_hz", m->rate_hz);
	json_key_u64(w, "ncpus", m->ncpus);
	json_key_string(w, "granularity", render_granularity_name(o->granularity));
	json_key_string(w, "group_by", group_by_name(o->group_by));
}

void render_json_put_health(struct json_writer *w, const struct session *s)
{
	const struct session_health *h = session__health(s);
	const struct session_refusal *r;
	size_t n, i;

	json_key(w, "health");
	json_begin_object(w);
	json_key_u64(w, "samples", h->samples);
	json_key_u64(w, "shown", health_samples_shown(s));
	json_key_u64(w, "lost", h->lost);
	json_key_u64(w, "truncated", h->truncated);
	json_key_u64(w, "unreadable", h->unreadable);
	json_key_u64(w, "unsymbolized", h->unsymbolized);
	json_key_u64(w, "no_thread_state", h->no_thread_state);
	json_key_u64(w, "no_python_frame", h->no_python_frame);
	json_key_u64(w, "attached", h->attached);
	json_key_u64(w, "refused", h->refused);
	json_end_object(w);
	json_break(w, "\n");
	json_key(w, "refusals");
	json_begin_array(w);
	r = session__refusals(s, &n);
	for (i = 0; i < n; i++) {
		json_begin_object(w);
		json_key_u64(w, "pid", r[i].pid);
		json_key_string(w, "comm", r[i].comm);
		json_key_string(w, "reason", r[i].reason);
		json_end_object(w);
	}
	json_end_array(w);
}

void render_json_put_process(struct json_writer *w, const struct session_process *p,
			     const char *python_key)
{
	json_key_string(w, "comm", p->comm);
	json_key_string(w, "cmdline", p->cmdline);
	json_key_string(w, "exe", p->exe);
	json_key_string(w, python_key, p->python_version);
	json_key_u64(w, "ns_pid", p->ns_pid);
	json_key_string(w, "cgroup", p->cgroup);
	json_key_string(w, "container", p->container);
	/* the PIDs it stands for: its own, or a group's members' (--group-by) */
	json_key(w, "members");
	json_begin_array(w);
	if (render_is_group(p))
		for (uint32_t i = 0; i < p->nmembers; i++)
			json_u64(w, p->members[i]);
	else
		json_u64(w, p->pid);
	json_end_array(w);
}
