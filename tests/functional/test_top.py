# SPDX-License-Identifier: MIT
"""pyflare top as a user meets it: driven in tmux (keys sent, the pane read back) against
workloads/top.py, whose hot() takes 3/4 of its main thread's CPU; and piped, one table per
interval. One host interpreter: the sampling itself is covered per version elsewhere."""
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import pytest

from conftest import load_expect, skip_or_fail
from pyflare_run import WORKLOADS, pyflare_path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXPECT = load_expect("top")
PROMPT = "READY$ "

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture
def workload(tmp):
    """workloads/top.py (and _common.py) where the interpreter and a sudo user read them."""
    for name in ("top.py", "_common.py"):
        shutil.copy(os.path.join(WORKLOADS, name), tmp)
    return os.path.join(tmp, "top.py")


# --- the screen -------------------------------------------------------------------------


@dataclass
class Screen:
    """A capture of the pane: the header, the column titles, the rows, the last line."""

    lines: List[str]
    titles: int = -1  # index of the titles line, -1 if none
    rows: List[Dict[str, str]] = field(default_factory=list)

    def __post_init__(self):
        for i, line in enumerate(self.lines):
            if "OWN%" in line and "FUNCTION" in line:
                self.titles = i
                break
        if self.titles < 0:
            return
        t = self.lines[self.titles]
        starts = {name: t.find(name) for name in ("FUNCTION", "FILE:LINE", "PROCESS")}
        numbers = [n for n in ("OWN%", "TOTAL%", "OWN s", "TOTAL s") if n in t]
        for line in self.lines[self.titles + 1:-1]:
            if not line.strip() or line.startswith("("):
                continue
            row = dict(zip(numbers, line[:starts["FUNCTION"]].split()))
            ends = sorted(s for s in starts.values() if s >= 0) + [1 << 30]
            for name, start in starts.items():
                if start >= 0:
                    end = min(e for e in ends if e > start)
                    row[name] = line[start:end].strip()
            self.rows.append(row)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def header(self) -> str:
        return " ".join(self.lines[:self.titles] if self.titles >= 0 else self.lines[:3])

    @property
    def last(self) -> str:
        return self.lines[-1] if self.lines else ""

    def first(self) -> Dict[str, str]:
        return self.rows[0] if self.rows else {}

    def row(self, function: str) -> Dict[str, str]:
        for r in self.rows:
            if r.get("FUNCTION") == function:
                return r
        return {}


_servers = iter(range(1, 1 << 30))


class Tmux:
    """One detached tmux session of a given size on a private server, running bash."""

    def __init__(self, width: int, height: int):
        if not shutil.which("tmux"):
            skip_or_fail("tmux is missing (make deps)")
        self.socket = "pyflare-test-%d-%d" % (os.getpid(), next(_servers))
        self.width, self.height = width, height
        env = dict(os.environ, PS1=PROMPT, TERM="xterm-256color")
        env.pop("TMUX", None)
        self.tmux("new-session", "-d", "-s", "top", "-x", str(width), "-y", str(height),
                  "env PS1='%s' bash --norc --noprofile" % PROMPT, env=env)
        self.wait_text(lambda text: PROMPT.rstrip() in text, "the shell's prompt")

    def tmux(self, *args, env=None) -> str:
        r = subprocess.run(["tmux", "-u", "-f", "/dev/null", "-L", self.socket] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, env=env, timeout=10)
        assert r.returncode == 0, "tmux %s: %s" % (" ".join(args), r.stderr)
        return r.stdout

    def keys(self, *keys: str, literal: bool = False):
        self.tmux("send-keys", "-t", "top", *(["-l"] if literal else []), *keys)

    def type(self, text: str):
        self.keys(text, literal=True)

    def run(self, argv: List[str]):
        """Types a command line that then echoes its exit status."""
        self.type(" ".join(shlex.quote(a) for a in argv) + '; echo "EXIT=$?"')
        self.keys("Enter")

    def capture(self) -> Screen:
        out = self.tmux("capture-pane", "-p", "-t", "top")
        return Screen(out.split("\n")[:self.height])

    def resize(self, width: int, height: int):
        self.tmux("resize-window", "-t", "top", "-x", str(width), "-y", str(height))
        self.width, self.height = width, height

    def wait(self, cond: Callable[[Screen], bool], what: str, timeout: float = 15) -> Screen:
        """The first capture where cond holds, the same a moment later (not a frame being
        drawn); fails with the last capture after @timeout."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            try:
                if cond(screen):
                    time.sleep(0.05)
                    if self.capture().lines == screen.lines:
                        return screen
                    continue
            except (KeyError, ValueError, IndexError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("waited %g s for %s; the pane:\n%s" % (timeout, what, screen.text),
                            pytrace=False)
            time.sleep(0.2)

    def wait_text(self, cond: Callable[[str], bool], what: str, timeout: float = 15) -> Screen:
        return self.wait(lambda s: cond(s.text), what, timeout)

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


@pytest.fixture
def tmux_factory():
    made = []

    def make(width: int, height: int) -> Tmux:
        t = Tmux(width, height)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def process_cpu_seconds(argv: List[str]) -> float:
    """The CPU seconds of the one process running @argv so far, as the kernel counts them."""
    pids = subprocess.run(["pgrep", "-f", "^" + re.escape(" ".join(argv))],
                          stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    assert len(pids) == 1, pids
    with open("/proc/%s/stat" % pids[0]) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def hot_first(screen: Screen) -> bool:
    return screen.first().get("FUNCTION") == "hot" and "last 1.0 s" in screen.header


def own(row: Dict[str, str]) -> float:
    """A row's OWN%; 0 for a row that is not there ({})."""
    return float(row.get("OWN%", 0.0))


