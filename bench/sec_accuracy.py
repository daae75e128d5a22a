# SPDX-License-Identifier: MIT
"""sec_accuracy.py — how close each profiler's split of the time is to the truth.

The workloads (bench/workloads/accuracy.py) time every call of the functions of interest from
the inside (time.thread_time_ns for CPU time, perf_counter_ns for wall time) and write the
sums to a JSON file: that is the ground truth. Each profiler records the same workloads; a
function's reported share is its time with callees (inclusive) over the time of all the
functions of interest, and the error is |reported - true| in percentage points.

Profilers: pyflare (cpu mode, the 999 Hz timer; the scheduler tick too when this build has
--clock), pyinstrument 5.1 (Debian sid's CPython 3.14 in the bench root, wall time, main
thread only, two copies side by side) and Austin 3.7 (-i 1ms -s: CPU time, -C: children).
pyflare and Austin run pyenv's CPython 3.13 with two processes (one per CPU).
"""
import json
import os
import shutil
import subprocess
import time

import common

WORKLOAD = os.path.join(common.WORKLOADS, "accuracy.py")
PY313 = "/root/.pyenv/versions/3.13.0/bin/python3"
ROOT = "/var/cache/pyflare/bench-root"
AUSTIN = ROOT + "/opt/austin/usr/bin/austin"
LOADER = ROOT + "/lib64/ld-linux-x86-64.so.2"
ROOT_LIBS = ROOT + "/lib/x86_64-linux-gnu"
IN_ROOT = "/tmp/bench"			# where the workload goes inside the root
SPLIT = ["split_50", "split_25", "split_15", "split_10"]
DESIGN = {"split_50": 50.0, "split_25": 25.0, "split_15": 15.0, "split_10": 10.0}
GOAL_PP = 1.0
GOAL_SAMPLES = 10000
DEPTH = 128
BOTTOM = ("<module>", "accuracy.py")	# the outermost frame of the workload's stacks
ABOVE = ["<module>", "main", "run_deep", "timed"]	# the frames above descend's


class Unavailable(Exception):
    """This profiler cannot run here: the row says why."""


# ---- what a profiler reported, as weighted stacks -----------------------------------------
# (stack, weight, samples): a stack is a tuple of (name, file basename) from the root, a
# marker (where a profiler could not walk to the bottom) is (name, None); weight is the time
# the profiler gives the stack (samples for pyflare, µs for Austin, seconds for pyinstrument)
# and samples how many samples it stands for.

def base(path):
    return os.path.basename(path or "")


def pyflare_stacks(path):
    with open(path) as f:
        d = json.load(f)
    # <truncated> and <unreadable> end a stack walked short; <unknown> is a frame whose code
    # could not be read, in a stack walked whole
    frames = [((fr["name"], None) if fr.get("kind") in ("truncated", "unreadable")
               else (fr["name"], base(fr.get("file")) or "?")) for fr in d["frames"]]
    out = []
    for proc in d["processes"]:
        for th in proc["threads"]:
            nodes = th["nodes"]
            child_samples = [0] * len(nodes)
            for n in nodes:
                if n["parent"] >= 0:
                    child_samples[n["parent"]] += n["samples"]
            paths = []
            for i, n in enumerate(nodes):	# parents come before their children
                paths.append((paths[n["parent"]] if n["parent"] >= 0 else ()) + (frames[n["frame"]],))
                own = n["samples"] - child_samples[i]
                if own > 0:
                    out.append((paths[i], own, own))
    return out, d.get("health", {})


