/* SPDX-License-Identifier: MIT */
/* render_json_common.c — metadata, health and process fields the JSON formats share. */
#include <time.h>

#include "render/render_json_common.h"

void render_json_put_field(FILE *out, const char *key, const char *value, render_json_str_fn put)
{
	fprintf(out, "\"%s\":", key);
	(put ? put : render_put_json_string)(out, value);
}

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

void render_json_put_recording(FILE *out, const struct session *s, const struct render_opts *o)
{
	const struct session_meta *m = session__meta(s);

	fputs("\"duration\":", out);
	render_put_seconds(out, m->duration_ns);
	putc(',', out);
	render_json_put_field(out, "target", m->target, NULL);
	putc(',', out);
	render_json_put_field(out, "mode", m->mode, NULL);
	putc(',', out);
	render_json_put_field(out, "clock", m->clock, NULL);
	if (*m->kernel_notes) {
		putc(',', out);
		render_json_put_field(out, "kernel_notes", m->kernel_notes, NULL);
	}
	fprintf(out, ",\"rate_hz\":%u,\"ncpus\":%u,", m->rate_hz, m->ncpus);
	render_json_put_field(out, "granularity", render_granularity_name(o->granularity), NULL);
	putc(',', out);
	render_json_put_field(out, "group_by", group_by_name(o->group_by), NULL);
}

void render_json_put_health(FILE *out, const struct session *s, render_json_str_fn put)
{
	const struct session_health *h = session__health(s);
	const struct session_refusal *r;
	size_t n, i;

	fprintf(out, "\"health\":{\"samples\":%llu,\"lost\":%llu,\"truncated\":%llu,"
		"\"unreadable\":%llu,\"unsymbolized\":%llu,\"no_thread_state\":%llu,"
		"\"attached\":%u,\"refused\":%u},\n\"refusals\":[",
		(unsigned long long)h->samples, (unsigned long long)h->lost,
		(unsigned long long)h->truncated, (unsigned long long)h->unreadable,
		(unsigned long long)h->unsymbolized, (unsigned long long)h->no_thread_state,
		h->attached, h->refused);
	r = session__refusals(s, &n);
	for (i = 0; i < n; i++) {
		fprintf(out, "%s{\"pid\":%u,", i ? "," : "", r[i].pid);
		render_json_put_field(out, "comm", r[i].comm, put);
		putc(',', out);
		render_json_put_field(out, "reason", r[i].reason, put);
		putc('}', out);
	}
	putc(']', out);
}

void render_json_put_process(FILE *out, const struct session_process *p, const char *python_key,
			     render_json_str_fn put)
{
	render_json_put_field(out, "comm", p->comm, put);
	putc(',', out);
	render_json_put_field(out, "cmdline", p->cmdline, put);
	putc(',', out);
	render_json_put_field(out, "exe", p->exe, put);
	putc(',', out);
	render_json_put_field(out, python_key, p->python_version, put);
	fprintf(out, ",\"ns_pid\":%u,", p->ns_pid);
	render_json_put_field(out, "cgroup", p->cgroup, put);
	putc(',', out);
	render_json_put_field(out, "container", p->container, put);
	/* the PIDs it stands for: its own, or a group's members' (--group-by) */
	fputs(",\"members\":[", out);
	if (render_is_group(p))
		for (uint32_t i = 0; i < p->nmembers; i++)
			fprintf(out, "%s%u", i ? "," : "", p->members[i]);
	else
		fprintf(out, "%u", p->pid);
	putc(']', out);
}
