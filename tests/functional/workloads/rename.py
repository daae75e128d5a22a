# SPDX-License-Identifier: MIT
"""A thread that renames itself half-way: 0.2 s in before_rename under the name it was born
with, then 0.3 s in after_rename as "renamed", set both where Python keeps it (Thread.name,
which pyflare reads up to 3.13 and 3.14 passes on to the kernel) and on its OS thread
(prctl, as applications that name OS threads do). One thread, so one profile, under its
name as it last was."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, ThreadNames, clock, frame, line_of, module_frame, warm_up

SECONDS = {"before_rename": 0.2, "after_rename": 0.3}
NEW_NAME = "renamed"


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


def run(names):  # @run
    before_rename()
    threading.current_thread().name = NEW_NAME
    names.set(NEW_NAME)
    after_rename()


def main():  # @main
    names = ThreadNames()
    t = threading.Thread(target=run, name="before", args=(names,))
    t.start()
    t.join()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "run": frame("run", line_of("run")),
        "before_rename": frame("before_rename", line_of("before_rename")),
        "after_rename": frame("after_rename", line_of("after_rename")),
    },
    "seconds": {"before_rename": SECONDS["before_rename"], "after_rename": SECONDS["after_rename"]},
    "thread": NEW_NAME,
}

if __name__ == "__main__":
    warm_up()
    main()
