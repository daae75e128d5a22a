# SPDX-License-Identifier: MIT
"""The SVG flame graph (-o x.svg, -r flamegraph) in a real browser, and -o with an extension
pyflare does not know.

A recording of the demo is opened in headless Chromium by svg_check.mjs, served as
image/svg+xml with every other request blocked: it renders with no console error, every
rectangle is its time's share of its graph, a click zooms, the Search button highlights and
reports the matched share. Here the graph's times are held against the json and collapsed
reports of the same recording. The hostile graph comes from the unit test binary
(build/asan/tests/test_render_svg). Screenshots go to build/svg-*.png.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from conftest import skip_or_fail
from pyflare_run import pyflare_path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, "build")
NPM_DIR = os.environ.get("PYFLARE_NPM_DIR", os.path.expanduser("~/.cache/pyflare/npm"))
UNIT = os.path.join(BUILD, "asan", "tests", "test_render_svg")
SVG = "{http://www.w3.org/2000/svg}"
EXIT_USAGE = 1


@pytest.fixture(scope="module")
def browser():
    node = shutil.which("node")
    if not node or not os.path.exists(os.path.join(NPM_DIR, "node_modules", "playwright-core")):
        skip_or_fail("node or the playwright-core npm package is missing (make deps)")
    if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        skip_or_fail("chromium is missing (make deps)")
    return node


@pytest.fixture(scope="module")
def demo(py):
    """The demo recorded once to .svg, .json, .collapsed and .pyflare: {ext: path}."""
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")
    d = tempfile.mkdtemp(prefix="pyflare-test-svg-")
    os.chmod(d, 0o755)
    out = {ext: os.path.join(d, "demo." + ext) for ext in ("svg", "json", "collapsed", "pyflare")}
    argv = [pyflare_path(), "record"]
    for path in out.values():
        argv += ["-o", path]
    r = subprocess.run(argv + ["--"] + py.command(os.path.join(REPO, "demo", "app.py")),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "wrote %s (svg)" % out["svg"] in r.stderr
    yield out
    shutil.rmtree(d, ignore_errors=True)


def check(node, mode, graph, shot, *names):
    """Runs svg_check.mjs; returns its KEY=VALUE findings."""
    argv = [node, os.path.join(HERE, "svg_check.mjs"), mode, graph, shot] + list(names)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=300,
                       env=dict(os.environ, PYFLARE_NPM_DIR=NPM_DIR))
    print(r.stdout)
    assert r.returncode == 0, r.stdout
    assert os.path.getsize(shot) > 10000, "the screenshot %s is nearly empty" % shot
    return dict(m.groups() for m in re.finditer(r"^svg_check: (\w+)=(.*)$", r.stdout, re.M))


def graphs_of(path):
    """The SVG parsed (it must be well-formed XML): [(graph element, [frame elements])]."""
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    return [(g, [f for f in g if f.get("class") == "f"])
            for g in root.iter(SVG + "g") if g.get("class") == "graph"]


def label(frame):
    return frame.find(SVG + "title").text.split("\n")[0]


def ns(seconds):
    return round(seconds * 1e9)


def test_demo(browser, demo):
    """The demo's graph: one per process, each as long as the process's time in the json
    report, threads as long as theirs; in Chromium it renders, zooms and searches, and the
    share a search reports is the share of the time under primes_below in the collapsed
    stacks."""
    with open(demo["json"]) as f:
        tree = json.load(f)
    graphs = graphs_of(demo["svg"])
    procs = {p["pid"]: p for p in tree["processes"] if p["samples"]}
    assert len(graphs) == len(procs) >= 2
    for g, frames in graphs:
        p = procs[int(g.get("data-pid"))]
        assert int(g.get("data-ns")) == ns(p["total"])
        base = frames[0]
        assert int(base.get("data-w")) == ns(p["total"]) and base.get("data-x") == "0"
        threads = {label(f): int(f.get("data-w")) for f in frames
                   if label(f).startswith("Thread ")}
        if len([t for t in p["threads"] if t["samples"]]) > 1:
            for t in p["threads"]:
                if t["samples"]:
                    want = "Thread %d %s" % (t["tid"], t["name"])
                    assert threads.get(want.rstrip()) == ns(t["total"]), (want, threads)
    # library code is folded as in the text view
    assert any(label(f).startswith("[") and "hidden]" in label(f) for _, fr in graphs for f in fr)

    found = check(browser, "report", demo["svg"], os.path.join(BUILD, "svg-demo.png"),
                  "primes_below")
    assert int(found["graphs"]) == len(graphs)

    # the matched share against the collapsed stacks (integer microseconds per stack)
    total = under = lines = 0
    with open(demo["collapsed"]) as f:
        for line in f:
            stack, _, us = line.rstrip("\n").rpartition(" ")
            total += int(us)
            lines += 1
            if any(fr.startswith("primes_below") for fr in stack.split(";")):
                under += int(us)
    got = int(found["matched_ns"]) / int(found["all_ns"])
    assert int(found["all_ns"]) == pytest.approx(total * 1000, abs=lines * 1000)
    # frames under 0.1 px are not drawn: at most a little of the share is missing
    assert got == pytest.approx(under / total, abs=2e-3), (got, under / total)
    assert got > 0.05


def test_report_views(demo, tmp):
    """pyflare report renders the saved session as SVG with the view options: --group-by
    none makes one graph of every process, --show-all unfolds library code, -r flamegraph
    writes to stdout."""
    def report(*args):
        r = subprocess.run([pyflare_path(), "report", demo["pyflare"]] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r

    same = os.path.join(tmp, "same.svg")
    report("-o", same)
    with open(same, encoding="utf-8") as a, open(demo["svg"], encoding="utf-8") as b:
        assert a.read() == b.read(), "a saved session re-renders the same graph"

    merged = os.path.join(tmp, "merged.svg")
    report("--group-by", "none", "-o", merged)
    graphs = graphs_of(merged)
    assert len(graphs) == 1
    g, frames = graphs[0]
    assert re.match(r"^\d+ processes \(\d+, \d+", label(frames[0])), label(frames[0])
    assert int(g.get("data-ns")) == sum(int(x.get("data-ns")) for x, _ in graphs_of(demo["svg"]))

    everything = os.path.join(tmp, "all.svg")
    report("--show-all", "-o", everything)
    labels = [label(f) for _, fr in graphs_of(everything) for f in fr]
    assert not [x for x in labels if re.match(r"^\[\d+ frames? hidden\]", x)]
    assert any(x.startswith("dumps (") for x in labels)

    out = report("-r", "flamegraph").stdout
    assert out.startswith("<?xml") and out.rstrip().endswith("</svg>")
    assert ET.fromstring(out.encode()).tag == SVG + "svg"


def test_hostile_names(browser, tmp):
    """Names made to break out of the document (or its script, or its comment) stay text:
    nothing runs, nothing but the document's own elements exists, each shows as written
    (control characters escaped)."""
    subprocess.run(["make", "-s", os.path.relpath(UNIT, REPO)], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    out = os.path.join(tmp, "hostile.svg")
    r = subprocess.run([UNIT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=600,
                       env=dict(os.environ, PYFLARE_SVG_HOSTILE_OUT=out))
    assert r.returncode == 0, r.stdout
    graphs_of(out)  # well-formed
    check(browser, "hostile", out, os.path.join(BUILD, "svg-hostile.png"),
          "</script><script>alert(1)</script>", "]]><script>alert(5)</script>",
          "--><script>alert(6)</script><!--", "<svg onload=alert(3)>", "<iframe src=x>",
          "<b>evil</b>", "say \"hi\" it's & <b>", "a\\x01b\\x1b[31mc\\x7f",
          "python3 </title><script>alert(4)</script>")


@pytest.mark.parametrize("command", ["record", "report"])
def test_unknown_extension(tmp, command):
    """-o with an extension pyflare does not know is refused before anything is done, naming
    the formats and their extensions; it used to become a text report."""
    bad = os.path.join(tmp, "profile.foo")
    good = os.path.join(tmp, "profile.svg")
    argv = [pyflare_path(), command, "-o", good, "-o", bad]
    argv += ["--", "true"] if command == "record" else [os.path.join(tmp, "none.pyflare")]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == EXIT_USAGE, r.stderr
    assert "unknown output extension '.foo'" in r.stderr
    for named in ("svg (.svg)", "html (.html .htm)", "speedscope (.speedscope.json)",
                  "text (.txt)", "-r FORMAT"):
        assert named in r.stderr, r.stderr
    assert not os.path.exists(bad) and not os.path.exists(good)
