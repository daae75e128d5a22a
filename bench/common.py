# SPDX-License-Identifier: MIT
"""common.py — what every benchmark section shares: where pyflare is, the kernel's own
accounting of BPF programs, paired and interleaved timing, statistics, Markdown tables.

A section is a module bench/sec_NAME.py with `run(ctx) -> Section`; bench/run.py runs the
sections in order and writes docs/performance.md from what they return.
"""
import contextlib
import glob
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# The bench build (make bench-binary): build/pyflare with the bench hooks, PYFLARE_BENCH_STAGE and
# PYFLARE_BENCH_HISTOGRAM (user/record/bench_hooks.h), which the shipped binary does not have.
PYFLARE = os.environ.get("PYFLARE_BENCH_BINARY") or os.path.join(REPO, "build", "bench", "pyflare")
WORKLOADS = os.path.join(HERE, "workloads")
SID_ROOT = os.environ.get("PYFLARE_SID_ROOT", "/var/cache/pyflare/sid-root")  # scripts/sid-root.sh
HOST_PYTHON = "/usr/bin/python3"	# Debian's CPython: what a host most likely runs


@dataclass
class Goal:
    """One line of the issue's goals, as measured in this run."""
    goal: str		# "Kernel cost at 32 frames <= 2 us mean"
    measured: str	# "1.7 us (3.11), 1.9 us (3.13)"
    met: Optional[bool]	# None: not measured in this run (say why in `measured`)


@dataclass
class Section:
    title: str
    markdown: str	# the body, without the title
    goals: List[Goal] = field(default_factory=list)


@dataclass
class Context:
    quick: bool		# make bench-quick: fewer rounds, shorter runs, fewer rows
    out_dir: str	# build/bench: raw results (JSON, recordings) of this run
    soak: bool = False	# make bench-soak: the collector's 10-minute recordings
    soak_minutes: float = 60	# make bench-soak: how long the agents run

    def scale(self, full, quick):
        return quick if self.quick else full


# ---- the kernel's accounting of BPF programs ----------------------------------------------

def prog_stats(name: str, pid: Optional[int] = None) -> Optional[Tuple[int, int]]:
    """(run_time_ns, run_cnt) of the loaded BPF program @name (the one process @pid holds,
    when given: other pyflare instances may be running), or None."""
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show", "name", name],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=10).stdout
        progs = json.loads(out or "[]")
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if isinstance(progs, dict):
        progs = [progs]
    for p in progs:
        if pid is not None and p.get("id") not in prog_ids_of(pid):
            continue
        if "run_cnt" in p:
            return p.get("run_time_ns", 0), p["run_cnt"]
    return None


def prog_ids_of(pid: int) -> List[int]:
    """IDs of the BPF programs process @pid holds open (from /proc/PID/fdinfo)."""
    return _fdinfo_ids(pid, "prog_id:")


def map_ids_of(pid: int) -> List[int]:
    """IDs of the BPF maps process @pid holds open (from /proc/PID/fdinfo)."""
    return _fdinfo_ids(pid, "map_id:")


def _fdinfo_ids(pid: int, key: str) -> List[int]:
    ids = []
    try:
        fds = os.listdir("/proc/%d/fdinfo" % pid)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith(key):
                        ids.append(int(line.split()[1]))
        except (OSError, ValueError):
            pass
    return ids


def _bpftool_json(argv: Sequence[str]):
    try:
        out = subprocess.run(["bpftool", "-j"] + list(argv), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True,
                             timeout=10).stdout
        return json.loads(out or "null")
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def map_id(name: str, pid: int) -> Optional[int]:
    """The ID of the BPF map @name that process @pid holds, or None."""
    mine = set(map_ids_of(pid))
    for m in _bpftool_json(["map", "show"]) or []:
        if m.get("name") == name and m.get("id") in mine:
            return m["id"]
    return None


# enum pyflare_health (bpf/pyflare.h): the counters of the `health` map
HEALTH_SAMPLES = 0	# timer (or tick) hits on a thread of a profiled process


