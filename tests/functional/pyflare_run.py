# SPDX-License-Identifier: MIT
"""Running `pyflare record` on a workload, and reading what it wrote.

    result = record(interp, placed, "nested.py")          # speedscope, function granularity
    rec = result.recording
    rec.share(Match("inner_a"), within=Match("main"))     # 0.5
    rec.always_under(Match("inner_a"), Match("outer"))    # True

A Recording is a list of Profiles, one per thread of each process ("PID comm / TID name"),
each a list of samples: (stack, seconds), the stack a tuple of Frames (name, file, line),
root first. Queries take a frame matcher: a Match (name, file, line: any subset), a Frame,
a name, or a function of a Frame.

The binary is $PYFLARE, or <repo>/build/pyflare; the bench build, which test_bench_hooks.py
runs, $PYFLARE_BENCH_BINARY or <repo>/build/bench/pyflare. With PYFLARE_REFERENCE=1 the workloads are
run under refprof.py instead, a stand-in profiler that lives in the interpreter itself.
"""
import itertools
import json
import math
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKLOADS = os.path.join(HERE, "workloads")
REFPROF = os.path.join(HERE, "refprof.py")

# How long one recording may take before the test gives up on it.
RECORD_TIMEOUT = 120

_outputs = itertools.count(1)


def pyflare_path() -> str:
    return os.environ.get("PYFLARE") or os.path.join(REPO, "build", "pyflare")


def bench_pyflare_path() -> str:
    """The bench build (`make bench-binary`), which alone has the bench hooks."""
    return os.environ.get("PYFLARE_BENCH_BINARY") or os.path.join(REPO, "build", "bench", "pyflare")


def reference_mode() -> bool:
    return os.environ.get("PYFLARE_REFERENCE", "") not in ("", "0")


def extra_args() -> List[str]:
    """Options added to every `pyflare record`, from $PYFLARE_ARGS (e.g. a sampling rate)."""
    return shlex.split(os.environ.get("PYFLARE_ARGS", ""))


# --- the data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    name: str
    file: str
    line: int

    def __str__(self) -> str:
        return "%s (%s:%d)" % (self.name, self.file, self.line)


def is_wait(f: Frame) -> bool:
    """Wall mode's wait markers: "[sleep]", "[CPU wait]", "[GIL]", ... (no file)."""
    return f.name.startswith("[") and f.name.endswith("]") and not f.file


Stack = Tuple[Frame, ...]  # root first
Sample = Tuple[Stack, float]  # stack, seconds


@dataclass(frozen=True)
class Match:
    """Matches frames by any of name, file and line (None: any)."""

    name: Optional[str] = None
    file: Optional[str] = None
    line: Optional[int] = None

    def __call__(self, f: Frame) -> bool:
        return ((self.name is None or f.name == self.name)
                and (self.file is None or f.file == self.file)
                and (self.line is None or f.line == self.line))

    def __str__(self) -> str:
        parts = [self.name or "*"]
        if self.file is not None or self.line is not None:
            parts.append("(%s:%s)" % (self.file or "*", "*" if self.line is None else self.line))
        return " ".join(parts)


Matcher = Union[Match, Frame, str, Callable[[Frame], bool]]


def matcher(m: Matcher) -> Callable[[Frame], bool]:
    if isinstance(m, str):
        return Match(name=m)
    if isinstance(m, Frame):
        return lambda f: f == m
    return m


def _first(stack: Stack, pred: Callable[[Frame], bool]) -> int:
    """Index of the outermost frame matching, or -1."""
    for i, f in enumerate(stack):
        if pred(f):
            return i
    return -1


PROFILE_NAME = re.compile(r"^(?P<pid>\d+) (?P<comm>.*?) / (?P<tid>\d+)(?: (?P<thread>.*))?$")


@dataclass
class Profile:
    name: str  # "PID comm / TID threadname"
    samples: List[Sample] = field(default_factory=list)

    @property
    def _parts(self):
        return PROFILE_NAME.match(self.name)

    @property
    def pid(self) -> Optional[int]:
        m = self._parts
        return int(m.group("pid")) if m else None

    @property
    def comm(self) -> str:
        m = self._parts
        return m.group("comm") if m else ""

    @property
    def tid(self) -> Optional[int]:
        m = self._parts
        return int(m.group("tid")) if m else None

    @property
    def thread(self) -> str:
        m = self._parts
        return (m.group("thread") or "") if m else ""

    @property
    def total(self) -> float:
        return sum(w for _, w in self.samples)


