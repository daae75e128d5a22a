/* SPDX-License-Identifier: MIT */
/*
 * doctor.c — `pyflare doctor`: checks the kernel, the privileges and the sysctls a
 * recording needs, one line each, with the fix in plain words.
 */
#include "cli/doctor.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>

#include "record/bpf_load.h"
#include "record/cgroup_select.h"
#include "lib/exit.h"
#include "lib/json.h"
#include "lib/log.h"
#include "host/proc_info.h"
#include "record/tick_clock.h"

#define N_CHECKS 32

/* Not in older headers: the numbers are ABI (linux/capability.h, 5.8) */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct doctor {
	struct doctor_result res[N_CHECKS];
	int n;
	char exe[PATH_MAX];
	int bpf_ok;	 /* a perf_event program loads: later probes mean something */
	int has_perfmon; /* CAP_PERFMON or CAP_SYS_ADMIN: perf_event_paranoid is not applied */
};

const char *doctor_status_name(enum doctor_status status)
{
	switch (status) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_WARN:
		return "warn";
	case DOCTOR_FAIL:
		break;
	}
	return "FAIL";
}

int doctor_format_line(const struct doctor_result *r, char *buf, size_t size)
{
	if (r->fix[0])
		return snprintf(buf, size, "%-4s  %-19s %s; fix: %s", doctor_status_name(r->status),
				r->check, r->finding, r->fix);
	return snprintf(buf, size, "%-4s  %-19s %s", doctor_status_name(r->status), r->check,
			r->finding);
}

int doctor_parse_lockdown(const char *content, char *mode, size_t size)
{
	const char *open = strchr(content, '['), *close;

	if (!open || !(close = strchr(open, ']')) || close == open + 1 ||
	    (size_t)(close - open - 1) >= size)
		return -EINVAL;
	memcpy(mode, open + 1, close - open - 1);
	mode[close - open - 1] = '\0';
	return 0;
}

int doctor_parse_release(const char *release, int *major, int *minor)
{
	if (sscanf(release, "%d.%d", major, minor) != 2 || *major < 0 || *minor < 0)
		return -EINVAL;
	return 0;
}

static __attribute__((format(printf, 4, 5))) struct doctor_result *
add(struct doctor *d, const char *check, enum doctor_status status, const char *fmt, ...)
{
	struct doctor_result *r = &d->res[d->n++];
	va_list ap;

	r->check = check;
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->finding, sizeof(r->finding), fmt, ap);
	va_end(ap);
	r->fix[0] = '\0';
	return r;
}

static __attribute__((format(printf, 2, 3))) void set_fix(struct doctor_result *r, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->fix, sizeof(r->fix), fmt, ap);
	va_end(ap);
}

/* The first line of a small /proc or /sys file, without its newline: 0 or -errno. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		err = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

static int read_long(const char *path, long *val)
{
	char buf[64], *end;
	int err = read_line(path, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	*val = strtol(buf, &end, 10);
	return errno || end == buf ? -EINVAL : 0;
}

static const char *root_fix(const struct doctor *d)
{
	static char fix[PATH_MAX + 96];

	snprintf(fix, sizeof(fix),
		 "run as root, or: sudo setcap "
		 "cap_bpf,cap_perfmon,cap_sys_ptrace+ep %s",
		 d->exe);
	return fix;
}

/* The ring buffer needs 5.8; the kernel matrix starts at 5.10 (docs/kernels.md), so 5.8 and 5.9
 * are a warning, not a promise. */
static void check_kernel(struct doctor *d)
{
	struct utsname u;
	int major, minor;
	struct doctor_result *r;

	if (uname(&u) || doctor_parse_release(u.release, &major, &minor)) {
		r = add(d, "kernel", DOCTOR_WARN, "cannot tell the kernel release");
		set_fix(r, "make sure the kernel is Linux 5.10 or later");
		return;
	}
	if (major > 5 || (major == 5 && minor >= 10)) {
		add(d, "kernel", DOCTOR_OK, "Linux %s (5.10 or later)", u.release);
		return;
	}
	if (major == 5 && minor >= 8) {
		r = add(d, "kernel", DOCTOR_WARN,
			"Linux %s may work but is untested: pyflare is tested from 5.10",
			u.release);
		set_fix(r, "upgrade to Linux 5.10 or later");
		return;
	}
	r = add(d, "kernel", DOCTOR_FAIL, "Linux %s is older than 5.8 (no BPF ring buffer)",
		u.release);
	set_fix(r, "upgrade to Linux 5.10 or later (5.17+ for the deepest stacks)");
}

