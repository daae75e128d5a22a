# SPDX-License-Identifier: MIT
"""pyflare agent's workload: prints "ready", waits for a line on stdin, then burns SECONDS
(argv[2]) of CPU in busy() inside a Stopwatch, writes what it measured as JSON to
argv[1] and exits: the agent sees a process that ends in the middle of a slice. argv[3]
is a tag the agent's --cmdline picks it out by, among the host's other Python processes.
With "sleep" as argv[4], it sleeps SECONDS in napping() instead (wall mode)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, Stopwatch, clock, warm_up


def busy(seconds):
    x = 0
    end = clock() + seconds
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def napping(seconds):
    time.sleep(seconds)


def main():
    out, seconds = sys.argv[1], float(sys.argv[2])
    warm_up()
    print("ready", flush=True)
    sys.stdin.readline()
    watch = Stopwatch()
    if sys.argv[4:] == ["sleep"]:
        napping(seconds)
    else:
        busy(seconds)
    measured = watch.read()
    with open(out + ".tmp", "w") as f:
        json.dump(measured, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
