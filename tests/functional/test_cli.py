# SPDX-License-Identifier: MIT
"""pyflare record as a user meets it: targets, errors, outputs, and the speedscope app.

These run against one interpreter each (the recording logic is version-independent and
covered per version by test_record.py), except where the version is the point.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import pythons
from conftest import skip_or_fail
from pyflare_run import load_collapsed, load_speedscope, pyflare_path, run_pyflare

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NPM_DIR = os.environ.get("PYFLARE_NPM_DIR", os.path.expanduser("~/.cache/pyflare/npm"))

BUSY = """
import sys, time
def busy_forever():
    while True:
        sum(range(1000))
print("ready", flush=True)
busy_forever()
"""


pytestmark = pytest.mark.usefixtures("root")
pyflare = run_pyflare


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def start_busy(py, tmp):
    """A running Python process in a known function; returns (Popen, pid)."""
    script = write(os.path.join(tmp, "busy.py"), BUSY)
    proc = subprocess.Popen(py.command(script), stdout=subprocess.PIPE, universal_newlines=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def cpu_seconds(pid):
    """The CPU seconds process @pid's main thread has run, as the kernel counts them."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def wait_for_line(stream, text, timeout=120):
    """Reads @stream (a pipe of text) until a line holds @text; returns the lines read, the
    last one holding it, or all of them (to EOF or @timeout) when none does."""
    import threading
    lines, found = [], threading.Event()

    def read():
        for line in stream:
            lines.append(line)
            if text in line:
                found.set()
                return
        found.set()

    threading.Thread(target=read, daemon=True).start()
    found.wait(timeout)
    return lines


# --- targets ----------------------------------------------------------------------------


def test_attach_to_running_pids(py, tmp):
    a, b = start_busy(py, tmp), start_busy(py, tmp)
    try:
        out = os.path.join(tmp, "run.speedscope.json")
        r = pyflare("record", "-p", "%d,%d" % (a.pid, b.pid), "-d", "1", "-o", out)
        assert r.returncode == 0, r.stderr
        rec = load_speedscope(out)
        assert sorted(set(rec.pids())) == sorted([a.pid, b.pid])
        for pid in (a.pid, b.pid):
            # present and busy; its share of a loaded 2-CPU machine is not the point here
            assert rec.process(pid).inclusive(lambda f: f.name == "busy_forever") > 0.05
        assert "2 processes attached" in r.stderr
    finally:
        a.kill(), b.kill()


