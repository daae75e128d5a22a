# SPDX-License-Identifier: MIT
"""pyflare dump on every interpreter: a process whose threads are deadlocked on purpose.

workloads/deadlock.py runs "deadlock-a" (holds lock1, waits in lock2.acquire()),
"deadlock-b" (the reverse), "spinner" (Python code without pause, counting its rounds in a
shared file) and a main thread in time.sleep(). The dump must list every thread by its TID
and name; show the deadlocked threads in their functions at the exact lines of the
acquire() calls, with those lines' text, waiting for [lock]; the main thread waiting for
[sleep]; at most one thread holding the GIL, and then the spinner; say the same in --json;
and leave the process running, never stopped: the spinner's count goes on across the dump.
The sid interpreter runs chrooted: its paths and source lines are the chroot's. One more
run puts it in PID and mount namespaces, where its TIDs are not the host's.
"""
import json
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pytest

from conftest import skip_or_fail
from pyflare_run import descendants, kill_session, pyflare_path, run_pyflare
from pythons import SID_ROOT

STEM = "deadlock"
START_TIMEOUT = 60
DEADLOCKED = {"deadlock-a": ("hold_1_want_2", "a_waits"),
              "deadlock-b": ("hold_2_want_1", "b_waits")}


@pytest.fixture(autouse=True)
def need_root():
    if os.geteuid() != 0:
        skip_or_fail("reading another process's memory and its threads' state needs root")


# --- the dump, parsed -----------------------------------------------------------------------

THREAD_LINE = re.compile(r"^Thread (?P<tid>\d+|\?)(?: \((?P<name>.*)\))?(?P<gil> \[holds the GIL\])?"
                         r" (?:(?P<running>running)|waiting: (?P<waiting>\[.*?\])|(?P<other>stopped"
                         r"|state unknown))(?P<changing> \(changing, best effort\))?$")
FRAME_LINE = re.compile(r"^    (?P<name>\S.*?)(?: \((?P<file>.*?)(?::(?P<line>\d+))?\))?$")


@dataclass
class Frame:
    name: str
    file: Optional[str]
    line: Optional[int]
    source: Optional[str] = None


@dataclass
class Thread:
    tid: Optional[int]
    name: str
    holds_gil: bool
    state: str  # "running", "waiting", "stopped", "unknown"
    waiting_for: Optional[str]
    consistent: bool
    frames: List[Frame] = field(default_factory=list)


def parse_text(text: str) -> Dict[int, List[Thread]]:
    """{pid: threads} from the text view; fails on any line it does not expect."""
    procs: Dict[int, List[Thread]] = {}
    threads: List[Thread] = []
    for line in text.splitlines():
        m = re.match(r"^Process (\d+): ", line)
        if m:
            threads = procs.setdefault(int(m.group(1)), [])
            continue
        if not line or line.startswith("Python "):
            continue
        m = THREAD_LINE.match(line)
        if m:
            state = "running" if m.group("running") else "waiting" if m.group("waiting") else \
                "stopped" if m.group("other") == "stopped" else "unknown"
            threads.append(Thread(tid=None if m.group("tid") == "?" else int(m.group("tid")),
                                  name=m.group("name") or "", holds_gil=bool(m.group("gil")),
                                  state=state, waiting_for=m.group("waiting"),
                                  consistent=not m.group("changing")))
            continue
        assert threads, "a line before any thread: %r" % line
        if line.startswith("        "):
            assert threads[-1].frames, "source before any frame: %r" % line
            threads[-1].frames[-1].source = line[8:]
            continue
        m = FRAME_LINE.match(line)
        assert m, "not a frame line: %r" % line
        threads[-1].frames.append(Frame(m.group("name"), m.group("file"),
                                        int(m.group("line")) if m.group("line") else None))
    return procs


def parse_json(text: str) -> Dict[int, List[Thread]]:
    doc = json.loads(text)
    assert doc["format"] == "pyflare-dump" and doc["version"] == 1, doc
    procs = {}
    for p in doc["processes"]:
        assert p["error"] is None, p
        procs[p["pid"]] = [Thread(tid=t["tid"], name=t["name"], holds_gil=t["holds_gil"] is True,
                                  state=t["state"], waiting_for=t["waiting_for"],
                                  consistent=t["consistent"],
                                  frames=[Frame(f["name"], f["file"], f["line"], f["source"])
                                          for f in t["frames"]])
                           for t in p["threads"]]
    return procs


# --- the workload ---------------------------------------------------------------------------


def markers(path: str) -> Dict[str, tuple]:
    """{marker: (line number, the line's text stripped)} of the `# @marker` lines of a file."""
    found = {}
    with open(path) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"# @(\w+)$", text.rstrip())
            if m:
                found[m.group(1)] = (number, text.strip())
    return found


@dataclass
class Running:
    proc: subprocess.Popen
    pid: int  # the host PID of the interpreter
    tids: Dict[str, int]  # thread name -> TID, as the workload sees them
    counter: str  # host path of the spinner's count

    def count(self) -> int:
        with open(self.counter, "rb") as f:
            return struct.unpack("<Q", f.read(8))[0]