def pyinstrument_stacks(path, interval=0.001):
    """Self times from pyinstrument's JSON tree; '[self]' rows and C functions ('<built-in>')
    are not frames of a Python stack. The tree has times only: a sample is one interval."""
    with open(path) as f:
        d = json.load(f)
    out = []

    def walk(fr, prefix):
        name, file = fr["function"], fr.get("file_path", "")
        python = not name.startswith("[") and file != "<built-in>"
        here = prefix + ((name, base(file)),) if python else prefix
        kids = fr.get("children", [])
        own = fr["time"] - sum(k["time"] for k in kids)
        if own > 0 and here:
            out.append((here, own, own / interval))
        for k in kids:
            walk(k, here)
    if d.get("root_frame"):
        walk(d["root_frame"], ())
    return out, {"samples": d.get("sample_count", 0)}


def austin_stacks(path):
    """Austin's collapsed stacks: one line per sample, 'P<pid>;T<iid>:<tid>;file:func:line;...
    <µs>'; a sample it could not read is ':INVALID:'."""
    out, n = [], 0
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("P"):
                continue
            stack, _, metric = line.rstrip("\n").rpartition(" ")
            parts = stack.split(";")[2:]
            if not parts:
                continue
            n += 1
            frames = []
            for p in parts:
                if p == ":INVALID:":
                    frames.append(("INVALID", None))
                    continue
                file, func, _line = p.rsplit(":", 2) if p.count(":") >= 2 else ("", p, "")
                frames.append((func, base(file)))
            try:
                out.append((tuple(frames), int(metric), 1))
            except ValueError:
                pass
    return out, {"samples": n}


# ---- the profilers -------------------------------------------------------------------------

def workload_args(kind, seconds, truth, extra):
    return [kind, "%g" % seconds, truth] + extra


def run_pyflare(ctx, kind, seconds, extra, clock=None):
    tag = "accuracy-pyflare%s-%s" % ("-" + clock if clock else "", kind)
    return run_on_host(ctx, tag, kind, seconds, extra, ".json", pyflare_stacks, lambda out: [
        common.PYFLARE, "record", "-q", "--mode", "cpu"] +
        (["--clock", clock] if clock else ["-F", "999"]) + ["-o", out, "--"])


def run_austin(ctx, kind, seconds, extra):
    for path in (LOADER, AUSTIN, PY313):
        if not os.path.exists(path):
            raise Unavailable("%s is missing (scripts/bench-root.sh builds the root)" % path)
    return run_on_host(ctx, "accuracy-austin-" + kind, kind, seconds, extra, ".austin",
                       austin_stacks, lambda out: [LOADER, "--library-path", ROOT_LIBS, AUSTIN,
                                                   "-i", "1ms", "-s", "-C", "-o", out,
                                                   # on a busy machine the interpreter takes
                                                   # longer than the default 100 ms to look
                                                   # like one: "Not a Python process"
                                                   "-t", "1s"])


def run_on_host(ctx, tag, kind, seconds, extra, ext, parse, profiler):
    """Runs the workload on pyenv's 3.13 under profiler(output path) + its command."""
    out = os.path.join(ctx.out_dir, tag + ext)
    truth = os.path.join(ctx.out_dir, tag + ".truth.json")
    argv = profiler(out) + [PY313, WORKLOAD] + workload_args(kind, seconds, truth, extra)
    proc = run_logged(argv, os.path.join(ctx.out_dir, tag + ".log"))
    if proc.returncode != 0 or not os.path.exists(out):
        raise Unavailable("%s exited with %d: see build/bench/%s.log" % (
            tag.split("-")[1], proc.returncode, tag))
    stacks, health = parse(out)
    return stacks, health, load_truth(truth)


