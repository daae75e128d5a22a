# SPDX-License-Identifier: MIT
"""--clock tick: sampling at the scheduler tick, on the real kernel, under every interpreter
(workloads/split.py: heavy and light, 75/25 by CPU time, then a nap).

The tick fires every 1/HZ seconds on a busy CPU, so a thread that computes for S CPU-seconds
is sampled about S * HZ times, each sample weighing 1/HZ: the counts, the weights and the
shares are all checked, and the clock and its rate are where the rate always shows.
"""
import gzip
import json
import os
import re

import pytest

from conftest import skip_or_fail
from pyflare_run import run_pyflare

TICK = ("--clock", "tick")
SHARE_TOLERANCE = 0.04  # contiguous phases: a tick or two at each end, not sampling noise
# Samples per CPU-second against HZ: fewer means ticks missed; more, up to this, is the
# machine's (the VM's stolen time, neighbours' interrupts: every clock samples wall-clock
# periods of a CPU, and thread_time leaves those out)
RATE_UNDER, RATE_OVER = 0.15, 0.25


@pytest.fixture(scope="session")
def hz():
    """The kernel's CONFIG_HZ, read as pyflare should read it."""
    for path in ("/proc/config.gz", "/boot/config-" + os.uname().release):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_HZ="):
                        return int(line.split("=")[1])
        except OSError:
            continue
    skip_or_fail("the kernel's CONFIG_HZ cannot be read")


def tick_case(workload, placed, *opts):
    """split.py recorded at the tick, and its json tree (which counts samples per node)."""
    path = placed.host("split-tick%s.json" % "".join(opts))
    case = workload("split", opts=TICK + opts + ("-o", path))
    with open(path) as f:
        return case, json.load(f)


def samples_in(doc, name, file):
    """Samples of the json tree's nodes of frame @name in @file (a frame that never nests)."""
    frames = {i for i, fr in enumerate(doc["frames"])
              if fr["name"] == name and fr.get("file") == file}
    return sum(node["samples"] for p in doc["processes"] for t in p["threads"]
               for node in t["nodes"] if node["frame"] in frames)


def check_split(case):
    """heavy and light share their on-CPU time 75/25 (wall mode's waits left out)."""
    on_cpu = case.rec.without(lambda f: f.name.startswith("["))
    shares = case.expect["cpu_shares"]
    times = {key: on_cpu.inclusive(case.frame(key)) for key in shares}
    for key, want in shares.items():
        got = times[key] / sum(times.values()) if times[key] else 0.0
        assert abs(got - want) <= SHARE_TOLERANCE, "%s on %s: share %.3f, want %.2f ± %.2f\n%s" % (
            key, case.interp.id, got, want, SHARE_TOLERANCE, case.rec.describe())


def test_tick_shares(workload, placed):
    case, _ = tick_case(workload, placed)
    check_split(case)


def test_tick_rate_is_the_kernels(workload, placed, hz):
    """Samples per CPU-second of the workload close to HZ, each weighing 1/HZ."""
    case, doc = tick_case(workload, placed)
    name = case.name(case.expect["frames"]["main"])
    count = samples_in(doc, name, case.file)
    seconds = case.expect["cpu_seconds"]
    assert (1 - RATE_UNDER) * hz <= count / seconds <= (1 + RATE_OVER) * hz, (
        "%s: %d samples in %.2f CPU-seconds = %.0f/s, want HZ=%d -%.0f%% +%.0f%%\n%s" % (
            case.interp.id, count, seconds, count / seconds, hz, 100 * RATE_UNDER,
            100 * RATE_OVER, case.rec.describe()))
    # one sample stands for one tick period
    weight = case.rec.inclusive(case.frame("main"))
    assert abs(weight - count / hz) < 1e-6, (weight, count, hz)
    meta = doc["meta"]
    assert (meta["clock"], meta["rate_hz"]) == ("tick", hz), meta
    with open(case.result.output) as f:
        meta = json.load(f)["pyflare"]  # the speedscope file's
    assert (meta["clock"], meta["rate_hz"]) == ("tick", hz), meta


