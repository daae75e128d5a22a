/* SPDX-License-Identifier: MIT */
/*
 * clock.c — the sampling clocks: a cpu-clock perf timer on every online CPU (--clock timer),
 * or the scheduler tick's hrtimer tracepoint (--clock tick), found before the programs
 * load and checked a second in, since a tick that is no hrtimer would record nothing.
 */
#include "record/recorder.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "host/proc_info.h"
#include "lib/log.h"
#include "record/tick_clock.h"

/* --clock tick: no tick seen while the host was busy this long is no clock (check_ticks_seen()) */
#define TICK_CHECK_BUSY_NS 500000000ULL

/* --clock tick: on_tick on the hrtimer tracepoint, which the tick of every CPU goes through. */
static int start_tick(struct collector *c, int ncpus)
{
	c->ncpus = ncpus;
	/* without /proc/stat check_ticks_seen() cannot tell a busy host: no check */
	c->ticks_checked = tick_clock_host_busy_ns(&c->busy_at_start) != 0;
	c->tick_link = bpf_program__attach(c->sampler);
	return c->tick_link ? 0 : -errno;
}

/* --clock timer: a cpu-clock timer on every online CPU, each running on_timer. */
static int start_timers(struct collector *c, const bool *online, int n)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		/* cpu-clock periods are nanoseconds: a fixed period gives every sample one weight */
		.sample_period = 1000000000ULL / c->opts->rate_hz,
	};

	c->perf_fds = calloc((size_t)n, sizeof(*c->perf_fds));
	c->links = calloc((size_t)n, sizeof(*c->links));
	if (!c->perf_fds || !c->links)
		return -ENOMEM;
	for (int cpu = 0; cpu < n; cpu++)
		c->perf_fds[cpu] = -1;
	c->ncpus = 0;
	for (int cpu = 0; cpu < n; cpu++) {
		if (!online[cpu])
			continue;
		c->perf_fds[cpu] =
			(int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (c->perf_fds[cpu] < 0)
			return -errno;
		c->links[cpu] = bpf_program__attach_perf_event(c->sampler, c->perf_fds[cpu]);
		if (!c->links[cpu])
			return -errno;
		c->ncpus++;
	}
	return 0;
}

/* Starts the sampling clock on every online CPU: 0 or -errno. */
int start_clock(struct collector *c)
{
	int n = libbpf_num_possible_cpus(), err;
	bool *online;

	if (n <= 0)
		return n ? n : -EINVAL;
	online = calloc((size_t)n, sizeof(*online));
	if (!online)
		return -ENOMEM;
	err = sys_online_cpus(online, n);
	if (err >= 0)
		err = c->opts->clock == SAMPLE_CLOCK_TICK ? start_tick(c, err) :
							    start_timers(c, online, n);
	free(online);
	return err;
}

void stop_clock(struct collector *c)
{
	int n = libbpf_num_possible_cpus();

	if (c->skel) {
		bpf_link__destroy(c->tick_link); /* NULL with --clock timer */
		c->tick_link = NULL;
	}

	for (int cpu = 0; c->links && c->perf_fds && cpu < n; cpu++) {
		bpf_link__destroy(c->links[cpu]);
		c->links[cpu] = NULL;
		if (c->perf_fds[cpu] >= 0)
			close(c->perf_fds[cpu]);
		c->perf_fds[cpu] = -1;
	}
}

/*
 * --clock tick: a second in, ticks must have been seen if the host was busy at all. A tick
 * that is no hrtimer (low-resolution mode, which a pyflare that cannot read
 * /proc/timer_list does not see coming) would otherwise record nothing, silently.
 */
void check_ticks_seen(struct collector *c, uint64_t now)
{
	uint64_t busy;

	c->ticks_checked = true;
	if (health_counter(c, HEALTH_TICKS) || tick_clock_host_busy_ns(&busy) ||
	    busy - c->busy_at_start < TICK_CHECK_BUSY_NS)
		return;
	pr_warn("--clock tick: no scheduler tick seen in %.1f s while the CPUs were busy for "
		"%.1f s: this kernel's tick does not run as an hrtimer (high-resolution timers "
		"off?), so nothing is sampled; record with --clock timer\n",
		(double)(now - c->start_ns) / 1e9, (double)(busy - c->busy_at_start) / 1e9);
}

/* --clock tick: the address of the tick's hrtimer function, or 0 after saying why not. */
uint64_t find_tick(struct collector *c)
{
	struct tick_clock_problem p;
	struct tick_clock tc;
	char nohz_full[256];

	if (tick_clock_find(&tc, &p)) {
		pr_error("cannot sample with --clock tick: %s; %s\n", p.why, p.fix);
		return 0;
	}
	if (tc.hz != c->opts->rate_hz) { /* read twice: a config changed meanwhile */
		pr_error("--clock tick: the kernel's tick rate changed from %u to %u Hz while "
			 "pyflare started\n",
			 c->opts->rate_hz, tc.hz);
		return 0;
	}
	pr_info("sampling at the scheduler tick: %u Hz, %s at 0x%llx\n", tc.hz, tc.handler_name,
		(unsigned long long)tc.handler);
	if (tick_clock_nohz_full(nohz_full, sizeof(nohz_full)))
		pr_warn("--clock tick: CPUs %s are nohz_full: their tick stops while one task "
			"runs there, so programs on them are sampled too little (--clock timer "
			"is not)\n",
			nohz_full);
	return tc.handler;
}
