# SPDX-License-Identifier: MIT
"""Two processes handing a byte back and forth over pipes: every hand-off blocks one side
and wakes the other, two context switches per round trip. Prints round trips per second.

Both run on CPU 0: each hand-off is then a switch from one process straight to the other,
never through an idle CPU, whose wake-up latency on a VM would swamp what is measured.

    python3 pingpong.py SECONDS [WORK] [--wait]

WORK (default 0): loop iterations of Python code between two hand-offs, to bring the rate
of switches down to what a busy service sees. --wait: both processes exist, then the timed
hand-offs start when a line is read on standard input (a profiler attaches in between), and
both end when standard input does (after the rate is printed: the profiler is still there).
"""
import os
import sys
import time


def pong(r, w):
    try:
        while True:
            b = os.read(r, 1)
            if not b:
                return
            os.write(w, b)
    except BrokenPipeError:		# ping was killed
        return


def ping(r, w, seconds, work):
    n = 0
    x = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            os.write(w, b"x")
            os.read(r, 1)
            for _ in range(work): x += 1
        n += 100
    return n / (time.perf_counter() - start)


def main():
    args = [a for a in sys.argv[1:] if a != "--wait"]
    seconds = float(args[0]) if args else 2.0
    work = int(args[1]) if len(args) > 1 else 0
    os.sched_setaffinity(0, {0})
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(a_w)
        os.close(b_r)
        pong(a_r, b_w)
        os._exit(0)
    os.close(a_r)
    os.close(b_w)
    if "--wait" in sys.argv:
        sys.stdin.readline()
    rate = ping(b_r, a_w, seconds, work)
    print("%.1f" % rate, flush=True)
    if "--wait" in sys.argv:
        sys.stdin.read()
    os.close(a_w)
    os.waitpid(child, 0)


main()
