# SPDX-License-Identifier: MIT
"""test_gil.py — where pyflare finds each interpreter's GIL, checked against the threads
that wait for it.

For wall mode, a thread blocked in futex(2) waits for the GIL exactly when the futex
address lies in the main interpreter's struct _gil_runtime_state, [gil_addr, gil_addr +
gil_size), which py_target_find_gil() finds. Here tests/tools/gil_range prints that range
for a live workload (workloads/gil_wait.py): threads spinning in Python code, all but one
waiting for the GIL at any moment, and a thread blocked on a threading.Lock. From outside,
/proc/PID/task/TID/syscall shows what each blocked thread waits on ("202 0xADDR ..." is
futex on ADDR on x86-64): every futex a spinner is seen in must be inside the range, the
Lock's outside.
"""
import json
import os
import select
import subprocess
import time

import pytest

from conftest import skip_or_fail
from pyflare_run import REPO

SYS_FUTEX = 202  # x86-64
GIL_SIZE = 208  # sizeof(struct _gil_runtime_state) on every GIL build 3.8-3.15
WANT_SPINNER_WAITS = 50  # futex waits seen in spinner threads before judging
WANT_LOCK_WAITS = 5
OBSERVE_SECONDS = 10
START_TIMEOUT = 60


def _tool() -> str:
    path = os.environ.get("PYFLARE_GIL_RANGE")
    if path:
        return path
    # the one build entry point; quick when the tool is up to date
    subprocess.run(["make", "-s", "-C", REPO, "test-tools"], check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    return os.path.join(REPO, "build", "asan", "tests", "tools", "gil_range")


@pytest.fixture(scope="module")
def gil_range():
    if os.geteuid() != 0:
        skip_or_fail("reading another process's memory and its threads' syscalls needs root")
    return _tool()


def _readline(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else ""


def _syscall(pid, tid):
    """(number, first argument) of the system call thread tid is blocked in, or None."""
    try:
        with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
            fields = f.read().split()
    except OSError:
        return None
    if len(fields) < 2 or fields[0] == "running" or fields[0] == "-1":
        return None
    return int(fields[0]), int(fields[1], 16)


def test_gil_range(interp, placed, gil_range):
    proc = subprocess.Popen(interp.command(placed.interp("gil_wait.py")), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, universal_newlines=True)
    try:
        line = _readline(proc, START_TIMEOUT)
        assert line, "%s: gil_wait.py did not start (exit %s)" % (interp.id, proc.poll())
        tids = json.loads(line)
        found = subprocess.run([gil_range, str(proc.pid)], stdout=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
        assert found.returncode == 0, "%s: gil_range failed" % interp.id
        gil = json.loads(found.stdout)
        lo, hi = gil["gil_addr"], gil["gil_addr"] + gil["gil_size"]
        assert gil["gil_size"] == GIL_SIZE, gil
        if interp.minor >= 12:
            # the main interpreter owns its GIL: interp->ceval.gil == &interp->_gil
            assert gil["gil_addr"] == gil["own_gil"], gil
        else:
            assert gil["main_interp"] == 0 and gil["own_gil"] == 0, gil

        spinner_waits, lock_waits = [], []
        end = time.monotonic() + OBSERVE_SECONDS
        while time.monotonic() < end and (len(spinner_waits) < WANT_SPINNER_WAITS or
                                          len(lock_waits) < WANT_LOCK_WAITS):
            for tid in tids["spinners"]:
                sc = _syscall(proc.pid, tid)
                if sc and sc[0] == SYS_FUTEX:
                    spinner_waits.append(sc[1])
            sc = _syscall(proc.pid, tids["locked"])
            if sc and sc[0] == SYS_FUTEX:
                lock_waits.append(sc[1])
            time.sleep(0.002)
        assert proc.poll() is None, "%s: gil_wait.py died" % interp.id

        where = "GIL [%#x, %#x) of %s %s" % (lo, hi, interp.id, gil["version"])
        assert len(spinner_waits) >= WANT_SPINNER_WAITS, \
            "%s: spinners seen in futex only %d times" % (where, len(spinner_waits))
        outside = sorted({a for a in spinner_waits if not lo <= a < hi})
        assert not outside, "%s: spinners wait on futexes outside it: %s (inside: %s)" % (
            where, [hex(a) for a in outside],
            sorted(hex(a - lo) for a in set(spinner_waits) if lo <= a < hi))
        assert len(lock_waits) >= WANT_LOCK_WAITS, \
            "%s: the Lock waiter was seen in futex only %d times" % (where, len(lock_waits))
        inside = sorted({a for a in lock_waits if lo <= a < hi})
        assert not inside, "%s: a threading.Lock wait is inside it: %s" % (
            where, [hex(a) for a in inside])
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
