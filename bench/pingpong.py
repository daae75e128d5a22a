# SPDX-License-Identifier: MIT
"""Two processes handing a byte back and forth over pipes: every hand-off blocks one side
and wakes the other, two context switches per round trip. Prints round trips per second.

    python3 pingpong.py SECONDS
"""
import os
import sys
import time


def pong(r, w):
    while True:
        b = os.read(r, 1)
        if not b:
            return
        os.write(w, b)


def ping(r, w, seconds):
    n = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            os.write(w, b"x")
            os.read(r, 1)
        n += 100
    return n / (time.perf_counter() - start)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(a_w)
        os.close(b_r)
        pong(a_r, b_w)
        os._exit(0)
    os.close(a_r)
    os.close(b_w)
    rate = ping(b_r, a_w, seconds)
    os.close(a_w)
    os.waitpid(child, 0)
    print("%.1f" % rate)


main()
