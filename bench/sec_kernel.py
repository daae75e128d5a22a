# SPDX-License-Identifier: MIT
"""sec_kernel.py — what one sample costs in the kernel, by Python stack depth and clock, and
what wall mode's scheduler handler costs per context switch.

Samplers: one process per CPU spins at a known depth (bench/depth.py) while
`pyflare record --mode cpu -p PIDS` samples them (999 Hz timer, and the scheduler tick when
this build has `--clock tick`). The mean comes from the kernel's accounting of the program
(kernel.bpf_stats_enabled) over a window, the spread from the bench build's histogram
(PYFLARE_BENCH_HISTOGRAM). Runs that hit another task (pyflare itself, a kernel thread; for
the tick clock also every other timer expiring) are set apart: the health map counts the
profiled samples, and those other runs are the cheapest ones.
"""
import contextlib
import gzip
import os
import platform
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import List, Optional

import common

DEPTH = os.path.join(common.HERE, "depth.py")
PINGPONG = os.path.join(common.HERE, "pingpong.py")
DEPTHS = [8, 32, 128, 512]	# one function recursing
DISTINCT = [32, 128]		# a function each: the first is the goal's realistic row
SENT_SHORT_MAX = 256		# STACK_SENT_FRAMES_MAX: deeper stacks always go whole
WALK_COST = os.path.join(common.REPO, "build", "bench", "tools", "walk_cost")


@dataclass
class Row:
    frames: int
    distinct: bool
    clock: str		# "timer" (999 Hz), "tick", or "timer-hz" (the timer at the tick's rate)
    runs: int		# of the program in the window
    samples: int	# profiled samples among them
    mean_ns: float	# per profiled sample
    p50_ns: float
    p99_ns: float
    other_ns: float	# per run that sampled nothing
    limit_ns: int	# the histogram's reach

    @property
    def stack(self) -> str:
        return "%d frames, %s" % (self.frames, "a function each" if self.distinct
                                  else "one function recursing")


@contextlib.contextmanager
def spinners(python: str, frames: int, distinct: bool, seconds: float):
    """One process per CPU spinning at @frames (pinned there); yields their PIDs."""
    procs = []
    try:
        for cpu in range(os.cpu_count() or 1):
            procs.append(subprocess.Popen(
                common.python_argv(python, DEPTH) + [str(frames), str(seconds)] +
                (["distinct"] if distinct else []),
                preexec_fn=lambda cpu=cpu: os.sched_setaffinity(0, {cpu})))
        time.sleep(0.2)		# started, and deep in its stack
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()


def split(h: common.Histogram, others: int):
    """(histogram of the profiled runs, mean ns of the @others cheapest runs)."""
    others = min(max(0, others), h.total)
    cheap = h.trimmed(slowest=h.total - others)
    return h.trimmed(fastest=others), (cheap.mean() if others else 0.0)


def kernel_hz() -> int:
    """CONFIG_HZ: the scheduler tick's rate (250 when the kernel's config is not found)."""
    for path, opener in (("/proc/config.gz", gzip.open),
                         ("/boot/config-" + platform.release(), open)):
        try:
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_HZ="):
                        return int(line.split("=")[1])
        except (OSError, ValueError):
            pass
    return 250


def tick_filter_ns(ctx) -> float:
    """What an on_tick run costs that samples nothing: a recording whose program stops at
    once (PYFLARE_BENCH_STAGE=empty) while both CPUs spin; nearly all its runs are other
    timers let go at the first compare."""
    with spinners(common.HOST_PYTHON, 32, False, 30) as pids:
        with common.Recording(["--mode", "cpu", "--clock", "tick", "-p",
                               ",".join(map(str, pids))], stage="empty") as rec:
            rec.wait_attached("on_tick")
            time.sleep(0.2)
            rt0, n0 = rec.stats("on_tick")
            time.sleep(ctx.scale(2.0, 1.0))
            rt1, n1 = rec.stats("on_tick")
    return (rt1 - rt0) / (n1 - n0) if n1 > n0 else float("nan")


