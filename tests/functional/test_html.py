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