def test_attach_stops_when_targets_exit(py, tmp):
    script = write(os.path.join(tmp, "short.py"), "import time\nt=time.thread_time()\n"
                   "while time.thread_time()-t < 1.0: pass\n")
    proc = subprocess.Popen(py.command(script))
    time.sleep(0.2)
    rec = subprocess.Popen([pyflare_path(), "record", "-p", str(proc.pid), "-o",
                            os.path.join(tmp, "x.folded")], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    # its 1 s of CPU takes longer on a busy machine: time pyflare from the target's exit
    proc.wait()
    exited = time.monotonic()
    try:
        _, err = rec.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        rec.kill()
        rec.communicate()
        raise AssertionError("recording did not stop when its target exited") from None
    assert rec.returncode == 0, err
    assert time.monotonic() - exited < 5, "recording did not stop when its target exited"


def test_all_finds_processes(py, tmp):
    a = start_busy(py, tmp)
    try:
        out = os.path.join(tmp, "all.speedscope.json")
        r = pyflare("record", "-a", "-d", "1", "-o", out)
        assert r.returncode == 0, r.stderr
        assert a.pid in load_speedscope(out).pids()
    finally:
        a.kill()


def test_sigint_still_writes_report(py, tmp):
    a = start_busy(py, tmp)
    try:
        out = os.path.join(tmp, "int.folded")
        p = subprocess.Popen([pyflare_path(), "record", "-v", "-p", str(a.pid), "-o", out],
                             stderr=subprocess.PIPE, universal_newlines=True)
        # attached (loading takes longer on a busy machine), then until the target has run
        # 0.3 s on a CPU: 30 samples at 99 Hz
        lines = wait_for_line(p.stderr, "attached 1 processes")
        assert lines and "attached 1 processes" in lines[-1], "".join(lines)
        start = cpu_seconds(a.pid)
        deadline = time.monotonic() + 120
        while cpu_seconds(a.pid) - start < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, "".join(lines) + err
        rec = load_collapsed(out)
        assert rec.inclusive(lambda f: f.name == "busy_forever") > 0.05, rec.describe()
    finally:
        a.kill()


def test_exec_never_mixes_images(py, tmp):
    """A process that execs another Python program runs a new image: no stack holds names
    from both images, and both are named right."""
    second = write(os.path.join(tmp, "second.py"), "import time\n"
                   "def after_exec():\n    t = time.thread_time()\n"
                   "    while time.thread_time() - t < 0.4: pass\nafter_exec()\n")
    first = write(os.path.join(tmp, "first.py"), "import os, sys, time\n"
                  "def before_exec():\n    t = time.thread_time()\n"
                  "    while time.thread_time() - t < 0.4: pass\n"
                  "before_exec()\nos.execv(sys.executable, [sys.executable, %r])\n" % second)
    out = os.path.join(tmp, "exec.speedscope.json")
    r = pyflare("record", "-o", out, "--", *py.command(first))
    assert r.returncode == 0, r.stderr
    rec = load_speedscope(out)
    stacks = [stack for stack, _ in rec.samples()]
    before = [st for st in stacks if any(f.name == "before_exec" for f in st)]
    after = [st for st in stacks if any(f.name == "after_exec" for f in st)]
    assert before and after, rec.describe()
    for st in before:
        assert all(f.file == first for f in st if f.file.startswith(tmp)), st
    for st in after:
        assert all(f.file == second for f in st if f.file.startswith(tmp)), st


DRIVE_CHROOT_CHILDREN = """
import os, subprocess, sys, time
root, python, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ld = os.path.join(root, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
children = []
for i in range(n):
    # the loader read from disk inside the child's exec: what pyflare sees in /proc mid-exec
    # lasts a disk read, not microseconds
    fd = os.open(ld, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    # each lives 1 s after its exec: a child gone before pyflare read it is neither attached
    # nor refused (CI's run missed 3 of 40 that ran `pass`); they overlap, so the run is short
    children.append(subprocess.Popen(["chroot", root, python, "-c", "import time; time.sleep(1)"]))
    time.sleep(0.05)
for c in children:
    c.wait()
"""


def instances_in(json_path):
    """The (PID, start time) of each process entry of a JSON report, in order."""
    with open(json_path) as f:
        return [(p["pid"], p["start_time"]) for p in json.load(f)["processes"]]


def test_exec_keeps_one_entry_per_process_instance(py, tmp):
    """A process instance is (PID, start time): one that execs another Python is one entry
    (named after what it runs last), and one process attached."""
    # each image runs 0.2 s of CPU: long enough to be attached on a busy machine
    second = write(os.path.join(tmp, "second.py"), "import time\nt = time.thread_time()\n"
                   "while time.thread_time() - t < 0.2: pass\n")
    first = write(os.path.join(tmp, "first.py"), "import os, sys, time\nt = time.thread_time()\n"
                  "while time.thread_time() - t < 0.2: pass\n"
                  "os.execv(sys.executable, [sys.executable, %r])\n" % second)
    out = os.path.join(tmp, "exec.json")
    r = pyflare("record", "-o", out, "--", *py.command(first))
    assert r.returncode == 0, r.stderr
    assert len(instances_in(out)) == 1, instances_in(out)
    assert "1 process attached" in r.stderr, r.stderr
    with open(out) as f:
        assert json.load(f)["processes"][0]["cmdline"].endswith("second.py")


def test_chroot_children_attached_once(tmp):
    """Children started through chroot, each forked by Python (an image pyflare may attach
    first) and exec'ing through chroot into sid's Python (one it may analyse mid-exec, before
    the kernel's exec event): each child is one process entry, counted once. On a pyflare
    that attaches an instance twice, about 1 child in 10 here was listed twice."""
    sid = pythons.by_id("3.14-sid")
    if not sid.available:
        skip_or_fail("3.14-sid: %s" % sid.missing)
    host = pythons.by_id("3.11-debian")
    if not host.available:
        skip_or_fail("3.11-debian: %s" % host.missing)
    drive = write(os.path.join(tmp, "drive.py"), DRIVE_CHROOT_CHILDREN)
    out = os.path.join(tmp, "children.json")
    n = 60
    r = pyflare("record", "-o", out, "--", *host.command(drive, sid.root, sid.argv[-1], str(n)),
                timeout=600)
    assert r.returncode == 0, r.stderr
    seen = instances_in(out)
    twice = sorted(i for i in set(seen) if seen.count(i) > 1)
    assert not twice, "attached twice: %s" % twice
    assert len(seen) >= n, seen
    assert "%d processes attached" % len(seen) in r.stderr, r.stderr


def test_chroot_children_refused_once(tmp):
    """The same with a Python newer than pyflare knows (sid's 3.15 saying 3.16), which
    pyflare refuses: each child refused once."""
    python = pythons.fake_newer_python()
    host = pythons.by_id("3.11-debian")
    if not python or not host.available:
        skip_or_fail("no python3.15 in the sid root (scripts/sid-root.sh), or no 3.11-debian")
    drive = write(os.path.join(tmp, "drive.py"), DRIVE_CHROOT_CHILDREN)
    out = os.path.join(tmp, "children.json")
    n = 40
    r = pyflare("record", "-o", out, "--", *host.command(
        drive, pythons.SID_ROOT, python, str(n)), timeout=600)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        refused = [p["pid"] for p in json.load(f)["refusals"]]
    twice = sorted(set(pid for pid in refused if refused.count(pid) > 1))
    assert not twice, "refused twice: %s" % twice
    assert len(refused) == n and "%d refused" % n in r.stderr, r.stderr


# --- errors -----------------------------------------------------------------------------


def test_no_such_pid():
    r = pyflare("record", "-p", "999999999"[:7])
    assert r.returncode == 3
    assert "no such process" in r.stderr


def test_pid_not_python(tmp):
    proc = subprocess.Popen(["sleep", "30"])
    try:
        r = pyflare("record", "-p", str(proc.pid))
        assert r.returncode == 3
        assert "not a Python process" in r.stderr
    finally:
        proc.kill()


def test_unwritable_output_fails_before_recording(py, tmp):
    start = time.monotonic()
    r = pyflare("record", "-o", "/nonexistent/dir/x.txt", "--", *py.command("-c", "pass"))
    assert r.returncode == 3
    assert "cannot write /nonexistent/dir/x.txt" in r.stderr
    assert time.monotonic() - start < 5


def test_command_not_found():
    r = pyflare("record", "--", "/nonexistent/command")
    assert r.returncode == 127
    assert "cannot run /nonexistent/command" in r.stderr


def test_usage_errors():
    for args, text in ((["record"], "nothing to profile"),
                       (["record", "-F", "0", "--", "true"], "bad rate"),
                       (["record", "-F", "10", "-i", "0.1", "--", "true"], "either --rate"),
                       (["record", "-r", "pdf", "--", "true"], "unknown format"),
                       (["record", "--granularity", "word", "--", "true"], "bad granularity"),
                       (["record", "-p", "12x"], "bad PID list"),
                       (["record", "-p", "1", "-a"], "cannot be combined"),
                       (["frobnicate"], "unknown command")):
        r = pyflare(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)


def test_py_spy_spellings(py, tmp):
    """py-spy's long options are pyflare's; its -r RATE, -f, --gil, --function and an empty
    -p $(pgrep ...) are answered with what to type instead, never misread."""
    a = start_busy(py, tmp)
    try:
        out = os.path.join(tmp, "raw.txt")
        r = pyflare("record", "--pid", str(a.pid), "--rate", "100", "--duration", "1",
                    "--nonblocking", "--idle", "--format", "raw", "-o", out)
        assert r.returncode == 0, r.stderr
        assert "(collapsed)" in r.stderr, r.stderr
        rec = load_collapsed(out)
        assert rec.inclusive(lambda f: f.name == "busy_forever") > 0.05
    finally:
        a.kill()
    for args, text in ((["-r", "100", "--", "true"], "did you mean -F 100?"),
                       (["-f", "speedscope", "--", "true"], "did you mean -r speedscope?"),
                       (["--format", "chrometrace", "--", "true"], "-t -o run.speedscope.json"),
                       (["--gil", "--", "true"], "--mode wall shows the waits for the GIL"),
                       (["--function", "--", "true"], "--granularity line"),
                       (["-p", "-d", "5"], "-p has no PID before '-d'"),
                       (["-p", "--", "true"], "-p has no PID before '--'")):
        r = pyflare("record", *args)
        assert r.returncode == 1, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)
    r = pyflare("dump", "-p", "--json")
    assert r.returncode == 1 and "-p has no PID before '--json'" in r.stderr, r.stderr


