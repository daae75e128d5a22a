# SPDX-License-Identifier: MIT
"""Threads carry threading.Thread.name, on every interpreter.

workloads/thread_names.py names its threads through threading only: "worker-α-1", a name
longer than the kernel's 15 bytes, one renamed half-way, and the main thread. Up to 3.13
their OS threads all keep the process's name, so pyflare must read the names out of the
process's memory (docs/cpython-versions.md); from 3.14 CPython hands them to the kernel
itself, cut to 15 bytes, and the kernel's name is shown. A thread threading does not know
(started with _thread, named with prctl) has the kernel's name everywhere. Each thread is
one profile, under the last name it had, in the speedscope file and the json tree alike;
and the same holds inside a PID namespace, where threads are matched to their names by
pthread id, not TID.

workloads/reused_idents.py runs threads one after another, so that glibc gives each the pthread
id (threading's ident) of the one before: each must still bear only names of its own.
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import skip_or_fail
from pyflare_run import Match, extra_args, pyflare_path, reference_mode

STEM = "thread_names"


def expected_name(case, key):
    """The name thread `key` must have under this interpreter."""
    python, kernel = case.expect["threads"][key]
    if case.interp.minor < 14 and python is not None:
        return python
    return kernel  # None: the process's own name


def recorded(workload, placed):
    """The workload recorded once, into speedscope (the fixtures' file) and the json tree."""
    json_out = placed.host("%s.json" % STEM)
    case = workload(STEM, opts=() if reference_mode() else ("-o", json_out))
    return case, json_out


def only_thread(case, rec, key):
    """The one profile that holds frame `key`, and that no other profile holds it."""
    holding = rec.holding(case.frame(key))
    assert len(holding.profiles) == 1, "%s on %s: %s in profiles %s\n%s" % (
        STEM, case.interp.id, key, [p.name for p in holding.profiles], rec.describe())
    return holding.profiles[0]


def test_thread_names_speedscope(workload, placed):
    case, _ = recorded(workload, placed)
    rec = case.rec.holding(Match(file=case.file))
    assert len(rec.pids()) == 1, rec.describe()
    for key in case.expect["threads"]:
        profile = only_thread(case, rec, key)
        if reference_mode() and (case.expect["threads"][key][0] is None or case.interp.root):
            continue  # refprof.py cannot tell a _thread's TID, nor read /proc in a chroot
        want = expected_name(case, key)
        if want is None:
            want = profile.comm  # 3.14's main thread: the process's name
        assert profile.thread == want, "%s on %s: the thread of %s is named %r, want %r" % (
            STEM, case.interp.id, key, profile.thread, want)
    # renamed while running: still one thread, under its last name
    before, after = case.expect["renamed"]
    assert only_thread(case, rec, before) is only_thread(case, rec, after)


def test_thread_names_json(workload, placed):
    """The json tree names each thread as the speedscope file does, by TID."""
    if reference_mode():
        pytest.skip("refprof.py writes speedscope and collapsed only")
    case, json_out = recorded(workload, placed)
    with open(json_out, encoding="utf-8") as f:
        doc = json.load(f)
    rec = case.rec.holding(Match(file=case.file))
    pid = rec.pids()[0]
    procs = [p for p in doc["processes"] if p["pid"] == pid]
    assert len(procs) == 1, [p["pid"] for p in doc["processes"]]
    names = {t["tid"]: t["name"] for t in procs[0]["threads"]}
    for key in case.expect["threads"]:
        profile = only_thread(case, rec, key)
        assert names.get(profile.tid) == profile.thread, (case.interp.id, key, names)
    if case.interp.minor < 14:
        python = set(p for p, _ in case.expect["threads"].values() if p is not None)
        assert python <= set(names.values()), (case.interp.id, names)


def test_threading_imported_late(workload):
    """A program that imports threading only after pyflare first looked for it (and did not
    find it): its thread still bears threading's name."""
    case = workload("late_threading")
    rec = case.rec.holding(Match(file=case.file))
    early = only_thread(case, rec, "early_work")
    late = only_thread(case, rec, "late_work")
    assert early is not late, rec.describe()
    assert late.thread == case.expect["late_name"], "%s: the thread of late_work is named %r" % (
        case.interp.id, late.thread)


def test_thread_names_in_pid_namespace(py, tmp):
    """In a PID namespace of its own the process's TIDs are not the host's: names still land
    on the right threads."""
    if reference_mode():
        pytest.skip("refprof.py cannot follow unshare's child")
    if os.geteuid() != 0:
        skip_or_fail("needs root (BPF, namespaces)")
    if not shutil.which("unshare"):
        skip_or_fail("unshare is not installed")
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads")
    for name in ("_common.py", STEM + ".py"):
        shutil.copy(os.path.join(here, name), tmp)
    out = os.path.join(tmp, "ns.json")
    argv = ([pyflare_path(), "record"] + extra_args() + ["-o", out, "--", "unshare", "--pid",
            "--fork", "--mount-proc"] + py.command(os.path.join(tmp, STEM + ".py")))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    if r.returncode != 0 and "unshare" in r.stderr:
        skip_or_fail("unshare --pid failed: %s" % r.stderr.strip()[-300:])
    assert r.returncode == 0, "%s\nexit %d\n%s" % (" ".join(argv), r.returncode, r.stderr[-2000:])
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    pythons = [p for p in doc["processes"] if p["samples"] and p.get("ns_pid")]
    assert len(pythons) == 1, [(p["pid"], p.get("ns_pid"), p["samples"]) for p in doc["processes"]]
    names = sorted(t["name"] for t in pythons[0]["threads"] if t["nodes"])
    want = sorted(["MainThread", "worker-\u03b1-1", "a-very-long-thread-name-beyond-fifteen",
                   "after-rename", "raw-os-name"])
    assert names == want, names


def test_reused_idents_keep_their_own_names(workload):
    """A thread that inherits the ident of a thread that ended (glibc reuses thread
    descriptors) is not given the name threading had, or still has, for that ident: its
    Thread object (gone, or a _DummyThread threading keeps up to 3.12) is another thread's."""
    if reference_mode():
        pytest.skip("refprof.py cannot tell a _thread's TID")
    case = workload("reused_idents")
    with open(case.placed.host(case.expect["out"]), encoding="utf-8") as f:
        measured = json.load(f)
    assert len(measured) == case.expect["threads"], measured
    idents = [t["ident"] for t in measured]
    reused = [t for i, t in enumerate(measured) if t["ident"] in idents[:i]]
    assert reused, "no thread got the ident of one before it: nothing was tested\n%s" % measured
    by_tid = {p.tid: p for p in case.rec.holding(Match(file=case.file)).profiles}
    wrong = []
    for t in measured:
        assert t["tid"] in by_tid, "%s on %s: thread %s never sampled\n%s" % (
            "reused_idents", case.interp.id, t, case.rec.describe())
        got = by_tid[t["tid"]].thread
        python = t["python"] if case.interp.minor < 14 else None
        if t["kind"] == "dummy":  # named by threading only once it asks current_thread()
            want = [n for n in (python, t["kernel"]) if n]
        else:
            want = [python or t["kernel"]]
        if got not in want:
            owners = [o for o in measured if got in (o["python"], o["kernel"])]
            wrong.append("%s thread %d is named %r, want %s (the name of %s)" % (
                t["kind"], t["tid"], got, " or ".join(repr(n) for n in want),
                ", ".join("%s thread %d, %s ident" % (
                    o["kind"], o["tid"], "the same" if o["ident"] == t["ident"] else "another")
                    for o in owners) or "no thread of it"))
    assert not wrong, "reused_idents on %s:\n%s" % (case.interp.id, "\n".join(wrong))


EXEC_SCRIPT = r"""
import os, sys, time

def spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        sum(range(1000))

def before_exec():
    spin(0.3)

pid = os.fork()
if pid == 0:
    before_exec()
    os.execv(sys.executable, [sys.executable, "-c",
             "import time\ndef after_exec():\n"
             "    end = time.process_time() + 0.3\n"
             "    while time.process_time() < end: sum(range(1000))\n"
             "after_exec()\n"])
os.waitpid(pid, 0)
print(pid)
"""


def test_exec_keeps_one_thread(py, tmp):
    """A process that runs Python, then execs another Python, is one process with one main
    thread, holding the code of both images: not two threads of the same TID (the demo's
    subprocess.run made its SVG draw two "Thread N python3.x" where the json had one)."""
    if reference_mode():
        pytest.skip("refprof.py writes no json")
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")
    script = os.path.join(tmp, "exec_twice.py")
    with open(script, "w") as f:
        f.write(EXEC_SCRIPT)
    out = os.path.join(tmp, "exec.json")
    r = subprocess.run([pyflare_path(), "record"] + extra_args() + ["-o", out, "--"] +
                       py.command(script), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    child = int(r.stdout.split()[-1])
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    procs = [p for p in doc["processes"] if p["pid"] == child]
    assert len(procs) == 1, [p["pid"] for p in doc["processes"]]
    threads = [t for t in procs[0]["threads"] if t["tid"] == child]
    assert len(threads) == 1, threads
    held = set(doc["frames"][n["frame"]]["name"] for n in threads[0]["nodes"])
    assert {"before_exec", "after_exec"} <= held, sorted(held)
