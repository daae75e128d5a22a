/* SPDX-License-Identifier: MIT */
/* tick_clock.c — the scheduler tick as a sampling clock: its rate, handler and hrtimer. */
#include "record/tick_clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/capability.h>

#include "host/proc_info.h"

#define TICK_SCHED_TIMER "tick_sched_timer"   /* the tick's hrtimer function before 6.9 */
#define TICK_NOHZ_HANDLER "tick_nohz_handler" /* ... and from 6.9 (renamed) */
#define FIX_TIMER "use --clock timer"

int tick_clock_config_hz(const char *path, unsigned *hz)
{
	gzFile f = gzopen(path, "rb"); /* reads an uncompressed file as it is */
	char line[256];
	int err = -ENOENT;

	if (!f)
		return errno ? -errno : -ENOMEM;
	while (gzgets(f, line, sizeof(line))) {
		char *end;
		unsigned long v;

		if (strncmp(line, "CONFIG_HZ=", 10))
			continue;
		v = strtoul(line + 10, &end, 10);
		if (end != line + 10 && (*end == '\n' || !*end) && v > 0 && v <= 100000) {
			*hz = (unsigned)v;
			err = 0;
		}
		break;
	}
	gzclose(f);
	return err;
}

int tick_clock_hz(unsigned *hz)
{
	char boot[sizeof("/boot/config-") + sizeof(((struct utsname *)0)->release)];
	struct utsname u;

	/* /proc/config.gz needs CONFIG_IKCONFIG_PROC; distributions ship /boot/config-* */
	if (!tick_clock_config_hz("/proc/config.gz", hz))
		return 0;
	if (uname(&u))
		return -ENOENT;
	snprintf(boot, sizeof(boot), "/boot/config-%s", u.release);
	return tick_clock_config_hz(boot, hz) ? -ENOENT : 0;
}

int tick_clock_kallsyms_handler(const char *path, uint64_t *addr, const char **name)
{
	FILE *f = fopen(path, "r");
	char line[512];
	uint64_t nohz = 0;
	bool sched_seen = false, nohz_seen = false;
	int err = -ENOENT;

	if (!f)
		return -errno;
	/* "ffffffff814330e0 t tick_nohz_handler", maybe "\t[module]" after: the third field */
	while (fgets(line, sizeof(line), f)) {
		char *sym = strchr(line, ' '), *end;
		uint64_t a;

		if (!sym || !(sym = strchr(sym + 1, ' ')))
			continue;
		sym++;
		sym[strcspn(sym, " \t\n")] = '\0';
		if (strcmp(sym, TICK_SCHED_TIMER) && strcmp(sym, TICK_NOHZ_HANDLER))
			continue;
		a = strtoull(line, &end, 16);
		if (!strcmp(sym, TICK_SCHED_TIMER)) {
			sched_seen = true;
			*addr = a;
			*name = TICK_SCHED_TIMER;
			break;
		}
		nohz_seen = true;
		nohz = a;
	}
	fclose(f);
	if (!sched_seen && nohz_seen) {
		*addr = nohz;
		*name = TICK_NOHZ_HANDLER;
	}
	if (sched_seen || nohz_seen)
		err = *addr ? 0 : -EPERM;
	return err;
}

int tick_clock_timer_list_hres(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int found = -ENODATA;

	if (!f)
		return -errno;
	/* one "  .hres_active    : 1" per CPU */
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ".hres_active");

		if (!p || !(p = strchr(p, ':')))
			continue;
		if (strtol(p + 1, NULL, 10) != 1) {
			found = 0;
			break;
		}
		found = 1;
	}
	fclose(f);
	return found;
}