def test_help_and_version():
    r = pyflare("record", "--help")
    assert r.returncode == 0
    for opt in ("--pid", "--all", "--duration", "--rate", "--interval", "--output", "--format",
                "--granularity", "--quiet", "--subprocesses", "examples:"):
        assert opt in r.stdout
    r = pyflare("--version")
    assert r.returncode == 0 and r.stdout.startswith("pyflare ")


def test_not_root_is_explained(py):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) not found")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        pyflare_path(), "record", "--", "true"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 2, r.stderr
    assert "CAP_BPF" in r.stderr and "root" in r.stderr


# --- outputs ----------------------------------------------------------------------------


def test_several_outputs_and_atomic_files(py, tmp):
    script = write(os.path.join(tmp, "w.py"), "import time\ndef spin():\n    t=time.thread_time()\n"
                   "    while time.thread_time()-t < 0.5: pass\nspin()\n")
    outs = [os.path.join(tmp, n) for n in ("r.speedscope.json", "r.folded", "r.collapsed", "r.txt")]
    args = ["record", "-o", "-"]
    for o in outs:
        args += ["-o", o]
    r = pyflare(*args, "--", *py.command(script))
    assert r.returncode == 0, r.stderr
    json.load(open(outs[0]))
    assert load_collapsed(outs[1]).inclusive(lambda f: f.name == "spin") > 0.3
    assert open(outs[1]).read() == open(outs[2]).read()
    text = open(outs[3]).read()
    assert "spin" in text and "Samples:" in text and "Health:" in text
    assert "spin" in r.stdout, "-o - writes the text report to stdout"
    assert not glob.glob(os.path.join(tmp, "*.tmp.*")), "temporary files left behind"