static void check_btf(struct doctor *d)
{
	struct doctor_result *r;

	if (!access("/sys/kernel/btf/vmlinux", R_OK)) {
		add(d, "btf", DOCTOR_OK, "/sys/kernel/btf/vmlinux is there");
		return;
	}
	r = add(d, "btf", DOCTOR_FAIL, "no /sys/kernel/btf/vmlinux (%s)", strerror(errno));
	set_fix(r, "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distributions' are)");
}

/* A probe's answer in words: 1 yes, 0 no, <0 the probe itself failed. */
static const char *probe_words(int ret)
{
	static char buf[128];

	if (ret > 0)
		return "yes";
	if (ret == 0)
		return "no";
	snprintf(buf, sizeof(buf), "cannot tell: %s", strerror(-ret));
	return buf;
}

static void check_bpf(struct doctor *d)
{
	int perf = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_PERF_EVENT, NULL);
	int rawtp = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL);
	struct doctor_result *r;

	d->bpf_ok = perf > 0;
	if (perf > 0 && rawtp > 0) {
		add(d, "bpf", DOCTOR_OK, "bpf() loads perf_event and raw_tracepoint programs");
		return;
	}
	r = add(d, "bpf", DOCTOR_FAIL,
		"cannot load BPF programs (perf_event: %s; "
		"raw_tracepoint: %s)",
		probe_words(perf), probe_words(rawtp));
	if (perf == -EPERM || perf == -EACCES || rawtp == -EPERM || rawtp == -EACCES ||
	    geteuid() != 0)
		set_fix(r, "%s", root_fix(d));
	else
		set_fix(r, "use a kernel built with CONFIG_BPF_SYSCALL=y and CONFIG_BPF_EVENTS=y");
}

/* Without bpf() the probes below cannot answer: say so once, not as a second failure */
static int cannot_tell(struct doctor *d, const char *check)
{
	struct doctor_result *r;

	if (d->bpf_ok)
		return 0;
	r = add(d, check, DOCTOR_WARN, "cannot tell while BPF programs cannot be loaded");
	set_fix(r, "fix the bpf check first");
	return 1;
}

static void check_ringbuf(struct doctor *d)
{
	struct doctor_result *r;
	int ret;

	if (cannot_tell(d, "ringbuf"))
		return;
	ret = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (ret > 0) {
		add(d, "ringbuf", DOCTOR_OK, "BPF ring buffer maps work");
		return;
	}
	r = add(d, "ringbuf", DOCTOR_FAIL, "no BPF ring buffer map (%s)", probe_words(ret));
	set_fix(r, "upgrade to Linux 5.10 or later");
}

static void check_bpf_loop(struct doctor *d)
{
	struct doctor_result *r;
	int ret;

	if (cannot_tell(d, "bpf_loop"))
		return;
	ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_loop, NULL);
	if (ret > 0) {
		add(d, "bpf_loop", DOCTOR_OK,
		    "the bpf_loop helper is there: stacks up to 1024 "
		    "frames");
		return;
	}
	/* without it the other walker runs: as deep, a little slower per frame */
	r = add(d, "bpf_loop", DOCTOR_WARN,
		"no bpf_loop helper (%s): record uses the walker "
		"without it (as deep, a little slower per frame)",
		probe_words(ret));
	set_fix(r, "upgrade to Linux 5.17 or later for the faster walker");
}

/* The exec/fork/exit programs are tp_btf: their tracepoints must be in the kernel's BTF */
static void check_tp_btf(struct doctor *d)
{
	static const char *const tps[] = { "btf_trace_sched_process_exec",
					   "btf_trace_sched_process_fork",
					   "btf_trace_sched_process_exit" };
	struct btf *btf = btf__load_vmlinux_btf();
	struct doctor_result *r;
	size_t i;

	if (!btf) {
		r = add(d, "tp_btf", DOCTOR_FAIL, "cannot read the kernel's BTF: %s",
			strerror(errno));
		set_fix(r, "fix the btf check first");
		return;
	}
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (btf__find_by_name_kind(btf, tps[i], BTF_KIND_TYPEDEF) < 0)
			break;
	}
	btf__free(btf);
	if (i == sizeof(tps) / sizeof(tps[0])) {
		add(d, "tp_btf", DOCTOR_OK, "sched_process_exec/fork/exit are in the kernel's BTF");
		return;
	}
	r = add(d, "tp_btf", DOCTOR_FAIL, "%s is not in the kernel's BTF", tps[i] + 10);
	set_fix(r, "use Linux 5.10 or later built with CONFIG_DEBUG_INFO_BTF=y");
}

