/* SPDX-License-Identifier: MIT */
/*
 * agent_health.h — what `pyflare status` shows of a running agent: the sampling, its own
 * cost, the slices written and those it could not write, as text or JSON.
 */
#ifndef PYFLARE_AGENT_HEALTH_H
#define PYFLARE_AGENT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/push.h"

struct agent_health {
	uint32_t pid;
	const char *dir;
	const char *mode, *clock;
	uint32_t rate_hz, ncpus;
	uint64_t uptime_ns;
	uint64_t samples, lost; /* since the start */
	/* since the start, as a recording's health line adds them up (session.h): each sample
	 * taken is shown, lost, or had no thread state or no Python frame */
	uint64_t samples_taken, samples_shown, no_thread_state, no_python_frame;
	uint64_t events_lost;		       /* process events the ring buffer dropped */
	double samples_per_s;		       /* over the last slice */
	uint32_t processes;		       /* profiled now */
	uint32_t attached, refused;	       /* since the start */
	uint64_t rss_bytes;		       /* the agent's resident memory now */
	double cpu_percent;		       /* of one core, over the last slice */
	double cpu_percent_avg;		       /* of one core, since the start */
	uint64_t cpu_ns;		       /* the agent's CPU time (user + system) */
	uint64_t slice_ns;		       /* --slice */
	uint64_t slices_written;	       /* since the start */
	uint64_t slices_failed;		       /* could not be written (the samples are gone) */
	const char *last_error;		       /* why the last one failed, or "" */
	const char *last_slice;		       /* path of the last slice written, or "" */
	uint64_t last_slice_age_ns;	       /* since it was written */
	uint64_t last_slice_realtime_ns;       /* when, ns since the epoch; 0: none yet */
	uint64_t files_kept, bytes_kept;       /* in the folder, after the last retention */
	uint64_t files_removed, bytes_removed; /* by retention, since the start */
	uint64_t window_ns;		       /* the flight recorder's window */
	uint32_t window_slices;		       /* slices held for it */
	uint64_t snapshots;		       /* written or sent */
	const struct push_stats *push;	       /* --push; NULL: none */
	uint64_t snapshot_requests;	       /* pyflare snapshot and SIGUSR1 */
	const char *metrics_url;	       /* --metrics, or "" */
};

/* The agent's resident memory (/proc/self/statm) and CPU time (user + system), now. */
uint64_t agent_self_rss(void);
uint64_t agent_self_cpu_ns(void);

/* `pyflare status`'s text. */
void agent_health_text(const struct agent_health *h, FILE *out);
/* `pyflare status --json`: one object, the same figures. */
void agent_health_json(const struct agent_health *h, FILE *out);
/* --metrics: the same figures in Prometheus's text format 0.0.4 (health_metrics.c). */
void agent_health_prometheus(const struct agent_health *h, FILE *out);

#endif /* PYFLARE_AGENT_HEALTH_H */
