# SPDX-License-Identifier: MIT
"""The kernel smoke's workload: what pyflare records in each guest, and what it measured
about itself, so that the smoke compares pyflare's numbers with the workload's own.

    python workload.py OUT.json [CPU_SECONDS [NAP_SECONDS [DEPTH]]]

main() -> dive() DEPTH-1 times -> Work.outer(), which calls heavy() and light() in turns, the
first burning twice the CPU time of the second (0.9 s of CPU in all by default), then nap(),
which sleeps (only wall mode sees it). Each function's own CPU time is measured with
time.thread_time() and its sleep with time.monotonic(); OUT.json gets them in seconds:
{"heavy", "light", "outer_self", "outer", "nap", "depth"}. Runs unchanged on CPython 3.8-3.14.
"""
import json
import sys
import time

clock = time.thread_time
CHUNK = 1000
ROUNDS = 6
spent = {"heavy": 0.0, "light": 0.0, "outer_self": 0.0, "nap": 0.0}


def heavy(seconds):
    start = clock()
    x = 0
    end = start + seconds
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    spent["heavy"] += clock() - start
    return x


def light(seconds):
    start = clock()
    x = 0
    end = start + seconds
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    spent["light"] += clock() - start
    return x


class Work:
    def outer(self, cpu):
        start = clock()
        unit = cpu / 3 / ROUNDS
        for _ in range(ROUNDS):
            heavy(2 * unit)
            light(unit)
        spent["outer"] = clock() - start
        spent["outer_self"] = spent["outer"] - spent["heavy"] - spent["light"]


def nap(seconds):
    start = time.monotonic()
    time.sleep(seconds)
    spent["nap"] = time.monotonic() - start


def dive(n, cpu):
    if n > 1:
        return dive(n - 1, cpu)
    Work().outer(cpu)


def warm_up(seconds=0.2):
    """Burns first, in a frame of its own: the moment the profiler needs to find a new
    interpreter falls here, not in the part measured."""
    x = 0
    end = clock() + seconds
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003


def main(out, cpu, sleep, depth):
    sys.setrecursionlimit(depth + 200)
    warm_up()
    dive(depth, cpu)
    if sleep > 0:
        nap(sleep)
    spent["depth"] = depth
    with open(out, "w") as f:
        json.dump(spent, f)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], float(args[1]) if len(args) > 1 else 0.9, float(args[2]) if len(args) > 2 else 0.3,
         int(args[3]) if len(args) > 3 else 1)
