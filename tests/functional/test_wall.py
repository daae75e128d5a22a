# SPDX-License-Identifier: MIT
"""test_wall.py — wall mode: time off CPU, on the Python line that waited, with what it
waited for, on every interpreter (workloads/waits.py)."""
import json
import os

from pyflare_run import (describe_measured, on_cpu_error, on_cpu_slack, span, wall_error,
                         wall_slack)

# the waiter does nothing but wait; -v: pyflare's own account of the waits (its "tables:"
# line), for a failure to show whether a lost wait reached the collector
WALL = ("--mode", "wall", "--idle", "-v")
# A wait of another kind than the span's (a page fault, an open) may take this much of it
STRAY = 0.02


def measured(case):
    """What waits.py measured of each span in this recording (see its docstring)."""
    return case.measured


def account(case):
    """pyflare's own account of the recording, from -v: its health and its tables."""
    return "\n".join(line for line in case.result.stderr.splitlines()
                     if "tables:" in line or "samples taken" in line)


def check_span(case, rec, under, m, reason, asked=0.0, what=""):
    """Judges the samples of @rec below frames matching @under against @m, the span's own
    measurement (pyflare_run.span): on-CPU seconds against its CPU seconds; those and every
    wait against its wall-clock seconds; @reason ("[sleep]") for the time it slept, which
    is at least wall - CPU - runnable (and at least @asked, what the workload's design
    guarantees, for interpreters that cannot read their runnable time), and at most that
    plus the wait for a CPU after each wake-up; "[CPU wait]" (runnable after being
    preempted) within the runnable time. Returns the Span."""
    sp = span(rec, under)
    explain = "%s %s%s\n%s\n%s" % (case.interp.id, what, reason, rec.describe(), account(case))
    err = on_cpu_error(sp, m)
    assert not err, err + "\n" + explain
    err = wall_error(sp, m)
    assert not err, err + "\n" + explain
    slack = wall_slack(m)
    runnable = m["runnable"]
    cpu_wait = sp.waits.get("[CPU wait]", 0.0)
    got = sp.waits.get(reason, 0.0)
    # the stopwatch's runnable count misses the preemptions between its own clock reads
    slept = m["wall"] - m["cpu"] - (runnable or 0.0) - sp.stopwatch_wait
    low = max(asked, slept if runnable is not None else 0.0)
    # the time after a wake-up, runnable until a CPU is free, goes to the wait it ends
    high = m["wall"] - m["cpu"] - cpu_wait + sp.edges
    assert low - slack <= got <= high + slack, "%s %.3f s, want %.3f to %.3f s: %s; %s\n%s" % (
        reason, got, low, high, describe_measured(m), sp.describe(), explain)
    if runnable is not None:
        # a preemption inside the stopwatch, before it reads the kernel's count, is in that
        # count already when it is read: not in the span's runnable time, yet in the span
        assert cpu_wait <= runnable + sp.stopwatch_wait + sp.edges + slack, (
            "[CPU wait] beyond runnable: %s; %s\n%s" % (describe_measured(m), sp.describe(),
                                                         explain))
    for other, seconds in sp.waits.items():
        if other not in (reason, "[CPU wait]"):
            assert seconds <= STRAY * m["wall"] + slack, "%s %.3f s: %s; %s\n%s" % (
                other, seconds, describe_measured(m), sp.describe(), explain)
    return sp


def test_sleep_share(workload):
    """The sleeper's three naps are [sleep] on its line, as long as they lasted."""
    case = workload("waits", opts=WALL)
    sleeper = case.rec.thread("sleeper")
    expect = case.expect
    check_span(case, sleeper, case.frame("sleeper"), measured(case)["sleeper"], "[sleep]",
               asked=expect["sleep_seconds"])


def test_cpu_mode_sees_no_sleep(workload):
    case = workload("waits", opts=("--mode", "cpu"))
    sleeper = case.rec.thread("sleeper")
    assert not any(f.name.startswith("[") for f in case.rec.frames()), case.rec.describe()
    # on-CPU only: its CPU seconds, not the naps nor the waits for a CPU
    m = measured(case)["sleeper"]
    got = sleeper.inclusive(case.frame("sleeper"))
    assert abs(got - m["cpu"]) <= on_cpu_slack(m), "%s: sleeper %.3f s in cpu mode, %s\n%s" % (
        case.interp.id, got, describe_measured(m), sleeper.describe())


def test_pipe_read(workload):
    case = workload("waits", opts=WALL)
    main = case.rec.holding(case.frame("read_pipe"))
    check_span(case, main, case.frame("read_pipe"), measured(case)["read_pipe"], "[I/O read]",
               asked=case.expect["pipe_seconds"] - 0.02)  # the writer's first nap starts first


