# SPDX-License-Identifier: MIT
"""test_containers.py — --container and --cgroup choose exactly the processes inside.

Containers are made the way runtimes make them: PID, mount and UTS namespaces (unshare), the
Debian sid root with its own CPython 3.14 (scripts/sid-root.sh), and a cgroup v2 folder named
as docker names it. Processes outside, in another container or on the host, must not appear;
a process moved in is found, one moved out stops counting; one started mid-recording
appears quickly.
"""
import datetime
import glob
import json
import os
import secrets
import shutil
import subprocess
import sys
import time

import pytest

from conftest import skip_or_fail
from pyflare_run import REPO, descendants, pyflare_path

SID_ROOT = "/var/cache/pyflare/sid-root"
HOST_PYTHON = "/usr/bin/python3"

# Spins in a function named @name, printing its PID first; with @fork, a child spins in
# NAME_child. Both stop after 30 s whatever happens to the test.
SPIN = """
import os, sys, time
def {name}():
    end = time.time() + 30
    while time.time() < end:
        sum(range(1000))
def {name}_child():
    {name}()
print(os.getpid(), flush=True)
if {fork} and os.fork() == 0:
    {name}_child()
    os._exit(0)
{name}()
"""


def _needs_root():
    if os.geteuid() != 0:
        skip_or_fail("needs root (BPF, namespaces, cgroups)")


def _cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.startswith("cgroup2 "):
                return pre.split()[4]
    return None


