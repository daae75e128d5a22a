# SPDX-License-Identifier: MIT
"""test_scale.py — many processes at once, many coming and going, and PIDs used twice.

From the issue "Host-wide and container profiling": 1000 concurrent Python processes are
attached in under 2 s, each costing under 1 KiB of BPF map memory; 200 short-lived Python
processes are handled without leaking map entries, file descriptors or memory; a PID reused
by a new process never inherits old names; binaries are analysed once per file.

pyflare runs in the background here (Running) while the tests look at it from outside:
its BPF maps through bpftool (found by the map ids in its /proc/PID/fdinfo, so another
pyflare on the machine is never looked at), its descriptors and its memory in /proc.
"""
import ctypes
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
from pyflare_run import REPO, load_speedscope, pyflare_path

pytestmark = pytest.mark.usefixtures("root")

ATTACH_LIMIT_S = 2.0  # the bound for 1000 processes
MAP_BYTES_LIMIT = 1024  # per process, procs + watched


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


class Running:
    """`pyflare record ARGS` in the background, its stderr in a file (a pipe nobody empties
    fast enough would slow it down: -v writes a line per process)."""

    def __init__(self, args, log, binary=None, env=None, command="record"):
        self.log = log
        with open(log, "w") as err:
            self.proc = subprocess.Popen([binary or pyflare_path(), command] + list(args),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, env=env)

    @property
    def lines(self):
        with open(self.log, errors="replace") as f:
            return f.readlines()

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self):
        return "".join(self.lines)

    def wait_for(self, pattern, timeout=30):
        """The first match of @pattern in stderr, waiting for it to be written."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            exited = self.proc.poll() is not None
            for line in self.lines:
                m = regex.search(line)
                if m:
                    return m
            if exited or time.monotonic() > deadline:
                raise AssertionError("pyflare never wrote /%s/; exit %s; stderr tail:\n%s" % (
                    pattern, self.proc.poll(), "".join(self.lines[-20:])))
            time.sleep(0.05)

    def stop(self, timeout=60):
        """Ctrl-C, as a user would; returns the exit status once the report is written."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --- what the running pyflare holds -----------------------------------------------------------


def bpf_maps(pid):
    """The BPF maps process @pid holds, by name: bpftool's description of each."""
    maps = {}
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            info = json.loads(subprocess.check_output(
                ["bpftool", "-j", "map", "show", "id", m.group(1)]))
            maps[info.get("name")] = info
    return maps


def map_keys(map_id):
    """The keys (host PIDs) of a hash map keyed by __u32.

    Under -a this test is a profiled Python, so pyflare follows its children: the bpftool
    that dumps `watched` is in it. That one is left out."""
    dump = subprocess.Popen(["bpftool", "-j", "map", "dump", "id", str(map_id)],
                            stdout=subprocess.PIPE)
    out = json.loads(dump.communicate()[0])
    assert dump.returncode == 0
    keys = []
    for entry in out:
        formatted = entry.get("formatted")
        if formatted is not None:
            keys.append(int(formatted["key"]))
        else:
            keys.append(int.from_bytes(bytes(int(b, 16) for b in entry["key"]), "little"))
    return [k for k in keys if k != dump.pid]


def alive(pid):
    """Whether @pid is a process that has not exited (a zombie has)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s*(\d+) kB", f.read(), re.M).group(1))


def eventually(check, timeout=5.0, step=0.1):
    """check() until it returns a true value or @timeout passes; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(step)


def dead_entries(maps):
    """{map name: PIDs in it that are not live processes} for procs and watched."""
    return {name: sorted(p for p in map_keys(maps[name]["id"]) if not alive(p))
            for name in ("procs", "watched")}


def executables():
    """The distinct files the host's processes run."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            st = os.stat("/proc/%s/exe" % pid)
        except OSError:
            continue
        found.add((st.st_dev, st.st_ino))
    return found


def cache_counts(stderr, when):
    """(analysed, recognised) from the collector's -v line about interpreter files."""
    m = re.search(r"%s: interpreter files analysed (\d+) times, recognised (\d+) times" % when,
                  stderr)
    assert m, "no %s line about interpreter files in:\n%s" % (when, stderr[-3000:])
    return int(m.group(1)), int(m.group(2))


