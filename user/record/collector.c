/* SPDX-License-Identifier: MIT */
/*
 * collector.c — one recording from start to end: the cgroups selected, the BPF programs
 * loaded and attached, the targets found, the sampling clock started and the command let
 * go; then the loop that reads the ring buffer and does the periodic work until the
 * recording ends; last the session's metadata and health. It implements collector.h; the
 * rest of the recorder is in the files recorder.h lists.
 */
#include "record/collector.h"
#include "record/recorder.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "host/proc_info.h"
#include "lib/escape.h"
#include "lib/keymap.h"
#include "lib/log.h"
#include "python/binary_cache.h"
#include "record/repeats.h"
#include "python/py_thread_names.h"
#include "python/symbolize.h"
#include "pyflare.skel.h"
#include "record/bench_hooks.h"
#include "record/bpf_load.h"
#include "record/launch.h"
#include "record/proc_filter.h"
#include "session/health.h"

#define RINGBUF_MIN_BYTES (1u << 20)
#define RINGBUF_MAX_BYTES (64u << 20)
/* the sampler does not wake us: we look this often (1 ms while a process waits for its
 * libpython: see retry_pending()) */
#define POLL_MS 10
/* The ring buffer is read for this long at most in a turn of the loop: a collector that reads
 * slower than the samples come (a starved CPU) still cuts slices and hears signals. */
#define POLL_BUDGET_NS 200000000ULL
#define HOUSEKEEPING_NS 50000000ULL /* TLS and GIL checks: every 50 ms */
#define STOP_GRACE_NS 2000000000ULL /* after a stop signal, let the command finish this long */
#define PROGRESS_NS 250000000ULL
#define DRAIN_NS 200000000ULL		  /* wall mode: read the kernel's short-wait sums */
#define TICK_CHECK_NS 1000000000ULL	  /* --clock tick: ticks must have been seen by then */
#define MMAP_THRESHOLD_BYTES (128 * 1024) /* glibc's default, kept (see mallopt below) */
#define SWEEP_NS 2000000000ULL /* what ended processes left: freed, and sizes said (-v) */

/* SIGINT, SIGTERM and SIGHUP stop the recording; SIGUSR1 is only noted (docs/pyflare.1) */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t stop_signal, stop_from_terminal, usr1_seen;

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (sig == SIGUSR1) {
		usr1_seen = 1;
		return;
	}
	/* the terminal's Ctrl-C or hangup reached the command's process group as well */
	stop_from_terminal = info && info->si_code == SI_KERNEL;
	stop_signal = sig;
}

/* Puts on_signal in place for the recording, keeping what was there in @saved. */
static void handle_stop_signals(struct sigaction saved[4])
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };

	stop_signal = stop_from_terminal = usr1_seen = 0;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		sigaction(stop_signals[i], NULL, &saved[i]);
		/* under nohup a hangup is not meant to stop anything */
		if (stop_signals[i] != SIGHUP || saved[i].sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
	}
	sigaction(SIGUSR1, &sa, &saved[3]);
}

static void restore_signals(const struct sigaction saved[4])
{
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &saved[i], NULL);
	sigaction(SIGUSR1, &saved[3], NULL);
}

uint64_t health_counter(struct collector *c, __u32 key)
{
	int n = libbpf_num_possible_cpus();
	__u64 *values = calloc((size_t)n, sizeof(*values)), sum = 0;

	if (!values)
		return 0;
	if (!bpf_map__lookup_elem(c->skel->maps.health, &key, sizeof(key), values,
				  sizeof(*values) * (size_t)n, 0))
		for (int i = 0; i < n; i++)
			sum += values[i];
	free(values);
	return sum;
}

static uint32_t count_attached(struct collector *c)
{
	return (uint32_t)c->n_instances;
}

/* Samples the kernel took that never reached the session: the ring had no room, or (never
 * seen) a short record came with no stack kept for it. */
static uint64_t samples_lost(struct collector *c)
{
	return health_counter(c, HEALTH_RINGBUF_FULL) + c->again_unmatched;
}

static void show_progress(struct collector *c, uint64_t now)
{
	if (c->opts->quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\rpyflare: recording %.1f s, %llu samples, %u process%s, %llu lost  ",
		(double)(now - c->start_ns) / 1e9, (unsigned long long)c->samples,
		count_attached(c), count_attached(c) == 1 ? "" : "es",
		(unsigned long long)samples_lost(c));
	c->progress_shown = true;
}

