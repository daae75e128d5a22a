# SPDX-License-Identifier: MIT
"""accuracy.py — workloads whose time split is known, measured from the inside.

    python3 accuracy.py KIND SECONDS TRUTH.json [--procs N] [--points 5,50,95] [--depth 128]

Each function of interest is timed around every call with time.thread_time_ns (CPU time,
what a cpu-mode sampler measures) and time.perf_counter_ns (wall time, what pyinstrument
measures); TRUTH.json gets the sums: {"cpu_ns": {function: ns}, "wall_ns": {...}, ...}.
With --procs N the program runs N copies of itself side by side (one per CPU) and adds up
their sums, so a sampler gets N times the samples in the same time.

KIND:
  split   four functions that take 50/25/15/10 % of the time, interleaved in slices of
          2/1/0.6/0.4 ms: split_50, split_25, split_15, split_10. SECONDS is CPU time here
          (per process), so that a busy machine does not cut the number of samples
  bias    Scalene's function-bias test: two functions computing the same thing, one calling
          a helper in its loop (called_P) and one with the helper inlined (inlined_P), run so
          that called_P takes about P % of the time, for each P of --points in turn
  native  hash_native (sha256 over 16 MiB buffers: C code that releases the GIL) in a thread
          beside py_work (pure Python) in the main thread
  deep    spins at the bottom of a stack of --depth Python frames (<module>, main, then
          descend down to the leaf); TRUTH.json gets the depth
"""
import hashlib
import json
import os
import subprocess
import sys
import threading
import types
from time import perf_counter_ns, thread_time_ns

cpu = {}
wall = {}


def timed(fn, *args):
    w0, c0 = perf_counter_ns(), thread_time_ns()
    fn(*args)
    c1, w1 = thread_time_ns(), perf_counter_ns()
    name = fn.__name__
    cpu[name] = cpu.get(name, 0) + c1 - c0
    wall[name] = wall.get(name, 0) + w1 - w0


def renamed(fn, name):
    """@fn under another name: a code object of its own, so a profiler tells them apart."""
    try:
        code = fn.__code__.replace(co_name=name, co_qualname=name)
    except TypeError:		# before 3.11: no co_qualname
        code = fn.__code__.replace(co_name=name)
    return types.FunctionType(code, fn.__globals__, name)


# ---- split: a fixed CPU split, interleaved in small slices --------------------------------

def _split(budget_ns):
    end = thread_time_ns() + budget_ns
    x = 0
    while thread_time_ns() < end:
        for i in range(100):
            x += i
    return x


def run_split(seconds, _opts):
    """Until the four functions had SECONDS of CPU time (a busy machine makes that take longer;
    at most 3 x SECONDS of wall time), so that a sampler gets the samples it was run for."""
    end = perf_counter_ns() + int(3 * seconds * 1e9)
    budget = thread_time_ns() + int(seconds * 1e9)
    slices = [(renamed(_split, "split_%d" % share), share * 40000) for share in (50, 25, 15, 10)]
    while perf_counter_ns() < end and thread_time_ns() < budget:
        for fn, ns in slices:
            timed(fn, ns)


# ---- bias: a helper called in the loop, or inlined -----------------------------------------

def helper(x, i):
    return (x * 31 + i) & 0xFFFF


def called(n):
    x = 0
    for i in range(n):
        x = helper(x, i)
    return x


def inlined(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) & 0xFFFF
    return x


def per_iteration_ns(fn, n=20000):
    t0 = thread_time_ns()
    fn(n)
    return (thread_time_ns() - t0) / n


def run_bias(seconds, opts):
    points = [int(p) for p in opts.get("--points", "5,25,50,75,95").split(",")]
    each = seconds / len(points)
    round_ns = 4e6
    # all made first and kept: a freed code object's address is soon another's, and a
    # profiler that knows code objects by address would give the new one the old name
    fns = [(p, renamed(called, "called_%02d" % p), renamed(inlined, "inlined_%02d" % p))
           for p in points]
    for p, c_fn, i_fn in fns:
        # calibrated on the originals: the same code, but not one of the functions measured
        per_c = min(per_iteration_ns(called) for _ in range(3))
        per_i = min(per_iteration_ns(inlined) for _ in range(3))
        n_c = max(1, int(round_ns * p / 100 / per_c))
        n_i = max(1, int(round_ns * (100 - p) / 100 / per_i))
        end = perf_counter_ns() + int(each * 1e9)
        while perf_counter_ns() < end:
            timed(c_fn, n_c)
            timed(i_fn, n_i)


# ---- native: GIL-releasing C code in a thread beside pure Python ---------------------------

def hash_native(end_ns, buf):
    h = 0
    while perf_counter_ns() < end_ns:
        h ^= hashlib.sha256(buf).digest()[0]
    return h


def py_work(end_ns):
    x = 0
    while perf_counter_ns() < end_ns:
        for i in range(1000):
            x += i * i
    return x


def run_native(seconds, _opts):
    end = perf_counter_ns() + int(seconds * 1e9)
    buf = os.urandom(16 << 20)
    t = threading.Thread(target=timed, args=(hash_native, end, buf), name="hasher")
    t.start()
    timed(py_work, end)
    t.join()


# ---- deep: a stack of a known depth --------------------------------------------------------

def descend(n, end_ns):
    if n > 1:
        return descend(n - 1, end_ns)
    x = 0
    while perf_counter_ns() < end_ns:
        for i in range(1000):
            x += i
    return x


def run_deep(seconds, opts):
    depth = int(opts.get("--depth", 128))
    sys.setrecursionlimit(depth + 100)
    truth_extra["depth"] = depth
    # <module>, main, run_deep and timed are four frames of the stack: descend makes the rest
    timed(descend, depth - 4, perf_counter_ns() + int(seconds * 1e9))


truth_extra = {}
KINDS = {"split": run_split, "bias": run_bias, "native": run_native, "deep": run_deep}


def main():
    kind, seconds, truth = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    procs = int(opts.pop("--procs", 1))
    rest = [a for kv in opts.items() for a in kv]
    kids = [subprocess.Popen([sys.executable, os.path.abspath(__file__), kind, str(seconds),
                              "%s.%d" % (truth, k)] + rest) for k in range(1, procs)]
    KINDS[kind](seconds, opts)
    out = {"kind": kind, "procs": procs, "cpu_ns": dict(cpu), "wall_ns": dict(wall)}
    out.update(truth_extra)
    for k, p in enumerate(kids, 1):
        p.wait()
        with open("%s.%d" % (truth, k)) as f:
            other = json.load(f)
        os.unlink("%s.%d" % (truth, k))
        for key in ("cpu_ns", "wall_ns"):
            for name, ns in other[key].items():
                out[key][name] = out[key].get(name, 0) + ns
    with open(truth, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