class Cgroups:
    """Folders made under one test folder of the cgroup v2 hierarchy, removed at the end."""

    def __init__(self):
        self.mount = _cgroup2_mount()
        if not self.mount:
            skip_or_fail("no cgroup v2 hierarchy mounted")
        self.rel_top = "/pyflare-test-%d-%s" % (os.getpid(), secrets.token_hex(3))
        self.top = self.mount + self.rel_top
        os.makedirs(self.top)
        self.made = [self.top]

    def folder(self, name):
        path = os.path.join(self.top, name)
        os.makedirs(path)
        self.made.append(path)
        return path

    def move(self, pid, folder):
        with open(os.path.join(folder, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def cleanup(self):
        for path in reversed(self.made):
            for _ in range(100):
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    time.sleep(0.05)


@pytest.fixture
def cgroups():
    _needs_root()
    cg = Cgroups()
    yield cg
    cg.cleanup()


class Procs:
    """Started processes, all killed at the end (with their process groups)."""

    def __init__(self):
        self.procs = []

    def start(self, argv, folder=None):
        def enter():
            os.setsid()
            if folder:
                with open(os.path.join(folder, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, preexec_fn=enter)
        self.procs.append(p)
        return p

    def spin(self, name, folder=None, fork=False):
        """A host CPython spinning in @name; returns (Popen, pid)."""
        p = self.start([HOST_PYTHON, "-c", SPIN.format(name=name, fork=fork)], folder)
        return p, int(p.stdout.readline())

    def container(self, name, folder, fork=False):
        """sid's CPython 3.14 in new PID, mount and UTS namespaces, chrooted into sid's root,
        in @folder; returns (Popen, its PID in the namespace)."""
        if not os.path.exists(SID_ROOT + "/usr/bin/python3.14"):
            skip_or_fail("no sid root with python3.14 (make sid-root)")
        p = self.start(["unshare", "--pid", "--fork", "--mount", "--uts", "--root", SID_ROOT,
                        "--mount-proc", "/usr/bin/python3.14", "-c",
                        SPIN.format(name=name, fork=fork)], folder)
        line = p.stdout.readline()
        if not line.strip():
            skip_or_fail("unshare could not make the container")
        return p, int(line)

    def cleanup(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, 9)
            except OSError:
                pass
            p.wait()


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.cleanup()


def _record(args, tmp_path, name="rec", timeout=120):
    """Runs pyflare record with @args; returns (json doc, speedscope doc, text, stderr)."""
    js, ss = str(tmp_path / (name + ".json")), str(tmp_path / (name + ".speedscope.json"))
    r = subprocess.run([pyflare_path(), "record", "-q", "-o", js, "-o", ss, "-o", "-"] + args,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    with open(js) as f, open(ss) as g:
        return json.load(f), json.load(g), r.stdout, r.stderr


def _functions(doc):
    """{(pid, function name): seconds of self+children} from a json report's trees."""
    out = {}
    for p in doc["processes"]:
        for t in p["threads"]:
            for n in t["nodes"]:
                name = doc["frames"][n["frame"]]["name"]
                key = (p["pid"], name)
                out[key] = max(out.get(key, 0), n["total"])
    return out


def _sampled_pids(doc):
    return {p["pid"] for p in doc["processes"] if p["samples"]}


def test_container_selects_exactly_its_processes(cgroups, procs, tmp_path):
    # two containers whose ids share a prefix, and a process on the host
    ids = ["abc1" + secrets.token_hex(30), "abc2" + secrets.token_hex(30)]
    box = cgroups.folder("docker-%s.scope" % ids[0])
    other = cgroups.folder("docker-%s.scope" % ids[1])
    cont, ns_pid = procs.container("in_container", box, fork=True)
    procs.container("in_other_container", other)
    procs.spin("on_host")
    assert ns_pid == 1
    time.sleep(0.3)
    inside = {p for p in [cont.pid] + descendants(cont.pid)
              if open("/proc/%d/comm" % p).read().startswith("python")}
    assert len(inside) == 2, inside

    doc, ss, text, _ = _record(["--container", ids[0][:8], "-d", "2"], tmp_path)
    assert _sampled_pids(doc) == inside
    assert {p["pid"] for p in doc["processes"]} == inside
    by_ns = {p["ns_pid"]: p for p in doc["processes"]}
    assert set(by_ns) == {1, 2}, by_ns.keys()
    for p in doc["processes"]:
        assert p["container"] == ids[0][:12]
        assert p["cgroup"] == "%s/docker-%s.scope" % (cgroups.rel_top, ids[0])
        assert p["python_version"].startswith("3.14")
    names = {name for _, name in _functions(doc)}
    assert {"in_container", "in_container_child"} <= names
    assert not names & {"on_host", "in_other_container"}
    assert doc["meta"]["target"] == "--container " + ids[0][:12]
    assert "Target:   --container " + ids[0][:12] in text
    assert "container " + ids[0][:12] in text
    assert ss["pyflare"]["target"] == doc["meta"]["target"]

    # the same folder given as a file path; then the parent folder holds both containers
    doc, _, _, _ = _record(["--cgroup", box, "-d", "1"], tmp_path, "by-path")
    assert _sampled_pids(doc) == inside
    doc, _, _, _ = _record(["--cgroup", cgroups.rel_top, "-d", "1"], tmp_path, "parent")
    names = {name for _, name in _functions(doc)}
    assert {"in_container", "in_container_child", "in_other_container"} <= names
    assert "on_host" not in names

    # a prefix both ids share is refused, naming both
    r = subprocess.run([pyflare_path(), "record", "--container", "abc", "-d", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert "matches 2 containers" in r.stderr
    assert ids[0][:12] in r.stderr and ids[1][:12] in r.stderr
    r = subprocess.run([pyflare_path(), "record", "--container", "fedcba9876", "-d", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert "no such container" in r.stderr and ids[0][:12] in r.stderr


def _start_recording(args, anchor_pid, out):
    """Starts pyflare record -v with @args, writing @out and @out.json; returns once it
    profiles @anchor_pid."""
    p = subprocess.Popen([pyflare_path(), "record", "-v", "-o", out, "-o", out + ".json"] + args,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = []
    for line in p.stderr:
        log.append(line)
        if "profiling process %d " % anchor_pid in line:
            return p, log
    p.wait()
    raise AssertionError("pyflare never attached %d:\n%s" % (anchor_pid, "".join(log)))


def _finish(p, log):
    log += p.stderr.readlines()
    assert p.wait(timeout=60) == 0, "".join(log)


def _realtime(recorded_at):
    """"2026-11-21T08:27:47.802493455Z" as seconds since the epoch."""
    whole, frac = recorded_at.rstrip("Z").split(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)


def _sample_times(ss, pid):
    """When @pid's frames opened and closed (seconds since the start), from an evented
    speedscope file: the first is its first sample, the last the end of its last one."""
    out = []
    for prof in ss["profiles"]:
        if prof["name"].startswith("%d " % pid):
            out += [e["at"] for e in prof["events"]]
    return sorted(out)


def _samples(path, pid):
    with open(path + ".json") as f:
        return sum(p["samples"] for p in json.load(f)["processes"] if p["pid"] == pid)


def _cpu_seconds(pid):
    """The CPU seconds process @pid's main thread has run, as the kernel counts them."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def test_moving_in_and_out_is_followed(cgroups, procs, tmp_path):
    box = cgroups.folder("box")
    _, anchor = procs.spin("anchor", box)
    _, mover = procs.spin("mover")
    out = str(tmp_path / "move.speedscope.json")
    p, log = _start_recording(["--cgroup", box, "-d", "4", "-F", "199", "-t"], anchor, out)
    anchor_cpu = _cpu_seconds(anchor)
    time.sleep(1)
    t_in = time.time()
    cgroups.move(mover, box)
    t_inside = time.time()
    mover_cpu = _cpu_seconds(mover)
    time.sleep(1.2)
    # the CPU time each had while surely inside (on a busy machine, far less than 1.2 s)
    mover_cpu = _cpu_seconds(mover) - mover_cpu
    t_out = time.time()
    anchor_cpu = _cpu_seconds(anchor) - anchor_cpu
    cgroups.move(mover, cgroups.mount)
    t_outside = time.time()
    _finish(p, log)
    with open(out) as f:
        ss = json.load(f)
    start = _realtime(ss["pyflare"]["recorded_at"])
    times = _sample_times(ss, mover)
    assert times, "the process moved in was never sampled:\n" + "".join(log)
    # found at its first tick inside, forgotten at once outside (a period of slack each way)
    window = "moved in from %.3f to %.3f s, out from %.3f to %.3f s, sampled from %.3f to %.3f s" % (
        t_in - start, t_inside - start, t_out - start, t_outside - start, times[0], times[-1])
    assert t_in - start - 0.01 <= times[0] <= t_inside - start + 0.3, window
    assert times[-1] <= t_outside - start + 0.02, window
    # sampled all the while inside: a sample per period of its CPU time there, give or take
    assert _samples(out, mover) >= 199 * mover_cpu * 0.6, (_samples(out, mover), mover_cpu)
    assert _samples(out, anchor) >= 199 * anchor_cpu * 0.6, (_samples(out, anchor), anchor_cpu)


def test_process_started_mid_recording_appears_at_once(cgroups, procs, tmp_path):
    box = cgroups.folder("docker-%s.scope" % secrets.token_hex(32))
    _, anchor = procs.spin("anchor", box)
    out = str(tmp_path / "late.speedscope.json")
    p, log = _start_recording(["--cgroup", box, "-d", "3", "-F", "999", "-t"], anchor, out)
    time.sleep(0.5)
    t_spawn = time.time()
    late, ns_pid = procs.container("started_late", box)
    _finish(p, log)
    with open(out) as f:
        ss = json.load(f)
    start = _realtime(ss["pyflare"]["recorded_at"])
    host_pid = [c for c in descendants(late.pid)][0]
    times = _sample_times(ss, host_pid)
    assert times, "the process started mid-recording was never sampled:\n" + "".join(log)
    latency = times[0] - (t_spawn - start)
    print("first sample %.1f ms after unshare was started" % (latency * 1000))
    # unshare, the chroot and the interpreter's own start are inside this figure
    assert latency < 0.5
    procs_doc = {p["pid"]: p for p in ss["pyflare"]["processes"]}
    assert procs_doc[host_pid]["ns_pid"] == ns_pid == 1


def test_empty_cgroup_gives_a_clear_empty_report(cgroups, tmp_path):
    empty = cgroups.folder("empty")
    doc, ss, text, err = _record(["--cgroup", empty, "-d", "0.5"], tmp_path)
    assert "No samples: no Python process was found for this target." in text
    assert doc["processes"] == [] and ss["profiles"] == []
    assert "0 processes attached" in err


def test_cgroup_name_is_escaped_on_the_terminal(cgroups, tmp_path):
    """A folder name is the container's to choose: -v's "selected cgroup" line shows its
    escape sequences, bidirectional overrides and bad UTF-8 escaped (lib/escape.h), never raw."""
    raw = b"evil\x1b[31m\xe2\x80\xae\xff"
    folder = os.path.join(cgroups.top.encode(), raw)
    os.makedirs(folder)
    cgroups.made.append(folder)
    r = subprocess.run([pyflare_path(), "record", "-v", "-o", str(tmp_path / "r.json"),
                        "--cgroup", folder, "-d", "0.3"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stderr.split(b"\n") if x.startswith(b"pyflare: selected cgroup ")]
    assert len(line) == 1, r.stderr
    assert line[0].endswith(b"evil\\x1b[31m\\u202e\\xff"), line[0]
    assert all(b >= 0x20 and b < 0x7f for b in line[0]), line[0]


def test_pyflare_in_its_own_pid_namespace_says_so(tmp_path):
    _needs_root()
    if not shutil.which("unshare"):
        skip_or_fail("unshare is not installed")
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", pyflare_path(), "record",
                        "-a", "-d", "1"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "PID namespace of its own" in r.stderr and "--pid=host" in r.stderr


# a static interpreter (its runtime is there at exec) and a shared one (libpython comes later)
LATE_PYTHONS = ["/usr/bin/python3.11"] + sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python3"))[-1:]

# Spins like SPIN, logging its clocks (time.time(), process_time()) the while, and writes
# the log to argv[2] once it has run 0.3 s on a CPU
LATE = """
import time
log = [(time.time(), time.process_time())]
import json, os, sys
def {name}():
    written = False
    end = time.time() + 30
    while time.time() < end:
        sum(range(1000))
        if not written:
            log.append((time.time(), time.process_time()))
            if log[-1][1] > 0.3:
                with open(sys.argv[2] + ".part", "w") as f:
                    json.dump(log, f)
                os.rename(sys.argv[2] + ".part", sys.argv[2])
                written = True
print(os.getpid(), flush=True)
{name}()
"""


def _cpu_at(log_path, when):
    """The process's CPU seconds at realtime @when, from its log: an upper bound (those
    of its first entry after @when)."""
    deadline = time.monotonic() + 120
    while not os.path.exists(log_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    with open(log_path) as f:
        log = json.load(f)
    for t, cpu in log:
        if t >= when:
            return cpu
    return log[-1][1]


@pytest.mark.parametrize("python", LATE_PYTHONS)
def test_new_process_under_all_is_sampled_within_100ms(procs, tmp_path, python):
    """Within 100 ms of the new process's own CPU time (the interpreter's start included):
    on a busy machine the wall-clock time from exec to the first sample is mostly the
    process waiting for a CPU, and pyflare waiting for one too."""
    _needs_root()
    if not os.path.exists(python):
        skip_or_fail("no " + python)
    token = "pyflare-late-" + secrets.token_hex(4)
    anchor = procs.start([HOST_PYTHON, "-c", SPIN.format(name="anchor", fork=False), token])
    anchor_pid = int(anchor.stdout.readline())
    out = str(tmp_path / "all.speedscope.json")
    p, log = _start_recording(["-a", "--cmdline", token, "-d", "2.5", "-F", "999", "-t"],
                              anchor_pid, out)
    late = []
    for i in range(3):
        time.sleep(0.3)
        clocks = str(tmp_path / ("late%d.json" % i))
        proc = procs.start([python, "-c", LATE.format(name="late%d" % i), token, clocks])
        late.append((int(proc.stdout.readline()), clocks))
    _finish(p, log)
    with open(out) as f:
        ss = json.load(f)
    start = _realtime(ss["pyflare"]["recorded_at"])
    got = []
    for pid, clocks in late:
        times = _sample_times(ss, pid)
        assert times, "process %d was never sampled:\n%s" % (pid, "".join(log))
        got.append(_cpu_at(clocks, start + times[0]))
    print("%s: first samples after %s ms of the process's CPU time" % (
        python, ", ".join("%.1f" % (g * 1000) for g in got)))
    assert sorted(got)[1] < 0.1, got


def test_own_cgroup_namespace_is_explained(cgroups, procs):
    """pyflare in a container's cgroup namespace sees only its own part of the tree."""
    cid = secrets.token_hex(32)
    procs.spin("elsewhere", cgroups.folder("docker-%s.scope" % cid))
    mine = cgroups.folder("pyflare-here")
    inner = ("umount -l {m} && mount -t cgroup2 none {m} && exec {p} record --container {c} "
             "-d 0.5".format(m=cgroups.mount, p=pyflare_path(), c=cid[:12]))
    script = "echo $$ > %s/cgroup.procs && exec unshare --cgroup --mount sh -c '%s'" % (mine, inner)
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    assert "no container at all" in r.stderr or "no such container" in r.stderr, r.stderr
    assert "cgroup namespace of its own" in r.stderr and "--cgroupns=host" in r.stderr


def _daemonset_container():
    """The pyflare container of deploy/pyflare-daemonset.yaml, and its pod spec."""
    import yaml
    with open(os.path.join(REPO, "deploy", "pyflare-daemonset.yaml")) as f:
        docs = list(yaml.safe_load_all(f))
    ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
    pod = ds["spec"]["template"]["spec"]
    return pod["containers"][0], pod


def test_daemonset_capabilities_are_enough(cgroups, procs, tmp_path):
    """The capabilities the sample manifest grants (and docs/containers.md names) are all
    pyflare needs: --container works as root with a bounding set of exactly those."""
    if not shutil.which("setpriv"):
        skip_or_fail("setpriv is not installed")
    container, pod = _daemonset_container()
    assert pod["hostPID"] is True
    caps = container["securityContext"]["capabilities"]
    assert caps["drop"] == ["ALL"]
    assert sorted(caps["add"]) == ["BPF", "PERFMON", "SYS_PTRACE"]
    cid = secrets.token_hex(32)
    box = cgroups.folder("docker-%s.scope" % cid)
    procs.container("in_container", box)
    out = str(tmp_path / "caps.json")
    bounding = "-all," + ",".join("+" + c.lower() for c in caps["add"])
    r = subprocess.run(["setpriv", "--bounding-set", bounding, "--inh-caps", "-all", "--",
                        pyflare_path(), "record", "-q", "--container", cid[:12], "-d", "1",
                        "-o", out], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        doc = json.load(f)
    assert "in_container" in {name for _, name in _functions(doc)}
    # one fewer is not enough, and the message names what is missing
    r = subprocess.run(["setpriv", "--bounding-set", "-all,+bpf,+perfmon", "--inh-caps",
                        "-all", "--", pyflare_path(), "record", "-q", "--container",
                        cid[:12], "-d", "1"], capture_output=True, text=True, timeout=60)
    assert "CAP_SYS_PTRACE" in r.stderr, r.stderr