static void clear_progress(struct collector *c)
{
	if (c->progress_shown)
		fprintf(stderr, "\r\033[K");
	c->progress_shown = false;
}

void collector_status(struct collector *c, struct collector_status *st)
{
	uint32_t alive = (uint32_t)keymap__count(c->tracked);

	*st = (struct collector_status){
		.elapsed_ns = now_ns() - c->start_ns,
		.samples = c->samples,
		.lost = samples_lost(c),
		.events_lost = health_counter(c, HEALTH_EVENTS_LOST),
		.processes = alive,
		.ncpus = (uint32_t)c->ncpus,
		.wall = c->opts->wall,
		.clock = c->opts->clock,
	};
}

/* Finds the folders of --cgroup/--container before anything is loaded: 0 or -errno. */
static int select_cgroups(struct collector *c)
{
	const struct record_opts *o = c->opts;
	char err[1024];

	for (size_t i = 0; i < o->n_cgroups; i++) {
		int r = o->cgroups[i].container ?
				cgroup_select_container(&c->cgroups, o->cgroups[i].value, err,
							sizeof(err)) :
				cgroup_select_path(&c->cgroups, o->cgroups[i].value, err,
						   sizeof(err));

		if (r) {
			pr_error("%s\n", err);
			return r;
		}
	}
	for (size_t i = 0; i < c->cgroups.n; i++) {
		/* a folder name a container made: escaped for the terminal */
		char *shown = escape_dup(c->cgroups.dirs[i], NULL);

		pr_info("selected cgroup %s\n", shown ? shown : "(name not shown: out of memory)");
		free(shown);
	}
	return 0;
}

/*
 * The sampler's cgroup array: the folders' fds, which the kernel resolves to cgroups.
 * Returns 0 or -errno.
 */
static int fill_cgroup_map(struct collector *c)
{
	for (__u32 i = 0; i < c->cgroups.n; i++) {
		__u32 fd = (__u32)c->cgroups.fds[i];
		int err = bpf_map__update_elem(c->skel->maps.cgroups, &i, sizeof(i), &fd,
					       sizeof(fd), BPF_ANY);

		if (err) {
			char *shown = escape_dup(c->cgroups.dirs[i], NULL);

			pr_error("cannot select cgroup %s in BPF: %s\n", shown ? shown : "",
				 strerror(-err));
			free(shown);
			return err;
		}
	}
	return 0;
}

/* How often an interpreter file was read, rather than recognised: each should be once. */
static void log_binaries(struct collector *c, const char *when)
{
	struct binary_cache_stats st;

	binary_cache__stats(c->binaries, &st);
	pr_info("%s: interpreter files analysed %llu times, recognised %llu times (%zu kept, "
		"%llu dropped)\n",
		when, (unsigned long long)st.misses, (unsigned long long)st.hits, st.entries,
		(unsigned long long)st.evictions);
}

/*
 * The ring buffer's size: half a second of 64-frame samples at @rate_hz on every CPU, a power
 * of two between 1 and 64 MiB. Its pages count in pyflare's memory (twice: the kernel maps the
 * data twice), so a fixed size big enough for many CPUs at 9999 Hz would be most of the
 * collector's footprint at the usual 999 Hz on a few CPUs.
 */
static unsigned ringbuf_bytes(unsigned rate_hz, int ncpus)
{
	uint64_t want =
		(uint64_t)(ncpus > 0 ? ncpus : 1) * rate_hz *
		(__builtin_offsetof(struct py_sample, frames) + 64 * sizeof(struct py_frame)) / 2;
	unsigned bytes = RINGBUF_MIN_BYTES;

	while (bytes < want && bytes < RINGBUF_MAX_BYTES)
		bytes *= 2;
	return bytes;
}

/*
 * What every attempt at loading sets before it loads (bpf_load's configure): 0, -errno, or
 * bench_hooks__configure()'s status.
 */
