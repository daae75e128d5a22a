# SPDX-License-Identifier: MIT
"""test_namespaces.py — a process's namespace PID and its container, as pyflare shows them.

A Python workload runs in a PID namespace of its own (unshare), then in a cgroup named like a
docker container; the speedscope file's "pyflare" process entry must name both.
"""
import json
import os
import secrets
import shutil
import subprocess
import time

import pytest

from conftest import skip_or_fail
from pyflare_run import descendants, pyflare_path

SPIN = ("import os, sys, time\n"
        "print(os.getpid(), flush=True)\n"
        "end = time.time() + 20\n"
        "while time.time() < end:\n"
        "    sum(range(1000))\n")

def _needs_root():
    if os.geteuid() != 0:
        skip_or_fail("needs root (BPF, namespaces, cgroups)")

def _record(pid, out):
    subprocess.run([pyflare_path(), "record", "-p", str(pid), "-d", "1", "-o", out],
                   check=True, timeout=120, stdout=subprocess.DEVNULL)
    with open(out) as f:
        doc = json.load(f)
    procs = [p for p in doc["pyflare"]["processes"] if p["pid"] == pid]
    assert len(procs) == 1, doc["pyflare"]["processes"]
    return procs[0]

def _python_child(ns_parent):
    """The host PID of the python below @ns_parent (unshare's forked child, or itself)."""
    for _ in range(100):
        for pid in [ns_parent] + descendants(ns_parent):
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().startswith("python"):
                        return pid
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError("no python under %d" % ns_parent)

def test_pid_namespace(tmp_path):
    _needs_root()
    if not shutil.which("unshare"):
        skip_or_fail("unshare is not installed")
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "python3", "-c", SPIN],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.strip():
            skip_or_fail("unshare --pid failed: no PID namespace here")
        inner = int(line)
        host = _python_child(proc.pid)
        assert host != inner
        p = _record(host, str(tmp_path / "ns.speedscope.json"))
        assert p["ns_pid"] == inner
        assert p["pid"] == host
    finally:
        proc.kill()
        proc.wait()

def _cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return fields[1]
    return None

def test_container_cgroup(tmp_path):
    _needs_root()
    root = _cgroup2_mount()
    if not root:
        skip_or_fail("no cgroup v2 hierarchy mounted")
    cid = secrets.token_hex(32)
    parent = os.path.join(root, "pyflare-test-%d" % os.getpid())
    leaf = os.path.join(parent, "docker-%s.scope" % cid)
    os.makedirs(leaf)
    proc = subprocess.Popen(["python3", "-c", SPIN], stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        with open(os.path.join(leaf, "cgroup.procs"), "w") as f:
            f.write(str(proc.pid))
        p = _record(proc.pid, str(tmp_path / "cg.speedscope.json"))
        assert p["container"] == cid[:12]
        assert p["cgroup"] == "/pyflare-test-%d/docker-%s.scope" % (os.getpid(), cid)
        assert p["ns_pid"] == 0
    finally:
        proc.kill()
        proc.wait()
        for d in (leaf, parent):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.05)
