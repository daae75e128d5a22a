/* SPDX-License-Identifier: MIT */
/*
 * agent.c — `pyflare agent`: the recorder runs as for `record -a`, and after each look at
 * the ring buffer (collector_hook) the agent cuts the slice that ended (slicer.c), writes
 * it into its folder (slice_files.c), applies retention (retention.c), keeps it for the
 * flight recorder (flight_recorder.c) and answers its control socket (control_server.c)
 * and, with --metrics, Prometheus (metrics_server.c).
 * A stop signal ends the recording; the partial slice is written, and the agent exits 0.
 * A slice that cannot be written is counted and said, never retried: the agent keeps
 * sampling, and what it holds stays bounded. With --push, each slice is also handed to the
 * sending thread (push.c), which sends it to a Pyroscope server off this thread.
 */
#include "agent/agent.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_health.h"
#include "agent/clock_watch.h"
#include "agent/control.h"
#include "agent/flight_recorder.h"
#include "agent/metrics_server.h"
#include "agent/retention.h"
#include "agent/slice_files.h"
#include "agent/slicer.h"
#include "lib/clock.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "record/collector.h"
#include "session/health.h"
#include "session/session_file.h"

/* a slice is cut this long after it ends: the samples taken before its end have arrived */
#define CUT_GRACE_NS 100000000ULL
#define SERVE_EVERY_NS 50000000ULL /* status, snapshot and scrapes answered within 50 ms */
/* a write failure like the last one is said again after this long */
#define SAY_AGAIN_NS (600ULL * 1000000000ULL)

struct agent {
	const struct agent_opts *o;
	struct session *live;
	struct collector *c;
	struct slicer slicer;
	struct flight_recorder fr;
	struct control_server *ctl;
	struct pusher *push;		/* NULL: no --push */
	struct metrics_server *metrics; /* --metrics, or NULL */
	uint64_t slice_ns;
	uint64_t mono_start; /* now_ns() when the recording's clock was 0 */
	bool started;
	/* figures for status */
	uint64_t slices_written, slices_failed, snapshots, snapshot_requests;
	uint64_t shown_cut; /* samples shown in the slices cut so far */
	uint64_t files_removed, bytes_removed, files_kept, bytes_kept;
	char last_error[160];
	uint64_t last_error_said; /* when the last failure was said (now_ns) */
	int last_errno;
	char last_slice[4096];
	uint64_t last_slice_at; /* now_ns() */
	uint64_t last_slice_realtime;
	double samples_per_s, cpu_percent;
	uint64_t cpu_at_cut, mono_at_cut;
	uint64_t served_at;	  /* when the control socket and --metrics were last looked at */
	struct clock_watch clock; /* the wall clock's steps, seen at each cut */
};

static uint64_t elapsed(const struct agent *a)
{
	return now_ns() - a->mono_start;
}

/* A write failure: counted, and said when it is new or was said long ago. */
static void write_failed(struct agent *a, const char *what, int err)
{
	uint64_t now = now_ns();

	if (!strcmp(what, SLICE_KIND))
		a->slices_failed++;
	snprintf(a->last_error, sizeof(a->last_error), "%s", strerror(-err));
	if (err == a->last_errno && now - a->last_error_said < SAY_AGAIN_NS)
		return;
	pr_warn("cannot write a %s into %s: %s; sampling goes on (%llu slices not written so "
		"far, pyflare status tells)\n",
		what, a->o->dir, strerror(-err), (unsigned long long)a->slices_failed);
	a->last_errno = err;
	a->last_error_said = now;
}

static void apply_retention(struct agent *a)
{
	struct retention_stats st;

	if (retention_apply(a->o->dir, a->o->keep_for_ns, a->o->keep_bytes, realtime_ns(), &st))
		return;
	a->files_removed += st.removed_files;
	a->bytes_removed += st.removed_bytes;
	a->files_kept = st.kept_files;
	a->bytes_kept = st.kept_bytes;
}

/* Writes @s as a file of @kind into the folder: 0 or -errno (counted and said). */
static int write_file(struct agent *a, const char *kind, const struct session *s)
{
	char path[4096];
	int64_t r = slice_file_write(a->o->dir, kind, s, path, sizeof(path));

	if (r < 0) {
		write_failed(a, kind, (int)r);
		return (int)r;
	}
	if (!strcmp(kind, SLICE_KIND)) {
		a->slices_written++;
		snprintf(a->last_slice, sizeof(a->last_slice), "%s", path);
		a->last_slice_at = now_ns();
		a->last_slice_realtime = realtime_ns();
		a->last_errno = 0;
	}
	pr_info("wrote %s (%lld bytes)\n", path, (long long)r);
	return 0;
}