# --- 1000 processes at once -------------------------------------------------------------------

FORKER = r'''
import os, sys

r, w = os.pipe()

def parked():
    os.read(r, 1)  # until the parent closes the pipe

kids = []
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        os.close(w)
        parked()
        os._exit(0)
    kids.append(pid)
os.close(r)
print(" ".join(map(str, kids)), flush=True)
sys.stdin.readline()
os.close(w)
for pid in kids:
    os.waitpid(pid, 0)
'''


def test_thousand_processes(py, tmp):
    """1000 idle Python processes (forks of one): all attached by a host-wide recording in
    under 2 s (pyflare's own attach phase: the /proc scan, the analyses, the map updates),
    at under 1 KiB of BPF map memory each, their interpreter file analysed once."""
    n = 1000
    forker = subprocess.Popen(py.command(write(os.path.join(tmp, "forker.py"), FORKER), str(n)),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              universal_newlines=True)
    running = None
    try:
        kids = [int(p) for p in forker.stdout.readline().split()]
        assert len(kids) == n
        ours = set(kids) | {forker.pid}
        out = os.path.join(tmp, "thousand.speedscope.json")
        running = Running(["-a", "-v", "-o", out], os.path.join(tmp, "thousand.log"))
        m = running.wait_for(r"attached (\d+) processes in ([0-9.]+) s", timeout=60)
        attached, seconds = int(m.group(1)), float(m.group(2))
        analysed, recognised = cache_counts(running.stderr(), "attach")
        maps = bpf_maps(running.pid)
        in_map = set(map_keys(maps["procs"]["id"]))
        per_process = sum(maps[name]["bytes_memlock"] / maps[name]["max_entries"]
                          for name in ("procs", "watched"))
        print("attached %d processes in %.3f s; interpreter files analysed %d times, "
              "recognised %d times; %.0f bytes of BPF map per process"
              % (attached, seconds, analysed, recognised, per_process))
        assert attached >= n + 1
        assert seconds < ATTACH_LIMIT_S, "attaching %d processes took %.3f s" % (attached, seconds)
        assert ours <= in_map, "%d of ours not in procs" % len(ours - in_map)
        assert per_process < MAP_BYTES_LIMIT, maps
        # one python for all of them: its files analysed once, not once per process; the
        # others once per executable (and libpython) the host runs
        assert recognised >= n, (analysed, recognised)
        assert analysed <= len(executables()) + 20, (analysed, recognised)

        assert running.stop() == 0, running.stderr()[-3000:]
        doc = json.load(open(out))
        reported = {p["pid"] for p in doc["pyflare"]["processes"]}
        assert ours <= reported, "%d of ours missing from the report" % len(ours - reported)
    finally:
        if running:
            running.kill()
        forker.stdin.close()
        forker.wait(60)


# --- 200 processes coming and going -----------------------------------------------------------

CHURN_CHILD = r'''
import time

def churn_work():
    t = time.thread_time()
    while time.thread_time() - t < 0.003:
        pass

churn_work()
'''

# The churn drivers' work in a fork and their reaping of children.
CHURN_HELPERS = r'''
import os, sys, time

def forked_work():
    t = time.thread_time()
    while time.thread_time() - t < 0.003:
        pass

def reap(block):
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
'''

CHURN = CHURN_HELPERS + r'''
n, rate, child = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]

print("ready", flush=True)
sys.stdin.readline()
pids = []
start = time.monotonic()
for i in range(n):
    delay = start + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    if i % 2:  # a fork of this Python, which pyflare follows
        pid = os.fork()
        if pid == 0:
            forked_work()
            os._exit(0)
    else:  # a new interpreter, found by its exec
        pid = os.posix_spawn(sys.executable, [sys.executable, "-S", child], os.environ)
    pids.append(pid)
    reap(False)
reap(True)
print("%.2f %s" % (time.monotonic() - start, " ".join(map(str, pids))), flush=True)
sys.stdin.readline()
'''


