# SPDX-License-Identifier: MIT
"""pyflare's pstats, pprof and json files, read by the tools they are for, on every interpreter.

Each workload is recorded once with -o x.pstats -o x.prof -o x.pb.gz -o x.json beside the
speedscope file the fixtures read. Then:

    pstats   loaded by the target's own Python (pstats.Stats, sort_stats, print_stats,
             print_callers): the interpreter a user profiles is the one that reads the file
    pprof    read by `go tool pprof` (-top, -tags, -traces), Debian's golang-go
    json     read by Python's json, the tree rebuilt from its parent links

and held to the workload's known shape (times within the tolerances of test_record.py) and,
exactly, to the speedscope file of the same recording: every format shows the same samples.
"""
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import pytest

from conftest import skip_or_fail
from pyflare_run import Match, reference_mode

SHARE_TOLERANCE = float(os.environ.get("PYFLARE_SHARE_TOLERANCE", "0.05"))
SECONDS_TOLERANCE = float(os.environ.get("PYFLARE_SECONDS_TOLERANCE", "0.15"))
SECONDS_SLACK = 0.05
# The same samples in two formats: only float rounding differs.
EXACT = 1e-6

OUTPUTS = ("pstats", "prof", "pb.gz", "json")


@dataclass
class Recorded:
    case: object  # conftest.Case: the speedscope recording and the workload's expectations
    host: Dict[str, str]  # extension -> path on the host
    interp: Dict[str, str]  # extension -> path as the interpreter sees it


@pytest.fixture
def recorded(workload, placed):
    """recorded(stem) -> Recorded: the workload recorded once into every format."""
    if reference_mode():
        pytest.skip("refprof.py writes speedscope and collapsed only")

    def get(stem: str) -> Recorded:
        names = {ext: "formats-%s.%s" % (stem, ext) for ext in OUTPUTS}
        opts = []
        for name in names.values():
            opts += ["-o", placed.host(name)]
        case = workload(stem, opts=tuple(opts))
        host = {ext: placed.host(n) for ext, n in names.items()}
        for ext, path in host.items():
            assert os.path.getsize(path) > 0, "%s: no %s written\n%s" % (
                case.interp.id, path, case.result.explain())
        return Recorded(case, host, {ext: placed.interp(n) for ext, n in names.items()})

    return get


def check_seconds(case, got, want, what):
    slack = max(SECONDS_SLACK, SECONDS_TOLERANCE * want)
    assert abs(got - want) <= slack, "%s on %s: %.3f s, want %.3f ± %.3f s\n%s" % (
        what, case.interp.id, got, want, slack, case.rec.describe())


def check_share(case, got, want, what):
    assert abs(got - want) <= SHARE_TOLERANCE, "%s on %s: share %.3f, want %.3f ± %.2f\n%s" % (
        what, case.interp.id, got, want, SHARE_TOLERANCE, case.rec.describe())


def printed(seconds: float) -> float:
    """How far a time go tool pprof prints (four or five digits) may be from the exact one."""
    return 1e-3 + 0.005 * seconds


def check_same(case, got, want, what, tolerance=EXACT):
    assert abs(got - want) <= tolerance, "%s on %s: %.9f here, %.9f in the speedscope file" % (
        what, case.interp.id, got, want)


def workload_pid(case) -> int:
    pids = case.rec.holding(Match(file=case.file)).pids()
    assert len(pids) == 1, "%s on %s: pids %s\n%s" % (case.stem, case.interp.id, pids,
                                                      case.rec.describe())
    return pids[0]


# --- pstats, loaded by the target's own Python --------------------------------------------

# Runs in the target interpreter (3.8 to 3.15): everything a pstats user would call, then the
# stats as JSON for the checks.
PSTATS_LOADER = r"""
import io, json, pstats, sys
text = io.StringIO()
st = pstats.Stats(sys.argv[1], stream=text)
st.sort_stats("cumulative").print_stats()
st.print_callers()
st.print_callees()
rows = []
for (file, line, name), (cc, nc, tt, ct, callers) in st.stats.items():
    rows.append([file, line, name, cc, nc, tt, ct,
                 [[f, l, n] + list(v) for (f, l, n), v in callers.items()]])
json.dump({"total_tt": st.total_tt, "rows": rows, "text": text.getvalue()}, sys.stdout)
"""

