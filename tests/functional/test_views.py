# SPDX-License-Identifier: MIT
"""The report views of a real recording, as a user reads them: library frames folded into
"[N frames hidden]  json" rows (on every interpreter: each lays its stdlib out differently),
--show/--hide/--show-all, -p time=percent_of_total, -r flat, -t/--timeline and
--collapsed-roots. The workload is workloads/views.py: user code calling json and re.
"""
import itertools
import json
import os
import re
import subprocess
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import pytest

from conftest import load_expect
from pyflare_run import (WORKLOADS, Frame, Profile, Recording, Span, describe_measured, extra_args,
                         is_wait, load_collapsed, load_speedscope, on_cpu_slack, pyflare_path,
                         span, take_measured, wall_error)

EXPECT = load_expect("views")
# The text report shows seconds to the millisecond
SHOWN = 0.0005

_outputs = itertools.count(1)


pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture(scope="module")
def py_placed(py):
    p = py.place_workloads(WORKLOADS)
    yield p
    if not os.environ.get("PYFLARE_KEEP"):
        p.cleanup()


STRAY = 5  # samples outside a call that end it (see Run.span)


@dataclass
class Run:
    argv: List[str]
    stdout: str
    stderr: str
    outputs: List[str]  # host paths, in -o order
    calls: List[Tuple[str, Dict[str, float]]]  # what each call of views.py measured, in order
    data: str  # a speedscope file of the same recording, to judge times by (see span)

    def text(self, i: int = 0) -> str:
        with open(self.outputs[i]) as f:
            return f.read()

    def span(self, name: str, index: Optional[int] = None) -> Span:
        """The samples below the calls of @name (all of them, or only the @index-th's:
        pyflare keeps samples in time order)."""
        rec = load_speedscope(self.data)
        mine = lambda f: f.name == name and f.file.endswith("/views.py")  # noqa: E731
        if index is None:
            return span(rec, mine)
        # the calls follow each other in time, hundreds of samples apart: split the samples
        # where STRAY or more in a row are outside one. (Fewer do not end a call: CI saw one
        # sample cut short by a failed read, and once a sample without the call's frame
        # whose cause is not known yet, split encode_all's first call in two.)
        calls, outside = [], STRAY
        for stack, w in rec.samples():
            if any(mine(f) for f in stack):
                if outside >= STRAY:
                    calls.append([])
                calls[-1].append((stack, w))
                outside = 0
            else:
                outside += 1
        return span(Recording([Profile("call", calls[index])]), mine)

    def measured(self, name: str, index: Optional[int] = None) -> Dict[str, float]:
        """What the calls of @name measured, added up; or only its @index-th call."""
        mine = [m for n, m in self.calls if n == name]
        assert mine, "views.py measured no call of %s: %s" % (name, self.calls)
        if index is not None:
            mine = mine[index:index + 1]
        return {k: sum(m[k] for m in mine) if all(m[k] is not None for m in mine) else None
                for k in mine[0]}


def record(interp, placed, *opts: str, outs=("views.txt",), data_home=None) -> Run:
    """Records workloads/views.py once, with opts, into the named outputs ("-" is stdout)."""
    paths = [o if o == "-" else placed.host("views-%d-%s" % (next(_outputs), o)) for o in outs]
    argv = [pyflare_path(), "record"] + extra_args() + list(opts)
    for p in paths:
        argv += ["-o", p]
    argv += ["--"] + interp.command(placed.interp("views.py"))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "NO_COLOR"):
        env.pop(var, None)
    if data_home:
        env["XDG_DATA_HOME"] = data_home  # where the recording is kept for pyflare report
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120, env=env)
    assert r.returncode == 0, "%s\nexit %d\n%s" % (" ".join(argv), r.returncode, r.stderr[-2000:])
    calls = take_measured(placed, "views.py")
    assert calls, "views.py wrote no views-times.json"
    # the same recording as speedscope samples (each with its weight, in time order), to
    # judge times by: rendered again from the session pyflare kept (an -o added above
    # would be flat under -r flat, evented under -t)
    data = placed.host("views-%d-data.speedscope.json" % next(_outputs))
    again = [pyflare_path(), "report", "--last", "-o", data]
    a = subprocess.run(again, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120, env=env)
    assert a.returncode == 0, "%s\nexit %d\n%s" % (" ".join(again), a.returncode, a.stderr[-2000:])
    return Run(argv, r.stdout, r.stderr, paths, [(n, m) for n, m in calls], data)


