# SPDX-License-Identifier: MIT
"""sec_wall.py — what wall mode costs a program that switches tens of thousands of times a
second, side by side with the same program unprofiled and in cpu mode, and what it costs
everyone else's switches.

bench/pingpong.py (two processes handing a byte back and forth over pipes on CPU 0: two
context switches a round trip) is started waiting; pyflare attaches to both processes (or,
for a bystander's view, to a sleeping process), then the timed hand-offs start. Every
configuration runs once per round, in a shuffled order; slowdowns are ratios of round-trip
rates within a round.
"""
import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import List, Optional

import common

PINGPONG = os.path.join(common.HERE, "pingpong.py")
SWITCHES = 50000	# a busy service's context switches a second (issue 5)


class Pingpong:
    """bench/pingpong.py --wait: both processes exist; go() starts the timed hand-offs."""

    def __init__(self, seconds: float, work: int):
        self.proc = subprocess.Popen([common.HOST_PYTHON, PINGPONG, str(seconds), str(work),
                                      "--wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     universal_newlines=True)
        self.pids = [self.proc.pid]
        end = time.monotonic() + 5
        while len(self.pids) < 2 and time.monotonic() < end:
            try:
                with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                    self.pids += [int(x) for x in f.read().split()]
            except OSError:
                pass
            time.sleep(0.01)

    def go(self) -> float:
        """Round trips a second of the timed run (both processes are still there)."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def end(self):
        self.proc.communicate("", timeout=60)


def rate_of(seconds: float, work: int) -> float:
    pp = Pingpong(seconds, work)
    try:
        return pp.go()
    finally:
        pp.end()


def calibrate(seconds: float) -> int:
    """The WORK that brings pingpong.py near SWITCHES context switches a second: a round
    trip's time is nearly linear in WORK; two runs place the line, two more correct it."""
    want = 2.0 / SWITCHES
    pts = [(0, 1.0 / rate_of(seconds, 0)), (1024, 1.0 / rate_of(seconds, 1024))]
    for _ in range(2):
        (w0, t0), (w1, t1) = pts[-2], pts[-1]
        if t1 == t0:
            break
        work = max(0, min(1 << 16, int(round(w1 + (want - t1) * (w1 - w0) / (t1 - t0)))))
        pts.append((work, 1.0 / rate_of(seconds, work)))
    return min(pts, key=lambda p: abs(p[1] - want))[0]


@dataclass
class Config:
    name: str
    work: int
    mode: Optional[str]		# None: no profiler
    bystander: bool = False	# pyflare records a sleeping process, not pingpong
    # per run after the warm-up: (on_switch ns, calls, collector ns, seconds)
    acct: List[tuple] = field(default_factory=list)


def measure(cfg: Config, seconds: float, sleeper: int) -> float:
    if cfg.mode is None:
        return rate_of(seconds, cfg.work)
    pp = Pingpong(seconds, cfg.work)
    try:
        return measure_profiled(cfg, pp, sleeper)
    finally:
        pp.end()


def measure_profiled(cfg: Config, pp: Pingpong, sleeper: int) -> float:
    targets = [sleeper] if cfg.bystander else pp.pids
    prog = "on_switch" if cfg.mode == "wall" else "on_timer"
    with common.Recording(["--mode", cfg.mode, "-p", ",".join(map(str, targets))]) as rec:
        rec.wait_attached(prog)
        time.sleep(0.1)
        (rt0, n0), c0, t0 = rec.stats(prog), rec.cpu_ns(), time.monotonic()
        rate = pp.go()
        took, c1, (rt1, n1) = time.monotonic() - t0, rec.cpu_ns(), rec.stats(prog)
    if cfg.mode == "wall":
        cfg.acct.append((rt1 - rt0, n1 - n0, c1 - c0, took))
    else:
        cfg.acct.append((0, 0, c1 - c0, took))
    return rate


def run(ctx: common.Context) -> common.Section:
    noise = common.Noise()
    seconds = ctx.scale(1.0, 0.5)
    work = calibrate(ctx.scale(0.5, 0.3))
    cfgs = [Config("none", work, None), Config("none again", work, None),
            Config("cpu", work, "cpu"), Config("wall", work, "wall"),
            Config("bystander cpu", work, "cpu", True), Config("bystander wall", work, "wall", True)]
    if not ctx.quick:
        cfgs += [Config("max none", 0, None), Config("max cpu", 0, "cpu"),
                 Config("max wall", 0, "wall")]
    sleeper = subprocess.Popen([common.HOST_PYTHON, "-c", "import time; time.sleep(3600)"])
    try:
        with common.bpf_stats():
            rates = common.interleaved(
                {c.name: (lambda c=c: measure(c, seconds, sleeper.pid)) for c in cfgs},
                rounds=ctx.scale(12, 2),
                budget_s=ctx.scale(85, 16) - (time.monotonic() - noise.t0))
    finally:
        sleeper.kill()
        sleeper.wait()
    for c in cfgs:
        c.acct = c.acct[1:]		# not the warm-up round's
    rounds = len(rates["none"])

    def rows(names, none):
        out = []
        for n in names:
            c = next(c for c in cfgs if c.name == n)
            ns, calls, coll, took = (sum(x[i] for x in c.acct) for i in range(4))
            med = common.percentile(rates[n], 50)
            label = {None: "no profiler", "cpu": "pyflare --mode cpu",
                     "wall": "pyflare --mode wall"}[c.mode]
            if n.endswith("again"):
                label += " again (A/A)"
            out.append((label, "%.0f" % med, "%.0f" % (2 * med),
                        "-" if n == none else common.fmt_ratio(
                            common.paired_ratios(rates[none], rates[n])),
                        "%.0f ns, %.0f/s" % (ns / calls, calls / took) if calls else "-",
                        "%.1f%%" % (100 * coll / (took * 1e9)) if took else "-"))
        return out

    header = ["run", "round trips/s (median)", "context switches/s", "slowdown vs no profiler",
              "switch handler: per call, calls", "collector, of a CPU"]
    md = [INTRO.format(rounds=rounds, seconds=seconds,
                       max="" if ctx.quick else " `WORK=0` is as many as this machine can do."),
          noise.sentence()]
    md.append("\n### A busy service: WORK=%d, %.0f context switches a second unprofiled\n\n" %
              (work, 2 * common.percentile(rates["none"], 50)))
    md.append(common.table(header, rows(["none", "none again", "cpu", "wall"], "none")))
    if not ctx.quick:
        md.append("\n### As many as it can (WORK=0)\n\n")
        md.append(common.table(header, rows(["max none", "max cpu", "max wall"], "max none")))
    md.append("\n### Not profiled, while pyflare records another process (WORK=%d)\n\n" % work)
    md.append(common.table(header, rows(["none", "bystander cpu", "bystander wall"], "none")))
    md.append(READING)
    return common.Section("Wall mode: programs that switch often", "".join(md), [])


INTRO = """\
`bench/pingpong.py`: two Python processes hand a byte back and forth over pipes, both on
CPU 0, so every hand-off is a context switch from one to the other (never through an idle
CPU, whose wake-up latency on a VM would swamp what is measured). `WORK` iterations of
Python code between hand-offs bring the rate down to about the 50 000 switches a second of
a busy service; the section finds that `WORK` when it starts, so it moves with the
machine's load.{max} pyflare attaches to both processes (to a sleeping process for the
last table) before the timed {seconds} s of hand-offs start. {rounds} rounds after a
warm-up, every run once per round in a shuffled order; slowdowns are medians of the ratios
within a round, with bootstrap 95% intervals. The switch handler's figures are the
kernel's accounting of `on_switch` (`kernel.bpf_stats_enabled`) for all of the machine's
switches during the run; the collector's is pyflare's own CPU time over the run.
"""

READING = """
How to read it: a profiled thread's switch walks its stack as it leaves the CPU, so wall
mode's cost grows with the program's switch rate, which `--mode cpu` does not pay; every
other task's switch pays two hash lookups (the last table). The per-call costs of the two
kinds apart, with percentiles, are in the kernel section's table of the switch handler.
"""