Key = Tuple[str, int, str]


@dataclass
class PstatsRow:
    cc: int
    nc: int
    tt: float
    ct: float
    callers: Dict[Key, Tuple[int, int, float, float]]  # caller -> (nc, cc, tt, ct)


@dataclass
class Pstats:
    total_tt: float
    rows: Dict[Key, PstatsRow]
    text: str


def load_pstats(r: Recorded, ext: str = "pstats") -> Pstats:
    interp = r.case.interp
    proc = subprocess.run(interp.command("-c", PSTATS_LOADER, r.interp[ext]),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert proc.returncode == 0, "%s could not load %s:\n%s" % (
        interp.id, r.host[ext], proc.stderr[-3000:])
    doc = json.loads(proc.stdout)
    rows = {}
    for file, line, name, cc, nc, tt, ct, callers in doc["rows"]:
        rows[(file, line, name)] = PstatsRow(
            cc, nc, tt, ct, {(c[0], c[1], c[2]): tuple(c[3:]) for c in callers})
    return Pstats(doc["total_tt"], rows, doc["text"])


def pstats_key(case, key: str) -> Key:
    spec = case.expect["frames"][key]
    return (case.file, case.first_line(spec), case.name(spec))


def period(r: Recorded) -> float:
    """Seconds one sample stands for, from the json file's metadata."""
    with open(r.host["json"]) as f:
        return 1.0 / json.load(f)["meta"]["rate_hz"]


def test_pstats_nested(recorded):
    r = recorded("nested")
    case = r.case
    st = load_pstats(r)
    check_same(case, st.total_tt, case.rec.total(), "pstats total time (sum of tottime)")
    want = case.expect["self_seconds"]
    cumulative = {"inner_a": want["inner_a"], "inner_b": want["inner_b"],
                  "outer": sum(want.values()), "main": sum(want.values())}
    for key, seconds in cumulative.items():
        row = st.rows.get(pstats_key(case, key))
        assert row, "%s on %s: no %s in the stats: %s" % (
            case.stem, case.interp.id, pstats_key(case, key), sorted(st.rows)[:20])
        check_seconds(case, row.ct, seconds, "pstats cumtime of %s" % key)
        check_same(case, row.ct, case.rec.inclusive(case.frame(key)), "cumtime of %s" % key)
        check_same(case, row.tt, case.rec.self_time(case.frame(key)), "tottime of %s" % key)
        if key in want:
            check_seconds(case, row.tt, want[key], "pstats tottime of %s" % key)
        # Calls are samples: one sample per period of the timer.
        assert row.nc == row.cc, row
        check_same(case, row.nc * period(r), row.ct, "samples of %s x period" % key, 1e-3)
    # Callers are the direct callers, with the callee's figures for that caller.
    for child, parent in (("inner_a", "outer"), ("inner_b", "outer"), ("outer", "main")):
        row = st.rows[pstats_key(case, child)]
        assert list(row.callers) == [pstats_key(case, parent)], (child, row.callers)
        nc, cc, tt, ct = row.callers[pstats_key(case, parent)]
        assert (nc, cc) == (row.nc, row.cc) and abs(ct - row.ct) < EXACT, (child, row)
    # What a user reads: the header and the cumulative order.
    lines = st.text.splitlines()
    assert any("function calls in" in line for line in lines), st.text[:2000]
    order = [next((i for i, line in enumerate(lines) if line.endswith("(%s)" % case.name(
        case.expect["frames"][k]))), None) for k in ("outer", "inner_a", "inner_b")]
    assert None not in order and order == sorted(order), (order, st.text[:3000])


def test_prof_extension_same_file(recorded):
    """.prof is the same format as .pstats (snakeviz's and cProfile's habit)."""
    r = recorded("nested")
    with open(r.host["pstats"], "rb") as a, open(r.host["prof"], "rb") as b:
        assert a.read() == b.read()
    assert pstats_key(r.case, "inner_a") in load_pstats(r, "prof").rows


def test_pstats_recursion(recorded):
    """A recursive function counts once per sample, at any depth; the truncation marker is a
    builtin-like key ("~", 0, "<truncated>") that pstats prints as {truncated}."""
    r = recorded("recursion")
    case = r.case
    st = load_pstats(r)
    check_same(case, st.total_tt, case.rec.total(), "pstats total time")
    for key in ("rec_shallow", "rec_deep"):
        row = st.rows.get(pstats_key(case, key))
        assert row, "no %s in %s" % (key, sorted(st.rows)[:20])
        seconds = case.expect["seconds"][key]
        check_seconds(case, row.ct, seconds, "cumtime of %s, %d deep" % (
            key, case.expect["depth"][key]))
        check_seconds(case, row.tt, seconds, "tottime of %s" % key)
        check_same(case, row.ct, case.rec.inclusive(case.frame(key)), "cumtime of %s" % key)
        assert row.ct <= st.total_tt + EXACT
        # It calls itself.
        assert pstats_key(case, key) in row.callers, row.callers
    marker = ("~", 0, "<truncated>")
    assert marker in st.rows, sorted(st.rows)[:20]
    check_same(case, st.rows[marker].ct, case.rec.inclusive(Match(name="<truncated>")),
               "cumtime of <truncated>")
    assert marker in st.rows[pstats_key(case, "rec_deep")].callers
    assert "{truncated}" in st.text


# --- pprof, read by go tool pprof ---------------------------------------------------------


def go_binary() -> str:
    for path in (shutil.which("go"), "/usr/lib/go/bin/go"):
        if path and os.access(path, os.X_OK):
            return path
    skip_or_fail("go is missing (Debian's golang-go: make deps)")
    return ""


def go_pprof(r: Recorded, *args: str) -> str:
    env = dict(os.environ, HOME=os.environ.get("HOME", "/root"),
               PPROF_TMPDIR=os.path.dirname(r.host["pb.gz"]), PPROF_BINARY_PATH="/nonexistent")
    proc = subprocess.run([go_binary(), "tool", "pprof"] + list(args) + [r.host["pb.gz"]],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=120)
    assert proc.returncode == 0, "go tool pprof %s failed:\n%s" % (" ".join(args), proc.stderr)
    return proc.stdout


UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "mins": 60.0, "hrs": 3600.0}


