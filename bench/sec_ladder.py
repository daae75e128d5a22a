# SPDX-License-Identifier: MIT
"""sec_ladder.py — where a recording's cost goes, one step at a time.

A CPU-bound loop (bench/loop.py) pinned to CPU 1 is timed while pyflare, pinned to CPU 0,
records it with its samples stopped at each stage of the bench hooks (PYFLARE_BENCH_STAGE):
L1 the perf event with an empty program (the interrupt alone), L2 the stack walked and
nothing sent, L3 sent through the ring buffer (the collector drops it), L4 a full recording.
L0 and L0' run no profiler: the second is the A/A control. Every configuration runs once per
round, in a shuffled order, and slowdowns are ratios within a round. Beside the end-to-end
times, the kernel's accounting of the program and the collector's CPU time say the same by
another way.
"""
import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import common

LOOP = os.path.join(common.HERE, "loop.py")
TARGET_CPU, PYFLARE_CPU = 1, 0
RATES = [999, 9999]

LEVELS = [	# (level, stage, what runs)
    ("L1", "empty", "perf event + empty program (the interrupt)"),
    ("L2", "walk", "+ the stack walked, nothing sent"),
    ("L3", "ring", "+ the ring buffer (the collector drops the samples)"),
    ("L4", None, "full recording"),
]


@dataclass
class Config:
    name: str			# "L2 @999"
    level: str
    what: str
    args: Optional[List[str]]	# pyflare record's arguments; None: no profiler
    stage: Optional[str] = None
    prog: str = "on_timer"
    floor: Optional[str] = None	# the config of the empty program at the same clock
    # per run, in round order after the warm-up: BPF ns, BPF runs, samples, loop CPU s,
    # loop wall s, collector CPU ns
    acct: List[tuple] = field(default_factory=list)