def sampler_window(ctx, python: str, frames: int, distinct: bool, args: List[str], prog: str,
                   hist: Optional[str]):
    """One recording of the spinners with @args (the bench histogram into @hist, or none):
    (run time ns, runs, profiled samples) over the window, the samples of the whole
    recording, and the runs from its start to the window's end."""
    warm, window = ctx.scale(0.5, 0.5), ctx.scale(2.0, 1.0)
    with spinners(python, frames, distinct, warm + window + 20) as pids:
        with common.Recording(args + ["-p", ",".join(map(str, pids))], histogram=hist) as rec:
            rec.wait_attached(prog)
            time.sleep(warm)		# code objects sent, stacks known
            (rt0, n0), s0 = rec.stats(prog), rec.samples()
            time.sleep(window)
            (rt1, n1), s1 = rec.stats(prog), rec.samples()
            for pid in pids:		# stopped: no sample comes after the last count
                os.kill(pid, signal.SIGSTOP)
            time.sleep(0.05)
            s_all = rec.samples()
            rec.stop()
    return rt1 - rt0, n1 - n0, s1 - s0, s_all, n1


def sampler_row(ctx, python: str, frames: int, distinct: bool, clock: str,
                filter_ns: float = float("nan")) -> Row:
    prog = "on_tick" if clock == "tick" else "on_timer"
    hist = os.path.join(ctx.out_dir, "kernel-%s-%s-%d%s.json" % (
        python.strip("/").replace("/", "_"), clock, frames, "-distinct" if distinct else ""))
    args = ["--mode", "cpu"] + {"timer": ["-F", "999"], "tick": ["--clock", "tick"],
                                "timer-hz": ["-F", str(kernel_hz())]}[clock]
    rt, runs, samples, s_all, n1 = sampler_window(ctx, python, frames, distinct, args, prog,
                                                  hist)
    # the histogram covers the whole recording: its runs beyond all the samples are the
    # other kind, the cheaper ones
    h = common.Histogram.load(hist, prog)
    profiled, other_ns = split(h, h.total - s_all)
    if not samples:
        mean = float("nan")
    elif h.total >= 0.9 * n1:
        # every run is in the histogram, whose two clock reads and bucket are in the run
        # time the kernel accounts (50-180 ns a sample): the mean from a recording without
        # it, less the other runs' share
        rt, runs, samples, _, _ = sampler_window(ctx, python, frames, distinct, args, prog,
                                                 None)
        mean = (rt - (runs - samples) * other_ns) / samples if samples else float("nan")
    else:
        # most runs ended before the histogram's clock started (the tick clock lets every
        # other timer go first, and there may be many more of those than samples): the
        # histogram's mean, and for the others the cost of a run of the empty stage
        mean, other_ns = profiled.mean(), filter_ns
    return Row(frames, distinct, clock, runs, samples, mean, profiled.percentile(50),
               profiled.percentile(99), other_ns, h.limit_ns())


def pingpong(python: str, seconds: float, work: int = 0):
    """bench/pingpong.py started (it pins itself to CPU 0): (process, [its two PIDs])."""
    p = subprocess.Popen([python, PINGPONG, str(seconds), str(work)], stdout=subprocess.DEVNULL)
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        if kids:
            return p, [p.pid] + kids
        time.sleep(0.02)
    p.kill()
    raise RuntimeError("pingpong.py started no partner")


def switch_run(ctx, python: str, bystander: bool, histogram: bool, stage: Optional[str] = None):
    """One wall-mode recording of pingpong's switches: profiled, or not profiled beside a
    profiled spinner; the bench build's @stage. (run time ns, calls, switches of profiled
    threads, seconds, histogram: None without @histogram)."""
    warm, window = ctx.scale(0.5, 0.5), ctx.scale(2.0, 1.0)
    hist = os.path.join(ctx.out_dir, "kernel-switch-%s.json" %
                        ("bystander" if bystander else "profiled")) if histogram else None
    pp, pp_pids = pingpong(python, warm + window + 20)
    spinner = None
    try:
        if bystander:
            spinner = subprocess.Popen([python, DEPTH, "32", str(warm + window + 20)],
                                       preexec_fn=lambda: os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)}))
            profiled = [spinner.pid]
        else:
            profiled = pp_pids
        with common.Recording(["--mode", "wall", "-p", ",".join(map(str, profiled))],
                              stage=stage, histogram=hist) as rec:
            rec.wait_attached("on_switch")
            time.sleep(warm)
            (rt0, n0), c0 = rec.stats("on_switch"), sum(map(common.context_switches, profiled))
            t0 = time.monotonic()
            time.sleep(window)
            (rt1, n1), c1 = rec.stats("on_switch"), sum(map(common.context_switches, profiled))
            took = time.monotonic() - t0
            rec.stop()
    finally:
        for p in ([spinner] if spinner else []) + [pp]:
            p.kill()
            p.wait()
        for pid in pp_pids[1:]:		# pong ends when ping's pipe closes
            with contextlib.suppress(ChildProcessError, OSError):
                os.kill(pid, 9)
    return rt1 - rt0, n1 - n0, c1 - c0, took, \
        common.Histogram.load(hist, "on_switch") if hist else None


