# SPDX-License-Identifier: MIT
"""Health a user can act on, on real recordings.

Unsymbolized frames: a process whose function names are str subclasses (code.replace() takes
them) has code objects pyflare cannot name for real: a name that is not a str of the target's
PyUnicode_Type is never trusted, and the kernel copies compact ASCII names only. Every format
must show such a frame where it was, as "<unsymbolized code 0x...>", and count it as the
health line does.

The sample sum: every timer hit on a profiled thread is shown or not shown for a named reason,
"N samples taken = shown + lost + no thread state + no Python frame", in the text header, the
stderr summary, JSON, HTML and a saved session, and the shown are the samples the views hold.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import skip_or_fail
from pyflare_run import extra_args, pyflare_path

pytestmark = pytest.mark.usefixtures("root")

RATE = 999
PERIOD = 1 / RATE
MARKER = re.compile(r"<unsymbolized code 0x[0-9a-f]+>")
SUM = re.compile(r"(\d+) samples taken = (\d+) shown \+ (\d+) lost \+ (\d+) no thread state "
                 r"\+ (\d+) no Python frame([^;\n]*)")

HIDDEN = r'''
import time, types

class Name(str):
    """A name pyflare cannot read: not the target's PyUnicode_Type, and not compact."""

def burn(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass

def hidden(seconds):
    burn(seconds)

kw = {"co_name": Name("hidden")}
if hasattr(hidden.__code__, "co_qualname"):
    kw["co_qualname"] = Name("hidden")
hidden = types.FunctionType(hidden.__code__.replace(**kw), globals())

def main():
    burn(0.2)
    hidden(0.4)

main()
'''

OUTPUTS = ("txt", "json", "pyflare", "collapsed", "speedscope.json", "pstats", "pb.gz", "html")


def run(argv, timeout=180):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    assert r.returncode == 0, "%s\nexit %d\n%s" % (" ".join(argv), r.returncode,
                                                   r.stderr[-3000:])
    return r


def record(interp, folder, script_text, stem, outputs, opts=()):
    script = os.path.join(folder, stem + ".py")
    with open(script, "w") as f:
        f.write(script_text)
    out = {ext: os.path.join(folder, "%s.%s" % (stem, ext)) for ext in outputs}
    argv = [pyflare_path(), "record", "--mode", "cpu", "-F", str(RATE)] + list(opts) + \
        extra_args()
    for path in out.values():
        argv += ["-o", path]
    r = run(argv + ["--"] + interp.command(script))
    return out, r.stderr


def sum_of(text, where):
    """The sample sum a line shows, checked to add up: (taken, shown, lost, no state,
    no frame)."""
    m = SUM.search(text)
    assert m, "%s shows no sample sum:\n%s" % (where, text[:3000])
    taken, shown, lost, no_state, no_frame = (int(g) for g in m.groups()[:5])
    assert taken == shown + lost + no_state + no_frame and "unaccounted" not in m.group(6), (
        "%s: the sum does not add up: %s" % (where, m.group(0)))
    return taken, shown, lost, no_state, no_frame


def health_sum(h):
    return (h["samples"], h["shown"], h["lost"], h["no_thread_state"], h["no_python_frame"])


def json_marker_samples(doc):
    """Samples under each marker frame of a JSON report, by marker name."""
    names = {i: f["name"] for i, f in enumerate(doc["frames"]) if MARKER.fullmatch(f["name"])}
    found = {}
    for p in doc["processes"]:
        for t in p["threads"]:
            for n in t["nodes"]:
                if n["frame"] in names:
                    found[names[n["frame"]]] = found.get(names[n["frame"]], 0) + n["samples"]
    return found


@pytest.fixture(scope="module")
def hidden(py, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("health"))
    os.chmod(d, 0o755)
    out, stderr = record(py, d, HIDDEN, "hidden", OUTPUTS)
    with open(out["json"]) as f:
        doc = json.load(f)
    names = json_marker_samples(doc)
    assert len(names) == 1, "want one unsymbolized frame (hidden), got %s" % names
    (marker, n), = names.items()
    h = doc["meta"]["health"] if "health" in doc.get("meta", {}) else doc["health"]
    # hidden ran 0.4 s of CPU: dozens of samples at least, one marker in each
    assert n >= 0.1 / PERIOD, "only %d samples under %s" % (n, marker)
    assert h["unsymbolized"] == n, "health says %d frames unsymbolized, the samples under %s " \
        "are %d" % (h["unsymbolized"], marker, n)
    return dict(interp=py, dir=d, out=out, stderr=stderr, doc=doc, marker=marker, n=n)


def test_marker_text_views(hidden):
    """The text tree, the flat view from the session, and the stderr summary."""
    marker, n = hidden["marker"], hidden["n"]
    with open(hidden["out"]["txt"]) as f:
        text = f.read()
    assert re.search(r"[└├]─ [\d.]+ %s\n" % re.escape(marker), text), text[:3000]
    assert "%d frames not symbolized (shown as <unsymbolized code 0x...>)" % n in text, text[:2000]
    assert "%d frames unsymbolized" % n in hidden["stderr"], hidden["stderr"]
    flat = run([pyflare_path(), "report", "-r", "flat", hidden["out"]["pyflare"]]).stdout
    row = next((line for line in flat.splitlines() if line.endswith("  " + marker)), None)
    assert row, flat[:3000]
    assert int(row.split()[4]) == n, "the flat view counts %s samples, want %d" % (row, n)


def test_marker_collapsed_speedscope(hidden):
    marker, n = hidden["marker"], hidden["n"]
    with open(hidden["out"]["collapsed"]) as f:
        lines = [line.rsplit(" ", 1) for line in f.read().splitlines()]
    under = sum(int(v) for stack, v in lines if marker in stack.split(";"))
    total = sum(int(v) for _, v in lines)
    assert under and total, lines[:20]
    # the collapsed values are proportional to samples: the marker's share is n over shown
    shown = hidden["doc"]["health"]["shown"]
    assert abs(under / total - n / shown) < 1e-3, (under, total, n, shown)
    with open(hidden["out"]["speedscope.json"]) as f:
        sp = json.load(f)
    idx = [i for i, fr in enumerate(sp["shared"]["frames"]) if fr["name"] == marker]
    assert len(idx) == 1, [fr["name"] for fr in sp["shared"]["frames"]]
    seconds = sum(w for p in sp["profiles"] for s, w in zip(p["samples"], p["weights"])
                  if idx[0] in s)
    assert round(seconds / PERIOD) == n, (seconds, n)


def test_marker_pstats(hidden):
    """pstats, loaded by the target's own Python: a builtin-like key, a call per sample."""
    interp, marker, n = hidden["interp"], hidden["marker"], hidden["n"]
    loader = ("import pstats, sys, json; s = pstats.Stats(sys.argv[1]); "
              "print(json.dumps([[k[2], v[1]] for k, v in s.stats.items()]))")
    r = run(interp.command("-c", loader, hidden["out"]["pstats"]))
    rows = dict(json.loads(r.stdout))
    assert rows.get(marker) == n, "pstats: %s" % sorted(rows.items())[:20]


def test_marker_pprof(hidden):
    go = shutil.which("go")
    if not go:
        skip_or_fail("go is missing (Debian's golang-go: make deps)")
    marker, n = hidden["marker"], hidden["n"]
    r = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=samples", "-nodecount=1000",
                        hidden["out"]["pb.gz"]], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=120, env=dict(os.environ, HOME=hidden["dir"]))
    assert r.returncode == 0, r.stderr
    row = next((line for line in r.stdout.splitlines() if line.rstrip().endswith(marker)), None)
    assert row, r.stdout[:3000]
    assert int(row.split()[3]) == n, "pprof's cumulative samples: %s, want %d" % (row, n)


def test_marker_html_svg(hidden):
    marker = hidden["marker"]
    with open(hidden["out"]["html"], encoding="utf-8") as f:
        data = re.search(r'<script type="application/json" id="pyflare-data">(.*?)</script>',
                         f.read(), re.S)
    assert data and marker in json.loads(data.group(1))["strings"], "not in the HTML's data"
    svg = os.path.join(hidden["dir"], "hidden.svg")
    run([pyflare_path(), "report", hidden["out"]["pyflare"], "-o", svg])
    with open(svg, encoding="utf-8") as f:
        body = f.read()
    assert marker.replace("<", "&lt;").replace(">", "&gt;") in body, body[:2000]


def test_marker_session_round_trip(hidden):
    """The saved session, read back: the same marker, counts and sum."""
    r = run([pyflare_path(), "report", "-r", "json", hidden["out"]["pyflare"]])
    doc = json.loads(r.stdout)
    assert json_marker_samples(doc) == {hidden["marker"]: hidden["n"]}
    assert doc["health"] == hidden["doc"]["health"]


def test_sum_adds_up(hidden):
    """The sum in every place it is shown, and its shown are the samples the views hold."""
    doc = hidden["doc"]
    h = doc["health"]
    taken, shown, lost, no_state, no_frame = health_sum(h)
    assert taken == shown + lost + no_state + no_frame, h
    assert shown == doc["samples"], "JSON: %d shown, %d samples in the views" % (
        shown, doc["samples"])
    with open(hidden["out"]["txt"]) as f:
        text = f.read()
    assert sum_of(text, "the text header") == health_sum(h)
    assert re.search(r"Samples:\s+%d\n" % shown, text), text[:1000]
    assert sum_of(hidden["stderr"], "the stderr summary") == health_sum(h)
    legend = text.split("\n", 7)[6]
    assert "lost: ring buffer full" in legend and "no thread state:" in legend and \
        "no Python frame:" in legend, text[:1500]


def test_sum_html(hidden):
    node = shutil.which("node")
    npm = os.environ.get("PYFLARE_NPM_DIR", os.path.expanduser("~/.cache/pyflare/npm"))
    if not node or not os.path.exists(os.path.join(npm, "node_modules", "playwright-core")):
        skip_or_fail("node or the playwright-core npm package is missing (make deps)")
    here = os.path.dirname(os.path.abspath(__file__))
    shot = os.path.join(hidden["dir"], "hidden.png")
    r = subprocess.run([node, os.path.join(here, "html_check.mjs"), "names",
                        hidden["out"]["html"], shot, hidden["marker"]],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                       timeout=1200, env=dict(os.environ, PYFLARE_NPM_DIR=npm))
    assert r.returncode == 0, r.stdout
    found = dict(m.groups() for m in re.finditer(r"^html_check: (\w+)=(.*)$", r.stdout, re.M))
    shown = json.loads(found["health"])
    assert sum_of(shown, "the HTML header") == health_sum(hidden["doc"]["health"]), shown


# A main script this long is compiled for a while before its first line runs: the
# interpreter's C with a thread state and no Python frame. Then C threads that Python never
# hears of (started with pthread_create through ctypes, each running strlen over 64 MiB) run
# with no thread state; the process's start has none either, but an attach slowed by a busy
# machine can come after it.
LONG_SCRIPT = "".join("x%d = %d * 2\n" % (i, i) for i in range(60000)) + r'''
import ctypes
import time
libc = ctypes.CDLL(None)
text = b"\x01" * (64 << 20)  # its NUL is past the end: strlen reads it all
strlen = ctypes.cast(libc.strlen, ctypes.c_void_p)
start = time.process_time()
while time.process_time() - start < 0.1:  # the CPU time of every thread
    t = ctypes.c_ulong()
    assert libc.pthread_create(ctypes.byref(t), None, strlen, text) == 0
    libc.pthread_join(t, None)
start = time.process_time()
while time.process_time() - start < 0.2:
    pass
'''


def test_sum_several_reasons(py, tmp):
    """A recording whose samples go unshown for two reasons at once still adds up, in the
    recording and in its saved session read back."""
    out, stderr = record(py, tmp, LONG_SCRIPT, "long", ("json", "pyflare"), opts=("-F", "4999"))
    with open(out["json"]) as f:
        doc = json.load(f)
    h = doc["health"]
    taken, shown, lost, no_state, no_frame = health_sum(h)
    assert no_frame > 0 and no_state > 0, "want both reasons: %s" % h
    assert taken == shown + lost + no_state + no_frame and shown == doc["samples"], h
    assert sum_of(stderr, "the stderr summary") == health_sum(h)
    back = json.loads(run([pyflare_path(), "report", "-r", "json", out["pyflare"]]).stdout)
    assert back["health"] == h
    text = run([pyflare_path(), "report", "-r", "text", out["pyflare"]]).stdout
    assert sum_of(text, "the text header of the session") == health_sum(h)
