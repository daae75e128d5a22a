# SPDX-License-Identifier: MIT
"""Spins at a known Python stack depth: python3 depth.py FRAMES SECONDS."""
import sys
import time


def down(n, end):
    if n > 1:
        return down(n - 1, end)
    x = 0
    while time.perf_counter() < end:
        for _ in range(1000): x += 1
    return x


def main():
    frames = int(sys.argv[1])
    seconds = float(sys.argv[2])
    sys.setrecursionlimit(frames + 100)
    # <module> and main are two frames of the stack too
    down(max(1, frames - 2), time.perf_counter() + seconds)


main()