def churn(py, tmp, binary=None, env=None):
    """Runs 200 short-lived Python processes (100 a second) under `pyflare record -a`.

    Returns (running pyflare, the driver, the churn PIDs, {"baseline"/"after": (fds, RSS in
    KiB)}, the output file): pyflare still runs, the churn is over, every process reaped."""
    child = write(os.path.join(tmp, "churn_child.py"), CHURN_CHILD)
    driver = subprocess.Popen(py.command(write(os.path.join(tmp, "churn.py"), CHURN),
                                         "200", "100", child),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              universal_newlines=True)
    assert driver.stdout.readline().strip() == "ready"
    out = os.path.join(tmp, "churn.speedscope.json")
    # only ours (their command lines name tmp): what others run here does not move the numbers
    running = Running(["-a", "--cmdline", re.escape(tmp), "-v", "-F", "499", "-o", out],
                      os.path.join(tmp, "churn.log"), binary=binary, env=env)
    try:
        running.wait_for(r"attached \d+ processes in")
        assert driver.pid in set(map_keys(bpf_maps(running.pid)["procs"]["id"]))
        time.sleep(0.5)  # the first progress and housekeeping rounds, then measure
        usage = {"baseline": (fd_count(running.pid), rss_kib(running.pid))}
        cpu = cpu_seconds(running.pid)
        driver.stdin.write("go\n")
        driver.stdin.flush()
        line = driver.stdout.readline().split()
        took, pids = float(line[0]), [int(p) for p in line[1:]]
        assert len(pids) == 200
        print("200 processes started in %.2f s; pyflare used %.2f s of CPU meanwhile"
              % (took, cpu_seconds(running.pid) - cpu))
        maps = bpf_maps(running.pid)
        left = eventually(lambda: not any(dead_entries(maps).values()))
        assert left, "BPF map entries of processes that are gone: %s" % dead_entries(maps)
        kept = set(map_keys(maps["procs"]["id"])) | set(map_keys(maps["watched"]["id"]))
        assert not kept & set(pids)
        baseline_fds = usage["baseline"][0]
        eventually(lambda: fd_count(running.pid) <= baseline_fds)
        usage["after"] = (fd_count(running.pid), rss_kib(running.pid))
        print("pyflare: %d fds and %d KiB resident before, %d fds and %d KiB after"
              % (usage["baseline"] + usage["after"]))
        return running, driver, pids, usage, out
    except BaseException:
        running.kill()
        driver.kill()
        driver.wait()
        raise


def check_churn_report(running, pids, out, child, forks_too=True):
    """The report of a churn: the new interpreters attached after their exec (they live
    some 20 ms) and named right; the forks (a few ms) with them when @forks_too."""
    stderr = running.stderr()
    rec = load_speedscope(out)
    doc = json.load(open(out))
    reported = {p["pid"] for p in doc["pyflare"]["processes"]}
    execd = {p["pid"] for p in doc["pyflare"]["processes"] if " -S " in p["cmdline"]}
    print("%d of the %d churn processes attached, %d of the 100 new interpreters after exec"
          % (len(reported & set(pids)), len(pids), len(execd & set(pids))))
    assert len(execd & set(pids)) >= 50, stderr[-2000:]
    work = rec.frames(lambda f: f.name == "churn_work")
    assert work and all(f.file == child for f in work), work
    if forks_too:
        assert len(reported & set(pids)) >= 150, stderr[-2000:]
        assert rec.frames(lambda f: f.name == "forked_work")
    # one interpreter for 100 new processes: its files analysed a handful of times
    analysed, recognised = cache_counts(stderr, "end")
    assert analysed < 20 and recognised >= 100, (analysed, recognised)


def test_churn_leaves_nothing_behind(py, tmp):
    running, driver, pids, usage, out = churn(py, tmp)
    try:
        (fds0, rss0), (fds1, rss1) = usage["baseline"], usage["after"]
        assert fds1 == fds0, "pyflare held %d descriptors before the churn, %d after" % (fds0, fds1)
        # what 200 processes legitimately add: their session entries, names, samples
        assert rss1 - rss0 < 4 * 1024, "resident memory grew by %d KiB" % (rss1 - rss0)
        assert running.stop() == 0, running.stderr()[-3000:]
        check_churn_report(running, pids, out, os.path.join(tmp, "churn_child.py"))
    finally:
        running.kill()
        driver.stdin.close()
        driver.wait(30)