def _start(argv, counter_host: str, interp_pid=None) -> Running:
    with open(counter_host, "wb") as f:
        f.write(b"\0" * 8)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            universal_newlines=True, start_new_session=True)
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    line = proc.stdout.readline() if ready else ""
    if not line:
        kill_session(proc)
        pytest.fail("%s did not start (exit %s)" % (" ".join(argv), proc.poll()), pytrace=False)
    pid = interp_pid(proc) if interp_pid else proc.pid
    _wait_asleep(pid)
    return Running(proc=proc, pid=pid, tids=json.loads(line), counter=counter_host)


def _wait_asleep(pid, timeout=5.0):
    """Until the main thread is in time.sleep (it prints, then goes there): clock_nanosleep,
    nanosleep, or select/pselect6 before 3.11."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open("/proc/%d/syscall" % pid) as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            return
        if nr in ("230", "35", "23", "270"):
            return
        time.sleep(0.01)


@pytest.fixture
def deadlocked(interp, placed):
    counter = "dump-counter"
    run = _start(interp.command(placed.interp(STEM + ".py"), placed.interp(counter)),
                 placed.host(counter))
    yield run
    kill_session(run.proc)


def _dump(pid, *opts):
    r = run_pyflare("dump", "-p", str(pid), *opts, timeout=60)
    assert r.returncode == 0, "pyflare dump -p %d %s: exit %d\n%s" % (
        pid, " ".join(opts), r.returncode, r.stderr)
    return r.stdout


def _by_name(threads: List[Thread], where: str) -> Dict[str, Thread]:
    names = [t.name for t in threads]
    assert len(set(names)) == len(names), "%s: threads %s" % (where, names)
    return {t.name: t for t in threads}


def _check(threads: List[Thread], run: Running, file: str, main_name: str, marks, where: str,
           ns_to_host=None):
    """What the dump of deadlock.py must show, in text or JSON alike."""
    by_name = _by_name(threads, where)
    assert set(by_name) == {"deadlock-a", "deadlock-b", "spinner", main_name}, \
        "%s: threads %s" % (where, sorted(by_name))
    for name, t in by_name.items():
        key = "MainThread" if name == main_name else name
        want = run.tids[key] if ns_to_host is None else ns_to_host[run.tids[key]]
        assert t.tid == want, "%s: %s has TID %s, want %d" % (where, name, t.tid, want)
        assert t.frames, "%s: %s has no frames" % (where, name)
    for name, (function, marker) in DEADLOCKED.items():
        t = by_name[name]
        line, text = marks[marker]
        top = t.frames[0]
        assert (top.name, top.file, top.line) == (function, file, line), \
            "%s: %s is in %s, want %s (%s:%d)" % (where, name, top, function, file, line)
        assert top.source == text, "%s: %s shows %r, want %r" % (where, name, top.source, text)
        assert (t.state, t.waiting_for) == ("waiting", "[lock]"), \
            "%s: %s is %s %s" % (where, name, t.state, t.waiting_for)
        assert t.consistent, "%s: %s changed while it was read" % (where, name)
    main = by_name[main_name]
    line, text = marks["main_sleeps"]
    assert (main.frames[0].name, main.frames[0].file, main.frames[0].line) == ("main", file, line), \
        "%s: the main thread is in %s" % (where, main.frames[0])
    assert main.frames[0].source == text
    assert main.frames[1].name == "<module>" and main.frames[1].file == file
    assert (main.state, main.waiting_for) == ("waiting", "[sleep]"), \
        "%s: the main thread is %s %s" % (where, main.state, main.waiting_for)
    spinner = by_name["spinner"]
    assert (spinner.frames[0].name, spinner.frames[0].file) == ("spin", file), \
        "%s: the spinner is in %s" % (where, spinner.frames[0])
    holders = [t.name for t in threads if t.holds_gil]
    assert holders in ([], ["spinner"]), "%s: the GIL is held by %s" % (where, holders)


def _not_stopped(pid):
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    assert re.search(r"^TracerPid:\s+0$", status, re.M), status
    assert not re.search(r"^State:\s+[tT]", status, re.M), status


def test_dump_deadlock(interp, placed, deadlocked):
    run = deadlocked
    file = placed.interp(STEM + ".py")
    marks = markers(placed.host(STEM + ".py"))
    # 3.14 hands threading's names to the kernel, but the main thread keeps the process's
    main_name = "MainThread" if interp.minor < 14 else open("/proc/%d/comm" % run.pid).read().strip()

    before = run.count()
    text = _dump(run.pid)
    during = run.count()
    doc = _dump(run.pid, "--json")
    time.sleep(0.2)
    after = run.count()
    assert run.proc.poll() is None, "%s: the workload died" % interp.id
    _not_stopped(run.pid)
    # a dump takes milliseconds: the spinner may not have had a CPU during it, but after
    assert before <= during < after, "%s: the spinner's count went %d, %d, %d" % (
        interp.id, before, during, after)

    where = "%s text" % interp.id
    procs = parse_text(text)
    assert list(procs) == [run.pid], "%s: processes %s\n%s" % (where, list(procs), text)
    try:
        _check(procs[run.pid], run, file, main_name, marks, where)
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, text)) from None

    where = "%s json" % interp.id
    js = parse_json(doc)
    assert list(js) == [run.pid], where
    try:
        _check(js[run.pid], run, file, main_name, marks, where)
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, doc)) from None

    # the text and the JSON agree (the spinner's innermost line moves on between the two)
    text_threads, js_threads = _by_name(procs[run.pid], "text"), _by_name(js[run.pid], "json")
    for name, t in text_threads.items():
        j = js_threads[name]
        assert (t.tid, t.state, t.waiting_for) == (j.tid, j.state, j.waiting_for), name
        tf, jf = t.frames, j.frames
        if name == "spinner":
            tf, jf = tf[1:], jf[1:]
        assert tf == jf, "%s: %s's frames differ:\n%s\n%s" % (interp.id, name, tf, jf)


def test_dump_pid_namespace():
    """The sid interpreter in its own PID and mount namespaces: TIDs are shown as the host's."""
    python = os.path.join(SID_ROOT, "usr/bin/python3.14")
    if not os.path.exists(python) or not shutil.which("unshare"):
        skip_or_fail("no sid root with python3.14 (make sid-root), or no unshare")
    inside = tempfile.mkdtemp(prefix="pyflare-dump-", dir=os.path.join(SID_ROOT, "tmp"))
    os.chmod(inside, 0o755)
    try:
        shutil.copy(os.path.join(os.path.dirname(__file__), "workloads", STEM + ".py"), inside)
        file = "/" + os.path.relpath(os.path.join(inside, STEM + ".py"), SID_ROOT)
        counter = "/" + os.path.relpath(os.path.join(inside, "counter"), SID_ROOT)

        def interp_pid(proc):
            kids = descendants(proc.pid)
            assert len(kids) == 1, kids
            return kids[0]

        run = _start(["unshare", "--pid", "--fork", "--mount", "--root", SID_ROOT, "--mount-proc",
                      "/usr/bin/python3.14", file, counter], os.path.join(inside, "counter"),
                     interp_pid)
        try:
            ns_to_host = {}
            for task in os.listdir("/proc/%d/task" % run.pid):
                with open("/proc/%d/task/%s/status" % (run.pid, task)) as f:
                    nspid = re.search(r"^NSpid:\s+(.*)$", f.read(), re.M).group(1).split()
                ns_to_host[int(nspid[-1])] = int(task)
            assert all(ns != host for ns, host in ns_to_host.items()), ns_to_host
            text = _dump(run.pid)
            procs = parse_text(text)
            comm = open("/proc/%d/comm" % run.pid).read().strip()
            try:
                _check(procs[run.pid], run, file, comm, markers(os.path.join(inside, STEM + ".py")),
                       "3.14 in namespaces", ns_to_host)
            except AssertionError as e:
                raise AssertionError("%s\n%s" % (e, text)) from None
        finally:
            kill_session(run.proc)
    finally:
        shutil.rmtree(inside, ignore_errors=True)


