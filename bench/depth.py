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


def chain(n, leaf):
    """f0 calling f1 ... f(n-1) calling leaf(arg), each a code object of its own: a stack of
    n frames above leaf's."""
    src = "".join("def f%d(arg):\n    return f%d(arg)\n" % (i, i + 1) for i in range(n - 1))
    src += "def f%d(arg):\n    return leaf(arg)\n" % (n - 1)
    ns = {"leaf": leaf}
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
        chain(max(1, frames - 3), spin)(end)	# and spin() one more
    else:
        down(max(1, frames - 2), end)


if __name__ == "__main__":
    main()