static void check_caps(struct doctor *d)
{
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	};
	char missing[96] = "";
	int has_admin;
	struct doctor_result *r;
	size_t i;

	has_admin = proc_self_has_cap(CAP_SYS_ADMIN);
	if (has_admin < 0) {
		r = add(d, "capabilities", DOCTOR_WARN, "cannot read them: %s",
			strerror(-has_admin));
		set_fix(r, "%s", root_fix(d));
		return;
	}
#define HAS(c) (proc_self_has_cap(c) == 1)
	d->has_perfmon = has_admin || HAS(CAP_PERFMON);
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, not CAP_SYS_PTRACE */
		if (HAS(need[i].cap) || (has_admin && need[i].cap != CAP_SYS_PTRACE))
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 missing[0] ? ", " : "", need[i].name);
	}
#undef HAS
	if (!missing[0]) {
		add(d, "capabilities", DOCTOR_OK, "%s",
		    geteuid() == 0 ? "root" : "CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE");
		return;
	}
	r = add(d, "capabilities", DOCTOR_FAIL, "missing %s", missing);
	set_fix(r, "%s", root_fix(d));
}

static void check_paranoid(struct doctor *d)
{
	struct doctor_result *r;
	long val;

	if (read_long("/proc/sys/kernel/perf_event_paranoid", &val)) {
		add(d, "perf_event_paranoid", DOCTOR_WARN,
		    "cannot read "
		    "/proc/sys/kernel/perf_event_paranoid");
		return;
	}
	if (d->has_perfmon) {
		add(d, "perf_event_paranoid", DOCTOR_OK, "%ld, not applied (CAP_PERFMON or root)",
		    val);
		return;
	}
	if (val <= 0) {
		add(d, "perf_event_paranoid", DOCTOR_OK, "%ld: per-CPU timers are allowed", val);
		return;
	}
	/* pyflare's timers watch every task of a CPU: paranoid >= 1 forbids that */
	r = add(d, "perf_event_paranoid", DOCTOR_FAIL,
		"%ld: per-CPU timers need 0 or less "
		"without CAP_PERFMON",
		val);
	set_fix(r, "%s", root_fix(d));
}

static void check_lockdown(struct doctor *d)
{
	char buf[128], mode[32];
	struct doctor_result *r;
	int err = read_line("/sys/kernel/security/lockdown", buf, sizeof(buf));

	if (err == -ENOENT) {
		add(d, "lockdown", DOCTOR_OK, "not locked down (no /sys/kernel/security/lockdown)");
		return;
	}
	if (err || doctor_parse_lockdown(buf, mode, sizeof(mode))) {
		add(d, "lockdown", DOCTOR_WARN, "cannot read /sys/kernel/security/lockdown");
		return;
	}
	if (strcmp(mode, "confidentiality") == 0) {
		/* it forbids bpf_probe_read_kernel, which reads the task's fsbase (CO-RE) */
		r = add(d, "lockdown", DOCTOR_FAIL,
			"confidentiality: BPF programs may not read "
			"kernel memory, which pyflare needs to find the thread");
		set_fix(r, "boot with lockdown=integrity (or none); Secure Boot may set it");
		return;
	}
	/* integrity only forbids bpf_probe_write_user, which pyflare does not use */
	add(d, "lockdown", DOCTOR_OK, "%s: does not affect pyflare", mode);
}

static void check_pid_ns(struct doctor *d)
{
	struct doctor_result *r;
	int own = proc_self_pid_ns();

	if (own < 0) {
		add(d, "pid_namespace", DOCTOR_WARN, "cannot read /proc/self/ns/pid: %s",
		    strerror(-own));
		return;
	}
	if (!own) {
		add(d, "pid_namespace", DOCTOR_OK,
		    "the host's: PIDs mean the same to the kernel "
		    "and to pyflare");
		return;
	}
	r = add(d, "pid_namespace", DOCTOR_FAIL,
		"pyflare runs in a PID namespace of its own: "
		"the kernel side reports host PIDs it cannot look up");
	set_fix(r, "run it in the host's PID namespace: docker run --pid=host, Kubernetes "
		   "hostPID: true");
}

