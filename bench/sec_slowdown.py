# SPDX-License-Identifier: MIT
"""sec_slowdown.py — Slowdown of the profiled program.

Every workload of bench/workloads/ runs without a profiler (twice: the A/A control), under
pyflare at 99, 999 and 9999 Hz (cpu mode, timer clock), under the empty-program floor at
the same rates (PYFLARE_BENCH_STAGE=empty: the timer interrupt and an at-once return), and
under --clock tick (and its floor) when this build has it. All of them, every workload
included, run in shuffled order within each round; a slowdown is the per-round ratio of a
config's run to the unprofiled run of the same round.
"""
import json
import os
import statistics
import subprocess
from typing import Dict, List, Optional

import common

CPU_WORKLOADS = ["numeric", "objects", "templating", "jsonrt", "regex", "recursion", "threads"]
RATES = [99, 999, 9999]
TARGET_CPU, PROFILER_CPU = "1", "0"


def pyflare_argv(sampling: List[str], target: List[str], pin: bool) -> List[str]:
    """pyflare recording @target in cpu mode, on CPU 0 when @pin (the target pins itself)."""
    argv = [common.PYFLARE, "record", "--mode", "cpu"] + sampling + \
        ["-q", "-o", "/dev/null", "--"] + target
    return (["taskset", "-c", PROFILER_CPU] + argv) if pin else argv


def profiler_configs(tick: bool) -> Dict[str, Optional[tuple]]:
    """Config name -> (pyflare's sampling options, PYFLARE_BENCH_STAGE), None for no profiler."""
    cfgs: Dict[str, Optional[tuple]] = {"none": None, "none2": None}
    for r in RATES:
        cfgs["pf%d" % r] = (["-F", str(r)], None)
        cfgs["floor%d" % r] = (["-F", str(r)], "empty")
    if tick:
        cfgs["tick"] = (["--clock", "tick"], None)
        cfgs["tickfloor"] = (["--clock", "tick"], "empty")
    return cfgs


def env_with(stage: Optional[str]) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("PYFLARE_BENCH_STAGE", None)
    if stage:
        env["PYFLARE_BENCH_STAGE"] = stage
    return env


def cpu_run(workload: str, scale: float, prof: Optional[tuple]):
    target = ["taskset", "-c", TARGET_CPU, common.HOST_PYTHON,
              os.path.join(common.WORKLOADS, workload + ".py"), str(scale)]

    def run():
        if prof is None:
            return common.run_timed(target).elapsed
        return common.run_timed(pyflare_argv(prof[0], target, pin=True),
                                env=env_with(prof[1])).elapsed
    return run


def http_run(scale: float, prof: Optional[tuple]):
    """The server, under @prof or not (both unpinned), loaded by httpload.py; returns the
    client's {p50, p99, rps}."""
    server = [common.HOST_PYTHON, os.path.join(common.WORKLOADS, "httpserver.py")]

    def run():
        argv = server if prof is None else pyflare_argv(prof[0], server, pin=False)
        srv = subprocess.Popen(argv, env=env_with(None if prof is None else prof[1]),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True)
        try:
            line = srv.stdout.readline().split()
            if len(line) != 2 or line[0] != "port":
                raise common.RunFailed("the server did not start: %s"
                                       % common.last_words(srv.stderr.read()))
            load = common.run_timed([common.HOST_PYTHON,
                                     os.path.join(common.WORKLOADS, "httpload.py"), str(scale),
                                     "--port", line[1], "--quit"])
            if srv.wait(timeout=60) != 0:
                raise common.RunFailed("the server's run failed: %s"
                                       % common.last_words(srv.stderr.read()))
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
            srv.stdout.close()
            srv.stderr.close()
        vals = dict(ln.split() for ln in load.stdout.splitlines() if len(ln.split()) == 2)
        return {"p50": float(vals["p50_ms"]), "p99": float(vals["p99_ms"]),
                "rps": float(vals["rps"])}
    return run