def run_pyinstrument(ctx, kind, seconds, extra):
    """Two copies side by side (pyinstrument does not follow child processes)."""
    if not os.path.exists(os.path.join(ROOT, "usr/bin/python3")):
        raise Unavailable("no bench root at %s (scripts/bench-root.sh builds it)" % ROOT)
    inside = ROOT + IN_ROOT
    os.makedirs(inside, exist_ok=True)
    shutil.copy(WORKLOAD, inside)
    copies = 1 if kind == "native" else 2
    extra = [a for a in extra]
    if "--procs" in extra:
        i = extra.index("--procs")
        del extra[i:i + 2]
    tag = "accuracy-pyinstrument-%s" % kind
    procs = []
    for k in range(copies):
        argv = ["chroot", ROOT, "python3", "-m", "pyinstrument", "-r", "json",
                "-p", "processor_options.filter_threshold=0",
                "-o", "%s/%s.%d.json" % (IN_ROOT, tag, k), "%s/accuracy.py" % IN_ROOT] + \
            workload_args(kind, seconds, "%s/%s.%d.truth.json" % (IN_ROOT, tag, k), extra)
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(
            os.path.join(ctx.out_dir, "%s.%d.log" % (tag, k)), "w")))
    stacks, samples, truth = [], 0, {"cpu_ns": {}, "wall_ns": {}}
    for k, p in enumerate(procs):
        p.wait()
        out = "%s/%s.%d.json" % (inside, tag, k)
        if p.returncode != 0 or not os.path.exists(out):
            raise Unavailable("pyinstrument exited with %d: see build/bench/%s.%d.log" % (
                p.returncode, tag, k))
        shutil.copy(out, ctx.out_dir)
        s, h = pyinstrument_stacks(out)
        stacks += s
        samples += h["samples"]
        t = load_truth("%s/%s.%d.truth.json" % (inside, tag, k))
        for key in ("cpu_ns", "wall_ns"):
            for name, ns in t[key].items():
                truth[key][name] = truth[key].get(name, 0) + ns
        truth.update({k2: v for k2, v in t.items() if k2 not in ("cpu_ns", "wall_ns")})
    return stacks, {"samples": samples}, truth


def run_logged(argv, log):
    with open(log, "w") as f:
        return subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT)


def load_truth(path):
    with open(path) as f:
        return json.load(f)


# ---- measures --------------------------------------------------------------------------------

def inclusive(stacks, names):
    """{name: weight of the stacks holding it} for each function in @names."""
    out = dict.fromkeys(names, 0)
    for stack, w, _n in stacks:
        for name in set(fr[0] for fr in stack if fr[1] is not None) & set(names):
            out[name] += w
    return out


def shares(weights):
    total = sum(weights.values())
    return {k: (100.0 * v / total if total else float("nan")) for k, v in weights.items()}


def compare(stacks, truth, names, clock):
    """{name: (reported %, true %)} over @names."""
    rep = shares(inclusive(stacks, names))
    tru = shares({n: truth[clock].get(n, 0) for n in names})
    return {n: (rep[n], tru[n]) for n in names}


def max_error(cmp):
    return max(abs(r - t) for r, t in cmp.values())


def completeness(stacks, depth):
    """(complete, considered): stacks whose innermost Python frame is descend, or that hold a
    marker, are considered, but for those taken on the way down (a whole stack, shorter);
    complete ones start at the workload's <module> and hold @depth frames from it."""
    complete = considered = 0
    for stack, _w, w in stacks:
        marker = any(fr[1] is None for fr in stack)
        py = [fr for fr in stack if fr[1] is not None]
        if not marker and not (py and py[-1][0] == "descend"):
            continue
        i = py.index(BOTTOM) if BOTTOM in py else -1
        if not marker and i >= 0 and len(py) - i < depth and \
                [fr[0] for fr in py[i:i + len(ABOVE)]] == ABOVE and \
                all(fr[0] == "descend" for fr in py[i + len(ABOVE):]):
            continue
        considered += w
        if not marker and i >= 0 and len(py) - i == depth:
            complete += w
    return int(round(complete)), int(round(considered))


# ---- the section -----------------------------------------------------------------------------