class Recording:
    """Profiles and the questions the tests ask of them. Times are in seconds."""

    def __init__(self, profiles: Sequence[Profile]):
        self.profiles = list(profiles)

    def samples(self) -> Iterable[Sample]:
        for p in self.profiles:
            yield from p.samples

    # Narrowing.
    def where(self, pred: Callable[[Profile], bool]) -> "Recording":
        return Recording([p for p in self.profiles if pred(p)])

    def without(self, m: Matcher) -> "Recording":
        """The same profiles less the samples whose stack holds a matching frame."""
        pred = matcher(m)
        return Recording([Profile(p.name, [(s, w) for s, w in p.samples if _first(s, pred) < 0])
                          for p in self.profiles])

    def process(self, pid: int) -> "Recording":
        return self.where(lambda p: p.pid == pid)

    def thread(self, name: str) -> "Recording":
        return self.where(lambda p: p.thread == name)

    def holding(self, m: Matcher) -> "Recording":
        """The profiles with at least one stack holding a matching frame."""
        pred = matcher(m)
        return self.where(lambda p: any(_first(s, pred) >= 0 for s, _ in p.samples))

    def pids(self) -> List[int]:
        return sorted({p.pid for p in self.profiles if p.pid is not None})

    # Times.
    def total(self) -> float:
        return sum(w for _, w in self.samples())

    def inclusive(self, m: Matcher) -> float:
        """Time of the samples whose stack holds a matching frame (once, however deep)."""
        pred = matcher(m)
        return sum(w for s, w in self.samples() if _first(s, pred) >= 0)

    def self_time(self, m: Matcher) -> float:
        """Time of the samples whose innermost frame matches."""
        pred = matcher(m)
        return sum(w for s, w in self.samples() if s and pred(s[-1]))

    def share(self, m: Matcher, within: Optional[Matcher] = None) -> float:
        """inclusive(m) / inclusive(within), or / total() without within."""
        whole = self.total() if within is None else self.inclusive(within)
        if whole <= 0:
            return 0.0
        if within is None:
            return self.inclusive(m) / whole
        pm, pw = matcher(m), matcher(within)
        part = sum(w for s, w in self.samples() if _first(s, pm) >= 0 and _first(s, pw) >= 0)
        return part / whole

    def self_share(self, m: Matcher, within: Optional[Matcher] = None) -> float:
        whole = self.total() if within is None else self.inclusive(within)
        if whole <= 0:
            return 0.0
        pm = matcher(m)
        pw = None if within is None else matcher(within)
        part = sum(w for s, w in self.samples()
                   if s and pm(s[-1]) and (pw is None or _first(s, pw) >= 0))
        return part / whole

    # Shapes.
    def stacks(self, m: Matcher) -> List[Sample]:
        pred = matcher(m)
        return [(s, w) for s, w in self.samples() if _first(s, pred) >= 0]

    def frames(self, m: Matcher = lambda f: True) -> List[Frame]:
        """The distinct frames matching, in order of first appearance."""
        pred = matcher(m)
        seen: Dict[Frame, None] = {}
        for s, _ in self.samples():
            for f in s:
                if pred(f) and f not in seen:
                    seen[f] = None
        return list(seen)

    def always_under(self, child: Matcher, parent: Matcher) -> bool:
        """Every stack holding child holds parent closer to the root (and holds child at all)."""
        pc, pp = matcher(child), matcher(parent)
        found = False
        for s, _ in self.samples():
            i = _first(s, pc)
            if i < 0:
                continue
            found = True
            if _first(s[:i], pp) < 0:
                return False
        return found

    def not_under(self, a: Matcher, b: Matcher) -> bool:
        """No stack holds both a and b."""
        pa, pb = matcher(a), matcher(b)
        return not any(_first(s, pa) >= 0 and _first(s, pb) >= 0 for s, _ in self.samples())

    def describe(self, limit: int = 12) -> str:
        """The heaviest stacks, for assertion messages."""
        lines = []
        for p in self.profiles:
            lines.append("profile %r: %.3f s, %d samples" % (p.name, p.total, len(p.samples)))
        folded: Dict[Stack, float] = {}
        for s, w in self.samples():
            folded[s] = folded.get(s, 0.0) + w
        for s, w in sorted(folded.items(), key=lambda kv: -kv[1])[:limit]:
            shown = [str(f) for f in s]
            if len(shown) > 8:
                shown = shown[:3] + ["... %d frames ..." % (len(shown) - 6)] + shown[-3:]
            lines.append("  %.3f s  %s" % (w, " ; ".join(shown)))
        return "\n".join(lines)


