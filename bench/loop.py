# SPDX-License-Identifier: MIT
"""A CPU-bound loop, run and timed on request: the ladder's subject (bench/sec_ladder.py).

    python3 loop.py CPU

Pins itself to CPU, then reads commands on its standard input, one a line:
  calibrate SECONDS   prints the iterations that take about SECONDS of CPU time
  run N               runs N iterations; prints the wall-clock and CPU seconds they took
A long-lived process, so that every configuration of a round times the same process; a
profiler attaches to it between runs. The loop runs 24 frames deep in distinct functions
and calls small ones, so that a sample walks a stack like a program's and the stack moves.
"""
import os
import sys
import time

from depth import chain

DEPTH = 24


def leaf_a(i):
    return (i * 7) & 1023


def leaf_b(i):
    return (i ^ 0x55) + 1


def work(n):
    x = 0
    for i in range(n):
        x += leaf_a(i) if i & 1 else leaf_b(i)
    return x


def main():
    os.sched_setaffinity(0, {int(sys.argv[1])})
    top = chain(DEPTH - 3, work)		# <module>, main and work() are frames too
    for line in sys.stdin:
        cmd, arg = line.split()
        if cmd == "calibrate":		# by CPU time: other tasks on the CPU do not count
            want, n, took = float(arg), 1000, 0.0
            while took < want / 4:
                n *= 2
                t0 = time.process_time()
                top(n)
                took = time.process_time() - t0
            n = int(n * want / took)
            took = []
            for _ in range(3):
                t0 = time.process_time()
                top(n)
                took.append(time.process_time() - t0)
            print(int(n * want / min(took)), flush=True)
        elif cmd == "run":
            w0, c0 = time.perf_counter(), time.process_time()
            top(int(arg))
            print("%.9f %.9f" % (time.perf_counter() - w0, time.process_time() - c0), flush=True)


if __name__ == "__main__":
    main()