# --- errors -------------------------------------------------------------------------------


def test_dump_errors(py, placed_py):
    """Exit 3 for no such process or not Python, 2 without permission; the others still shown."""
    run = placed_py
    missing = 0x3ffffff0
    r = run_pyflare("dump", "-p", str(missing))
    assert r.returncode == 3 and "no such process" in r.stderr, r
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        r = run_pyflare("dump", "-p", str(sleeper.pid))
        assert r.returncode == 3 and "not a Python process" in r.stderr, r
        # several processes: each one read, the first failure decides the exit status
        r = run_pyflare("dump", "-p", "%d,%d" % (run.pid, sleeper.pid))
        assert r.returncode == 3, r
        assert list(parse_text(r.stdout)) == [run.pid], r.stdout
        r = run_pyflare("dump", "--json", "-p", str(run.pid), "-p", str(missing))
        assert r.returncode == 3, r
        doc = json.loads(r.stdout)
        assert [p["pid"] for p in doc["processes"]] == [run.pid, missing]
        assert doc["processes"][0]["error"] is None and len(doc["processes"][0]["threads"]) == 4
        assert doc["processes"][1]["error"] == "no such process"
        assert doc["processes"][1]["exit_status"] == 3
    finally:
        sleeper.kill()
        sleeper.wait()
    r = run_pyflare("dump")
    assert r.returncode == 1 and "nothing to dump" in r.stderr, r
    if shutil.which("setpriv"):
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            pyflare_path(), "dump", "-p", str(run.pid)],
                           capture_output=True, universal_newlines=True, timeout=60)
        assert r.returncode == 2 and "CAP_SYS_PTRACE" in r.stderr, r


@pytest.fixture
def placed_py(py, tmp):
    """deadlock.py under the one host interpreter of the CLI tests."""
    shutil.copy(os.path.join(os.path.dirname(__file__), "workloads", STEM + ".py"), tmp)
    run = _start(py.command(os.path.join(tmp, STEM + ".py"), os.path.join(tmp, "counter")),
                 os.path.join(tmp, "counter"))
    yield run
    kill_session(run.proc)