static int configure_bpf(struct pyflare_bpf *skel, void *ctx)
{
	struct collector *c = ctx;
	unsigned rb_bytes = ringbuf_bytes(c->opts->rate_hz, libbpf_num_possible_cpus());
	int err;

	skel->rodata->sample_weight_ns = 1000000000ULL / c->opts->rate_hz;
	err = bpf_map__set_max_entries(skel->maps.events, rb_bytes);
	if (err) {
		pr_error("cannot size the ring buffer (%u bytes): %s\n", rb_bytes, strerror(-err));
		return err;
	}
	skel->rodata->tick_handler = c->tick_handler;
	skel->rodata->follow_all = c->opts->target == TARGET_ALL;
	skel->rodata->n_cgroups = (__u32)c->cgroups.n;
	skel->rodata->min_block_ns = c->opts->min_block_ns;
	skel->rodata->async_tasks = c->opts->async;
	return bench_hooks__configure(skel);
}

/*
 * Loads the programs the options ask for, or the nearest this kernel loads: what was given
 * up is said now and kept in the session (c->kernel_notes), and c->opts becomes what the
 * recording really does (its mode and clock). Returns 0, -errno after the message that says
 * what the kernel refused, or bench_hooks__configure()'s status.
 */
static int load_bpf(struct collector *c)
{
	struct bpf_choice want = {
		.wall = c->opts->wall,
		.tick = c->opts->clock == SAMPLE_CLOCK_TICK,
		.bpf_loop = true,
	}, got;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		err = -errno;
		pr_error("this kernel has no BTF (/sys/kernel/btf/vmlinux): pyflare needs Linux "
			 ">= 5.8 built with CONFIG_DEBUG_INFO_BTF=y\n");
		return err;
	}
	if (want.tick && !(c->tick_handler = find_tick(c)))
		return -EOPNOTSUPP;
	err = bpf_load(&want, configure_bpf, c, &c->skel, &got, c->kernel_notes,
		       sizeof(c->kernel_notes));
	if (err)
		return err;
	if (c->kernel_notes[0])
		pr_warn("%s\n", c->kernel_notes);
	c->effective.wall = got.wall;
	c->effective.clock = got.tick ? SAMPLE_CLOCK_TICK : SAMPLE_CLOCK_TIMER;
	c->sampler =
		got.tick ?
			(got.bpf_loop ? c->skel->progs.on_tick : c->skel->progs.on_tick_noloop) :
			(got.bpf_loop ? c->skel->progs.on_timer : c->skel->progs.on_timer_noloop);
	err = fill_cgroup_map(c);
	if (err)
		return err;
	err = pyflare_bpf__attach(c->skel);
	if (err) {
		pr_error("cannot attach to the scheduler's process events: %s\n", strerror(-err));
		return err;
	}
	return 0;
}

/* Why the recording should end now, or NULL to go on. */
static const char *should_stop(struct collector *c, uint64_t now, uint64_t *stop_at,
			       int *command_status)
{
	const struct record_opts *o = c->opts;

	if (c->err)
		return "error";
	if (o->duration > 0 && now - c->start_ns >= (uint64_t)(o->duration * 1e9))
		return "duration";
	if (c->launch && launch__poll(c->launch, command_status))
		return "command exited";
	if (o->target == TARGET_PIDS && c->explicit_alive == 0)
		return "targets exited";
	if (usr1_seen == 1 && !c->usr1_hooked) {
		usr1_seen = 2;
		pr_warn("SIGUSR1 ignored: SIGINT, SIGTERM or SIGHUP stop the recording\n");
	}
	if (stop_signal) {
		if (!c->launch)
			return "signal";
		/* the command gets the signal as from a terminal, then time to finish */
		if (!*stop_at) {
			*stop_at = now + STOP_GRACE_NS;
			if (!stop_from_terminal)
				kill(launch__pid(c->launch), stop_signal);
		} else if (now > *stop_at) {
			pr_warn("%s (PID %d) still runs %.0f s after SIG%s: left running (kill %d "
				"stops it)\n",
				o->argv[0], (int)launch__pid(c->launch), STOP_GRACE_NS / 1e9,
				sigabbrev_np(stop_signal), (int)launch__pid(c->launch));
			return "signal";
		}
	}
	return NULL;
}