class Loop:
    """bench/loop.py, pinned to TARGET_CPU, driven through its standard input."""

    def __init__(self):
        self.proc = subprocess.Popen([common.HOST_PYTHON, LOOP, str(TARGET_CPU)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     universal_newlines=True)
        self.pid = self.proc.pid
        self.n = 0

    def ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def calibrate(self, seconds: float):
        self.n = int(self.ask("calibrate %f" % seconds))

    def run(self):
        """(wall-clock s, CPU s) of one run of the calibrated work."""
        wall, cpu = self.ask("run %d" % self.n).split()
        return float(wall), float(cpu)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def measure(loop: Loop, cfg: Config, settle: float) -> float:
    """One timed run of the loop under @cfg; its accounting kept in cfg.acct."""
    if cfg.args is None:
        time.sleep(settle)
        wall, cpu = loop.run()
        cfg.acct.append((0, 0, 0, cpu, wall, 0))
        return wall
    with common.Recording(cfg.args + ["-p", str(loop.pid)], stage=cfg.stage,
                          cpus=[PYFLARE_CPU]) as rec:
        rec.wait_attached(cfg.prog)
        time.sleep(settle)		# its code objects sent, the collector idle
        (rt0, n0), s0, c0 = rec.stats(cfg.prog), rec.samples(), rec.cpu_ns()
        wall, cpu = loop.run()
        c1, (rt1, n1), s1 = rec.cpu_ns(), rec.stats(cfg.prog), rec.samples()
    cfg.acct.append((rt1 - rt0, n1 - n0, s1 - s0, cpu, wall, c1 - c0))
    return wall


def configs(tick: bool, rates: List[int]) -> List[Config]:
    out = [Config("L0", "L0", "no profiler", None),
           Config("L0'", "L0'", "no profiler again (A/A control)", None)]
    for rate in rates:
        for level, stage, what in LEVELS:
            out.append(Config("%s @%d" % (level, rate), level, what,
                              ["--mode", "cpu", "-F", str(rate)], stage,
                              floor="L1 @%d" % rate))
    if tick:
        for level, stage, what in (LEVELS[0], LEVELS[3]):
            what = {"L1": "tick tracepoint + empty program (no interrupt of its own)",
                    "L4": "full recording"}[level]
            out.append(Config("%s tick" % level, level, what,
                              ["--mode", "cpu", "--clock", "tick"], stage, "on_tick",
                              floor="L1 tick"))
    return out


@dataclass
class Figures:
    """One configuration's results: end to end and by accounting."""
    time: float			# median s per run
    vs_l0: List[float]		# paired ratios
    vs_floor: List[float]	# paired ratios against the empty program at the same clock
    bpf_share: float		# BPF ns per ns of the loop's CPU time
    bpf_per_run: float		# ns
    samples_per_s: float	# per second of the loop's CPU time
    collector_share: float	# collector CPU ns per ns of the loop's wall-clock time
    floor_share: float = 0.0	# bpf_share of the empty program at the same clock


def figures(cfg: Config, times: Dict[str, List[float]],
            floor: Optional[Config]) -> Figures:
    a = cfg.acct
    bpf, runs, samples = sum(x[0] for x in a), sum(x[1] for x in a), sum(x[2] for x in a)
    cpu, wall, coll = sum(x[3] for x in a), sum(x[4] for x in a), sum(x[5] for x in a)
    mine = times[cfg.name]
    return Figures(
        common.percentile(mine, 50), common.paired_ratios(mine, times["L0"]),
        common.paired_ratios(mine, times[floor.name]) if floor and floor is not cfg else [],
        bpf / (cpu * 1e9) if cpu else float("nan"), bpf / runs if runs else float("nan"),
        samples / cpu if cpu else float("nan"), coll / (wall * 1e9) if wall else float("nan"))


def pct(x: float, digits: int = 2) -> str:
    return "?" if x != x else "%.*f%%" % (digits, 100 * x)


def ratio(xs: List[float]) -> str:
    return common.fmt_ratio(xs) if xs else "-"


def end_to_end(xs: List[float], limit: float, aa: List[float]):
    """(met, why) of "a slowdown of at most @limit", judged on the 95% interval of the
    ratios @xs: met when all of it is at most @limit. None when the A/A control's interval
    @aa is wider than the goal: this run's noise cannot tell."""
    _, aa_lo, aa_hi = common.median_ci(aa)
    if not xs or not (2 - limit <= aa_lo and aa_hi <= limit):
        return None, "; this run cannot tell: the A/A interval is wider than ±%.1f%%" % (
            100 * (limit - 1))
    hi = common.median_ci(xs)[2]
    if hi <= limit:
        return True, ""
    return False, "; its 95%% interval reaches %.3f" % hi


def run(ctx: common.Context) -> common.Section:
    noise = common.Noise()
    tick = common.has_tick_clock()
    rates = ctx.scale(RATES, RATES[:1])
    run_s = ctx.scale(0.5, 0.25)
    settle = ctx.scale(0.15, 0.1)
    cfgs = configs(tick, rates)
    loop = None
    with common.pinned([PYFLARE_CPU]), common.bpf_stats():
        try:
            loop = Loop()
            loop.calibrate(run_s)
            times = common.interleaved({c.name: (lambda c=c: measure(loop, c, settle))
                                        for c in cfgs},
                                       rounds=ctx.scale(40, 3),
                                       budget_s=ctx.scale(120, 18) - (time.monotonic() - noise.t0))
        finally:
            if loop:
                loop.close()
    rounds = len(times["L0"])
    for c in cfgs:			# the warm-up round's accounting is not kept
        c.acct = c.acct[1:]
    by = {c.name: c for c in cfgs}
    fig = {c.name: figures(c, times, by.get(c.floor)) for c in cfgs}
    for c in cfgs:			# accounting above the empty program at the same clock
        if c.floor:
            fig[c.name].floor_share = fig[c.floor].bpf_share

    md = [INTRO.format(run_s=run_s, rounds=rounds, cpu=TARGET_CPU, pcpu=PYFLARE_CPU),
          noise.sentence()]
    aa = fig["L0'"]
    cpu = sum(x[3] for c in cfgs for x in c.acct)
    wall = sum(x[4] for c in cfgs for x in c.acct)
    md.append("A/A control: L0' against L0 is **%s**, median %.3f s a run of L0; differences "
              "inside that band are noise. The loop had its CPU for %s of its runs' "
              "wall-clock time (the rest went to other tasks and interrupts).\n" % (
                  ratio(aa.vs_l0), fig["L0"].time, pct(cpu / wall if wall else float("nan"), 1)))
    header = ["level", "what runs", "time per run", "slowdown vs L0", "vs the empty program",
              "BPF per loop CPU-s", "BPF per run", "samples per CPU-s",
              "collector, of a CPU"]
    groups = [("%d Hz timer" % r, [c for c in cfgs if c.name.endswith("@%d" % r)]) for r in rates]
    groups.append(("Scheduler tick (`--clock tick`)",
                   [c for c in cfgs if c.prog == "on_tick"]))
    for title, members in groups:
        md.append("\n### %s\n\n" % title)
        if not members:
            md.append("%s.\n" % common.NO_TICK.capitalize())
            continue
        rows = []
        for c in members:
            f = fig[c.name]
            rows.append((c.level, c.what, "%.4f s" % f.time, ratio(f.vs_l0), ratio(f.vs_floor),
                         pct(f.bpf_share, 3), "%.0f ns" % f.bpf_per_run,
                         "%.0f" % f.samples_per_s if c.stage != "empty" else "-",
                         pct(f.collector_share)))
        md.append(common.table(header, rows))
    md.append(READING)

    goals = []
    full999 = fig["L4 @999"]
    acc999 = full999.bpf_share - full999.floor_share
    goals.append(common.Goal("999 Hz: ≤ 0.5% above the empty-program floor, by accounting",
                             "%s (collector: %s of a CPU beside)" % (
                                 pct(acc999), pct(full999.collector_share)),
                             acc999 <= 0.005))
    aa_ratios = aa.vs_l0
    met, why = end_to_end(full999.vs_floor, 1.01, aa_ratios)
    goals.append(common.Goal("999 Hz: within 1% of the empty-program floor, end to end",
                             ratio(full999.vs_floor) + why, met))
    if "L4 @9999" in fig:
        f = fig["L4 @9999"]
        acc = f.bpf_share - f.floor_share
        met, why = end_to_end(f.vs_floor, 1.03, aa_ratios)
        goals.append(common.Goal("9999 Hz: ≤ 3% above the empty-program floor",
                                 "%s by accounting; %s end to end%s" % (
                                     pct(acc), ratio(f.vs_floor), why),
                                 False if acc > 0.03 else met))
    else:
        goals.append(common.Goal("9999 Hz: ≤ 3% above the empty-program floor",
                                 "not measured in quick mode", None))
    if tick:
        f = fig["L4 tick"]
        met, why = end_to_end(f.vs_l0, 1.005, aa_ratios)
        goals.append(common.Goal("Tick mode within 0.5% of no profiler",
                                 "%s by accounting; %s end to end%s" % (
                                     pct(f.bpf_share), ratio(f.vs_l0), why),
                                 False if f.bpf_share > 0.005 else met))
    else:
        goals.append(common.Goal("Tick mode within 0.5% of no profiler", common.NO_TICK, None))
    return common.Section("Where the cost goes: the ladder", "".join(md), goals)


INTRO = """\
One CPU-bound Python loop (`bench/loop.py`, 24 frames deep) pinned to CPU {cpu}, timed in
runs of about {run_s} s, while pyflare (pinned to CPU {pcpu}) records it with its samples
stopped at each stage of the bench hooks (`PYFLARE_BENCH_STAGE`): L1 the perf event with an
empty program, that is the interrupt alone; L2 the stack walked and nothing sent; L3 sent
through the ring buffer, which the collector empties and drops; L4 a full recording. L0 and
L0' run no profiler. {rounds} rounds after a warm-up, every configuration once per round in
a shuffled order; slowdowns are the medians of the ratios within a round, with bootstrap
95% intervals. *vs the empty program* divides by L1 at the same clock: what pyflare adds
over the bare interrupt. By accounting: the program's run time on all CPUs
(`kernel.bpf_stats_enabled`) per second of the loop's CPU time, an upper bound of what it
takes from the loop (the other CPU's runs find another task and stop early; with the tick
clock every timer of the machine runs the program, and most stop at its first compare),
and pyflare's own CPU time on CPU {pcpu} per second of the loop's run.

"""

READING = """
How to read it: the interrupt's own cost (L1) is what any sampler at that rate pays on this
machine, a virtual one where a timer interrupt may leave the guest. The steps above it are
pyflare's: L2 minus L1 the walk, L3 minus L2 the ring buffer, L4 minus L3 the collector
(on the other CPU, so it shows up in the last column rather than in the loop's time). An
end-to-end ratio inside the A/A band is not a measured cost; the accounting column has no
such noise and is the finer figure.
"""