# --- judging a profile against what the workload measured ----------------------------------
#
# A workload measures the spans the tests look at with _common.Stopwatch: wall-clock, CPU and
# runnable seconds and context switches ("measured", a dict). On a busy machine each span
# takes longer in wall-clock time, spends part of it runnable without a CPU ("[CPU wait]")
# and leaves the CPU more often; its CPU seconds stay what they are. A profile is judged
# against these numbers, never against the seconds the workload meant to spend.

PERIOD = 1 / 999  # seconds between samples: the default rate for a command


def on_cpu_slack(measured: Dict[str, float], period: float = PERIOD) -> float:
    """How far the on-CPU seconds a profile gives a span may be from its measured CPU
    seconds. Each stretch on a CPU is counted to within a sampling period either way, at
    random, so the error grows as the square root of the stretches (the span's context
    switches, plus one); four times that, 3% and 5 ms. A profile that loses a sample in
    ten, or gives a function's time to another, is well outside."""
    return 4 * period * math.sqrt(measured["switches"] + 1) + 0.03 * measured["cpu"] + 0.005


def wall_slack(measured: Dict[str, float], period: float = PERIOD) -> float:
    """How far the wall-mode seconds a profile gives a span may be from its measured
    wall-clock seconds: the on-CPU part's sampling error, and 1%: the waits come from the
    scheduler's switch times, exact to the microsecond."""
    return on_cpu_slack(measured, period) + 0.01 * measured["wall"]


def describe_measured(measured: Dict[str, float]) -> str:
    runnable = measured.get("runnable")
    return "measured %.3f s wall, %.3f s CPU, %s runnable, %d switches" % (
        measured["wall"], measured["cpu"], "?" if runnable is None else "%.3f s" % runnable,
        measured["switches"])


def _stopwatch(f: Frame) -> bool:
    """A frame of _common.Stopwatch's own (co_name before 3.11, co_qualname after)."""
    return (f.name in ("__init__", "read", "Stopwatch.__init__", "Stopwatch.read")
            and os.path.basename(f.file) == "_common.py")


@dataclass
class Span:
    """The samples below a function that measured itself with a Stopwatch."""

    on_cpu: float = 0.0
    waits: Dict[str, float] = field(default_factory=dict)
    # "[CPU wait]" samples (one each: pyflare sends each wait on its own) where the
    # stopwatch cannot see them: in the function's own frame or the stopwatch's, around
    # the wall-clock reads. A busy machine preempts a thread anywhere, now and then in
    # the microsecond before the stopwatch starts or after it stops.
    edge_waits: List[float] = field(default_factory=list)
    # "[CPU wait]" below the stopwatch's frames: between the wall clock and the kernel's
    # runnable count, which then misses it
    stopwatch_wait: float = 0.0

    @property
    def total(self) -> float:
        return self.on_cpu + sum(self.waits.values())

    @property
    def edges(self) -> float:
        """At most one preemption before the stopwatch starts and one after it stops."""
        return sum(sorted(self.edge_waits)[-2:])

    def describe(self) -> str:
        return "profile: %.3f s on CPU, %s (%.3f s at the edges)" % (
            self.on_cpu, ", ".join("%s %.3f s" % kv for kv in sorted(self.waits.items()))
            or "no waits", self.edges)