def run(ctx: common.Context) -> common.Section:
    tick = common.has_tick_clock()
    cfgs = profiler_configs(tick)
    workloads = ctx.scale(CPU_WORKLOADS, ["numeric", "threads"])
    scale = ctx.scale(0.15, 0.04)		# ~0.2 s of work per run (~0.06 s quick)
    http_scale = ctx.scale(0.5, 0.1)		# 1000 requests (200 quick)
    version = common.python_version(common.HOST_PYTHON)

    configs = {}
    for w in workloads:
        for c, prof in cfgs.items():
            configs[w + "/" + c] = common.Guarded(cpu_run(w, scale, prof))
    for c, prof in cfgs.items():
        configs["http/" + c] = common.Guarded(http_run(http_scale, prof))
    # Warm-up: each workload once, and pyflare (its binary, the BPF object) once.
    warm = [w + "/none" for w in workloads] + ["http/none", workloads[0] + "/pf999"]
    took: Dict[str, List[float]] = {}
    res = common.interleaved_budget(configs, seconds=ctx.scale(140, 24),
                                    min_rounds=ctx.scale(3, 2), max_rounds=ctx.scale(40, 6),
                                    warmup=warm, seed=6, took=took)
    with open(os.path.join(ctx.out_dir, "slowdown.json"), "w") as f:
        json.dump({"results": res, "seconds_per_run": took,
                   "errors": {k: g.error for k, g in configs.items() if g.error}}, f, indent=1)
    rounds = len(res["http/none"])

    def by_round(w, a, b="none"):
        """Per-round ratios of config @a to @b of workload @w, None where either is missing."""
        return [x / y if x is not None and y else None
                for x, y in zip(res[w + "/" + a], res[w + "/" + b])]

    def ratios(w, a, b="none"):
        return [x for x in by_round(w, a, b) if x is not None]

    def cell(xs, *keys):
        return common.fmt_ratio_guarded(xs, *(configs[k] for k in keys))

    def pooled(a, b="none"):
        return [x for w in workloads for x in ratios(w, a, b)]

    names = ["pf%d" % r for r in RATES] + (["tick"] if tick else [])
    floors = ["floor%d" % r for r in RATES] + (["tickfloor"] if tick else [])
    heads = ["%d Hz" % r for r in RATES] + (["tick"] if tick else [])

    def slow_table(cols, against=None):
        rows = []
        for w in workloads:
            first = [w]
            if against is None:
                base = [x for x in res[w + "/none"] if x is not None]
                first += ["%.0f ms" % (1000 * statistics.median(base)) if base else "–",
                          cell(ratios(w, "none2"), w + "/none", w + "/none2")]
            cells = []
            for i, c in enumerate(cols):
                b = "none" if against is None else against[i]
                cells.append(cell(ratios(w, c, b), w + "/" + c, w + "/" + b))
            rows.append(first + cells)
        pool = ["**all pooled**"] + (["", cell(pooled("none2"))] if against is None else [])
        pool += [cell(pooled(c, "none" if against is None else against[i]))
                 for i, c in enumerate(cols)]
        rows.append(pool)
        return rows

    md = [INTRO.format(python=version, rounds=rounds, scale=scale,
                       tick="" if tick else TICK_MISSING)]
    md.append("**Slowdown against no profiler** (pyflare, cpu mode):\n\n")
    md.append(common.table(["workload", "unprofiled run", "A/A"] + heads,
                           slow_table(names)))
    md.append("\n**The empty-program floor** (the timer interrupt alone) against no "
              "profiler:\n\n")
    md.append(common.table(["workload"] + heads, slow_table(floors, ["none"] * len(floors))))
    md.append("\n**Above the floor**: pyflare's run against the empty program's run at the "
              "same rate, same round (= the slowdown over the floor's slowdown):\n\n")
    md.append(common.table(["workload"] + heads, slow_table(names, floors)))

    # HTTP: latency and throughput, both CPUs.
    def metric(c, key, invert=False):
        a, b = res["http/" + c], res["http/none"]
        xs = [(y[key] / x[key] if invert else x[key] / y[key])
              for x, y in zip(a, b) if x is not None and y is not None and y[key] and x[key]]
        return cell(xs, "http/" + c, "http/none")
    base = [x for x in res["http/none"] if x is not None]
    md.append(HTTP_INTRO.format(
        requests=max(8, int(2000 * http_scale)),
        p50=statistics.median(x["p50"] for x in base) if base else float("nan"),
        p99=statistics.median(x["p99"] for x in base) if base else float("nan"),
        rps=statistics.median(x["rps"] for x in base) if base else float("nan")))
    label = {"none2": "none again (A/A)", "tick": "pyflare --clock tick",
             "tickfloor": "floor, --clock tick"}
    for r in RATES:
        label["pf%d" % r], label["floor%d" % r] = "pyflare %d Hz" % r, "floor %d Hz" % r
    hrows = [[label[c], metric(c, "p50"), metric(c, "p99"), metric(c, "rps", invert=True)]
             for c in ["none2"] + names + floors]
    md.append(common.table(["config", "p50 latency", "p99 latency", "throughput (none / config)"],
                           hrows))

    goals = goals_of(workloads, tick, pooled, ratios, by_round, configs)
    return common.Section("Slowdown of the profiled program", "".join(md), goals)


