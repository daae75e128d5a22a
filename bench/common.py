# SPDX-License-Identifier: MIT
"""common.py — what every benchmark section shares: where pyflare is, the kernel's own
accounting of BPF programs, paired and interleaved timing, statistics, Markdown tables.

A section is a module bench/sec_NAME.py with `run(ctx) -> Section`; bench/run.py runs the
sections in order and writes docs/performance.md from what they return.
"""
import contextlib
import json
import os
import random
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYFLARE = os.environ.get("PYFLARE", os.path.join(REPO, "build", "pyflare"))
WORKLOADS = os.path.join(HERE, "workloads")
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
    ids = []
    try:
        fds = os.listdir("/proc/%d/fdinfo" % pid)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.append(int(line.split()[1]))
        except (OSError, ValueError):
            pass
    return ids


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


def steal_and_irq() -> Tuple[int, int]:
    """(steal, irq + softirq) jiffies of all CPUs so far: runs where steal grows are noisy."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[7], v[5] + v[6]


# ---- paired, interleaved timing ------------------------------------------------------------

def interleaved(configs: Dict[str, Callable[[], float]], rounds: int,
                seed: int = 1) -> Dict[str, List[float]]:
    """Runs every config once per round, in a shuffled order each round (after one discarded
    warm-up round); returns each config's measurements in round order, so that
    ratio(results[a][i], results[b][i]) pairs runs of the same round."""
    rng = random.Random(seed)
    names = list(configs)
    for name in names:			# warm-up: caches, page cache, CPU frequency
        configs[name]()
    out: Dict[str, List[float]] = {n: [] for n in names}
    for _ in range(rounds):
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