def span(rec: Recording, under: Matcher) -> Span:
    """The samples of @rec below the (outermost) frame matching @under, as a Span."""
    pred = matcher(under)
    out = Span()
    for s, w in rec.samples():
        i = _first(s, pred)
        if i < 0:
            continue
        if not is_wait(s[-1]):
            out.on_cpu += w
            continue
        out.waits[s[-1].name] = out.waits.get(s[-1].name, 0.0) + w
        if s[-1].name != "[CPU wait]":
            continue
        below = s[i + 1:-1]
        if not below or (len(below) == 1 and _stopwatch(below[0])):
            out.edge_waits.append(w)
        if below and _stopwatch(below[0]):
            out.stopwatch_wait += w
    return out


def wall_error(sp: Span, measured: Dict[str, float], period: float = PERIOD) -> Optional[str]:
    """None when @sp's wall-mode time is @measured's wall-clock time; else why not. The
    span is never shorter than the stopwatch's window, and longer only by what fell at its
    edges."""
    slack = wall_slack(measured, period)
    low, high = measured["wall"] - slack, measured["wall"] + sp.edges + slack
    if low <= sp.total <= high:
        return None
    return "%.3f s in the profile, want %.3f to %.3f s: %s; %s" % (
        sp.total, low, high, describe_measured(measured), sp.describe())


def on_cpu_error(sp: Span, measured: Dict[str, float], period: float = PERIOD) -> Optional[str]:
    """None when @sp's on-CPU time is @measured's CPU time; else why not."""
    slack = on_cpu_slack(measured, period)
    if abs(sp.on_cpu - measured["cpu"]) <= slack:
        return None
    return "%.3f s on CPU in the profile, want %.3f ± %.3f s: %s; %s" % (
        sp.on_cpu, measured["cpu"], slack, describe_measured(measured), sp.describe())


# --- formats ------------------------------------------------------------------------------


def load_speedscope(path: str) -> Recording:
    with open(path) as f:
        doc = json.load(f)
    frames = [Frame(str(fr.get("name", "")), str(fr.get("file", "") or ""), int(fr.get("line", 0) or 0))
              for fr in doc["shared"]["frames"]]
    profiles = []
    for p in doc["profiles"]:
        if p.get("type") != "sampled":
            raise ValueError("%s: profile %r is %r, not sampled" % (path, p.get("name"), p.get("type")))
        unit = p.get("unit", "none")
        scale = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}.get(unit)
        if scale is None:
            raise ValueError("%s: profile %r has unit %r" % (path, p.get("name"), unit))
        if len(p["samples"]) != len(p["weights"]):
            raise ValueError("%s: profile %r has %d samples but %d weights"
                             % (path, p.get("name"), len(p["samples"]), len(p["weights"])))
        prof = Profile(name=str(p.get("name", "")))
        for idx, w in zip(p["samples"], p["weights"]):
            prof.samples.append((tuple(frames[i] for i in idx), float(w) * scale))
        profiles.append(prof)
    return Recording(profiles)


COLLAPSED_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>.*):(?P<line>\d+)\)$")


def parse_collapsed_frame(text: str) -> Frame:
    """`qualname (file:line)`; anything else is a frame with only a name (a <marker>)."""
    m = COLLAPSED_FRAME.match(text)
    if not m:
        return Frame(text, "", 0)
    return Frame(m.group("name"), m.group("file"), int(m.group("line")))


def parse_collapsed(text: str, unit: float = 1.0) -> Recording:
    """Lines of `frame;frame;... COUNT`, root first, into one profile named "collapsed".

    COUNT times unit gives the weight; shares do not depend on the unit."""
    prof = Profile(name="collapsed")
    for n, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        stack_text, sep, count = line.rpartition(" ")
        if not sep or not re.fullmatch(r"\d+(\.\d+)?", count):
            raise ValueError("collapsed line %d has no count: %r" % (n, line))
        stack = tuple(parse_collapsed_frame(t) for t in stack_text.split(";")) if stack_text else ()
        prof.samples.append((stack, float(count) * unit))
    return Recording([prof])


def load_collapsed(path: str) -> Recording:
    with open(path) as f:
        return parse_collapsed(f.read())


# --- running ------------------------------------------------------------------------------


class RecordError(AssertionError):
    """pyflare did not produce what was asked; the message says what happened, briefly."""