def goals_of(workloads, tick, pooled, ratios, by_round, configs) -> List[common.Goal]:
    """The goals this section measures. Each is met when the upper end of the 95% interval
    of its end-to-end ratio is within the bound: noise does not pass for a result."""
    def judged(goal, text, xs, bound):
        if not xs:
            return common.Goal(goal, "not measured: no runs", None)
        return common.Goal(goal, text % common.fmt_ratio(xs), common.median_ci(xs)[2] <= bound)

    goals = [judged("Above the empty-program floor at 999 Hz: <=0.5% (end to end: within 1%)",
                    "all workloads pooled, end to end: %s (the 0.5%% is judged by the kernel's "
                    "accounting, in its section)", pooled("pf999", "floor999"), 1.01)]
    at = pooled("pf9999")
    per = {w: common.median_ci(ratios(w, "pf9999"))[0] for w in workloads if ratios(w, "pf9999")}
    worst = max(per, key=per.get) if per else None
    goals.append(judged("Slowdown <=3% at 9999 Hz",
                        "all workloads pooled: %%s; worst workload %s %.3fx"
                        % (worst, per[worst]) if per else "%s", at, 1.03))
    if "threads" in workloads and "numeric" in workloads:
        flat = {}
        for r in (999, 9999):
            t, n = by_round("threads", "pf%d" % r), by_round("numeric", "pf%d" % r)
            flat[r] = [a / b for a, b in zip(t, n) if a is not None and b]
        goals.append(judged(
            "Flat in the number of threads: 200 threads cost what 1 does (end to end: within 1%)",
            "slowdown(200 threads) / slowdown(1 thread, same work): %%s at 999 Hz, %s at "
            "9999 Hz" % (common.fmt_ratio(flat[9999]) if flat[9999] else "–"),
            flat[999], 1.01))
    if not tick:
        goals.append(common.Goal("Tick mode within 0.5% of no profiler",
                                 "not measured: this build has no --clock tick", None))
    elif not pooled("tick"):
        g = configs[workloads[0] + "/tick"]
        goals.append(common.Goal("Tick mode within 0.5% of no profiler",
                                 "not measured: %s" % (g.error or "no runs"), None))
    else:
        goals.append(judged("Tick mode within 0.5% of no profiler",
                            "all workloads pooled: %s", pooled("tick"), 1.005))
    return goals


INTRO = """Each workload of `bench/workloads/` (CPython {python}; pure Python, a fixed amount
of work that the workload times itself, so start-up and attaching are not in it; SCALE
{scale}: the unprofiled time is in the first table) ran without a profiler twice (the
second run is the A/A control: its spread is this machine's noise); under `pyflare record
--mode cpu -F RATE` at 99, 999 and 9999 Hz; under the *empty-program floor* at the same
rates (`PYFLARE_BENCH_STAGE=empty`: the same timer interrupt, but the BPF program returns
at once); and under `--clock tick` with its floor{tick}. Every run of every workload was
shuffled within each round ({rounds} rounds after a warm-up). The workload ran pinned to
CPU 1 and pyflare to CPU 0 (`taskset`), so a slowdown is the cost on the target's CPU; the
200 threads are pinned to CPU 1 too (they share the GIL anyway), so they compare with
`numeric`, which does the same work on one thread.

Each cell is the median over the rounds of the per-round ratio (the config's run / the
unprofiled run of the same round) with its bootstrap 95% interval; "all pooled" pools the
ratios of every workload. A difference smaller than the A/A interval's width is noise. A
goal counts as met only when the upper end of its 95% interval is within the bound.

"""

TICK_MISSING = " (not measured: this build has no `--clock tick`)"

HTTP_INTRO = """
**HTTP** (`httpserver.py`: stdlib `ThreadingHTTPServer`, keep-alive, each request renders a
small page and a JSON document): `httpload.py` sends {requests} requests over 8 connections
from a separate, unprofiled process; pyflare targets only the server. Server, client and
pyflare share both CPUs (no pinning). Unprofiled medians: p50 {p50:.2f} ms, p99 {p99:.2f} ms,
{rps:.0f} requests/s. Ratios as above (throughput: unprofiled / profiled, so above 1 is a
loss):

"""
