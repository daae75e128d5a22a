/* SPDX-License-Identifier: MIT */
/*
 * health_metrics.c — the agent's health (agent_health.h, what `pyflare status` shows) as
 * Prometheus's text exposition format 0.0.4, for --metrics: names with the pyflare_ prefix,
 * counters ending in _total, seconds and bytes as the units, each with # HELP and # TYPE.
 */
#include <inttypes.h>
#include <stdio.h>

#include "agent/agent_health.h"
#include "lib/number.h"

/* One family's # HELP and # TYPE lines; @help holds neither a backslash nor a newline. */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(FILE *out, const char *name, const char *help, uint64_t v)
{
	family(out, name, "counter", help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

static void gauge(FILE *out, const char *name, const char *help, uint64_t v)
{
	family(out, name, "gauge", help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

/* @ns in seconds, to the microsecond (exactly: no float on the way) */
static void seconds(FILE *out, const char *name, const char *type, const char *help, uint64_t ns)
{
	char v[NUMBER_DECIMAL_LEN];

	family(out, name, type, help);
	number_decimal(v, ns / 1000, 6);
	fprintf(out, "%s %s\n", name, v);
}

/* A label's value, escaped as the format wants: backslash, double quote, newline. */
static void label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void push_metrics(const struct push_stats *p, FILE *out);

void agent_health_prometheus(const struct agent_health *h, FILE *out)
{
	family(out, "pyflare_agent_info", "gauge", "The agent's version, mode and clock (1).");
	fputs("pyflare_agent_info{version=\"", out);
	label_value(out, PYFLARE_VERSION);
	fputs("\",mode=\"", out);
	label_value(out, h->mode);
	fputs("\",clock=\"", out);
	label_value(out, h->clock);
	fprintf(out, "\",rate_hz=\"%u\"} 1\n", h->rate_hz);

	counter(out, "pyflare_samples_taken_total",
		"Timer hits on a thread of a profiled process: each is shown, lost, or had no "
		"thread state or no Python frame.",
		h->samples_taken);
	counter(out, "pyflare_samples_shown_total",
		"Samples with a Python stack, as the slices count them.", h->samples_shown);
	counter(out, "pyflare_samples_lost_total",
		"Samples dropped in the kernel: the ring buffer was full.", h->lost);
	counter(out, "pyflare_samples_no_thread_state_total",
		"Samples of a thread with no Python thread state: a process starting or "
		"exiting, or a thread that runs no Python.",
		h->no_thread_state);
	counter(out, "pyflare_samples_no_python_frame_total",
		"Samples of a Python thread with no Python frame: start-up, compiling, exit.",
		h->no_python_frame);

	gauge(out, "pyflare_processes_profiled", "Python processes profiled now.", h->processes);
	counter(out, "pyflare_processes_attached_total", "Python processes profiled so far.",
		h->attached);
	counter(out, "pyflare_processes_refused_total",
		"Processes not profiled (unsupported, unreadable): the slices say why.",
		h->refused);

	gauge(out, "pyflare_resident_memory_bytes", "The agent's resident memory.", h->rss_bytes);
	seconds(out, "pyflare_cpu_seconds_total", "counter",
		"CPU time the agent used, user and system.", h->cpu_ns);

	counter(out, "pyflare_slices_written_total", "Slices written into the agent's folder.",
		h->slices_written);
	counter(out, "pyflare_slice_write_failures_total",
		"Slices that could not be written (full or read-only disk): their samples are "
		"gone.",
		h->slices_failed);
	seconds(out, "pyflare_last_slice_written_timestamp_seconds", "gauge",
		"When the last slice was written, in seconds since the epoch; 0: none yet.",
		h->last_slice_realtime_ns);

	family(out, "pyflare_ring_buffer_drops_total", "counter",
	       "Records the kernel dropped, the ring buffer full: samples (the samples lost) "
	       "and process events.");
	fprintf(out, "pyflare_ring_buffer_drops_total{record=\"sample\"} %" PRIu64 "\n", h->lost);
	fprintf(out, "pyflare_ring_buffer_drops_total{record=\"process_event\"} %" PRIu64 "\n",
		h->events_lost);

	counter(out, "pyflare_snapshot_requests_total",
		"Snapshots asked for: pyflare snapshot and SIGUSR1.", h->snapshot_requests);
	counter(out, "pyflare_snapshots_taken_total",
		"Snapshots written into the folder (SIGUSR1) or sent (pyflare snapshot).",
		h->snapshots);

	gauge(out, "pyflare_files_kept", "Slices and snapshots in the folder after retention.",
	      h->files_kept);
	gauge(out, "pyflare_files_kept_bytes", "Their size.", h->bytes_kept);
	counter(out, "pyflare_retention_removed_files_total",
		"Slices and snapshots retention removed (--keep-for, --keep-size).",
		h->files_removed);
	counter(out, "pyflare_retention_removed_bytes_total", "Their size.", h->bytes_removed);
	if (h->push)
		push_metrics(h->push, out);
}

/* --push: the sending queue and what came of each profile (push.h). */
static void push_metrics(const struct push_stats *p, FILE *out)
{
	gauge(out, "pyflare_push_queued_profiles", "Profiles waiting to be sent, now.", p->queued);
	gauge(out, "pyflare_push_queued_bytes", "Their size.", p->queued_bytes);
	counter(out, "pyflare_push_sent_profiles_total", "Profiles the server accepted (2xx).",
		p->sent);
	counter(out, "pyflare_push_sent_bytes_total", "Their size.", p->sent_bytes);
	counter(out, "pyflare_push_retries_total", "Sends that failed and were tried again.",
		p->retried);
	counter(out, "pyflare_push_rejected_profiles_total",
		"Profiles the server refused (4xx): not retried.", p->rejected);
	counter(out, "pyflare_push_dropped_profiles_total",
		"Profiles never sent: the queue full, the tries run out, or the stop.", p->dropped);
	seconds(out, "pyflare_push_last_success_timestamp_seconds", "gauge",
		"When the server last accepted a profile, in seconds since the epoch; 0: never.",
		p->last_success_ns);
}
