# SPDX-License-Identifier: MIT
"""Attaching in wall mode to threads that already wait: their waits count from the start.

The kernel hears of a wait when its thread leaves the CPU; a thread that left before
pyflare attached (a hung service, the first reason to attach) is entered at attach, read
from userspace as `pyflare dump` reads it. workloads/already_waiting.py blocks a thread in
each kind of wait before the recording starts: time.sleep() ([sleep]), Lock.acquire()
([lock]), a read of an empty pipe ([I/O read]), the GIL ([GIL]: the main thread holds it
asleep in a C call, [sleep]). `pyflare record -p PID -d 2` (wall mode, -p's default) must
show each waiting, in its own function, for the whole recording: what the session says it
lasted, not a wall-clock constant. The GIL waiter comes back every 5 ms to ask again
(CPython's switch interval), and may wait for a CPU each time on a busy machine.
"""
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import time

import pytest

from conftest import skip_or_fail
from pyflare_run import WORKLOADS, kill_session, pyflare_path, run_pyflare

STEM = "already_waiting"
START_TIMEOUT = 60
# system calls, x86-64: where each thread must sit before the recording starts
SLEEPS = {"35", "230", "23", "270"}  # nanosleep, clock_nanosleep; select, pselect6 before 3.11
FUTEX = {"202"}
READ = {"0"}
# thread -> (its function, what it waits for, the system calls that wait)
WAITS = {
    "sleeper": ("sleeper", "[sleep]", SLEEPS),
    "locked": ("locked", "[lock]", FUTEX),
    "reader": ("reader", "[I/O read]", READ),
    "gil-waiter": ("gil_waiter", "[GIL]", FUTEX),
    "main": ("hold_gil", "[sleep]", SLEEPS),
}
# share of the recording a thread blocked throughout it may fall short by: a wait entered at
# attach is exact; the GIL waiter's are many (200 a second), each wake-up's time on a CPU
# between them is no wait, and some of them may go to other waits ([CPU wait])
SHORT = 0.005
GIL_SHORT = 0.1


@pytest.fixture(autouse=True)
def need_root():
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")


def _syscall(pid, tid):
    try:
        with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return None