def test_churn_asan_build(py, tmp):
    """The same under AddressSanitizer and LeakSanitizer: no error, nothing leaked at exit."""
    binary = os.path.join(REPO, "build", "asan", "pyflare")
    if not os.path.exists(binary):
        skip_or_fail("build/asan/pyflare not built (make asan)")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    running, driver, pids, usage, out = churn(py, tmp, binary=binary, env=env)
    try:
        assert usage["after"][0] == usage["baseline"][0]
        status = running.stop(timeout=120)
        stderr = running.stderr()
        assert status == 0, stderr[-3000:]
        assert "ERROR: AddressSanitizer" not in stderr and "runtime error" not in stderr
        assert "LeakSanitizer" not in stderr, stderr[-3000:]
        # slower, it attaches fewer of the forks that only live a few ms
        check_churn_report(running, pids, out, os.path.join(tmp, "churn_child.py"),
                           forks_too=False)
    finally:
        running.kill()
        driver.stdin.close()
        driver.wait(30)


# --- one PID, two processes -------------------------------------------------------------------

SPIN = r'''
import time

def %s():
    t = time.thread_time()
    while time.thread_time() - t < 0.5:
        pass

%s()
'''

# Runs OLD, then a new process with OLD's PID (clone3's set_tid) that runs NEW.
REUSE = r'''
import ctypes, os, signal, sys

old_exe, old_script, new_exe, new_script = sys.argv[1:5]
old = os.posix_spawn(old_exe, [old_exe, old_script], os.environ)
os.waitpid(old, 0)

class CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size",
        "tls", "set_tid", "set_tid_size")]

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
tid = (ctypes.c_int32 * 1)(old)
args = CloneArgs(exit_signal=signal.SIGCHLD, set_tid=ctypes.addressof(tid), set_tid_size=1)
new = libc.syscall(ctypes.c_long(435), ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args)))
if new == 0:  # the child: nothing but exec
    try:
        os.execv(new_exe, [new_exe, new_script])
    finally:
        os._exit(127)
if new < 0:
    print("clone3: %s" % os.strerror(ctypes.get_errno()), flush=True)
    sys.exit(1)
os.waitpid(new, 0)
print(old, new, flush=True)
'''


