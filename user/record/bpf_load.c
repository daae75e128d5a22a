/* SPDX-License-Identifier: MIT */
/*
 * bpf_load.c — load pyflare's BPF programs, trying lesser variants where one does not load.
 *
 * Each program gets a log buffer of its own at log level 4 (BPF_LOG_STATS, Linux 5.2+):
 * the verifier then writes its error, if any, and its statistics ("processed N insns")
 * and nothing else, so the buffer stays small and says both whether and at what cost the
 * program loaded, on kernels that have no verified_insns in their program info (< 5.16).
 */
#include "record/bpf_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "pyflare.skel.h"

#define LOG_BYTES (64u << 10)	  /* errors and statistics */
#define LOG_BYTES_ALL (64u << 20) /* -vv: every instruction the verifier walked */
#define LOG_STATS 4		  /* BPF_LOG_STATS */
#define LOG_INSNS 1		  /* BPF_LOG_LEVEL1 */
#define ALONE_RINGBUF_BYTES (64u << 10)

const char *const bpf_programs[] = {
	"on_timer", "on_timer_noloop", "on_tick", "on_tick_noloop", "on_switch", "on_exec",
	"on_fork",  "on_exit",	       NULL,
};

/* Why an attempt did not load: the program the verifier refused, and its last word. */
struct refusal {
	bool configure_failed; /* its code ends the load: no variant would do better */
	const char *prog; /* NULL: no program was refused (maps, BTF, permissions); else name */
	char name[64];
	char verifier[256];
};

static double now_ms(void)
{
	return (double)now_ns() / 1e6;
}

bool bpf_load_have_loop(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_loop, NULL) > 0;
}

/* A line the verifier writes after every verification, failed or not. */
static bool is_statistics(const char *line, size_t len)
{
	static const char *const stats[] = { "processed ", "verification time ", "stack depth ",
					     "max_states_per_insn " };

	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
		if (len >= strlen(stats[i]) && !strncmp(line, stats[i], strlen(stats[i])))
			return true;
	return false;
}

/* The last line of @log that is not statistics, into @out ("" when there is none). */
static void verifier_last_word(const char *log, char *out, size_t size)
{
	const char *line = log, *end;

	out[0] = '\0';
	for (; *line; line = *end ? end + 1 : end) {
		size_t len;

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		len = (size_t)(end - line);
		if (len && !is_statistics(line, len))
			snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), line);
	}
}

/* "processed N insns" of @log: the instructions the verifier walked, or 0. */
static uint32_t verified_insns(const char *log)
{
	const char *p = strstr(log, "processed ");
	unsigned long n;

	if (!p || sscanf(p, "processed %lu insns", &n) != 1)
		return 0;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* "verification time N usec" of @log, in ms; -1 where the kernel does not say it. */
static double verify_ms(const char *log)
{
	const char *p = strstr(log, "verification time ");
	unsigned long long us;

	if (!p || sscanf(p, "verification time %llu usec", &us) != 1)
		return -1;
	return (double)us / 1e3;
}

/* Which programs @c loads. The tick's is attached when the recording starts. */
static void choose(struct pyflare_bpf *skel, const struct bpf_choice *c)
{
	bpf_program__set_autoload(skel->progs.on_timer, !c->tick && c->bpf_loop);
	bpf_program__set_autoload(skel->progs.on_timer_noloop, !c->tick && !c->bpf_loop);
	bpf_program__set_autoload(skel->progs.on_tick, c->tick && c->bpf_loop);
	bpf_program__set_autoload(skel->progs.on_tick_noloop, c->tick && !c->bpf_loop);
	bpf_program__set_autoattach(skel->progs.on_tick, false);
	bpf_program__set_autoattach(skel->progs.on_tick_noloop, false);
	/* the switch handler costs every context switch of the host: only when asked */
	bpf_program__set_autoload(skel->progs.on_switch, c->wall);
}

/* Gives each program that loads a log of its own; the logs are one allocation, @*logs. */
static int give_logs(struct pyflare_bpf *skel, char **logs, size_t *each)
{
	bool all = log_level >= LOG_DEBUG;
	struct bpf_program *prog;
	size_t n = 0, i = 0;

	*each = all ? LOG_BYTES_ALL : LOG_BYTES;
	bpf_object__for_each_program(prog, skel->obj) n += bpf_program__autoload(prog);
	*logs = calloc(n ? n : 1, *each); /* pages the kernel does not write stay free */
	if (!*logs)
		return -ENOMEM;
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		bpf_program__set_log_buf(prog, *logs + i++ * *each, *each);
		bpf_program__set_log_level(prog, LOG_STATS | (all ? LOG_INSNS : 0));
	}
	return 0;
}