@contextlib.contextmanager
def blocked(argv, what):
    """Runs the workload (@argv) until every thread is blocked where it should be, then
    yields (pid, {name: tid}); kills it after."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            universal_newlines=True, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        assert line, "%s did not start (exit %s)" % (STEM, proc.poll())
        tids = json.loads(line)
        end = time.monotonic() + START_TIMEOUT
        while True:
            where = {name: _syscall(proc.pid, tid) for name, tid in tids.items()}
            if all(where[name] in WAITS[name][2] for name in WAITS):
                break
            assert time.monotonic() < end, "%s: not all blocked yet: %s" % (what, where)
            time.sleep(0.05)
        yield proc.pid, tids
    finally:
        kill_session(proc)


@pytest.fixture
def waiting(interp, placed):
    with blocked(interp.command(placed.interp(STEM + ".py")), interp.id) as running:
        yield running


def _cpu_seconds(pid, tid):
    """The thread's CPU time so far (schedstat's first field, in ns)."""
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0]) / 1e9


def _waits(thread, frames):
    """{(function, wait): seconds} of a thread in the JSON tree: each wait under its frame."""
    nodes = thread["nodes"]
    out = {}
    for node in nodes:
        f = frames[node["frame"]]
        if f["kind"] == "wait" and node["parent"] >= 0:
            key = (frames[nodes[node["parent"]]["frame"]]["name"], f["name"])
            out[key] = out.get(key, 0.0) + node["total"]
    return out


def record_waits(pid, tids, target, out, what):
    """Records for 2 s with @target's options (JSON to @out) and checks that each thread of
    the workload waited, in its function, for what it waits for, all the recording long."""
    cpu = {name: _cpu_seconds(pid, tid) for name, tid in tids.items()}
    r = run_pyflare("record", "-q", "--idle", *target, "-d", "2", "-o", out, timeout=120)
    assert r.returncode == 0, r.stderr
    cpu = {name: _cpu_seconds(pid, tid) - cpu[name] for name, tid in tids.items()}
    with open(out) as f:
        doc = json.load(f)
    assert doc["meta"]["mode"] == "wall", doc["meta"]
    duration = doc["meta"]["duration"]
    (proc,) = [p for p in doc["processes"] if p["pid"] == pid]
    by_tid = {t["tid"]: t for t in proc["threads"]}
    for name, (function, reason, _) in WAITS.items():
        thread = by_tid.get(tids[name])
        assert thread, "%s: no thread %s (TID %d) in %s" % (
            what, name, tids[name], sorted(by_tid))
        waits = _waits(thread, doc["frames"])
        got = waits.get((function, reason), 0.0)
        explain = "%s: %s waited %s in a recording of %.3f s, used %.3f s of CPU" % (
            what, name, waits, duration, cpu[name])
        if name == "gil-waiter":
            got += waits.get((function, "[CPU wait]"), 0.0)
            assert waits.get((function, reason), 0.0) >= duration / 2, explain
            assert duration * (1 - GIL_SHORT) - cpu[name] <= got <= duration * (1 + 1e-6), explain
            continue
        assert duration * (1 - SHORT) <= got <= duration * (1 + 1e-6), explain
        assert thread["total"] <= duration * (1 + 1e-6), explain


def test_waits_under_way_count_from_the_start(interp, waiting, tmp):
    """-p PID: wall mode by default."""
    pid, tids = waiting
    record_waits(pid, tids, ("-p", str(pid)), os.path.join(tmp, "attach.json"), interp.id)


def test_waits_under_way_found_by_scan(py, tmp):
    """-a --mode wall, narrowed to the workload by its command line: found by the scan."""
    shutil.copy(os.path.join(WORKLOADS, STEM + ".py"), tmp)
    script = os.path.join(tmp, STEM + ".py")
    with blocked(py.command(script), py.id) as (pid, tids):
        # the scratch folder's name is unique, and plain: a regex that matches itself
        record_waits(pid, tids, ("-a", "--mode", "wall", "--cmdline", os.path.basename(tmp)),
                     os.path.join(tmp, "scan.json"), py.id + " -a")


def test_top_counts_waits_under_way(py, tmp):
    """pyflare top -p, piped: each full interval shows the waits that began before it
    attached, as long as the interval (its header's "last 1.0 s", to the tenth)."""
    shutil.copy(os.path.join(WORKLOADS, STEM + ".py"), tmp)
    with blocked(py.command(os.path.join(tmp, STEM + ".py")), py.id) as (pid, _):
        r = subprocess.run([pyflare_path(), "top", "-p", str(pid), "--delay", "1",
                            "-d", "3.5"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    tables = [t for t in r.stdout.split("\n\n") if t.strip()]
    # the first interval also holds the BPF programs' loading; the last is cut short
    assert len(tables) >= 3, r.stdout
    for table in tables[1:-1]:
        lines = table.split("\n")
        length = float(re.search(r"last (\d+\.\d) s", lines[0]).group(1))
        function, file = lines[1].index("FUNCTION"), lines[1].index("FILE:LINE")
        # OWN s by function (the third number)
        own = {line[function:file].strip(): float(line[:function].split()[2])
               for line in lines[2:] if line.strip()}
        # two threads sleep (sleeper, and main holding the GIL); one each waits otherwise
        for reason, threads in (("[sleep]", 2), ("[lock]", 1), ("[I/O read]", 1)):
            got = own.get(reason, 0.0)
            assert abs(got - threads * length) <= threads * 0.05 + 0.01, \
                "%s: %s %.3f s in an interval of %.1f s, want %d x that\n%s" % (
                    py.id, reason, got, length, threads, table)