void collector_health(struct collector *c, struct session_health *out)
{
	const struct record_opts *o = c->opts;
	struct session_health h = { 0 };
	size_t n_refusals;

	session__refusals(c->s, &n_refusals);
	/* every timer hit is shown or not for one reason: the sum of session.h */
	h.samples = health_counter(c, HEALTH_SAMPLES);
	h.lost = samples_lost(c);
	h.truncated = health_counter(c, HEALTH_TRUNCATED);
	h.unreadable = health_counter(c, HEALTH_READ_ERROR);
	h.unsymbolized = health_unsymbolized_frames(c->s);
	h.no_python_frame = c->empty;
	if (!o->wall) {
		h.no_thread_state = health_counter(c, HEALTH_NO_TSTATE) +
				    health_counter(c, HEALTH_TSTATE_MISMATCH);
	} else {
		/* the kernel's counts hold switches out too: the timer's part is what is left */
		uint64_t gone = h.samples > c->samples ? h.samples - c->samples : 0;

		h.no_thread_state = gone > h.lost ? gone - h.lost : 0;
	}
	h.attached = count_attached(c);
	h.refused = (uint32_t)n_refusals + c->refusals_moved;
	*out = h;
}

static void fill_session(struct collector *c, uint64_t end_ns, uint64_t realtime_start)
{
	const struct record_opts *o = c->opts;
	struct session_health h;
	struct session_meta meta = { 0 };
	char target[1024] = "";
	size_t at = 0;

	if (o->target == TARGET_COMMAND) {
		for (char **a = o->argv; *a && at < sizeof(target) - 1; a++)
			at += (size_t)snprintf(target + at, sizeof(target) - at, "%s%s",
					       a == o->argv ? "" : " ", *a);
	} else if (o->target == TARGET_PIDS) {
		at = (size_t)snprintf(target, sizeof(target), "-p ");
		for (size_t i = 0; i < o->n_pids && at < sizeof(target) - 1; i++)
			at += (size_t)snprintf(target + at, sizeof(target) - at, "%s%d",
					       i ? "," : "", o->pids[i]);
		if (o->subprocesses && at < sizeof(target) - 1)
			snprintf(target + at, sizeof(target) - at, " --subprocesses");
	} else if (!c->cgroups.n) {
		snprintf(target, sizeof(target), "-a (all Python processes)");
	}
	at = strlen(target);
	if (c->cgroups.n && at < sizeof(target) - 1)
		at += (size_t)snprintf(target + at, sizeof(target) - at, "%s%s", at ? " in " : "",
				       c->cgroups.label);
	if (proc_filter__active(o->procs) && at < sizeof(target) - 1) {
		char rules[512];

		proc_filter__describe(o->procs, rules, sizeof(rules));
		snprintf(target + at, sizeof(target) - at, " %s", rules);
	}
	meta.start_realtime_ns = realtime_start;
	meta.duration_ns = end_ns - c->start_ns;
	meta.rate_hz = o->rate_hz;
	meta.ncpus = (uint32_t)c->ncpus;
	meta.mode = o->wall ? "wall" : "cpu";
	meta.clock = sample_clock_name(o->clock);
	meta.kernel_notes = c->kernel_notes;
	meta.target = target;
	session__set_meta(c->s, &meta);

	collector_health(c, &h);
	session__set_health(c->s, &h);
}

void collector_fill_session(struct collector *c)
{
	fill_session(c, now_ns(), c->realtime_start);
}

/* At the end, a process instance still running. */
static void collector_free(struct collector *c)
{
	stop_clock(c);
	free(c->links);
	free(c->perf_fds);
	ring_buffer__free(c->rb);
	pyflare_bpf__destroy(c->skel);
	symbolizer__free(c->sym);
	binary_cache__free(c->binaries);
	if (c->tracked && c->threads)
		each_tracked(c, free_tracked);
	keymap__free(c->by_pid);
	keymap__free(c->instances);
	keymap__free(c->threads);
	keymap__free(c->stacks);
	repeats__free(c->repeats);
	keymap__free(c->task_views);
	keymap__free(c->accounted);
	keymap__free(c->tracked);
	free(c->ended);
	free(c->pending);
	free(c->tls_todo);
	launch__free(c->launch);
	cgroup_selection_close(&c->cgroups);
}

/*
 * The exit status of a recording that failed with -errno @err, its message said: the one
 * place the recorder makes one. What the host refused (@refused: loading or attaching BPF,
 * perf events, the ring buffer, PIDs out of sight) means pyflare lacks permissions or the
 * kernel lacks features, whatever the errno: EXIT_SYSTEM, unless memory ran out. A
 * positive @err is a status already: bench_hooks__configure()'s.
 */
static int exit_status(int err, bool refused)
{
	if (err > 0)
		return err;
	if (refused && err != -ENOMEM)
		return EXIT_SYSTEM;
	return exit_status_of(err);
}