def test_reused_pid_gets_its_own_names(py, tmp):
    """A process, then another with the same PID, each renamed by its program's file name:
    each one's samples carry its own functions and its own name, never the other's."""
    old_exe, new_exe = os.path.join(tmp, "pyf-old"), os.path.join(tmp, "pyf-new")
    for link in (old_exe, new_exe):
        os.symlink(os.path.realpath(py.argv[0]), link)  # the name becomes the process's comm
    old_script = write(os.path.join(tmp, "old.py"), SPIN % (("old_only_function",) * 2))
    new_script = write(os.path.join(tmp, "new.py"), SPIN % (("new_only_function",) * 2))
    driver = write(os.path.join(tmp, "reuse.py"), REUSE)
    out = os.path.join(tmp, "reuse.speedscope.json")
    r = subprocess.run([pyflare_path(), "record", "-F", "499", "-o", out, "--"]
                       + py.command(driver, old_exe, old_script, new_exe, new_script),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    if r.stdout.startswith("clone3:"):
        skip_or_fail("cannot choose a new process's PID here (%s)" % r.stdout.strip())
    assert r.returncode == 0, r.stderr
    old, new = (int(x) for x in r.stdout.split())
    assert old == new, "the PID was not reused: %d, then %d" % (old, new)

    rec = load_speedscope(out)
    with_old = rec.holding(lambda f: f.name == "old_only_function")
    with_new = rec.holding(lambda f: f.name == "new_only_function")
    assert with_old.profiles and with_new.profiles, rec.describe()
    for p in with_old.profiles:
        assert (p.pid, p.comm, p.thread) == (old, "pyf-old", "pyf-old"), p.name
        assert not any(f.name == "new_only_function" for s, _ in p.samples for f in s), p.name
    for p in with_new.profiles:
        assert (p.pid, p.comm, p.thread) == (old, "pyf-new", "pyf-new"), p.name
        assert not any(f.name == "old_only_function" for s, _ in p.samples for f in s), p.name
    assert all(f.file == old_script for f in rec.frames(lambda f: f.name == "old_only_function"))
    assert all(f.file == new_script for f in rec.frames(lambda f: f.name == "new_only_function"))
    procs = [p for p in json.load(open(out))["pyflare"]["processes"] if p["pid"] == old]
    assert {"pyf-old", "pyf-new"} <= {p["comm"] for p in procs}, procs


# --- one path, two files ----------------------------------------------------------------------


def test_one_path_two_files(tmp):
    """Two containers showing different interpreters under one path (the sid root's 3.14,
    and a Python newer than pyflare knows mounted over it in a mount namespace of its own):
    each is judged by its own file, not by the path: the first is profiled, the second
    refused as 3.16."""
    root = pythons.SID_ROOT
    path = "/usr/bin/python3.14"
    newer = pythons.fake_newer_python()
    if not newer or not os.path.exists(os.path.join(root, path.lstrip("/"))):
        skip_or_fail("no python3.14 and python3.15 in the sid root (scripts/sid-root.sh)")
    if not shutil.which("unshare"):
        skip_or_fail("unshare is not installed")
    marker = "pyflare-one-path-%d" % os.getpid()
    body = "import time\nprint('ready', flush=True)\nwhile True: time.sleep(0.05)  # %s" % marker
    real = subprocess.Popen(["chroot", root, path, "-c", body], stdout=subprocess.PIPE,
                            universal_newlines=True)
    other = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount --bind "$1$4" "$1$2" && exec chroot "$1" "$2" -c "$3"',
         "sh", root, path, body, newer], stdout=subprocess.PIPE, universal_newlines=True)
    try:
        for p in (real, other):
            assert p.stdout.readline().strip() == "ready"
        out = os.path.join(tmp, "paths.speedscope.json")
        r = subprocess.run([pyflare_path(), "record", "-a", "-v", "--cmdline", marker, "-d",
                            "0.5", "-o", out], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        assert r.returncode == 0, r.stderr
        doc = json.load(open(out))["pyflare"]
        profiled = {p["pid"]: p for p in doc["processes"]}
        refused = {p["pid"]: p for p in doc["refusals"]}
        assert real.pid in profiled, r.stderr
        assert profiled[real.pid]["python_version"].startswith("3.14")
        assert profiled[real.pid]["exe"] == path
        others = [pid for pid in refused if "Python 3.16" in refused[pid]["reason"]]
        assert len(others) == 1 and others[0] not in profiled, (doc["refusals"], r.stderr)
    finally:
        for p in (real, other):
            p.kill()
            p.wait()


# --- thousands of processes coming and going: what the collector keeps returns to its size ----

# Under -v the collector says the size of each of its tables every 2 s (record/tables.c).
TABLES = re.compile(r"tables: (.*); session: (.*)")
# Per process instance: each must be back to its size before the churn once it is over.
PER_PROCESS = ("tracked", "by_pid", "instances", "threads", "pending", "tls_todo", "wall_stacks",
               "sym_instances", "bpf_procs", "bpf_watched")
# The driver's own code objects and frames: it runs the same code in the warm-up as in the
# churn, but a line it was not sampled at before adds a frame.
DRIVER_SLACK = 50

CHURN_MANY = CHURN_HELPERS + r'''
rate, child = float(sys.argv[1]), sys.argv[2]

def run(n):
    """n short-lived processes at @rate a second, half forks, half new interpreters."""
    start = time.monotonic()
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if i % 2:
            pid = os.fork()
            if pid == 0:
                forked_work()
                os._exit(0)
        else:
            os.posix_spawn(sys.executable, [sys.executable, "-S", child], os.environ)
        reap(False)
    reap(True)
    return time.monotonic() - start

print("ready", flush=True)
for line in sys.stdin:
    took = run(int(line))
    print("%.2f" % took, flush=True)
'''


def tables(running):
    """({table: entries}, {session table: entries}) of the last "tables:" line, and how many
    such lines there were."""
    found = [TABLES.search(line) for line in running.lines]
    found = [m for m in found if m]
    assert found, "no tables line (pyflare -v): %s" % running.stderr()[-2000:]

    def parse(text):
        return {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", text)}

    return parse(found[-1].group(1)), parse(found[-1].group(2)), len(found)


def next_tables(running, timeout=30):
    """The tables of a line written after this call (the collector sweeps every 2 s)."""
    seen = tables(running)[2]
    eventually(lambda: tables(running)[2] > seen, timeout=timeout)
    return tables(running)


# Recursing to every depth from 1 to 1500 in turn, a loop at the bottom: a new stack (and leaf
# instruction) at nearly every sample, as a long-lived service's long tail of paths makes.
MANY_STACKS = r'''
import sys, time
sys.setrecursionlimit(5000)

def down(n):
    if n > 0:
        return down(n - 1)
    x = 0
    for i in range(2000):
        x += i * i
    return x

end = time.process_time() + float(sys.argv[1])
depth = 0
while time.process_time() < end:
    depth = depth % 1500 + 1
    down(depth)
'''
STACKS_KEPT_MAX = 4096  # record/events.c


def test_stack_cache_bounded(py, tmp):
    """A process that keeps meeting new stacks: the stacks it keeps symbolized (-v's
    kept_stacks) stay within their bound all along, and are used."""
    script = write(os.path.join(tmp, "many_stacks.py"), MANY_STACKS)
    out = os.path.join(tmp, "many_stacks.folded")
    # 5 s of its CPU, -v's tables every 2 s of the recording's
    r = subprocess.run([pyflare_path(), "record", "-v", "-F", "9999", "-o", out, "--"]
                       + py.command(script, "5"), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True,
                       errors="replace", timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    kept = [int(k) for k in re.findall(r"kept_stacks (\d+)", r.stderr)]
    assert kept, "no tables line (pyflare -v): %s" % r.stderr[-2000:]
    assert max(kept) <= STACKS_KEPT_MAX, "kept_stacks over time: %s" % kept
    assert max(kept) >= STACKS_KEPT_MAX // 8, "the cache hardly used: kept_stacks %s" % kept


# The most symbolizer entries a program can make (python/symbolize.c): a frame key per
# instruction, and a code, a kernel-name and a not-started key per code object.
CODE_POSITIONS = r'''
import dis, sys, types

def positions(co):
    return 3 + len(list(dis.get_instructions(co))) + sum(
        positions(c) for c in co.co_consts if isinstance(c, types.CodeType))

print(positions(compile(open(sys.argv[1]).read(), sys.argv[1], "exec")))
'''


def churn_driver(py, tmp, rate):
    """CHURN_MANY running, ready: (its process, churn_of(count): how long @count processes
    took it, started at @rate a second at most, the most symbolizer entries its own code can
    make under @py)."""
    child = write(os.path.join(tmp, "churn_child.py"), CHURN_CHILD)
    many = write(os.path.join(tmp, "churn_many.py"), CHURN_MANY)
    positions = int(subprocess.run(
        py.command(write(os.path.join(tmp, "positions.py"), CODE_POSITIONS), many),
        stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout)
    driver = subprocess.Popen(py.command(many, str(rate), child),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              universal_newlines=True)
    assert driver.stdout.readline().strip() == "ready"

    def churn_of(count):
        driver.stdin.write("%d\n" % count)
        driver.stdin.flush()
        return float(driver.stdout.readline())

    return driver, churn_of, positions


def churn_and_check(running, churn_of, n, settle, attached, driver_entries,
                    session_back=False):
    """A warm-up of 200 processes (the driver's code sampled and read, the tables grown to
    their working size, the session's first entries), the tables after a sweep, @n
    processes, the tables again (@settle seconds after each churn): every per-process table
    back to its size, and resident memory grown by no more than what a session keeps of each
    (its entry, command line, cgroup, threads: some 0.5 KiB). @attached(session tables
    before, after): how many processes were attached. @session_back (the agent, whose
    session lets ended processes go at each slice): the session's tables back to their size
    too, but for the driver's lines. @driver_entries: the most symbolizer entries the
    driver's own code can add (it is sampled at lines the warm-up did not reach)."""
    churn_of(200)
    time.sleep(settle)
    before, session_before, _ = next_tables(running)
    before, session_before, _ = next_tables(running)
    rss_before = rss_kib(running.pid)
    took = churn_of(n)
    time.sleep(settle)
    after, session_after, _ = next_tables(running)
    after, session_after, _ = next_tables(running)
    rss_after = rss_kib(running.pid)
    added = attached(session_before, session_after)
    print("%d processes in %.1f s, %d of them attached; tables before %s, after %s; "
          "RSS %d KiB before, %d KiB after (%+.2f KiB a process attached)" % (
              n, took, added, before, after, rss_before, rss_after,
              (rss_after - rss_before) / max(1, added)))
    # each lives a few ms: the kernel wakes the collector for each exec and fork, so nearly
    # all are attached (3,233 lines for 3,000 here, 4,254 beside stress-ng --cpu 2); left to
    # wait for the agent's 100 ms look behind unwoken samples, 629
    assert added >= n // 2, "only %d of %d processes attached" % (added, n)
    grown = {k: (before[k], after[k]) for k in PER_PROCESS if after[k] != before[k]}
    assert not grown, "tables not back to their size (before, after): %s" % grown
    for k, slack in (("sym_codes", DRIVER_SLACK), ("sym_entries", driver_entries),
                     ("kept_stacks", DRIVER_SLACK)):
        assert after[k] <= before[k] + slack, (k, before[k], after[k], slack)
    if session_back:
        # the processes and threads alive at each reading (the driver, a straggler or two)
        for k, slack in (("processes", 3), ("threads", 3), ("frames", DRIVER_SLACK),
                         ("stacks", DRIVER_SLACK)):
            assert session_after[k] <= session_before[k] + slack, (
                "the session kept what %d ended processes left: %s %d before, %d after" % (
                    n, k, session_before[k], session_after[k]))
    assert rss_after - rss_before <= 1.5 * added, (rss_before, rss_after, added)


def test_churn_tables_return(py, tmp):
    """PYFLARE_CHURN_PROCESSES (2000) short-lived Python processes under `record -a`: every
    per-process table the collector keeps (its processes, threads, code caches, instance
    keys, the kernel's maps) is back to its size before once they are gone, and resident
    memory grows only by what the session keeps of each (its process and thread entries).
    10,000 take some 2 minutes more: PYFLARE_CHURN_PROCESSES=10000."""
    n = int(os.environ.get("PYFLARE_CHURN_PROCESSES", "2000"))
    driver, churn_of, driver_entries = churn_driver(py, tmp, 100)
    running = Running(["-a", "--cmdline", re.escape(tmp), "-v", "-F", "499", "-o",
                       os.path.join(tmp, "churn.json")], os.path.join(tmp, "churn.log"))
    try:
        running.wait_for(r"attached \d+ processes in")
        churn_and_check(running, churn_of, n, 0,
                        lambda before, after: after["processes"] - before["processes"],
                        driver_entries)
        assert running.stop() == 0, running.stderr()[-3000:]
    finally:
        running.kill()
        driver.stdin.close()
        driver.wait(30)


def test_agent_ten_thousand_processes(py, tmp):
    """Short-lived Python processes (half new interpreters, `python -S`, half forks) under
    `pyflare agent`: once they are gone, every per-process table the collector keeps
    (processes, threads, code caches, instance keys, the kernel's maps) is back to its size
    before, and so are the live session's (it lets what ended processes left go at each
    slice's cut, record/rebase.c). The issue asks for 10,000 (PYFLARE_AGENT_CHURN_PROCESSES=10000):
    they start at 150 a second at most, but on this 2-CPU VM at a load average of 70 only
    about 20 a second got started (10,000 took 9 minutes), so 3,000 by default: under 3
    minutes under that load (50 s when it was lighter)."""
    n = int(os.environ.get("PYFLARE_AGENT_CHURN_PROCESSES", "3000"))
    driver, churn_of, driver_entries = churn_driver(py, tmp, 150)
    d = os.path.join(tmp, "agent")
    running = Running(["--dir", d, "--cmdline", re.escape(tmp), "-v", "-F", "499", "--slice",
                       "2", "--window", "10"], os.path.join(tmp, "agent.log"), command="agent")
    try:
        running.wait_for(r"attached \d+ processes in")
        # the warm-up's and the churn's slices out of the window (--window 10) when measured
        churn_and_check(running, churn_of, n, 12, lambda before, after: len(
            [line for line in running.lines if "profiling process " in line]),
            driver_entries, session_back=True)
        assert running.stop() == 0, running.stderr()[-3000:]
    finally:
        running.kill()
        driver.stdin.close()
        driver.wait(30)