/*
 * The program the verifier refused: libbpf loads them in order and stops at the first
 * refusal, so it is the last one with a log, if that log says more than statistics.
 */
static void find_refusal(struct pyflare_bpf *skel, struct refusal *r)
{
	struct bpf_program *prog, *last = NULL;
	size_t size;

	bpf_object__for_each_program(prog, skel->obj) if (bpf_program__autoload(prog) &&
							  *bpf_program__log_buf(prog, &size)) last =
		prog;
	r->prog = NULL;
	r->verifier[0] = '\0';
	if (!last)
		return;
	verifier_last_word(bpf_program__log_buf(last, &size), r->verifier, sizeof(r->verifier));
	if (r->verifier[0]) {
		snprintf(r->name, sizeof(r->name), "%s", bpf_program__name(last));
		r->prog = r->name; /* the skeleton, and the program's own name, go first */
	}
}

static void log_costs(struct pyflare_bpf *skel, double ms)
{
	struct bpf_program *prog;
	size_t size;

	bpf_object__for_each_program(prog, skel->obj) if (bpf_program__autoload(prog))
		pr_debug("%s: %u instructions verified\n", bpf_program__name(prog),
			 verified_insns(bpf_program__log_buf(prog, &size)));
	pr_debug("BPF programs loaded in %.1f ms\n", ms);
}

/* One attempt at @c. Returns 0 with *out loaded, configure's code, or -errno with @r. */
static int try_load(const struct bpf_choice *c, bpf_configure_fn configure, void *ctx,
		    struct pyflare_bpf **out, struct refusal *r)
{
	struct pyflare_bpf *skel = pyflare_bpf__open();
	char *logs = NULL;
	size_t each;
	double t0;
	int err;

	r->configure_failed = false;
	r->prog = NULL;
	r->verifier[0] = '\0';
	if (!skel)
		return -errno;
	err = configure ? configure(skel, ctx) : 0;
	r->configure_failed = err != 0;
	if (!err) {
		choose(skel, c);
		err = give_logs(skel, &logs, &each);
	}
	if (!err) {
		t0 = now_ms();
		err = pyflare_bpf__load(skel);
		if (err)
			find_refusal(skel, r);
		else
			log_costs(skel, now_ms() - t0);
	}
	if (err) {
		pyflare_bpf__destroy(skel);
		skel = NULL;
	}
	free(logs); /* libbpf reads the logs only while it loads */
	*out = skel;
	return err;
}

static bool is_walker_with_loop(const char *prog)
{
	return !strcmp(prog, "on_timer") || !strcmp(prog, "on_tick");
}

static bool is_tick(const char *prog)
{
	return !strncmp(prog, "on_tick", 7);
}

/* Adds "@what" to the sentence in @lost. */
static void say_lost(char *lost, size_t size, const char *what, const struct refusal *r)
{
	size_t at = strlen(lost);

	snprintf(lost + at, size - at, "%s%s (%s: %s)", at ? "; " : "", what,
		 r->prog ? r->prog : "the programs", r->prog ? r->verifier : "did not load");
}

