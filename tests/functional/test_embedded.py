# SPDX-License-Identifier: MIT
"""A program embedding CPython 3.15 through the shared libpython3.15.so, recorded.

From 3.15 pyflare finds a thread's state in CPython's thread-local _Py_tss_tstate
(user/python/py_tls.c). In a python3.15 executable that variable is in the executable's own
TLS block; in a shared libpython it is in libpython's, which the BPF walker reaches through
the thread's DTV. embed/embed_python.c is such a program: built inside the sid root against
Debian's libpython3.15 (scripts/sid-root.sh installs it, its headers and gcc), it runs
workloads/embedded.py, which burns CPU in main_work on the main thread, then in thread_work on
a thread started from Python, each measuring its own CPU time. Each function's on-CPU
seconds in the profile must be what it measured, in the thread it ran in.
"""
import os
import shutil
import subprocess

import pytest

import pythons
from conftest import load_expect, skip_or_fail
from pyflare_run import (HERE, WORKLOADS, Match, describe_measured, extra_args, load_speedscope,
                         on_cpu_error, pyflare_path, span, take_measured)

LIBPYTHON = "libpython3.15.so.1.0"
# what scripts/sid-root.sh installs for this test, beside python3.15
NEEDS = {"/usr/lib/x86_64-linux-gnu/libpython3.15.so": "libpython3.15-dev",
         "/usr/include/python3.15/Python.h": "libpython3.15-dev",
         "/usr/bin/gcc": "gcc"}
EXPECT = load_expect("embedded")

pytestmark = pytest.mark.usefixtures("root")


def _chroot(root: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["chroot", root] + list(argv), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)


@pytest.fixture(scope="module")
def embedded():
    """(the sid root, the placed workloads, the embedding program as the root names it)."""
    interp = pythons.by_id("3.15-sid")
    if not interp.available:
        skip_or_fail("3.15-sid: %s" % interp.missing)
    for path, package in NEEDS.items():
        if not os.path.exists(interp.root + path):
            skip_or_fail("%s has no %s (package %s): run scripts/sid-root.sh (make sid-root), "
                         "which rebuilds it" % (interp.root, path, package))
    placed = interp.place_workloads(WORKLOADS)
    shutil.copy(os.path.join(HERE, "embed", "embed_python.c"), placed.host_dir)
    program = placed.interp("embed_python")
    built = _chroot(interp.root, "gcc", "-O1", "-I/usr/include/python3.15", "-o", program,
                    placed.interp("embed_python.c"), "-lpython3.15")
    assert built.returncode == 0, "gcc failed in %s:\n%s" % (interp.root, built.stderr[-2000:])
    # the shared library, not libpython3.15-pic.a linked in
    dyn = _chroot(interp.root, "readelf", "-d", program)
    assert "[%s]" % LIBPYTHON in dyn.stdout, "%s does not need %s:\n%s" % (
        program, LIBPYTHON, dyn.stdout)
    yield interp.root, placed, program
    if not os.environ.get("PYFLARE_KEEP"):
        placed.cleanup()


def test_embedded_shared_libpython(embedded):
    root, placed, program = embedded
    output = placed.host("embedded.speedscope.json")
    argv = ([pyflare_path(), "record", "--mode", "cpu"] + extra_args()
            + ["-o", output, "--", "chroot", root, program, placed.interp("embedded.py")])
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(var, None)
    take_measured(placed, "embedded.py")
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120, env=env)
    assert r.returncode == 0, "%s\nexit %d\n%s" % (" ".join(argv), r.returncode, r.stderr[-2000:])
    measured = take_measured(placed, "embedded.py")
    assert measured and set(measured) == {"main_work", "thread_work"}, measured
    rec = load_speedscope(output)
    file = placed.interp("embedded.py")
    for key, main_thread in (("main_work", True), ("thread_work", False)):
        spec = EXPECT["frames"][key]
        frame = Match(name=spec["qualname"], file=file, line=spec["first_line"])
        # on the thread it ran in: the main thread's TID is the PID
        mine = rec.where(lambda p: (p.tid == p.pid) == main_thread)
        others = rec.where(lambda p: (p.tid == p.pid) != main_thread)
        assert others.inclusive(frame) == 0, "%s seen on the wrong thread:\n%s" % (
            key, rec.describe())
        err = on_cpu_error(span(mine, frame), measured[key])
        assert not err, "%s: %s\n%s\n%s" % (key, err, describe_measured(measured[key]),
                                            rec.describe())