def switch_rows(ctx, python: str):
    """[(who, calls/s, mean ns, p50, p99, share of calls)] for a profiled thread's switches
    and everyone else's. Each run mixes both kinds (pingpong's partner is not the only task
    on the CPU; the spinner beside is preempted now and then); with the counts of each known,
    the two runs give two equations in the two costs."""
    # the means from recordings without the histogram, whose clock reads and bucket the
    # kernel's accounting would count; the percentiles from recordings with it
    rt_p, calls_p, prof_p, took_p, _ = switch_run(ctx, python, False, histogram=False)
    rt_b, calls_b, prof_b, took_b, _ = switch_run(ctx, python, True, histogram=False)
    _, hcalls_p, hprof_p, _, h_p = switch_run(ctx, python, False, histogram=True)
    _, hcalls_b, hprof_b, _, h_b = switch_run(ctx, python, True, histogram=True)
    # the floor: the same switches with a program that returns at once
    rt_e, calls_e, _, took_e, _ = switch_run(ctx, python, True, histogram=False, stage="empty")
    oth_p, oth_b = max(0, calls_p - prof_p), max(0, calls_b - prof_b)
    det = prof_p * oth_b - prof_b * oth_p
    if calls_p <= 0 or calls_b <= 0 or not det:
        return []
    c_prof = (rt_p * oth_b - rt_b * oth_p) / det
    c_other = (rt_b * prof_p - rt_p * prof_b) / det
    # the histograms cover whole recordings: set the other kind apart by its share
    hp = h_p.trimmed(fastest=h_p.total * max(0, hcalls_p - hprof_p) / max(1, hcalls_p))
    hb = h_b.trimmed(slowest=h_b.total * hprof_b / max(1, hcalls_b))
    return [
        ("a profiled thread (pingpong.py profiled, 3 frames deep)", calls_p / took_p,
         prof_p / calls_p, c_prof, hp.percentile(50), hp.percentile(99), hp.limit_ns()),
        ("another task (pingpong.py not profiled, beside a profiled spinner)", calls_b / took_b,
         oth_b / calls_b, c_other, hb.percentile(50), hb.percentile(99), hb.limit_ns()),
        ("any task, the program returning at once (`PYFLARE_BENCH_STAGE=empty`: the floor)",
         calls_e / took_e, 1.0, rt_e / calls_e if calls_e else float("nan"), float("nan"),
         float("nan"), 0),
    ]


def slope(rows: List[Row], clock: str, distinct: bool):
    """(ns per extra frame, ns at none) over the rows of @clock and kind, or nans."""
    pts = [(r.frames, r.mean_ns) for r in rows
           if r.clock == clock and r.distinct == distinct and r.mean_ns == r.mean_ns]
    return common.least_squares(pts) if len(pts) >= 2 else (float("nan"), float("nan"))


def sent_short(rows: List[Row]) -> List[Row]:
    """The rows whose stacks go as a short record once sent (bpf/pyflare.h)."""
    return [r for r in rows if r.frames <= SENT_SHORT_MAX]


def find(rows: List[Row], clock: str, frames: int, distinct: bool) -> Optional[Row]:
    for r in rows:
        if r.clock == clock and r.frames == frames and r.distinct == distinct:
            return r
    return None


def row_cells(r: Row):
    clock = {"timer": "timer 999 Hz", "tick": "tick (%d Hz)" % kernel_hz(),
             "timer-hz": "timer %d Hz" % kernel_hz()}[r.clock]
    return (r.stack, clock, r.runs, r.samples, common.fmt_us(r.mean_ns),
            common.fmt_us(r.p50_ns, r.limit_ns), common.fmt_us(r.p99_ns, r.limit_ns),
            "%d ns" % r.other_ns if r.runs > r.samples else "-")


