# SPDX-License-Identifier: MIT
"""A Python process that runs a Python child (spawn_child.py) and waits for it: the child is
a process of its own, burning in child_work, while the parent burns in parent_work."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"parent_work": 0.3}
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spawn_child.py")


def parent_work():  # @parent_work
    x = 0
    end = clock() + SECONDS["parent_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    parent_work()
    subprocess.run([sys.executable, CHILD], check=True)


def _child_expect():
    # The child's own EXPECT, read without running it.
    import importlib.util

    spec = importlib.util.spec_from_file_location("spawn_child_expect", CHILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EXPECT


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "parent_work": frame("parent_work", line_of("parent_work")),
    },
    "seconds": {"parent_work": SECONDS["parent_work"]},
}

if __name__ == "__main__":
    warm_up()
    main()
else:
    EXPECT["child"] = _child_expect()
