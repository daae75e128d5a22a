# SPDX-License-Identifier: MIT
"""Spins at a known Python stack depth: python3 depth.py FRAMES SECONDS [distinct].

By default one function recurses; with `distinct` every frame is a function of its own, as
in a real program (a walker that remembers the code objects it read within one sample is
flattered by recursion). Either way FRAMES counts every Python frame of the stack.
"""
import sys
import time


def spin(end):
    x = 0
    while time.perf_counter() < end:
        for _ in range(1000): x += 1
    return x


def down(n, end):
    if n > 1:
        return down(n - 1, end)
    x = 0
    while time.perf_counter() < end:
        for _ in range(1000): x += 1
    return x


def chain(n):
    """A function calling n - 1 others, each a code object of its own, the last calling
    spin(): n + 1 frames below its caller."""
    src = "".join("def f%d(end):\n    return f%d(end)\n" % (i, i + 1) for i in range(n - 1))
    src += "def f%d(end):\n    return spin(end)\n" % (n - 1)
    ns = {"spin": spin}
    exec(compile(src, __file__, "exec"), ns)
    return ns["f0"]


def main():
    frames = int(sys.argv[1])
    seconds = float(sys.argv[2])
    distinct = len(sys.argv) > 3 and sys.argv[3] == "distinct"
    sys.setrecursionlimit(frames + 100)
    end = time.perf_counter() + seconds
    # <module> and main are two frames of the stack too
    if distinct:
        chain(max(1, frames - 3))(end)		# and spin() one more
    else:
        down(max(1, frames - 2), end)


if __name__ == "__main__":
    main()