static void check_unpriv_bpf(struct doctor *d)
{
	long val;

	if (read_long("/proc/sys/kernel/unprivileged_bpf_disabled", &val)) {
		add(d, "unprivileged_bpf", DOCTOR_OK,
		    "cannot read "
		    "kernel.unprivileged_bpf_disabled (for information only)");
		return;
	}
	/* pyflare's program types always need CAP_BPF/CAP_PERFMON anyway */
	add(d, "unprivileged_bpf", DOCTOR_OK,
	    "kernel.unprivileged_bpf_disabled=%ld (for "
	    "information: pyflare needs the capabilities either way)",
	    val);
}

static void check_cgroup(struct doctor *d)
{
	struct doctor_result *r;
	struct statfs st;

	if (!statfs("/sys/fs/cgroup", &st) && st.f_type == CGROUP2_MAGIC) {
		add(d, "cgroup", DOCTOR_OK, "cgroup v2 at /sys/fs/cgroup");
		return;
	}
	if (!statfs("/sys/fs/cgroup/unified", &st) && st.f_type == CGROUP2_MAGIC)
		r = add(d, "cgroup", DOCTOR_WARN,
			"hybrid cgroups: v2 only at "
			"/sys/fs/cgroup/unified; recording works, --cgroup takes folders there, "
			"--container finds only runtimes that create v2 cgroups");
	else
		r = add(d, "cgroup", DOCTOR_WARN,
			"no cgroup v2 at /sys/fs/cgroup; recording "
			"works, choosing targets by cgroup or container will not");
	set_fix(r, "boot with systemd.unified_cgroup_hierarchy=1");
}

static void check_perf_event(struct doctor *d)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1000000000ULL / 99,
		.disabled = 1,
	};
	struct doctor_result *r;
	int fd, err;

	/* the same event the recording opens on every CPU: all tasks of CPU 0 */
	fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		add(d, "perf_event", DOCTOR_OK, "a cpu-clock timer opens on CPU 0");
		return;
	}
	err = errno;
	r = add(d, "perf_event", DOCTOR_FAIL, "cannot open a cpu-clock timer on CPU 0: %s",
		strerror(err));
	if (err == EACCES || err == EPERM)
		set_fix(r, "%s", root_fix(d));
	else
		set_fix(r, "use a kernel built with CONFIG_PERF_EVENTS=y");
}

static void check_max_rate(struct doctor *d)
{
	long val;

	if (read_long("/proc/sys/kernel/perf_event_max_sample_rate", &val)) {
		add(d, "max_sample_rate", DOCTOR_OK,
		    "cannot read "
		    "kernel.perf_event_max_sample_rate (for information only)");
		return;
	}
	/* the kernel lowers it by itself when sampling interrupts take too long */
	add(d, "max_sample_rate", DOCTOR_OK,
	    "kernel.perf_event_max_sample_rate=%ld: -F above "
	    "%ld Hz is throttled",
	    val, val);
}

/* --clock tick: the rate, the tick's hrtimer function, the tracepoint, and the tick's gaps */
static void check_tick_clock(struct doctor *d)
{
	struct tick_clock_problem p;
	struct doctor_result *r;
	struct tick_clock tc;
	char nohz_full[256];
	int err;

	/* --clock timer works without any of this: a warning, never a failure */
	if (tick_clock_find(&tc, &p)) {
		r = add(d, "tick_clock", DOCTOR_WARN, "--clock tick cannot work: %s", p.why);
		set_fix(r, "%s", p.fix);
		return;
	}
	if (cannot_tell(d, "tick_clock"))
		return;
	err = tick_clock_probe_attach();
	if (err) {
		r = add(d, "tick_clock", DOCTOR_WARN,
			"--clock tick cannot work: no BPF program "
			"attaches to the hrtimer_expire_entry tracepoint (%s)",
			strerror(-err));
		if (err == -EPERM || err == -EACCES)
			set_fix(r, "%s", root_fix(d));
		else
			set_fix(r, "use --clock timer (the tracepoint needs Linux 5.5 or later "
				   "with BTF)");
		return;
	}
	if (tick_clock_nohz_full(nohz_full, sizeof(nohz_full))) {
		r = add(d, "tick_clock", DOCTOR_WARN,
			"--clock tick works (%u Hz, %s), but CPUs "
			"%s are nohz_full: their tick stops while one task runs there, so it "
			"samples them too little",
			tc.hz, tc.handler_name, nohz_full);
		set_fix(r, "use --clock timer for programs on those CPUs");
		return;
	}
	add(d, "tick_clock", DOCTOR_OK,
	    "--clock tick works: %u Hz, %s through "
	    "hrtimer_expire_entry%s",
	    tc.hz, tc.handler_name,
	    tick_clock_timer_list_hres("/proc/timer_list") == 1 ?
		    "" :
		    " (cannot read /proc/timer_list: a tick that is no hrtimer goes unseen until the "
		    "recording warns)");
}

