# SPDX-License-Identifier: MIT
"""The HTML report in a real browser: a recording of the demo, hostile names, a big session.

Each report is opened in headless Chromium by html_check.mjs, with every request but the
report's own blocked; screenshots go to build/html-*.png. The hostile and big reports come from
the unit test binary (build/asan/tests/test_render_html), which writes them when asked.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import skip_or_fail
from pyflare_run import pyflare_path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, "build")
NPM_DIR = os.environ.get("PYFLARE_NPM_DIR", os.path.expanduser("~/.cache/pyflare/npm"))
UNIT = os.path.join(BUILD, "asan", "tests", "test_render_html")

# The big session is the size of a 10-minute host-wide recording: it must open in seconds
# of the page process's CPU time (a busy machine adds its waits for a CPU to the wall clock)
BIG_LOAD_LIMIT_MS = 10000
BIG_SIZE_LIMIT = 40 << 20

DATA = re.compile(r'<script type="application/json" id="pyflare-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def browser():
    node = shutil.which("node")
    if not node or not os.path.exists(os.path.join(NPM_DIR, "node_modules", "playwright-core")):
        skip_or_fail("node or the playwright-core npm package is missing (make deps)")
    if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        skip_or_fail("chromium is missing (make deps)")
    return node


def need_root():
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")


def check(node, mode, report, shot, *names):
    """Runs html_check.mjs; returns its KEY=VALUE findings."""
    argv = [node, os.path.join(HERE, "html_check.mjs"), mode, report, shot] + list(names)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=1200,
                       env=dict(os.environ, PYFLARE_NPM_DIR=NPM_DIR))
    print(r.stdout)
    assert r.returncode == 0, r.stdout
    found = dict(m.groups() for m in re.finditer(r"^html_check: (\w+)=(.*)$", r.stdout, re.M))
    assert os.path.getsize(shot) > 10000, "the screenshot %s is nearly empty" % shot
    return found


def data_of(path):
    with open(path, encoding="utf-8") as f:
        html = f.read()
    m = DATA.search(html)
    assert m, "no embedded data in %s" % path
    assert "<" not in m.group(1), "the embedded data holds a '<'"
    return json.loads(m.group(1))


def unit_report(tmp, var):
    """Has the unit test binary write one of its reports; returns its path."""
    subprocess.run(["make", "-s", os.path.relpath(UNIT, REPO)], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    out = os.path.join(tmp, var.lower() + ".html")
    r = subprocess.run([UNIT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=600, env=dict(os.environ, **{var: out}))
    assert r.returncode == 0, r.stdout
    print(r.stdout)
    return out


def thread_totals(doc):
    """Per (pid, tid): the weight of the thread's samples in seconds, from the buckets."""
    unit = doc["meta"]["unit_ns"] / 1e9
    totals = {}
    for t in doc["threads"]:
        b, i, w = t["buckets"], 0, 0
        while i < len(b):
            n = b[i + 1]
            w += sum(b[i + 3:i + 2 + 2 * n:2])
            i += 2 + 2 * n
        if w:
            totals[(doc["processes"][t["process"]]["pid"], t["tid"])] = w * unit
    return totals


def test_demo_report(browser, py, tmp):
    """The demo, recorded to .html (and .speedscope.json): same times in both; in Chromium
    the flame graph draws, the tree shows primes_below, search, process selection, the library
    toggle and the time range work, with no console error and no request."""
    need_root()
    out = os.path.join(tmp, "demo.html")
    ss = os.path.join(tmp, "demo.speedscope.json")
    r = subprocess.run([pyflare_path(), "record", "-o", out, "-o", ss, "--"]
                       + py.command(os.path.join(REPO, "demo", "app.py")),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = data_of(out)
    names = {doc["strings"][doc["frames"][i]] for i in range(0, len(doc["frames"]), 4)}
    assert {"primes_below", "json_round_trips", "worker", "child_work"} <= names, \
        "frames: %s\nstderr: %s" % (sorted(names), r.stderr)
    assert len([p for p in doc["processes"] if p["hidden"]]) >= 1, "no library frame flagged"

    with open(ss) as f:
        speedscope = json.load(f)
    want = {}
    for p in speedscope["profiles"]:
        m = re.match(r"^(\d+) .* / (\d+)", p["name"])
        want[(int(m.group(1)), int(m.group(2)))] = sum(p["weights"])
    got = thread_totals(doc)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-6), k

    found = check(browser, "report", out, os.path.join(BUILD, "html-report.png"), "primes_below")
    assert int(found["processes"]) >= 2


