# SPDX-License-Identifier: MIT
"""--subprocesses (py-spy's): -p's processes and all their descendants, those alive when
recording starts and those to come, through fork and exec.

workloads/master.py is a pre-fork master, as gunicorn's: before pyflare attaches it forks
workers that each burn in a function of its own, one of them with a child of its own, one
exec'ing a new interpreter, one a Python below a shell; after attach, one more fork and one
more fork that execs. `record -p MASTER --subprocesses` must show every one in its own
process, in its function; `-p MASTER` alone only the master, as py-spy does. Each worker's
share is judged against its own process's samples, never against a wall-clock constant.
"""
import json
import os
import select
import signal
import subprocess
import time

import pytest

from conftest import skip_or_fail
from pyflare_run import WORKLOADS, kill_session, pyflare_path

MASTER = os.path.join(WORKLOADS, "master.py")
BEFORE = {"before_a", "before_b", "before_c", "grandchild", "parent_of_grandchild",
          "exec_before", "via_shell"}
AFTER = {"after_fork", "exec_after"}
TIMEOUT = 120
CPU_SECONDS = 0.3  # each worker runs this long on a CPU inside the recording


@pytest.fixture(autouse=True)
def need_root():
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")


def read_until(proc, names, lines):
    """Reads master.py's "NAME PID" lines into @lines ({name: pid}) until every name in
    @names was seen ("ready": the master's, once its first workers run)."""
    deadline = time.monotonic() + TIMEOUT
    fd = proc.stdout.fileno()
    while not names <= set(lines):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        assert ready, "workers not started in %d s: have %s" % (TIMEOUT, sorted(lines))
        chunk = os.read(fd, 4096)
        assert chunk, "master.py ended early: have %s" % sorted(lines)
        proc.pending += chunk
        *done, proc.pending = proc.pending.split(b"\n")
        for line in done:
            words = line.decode().split()
            lines[words[0]] = int(words[1]) if len(words) > 1 else 0
    return lines


def cpu_seconds(pid):
    """CPU seconds of process @pid's main thread, as the kernel counts them."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def start_master(py):
    proc = subprocess.Popen(py.command(MASTER), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            bufsize=0, start_new_session=True)
    proc.pending = b""
    return proc, read_until(proc, BEFORE | {"ready"}, {})


def wait_attached(rec):
    """Reads pyflare -v's stderr until it says it attached; returns what it read."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = rec.stderr.readline()
        if not line:
            break
        seen.append(line)
        if "attached" in line and "processes in" in line:
            return seen
    raise AssertionError("pyflare did not attach:\n" + "".join(seen))


def burn_inside(pids):
    """Waits until each of @pids ran CPU_SECONDS more on a CPU (from now)."""
    start = {pid: cpu_seconds(pid) for pid in pids}
    deadline = time.monotonic() + TIMEOUT
    while any(cpu_seconds(pid) - start[pid] < CPU_SECONDS for pid in pids):
        assert time.monotonic() < deadline, "workers did not run"
        time.sleep(0.05)


def record(py, tmp, args):
    """Records master.py with @args (+ -p MASTER); after attach the master forks the AFTER
    workers. Returns (the json report, the workers' PIDs by name, the master's PID)."""
    master, workers = start_master(py)
    out = os.path.join(tmp, "rec.json")
    rec = subprocess.Popen([pyflare_path(), "record", "-v", "-p", str(master.pid), "-d", "60",
                            "-o", out] + args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
    try:
        err = wait_attached(rec)
        master.stdin.write(b"go\n")
        read_until(master, AFTER, workers)
        burn_inside([workers[name] for name in BEFORE | AFTER])
        rec.send_signal(signal.SIGINT)
        rest, more = rec.communicate(timeout=TIMEOUT)
        err = "".join(err) + more
        assert rec.returncode == 0, err
    finally:
        rec.kill()
        kill_session(master)
    with open(out) as f:
        return json.load(f), workers, master.pid, err


def functions(p, frames):
    """{function name: seconds at or below it} of process @p of a json report."""
    out = {}
    for t in p["threads"]:
        for n in t["nodes"]:
            name = frames[n["frame"]]["name"]
            out[name] = max(out.get(name, 0), n["total"])
    return out


def test_record_subprocesses(py, tmp):
    doc, workers, master, err = record(py, tmp, ["--subprocesses"])
    by_pid = {p["pid"]: p for p in doc["processes"]}
    assert master in by_pid, err
    assert "master_wait" in functions(by_pid[master], doc["frames"]), err
    for name in sorted(BEFORE | AFTER):
        pid = workers[name]
        assert pid in by_pid, "%s (PID %d) not profiled: %s\n%s" % (
            name, pid, sorted(by_pid), err)
        p = by_pid[pid]
        own = functions(p, doc["frames"])
        # the worker's time is its function's (the rest: the moment before it started)
        assert own.get(name, 0) >= 0.5 * p["total"], (name, own, p["total"])
    # the shell between the master and via_shell runs no Python: not a process of the report
    assert len(by_pid) == 1 + len(BEFORE | AFTER), sorted(by_pid)
    assert doc["meta"]["target"] == "-p %d --subprocesses" % master


def test_record_without_subprocesses_is_the_master_alone(py, tmp):
    """py-spy's -p: the process given, not its children, old or new."""
    doc, workers, master, err = record(py, tmp, [])
    assert [p["pid"] for p in doc["processes"]] == [master], err
    assert doc["health"]["refused"] == 0


def test_top_subprocesses(py, tmp):
    """pyflare top -p MASTER --subprocesses, piped: the workers' functions are in its
    tables; without --subprocesses they are not."""
    for args, shown in ((["--subprocesses"], True), ([], False)):
        master, workers = start_master(py)
        try:
            r = subprocess.run([pyflare_path(), "top", "--mode", "cpu", "--delay", "0.5",
                                "-d", "2", "-p", str(master.pid)] + args,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True,
                               timeout=TIMEOUT)
        finally:
            kill_session(master)
        assert r.returncode == 0, r.stderr
        for name in BEFORE:
            assert (" %s " % name in r.stdout) == shown, (args, name, r.stdout)


def test_dump_subprocesses(py):
    """pyflare dump -p MASTER --subprocesses: every Python descendant's stack, now; the
    shell between is left out."""
    master, workers = start_master(py)
    try:
        r = subprocess.run([pyflare_path(), "dump", "--json", "-p", str(master.pid),
                            "--subprocesses"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        alone = subprocess.run([pyflare_path(), "dump", "--json", "-p", str(master.pid)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
    finally:
        kill_session(master)
    assert r.returncode == 0, r.stderr
    procs = {p["pid"]: p for p in json.loads(r.stdout)["processes"]}
    assert set(procs) == {master.pid} | {workers[name] for name in BEFORE}, (sorted(procs), workers)
    for name in BEFORE:
        stack = [f["name"] for t in procs[workers[name]]["threads"] for f in t["frames"]]
        assert name in stack, (name, stack)
    assert alone.returncode == 0, alone.stderr
    assert [p["pid"] for p in json.loads(alone.stdout)["processes"]] == [master.pid]