/* What a program that did not load costs a recording, and whether that is a failure. */
static enum doctor_status program_refused(const char *name, const bool *loaded, const char **loss,
					  const char **fix)
{
	bool loop = bpf_load_have_loop();

	*fix = "";
	if (!strcmp(name, "on_timer") || !strcmp(name, "on_tick")) {
		*loss = loop ? "the walker without bpf_loop is used instead" :
			       "not for this kernel (no bpf_loop helper): the walker without it is used";
		if (!loop)
			return DOCTOR_OK;
		*fix = "report it: pyflare's bpf_loop walker should load on this kernel";
		return DOCTOR_WARN;
	}
	if (!strcmp(name, "on_timer_noloop")) {
		*loss = loaded[0] ? "the bpf_loop walker is used" : "no sampler loads";
		*fix = "report it, with this kernel's release and the verifier's words";
		return loaded[0] ? DOCTOR_WARN : DOCTOR_FAIL;
	}
	if (!strcmp(name, "on_tick_noloop")) {
		*loss = "--clock tick falls back to the perf timer";
		*fix = "use --clock timer (the default)";
		return DOCTOR_WARN;
	}
	if (!strcmp(name, "on_switch")) {
		*loss = "wall mode falls back to cpu mode (no time off CPU)";
		*fix = "wall mode needs Linux 5.18 or later (sched_switch's prev_state)";
		return DOCTOR_WARN;
	}
	*loss = "record cannot follow processes";
	*fix = "report it, with this kernel's release and the verifier's words";
	return DOCTOR_FAIL;
}

static const char *verify_words(const struct bpf_prog_report *rep)
{
	static char buf[48];

	buf[0] = '\0';
	if (rep->verify_ms >= 0)
		snprintf(buf, sizeof(buf), " in %.1f ms", rep->verify_ms);
	return buf;
}

/*
 * Loads every program record may load, each alone, as record would: the verifier is the
 * only judge of what this kernel runs. Then says what record can do with what loaded.
 */
static void check_programs(struct doctor *d)
{
	bool loaded[16] = { false };
	struct bpf_prog_report rep;
	struct doctor_result *r;
	const char *loss, *fix;
	size_t i;

	if (cannot_tell(d, "bpf_programs"))
		return;
	for (i = 0; bpf_programs[i] && i < sizeof(loaded) / sizeof(loaded[0]); i++) {
		static char names[16][32];
		enum doctor_status st;

		snprintf(names[i], sizeof(names[i]), "bpf:%s", bpf_programs[i]);
		bpf_load_alone(bpf_programs[i], &rep);
		loaded[i] = !rep.err;
		if (loaded[i]) {
			r = add(d, names[i], DOCTOR_OK,
				"loads: %u instructions verified%s, "
				"loaded in %.1f ms",
				rep.verified_insns, verify_words(&rep), rep.load_ms);
		} else {
			st = program_refused(bpf_programs[i], loaded, &loss, &fix);
			r = add(d, names[i], st, "does not load (%s; the verifier: \"%s\"): %s",
				strerror(-rep.err), rep.verifier[0] ? rep.verifier : "nothing",
				loss);
			if (*fix)
				set_fix(r, "%s", fix);
		}
		r->has_cost = true;
		r->verified_insns = rep.verified_insns;
		r->load_ms = rep.load_ms;
		r->verify_ms = rep.verify_ms;
	}
	/* bpf_programs' order: timer, timer_noloop, tick, tick_noloop, switch, exec, fork, exit */
	if (!(loaded[0] || loaded[1]) || !(loaded[5] && loaded[6] && loaded[7])) {
		r = add(d, "record", DOCTOR_FAIL, "cannot start: %s",
			!(loaded[0] || loaded[1]) ? "no sampler loads on this kernel" :
						    "the process-event programs do not load");
		set_fix(r, "see the bpf: lines above; report it with this kernel's release");
		return;
	}
	add(d, "record", DOCTOR_OK, "can record: the %s walker, cpu mode%s, --clock timer%s",
	    loaded[0] ? "bpf_loop" : "no-bpf_loop", loaded[4] ? " and wall mode" : " only",
	    loaded[2] || loaded[3] ? " and tick" : " only");
}

