# SPDX-License-Identifier: MIT
"""pyflare agent, status, snapshot and report DIR, against real CPython processes: the
slices it writes, what they add up to against what the workloads measured of themselves,
the partial slice a stop signal writes, retention, a full or read-only folder, one agent
per folder. Each agent runs with --cmdline on a tag of its own, so that the host's other
Python processes (other tests, other engineers) do not count."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid

import pytest

from pyflare_run import (REPO, WORKLOADS, Match, load_speedscope, on_cpu_error, pyflare_path,
                         run_pyflare, span, wall_error)

pytestmark = pytest.mark.usefixtures("root")

RATE = 99
PERIOD = 1 / RATE
SLICE = re.compile(r"^slice-(\d{8}T\d{6}\.\d{3})Z-(\d+\.\d{3})s\.pyflare$")


def slices(d):
    return sorted(n for n in os.listdir(d) if SLICE.match(n))


class Agent:
    """A `pyflare agent` on @dir, limited to the processes whose command line holds @tag."""

    def __init__(self, d, tag, *opts, env=None):
        self.dir = d
        self.stderr = open(os.path.join(os.path.dirname(d), "agent-%s.err" % tag), "w+")
        self.proc = subprocess.Popen(
            [pyflare_path(), "agent", "--dir", d, "--cmdline", tag, "-F", str(RATE), "-v"]
            + list(opts), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr, env=env)
        self.wait_for(lambda: os.path.exists(os.path.join(d, "agent.sock")), "its socket")

    def wait_for(self, cond, what, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError("the agent ended (status %d) waiting for %s:\n%s"
                                     % (self.proc.returncode, what, self.log()))
            if cond():
                return
            time.sleep(0.05)
        raise AssertionError("no %s after %d s:\n%s" % (what, timeout, self.log()))

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read()[-3000:]

    def status(self):
        r = run_pyflare("status", "--dir", self.dir, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def agents():
    started = []
    yield started
    for a in started:
        a.kill()


def start_burn(py, tmp, tag, seconds, *more):
    """workloads/agent_burn.py, ready and waiting for its go."""
    for name in ("agent_burn.py", "_common.py"):
        shutil.copy(os.path.join(WORKLOADS, name), tmp)
    out = os.path.join(tmp, "measured-%s.json" % uuid.uuid4().hex[:8])
    p = subprocess.Popen(py.command(os.path.join(tmp, "agent_burn.py"), out, str(seconds), tag,
                                    *more),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
    assert p.stdout.readline().strip() == "ready"
    return p, out


def go(p, out, timeout=120):
    p.stdin.write("go\n")
    p.stdin.flush()
    assert p.wait(timeout=timeout) == 0
    with open(out) as f:
        return json.load(f)


def speedscope(path_or_dir, tmp, *opts):
    out = os.path.join(tmp, "r-%s.speedscope.json" % uuid.uuid4().hex[:8])
    r = run_pyflare("report", path_or_dir, *opts, "-o", out)
    assert r.returncode == 0, r.stderr
    return load_speedscope(out)


def test_agent_slices_add_up_to_what_the_workload_measured(py, tmp, agents):
    tag = "agent-slices-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    p, out = start_burn(py, tmp, tag, 3.0)
    a = Agent(d, tag, "--slice", "2")
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
    measured = go(p, out)
    # a slice cut after the workload ended: the process that exited mid-slice is in one
    before = len(slices(d))
    a.wait_for(lambda: len(slices(d)) >= before + 1, "a slice after the workload ended")
    st = a.status()
    assert st["slices_written"] >= 2 and st["slices_failed"] == 0, st
    assert st["last_slice"].startswith(d + "/slice-")
    assert st["rss_bytes"] > 0 and st["samples"] > 0, st
    text = run_pyflare("status", "--dir", d)
    assert text.returncode == 0 and "slices:" in text.stdout and "written" in text.stdout
    written = slices(d)
    assert a.stop() == 0, a.log()
    # the stop wrote the slice under way: one more file, shorter than --slice
    after = slices(d)
    assert len(after) == len(written) + 1, (written, after)
    assert float(SLICE.match(after[-1]).group(2)) < 2.0 + 0.2
    assert not glob.glob(os.path.join(d, "*.tmp.*"))
    assert not os.path.exists(os.path.join(d, "agent.sock"))

    # each slice renders, in every format
    per_slice = 0.0
    for name in after:
        path = os.path.join(d, name)
        for ext in ("txt", "html", "svg", "json", "collapsed", "pb.gz", "prof", "speedscope.json"):
            r = run_pyflare("report", path, "-o", os.path.join(tmp, "s." + ext))
            assert r.returncode == 0, (name, ext, r.stderr)
        per_slice += speedscope(path, tmp).inclusive(Match("busy"))
    whole = speedscope(d, tmp, "--since", "10m")
    got = whole.inclusive(Match("busy"))
    # the window is the sum of its slices, sample for sample
    assert abs(got - per_slice) < 1e-6, (got, per_slice)
    err = on_cpu_error(span(whole, Match("busy")), measured, PERIOD)
    assert err is None, err
    # the same through a clock time window and --until
    r = run_pyflare("report", d, "--since", time.strftime("%H:%M", time.localtime(time.time() - 600)),
                    "--until", "now", "-r", "collapsed")
    assert r.returncode == 0 and "busy" in r.stdout, r.stderr
    # a window before the slices has none, and says where they are
    r = run_pyflare("report", d, "--since", "2000-01-01 00:00", "--until", "2000-01-01 01:00")
    assert r.returncode == 3 and "no slice" in r.stderr, r.stderr


def realtime_shift_library():
    """tests/tools/preload/realtime_shift.c, built (make test-tools)."""
    subprocess.run(["make", "-s", "-C", REPO, "test-tools"], check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    return os.path.join(REPO, "build", "tests", "tools", "realtime_shift.so")


def test_agent_survives_wall_clock_steps(py, tmp, agents):
    """The wall clock set an hour forward, then back (NTP stepping it, an operator): slices
    are still cut every --slice seconds by the monotonic clock, none lost or doubled, each
    named by the wall clock at its cut; each step is said; a window of wall-clock time finds
    the slices named in it, and all of them add up to what the workload measured. Only the
    agent's clock is stepped (realtime_shift.so, preloaded): setting the machine's would
    upset every other process on it."""
    tag = "agent-clock-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    shift = os.path.join(tmp, "shift")
    with open(shift, "w") as f:
        f.write("0")
    env = dict(os.environ, LD_PRELOAD=realtime_shift_library(), REALTIME_SHIFT_FILE=shift)
    p, out = start_burn(py, tmp, tag, 7.0)
    a = Agent(d, tag, "--slice", "1", env=env)
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
    p.stdin.write("go\n")
    p.stdin.flush()
    for step in ("3600", "0"):	# an hour forward, then back to the kernel's time
        n = len(slices(d))
        a.wait_for(lambda: len(slices(d)) >= n + 2, "two slices")
        with open(shift, "w") as f:
            f.write(step)
    assert p.wait(timeout=120) == 0
    with open(out) as f:
        measured = json.load(f)
    n = len(slices(d))
    a.wait_for(lambda: len(slices(d)) >= n + 1, "a slice after the workload ended")
    assert a.stop() == 0, a.log()
    a.stderr.seek(0)
    log = a.stderr.read()
    steps = [(m.group(1), float(m.group(2))) for m in re.finditer(
        r"the wall clock was set (forward|back) by (\d+\.\d+) s", log)]
    assert [w for w, _ in steps] == ["forward", "back"], log
    assert all(abs(s - 3600) < 1 for _, s in steps), steps

    # in the order they were cut (the files' times are the kernel's), each slice starts
    # where the last ended, on the clock of its time: a gap or an overlap is one of the steps
    def start_and_length(name):
        m = SLICE.match(name)
        t = time.strptime(m.group(1)[:15], "%Y%m%dT%H%M%S")
        return calendar_utc(t) + float(m.group(1)[15:]), float(m.group(2))

    cut = sorted(slices(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
    spans = [start_and_length(n) for n in cut]
    gaps = [round(b[0] - (a_[0] + a_[1])) for a_, b in zip(spans, spans[1:])]
    assert sorted(g for g in gaps if g) == [-3600, 3600], (cut, gaps)
    assert all(abs(b[0] - (a_[0] + a_[1])) < 0.05 for a_, b, g in zip(spans, spans[1:], gaps)
               if not g), (cut, spans)
    assert all(abs(length - 1.0) < 0.01 for _, length in spans[:-1]), spans

    # every slice in one window: what the workload measured, sample for sample the slices'
    t0 = spans[0][0]
    whole = speedscope(d, tmp, "--since", "@%d" % (t0 - 60), "--until", "@%d" % (t0 + 7300))
    per_slice = sum(speedscope(os.path.join(d, n), tmp).inclusive(Match("busy")) for n in cut)
    assert abs(whole.inclusive(Match("busy")) - per_slice) < 1e-6
    err = on_cpu_error(span(whole, Match("busy")), measured, PERIOD)
    assert err is None, err
    # the hour ahead holds just the slices cut while the clock was ahead
    ahead = [n for n, (start, _) in zip(cut, spans) if start > t0 + 1800]
    assert ahead and len(ahead) < len(cut)
    r = run_pyflare("report", d, "--since", "@%d" % (t0 + 1800), "--until", "@%d" % (t0 + 7300),
                    "-r", "collapsed")
    assert r.returncode == 0 and "busy" in r.stdout, r.stderr


def calendar_utc(t):
    import calendar
    return calendar.timegm(t)


def test_agent_wall_mode_splits_a_wait_across_slices(py, tmp, agents):
    """A 3 s sleep under --slice 1: each slice has its part of the wait (the waits still
    going on are counted at each cut), and the window adds up to the measured wall time."""
    tag = "agent-wall-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    p, out = start_burn(py, tmp, tag, 3.0, "sleep")
    a = Agent(d, tag, "--slice", "1", "--mode", "wall")
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
    measured = go(p, out)
    assert a.stop() == 0, a.log()
    with_sleep = [n for n in slices(d)
                  if speedscope(os.path.join(d, n), tmp).inclusive(Match("napping")) > 0]
    assert len(with_sleep) >= 3, with_sleep
    err = wall_error(span(speedscope(d, tmp), Match("napping")), measured, PERIOD)
    assert err is None, err


def test_agent_group_by_and_formats_over_a_window(py, tmp, agents):
    tag = "agent-group-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    p1, out1 = start_burn(py, tmp, tag, 1.0)
    p2, out2 = start_burn(py, tmp, tag, 1.0)
    a = Agent(d, tag, "--slice", "2")
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 2, "both workloads attached")
    m1, m2 = go(p1, out1), go(p2, out2)
    assert a.stop() == 0
    rec = speedscope(d, tmp, "--since", "10m", "--group-by", "none")
    names = {pr.name.split(" / ")[0] for pr in rec.holding(Match("busy")).profiles}
    assert len(names) == 1, names  # the two processes are one group: "none" merges all
    err = on_cpu_error(span(rec, Match("busy")),
                       {k: m1[k] + m2[k] for k in ("wall", "cpu", "switches")}, PERIOD)
    assert err is None, err


def test_agent_retention_removes_the_oldest(py, tmp, agents):
    tag = "agent-retention-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    os.makedirs(d, mode=0o700)
    # slices an older agent left, an hour and a day old: past --keep-for 30m
    old = ["slice-20000101T000000.000Z-60.000s.pyflare",
           "snapshot-20000101T000100.000Z-300.000s.pyflare"]
    for n in old:
        with open(os.path.join(d, n), "wb") as f:
            f.write(b"x" * 100)
    keep = os.path.join(d, "notes.txt")  # not the agent's: never touched
    with open(keep, "w") as f:
        f.write("mine")
    a = Agent(d, tag, "--slice", "1", "--keep-for", "30m", "--keep-size", "500")
    agents.append(a)
    a.wait_for(lambda: a.status()["slices_written"] >= 6, "six slices")
    st = a.status()
    for n in old:
        assert not os.path.exists(os.path.join(d, n)), n
    assert os.path.exists(keep)
    files = slices(d)
    total = sum(os.path.getsize(os.path.join(d, n)) for n in files)
    assert total <= 500, (total, files)
    assert st["files_removed"] >= 4 and st["bytes_kept"] <= 500, st
    # the newest are what is left
    assert files[-1] == os.path.basename(st["last_slice"]) or len(slices(d)) > len(files)
    assert a.stop() == 0


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode:
        pytest.fail("cannot mount a tmpfs on %s: %s" % (path, r.stderr))


def test_agent_full_then_read_only_folder(py, tmp, agents):
    """A full disk, then a read-only one: the agent samples on, counts what it could not
    write, says it, never crashes, and keeps every slice it wrote before."""
    tag = "agent-full-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "small")
    mount_tmpfs(d, "256k")
    try:
        p, out = start_burn(py, tmp, tag, 60.0)
        a = Agent(d, tag, "--slice", "1", "--keep-size", "0")
        agents.append(a)
        a.wait_for(lambda: a.status()["slices_written"] >= 2, "two slices")
        p.stdin.write("go\n")
        p.stdin.flush()
        kept = {n: open(os.path.join(d, n), "rb").read() for n in slices(d)}
        # fill the folder: the next slices do not fit
        fd = os.open(os.path.join(d, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        os.close(fd)
        a.wait_for(lambda: a.status()["slices_failed"] >= 2, "two slices failing")
        st = a.status()
        assert "No space left" in st["last_error"], st
        samples = st["samples"]
        a.wait_for(lambda: a.status()["samples"] > samples, "sampling going on")
        assert "cannot write a slice" in a.log()
        # room again: slices are written again
        os.unlink(os.path.join(d, "filler"))
        written = st["slices_written"]
        a.wait_for(lambda: a.status()["slices_written"] > written, "a slice written again")
        # read-only now
        subprocess.run(["mount", "-o", "remount,ro", d], check=True)
        failed = a.status()["slices_failed"]
        a.wait_for(lambda: a.status()["slices_failed"] > failed, "a slice failing read-only")
        assert "Read-only" in a.status()["last_error"]
        assert a.stop() == 0, a.log()  # the last slice cannot be written either: still 0
        for n, data in kept.items():
            with open(os.path.join(d, n), "rb") as f:
                assert f.read() == data, n
            r = run_pyflare("report", os.path.join(d, n), "-r", "collapsed")
            assert r.returncode == 0, r.stderr
        p.kill()
        p.wait()
    finally:
        subprocess.run(["umount", "-l", d])


def test_agent_refuses_a_read_only_folder_at_start(tmp):
    """At the start nothing could be kept (not even its lock and socket): an error, exit 3."""
    d = os.path.join(tmp, "ro")
    os.makedirs(d)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", d],
                       stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode:
        pytest.fail("cannot mount a tmpfs on %s: %s" % (d, r.stderr))
    try:
        r = run_pyflare("agent", "--dir", d, "--cmdline", "nothing")
        assert r.returncode == 3, r.stderr
        assert "cannot write into the agent's folder" in r.stderr and "--dir" in r.stderr
        assert "warning" not in r.stderr, r.stderr
    finally:
        subprocess.run(["umount", "-l", d])


def test_agent_snapshot_and_sigusr1(py, tmp, agents):
    tag = "agent-snap-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    p, out = start_burn(py, tmp, tag, 2.0)
    a = Agent(d, tag, "--slice", "60", "--window", "120")
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
    measured = go(p, out)
    # nothing is on disk yet (--slice 60): the snapshot comes from memory
    snap = os.path.join(tmp, "snap.speedscope.json")
    r = run_pyflare("snapshot", "--dir", d, "-o", snap, "-o", os.path.join(tmp, "snap.pyflare"),
                    "-o", os.path.join(tmp, "snap.html"))
    assert r.returncode == 0, r.stderr
    err = on_cpu_error(span(load_speedscope(snap), Match("busy")), measured, PERIOD)
    assert err is None, err
    r = run_pyflare("report", os.path.join(tmp, "snap.pyflare"), "-r", "collapsed")
    assert r.returncode == 0 and "busy" in r.stdout
    # --last shorter than since the workload ended: none of its samples
    time.sleep(1.5)
    r = run_pyflare("snapshot", "--dir", d, "--last", "1", "-r", "collapsed")
    assert r.returncode == 0 and "busy" not in r.stdout, r.stdout
    a.proc.send_signal(signal.SIGUSR1)
    a.wait_for(lambda: glob.glob(os.path.join(d, "snapshot-*.pyflare")), "a snapshot file")
    f = glob.glob(os.path.join(d, "snapshot-*.pyflare"))[0]
    r = run_pyflare("report", f, "-r", "collapsed")
    assert r.returncode == 0 and "busy" in r.stdout, r.stderr
    assert a.status()["snapshots"] >= 2
    assert a.stop() == 0


def test_one_agent_per_folder_and_status_without_agent(tmp, agents):
    d = os.path.join(tmp, "dir")
    a = Agent(d, "no-such-process-" + uuid.uuid4().hex[:8])
    agents.append(a)
    r = run_pyflare("agent", "--dir", d, "--cmdline", "nothing", timeout=60)
    assert r.returncode == 1 and "another pyflare agent runs on" in r.stderr, r.stderr
    assert oct(os.stat(os.path.join(d, "agent.sock")).st_mode & 0o777) == "0o600"
    assert oct(os.stat(d).st_mode & 0o777) == "0o700"
    assert a.stop(signal.SIGINT) == 0
    r = run_pyflare("status", "--dir", d)
    assert r.returncode == 3 and "no pyflare agent runs on" in r.stderr, r.stderr
    r = run_pyflare("snapshot", "--dir", d)
    assert r.returncode == 3 and "no pyflare agent runs on" in r.stderr, r.stderr


def test_agent_usage_errors(tmp):
    for args, want in ((["--slice", "0.5"], "bad --slice"), (["--keep-size", "lots"], "bad --keep-size"),
                       (["--keep-for", "-1h"], "bad --keep-for"), (["-p", "1"], "unknown option"),
                       (["--", "python3"], "unexpected argument")):
        r = run_pyflare("agent", "--dir", os.path.join(tmp, "x"), *args)
        assert r.returncode == 1 and want in r.stderr, (args, r.stderr)
    r = run_pyflare("report", tmp, "--since", "yesterday-ish")
    assert r.returncode == 1 and "bad --since" in r.stderr
    r = run_pyflare("report", tmp, "--since", "1m", "--until", "2m")
    assert r.returncode == 1 and "not after --since" in r.stderr
    r = run_pyflare("report", tmp)
    assert r.returncode == 3 and "holds no slice" in r.stderr, r.stderr


# --- deploy/: the DaemonSet and the systemd unit run the agent ------------------------------


def run_deployed(tmp, argv, caps, probe):
    """@argv (the manifest's or unit's command, pyflare and its folder replaced by ours, one
    slice a second) under a bounding set of exactly @caps: it writes slices, @probe answers,
    SIGTERM ends it with 0."""
    if not shutil.which("setpriv"):
        pytest.fail("setpriv is not installed (util-linux)")
    d = os.path.join(tmp, "deployed")
    argv = [pyflare_path() if a == argv[0] else a for a in argv]
    argv = [d if a == "/var/lib/pyflare" else a for a in argv] + ["--slice", "1", "-v"]
    bounding = "-all," + ",".join("+" + c.lower() for c in caps)
    err = open(os.path.join(tmp, "deployed.err"), "w+")
    p = subprocess.Popen(["setpriv", "--bounding-set", bounding, "--inh-caps", "-all", "--"]
                         + argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and len(slices(d) if os.path.isdir(d) else []) < 2:
            assert p.poll() is None, open(err.name).read()
            time.sleep(0.1)
        assert len(slices(d)) >= 2, open(err.name).read()
        probe = [pyflare_path() if a == probe[0] else d if a == "/var/lib/pyflare" else a
                 for a in probe]
        r = subprocess.run(probe, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "slices:" in r.stdout, r.stderr
        if "--metrics" in argv:  # served under the same capabilities
            url = re.search(r"^metrics: +(\S+)$", r.stdout, re.M).group(1)
            with urllib.request.urlopen(url, timeout=30) as page:
                assert b"pyflare_slices_written_total" in page.read()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0, open(err.name).read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_daemonset_runs_the_agent(tmp):
    import yaml
    with open(os.path.join(os.path.dirname(WORKLOADS), "..", "..", "deploy",
                           "pyflare-daemonset.yaml")) as f:
        docs = list(yaml.safe_load_all(f))
    d_set = [d for d in docs if d["kind"] == "DaemonSet"][0]
    pod = d_set["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["command"][:2] == ["pyflare", "agent"]
    folder = c["command"][c["command"].index("--dir") + 1]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts[folder]]["hostPath"]["path"] == folder
    assert pod["terminationGracePeriodSeconds"] >= 10
    # the optional metrics: the port the annotations name is the one --metrics listens on,
    # here on the loopback and any free port (this host is not the pod)
    cmd = c["command"]
    addr = cmd[cmd.index("--metrics") + 1]
    annotations = d_set["spec"]["template"]["metadata"]["annotations"]
    assert addr == "0.0.0.0:" + annotations["prometheus.io/port"]
    assert {"name": "metrics", "containerPort": int(annotations["prometheus.io/port"]),
            "protocol": "TCP"} in c["ports"]
    cmd[cmd.index("--metrics") + 1] = "127.0.0.1:0"
    run_deployed(tmp, c["command"], c["securityContext"]["capabilities"]["add"],
                 c["livenessProbe"]["exec"]["command"])


def test_systemd_unit_runs_the_agent(tmp):
    path = os.path.join(os.path.dirname(WORKLOADS), "..", "..", "deploy",
                        "pyflare-agent.service")
    with open(path) as f:
        unit = f.read()
    keys = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    argv = keys["ExecStart"].split()
    assert argv[1] == "agent" and keys["KillSignal"] == "SIGTERM"
    caps = [c[len("CAP_"):] for c in keys["CapabilityBoundingSet"].split()]
    # systemd's own check of the unit, with this build's binary in its place
    copy = os.path.join(tmp, "pyflare-agent.service")
    with open(copy, "w") as f:
        f.write(unit.replace(argv[0], pyflare_path()))
    if shutil.which("systemd-analyze"):
        r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
        problems = [l for l in r.stderr.splitlines() if "man pyflare" not in l]
        assert not problems, r.stderr
    run_deployed(tmp, argv, caps, [argv[0], "status", "--dir", "/var/lib/pyflare"])
