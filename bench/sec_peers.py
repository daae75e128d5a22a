# SPDX-License-Identifier: MIT
"""sec_peers.py — Peers side by side.

The workloads of bench/workloads/ under each peer that installs here, every peer paired
with pyflare and with no profiler on the same CPython, in the same shuffled rounds:
cProfile, profile, Austin and perf (with -X perf) on pyenv's CPython 3.13 on the host;
pyinstrument on Debian sid's CPython 3.14 in the bench root (scripts/bench-root.sh).
"""
import glob
import json
import os
import shutil
import statistics
import subprocess
from typing import Dict, List, Optional, Tuple

import common
from sec_slowdown import PROFILER_CPU, TARGET_CPU, pyflare_argv

ROOT = os.environ.get("PYFLARE_BENCH_ROOT", "/var/cache/pyflare/bench-root")
ROOT_WORKLOADS = "/tmp/bench"		# inside ROOT
WORKLOADS = ["numeric", "objects", "recursion"]
EMPTY = "(empty)"			# the run of a workload at SCALE 0: start-up and exit
NONE, SMALL = "no profiler", "no profiler, small"	# what the peers' runs pair with
NOT_PACKAGED = [
    ("py-spy", "not measured: not packaged in Debian (bookworm or sid), and PyPI is out of "
     "reach here"),
]


def pyenv_313() -> Optional[str]:
    found = sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python3"))
    return found[-1] if found else None


def unpinned(argv: List[str]) -> List[str]:
    """@argv without its leading `taskset -c CPUS`."""
    return argv[3:] if argv[:2] == ["taskset", "-c"] else argv


def austin_argv() -> Tuple[Optional[List[str]], str]:
    """sid's Austin 3.7 run on the host through the root's loader, or (None, why not)."""
    loader = os.path.join(ROOT, "lib64/ld-linux-x86-64.so.2")
    austin = os.path.join(ROOT, "opt/austin/usr/bin/austin")
    if not (os.path.exists(loader) and os.path.exists(austin)):
        return None, "not measured: Austin is not extracted into %s (make bench-deps)" % ROOT
    return [loader, "--library-path", os.path.join(ROOT, "lib/x86_64-linux-gnu"), austin], ""


