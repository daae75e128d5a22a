/* SPDX-License-Identifier: MIT */
/* agent_health.c — a running agent's figures, as `pyflare status` shows them. */
#include "agent/agent_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/escape.h"
#include "lib/json.h"

uint64_t agent_self_rss(void)
{
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

uint64_t agent_self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

static void push_text(const struct push_stats *p, FILE *out)
{
	/* the URL holds no password; last_error is escaped already */
	char *url = escape_dup(p->url, NULL);

	fprintf(out,
		"push:       to %s, a profile per %s: %llu sent (%.1f MiB), %llu queued "
		"(%.1f MiB), %llu retried, %llu rejected, %llu dropped\n",
		url ? url : "?", p->group_by, (unsigned long long)p->sent, mib(p->sent_bytes),
		(unsigned long long)p->queued, mib(p->queued_bytes), (unsigned long long)p->retried,
		(unsigned long long)p->rejected, (unsigned long long)p->dropped);
	if (p->last_success_ns)
		fprintf(out, "last push:  %.0f s ago\n",
			(double)(realtime_ns() - p->last_success_ns) / 1e9);
	else
		fprintf(out, "last push:  none yet\n");
	if (*p->last_error)
		fprintf(out, "push error: %s\n", p->last_error);
	free(url);
}

void agent_health_text(const struct agent_health *h, FILE *out)
{
	char *dir = escape_dup(h->dir, NULL), *last = escape_dup(h->last_slice, NULL);
	char *why = escape_dup(h->last_error, NULL);

	fprintf(out, "pyflare agent, PID %u, up %.0f s, folder %s\n", h->pid, h->uptime_ns / 1e9,
		dir ? dir : "?");
	fprintf(out, "sampling:   %s mode, %s clock at %u Hz on %u CPUs\n", h->mode, h->clock,
		h->rate_hz, h->ncpus);
	fprintf(out, "samples:    %llu (%.1f/s over the last slice), %llu lost\n",
		(unsigned long long)h->samples, h->samples_per_s, (unsigned long long)h->lost);
	fprintf(out, "processes:  %u profiled now, %u attached and %u refused since the start\n",
		h->processes, h->attached, h->refused);
	fprintf(out,
		"agent:      %.1f MiB resident, %.2f%% of a core (last slice), %.2f%% since "
		"the start\n",
		mib(h->rss_bytes), h->cpu_percent, h->cpu_percent_avg);
	fprintf(out, "slices:     every %.0f s, %llu written, %llu could not be written%s%s%s\n",
		h->slice_ns / 1e9, (unsigned long long)h->slices_written,
		(unsigned long long)h->slices_failed, why && *why ? " (last: " : "",
		why && *why ? why : "", why && *why ? ")" : "");
	if (last && *last)
		fprintf(out, "last slice: %s, %.0f s ago\n", last, h->last_slice_age_ns / 1e9);
	else
		fprintf(out, "last slice: none yet\n");
	fprintf(out, "kept:       %llu files, %.1f MiB; retention removed %llu files, %.1f MiB\n",
		(unsigned long long)h->files_kept, mib(h->bytes_kept),
		(unsigned long long)h->files_removed, mib(h->bytes_removed));
	fprintf(out, "window:     the last %.0f s in memory (%u slices), %llu snapshots taken\n",
		h->window_ns / 1e9, h->window_slices, (unsigned long long)h->snapshots);
	if (h->push)
		push_text(h->push, out);
	if (h->metrics_url[0])
		fprintf(out, "metrics:    %s\n", h->metrics_url);
	free(dir);
	free(last);
	free(why);
}

static void push_json(struct json_writer *w, const struct push_stats *p)
{
	json_begin_object(w);
	json_key_string(w, "url", p->url);
	json_key_string(w, "group_by", p->group_by);
	json_key_u64(w, "queued", p->queued);
	json_key_u64(w, "queued_bytes", p->queued_bytes);
	json_key_u64(w, "sent", p->sent);
	json_key_u64(w, "sent_bytes", p->sent_bytes);
	json_key_u64(w, "retried", p->retried);
	json_key_u64(w, "rejected", p->rejected);
	json_key_u64(w, "dropped", p->dropped);
	json_key(w, "last_success_unix_s");
	if (p->last_success_ns)
		json_decimal(w, p->last_success_ns / 1000000, 3);
	else
		json_null(w);
	json_key_string(w, "last_error", p->last_error);
	json_end_object(w);
}

void agent_health_json(const struct agent_health *h, FILE *out)
{
	struct json_writer w;

	json_init(&w, out, JSON_SPACED);
	json_begin_object(&w);
	json_key_u64(&w, "pid", h->pid);
	json_key_string(&w, "dir", h->dir);
	json_key_string(&w, "mode", h->mode);
	json_key_string(&w, "clock", h->clock);
	json_key_u64(&w, "rate_hz", h->rate_hz);
	json_key_u64(&w, "ncpus", h->ncpus);
	json_key_decimal(&w, "uptime_s", h->uptime_ns / 1000000, 3);
	json_key_u64(&w, "samples", h->samples);
	json_key_decimal(&w, "samples_per_s", (uint64_t)(h->samples_per_s * 10 + 0.5), 1);
	json_key_u64(&w, "lost", h->lost);
	json_key_u64(&w, "samples_taken", h->samples_taken);
	json_key_u64(&w, "samples_shown", h->samples_shown);
	json_key_u64(&w, "no_thread_state", h->no_thread_state);
	json_key_u64(&w, "no_python_frame", h->no_python_frame);
	json_key_u64(&w, "events_lost", h->events_lost);
	json_key_u64(&w, "processes", h->processes);
	json_key_u64(&w, "processes_attached", h->attached);
	json_key_u64(&w, "processes_refused", h->refused);
	json_key_u64(&w, "rss_bytes", h->rss_bytes);
	json_key_decimal(&w, "cpu_percent", (uint64_t)(h->cpu_percent * 100 + 0.5), 2);
	json_key_decimal(&w, "cpu_percent_avg", (uint64_t)(h->cpu_percent_avg * 100 + 0.5), 2);
	json_key_decimal(&w, "cpu_s", h->cpu_ns / 1000, 6);
	json_key_decimal(&w, "slice_s", h->slice_ns / 1000000, 3);
	json_key_u64(&w, "slices_written", h->slices_written);
	json_key_u64(&w, "slices_failed", h->slices_failed);
	json_key_string(&w, "last_error", h->last_error);
	json_key_string(&w, "last_slice", h->last_slice);
	if (h->last_slice[0]) {
		json_key_decimal(&w, "last_slice_age_s", h->last_slice_age_ns / 1000000, 3);
		json_key_decimal(&w, "last_slice_time", h->last_slice_realtime_ns / 1000000, 3);
	} else {
		json_key(&w, "last_slice_age_s");
		json_null(&w);
		json_key(&w, "last_slice_time");
		json_null(&w);
	}
	json_key_u64(&w, "files_kept", h->files_kept);
	json_key_u64(&w, "bytes_kept", h->bytes_kept);
	json_key_u64(&w, "files_removed", h->files_removed);
	json_key_u64(&w, "bytes_removed", h->bytes_removed);
	json_key_decimal(&w, "window_s", h->window_ns / 1000000, 3);
	json_key_u64(&w, "window_slices", h->window_slices);
	json_key_u64(&w, "snapshots", h->snapshots);
	json_key(&w, "push");
	if (h->push)
		push_json(&w, h->push);
	else
		json_null(&w);
	json_key_u64(&w, "snapshot_requests", h->snapshot_requests);
	json_key_string(&w, "metrics", h->metrics_url);
	json_end_object(&w);
	fputc('\n', out);
}
