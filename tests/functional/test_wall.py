# SPDX-License-Identifier: MIT
"""test_wall.py — wall mode: time off CPU, on the Python line that waited, with what it
waited for, on every interpreter (workloads/waits.py)."""
import json
import os

from pyflare_run import matcher

WALL = ("--mode", "wall", "--idle")  # the waiter does nothing but wait


def waited(rec, under, reason):
    """Seconds of @reason ("[sleep]") leaves below a frame matching @under."""
    pred = matcher(under)
    return sum(w for stack, w in rec.samples()
               if stack and stack[-1].name == reason and any(pred(f) for f in stack))


def thread_total(rec, name):
    mine = rec.thread(name)
    assert len(mine.profiles) == 1, [p.name for p in rec.profiles]
    return mine.total()


def measured(case):
    with open(case.placed.host("waits-times.json")) as f:
        return json.load(f)


def test_sleep_share(workload):
    case = workload("waits", opts=WALL)
    sleeper = case.rec.thread("sleeper")
    total = thread_total(case.rec, "sleeper")
    slept = waited(sleeper, case.frame("sleeper"), "[sleep]")
    share = slept / total
    want = case.expect["sleep_share"]
    assert abs(share - want) <= 0.02, "%s: [sleep] is %.1f%% of the sleeper's %.3f s, want %.0f%% +- 2\n%s" % (
        case.interp.id, 100 * share, total, 100 * want, sleeper.describe())


def test_cpu_mode_sees_no_sleep(workload):
    case = workload("waits", opts=("--mode", "cpu"))
    sleeper = case.rec.thread("sleeper")
    assert waited(sleeper, case.frame("sleeper"), "[sleep]") == 0
    assert not any(f.name.startswith("[") for f in case.rec.frames()), case.rec.describe()
    # on-CPU only: the 3 x 0.2 s asleep are not in its total
    assert thread_total(case.rec, "sleeper") < 0.9 * measured(case)["sleeper"]


def test_pipe_read(workload):
    case = workload("waits", opts=WALL)
    got = waited(case.rec, case.frame("read_pipe"), "[I/O read]")
    want = case.expect["pipe_seconds"]
    assert abs(got - want) <= 0.1 * want + 0.02, "%s: [I/O read] in read_pipe %.3f s, want %.3f\n%s" % (
        case.interp.id, got, want, case.rec.describe())


def test_lock_wait(workload):
    case = workload("waits", opts=WALL)
    waiter = case.rec.thread("waiter")
    got = waited(waiter, case.frame("wait_lock"), "[lock]")
    want = case.expect["lock_seconds"]
    assert abs(got - want) <= 0.1 * want + 0.02, "%s: [lock] in wait_lock %.3f s, want %.3f\n%s" % (
        case.interp.id, got, want, waiter.describe())
    assert waited(waiter, case.frame("wait_lock"), "[GIL]") <= 0.05 * want


def test_gil_wait(workload):
    """Two threads running Python code on two CPUs: each waits for the GIL about half the time."""
    case = workload("waits", opts=WALL)
    for name in ("gil-a", "gil-b"):
        mine = case.rec.thread(name)
        total = thread_total(case.rec, name)
        gil = waited(mine, case.frame("gil_spin"), "[GIL]")
        lock = waited(mine, case.frame("gil_spin"), "[lock]")
        # time spent runnable but without a CPU (a busy machine) is neither's
        total -= waited(mine, case.frame("gil_spin"), "[CPU wait]")
        assert 0.3 <= gil / total <= 0.7, "%s %s: [GIL] %.3f s of %.3f s ([lock] %.3f s)\n%s" % (
            case.interp.id, name, gil, total, lock, mine.describe())
        assert lock <= 0.05 * total, "GIL waits taken for lock waits\n" + mine.describe()


def test_thread_totals_are_wall_time(workload):
    """On-CPU samples and off-CPU time add up to each thread's wall-clock time."""
    case = workload("waits", opts=WALL)
    times = measured(case)
    for name in ("sleeper", "waiter", "gil-a", "gil-b"):
        total = thread_total(case.rec, name)
        want = times[name]
        # the thread lives a little longer than its function: start-up and exit
        assert want * 0.98 <= total <= want * 1.02 + 0.03, "%s %s: %.3f s in the profile, %.3f s of wall time\n%s" % (
            case.interp.id, name, total, want, case.rec.thread(name).describe())


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
import threading, time
threading.Thread(target=threading.Event().wait, name="blocked").start()
time.sleep(30)
"""


def test_killed_process_waits_no_more(py, tmp):
    """A process killed while its threads wait: their time ends with it, not with the
    recording."""
    import subprocess
    from pyflare_run import pyflare_path
    script = os.path.join(tmp, "killed.py")
    with open(script, "w") as f:
        f.write(KILLED)
    out = os.path.join(tmp, "killed.json")
    cmd = " ".join(py.command(script))
    r = subprocess.run([pyflare_path(), "record", "-q", "--mode", "wall", "--idle", "-o", out,
                        "--", "sh", "-c", "%s & P=$!; sleep 1; kill -9 $P; sleep 2" % cmd],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        doc = json.load(f)
    threads = [t for p in doc["processes"] for t in p["threads"] if t["total"] > 0]
    assert len(threads) >= 2, doc["processes"]
    for t in threads:
        assert 0.5 < t["total"] < 1.6, "a thread of the killed process counted %.3f s (killed after 1 s of a 3 s recording)" % t["total"]
