# SPDX-License-Identifier: MIT
"""The kernel smoke's workload: what pyflare records in each guest, and what it measured
about itself, so that the smoke compares pyflare's numbers with the workload's own.

    python workload.py OUT.json [--cpu 0.9] [--nap 0.3] [--depth 1] [--warm-up 0.2]

warm_up() burns first (WARM_UP seconds of CPU), then main() -> dive() DEPTH-1 times ->
Work.outer(), which calls heavy() and light() in turns, the first burning twice the CPU time
of the second (CPU seconds in all), then nap() sleeps NAP seconds (only wall mode sees it).
Each function's own CPU time is measured with time.thread_time() and the sleep with
time.monotonic(); OUT.json gets them in seconds: {"warm_up", "heavy", "light", "outer_self",
"outer", "nap", "depth"}, and how much of heavy's and light's thread_time() a vCPU spent
waiting for its host ("heavy_stolen", "light_stolen": see stolen()). Runs unchanged on CPython
3.8-3.15.
"""
import argparse
import json
import sys
import time

clock = time.thread_time
CHUNK = 1000
ROUNDS = 10
# A chunk of the burn loop whose thread_time() is this many times the usual one was not all
# run: its vCPU waited for the host (see stolen()).
JUMP = 3.0
spent = {"heavy": 0.0, "light": 0.0, "outer_self": 0.0, "nap": 0.0}
chunks = {"heavy": [], "light": []}  # thread_time() of each chunk of the burn loops


def heavy(seconds):
    start = now = clock()
    x = 0
    end = start + seconds
    while now < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        last, now = now, clock()
        chunks["heavy"].append(now - last)
    spent["heavy"] += now - start
    return x


def light(seconds):
    start = now = clock()
    x = 0
    end = start + seconds
    while now < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        last, now = now, clock()
        chunks["light"].append(now - last)
    spent["light"] += now - start
    return x


def stolen(times):
    """Seconds of a burn loop's thread_time() that were not run: in a guest with no steal
    time (QEMU's TCG) the clocks go on while its vCPU waits for a host CPU, so a chunk that
    waited takes JUMP times the usual (the median) or more; what it took beyond the usual
    was the wait. A profiler in the guest cannot sample a CPU that does not run: it misses
    those seconds, which the smoke takes off what the workload measured. ~0 outside a VM."""
    if not times:
        return 0.0
    usual = sorted(times)[len(times) // 2]
    return sum(t - usual for t in times if t > JUMP * usual)


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
    spent["nap_asked"] = seconds


def dive(n, cpu):
    if n > 1:
        return dive(n - 1, cpu)
    Work().outer(cpu)


def warm_up(seconds):
    """Burns first, in a frame of its own: the moment the profiler needs to find a new
    interpreter falls here, not in the part measured."""
    start = clock()
    x = 0
    end = start + seconds
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    spent["warm_up"] = clock() - start


def main(args):
    sys.setrecursionlimit(args.depth + 200)
    warm_up(args.warm_up)
    dive(args.depth, args.cpu)
    if args.nap > 0:
        nap(args.nap)
    spent["depth"] = args.depth
    for key, times in chunks.items():
        spent[key + "_stolen"] = stolen(times)
    with open(args.out, "w") as f:
        json.dump(spent, f)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cpu", type=float, default=0.9)
    ap.add_argument("--nap", type=float, default=0.3)
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--warm-up", type=float, default=0.2)
    main(ap.parse_args())
