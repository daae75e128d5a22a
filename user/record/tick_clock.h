/* SPDX-License-Identifier: MIT */
/*
 * tick_clock.h — the scheduler tick as a sampling clock (--clock tick): its rate (the
 * kernel's CONFIG_HZ), the address of the hrtimer function that runs it, and whether this
 * kernel runs the tick as an hrtimer at all. Read from the kernel's config, /proc/kallsyms
 * and /proc/timer_list; every problem comes with its fix.
 */
#ifndef PYFLARE_TICK_CLOCK_H
#define PYFLARE_TICK_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct tick_clock {
	unsigned hz;		  /* CONFIG_HZ: ticks per second on a busy CPU */
	uint64_t handler;	  /* the tick's hrtimer function, from /proc/kallsyms */
	const char *handler_name; /* tick_sched_timer (before 6.9) or tick_nohz_handler */
};

/* Why the tick cannot be a clock here, and what to do about it, in plain words. */
struct tick_clock_problem {
	char why[256];
	char fix[256];
};

/*
 * CONFIG_HZ of the running kernel, from /proc/config.gz or /boot/config-$(uname -r).
 * Returns 0, or -ENOENT when neither says.
 */
int tick_clock_hz(unsigned *hz);

/*
 * Everything --clock tick needs: the rate, the handler, and a tick that is an hrtimer.
 * Returns 0, or -1 with @p filled.
 */
int tick_clock_find(struct tick_clock *tc, struct tick_clock_problem *p);

/*
 * The nohz_full CPUs (a cpulist such as "2-3") into @cpus: a CPU there stops its tick while
 * it runs one task, so the tick samples it too little. Returns 1 if there are some, else 0.
 */
int tick_clock_nohz_full(char *cpus, size_t len);

/* Whether a tp_btf program attaches to hrtimer_expire_entry: 0 or -errno (loads one). */
int tick_clock_probe_attach(void);

/*
 * CPU time the whole host spent busy since boot (user, system, interrupts, steal), from
 * /proc/stat: 0 or -errno.
 */
int tick_clock_host_busy_ns(uint64_t *ns);

/* --- the readers, on any file (unit-tested) ----------------------------------------------- */

/* CONFIG_HZ in a kernel config file, gzip-compressed or not: 0, -ENOENT or -errno. */
int tick_clock_config_hz(const char *path, unsigned *hz);

/*
 * The tick's hrtimer function in a kallsyms file: tick_sched_timer where it exists (before
 * 6.9 tick_nohz_handler is the low-resolution handler, not an hrtimer's), else
 * tick_nohz_handler. Returns 0, -ENOENT (neither), -EPERM (listed at address 0: hidden by
 * kptr_restrict) or -errno.
 */
int tick_clock_kallsyms_handler(const char *path, uint64_t *addr, const char **name);

/*
 * Whether every CPU in a timer_list file runs high-resolution timers (".hres_active : 1"),
 * which the tick is an hrtimer under: 1 yes, 0 some CPU does not, -ENODATA no such line,
 * or -errno.
 */
int tick_clock_timer_list_hres(const char *path);

#endif /* PYFLARE_TICK_CLOCK_H */