/* The live session's meta and health as of now, and the clocks. */
static struct slicer_now take_stock(struct agent *a)
{
	collector_fill_session(a->c);
	return (struct slicer_now){ .elapsed_ns = elapsed(a), .realtime_ns = realtime_ns() };
}

/* A step of the wall clock since the last cut: said, since the slices' names jump with it. */
static void note_clock_step(struct agent *a, const struct slicer_now *now)
{
	int64_t step = clock_watch_look(&a->clock, now->realtime_ns, now->elapsed_ns);

	if (step)
		pr_warn("the wall clock was set %s by %.3f s; the slices from now on are named by "
			"the new time, none is lost or doubled (%llu steps so far)\n",
			step > 0 ? "forward" : "back", (double)(step > 0 ? step : -step) / 1e9,
			(unsigned long long)a->clock.jumps);
}

/* Cuts the slice ending at @end_ns, writes it, keeps it for the window. */
static void cut_slice(struct agent *a, uint64_t end_ns)
{
	struct slicer_now now;
	struct session *slice;
	uint64_t cpu = agent_self_cpu_ns(), mono = now_ns();

	if (a->o->record.wall)
		collector_account_waits(a->c); /* a long wait counts in each slice it spans */
	now = take_stock(a);
	note_clock_step(a, &now);
	slice = slicer_cut(&a->slicer, a->live, end_ns, &now);
	if (!slice) {
		uint64_t shown = health_samples_shown(a->live);

		write_failed(a, "slice", -errno);
		/* memory is short: let the samples go rather than hold more (they were shown) */
		session__drop_samples_before(a->live, end_ns);
		a->shown_cut += shown - health_samples_shown(a->live);
		a->slicer.start_ns = end_ns;
		return;
	}
	if (mono > a->mono_at_cut) {
		const struct session_meta *m = session__meta(slice);

		a->samples_per_s = m->duration_ns ? session__health(slice)->samples * 1e9 /
							    (double)m->duration_ns :
						    0;
		a->cpu_percent =
			(double)(cpu - a->cpu_at_cut) * 100.0 / (double)(mono - a->mono_at_cut);
	}
	a->cpu_at_cut = cpu;
	a->mono_at_cut = mono;
	a->shown_cut += health_samples_shown(slice);
	write_file(a, SLICE_KIND, slice);
	/* sent even when the disk failed it: the server may be where it is kept */
	if (a->push)
		pusher_offer(a->push, slice);
	apply_retention(a);
	flight_recorder_add(&a->fr, slice, end_ns);
	/* what processes that ended left behind goes (short of memory: kept, tried next time) */
	if (!collector_rebase(a->c, end_ns, a->slicer.first_refusal))
		a->slicer.first_refusal = 0;
	malloc_trim(0); /* the old session's and slice's pages back to the system, not kept */
}

/* The flight recorder's last @seconds, the slice so far included: NULL with errno set. */
static struct session *snapshot(struct agent *a, double seconds)
{
	struct slicer_now now = take_stock(a);
	struct session *newest = slicer_peek(&a->slicer, a->live, &now), *s;
	int e;

	if (!newest)
		return NULL;
	s = flight_recorder_snapshot(&a->fr, newest, now.elapsed_ns, (uint64_t)(seconds * 1e9));
	e = errno;
	session__free(newest);
	errno = e;
	if (s)
		a->snapshots++;
	return s;
}