def profilers(ctx):
    """[(name, the truth it is compared with, run(kind, seconds, extra))], and why the tick
    clock is not among them (None when it is)."""
    out = [("pyflare", "cpu_ns", lambda k, s, e: run_pyflare(ctx, k, s, e))]
    tick = "not measured: this build has no --clock tick"
    if common.record_has_option("--clock"):
        out.append(("pyflare (tick)", "cpu_ns",
                    lambda k, s, e: run_pyflare(ctx, k, s, e, "tick")))
        tick = None
    out.append(("pyinstrument", "wall_ns", lambda k, s, e: run_pyinstrument(ctx, k, s, e)))
    out.append(("Austin", "cpu_ns", lambda k, s, e: run_austin(ctx, k, s, e)))
    return out, tick


def run(ctx):
    points = ctx.scale([5, 25, 50, 75, 95], [5, 50, 95])
    split_s = ctx.scale(5.5, 1.0)		# CPU seconds per process: 2 x 5.5 x 999 = 11 000
    tick_split_s = ctx.scale(10.5, 1.0)	# half the samples at the tick's 250 Hz
    runs = [("split", split_s, ["--procs", "2"]),
            ("bias", ctx.scale(2.0, 0.4) * len(points),
             ["--procs", "2", "--points", ",".join(str(p) for p in points)]),
            ("native", ctx.scale(5.0, 0.8), ["--procs", "1"]),
            ("deep", ctx.scale(4.0, 0.8), ["--procs", "2", "--depth", str(DEPTH)])]
    profs, tick_note = profilers(ctx)
    results = {}
    for name, clock, fn in profs:
        for kind, seconds, extra in runs:
            if kind == "split" and name == "pyflare (tick)":
                seconds = tick_split_s
            t0 = time.monotonic()
            try:
                stacks, health, truth = fn(kind, seconds, extra)
            except (Unavailable, OSError, ValueError, KeyError) as e:
                results[(name, "error")] = str(e)
                break
            results[(name, kind)] = measure(kind, stacks, health, truth, clock, points)
            results[(name, kind)]["seconds"] = time.monotonic() - t0
    names = [p[0] for p in profs]
    with open(os.path.join(ctx.out_dir, "accuracy.json"), "w") as f:
        json.dump({"%s/%s" % k: v for k, v in results.items()}, f, indent=1, default=str)
    md = markdown(ctx, names, results, tick_note, points, split_s, tick_split_s)
    return common.Section("Accuracy", md, goals(results))


def measure(kind, stacks, health, truth, clock, points):
    r = {"health": health}
    if kind == "split":
        r["cmp"] = compare(stacks, truth, SPLIT, clock)
        r["samples"] = sample_count(stacks, SPLIT)
    elif kind == "bias":
        r["points"] = {}
        for p in points:
            pair = ["called_%02d" % p, "inlined_%02d" % p]
            r["points"][p] = compare(stacks, truth, pair, clock)[pair[0]]
        r["samples"] = sample_count(stacks, [n for p in points for n in
                                             ("called_%02d" % p, "inlined_%02d" % p)])
    elif kind == "native":
        r["cmp"] = compare(stacks, truth, ["hash_native", "py_work"], clock)
        r["samples"] = sample_count(stacks, ["hash_native", "py_work"])
    elif kind == "deep":
        r["complete"], r["considered"] = completeness(stacks, truth.get("depth", DEPTH))
    return r


def sample_count(stacks, names):
    """Samples holding one of @names."""
    want = set(names)
    return int(round(sum(n for s, _w, n in stacks if any(fr[0] in want for fr in s))))


def fmt(x):
    return "%.1f" % x