/* @ms, a duration in milliseconds, to the microsecond (negative: null). */
static void json_ms(struct json_writer *w, const char *key, double ms)
{
	json_key(w, key);
	if (ms < 0)
		json_null(w);
	else
		json_decimal(w, (uint64_t)(ms * 1000 + 0.5), 3);
}

static int print_json(const struct doctor *d)
{
	struct json_writer w;
	char status[8];

	json_init(&w, stdout, JSON_SPACED);
	json_begin_array(&w);
	for (int i = 0; i < d->n; i++) {
		const struct doctor_result *r = &d->res[i];

		snprintf(status, sizeof(status), "%s", doctor_status_name(r->status));
		for (int j = 0; status[j]; j++)
			status[j] = (char)(status[j] | 0x20); /* ASCII lowercase */
		json_break(&w, "\n  ");
		json_begin_object(&w);
		json_key_string(&w, "check", r->check);
		json_key_string(&w, "status", status);
		json_key_string(&w, "finding", r->finding);
		json_key(&w, "fix");
		if (r->fix[0])
			json_string(&w, r->fix);
		else
			json_null(&w);
		if (r->has_cost) {
			json_key(&w, "verified_insns");
			if (r->verified_insns)
				json_u64(&w, r->verified_insns);
			else
				json_null(&w);
			json_ms(&w, "load_ms", r->load_ms);
			json_ms(&w, "verify_ms", r->verify_ms);
		}
		json_end_object(&w);
	}
	json_break(&w, "\n");
	json_end_array(&w);
	fputc('\n', stdout);
	return ferror(stdout) ? -EIO : 0;
}

int doctor_run(int argc, char **argv)
{
	struct doctor d = { 0 };
	char line[1024];
	int json = 0, failed = 0, i;
	ssize_t len;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: pyflare doctor [--json]\n\n"
			       "Checks that this machine can record: kernel, BTF, BPF, privileges,\n"
			       "sysctls, lockdown, cgroups, and whether --clock tick can sample at\n"
			       "the scheduler tick. One line per check (ok, warn or FAIL) with\n"
			       "the fix; --json prints an array of {check, status, finding, fix}.\n"
			       "Exit status 2 when a check fails.\n");
			return EXIT_OK;
		} else {
			pr_error("unknown option '%s' (see pyflare doctor --help)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	log_setup_libbpf(); /* probes that fail are findings, not libbpf noise */
	len = readlink("/proc/self/exe", d.exe, sizeof(d.exe) - 1);
	if (len <= 0)
		snprintf(d.exe, sizeof(d.exe), "%s", argv[0]);
	else
		d.exe[len] = '\0';

	check_kernel(&d);
	check_btf(&d);
	check_caps(&d);
	check_bpf(&d);
	check_ringbuf(&d);
	check_bpf_loop(&d);
	check_tp_btf(&d);
	check_perf_event(&d);
	check_paranoid(&d);
	check_lockdown(&d);
	check_unpriv_bpf(&d);
	check_pid_ns(&d);
	check_cgroup(&d);
	check_max_rate(&d);
	check_tick_clock(&d);
	check_programs(&d);

	for (i = 0; i < d.n; i++)
		failed |= d.res[i].status == DOCTOR_FAIL;
	if (json) {
		if (print_json(&d))
			return EXIT_SYSTEM;
	} else {
		for (i = 0; i < d.n; i++) {
			doctor_format_line(&d.res[i], line, sizeof(line));
			printf("%s\n", line);
		}
	}
	return failed ? EXIT_SYSTEM : EXIT_OK;
}