static void fill_health(struct agent *a, struct agent_health *h, struct push_stats *ps)
{
	struct session_health sh;
	struct collector_status st;
	uint64_t up = elapsed(a), cpu = agent_self_cpu_ns();

	/* not take_stock(): setting the live session's meta at each scrape would grow it */
	collector_health(a->c, &sh);
	collector_status(a->c, &st);
	*h = (struct agent_health){
		.pid = (uint32_t)getpid(),
		.dir = a->o->dir,
		.mode = st.wall ? "wall" : "cpu",
		.clock = sample_clock_name(st.clock),
		.rate_hz = a->o->record.rate_hz,
		.ncpus = st.ncpus,
		.uptime_ns = up,
		.samples = st.samples,
		.lost = st.lost,
		.samples_taken = sh.samples,
		/* the samples not cut into a slice yet are in the live session */
		.samples_shown = a->shown_cut + health_samples_shown(a->live),
		.no_thread_state = sh.no_thread_state,
		.no_python_frame = sh.no_python_frame,
		.events_lost = st.events_lost,
		.samples_per_s = a->samples_per_s,
		.processes = st.processes,
		.attached = sh.attached,
		.refused = sh.refused,
		.rss_bytes = agent_self_rss(),
		.cpu_percent = a->cpu_percent,
		.cpu_percent_avg = up ? (double)cpu * 100.0 / (double)up : 0,
		.cpu_ns = cpu,
		.slice_ns = a->slice_ns,
		.slices_written = a->slices_written,
		.slices_failed = a->slices_failed,
		.last_error = a->slices_failed ? a->last_error : "",
		.last_slice = a->last_slice,
		.last_slice_age_ns = a->last_slice[0] ? now_ns() - a->last_slice_at : 0,
		.last_slice_realtime_ns = a->last_slice[0] ? a->last_slice_realtime : 0,
		.files_kept = a->files_kept,
		.bytes_kept = a->bytes_kept,
		.files_removed = a->files_removed,
		.bytes_removed = a->bytes_removed,
		.window_ns = a->fr.window_ns,
		.window_slices = (uint32_t)a->fr.n,
		.snapshots = a->snapshots,
		.snapshot_requests = a->snapshot_requests,
		.metrics_url = a->metrics ? metrics_server_url(a->metrics) : "",
	};
	if (a->push) {
		pusher_stats(a->push, ps);
		h->push = ps;
	}
}

/* GET /metrics: the health, as Prometheus reads it. */
static void metrics_body(FILE *out, void *ctx)
{
	struct agent_health h;
	struct push_stats ps;

	fill_health(ctx, &h, &ps);
	agent_health_prometheus(&h, out);
}

static int answer(enum control_request req, double seconds, FILE *out, void *ctx)
{
	struct agent *a = ctx;
	struct agent_health h;
	struct push_stats ps;
	struct session *s;
	int err;

	if (req != CONTROL_SNAPSHOT) {
		fill_health(a, &h, &ps);
		if (req == CONTROL_STATUS_JSON)
			agent_health_json(&h, out);
		else
			agent_health_text(&h, out);
		return 0;
	}
	a->snapshot_requests++;
	if (!a->fr.window_ns) {
		fprintf(out, "error: this agent keeps no window in memory (--window 0)\n");
		return -ENOENT;
	}
	s = snapshot(a, seconds);
	if (!s) {
		err = -errno;
		fprintf(out, "error: cannot take a snapshot: %s\n", strerror(-err));
		return err;
	}
	fprintf(out, "ok\n");
	err = session_file_write(s, out);
	session__free(s);
	return err;
}

static bool on_poll(struct collector *c, void *ctx)
{
	struct agent *a = ctx;

	if (!a->started) {
		struct collector_status st;

		collector_status(c, &st);
		a->c = c;
		a->mono_start = now_ns() - st.elapsed_ns;
		a->mono_at_cut = now_ns();
		a->cpu_at_cut = agent_self_cpu_ns();
		a->started = true;
	}
	if (elapsed(a) >= a->slicer.start_ns + a->slice_ns + CUT_GRACE_NS)
		cut_slice(a, a->slicer.start_ns + a->slice_ns);
	/* the kernel wakes the collector for every new code object and process event: the
	 * sockets' accept() is not tried at each of those turns, as often as a person notices */
	if (now_ns() - a->served_at >= SERVE_EVERY_NS) {
		control_server_poll(a->ctl);
		if (a->metrics)
			metrics_server_poll(a->metrics);
		a->served_at = now_ns();
	}
	return false;
}

/* SIGUSR1: a snapshot of the window into the folder. */
static void on_usr1(struct collector *c, void *ctx)
{
	struct agent *a = ctx;
	struct session *s;

	(void)c;
	if (!a->started)
		return;
	a->snapshot_requests++;
	if (!a->fr.window_ns) {
		pr_warn("SIGUSR1: no snapshot, this agent keeps no window in memory (--window 0)\n");
		return;
	}
	s = snapshot(a, (double)a->fr.window_ns / 1e9);
	if (!s) {
		write_failed(a, SNAPSHOT_KIND, -errno);
		return;
	}
	write_file(a, SNAPSHOT_KIND, s);
	session__free(s);
}

