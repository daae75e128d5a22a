# SPDX-License-Identifier: MIT
"""Run by an embedding C program (tests/functional/embed/embed_python.c), not by python3:
two functions burn CPU, main_work in the main thread and then thread_work in a thread
started from Python, each measuring itself (_common.Stopwatch); one after the other, so
that neither waits for the GIL and each is sampled in long stretches on a CPU. main writes both into
embedded-times.json. Under a shared libpython, each thread's state is found through that
thread's DTV: the main thread's TLS block and the new thread's are in different places."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, Stopwatch, clock, frame, line_of, module_frame, warm_up, write_measured

SECONDS = {"main_work": 0.3, "thread_work": 0.6}


def main_work(out):  # @main_work
    watch = Stopwatch()
    x = 0
    end = clock() + SECONDS["main_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    out["main_work"] = watch.read()
    return x


def thread_work(out):  # @thread_work
    watch = Stopwatch()
    x = 0
    end = clock() + SECONDS["thread_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    out["thread_work"] = watch.read()
    return x


def main():  # @main
    measured = {}
    main_work(measured)
    worker = threading.Thread(target=thread_work, args=(measured,), name="embedded-worker")
    worker.start()
    worker.join()
    write_measured("embedded-times.json", measured)


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "main_work": frame("main_work", line_of("main_work")),
        "thread_work": frame("thread_work", line_of("thread_work")),
    },
}

if __name__ == "__main__":
    warm_up()
    main()