/* Why /proc/kallsyms showed the handler at 0, in @p. */
static void hidden_addresses(struct tick_clock_problem *p)
{
	FILE *f = fopen("/proc/sys/kernel/kptr_restrict", "r");
	int restrict_level = -1;

	if (f) {
		if (fscanf(f, "%d", &restrict_level) != 1)
			restrict_level = -1;
		fclose(f);
	}
	if (restrict_level >= 2)
		snprintf(p->why, sizeof(p->why),
			 "/proc/kallsyms hides kernel addresses from "
			 "everyone (kernel.kptr_restrict=%d)",
			 restrict_level);
	else
		snprintf(p->why, sizeof(p->why),
			 "/proc/kallsyms hides kernel addresses from "
			 "pyflare (%s)",
			 proc_self_has_cap(CAP_SYSLOG) == 1 ?
				 "kernel.kptr_restrict or a security module" :
				 "it lacks CAP_SYSLOG");
	snprintf(p->fix, sizeof(p->fix),
		 "run pyflare as root with sysctl kernel.kptr_restrict=1 "
		 "(or 0), or " FIX_TIMER);
}

int tick_clock_find(struct tick_clock *tc, struct tick_clock_problem *p)
{
	struct utsname u;
	int err;

	*tc = (struct tick_clock){ 0 };
	if (tick_clock_hz(&tc->hz)) {
		snprintf(p->why, sizeof(p->why),
			 "cannot find the kernel's tick rate: no CONFIG_HZ "
			 "in /proc/config.gz or /boot/config-%s",
			 uname(&u) ? "RELEASE" : u.release);
		snprintf(p->fix, sizeof(p->fix),
			 FIX_TIMER " (or modprobe configs, which makes "
				   "/proc/config.gz)");
		return -1;
	}
	err = tick_clock_kallsyms_handler("/proc/kallsyms", &tc->handler, &tc->handler_name);
	if (err == -EPERM) {
		hidden_addresses(p);
		return -1;
	}
	if (err) {
		if (err == -ENOENT)
			snprintf(p->why, sizeof(p->why),
				 "neither " TICK_SCHED_TIMER " nor " TICK_NOHZ_HANDLER
				 " is in /proc/kallsyms: the tick's hrtimer cannot "
				 "be told from the others");
		else
			snprintf(p->why, sizeof(p->why), "cannot read /proc/kallsyms: %s",
				 strerror(-err));
		snprintf(p->fix, sizeof(p->fix), FIX_TIMER);
		return -1;
	}
	/* low-resolution mode ticks from a clock event device, never through an hrtimer;
	 * an unreadable timer_list (no root) cannot tell, and the recording checks later */
	if (!tick_clock_timer_list_hres("/proc/timer_list")) {
		snprintf(p->why, sizeof(p->why),
			 "the tick is not an hrtimer here: high-resolution "
			 "timers are off (hres_active 0 in /proc/timer_list), so no tick would be "
			 "seen");
		snprintf(p->fix, sizeof(p->fix),
			 "boot with highres=on (CONFIG_HIGH_RES_TIMERS=y), "
			 "or " FIX_TIMER);
		return -1;
	}
	return 0;
}

int tick_clock_nohz_full(char *cpus, size_t len)
{
	FILE *f = fopen("/sys/devices/system/cpu/nohz_full", "r"); /* CONFIG_NO_HZ_FULL */
	bool some;

	if (!len)
		return 0;
	cpus[0] = '\0';
	if (!f)
		return 0;
	if (!fgets(cpus, (int)len, f))
		cpus[0] = '\0';
	fclose(f);
	cpus[strcspn(cpus, "\n")] = '\0';
	some = cpus[0] && strcmp(cpus, "(null)");
	if (!some)
		cpus[0] = '\0';
	return some;
}

int tick_clock_probe_attach(void)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP);
	int id = libbpf_find_vmlinux_btf_id("hrtimer_expire_entry", BPF_TRACE_RAW_TP);
	int prog, link;

	if (id < 0)
		return id;
	opts.attach_btf_id = (__u32)id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "pyflare_tick", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0) {
		close(prog);
		return link;
	}
	close(link);
	close(prog);
	return 0;
}

int tick_clock_host_busy_ns(uint64_t *ns)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	long per_s = sysconf(_SC_CLK_TCK);
	int n;

	if (!f)
		return -errno;
	/* "cpu  user nice system idle iowait irq softirq steal ...", in USER_HZ units */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
		   &iowait, &irq, &softirq, &steal);
	fclose(f);
	if (n != 8 || per_s <= 0)
		return -EINVAL;
	*ns = (user + nice + sys + irq + softirq + steal) * (1000000000ULL / (uint64_t)per_s);
	return 0;
}