def test_devices_are_written_not_replaced(py, tmp):
    """-o /dev/null must not rename a regular file over the device (we run as root)."""
    import stat
    r = pyflare("record", "-o", "/dev/null", "--", *py.command("-c", "pass"))
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null was replaced by a file"
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
    spin = "import time\nt = time.thread_time()\nwhile time.thread_time() - t < 0.3: pass\n"
    r = pyflare("record", "-r", "collapsed", "-o", fifo, "--", *py.command("-c", spin))
    out = reader.communicate(timeout=30)[0]
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and b"<module>" in out
    r = pyflare("record", "-o", tmp, "--", "true")
    assert r.returncode == 3 and "Is a directory" in r.stderr


def test_text_report(py, tmp):
    script = write(os.path.join(tmp, "t.py"), "import time\n"
                   "def leaf():\n    t=time.thread_time()\n    while time.thread_time()-t < 0.4: pass\n"
                   "def middle():\n    leaf()\n"
                   "middle()\n")
    r = pyflare("record", "--", *py.command(script))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    mid = [i for i, l in enumerate(lines) if " middle " in l + " "]
    leaf = [i for i, l in enumerate(lines) if " leaf " in l + " "]
    assert mid and leaf and leaf[0] > mid[0], r.stdout
    # rows are "seconds  qualname  file:line", the child indented under its caller
    assert lines[leaf[0]].index("leaf") > lines[mid[0]].index("middle")
    assert "%s:2" % script in lines[leaf[0]]

    def seconds(line):
        return float(re.search(r"(\d+\.\d+) ", line).group(1))

    def depth(line):
        return re.search(r"\d", line).start()

    # wall mode, the default: leaf's time is its 0.4 s on a CPU and, on a busy machine,
    # its waits for one, rows of their own below it
    waits = 0.0
    for line in lines[leaf[0] + 1:]:
        if not re.search(r"\d+\.\d+ ", line) or depth(line) <= depth(lines[leaf[0]]):
            break
        if re.search(r"\d \[[^]]+\]\s*$", line):
            waits += seconds(line)
    on_cpu = seconds(lines[leaf[0]]) - waits
    assert 0.3 <= on_cpu <= 0.5, "\n".join(lines[mid[0]:])


def test_line_granularity(py, tmp):
    script = write(os.path.join(tmp, "l.py"), "import time\n"
                   "def two_loops():\n"
                   "    t = time.thread_time()\n"
                   "    while time.thread_time() - t < 0.3: pass\n"
                   "    t = time.thread_time()\n"
                   "    while time.thread_time() - t < 0.3: pass\n"
                   "two_loops()\n")
    out = os.path.join(tmp, "l.folded")
    r = pyflare("record", "--granularity", "line", "-o", out, "--", *py.command(script))
    assert r.returncode == 0, r.stderr
    rec = load_collapsed(out)
    lines = {f.line for f in rec.frames(lambda f: f.name == "two_loops")}
    assert {4, 6} <= lines, lines


