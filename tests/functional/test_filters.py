# SPDX-License-Identifier: MIT
"""pyflare record --comm / --cmdline: only the processes whose name or arguments match."""
import os
import subprocess

import pytest

from pyflare_run import load_speedscope, run_pyflare

BUSY = """
import sys, time
def busy_forever():
    while True:
        sum(range(1000))
print("ready", flush=True)
busy_forever()
"""

# renames itself (PR_SET_NAME) before it says it is ready, as setproctitle would
RENAMED = """
import ctypes
ctypes.CDLL(None).prctl(15, b"flarecomm", 0, 0, 0)
""" + BUSY

# a parent that runs two children, only one of which --cmdline selects
PARENT = """
import os, subprocess, sys, time
here = os.path.dirname(os.path.abspath(__file__))
kids = [subprocess.Popen([sys.executable, os.path.join(here, k)]) for k in ("kid_a.py", "kid_b.py")]
t = time.monotonic()
while time.monotonic() - t < 1.5:
    sum(range(1000))
for k in kids:
    k.kill()
"""

SHORT_BUSY = """
import time
def short_busy():
    t = time.monotonic()
    while time.monotonic() - t < 1.5:
        sum(range(1000))
short_busy()
"""


pytestmark = pytest.mark.usefixtures("root")
pyflare = run_pyflare


def start(py, tmp, name, text=BUSY):
    """Runs the script @name with @text; returns its Popen once it is ready."""
    script = os.path.join(tmp, name)
    with open(script, "w") as f:
        f.write(text)
    proc = subprocess.Popen(py.command(script), stdout=subprocess.PIPE, universal_newlines=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_cmdline_selects(py, tmp):
    a, b = start(py, tmp, "a.py"), start(py, tmp, "b.py")
    try:
        out = os.path.join(tmp, "run.speedscope.json")
        r = pyflare("record", "-a", "-d", "1", "--cmdline", r"a\.py", "-o", out)
        assert r.returncode == 0, r.stderr
        pids = load_speedscope(out).pids()
        assert a.pid in pids
        assert b.pid not in pids
    finally:
        a.kill(), b.kill()


def test_comm_selects_renamed_process(py, tmp):
    # the -a recording starts after the rename: the comm is read when a process is found
    renamed, plain = start(py, tmp, "renamed.py", RENAMED), start(py, tmp, "plain.py")
    try:
        with open("/proc/%d/comm" % renamed.pid) as f:
            assert f.read().strip() == "flarecomm"
        out = os.path.join(tmp, "run.speedscope.json")
        r = pyflare("record", "-a", "-d", "1", "--comm", "^flarecomm$", "-o", out)
        assert r.returncode == 0, r.stderr
        assert set(load_speedscope(out).pids()) == {renamed.pid}
        assert "1 process attached" in r.stderr
    finally:
        renamed.kill(), plain.kill()


def test_filters_combine(py, tmp):
    renamed, plain = start(py, tmp, "a.py", RENAMED), start(py, tmp, "aa.py")
    try:
        out = os.path.join(tmp, "run.speedscope.json")
        # both have a.py in their arguments, only one the name
        r = pyflare("record", "-a", "-d", "1", "--cmdline", r"a\.py", "--comm", "flare",
                    "-o", out)
        assert r.returncode == 0, r.stderr
        assert set(load_speedscope(out).pids()) == {renamed.pid}
    finally:
        renamed.kill(), plain.kill()


def test_command_children_filtered(py, tmp):
    for name, text in (("parent.py", PARENT), ("kid_a.py", SHORT_BUSY),
                       ("kid_b.py", SHORT_BUSY)):
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    out = os.path.join(tmp, "run.speedscope.json")
    r = pyflare("record", "--cmdline", r"kid_a\.py", "-o", out, "--",
                *py.command(os.path.join(tmp, "parent.py")))
    assert r.returncode == 0, r.stderr
    rec = load_speedscope(out)
    # the parent and kid_b are followed, not profiled
    assert len(set(rec.pids())) == 1, rec.describe()
    assert rec.inclusive(lambda f: f.name == "short_busy") > 0
    assert not [f for f in rec.frames() if f.file.endswith(("parent.py", "kid_b.py"))], \
        rec.describe()


def test_pid_that_does_not_match(py, tmp):
    a = start(py, tmp, "a.py")
    try:
        r = pyflare("record", "-p", str(a.pid), "-d", "1", "--comm", "nomatch",
                    "-o", os.path.join(tmp, "x.folded"))
        assert r.returncode == 3, r.stderr
        assert "process %d" % a.pid in r.stderr
        assert "does not match --comm 'nomatch'" in r.stderr
    finally:
        a.kill()


def test_bad_regex_is_a_usage_error():
    r = pyflare("record", "-a", "--cmdline", "a(")
    assert r.returncode == 1
    assert "bad --cmdline 'a(': " in r.stderr