# --- reading the text report ---------------------------------------------------------------


@dataclass
class Row:
    depth: int
    value: str  # "0.305" or "12.5%"
    label: str  # "[3 frames hidden]  json" or "name"
    where: str  # "file:line" ("" for a group or a marker)
    line: str

    @property
    def seconds(self) -> float:
        return float(self.value.rstrip("%"))

    @property
    def hidden(self) -> Optional[int]:
        m = re.match(r"\[(\d+) frames? hidden\]", self.label)
        return int(m.group(1)) if m else None

    @property
    def wait(self) -> bool:
        """Wall mode's "[CPU wait]", "[sleep]", ...: what a line waited for, not a call."""
        return self.label.startswith("[") and self.label.endswith("]") and not self.hidden


ROW = re.compile(r"^(?P<indent>(?:[│|]  |   |[├└]─ |[|`]- )*)"
                 r"(?P<value>\d+\.\d+%?) (?P<rest>.*)$")


def rows(text: str) -> List[Row]:
    """The call-tree rows of a text report (one process), in print order."""
    out = []
    for line in text.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        rest = m.group("rest")
        if rest.startswith("["):
            label, where = rest, ""
        else:
            label, _, where = rest.partition("  ")
        out.append(Row(len(m.group("indent")) // 3, m.group("value"), label, where, line))
    return out


def find(rs: List[Row], name: str, start: int = 0) -> int:
    for i in range(start, len(rs)):
        if rs[i].label == name:
            return i
    return -1


def children(rs: List[Row], i: int) -> List[int]:
    """Indexes of the rows right below row i."""
    out = []
    for j in range(i + 1, len(rs)):
        if rs[j].depth <= rs[i].depth:
            break
        if rs[j].depth == rs[i].depth + 1:
            out.append(j)
    return out


def subtree(rs: List[Row], i: int) -> List[Row]:
    out = []
    for j in range(i + 1, len(rs)):
        if rs[j].depth <= rs[i].depth:
            break
        out.append(rs[j])
    return out


def describe(text: str) -> str:
    return "\n".join(text.splitlines()[-40:])


def calls_only(rs: List[Row], indexes: List[int]) -> List[int]:
    """@indexes less the wait rows: on a busy machine a call's own "[CPU wait]" can be its
    biggest child."""
    return [j for j in indexes if not rs[j].wait]


def check_wall(got: float, run: Run, name: str, text: str, index: Optional[int] = None) -> None:
    """A call's wall-mode seconds, as the report shows them, against its measured
    wall-clock seconds (pyflare_run.wall_error)."""
    m, sp = run.measured(name, index), run.span(name, index)
    err = wall_error(sp, m)
    assert not err, "%s: %s\n%s" % (name, err, describe(text))
    assert abs(got - sp.total) <= SHOWN, "%s: the report shows %.3f s, the data %.3f s\n%s" % (
        name, got, sp.total, describe(text))


def check_cpu(got: float, m: Dict[str, float], what: str, text: str) -> None:
    """A call's on-CPU seconds against its measured CPU seconds."""
    slack = on_cpu_slack(m) + SHOWN
    assert abs(got - m["cpu"]) <= slack, "%s on CPU: %.3f s, want %.3f ± %.3f (%s)\n%s" % (
        what, got, m["cpu"], slack, describe_measured(m), describe(text))


# --- hidden library frames, on every interpreter ---------------------------------------------


def check_hidden_default(text: str, user_file: str, run: Run) -> None:
    rs = rows(text)
    enc = find(rs, "encode_all")
    assert enc >= 0 and rs[enc].where.startswith(user_file + ":"), describe(text)
    # encode_all -> dumps (the call into json, shown) -> [N frames hidden]  json -> to_json
    below = [rs[j] for j in children(rs, enc)]
    dumps = [r for r in below if r.label == "dumps"]
    assert dumps and dumps[0].where.startswith("json/__init__.py:"), describe(text)
    d = rs.index(dumps[0])
    group = [rs[j] for j in children(rs, d) if rs[j].hidden]
    assert group and group[0].label.endswith("  json"), describe(text)
    assert group[0].hidden >= 2, group[0].line
    g = rs.index(group[0])
    assert [rs[j].label for j in calls_only(rs, children(rs, g))][:1] == ["to_json"], describe(text)
    # json's own functions are not rows
    assert "encoder.py" not in text, describe(text)
    # re.compile: its internals in one group named after re (sre_* before 3.11)
    comp = find(rs, "compile_all")
    sub = [r for r in subtree(rs, comp) if not r.wait]
    assert sub and sub[0].label in ("compile", "_compile"), describe(text)
    assert sub[0].where.startswith("re"), sub[0].line
    groups = [r for r in sub if r.hidden]
    assert groups and re.search(r"  (re|sre_\w+)\b", groups[0].label), describe(text)
    # user code is shown, with its time: wall-clock time, the default for a command
    for key in EXPECT["phases"]:
        total = sum(r.seconds for r in rs if r.label == key)
        check_wall(total, run, key, text)


def test_library_hidden(interp, placed):
    """The default text report hides json's and re's frames, on each interpreter's layout
    (pyenv, Debian, a chroot'ed sid), and shows every user function."""
    run = record(interp, placed, outs=("views.txt", "views.speedscope.json"))
    text = run.text(0)
    check_hidden_default(text, placed.interp("views.py"), run)
    # The hidden frames are still in the data: speedscope has them all
    rec = load_speedscope(run.outputs[1])
    assert rec.frames(lambda f: f.file.endswith("/json/encoder.py")), rec.describe()
    # and the same time, the on-CPU part of it the CPU time each call measured
    for key in EXPECT["phases"]:
        check_cpu(run.span(key).on_cpu, run.measured(key), key, rec.describe())


def test_show_all(py, py_placed):
    text = record(py, py_placed, "--show-all").text()
    rs = rows(text)
    assert "frames hidden" not in text, describe(text)
    d = find(rs, "dumps")
    below = subtree(rs, d)
    assert any(r.where.startswith("json/encoder.py:") for r in below), describe(text)
    assert "to_json" in [r.label for r in below]


def test_show_wins(py, py_placed):
    """--show beats the library default and --hide: json shows, re stays hidden."""
    text = record(py, py_placed, "--hide", "*/json/*", "--show", "*/json/*").text()
    rs = rows(text)
    assert not any(r.hidden and r.label.endswith("json") for r in rs), describe(text)
    below = subtree(rs, find(rs, "dumps"))
    assert any(r.where.startswith("json/encoder.py:") for r in below), describe(text)
    assert "to_json" in [r.label for r in below], describe(text)
    assert any(r.hidden and re.search(r"  (re|sre_\w+)", r.label) for r in rs), describe(text)


def test_hide_user_code(py, py_placed):
    """--hide on the program's folder: its frames join the library ones in one group."""
    text = record(py, py_placed, "--hide", py_placed.interp("") + "*").text()
    rs = rows(text)
    assert find(rs, "encode_all") < 0 and find(rs, "main") < 0, describe(text)
    assert rs[0].label == "<module>", describe(text)
    group = [r for r in rs if r.hidden]
    assert group and "views" in group[0].label and "json" in group[0].label, describe(text)


def test_python_style_regexes(py, py_placed):
    """--show-regex and --hide-regex read as pyinstrument's users write them, in Python's re
    dialect ((?:...), \\d, lookbehind): what re.search finds in a frame's path is shown or
    hidden. (POSIX ERE refused (?:, and read \\d as the letter d.)"""
    show = r"/python3\.\d+/json/(?:encoder|__init__)\.py$"
    hide = r"(?<!_)views\.py$"
    run = record(py, py_placed, "--show-regex", show, "--hide-regex", hide,
                 outs=("views.txt", "views.speedscope.json"))
    files = {f.file for f in load_speedscope(run.outputs[1]).frames()}
    encoder = [f for f in files if f.endswith("/json/encoder.py")]
    views = [f for f in files if f.endswith("/views.py")]
    assert encoder and views, files
    # Python's own re is the judge of what the patterns match
    assert all(re.search(show, f) for f in encoder), (show, encoder)
    assert all(re.search(hide, f) for f in views), (hide, views)
    text = run.text(0)
    rs = rows(text)
    assert any(r.where.startswith("json/encoder.py:") for r in rs), describe(text)
    assert find(rs, "encode_all") < 0 and find(rs, "main") < 0, describe(text)
    # what neither pattern matches keeps the default: re's frames stay hidden
    assert any(r.hidden and re.search(r"[ ,](re|sre_\w+)(,|$)", r.label) for r in rs), \
        describe(text)


def test_hide_regex_error(py):
    r = subprocess.run([pyflare_path(), "record", "--hide-regex", "(", "--", *py.command("-c",
                        "pass")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 1
    assert "bad --hide-regex '(':" in r.stderr, r.stderr


def test_percent_and_ascii(py, py_placed):
    """-p time=percent_of_total (pyflare's -p PID is told apart by its first digit),
    --no-unicode, and --color on a pipe."""
    run = record(py, py_placed, "-p", "time=percent_of_total", "--no-unicode", "--color",
                 outs=("-",))
    out = run.stdout
    assert "\x1b[" in out, "--color colours stdout even when it is not a terminal"
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "─" not in text and "`- " in text, describe(text)
    rs = rows(text)
    assert rs and all(r.value.endswith("%") for r in rs), describe(text)
    assert rs[0].label == "<module>" and 95 <= rs[0].seconds <= 100, describe(text)
    main = rs[find(rs, "main")]
    assert 80 <= main.seconds <= 100, main.line


def test_no_color_on_a_pipe(py, py_placed):
    run = record(py, py_placed, outs=("-",))
    assert "\x1b[" not in run.stdout and "encode_all" in run.stdout


# --- flat ----------------------------------------------------------------------------------


FLAT_ROW = re.compile(r"^\s*(?P<self>\d+\.\d{3})\s+(?P<selfp>\d+\.\d)%\s+"
                      r"(?P<total>\d+\.\d{3})\s+(?P<totalp>\d+\.\d)%\s+(?P<samples>\d+)  "
                      r"(?P<name>.*?)(?:  (?P<where>.*))?$")


def flat_rows(text):
    out = []
    for line in text.splitlines():
        m = FLAT_ROW.match(line)
        if m:
            out.append(m.groupdict())
    return out


def test_flat(py, py_placed):
    """-r flat: one row per function, sorted by self time, library functions included."""
    run = record(py, py_placed, "-r", "flat")
    text = run.text()
    assert "self s  self %   total s total %   samples  function" in text, text
    fr = flat_rows(text)
    selfs = [float(r["self"]) for r in fr]
    assert selfs == sorted(selfs, reverse=True), text
    by_name = {}
    for r in fr:  # the first row of a name
        by_name.setdefault(r["name"], r)
    # waits are rows of their own ("[CPU wait]"): a function's self time is its time on a
    # CPU, its total its wall-clock time
    check_cpu(float(by_name["own_work"]["self"]), run.measured("own_work"), "own_work", text)
    check_wall(float(by_name["encode_all"]["total"]), run, "encode_all", text)

    # the program's <module>, not an imported one's (json's body may take a sample of its own)
    program = [r for r in fr if r["name"] == "<module>" and "views.py" in (r["where"] or "")]
    assert program and float(program[0]["totalp"]) > 95, text
    # json's functions have rows of their own, under their short path
    assert any(r["where"] and r["where"].startswith("json/encoder.py:") for r in fr), text
    # recursion counts once: no total above 100%
    assert all(float(r["totalp"]) <= 100.0 for r in fr), text


def test_flat_sort_total(py, py_placed):
    text = record(py, py_placed, "-p", "flat", "--sort", "total", "-p",
                  "filter_threshold=0").text()
    fr = flat_rows(text)
    totals = [float(r["total"]) for r in fr]
    assert totals == sorted(totals, reverse=True), text
    assert fr[0]["name"] == "<module>", text
    assert "more function" not in text, "filter_threshold=0 shows every row"


# --- timeline ------------------------------------------------------------------------------


def test_timeline(py, py_placed):
    """-t: main's calls in the order they ran, encode_all twice; speedscope gets evented
    profiles whose events nest."""
    run = record(py, py_placed, "-t", outs=("views.txt", "views.speedscope.json"))
    text = run.text(0)
    rs = rows(text)
    m = find(rs, "main")
    # (main's own waits for a CPU between two calls are rows too, in their place)
    order = [rs[j].label for j in calls_only(rs, children(rs, m))]
    assert order == EXPECT["timeline"], describe(text)
    assert len([r for r in rs if r.label == "main"]) == 1, "main is one call: " + describe(text)
    # each call its own time, as it measured it
    encodes = [j for j in children(rs, m) if rs[j].label == "encode_all"]
    for i, j in enumerate(encodes):
        check_wall(rs[j].seconds, run, "encode_all", text, index=i)

    with open(run.outputs[1]) as f:
        doc = json.load(f)
    frames = doc["shared"]["frames"]
    main_prof = doc["profiles"][0]
    assert all(p["type"] == "evented" for p in doc["profiles"])
    opened, stack, last = [], [], -1.0
    for e in main_prof["events"]:
        assert e["at"] >= last, e
        last = e["at"]
        if e["type"] == "O":
            stack.append(e["frame"])
            caller = frames[stack[-2]] if len(stack) >= 2 else {}
            if caller.get("name") == "main" and caller.get("file", "").endswith("/views.py"):
                callee = frames[e["frame"]]
                if not is_wait(Frame(callee["name"], callee.get("file") or "", 0)):
                    opened.append(callee["name"])
        else:
            assert stack and stack[-1] == e["frame"], "events do not nest"
            stack.pop()
    assert not stack
    # Under main, in time order (calls split where another call came between)
    seq = [n for i, n in enumerate(opened) if i == 0 or opened[i - 1] != n]
    assert seq == EXPECT["timeline"], seq


# --- pyflare report ------------------------------------------------------------------------


def test_report_takes_the_view_options(py, py_placed, tmp_path):
    """A kept recording shown again with other view options: the same tree, other rows."""
    data = str(tmp_path)
    text = record(py, py_placed, "--no-color", data_home=data).text()
    env = dict(os.environ, XDG_DATA_HOME=data)
    env.pop("NO_COLOR", None)

    def report(*args):
        r = subprocess.run([pyflare_path(), "report", "--last"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    again = report()
    assert [r.line for r in rows(again)] == [r.line for r in rows(text)], describe(again)
    shown = report("--show-all", "-p", "time=percent_of_total", "--no-unicode")
    assert "frames hidden" not in shown and "`- " in shown, describe(shown)
    assert all(r.value.endswith("%") for r in rows(shown))
    flat = report("-p", "flat", "--sort", "total")
    totals = [float(r["total"]) for r in flat_rows(flat)]
    assert totals and totals == sorted(totals, reverse=True), flat
    timeline = rows(report("-t"))
    assert [timeline[j].label for j in calls_only(timeline, children(timeline, find(timeline, "main")))] \
        == EXPECT["timeline"]


# --- collapsed -----------------------------------------------------------------------------


def test_collapsed_roots(py, py_placed):
    """Without --collapsed-roots, lines hold Python frames only; with it, each starts with
    the process and the thread."""
    run = record(py, py_placed, outs=("views.folded",))
    with open(run.outputs[0]) as f:
        plain = f.read().splitlines()
    assert plain and not any(l.startswith(("process ", "thread ")) for l in plain), plain[:3]
    assert plain == sorted(plain, key=lambda l: l.rpartition(" ")[0].encode()), "byte order"

    run = record(py, py_placed, "--collapsed-roots", "process,thread", outs=("views.folded",))
    with open(run.outputs[0]) as f:
        lines = f.read().splitlines()
    m = [re.match(r"^process (\d+) \([^;]*\);thread (\d+)( \([^;]*\))?;", l) for l in lines]
    assert lines and all(m), lines[:3]
    pids = {x.group(1) for x in m}
    assert len(pids) == 1
    assert any(x.group(2) == x.group(1) for x in m), "the main thread's TID is the PID"
    rec = load_collapsed(run.outputs[0])
    assert rec.inclusive(lambda f: f.name == "own_work") > 0.2, rec.describe()


def test_usage_errors():
    for args, text in ((["-p", "bogus", "-a"], "unknown render option 'bogus'"),
                       (["-t", "-r", "flat", "-a"], "no time order"),
                       (["--sort", "calls", "-a"], "bad sort key"),
                       (["--collapsed-roots", "proc", "-a"], "bad --collapsed-roots"),
                       (["--show-all", "--hide", "x", "-a"], "--show-all shows every frame")):
        r = subprocess.run([pyflare_path(), "record"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        assert r.returncode == 1, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)


def test_help_lists_view_options():
    r = subprocess.run([pyflare_path(), "record", "--help"], stdout=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 0
    for opt in ("--hide", "--hide-regex", "--show", "--show-regex", "--show-all", "--timeline",
                "--render-option", "time=percent_of_total", "filter_threshold", "--sort",
                "--collapsed-roots", "--no-color", "--no-unicode", "flat"):
        assert opt in r.stdout, opt