def markdown(ctx, names, results, tick_note, points, split_s, tick_split_s):
    md = [INTRO.format(split=split_s, depth=DEPTH,
                       points=", ".join("%d" % p for p in points),
                       bias_s=ctx.scale(2.0, 0.4))]
    if not tick_note:
        md.append(TICK_INTRO.format(split=tick_split_s))
    if tick_note:
        md.append("\n*pyflare (tick): %s.*\n" % tick_note)
    for n in names:
        if (n, "error") in results:
            md.append("\n*%s: not measured: %s.*\n" % (n, results[(n, "error")]))
    ok = [n for n in names if (n, "split") in results]
    # summary
    md.append("\n### Largest error per workload\n\n")
    rows = []
    for n in ok:
        s = results[(n, "split")]
        b = results.get((n, "bias"))
        nat = results.get((n, "native"))
        d = results.get((n, "deep"))
        rows.append((n, "**%.2f pp** (%d samples)" % (max_error(s["cmp"]), s["samples"]),
                     "%.2f pp" % max(abs(r - t) for r, t in b["points"].values()) if b else "",
                     ("%.2f pp" % max_error(nat["cmp"]) + (" (main thread only)" if n == "pyinstrument" else ""))
                     if nat else "",
                     ("%.2f%% of %d" % (100.0 * d["complete"] / d["considered"], d["considered"])
                      if d and d["considered"] else "")))
    md.append(common.table(["profiler", "(a) 4 functions", "(b) function bias",
                            "(c) native + Python", "(d) complete stacks at %d frames" % DEPTH],
                           rows))
    md.append(SUMMARY_NOTES)
    # split detail
    md.append("\n### (a) Four functions, 50/25/15/10: reported % (true %)\n\n")
    md.append(detail_table(results, ok, "split", SPLIT))
    md.append(disturbed(results, ok))
    # bias curve
    bias_ok = [n for n in ok if (n, "bias") in results]
    if bias_ok:
        md.append("\n### (b) Function bias: the share of `called_P` (with its helper calls), "
                  "reported % (true %)\n\n")
        rows = []
        for p in points:
            row = ["%d %%" % p]
            for n in bias_ok:
                rep, tru = results[(n, "bias")]["points"][p]
                row.append("%s (%s)" % (fmt(rep), fmt(tru)))
            rows.append(row)
        rows.append(["samples"] + ["%d" % results[(n, "bias")]["samples"] for n in bias_ok])
        md.append(common.table(["target"] + bias_ok, rows))
        md.append(BIAS_NOTES)
    nat_ok = [n for n in ok if (n, "native") in results]
    if nat_ok:
        md.append("\n### (c) GIL-releasing C code beside Python: reported % (true %)\n\n")
        md.append(detail_table(results, nat_ok, "native", ["hash_native", "py_work"]))
        md.append(NATIVE_NOTES)
    deep_ok = [n for n in ok if (n, "deep") in results]
    if deep_ok:
        md.append("\n### (d) Stack completeness at %d frames\n\n" % DEPTH)
        rows = []
        for n in deep_ok:
            d = results[(n, "deep")]
            h = d["health"]
            flags = ("%d truncated, %d unreadable (whole run)" % (h.get("truncated", 0),
                                                                  h.get("unreadable", 0))
                     if "truncated" in h else "")
            rows.append((n, "%d" % d["complete"], "%d" % d["considered"],
                         "%.2f%%" % (100.0 * d["complete"] / d["considered"])
                         if d["considered"] else "", flags))
        md.append(common.table(["profiler", "complete", "considered", "share", "flags"], rows))
        md.append(DEEP_NOTES.format(depth=DEPTH))
    return "".join(md)


def detail_table(results, names, kind, functions):
    """A row per function, a column per profiler: 'reported (true)'."""
    rows = []
    for fn in functions:
        rows.append(["`%s`" % fn] + ["%s (%s)" % tuple(fmt(x) for x in results[(n, kind)]["cmp"][fn])
                                     for n in names])
    return common.table(["function"] + names, rows)


def disturbed(results, names):
    """A note for runs whose ground truth itself left the designed split (the slices are
    timed by the CPU clock, so only a disturbed run does): what to make of their error."""
    notes = []
    for n in names:
        off = max(abs(t - DESIGN[fn]) for fn, (_r, t) in results[(n, "split")]["cmp"].items())
        if off > 1.0:
            notes.append("%s's run (%.1f pp off)" % (n, off))
    if not notes:
        return ""
    return ("\nThe ground truth itself left the designed 50/25/15/10 in %s: the slices are cut "
            "by the thread's CPU clock, so the measured split drifts only when a run is "
            "disturbed (wall time: the workload waiting for a CPU on a shared machine; CPU "
            "time: time charged to it that no sample saw). The error is against the measured "
            "truth either way.\n" % ", ".join(notes))


