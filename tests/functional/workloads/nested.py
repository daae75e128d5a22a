# SPDX-License-Identifier: MIT
"""Nested calls: main -> outer -> {inner_a 0.6 s, inner_b 0.3 s}, plus 0.3 s in outer itself."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"outer_self": 0.3, "inner_a": 0.6, "inner_b": 0.3}


def inner_a():  # @inner_a
    x = 0
    end = clock() + SECONDS["inner_a"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def inner_b():  # @inner_b
    x = 0
    end = clock() + SECONDS["inner_b"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def outer():  # @outer
    x = 0
    end = clock() + SECONDS["outer_self"] / 2
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    x += inner_a()
    x += inner_b()
    end = clock() + SECONDS["outer_self"] / 2
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    return outer()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "outer": frame("outer", line_of("outer")),
        "inner_a": frame("inner_a", line_of("inner_a")),
        "inner_b": frame("inner_b", line_of("inner_b")),
    },
    # CPU seconds spent in each function itself (self time).
    "self_seconds": {"outer": SECONDS["outer_self"], "inner_a": SECONDS["inner_a"],
                     "inner_b": SECONDS["inner_b"]},
    # Every stack holding the first frame holds the second closer to the root.
    "nesting": [("outer", "main"), ("inner_a", "outer"), ("inner_b", "outer"),
                ("main", "module")],
    # Frames that never call each other.
    "disjoint": [("inner_a", "inner_b")],
    "within": "main",
}

if __name__ == "__main__":
    warm_up()
    main()
