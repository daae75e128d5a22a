# SPDX-License-Identifier: MIT
"""wl.py — what every workload shares: a fixed amount of work, scaled by argv[1], timed.

    python3 WORKLOAD.py [SCALE]

SCALE (default 1.0) multiplies the amount of work; 1.0 takes about 1-2 s on one CPU of the
bench VM. The last line of stdout is the elapsed seconds of the work alone (interpreter
start-up and a profiler's attach excluded), which bench/common.py's run_timed() reads.
Plain stdlib, for CPython 3.8 to 3.14.
"""
import os
import sys
import time


def scale(default=1.0):
    return float(sys.argv[1]) if len(sys.argv) > 1 else default


def run(work, base_n):
    """Runs work(n) with n = base_n * SCALE and prints its elapsed seconds. With WL_CPU=N
    in the environment the process first moves itself to CPU N (for a profiler that must
    start the interpreter itself, where `taskset` cannot stand between them)."""
    if os.environ.get("WL_CPU"):
        os.sched_setaffinity(0, {int(os.environ["WL_CPU"])})
    n = max(1, int(base_n * scale()))
    start = time.perf_counter()
    work(n)
    elapsed = time.perf_counter() - start
    sys.stdout.write("%.6f\n" % elapsed)
    sys.stdout.flush()