def warm_floor(ctx: common.Context) -> str:
    """The samplers' body test-run with every cache warm (bench/tools/walk_cost.c)."""
    r = subprocess.run([WALK_COST, "--rounds", "3" if ctx.quick else "7"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=600)
    if r.returncode != 0:
        return "\n### The floor: a sample with every cache warm\n\nNot measured: %s\n" % (
            r.stderr.strip() or "walk_cost exited %d" % r.returncode)
    return WARM_INTRO + r.stdout


def run(ctx: common.Context) -> common.Section:
    noise = common.Noise()
    tick = common.has_tick_clock()
    clocks = ["timer"] + (["tick"] if tick else [])
    depths, distinct = ctx.scale(DEPTHS, [32, 512]), ctx.scale(DISTINCT, DISTINCT[:1])
    md, goals, tick_rows = [INTRO.format(window=ctx.scale(2.0, 1.0))], [], []
    with common.bpf_stats():
        filter_ns = tick_filter_ns(ctx) if tick else float("nan")
        for python in common.pythons(ctx.quick):
            version = common.python_version(python)
            rows: List[Row] = []
            for clock in clocks:
                rows += [sampler_row(ctx, python, d, False, clock, filter_ns) for d in depths]
                rows += [sampler_row(ctx, python, d, True, clock, filter_ns) for d in distinct]
            if tick and python == common.HOST_PYTHON and not ctx.quick:
                # the same rate as the tick: a sample costs more when samples are rarer
                rows.append(sampler_row(ctx, python, 32, True, "timer-hz"))
            md.append("\n### CPython %s (`%s`)\n\n" % (version, python))
            md.append(common.table(
                ["stack", "clock", "runs", "profiled samples", "mean per sample", "p50", "p99",
                 "other runs, each"], [row_cells(r) for r in rows]))
            md.append("\n")
            for clock in clocks:
                k, c = slope(rows, clock, False)
                ks, _ = slope(sent_short(rows), clock, False)
                kd, _ = slope(rows, clock, True)
                md.append("%s: **%.1f ns per extra frame** of one function recursing (least "
                          "squares over %s frames; %.2f µs at none; %s)%s.\n\n" % (
                              "Timer" if clock == "timer" else "Tick", k,
                              ", ".join(map(str, depths)), c / 1000.0,
                              "%.1f ns over the depths up to %d, whose stacks go short once "
                              "sent" % (ks, SENT_SHORT_MAX) if ks == ks else
                              "no two depths up to %d" % SENT_SHORT_MAX,
                              "" if kd != kd else ", **%.1f ns** a function each (%s frames)" %
                              (kd, " to ".join(map(str, distinct)))))
            if not tick:
                md.append("\nThe tick clock's rows: %s.\n" % common.NO_TICK)
            r, rec = find(rows, "timer", 32, True), find(rows, "timer", 32, False)
            goals.append(common.Goal(
                "Kernel cost at 32 frames ≤ 2 µs mean (CPython %s)" % version,
                "%s a function a frame (one recursing: %s)" % (
                    common.fmt_us(r.mean_ns), common.fmt_us(rec.mean_ns) if rec else "?"),
                r.mean_ns <= 2000))
            goals.append(common.Goal(
                "Kernel cost at 32 frames: p99 ≤ 4 µs (CPython %s)" % version,
                "%s a function a frame, p50 %s" % (common.fmt_us(r.p99_ns, r.limit_ns),
                                                   common.fmt_us(r.p50_ns, r.limit_ns)),
                r.p99_ns <= 4000))
            k, _ = slope(rows, "timer", False)
            ks, _ = slope(sent_short(rows), "timer", False)
            kd, _ = slope(rows, "timer", True)
            if kd == kd:	# judged on a program's stack, not on recursion
                goals.append(common.Goal(
                    "≤ 40 ns per extra distinct frame (CPython %s)" % version,
                    "%.1f ns, %s frames" % (kd, " to ".join(map(str, distinct))), kd <= 40))
            goals.append(common.Goal(
                "≤ 30 ns per extra recursing frame (CPython %s)" % version,
                "%.1f ns over %s frames%s" % (
                    k, ", ".join(map(str, depths)),
                    " (%.1f ns up to %d)" % (ks, SENT_SHORT_MAX) if ks == ks else ""), k <= 30))
            if tick:
                tick_rows.append((version, find(rows, "tick", 32, True)))
        if tick:
            goals.append(common.Goal(
                "Kernel cost at 32 frames ≤ 2 µs mean, --clock tick",
                ", ".join("%s (%s)" % (common.fmt_us(t.mean_ns), v) for v, t in tick_rows),
                all(t.mean_ns <= 2000 for _, t in tick_rows)))
        else:
            goals.append(common.Goal("Kernel cost at 32 frames ≤ 2 µs mean, --clock tick",
                                     common.NO_TICK, None))
        sw = switch_rows(ctx, common.HOST_PYTHON)
    md.append(warm_floor(ctx))
    md.append(SWITCH_INTRO)
    md.append(common.table(
        ["switches of", "handler calls/s", "share of calls", "mean per call", "p50", "p99"],
        [(who, "%.0f" % cps, "%.1f%%" % (100 * share), common.fmt_us(mean),
          common.fmt_us(p50, lim) if p50 == p50 else "-",
          common.fmt_us(p99, lim) if p99 == p99 else "-")
         for who, cps, share, mean, p50, p99, lim in sw]) if sw else
        "The switch handler's runs could not be counted in this run.\n")
    md.insert(1, noise.sentence())
    return common.Section("Kernel cost of a sample", "".join(md), goals)


INTRO = """\
What one sample costs the CPU it interrupts. One process per CPU spins at a known Python
stack depth (`bench/depth.py`, pinned) while `pyflare record --mode cpu -p PIDS` samples
both. *Mean per sample*: the program's run time from the kernel's own accounting
(`kernel.bpf_stats_enabled`) over a {window:g} s window, divided among the profiled samples
(which pyflare's health map counts), in a recording of its own without the histogram below
(its two clock reads and its bucket are run time too: 50-180 ns a sample). *p50, p99*: from
the bench build's histogram of run times (`PYFLARE_BENCH_HISTOGRAM`, 50 ns buckets, its two
clock reads included), in a second recording. The program
also runs when the interrupt finds another task (pyflare, a kernel thread) and, with
`--clock tick`, for every other kernel timer that expires: *runs* counts them all, the last
column is what each of those costs, and they are left out of the other columns. (Other
timers can outnumber the tick's samples many times over, and they never reach the
histogram's clock: the tick's mean is the histogram's, and their cost is measured once
with a recording whose program stops at once, `PYFLARE_BENCH_STAGE=empty`.) A stack of *one function recursing* flatters the walker,
which reads each code object once per sample; *a function each* is what a program's stack
looks like. Neither includes the interrupt itself: the ladder measures that. A sample
costs more when samples are rarer, as the caches have gone colder in between: compare the
tick with the timer at the tick's rate.
"""

WARM_INTRO = """
### The floor: the same sample test-run, caches warm and cold

The rows above pay for what the sample finds cold: the timer interrupts a CPU that ran the
program, so the walker's maps, the target's frames and the TLB entries for both may have
left the caches since the last sample 1 ms before. `bench/tools/walk_cost` runs the same
body (the bpf_loop walker, the caches, the short record for a stack sent before) by
`BPF_PROG_TEST_RUN` on CPU 0, over a fake interpreter in its own memory whose frames lie on
one data stack 96 bytes apart, as from 3.11, under the interpreter's entry frame on the C
stack, as from 3.12 (`tests/bpf/fake_python.c`): the kernel's
accounting of run time, median of the rounds. *Warm*: thousands of runs back to back, no
interrupt and no cache miss, what a sample cannot go below on this CPU. *Cold*: each run
after 4 MiB of other memory was written (twice this CPU's L2). Below them, the parts alone:
a `bpf_loop` step, and the 16-byte read of user memory that a code object's fingerprint
costs before 3.14.

"""

SWITCH_INTRO = """
### Wall mode's switch handler

`on_switch` runs at every context switch of the machine. For a profiled thread leaving the
CPU it walks the stack and keeps the wait; for everyone else it is two hash lookups.
`bench/pingpong.py` (two processes handing a byte back and forth on CPU 0, a switch per
hand-off) is recorded in wall mode, then run unprofiled while pyflare records a spinner on
the other CPU. Every run mixes both kinds of switches, in known numbers (the profiled
threads' context-switch counts): the mean per call of each kind solves the two runs'
equations (recorded without the histogram); the percentiles, from two more runs with it,
set the other kind apart by its share. The last row is the floor under both: the same
switches recorded with a program that returns as it starts, so all its run time is the
tracepoint's call and the kernel's accounting of it. A profiled thread's switch-out walks
its stack as a sample does (pingpong.py's is 3 frames deep): compare the 8-frame rows above.

"""