/* The next lesser choice after a refusal @r of @c, or false when there is none. */
static bool give_up_one(struct bpf_choice *c, const struct refusal *r, char *lost, size_t size)
{
	const char *p = r->prog;

	if (c->bpf_loop && (!p || is_walker_with_loop(p))) {
		c->bpf_loop = false;
		pr_info("the bpf_loop walker did not load (%s: %s): using the walker without "
			"bpf_loop\n",
			p ? p : "the programs", p ? r->verifier : "no reason given");
		return true;
	}
	if (c->wall && (!p || !strcmp(p, "on_switch"))) {
		c->wall = false;
		say_lost(lost, size,
			 "wall mode is not available on this kernel, only on-CPU time "
			 "is recorded (--mode cpu)",
			 r);
		return true;
	}
	if (c->tick && (!p || is_tick(p))) {
		c->tick = false;
		say_lost(lost, size,
			 "--clock tick is not available on this kernel, the perf timer "
			 "samples instead (--clock timer)",
			 r);
		return true;
	}
	return false;
}

static void explain(int err, const struct refusal *r)
{
	if (err == -EPERM || err == -EACCES)
		pr_error("permission denied loading BPF programs: run pyflare as root, or give it "
			 "CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE\n");
	else if (err == -ENOSYS)
		pr_error("this kernel has no BPF support (bpf() is not implemented)\n");
	else if (r->prog)
		pr_error("cannot load the BPF program %s: %s; the verifier says: \"%s\" (pyflare "
			 "doctor tells what this kernel can load; -vv keeps the verifier's whole "
			 "log)\n",
			 r->prog, strerror(-err), r->verifier);
	else
		pr_error("cannot load the BPF programs: %s (run with -v for libbpf's "
			 "messages)\n",
			 strerror(-err));
}

int bpf_load(const struct bpf_choice *want, bpf_configure_fn configure, void *ctx,
	     struct pyflare_bpf **skel, struct bpf_choice *got, char *lost, size_t lost_size)
{
	struct bpf_choice c = *want;
	struct refusal r;
	int err;

	lost[0] = '\0';
	/* PYFLARE_NO_BPF_LOOP: the older kernels' walker here too (the tests run it so) */
	if (c.bpf_loop && getenv("PYFLARE_NO_BPF_LOOP")) {
		c.bpf_loop = false;
		pr_info("PYFLARE_NO_BPF_LOOP is set: using the walker without it\n");
	} else if (c.bpf_loop && !bpf_load_have_loop()) {
		c.bpf_loop = false;
		pr_info("no bpf_loop helper in this kernel (5.17+): using the walker without it\n");
	}
	for (;;) {
		err = try_load(&c, configure, ctx, skel, &r);
		if (r.configure_failed)
			return err;
		if (!err) {
			*got = c;
			return 0;
		}
		if (err == -EPERM || err == -EACCES || err == -ENOSYS || err == -ENOMEM ||
		    !give_up_one(&c, &r, lost, lost_size))
			break;
	}
	explain(err, &r);
	return err;
}

void bpf_load_alone(const char *name, struct bpf_prog_report *rep)
{
	struct pyflare_bpf *skel = pyflare_bpf__open();
	struct bpf_program *prog, *mine = NULL;
	char *log = NULL;
	size_t size;
	double t0;

	memset(rep, 0, sizeof(*rep));
	if (!skel) {
		rep->err = -errno;
		return;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		bool is_mine = !strcmp(bpf_program__name(prog), name);

		bpf_program__set_autoload(prog, is_mine);
		if (is_mine)
			mine = prog;
	}
	/* the program's cost, not the ring buffer's: a recording sizes it by rate and CPUs */
	bpf_map__set_max_entries(skel->maps.events, ALONE_RINGBUF_BYTES);
	log = calloc(1, LOG_BYTES);
	if (!mine || !log) {
		rep->err = !mine ? -ENOENT : -ENOMEM;
		goto out;
	}
	bpf_program__set_log_buf(mine, log, LOG_BYTES);
	bpf_program__set_log_level(mine, LOG_STATS);
	t0 = now_ms();
	rep->err = pyflare_bpf__load(skel);
	rep->load_ms = now_ms() - t0;
	rep->verified_insns = verified_insns(bpf_program__log_buf(mine, &size));
	rep->verify_ms = verify_ms(log);
	if (rep->err)
		verifier_last_word(log, rep->verifier, sizeof(rep->verifier));
out:
	pyflare_bpf__destroy(skel);
	free(log);
}
