# SPDX-License-Identifier: MIT
"""Three threads, worker-1..3, each burning its own known CPU time in its own function, all
at once; the main thread only waits."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, ThreadNames, warm_up

SECONDS = {"work_one": 0.2, "work_two": 0.4, "work_three": 0.6}


def work_one():  # @work_one
    x = 0
    end = clock() + SECONDS["work_one"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def work_two():  # @work_two
    x = 0
    end = clock() + SECONDS["work_two"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def work_three():  # @work_three
    x = 0
    end = clock() + SECONDS["work_three"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def run(work, start):  # @run
    start.wait()
    work()


def main():  # @main
    names = ThreadNames()
    start = threading.Barrier(3)
    threads = [
        threading.Thread(target=run, name="worker-1", args=(work_one, start)),
        threading.Thread(target=run, name="worker-2", args=(work_two, start)),
        threading.Thread(target=run, name="worker-3", args=(work_three, start)),
    ]
    for t in threads:
        names.start(t)  # its OS name too, from its first instant
    for t in threads:
        t.join()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "run": frame("run", line_of("run")),
        "work_one": frame("work_one", line_of("work_one")),
        "work_two": frame("work_two", line_of("work_two")),
        "work_three": frame("work_three", line_of("work_three")),
    },
    # thread name -> (frame key, CPU seconds)
    "threads": {"worker-1": ("work_one", SECONDS["work_one"]),
                "worker-2": ("work_two", SECONDS["work_two"]),
                "worker-3": ("work_three", SECONDS["work_three"])},
    "nesting": [("work_one", "run"), ("work_two", "run"), ("work_three", "run")],
}

if __name__ == "__main__":
    warm_up()
    main()
