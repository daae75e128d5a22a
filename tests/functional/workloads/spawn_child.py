# SPDX-License-Identifier: MIT
"""The child of spawn.py: burns in child_work."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"child_work": 0.6}


def child_work():  # @child_work
    x = 0
    end = clock() + SECONDS["child_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


EXPECT = {
    "file": os.path.basename(__file__),
    "frames": {
        "module": module_frame(),
        "child_work": frame("child_work", line_of("child_work")),
    },
    "seconds": {"child_work": SECONDS["child_work"]},
}

if __name__ == "__main__":
    warm_up()
    child_work()
