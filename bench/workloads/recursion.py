# SPDX-License-Identifier: MIT
"""Deep recursion: ~200 Python frames with a busy leaf, re-entered many times (each sample
walks the whole stack)."""
import sys

import wl

DEPTH = 200


def down(d, n):
    if d > 0:
        return down(d - 1, n)
    x = 0
    for i in range(n):		# the busy leaf
        x = (x * 7 + i) % 65521
    return x


def work(n):
    sys.setrecursionlimit(DEPTH + 200)
    total = 0
    for _ in range(n // 20000):
        total += down(DEPTH - 3, 20000)	# <module>, run and work are frames too
    return total


if __name__ == "__main__":
    wl.run(work, 24000000)