def test_tick_wall_mode_sees_the_nap(workload, placed):
    """Wall mode's waits come from the scheduler, whatever the clock of the on-CPU samples."""
    case, doc = tick_case(workload, placed, "--mode", "wall")
    nap = case.frame("nap")
    slept = sum(w for stack, w in case.rec.samples()
                if stack and stack[-1].name == "[sleep]" and any(nap(f) for f in stack))
    want = case.expect["sleep_seconds"]
    # never shorter; longer by the wake-up's wait for a CPU on a busy machine
    assert 0.95 * want <= slept <= 1.25 * want, "%s: [sleep] in nap %.3f s, want %.3f\n%s" % (
        case.interp.id, slept, want, case.rec.describe())
    check_split(case)
    assert (doc["meta"]["clock"], doc["meta"]["mode"]) == ("tick", "wall"), doc["meta"]


# --- one interpreter: the command line, sessions, top --------------------------------------


def spin_script(tmp, seconds):
    path = os.path.join(tmp, "spin.py")
    with open(path, "w") as f:
        f.write("import time\nend = time.thread_time() + %s\n"
                "while time.thread_time() < end: pass\n" % seconds)
    return path


@pytest.mark.usefixtures("root")
def test_tick_with_a_rate_is_refused(hz):
    for opts in (["-F", "99"], ["--rate", "999"]):
        r = run_pyflare("record", "--clock", "tick", *opts, "--", "true")
        assert r.returncode == 1, r.stderr
        assert ("--clock tick samples at the kernel's tick rate (%d Hz here); drop -F or use "
                "--clock timer" % hz) in r.stderr
    r = run_pyflare("top", "-i", "0.01", "--clock", "tick", "-a")
    assert r.returncode == 1 and "drop -i or use --clock timer" in r.stderr, r.stderr


@pytest.mark.usefixtures("root")
def test_tick_session_and_reports_name_the_clock(py, tmp, hz):
    script = spin_script(tmp, 0.3)
    saved, tree = os.path.join(tmp, "run.pyflare"), os.path.join(tmp, "run.json")
    r = run_pyflare("record", "--clock", "tick", "--mode", "cpu", "-q", "-o", saved, "-o", tree,
                    "--", *py.command(script))
    assert r.returncode == 0, r.stderr
    with open(tree) as f:
        meta = json.load(f)["meta"]
    assert (meta["clock"], meta["rate_hz"]) == ("tick", hz), meta
    # the saved session keeps it: its report says so, in text and json
    r = run_pyflare("report", saved)
    assert r.returncode == 0, r.stderr
    assert re.search(r"Mode: +cpu, %d Hz tick on \d+ CPUs?\n" % hz, r.stdout), r.stdout
    r = run_pyflare("report", "-r", "json", saved)
    meta = json.loads(r.stdout)["meta"]
    assert (meta["clock"], meta["rate_hz"]) == ("tick", hz), meta
    # a recording with the timer, combined with it: both clocks named
    timer = os.path.join(tmp, "timer.pyflare")
    r = run_pyflare("record", "--clock", "timer", "-F", "99", "-q", "-o", timer, "--",
                    *py.command(script))
    assert r.returncode == 0, r.stderr
    r = run_pyflare("report", "-r", "json", saved, timer)
    assert json.loads(r.stdout)["meta"]["clock"] in ("tick + timer", "timer + tick"), r.stdout


@pytest.mark.usefixtures("root")
def test_top_header_names_the_clock(py, tmp, hz):
    script = spin_script(tmp, 1.5)
    r = run_pyflare("top", "--clock", "tick", "--delay", "0.5", "--", *py.command(script))
    assert r.returncode == 0, r.stderr
    assert "%d Hz tick" % hz in r.stdout, r.stdout