def root_ready() -> str:
    """Why the bench root cannot run pyinstrument, or "" when it can."""
    if not os.path.exists(os.path.join(ROOT, ".pyflare-sid-root")):
        return "not measured: no bench root at %s (make bench-deps)" % ROOT
    r = subprocess.run(["chroot", ROOT, "python3", "-m", "pyinstrument", "--version"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode != 0:
        return "not measured: pyinstrument does not run in %s: %s" % (
            ROOT, common.last_words(r.stdout))
    return ""


def perf_ready() -> str:
    try:
        r = subprocess.run(["perf", "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
    except OSError:
        return "not measured: perf is not installed (make bench-deps)"
    return "" if r.returncode == 0 else "not measured: perf fails: " + common.last_words(r.stdout)


class PerfRun:
    """perf record -F 999 -g of `python -X perf`: its data file and the interpreter's
    /tmp/perf-PID.map are removed after each run."""

    def __init__(self, out_dir: str):
        self.data = os.path.join(out_dir, "peers-perf.data")

    def __call__(self, target: List[str]):
        before = set(glob.glob("/tmp/perf-*.map"))
        try:
            return common.run_timed(["taskset", "-c", PROFILER_CPU, "perf", "record", "-q",
                                     "-F", "999", "-g", "-o", self.data, "--"] + target)
        finally:
            for f in set(glob.glob("/tmp/perf-*.map")) - before:
                pid = f[len("/tmp/perf-"):-len(".map")]
                if pid.isdigit() and not os.path.exists("/proc/" + pid):
                    os.unlink(f)
            for f in (self.data, self.data + ".old"):
                if os.path.exists(f):
                    os.unlink(f)


def run(ctx: common.Context) -> common.Section:
    workloads = ctx.scale(WORKLOADS, ["numeric"])
    scale = ctx.scale(0.12, 0.05)
    py313 = pyenv_313()
    austin, austin_why = austin_argv()
    root_why = root_ready()
    perf_why = perf_ready()
    perf = PerfRun(ctx.out_dir)

    # (CPython, peer) -> (how it ran, {workload or EMPTY: Guarded}, why it did not run,
    #                    the peer its runs pair with)
    rows: Dict[Tuple[str, str], Tuple[str, Dict[str, common.Guarded], str, str]] = {}
    configs: Dict[str, common.Guarded] = {}
    every: Dict[str, int] = {}	# the empty runs: every third round

    def add(cpy, peer, how, target=None, extra=(), wrap=lambda argv: argv,
            runner=common.run_timed, why="", sc=scale, base=NONE):
        """A peer's runs: @target(interpreter options, workload, scale) is the pinned
        workload's argv, @wrap puts the profiler around it; its runs pair with those of
        the peer @base. Besides each workload, an empty run (SCALE 0) in every third
        round shows the tool's start-up and exit."""
        per: Dict[str, common.Guarded] = {}
        if not why:
            for w in workloads + [EMPTY]:
                key = "%s/%s/%s" % (cpy, peer, w)
                argv = wrap(target(list(extra), workloads[0], 0) if w == EMPTY
                            else target(list(extra), w, sc))
                per[w] = configs[key] = common.Guarded(lambda argv=argv: runner(argv))
                if w == EMPTY:
                    every[key] = 3
        rows[(cpy, peer)] = (how, per, why, base)

    def host(extra, w, sc):
        return ["taskset", "-c", TARGET_CPU, py313] + extra + \
            [os.path.join(common.WORKLOADS, w + ".py"), str(sc)]

    def chrooted(extra, w, sc):
        return ["taskset", "-c", TARGET_CPU, "chroot", ROOT, "python3"] + extra + \
            [ROOT_WORKLOADS + "/" + w + ".py", str(sc)]

    def pyflare(rate):
        return lambda argv: pyflare_argv(["-F", str(rate)], argv, pin=True)

    def austin_at(interval):
        """Austin must start the interpreter itself (it reads the binary it started): so
        no `taskset` before python, which moves itself to CPU 1 (WL_CPU) instead."""
        return lambda argv: ["taskset", "-c", PROFILER_CPU] + austin + \
            ["-i", interval, "-t", "5s", "-o", "/dev/null"] + unpinned(argv)

    def self_pinned(argv):
        return common.run_timed(argv, env=dict(os.environ, WL_CPU=TARGET_CPU))

    v313 = common.python_version(py313) if py313 else "3.13"
    no313 = "" if py313 else "not measured: no CPython 3.13 under /root/.pyenv/versions"
    add(v313, "no profiler", "`python3 W.py`", host, why=no313)
    for rate in (999, 9999):
        add(v313, "pyflare %d Hz" % rate, "`pyflare record --mode cpu -F %d`" % rate, host,
            wrap=pyflare(rate), why=no313)
    add(v313, "cProfile", "`python3 -m cProfile -o /dev/null`", host,
        extra=["-m", "cProfile", "-o", "/dev/null"], why=no313)
    # profile runs 10-40x slower: at a tenth of the work, against unprofiled runs of that.
    add(v313, SMALL, "", host, why=no313, sc=scale / 10)
    add(v313, "profile", "`python3 -m profile -o /dev/null`, at SCALE %g against unprofiled "
        "runs at that SCALE (it is slow)" % (scale / 10), host,
        extra=["-m", "profile", "-o", "/dev/null"], why=no313, sc=scale / 10, base=SMALL)
    for interval in ("100us", "1ms"):
        add(v313, "Austin 3.7 -i %s" % interval, "`austin -i %s -t 5s -o /dev/null`%s; "
            "python moves itself to CPU 1" % (interval, " (its default rate)"
                                                if interval == "100us" else ""), host,
            wrap=austin_at(interval), runner=self_pinned, why=no313 or austin_why)
    add(v313, "perf -F 999 -g", "`perf record -F 999 -g` of `python3 -X perf`", host,
        extra=["-X", "perf"], runner=perf, why=no313 or perf_why)

    # Debian sid's CPython 3.14 in the bench root: pyinstrument (and pyflare, no profiler).
    v314 = "3.14 (sid)"
    if not root_why:
        v314 = common.python_version("python3", root=ROOT) + " (sid)"
        os.makedirs(ROOT + ROOT_WORKLOADS, exist_ok=True)
        for f in glob.glob(os.path.join(common.WORKLOADS, "*.py")):
            shutil.copy(f, ROOT + ROOT_WORKLOADS)
    add(v314, "no profiler", "`chroot ROOT python3 W.py`", chrooted, why=root_why)
    add(v314, "pyflare 999 Hz", "`pyflare record --mode cpu -F 999 -- chroot ROOT ...`",
        chrooted, wrap=pyflare(999), why=root_why)
    add(v314, "pyinstrument 5.1", "`python3 -m pyinstrument -o /dev/null` (1 ms, its default)",
        chrooted, extra=["-m", "pyinstrument", "-o", "/dev/null"], why=root_why)
    add(v314, "Austin 3.7", "", why="not measured: Austin 3.7 does not support CPython 3.14")
    for peer, why in NOT_PACKAGED:
        add("any", peer, "", why=why)

    # Warm-up: each tool once, and each CPython's unprofiled run of each workload.
    warm = [k for k in configs if k.endswith("/" + workloads[0])] + \
        [k for k in configs if "/%s/" % NONE in k and not k.endswith("/" + workloads[0])]
    took: Dict[str, List[float]] = {}
    res = common.interleaved_budget(configs, seconds=ctx.scale(130, 18),
                                    min_rounds=2, max_rounds=ctx.scale(30, 4),
                                    every=every, warmup=warm, seed=11, took=took)
    with open(os.path.join(ctx.out_dir, "peers.json"), "w") as f:
        json.dump({"results": {k: [None if r is None else
                                   {"elapsed": r.elapsed, "wall": r.wall, "cpu": r.cpu}
                                   for r in v] for k, v in res.items()},
                   "seconds_per_run": took,
                   "errors": {k: g.error for k, g in configs.items() if g.error}}, f, indent=1)
    rounds = max((len(v) for v in res.values()), default=0)
    return common.Section("Peers side by side",
                          render(rows, res, workloads, scale, rounds), [])


def render(rows, res, workloads, scale, rounds) -> str:
    def results(cpy, peer, w):
        return [x for x in res.get("%s/%s/%s" % (cpy, peer, w), [])]

    def median_of(cpy, peer, w, attr):
        xs = [getattr(x, attr) for x in results(cpy, peer, w) if x is not None]
        return statistics.median(xs) if xs else None

    def per_round(cpy, peer, base, w, attr):
        return [getattr(x, attr) / getattr(y, attr)
                for x, y in zip(results(cpy, peer, w), results(cpy, base, w))
                if x is not None and y is not None and getattr(y, attr)]

    def table_of(attr, unit):
        out = []
        for (cpy, peer), (_, per, why, base) in rows.items():
            if peer == SMALL:
                continue
            if why:
                out.append([cpy, peer, why] + ["–"] * (len(workloads) - 1))
            elif peer == NONE:		# the absolute medians, for scale
                ms = [median_of(cpy, peer, w, attr) for w in workloads]
                out.append([cpy, peer + " (median run)"] +
                           [unit(m) if m is not None else "–" for m in ms])
            else:
                against = rows[(cpy, base)][1]
                out.append([cpy, peer] + [
                    common.fmt_ratio_guarded(per_round(cpy, peer, base, w, attr), per[w],
                                             *([against[w]] if w in against else []))
                    for w in workloads])
        return common.table(["CPython", "profiler"] + workloads, out)

    how = []
    for (cpy, peer), (h, per, why, _) in rows.items():
        if h and not why:
            m = median_of(cpy, peer, EMPTY, "cpu")
            how.append((cpy, peer, h, "%.3f s" % m if m is not None else
                        common.fmt_ratio_guarded([], per[EMPTY])))
    md = [INTRO.format(scale=scale, rounds=rounds)]
    md.append(common.table(["CPython", "profiler", "how it ran",
                            "CPU time of an empty run"], how))
    md.append("\n**Slowdown of the workload** (its own elapsed time, against no profiler on "
              "the same CPython, same round):\n\n")
    md.append(table_of("elapsed", lambda m: "%.0f ms" % (1000 * m)))
    md.append("\n**Total CPU time** (user + system of the profiled run and of the profiler "
              "process: what the machine spent, start-up and write-out included) against "
              "the unprofiled run's:\n\n")
    md.append(table_of("cpu", lambda m: "%.2f s" % m))
    md.append(OUTRO)
    return "".join(md)


INTRO = """The same workloads (SCALE {scale}) under each peer that installs here, each CPython's
peers paired with pyflare and with no profiler on the same interpreter, all in shuffled
order within each round ({rounds} rounds after a warm-up). The workload is pinned to CPU 1;
the out-of-process samplers (pyflare, Austin, perf) run on CPU 0, so their slowdown is the
cost on the target's CPU and the CPU-time table adds what they spent on the other CPU.
cProfile, profile and pyinstrument run inside the target. Austin is sid's 3.7.0 run on
the host through the bench root's loader (`scripts/bench-root.sh`); pyinstrument is sid's
`python3-pyinstrument` in that root, on sid's CPython. The last column is the CPU time
(tool and interpreter) of a run that does no work (SCALE 0): each tool's start-up and exit,
which the CPU-time table below includes.

"""

OUTRO = """
How to read: pyflare's rows are the same workload on the same CPython as the peer rows
below or above them, in the same rounds. The deterministic profilers (cProfile, profile)
pay per function call, so their cost follows the workload's call rate (`numeric` makes
almost none); they and pyinstrument hook only the thread that starts them, so in `threads`
they see (and slow) none of the 200 workers (`profile`'s tenth of the work in `threads` is
mostly starting them). The CPU-time ratio includes each tool's start-up and write-out (the
empty run's CPU time above: pyflare loading its BPF programs, perf writing and
post-processing perf.data, pyinstrument rendering), which weighs more on these short runs
than on a long one; the kernel counts CPU time by its 250 Hz tick, so a run's CPU time is
good to a few ticks (4 ms each).
"""