def percpu_u64(map_id_: int, key: int) -> Optional[int]:
    """The sum over the CPUs of the u64 at @key of per-CPU array map @map_id_, or None."""
    v = _bpftool_json(["map", "lookup", "id", str(map_id_), "key"] +
                      [str(b) for b in key.to_bytes(4, "little")])
    try:
        return sum(int(c["value"]) for c in v["formatted"]["values"])
    except (TypeError, KeyError, ValueError):
        return None


@contextlib.contextmanager
def bpf_stats():
    """kernel.bpf_stats_enabled=1 for the duration (it costs ~20 ns per program run)."""
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=False)
    try:
        yield
    finally:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=False)


def wait_for_prog(name: str, pid: Optional[int] = None, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if prog_stats(name, pid) is not None:
            return True
        time.sleep(0.05)
    return False


# ---- processes -----------------------------------------------------------------------------

def python_version(python: str, root: Optional[str] = None) -> str:
    if root is None:
        root, python = in_root(python)
    argv = ([] if root is None else ["chroot", root]) + \
        [python, "-c", "import sys; print(sys.version.split()[0])"]
    return subprocess.run(argv, stdout=subprocess.PIPE, universal_newlines=True,
                          check=True).stdout.strip()


def cpu_seconds(pid: int) -> float:
    """utime + stime of @pid so far (children it waited for included), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


def peak_rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _sum_over_threads(pid: int, name: str, parse: Callable[[str], int]) -> int:
    """The sum of parse(text of /proc/PID/task/TID/@name) over the threads of @pid (0 for
    those gone meanwhile)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/%s" % (pid, tid, name)) as f:
                total += parse(f.read())
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_ns(pid: int) -> int:
    """Time on a CPU of all threads of @pid so far, in ns (schedstat: no 10 ms ticks)."""
    return _sum_over_threads(pid, "schedstat", lambda text: int(text.split()[0]))


def context_switches(pid: int) -> int:
    """Context switches (voluntary and not) of all threads of @pid so far: each is one run
    of the scheduler's switch tracepoint with the thread as the one leaving."""
    return _sum_over_threads(pid, "status", lambda text: sum(
        int(line.split()[1]) for line in text.splitlines()
        if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"))))


@contextlib.contextmanager
def pinned(cpus):
    """The bench driver itself (and what it starts) on @cpus for the duration."""
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, old)


def steal_and_irq() -> Tuple[int, int]:
    """(steal, irq + softirq) jiffies of all CPUs so far: runs where steal grows are noisy."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[7], v[5] + v[6]


class Noise:
    """Steal and interrupt time from its creation on, as shares of all CPUs' time: a
    section says so when the machine it ran on was not its own."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.steal0, self.irq0 = steal_and_irq()

    def shares(self) -> Tuple[float, float]:
        steal, irq = steal_and_irq()
        ticks = os.sysconf("SC_CLK_TCK") * (time.monotonic() - self.t0) * os.cpu_count()
        return 100.0 * (steal - self.steal0) / ticks, 100.0 * (irq - self.irq0) / ticks

    def sentence(self, threshold: float = 1.0) -> str:
        """'' or a sentence for the section's page when steal time reached @threshold %."""
        steal, irq = self.shares()
        if steal < threshold:
            return ""
        return ("**Steal time was %.1f%% of CPU time during this section** (interrupts "
                "%.1f%%): the hypervisor ran something else on these CPUs, so its times "
                "are noisier than usual.\n\n" % (steal, irq))


# ---- pyflare recordings under the bench hooks ---------------------------------------------

NO_TICK = "not measured: this build has no --clock tick"
_tick_clock: Optional[bool] = None


def has_tick_clock() -> bool:
    """Whether this build samples on the scheduler tick too (`record --clock tick`, BPF
    program on_tick)."""
    global _tick_clock
    if _tick_clock is None:
        try:
            out = subprocess.run([PYFLARE, "record", "--help"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, universal_newlines=True,
                                 timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        _tick_clock = "--clock" in out
    return _tick_clock


def pythons(quick: bool) -> List[str]:
    """The interpreters a kernel-cost table covers: Debian's, then pyenv's newest 3.13 when
    installed, then the sid root's 3.14 when built (only Debian's in quick mode): the oldest
    and newest data-stack layouts, and the first with code-object generations (3.14: the
    walker's code cache serves there only)."""
    found = [HOST_PYTHON]
    if not quick:
        for pattern in ("3.13*",):
            paths = sorted(glob.glob("/root/.pyenv/versions/%s/bin/python3" % pattern))
            if paths:
                found.append(paths[-1])
        sid = os.path.join(SID_ROOT, "usr/bin/python3.14")
        if os.path.exists(os.path.join(SID_ROOT, ".pyflare-sid-root")) and os.path.exists(sid):
            found.append(sid)
    return found


def in_root(python: str) -> Tuple[Optional[str], str]:
    """(the root @python runs chrooted in, or None; its path as it names it there)."""
    if python.startswith(SID_ROOT.rstrip("/") + "/"):
        return SID_ROOT, python[len(SID_ROOT.rstrip("/")):]
    return None, python


def python_argv(python: str, script: str) -> List[str]:
    """The command that runs @script (a file of bench/) with @python: for an interpreter of
    the sid root, a copy of the script inside it, run under chroot."""
    root, inside = in_root(python)
    if root is None:
        return [python, script]
    folder = os.path.join(root, "tmp", "pyflare-bench")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(script, folder)
    return ["chroot", root, inside, os.path.join("/tmp/pyflare-bench", os.path.basename(script))]


class Recording:
    """A `pyflare record -o /dev/null ARGS` running in the background, with the bench hooks'
    settings (PYFLARE_BENCH_STAGE, PYFLARE_BENCH_HISTOGRAM), whose BPF programs and
    counters are read while it runs. Use with `with`, under bpf_stats()."""

    def __init__(self, args: Sequence[str], stage: Optional[str] = None,
                 histogram: Optional[str] = None, cpus: Optional[Sequence[int]] = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYFLARE_BENCH_")}
        if stage:
            env["PYFLARE_BENCH_STAGE"] = stage
        if histogram:
            env["PYFLARE_BENCH_HISTOGRAM"] = histogram
            with contextlib.suppress(FileNotFoundError):
                os.unlink(histogram)
        self.histogram_path = histogram
        self.argv = [PYFLARE, "record", "-q", "-o", "/dev/null"] + list(args)
        self.stderr = tempfile.TemporaryFile(mode="w+")
        pin = (lambda: os.sched_setaffinity(0, set(cpus))) if cpus is not None else None
        self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     preexec_fn=pin)
        self.pid = self.proc.pid
        self._health: Optional[int] = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.stderr.close()

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().strip()

    def wait_attached(self, prog: str, timeout: float = 15.0):
        """Returns once @prog has run (bpf_stats must be on); raises if pyflare ended."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s ended (%d): %s" % (" ".join(self.argv),
                                                          self.proc.returncode, self.errors()))
            s = prog_stats(prog, self.pid)
            if s and s[1] > 0:
                return
            time.sleep(0.02)
        raise RuntimeError("%s: %s never ran in %.0f s" % (" ".join(self.argv), prog, timeout))

    def stats(self, prog: str) -> Tuple[int, int]:
        """(run_time_ns, run_cnt) of this recording's program @prog so far."""
        s = prog_stats(prog, self.pid)
        if s is None:
            raise RuntimeError("%s: no program %s" % (" ".join(self.argv), prog))
        return s

    def samples(self) -> int:
        """Profiled samples so far: the sampler's hits on a thread of a profiled process."""
        if self._health is None:
            self._health = map_id("health", self.pid)
        n = percpu_u64(self._health, HEALTH_SAMPLES) if self._health is not None else None
        if n is None:
            raise RuntimeError("%s: cannot read its health map" % " ".join(self.argv))
        return n

    def cpu_ns(self) -> int:
        """pyflare's own time on a CPU so far (the collector: the BPF programs are not in it)."""
        return cpu_ns(self.pid)

    def stop(self, timeout: float = 60.0) -> int:
        """Ends the recording as Ctrl-C does (the histogram is written then)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def histogram(self, prog: str) -> "Histogram":
        """Run times of @prog over the whole recording (after stop())."""
        return Histogram.load(self.histogram_path, prog)


@dataclass
class Histogram:
    """A handler's run times as PYFLARE_BENCH_HISTOGRAM writes them: counts per bucket of
    bucket_ns; the last of BUCKETS holds every run from BUCKETS * bucket_ns on."""
    bucket_ns: int
    counts: List[int]
    BUCKETS = 512

    @classmethod
    def load(cls, path: str, prog: str) -> "Histogram":
        with open(path) as f:
            h = json.load(f)
        return cls(int(h["bucket_ns"]), [int(c) for c in h.get(prog, [])])

    @property
    def total(self) -> int:
        return sum(self.counts)

    def _overflows(self, b: int) -> bool:
        return b >= self.BUCKETS - 1

    def trimmed(self, fastest: int = 0, slowest: int = 0) -> "Histogram":
        """Without the @fastest quickest and @slowest longest runs (to set apart the runs of
        another kind, whose count is known, when they are the cheaper or dearer ones)."""
        c = list(self.counts)
        for n, order in ((fastest, range(len(c))), (slowest, range(len(c) - 1, -1, -1))):
            n = max(0, int(round(n)))
            for b in order:
                if n <= 0:
                    break
                k = min(c[b], n)
                c[b] -= k
                n -= k
        return Histogram(self.bucket_ns, c)

    def mean(self) -> float:
        """ns, counting each run at its bucket's middle (overflows at the limit)."""
        n = self.total
        return sum((b + 0.5) * self.bucket_ns * k for b, k in enumerate(self.counts)) / n \
            if n else float("nan")

    def percentile(self, p: float) -> float:
        """ns at the middle of the bucket holding the @p-th percentile; inf when that is the
        last bucket (longer than the histogram reaches)."""
        n = self.total
        if not n:
            return float("nan")
        want, seen = p / 100.0 * n, 0
        for b, k in enumerate(self.counts):
            seen += k
            if k and seen >= want:
                return float("inf") if self._overflows(b) else (b + 0.5) * self.bucket_ns
        return float("nan")

    def limit_ns(self) -> int:
        return (self.BUCKETS - 1) * self.bucket_ns


def fmt_us(ns: float, limit_ns: Optional[float] = None) -> str:
    """'2.41 µs' ('> 25.5 µs' for a percentile past the histogram, '?' for none)."""
    if ns != ns:
        return "?"
    if ns == float("inf"):
        return "> %.1f µs" % ((limit_ns or 0) / 1000.0)
    return "%.2f µs" % (ns / 1000.0)


# ---- paired, interleaved timing ------------------------------------------------------------

def interleaved(configs: Dict[str, Callable[[], float]], rounds: int,
                seed: int = 1, budget_s: Optional[float] = None,
                min_rounds: int = 2) -> Dict[str, List[float]]:
    """Runs every config once per round, in a shuffled order each round (after one discarded
    warm-up round); returns each config's measurements in round order, so that
    ratio(results[a][i], results[b][i]) pairs runs of the same round.
    With @budget_s, fewer rounds (but at least @min_rounds) when another would end after
    @budget_s seconds from the call, judging by the rounds so far: a slow or busy machine
    keeps make bench's time."""
    rng = random.Random(seed)
    names = list(configs)
    start = time.monotonic()
    for name in names:			# warm-up: caches, page cache, CPU frequency
        configs[name]()
    out: Dict[str, List[float]] = {n: [] for n in names}
    for r in range(rounds):
        if budget_s is not None and r >= min_rounds:
            elapsed = time.monotonic() - start
            if elapsed + elapsed / (r + 1) > budget_s:	# the warm-up is a round too
                break
        order = names[:]
        rng.shuffle(order)
        for name in order:
            out[name].append(configs[name]())
    return out


def paired_ratios(a: Sequence[float], b: Sequence[float]) -> List[float]:
    """Per-round ratios a[i] / b[i] (for times: slowdown of a against b)."""
    return [x / y for x, y in zip(a, b) if y]


def median_ci(xs: Sequence[float], iters: int = 2000, seed: int = 7) -> Tuple[float, float, float]:
    """(median, low, high): the median and a bootstrap 95% interval of it."""
    xs = list(xs)
    if not xs:
        return float("nan"), float("nan"), float("nan")
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(iters))
    return statistics.median(xs), meds[int(0.025 * iters)], meds[int(0.975 * iters) - 1]


def fmt_ratio(xs: Sequence[float]) -> str:
    """'1.012x [1.004, 1.020]' — median slowdown with its 95% interval."""
    m, lo, hi = median_ci(xs)
    return "%.3fx [%.3f, %.3f]" % (m, lo, hi)


def percentile(xs: Sequence[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def least_squares(points: Sequence[Tuple[float, float]]) -> Tuple[float, float]:
    """(slope, intercept) of y over x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0
    return slope, my - slope * mx


# ---- Markdown --------------------------------------------------------------------------------

def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines) + "\n"



# ---- timed runs of a workload (bench/workloads/) and rounds within a time budget ------------

@dataclass
class Run:
    """One run of a command that prints its own elapsed seconds as its last stdout line."""
    elapsed: float	# the workload's own seconds (its last stdout line)
    wall: float		# the whole command's, start-up and profiler included
    cpu: float		# user + system seconds of the command and of every child it waited for
    stdout: str
    stderr: str


class RunFailed(Exception):
    pass


def run_timed(argv: Sequence[str], env: Optional[Dict[str, str]] = None,
              cwd: Optional[str] = None, timeout: float = 300.0) -> Run:
    """Runs @argv to its end. Its CPU time comes from wait4(): a profiler that starts the
    workload and waits for it counts with it. Raises RunFailed when the command fails or
    prints no elapsed seconds."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, universal_newlines=True)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            killer.cancel()
        wall = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if wall >= timeout:
        raise RunFailed("killed after %.0f s: %s" % (timeout, " ".join(argv)))
    if p.returncode != 0:
        said = last_words(stderr) or last_words(stdout)
        raise RunFailed("exit %d: %s" % (p.returncode, said))
    elapsed = last_float(stdout)
    if elapsed is None:
        raise RunFailed("no elapsed seconds in its output (%s)" % (last_words(stderr) or "none"))
    return Run(elapsed, wall, ru.ru_utime + ru.ru_stime, stdout, stderr)


def last_words(text: str) -> str:
    """What a failed command said last: its last non-empty line, with the lines before it
    while that is under 40 characters (a message wrapped over lines), without ANSI colours,
    at most 160 characters."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    said = ""
    while lines and len(said) < 40:
        said = (lines.pop() + " " + said).strip()
    return said if len(said) <= 160 else said[:157] + "..."


def last_float(text: str) -> Optional[float]:
    """The last line of @text that is a number (profilers may print after the workload)."""
    for ln in reversed(text.splitlines()):
        try:
            return float(ln.strip())
        except ValueError:
            continue
    return None


def interleaved_budget(configs: Dict[str, Callable[[], object]], seconds: float,
                       min_rounds: int, max_rounds: int, every: Optional[Dict[str, int]] = None,
                       warmup: Optional[Sequence[str]] = None, seed: int = 1,
                       took: Optional[Dict[str, List[float]]] = None
                       ) -> Dict[str, List[object]]:
    """interleaved() within a time budget: after the warm-up, as many shuffled rounds as
    fit in @seconds (counted from the start, warm-up included; at least @min_rounds, at most
    @max_rounds). The warm-up runs (and discards) the configs named in @warmup, by default
    every config that runs in every round. A config named in @every runs only in every Nth
    round (round 0 included): a slow one (a deterministic profiler at 20x) then costs fewer
    rounds of the others. Its list holds None for the rounds it sat out, so that index i
    still pairs runs of round i (see paired()). A round starts only when the runs it holds
    are expected (each config's median run so far) to end within the budget. @took, when
    given, receives each config's seconds per run, warm-up included."""
    every = every or {}
    rng = random.Random(seed)
    names = list(configs)
    took = {} if took is None else took
    took.update({n: [] for n in names})

    def timed(name):
        start = time.monotonic()
        value = configs[name]()
        took[name].append(time.monotonic() - start)
        return value

    t0 = time.monotonic()
    for name in (warmup if warmup is not None else [n for n in names if every.get(n, 1) == 1]):
        timed(name)
    out: Dict[str, List[object]] = {n: [] for n in names}
    for r in range(max_rounds):
        runs = [n for n in names if r % every.get(n, 1) == 0]
        if r >= min_rounds:
            # the median of a config's runs; its fastest while it has only one or two,
            # lest one stalled run cost the rounds that remain
            guess = sum(statistics.median(took[n]) if len(took[n]) >= 3 else min(took[n])
                        for n in runs if took[n])
            if time.monotonic() - t0 + guess > seconds:
                break
        rng.shuffle(runs)
        for name in runs:
            out[name].append(timed(name))
        for name in names:
            if name not in runs:
                out[name].append(None)
    return out


def paired(a: Sequence[Optional[float]], b: Sequence[Optional[float]]) -> List[float]:
    """paired_ratios() for lists that may hold None (a round a config sat out or failed)."""
    return [x / y for x, y in zip(a, b) if x is not None and y]


class Guarded:
    """A config's callable that turns a RunFailed into None, keeping the last reason and
    the count. After @give_up failures in a row it stops trying (returns None at once): a
    config that cannot run costs no more rounds, and its row can say why."""

    def __init__(self, fn: Callable[[], object], give_up: int = 2):
        self.fn = fn
        self.give_up = give_up
        self.error: Optional[str] = None
        self.failures = 0
        self.in_a_row = 0
        self.runs = 0

    def __call__(self):
        if self.in_a_row >= self.give_up:
            return None
        self.runs += 1
        try:
            value = self.fn()
        except RunFailed as e:
            self.error = str(e)
            self.failures += 1
            self.in_a_row += 1
            return None
        self.in_a_row = 0
        return value


def fmt_ratio_guarded(xs: Sequence[float], *guards: Guarded) -> str:
    """fmt_ratio(@xs), noting the runs of @guards that failed, or why there is no ratio."""
    failed = [g for g in guards if g.failures]
    why = "; ".join((g.error or "?").replace("|", "/") for g in failed)
    if not xs:
        return "failed: " + why if failed else "–"
    if failed:
        return "%s (%d of %d runs failed: %s)" % (fmt_ratio(xs), sum(g.failures for g in failed),
                                                  sum(g.runs for g in failed), why)
    return fmt_ratio(xs)

# ---- the collector: its own CPU, memory and health line -----------------------------------

def own_cpu_seconds(pid: int) -> float:
    """utime + stime of @pid alone (not the children it waited for), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int) -> Dict[str, int]:
    """The kB fields of /proc/PID/status (VmRSS, VmHWM, RssAnon, RssFile, ...), in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0])
    return out


def mapping_rss_kib(pid: int, needle: str) -> int:
    """Resident KiB of @pid's mappings whose /proc/PID/smaps line contains @needle
    (e.g. "anon_inode:bpf-map": the BPF ring buffer mapped into the collector)."""
    total, inside = 0, False
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if line[:1] in "0123456789abcdef" and "-" in line.split(" ", 1)[0]:
                    inside = needle in line
                elif inside and line.startswith("Rss:"):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


SUMMARY_FIELDS = ("samples", "lost", "truncated", "unreadable")


def pyflare_summary(stderr: str) -> Optional[Dict[str, int]]:
    """The counts of pyflare's end-of-run line "pyflare: N samples, N lost, N truncated,
    N unreadable, ..." (the last one in @stderr), or None."""
    import re
    found = None
    for line in stderr.splitlines():
        m = re.match(r"pyflare: (\d+) samples, (\d+) lost, (\d+) truncated, (\d+) unreadable", line)
        if m:
            found = dict(zip(SUMMARY_FIELDS, (int(x) for x in m.groups())))
    return found


def record_has_option(option: str) -> bool:
    """Whether `pyflare record --help` mentions @option (e.g. "--clock")."""
    try:
        out = subprocess.run([PYFLARE, "record", "--help"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return option in out


def mib(kib: float) -> str:
    return "%.1f MiB" % (kib / 1024.0)
