# SPDX-License-Identifier: MIT
"""Two functions, 75/25 by work, one after the other: heavy() burns 0.45 s of CPU, light()
0.15 s; then nap() sleeps 0.2 s, which only wall mode sees. Short (about a second), for
checking a sampling clock's shares and rate on every interpreter.

It takes a CPU for itself first (SCHED_FIFO, else nice -20, when allowed): a clock samples
whoever runs when it fires, and on a CPU shared with busy neighbours (other tests, in other
cgroups, where nice does not reach) the scheduler tick, where the scheduler itself switches
tasks, samples a thread by far more or less than its CPU time says (see docs/pyflare.1,
--clock). The test is of pyflare's clock, not of the neighbours."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"heavy": 0.45, "light": 0.15, "nap": 0.2}


def heavy():  # @heavy
    x = 0
    end = clock() + SECONDS["heavy"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def light():  # @light
    x = 0
    end = clock() + SECONDS["light"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def nap():  # @nap
    time.sleep(SECONDS["nap"])


def take_a_cpu():
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        try:
            os.nice(-20)
        except OSError:  # not root: as it is
            pass


def main():  # @main
    heavy()
    light()
    nap()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "heavy": frame("heavy", line_of("heavy")),
        "light": frame("light", line_of("light")),
        "nap": frame("nap", line_of("nap")),
    },
    # shares of the on-CPU time under main
    "cpu_shares": {"heavy": 0.75, "light": 0.25},
    "cpu_seconds": SECONDS["heavy"] + SECONDS["light"],
    "sleep_seconds": SECONDS["nap"],
}

if __name__ == "__main__":
    take_a_cpu()
    warm_up()
    main()