int collector_record(const struct record_opts *o, struct session *s, int *command_status)
{
	return collector_record_live(o, s, NULL, command_status);
}

int collector_record_live(const struct record_opts *o, struct session *s,
			  const struct collector_hook *hook, int *command_status)
{
	struct collector c = { .effective = *o, .opts = &c.effective, .s = s };
	struct sigaction saved_signals[4];
	uint64_t now, last_housekeeping = 0, last_progress = 0, last_drain = 0, stop_at = 0;
	uint64_t last_sweep = 0;
	uint64_t realtime_start;
	int poll_ms = hook && hook->poll_ms ? (int)hook->poll_ms : POLL_MS;
	struct timespec rt;
	const char *why = NULL;
	bool hook_stop = false;
	bool refused = false; /* the host refused: see exit_status() */
	int err = 0;

	*command_status = -1;
	/*
	 * A recording runs long: a big block freed (an interpreter file's symbols, read at
	 * attach) would raise glibc's mmap threshold, and the next ones would come from the heap,
	 * where what they leave is never given back. Fixed, blocks over it are mapped and
	 * returned whole.
	 */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
	cgroup_selection_init(&c.cgroups);
	handle_stop_signals(saved_signals);
	c.tracked = keymap__new();
	c.by_pid = keymap__new();
	c.threads = keymap__new();
	c.instances = keymap__new();
	c.stacks = keymap__new();
	c.repeats = repeats__new(libbpf_num_possible_cpus());
	c.sym = symbolizer__new(s);
	c.binaries = binary_cache__new(0);
	if (!c.tracked || !c.by_pid || !c.threads || !c.instances || !c.stacks || !c.repeats ||
	    !c.sym || !c.binaries) {
		pr_error("out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	if (proc_self_pid_ns() == 1) {
		pr_error("pyflare runs in a PID namespace of its own, but the kernel reports host "
			 "PIDs: run it in the host's (docker run --pid=host, Kubernetes hostPID: "
			 "true; see docs/containers.md)\n");
		err = -EOPNOTSUPP;
		refused = true;
		goto out;
	}
	err = select_cgroups(&c);
	if (err)
		goto out;
	err = load_bpf(&c);
	refused = err < 0;
	if (err)
		goto out;
	o = c.opts; /* the mode and clock this kernel allows */
	c.rb = ring_buffer__new(bpf_map__fd(c.skel->maps.events), handle_event, &c, NULL);
	if (!c.rb) {
		err = -errno;
		pr_error("cannot open the BPF ring buffer: %s\n", strerror(-err));
		refused = true;
		goto out;
	}

	clock_gettime(CLOCK_REALTIME, &rt);
	realtime_start = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
	c.realtime_start = realtime_start;
	c.usr1_hooked = hook && hook->usr1;
	c.start_ns = now_ns();
	if (o->target == TARGET_COMMAND) {
		c.launch = launch__new(o->argv, &o->command_stdio);
		if (!c.launch) {
			err = -errno;
			pr_error("cannot start %s: %s\n", o->argv[0], strerror(-err));
			goto out;
		}
		/* held before its exec, it has no descendants yet: all are to come, which is
		 * what follow_descendants() watches for without its /proc scan (85 ms on a
		 * busy host of 1,150 processes) */
		watch(&c, launch__pid(c.launch));
	} else {
		uint64_t begin = now_ns();

		if (o->target == TARGET_PIDS) {
			for (size_t i = 0; i < o->n_pids; i++) {
				err = attach(&c, o->pids[i], true);
				if (err)
					goto out;
				if (c.cgroups.n &&
				    !cgroup_selection_has_pid(&c.cgroups, o->pids[i]))
					pr_warn("process %d is not in %s now: it is sampled only "
						"while it is\n",
						o->pids[i], c.cgroups.label);
			}
			if (o->subprocesses) {
				err = follow_descendants(&c, o->pids, o->n_pids);
				if (err)
					goto out;
			}
		} else {
			attach_all(&c);
		}
		pr_info("attached %zu processes in %.3f s\n", c.n_instances,
			(double)(now_ns() - begin) / 1e9);
		log_binaries(&c, "attach");
	}

	err = start_clock(&c);
	if (err) {
		pr_error("cannot start %s: %s%s\n",
			 o->clock == SAMPLE_CLOCK_TICK ?
				 "sampling at the scheduler tick (hrtimer_expire_entry)" :
				 "the cpu-clock timers",
			 strerror(-err),
			 err == -EACCES || err == -EPERM ? " (need root or CAP_PERFMON)" : "");
		refused = true;
		goto out;
	}
	c.started = true;
	if (c.launch) {
		err = launch__release(c.launch);
		if (err) {
			pr_error("cannot run %s: %s\n", o->argv[0], strerror(-err));
			launch__wait(c.launch);
			*command_status = err == -ENOENT ? 127 : 126;
			goto out;
		}
	}

	while (!(why = should_stop(&c, now = now_ns(), &stop_at, command_status))) {
		int n;

		c.read_until_ns = now + POLL_BUDGET_NS;
		n = ring_buffer__poll(c.rb, c.n_pending ? 1 : poll_ms);
		if (n >= 0 || n == -EINTR)
			n = ring_buffer__consume(c.rb);
		if (n == -EAGAIN)
			n = 0; /* handle_event's time was up: the rest in the next turn */
		if (n < 0 && n != -EINTR) {
			pr_error("reading the ring buffer failed: %s\n", strerror(-n));
			break;
		}
		retry_pending(&c, now);
		if (o->async)
			async_find(&c, now);
		if (o->async && o->wall && !c.err)
			c.err = async_charge_waits(&c, now);
		if (o->wall && now - last_drain >= DRAIN_NS) {
			c.err = c.err ? c.err : drain_short_waits(&c);
			last_drain = now;
		}
		if (now - last_housekeeping >= HOUSEKEEPING_NS) {
			housekeeping(&c, now);
			if (o->wall)
				find_gils(&c);
			last_housekeeping = now;
		}
		if (now - last_sweep >= SWEEP_NS) {
			sweep_exited(&c);
			log_tables(&c);
			last_sweep = now;
		}
		if (o->clock == SAMPLE_CLOCK_TICK && !c.ticks_checked &&
		    now - c.start_ns >= TICK_CHECK_NS)
			check_ticks_seen(&c, now);
		if (now - last_progress >= PROGRESS_NS) {
			show_progress(&c, now);
			last_progress = now;
		}
		if (hook && hook->poll(&c, hook->ctx)) {
			why = "the live view ended";
			hook_stop = true;
			break;
		}
		if (c.usr1_hooked && usr1_seen) {
			usr1_seen = 0;
			hook->usr1(&c, hook->ctx);
		}
	}
	/* the view's q reaches no command the way a terminal's Ctrl-C does */
	if (hook_stop && hook->stop_command && c.launch && !launch__poll(c.launch, command_status))
		kill(launch__pid(c.launch), SIGTERM);
	stop_clock(&c);
	bpf_link__destroy(c.skel->links.on_switch); /* NULL outside wall mode */
	c.skel->links.on_switch = NULL;
	now = now_ns();
	c.read_until_ns = UINT64_MAX; /* all of it, however long it takes */
	ring_buffer__consume(c.rb);   /* what the sampler sent before the timers stopped */
	if (o->wall && !c.err)
		c.err = drain_short_waits(&c);
	if (o->wall && !c.err)
		c.err = flush_waiting_threads(&c, now);
	refresh_thread_names(&c);
	clear_progress(&c);
	pr_debug("recording stopped: %s\n", why ? why : "error");
	log_tables(&c); /* as they end: what a short recording never logged */
	log_binaries(&c, "end");
	if (bench_hooks__write(c.skel))
		err = -EIO; /* an output that failed, said there: EXIT_TARGET */
	if (c.err) {
		pr_error("recording failed: %s\n", strerror(-c.err));
		err = c.err;
	}
	if (c.no_access > 1)
		pr_warn("%llu processes were skipped: permission denied reading them (give pyflare "
			"CAP_SYS_PTRACE)\n",
			(unsigned long long)c.no_access);
	fill_session(&c, now, realtime_start);
	if (c.launch && *command_status < 0)
		launch__poll(c.launch, command_status);
	if (hook && hook->end)
		hook->end(&c, hook->ctx);
out:
	clear_progress(&c);
	collector_free(&c);
	/* from here a signal ends pyflare, removing the reports' temporary files */
	restore_signals(saved_signals);
	return err ? exit_status(err, refused) : 0;
}