@dataclass
class Result:
    argv: List[str]
    returncode: int
    stdout: str
    stderr: str
    output: str  # the output file, on the host
    seconds: float
    recording: Optional[Recording] = None
    measured: Optional[dict] = None  # what the workload measured of itself (take_measured)

    def explain(self) -> str:
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        return "command: %s\nexit status: %d\nstderr (tail):\n%s" % (
            " ".join(shlex.quote(a) for a in self.argv), self.returncode, tail or "(empty)")


def run_pyflare(*args, timeout: float = 60, binary: Optional[str] = None, **kw):
    """Runs pyflare with @args, no stdin, output captured as text."""
    return subprocess.run([binary or pyflare_path()] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, **kw)


def record_command(interp, placed, script: str, output: str, opts: Sequence[str] = (),
                   fmt: Optional[str] = None) -> List[str]:
    """The argv that records `interp script` into output (a host path inside placed)."""
    opts = list(opts)
    if fmt is not None:
        opts += ["--format", fmt]
    if reference_mode():
        out_in = placed.interp(os.path.relpath(output, placed.host_dir))
        return interp.command(placed.interp("refprof.py"), *opts, "-o", out_in, "--",
                              placed.interp(script))
    # the workloads state on-CPU seconds: cpu mode, unless @opts ask for --mode wall
    return ([pyflare_path(), "record", "--mode", "cpu"] + extra_args() + opts
            + ["-o", output, "--"] + interp.command(placed.interp(script)))


def measured_path(placed, script: str) -> str:
    """Where a workload that measures itself writes what it measured: STEM-times.json
    beside it (its own folder, as the host sees it)."""
    return placed.host(os.path.splitext(os.path.basename(script))[0] + "-times.json")


def take_measured(placed, script: str) -> Optional[dict]:
    """What the run of @script that just ended measured of itself, or None; the file is
    removed, so that it is never read for another run."""
    path = measured_path(placed, script)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    finally:
        if os.path.exists(path):
            os.unlink(path)


def record(interp, placed, script: str, opts: Sequence[str] = (), fmt: Optional[str] = None,
           output: Optional[str] = None, timeout: float = RECORD_TIMEOUT,
           env: Optional[Dict[str, str]] = None) -> Result:
    """Records one run of a placed workload, with @env added to pyflare's environment; loads
    the output when there is one.

    Does not judge the exit status: the caller does (result.returncode)."""
    if output is None:
        ext = ".collapsed" if fmt == "collapsed" else ".speedscope.json"
        output = placed.host("%s-%d%s" % (os.path.splitext(script)[0], next(_outputs), ext))
    argv = record_command(interp, placed, script, output, opts, fmt)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(var, None)
    take_measured(placed, script)  # none left from an earlier run
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, timeout=timeout,
                              universal_newlines=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        raise RecordError("timed out after %d s: %s\nstderr (tail): %s" % (
            timeout, " ".join(argv), (e.stderr or b"")[-2000:])) from None
    result = Result(argv=argv, returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr,
                    output=output, seconds=time.monotonic() - start,
                    measured=take_measured(placed, script))
    if os.path.exists(output) and os.path.getsize(output) > 0:
        try:
            result.recording = load_collapsed(output) if (fmt == "collapsed") else load_speedscope(output)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise RecordError("cannot read %s: %s: %s\n%s" % (output, type(e).__name__, e, result.explain())) from None
    return result


def record_ok(interp, placed, script: str, status: int = 0, **kw) -> Result:
    """record(), then insists on the exit status and an output."""
    result = record(interp, placed, script, **kw)
    if result.returncode != status:
        raise RecordError("want exit status %d\n%s" % (status, result.explain()))
    if result.recording is None:
        raise RecordError("no output written to %s\n%s" % (result.output, result.explain()))
    return result


def descendants(pid: int) -> List[int]:
    """The PIDs of every process below @pid, children first."""
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out + [g for c in out for g in descendants(c)]


def kill_session(proc) -> None:
    """Kills @proc's session (started with start_new_session=True), its stdout pipe closed."""
    try:
        os.killpg(proc.pid, 9)
    except OSError:
        pass
    proc.wait()
    proc.stdout.close()