/* The recording ended (a stop signal): the partial slice is written. */
static void on_end(struct collector *c, void *ctx)
{
	struct agent *a = ctx;

	a->c = c;
	if (!a->started)
		return;
	/* every slice that ended, then what is left of the current one */
	while (elapsed(a) >= a->slicer.start_ns + a->slice_ns)
		cut_slice(a, a->slicer.start_ns + a->slice_ns);
	cut_slice(a, session__meta(a->live)->duration_ns + 1);
}

int agent_default_dir(char *buf, size_t len)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "%s", AGENT_DIR_DEFAULT);
	else if (state && *state == '/')
		n = snprintf(buf, len, "%s/pyflare/agent", state);
	else if (home && *home == '/')
		n = snprintf(buf, len, "%s/.local/state/pyflare/agent", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* @dir and the folders above it that are missing, each 0700: 0 or -errno. */
static int make_dirs(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(path, 0700) && errno != EEXIST ? -errno : 0;
}

/* The folder, made if missing (0700: slices hold command lines): 0 or -errno, said. */
static int prepare_dir(const char *dir)
{
	struct stat st;
	int err = make_dirs(dir);

	if (err) {
		pr_error("cannot create the agent's folder %s: %s (give another with --dir)\n", dir,
			 strerror(-err));
		return err;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		pr_error("%s is not a folder (give the agent's folder with --dir)\n", dir);
		return -ENOTDIR;
	}
	/* later, a folder that cannot be written costs slices, counted; at the start nothing
	 * could be kept, not even the lock and the socket */
	if (access(dir, W_OK)) {
		err = -errno;
		pr_error("cannot write into the agent's folder %s: %s (give another with --dir)\n",
			 dir, strerror(-err));
		return err;
	}
	return 0;
}

int agent_run(const struct agent_opts *o)
{
	struct agent a = {
		.o = o,
		.slice_ns = (uint64_t)(o->slice_s * 1e9),
		.fr = { .window_ns = (uint64_t)(o->window_s * 1e9) },
	};
	struct collector_hook hook = {
		.poll = on_poll,
		.end = on_end,
		.usr1 = on_usr1,
		.ctx = &a,
		/* a tenth of a second: slices, status and scrapes wait no longer than that */
		.poll_ms = 100,
	};
	char err[512];
	int status, ret;
	size_t stale;

	if (prepare_dir(o->dir))
		return EXIT_TARGET;
	a.ctl = control_server_open(o->dir, answer, &a, err, sizeof(err));
	if (!a.ctl) {
		pr_error("%s\n", err);
		return errno == EBUSY ? EXIT_USAGE : EXIT_TARGET;
	}
	if (o->push.url) {
		a.push = pusher_start(&o->push, err, sizeof(err));
		if (!a.push) {
			pr_error("%s\n", err);
			control_server_close(a.ctl);
			return EXIT_USAGE;
		}
	}
	if (o->metrics) {
		/* said now, not found missing at the first scrape */
		a.metrics = metrics_server_open(o->metrics, metrics_body, &a, err, sizeof(err));
		if (!a.metrics) {
			pr_error("%s\n", err);
			pusher_stop(a.push, 0);
			control_server_close(a.ctl);
			return EXIT_SYSTEM;
		}
	}
	stale = slice_files_remove_temporary(o->dir);
	if (stale)
		pr_info("removed %zu half-written files a stopped agent left in %s\n", stale,
			o->dir);
	a.live = session__new();
	if (!a.live) {
		pr_error("out of memory\n");
		pusher_stop(a.push, 0);
		metrics_server_close(a.metrics);
		control_server_close(a.ctl);
		return EXIT_NOMEM;
	}
	pr_info("agent: slices of %.0f s into %s, control socket %s\n", o->slice_s, o->dir,
		control_server_path(a.ctl));
	if (a.push)
		pr_info("agent: each slice pushed to %s, one profile per %s\n",
			pusher_stats_url(a.push), group_by_name(o->push.group_by));
	if (a.metrics)
		pr_info("agent: metrics on %s\n", metrics_server_url(a.metrics));
	apply_retention(&a);
	ret = collector_record_live(&o->record, a.live, &hook, &status);
	/* the last slice is in the queue: a short while to send what waits, then exit */
	pusher_stop(a.push, PUSH_FLUSH_NS);
	metrics_server_close(a.metrics);
	control_server_close(a.ctl);
	flight_recorder_free(&a.fr);
	session__free(a.live);
	return ret;
}