def exited(status: int) -> Callable[[Screen], bool]:
    """pyflare's exit status is echoed, and the prompt is back after it."""
    return lambda s: re.search(r"EXIT=%d\n(.*\n)*?%s" % (status, re.escape(PROMPT.rstrip())),
                               s.text) is not None


_stty_calls = iter(range(1, 1 << 30))


def stty(t: Tmux) -> str:
    """The terminal's settings, as the shell in the pane sees them."""
    mark = "STTY%d=" % next(_stty_calls)
    t.type("echo %s$(stty -g)" % mark)
    t.keys("Enter")
    found = re.compile(r"^%s(\S+)" % mark, re.M)
    s = t.wait_text(lambda text: found.search(text) is not None, "stty's answer")
    return found.search(s.text).group(1)


def clear(t: Tmux):
    t.type("clear")
    t.keys("Enter")
    t.wait(lambda s: s.lines[0].startswith(PROMPT.rstrip()) and "clear" not in s.text, "a clear pane")


# --- interactive ------------------------------------------------------------------------


def test_keys(py, workload, tmux_factory):
    """The hot function leads; every key changes the screen as it says; q gives the
    terminal back as it was, and the command with it."""
    t = tmux_factory(100, 30)
    before = stty(t)
    clear(t)
    t.run([pyflare_path(), "top", "--mode", "cpu", "--", *py.command(workload, "60")])
    s = t.wait(hot_first, "hot() as the first row")
    # hot's share of main's time: the window may still hold the start-up (a long one on a
    # busy machine), and the process's other threads
    share = own(s.first()) / (own(s.first()) + own(s.row("warm")))
    assert abs(share - EXPECT["hot_share"]) <= 0.15, "hot() %.0f%% of hot() and warm(), want %d%%\n%s" % (
        100 * share, 100 * EXPECT["hot_share"], s.text)
    assert s.first()["FILE:LINE"].endswith("top.py:%d" % EXPECT["frames"]["hot"]["first_line"])
    assert "sort own" in s.header and "on CPU" in s.header and "1 process" in s.header
    assert "PROCESS" not in s.lines[s.titles]  # one process: the header names it
    assert s.last.startswith("q quit")

    # sort: by total, the callers lead; by name, alphabetical; back by own
    t.type("s")
    s = t.wait(lambda s: "sort total" in s.header and s.rows, "sort total")
    assert s.first()["FUNCTION"] in ("<module>", "main"), s.text
    # a caller's total holds its callees' time (shown to a tenth of a percent each)
    assert float(s.first()["TOTAL%"]) >= own(s.row("hot")) + own(s.row("warm")) - 0.2, s.text
    t.type("3")
    s = t.wait(lambda s: "sort name" in s.header and len(s.rows) > 2, "sort name")
    names = [r["FUNCTION"] for r in s.rows]
    assert names == sorted(names), names
    t.type("1")
    t.wait(lambda s: "sort own" in s.header and hot_first(s), "sort own again")

    # filter by text, then cleared
    t.type("/warm")
    s = t.wait(lambda s: "filter (Enter applies, Esc cancels): warm_" in s.last, "the prompt")
    t.keys("Enter")
    s = t.wait(lambda s: 'filter "warm"' in s.header and s.rows, "the filter applied")
    assert {r["FUNCTION"] for r in s.rows} == {"warm"}, s.text
    t.type("/")
    t.keys("C-u", "Enter")
    t.wait(lambda s: "filter" not in s.header and hot_first(s), "the filter cleared")

    # a row per line: hot's time is on its loop's line
    t.type("l")
    s = t.wait(lambda s: "per line" in s.header and s.row("hot"), "line granularity")
    assert s.row("hot")["FILE:LINE"].endswith("top.py:%d" % EXPECT["hot_loop_line"]), s.text
    t.type("l")
    t.wait(lambda s: "per line" not in s.header, "function granularity")

    # pause: the screen stays as it is; resumed, it moves on
    t.type(" ")
    paused = t.wait(lambda s: "PAUSED" in s.header, "PAUSED")
    time.sleep(2.5)
    assert t.capture().lines == paused.lines
    t.type(" ")
    s = t.wait(lambda s: "PAUSED" not in s.header and s.lines[1:] != paused.lines[1:], "resumed")

    # the whole run: most of the CPU time the command has had by now (hot() takes 3/4 of
    # it), however little a busy machine gave it
    cpu = process_cpu_seconds(py.command(workload, "60"))
    t.type("w")
    s = t.wait(lambda s: "whole run" in s.header and s.row("hot"), "the whole run")
    whole = float(s.row("hot")["OWN s"])
    assert whole > 0.5 * cpu, "hot() %.3f s of the whole run, the command ran %.3f s on a CPU\n%s" % (
        whole, cpu, s.text)
    t.type("r")
    s = t.wait(lambda s: "starts again" in s.last, "the run reset")
    assert not s.row("hot") or float(s.row("hot")["OWN s"]) < whole, s.text
    t.type("w")
    t.wait(lambda s: "last" in s.header, "the last interval")

    # help, closed by any key
    t.type("?")
    s = t.wait(lambda s: "keys:" in s.text, "the help")
    assert "q Ctrl-C  quit" in s.text and "/ f       filter" in s.text
    t.type("x")
    t.wait(lambda s: s.titles >= 0, "the table again")

    # q: the terminal as it was, pyflare's status 0, the command stopped
    t.type("q")
    s = t.wait(exited(0), "pyflare's exit")
    assert not any(line.startswith("pyflare top") for line in s.lines), s.text
    assert "ready" in s.text  # the command's output, shown once the screen was given back
    assert stty(t) == before
    time.sleep(0.5)
    assert subprocess.run(["pgrep", "-f", workload], stdout=subprocess.PIPE).returncode == 1