def test_lock_wait(workload):
    case = workload("waits", opts=WALL)
    waiter = case.rec.thread("waiter")
    sp = check_span(case, waiter, case.frame("wait_lock"), measured(case)["waiter"], "[lock]")
    assert sp.waits.get("[lock]", 0.0) > 0, waiter.describe()


def test_gil_wait(workload):
    """Two threads running Python code at once: what each sleeps of it, it sleeps waiting
    for the GIL (told apart from other locks), whatever else runs on the machine."""
    case = workload("waits", opts=WALL)
    times = measured(case)
    gil = 0.0
    for name in ("gil-a", "gil-b"):
        sp = check_span(case, case.rec.thread(name), case.frame("gil_loop"),
                        times[name + "/loop"], "[GIL]", what=name + " ")
        gil += sp.waits.get("[GIL]", 0.0)
    assert gil > 0, case.rec.describe()


def test_thread_totals_are_wall_time(workload):
    """On-CPU samples and off-CPU time add up to wall-clock time: each thread's, over the
    function that measured itself (the thread's start and end are not in its reach)."""
    case = workload("waits", opts=WALL)
    times = measured(case)
    spans = {"sleeper": "sleeper", "waiter": "wait_lock", "gil-a": "gil_spin",
             "gil-b": "gil_spin", "read_pipe": "read_pipe"}
    for name, key in spans.items():
        rec = case.rec.holding(case.frame(key)) if name == "read_pipe" else case.rec.thread(name)
        err = wall_error(span(rec, case.frame(key)), times[name])
        assert not err, "%s %s: %s\n%s\n%s" % (case.interp.id, name, err, rec.describe(),
                                               account(case))


def test_idle_threads(workload):
    """By default a thread that only waited is left out, but never a main thread; --no-idle
    leaves out main threads too."""
    case = workload("waits", opts=("--mode", "wall"))
    assert not case.rec.thread("waiter").profiles, case.rec.describe()
    assert "that only waited left out of the reports (--idle shows them)" in case.result.stderr
    assert case.rec.thread("sleeper").profiles and case.rec.thread("gil-a").profiles
    mains = [p for p in case.rec.profiles if p.pid == p.tid]
    assert mains, "the main thread is kept: %s" % [p.name for p in case.rec.profiles]
    kept = workload("waits", opts=("--mode", "wall", "--idle"))
    assert kept.rec.thread("waiter").profiles
    dropped = workload("waits", opts=("--mode", "wall", "--no-idle"))
    assert not dropped.rec.thread("waiter").profiles
    assert dropped.rec.thread("sleeper").profiles


KILLED = """
import sys, threading, time
threading.Thread(target=threading.Event().wait, name="blocked").start()
open(sys.argv[1], "w").close()  # both threads are there
time.sleep(30)
"""


def test_killed_process_waits_no_more(py, tmp):
    """A process killed while its threads wait: their time ends with it, not with the
    recording, which goes on for 2 s."""
    import subprocess
    from pyflare_run import pyflare_path
    script = os.path.join(tmp, "killed.py")
    with open(script, "w") as f:
        f.write(KILLED)
    out = os.path.join(tmp, "killed.json")
    ready, times = os.path.join(tmp, "ready"), os.path.join(tmp, "times")
    cmd = " ".join(py.command(script, ready))
    # killed 1 s after both threads are there, however long the start took: the shell
    # notes when it started it and when it killed it
    shell = ("t0=$(date +%%s.%%N); %s & P=$!; while [ ! -e %s ]; do sleep 0.01; done; "
             "sleep 1; t1=$(date +%%s.%%N); kill -9 $P; echo $t0 $t1 > %s; sleep 2"
             % (cmd, ready, times))
    r = subprocess.run([pyflare_path(), "record", "-q", "--mode", "wall", "--idle", "-o", out,
                        "--", "sh", "-c", shell],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open(times) as f:
        t0, t1 = (float(x) for x in f.read().split())
    with open(out) as f:
        doc = json.load(f)
    threads = [t for p in doc["processes"] for t in p["threads"] if t["total"] > 0]
    assert len(threads) >= 2, doc["processes"]
    for t in threads:
        # from at least the 1 s before the kill to at most the kill, never the 2 s after
        assert 0.95 <= t["total"] <= t1 - t0 + 0.1, (
            "a thread of the killed process counted %.3f s (started, killed %.3f s later, "
            "then 2 s more of recording)" % (t["total"], t1 - t0))
