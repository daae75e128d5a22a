# SPDX-License-Identifier: MIT
"""Line granularity: two_loops spends 0.4 s on one line and 0.2 s on another. A frame's line
is the line of the instruction it is executing, as CPython's co_positions() (co_lnotab
before 3.10) maps it; a caller's line is that of its call.

Each loop checks the clock (a system call) on a line of its own, every 10 chunks: a busy
machine preempts a thread mostly in a system call, and the switch's cost, on the thread's
CPU time, then lands on that line."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"loop_a": 0.4, "loop_b": 0.2}


def two_loops():  # @two_loops
    x = 0
    end = clock() + SECONDS["loop_a"]
    while clock() < end:  # @check_a
        for _ in range(10 * CHUNK): x = (x * 7 + 1) % 1000003  # @loop_a
    end = clock() + SECONDS["loop_b"]
    while clock() < end:  # @check_b
        for _ in range(10 * CHUNK): x = (x * 5 + 3) % 1000033  # @loop_b
    return x


def main():  # @main
    return two_loops()  # @call


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "two_loops": frame("two_loops", line_of("two_loops")),
    },
    # line -> CPU seconds, in two_loops
    "lines": {line_of("loop_a"): SECONDS["loop_a"], line_of("loop_b"): SECONDS["loop_b"]},
    # each loop's line -> the line of its clock check, whose time is the loop's too
    "checks": {line_of("loop_a"): line_of("check_a"), line_of("loop_b"): line_of("check_b")},
    "call_line": line_of("call"),     # main's line while two_loops runs
    "module_call_line": line_of("main_call"),  # <module>'s line while main runs
}

if __name__ == "__main__":
    warm_up()
    main()  # @main_call