def test_asan_build_has_no_leaks_or_errors(py, tmp):
    binary = os.path.join(REPO, "build", "asan", "pyflare")
    if not os.path.exists(binary):
        skip_or_fail("build/asan/pyflare not built (make asan)")
    script = os.path.join(REPO, "demo", "app.py")
    outs = [os.path.join(tmp, n) for n in ("a.speedscope.json", "a.folded", "a.txt")]
    args = ["record", "-q"]
    for o in outs:
        args += ["-o", o]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    r = pyflare(*args, "--", *py.command(script), binary=binary, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ERROR: AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr
    assert "LeakSanitizer" not in r.stderr


def speedscope_app_check(path, shot):
    """speedscope's own schema accepts the file and the speedscope app shows it."""
    node = shutil.which("node")
    if not node or not os.path.exists(os.path.join(NPM_DIR, "node_modules", "speedscope")):
        skip_or_fail("node or the speedscope npm package is missing (make deps)")
    if not os.path.exists("/usr/bin/chromium"):
        skip_or_fail("chromium is missing (make deps)")
    check = subprocess.run([node, os.path.join(HERE, "speedscope_check.mjs"), path, shot],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=180,
                           env=dict(os.environ, PYFLARE_NPM_DIR=NPM_DIR))
    assert check.returncode == 0, check.stdout
    assert "schema ok" in check.stdout and os.path.getsize(shot) > 10000


def test_speedscope_schema_and_app(py, tmp):
    out = os.path.join(tmp, "demo.speedscope.json")
    r = pyflare("record", "-o", out, "--", *py.command(os.path.join(REPO, "demo", "app.py")))
    assert r.returncode == 0, r.stderr
    speedscope_app_check(out, os.path.join(REPO, "build", "speedscope-functional.png"))


def test_speedscope_timeline_in_app(py, tmp):
    """-t writes evented profiles; they pass the schema and open in the app too."""
    out = os.path.join(tmp, "timeline.speedscope.json")
    r = pyflare("record", "-t", "-o", out, "--", *py.command(os.path.join(REPO, "demo", "app.py")))
    assert r.returncode == 0, r.stderr
    assert any(p["type"] == "evented" for p in json.load(open(out))["profiles"])
    speedscope_app_check(out, os.path.join(REPO, "build", "speedscope-timeline.png"))


def record_running_patched(python):
    """pyflare record -p of a busy process of @python (a patched copy in the sid root, as
    pythons.patched_sid_python() makes): the refusal's stderr, after checking its status."""
    if not python:
        skip_or_fail("no python3.15 in the sid root (scripts/sid-root.sh)")
    busy = ["chroot", pythons.SID_ROOT, python, "-c",
            "import sys, time\nprint('ready', flush=True)\nwhile True: sum(range(100))"]
    proc = subprocess.Popen(busy, stdout=subprocess.PIPE, universal_newlines=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        r = pyflare("record", "-p", str(proc.pid), "-d", "1")
        assert r.returncode == 3, r.stderr
        return r.stderr
    finally:
        proc.kill()


def test_free_threaded_unreadable_refused():
    """A build whose _Py_DebugOffsets say free-threaded but give a GIL build's object header
    (sid's 3.15 with only the flag set) is refused with the reason, never read with either
    layout; the version carries CPython's ABI suffix."""
    err = record_running_patched(pythons.fake_free_threaded_python())
    assert re.search(r"free-threaded Python 3\.15\.\d+t is not supported: its "
                     r"_Py_DebugOffsets do not give PEP 703's 32-byte PyObject header "
                     r"with ob_type at 24", err), err


def test_unsupported_version_refused_by_name(tmp):
    """A CPython newer than the newest pyflare knows (sid's 3.15 whose _Py_DebugOffsets say
    3.16.0) is refused, by name, never read as 3.15."""
    root = pythons.SID_ROOT
    err = record_running_patched(pythons.fake_newer_python())
    assert "Python 3.16.0 is not supported (3.8 to 3.15 are)" in err, err
    # a command: found at its exec, refused, and named so in the report; nothing was
    # profiled, which the last line and the exit status say
    out = os.path.join(tmp, "r.speedscope.json")
    status, err = record_refused_command(root, out)
    assert status == 5, err
    assert "1 refused" in err and "not supported" in err, err
    assert err.splitlines()[-1].startswith("pyflare: error: nothing was profiled: the 1 "
                                           "process found was refused"), err
    meta = json.load(open(out))["pyflare"]
    assert meta["health"]["refused"] == 1
    assert "not supported" in meta["refusals"][0]["reason"]


def record_refused_command(root, out, exit_code=0, how=None):
    """Records a Python newer than pyflare knows (pythons.fake_newer_python()) as a command,
    which pyflare refuses; the command then exits with @exit_code. Returns (pyflare's status,
    its stderr). The command lives until pyflare has said it refused it (its stdin is
    pyflare's): found late on a busy machine, a process that had already exited could not
    be refused at all. @how: the command and options before the command (default: record
    -o @out)."""
    how = how or ["record", "-o", out]
    p = subprocess.Popen([pyflare_path()] + how + ["--", "chroot", root,
                          pythons.fake_newer_python(), "-c",
                          "import sys; sys.stdin.read(); sys.exit(%d)" % exit_code],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    lines = wait_for_line(p.stderr, "not profiling process")
    p.stdin.close()
    try:
        rest = p.stderr.read()
        p.wait(timeout=60)
    finally:
        p.kill()
    return p.returncode, "".join(lines) + rest


def test_nothing_profiled_exit_status(tmp):
    """Every process refused: exit status 5, so that CI notices, unless the command's own
    status is not 0, which wins. A command that runs no Python is no refusal: its status."""
    r = pyflare("record", "--", "sleep", "0.2")
    assert r.returncode == 0, r.stderr
    assert "no Python process was found" in r.stdout, r.stdout
    assert "nothing was profiled" not in r.stderr, r.stderr
    r = pyflare("record", "--", "sh", "-c", "exit 3")
    assert r.returncode == 3, r.stderr
    root = pythons.SID_ROOT
    if not pythons.fake_newer_python():
        skip_or_fail("no python3.15 in the sid root (scripts/sid-root.sh)")
    status, err = record_refused_command(root, os.path.join(tmp, "r.txt"), exit_code=7)
    assert status == 7, err
    assert "1 refused" in err, err


def test_top_nothing_profiled_exit_status():
    """pyflare top says and exits as record does: 5 when every process was refused, the
    command's own status when it is not 0."""
    root = pythons.SID_ROOT
    if not os.path.exists(os.path.join(root, "usr/bin/python3.15")):
        skip_or_fail("no python3.15 in the sid root (scripts/sid-root.sh)")
    top = ["top", "--delay", "0.5"]
    status, err = record_refused_command(root, None, how=top)
    assert status == 5, err
    assert err.splitlines()[-1].startswith("pyflare: error: nothing was profiled: the 1 "
                                           "process found was refused"), err
    status, err = record_refused_command(root, None, exit_code=7, how=top)
    assert status == 7, err
    assert "nothing was profiled" not in err, err
    r = pyflare("top", "--delay", "0.5", "--", "sleep", "0.2")
    assert r.returncode == 0, r.stderr
    assert "nothing was profiled" not in r.stderr, r.stderr


def test_process_name_is_escaped_on_the_terminal(tmp):
    """A process names itself (prctl PR_SET_NAME, any bytes): -v's "profiling process" line
    shows its escape sequences and bidirectional overrides escaped (lib/escape.h), never raw."""
    rename = ("import ctypes, time\n"
              "ctypes.CDLL(None).prctl(15, b'x\\x1b[2J\\xe2\\x80\\xae', 0, 0, 0)\n"
              "print('ready', flush=True)\n"
              "end = time.time() + 30\n"
              "while time.time() < end: sum(range(100))\n")
    proc = subprocess.Popen(["/usr/bin/python3.11", "-c", rename], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        r = subprocess.run([pyflare_path(), "record", "-v", "-p", str(proc.pid), "-d", "0.3",
                            "-o", os.path.join(tmp, "r.json")], capture_output=True, timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stderr.split(b"\n")
            if x.startswith(b"pyflare: profiling process %d " % proc.pid)]
    assert len(line) == 1, r.stderr
    assert b"(x\\x1b[2J\\u202e)" in line[0], line[0]
    assert all(0x20 <= b < 0x7f for b in line[0]), line[0]