def goals(results):
    s = results.get(("pyflare", "split"))
    goal = "Attribution error ≤ 1 percentage point with 10 000 samples"
    if not s:
        return [common.Goal(goal, "not measured (%s)" % results.get(("pyflare", "error"), "no run"),
                            None)]
    err = max_error(s["cmp"])
    text = "%.2f pp with %d samples (4 functions, 50/25/15/10)" % (err, s["samples"])
    if s["samples"] < GOAL_SAMPLES:
        return [common.Goal(goal, "not measured (fewer than 10 000 samples): " + text, None)]
    return [common.Goal(goal, text, err <= GOAL_PP)]


INTRO = """\
Workloads whose split of the time is known (`bench/workloads/accuracy.py`): each function
of interest is timed around every call from the inside, with `time.thread_time_ns` (CPU time)
and `time.perf_counter_ns` (wall time), and the sums are the ground truth. A profiler's share
of a function is its time with callees over the time of all the functions of interest; the
error is |reported − true| in percentage points (pp), against the CPU-time truth for
pyflare (cpu mode) and Austin (`-s`: CPU time) and the wall-time truth for pyinstrument
(it measures wall time).

- **(a)** four functions taking 50/25/15/10 % of the CPU, interleaved in slices of
  2/1/0.6/0.4 ms, until each of two processes used {split:g} CPU seconds;
- **(b)** Scalene's function-bias test: `called_P` calls a helper in its loop, `inlined_P`
  computes the same with the helper inlined, run so that `called_P` takes about P % of the
  time, for P = {points} ({bias_s:g} s each, two processes);
- **(c)** `hash_native` (sha256 over 16 MiB buffers: C code that releases the GIL) in a
  thread beside `py_work` (pure Python) in the main thread, one process;
- **(d)** two processes spinning at the bottom of a {depth}-frame Python stack.

pyflare records in cpu mode at 999 Hz (`-F 999`, the default timer) and Austin with
`-i 1ms -s -C -t 1s` on pyenv's CPython 3.13, two processes side by side (one per CPU).
pyinstrument 5.1 runs on Debian sid's CPython 3.14 in the bench root (`chroot ROOT python3
-m pyinstrument -r json`, 1 ms interval), two copies side by side, as it does not follow
child processes.
"""

TICK_INTRO = """
*pyflare (tick)* samples on the scheduler tick (`--clock tick`, the kernel's HZ=250): (a)
runs until each process used {split:g} CPU seconds there, for as many samples.
"""

SUMMARY_NOTES = """
Samples are those inside the four functions (for pyinstrument, whose JSON has times only,
their time over its 1 ms interval).
"""

BIAS_NOTES = """
A profiler that samples at intervals of time sits on the diagonal; one that pays or samples
per call reports `called_P` too high (Scalene's paper saw 80 % reported for 25 % true).
"""

NATIVE_NOTES = """
The hashing thread runs C code with the GIL released, on the other CPU: an on-CPU sampler
must charge that time to the Python function that called it. pyinstrument profiles only
the thread it was started in, so it cannot see `hash_native`.
"""

DEEP_NOTES = """
*Considered*: samples whose innermost Python frame is the spinning `descend` (but for the
few taken on the way down, whole and shorter), plus those a profiler marked as cut short
(pyflare's `<truncated>`/`<unreadable>`, Austin's `INVALID`).
*Complete*: those whose stack reaches the workload's `<module>` with all {depth} frames.
*Flags* are pyflare's health counters for the whole run, start-up included.
"""