def test_wall_mode_and_ctrl_c(py, workload, tmux_factory):
    """Wall mode (the default with a command): the napper's [sleep] is a row and waiting a
    share; i hides the waits. Ctrl-C quits as q does."""
    t = tmux_factory(90, 24)
    before = stty(t)
    t.run([pyflare_path(), "top", "--", *py.command(workload, "60")])
    ready = lambda s: s.row("[sleep]") and s.row("hot") and "last 1.0 s" in s.header
    first = t.wait(ready, "[sleep] and hot() rows")
    # the first window holds the start-up, before the napper began: judge the next one
    s = t.wait(lambda s: ready(s) and s.lines[1] != first.lines[1], "the next window")
    assert re.search(r"on CPU \d+%, waiting \d+%", s.header), s.header
    # the napper sleeps all the time: about a second of [sleep] each second, in each window
    assert 0.8 <= float(s.row("[sleep]")["OWN s"]) <= 1.2, s.text
    t.type("i")
    s = t.wait(lambda s: "waits hidden" in s.header and hot_first(s), "the waits hidden")
    assert not s.row("[sleep]")
    t.keys("C-c")
    t.wait(exited(0), "pyflare's exit after Ctrl-C")
    assert stty(t) == before


def test_processes_and_drill_down(py, workload, tmux_factory):
    """Two processes: rows say how many ran them; p PID shows one, p and Enter both again.
    Quitting leaves -p targets running."""
    procs = [subprocess.Popen(py.command(workload, "60"), stdout=subprocess.PIPE,
                              universal_newlines=True) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        t = tmux_factory(120, 30)
        pids = ",".join(str(p.pid) for p in procs)
        t.run([pyflare_path(), "top", "--mode", "cpu", "-p", pids])
        s = t.wait(lambda s: hot_first(s) and s.first().get("PROCESS") == "2 processes",
                   "hot() in 2 processes")
        assert "2 processes" in s.header
        t.type("p%d" % procs[1].pid)
        t.keys("Enter")
        s = t.wait(lambda s: "process %d" % procs[1].pid in s.header and hot_first(s),
                   "one process")
        assert "PROCESS" not in s.lines[s.titles]
        t.type("p")
        t.keys("C-u", "Enter")
        t.wait(lambda s: s.first().get("PROCESS") == "2 processes", "both processes again")
        t.type("q")
        t.wait(exited(0), "pyflare's exit")
        assert all(p.poll() is None for p in procs)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_sizes_and_resize(py, workload, tmux_factory, tmp):
    """40x10: the header keeps to its lines, rows are rows (nothing wraps), the keys' line
    stays at the bottom. Resized to 250 columns: one header line, every column. Under
    ASan/UBSan/LSan, which report nothing."""
    binary = os.path.join(REPO, "build", "asan", "pyflare")
    if not os.path.exists(binary):
        skip_or_fail("build/asan/pyflare not built (make asan)")
    log = os.path.join(tmp, "asan")
    t = tmux_factory(40, 10)
    t.type("export ASAN_OPTIONS=detect_leaks=1:log_path=%s UBSAN_OPTIONS=print_stacktrace=1"
           ":log_path=%s" % (log, log))
    t.keys("Enter")
    clear(t)
    t.run([binary, "top", "--mode", "cpu", "--", *py.command(workload, "60")])
    row = re.compile(r"^ {0,4}\d+\.\d +\d+\.\d  \S")

    def small_ok(s: Screen) -> bool:
        return (hot_first(s) and s.lines[0].startswith("pyflare top") and s.titles in (1, 2)
                and s.last.startswith("q quit") and len(s.lines) == 10)

    s = t.wait(small_ok, "the 40x10 screen")
    for line in s.lines[s.titles + 1:-1]:
        assert not line or row.match(line) or line.startswith("("), "not a row: %r\n%s" % (
            line, s.text)
    assert all(len(line) <= 40 for line in s.lines)

    t.resize(250, 40)
    s = t.wait(lambda s: s.titles == 1 and hot_first(s), "the 250-column screen")
    titles = s.lines[1]
    for name in ("OWN%", "TOTAL%", "OWN s", "TOTAL s", "FUNCTION", "FILE:LINE"):
        assert name in titles, titles
    for r in s.rows:
        assert set(r) >= {"OWN%", "TOTAL%", "OWN s", "TOTAL s", "FUNCTION", "FILE:LINE"}, r
    assert len(s.lines) == 40 and s.last.startswith("q quit")

    t.type("q")
    t.wait(exited(0), "pyflare's exit")
    reports = [f for f in os.listdir(tmp) if f.startswith("asan")]
    assert not reports, "".join(open(os.path.join(tmp, f)).read() for f in reports)


def test_hostile_name_is_shown_escaped(py, workload, tmux_factory):
    """A function named with terminal escapes is shown as text: the pane's title and
    contents stay pyflare's."""
    if py.minor < 11:
        skip_or_fail("renaming a frame's qualname needs 3.11+")
    t = tmux_factory(120, 20)
    title = t.tmux("display-message", "-p", "-t", "top", "#{pane_title}").strip()
    t.run([pyflare_path(), "top", "--mode", "cpu", "--", *py.command(workload, "60", "evil")])
    t.wait(hot_first, "hot() as the first row")
    t.type("/pwned")
    t.keys("Enter")
    s = t.wait(lambda s: 'filter "pwned"' in s.header and s.rows, "the hostile row")
    assert s.first()["FUNCTION"] == "\\x1b]0;pwned\\x07\\x1b[2Jevil", s.text
    assert t.tmux("display-message", "-p", "-t", "top", "#{pane_title}").strip() == title
    assert s.lines[0].startswith("pyflare top")
    t.type("q")
    t.wait(exited(0), "pyflare's exit")


# --- piped --------------------------------------------------------------------------------


def test_piped_one_table_per_interval(py, workload):
    """stdout not a terminal: a plain table each second until the command ends, the last
    one cut short; the command's output goes to stderr; its status is pyflare's."""
    r = subprocess.run([pyflare_path(), "top", "--mode", "cpu", "--delay", "1", "--",
                        *py.command(workload, "3.5")], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "ready" in r.stderr and "ready" not in r.stdout
    assert "\x1b" not in r.stdout
    tables = [t for t in r.stdout.split("\n\n") if t.strip()]
    assert 3 <= len(tables) <= 5, r.stdout
    for i, table in enumerate(tables):
        lines = table.split("\n")
        assert lines[0].startswith("pyflare top  last "), table
        assert "OWN%" in lines[1] and "FUNCTION" in lines[1], table
        if i < len(tables) - 1:
            assert "last 1.0 s" in lines[0], table
        if 0 < i < len(tables) - 1:
            s = Screen(lines + [""])
            assert s.first()["FUNCTION"] == "hot", table
            assert 55 <= own(s.first()) <= 92, table


def test_piped_under_sanitizers(py, workload, tmp):
    """Wall mode with its waits accounted at each refresh, under ASan/UBSan/LSan."""
    binary = os.path.join(REPO, "build", "asan", "pyflare")
    if not os.path.exists(binary):
        skip_or_fail("build/asan/pyflare not built (make asan)")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    r = subprocess.run([binary, "top", "--delay", "0.5", "--granularity", "line", "--sort",
                        "total", "--", *py.command(workload, "2.5")], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr
    assert "LeakSanitizer" not in r.stderr
    assert "[sleep]" in r.stdout and "waiting" in r.stdout