def test_stdout(py):
    """-r html writes the page to stdout."""
    need_root()
    busy = "import time\nend = time.time() + 0.3\nwhile time.time() < end: sum(range(100))"
    r = subprocess.run([pyflare_path(), "record", "-r", "html", "--"] + py.argv + ["-c", busy],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<!DOCTYPE html>") and r.stdout.rstrip().endswith("</html>")
    assert DATA.search(r.stdout)


def test_hostile_names(browser, tmp):
    """Names made to break out of the page stay text: no dialog, no element, shown as-is."""
    out = unit_report(tmp, "PYFLARE_HTML_HOSTILE_OUT")
    doc = data_of(out)
    assert "<img src=x onerror=alert(1)>" in doc["strings"]
    found = check(browser, "hostile", out, os.path.join(BUILD, "html-hostile.png"),
                  "<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>.py",
                  "<!-- <script>", 'say "hi" \\ it\'s', "<b>evil</b>", "<svg onload=alert(3)>")
    intruders = json.loads(found["intruders"])
    assert intruders["elements"] == 0 and intruders["scripts"] == 2


def test_big_session(browser, tmp):
    """1.2 M samples over 200 threads and 50k stacks: a few tens of MB that open in seconds."""
    out = unit_report(tmp, "PYFLARE_HTML_BIG_OUT")
    size = os.path.getsize(out)
    found = check(browser, "big", out, os.path.join(BUILD, "html-big.png"))
    print("big session: %.1f MB, loaded in %s ms (%s ms of CPU, script %s ms), search %s ms"
          % (size / 1e6, found["load_ms"], found["load_cpu_ms"], found["script_ms"],
             found["search_ms"]))
    assert size < BIG_SIZE_LIMIT
    assert int(found["load_cpu_ms"]) < BIG_LOAD_LIMIT_MS, found


# --- the timeline: busy and waiting spans --------------------------------------------------

# Spins, sleeps, spins, then waits for a child that spins; each process writes what it
# measured of itself: per phase, its wall-clock span (time.time) and its thread's CPU time.
PHASES = r'''
import json, os, subprocess, sys, time

def spin(cpu_s):
    end = time.thread_time() + cpu_s
    while time.thread_time() < end:
        sum(range(500))

def phase(name, fn, *args):
    t0, c0 = time.time(), time.thread_time()
    fn(*args)
    phases[name] = {"start": t0, "end": time.time(), "cpu": time.thread_time() - c0}

phases = {}
if sys.argv[1] == "child":
    phase("child_spin", spin, 0.4)
else:
    phase("spin1", spin, 0.6)
    phase("sleep", time.sleep, 0.6)
    phase("spin2", spin, 0.3)
    phase("child", subprocess.run, [sys.executable, sys.argv[0], "child", sys.argv[2] + ".child"])
with open(sys.argv[2], "w") as f:
    json.dump({"pid": os.getpid(), "phases": phases}, f)
'''


def lane_mean(lane, key, start, end):
    """The mean drawn share over the columns inside [start, end] (seconds from the start)."""
    vals = [v for v, a, b in zip(lane[key], lane["t0"], lane["t1"]) if a >= start and b <= end]
    assert vals, "no column inside %.3f-%.3f s" % (start, end)
    return sum(vals) / len(vals)


def bucket_split(doc, process):
    """Per time bucket, the on-CPU and the waiting weight (in units) of the threads of the
    report's process number @process."""
    frames, stacks, nb = doc["frames"], doc["stacks"], doc["meta"]["nbuckets"]
    cpu, wait = [0] * nb, [0] * nb
    for t in doc["threads"]:
        if t["process"] != process:
            continue
        b, i, bucket = t["buckets"], 0, 0
        while i < len(b):
            bucket += b[i]
            for k in range(b[i + 1]):
                node, w = b[i + 2 + 2 * k], b[i + 3 + 2 * k]
                # FRAME_WAIT (4) leaf: a wait
                (wait if frames[4 * stacks[2 * node - 1] + 3] == 4 else cpu)[bucket] += w
            i += 2 + 2 * b[i + 1]
    return cpu, wait


def expected_shares(doc, lane):
    """What a lane should draw per column, from the report's data: its time on CPU and waiting
    as shares of the column's time, scaled down together past 100%."""
    cpu, wait = bucket_split(doc, lane["process"])
    bucket_s = doc["meta"]["bucket_ns"] / 1e9
    per_bucket = doc["meta"]["bucket_ns"] / doc["meta"]["unit_ns"]
    want = {"cpu": [], "wait": []}
    for a, b in zip(lane["t0"], lane["t1"]):
        b0, b1 = round(a / bucket_s), round(b / bucket_s)
        c, w = sum(cpu[b0:b1]), sum(wait[b0:b1])
        whole = (b1 - b0) * per_bucket
        scale = 1 / max(c + w, whole)
        want["cpu"].append(c * scale)
        want["wait"].append(w * scale)
    return want


@pytest.fixture(scope="module")
def phased(py, tmp_path_factory):
    """A wall-mode recording of PHASES: the saved session, the report's data, and per phase
    what the workload measured, in seconds from the recording's start."""
    need_root()
    tmp = str(tmp_path_factory.mktemp("phases"))
    os.chmod(tmp, 0o755)
    script, measured = os.path.join(tmp, "phases.py"), os.path.join(tmp, "phases.json")
    with open(script, "w") as f:
        f.write(PHASES)
    session, html = os.path.join(tmp, "phases.pyflare"), os.path.join(tmp, "phases.html")
    r = subprocess.run([pyflare_path(), "record", "-o", session, "-o", html, "--"]
                       + py.command(script, "main", measured),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = data_of(html)
    start = float(doc["meta"]["start_ms"]) / 1e3
    got, pids = {}, []
    for path in (measured, measured + ".child"):
        with open(path) as f:
            m = json.load(f)
        pids.append(m["pid"])
        for name, p in m["phases"].items():
            got[name] = dict(p, start=p["start"] - start, end=p["end"] - start)
    return {"session": session, "html": html, "doc": doc, "phases": got, "tmp": tmp,
            "main": pids[0], "child": pids[1]}


def inside(p):
    """A phase's span less 10% at each end: columns wholly in the phase."""
    trim = (p["end"] - p["start"]) * 0.1
    return p["start"] + trim, p["end"] - trim


def test_timeline_shares(browser, phased):
    """The timeline draws each lane as its share of wall time: the process that computed reads
    as busy while it computed (not flattened by a wait drawn as one spike), its sleep and its
    wait for the child are drawn over their span, as waits, and the drawn time adds up to the
    report's on-CPU and waiting time."""
    doc, ph = phased["doc"], phased["phases"]
    found = check(browser, "timeline", phased["html"], os.path.join(BUILD, "html-timeline.png"))
    lanes = json.loads(found["lanes"])["lanes"]
    main_pid = phased["main"]

    def lane_of(pid):
        """The lane of @pid; the child's pid also names, until its exec, a copy of its parent"""
        return max((lane for lane in lanes if lane["pid"] == pid),
                   key=lambda lane: sum(lane["cpu"]) + sum(lane["wait"]))

    main, child = lane_of(main_pid), lane_of(phased["child"])
    print("phases:", json.dumps(ph, indent=1))

    for name in ("spin1", "spin2"):
        p = ph[name]
        share = p["cpu"] / (p["end"] - p["start"])  # what the workload's thread got of a CPU
        # the columns of the phase (a busy machine shares its CPUs unevenly over time)
        cpu, wait = lane_mean(main, "cpu", p["start"], p["end"]), \
            lane_mean(main, "wait", p["start"], p["end"])
        print("%s: measured CPU share %.2f, drawn CPU %.2f, waiting %.2f" % (name, share, cpu,
                                                                            wait))
        assert cpu == pytest.approx(share, abs=0.15), name
        # off CPU in between, it waited for a CPU: wall mode accounts for all of its time
        assert cpu + wait > 0.85, name
    for name in ("sleep", "child"):
        a, b = inside(ph[name])
        cpu, wait = lane_mean(main, "cpu", a, b), lane_mean(main, "wait", a, b)
        print("%s: drawn CPU %.2f, waiting %.2f" % (name, cpu, wait))
        assert wait > 0.9 and cpu < 0.05, name
    p = ph["child_spin"]
    share, cpu = p["cpu"] / (p["end"] - p["start"]), lane_mean(child, "cpu", p["start"], p["end"])
    print("child_spin: measured CPU share %.2f, drawn CPU %.2f" % (share, cpu))
    assert cpu == pytest.approx(share, abs=0.15)

    # every column of every lane draws what the report's data holds for its time
    for lane in lanes:
        want = expected_shares(doc, lane)
        for key in ("cpu", "wait"):
            bad = [(a, got, w) for a, got, w in zip(lane["t0"], lane[key], want[key])
                   if abs(got - w) > 1e-3]
            assert not bad, "%d %s: (column start, drawn, want) %s" % (lane["pid"], key,
                                                                      bad[:5])
    # a thread lane (one process selected) draws the same
    thread_lanes = json.loads(found["thread_lanes"])["lanes"]
    assert thread_lanes and all(t["kind"] == "thread" for t in thread_lanes)
    for t in thread_lanes:
        if t["process"] == main["process"]:
            assert t["cpu"] == main["cpu"] and t["wait"] == main["wait"]


def test_timeline_waits_elsewhere(phased):
    """The other time-ordered views of the same recording: speedscope's evented profile (-t)
    opens the sleep where the workload began it and closes it where it ended; the text
    timeline (-t) shows spin, the sleep, spin again (a wait is a call, not noise to look past
    that would merge both spins)."""
    ph, tmp = phased["phases"], phased["tmp"]
    ss = os.path.join(tmp, "phases.speedscope.json")
    r = subprocess.run([pyflare_path(), "report", "-t", "-o", ss, "-p", "filter_threshold=0",
                        phased["session"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(ss) as f:
        doc = json.load(f)
    names = [f["name"] for f in doc["shared"]["frames"]]
    main = [p for p in doc["profiles"] if p["name"].startswith("%d " % phased["main"])]
    assert len(main) == 1, [p["name"] for p in doc["profiles"]]
    sleeps = [(e["type"], e["at"]) for e in main[0]["events"] if names[e["frame"]] == "[sleep]"]
    assert [t for t, _ in sleeps] == ["O", "C"], sleeps
    # times from the recording's start; the workload's own clock reads around the call
    p, slack = ph["sleep"], 0.005
    print("sleep: measured %.4f-%.4f s, evented %.4f-%.4f s"
          % (p["start"], p["end"], sleeps[0][1], sleeps[1][1]))
    assert p["start"] - slack <= sleeps[0][1] and sleeps[1][1] <= p["end"] + slack
    assert sleeps[1][1] - sleeps[0][1] > 0.9 * (p["end"] - p["start"])

    r = subprocess.run([pyflare_path(), "report", "-t", "-p", "filter_threshold=0", "--no-color",
                        phased["session"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if re.search(r"[\d.]+ phase ", line))
    col = lines[at].index("phase") + 3
    calls = []
    for line in lines[at + 1:]:
        m = re.match(r"^.*?─ [\d.]+ (\S+)", line)
        if not m or m.start(1) < col:
            break
        # a wait for a CPU can fall anywhere on a busy machine, between the calls too
        if m.start(1) == col and m.group(1) != "[CPU":
            calls.append(m.group(1))
    assert calls[:4] == ["spin", "[sleep]", "spin", "run"], r.stdout