def seconds_of(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(ns|us|µs|ms|s|mins|hrs)?", text)
    assert m, "not a pprof time: %r" % text
    return float(m.group(1)) * (UNITS[m.group(2)] if m.group(2) else 1e-9)


def pprof_top(r: Recorded) -> Tuple[str, Dict[str, Tuple[float, float]]]:
    """(the header, {function name: (flat seconds, cum seconds)})."""
    out = go_pprof(r, "-top", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0")
    rows = {}
    header, _, table = out.partition("      flat  flat%   sum%        cum   cum%\n")
    assert table, out
    for line in table.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6:
            rows[parts[5]] = (seconds_of(parts[0]), seconds_of(parts[3]))
    return header, rows


def pprof_traces(r: Recorded) -> List[Tuple[Dict[str, str], float, List[str]]]:
    """Each sample: (labels, seconds, stack leaf first)."""
    out = go_pprof(r, "-traces")
    traces = []
    for block in re.split(r"(?m)^-+\+-+\n", out)[1:]:
        labels, stack, value = {}, [], 0.0
        for line in block.splitlines():
            m = re.match(r"^\s*(\w+):\s+(.*)$", line)
            if m and not stack:
                labels[m.group(1)] = m.group(2)
                continue
            m = re.match(r"^\s+(\S+)\s{3}(.*)$", line)
            if m and not stack:
                value = seconds_of(m.group(1))
                stack.append(m.group(2))
            elif line.strip():
                stack.append(line.strip())
        if stack:
            traces.append((labels, value, stack))
    return traces


def test_pprof_nested(recorded):
    r = recorded("nested")
    case = r.case
    header, rows = pprof_top(r)
    assert "Type: cpu" in header, header
    names = {k: case.name(case.expect["frames"][k])
             for k in ("main", "outer", "inner_a", "inner_b")}
    for key, name in names.items():
        assert name in rows, "%s on %s: no %s in go tool pprof -top:\n%s" % (
            case.stem, case.interp.id, name, "\n".join(sorted(rows)))
        flat, cum = rows[name]
        want_flat = case.rec.self_time(Match(name=name))
        want_cum = case.rec.inclusive(Match(name=name))
        check_same(case, flat, want_flat, "flat of %s" % name, printed(want_flat))
        check_same(case, cum, want_cum, "cum of %s" % name, printed(want_cum))
    main = rows[names["main"]][1]
    want = case.expect["self_seconds"]
    total = sum(want.values())
    check_seconds(case, main, total, "pprof cum of main")
    for key in ("inner_a", "inner_b"):
        check_share(case, rows[names[key]][1] / main, want[key] / total,
                    "pprof cum share of %s" % key)
    check_share(case, rows[names["outer"]][0] / main, want["outer"] / total,
                "pprof flat share of outer")


def test_pprof_traces_and_labels(recorded):
    """Samples keep their stacks (leaf first) and carry pid, tid, thread and process labels."""
    r = recorded("nested")
    case = r.case
    pid = workload_pid(case)
    traces = pprof_traces(r)
    assert traces, go_pprof(r, "-traces")[:3000]
    names = {k: case.name(case.expect["frames"][k]) for k in case.expect["frames"]}
    for child, parent in case.expect["nesting"]:
        found = [s for _, _, s in traces if names[child] in s]
        assert found, "no trace holds %s" % names[child]
        for stack in found:
            assert names[parent] in stack[stack.index(names[child]) + 1:], (child, parent, stack)
    mine = [(labels, w) for labels, w, s in traces if names["inner_a"] in s]
    for labels, _ in mine:
        assert labels.get("pid") == str(pid), labels
        assert labels.get("tid") == str(pid), labels  # the main thread's TID is the PID
        assert labels.get("process"), labels
    profile = [p for p in case.rec.profiles if p.pid == pid and p.tid == pid]
    assert profile and all(l.get("thread_name", "") == profile[0].thread for l, _ in mine), (
        [l for l, _ in mine][:3], [p.name for p in case.rec.profiles])
    want = case.rec.inclusive(Match(name=names["inner_a"]))
    check_same(case, sum(w for _, w in mine), want, "traces through inner_a",
               printed(want) * len(mine))


def test_pprof_threads(recorded):
    """Each worker thread's time under its own thread_name and tid labels (go tool pprof -tags)."""
    r = recorded("threads")
    case = r.case
    out = go_pprof(r, "-tags")
    tags: Dict[str, Dict[str, float]] = {}
    current: Optional[str] = None
    for line in out.splitlines():
        m = re.match(r"^\s*(\w+): Total (\S+)$", line)
        if m:
            current = m.group(1)
            tags[current] = {}
            continue
        m = re.match(r"^\s*(\S+) \(\s*[0-9.]+%\): (.*)$", line)
        if m and current:
            tags[current][m.group(2)] = seconds_of(m.group(1))
    assert {"pid", "tid", "thread_name", "process"} <= set(tags), out
    assert str(workload_pid(case)) in tags["pid"], out
    for thread, (key, seconds) in case.expect["threads"].items():
        assert thread in tags["thread_name"], out
        mine = case.rec.thread(thread)
        check_same(case, tags["thread_name"][thread], mine.total(), "time of thread %s" % thread,
                   printed(mine.total()))
        check_seconds(case, mine.inclusive(case.frame(key)), seconds, "%s in %s" % (key, thread))
        tid = str(mine.profiles[0].tid)
        assert tid in tags["tid"], (tid, out)
        check_same(case, tags["tid"][tid], mine.total(), "time of TID %s" % tid,
                   printed(mine.total()))


# --- json ---------------------------------------------------------------------------------


def load_tree(r: Recorded) -> dict:
    with open(r.host["json"], encoding="utf-8") as f:
        doc = json.load(f)
    assert doc["format"] == "pyflare-tree" and doc["version"] == 1, list(doc)[:5]
    return doc


def check_tree(doc: dict) -> None:
    """Totals add up at every level: node = self + children, thread = its roots, process =
    its threads, the document = its processes."""
    whole = 0.0
    for proc in doc["processes"]:
        ptotal = 0.0
        for th in proc["threads"]:
            nodes = th["nodes"]
            kids = [0.0] * len(nodes)
            roots = 0.0
            for i, n in enumerate(nodes):
                assert -1 <= n["parent"] < i, n
                assert 0 <= n["frame"] < len(doc["frames"]), n
                if n["parent"] < 0:
                    roots += n["total"]
                else:
                    kids[n["parent"]] += n["total"]
            for i, n in enumerate(nodes):
                assert abs(n["total"] - n["self"] - kids[i]) < EXACT, n
            assert abs(th["total"] - roots) < EXACT, th["tid"]
            ptotal += th["total"]
        assert abs(proc["total"] - ptotal) < EXACT, proc["pid"]
        whole += ptotal
    assert abs(doc["total"] - whole) < EXACT


def paths(doc: dict, thread: dict):
    """Each node with its stack of frames, root first."""
    stacks = []
    for n in thread["nodes"]:
        f = doc["frames"][n["frame"]]
        stack = (stacks[n["parent"]][1] if n["parent"] >= 0 else ()) + (f,)
        stacks.append((n, stack))
    return stacks


def frame_is(case, key):
    spec = case.expect["frames"][key]
    return lambda f: (f.get("name") == case.name(spec) and f.get("file") == case.file
                      and f.get("first_line") == case.first_line(spec))


def test_json_nested(recorded):
    r = recorded("nested")
    case = r.case
    doc = load_tree(r)
    check_tree(doc)
    check_same(case, doc["total"], case.rec.total(), "json total")
    assert doc["meta"]["granularity"] == "function" and doc["meta"]["mode"] == "cpu"
    pid = workload_pid(case)
    procs = [p for p in doc["processes"] if p["pid"] == pid and p["samples"]]
    assert len(procs) == 1, [(p["pid"], p["samples"]) for p in doc["processes"]]
    proc = procs[0]
    assert isinstance(proc["lib_dirs"], list) and all(isinstance(d, str) for d in proc["lib_dirs"])
    # "3.12.1", or "3.9" where only the binary's name tells (before 3.11's Py_Version)
    version = proc["python_version"]
    assert re.match(r"3\.%d(\.|$)" % case.interp.minor, version), version
    sampled = [t for t in proc["threads"] if t["nodes"]]
    assert len(sampled) == 1 and sampled[0]["tid"] == pid, [t["tid"] for t in proc["threads"]]
    nodes = paths(doc, sampled[0])
    for child, parent in case.expect["nesting"]:
        found = [s for n, s in nodes if frame_is(case, child)(s[-1])]
        assert found, "no %s node" % child
        assert all(any(frame_is(case, parent)(f) for f in s[:-1]) for s in found), (child, parent)
    for key in ("inner_a", "inner_b", "outer"):
        total = sum(n["total"] for n, s in nodes if frame_is(case, key)(s[-1]))
        check_same(case, total, case.rec.inclusive(case.frame(key)), "json total of %s" % key)
    check_seconds(case, sum(n["total"] for n, s in nodes if frame_is(case, "main")(s[-1])),
                  sum(case.expect["self_seconds"].values()), "json total of main")
    # Library code is flagged, never hidden: the workload's frames are the program's own.
    for n, s in nodes:
        f = s[-1]
        if f.get("file") == case.file:
            assert n["library"] is False, f
        if f.get("file", "").startswith("<frozen "):
            assert n["library"] is True, f


def test_json_recursion(recorded):
    """A 1024-frame stack is 1024 nodes deep by parent links, and loads in any JSON reader."""
    r = recorded("recursion")
    case = r.case
    doc = load_tree(r)
    check_tree(doc)
    check_same(case, doc["total"], case.rec.total(), "json total")
    kinds = {i: f["kind"] for i, f in enumerate(doc["frames"])}
    deepest, truncated = 0, 0.0
    for proc in doc["processes"]:
        for th in proc["threads"]:
            depth = []
            for n in th["nodes"]:
                depth.append(depth[n["parent"]] + 1 if n["parent"] >= 0 else 1)
                if n["parent"] < 0 and kinds[n["frame"]] == "truncated":
                    truncated += n["total"]
            deepest = max(deepest, max(depth, default=0))
    assert deepest == case.expect["walk_limit"] + 1, deepest
    check_same(case, truncated, case.rec.inclusive(Match(name="<truncated>")),
               "time under <truncated>")
    check_seconds(case, truncated, case.expect["seconds"]["rec_deep"], "time under <truncated>")
