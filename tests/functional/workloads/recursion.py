# SPDX-License-Identifier: MIT
"""Deep stacks: rec_shallow recurses to depth 50 and rec_deep to depth 1500, each burning at
the bottom. 1500 frames is past pyflare's walk limit of 1024: that stack must come out as
its 1024 innermost frames under a <truncated> marker."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"shallow": 0.4, "deep": 0.4}
SHALLOW = 50
DEEP = 1500


def rec_shallow(n):  # @rec_shallow
    if n > 1:
        return rec_shallow(n - 1)
    x = 0
    end = clock() + SECONDS["shallow"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def rec_deep(n):  # @rec_deep
    if n > 1:
        return rec_deep(n - 1)
    x = 0
    end = clock() + SECONDS["deep"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    sys.setrecursionlimit(DEEP + 1000)
    rec_shallow(SHALLOW)
    rec_deep(DEEP)


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "rec_shallow": frame("rec_shallow", line_of("rec_shallow")),
        "rec_deep": frame("rec_deep", line_of("rec_deep")),
    },
    "depth": {"rec_shallow": SHALLOW, "rec_deep": DEEP},
    # CPU seconds at the bottom of each recursion
    "seconds": {"rec_shallow": SECONDS["shallow"], "rec_deep": SECONDS["deep"]},
    "walk_limit": 1024,
}

if __name__ == "__main__":
    warm_up()
    main()
