# SPDX-License-Identifier: MIT
"""Threads named by threading alone: before 3.14 their OS threads keep the process's name
(nothing here calls prctl), so only a profiler that reads threading.Thread.name out of the
process can tell them apart; from 3.14 CPython gives the OS thread the name itself, cut to
15 bytes. One name is not ASCII, one is longer than 15 bytes, and one thread renames itself
half-way (Thread.name), each burning its own known CPU time in its own function, while the
main thread burns some too. A thread that threading never hears of (_thread) names its OS
thread with prctl: that is the only name it has."""
import _thread
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, ThreadNames, clock, frame, line_of, module_frame, warm_up

SECONDS = {"alpha_work": 0.5, "long_work": 0.5, "before_rename": 0.3, "after_rename": 1.5,
           "raw_work": 0.4, "main_work": 0.3}
ALPHA = "worker-\u03b1-1"
LONG = "a-very-long-thread-name-beyond-fifteen"
BEFORE, AFTER = "before-rename", "after-rename"
RAW = "raw-os-name"


def alpha_work():  # @alpha_work
    x = 0
    end = clock() + SECONDS["alpha_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def long_work():  # @long_work
    x = 0
    end = clock() + SECONDS["long_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def before_rename():  # @before_rename
    x = 0
    end = clock() + SECONDS["before_rename"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def after_rename():  # @after_rename
    x = 0
    end = clock() + SECONDS["after_rename"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def renaming():  # @renaming
    # after_rename runs for 1.5 s of its own CPU time, so more than 1 s of wall time: pyflare
    # reads a young thread's name again up to a second after the last read
    # (docs/cpython-versions.md), and that read must come while the thread still runs
    before_rename()
    threading.current_thread().name = AFTER  # from 3.14 this renames the OS thread too
    after_rename()


def raw_work(names, done):  # @raw_work
    names.set(RAW)
    x = 0
    end = clock() + SECONDS["raw_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    done.release()


def main_work():  # @main_work
    x = 0
    end = clock() + SECONDS["main_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    threads = [
        threading.Thread(target=alpha_work, name=ALPHA),
        threading.Thread(target=long_work, name=LONG),
        threading.Thread(target=renaming, name=BEFORE),
    ]
    raw_done = _thread.allocate_lock()
    raw_done.acquire()
    for t in threads:
        t.start()
    _thread.start_new_thread(raw_work, (ThreadNames(), raw_done))
    main_work()
    for t in threads:
        t.join()
    raw_done.acquire()  # released as raw_work ends


def kernel_name(name):
    """What 3.14 makes of a name for the kernel: its UTF-8 cut to 15 bytes."""
    return name.encode()[:15].decode(errors="ignore")


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "alpha_work": frame("alpha_work", line_of("alpha_work")),
        "long_work": frame("long_work", line_of("long_work")),
        "renaming": frame("renaming", line_of("renaming")),
        "before_rename": frame("before_rename", line_of("before_rename")),
        "after_rename": frame("after_rename", line_of("after_rename")),
        "raw_work": frame("raw_work", line_of("raw_work")),
        "main_work": frame("main_work", line_of("main_work")),
    },
    "seconds": SECONDS,
    # frame key -> the thread's Python name, and its name as the kernel has it from 3.14
    "threads": {"alpha_work": (ALPHA, kernel_name(ALPHA)),
                "long_work": (LONG, kernel_name(LONG)),
                "after_rename": (AFTER, kernel_name(AFTER)),
                "raw_work": (None, RAW),  # not threading's: the kernel's name everywhere
                "main_work": ("MainThread", None)},  # 3.14 leaves the main thread's name
    "renamed": ("before_rename", "after_rename"),  # both in one thread, under AFTER
}

if __name__ == "__main__":
    warm_up()
    main()
